package ingest_test

import (
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/goodhart-rl/goodhart/ingest"
)

const viewsText = `{"call_id":"a","timestamp":1.5,"step":0,"scalar_reward":0.25,"components":{"x":0.25},"call_duration_ms":1.0,"input_length":3,"output_length":4}
{"call_id":"b","timestamp":2.5,"step":1,"scalar_reward":0.75,"components":{"y":0.75},"call_duration_ms":2.0,"input_length":5,"output_length":6}
`

func TestRecordView(t *testing.T) {
	run := readString(t, viewsText, "v.jsonl", ingest.Options{})
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := run.Record(mem)
	defer rec.Release()
	if rec.NumRows() != 2 || int(rec.NumCols()) != len(run.Columns()) {
		t.Fatalf("rows %d cols %d", rec.NumRows(), rec.NumCols())
	}
	for i, f := range rec.Schema().Fields() {
		if f.Name != run.Columns()[i] {
			t.Fatalf("field %d = %s want %s", i, f.Name, run.Columns()[i])
		}
	}
	idx := rec.Schema().FieldIndices("component.x")[0]
	x := rec.Column(idx).(*array.Float64)
	if x.Value(0) != 0.25 || !x.IsNull(1) {
		t.Errorf("component.x: %v null1=%v", x.Value(0), x.IsNull(1))
	}
	idx = rec.Schema().FieldIndices("call_id")[0]
	if rec.Schema().Field(idx).Type.ID() != arrow.STRING || rec.Column(idx).(*array.String).Value(1) != "b" {
		t.Errorf("call_id column wrong")
	}
	if !strings.Contains(rec.Schema().Metadata().String(), "component_order") {
		t.Errorf("metadata %v", rec.Schema().Metadata())
	}
}
