package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// ErrNotApplicable is returned (wrapped) by a figure function when the run
// or result lacks what the figure shows (no length column, no eval metric,
// no components). Callers skip the figure; errors.Is works on it.
var ErrNotApplicable = errors.New("nothing to draw")

// Default sizes. A figure is Width wide and PanelHeight tall per panel, plus
// a title strip; at 100% zoom that is about 770 px wide in a browser.
const (
	DefaultWidth       = 8 * vg.Inch
	DefaultPanelHeight = 2.7 * vg.Inch
	titleHeight        = 0.38 * vg.Inch
	maxLegendWidth     = 2.6 * vg.Inch
	legendLineMax      = 30 // legend entries are wrapped at spaces to lines of at most this many runes
	legendMaxLines     = 3  // and cut with "…" after this many lines
)

// Fonts: Liberation Sans (metric-compatible with Arial), embedded in SVG
// and PNG output.
var (
	sansFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
	boldFont = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}
)

// Panel is one chart of a Figure: a gonum/plot Plot and its legend, drawn
// to the right of the data area so it never hides data.
type Panel struct {
	Plot *plot.Plot
	// Series names the legend entries in order (full names; the drawn
	// legend wraps long ones onto up to three lines).
	Series  []string
	entries []legendEntry
}

// legendEntry is one legend row: its (wrapped) text lines and swatches.
type legendEntry struct {
	lines  []string
	thumbs []plot.Thumbnailer
}

// Figure is one titled figure made of panels stacked vertically.
type Figure struct {
	Kind   string // "timeline", "components", "balance", "session", "length", "group", "divergence"
	Title  string
	Panels []*Panel
	// Notes are short remarks shown under the figure in reports, e.g.
	// that a long run was drawn from per-bucket min/max/mean.
	Notes []string
	// Width and PanelHeight override the default size when > 0.
	Width, PanelHeight vg.Length
}

// newPanel returns a panel with goodhart's fonts, light grid and axis labels.
func newPanel(title, xlabel, ylabel string) *Panel {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(boldFont, 11)
	p.Title.Padding = vg.Points(4)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sansFont, 10.5)
		a.Tick.Label.Font = font.From(sansFont, 9.5)
		a.Tick.Marker = humanTicks{}
	}
	p.X.Padding, p.Y.Padding = vg.Points(2), vg.Points(2)
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 0xe4}
	g.Horizontal.Color = color.Gray{Y: 0xe4}
	p.Add(g)
	return &Panel{Plot: p}
}

// add adds plotters to the panel; a non-empty name also becomes a legend
// entry showing the plotters that are thumbnailers.
func (pa *Panel) add(name string, ps ...plot.Plotter) {
	pa.Plot.Add(ps...)
	if name == "" {
		return
	}
	var th []plot.Thumbnailer
	for _, p := range ps {
		if t, ok := p.(plot.Thumbnailer); ok {
			th = append(th, t)
		}
	}
	pa.Series = append(pa.Series, name)
	pa.entries = append(pa.entries, legendEntry{lines: wrap(name, legendLineMax, legendMaxLines), thumbs: th})
}

// legendOnly adds a legend entry without drawing anything in the data area
// (used to explain marker colours).
func (pa *Panel) legendOnly(name string, th ...plot.Thumbnailer) {
	pa.Series = append(pa.Series, name)
	pa.entries = append(pa.entries, legendEntry{lines: wrap(name, legendLineMax, legendMaxLines), thumbs: th})
}

// wrap breaks s at spaces into lines of at most n runes (a longer word is
// cut with "…"), keeping at most maxLines lines; the last kept line ends
// with "…" when text was left out.
func wrap(s string, n, maxLines int) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(s) {
		w = shorten(w, n)
		switch {
		case cur == "":
			cur = w
		case len([]rune(cur))+1+len([]rune(w)) <= n:
			cur += " " + w
		default:
			lines = append(lines, cur)
			cur = w
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	if len(lines) > maxLines {
		lines = lines[:maxLines]
		last := []rune(lines[maxLines-1])
		if len(last) >= n {
			last = last[:n-1]
		}
		lines[maxLines-1] = string(last) + "…"
	}
	return lines
}

// shorten cuts s to n runes, ending with "…".
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Structure describes the figure in text — kind, title, and per panel the
// title, axis labels, data ranges (before padding) and series names — for
// golden tests and for readers of the notebooks. It does not depend on
// rendering.
func (f *Figure) Structure() string {
	var b strings.Builder
	fmt.Fprintf(&b, "figure %s: %q\n", f.Kind, f.Title)
	for i, pa := range f.Panels {
		p := pa.Plot
		fmt.Fprintf(&b, "panel %d: %q\n", i+1, p.Title.Text)
		fmt.Fprintf(&b, "  x: %q [%s, %s]\n", p.X.Label.Text, num(p.X.Min), num(p.X.Max))
		fmt.Fprintf(&b, "  y: %q [%s, %s]\n", p.Y.Label.Text, num(p.Y.Min), num(p.Y.Max))
		for _, s := range pa.Series {
			fmt.Fprintf(&b, "  series: %s\n", s)
		}
	}
	for _, n := range f.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return b.String()
}

func num(x float64) string {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return "none"
	}
	return strconv.FormatFloat(x, 'g', 5, 64)
}

// humanTicks places labelled ticks at round values — multiples of 1, 2
// or 5 × 10^k, the smallest such step that gives at most 6 intervals over
// [lo, hi] — with four unlabelled minor ticks between (one for a step of
// 2 × 10^k), and labels like 250k and 1.5M instead of 250000 and 1.5e+06.
// A range too small or too odd for that (fewer than 2 labelled ticks)
// falls back to plot.DefaultTicks.
type humanTicks struct{}

// Ticks implements plot.Ticker.
func (humanTicks) Ticks(lo, hi float64) []plot.Tick {
	if ts := roundTicks(lo, hi); ts != nil {
		return ts
	}
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = humanNum(ts[i].Value)
		}
	}
	return ts
}

// roundTicks is humanTicks' rule; nil when it gives fewer than 2 labels.
func roundTicks(lo, hi float64) []plot.Tick {
	if !finite(lo) || !finite(hi) || hi <= lo {
		return nil
	}
	raw := (hi - lo) / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step, minor := 0.0, 0
	for _, m := range []struct {
		f float64
		n int
	}{{1, 5}, {2, 2}, {5, 5}, {10, 5}} {
		if m.f*mag >= raw*(1-1e-9) {
			step, minor = m.f*mag, m.n
			break
		}
	}
	if step == 0 || (hi-lo)/step > 1e4 {
		return nil
	}
	var ts []plot.Tick
	labels := 0
	sub := step / float64(minor)
	for k := math.Ceil(lo/sub - 1e-9); ; k++ {
		v := k * sub
		if v > hi+sub*1e-9 {
			break
		}
		if math.Abs(v) < sub*1e-9 {
			v = 0
		}
		t := plot.Tick{Value: v}
		if r := math.Round(v / step); math.Abs(v/step-r) < 1e-6 {
			t.Value = r * step
			if math.Abs(t.Value) < step*1e-9 {
				t.Value = 0
			}
			t.Label = humanNum(t.Value)
			labels++
		}
		ts = append(ts, t)
	}
	if labels < 2 {
		return nil
	}
	return ts
}

// humanNum formats x compactly: 0.25, 12, 1500, 25k, 1.5M, 2G.
func humanNum(x float64) string {
	a := math.Abs(x)
	switch {
	case a >= 1e9:
		return trimZeros(strconv.FormatFloat(x/1e9, 'f', 2, 64)) + "G"
	case a >= 1e6:
		return trimZeros(strconv.FormatFloat(x/1e6, 'f', 2, 64)) + "M"
	case a >= 1e4:
		return trimZeros(strconv.FormatFloat(x/1e3, 'f', 1, 64)) + "k"
	case a == 0:
		return "0"
	case a < 1e-3:
		return strconv.FormatFloat(x, 'g', 2, 64)
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}
