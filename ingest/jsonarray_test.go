package ingest_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

func TestJSONArray(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "history.json")
	body := `[
  {"step": 1, "reward_mean": 0.1, "accuracy": 0.2},
  {"step": 2, "reward_mean": 0.3, "accuracy": 0.25},
  7,
  {"step": 3, "reward_mean": 0.5, "accuracy": 0.3}
]`
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	run, err := ingest.ReadFile(p, ingest.Options{Map: map[string]string{"reward": "reward_mean"}})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := run.Column(ingest.ColReward)
	if run.Format != "json-array" || run.Len() != 3 || r[2] != 0.5 {
		t.Errorf("format %q rows %d reward %v", run.Format, run.Len(), r)
	}
	if run.Skipped != 1 || len(run.Issues) != 1 || run.Issues[0].Line != 3 {
		t.Errorf("skipped %d issues %v", run.Skipped, run.Issues)
	}
	if _, err := ingest.ReadFile(p, ingest.Options{Strict: true, Map: map[string]string{"reward": "reward_mean"}}); !errors.Is(err, ingest.ErrStrict) {
		t.Errorf("strict: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`[{"a": 1}, {"b": `), 0o644)
	if _, err := ingest.ReadFile(bad, ingest.Options{}); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("cut array: %v", err)
	}
}

// A real custom GRPO trainer's history (tonywang1990/gsm8k-grpo, see
// testdata/publicruns/SOURCES.md): 50 steps, read without --map.
func TestJSONArrayRealHistory(t *testing.T) {
	p := ingesttest.Testdata(t, "publicruns", "tonywang1990__gsm8k-grpo", "runs__ablation__baseline__step_stat_history.json")
	run, err := ingest.ReadFile(p, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Format != "json-array" || run.Len() < 40 || !run.Has(ingest.ColReward) || len(run.Issues) != 0 {
		t.Errorf("format %q rows %d columns %v issues %v", run.Format, run.Len(), run.Columns(), run.Issues)
	}
}
