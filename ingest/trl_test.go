package ingest_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// col returns a column or fails the test.
func h4Col(t *testing.T, run *ingest.Run, name string) []float64 {
	t.Helper()
	c, ok := run.Column(name)
	if !ok {
		t.Fatalf("column %q missing; have %v", name, run.Columns())
	}
	return c
}

func TestTRLNewKeys(t *testing.T) {
	run, err := ingest.ReadFile(ingesttest.Testdata(t, "trainers", "trl_grpo_collapse.json"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Format != "trl" || run.Grain != ingest.GrainStep {
		t.Fatalf("format %q grain %q, want trl step", run.Format, run.Grain)
	}
	// 30 train rows; eval rows and the summary row merge onto their steps.
	if run.Len() != 30 {
		t.Fatalf("rows = %d, want 30", run.Len())
	}
	for _, c := range []string{"step", "reward", "reward_std", "length", "zero_std_frac", "clip_ratio", "kl", "entropy",
		"component.accuracy", "component.format_bonus", "eval.loss", "extra.eval_runtime", "extra.grad_norm",
		"extra.rewards/accuracy/std", "extra.train_runtime", "extra.learning_rate"} {
		if !run.Has(c) {
			t.Errorf("missing column %q", c)
		}
	}
	for _, c := range []string{"eval.runtime", "eval.samples_per_second", "component.accuracy/std"} {
		if run.Has(c) {
			t.Errorf("unexpected column %q", c)
		}
	}
	steps := h4Col(t, run, "step")
	if steps[0] != 1 || steps[29] != 30 {
		t.Errorf("steps %v..%v, want 1..30", steps[0], steps[29])
	}
	ev := h4Col(t, run, "eval.loss")
	if ev[9] != 0.9 || !math.IsNaN(ev[8]) || ev[29] != 0.7 {
		t.Errorf("eval.loss at steps 9,10,30 = %v %v %v, want NaN 0.9 0.7", ev[8], ev[9], ev[29])
	}
	if g := h4Col(t, run, "extra.grad_norm"); !math.IsNaN(g[6]) || g[5] != 0.1 {
		t.Errorf("bare NaN grad_norm at step 7 = %v (step 6 %v)", g[6], g[5])
	}
	if z := h4Col(t, run, "zero_std_frac"); z[0] != 0.25 || z[10] != 1 {
		t.Errorf("zero_std_frac = %v, %v", z[0], z[10])
	}
	if run.Meta["global_step"] != "30" || run.Meta["max_steps"] != "30" {
		t.Errorf("meta = %v", run.Meta)
	}
	// grad_norm: NaN (an fp16 overflow) is reported, left missing, and
	// costs no row.
	if len(run.Issues) != 1 || run.Skipped != 0 || !run.Issues[0].Kept || run.Issues[0].Field != "grad_norm" {
		t.Errorf("issues %v skipped %d", run.Issues, run.Skipped)
	}
}

func TestTRLLegacyKeys(t *testing.T) {
	run, err := ingest.ReadFile(ingesttest.Testdata(t, "trainers", "trl_legacy_truncation.json"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Len() != 24 || run.Format != "trl" {
		t.Fatalf("rows %d format %s", run.Len(), run.Format)
	}
	if l := h4Col(t, run, "length"); l[0] != 300 {
		t.Errorf("length from completion_length = %v", l[0])
	}
	if c := h4Col(t, run, "component.format_reward_fn"); c[3] != 0.8 {
		t.Errorf("legacy rewards/<f> component = %v", c[3])
	}
	if run.Has("extra.completion_length") {
		t.Error("completion_length should be the length column when it is the only length key")
	}
}

// Both length keys (Rusheel86's file): the new one wins, the old is kept.
func TestTRLBothLengthKeys(t *testing.T) {
	in := `{"log_history": [{"step": 1, "reward": 0.5, "completion_length": 10, "completions/mean_length": 12}]}`
	run, err := ingest.Read(strings.NewReader(in), "ts.json", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if l := h4Col(t, run, "length"); l[0] != 12 {
		t.Errorf("length = %v, want 12", l[0])
	}
	if l := h4Col(t, run, "extra.completion_length"); l[0] != 10 {
		t.Errorf("extra.completion_length = %v, want 10", l[0])
	}
}

func TestTRLBadInput(t *testing.T) {
	cases := []struct {
		name, in  string
		wantErr   string // substring of the error; "" = no error
		notARun   bool
		rows      int
		issues    int
		issueText string
	}{
		{name: "no log_history", in: `{"log_history_x": 1, "a": {"b": 2}}`, wantErr: "no log_history", notARun: true},
		{name: "log_history not list", in: `{"log_history": 5}`, wantErr: "want a list"},
		{name: "truncated", in: "{\"log_history\": [\n{\"step\": 1, \"reward\": 0.5},\n{\"step\": 2, \"rew", rows: 1, issues: 1, issueText: "ts.json:3: file ends early"},
		{name: "entry not object", in: `{"log_history": [{"step": 1, "reward": 1}, 7, {"step": 2, "reward": 2}]}`, rows: 2, issues: 1, issueText: "not a JSON object"},
		{name: "missing step", in: `{"log_history": [{"step": 1, "reward": 1}, {"reward": 2}]}`, rows: 1, issues: 1, issueText: `field "step"`},
		{name: "string values ignored", in: `{"log_history": [{"step": 1, "reward": 1, "note": "hi", "xs": [1,2]}]}`, rows: 1},
		{name: "not json", in: `{oops`, wantErr: "not a run", notARun: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run, err := ingest.Read(strings.NewReader(c.in), "ts.json", ingest.Options{Format: "trl"})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				if c.notARun != errors.Is(err, ingest.ErrNotARun) {
					t.Errorf("errors.Is(ErrNotARun) = %v", !c.notARun)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if run.Len() != c.rows || len(run.Issues) != c.issues {
				t.Fatalf("rows %d issues %v, want %d and %d", run.Len(), run.Issues, c.rows, c.issues)
			}
			if c.issueText != "" && !strings.Contains(run.Issues[0].Error(), c.issueText) {
				t.Errorf("issue %q lacks %q", run.Issues[0].Error(), c.issueText)
			}
			// Strict mode turns the issue into an error.
			if c.issues > 0 {
				_, err := ingest.Read(strings.NewReader(c.in), "ts.json", ingest.Options{Format: "trl", Strict: true})
				if !errors.Is(err, ingest.ErrStrict) {
					t.Errorf("strict: err = %v, want ErrStrict", err)
				}
			}
		})
	}
}

func TestTRLDetect(t *testing.T) {
	b, err := os.ReadFile(ingesttest.Testdata(t, "trainers", "trl_grpo_collapse.json"))
	if err != nil {
		t.Fatal(err)
	}
	if f, err := ingest.Detect(b, "whatever.txt"); err != nil || f != "trl" {
		t.Errorf("Detect = %q, %v; want trl", f, err)
	}
}

func FuzzTRL(f *testing.F) {
	f.Add([]byte(`{"log_history": [{"step": 1, "reward": 0.5, "rewards/a/mean": NaN}]}`))
	f.Add([]byte(`{"global_step": 3, "log_history": [{"step": 1, "eval_loss": Infinity}, {"step": 1, "loss": -Infinity}]}`))
	f.Add([]byte(`{"log_history": [{"step": "x"}, 5, {"a": {"b": {"c": 1}}}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		run, err := ingest.Read(strings.NewReader(string(b)), "f.json", ingest.Options{Format: "trl"})
		if err == nil {
			h4CheckRun(t, run)
		}
	})
}

// h4CheckRun asserts the Run invariants every reader must keep.
func h4CheckRun(t *testing.T, run *ingest.Run) {
	t.Helper()
	for _, c := range run.Columns() {
		if v, ok := run.Column(c); ok && len(v) != run.Len() {
			t.Fatalf("column %q has %d rows, run %d", c, len(v), run.Len())
		}
		if v, ok := run.StringColumn(c); ok && len(v) != run.Len() {
			t.Fatalf("string column %q has %d rows, run %d", c, len(v), run.Len())
		}
	}
}

// Read a TRL trainer_state.json (any file name: the format is detected from
// the content), then write its numeric columns as a TensorBoard event file.
func ExampleWriteTFEvents() {
	state := `{"global_step": 2, "log_history": [
	  {"step": 1, "reward": 0.25, "completions/mean_length": 120, "frac_reward_zero_std": 0.5},
	  {"step": 2, "reward": 0.5, "completions/mean_length": 130, "frac_reward_zero_std": 0.25},
	  {"step": 2, "eval_loss": 1.5}]}`
	run, err := ingest.Read(strings.NewReader(state), "trainer_state.json", ingest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(run.Format, run.Grain, run.Len(), run.Columns())

	var events bytes.Buffer
	if err := ingest.WriteTFEvents(&events, run); err != nil {
		fmt.Println(err)
		return
	}
	back, _ := ingest.Read(&events, "run.tfevents", ingest.Options{})
	reward, _ := back.Column("reward")
	fmt.Println(back.Format, reward)
	// Output:
	// trl step 2 [step reward length zero_std_frac eval.loss]
	// tfevents [0.25 0.5]
}
