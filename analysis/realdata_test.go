package analysis_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

func TestRealDataDumpDetectors(t *testing.T) {
	if os.Getenv("H4DUMP") == "" {
		t.Skip()
	}
	dir := ingesttest.RealData(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*"))
	for _, f := range files {
		opt := ingest.Options{}
		if filepath.Base(f) == "results__baseline__metrics.jsonl" {
			opt.Map = map[string]string{"reward": "train_reward", "reward_std": "train_reward_std"}
		}
		run, err := ingest.ReadFile(f, opt)
		if err != nil {
			t.Logf("%s ERR %v", f, err)
			continue
		}
		t.Logf("== %s (%s, %d rows)", filepath.Base(f), run.Grain, run.Len())
		for _, d := range analysis.Registered() {
			if !d.Applies(run, analysis.Config{}) {
				continue
			}
			res, alerts := d.Detect(run, analysis.Config{})
			t.Logf("  %s: %s %s", d.Name(), res.Status, res.Message)
			if res.Evidence != nil {
				t.Logf("     ev: %s", res.Evidence.Reason)
			}
			for _, a := range alerts {
				t.Logf("     alert step=%d run_step=%v %s %s", a.Step, a.RunStep, a.Status, a.Message)
			}
		}
		if rep, err := analysis.Audit(run, analysis.Config{}); err == nil {
			t.Logf("  AUDIT verdict=%s exit=%d", rep.Verdict, rep.ExitCode)
			for _, d := range rep.Detectors {
				t.Logf("    %s %s %s", d.Name, d.Status, d.Message)
			}
		} else {
			t.Logf("  AUDIT err %v", err)
		}
	}
}
