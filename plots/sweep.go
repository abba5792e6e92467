package plots

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// The comparison section of a sweep report: the sweep table, then the
// reward, held-out and length curves of every run overlaid on shared axes.
// To stay readable for 200 runs, runs that are not flagged are thin grey
// lines (one legend entry for all of them) and only flagged runs get a
// colour and a legend entry of their own; runs of different kinds (an
// episode return and a GRPO reward do not share a scale) get one panel
// each.

// SweepCurve is one run's curves, reduced to at most a few hundred points,
// so that a sweep keeps them after the run's columns are released.
type SweepCurve struct {
	Path    string
	Kind    analysis.Kind
	Flagged bool // the run's audit exit code is 1
	// X/Y pairs: the reward's rolling mean (window = the audit's), the
	// held-out metric's logged values, the length's rolling mean; x is the
	// run's own step.
	RewardX, RewardY   []float64
	HeldOutX, HeldOutY []float64
	LengthX, LengthY   []float64
}

// SweepCurveOf reduces run to its curves: the rolling mean of reward and
// of length over rep.Window records (bucket means of at most buckets
// buckets, DefaultBuckets when <= 0), and the finite values of the
// held-out column heldOut ("" = none; thinned to every k-th value when
// longer than buckets).
func SweepCurveOf(path string, run *ingest.Run, rep *analysis.Report, heldOut string, buckets int) SweepCurve {
	c := SweepCurve{Path: path, Kind: rep.Kind, Flagged: rep.ExitCode != 0}
	x := run.Steps()
	w := max(1, rep.Window)
	roll := func(col string) (xs, ys []float64) {
		y, ok := run.Column(col)
		if !ok {
			return nil, nil
		}
		m, _ := Rolling(y, w)
		d := Downsample(x, m, buckets)
		return d.X, d.Mean
	}
	c.RewardX, c.RewardY = roll(ingest.ColReward)
	c.LengthX, c.LengthY = roll(ingest.ColLength)
	if heldOut != "" {
		if y, ok := run.Column(heldOut); ok {
			for i, v := range y {
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					c.HeldOutX = append(c.HeldOutX, x[i])
					c.HeldOutY = append(c.HeldOutY, v)
				}
			}
			if b := max(buckets, DefaultBuckets); len(c.HeldOutX) > b {
				d := Downsample(c.HeldOutX, c.HeldOutY, b)
				c.HeldOutX, c.HeldOutY = d.X, d.Mean
			}
		}
	}
	return c
}

// SweepView is what the comparison section shows: the sweep table (rows
// as analysis.FinishSweep sorted and named them) and the curves of the
// runs that were read.
type SweepView struct {
	Rows   []analysis.SweepRow
	Curves []SweepCurve
	// Note is shown under the table (for example that per-run figures were
	// drawn for flagged runs only).
	Note string
}

// maxHighlighted is how many flagged runs get a colour and a legend entry
// of their own in a comparison panel; the rest are drawn as thin dark
// lines under one legend entry.
const maxHighlighted = 6

// SweepFigures draws the comparison figures of v: "sweep-reward",
// "sweep-heldout" and "sweep-length", each with one panel per kind of run
// present (kinds in name order), x = each run's own step (or each run's
// progress, 0-100%, when the runs' last steps differ by more than 10x so a
// shared step axis would squash the short runs). A figure whose
// measure no run has is left out. Flagged runs are drawn last (on top):
// the first maxHighlighted in their own colours, named in the legend by
// their sweep name, the others as thin dark lines; runs not flagged are thin
// grey lines under one legend entry ("N runs not flagged").
func SweepFigures(v *SweepView) []*Figure {
	names := map[string]string{}
	for _, r := range v.Rows {
		names[r.Path] = r.Name
	}
	kinds := map[analysis.Kind][]SweepCurve{}
	for _, c := range v.Curves {
		kinds[c.Kind] = append(kinds[c.Kind], c)
	}
	var order []analysis.Kind
	for k := range kinds {
		order = append(order, k)
	}
	sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	type measure struct {
		kind, title string
		ylabel      func(k analysis.Kind) string
		get         func(c *SweepCurve) ([]float64, []float64)
	}
	measures := []measure{
		{"sweep-reward", "Reward of every run (rolling mean)", func(k analysis.Kind) string { return k.RewardLabel() + " (rolling mean)" },
			func(c *SweepCurve) ([]float64, []float64) { return c.RewardX, c.RewardY }},
		{"sweep-heldout", "Held-out / gold metric of every run", func(analysis.Kind) string { return "held-out metric" },
			func(c *SweepCurve) ([]float64, []float64) { return c.HeldOutX, c.HeldOutY }},
		{"sweep-length", "Length of every run (rolling mean)", func(k analysis.Kind) string { return k.LengthLabel() },
			func(c *SweepCurve) ([]float64, []float64) { return c.LengthX, c.LengthY }},
	}
	var figs []*Figure
	for _, m := range measures {
		f := &Figure{Kind: m.kind, Title: m.title}
		for _, k := range order {
			cs := kinds[k]
			sort.SliceStable(cs, func(i, j int) bool { return names[cs[i].Path] < names[cs[j].Path] })
			title := ""
			if len(order) > 1 {
				title = k.Noun()
			}
			xlabel, norm := k.StepLabel()+" (each run's own)", progressAxis(cs, m.get)
			if norm {
				xlabel = "training progress (% of each run's " + k.StepLabel() + "s)"
			}
			pa := newPanel(title, xlabel, m.ylabel(k))
			grey, flagged, drawn := 0, 0, 0
			for pass := 0; pass < 2; pass++ { // grey first, flagged on top
				for i := range cs {
					c := &cs[i]
					x, y := m.get(c)
					if len(x) == 0 || c.Flagged != (pass == 1) {
						continue
					}
					drawn++
					if norm {
						x = progress(x)
					}
					if !c.Flagged {
						l := NewLine(x, y, Fade(Grey, 0.45))
						l.Width = vg.Points(0.8)
						if grey == 0 {
							pa.add("", l)
						} else {
							pa.Plot.Add(l)
						}
						grey++
						continue
					}
					if flagged < maxHighlighted {
						pa.add(names[c.Path], NewLine(x, y, SeriesColor(flagged)))
					} else {
						l := NewLine(x, y, Fade(Black, 0.55))
						l.Width = vg.Points(0.9)
						pa.Plot.Add(l)
					}
					flagged++
				}
			}
			if drawn == 0 {
				continue
			}
			if flagged > maxHighlighted {
				l := NewLine(nil, nil, Fade(Black, 0.55))
				pa.legendOnly(fmt.Sprintf("%d more flagged runs", flagged-maxHighlighted), l)
			}
			if grey > 0 {
				l := NewLine(nil, nil, Fade(Grey, 0.45))
				pa.legendOnly(fmt.Sprintf("%d run%s not flagged", grey, map[bool]string{true: "", false: "s"}[grey == 1]), l)
			}
			f.Panels = append(f.Panels, pa)
		}
		if len(f.Panels) > 0 {
			figs = append(figs, f)
		}
	}
	return figs
}

// progressAxis reports whether a panel's runs cover step ranges so
// different (the longest last step over 10x the shortest) that a shared
// step axis would squash most of them: then x is each run's progress.
func progressAxis(cs []SweepCurve, get func(c *SweepCurve) ([]float64, []float64)) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range cs {
		x, _ := get(&cs[i])
		if len(x) == 0 {
			continue
		}
		span := math.Abs(x[len(x)-1]) + 1
		lo, hi = math.Min(lo, span), math.Max(hi, span)
	}
	return hi > 10*lo
}

// progress maps x to 0..100, the percentage of the way from its first to
// its last value (all 0 when they are equal).
func progress(x []float64) []float64 {
	out := make([]float64, len(x))
	if len(x) == 0 {
		return out
	}
	x0, x1 := x[0], x[len(x)-1]
	for i, v := range x {
		if x1 != x0 {
			out[i] = 100 * (v - x0) / (x1 - x0)
		}
	}
	return out
}

type sweepHTMLRow struct {
	Verdict, VerdictClass, Name, Kind, Records, Final, HeldOut, Length, Collapse, Flagged, Headline string
}

type sweepHTML struct {
	Summary string
	Rows    []sweepHTMLRow
	Failed  [][2]string
	Note    string
	Figures []htmlFigure
}

var sweepTmpl = template.Must(template.New("sweep").Parse(`<section class="sweep">
<style>
.sweep td.v-pathology { color: var(--alert); font-weight: bold; }
.sweep td.v-hacking { color: var(--alert); font-weight: bold; background: #fbe9df; }
.sweep td.v-warning { color: #9a6700; font-weight: bold; }
.sweep td.v-healthy { color: var(--ok); font-weight: bold; }
.sweep td.v-error, .sweep td.v-collecting { color: var(--grey); font-weight: bold; }
.sweep div.h { color: #444; font-size: 13px; max-width: 52em; }
</style>
<h2>Sweep: {{.Summary}}</h2>
<p class="note">Worst first. Final reward: mean of the last 10% of records. Held-out Δ: last minus first logged value of the gold metric. Length Δ: mean of the last 10% minus the first 10%. Collapse: share of GRPO groups with zero reward spread. Steps are each run's own.</p>
<div class="wrap"><table>
<tr><th>verdict</th><th>run</th><th>kind</th><th class="num">records</th><th class="num">final reward</th><th class="num">held-out Δ</th><th class="num">length Δ</th><th class="num">collapse</th><th>flagged (first step)</th></tr>
{{range .Rows}}<tr><td class="{{.VerdictClass}}">{{.Verdict}}</td><td>{{.Name}}{{with .Headline}}<div class="h">{{.}}</div>{{end}}</td><td>{{.Kind}}</td><td class="num">{{.Records}}</td><td class="num">{{.Final}}</td><td class="num">{{.HeldOut}}</td><td class="num">{{.Length}}</td><td class="num">{{.Collapse}}</td><td>{{.Flagged}}</td></tr>
{{end}}</table></div>
{{range .Failed}}<p class="note"><b>Failed</b> {{index . 0}}: {{index . 1}}</p>
{{end}}{{with .Note}}<p class="note">{{.}}</p>{{end}}
{{range .Figures}}<figure><h3>{{.Title}}</h3>{{.SVG}}{{range .Notes}}<figcaption>{{.}}</figcaption>{{end}}</figure>
{{end}}</section>
`))

func signedNum(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	if x > 0 {
		return "+" + fmtNum(x)
	}
	return fmtNum(x)
}

// flaggedHeadline is the row's headline when the run is flagged ("" for
// healthy runs: their headline only repeats the verdict).
func flaggedHeadline(r analysis.SweepRow) string {
	if r.ExitCode == 0 {
		return ""
	}
	return r.Headline
}

// sweepSection renders v as the report's comparison section (HTML-escaped
// by html/template; figures inlined as SVG with fonts shared by the page).
func sweepSection(v *SweepView, fonts *fontSet) (template.HTML, error) {
	h := sweepHTML{Summary: analysis.SweepSummaryLine(v.Rows), Note: v.Note}
	for _, r := range v.Rows {
		if r.Verdict == analysis.VerdictError {
			h.Failed = append(h.Failed, [2]string{r.Name, r.Error})
			continue
		}
		var flags []string
		for _, f := range r.Flagged {
			s := f.Detector
			if !math.IsNaN(f.FirstStep) {
				s += " (" + fmtNum(f.FirstStep) + ")"
			}
			flags = append(flags, s)
		}
		collapse := "—"
		if !math.IsNaN(r.GroupCollapse) {
			collapse = analysis.PyPercent(r.GroupCollapse, 0)
		}
		ho := signedNum(r.HeldOutChange)
		if r.HeldOutMetric != "" {
			ho += " " + strings.TrimPrefix(r.HeldOutMetric, ingest.EvalPrefix)
		}
		h.Rows = append(h.Rows, sweepHTMLRow{Verdict: strings.ToUpper(r.Verdict), VerdictClass: "v-" + r.Verdict,
			Name: r.Name, Kind: string(r.Kind), Records: fmt.Sprint(r.Records), Final: fmtNum(r.FinalReward),
			HeldOut: ho, Length: signedNum(r.LengthChange), Collapse: collapse, Flagged: strings.Join(flags, ", "),
			Headline: flaggedHeadline(r)})
	}
	for _, f := range SweepFigures(v) {
		svg, err := fonts.inline(f)
		if err != nil {
			return "", err
		}
		h.Figures = append(h.Figures, htmlFigure{Title: f.Title, SVG: svg, Notes: f.Notes})
	}
	var b bytes.Buffer
	if err := sweepTmpl.Execute(&b, h); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}
