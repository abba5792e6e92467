package plots

import (
	"fmt"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
)

// sweepOf audits n synthetic runs (every third one hacked) and builds the
// sweep view with their curves.
func sweepOf(t *testing.T, n int) *SweepView {
	t.Helper()
	v := &SweepView{}
	for i := range n {
		run := synthRun(400, i%3 == 0)
		run.Source = fmt.Sprintf("sweep/seed%03d/run.jsonl", i)
		rep, err := analysis.Audit(run, analysis.Config{})
		if err != nil {
			t.Fatal(err)
		}
		v.Rows = append(v.Rows, analysis.SweepRowOf(run.Source, run, rep, analysis.Config{}))
		v.Curves = append(v.Curves, SweepCurveOf(run.Source, run, rep, analysis.HeldOutMetric(run, analysis.Config{}), 0))
	}
	analysis.FinishSweep(v.Rows)
	return v
}

func TestSweepFiguresHighlightFlagged(t *testing.T) {
	v := sweepOf(t, 30)
	flagged := 0
	for i := range v.Curves {
		// The synthetic runs all raise something; choose which count as
		// flagged so both kinds are drawn.
		v.Curves[i].Flagged = i%3 == 0
		if v.Curves[i].Flagged {
			flagged++
		}
	}
	if flagged == 0 || flagged == len(v.Curves) {
		t.Fatalf("%d of %d runs flagged; the test needs both kinds", flagged, len(v.Curves))
	}
	figs := SweepFigures(v)
	if len(figs) == 0 || figs[0].Kind != "sweep-reward" {
		t.Fatalf("figures: %v", figs)
	}
	for _, f := range figs {
		for _, pa := range f.Panels {
			// At most maxHighlighted named runs, one "more flagged" entry
			// and one grey entry: the legend stays short for any sweep.
			if len(pa.Series) > maxHighlighted+2 {
				t.Errorf("%s: %d legend entries: %v", f.Kind, len(pa.Series), pa.Series)
			}
			last := pa.Series[len(pa.Series)-1]
			if want := fmt.Sprintf("%d runs not flagged", len(v.Curves)-flagged); last != want {
				t.Errorf("%s: last legend entry %q, want %q", f.Kind, last, want)
			}
			if flagged > maxHighlighted && !strings.Contains(strings.Join(pa.Series, "|"), fmt.Sprintf("%d more flagged runs", flagged-maxHighlighted)) {
				t.Errorf("%s: no 'more flagged' entry: %v", f.Kind, pa.Series)
			}
		}
	}
}

func TestSweepSectionHTML(t *testing.T) {
	v := sweepOf(t, 3)
	v.Rows[0].Headline = `<script>alert(1)</script>`
	r := &Report{Title: "t", Sweep: v}
	html, err := r.HTML()
	if err != nil {
		t.Fatal(err)
	}
	s := string(html)
	for _, want := range []string{"Sweep: 3 runs: ", `<td class="v-hacking">HACKING</td>`, "seed000/run.jsonl",
		"Reward of every run (rolling mean)", "<svg"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if bad := liveMarkup(s); len(bad) > 0 {
		t.Errorf("live markup from log text: %v", bad)
	}
	if strings.Contains(s, "Runs side by side") {
		t.Error("the sweep section replaces the side-by-side table")
	}
}

func TestProgressAxis(t *testing.T) {
	short := SweepCurve{RewardX: []float64{0, 10}, RewardY: []float64{1, 2}}
	long := SweepCurve{RewardX: []float64{0, 1000}, RewardY: []float64{1, 2}}
	get := func(c *SweepCurve) ([]float64, []float64) { return c.RewardX, c.RewardY }
	if !progressAxis([]SweepCurve{short, long}, get) {
		t.Error("steps 10 and 1000 should switch to progress")
	}
	if progressAxis([]SweepCurve{long, long}, get) {
		t.Error("equal step ranges keep the step axis")
	}
	if p := progress([]float64{5, 10, 15}); p[0] != 0 || p[1] != 50 || p[2] != 100 {
		t.Errorf("progress = %v", p)
	}
}
