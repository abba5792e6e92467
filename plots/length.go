package plots

import (
	"fmt"
	"math"
	"strings"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// lengthZ is the length detector's |z| threshold per sensitivity (the length detector's rule: |z| > 4/3/2 for low/medium/high).
func lengthZ(s analysis.Sensitivity) float64 {
	switch s {
	case analysis.SensitivityLow:
		return 4
	case analysis.SensitivityHigh:
		return 2
	}
	return 3
}

// Length draws the length column over the run: raw (faint), rolling mean
// over W, the baseline mean of the first W records and the drift threshold
// baseline ± t·std (t = 4/3/2 for low/medium/high sensitivity, the length
// detector's rule), with the length detector's alerts as a rug. Words and
// units follow the kind of run: "episode length (steps)" for classic RL,
// "response length (tokens)" otherwise. A length is never negative, so the
// axis starts at 0 or above (at 0 when the lowest value is below a quarter
// of the top) and a lower drift limit below 0 is not drawn (the legend says
// so). The run's maximum length is drawn when MaxLength
// finds it (named in the legend but not drawn when it is more than 1.5x
// the longest length, so the data is not squashed). When the run has
// clip_ratio, a second panel shows the share of completions cut at the
// maximum length (0–100%), with the truncation detector's alerts. ErrNotApplicable when neither column exists.
func Length(run *ingest.Run, rep *analysis.Report, opt Options) (*Figure, error) {
	ln, hasLen := run.Column(ingest.ColLength)
	clip, hasClip := run.Column(ingest.ColClipRatio)
	if (!hasLen && !hasClip) || run.Len() == 0 {
		return nil, fmt.Errorf("length: %w: the run has no length or clip_ratio column (map one with --map length=<key>)", ErrNotApplicable)
	}
	kind := kindOf(run, rep)
	x, xlabel := xAxisLazyKind(run, kind)
	w := opt.window(run)
	label := kind.LengthLabel()
	noun, _, _ := strings.Cut(label, " (")
	f := &Figure{Kind: "length", Title: upperFirst(noun)}
	if hasLen {
		pa := newPanel("", xlabel, label)
		if hasClip {
			pa.Plot.Title.Text = "Mean " + noun
		}
		f.Panels = append(f.Panels, pa)
		raw, mean, _, _ := RollingBands(x, ln, w, opt.Buckets)
		if raw.PerBucket == 1 {
			pa.add(noun, &Line{X: raw.X, Y: raw.Mean, LineStyle: thin(Fade(SkyBlue, 0.6))})
		} else {
			pa.add(noun+", bucket min–max", &Band{X: raw.X, Lo: raw.Min, Hi: raw.Max, Color: Fade(SkyBlue, 0.35)})
		}
		pa.add(fmt.Sprintf("rolling mean (W=%d)", w), NewLine(raw.X, mean, Blue))
		if bm, bs, ok := baseline(ln, w); ok {
			pa.add(fmt.Sprintf("baseline (first %d)", w), NewHLine(bm, Grey))
			if bs >= 1 {
				t := lengthZ(opt.Config.Sensitivity)
				if lo := bm - t*bs; lo > 0 {
					pa.add(fmt.Sprintf("drift limit (±%gσ)", t), NewHLine(bm+t*bs, Orange), NewHLine(lo, Orange))
				} else {
					pa.add(fmt.Sprintf("drift limit (+%gσ; −%gσ is below 0)", t, t), NewHLine(bm+t*bs, Orange))
				}
			}
		}
		if ml, src, ok := MaxLength(run); ok {
			l := NewHLine(ml, Vermillion)
			l.Dashes = nil
			// A limit far above every length would squash the data into
			// the bottom of the panel: then it is named, not drawn.
			if _, hi, ok := finiteRange(ln); ok && ml > 1.5*hi {
				l.OffRange = true
				pa.add(fmt.Sprintf("max length %s, above the plot (%s)", humanNum(ml), src), l)
			} else {
				pa.add(fmt.Sprintf("max length %s (%s)", humanNum(ml), src), l)
			}
		}
		addAlertRug(pa, rep, "length", x)
		// A length is never negative; when the data reaches down near 0
		// (below a quarter of the top), the axis starts at 0.
		pa.Plot.Y.Min = math.Max(0, pa.Plot.Y.Min)
		if pa.Plot.Y.Min < 0.25*pa.Plot.Y.Max {
			pa.Plot.Y.Min = 0
		}
	}
	if hasClip {
		pc := newPanel("", xlabel, "cut at max length (%)")
		if hasLen {
			pc.Plot.Title.Text = "Completions cut at the maximum length"
		}
		f.Panels = append(f.Panels, pc)
		pct := make([]float64, len(clip))
		for i, v := range clip {
			pct[i] = 100 * v
		}
		if x == nil {
			x = run.Steps()
		}
		cx, cy := compact(x, pct)
		d := Downsample(cx, cy, opt.Buckets)
		pc.add("clip ratio", NewLine(d.X, d.Mean, Vermillion))
		pc.Plot.Y.Min, pc.Plot.Y.Max = 0, 100
		addAlertRug(pc, rep, "truncation", x)
	}
	return f, nil
}

// baseline returns the mean and population std of the first w finite
// values of y.
func baseline(y []float64, w int) (mean, std float64, ok bool) {
	var s, s2 float64
	c := 0
	for _, v := range y {
		if c == w {
			break
		}
		if finite(v) {
			s += v
			c++
		}
	}
	if c == 0 {
		return 0, 0, false
	}
	mean = s / float64(c)
	c2 := 0
	for _, v := range y {
		if c2 == c {
			break
		}
		if finite(v) {
			s2 += (v - mean) * (v - mean)
			c2++
		}
	}
	return mean, math.Sqrt(s2 / float64(c)), true
}

// MaxLength finds the run's maximum generation length, and says where from:
//
//  1. a logged per-step maximum (TRL's completions/max_length, verl's
//     response_length/max) at a step where clip_ratio > 0: some completion
//     was cut there, so the longest one is the limit;
//  2. else the mean length at a step where clip_ratio >= 0.99: every
//     completion was cut, so they all had the limit's length.
//
// ok is false when the run has no clip_ratio or no step that shows the
// limit (a run that never hits it does not say what it is).
func MaxLength(run *ingest.Run) (length float64, source string, ok bool) {
	clip, hasClip := run.Column(ingest.ColClipRatio)
	if !hasClip {
		return 0, "", false
	}
	for _, name := range []string{"completions/max_length", "response_length/max"} {
		col, has := run.Column(ingest.ExtraPrefix + name)
		if !has {
			continue
		}
		best := math.Inf(-1)
		for i := range min(len(col), len(clip)) {
			if clip[i] > 0 && finite(col[i]) {
				best = math.Max(best, col[i])
			}
		}
		if finite(best) {
			return best, "from " + name, true
		}
	}
	ln, hasLen := run.Column(ingest.ColLength)
	if !hasLen {
		return 0, "", false
	}
	best := math.Inf(-1)
	for i := range min(len(ln), len(clip)) {
		if clip[i] >= 0.99 && finite(ln[i]) {
			best = math.Max(best, ln[i])
		}
	}
	if finite(best) {
		return math.Round(best), "mean length at clip ratio ≥ 0.99", true
	}
	return 0, "", false
}
