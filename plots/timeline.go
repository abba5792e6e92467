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

// Timeline draws the reward over the run: the raw reward (faint; per-bucket
// min–max for long runs), its rolling mean over the audit window W with a
// ±1 std band (edged, so its legend swatch differs from the min–max band's),
// the flagged step ranges of rep's findings shaded, the alerts as one rug
// row per detector below the data with counts in the legend (addAlertRug),
// and the reward ceiling when opt.Config.HasMaxReward. Axis words follow the
// kind of run (rep.Kind, else analysis.DetectKind): "episode return" for
// classic RL, "reward" for LLM runs. rep may be nil (no findings drawn). It
// returns an error wrapping ErrNotApplicable when the run has no reward.
func Timeline(run *ingest.Run, rep *analysis.Report, opt Options) (*Figure, error) {
	y, ok := run.Column(ingest.ColReward)
	if !ok || run.Len() == 0 {
		return nil, fmt.Errorf("timeline: %w: the run has no reward column (map one with --map reward=<key>)", ErrNotApplicable)
	}
	kind := kindOf(run, rep)
	x, xlabel := xAxisLazyKind(run, kind)
	w := opt.window(run)
	word := kind.RewardLabel()
	f := &Figure{Kind: "timeline", Title: upperFirst(word) + " over the run"}
	pa := newPanel("", xlabel, word+" (as logged)")
	f.Panels = []*Panel{pa}

	if spans := flaggedRanges(rep); len(spans) > 0 {
		pa.add("flagged range", &Spans{Ranges: spans, Color: Fade(Vermillion, 0.13)})
	}
	raw, mean, lo, hi := RollingBands(x, y, w, opt.Buckets)
	if raw.PerBucket == 1 {
		pa.add(word, &Line{X: raw.X, Y: raw.Mean, LineStyle: thin(Fade(SkyBlue, 0.55))})
	} else {
		pa.add(word+", bucket min–max", &Band{X: raw.X, Lo: raw.Min, Hi: raw.Max, Color: Fade(SkyBlue, 0.35)})
		n := 0
		for _, v := range y {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				n++
			}
		}
		f.Notes = append(f.Notes, fmt.Sprintf("%d records drawn as %d buckets of %d (min, max and mean per bucket, so spikes survive).",
			n, raw.Len(), raw.PerBucket))
	}
	if rep != nil && rep.Sampled != nil {
		sm := rep.Sampled
		f.Notes = append(f.Notes, fmt.Sprintf("A long run: drawn from the audit's sample, 1 row in %d (%d of %d rows); the rolling mean and std span %d sampled rows.",
			sm.Every, sm.Rows, sm.Of, w))
	}
	pa.add("±1 std", &Band{X: raw.X, Lo: lo, Hi: hi, Color: Fade(Blue, 0.18), Edge: Fade(Blue, 0.5)})
	pa.add(fmt.Sprintf("rolling mean (W=%d)", w), NewLine(raw.X, mean, Blue))
	if opt.Config.HasMaxReward {
		pa.add(fmt.Sprintf("ceiling (--max-reward %s)", humanNum(opt.Config.MaxReward)),
			NewHLine(opt.Config.MaxReward, Vermillion))
	}
	addAlertRug(pa, rep, "", x)
	return f, nil
}

// Alert rugs: each detector's alerts are drawn as a row of thin ticks in
// the strip between the x axis and the data area (a rug), so that any
// number of alerts leaves the curve visible; many alerts close together
// merge into a band.
const (
	rugRow = 5.0 // points per rug row
	rugGap = 2.0 // points between rows
)

// addAlertRug draws rep's alerts (only detector det's when det != "") as one
// rug row per detector below the data, ticks coloured by status (warning
// orange, alert vermillion), with one legend entry per detector giving its
// counts ("variance: 1,794 warnings, 3 alerts"). An alert is placed at its
// RunStep (its record when x == nil); alerts whose position is unknown are
// still counted. Detector rows are in the order the detectors first alert.
func addAlertRug(pa *Panel, rep *analysis.Report, det string, x []float64) {
	if rep == nil || len(rep.Alerts) == 0 {
		return
	}
	sorted := x == nil || sort.Float64sAreSorted(x)
	var order []string
	rugs := map[string]*Rug{}
	for _, a := range rep.Alerts {
		if det != "" && a.Detector != det {
			continue
		}
		r := rugs[a.Detector]
		if r == nil {
			r = &Rug{Row: len(order), Label: a.Detector}
			rugs[a.Detector] = r
			order = append(order, a.Detector)
		}
		pos := math.NaN()
		if i := rowOf(x, sorted, a); i >= 0 {
			pos = xAt(x, i)
		}
		r.X = append(r.X, pos)
		r.Colors = append(r.Colors, StatusColor(a.Status))
		if a.Status == analysis.StatusAlert {
			r.alerts++
		} else {
			r.warnings++
		}
	}
	if len(order) == 0 {
		return
	}
	pa.Plot.X.Padding = vg.Points(float64(len(order))*(rugRow+rugGap) + 3)
	for _, d := range order {
		r := rugs[d]
		r.Color = Orange
		if r.alerts > 0 {
			r.Color = Vermillion
		}
		var parts []string
		if r.warnings > 0 {
			parts = append(parts, plural(r.warnings, "warning"))
		}
		if r.alerts > 0 {
			parts = append(parts, plural(r.alerts, "alert"))
		}
		pa.add(d+": "+strings.Join(parts, ", "), r)
	}
}

// plural formats "1 warning", "1,794 warnings".
func plural(n int, word string) string {
	s := commas(n) + " " + word
	if n != 1 {
		s += "s"
	}
	return s
}

// commas formats n with thousands separators.
func commas(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Rug draws thin vertical ticks at X in row Row of the strip below the data
// area (row 0 nearest the data), each in its own colour, with Label in
// small type at the row's left end. It has no data range: it never changes
// the axes.
type Rug struct {
	X      []float64
	Colors []color.Color
	Color  color.Color // thumbnail and default colour
	Row    int
	Label  string

	warnings, alerts int
}

// Plot implements plot.Plotter.
func (r *Rug) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	top := c.Min.Y - vg.Points(2+float64(r.Row)*(rugRow+rugGap))
	bot := top - vg.Points(rugRow)
	// Ticks that land on the same half point as the last one drawn in the
	// same colour add nothing: skip them, so a million alerts draw as fast
	// as a few hundred.
	lastPx, lastCol := vg.Length(math.Inf(-1)), color.Color(nil)
	for i, x := range r.X {
		if !finite(x) {
			continue
		}
		px := trX(x)
		if !c.ContainsX(px) {
			continue
		}
		col := r.Color
		if i < len(r.Colors) && r.Colors[i] != nil {
			col = r.Colors[i]
		}
		if col == lastCol && math.Abs(float64(px-lastPx)) < 0.5 {
			continue
		}
		lastPx, lastCol = px, col
		c.StrokeLine2(draw.LineStyle{Color: col, Width: vg.Points(1)}, px, bot, px, top)
	}
	if r.Label != "" { // over the ticks, on a translucent box
		sty := text.Style{Font: font.From(sansFont, 6.5), Color: Black, XAlign: draw.XLeft, YAlign: draw.YCenter,
			Handler: text.Plain{Fonts: font.DefaultCache}}
		pt := vg.Point{X: c.Min.X + vg.Points(2), Y: (top + bot) / 2}
		w, h := sty.Width(r.Label), sty.Height(r.Label)
		c.FillPolygon(Fade(White, 0.75), []vg.Point{{X: pt.X - 1, Y: pt.Y - h/2}, {X: pt.X + w + 1, Y: pt.Y - h/2},
			{X: pt.X + w + 1, Y: pt.Y + h/2}, {X: pt.X - 1, Y: pt.Y + h/2}})
		c.FillText(sty, pt, r.Label)
	}
}

// Thumbnail implements plot.Thumbnailer: a few ticks.
func (r *Rug) Thumbnail(c *draw.Canvas) {
	h := (c.Max.Y - c.Min.Y) / 3
	mid := c.Center().Y
	for k := 0; k < 5; k++ {
		x := c.Min.X + (c.Max.X-c.Min.X)*vg.Length(k)/4
		c.StrokeLine2(draw.LineStyle{Color: r.Color, Width: vg.Points(1)}, x, mid-h, x, mid+h)
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
