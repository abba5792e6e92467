package analysis_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// h4EvalRun: 51 step rows (steps 0..50), reward r(step), and an eval metric
// logged every 10 steps.
func h4EvalRun(name string, r func(s float64) float64, e func(s float64) float64) *ingest.Run {
	steps := h4Seq(51, func(i int) float64 { return float64(i) })
	ev := h4Seq(51, func(i int) float64 {
		if i%10 != 0 {
			return math.NaN()
		}
		return e(float64(i))
	})
	return h4Run(ingest.GrainStep, map[string][]float64{"step": steps,
		"reward": h4Seq(51, func(i int) float64 { return r(float64(i)) }), ingest.EvalPrefix + name: ev})
}

func TestDivergence(t *testing.T) {
	d := h4Detector(t, analysis.DetDivergence)
	rising := func(s float64) float64 { return 0.5 + 0.008*s + 0.01*h4Noise(int(s)) }
	cases := []struct {
		name    string
		run     *ingest.Run
		cfg     analysis.Config
		status  analysis.Status
		alertAt []float64
	}{
		{"loss rises with reward", h4EvalRun("loss", rising, func(s float64) float64 { return 1 + 0.01*s }),
			analysis.Config{}, analysis.StatusAlert, []float64{40}},
		{"accuracy flat", h4EvalRun("acc", rising, func(s float64) float64 { return 0.6 + 0.002*h4Noise(int(s)+3) }),
			analysis.Config{}, analysis.StatusWarning, []float64{40}},
		// Already at the best end of [0, 1]: it cannot rise, so no "flat".
		{"metric pinned at 1", h4EvalRun("distinct_2", rising, func(s float64) float64 { return 0.997 + 0.002*h4Noise(int(s)+5) }),
			analysis.Config{}, analysis.StatusOK, nil},
		{"accuracy keeps up", h4EvalRun("acc", rising, func(s float64) float64 { return 0.3 + 0.006*s + 0.005*h4Noise(int(s)) }),
			analysis.Config{}, analysis.StatusOK, nil},
		{"loss falls as it should", h4EvalRun("loss", rising, func(s float64) float64 { return 2 - 0.02*s }),
			analysis.Config{}, analysis.StatusOK, nil},
		{"train flat, eval falls", h4EvalRun("acc", func(s float64) float64 { return 0.5 + 0.01*h4Noise(int(s)) },
			func(s float64) float64 { return 0.9 - 0.01*s }), analysis.Config{}, analysis.StatusOK, nil},
		{"user says wer is lower-better", h4EvalRun("wer", rising, func(s float64) float64 { return 0.1 + 0.004*s }),
			analysis.Config{EvalLowerBetter: []string{"eval.wer"}}, analysis.StatusAlert, []float64{40}},
		{"wer without the flag reads as improving", h4EvalRun("wer", rising, func(s float64) float64 { return 0.1 + 0.004*s }),
			analysis.Config{}, analysis.StatusOK, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !d.Applies(c.run, c.cfg) {
				t.Fatal("does not apply")
			}
			res, alerts := d.Detect(c.run, c.cfg)
			if res.Status != c.status {
				t.Fatalf("status %s %q (%v)", res.Status, res.Message, res.Evidence)
			}
			if len(alerts) != len(c.alertAt) {
				t.Fatalf("alerts %+v, want at %v", alerts, c.alertAt)
			}
			for i, a := range alerts {
				if a.RunStep != c.alertAt[i] {
					t.Errorf("alert at %v, want %v", a.RunStep, c.alertAt[i])
				}
			}
		})
	}
}

// Exact numbers on a noiseless case: reward = 0.5 + 0.01 s, loss = 1 + 0.02 s.
func TestDivergenceEvidence(t *testing.T) {
	d := h4Detector(t, analysis.DetDivergence)
	run := h4EvalRun("loss", func(s float64) float64 { return 0.5 + 0.01*s }, func(s float64) float64 { return 1 + 0.02*s })
	res, _ := d.Detect(run, analysis.Config{})
	ev := res.Evidence
	want := map[string]float64{"train_slope": 0.01, "train_fit_start": 0.5, "train_fit_end": 1.0,
		// Observed levels: means of the first and last 10 of 51 rewards
		// (steps 0-9 and 41-50), and of the first and last eval point.
		"train_start": 0.545, "train_end": 0.955,
		"eval_slope": 0.02, "eval_start": 1, "eval_end": 2, "eval_points": 6,
		// scale_r = max(|mean|, pstdev) = 0.75 over steps 0..50: gain 0.5/0.75.
		"train_gain_rel": 0.5 / 0.75,
		// y = -loss, mean -1.5: gain -1/1.5.
		"eval_gain_rel": -1 / 1.5}
	for k, w := range want {
		if g := ev.Numbers[k]; math.Abs(g-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
	if ev.FromStep != 0 || ev.ToStep != 50 || ev.FromRecord != 1 || ev.ToRecord != 51 {
		t.Errorf("range %+v", ev)
	}
	if res.Message != "Train reward rising while held-out 'loss' gets worse (1 -> 2)." {
		t.Errorf("message %q", res.Message)
	}
}

func TestDivergenceNotApplicable(t *testing.T) {
	d := h4Detector(t, analysis.DetDivergence)
	run := h4EvalRun("completion_tokens", func(s float64) float64 { return s }, func(s float64) float64 { return 40 - s/10 })
	if d.Applies(run, analysis.Config{}) {
		t.Error("a length metric is not a held-out quality metric")
	}
	short := h4EvalRun("acc", func(s float64) float64 { return s }, func(s float64) float64 { return 1 })
	ev, _ := short.Column("eval.acc")
	ev[40], ev[50] = math.NaN(), math.NaN() // 4 evaluations left
	if res, _ := d.Detect(short, analysis.Config{}); res.Status != analysis.StatusInsufficient {
		t.Errorf("4 evaluations: %s", res.Status)
	}
}

func TestEvalLowerIsBetter(t *testing.T) {
	for name, want := range map[string]bool{"loss": true, "val_loss": true, "perplexity": true, "ppl": true,
		"error_rate": true, "Perplexity": true, "acc": false, "test_score/openai/gsm8k": false, "wer": false} {
		if got := analysis.EvalLowerIsBetter(name, nil); got != want {
			t.Errorf("%s: %v", name, got)
		}
	}
	if !analysis.EvalLowerIsBetter("wer", []string{"wer"}) {
		t.Error("user list")
	}
}

// BenchmarkBatchDetectors runs the five batch detectors of this file set on
// a 10,000-step run with every column they read.
func BenchmarkBatchDetectors(b *testing.B) {
	n := 10_000
	steps := h4Seq(n, func(i int) float64 { return float64(i) })
	run := h4Run(ingest.GrainStep, map[string][]float64{
		"step":          steps,
		"reward":        h4Seq(n, func(i int) float64 { return 0.5 + 0.00003*float64(i) + 0.05*h4Noise(i) }),
		"length":        h4Seq(n, func(i int) float64 { return 200 + 20*h4Noise(i+1) }),
		"clip_ratio":    h4Seq(n, func(i int) float64 { return 0.01 }),
		"zero_std_frac": h4Seq(n, func(i int) float64 { return 0.2 }),
		"component.a":   h4Seq(n, func(i int) float64 { return 0.5 }),
		"component.b":   h4Seq(n, func(i int) float64 { return 0 }),
		"eval.acc": h4Seq(n, func(i int) float64 {
			if i%100 != 0 {
				return math.NaN()
			}
			return 0.6
		}),
	})
	var dets []analysis.Detector
	for _, name := range []string{analysis.DetGroup, analysis.DetDivergence, analysis.DetLengthCoupling, analysis.DetTruncation, analysis.DetDeadComponent} {
		dets = append(dets, h4Detector(b, name))
	}
	for b.Loop() {
		for _, d := range dets {
			d.Detect(run, analysis.Config{})
		}
	}
}

// Held-out metrics whose names say loss, perplexity or error count as
// lower-is-better; others can be declared with Config.EvalLowerBetter
// (reportgen audit --eval-lower-better wer).
func ExampleEvalLowerIsBetter() {
	fmt.Println(analysis.EvalLowerIsBetter("perplexity", nil))
	fmt.Println(analysis.EvalLowerIsBetter("test_score/openai/gsm8k", nil))
	fmt.Println(analysis.EvalLowerIsBetter("wer", []string{"wer"}))
	// Output:
	// true
	// false
	// true
}
