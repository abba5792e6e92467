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
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/metadata"
	"github.com/apache/arrow/go/v15/parquet/schema"
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
	defer func() {
		if p := recover(); p != nil {
			run, err = nil, fmt.Errorf("%s: %w: corrupt Parquet file (%v)", name, ErrNotARun, p)
		}
	}()
	pq, err := openParquet(r, name, opt)
	if err != nil {
		return nil, err
	}
	defer pq.pf.Close()
	pf, n, dests, have, km := pq.pf, pq.n, pq.dests, pq.have, pq.km
	run = NewRun(n)
	run.Source, run.Format = name, "parquet"
	run.Issues = pq.issues
	comps := pq.comps
	ncols := len(dests)
	readCols := func(which func(d *pqDest) bool) error {
		// Columns are independent: read them on all cores, each straight
		// into its final slice.
		errs := make([]error, ncols)
		var wg sync.WaitGroup
		next := make(chan int)
		for w := 0; w < runtime.GOMAXPROCS(0); w++ {
			// Each goroutine reads through its own reader, whose page
			// buffers are recycled once a column chunk is read.
			pool := &pqPool{}
			r, err := pq.reopen(pool)
			if err != nil {
				return fmt.Errorf("%s: %w: cannot read Parquet metadata: %v", name, ErrNotARun, err)
			}
			defer r.Close()
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range next {
					errs[j] = readPQColumn(r, j, dests[j], pool)
				}
			}()
		}
		for j, d := range dests {
			if d.skip == "" && which(d) {
				if d.isStr {
					d.str = make([]string, n)
				} else {
					d.num = make([]float64, n)
				}
				next <- j
			}
		}
		close(next)
		wg.Wait()
		for j, err := range errs {
			if err != nil {
				return fmt.Errorf("%s: column %q: %w: corrupt Parquet data: %v", name, have[j], ErrNotARun, err)
			}
		}
		return nil
	}
	if err := readCols(func(d *pqDest) bool { return !d.lazy }); err != nil {
		return nil, err
	}
	// ±Inf (NaN is a missing value, as pandas writes it): in a canonical
	// column the row is skipped, in an extra column the cell left missing;
	// each is reported (Issue.Line is the 1-based row).
	bad := map[int]bool{}
	var found []Issue
	infs := func(canonical bool) error {
		for j, d := range dests {
			if d.num == nil || canonicalCol(d.name) != canonical {
				continue
			}
			for i, x := range d.num {
				if !math.IsInf(x, 0) || bad[i] {
					continue
				}
				if d.lazy {
					// Read only to decide the merge (see pqSkipped): the
					// value is missing, as without skipping, but a column
					// the caller skipped reports nothing.
					d.num[i] = math.NaN()
					continue
				}
				is := Issue{File: name, Line: i + 1, Field: have[j], Msg: valueProblem(d.name, x, false, fmt.Sprint(x))}
				if canonical {
					bad[i] = true
					run.Skipped++
				} else {
					d.num[i] = math.NaN()
					run.Kept++
					is.Msg += " (left missing)"
					is.Kept = true
				}
				if opt.Strict {
					return fmt.Errorf("%w: %v", ErrStrict, is)
				}
				found = append(found, is)
			}
		}
		return nil
	}
	if err := infs(true); err != nil { // canonical columns first: their rows go
		return nil, err
	}
	// Skipped columns must not change the grain or the merging of rows of
	// one step; see pqSkipped.
	grain, readIDs, readAll := pqSkipped(pf, dests, bad, opt)
	if err := readCols(func(d *pqDest) bool {
		return d.lazy && (readAll || readIDs && (d.name == ColCallID || d.name == ColGroup))
	}); err != nil {
		return nil, err
	}
	if err := infs(false); err != nil {
		return nil, err
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
				d.num = dropRows(d.num, bad, keep)
			}
			if d.str != nil {
				d.str = dropRows(d.str, bad, keep)
			}
		}
		run.SetLen(keep)
	}
	for _, d := range dests {
		switch {
		case d.str != nil:
			if anyString(d.str) {
				run.SetStringColumn(d.name, d.str)
			}
		case d.num != nil:
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
	if grain != "" {
		// A skipped call_id or group column has values: without it the
		// run would not be merged by step, and this is its grain.
		run.Grain = grain
		if opt.Grain != "" {
			run.Grain = opt.Grain
		}
		if opt.Strict && len(run.Issues) > 0 {
			return nil, fmt.Errorf("%w: %v", ErrStrict, run.Issues[0])
		}
		return run, nil
	}
	applyGrain(run, opt)
	// Skipped columns read only to decide the grain and the merge go now.
	for _, d := range dests {
		if d.lazy {
			run.DropColumn(d.name)
		}
	}
	if opt.Strict && len(run.Issues) > 0 {
		return nil, fmt.Errorf("%w: %v", ErrStrict, run.Issues[0])
	}
	return run, nil
}

// pqReadProps are the reader properties: column chunks streamed through a
// 64 KiB buffer instead of loaded whole; page buffers from alloc (nil:
// Go's heap).
func pqReadProps(alloc memory.Allocator) *parquet.ReaderProperties {
	rp := parquet.NewReaderProperties(alloc)
	rp.BufferedStreamEnabled = true
	rp.BufferSize = 64 << 10
	return rp
}

// reopen opens the file again with its own page buffer allocator, for one
// decoding goroutine.
func (pq *pqFile) reopen(alloc memory.Allocator) (*file.Reader, error) {
	return file.NewParquetReader(pq.newSrc(), file.WithReadProps(pqReadProps(alloc)), file.WithMetadata(pq.pf.MetaData()))
}

// pqFile is an open Parquet input and what its schema says about each
// column.
type pqFile struct {
	pf     *file.Reader
	n      int       // rows, from the footer
	dests  []*pqDest // one per leaf column
	have   []string  // the columns' keys as the file names them
	comps  []string  // component names, in schema order
	issues []Issue   // columns that cannot be read
	km     *keyMapper
	newSrc func() parquet.ReaderAtSeeker
}

// openParquet checks the PAR1 magic at both ends, reads the footer and
// plans each column (its Run name, type, whether it is skipped). The
// caller closes pq.pf. A panic in the Parquet library (corrupt metadata)
// is left to the caller to recover.
func openParquet(r io.Reader, name string, opt Options) (*pqFile, error) {
	km, err := newKeyMapper(opt.Map)
	if err != nil {
		return nil, err
	}
	var newSrc func() parquet.ReaderAtSeeker // one per reader: each seeks its own
	if st, err := statFile(opt); err == nil {
		// A plain file: read it in place.
		newSrc = func() parquet.ReaderAtSeeker { return io.NewSectionReader(opt.src, opt.srcOff, st-opt.srcOff) }
	} else {
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		newSrc = func() parquet.ReaderAtSeeker { return bytes.NewReader(data) }
	}
	src := newSrc()
	size, _ := src.Seek(0, io.SeekEnd)
	var magic [4]byte
	if size < 12 || readAtFull(src, magic[:], 0) != nil || string(magic[:]) != "PAR1" ||
		readAtFull(src, magic[:], size-4) != nil || string(magic[:]) != "PAR1" {
		return nil, fmt.Errorf("%s: %w: not a complete Parquet file (missing PAR1 header or footer; truncated?)", name, ErrNotARun)
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	pf, err := file.NewParquetReader(src, file.WithReadProps(pqReadProps(nil)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: cannot read Parquet metadata: %v", name, ErrNotARun, err)
	}
	pq := &pqFile{pf: pf, km: km, newSrc: newSrc}
	md := pf.MetaData()
	n := int(pf.NumRows())
	if n < 0 || n > 1<<34 {
		pf.Close()
		return nil, fmt.Errorf("%s: %w: implausible row count %d", name, ErrNotARun, n)
	}
	pq.n = n
	ncols := md.Schema.NumColumns()
	// Corrupt metadata must not make us allocate terabytes: real files hold
	// far fewer cells than 500 per byte (RLE of constant columns included).
	if cells := float64(n) * float64(ncols); cells > 1e7+500*float64(size) {
		pf.Close()
		return nil, fmt.Errorf("%s: %w: metadata claims %d rows x %d columns in a %d-byte file (corrupt?)",
			name, ErrNotARun, n, ncols, size)
	}
	pq.dests = make([]*pqDest, ncols)
	for j := 0; j < ncols; j++ {
		cd := md.Schema.Column(j)
		path := []string(cd.ColumnPath())
		key := strings.Join(path, "/")
		if cd.MaxRepetitionLevel() > 0 && len(path) > 0 {
			key = path[0] // a list: name it as the user knows it
		}
		pq.have = append(pq.have, key)
		d := &pqDest{name: ownColumnName(key, km.column(key), key, opt), maxDef: cd.MaxDefinitionLevel()}
		switch t := cd.PhysicalType(); {
		case cd.MaxRepetitionLevel() > 0:
			d.skip = "a repeated (list) column"
		case t == parquet.Types.ByteArray && cd.LogicalType() != nil && cd.LogicalType().String() != "" &&
			strings.HasPrefix(strings.ToLower(cd.LogicalType().String()), "decimal"):
			d.skip = "a decimal column"
		case t == parquet.Types.ByteArray:
			d.isStr = true
		case t == parquet.Types.Int32, t == parquet.Types.Int64, t == parquet.Types.Float,
			t == parquet.Types.Double, t == parquet.Types.Boolean:
			d.isFloat = t == parquet.Types.Float || t == parquet.Types.Double
		default:
			d.skip = "a " + t.String() + " column"
		}
		if d.skip != "" {
			pq.issues = append(pq.issues, Issue{File: name, Field: key,
				Msg: d.skip + " is not read (numbers, booleans and strings are)"})
		} else {
			if strings.HasPrefix(d.name, ComponentPrefix) {
				pq.comps = append(pq.comps, strings.TrimPrefix(d.name, ComponentPrefix))
			}
			// A bad number in a canonical numeric column drops its row, so
			// such a column (and step) is always read: skipping never
			// changes which rows the run has.
			d.lazy = opt.SkipColumn != nil && d.name != ColStep &&
				(d.isStr || !canonicalCol(d.name)) && opt.SkipColumn(d.name)
		}
		pq.dests[j] = d
	}
	return pq, nil
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
	isStr  bool
	num    []float64 // set when the column is read
	str    []string
	skip   string // why the column cannot be read
	lazy   bool   // Options.SkipColumn asked to skip it
	// isFloat: a float or double column (the only kinds that hold ±Inf).
	isFloat bool
}

// pqSkipped decides what the columns Options.SkipColumn asked to skip
// (lazy dests) may change, once the other columns are read and the rows
// to drop (bad) are known. The run must come out as it would without
// skipping, less those columns:
//
//   - A call_id or group column with a value decides the grain (call if
//     call_id has one, else sample) and stops rows of one step being
//     merged. Whether a skipped one has a non-empty value is read from
//     the row groups' statistics; when they cannot tell (no statistics,
//     a numeric column, or rows being dropped), readIDs asks to read it
//     after all and the grain is decided as usual (grain "").
//   - Otherwise, when rows of one step could be merged (the step column,
//     less the dropped rows, never decreases and repeats a value), every
//     column takes part in the merge, so readAll asks for all of them.
//
// With Options.Grain set to call, sample or episode nothing is merged and
// the grain is fixed: skipped columns stay unread.
func pqSkipped(pf *file.Reader, dests []*pqDest, bad map[int]bool, opt Options) (grain Grain, readIDs, readAll bool) {
	if opt.Grain != "" && opt.Grain != GrainStep {
		return "", false, false
	}
	var call, group, unknown bool
	var steps []float64
	for j, d := range dests {
		if d.name == ColStep && d.num != nil {
			steps = d.num
		}
		if d.name != ColCallID && d.name != ColGroup {
			continue
		}
		present := false
		switch {
		case d.lazy:
			var known bool
			present, known = pqStringPresence(pf, j)
			if !d.isStr || !known || (present && len(bad) > 0) {
				unknown = true
			}
		case d.str != nil:
			present = anyKept(d.str, bad, func(s string) bool { return s != "" })
		case d.num != nil:
			present = anyKept(d.num, bad, func(x float64) bool { return !math.IsNaN(x) })
		}
		if present && d.name == ColCallID {
			call = true
		} else if present {
			group = true
		}
	}
	switch {
	case unknown:
		return "", true, mayMerge(steps, bad)
	case call:
		return GrainCall, false, false
	case group:
		return GrainSample, false, false
	}
	return "", false, mayMerge(steps, bad)
}

// anyKept says whether a row not in bad has a value that ok accepts.
func anyKept[T any](c []T, bad map[int]bool, ok func(T) bool) bool {
	for i, x := range c {
		if ok(x) && !bad[i] {
			return true
		}
	}
	return false
}

// mayMerge says whether rows of one step could be merged: the step
// column, less the rows in bad, has at least two rows, never decreases
// and repeats a value.
func mayMerge(steps []float64, bad map[int]bool) bool {
	prev, rows, repeat := math.Inf(-1), 0, false
	for i, x := range steps {
		if bad[i] {
			continue
		}
		if math.IsNaN(x) || x < prev {
			return false
		}
		if rows > 0 && x == prev {
			repeat = true
		}
		prev = x
		rows++
	}
	return rows >= 2 && repeat
}

// pqStringPresence says whether the string column j holds a non-empty
// value, from the row groups' statistics alone: a row group whose values
// are all null (null count = value count) or whose largest value is ""
// has none, one whose largest value is non-empty has one. known is false
// when some row group has no such statistics.
func pqStringPresence(pf *file.Reader, j int) (present, known bool) {
	md := pf.MetaData()
	for g := 0; g < pf.NumRowGroups(); g++ {
		cc, err := md.RowGroup(g).ColumnChunk(j)
		if err != nil {
			return false, false
		}
		if cc.NumValues() == 0 {
			continue
		}
		if ok, err := cc.StatsSet(); err != nil || !ok {
			return false, false
		}
		st, err := cc.Statistics()
		if err != nil || st == nil {
			return false, false
		}
		if st.HasNullCount() && st.NullCount() >= cc.NumValues() {
			continue
		}
		bs, ok := st.(*metadata.ByteArrayStatistics)
		if !ok || !bs.HasMinMax() {
			return false, false
		}
		if len(bs.Max()) > 0 {
			return true, true
		}
	}
	return false, true
}

// dropRows returns c without the rows in bad (keep rows remain), in place.
func dropRows[T any](c []T, bad map[int]bool, keep int) []T {
	out := c[:0]
	for i, x := range c {
		if !bad[i] {
			out = append(out, x)
		}
	}
	return out[:keep:keep]
}

// readPQColumn reads column j of every row group into d; nulls become NaN
// (numbers) or "" (strings). A panic inside the Parquet library (corrupt
// data) is returned as an error. pool, the reader's page buffer allocator,
// is recycled after each column chunk.
func readPQColumn(pf *file.Reader, j int, d *pqDest, pool *pqPool) error {
	var sc pqScratch
	off, total := 0, len(d.num)+len(d.str)
	for g := 0; g < pf.NumRowGroups(); g++ {
		rows := int(pf.MetaData().RowGroup(g).NumRows())
		if rows < 0 || off+rows > total {
			return fmt.Errorf("row group %d has %d rows, more than the file says", g, rows)
		}
		var num []float64
		var str []string
		if d.str != nil {
			str = d.str[off : off+rows]
		} else {
			num = d.num[off : off+rows]
		}
		err := readPQGroup(pf, g, j, d, num, str, &sc)
		pool.recycle()
		if err != nil {
			return err
		}
		off += rows
	}
	if off != total {
		return fmt.Errorf("%d rows in row groups, the footer says %d", off, total)
	}
	return nil
}

// pqScratch holds one reading goroutine's decode buffers, reused across
// pages, columns and row groups.
type pqScratch struct {
	def   []int16
	f64   []float64
	i64   []int64
	i32   []int32
	f32   []float32
	bools []bool
	bas   []parquet.ByteArray
}

// pqBatch is the most levels decoded per ReadBatch call.
const pqBatch = 64 << 10

// readPQGroup reads column j (described by d) of row group g into num
// (numeric columns) or str (string columns), which hold exactly the row
// group's rows; nulls become NaN or "". A panic inside the Parquet library
// (corrupt data) is returned as an error.
func readPQGroup(pf *file.Reader, g, j int, d *pqDest, num []float64, str []string, sc *pqScratch) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	rows := len(num) + len(str)
	sc.def = growTo(sc.def, pqBatch)
	def := sc.def
	cr, err := pf.RowGroup(g).Column(j)
	if err != nil {
		return err
	}
	for done := 0; done < rows; {
		want := min(rows-done, pqBatch)
		var levels int64
		var vals int
		dst := func() []float64 { return num[done : done+int(levels)] }
		switch r := cr.(type) {
		case *file.Float64ColumnChunkReader:
			// Straight into the column; nulls are then spread in place.
			if d.maxDef == 0 {
				levels, vals, err = r.ReadBatch(int64(want), num[done:done+want], nil, nil)
				break
			}
			levels, vals, err = r.ReadBatch(int64(want), num[done:done+want], def, nil)
			if err == nil && vals != int(levels) {
				spreadInPlace(dst(), vals, def, d.maxDef)
			}
		case *file.Float32ColumnChunkReader:
			sc.f32 = growTo(sc.f32, want)
			levels, vals, err = r.ReadBatch(int64(want), sc.f32, def, nil)
			if err == nil {
				spreadConv(dst(), sc.f32[:vals], def, d.maxDef)
			}
		case *file.Int64ColumnChunkReader:
			sc.i64 = growTo(sc.i64, want)
			levels, vals, err = r.ReadBatch(int64(want), sc.i64, def, nil)
			if err == nil {
				spreadConv(dst(), sc.i64[:vals], def, d.maxDef)
			}
		case *file.Int32ColumnChunkReader:
			sc.i32 = growTo(sc.i32, want)
			levels, vals, err = r.ReadBatch(int64(want), sc.i32, def, nil)
			if err == nil {
				spreadConv(dst(), sc.i32[:vals], def, d.maxDef)
			}
		case *file.BooleanColumnChunkReader:
			sc.bools = growTo(sc.bools, want)
			levels, vals, err = r.ReadBatch(int64(want), sc.bools, def, nil)
			if err == nil {
				sc.f64 = growTo(sc.f64, vals)
				for k, b := range sc.bools[:vals] {
					sc.f64[k] = 0
					if b {
						sc.f64[k] = 1
					}
				}
				spreadConv(dst(), sc.f64, def, d.maxDef)
			}
		case *file.ByteArrayColumnChunkReader:
			sc.bas = growTo(sc.bas, want)
			levels, vals, err = r.ReadBatch(int64(want), sc.bas, def, nil)
			if err == nil {
				// One copy of the batch's bytes; cells are substrings.
				size := 0
				for _, b := range sc.bas[:vals] {
					size += len(b)
				}
				buf := make([]byte, 0, size)
				for _, b := range sc.bas[:vals] {
					buf = append(buf, b...)
				}
				all := unsafe.String(unsafe.SliceData(buf), len(buf)) // buf is not written again
				dst := str[done : done+int(levels)]
				v, pos := 0, 0
				for k := range dst {
					if (d.maxDef == 0 || def[k] == d.maxDef) && v < vals {
						l := len(sc.bas[v])
						dst[k] = all[pos : pos+l]
						pos += l
						v++
					}
				}
				clear(sc.bas[:vals]) // do not keep the page buffers alive
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
	return nil
}

// spreadInPlace spreads the vals non-null values packed at the front of
// dst over its rows by definition level (def[k] == maxDef: a value, else
// null = NaN). It works backwards, so no value is overwritten before it
// is moved. Inconsistent levels (corrupt data) give wrong values, never a
// panic.
func spreadInPlace(dst []float64, vals int, def []int16, maxDef int16) {
	nan := math.NaN()
	v := vals - 1
	for k := len(dst) - 1; k >= 0; k-- {
		if def[k] == maxDef && v >= 0 {
			dst[k] = dst[v]
			v--
		} else {
			dst[k] = nan
		}
	}
}

// spreadConv writes the non-null values src into dst as float64: row k
// takes the next value when def[k] == maxDef (or maxDef is 0: no nulls),
// else NaN. Missing values (corrupt levels) are NaN too.
func spreadConv[T float64 | float32 | int64 | int32](dst []float64, src []T, def []int16, maxDef int16) {
	if maxDef == 0 || len(src) == len(dst) {
		for k := range dst {
			if k < len(src) {
				dst[k] = float64(src[k])
			} else {
				dst[k] = math.NaN()
			}
		}
		return
	}
	v := 0
	for k := range dst {
		if def[k] == maxDef && v < len(src) {
			dst[k] = float64(src[v])
			v++
		} else {
			dst[k] = math.NaN()
		}
	}
}

func growTo[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// WriteParquet writes run as Parquet in rewardspy's layout (the columns of
// WriteCSV): step, input_length and output_length as int64 when every
// present value of the whole column is an integer that float64 holds
// exactly (|x| < 2^53, not -0), float64 otherwise; other numbers as
// float64, call_id and other string columns as UTF-8 strings. Every column
// is optional: a missing value (NaN, "", a component a record does not
// have) is a null. Snappy-compressed, plain encoding, row groups of 64Ki
// rows; Run.Meta is stored as key/value metadata (keys sorted). A run of
// zero rows writes a valid file with the schema and no row groups. Cost is
// linear in rows x columns.
func WriteParquet(w io.Writer, run *Run) error {
	cols := exportLayout(run)
	pc := make([]pqCol, len(cols))
	for i, c := range cols {
		pc[i] = pqCol{name: c.name, num: c.num, str: c.str}
		switch {
		case c.kind == outString:
			pc[i].kind = pqString
		case c.kind == outInt && allIntegral(c.num):
			pc[i].kind = pqIntFromFloat
		default:
			pc[i].kind = pqFloat
		}
	}
	return writePQ(w, pc, run.Len(), run.Meta)
}

// pqKind is the Parquet type of a written column.
type pqKind int

const (
	pqFloat        pqKind = iota // optional double; NaN is null
	pqIntFromFloat               // optional int64 from integral float64s; NaN is null
	pqInt                        // optional int64 from int64s; never null
	pqString                     // optional UTF-8 byte array; "" is null
)

// pqCol is one column to write. A nil value slice writes all nulls.
type pqCol struct {
	name string
	kind pqKind
	num  []float64
	ints []int64
	str  []string
}

// pqGroupRows is the number of rows per row group the writers use (a
// variable so that tests can write small row groups).
var pqGroupRows = 64 << 10

// writePQ writes cols (n rows each) with the low-level Parquet column
// writers: one row group per pqGroupRows rows, each column written
// straight from its slice.
func writePQ(w io.Writer, cols []pqCol, n int, meta map[string]string) (err error) {
	fields := make(schema.FieldList, len(cols))
	for i, c := range cols {
		var node schema.Node
		switch c.kind {
		case pqString:
			node, err = schema.NewPrimitiveNodeLogical(c.name, parquet.Repetitions.Optional, schema.StringLogicalType{}, parquet.Types.ByteArray, 0, -1)
		case pqInt, pqIntFromFloat:
			node, err = schema.NewPrimitiveNodeLogical(c.name, parquet.Repetitions.Optional, schema.NewIntLogicalType(64, true), parquet.Types.Int64, 0, -1)
		default:
			node, err = schema.NewPrimitiveNode(c.name, parquet.Repetitions.Optional, parquet.Types.Double, -1, -1)
		}
		if err != nil {
			return fmt.Errorf("parquet column %q: %w", c.name, err)
		}
		fields[i] = node
	}
	root, err := schema.NewGroupNode("schema", parquet.Repetitions.Repeated, fields, -1)
	if err != nil {
		return fmt.Errorf("parquet schema: %w", err)
	}
	kv := make(metadata.KeyValueMetadata, 0, len(meta))
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	seen := map[string]bool{}
	for _, k := range keys {
		// Parquet metadata must be UTF-8; a log's own bytes may not be
		// (a Trainer summary key copied from a broken line).
		key := strings.ToValidUTF8(k, "\uFFFD")
		if seen[key] {
			continue
		}
		seen[key] = true
		if err := kv.Append(key, strings.ToValidUTF8(meta[k], "\uFFFD")); err != nil {
			return err
		}
	}
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithDictionaryDefault(false))
	sink := &pqSink{w: w}
	defer func() {
		// The library reports some write failures by panicking, and words
		// others its own way: say what the writer said.
		p := recover()
		switch {
		case sink.err != nil:
			err = fmt.Errorf("writing Parquet: %w", sink.err)
		case p != nil:
			err = fmt.Errorf("writing Parquet: %v", p)
		}
	}()
	fw := file.NewParquetWriter(sink, root, file.WithWriterProps(props), file.WithWriteMetadata(kv))
	def := make([]int16, min(n, pqGroupRows))
	var f64 []float64
	var i64 []int64
	var bas []parquet.ByteArray
	for from := 0; from < n; from += pqGroupRows {
		to := min(from+pqGroupRows, n)
		rows := to - from
		def := def[:rows]
		rg := fw.AppendRowGroup()
		for _, c := range cols {
			cw, err := rg.NextColumn()
			if err != nil {
				return err
			}
			nv := 0
			switch c.kind {
			case pqFloat:
				f64 = growTo(f64, rows)
				nv = pqDefFloat(def, f64, c.num, from)
				_, err = cw.(*file.Float64ColumnChunkWriter).WriteBatch(f64[:nv], def, nil)
			case pqIntFromFloat:
				i64 = growTo(i64, rows)
				if c.num != nil {
					for k, x := range c.num[from:to] {
						if x == x {
							def[k] = 1
							i64[nv] = int64(x)
							nv++
						} else {
							def[k] = 0
						}
					}
				} else {
					clear(def)
				}
				_, err = cw.(*file.Int64ColumnChunkWriter).WriteBatch(i64[:nv], def, nil)
			case pqInt:
				if c.ints != nil {
					for k := range def {
						def[k] = 1
					}
					nv = rows
					_, err = cw.(*file.Int64ColumnChunkWriter).WriteBatch(c.ints[from:to], def, nil)
				} else {
					clear(def)
					_, err = cw.(*file.Int64ColumnChunkWriter).WriteBatch(nil, def, nil)
				}
			case pqString:
				bas = growTo(bas, rows)
				if c.str != nil {
					for k, s := range c.str[from:to] {
						if s != "" {
							def[k] = 1
							// The writer only reads the bytes: no copy.
							bas[nv] = unsafe.Slice(unsafe.StringData(s), len(s))
							nv++
						} else {
							def[k] = 0
						}
					}
				} else {
					clear(def)
				}
				_, err = cw.(*file.ByteArrayColumnChunkWriter).WriteBatch(bas[:nv], def, nil)
				clear(bas[:nv]) // do not keep the strings alive
			}
			if err != nil {
				return fmt.Errorf("parquet column %q: %w", c.name, err)
			}
			if err := cw.Close(); err != nil {
				return fmt.Errorf("parquet column %q: %w", c.name, err)
			}
		}
		if err := rg.Close(); err != nil {
			return err
		}
	}
	return fw.Close()
}

// pqDefFloat fills def (1 = present) for num[from:from+len(def)] and packs
// the present values into vals; it returns their count. A nil num is all
// nulls.
func pqDefFloat(def []int16, vals, num []float64, from int) int {
	if num == nil {
		clear(def)
		return 0
	}
	nv := 0
	for k, x := range num[from : from+len(def)] {
		if x == x {
			def[k] = 1
			vals[nv] = x
			nv++
		} else {
			def[k] = 0
		}
	}
	return nv
}

// pqSink is the Parquet writer's output: it keeps the first write error
// and does not let the library close the caller's writer.
type pqSink struct {
	w   io.Writer
	err error
}

func (s *pqSink) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	s.err = err
	return n, err
}

func (*pqSink) Close() error { return nil }
