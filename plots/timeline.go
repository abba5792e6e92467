package plots

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// Timeline draws the reward over the run: the raw reward (faint; per-bucket
// min–max for long runs), its rolling mean over the audit window W with a
// ±1 std band, the flagged step ranges of rep's findings shaded, alert
// markers on the rolling mean coloured by status, and the reward ceiling
// when opt.Config.HasMaxReward. rep may be nil (no findings drawn). It
// returns an error wrapping ErrNotApplicable when the run has no reward.
func Timeline(run *ingest.Run, rep *analysis.Report, opt Options) (*Figure, error) {
	y, ok := run.Column(ingest.ColReward)
	if !ok || run.Len() == 0 {
		return nil, fmt.Errorf("timeline: %w: the run has no reward column (map one with --map reward=<key>)", ErrNotApplicable)
	}
	x, xlabel := xAxisLazy(run)
	w := opt.window(run)
	f := &Figure{Kind: "timeline", Title: "Reward over the run"}
	pa := newPanel("", xlabel, "reward (as logged)")
	f.Panels = []*Panel{pa}

	if spans := flaggedRanges(rep); len(spans) > 0 {
		pa.add("flagged range", &Spans{Ranges: spans, Color: Fade(Vermillion, 0.13)})
	}
	raw, mean, lo, hi := RollingBands(x, y, w, opt.Buckets)
	if raw.PerBucket == 1 {
		pa.add("reward", &Line{X: raw.X, Y: raw.Mean, LineStyle: thin(Fade(SkyBlue, 0.55))})
	} else {
		pa.add("reward, bucket min–max", &Band{X: raw.X, Lo: raw.Min, Hi: raw.Max, Color: Fade(SkyBlue, 0.35)})
		f.Notes = append(f.Notes, fmt.Sprintf("%d records drawn as %d buckets of %d (min, max and mean per bucket, so spikes survive).",
			run.Len(), raw.Len(), raw.PerBucket))
	}
	pa.add("±1 std", &Band{X: raw.X, Lo: lo, Hi: hi, Color: Fade(Blue, 0.18)})
	pa.add(fmt.Sprintf("rolling mean (W=%d)", w), NewLine(raw.X, mean, Blue))
	if opt.Config.HasMaxReward {
		pa.add(fmt.Sprintf("ceiling (--max-reward %s)", humanNum(opt.Config.MaxReward)),
			NewHLine(opt.Config.MaxReward, Vermillion))
	}
	addAlertMarkers(pa, rep, x, func(i int) float64 { return rollingMeanAt(y, w, i) })
	return f, nil
}

// addAlertMarkers puts one marker per alert at its record on the curve
// cur (NaN points fall back to the curve's last finite value before it;
// x == nil means x[i] = i),
// one legend entry per status present.
func addAlertMarkers(pa *Panel, rep *analysis.Report, x []float64, cur func(int) float64) {
	if rep == nil || len(rep.Alerts) == 0 {
		return
	}
	byStatus := map[analysis.Status]*Markers{}
	sorted := x == nil || sort.Float64sAreSorted(x)
	for _, a := range rep.Alerts {
		i := rowOf(x, sorted, a)
		if i < 0 {
			continue
		}
		yv := math.NaN()
		for j := i; j >= 0 && j > i-100000 && math.IsNaN(yv); j-- {
			yv = cur(j)
		}
		if math.IsNaN(yv) {
			continue
		}
		m := byStatus[a.Status]
		if m == nil {
			m = NewMarkers(nil, nil, StatusColor(a.Status))
			if a.Status == analysis.StatusWarning {
				m.Shape = draw.BoxGlyph{}
			}
			byStatus[a.Status] = m
		}
		m.X = append(m.X, xAt(x, i))
		m.Y = append(m.Y, yv)
	}
	for _, s := range []analysis.Status{analysis.StatusWarning, analysis.StatusAlert} {
		if m := byStatus[s]; m != nil {
			pa.add(fmt.Sprintf("%s raised (%d)", lower(string(s)), len(m.X)), m)
		}
	}
}

// flaggedRanges collects the step ranges of the findings' evidence: the
// final results' and every alert's. A finding judged over the whole run
// (records 1..N, e.g. length coupling) localises nothing and would shade the
// entire plot, so it is left out here; the findings table still lists it.
func flaggedRanges(rep *analysis.Report) [][2]float64 {
	if rep == nil {
		return nil
	}
	local := *rep
	local.Detectors = nil
	for _, d := range rep.Detectors {
		if !wholeRun(d.Evidence, rep.Records) {
			local.Detectors = append(local.Detectors, d)
		}
	}
	local.Alerts = nil
	for _, a := range rep.Alerts {
		if !wholeRun(a.Evidence, rep.Records) {
			local.Alerts = append(local.Alerts, a)
		}
	}
	return detectorRanges(&local, "")
}

// wholeRun reports whether e spans every record of a run of n records.
func wholeRun(e *analysis.Evidence, n int) bool {
	return e != nil && n > 0 && e.FromRecord <= 1 && e.ToRecord >= n
}

// detectorRanges is flaggedRanges restricted to one detector ("" = all).
func detectorRanges(rep *analysis.Report, det string) [][2]float64 {
	if rep == nil {
		return nil
	}
	var out [][2]float64
	seen := map[[2]float64]bool{}
	addEv := func(e *analysis.Evidence) {
		if e == nil || !finite(e.FromStep) || !finite(e.ToStep) {
			return
		}
		r := [2]float64{math.Min(e.FromStep, e.ToStep), math.Max(e.FromStep, e.ToStep)}
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	for _, d := range rep.Detectors {
		if d.Status.Actionable() && (det == "" || d.Name == det) {
			addEv(d.Evidence)
		}
	}
	for _, a := range rep.Alerts {
		if det == "" || a.Detector == det {
			addEv(a.Evidence)
		}
	}
	return mergeRanges(out)
}

// mergeRanges sorts ranges and merges the overlapping ones, so that shaded
// ranges do not darken where findings overlap.
func mergeRanges(rs [][2]float64) [][2]float64 {
	sort.Slice(rs, func(i, j int) bool { return rs[i][0] < rs[j][0] })
	var out [][2]float64
	for _, r := range rs {
		if n := len(out); n > 0 && r[0] <= out[n-1][1] {
			out[n-1][1] = math.Max(out[n-1][1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}

func thin(c color.Color) draw.LineStyle {
	return draw.LineStyle{Color: c, Width: vg.Points(0.9)}
}

// rowOf finds the row of an alert: the last row whose x equals its RunStep
// when x is sorted (records with a missing reward are not counted in
// Alert.Step, so Step-1 can be off), else row Step-1. -1 when out of range.
func rowOf(x []float64, sorted bool, a analysis.Alert) int {
	if x == nil { // x[i] = i
		if i := int(a.RunStep); finite(a.RunStep) && float64(i) == a.RunStep && i >= 0 {
			return i
		}
		if i := a.Step - 1; i >= 0 {
			return i
		}
		return -1
	}
	if finite(a.RunStep) && sorted {
		i := sort.SearchFloat64s(x, a.RunStep) // first row >= RunStep
		if i < len(x) && x[i] == a.RunStep {
			for i+1 < len(x) && x[i+1] == a.RunStep {
				i++
			}
			return i
		}
	}
	if i := a.Step - 1; i >= 0 && i < len(x) {
		return i
	}
	return -1
}
