package plots

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/<name>, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := ingesttest.Testdata(t, "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./plots -run %s -update to create it)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s differs from golden file %s:\n--- got\n%s\n--- want\n%s", t.Name(), path, got, want)
	}
}

// synthBalance is a hand-made balance view with one row per severity.
func synthBalance() *BalanceView {
	return &BalanceView{Records: 200, Severity: "critical", Rows: []BalanceRow{
		{Component: "format", Real: 92.5, Expected: 30, Difference: 62.5, Severity: "critical",
			Recommendation: "CRITICAL: Decrease weight by ~62.5%", Multiplier: 0.8},
		{Component: "length", Real: 4, Expected: 0, Difference: 4, Severity: "ok", Recommendation: "No action needed",
			Multiplier: 1, Unexpected: true},
		{Component: "task", Real: 3.5, Expected: 70, Difference: -66.5, Severity: "critical",
			Recommendation: "CRITICAL: Increase weight by ~66.5%", Multiplier: 5},
	}}
}

// synthSession is a small alignment session: ok, then warning, then
// critical with one correction.
func synthSession() *SessionView {
	s := &SessionView{Expected: map[string]float64{"task": 70, "format": 30}, BaselineSteps: 300,
		Threshold: map[string]float64{"": 2.5}}
	for i := 0; i < 10; i++ {
		p := SessionPoint{Step: 301 + i, Score: 0.9 - 0.09*float64(i), Flag: "ok",
			Ratios:  map[string]float64{"task": 70 - 5*float64(i), "format": 30 + 5*float64(i)},
			Z:       map[string]float64{"task": -0.7 * float64(i), "format": 0.7 * float64(i)},
			Weights: map[string]float64{"task": 1, "format": 1}}
		switch {
		case i >= 8:
			p.Flag = "critical"
		case i >= 4:
			p.Flag = "warning"
		}
		if i >= 9 {
			p.Weights["task"] = 1.4
			p.Corrected = []string{"task"}
		}
		s.Points = append(s.Points, p)
	}
	return s
}

// TestFigureStructure pins each figure's titles, axis labels, data ranges
// and series names on deterministic inputs.
func TestFigureStructure(t *testing.T) {
	run := synthRun(2000, true)
	rep := synthReport(2000)
	opt := Options{Expected: map[string]float64{"task": 0.7, "format": 0.3, "safety": 0.1}}
	opt.Config.MaxReward, opt.Config.HasMaxReward = 1.0, true
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) {
			f, err := FigureOf(kind, run, rep, synthBalance(), synthSession(), opt)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "plots_"+kind+".txt", f.Structure())
		})
	}
	t.Run("downsampled", func(t *testing.T) {
		f, err := Timeline(synthRun(5000, false), nil, Options{Buckets: 100})
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "plots_timeline_downsampled.txt", f.Structure())
	})
	t.Run("compare", func(t *testing.T) {
		f, err := Compare([]*RunReport{{Name: "hacked", Run: synthRun(800, true)}, {Name: "healthy", Run: synthRun(800, false)}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "plots_compare.txt", f.Structure())
	})
}
