package ingest_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

func TestCSVGeneric(t *testing.T) {
	text := "Step,train_reward,kl,note,eval_acc,weird\r\n" +
		"1,0.5,0.01,first,,7\r\n" +
		"2,0.75,,\"a, \"\"quoted\"\" note\",0.5,x\r\n" +
		"\r\n" +
		"3,1.0,0.03,,0.25,\r\n"
	run := readString(t, text, "g.csv", ingest.Options{Map: map[string]string{"reward": "train_reward", "step": "Step"}})
	if run.Format != "csv" || run.Len() != 3 || run.Skipped != 0 {
		t.Fatalf("format %s rows %d issues %v", run.Format, run.Len(), run.Issues)
	}
	want := []string{"step", "reward", "kl", "eval.acc", "extra.note", "extra.weird"}
	if got := run.Columns(); !reflect.DeepEqual(got, want) {
		t.Fatalf("columns %v want %v", got, want)
	}
	kl, _ := run.Column("kl")
	if kl[0] != 0.01 || !math.IsNaN(kl[1]) || kl[2] != 0.03 {
		t.Errorf("kl %v", kl)
	}
	note, _ := run.StringColumn("extra.note")
	if note[1] != `a, "quoted" note` || note[2] != "" {
		t.Errorf("note %q", note)
	}
	weird, ok := run.StringColumn("extra.weird")
	if !ok || !reflect.DeepEqual(weird, []string{"7", "x", ""}) {
		t.Errorf("mixed column %q", weird)
	}
	if run.Grain != ingest.GrainStep {
		t.Errorf("grain %s", run.Grain)
	}
}

func TestCSVBadInput(t *testing.T) {
	header := "step,scalar_reward,call_id\n"
	cases := []struct {
		name  string
		row   string
		line  int
		field string
		msg   string
	}{
		{"not a number", "2,high,b\n", 3, "scalar_reward", "not a number"},
		{"nan", "2,NaN,b\n", 3, "scalar_reward", "not a finite number"},
		{"inf", "2,-inf,b\n", 3, "scalar_reward", "not a finite number"},
		{"overflow", "2,1e999,b\n", 3, "scalar_reward", "out of range"},
		{"too few cells", "2,1.0\n", 3, "", "row has 2 cells, the header has 3"},
		{"bad quote", "2,1.0,\"b\n", 3, "", "malformed CSV"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := header + "1,0.5,a\n" + c.row
			if c.name != "bad quote" {
				text += "3,0.25,c\n"
			}
			run := readString(t, text, "b.csv", ingest.Options{})
			if run.Skipped != 1 || len(run.Issues) != 1 {
				t.Fatalf("rows %d skipped %d issues %v", run.Len(), run.Skipped, run.Issues)
			}
			is := run.Issues[0]
			if is.File != "b.csv" || is.Line != c.line || is.Field != c.field || !strings.Contains(is.Msg, c.msg) {
				t.Errorf("issue %+v", is)
			}
			_, err := ingest.Read(strings.NewReader(text), "b.csv", ingest.Options{Strict: true})
			if !errors.Is(err, ingest.ErrStrict) {
				t.Errorf("strict: %v", err)
			}
		})
	}
	t.Run("header only", func(t *testing.T) {
		run := readString(t, header, "h.csv", ingest.Options{})
		if run.Len() != 0 {
			t.Fatalf("rows %d", run.Len())
		}
	})
}

func TestCSVWriterQuotingAndMissing(t *testing.T) {
	run := ingest.NewRun(3)
	run.SetColumn("reward", []float64{1, math.NaN(), 1e-7})
	run.SetStringColumn("call_id", []string{"plain", `has,comma "q"`, ""})
	run.SetColumn("component.b", []float64{0.5, math.NaN(), math.Copysign(0, -1)})
	run.SetColumn("kl", []float64{1e16, 123456789.125, math.NaN()})
	var b bytes.Buffer
	if err := ingest.WriteCSV(&b, run); err != nil {
		t.Fatal(err)
	}
	want := "step,timestamp,call_id,scalar_reward,call_duration_ms,input_length,output_length,component.b,kl\r\n" +
		"0,,plain,1.0,,,,0.5,1e+16\r\n" +
		"1,,\"has,comma \"\"q\"\"\",,,,,,123456789.125\r\n" +
		"2,,,1e-07,,,,-0.0,\r\n"
	if b.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
	}
	back := readString(t, b.String(), "w.csv", ingest.Options{})
	for _, name := range []string{"reward", "component.b", "kl"} {
		a, _ := run.Column(name)
		c, _ := back.Column(name)
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(c[i]) && !(math.IsNaN(a[i]) && math.IsNaN(c[i])) {
				t.Errorf("%s[%d]: %v -> %v", name, i, a[i], c[i])
			}
		}
	}
	ids, _ := back.StringColumn("call_id")
	if ids[1] != `has,comma "q"` {
		t.Errorf("call_id %q", ids[1])
	}
	if back.Has("time") || back.Has("duration_ms") {
		t.Errorf("empty base columns came back: %v", back.Columns())
	}
}

func TestJSONLWriterPythonFormatting(t *testing.T) {
	run := ingest.NewRun(2)
	tenth, fifth := 0.1, 0.2 // variables: constants would fold to exactly 0.3
	run.SetColumn("reward", []float64{tenth + fifth, 5e-324})
	run.SetColumn("step", []float64{3, 4.5})
	run.SetStringColumn("call_id", []string{"é\x01\t", "\U0001F600"})
	run.SetColumn("component.z", []float64{1, math.NaN()})
	run.SetColumn("component.a", []float64{2, 3})
	run.SetColumn("extra.lr", []float64{1e-6, math.NaN()})
	var b bytes.Buffer
	if err := ingest.WriteJSONL(&b, run); err != nil {
		t.Fatal(err)
	}
	// rewardspy's required timestamp is 0.0 when the run has none; extra.lr
	// has no rewardspy field and is left out (RewardspyLosses lists it)
	want := `{"call_id":"\u00e9\u0001\t","timestamp":0.0,"step":3,"scalar_reward":0.30000000000000004,"components":{"a":2.0,"z":1.0}}` + "\n" +
		`{"call_id":"\ud83d\ude00","timestamp":0.0,"step":4.5,"scalar_reward":5e-324,"components":{"a":3.0}}` + "\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
	back := readString(t, b.String(), "w.jsonl", ingest.Options{})
	if !reflect.DeepEqual(back.Columns(), []string{"step", "time", "call_id", "reward", "component.a", "component.z"}) {
		t.Errorf("read back columns %v", back.Columns())
	}
}

func TestInferGrain(t *testing.T) {
	mk := func(cols map[string][]float64) *ingest.Run {
		n := 0
		for _, c := range cols {
			n = len(c)
		}
		r := ingest.NewRun(n)
		for k, c := range cols {
			r.SetColumn(k, c)
		}
		return r
	}
	big := make([]float64, ingest.StepGrainMaxRows+1)
	for i := range big {
		big[i] = float64(i)
	}
	cases := []struct {
		name string
		run  *ingest.Run
		want ingest.Grain
	}{
		{"group", mk(map[string][]float64{"group": {0, 0, 1}, "step": {1, 2, 3}}), ingest.GrainSample},
		{"few steps", mk(map[string][]float64{"step": {1, 2, 5}, "reward": {1, 2, 3}}), ingest.GrainStep},
		{"many steps", mk(map[string][]float64{"step": big}), ingest.GrainCall},
		{"many steps with std", mk(map[string][]float64{"step": big, "reward_std": big}), ingest.GrainStep},
		{"repeated steps", mk(map[string][]float64{"step": {1, 1, 2}}), ingest.GrainSample},
		{"step with gap", mk(map[string][]float64{"step": {1, math.NaN(), 2}}), ingest.GrainCall},
		{"no step", mk(map[string][]float64{"reward": {1, 2}}), ingest.GrainCall},
	}
	for _, c := range cases {
		if got := ingest.InferGrain(c.run); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	run := readString(t, "step,reward\n1,2\n2,3\n", "g.csv", ingest.Options{Grain: ingest.GrainEpisode})
	if run.Grain != ingest.GrainEpisode {
		t.Errorf("override: %s", run.Grain)
	}
}

// TestExportRoundTripRealData writes every real log in ../shared/realdata
// to CSV and Parquet and reads it back: every column and value must
// survive (export loses nothing).
func TestExportRoundTripRealData(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(ingesttest.SharedDir(t), "realdata", "*", "*"))
	if len(files) == 0 {
		t.Skip("no real data")
	}
	for _, path := range files {
		run, err := ingest.ReadFile(path, ingest.Options{})
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		for _, w := range []struct {
			name  string
			write func(io.Writer, *ingest.Run) error
		}{{"x.csv", ingest.WriteCSV}, {"x.parquet", ingest.WriteParquet}} {
			var b bytes.Buffer
			if err := w.write(&b, run); err != nil {
				t.Fatalf("%s -> %s: %v", path, w.name, err)
			}
			back, err := ingest.Read(bytes.NewReader(b.Bytes()), w.name, ingest.Options{Grain: run.Grain})
			if err != nil {
				t.Fatalf("%s -> %s: %v", path, w.name, err)
			}
			if back.Len() != run.Len() || back.Skipped != 0 {
				t.Fatalf("%s -> %s: %d rows (was %d), %v", path, w.name, back.Len(), run.Len(), back.Issues)
			}
			for _, name := range run.Columns() {
				if s, ok := run.StringColumn(name); ok {
					s2, _ := back.StringColumn(name)
					if !reflect.DeepEqual(s, s2) {
						t.Errorf("%s -> %s: string column %s changed", path, w.name, name)
					}
					continue
				}
				c, _ := run.Column(name)
				c2, ok := back.Column(name)
				if !ok && name != "step" {
					if !allMissing(c) {
						t.Errorf("%s -> %s: column %s lost", path, w.name, name)
					}
					continue
				}
				for i := range c {
					if math.Float64bits(c[i]) != math.Float64bits(c2[i]) && !(math.IsNaN(c[i]) && math.IsNaN(c2[i])) {
						t.Errorf("%s -> %s: %s[%d] %v -> %v", path, w.name, name, i, c[i], c2[i])
						break
					}
				}
			}
		}
	}
}

func allMissing(c []float64) bool {
	for _, x := range c {
		if !math.IsNaN(x) {
			return false
		}
	}
	return true
}
