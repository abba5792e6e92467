package ingest

import (
	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
)

// DataFrame returns the run as a gota DataFrame for notebooks: one series
// per column in Columns() order, numeric columns as series.Float (NaN where
// a record has no value) and string columns as series.String. The data is
// copied; gota builds a 1M-row frame in about a quarter of a second, so use
// it on the run or a Slice of it for exploring, and the columns themselves
// for computation.
func (r *Run) DataFrame() dataframe.DataFrame {
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
