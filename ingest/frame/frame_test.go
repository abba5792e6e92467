package frame_test

import (
	"math"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/frame"
)

const text = `{"call_id":"a","timestamp":1.5,"step":0,"scalar_reward":0.25,"components":{"x":0.25},"call_duration_ms":1.0,"input_length":3,"output_length":4}
{"call_id":"b","timestamp":2.5,"step":1,"scalar_reward":0.75,"components":{"y":0.75},"call_duration_ms":2.0,"input_length":5,"output_length":6}
`

func TestOf(t *testing.T) {
	run, err := ingest.Read(strings.NewReader(text), "v.jsonl", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	df := frame.Of(run)
	if df.Nrow() != 2 || df.Ncol() != len(run.Columns()) {
		t.Fatalf("%d x %d", df.Nrow(), df.Ncol())
	}
	y := df.Col("component.y").Float()
	if !math.IsNaN(y[0]) || y[1] != 0.75 {
		t.Errorf("component.y %v", y)
	}
	if got := df.Col("call_id").Records(); got[0] != "a" || got[1] != "b" {
		t.Errorf("call_id %v", got)
	}
	if frame.Of(ingest.NewRun(0)).Nrow() != 0 {
		t.Errorf("empty run")
	}
}
