package plots

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// maxEvalPanels caps the eval metrics drawn by Divergence; the rest are
// named in the notes.
const maxEvalPanels = 4

// wholeSpanFraction: a flagged range covering at least this fraction of the
// plotted x range is not shaded (it would shade the whole panel and say
// nothing); a note names it instead.
const wholeSpanFraction = 0.9

// evalColors are the colours of held-out metrics (train is Blue).
var evalColors = []color.NRGBA{Orange, BluishGreen, ReddishPurple, Vermillion}

// SameScale reports whether two series of values can share one y axis:
// both lie within [0, 1] (rates, accuracies, pass@k), or their ranges
// [min, max] overlap. Non-finite values are ignored; a series with no
// finite value is on no scale (false).
func SameScale(a, b []float64) bool {
	alo, ahi := span(a)
	blo, bhi := span(b)
	if !(alo <= ahi) || !(blo <= bhi) {
		return false
	}
	if alo >= 0 && ahi <= 1 && blo >= 0 && bhi <= 1 {
		return true
	}
	return alo <= bhi && blo <= ahi
}

// span is finiteRange of one slice without ok (lo > hi when empty).
func span(v []float64) (lo, hi float64) {
	lo, hi, _ = finiteRange(v)
	return
}

// Divergence draws the train (proxy) reward against held-out (gold)
// metrics, so that the gap between them shows at a glance (Gao et al. 2022:
// the proxy keeps rising while the true objective stalls or falls).
//
// The train reward is drawn as a thin line of every logged value (per-bucket
// min–max for long runs) with its rolling mean over the audit window W on
// top. Held-out metrics eval.<m> that measure quality (not length, tokens,
// runtime, per_second or time; at most 4) are drawn as points joined by a
// line at the steps where they were logged.
//
// A higher-is-better metric on the same scale as the train reward
// (SameScale: both in [0, 1], or overlapping ranges) shares the first panel
// with it, and the gap between the rolling mean (read at each eval step) and
// the first such metric is shaded. A metric on another scale, or one where
// lower is better (loss, perplexity, ppl, error: its gap to a reward means
// nothing), gets a panel of its own where the train rolling mean is rescaled
// linearly onto the metric's range: the left axis is in the metric's units,
// blue labels inside the right edge give the train reward's real values.
//
// Legend entries give each series' value at the first and last eval step
// ("0.74 → 0.98 (+0.24)"; for the train reward the rolling mean at the first
// eval step with a full window, or the first eval step when none has one).
// All panels share one x range. Only the step ranges that the divergence
// detector's findings name (Evidence.FromStep..ToStep) are shaded; a range
// covering 90% or more of the plotted steps is named in a note instead.
// Long metric names are shortened (ShortName) on axes and legends, with the
// full names in the notes. ErrNotApplicable when the run has no reward or
// no held-out quality metric with a value.
func Divergence(run *ingest.Run, rep *analysis.Report, opt Options) (*Figure, error) {
	y, ok := run.Column(ingest.ColReward)
	var evals []string
	for _, e := range run.EvalMetrics() {
		if !qualityMetric(e) {
			continue
		}
		col, _ := run.Column(ingest.EvalPrefix + e)
		if lo, hi := span(col); lo <= hi {
			evals = append(evals, e)
		}
	}
	if !ok || len(evals) == 0 {
		return nil, fmt.Errorf("divergence: %w: the run has no reward or no eval.* held-out quality metric", ErrNotApplicable)
	}
	kind := kindOf(run, rep)
	x, xlabel := xAxisKind(run, kind)
	w := opt.window(run)
	f := &Figure{Kind: "divergence", Title: "Train reward vs held-out metrics"}
	if len(evals) > maxEvalPanels {
		f.Notes = append(f.Notes, fmt.Sprintf("%d more eval metrics not drawn: %v", len(evals)-maxEvalPanels, evals[maxEvalPanels:]))
		evals = evals[:maxEvalPanels]
	}
	xlo, xhi := span(x)
	spans, notes := localSpans(detectorRanges(rep, analysis.DetDivergence), xlo, xhi, "divergence", xlabel)
	f.Notes = append(f.Notes, notes...)
	shade := func(pa *Panel) {
		if len(spans) > 0 {
			sp := &Spans{Ranges: spans, Color: Fade(Vermillion, 0.13)}
			pa.Plot.Add(sp)
			name := "flagged by divergence"
			if len(spans) == 1 {
				name += fmt.Sprintf(" (%s–%s)", humanNum(spans[0][0]), humanNum(spans[0][1]))
			}
			pa.legendOnly(name, sp)
		}
	}
	mean, _ := Rolling(y, w)
	sorted := sort.Float64sAreSorted(x)
	// trainAt is the rolling mean at the last row with x <= s, and that row.
	trainAt := func(s float64) (float64, int) {
		i := -1
		if sorted {
			i = sort.Search(len(x), func(k int) bool { return x[k] > s }) - 1
		} else {
			for k := range x {
				if x[k] <= s && (i < 0 || x[k] >= x[i]) {
					i = k
				}
			}
		}
		if i < 0 {
			return math.NaN(), -1
		}
		return mean[i], i
	}
	rewardWord := kind.RewardLabel()
	raw := Downsample(x, y, opt.Buckets)
	rm := Downsample(x, mean, opt.Buckets)
	trainSeries := func(pa *Panel, scale func(float64) float64, cx []float64) {
		m := func(v []float64) []float64 {
			out := make([]float64, len(v))
			for i, u := range v {
				out[i] = scale(u)
			}
			return out
		}
		if raw.PerBucket == 1 {
			pa.add("train "+rewardWord+" (each logged value)", &Line{X: raw.X, Y: m(raw.Mean), LineStyle: thin(Fade(SkyBlue, 0.7))})
		} else {
			pa.add("train "+rewardWord+", bucket min–max", &Band{X: raw.X, Lo: m(raw.Min), Hi: m(raw.Max), Color: Fade(SkyBlue, 0.3)})
		}
		name := fmt.Sprintf("rolling mean (W=%d)", w)
		if a, b, ok := trainEnds(cx, trainAt, w); ok {
			name += ": " + fromTo(a, b)
		}
		pa.add(name, NewLine(rm.X, m(rm.Mean), Blue))
	}
	var same, other []string
	for _, e := range evals {
		col, _ := run.Column(ingest.EvalPrefix + e)
		if !lowerBetter(e) && SameScale(y, col) {
			same = append(same, e)
		} else {
			other = append(other, e)
		}
	}
	var named []string
	evalSeries := func(pa *Panel, i int, e string, cx, cy []float64) {
		c := evalColors[i%len(evalColors)]
		l := NewLine(cx, cy, c)
		mk := NewMarkers(cx, cy, c)
		mk.Radius = vg.Points(2.2)
		mk.Shape = draw.CircleGlyph{}
		pa.add(fmt.Sprintf("held-out %s: %s", ShortName(e), fromTo(cy[0], cy[len(cy)-1])), l, mk)
		pa.Series[len(pa.Series)-1] = fmt.Sprintf("held-out eval.%s: %s", e, fromTo(cy[0], cy[len(cy)-1]))
		if ShortName(e) != e {
			named = append(named, fmt.Sprintf("%s = eval.%s", ShortName(e), e))
		}
	}
	idx := 0
	if len(same) > 0 {
		title := "Train " + rewardWord + " and held-out " + ShortName(same[0]) + " on one axis"
		if len(same) > 1 {
			title = fmt.Sprintf("Train %s and %d held-out metrics on one axis", rewardWord, len(same))
		}
		pa := newPanel(title, xlabel, rewardWord+" / held-out score")
		shade(pa)
		cx, cy := compact(x, mustColumn(run, ingest.EvalPrefix+same[0]))
		lo, hi := make([]float64, len(cx)), make([]float64, len(cx))
		for j, s := range cx {
			t, _ := trainAt(s)
			lo[j], hi[j] = math.Min(t, cy[j]), math.Max(t, cy[j])
		}
		pa.add("gap: train − held-out", &Band{X: cx, Lo: lo, Hi: hi, Color: Fade(Vermillion, 0.16)})
		trainSeries(pa, func(v float64) float64 { return v }, cx)
		for _, e := range same {
			ex, ey := compact(x, mustColumn(run, ingest.EvalPrefix+e))
			evalSeries(pa, idx, e, ex, ey)
			idx++
		}
		f.Panels = append(f.Panels, pa)
	}
	for _, e := range other {
		cx, cy := compact(x, mustColumn(run, ingest.EvalPrefix+e))
		elo, ehi := span(cy)
		tlo, thi := span(mean)
		if ehi <= elo { // a flat metric: give the rescaled train curve room
			elo, ehi = elo-0.5, ehi+0.5
		}
		if thi <= tlo {
			tlo, thi = tlo-0.5, thi+0.5
		}
		scale := func(v float64) float64 { return elo + (v-tlo)/(thi-tlo)*(ehi-elo) }
		better := ""
		if lowerBetter(e) {
			better = " (lower is better)"
		}
		pa := newPanel("Held-out "+ShortName(e)+better+" vs train "+rewardWord+", each on its own scale",
			xlabel, ShortName(e)+" (left axis)")
		shade(pa)
		// Only the rolling mean is rescaled: the raw values' spread would
		// squash it into the metric's range.
		if a, b, ok := trainEnds(cx, trainAt, w); ok {
			pa.add(fmt.Sprintf("train %s, rolling mean (W=%d, right axis): %s", rewardWord, w, fromTo(a, b)),
				NewLine(rm.X, mapSlice(rm.Mean, scale), Blue))
		} else {
			pa.add(fmt.Sprintf("train %s, rolling mean (W=%d, right axis)", rewardWord, w), NewLine(rm.X, mapSlice(rm.Mean, scale), Blue))
		}
		pa.Plot.Add(&TwinTicks{Lo: tlo, Hi: thi, To: scale, Color: Blue})
		evalSeries(pa, idx, e, cx, cy)
		idx++
		f.Panels = append(f.Panels, pa)
	}
	alignX(f.Panels, xlo, xhi)
	f.Notes = append(f.Notes, named...)
	return f, nil
}

// qualityMetric reports whether a held-out metric measures quality rather
// than size or speed: names containing length, tokens, runtime, per_second
// or time are left out (the divergence detector's rule).
func qualityMetric(name string) bool {
	l := strings.ToLower(name)
	for _, s := range []string{"length", "tokens", "runtime", "per_second", "time"} {
		if strings.Contains(l, s) {
			return false
		}
	}
	return true
}

// lowerBetter reports whether lower values of a held-out metric are
// better: names containing loss, perplexity, ppl or error.
func lowerBetter(name string) bool {
	l := strings.ToLower(name)
	for _, s := range []string{"loss", "perplexity", "ppl", "error"} {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// trainEnds is the train rolling mean at the first eval step whose row has
// a full window (row >= w-1; the first eval step when none has) and at the
// last eval step.
func trainEnds(cx []float64, at func(float64) (float64, int), w int) (a, b float64, ok bool) {
	if len(cx) == 0 {
		return 0, 0, false
	}
	a = math.NaN()
	for _, s := range cx {
		if v, i := at(s); i >= w-1 && finite(v) {
			a = v
			break
		}
	}
	if !finite(a) {
		a, _ = at(cx[0])
	}
	b, _ = at(cx[len(cx)-1])
	return a, b, finite(a) && finite(b)
}

// fromTo formats a change with its difference, "0.74 → 0.98 (+0.24)":
// 2 decimals when both values are below 10 in magnitude, 1 below 1000,
// else none (large values in humanNum's k/M form).
func fromTo(a, b float64) string {
	m := math.Max(math.Abs(a), math.Abs(b))
	var f func(float64) string
	switch {
	case m < 10:
		f = func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	case m < 1000:
		f = func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	case m < 1e4:
		f = func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	default:
		f = humanNum
	}
	d := f(b - a)
	if !strings.HasPrefix(d, "-") {
		d = "+" + d
	}
	return f(a) + " → " + f(b) + " (" + strings.Replace(d, "-", "−", 1) + ")"
}

func mapSlice(v []float64, f func(float64) float64) []float64 {
	out := make([]float64, len(v))
	for i, u := range v {
		out[i] = f(u)
	}
	return out
}

func mustColumn(run *ingest.Run, name string) []float64 {
	c, _ := run.Column(name)
	return c
}

// localSpans splits flagged ranges into those worth shading and notes for
// the rest: a range covering 90% or more of the plotted x range [lo, hi]
// would shade the whole panel and say nothing, so it is named in a note
// ("The divergence finding spans trainer step 10–1120, nearly the whole
// plot, so it is not shaded.") instead.
func localSpans(spans [][2]float64, lo, hi float64, what, xlabel string) (keep [][2]float64, notes []string) {
	for _, s := range spans {
		if hi > lo && (s[1]-s[0]) >= wholeSpanFraction*(hi-lo) {
			notes = append(notes, fmt.Sprintf("The %s finding spans %s %s–%s, nearly the whole plot, so it is not shaded.",
				what, xlabel, humanNum(s[0]), humanNum(s[1])))
			continue
		}
		keep = append(keep, s)
	}
	return keep, notes
}

// alignX gives every panel the x range [lo, hi] so that stacked panels
// share one x position per step (no-op when the range is empty).
func alignX(panels []*Panel, lo, hi float64) {
	if !(lo <= hi) {
		return
	}
	for _, pa := range panels {
		pa.Plot.X.Min, pa.Plot.X.Max = lo, hi
	}
}

// TwinTicks draws a second y axis inside the right edge of the data area:
// tick labels for values in [Lo, Hi] of another series placed at To(value)
// in the panel's own units, in Color. It is how a panel shows the real
// values of a series rescaled onto another's axis.
type TwinTicks struct {
	Lo, Hi float64
	To     func(float64) float64
	Color  color.Color
}

// Plot implements plot.Plotter.
func (t *TwinTicks) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	sty := text.Style{Font: font.From(sansFont, 9), Color: t.Color, XAlign: draw.XRight, YAlign: draw.YCenter,
		Handler: text.Plain{Fonts: font.DefaultCache}}
	for _, tk := range (humanTicks{}).Ticks(t.Lo, t.Hi) {
		if tk.Label == "" || tk.Value < t.Lo || tk.Value > t.Hi {
			continue
		}
		y := trY(t.To(tk.Value))
		if !c.ContainsY(y) {
			continue
		}
		c.StrokeLine2(draw.LineStyle{Color: t.Color, Width: vg.Points(1)}, c.Max.X-vg.Points(4), y, c.Max.X, y)
		r := sty.Rectangle(tk.Label)
		pt := vg.Point{X: c.Max.X - vg.Points(6), Y: y}
		box := []vg.Point{{X: pt.X + r.Min.X - 1, Y: pt.Y + r.Min.Y}, {X: pt.X + r.Max.X + 1, Y: pt.Y + r.Min.Y},
			{X: pt.X + r.Max.X + 1, Y: pt.Y + r.Max.Y}, {X: pt.X + r.Min.X - 1, Y: pt.Y + r.Max.Y}}
		c.FillPolygon(Fade(White, 0.8), box)
		c.FillText(sty, pt, tk.Label)
	}
}
