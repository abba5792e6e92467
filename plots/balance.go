package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg/draw"

	"github.com/goodhart-rl/goodhart/analysis"
)

// BalanceRow is one component of a balance analysis (analysis.Balance), in
// percent of the total reward magnitude.
type BalanceRow struct {
	Component      string
	Real           float64 // real share, %
	Expected       float64 // expected share, %
	Difference     float64 // Real - Expected, percentage points
	Severity       string  // "ok", "warning" or "critical"
	Recommendation string
	Multiplier     float64 // suggested weight multiplier
	Unexpected     bool    // logged but not in the expected weights
}

// BalanceView is what the balance figure and report table show: the rows
// sorted by component, the overall severity and how many records the
// balance covers.
type BalanceView struct {
	Records  int
	Severity string
	Rows     []BalanceRow
}

// Balance draws rewardguard's two panels: real vs expected share per
// component (real bars coloured by severity, expected as dashed outlines,
// both labelled with their value), and the suggested weight multipliers with
// a dashed line at 1.0 (no change). Component names lose the prefix and
// suffix they all share (TrimCommon; the axis label says which) and are
// shortened (ShortName); labels too long for their slot are rotated. The
// share axis starts at 0. ErrNotApplicable when b has no rows.
func Balance(b *BalanceView) (*Figure, error) {
	if b == nil || len(b.Rows) == 0 {
		return nil, fmt.Errorf("balance: %w: no components to compare", ErrNotApplicable)
	}
	full := make([]string, len(b.Rows))
	for i, r := range b.Rows {
		full[i] = r.Component
	}
	names, prefix, suffix := TrimCommon(full)
	names = append([]string(nil), names...)
	pos := make([]float64, len(b.Rows))
	real, exp, mult := make([]float64, len(b.Rows)), make([]float64, len(b.Rows)), make([]float64, len(b.Rows))
	realC, multC := make([]color.Color, len(b.Rows)), make([]color.Color, len(b.Rows))
	realL, expL, multL := make([]string, len(b.Rows)), make([]string, len(b.Rows)), make([]string, len(b.Rows))
	for i, r := range b.Rows {
		names[i] = ShortName(names[i])
		pos[i] = float64(i)
		real[i], exp[i], mult[i] = r.Real, r.Expected, r.Multiplier
		realC[i] = SeverityColor(r.Severity)
		multC[i] = Grey
		if r.Multiplier != 1 {
			multC[i] = SeverityColor(r.Severity)
		}
		realL[i] = fmt.Sprintf("%.1f%%", r.Real)
		expL[i] = fmt.Sprintf("%.1f%%", r.Expected)
		multL[i] = fmt.Sprintf("%.2fx", r.Multiplier)
	}
	lbl := text.Style{Font: font.From(sansFont, 8.5), Color: Black, Handler: text.Plain{Fonts: font.DefaultCache}}
	f := &Figure{Kind: "balance", Title: "Reward balance by component"}
	if b.Records > 0 {
		f.Title = fmt.Sprintf("Reward balance by component (last %d records)", b.Records)
	}
	top := newPanel("Real vs expected share", "", "share of |reward| (%)")
	top.add("expected", &Bars{Pos: pos, Values: exp, Color: Grey, Width: 0.36, Offset: 0.19, Hatch: true, Labels: expL, LabelStyle: lbl})
	top.Plot.Add(&Bars{Pos: pos, Values: real, Colors: realC, Color: Blue, Width: 0.36, Offset: -0.19, Labels: realL, LabelStyle: lbl})
	for _, s := range []string{"ok", "warning", "critical"} {
		top.legendOnly("real: "+s, &Bars{Color: SeverityColor(s)})
	}
	bot := newPanel("Suggested weight multipliers", "component", "multiplier (×)")
	bot.add("no change (1.0×)", NewHLine(1, Black))
	bot.Plot.Add(&Bars{Pos: pos, Values: mult, Colors: multC, Color: Grey, Width: 0.5, Labels: multL, LabelStyle: lbl})
	hi, _ := maxOf(real, exp)
	top.Plot.Y.Max = math.Max(top.Plot.Y.Max, hi*1.12)
	m, _ := maxOf(mult)
	bot.Plot.Y.Max = math.Max(1.2, m*1.15)
	// Labels wider than their category slot (about 70 characters of 9.5pt
	// text across the data area, shared by the categories) are rotated.
	longest := 0
	for _, n := range names {
		longest = max(longest, len([]rune(n)))
	}
	rotate := longest*len(names) > 60
	if n := trimNote("Component names", prefix, suffix); n != "" {
		f.Notes = append(f.Notes, n)
		bot.Plot.X.Label.Text = "component (" + affixWords(prefix, suffix) + ")"
	}
	for _, pa := range []*Panel{top, bot} {
		pa.Plot.NominalX(names...)
		pa.Plot.X.Min, pa.Plot.X.Max = -0.6, float64(len(names))-0.4
		if rotate {
			pa.Plot.X.Tick.Label.Rotation = math.Pi / 6
			pa.Plot.X.Tick.Label.XAlign = draw.XRight
			pa.Plot.X.Tick.Label.YAlign = draw.YCenter
		}
		pa.Plot.Y.Min = 0
	}
	f.Panels = []*Panel{top, bot}
	return f, nil
}

func maxOf(vs ...[]float64) (float64, bool) {
	_, hi, ok := finiteRange(vs...)
	return hi, ok
}

// BalanceViewOf converts an analysis balance result into the rows the
// balance figure and report table show, sorted by component.
func BalanceViewOf(r *analysis.BalanceResult) *BalanceView {
	if r == nil {
		return nil
	}
	v := &BalanceView{Records: r.EpisodeCount, Severity: r.Severity}
	for _, c := range r.Components() {
		cb := r.ImbalanceReport[c]
		m, ok := r.SuggestedRewardWeights[c]
		if !ok {
			m = 1
		}
		v.Rows = append(v.Rows, BalanceRow{Component: c, Real: cb.Real, Expected: cb.Expected,
			Difference: cb.Difference, Severity: cb.Severity, Recommendation: cb.Recommendation,
			Multiplier: m, Unexpected: cb.Unexpected})
	}
	return v
}
