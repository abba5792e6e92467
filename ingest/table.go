package ingest

import (
	"fmt"
	"io"

	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
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
	out := make([]outCol, len(cols))
	for i, c := range cols {
		set, m := 0, 0
		if c.Str != nil {
			set++
			m = len(c.Str)
			out[i] = outCol{name: c.Name, kind: outString, str: c.Str}
		}
		if c.Int != nil {
			set++
			m = len(c.Int)
			f := make([]float64, len(c.Int))
			for j, v := range c.Int {
				f[j] = float64(v)
			}
			out[i] = outCol{name: c.Name, kind: outInt, num: f}
		}
		if c.Float != nil {
			set++
			m = len(c.Float)
			out[i] = outCol{name: c.Name, kind: outFloat, num: c.Float}
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
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithDictionaryDefault(false))
	const group = 64 << 10
	var fw *pqarrow.FileWriter
	for from := 0; from < n || fw == nil; from += group {
		to := min(from+group, n)
		part := make([]outCol, len(out))
		for i, c := range out {
			part[i] = c
			if c.num != nil {
				part[i].num = c.num[from:to]
			}
			if c.str != nil {
				part[i].str = c.str[from:to]
			}
		}
		rec := buildRecord(part, to-from, meta, nil)
		if fw == nil {
			var err error
			fw, err = pqarrow.NewFileWriter(rec.Schema(), nopCloser{w}, props, pqarrow.DefaultWriterProps())
			if err != nil {
				rec.Release()
				return err
			}
		}
		err := fw.Write(rec)
		rec.Release()
		if err != nil {
			fw.Close()
			return err
		}
		if n == 0 {
			break
		}
	}
	return fw.Close()
}
