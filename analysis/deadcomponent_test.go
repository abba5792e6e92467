package analysis_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

func TestDeadComponent(t *testing.T) {
	d := h4Detector(t, analysis.DetDeadComponent)
	n := 40
	live := h4Seq(n, func(i int) float64 { return 0.8 + 0.1*h4Noise(i) })
	cases := []struct {
		name    string
		comps   map[string][]float64
		status  analysis.Status
		msg     string
		alertAt []float64
	}{
		{"all live", map[string][]float64{"a": live, "b": h4Seq(n, func(i int) float64 { return 0.3 + 0.1*h4Noise(i+7) })},
			analysis.StatusOK, "Every reward component contributes.", nil},
		{"zero whole run", map[string][]float64{"a": live, "fmt": h4Seq(n, func(int) float64 { return 0 })},
			analysis.StatusWarning, "Component 'fmt' is ~0 for the whole run.", []float64{1}},
		// Tiny values below 1e-3 of the largest component count as ~0.
		{"tiny whole run", map[string][]float64{"a": live, "fmt": h4Seq(n, func(int) float64 { return 1e-4 })},
			analysis.StatusWarning, "Component 'fmt' is ~0 for the whole run.", []float64{1}},
		// One blip in 40 (2.5% <= 5%) still counts as dead for a reward term.
		{"one blip", map[string][]float64{"a": live, "fmt": h4Seq(n, func(i int) float64 {
			if i == 7 {
				return 0.5
			}
			return 0
		})}, analysis.StatusWarning, "Component 'fmt' is ~0 for the whole run.", []float64{1}},
		{"dies at step 25", map[string][]float64{"a": live, "bonus": h4Seq(n, func(i int) float64 {
			if i < 24 {
				return 0.4
			}
			return 0
		})}, analysis.StatusWarning, "Component 'bonus' is ~0 from step 25 on.", []float64{25}},
		// A penalty that stops firing is the policy learning to avoid it.
		{"penalty stops", map[string][]float64{"a": live, "risk": h4Seq(n, func(i int) float64 {
			if i < 24 {
				return -0.4
			}
			return 0
		})}, analysis.StatusOK, "Every reward component contributes.", nil},
		{"rare penalty", map[string][]float64{"a": live, "risk": h4Seq(n, func(i int) float64 {
			if i == 3 {
				return -0.2
			}
			return 0
		})}, analysis.StatusOK, "Every reward component contributes.", nil},
		// Too short a dead tail: 3 of 40 values is under 20%.
		{"short tail", map[string][]float64{"a": live, "bonus": h4Seq(n, func(i int) float64 {
			if i < 37 {
				return 0.4
			}
			return 0
		})}, analysis.StatusOK, "Every reward component contributes.", nil},
		{"two dead", map[string][]float64{"a": live, "x": h4Seq(n, func(int) float64 { return 0 }), "y": h4Seq(n, func(i int) float64 {
			if i < 10 {
				return 1
			}
			return 0
		})}, analysis.StatusWarning, "2 components are ~0: x (whole run), y (from step 11).", []float64{1, 11}},
		{"total ignored", map[string][]float64{"a": live, "total": h4Seq(n, func(int) float64 { return 0 })},
			analysis.StatusOK, "Every reward component contributes.", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cols := map[string][]float64{"step": h4Seq(n, func(i int) float64 { return float64(i + 1) }), "reward": live}
			for k, v := range c.comps {
				cols[ingest.ComponentPrefix+k] = v
			}
			res, alerts := d.Detect(h4Run(ingest.GrainStep, cols), analysis.Config{})
			if res.Status != c.status || res.Message != c.msg {
				t.Fatalf("result %s %q", res.Status, res.Message)
			}
			if len(alerts) != len(c.alertAt) {
				t.Fatalf("alerts %+v, want at %v", alerts, c.alertAt)
			}
			for i, a := range alerts {
				if a.RunStep != c.alertAt[i] || a.Evidence == nil || a.Evidence.Reason == "" {
					t.Errorf("alert %d at %v (evidence %+v), want %v", i, a.RunStep, a.Evidence, c.alertAt[i])
				}
			}
		})
	}
}

// Four rows, all zero (the 5ivatej run's think_format reward): a short run
// is enough to see a term that never fires.
func TestDeadComponentShortRun(t *testing.T) {
	d := h4Detector(t, analysis.DetDeadComponent)
	run := h4Run(ingest.GrainStep, map[string][]float64{"step": {5, 10, 15, 20}, "reward": {0.2, 0.2, 0, 0.2},
		"component.acc": {0.2, 0.2, 0, 0.2}, "component.think": {0, 0, 0, 0}})
	res, alerts := d.Detect(run, analysis.Config{})
	if res.Status != analysis.StatusWarning || len(alerts) != 1 || alerts[0].RunStep != 5 {
		t.Fatalf("%s %q %+v", res.Status, res.Message, alerts)
	}
	run = h4Run(ingest.GrainStep, map[string][]float64{"reward": {0.2, 0.2}, "component.think": {0, 0}})
	if res, _ := d.Detect(run, analysis.Config{}); res.Status != analysis.StatusInsufficient {
		t.Errorf("2 values: %s", res.Status)
	}
}

// Odd runs never panic any batch detector, whether or not it applies, and
// give a status from the fixed set.
func TestBatchDetectorsOddRuns(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	runs := map[string]*ingest.Run{
		"empty":     ingest.NewRun(0),
		"one row":   h4Run(ingest.GrainStep, map[string][]float64{"reward": {1}, "length": {1}, "clip_ratio": {1}, "zero_std_frac": {1}, "component.a": {0}, "eval.acc": {1}}),
		"all NaN":   h4Run(ingest.GrainStep, map[string][]float64{"reward": h4Seq(50, func(int) float64 { return nan }), "length": h4Seq(50, func(int) float64 { return nan }), "clip_ratio": h4Seq(50, func(int) float64 { return nan }), "eval.acc": h4Seq(50, func(int) float64 { return nan })}),
		"infinite":  h4Run(ingest.GrainSample, map[string][]float64{"reward": h4Seq(200, func(i int) float64 { return []float64{inf, -inf, 1}[i%3] }), "length": h4Seq(200, func(i int) float64 { return float64(i) }), "group": h4Seq(200, func(i int) float64 { return float64(i / 4) })}),
		"constant":  h4Run(ingest.GrainStep, map[string][]float64{"step": h4Seq(50, func(int) float64 { return 7 }), "reward": h4Seq(50, func(int) float64 { return 1 }), "length": h4Seq(50, func(int) float64 { return 1 }), "eval.loss": h4Seq(50, func(int) float64 { return 1 }), "component.a": h4Seq(50, func(int) float64 { return 1 })}),
		"no reward": h4Run(ingest.GrainStep, map[string][]float64{"length": h4Seq(50, func(i int) float64 { return float64(i) }), "eval.acc": h4Seq(50, func(i int) float64 { return float64(i) })}),
	}
	valid := map[analysis.Status]bool{analysis.StatusOK: true, analysis.StatusWarning: true, analysis.StatusAlert: true,
		analysis.StatusInsufficient: true, analysis.StatusNotApplicable: true}
	for name, run := range runs {
		for _, det := range []string{analysis.DetGroup, analysis.DetDivergence, analysis.DetLengthCoupling, analysis.DetTruncation, analysis.DetDeadComponent} {
			d := h4Detector(t, det)
			d.Applies(run, analysis.Config{})
			res, alerts := d.Detect(run, analysis.Config{})
			if !valid[res.Status] {
				t.Errorf("%s/%s: status %q", name, det, res.Status)
			}
			if _, err := json.Marshal(res.Evidence); err != nil {
				t.Errorf("%s/%s: evidence does not marshal: %v", name, det, err)
			}
			for _, a := range alerts {
				if !a.Status.Actionable() || a.Detector != det {
					t.Errorf("%s/%s: alert %+v", name, det, a)
				}
			}
		}
	}
}
