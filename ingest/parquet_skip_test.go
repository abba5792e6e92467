package ingest_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/apache/arrow/go/v15/parquet/schema"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// skipAudit is what an audit can do without: call_id strings and extra.*.
func skipAudit(name string) bool {
	return name == ingest.ColCallID || strings.HasPrefix(name, ingest.ExtraPrefix)
}

// checkSkip reads data in full and with skip, and fails unless the second
// run is the first less the skipped columns: same rows, values, grain,
// skipped-record count and component order.
func checkSkip(t *testing.T, label string, data []byte, opt ingest.Options, skip func(string) bool) (full, part *ingest.Run) {
	t.Helper()
	full, err := ingest.Read(bytes.NewReader(data), label+".parquet", opt)
	if err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	opt.SkipColumn = skip
	part, err = ingest.Read(bytes.NewReader(data), label+".parquet", opt)
	if err != nil {
		t.Fatalf("%s with SkipColumn: %v", label, err)
	}
	want := full.Slice(0, full.Len())
	for _, c := range full.Columns() {
		if skip(c) && c != ingest.ColStep && (full.IsString(c) || !isCanonical(c)) {
			want.DropColumn(c)
		}
	}
	if d := sameRun(want, part); d != "" {
		t.Fatalf("%s: with SkipColumn: %s", label, d)
	}
	for _, is := range part.Issues {
		if skip(is.Field) && (strings.HasPrefix(is.Field, ingest.ExtraPrefix) || is.Field == ingest.ColCallID) {
			t.Fatalf("%s: an issue about a skipped column: %v", label, is)
		}
	}
	if len(part.Issues) > len(full.Issues) || part.Kept > full.Kept {
		t.Fatalf("%s: %d issues, %d kept with SkipColumn; %d, %d without", label, len(part.Issues), part.Kept, len(full.Issues), full.Kept)
	}
	if full.Grain != part.Grain || full.Skipped != part.Skipped || full.Meta[ingest.MetaComponentOrder] != part.Meta[ingest.MetaComponentOrder] {
		t.Fatalf("%s: grain %s/%s skipped %d/%d meta %v/%v", label, full.Grain, part.Grain, full.Skipped, part.Skipped, full.Meta, part.Meta)
	}
	return full, part
}

// isCanonical: a bad number in such a column drops its row (all but
// extra.*), so the reader always reads it.
func isCanonical(c string) bool { return !strings.HasPrefix(c, ingest.ExtraPrefix) }

func TestParquetSkipColumnRewardspy(t *testing.T) {
	run, err := ingest.ReadFile(ingesttest.Testdata(t, "runs", "hacked.jsonl"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := ingest.WriteParquet(&b, run); err != nil {
		t.Fatal(err)
	}
	full, part := checkSkip(t, "hacked", b.Bytes(), ingest.Options{}, skipAudit)
	// call_id is known from the statistics to have values: call grain, and
	// the rows of one step are not merged although steps repeat.
	if !full.Has(ingest.ColCallID) || part.Has(ingest.ColCallID) || part.Grain != ingest.GrainCall || part.Len() != run.Len() {
		t.Fatalf("call_id %v/%v grain %s rows %d want %d", full.Has(ingest.ColCallID), part.Has(ingest.ColCallID), part.Grain, part.Len(), run.Len())
	}
	// Every column skippable (step and canonical numbers are still read).
	checkSkip(t, "hacked-all", b.Bytes(), ingest.Options{}, func(string) bool { return true })
	checkSkip(t, "hacked-grain-step", b.Bytes(), ingest.Options{Grain: ingest.GrainStep}, skipAudit)
	_, p := checkSkip(t, "hacked-grain-sample", b.Bytes(), ingest.Options{Grain: ingest.GrainSample}, skipAudit)
	if p.Has(ingest.ColCallID) {
		t.Fatal("call_id read although skipped and the grain given")
	}
}

// stepTable writes a table with a repeated step column, optional call_id
// and group strings and an extra column, statistics on or off.
func stepTable(t *testing.T, steps []int64, callID, group []string, extra []float64, stats bool) []byte {
	t.Helper()
	fields := []arrow.Field{{Name: "step", Type: arrow.PrimitiveTypes.Int64}, {Name: "reward", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}
	if callID != nil {
		fields = append(fields, arrow.Field{Name: "call_id", Type: arrow.BinaryTypes.String, Nullable: true})
	}
	if group != nil {
		fields = append(fields, arrow.Field{Name: "group", Type: arrow.BinaryTypes.String, Nullable: true})
	}
	fields = append(fields, arrow.Field{Name: "extra.note", Type: arrow.PrimitiveTypes.Float64, Nullable: true})
	sc := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	k := 0
	b.Field(k).(*array.Int64Builder).AppendValues(steps, nil)
	k++
	// A reward on the first row of each step only (a train line, then an
	// eval-like line).
	rw := make([]float64, len(steps))
	ok := make([]bool, len(steps))
	for i := range rw {
		rw[i], ok[i] = float64(i)/4, i == 0 || steps[i] != steps[i-1]
	}
	b.Field(k).(*array.Float64Builder).AppendValues(rw, ok)
	k++
	for _, s := range [][]string{callID, group} {
		if s == nil {
			continue
		}
		valid := make([]bool, len(s))
		for i := range s {
			valid[i] = s[i] != "-"
		}
		b.Field(k).(*array.StringBuilder).AppendValues(s, valid)
		k++
	}
	valid := make([]bool, len(extra))
	for i, x := range extra {
		valid[i] = x == x
	}
	b.Field(k).(*array.Float64Builder).AppendValues(extra, valid)
	rec := b.NewRecord()
	defer rec.Release()
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(sc, &buf, parquet.NewWriterProperties(parquet.WithStats(stats)), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParquetSkipColumnGrainAndMerge(t *testing.T) {
	nan := func() float64 { var z float64; return z / z }()
	steps := []int64{1, 1, 2, 2, 3, 3}
	// A train row and an eval-like row per step: merged by step when no
	// column conflicts; the extra column decides.
	agree := []float64{5, nan, 6, nan, 7, nan}
	conflict := []float64{5, 9, 6, nan, 7, nan}
	for _, stats := range []bool{true, false} {
		for name, c := range map[string]struct {
			call, group []string
			extra       []float64
			rows        int
			grain       ingest.Grain
		}{
			"merge":                  {extra: agree, rows: 3, grain: ingest.GrainStep},
			"conflict":               {extra: conflict, rows: 6, grain: ingest.GrainSample},
			"call_id":                {call: []string{"a", "b", "c", "d", "e", "f"}, extra: agree, rows: 6, grain: ingest.GrainCall},
			"call_id-empty":          {call: []string{"", "-", "", "", "-", ""}, extra: agree, rows: 3, grain: ingest.GrainStep},
			"call_id-empty-conflict": {call: []string{"-", "-", "-", "-", "-", "-"}, extra: conflict, rows: 6, grain: ingest.GrainSample},
			"group":                  {group: []string{"g", "g", "h", "h", "i", "i"}, extra: agree, rows: 6, grain: ingest.GrainSample},
			"call_id-and-group":      {call: []string{"-", "x", "-", "-", "-", "-"}, group: []string{"g", "g", "h", "h", "i", "i"}, extra: agree, rows: 6, grain: ingest.GrainCall},
		} {
			data := stepTable(t, steps, c.call, c.group, c.extra, stats)
			label := name
			if !stats {
				label += "-nostats"
			}
			full, _ := checkSkip(t, label, data, ingest.Options{}, skipAudit)
			if full.Len() != c.rows || full.Grain != c.grain {
				t.Errorf("%s: %d rows grain %s, want %d %s", label, full.Len(), full.Grain, c.rows, c.grain)
			}
			checkSkip(t, label+"-step", data, ingest.Options{Grain: ingest.GrainStep}, skipAudit)
			checkSkip(t, label+"-group", data, ingest.Options{}, func(n string) bool { return n == ingest.ColGroup })
		}
	}
}

// TestParquetSkipColumnRealData writes every real log that reads as a run
// to Parquet and reads it back with and without skipping the columns an
// audit does not need.
func TestParquetSkipColumnRealData(t *testing.T) {
	dir := ingesttest.RealData(t)
	entries, err := filepath.Glob(filepath.Join(dir, "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range entries {
		run, err := ingest.ReadFile(path, ingest.Options{})
		if err != nil || run.Len() == 0 {
			continue
		}
		var b bytes.Buffer
		if err := ingest.WriteParquet(&b, run); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		label := filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
		checkSkip(t, label, b.Bytes(), ingest.Options{}, skipAudit)
		checkSkip(t, label+" (all)", b.Bytes(), ingest.Options{}, func(string) bool { return true })
		n++
	}
	if n < 10 {
		t.Fatalf("only %d real logs read", n)
	}
}

// TestParquetReadsPqarrowFile reads a file written by the earlier
// pqarrow-based writer (reportgen export of testdata/runs/healthy.jsonl)
// and checks that today's writer gives the same schema, metadata and run.
func TestParquetReadsPqarrowFile(t *testing.T) {
	old, err := os.ReadFile(filepath.Join("testdata", "parquet", "healthy-pqarrow.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := ingest.ReadFile(ingesttest.Testdata(t, "runs", "healthy.jsonl"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := ingest.WriteParquet(&b, src); err != nil {
		t.Fatal(err)
	}
	schemaOf := func(data []byte) (string, map[string]string) {
		pf, err := file.NewParquetReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer pf.Close()
		var s strings.Builder
		schema.PrintSchema(pf.MetaData().Schema.Root(), &s, 2)
		kv := map[string]string{}
		md := pf.MetaData().KeyValueMetadata()
		for i, k := range md.Keys() {
			kv[k] = md.Values()[i]
		}
		return s.String(), kv
	}
	so, ko := schemaOf(old)
	sn, kn := schemaOf(b.Bytes())
	if so != sn {
		t.Errorf("schema\n%s\nwant (as the pqarrow writer wrote it)\n%s", sn, so)
	}
	if len(ko) != len(kn) || ko["kind"] != kn["kind"] || ko[ingest.MetaComponentOrder] != kn[ingest.MetaComponentOrder] {
		t.Errorf("key/value metadata %v, want %v", kn, ko)
	}
	a, err := ingest.Read(bytes.NewReader(old), "old.parquet", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := ingest.Read(bytes.NewReader(b.Bytes()), "new.parquet", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := sameRun(a, n); d != "" || a.Grain != n.Grain || a.Len() != src.Len() {
		t.Fatalf("old file vs new: %s (grain %s/%s, rows %d of %d)", d, a.Grain, n.Grain, a.Len(), src.Len())
	}
}

// TestCLIDoesNotLinkGRPC: the Parquet code must not pull arrow/flight
// (and with it grpc and protobuf) into the CLI, as pqarrow does.
func TestCLIDoesNotLinkGRPC(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command(goBin, "list", "-deps", "../cmd/reportgen").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.Contains(p, "grpc") || strings.Contains(p, "pqarrow") || strings.Contains(p, "arrow/flight") {
			t.Errorf("cmd/reportgen links %s", p)
		}
	}
}

// FuzzParquetSkip: for any generated run (repeated steps, ±Inf rows,
// empty call ids, extra columns), reading its Parquet export with
// SkipColumn gives the full read less the skipped columns.
func FuzzParquetSkip(f *testing.F) {
	f.Add([]byte{3, 1, 0, 0, 1, 2, 3, 3, 0, 5, 6, 7, 8, 9, 0, 0, 1, 0, 2})
	f.Add([]byte{11, 4, 0, 13, 14, 12, 3, 5, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 1, 0, 6, 0, 0, 1, 1, 1, 1})
	f.Add([]byte{7, 2, 0, 1, 13, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		run := genRun(data)
		var b bytes.Buffer
		if err := ingest.WriteParquet(&b, run); err != nil {
			t.Fatal(err)
		}
		if _, err := ingest.Read(bytes.NewReader(b.Bytes()), "f.parquet", ingest.Options{}); err != nil {
			return // every row held ±Inf
		}
		checkSkip(t, "fuzz", b.Bytes(), ingest.Options{}, skipAudit)
		checkSkip(t, "fuzz-call_id", b.Bytes(), ingest.Options{}, func(n string) bool { return n == ingest.ColCallID })
		checkSkip(t, "fuzz-step", b.Bytes(), ingest.Options{Grain: ingest.GrainStep}, skipAudit)
	})
}

// TestParquetLargeNullable reads a pyarrow-like file (dictionary pages,
// data page v2, several row groups, batches of 64Ki rows) with nulls in
// float64, int64, float32 and string columns, and checks every value.
func TestParquetLargeNullable(t *testing.T) {
	const n = 150_001
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "step", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "reward", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "kl", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "tag", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i := 0; i < n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if i%7 == 3 {
			b.Field(1).(*array.Float64Builder).AppendNull()
		} else {
			b.Field(1).(*array.Float64Builder).Append(float64(i%100) / 8)
		}
		if i%5 == 0 {
			b.Field(2).(*array.Float32Builder).AppendNull()
		} else {
			b.Field(2).(*array.Float32Builder).Append(float32(i%3) / 2)
		}
		if i%11 == 0 {
			b.Field(3).(*array.StringBuilder).AppendNull()
		} else {
			b.Field(3).(*array.StringBuilder).Append(string(rune('a' + i%5)))
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithDataPageVersion(parquet.DataPageV2),
		parquet.WithMaxRowGroupLength(40_000), parquet.WithDictionaryDefault(true))
	w, err := pqarrow.NewFileWriter(sc, &buf, props, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	run, err := ingest.Read(bytes.NewReader(buf.Bytes()), "big.parquet", ingest.Options{Map: map[string]string{"kl": "kl"}})
	if err != nil {
		t.Fatal(err)
	}
	if run.Len() != n {
		t.Fatalf("%d rows", run.Len())
	}
	step, _ := run.Column("step")
	rw, _ := run.Column("reward")
	kl, _ := run.Column("kl")
	tag, _ := run.StringColumn("extra.tag")
	for i := 0; i < n; i++ {
		wr := float64(i%100) / 8
		if i%7 == 3 {
			wr = math.NaN()
		}
		wk := float64(i%3) / 2
		if i%5 == 0 {
			wk = math.NaN()
		}
		wt := string(rune('a' + i%5))
		if i%11 == 0 {
			wt = ""
		}
		if step[i] != float64(i) || !sameFloat(rw[i], wr) || !sameFloat(kl[i], wk) || tag[i] != wt {
			t.Fatalf("row %d: step %v reward %v kl %v tag %q; want %v %v %q", i, step[i], rw[i], kl[i], tag[i], wr, wk, wt)
		}
	}
}

func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// failAfter fails every write after the first n bytes.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

func TestParquetWriteError(t *testing.T) {
	run, err := ingest.ReadFile(ingesttest.Testdata(t, "runs", "healthy.jsonl"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 3, 100, 5000} {
		if err := ingest.WriteParquet(&failAfter{n}, run); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("write failing after %d bytes: error %q", n, err)
		}
		err := ingest.WriteTableParquet(&failAfter{n}, []ingest.TableColumn{{Name: "a", Int: []int64{1, 2}}}, nil)
		if err == nil && n < 100 {
			t.Errorf("table write failing after %d bytes: no error", n)
		}
	}
}
