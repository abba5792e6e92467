package ingest

import (
	"fmt"
	"io"
)

// TableColumn is one column of a small generic table written by
// WriteTableParquet: exactly one of Str, Int or Float holds the values.
// Str "" is written as null, Float NaN as null; Int columns are int64 and
// never null (use Float for a number that can be missing).
type TableColumn struct {
	Name  string
	Str   []string
	Int   []int64
	Float []float64
}

// WriteTableParquet writes cols as one Parquet file (Snappy, one row
// group per 64Ki rows) with meta as key/value metadata: string columns as
// nullable utf8, Int as int64, Float as nullable float64. Every column must
// have the same length; a column with more or fewer values, or with no or
// more than one value slice, is an error naming it. Zero rows write a
// valid file with the schema only.
func WriteTableParquet(w io.Writer, cols []TableColumn, meta map[string]string) error {
	n := -1
	out := make([]pqCol, len(cols))
	for i, c := range cols {
		set, m := 0, 0
		if c.Str != nil {
			set++
			m = len(c.Str)
			out[i] = pqCol{name: c.Name, kind: pqString, str: c.Str}
		}
		if c.Int != nil {
			set++
			m = len(c.Int)
			out[i] = pqCol{name: c.Name, kind: pqInt, ints: c.Int}
		}
		if c.Float != nil {
			set++
			m = len(c.Float)
			out[i] = pqCol{name: c.Name, kind: pqFloat, num: c.Float}
		}
		if set != 1 {
			return fmt.Errorf("table column %q: give exactly one of Str, Int, Float (a non-nil empty slice for zero rows)", c.Name)
		}
		if n >= 0 && m != n {
			return fmt.Errorf("table column %q: %d values, want %d like column %q", c.Name, m, n, cols[0].Name)
		}
		n = m
	}
	if n < 0 {
		n = 0
	}
	return writePQ(w, out, n, meta)
}
