package plots

import (
	"fmt"
	"math"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// lengthZ is the length detector's |z| threshold per sensitivity (DESIGN §2.1).
func lengthZ(s analysis.Sensitivity) float64 {
	switch s {
	case analysis.SensitivityLow:
		return 4
	case analysis.SensitivityHigh:
		return 2
	}
	return 3
}

// Length draws response length over the run: raw (faint), rolling mean
// over W, the baseline mean of the first W records and the drift threshold
// baseline ± t·std (t = 4/3/2 for low/medium/high sensitivity, the length
// detector's rule), with length alerts marked. When the run has
// clip_ratio, a second panel shows the share of completions cut at the
// maximum length. ErrNotApplicable when neither column exists.
func Length(run *ingest.Run, rep *analysis.Report, opt Options) (*Figure, error) {
	ln, hasLen := run.Column(ingest.ColLength)
	clip, hasClip := run.Column(ingest.ColClipRatio)
	if (!hasLen && !hasClip) || run.Len() == 0 {
		return nil, fmt.Errorf("length: %w: the run has no length or clip_ratio column (map one with --map length=<key>)", ErrNotApplicable)
	}
	x, xlabel := xAxisLazy(run)
	w := opt.window(run)
	f := &Figure{Kind: "length", Title: "Response length"}
	if hasLen {
		pa := newPanel("", xlabel, "response length (tokens)")
		if hasClip {
			pa.Plot.Title.Text = "Mean response length"
		}
		f.Panels = append(f.Panels, pa)
		raw, mean, _, _ := RollingBands(x, ln, w, opt.Buckets)
		if raw.PerBucket == 1 {
			pa.add("length", &Line{X: raw.X, Y: raw.Mean, LineStyle: thin(Fade(SkyBlue, 0.6))})
		} else {
			pa.add("length, bucket min–max", &Band{X: raw.X, Lo: raw.Min, Hi: raw.Max, Color: Fade(SkyBlue, 0.35)})
		}
		pa.add(fmt.Sprintf("rolling mean (W=%d)", w), NewLine(raw.X, mean, Blue))
		if bm, bs, ok := baseline(ln, w); ok {
			pa.add(fmt.Sprintf("baseline (first %d)", w), NewHLine(bm, Grey))
			if bs >= 1 {
				t := lengthZ(opt.Config.Sensitivity)
				hi, lo := NewHLine(bm+t*bs, Orange), NewHLine(bm-t*bs, Orange)
				pa.add(fmt.Sprintf("drift limit (±%gσ)", t), hi, lo)
			}
		}
		addDetectorMarkers(pa, rep, "length", x, func(i int) float64 { return rollingMeanAt(ln, w, i) })
	}
	if hasClip {
		pc := newPanel("", xlabel, "clipped at max length (%)")
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
		addDetectorMarkers(pc, rep, "truncation", x, func(i int) float64 { return pct[i] })
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

// addDetectorMarkers marks the alerts of one detector on curve cur.
func addDetectorMarkers(pa *Panel, rep *analysis.Report, det string, x []float64, cur func(int) float64) {
	if rep == nil {
		return
	}
	sub := &analysis.Report{}
	for _, a := range rep.Alerts {
		if a.Detector == det {
			sub.Alerts = append(sub.Alerts, a)
		}
	}
	addAlertMarkers(pa, sub, x, cur)
}
