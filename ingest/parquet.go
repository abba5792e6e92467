package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// Parquet (format "parquet", detected by the PAR1 magic). Columns are named
// as in CSV (see WriteCSV and the column naming rules in mapping.go);
// integer, float, boolean (0/1) and string columns are read, nulls become
// missing values, other types are reported once as an issue and skipped.
//
// Parquet needs random access (its footer is at the end), and readers get
// an io.Reader: the input is read into memory first (files are compressed
// and several times smaller than the JSONL they replace; a gzipped Parquet
// file is decompressed into memory the same way).

func init() {
	RegisterFormat(&Format{
		Name:     "parquet",
		Doc:      "Apache Parquet (goodhart/rewardspy export or any flat table; use --map)",
		Priority: 90,
		Detect:   func(head []byte, _ string) bool { return bytes.HasPrefix(head, []byte("PAR1")) },
		Read:     readParquet,
	})
}

func readParquet(r io.Reader, name string, opt Options) (run *Run, err error) {
	km, err := newKeyMapper(opt.Map)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) < 12 || !bytes.HasPrefix(data, []byte("PAR1")) || !bytes.HasSuffix(data, []byte("PAR1")) {
		return nil, fmt.Errorf("%s: %w: not a complete Parquet file (missing PAR1 header or footer; truncated?)", name, ErrNotARun)
	}
	defer func() {
		if p := recover(); p != nil {
			run, err = nil, fmt.Errorf("%s: %w: corrupt Parquet file (%v)", name, ErrNotARun, p)
		}
	}()
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: cannot read Parquet metadata: %v", name, ErrNotARun, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, ErrNotARun, err)
	}
	schema, err := fr.Schema()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, ErrNotARun, err)
	}
	n := int(pf.NumRows())
	if n < 0 || n > 1<<34 {
		return nil, fmt.Errorf("%s: %w: implausible row count %d", name, ErrNotARun, n)
	}
	run = NewRun(n)
	run.Source, run.Format = name, "parquet"
	type dest struct {
		name string
		num  []float64
		str  []string
		skip bool
	}
	dests := make([]*dest, len(schema.Fields()))
	var have []string
	var comps []string
	for i, f := range schema.Fields() {
		have = append(have, f.Name)
		col := km.column(f.Name)
		d := &dest{name: col}
		switch f.Type.ID() {
		case arrow.STRING, arrow.LARGE_STRING:
			d.str = make([]string, n)
		case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16,
			arrow.UINT32, arrow.UINT64, arrow.FLOAT32, arrow.FLOAT64, arrow.BOOL:
			d.num = make([]float64, n)
		default:
			d.skip = true
			run.Issues = append(run.Issues, Issue{File: name, Field: f.Name,
				Msg: fmt.Sprintf("column type %s is not read (numbers, booleans and strings are)", f.Type)})
		}
		if strings.HasPrefix(col, ComponentPrefix) && !d.skip {
			comps = append(comps, strings.TrimPrefix(col, ComponentPrefix))
		}
		dests[i] = d
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, ErrNotARun, err)
	}
	defer rr.Release()
	off := 0
	for rr.Next() {
		rec := rr.Record()
		m := int(rec.NumRows())
		if off+m > n {
			return nil, fmt.Errorf("%s: %w: more rows than its metadata says (%d)", name, ErrNotARun, n)
		}
		for i, d := range dests {
			if d.skip {
				continue
			}
			copyArrowColumn(rec.Column(i), d.num, d.str, off, m)
		}
		off += m
	}
	if err := rr.Err(); err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: corrupt Parquet data after row %d: %v", name, off, err)
	}
	if off != n {
		return nil, fmt.Errorf("%s: %w: read %d rows, metadata says %d", name, ErrNotARun, off, n)
	}
	for _, d := range dests {
		switch {
		case d.skip:
		case d.str != nil:
			if anyString(d.str) {
				run.SetStringColumn(d.name, d.str)
			}
		default:
			if !allNaNFloat(d.num) {
				run.SetColumn(d.name, d.num)
			}
		}
	}
	if len(comps) > 0 {
		run.Meta = map[string]string{MetaComponentOrder: jsonStringList(comps)}
	}
	if err := km.unseen(name, have); err != nil {
		return nil, err
	}
	applyGrain(run, opt)
	if opt.Strict && len(run.Issues) > 0 {
		return nil, fmt.Errorf("%w: %v", ErrStrict, run.Issues[0])
	}
	return run, nil
}

func anyString(s []string) bool {
	for _, x := range s {
		if x != "" {
			return true
		}
	}
	return false
}

func allNaNFloat(c []float64) bool {
	for _, x := range c {
		if !math.IsNaN(x) {
			return false
		}
	}
	return true
}

// copyArrowColumn copies m values of a into num or str at off; nulls become
// NaN / "".
func copyArrowColumn(a arrow.Array, num []float64, str []string, off, m int) {
	nan := math.NaN()
	if str != nil {
		switch s := a.(type) {
		case *array.String:
			for j := 0; j < m; j++ {
				if s.IsValid(j) {
					str[off+j] = strings.Clone(s.Value(j))
				}
			}
		case *array.LargeString:
			for j := 0; j < m; j++ {
				if s.IsValid(j) {
					str[off+j] = strings.Clone(s.Value(j))
				}
			}
		}
		return
	}
	get := func(j int) float64 { return nan }
	switch v := a.(type) {
	case *array.Float64:
		vals := v.Float64Values()
		if v.NullN() == 0 {
			copy(num[off:off+m], vals[:m])
			return
		}
		get = func(j int) float64 { return vals[j] }
	case *array.Float32:
		get = func(j int) float64 { return float64(v.Value(j)) }
	case *array.Int64:
		get = func(j int) float64 { return float64(v.Value(j)) }
	case *array.Int32:
		get = func(j int) float64 { return float64(v.Value(j)) }
	case *array.Int16:
		get = func(j int) float64 { return float64(v.Value(j)) }
	case *array.Int8:
		get = func(j int) float64 { return float64(v.Value(j)) }
	case *array.Uint64:
		get = func(j int) float64 { return float64(v.Value(j)) }
	case *array.Uint32:
		get = func(j int) float64 { return float64(v.Value(j)) }
	case *array.Uint16:
		get = func(j int) float64 { return float64(v.Value(j)) }
	case *array.Uint8:
		get = func(j int) float64 { return float64(v.Value(j)) }
	case *array.Boolean:
		get = func(j int) float64 {
			if v.Value(j) {
				return 1
			}
			return 0
		}
	}
	for j := 0; j < m; j++ {
		if a.IsValid(j) {
			num[off+j] = get(j)
		} else {
			num[off+j] = nan
		}
	}
}

// WriteParquet writes run as Parquet in rewardspy's layout (the columns of
// WriteCSV): step, input_length and output_length as int64 when integral,
// other numbers as float64, call_id as string, and nulls for missing values
// (a component a record does not have). Snappy-compressed, row groups of
// 64Ki rows. Run.Meta is stored as key/value metadata.
func WriteParquet(w io.Writer, run *Run) error {
	cols := exportLayout(run)
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy))
	const group = 64 << 10
	n := run.Len()
	var fw *pqarrow.FileWriter
	for from := 0; from < n || fw == nil; from += group {
		to := from + group
		if to > n {
			to = n
		}
		part := make([]outCol, len(cols))
		for i, c := range cols {
			part[i] = c
			if c.num != nil {
				part[i].num = c.num[from:to]
			}
			if c.str != nil {
				part[i].str = c.str[from:to]
			}
			if c.kind == outInt && !allIntegral(c.num) {
				part[i].kind = outFloat
			}
		}
		rec := buildRecord(part, to-from, run.Meta, nil)
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

// nopCloser keeps pqarrow's FileWriter.Close from closing the caller's writer.
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
