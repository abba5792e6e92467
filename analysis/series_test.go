package analysis_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// Helpers for the no_learning, collapse, preference, saturation and
// length_explosion tests.

// h6Steps returns n step values 0..n-1.
func h6Steps(n int) []float64 { return h4Seq(n, func(i int) float64 { return float64(i) }) }

// h6Blocks returns the values v[0] repeated w times, then v[1] w times...
func h6Blocks(w int, v ...float64) []float64 {
	var out []float64
	for _, x := range v {
		for range w {
			out = append(out, x)
		}
	}
	return out
}

// h6RewardRun is a run of the given grain with step 0..n-1 and reward r.
func h6RewardRun(grain ingest.Grain, r []float64) *ingest.Run {
	return h4Run(grain, map[string][]float64{"step": h6Steps(len(r)), "reward": r})
}

// h6Real reads a file of ../shared/realdata; it skips when the folder is
// absent, and when today's ingest cannot read the file or finds no reward
// in it (readers for some formats are still being written).
func h6Real(t *testing.T, file string, opt ingest.Options) *ingest.Run {
	t.Helper()
	path := ingesttest.RealData(t, filepath.FromSlash(file))
	run, err := ingest.ReadFile(path, opt)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		t.Skipf("ingest cannot read %s yet: %v", file, err)
	}
	if !run.Has(ingest.ColReward) && !run.Has(ingest.ColMargin) && !run.Has("component.margins") {
		t.Skipf("ingest finds no reward in %s yet", file)
	}
	return run
}

// h6Pref maps TRL's DPO keys, read today as component.* columns, to the
// preference columns (until ingest does it).
func h6Pref(run *ingest.Run) *ingest.Run {
	for from, to := range map[string]string{"component.chosen": ingest.ColChosen, "component.rejected": ingest.ColRejected,
		"component.margins": ingest.ColMargin, "component.accuracies": ingest.ColPrefAccuracy} {
		if c, ok := run.Column(from); ok && !run.Has(to) {
			run.SetColumn(to, c)
		}
	}
	return run
}

// h6Check runs detector name on run and checks status and class.
func h6Check(t *testing.T, name string, run *ingest.Run, cfg analysis.Config, st analysis.Status, class analysis.Class) (analysis.Result, []analysis.Alert) {
	t.Helper()
	d := h4Detector(t, name)
	if !d.Applies(run, cfg) {
		t.Fatalf("%s does not apply", name)
	}
	res, alerts := d.Detect(run, cfg)
	if res.Status != st || res.Class != class {
		var reason string
		if res.Evidence != nil {
			reason = res.Evidence.Reason
		}
		t.Fatalf("%s: %s %q %q (%s), want %s %q", name, res.Status, res.Class, res.Message, reason, st, class)
	}
	if st.Actionable() && (len(alerts) == 0 || alerts[0].Evidence == nil || alerts[0].Evidence.Reason == "") {
		t.Errorf("%s: actionable without an alert with evidence: %+v", name, alerts)
	}
	if !st.Actionable() && len(alerts) > 0 {
		t.Errorf("%s: %s with alerts %+v", name, st, alerts)
	}
	return res, alerts
}

// h6Num checks evidence numbers to 1e-9.
func h6Num(t *testing.T, res analysis.Result, want map[string]float64) {
	t.Helper()
	if res.Evidence == nil {
		t.Fatal("no evidence")
	}
	for k, w := range want {
		if g, ok := res.Evidence.Numbers[k]; !ok || math.Abs(g-w) > 1e-9 {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
		}
	}
}
