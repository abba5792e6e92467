package ingest_test

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/goodhart-rl/goodhart/ingest"
)

func TestWriteTableParquetRoundTrip(t *testing.T) {
	cols := []ingest.TableColumn{
		{Name: "s", Str: []string{"a", "", "c"}},
		{Name: "i", Int: []int64{1, -2, 3}},
		{Name: "f", Float: []float64{0.5, math.NaN(), 1e-9}},
	}
	var b bytes.Buffer
	if err := ingest.WriteTableParquet(&b, cols, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if tbl.NumRows() != 3 || tbl.NumCols() != 3 {
		t.Fatalf("%dx%d", tbl.NumRows(), tbl.NumCols())
	}
	s := tbl.Column(0).Data().Chunk(0).(*array.String)
	if s.Value(0) != "a" || !s.IsNull(1) || s.Value(2) != "c" {
		t.Errorf("strings: %v", s)
	}
	i := tbl.Column(1).Data().Chunk(0).(*array.Int64)
	if i.Value(0) != 1 || i.Value(1) != -2 || i.Value(2) != 3 || i.NullN() != 0 {
		t.Errorf("ints: %v", i)
	}
	f := tbl.Column(2).Data().Chunk(0).(*array.Float64)
	if f.Value(0) != 0.5 || !f.IsNull(1) || f.Value(2) != 1e-9 {
		t.Errorf("floats: %v", f)
	}
	if v := pf.MetaData().KeyValueMetadata().FindValue("k"); v == nil || *v != "v" {
		t.Errorf("key/value metadata k = %v, want v", v)
	}
}

func TestWriteTableParquetErrors(t *testing.T) {
	var b bytes.Buffer
	err := ingest.WriteTableParquet(&b, []ingest.TableColumn{{Name: "a", Int: []int64{1, 2}}, {Name: "b", Float: []float64{1}}}, nil)
	if err == nil || !strings.Contains(err.Error(), `"b"`) || !strings.Contains(err.Error(), "1 values, want 2") {
		t.Errorf("length mismatch: %v", err)
	}
	err = ingest.WriteTableParquet(&b, []ingest.TableColumn{{Name: "x"}}, nil)
	if err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("no values: %v", err)
	}
	b.Reset()
	if err := ingest.WriteTableParquet(&b, []ingest.TableColumn{{Name: "x", Str: []string{}}}, nil); err != nil || !bytes.HasPrefix(b.Bytes(), []byte("PAR1")) {
		t.Errorf("zero rows: %v", err)
	}
}
