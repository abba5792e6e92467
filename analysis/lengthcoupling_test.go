package analysis_test

import (
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

func TestLengthCouplingSteps(t *testing.T) {
	d := h4Detector(t, analysis.DetLengthCoupling)
	n := 100
	length := func(i int) float64 { return 200 + 3*float64(i) + 40*h4Noise(i) }
	cases := []struct {
		name   string
		l, r   func(i int) float64
		status analysis.Status
	}{
		// Reward is a function of length: every wiggle in length shows up in reward.
		{"reward buys length", length, func(i int) float64 { return 0.001*length(i) + 0.005*h4Noise(i+100) }, analysis.StatusAlert},
		// Both trend up, but length's wiggles do not move the reward: training
		// progress, not length, explains the gain.
		{"two independent trends", length, func(i int) float64 { return 0.2 + 0.004*float64(i) + 0.02*h4Noise(i+500) }, analysis.StatusOK},
		{"length shrinks", func(i int) float64 { return 300 - float64(i) + 10*h4Noise(i) },
			func(i int) float64 { return 0.2 + 0.004*float64(i) }, analysis.StatusOK},
		{"reward flat", length, func(i int) float64 { return 0.5 + 0.01*h4Noise(i+9) }, analysis.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := h4Run(ingest.GrainStep, map[string][]float64{"step": h4Seq(n, func(i int) float64 { return float64(i + 1) }),
				"reward": h4Seq(n, c.r), "length": h4Seq(n, c.l)})
			res, alerts := d.Detect(run, analysis.Config{})
			if res.Status != c.status {
				t.Fatalf("status %s %q %+v", res.Status, res.Message, res.Evidence)
			}
			if c.status.Actionable() {
				if len(alerts) != 1 || res.Evidence.Numbers["share"] < 0.8 {
					t.Errorf("alerts %+v evidence %+v", alerts, res.Evidence)
				}
				// Length reaches half its rise (about +150 tokens) near step 50.
				if a := alerts[0].RunStep; a < 30 || a > 60 {
					t.Errorf("alert at step %v", a)
				}
			} else if len(alerts) != 0 {
				t.Errorf("unexpected alerts %+v", alerts)
			}
		})
	}
	short := h4Run(ingest.GrainStep, map[string][]float64{"reward": {1, 2, 3}, "length": {1, 2, 3}})
	if res, _ := d.Detect(short, analysis.Config{}); res.Status != analysis.StatusInsufficient {
		t.Errorf("3 rows: %s", res.Status)
	}
}

func TestLengthCouplingSamples(t *testing.T) {
	d := h4Detector(t, analysis.DetLengthCoupling)
	n := 600
	// Lengths drift upward over the run with wide overlap between thirds.
	length := func(i int) float64 { return 100 + 0.2*float64(i) + 60*h4Noise(i) }
	cases := []struct {
		name   string
		r      func(i int) float64
		status analysis.Status
		share  float64 // minimum (actionable) or maximum (OK)
	}{
		{"reward is length", func(i int) float64 { return 0.004 * length(i) }, analysis.StatusAlert, 0.8},
		{"gain at equal length", func(i int) float64 { return 0.2 + 0.001*float64(i) + 0.05*h4Noise(i+77) }, analysis.StatusOK, 0.5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := h4Run(ingest.GrainSample, map[string][]float64{"reward": h4Seq(n, c.r), "length": h4Seq(n, length)})
			res, alerts := d.Detect(run, analysis.Config{})
			if res.Status != c.status {
				t.Fatalf("status %s %q %+v", res.Status, res.Message, res.Evidence)
			}
			share := res.Evidence.Numbers["share"]
			if c.status.Actionable() && (share < c.share || len(alerts) != 1) {
				t.Errorf("share %v alerts %d", share, len(alerts))
			}
			if !c.status.Actionable() && share >= c.share {
				t.Errorf("share %v", share)
			}
		})
	}
}

func TestLengthCouplingSkipsEpisodes(t *testing.T) {
	d := h4Detector(t, analysis.DetLengthCoupling)
	run := h4Run(ingest.GrainEpisode, map[string][]float64{"reward": {1, 2}, "length": {1, 2}})
	if d.Applies(run, analysis.Config{}) {
		t.Error("episode return grows with episode length by construction; must not apply")
	}
}

// Lengths that move so far that early and late answers never share a
// length bin fall back to the regression rule over record order.
func TestLengthCouplingNoOverlap(t *testing.T) {
	d := h4Detector(t, analysis.DetLengthCoupling)
	n := 600
	length := func(i int) float64 { return 100 + 3*float64(i) + 30*h4Noise(i) }
	run := h4Run(ingest.GrainCall, map[string][]float64{"length": h4Seq(n, length),
		"reward": h4Seq(n, func(i int) float64 { return 0.001*length(i) + 0.01*h4Noise(i+3) })})
	res, alerts := d.Detect(run, analysis.Config{})
	if res.Status != analysis.StatusAlert || len(alerts) != 1 || !strings.Contains(res.Evidence.Reason, "too few lengths") {
		t.Fatalf("%s %q %+v", res.Status, res.Message, res.Evidence)
	}
}

// Length rising in lockstep with training: the share is reported but not
// flagged, because length cannot be told apart from progress.
func TestLengthCouplingInconclusive(t *testing.T) {
	d := h4Detector(t, analysis.DetLengthCoupling)
	n := 100
	length := func(i int) float64 { return 200 + 5*float64(i) + 0.01*h4Noise(i) }
	run := h4Run(ingest.GrainStep, map[string][]float64{"step": h4Seq(n, func(i int) float64 { return float64(i) }),
		"length": h4Seq(n, length), "reward": h4Seq(n, func(i int) float64 { return 0.001*length(i) + 0.02*h4Noise(i+11) })})
	res, alerts := d.Detect(run, analysis.Config{})
	if res.Status != analysis.StatusOK || len(alerts) != 0 || !strings.Contains(res.Message, "cannot be separated") {
		t.Fatalf("%s %q %+v", res.Status, res.Message, res.Evidence)
	}
}
