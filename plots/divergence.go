package plots

import (
	"fmt"

	"gonum.org/v1/plot/vg/draw"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// maxEvalPanels caps the eval metrics drawn by Divergence; the rest are
// named in the notes.
const maxEvalPanels = 4

// Divergence draws training reward against held-out metrics (Gao et al.
// 2022: the proxy keeps rising while the true objective stalls or falls).
// The top panel is the rolling mean of the train reward; below it one panel
// per eval.* metric (at most 4), drawn at the steps where it was logged.
// The divergence detector's flagged range is shaded in every panel.
// ErrNotApplicable when the run has no reward or no eval metric.
func Divergence(run *ingest.Run, rep *analysis.Report, opt Options) (*Figure, error) {
	evals := run.EvalMetrics()
	y, ok := run.Column(ingest.ColReward)
	if !ok || len(evals) == 0 {
		return nil, fmt.Errorf("divergence: %w: the run has no reward or no eval.* held-out metric", ErrNotApplicable)
	}
	x, xlabel := xAxis(run)
	w := opt.window(run)
	spans := detectorRanges(rep, "divergence")
	f := &Figure{Kind: "divergence", Title: "Train reward vs held-out metrics"}
	shade := func(pa *Panel) {
		if len(spans) > 0 {
			sp := &Spans{Ranges: spans, Color: Fade(Vermillion, 0.13)}
			pa.Plot.Add(sp)
			pa.legendOnly("flagged range", sp)
		}
	}
	top := newPanel("Train reward", xlabel, "reward (rolling mean)")
	shade(top)
	mean, _ := Rolling(y, w)
	d := Downsample(x, mean, opt.Buckets)
	top.add(fmt.Sprintf("train reward (W=%d)", w), NewLine(d.X, d.Mean, Blue))
	f.Panels = append(f.Panels, top)
	for i, e := range evals {
		if i == maxEvalPanels {
			f.Notes = append(f.Notes, fmt.Sprintf("%d more eval metrics not drawn: %v", len(evals)-i, evals[i:]))
			break
		}
		col, _ := run.Column(ingest.EvalPrefix + e)
		cx, cy := compact(x, col)
		pa := newPanel("Held-out: "+e, xlabel, shorten(e, 40))
		shade(pa)
		dd := Downsample(cx, cy, opt.Buckets)
		l := NewLine(dd.X, dd.Mean, Orange)
		m := NewMarkers(dd.X, dd.Mean, Orange)
		m.Radius = 2
		m.Shape = draw.CircleGlyph{}
		pa.add("eval."+e, l, m)
		f.Panels = append(f.Panels, pa)
	}
	return f, nil
}
