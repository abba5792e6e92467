// Package frame gives a goodhart Run as a gota DataFrame, for exploring a
// run in a notebook. It lives outside package ingest so that programs that
// only read runs (the reportgen command among them) do not link gota.
package frame

import (
	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/goodhart-rl/goodhart/ingest"
)

// Of returns the run as a gota DataFrame: one series per column in
// run.Columns() order, numeric columns as series.Float (NaN where a record
// has no value) and string columns as series.String. A run with no columns
// gives an empty frame. The data is copied; gota builds a 1M-row frame in
// about a quarter of a second, so use it on the run or a Slice of it for
// exploring, and the columns themselves for computation.
func Of(r *ingest.Run) dataframe.DataFrame {
	names := r.Columns()
	if len(names) == 0 {
		return dataframe.New()
	}
	cols := make([]series.Series, 0, len(names))
	for _, name := range names {
		if s, ok := r.StringColumn(name); ok {
			cols = append(cols, series.New(s, series.String, name))
			continue
		}
		c, _ := r.Column(name)
		cols = append(cols, series.New(c, series.Float, name))
	}
	return dataframe.New(cols...)
}
