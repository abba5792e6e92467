package analysis

import (
	"math"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
)

// fgRun builds a 40-step run whose components follow the given functions
// of the step (plus a small deterministic wiggle), reward = their sum.
func fgRun(comps map[string]func(s float64) float64) *ingest.Run {
	const n = 40
	run := ingest.NewRun(n)
	run.Grain = ingest.GrainStep
	steps := make([]float64, n)
	reward := make([]float64, n)
	for name, f := range comps {
		c := make([]float64, n)
		for i := range c {
			s := float64(i + 1)
			c[i] = f(s) + 0.01*math.Sin(float64(i)*1.7+float64(len(name)))
			reward[i] += c[i]
		}
		run.SetColumn(ingest.ComponentPrefix+name, c)
	}
	for i := range steps {
		steps[i] = float64(i + 1)
	}
	run.SetColumn(ingest.ColStep, steps)
	run.SetColumn(ingest.ColReward, reward)
	return run
}

func TestFormatGain(t *testing.T) {
	flat := func(v float64) func(float64) float64 { return func(float64) float64 { return v } }
	rise := func(from, to float64) func(float64) float64 {
		return func(s float64) float64 { return from + (to-from)*(s-1)/39 }
	}
	cases := []struct {
		name  string
		comps map[string]func(float64) float64
		want  Status
	}{
		{"format carries, correctness flat", map[string]func(float64) float64{
			"correctness_reward_func": flat(0.05), "xmlcount_reward_func": rise(0.1, 0.45), "soft_format_reward_func": rise(0, 0.5)}, StatusAlert},
		{"format carries, correctness creeps", map[string]func(float64) float64{
			"correctness_reward_func": rise(0.05, 0.12), "soft_format_reward_func": rise(0, 0.5)}, StatusWarning},
		{"correctness rises with format", map[string]func(float64) float64{
			"correctness_reward_func": rise(0.1, 0.6), "soft_format_reward_func": rise(0, 0.5)}, StatusOK},
		{"reward flat", map[string]func(float64) float64{
			"accuracy_reward": flat(0.3), "format_reward": flat(0.8)}, StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := fgRun(c.comps)
			d := formatGainDetector{}
			if !d.Applies(run, Config{}) {
				t.Fatal("does not apply")
			}
			res, alerts := d.Detect(run, Config{})
			if res.Status != c.want {
				t.Fatalf("status %s, want %s (%s)", res.Status, c.want, res.Evidence.Reason)
			}
			if res.Status.Actionable() {
				if res.Class != ClassHacking || len(alerts) != 1 || alerts[0].RunStep != 40 {
					t.Errorf("class %q alerts %+v", res.Class, alerts)
				}
			} else if len(alerts) != 0 {
				t.Errorf("alerts on OK: %+v", alerts)
			}
		})
	}
}

func TestFormatGainAppliesAndInsufficient(t *testing.T) {
	run := fgRun(map[string]func(float64) float64{"format_reward": func(s float64) float64 { return s }})
	if (formatGainDetector{}).Applies(run, Config{}) {
		t.Error("applies without a correctness component")
	}
	short := ingest.NewRun(5)
	short.SetColumn(ingest.ColReward, []float64{1, 2, 3, 4, 5})
	short.SetColumn(ingest.ComponentPrefix+"correct", []float64{0, 0, 0, 0, 0})
	short.SetColumn(ingest.ComponentPrefix+"format", []float64{1, 2, 3, 4, 5})
	if res, _ := (formatGainDetector{}).Detect(short, Config{}); res.Status != StatusInsufficient {
		t.Errorf("5 rows: %s", res.Status)
	}
	for name, want := range map[string]bool{"correctness_reward_func": true, "accuracy_reward": true, "mc_answer": true,
		"pass@1": true, "format_reward": false, "xmlcount_reward_func": false, "think_format_reward": false} {
		if IsGoldComponent(name) != want {
			t.Errorf("IsGoldComponent(%q) = %v", name, !want)
		}
	}
}
