package analysis_test

import (
	"math"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// h4Run builds a run of the given grain from columns (all the same length).
func h4Run(grain ingest.Grain, cols map[string][]float64) *ingest.Run {
	n := 0
	for _, c := range cols {
		n = len(c)
	}
	run := ingest.NewRun(n)
	run.Grain = grain
	for name, c := range cols {
		run.SetColumn(name, c)
	}
	return run
}

// h4Seq returns n values from f(i).
func h4Seq(n int, f func(i int) float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// h4Detector finds a registered detector by name.
func h4Detector(t testing.TB, name string) analysis.Detector {
	t.Helper()
	for _, d := range analysis.Registered() {
		if d.Name() == name {
			return d
		}
	}
	t.Fatalf("detector %q not registered", name)
	return nil
}

// h4Noise is a deterministic zero-mean wiggle in [-1, 1].
func h4Noise(i int) float64 { return math.Sin(float64(i) * 12.9898) }

func TestGroupSampleGrain(t *testing.T) {
	d := h4Detector(t, analysis.DetGroup)
	// 40 groups of 4 samples; groups 0..14 have spread, 15..39 are ties.
	var reward, group []float64
	for g := 0; g < 40; g++ {
		for k := 0; k < 4; k++ {
			r := 1.0
			if g < 15 {
				r = float64(k) / 3
			}
			reward = append(reward, r)
			group = append(group, float64(g))
		}
	}
	run := h4Run(ingest.GrainSample, map[string][]float64{"reward": reward, "group": group})
	if !d.Applies(run, analysis.Config{}) {
		t.Fatal("group should apply to a sample run with a group column")
	}
	res, alerts := d.Detect(run, analysis.Config{})
	// At group 40: 25 of 40 collapsed = 62.5% -> "62%" (half to even).
	if res.Status != analysis.StatusAlert || res.Message != "62% of recent groups have zero reward variance." {
		t.Fatalf("result %s %q", res.Status, res.Message)
	}
	if res.Evidence == nil || res.Evidence.Numbers["rate"] != 0.625 || res.Evidence.Numbers["collapsed"] != 25 {
		t.Errorf("evidence %+v", res.Evidence)
	}
	// First above 50%: after g groups, (g-15)/g > 0.5 -> g = 31 (16/31).
	if len(alerts) != 1 || alerts[0].Step != 31*4 || alerts[0].RunStep != 123 {
		t.Fatalf("alerts %+v", alerts)
	}
}

func TestGroupStepGrain(t *testing.T) {
	d := h4Detector(t, analysis.DetGroup)
	cases := []struct {
		name    string
		zs      []float64
		status  analysis.Status
		msg     string
		alertAt []float64 // run steps of alerts
	}{
		{"too short", h4Seq(19, func(int) float64 { return 1 }), analysis.StatusInsufficient, "Need 20 logged steps to judge group collapse, have 19.", nil},
		{"healthy", h4Seq(60, func(i int) float64 { return 0.1 }), analysis.StatusOK, "Groups keep reward variance.", nil},
		{"exactly half is ok", h4Seq(40, func(i int) float64 { return 0.5 }), analysis.StatusOK, "Groups keep reward variance.", nil},
		// (30*0.25 + (n-30))/n > 0.5 first at n = 46.
		{"collapse from step 31", h4Seq(60, func(i int) float64 {
			if i < 30 {
				return 0.25
			}
			return 1
		}), analysis.StatusAlert, "62% of recent groups have zero reward variance.", []float64{46}},
		// Collapse (alert at 20), recovery (30/60 = 0.5 is OK at step 60),
		// relapse: (30+k)/(90+k) > 0.5 first at k = 31, step 121.
		{"recovers and relapses", append(append(h4Seq(30, func(int) float64 { return 1 }), h4Seq(60, func(int) float64 { return 0 })...),
			h4Seq(100, func(int) float64 { return 1 })...), analysis.StatusAlert, "", []float64{20, 121}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			steps := h4Seq(len(c.zs), func(i int) float64 { return float64(i + 1) })
			run := h4Run(ingest.GrainStep, map[string][]float64{"step": steps, "reward": steps, "zero_std_frac": c.zs})
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

func TestGroupEvidence(t *testing.T) {
	d := h4Detector(t, analysis.DetGroup)
	zs := h4Seq(30, func(int) float64 { return 0.9 })
	steps := h4Seq(30, func(i int) float64 { return float64(5 * (i + 1)) })
	run := h4Run(ingest.GrainStep, map[string][]float64{"step": steps, "reward": steps, "zero_std_frac": zs})
	res, _ := d.Detect(run, analysis.Config{})
	ev := res.Evidence
	if ev.FromStep != 5 || ev.ToStep != 150 || ev.FromRecord != 1 || ev.ToRecord != 30 || !strings.Contains(ev.Reason, "90%") {
		t.Errorf("evidence %+v", ev)
	}
}
