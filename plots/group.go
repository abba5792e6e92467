package plots

import (
	"fmt"
	"math"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// groupWindow is the group-collapse detector's window of recent groups
// (the group detector's rule).
const groupWindow = 500

// GroupCollapseRate returns, for a sample-grain run with a group column,
// one point per GRPO group (consecutive rows with the same group id), at
// the x of its last row: the percentage of the last min(500, groups so far)
// groups whose rewards have population std < 1e-6. A group's NaN rewards
// are ignored; a group with no reward is not counted.
func GroupCollapseRate(run *ingest.Run, x []float64) (gx, rate []float64) {
	g, ok := run.Column(ingest.ColGroup)
	r, ok2 := run.Column(ingest.ColReward)
	if !ok || !ok2 {
		return nil, nil
	}
	var hist []bool
	collapsed := 0
	start := 0
	flush := func(from, to int) {
		var s, s2 float64
		c := 0
		for i := from; i < to; i++ {
			if finite(r[i]) {
				s += r[i]
				c++
			}
		}
		if c == 0 {
			return
		}
		m := s / float64(c)
		for i := from; i < to; i++ {
			if finite(r[i]) {
				s2 += (r[i] - m) * (r[i] - m)
			}
		}
		col := math.Sqrt(s2/float64(c)) < 1e-6
		hist = append(hist, col)
		if col {
			collapsed++
		}
		if len(hist) > groupWindow {
			if hist[len(hist)-groupWindow-1] {
				collapsed--
			}
		}
		gx = append(gx, x[to-1])
		rate = append(rate, 100*float64(collapsed)/float64(min(len(hist), groupWindow)))
	}
	for i := 1; i <= len(g); i++ {
		if i == len(g) || !(g[i] == g[i-1] || (math.IsNaN(g[i]) && math.IsNaN(g[i-1]))) {
			flush(start, i)
			start = i
		}
	}
	return gx, rate
}

// GroupCollapse draws the GRPO group-collapse rate: for sample-grain runs
// with a group column, the share of the last 500 groups whose rewards do
// not vary (GroupCollapseRate); for step-grain runs with zero_std_frac, the
// logged fraction of zero-variance groups and its running mean over the
// last min(500, n) steps. The detector's 50% alert line is drawn and its
// flagged ranges are shaded (one covering 90% or more of the plot is named
// in a note instead).
// ErrNotApplicable when the run has neither column.
func GroupCollapse(run *ingest.Run, rep *analysis.Report, opt Options) (*Figure, error) {
	x, xlabel := xAxis(run)
	f := &Figure{Kind: "group", Title: "GRPO groups with zero reward variance"}
	pa := newPanel("", xlabel, "groups with zero variance (%)")
	switch {
	case run.Has(ingest.ColGroup) && run.Has(ingest.ColReward):
		gx, rate := GroupCollapseRate(run, x)
		if len(gx) == 0 {
			return nil, fmt.Errorf("group: %w: no group has a reward", ErrNotApplicable)
		}
		d := Downsample(gx, rate, opt.Buckets)
		pa.add(fmt.Sprintf("collapsed, last %d groups", groupWindow), NewLine(d.X, d.Mean, Vermillion))
		f.Notes = append(f.Notes, fmt.Sprintf("%d groups; a group is collapsed when its rewards have std < 1e-6 (no learning signal for GRPO).", len(gx)))
	case run.Has(ingest.ColZeroStdFrac):
		z, _ := run.Column(ingest.ColZeroStdFrac)
		pct := make([]float64, len(z))
		for i, v := range z {
			pct[i] = 100 * v
		}
		cx, cy := compact(x, pct)
		if len(cx) == 0 {
			return nil, fmt.Errorf("group: %w: zero_std_frac has no values", ErrNotApplicable)
		}
		raw := Downsample(cx, cy, opt.Buckets)
		pa.add("logged per step", &Line{X: raw.X, Y: raw.Mean, LineStyle: thin(Fade(Vermillion, 0.45))})
		run := make([]float64, len(cy))
		s := 0.0
		for i, v := range cy {
			s += v
			if i >= groupWindow {
				s -= cy[i-groupWindow]
			}
			run[i] = s / float64(min(i+1, groupWindow))
		}
		d := Downsample(cx, run, opt.Buckets)
		pa.add("running mean (last ≤500)", NewLine(d.X, d.Mean, Vermillion))
	default:
		return nil, fmt.Errorf("group: %w: the run has no group or zero_std_frac column", ErrNotApplicable)
	}
	pa.add("alert above 50%", NewHLine(50, Black))
	pa.Plot.Y.Min, pa.Plot.Y.Max = 0, 100
	f.Panels = []*Panel{pa}
	if x, _ := xAxis(run); len(x) > 0 {
		lo, hi := span(x)
		spans, notes := localSpans(detectorRanges(rep, "group"), lo, hi, "group collapse", pa.Plot.X.Label.Text)
		f.Notes = append(f.Notes, notes...)
		if len(spans) > 0 {
			sp := &Spans{Ranges: spans, Color: Fade(Vermillion, 0.13)}
			pa.Plot.Add(sp)
			pa.legendOnly("flagged range", sp)
		}
	}
	return f, nil
}
