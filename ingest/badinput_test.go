package ingest_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
)

// readStr reads src as the named format (auto-detected when format is "").
func readStr(t *testing.T, name, format, src string, strict bool) (*ingest.Run, error) {
	t.Helper()
	return ingest.Read(strings.NewReader(src), name, ingest.Options{Format: format, Strict: strict})
}

// wantIssue checks that run has an issue at line for field whose message
// contains msg, and that strict reading of the same input fails with
// ErrStrict.
func wantIssue(t *testing.T, name, format, src string, line int, field, msg string) *ingest.Run {
	t.Helper()
	run, err := readStr(t, name, format, src, false)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	found := false
	for _, is := range run.Issues {
		if is.Line == line && is.Field == field && strings.Contains(is.Msg, msg) {
			found = true
		}
	}
	if !found {
		t.Errorf("%s: no issue at line %d field %q with %q; issues %v", name, line, field, msg, run.Issues)
	}
	if _, err := readStr(t, name, format, src, true); !errors.Is(err, ingest.ErrStrict) {
		t.Errorf("%s: strict read: err = %v, want ErrStrict", name, err)
	}
	return run
}

func trlState(entries ...string) string {
	return "{\n\"global_step\": 3,\n\"log_history\": [\n" + strings.Join(entries, ",\n") + "\n]\n}\n"
}

func TestTRLNonFiniteAndBooleans(t *testing.T) {
	for _, c := range []struct{ val, msg string }{
		{"NaN", "not a finite number"}, {"Infinity", "not a finite number"},
		{"-Infinity", "not a finite number"}, {"1e309", "not a finite number"},
		{"true", "boolean"},
	} {
		src := trlState(`{"step": 1, "reward": 0.5}`, `{"step": 2, "reward": `+c.val+`}`, `{"step": 3, "reward": 0.7}`)
		run := wantIssue(t, "trainer_state.json", "", src, 5, "reward", c.msg)
		if run.Len() != 2 || run.Skipped != 1 {
			t.Errorf("%s: rows %d skipped %d, want 2 and 1", c.val, run.Len(), run.Skipped)
		}
	}
	// In an extra column the value is left missing and the step kept.
	run := wantIssue(t, "trainer_state.json", "", trlState(`{"step": 1, "reward": 0.5, "grad_norm": Infinity}`), 4, "grad_norm", "left missing")
	if run.Len() != 1 || run.Skipped != 0 || !run.Issues[0].Kept {
		t.Errorf("rows %d skipped %d issues %v", run.Len(), run.Skipped, run.Issues)
	}
	if g, ok := run.Column("extra.grad_norm"); ok && g[0] == g[0] {
		t.Errorf("grad_norm = %v, want missing", g[0])
	}
}

func TestTRLBOMTrailingAndDeepEntry(t *testing.T) {
	src := trlState(`{"step": 1, "reward": 0.5}`, `{"step": 2, "reward": 0.6}`)
	run, err := readStr(t, "trainer_state.json", "", "\ufeff"+src, true)
	if err != nil || run.Len() != 2 {
		t.Fatalf("with a BOM: %v", err)
	}
	// Text after the object is reported, not ignored.
	wantIssue(t, "trainer_state.json", "", src+"{\"log_history\": []}\n", 8, "", "after the JSON object")
	// One entry nested 10,000 deep costs that entry only.
	deep := `{"step": 1, "x": ` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`
	run = wantIssue(t, "trainer_state.json", "", trlState(deep, `{"step": 2, "reward": 0.6}`, `{"step": 3, "reward": 0.7}`), 4, "", "not valid JSON")
	if run.Len() != 2 || run.Skipped != 1 {
		t.Errorf("deep entry: rows %d skipped %d, want 2 and 1", run.Len(), run.Skipped)
	}
}

func TestVerlJSONLNonFiniteBOMAndCutLine(t *testing.T) {
	for _, c := range []struct{ val, msg string }{
		{"NaN", "not a finite number"}, {"Infinity", "not a finite number"}, {"-Infinity", "not a finite number"},
		{"1e309", "not a finite number"}, {"true", "boolean"},
	} {
		src := `{"step": 1, "data": {"critic/score/mean": 0.5}}` + "\n" +
			`{"step": 2, "data": {"critic/score/mean": ` + c.val + `}}` + "\n" +
			`{"step": 3, "data": {"critic/score/mean": 0.7}}` + "\n"
		run := wantIssue(t, "m.jsonl", "verl-jsonl", src, 2, "data/critic/score/mean", c.msg)
		if run.Len() != 2 || run.Skipped != 1 {
			t.Errorf("%s: rows %d skipped %d", c.val, run.Len(), run.Skipped)
		}
	}
	src := "\ufeff" + `{"step": 1, "data": {"critic/score/mean": 0.5}}` + "\n"
	if run, err := readStr(t, "m.jsonl", "", src, true); err != nil || run.Len() != 1 || run.Format != "verl-jsonl" {
		t.Fatalf("BOM: %v", err)
	}
	cut := `{"step": 1, "data": {"critic/score/mean": 0.5}}` + "\n" + `{"step": 2, "data": {"critic/score/mean": 0.6`
	wantIssue(t, "m.jsonl", "verl-jsonl", cut, 2, "", "incomplete last line")
}

func TestCSVCutLastLineBOMAndBooleans(t *testing.T) {
	src := "step,scalar_reward\r\n1,0.5\r\n2,0.665"
	run := wantIssue(t, "r.csv", "", src, 3, "", "incomplete last line")
	if run.Len() != 1 || run.Skipped != 1 {
		t.Errorf("rows %d skipped %d, want 1 and 1", run.Len(), run.Skipped)
	}
	run, err := readStr(t, "r.csv", "", "\ufeffstep,scalar_reward\n1,0.5\n", true)
	if err != nil || !run.Has(ingest.ColReward) || !run.Has(ingest.ColStep) {
		t.Fatalf("BOM: %v %v", err, run.Columns())
	}
	wantIssue(t, "r.csv", "", "step,scalar_reward\n1,0.5\n2,true\n", 3, "scalar_reward", "not a number")
	wantIssue(t, "r.csv", "", "step,scalar_reward\n1,0.5\n2,Infinity\n", 3, "scalar_reward", "not a finite number")
	wantIssue(t, "r.csv", "", "step,scalar_reward\n1,0.5\n2,1e309\n", 3, "scalar_reward", "out of range")
}

func TestJSONLBooleanReward(t *testing.T) {
	src := `{"call_id":"a","step":1,"scalar_reward":0.5,"components":{}}` + "\n" +
		`{"call_id":"b","step":2,"scalar_reward":true,"components":{}}` + "\n"
	run := wantIssue(t, "r.jsonl", "", src, 2, "scalar_reward", "boolean")
	if run.Len() != 1 {
		t.Errorf("rows %d", run.Len())
	}
	// In an extra column a boolean is 1/0.
	run, err := readStr(t, "g.jsonl", "", `{"step":1,"reward":0.5,"done":true}`+"\n", true)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := run.Column("extra.done"); !ok || d[0] != 1 {
		t.Errorf("extra.done = %v", d)
	}
	wantIssue(t, "g.jsonl", "", `{"step":1,"reward":0.5}`+"\n"+`{"step":2,"reward":false}`+"\n", 2, "reward", "boolean")
}

// Two verl lines with one bad pair each are kept: the summary says so
// instead of "skipped 2 malformed records".
func TestIssueSummaryKeptVersusSkipped(t *testing.T) {
	src := "step:1 - critic/score/mean:0.5 - actor/x:abc\nstep:2 - critic/score/mean:0.6 - actor/x:def\n"
	run, err := readStr(t, "v.log", "verl", src, false)
	if err != nil {
		t.Fatal(err)
	}
	if run.Len() != 2 || run.Skipped != 0 || run.Kept != 2 {
		t.Fatalf("rows %d skipped %d kept %d", run.Len(), run.Skipped, run.Kept)
	}
	if got, want := ingest.IssueSummary(run), "left 2 bad values missing: v.log:1, :2"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	run, _ = readStr(t, "r.csv", "", "step,scalar_reward\n1,x\n2,0.5\n3,y\n", false)
	if got, want := ingest.IssueSummary(run), "skipped 2 malformed records: r.csv:2, :4"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	run, _ = readStr(t, "r.csv", "", "step,scalar_reward\n1,0.5\n", false)
	if s := ingest.IssueSummary(run); s != "" {
		t.Errorf("clean run summary %q", s)
	}
}

func TestTFEventsNonFinite(t *testing.T) {
	run := ingest.NewRun(3)
	run.SetColumn(ingest.ColStep, []float64{1, 2, 3})
	run.SetColumn(ingest.ColReward, []float64{0.5, math.Inf(1), 0.7})
	run.SetColumn(ingest.ColLength, []float64{10, 20, 30})
	var buf bytes.Buffer
	if err := ingest.WriteTFEvents(&buf, run); err != nil {
		t.Fatal(err)
	}
	back, err := ingest.Read(bytes.NewReader(buf.Bytes()), "events.out.tfevents.1", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := back.Column(ingest.ColReward)
	if back.Len() != 3 || r[0] != 0.5 || !math.IsNaN(r[1]) || r[2] != 0.7 || back.Skipped != 1 ||
		len(back.Issues) != 1 || back.Issues[0].Field != "reward" || !strings.Contains(back.Issues[0].Msg, "not a finite number") {
		t.Errorf("rows %d reward %v skipped %d issues %v", back.Len(), r, back.Skipped, back.Issues)
	}
	if _, err := ingest.Read(bytes.NewReader(buf.Bytes()), "events.out.tfevents.1", ingest.Options{Strict: true}); !errors.Is(err, ingest.ErrStrict) {
		t.Errorf("strict: %v", err)
	}
}

func TestReadFileStdin(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = saved }()
	go func() {
		w.WriteString(`{"call_id":"a","step":1,"scalar_reward":0.5,"components":{}}` + "\nnot json\n")
		w.Close()
	}()
	run, err := ingest.ReadFile("-", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Len() != 1 || run.Source != "stdin" || len(run.Issues) != 1 || run.Issues[0].Error()[:8] != "stdin:2:" {
		t.Errorf("rows %d source %q issues %v", run.Len(), run.Source, run.Issues)
	}
}

func TestVerlConsoleBOM(t *testing.T) {
	run, err := readStr(t, "v.log", "", "\ufeffstep:1 - critic/score/mean:0.5\nstep:2 - critic/score/mean:0.6\n", true)
	if err != nil || run.Format != "verl" || run.Len() != 2 {
		t.Fatalf("BOM on a verl console log: %v", err)
	}
}
