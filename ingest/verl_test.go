package ingest_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

func TestVerlConsoleNewKeys(t *testing.T) {
	run, err := ingest.ReadFile(ingesttest.Testdata(t, "trainers", "verl_console.log"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Format != "verl" || run.Grain != ingest.GrainStep {
		t.Fatalf("format %q grain %q", run.Format, run.Grain)
	}
	// step:0 (validation only) + steps 1..40.
	if run.Len() != 41 {
		t.Fatalf("rows = %d, want 41", run.Len())
	}
	want := map[string][2]float64{ // column -> {row, value}
		"step":                            {0, 0},
		"reward":                          {1, 0.51},
		"length":                          {35, 0},
		"clip_ratio":                      {35, 0.45},
		"entropy":                         {1, 0.295},
		"kl":                              {2, 0.002},
		"eval.openai/gsm8k/reward/mean@1": {0, 0.3},
		"extra.actor/kl_coef":             {1, 0.001},
		"extra.val-aux/openai/gsm8k/reward/std@1": {0, 0.1},
		"extra.critic/rewards/mean":               {1, 0.51},
	}
	for c, rv := range want {
		v := h4Col(t, run, c)
		if c == "length" {
			if v[35] < 590 {
				t.Errorf("length after the explosion = %v", v[35])
			}
			continue
		}
		if got := v[int(rv[0])]; math.Abs(got-rv[1]) > 1e-12 {
			t.Errorf("%s[%d] = %v, want %v", c, int(rv[0]), got, rv[1])
		}
	}
	if r := h4Col(t, run, "reward"); !math.IsNaN(r[0]) {
		t.Errorf("validation-only step 0 has reward %v, want missing", r[0])
	}
	if e := h4Col(t, run, "eval.openai/gsm8k/reward/mean@1"); !math.IsNaN(e[1]) || e[5] != 0.625 {
		t.Errorf("eval at steps 1, 5 = %v, %v", e[1], e[5])
	}
	if len(run.Issues) != 0 {
		t.Errorf("issues: %v", run.Issues)
	}
}

func TestVerlConsoleOldKeys(t *testing.T) {
	run, err := ingest.ReadFile(ingesttest.Testdata(t, "trainers", "verl_old_ppo.log"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Len() != 30 {
		t.Fatalf("rows = %d", run.Len())
	}
	// Old verl: entropy from actor/entropy_loss, KL from critic/kl, eval from val/.
	if e := h4Col(t, run, "entropy"); e[0] != 0.45 {
		t.Errorf("entropy = %v", e[0])
	}
	if k := h4Col(t, run, "kl"); k[10] != 0.1 {
		t.Errorf("kl = %v", k[10])
	}
	// Step lines at 9, 19, 29; the initial summary adds step 0; the final
	// one lands on step 29, where the step line's value wins.
	if v := h4Col(t, run, "eval.test_score/openai/gsm8k"); v[9] != 0.29 || v[0] != 0.15 || v[29] != 0.49 {
		t.Errorf("eval = %v", v)
	}
	if run.Has("clip_ratio") {
		t.Error("old logs have no clip_ratio")
	}
}

func TestVerlJSONL(t *testing.T) {
	run, err := ingest.ReadFile(ingesttest.Testdata(t, "trainers", "verl_metrics.jsonl"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Format != "verl-jsonl" || run.Len() != 20 || run.Grain != ingest.GrainStep {
		t.Fatalf("format %q rows %d grain %s", run.Format, run.Len(), run.Grain)
	}
	if v := h4Col(t, run, "eval.math/acc/mean@1"); v[4] != 0.45 {
		t.Errorf("eval = %v", v[4])
	}
	if v := h4Col(t, run, "reward"); math.Abs(v[0]-0.31) > 1e-12 {
		t.Errorf("reward = %v", v[0])
	}
}

func TestVerlBadLines(t *testing.T) {
	cases := []struct {
		name   string
		in     string
		rows   int
		issues []string
	}{
		{"bad value", "step:1 - critic/score/mean:0.5 - actor/entropy:abc\nstep:2 - critic/score/mean:0.6\n", 2,
			[]string{`log:1: field "actor/entropy": value "abc" is not a number (left missing)`}},
		{"no colon", "step:1 - critic/score/mean:0.5 - junk\nstep:2 - critic/score/mean:0.6\n", 2,
			[]string{`log:1: pair "junk" has no key:value (pair left out)`}},
		{"cut last line", "step:1 - critic/score/mean:0.5\nstep:2 - critic/score/mean:0.6 - actor/ent", 2, nil},
		{"same step merges", "step:3 - val/acc:0.2\nstep:3 - critic/score/mean:0.6\n", 1, nil},
		// Non-finite: the line is skipped when the reward is, the value
		// left missing when an extra metric is.
		{"nan and inf", "step:1 - critic/score/mean:nan - actor/entropy:0.1\nstep:2 - critic/score/mean:0.5 - actor/pg_loss:-inf\n", 1,
			[]string{`log:1: field "critic/score/mean": not a finite number: nan`, `log:2: field "actor/pg_loss": not a finite number: -inf (left missing)`}},
		{"boolean reward", "step:1 - critic/score/mean:True\nstep:2 - critic/score/mean:0.5 - actor/flag:True\n", 1,
			[]string{`log:1: field "critic/score/mean": want a number, got a boolean (True)`}},
		{"final summary", "step:1 - critic/score/mean:0.5\nstep:2 - critic/score/mean:0.6\n\"Final validation metrics: {'acc': 0.7, 'val/b': 0.25}\"\n", 2, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run, err := ingest.Read(strings.NewReader(c.in), "log", ingest.Options{Format: "verl"})
			if err != nil {
				t.Fatal(err)
			}
			if run.Len() != c.rows || len(run.Issues) != len(c.issues) {
				t.Fatalf("rows %d issues %v; want %d, %v", run.Len(), run.Issues, c.rows, c.issues)
			}
			for i, is := range c.issues {
				if run.Issues[i].Error() != is {
					t.Errorf("issue %q, want %q", run.Issues[i].Error(), is)
				}
			}
			if c.name == "final summary" {
				if a, b := h4Col(t, run, "eval.acc"), h4Col(t, run, "eval.b"); !math.IsNaN(a[0]) || a[1] != 0.7 || b[1] != 0.25 {
					t.Errorf("final summary: eval.acc %v eval.b %v", a, b)
				}
			}
			if len(c.issues) > 0 {
				if _, err := ingest.Read(strings.NewReader(c.in), "log", ingest.Options{Format: "verl", Strict: true}); !errors.Is(err, ingest.ErrStrict) {
					t.Errorf("strict: %v", err)
				}
			}
		})
	}
	if _, err := ingest.Read(strings.NewReader("hello\nworld\n"), "x.log", ingest.Options{Format: "verl"}); !errors.Is(err, ingest.ErrNotARun) {
		t.Errorf("no metric lines: err = %v, want ErrNotARun", err)
	}
}

func TestVerlJSONLBadLines(t *testing.T) {
	in := `{"step": 1, "data": {"critic/score/mean": 0.5}}
not json
{"step": "x", "data": {}}
{"step": 2}
{"step": 3, "data": {"critic/score/mean": [1]}}
{"step": 4, "data": {"critic/score/mean": 0.9, "val/gen": "text"}}
{"step": 5, "data": {"critic/sc`
	run, err := ingest.Read(strings.NewReader(in), "m.jsonl", ingest.Options{Format: "verl-jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	// The cut last line is reported too (a live log read by Follow is not).
	if run.Len() != 3 || run.Skipped != 4 || len(run.Issues) != 5 {
		t.Fatalf("rows %d skipped %d issues %v", run.Len(), run.Skipped, run.Issues)
	}
	if !strings.HasPrefix(run.Issues[0].Error(), "m.jsonl:2: ") {
		t.Errorf("first issue %q", run.Issues[0].Error())
	}
}

func FuzzVerl(f *testing.F) {
	f.Add([]byte("\x1b[36m(TaskRunner pid=1)\x1b[0m step:1 - critic/score/mean:0.5 - val-core/a/b:0.2\n"))
	f.Add([]byte("step:99999999999999999999999 - a:1\nstep:2 - :3 - b:: - c:tensor(0.5, device='cuda:0')\n"))
	f.Add([]byte("step:1 - critic/score/mean:0.5\n\"Final validation metrics: {'val/acc': 0.7, 'x': nan}\"\nInitial validation metrics: {}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		run, err := ingest.Read(strings.NewReader(string(b)), "f.log", ingest.Options{Format: "verl"})
		if err == nil {
			h4CheckRun(t, run)
		}
	})
}

func FuzzVerlJSONL(f *testing.F) {
	f.Add([]byte(`{"step": 1, "data": {"critic/score/mean": 0.5, "x": {"y": NaN}}}` + "\n"))
	f.Add([]byte(`{"step": 1e400, "data": {}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		run, err := ingest.Read(strings.NewReader(string(b)), "f.jsonl", ingest.Options{Format: "verl-jsonl"})
		if err == nil {
			h4CheckRun(t, run)
		}
	})
}

// A gzipped trainer log reads the same as the plain one, and a gzip stream
// cut short keeps the lines before the cut with a clear issue or error.
func TestTrainerLogsGzip(t *testing.T) {
	for _, f := range []string{"verl_console.log", "trl_grpo_collapse.json", "monitor.csv", "small.tfevents"} {
		plain, err := os.ReadFile(ingesttest.Testdata(t, "trainers", f))
		if err != nil {
			t.Fatal(err)
		}
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		w.Write(plain)
		w.Close()
		a, err := ingest.Read(bytes.NewReader(plain), f, ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := ingest.Read(bytes.NewReader(gz.Bytes()), f+".gz", ingest.Options{})
		if err != nil {
			t.Fatalf("%s.gz: %v", f, err)
		}
		if a.Format != b.Format || a.Len() != b.Len() || strings.Join(a.Columns(), ",") != strings.Join(b.Columns(), ",") {
			t.Errorf("%s: plain %s/%d rows, gzip %s/%d rows", f, a.Format, a.Len(), b.Format, b.Len())
		}
		// Truncated gzip: never a panic; either an error or fewer rows with an issue.
		cut, err := ingest.Read(bytes.NewReader(gz.Bytes()[:gz.Len()*2/3]), f+".gz", ingest.Options{})
		if err == nil && cut.Len() >= a.Len() && len(cut.Issues) == 0 {
			t.Errorf("%s: truncated gzip read silently as %d rows", f, cut.Len())
		}
	}
}

func BenchmarkVerlConsole(b *testing.B) {
	path := ingesttest.RealData(b, "yushengsu-thu__verl_training_log", "gsm8k__ppo_run_deepseek7b_llm.log")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ingest.Read(bytes.NewReader(data), "log", ingest.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// --map works on the trainer formats too: Map[target] = source key.
func TestTrainerFormatsMap(t *testing.T) {
	cases := []struct {
		file   string
		m      map[string]string
		col    string
		row    int
		want   float64
		moved  string // where the previous target column went
		errSub string
	}{
		{"verl_console.log", map[string]string{"reward": "critic/rewards/mean"}, "reward", 1, 0.51, "extra.critic/score/mean", ""},
		{"verl_metrics.jsonl", map[string]string{"length": "actor/entropy"}, "length", 0, 0.4, "extra.response_length/mean", ""},
		{"trl_grpo_collapse.json", map[string]string{"reward": "rewards/accuracy/mean"}, "reward", 0, 0.2094, "extra.reward", ""},
		{"monitor.csv", map[string]string{"reward": "episode_energy"}, "reward", 0, 3, "extra.r", ""},
		{"small.tfevents", map[string]string{"kl": "extra.actor/lr(1e-4)"}, "kl", 0, 0.01, "", ""},
		{"verl_console.log", map[string]string{"reward": "critic/no_such"}, "", 0, 0, "", `no key "critic/no_such"`},
	}
	for _, c := range cases {
		run, err := ingest.ReadFile(ingesttest.Testdata(t, "trainers", c.file), ingest.Options{Map: c.m})
		if c.errSub != "" {
			if err == nil || !strings.Contains(err.Error(), c.errSub) {
				t.Errorf("%s: err %v, want %q", c.file, err, c.errSub)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if v := h4Col(t, run, c.col); math.Abs(v[c.row]-c.want) > 1e-12 {
			t.Errorf("%s: %s[%d] = %v, want %v", c.file, c.col, c.row, v[c.row], c.want)
		}
		if c.moved != "" && !run.Has(c.moved) {
			t.Errorf("%s: previous column not kept as %s (have %v)", c.file, c.moved, run.Columns())
		}
	}
}
