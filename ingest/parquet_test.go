package ingest_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// genericParquet writes a table the way pandas/pyarrow users produce them:
// typed columns, nulls, and a column type goodhart does not read.
func genericParquet(t *testing.T) []byte {
	t.Helper()
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "global_step", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "rew", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "kl", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "done", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "tag", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "tokens", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Int32Builder).AppendValues([]int32{10, 20, 30}, nil)
	b.Field(1).(*array.Float32Builder).AppendValues([]float32{0.5, 0.25, 0}, []bool{true, true, false})
	b.Field(2).(*array.Float64Builder).AppendValues([]float64{0.1, 0.2, 0.3}, nil)
	b.Field(3).(*array.BooleanBuilder).AppendValues([]bool{true, false, true}, nil)
	b.Field(4).(*array.StringBuilder).AppendValues([]string{"a", "", "c"}, []bool{true, false, true})
	lb := b.Field(5).(*array.ListBuilder)
	for i := 0; i < 3; i++ {
		lb.Append(true)
		lb.ValueBuilder().(*array.Int64Builder).Append(int64(i))
	}
	rec := b.NewRecord()
	defer rec.Release()
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(schema, &buf, nil, pqarrow.DefaultWriterProps())
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

func TestParquetGeneric(t *testing.T) {
	data := genericParquet(t)
	opt := ingest.Options{Map: map[string]string{"step": "global_step", "reward": "rew"}}
	run, err := ingest.Read(bytes.NewReader(data), "g.parquet", opt)
	if err != nil {
		t.Fatal(err)
	}
	if run.Format != "parquet" || run.Len() != 3 {
		t.Fatalf("format %s rows %d", run.Format, run.Len())
	}
	want := []string{"step", "reward", "kl", "extra.done", "extra.tag"}
	if got := run.Columns(); !reflect.DeepEqual(got, want) {
		t.Fatalf("columns %v want %v", got, want)
	}
	r, _ := run.Column("reward")
	steps, _ := run.Column("step")
	done, _ := run.Column("extra.done")
	tag, _ := run.StringColumn("extra.tag")
	if r[0] != 0.5 || r[1] != 0.25 || !math.IsNaN(r[2]) || steps[2] != 30 || done[1] != 0 || tag[1] != "" || tag[2] != "c" {
		t.Errorf("values: reward %v steps %v done %v tag %q", r, steps, done, tag)
	}
	if len(run.Issues) != 1 || run.Issues[0].Field != "tokens" {
		t.Errorf("issues %v", run.Issues)
	}
	if _, err := ingest.Read(bytes.NewReader(data), "g.parquet", ingest.Options{Strict: true}); !errors.Is(err, ingest.ErrStrict) {
		t.Errorf("strict with an unread column: %v", err)
	}
	// The same file gzipped, and from disk (read in place).
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(data)
	zw.Close()
	dir := t.TempDir()
	for name, content := range map[string][]byte{"g.parquet.gz": z.Bytes(), "g.parquet": data} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, content, 0o644)
		run2, err := ingest.ReadFile(path, opt)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r2, _ := run2.Column("reward")
		if run2.Len() != 3 || r2[1] != 0.25 {
			t.Errorf("%s: rows %d reward %v", name, run2.Len(), r2)
		}
	}
}

func TestParquetBadInput(t *testing.T) {
	run, err := ingest.ReadFile(ingesttest.Testdata(t, "runs", "healthy.jsonl"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := ingest.WriteParquet(&b, run); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	cases := map[string][]byte{
		"truncated":    data[:len(data)/2],
		"only magic":   []byte("PAR1"),
		"bad footer":   append(append([]byte(nil), data[:len(data)-8]...), 0xff, 0xff, 0xff, 0x7f, 'P', 'A', 'R', '1'),
		"garbage body": append(append([]byte("PAR1"), bytes.Repeat([]byte{0x55}, 500)...), data[len(data)-8:]...),
	}
	for name, d := range cases {
		_, err := ingest.Read(bytes.NewReader(d), "bad.parquet", ingest.Options{})
		if !errors.Is(err, ingest.ErrNotARun) && err == nil {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	// Empty run round trip.
	var e bytes.Buffer
	if err := ingest.WriteParquet(&e, ingest.NewRun(0)); err != nil {
		t.Fatal(err)
	}
	back, err := ingest.Read(bytes.NewReader(e.Bytes()), "e.parquet", ingest.Options{})
	if err != nil || back.Len() != 0 {
		t.Fatalf("empty parquet: %v rows %d", err, back.Len())
	}
}
