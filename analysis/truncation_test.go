package analysis_test

import (
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

func TestTruncation(t *testing.T) {
	d := h4Detector(t, analysis.DetTruncation)
	// 40 step rows -> WindowFor W = 10 -> k = 5; judged from the 10th value.
	cases := []struct {
		name    string
		clip    func(i int) float64
		n       int
		status  analysis.Status
		msg     string
		alertAt []float64
	}{
		{"short", func(int) float64 { return 1 }, 9, analysis.StatusInsufficient, "Need 10 logged clip ratios to judge truncation, have 9.", nil},
		{"flat low", func(i int) float64 { return 0.02 + 0.01*h4Noise(i) }, 40, analysis.StatusOK, "Few completions hit the max length.", nil},
		// High but not climbing and below 0.9: a model whose budget is tight
		// from the start is reported only once pinned.
		{"steady 0.6", func(int) float64 { return 0.6 }, 40, analysis.StatusOK, "Few completions hit the max length.", nil},
		{"pinned from the start", func(int) float64 { return 0.95 }, 40, analysis.StatusAlert,
			"95% of completions hit the max length (clip ratio 95% at the start).", []float64{10}},
		// 0 until row 20, then 0.25: WARNING once the 5-row window's mean
		// reaches 0.25 (row 24, step 25).
		{"climb to 0.25", func(i int) float64 {
			if i < 20 {
				return 0
			}
			return 0.25
		}, 40, analysis.StatusWarning, "Clip ratio climbing: 25% of completions truncated (from 0%).", []float64{25}},
		// Ramp c_i = i/39, base 2/39, cur = (i-2)/39: WARNING at i = 12
		// (cur >= 0.25), ALERT at i = 22 (cur >= 0.5, rise >= 0.3).
		{"ramp", func(i int) float64 { return float64(i) / 39 }, 40, analysis.StatusAlert, "", []float64{13, 23}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			steps := h4Seq(c.n, func(i int) float64 { return float64(i + 1) })
			run := h4Run(ingest.GrainStep, map[string][]float64{"step": steps, "reward": steps, "clip_ratio": h4Seq(c.n, c.clip)})
			if c.n == 9 {
				// A 9-row run still gets W = 10, k = 5.
				run.SetLen(9)
			}
			res, alerts := d.Detect(run, analysis.Config{})
			if res.Status != c.status || (c.msg != "" && res.Message != c.msg) {
				t.Fatalf("result %s %q", res.Status, res.Message)
			}
			var at []float64
			for _, a := range alerts {
				at = append(at, a.RunStep)
			}
			if len(at) != len(c.alertAt) {
				t.Fatalf("alerts at %v, want %v", at, c.alertAt)
			}
			for i := range at {
				if at[i] != c.alertAt[i] {
					t.Errorf("alerts at %v, want %v", at, c.alertAt)
				}
			}
		})
	}
}

func TestTruncationApplies(t *testing.T) {
	d := h4Detector(t, analysis.DetTruncation)
	if d.Applies(h4Run(ingest.GrainStep, map[string][]float64{"reward": {1}}), analysis.Config{}) {
		t.Error("applies without clip_ratio")
	}
}
