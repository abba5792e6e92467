package ingest

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"

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
// Parquet needs random access (its footer is at the end). A plain file is
// read in place; any other input (a gzipped file, a pipe, an io.Reader) is
// first read into memory, which is fine for Parquet's compressed size.

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
	var src parquet.ReaderAtSeeker
	if st, err := statFile(opt); err == nil {
		// A plain file: read it in place.
		src = io.NewSectionReader(opt.src, opt.srcOff, st-opt.srcOff)
	} else {
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		src = bytes.NewReader(data)
	}
	size, _ := src.Seek(0, io.SeekEnd)
	var magic [4]byte
	if size < 12 || readAtFull(src, magic[:], 0) != nil || string(magic[:]) != "PAR1" ||
		readAtFull(src, magic[:], size-4) != nil || string(magic[:]) != "PAR1" {
		return nil, fmt.Errorf("%s: %w: not a complete Parquet file (missing PAR1 header or footer; truncated?)", name, ErrNotARun)
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer func() {
		if p := recover(); p != nil {
			run, err = nil, fmt.Errorf("%s: %w: corrupt Parquet file (%v)", name, ErrNotARun, p)
		}
	}()
	rp := parquet.NewReaderProperties(nil)
	rp.BufferedStreamEnabled = true // stream column chunks instead of loading each whole
	rp.BufferSize = 1 << 20
	pf, err := file.NewParquetReader(src, file.WithReadProps(rp))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: cannot read Parquet metadata: %v", name, ErrNotARun, err)
	}
	defer pf.Close()
	md := pf.MetaData()
	n := int(pf.NumRows())
	if n < 0 || n > 1<<34 {
		return nil, fmt.Errorf("%s: %w: implausible row count %d", name, ErrNotARun, n)
	}
	run = NewRun(n)
	run.Source, run.Format = name, "parquet"
	ncols := md.Schema.NumColumns()
	// Corrupt metadata must not make us allocate terabytes: real files hold
	// far fewer cells than 500 per byte (RLE of constant columns included).
	if cells := float64(n) * float64(ncols); cells > 1e7+500*float64(size) {
		return nil, fmt.Errorf("%s: %w: metadata claims %d rows x %d columns in a %d-byte file (corrupt?)",
			name, ErrNotARun, n, ncols, size)
	}
	dests := make([]*pqDest, ncols)
	var have, comps []string
	for j := 0; j < ncols; j++ {
		cd := md.Schema.Column(j)
		path := []string(cd.ColumnPath())
		key := strings.Join(path, "/")
		if cd.MaxRepetitionLevel() > 0 && len(path) > 0 {
			key = path[0] // a list: name it as the user knows it
		}
		have = append(have, key)
		d := &pqDest{name: ownColumnName(key, km.column(key), key, opt), maxDef: cd.MaxDefinitionLevel()}
		switch t := cd.PhysicalType(); {
		case cd.MaxRepetitionLevel() > 0:
			d.skip = "a repeated (list) column"
		case t == parquet.Types.ByteArray && cd.LogicalType() != nil && cd.LogicalType().String() != "" &&
			strings.HasPrefix(strings.ToLower(cd.LogicalType().String()), "decimal"):
			d.skip = "a decimal column"
		case t == parquet.Types.ByteArray:
			d.str = make([]string, n)
		case t == parquet.Types.Int32, t == parquet.Types.Int64, t == parquet.Types.Float,
			t == parquet.Types.Double, t == parquet.Types.Boolean:
			d.num = make([]float64, n)
		default:
			d.skip = "a " + t.String() + " column"
		}
		if d.skip != "" {
			run.Issues = append(run.Issues, Issue{File: name, Field: key,
				Msg: d.skip + " is not read (numbers, booleans and strings are)"})
		} else if strings.HasPrefix(d.name, ComponentPrefix) {
			comps = append(comps, strings.TrimPrefix(d.name, ComponentPrefix))
		}
		dests[j] = d
	}
	// Columns are independent: read them on all cores, each straight into
	// its final slice.
	errs := make([]error, ncols)
	var wg sync.WaitGroup
	next := make(chan int)
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				errs[j] = readPQColumn(pf, j, dests[j])
			}
		}()
	}
	for j := range dests {
		if dests[j].skip == "" {
			next <- j
		}
	}
	close(next)
	wg.Wait()
	for j, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("%s: column %q: %w: corrupt Parquet data: %v", name, have[j], ErrNotARun, err)
		}
	}
	// ±Inf (NaN is a missing value, as pandas writes it): in a canonical
	// column the row is skipped, in an extra column the cell left missing;
	// each is reported (Issue.Line is the 1-based row).
	bad := map[int]bool{}
	var found []Issue
	for pass := 0; pass < 2; pass++ { // canonical columns first: their rows go
		for j, d := range dests {
			if d.skip != "" || d.num == nil || canonicalCol(d.name) != (pass == 0) {
				continue
			}
			for i, x := range d.num {
				if !math.IsInf(x, 0) || bad[i] {
					continue
				}
				is := Issue{File: name, Line: i + 1, Field: have[j], Msg: valueProblem(d.name, x, false, fmt.Sprint(x))}
				if pass == 0 {
					bad[i] = true
					run.Skipped++
				} else {
					d.num[i] = math.NaN()
					run.Kept++
					is.Msg += " (left missing)"
					is.Kept = true
				}
				if opt.Strict {
					return nil, fmt.Errorf("%w: %v", ErrStrict, is)
				}
				found = append(found, is)
			}
		}
	}
	sort.SliceStable(found, func(a, b int) bool { return found[a].Line < found[b].Line })
	for _, is := range found {
		if len(run.Issues) < opt.maxIssues() {
			run.Issues = append(run.Issues, is)
		}
	}
	if len(bad) > 0 {
		keep := n - len(bad)
		for _, d := range dests {
			if d.num != nil {
				out := d.num[:0]
				for i, x := range d.num {
					if !bad[i] {
						out = append(out, x)
					}
				}
				d.num = out[:keep:keep]
			}
			if d.str != nil {
				out := d.str[:0]
				for i, x := range d.str {
					if !bad[i] {
						out = append(out, x)
					}
				}
				d.str = out[:keep:keep]
			}
		}
		run.SetLen(keep)
	}
	for _, d := range dests {
		switch {
		case d.skip != "":
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

// statFile returns the size of the plain input file, if Read was given one.
func statFile(opt Options) (int64, error) {
	if opt.src == nil {
		return 0, os.ErrInvalid
	}
	st, err := opt.src.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return 0, os.ErrInvalid
	}
	return st.Size(), nil
}

func readAtFull(r io.ReaderAt, p []byte, off int64) error {
	_, err := r.ReadAt(p, off)
	return err
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

// pqDest is where one Parquet column goes.
type pqDest struct {
	name   string
	maxDef int16
	num    []float64
	str    []string
	skip   string // why the column is not read
}

// readPQColumn reads column j of every row group into d; nulls become NaN
// (numbers) or "" (strings). A panic inside the Parquet library (corrupt
// data) is returned as an error.
func readPQColumn(pf *file.Reader, j int, d *pqDest) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	const batch = 64 << 10
	def := make([]int16, batch)
	var f64 []float64
	var i64 []int64
	var i32 []int32
	var f32 []float32
	var bools []bool
	var bas []parquet.ByteArray
	nan := math.NaN()
	off := 0
	for g := 0; g < pf.NumRowGroups(); g++ {
		rg := pf.RowGroup(g)
		rows := int(rg.NumRows())
		if rows < 0 || off+rows > len(d.num)+len(d.str) {
			return fmt.Errorf("row group %d has %d rows, more than the file says", g, rows)
		}
		cr, err := rg.Column(j)
		if err != nil {
			return err
		}
		for done := 0; done < rows; {
			want := rows - done
			if want > batch {
				want = batch
			}
			var levels int64
			var vals int
			// put spreads the vals non-null values over the levels rows.
			put := func(get func(k int) float64) {
				dst := d.num[off+done : off+done+int(levels)]
				if d.maxDef == 0 || vals == int(levels) {
					for k := range dst {
						dst[k] = get(k)
					}
					return
				}
				v := 0
				for k := range dst {
					if def[k] == d.maxDef && v < vals {
						dst[k] = get(v)
						v++
					} else {
						dst[k] = nan
					}
				}
			}
			switch r := cr.(type) {
			case *file.Float64ColumnChunkReader:
				if d.maxDef == 0 {
					levels, vals, err = r.ReadBatch(int64(want), d.num[off+done:off+done+want], nil, nil)
					break
				}
				f64 = growTo(f64, want)
				levels, vals, err = r.ReadBatch(int64(want), f64, def, nil)
				if err == nil {
					put(func(k int) float64 { return f64[k] })
				}
			case *file.Float32ColumnChunkReader:
				f32 = growTo(f32, want)
				levels, vals, err = r.ReadBatch(int64(want), f32, def, nil)
				if err == nil {
					put(func(k int) float64 { return float64(f32[k]) })
				}
			case *file.Int64ColumnChunkReader:
				i64 = growTo(i64, want)
				levels, vals, err = r.ReadBatch(int64(want), i64, def, nil)
				if err == nil {
					put(func(k int) float64 { return float64(i64[k]) })
				}
			case *file.Int32ColumnChunkReader:
				i32 = growTo(i32, want)
				levels, vals, err = r.ReadBatch(int64(want), i32, def, nil)
				if err == nil {
					put(func(k int) float64 { return float64(i32[k]) })
				}
			case *file.BooleanColumnChunkReader:
				bools = growTo(bools, want)
				levels, vals, err = r.ReadBatch(int64(want), bools, def, nil)
				if err == nil {
					put(func(k int) float64 {
						if bools[k] {
							return 1
						}
						return 0
					})
				}
			case *file.ByteArrayColumnChunkReader:
				bas = growTo(bas, want)
				levels, vals, err = r.ReadBatch(int64(want), bas, def, nil)
				if err == nil {
					// One copy of the batch's bytes; cells are substrings.
					size := 0
					for _, b := range bas[:vals] {
						size += len(b)
					}
					buf := make([]byte, 0, size)
					for _, b := range bas[:vals] {
						buf = append(buf, b...)
					}
					all := string(buf)
					dst := d.str[off+done : off+done+int(levels)]
					v, pos := 0, 0
					for k := range dst {
						if (d.maxDef == 0 || def[k] == d.maxDef) && v < vals {
							l := len(bas[v])
							dst[k] = all[pos : pos+l]
							pos += l
							v++
						}
					}
				}
			default:
				return fmt.Errorf("unsupported column reader %T", cr)
			}
			if err != nil {
				return err
			}
			if levels <= 0 {
				return fmt.Errorf("row group %d ends after %d of %d rows", g, done, rows)
			}
			done += int(levels)
		}
		off += rows
	}
	if off != len(d.num)+len(d.str) {
		return fmt.Errorf("%d rows in row groups, the footer says %d", off, len(d.num)+len(d.str))
	}
	return nil
}

func growTo[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// WriteParquet writes run as Parquet in rewardspy's layout (the columns of
// WriteCSV): step, input_length and output_length as int64 when integral,
// other numbers as float64, call_id as string, and nulls for missing values
// (a component a record does not have). Snappy-compressed, row groups of
// 64Ki rows. Run.Meta is stored as key/value metadata.
func WriteParquet(w io.Writer, run *Run) error {
	cols := exportLayout(run)
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithDictionaryDefault(false))
	const group = 64 << 10
	n := run.Len()
	// An integer column is written as int64 only when every value of the
	// whole column is integral (all row groups share one schema): decided
	// once here, not per row group, so the export stays linear in rows.
	asFloat := make([]bool, len(cols))
	for i, c := range cols {
		asFloat[i] = c.kind == outInt && !allIntegral(c.num)
	}
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
			if asFloat[i] {
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
