package plots

import (
	"fmt"
	"sort"

	"gonum.org/v1/plot/vg/draw"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// SessionPoint is one alignment snapshot (analysis.Snapshot).
type SessionPoint struct {
	Step    int                // 1-based record
	Score   float64            // alignment score in (0, 1); 0.5 at the threshold
	Flag    string             // "ok", "warning" or "critical"
	Drift   float64            // drift velocity (score per record)
	Ratios  map[string]float64 // component shares, %
	Z       map[string]float64 // z-scores against the baseline
	Weights map[string]float64 // weights after this snapshot
	// Corrected names the components whose weight this snapshot changed.
	Corrected []string
	// Starving names the components in a starvation streak.
	Starving []string
}

// SessionView is an alignment session: the snapshots after the baseline,
// the expected shares (%) and the z threshold per component.
type SessionView struct {
	Expected map[string]float64
	// Threshold is the |z| threshold per component; the "" entry is the
	// default for components not listed; without either, DefaultZThreshold.
	Threshold map[string]float64
	Points    []SessionPoint
	// BaselineSteps is how many records the baseline took (drawn as the
	// start of the x axis).
	BaselineSteps int
}

// DefaultZThreshold is the alignment monitor's default z threshold.
const DefaultZThreshold = 2.5

func (s *SessionView) threshold(c string) float64 {
	if t, ok := s.Threshold[c]; ok && t > 0 {
		return t
	}
	if t, ok := s.Threshold[""]; ok && t > 0 {
		return t
	}
	return DefaultZThreshold
}

// components returns every component named in the session, sorted.
func (s *SessionView) components() []string {
	set := map[string]bool{}
	for c := range s.Expected {
		set[c] = true
	}
	for _, p := range s.Points {
		for c := range p.Ratios {
			set[c] = true
		}
		for c := range p.Weights {
			set[c] = true
		}
	}
	return sortedKeys(set)
}

// Session draws an alignment session in four panels: the alignment score
// with the 0.5 line (score at the z threshold) and each snapshot's flag as a
// coloured marker; component ratios with the expected shares dashed; z-scores
// with the ±threshold lines; and the weights, with a marker where the
// automatic correction changed one. ErrNotApplicable when there are no
// snapshots (the run was shorter than the baseline).
func Session(s *SessionView) (*Figure, error) {
	if s == nil || len(s.Points) == 0 {
		return nil, fmt.Errorf("session: %w: no alignment snapshots (is the run longer than the baseline?)", ErrNotApplicable)
	}
	comps := s.components()
	n := len(s.Points)
	x := make([]float64, n)
	score := make([]float64, n)
	for i, p := range s.Points {
		x[i] = float64(p.Step)
		score[i] = p.Score
	}
	xlabel := "record"
	if s.BaselineSteps > 0 {
		xlabel = fmt.Sprintf("record (baseline = first %d)", s.BaselineSteps)
	}
	f := &Figure{Kind: "session", Title: "Alignment session"}

	ps := newPanel("Alignment score", xlabel, "score (0–1)")
	for _, fl := range []string{"warning", "critical"} {
		if spans := flagRanges(s.Points, fl); len(spans) > 0 {
			sp := &Spans{Ranges: spans, Color: Fade(SeverityColor(fl), 0.22)}
			ps.Plot.Add(sp)
			ps.legendOnly("flag: "+fl, sp)
		}
	}
	ps.add("score", NewLine(x, score, Blue))
	ps.add("0.5 = at the z threshold", NewHLine(0.5, Black))
	ps.Plot.Y.Min, ps.Plot.Y.Max = 0, 1

	pr := newPanel("Component ratios", xlabel, "share of |reward| (%)")
	pz := newPanel("z-scores against the baseline", xlabel, "z (baseline std units)")
	pw := newPanel("Component weights", xlabel, "weight (×)")
	thresholds := map[float64]bool{}
	for k, c := range comps {
		col := SeriesColor(k)
		r, z, w := make([]float64, n), make([]float64, n), make([]float64, n)
		var cx, cy []float64
		for i, p := range s.Points {
			r[i], z[i], w[i] = get(p.Ratios, c), get(p.Z, c), get(p.Weights, c)
			for _, cc := range p.Corrected {
				if cc == c {
					cx, cy = append(cx, x[i]), append(cy, w[i])
				}
			}
		}
		pr.add(c, NewLine(x, r, col))
		if e, ok := s.Expected[c]; ok {
			pr.add(fmt.Sprintf("%s expected (%.1f%%)", c, e), NewHLine(e, col))
		}
		pz.add(c, NewLine(x, z, col))
		thresholds[s.threshold(c)] = true
		pw.add(c, NewLine(x, w, col))
		if len(cx) > 0 {
			m := NewMarkers(cx, cy, col)
			m.Shape = draw.PlusGlyph{}
			pw.add(fmt.Sprintf("%s corrected (%d)", c, len(cx)), m)
		}
	}
	ts := make([]float64, 0, len(thresholds))
	for t := range thresholds {
		ts = append(ts, t)
	}
	sort.Float64s(ts)
	for _, t := range ts {
		pz.add(fmt.Sprintf("±%g threshold", t), NewHLine(t, Vermillion), NewHLine(-t, Vermillion))
	}
	pw.add("1.0 (unchanged)", NewHLine(1, Grey))
	f.Panels = []*Panel{ps, pr, pz, pw}
	last := s.Points[n-1]
	f.Notes = append(f.Notes, fmt.Sprintf("%d snapshots; last at record %d: score %.3f, flag %s, drift %+.2g per record.",
		n, last.Step, last.Score, last.Flag, last.Drift))
	return f, nil
}

func get(m map[string]float64, k string) float64 {
	if v, ok := m[k]; ok {
		return v
	}
	return nan
}

// flagRanges returns the record ranges over which the flag was fl: from
// the first snapshot with it to the next snapshot without it.
func flagRanges(pts []SessionPoint, fl string) [][2]float64 {
	var out [][2]float64
	start := -1
	for i, p := range pts {
		on := lower(p.Flag) == fl
		switch {
		case on && start < 0:
			start = i
		case !on && start >= 0:
			out = append(out, [2]float64{float64(pts[start].Step), float64(p.Step)})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, [2]float64{float64(pts[start].Step), float64(pts[len(pts)-1].Step)})
	}
	return out
}

// maxSessionPoints bounds the snapshots a SessionView keeps when built from
// a replay: every k-th snapshot plus every one with a correction or a flag
// change, so a million-record replay still draws quickly.
const maxSessionPoints = 2000

// SessionViewOf converts alignment snapshots and the monitor's
// configuration into a SessionView (all snapshots kept).
func SessionViewOf(snaps []analysis.Snapshot, cfg analysis.AlignConfig) *SessionView {
	v := sessionBase(cfg)
	for i := range snaps {
		v.Points = append(v.Points, pointOf(&snaps[i]))
	}
	return v
}

func sessionBase(cfg analysis.AlignConfig) *SessionView {
	v := &SessionView{Expected: cfg.Expected, BaselineSteps: cfg.BaselineSteps, Threshold: map[string]float64{}}
	for c, t := range cfg.ZThresholds {
		v.Threshold[c] = t
	}
	v.Threshold[""] = cfg.ZThreshold // default for every other component
	return v
}

func pointOf(s *analysis.Snapshot) SessionPoint {
	p := SessionPoint{Step: s.Step, Score: s.AlignmentScore, Flag: s.Flag, Drift: s.DriftVelocity,
		Ratios: map[string]float64{}, Z: map[string]float64{}, Weights: map[string]float64{},
		Starving: append([]string(nil), s.StarvationAlerts...)}
	for i, c := range s.Components {
		if i < len(s.Ratios) {
			p.Ratios[c] = s.Ratios[i]
		}
		if i < len(s.Z) {
			p.Z[c] = s.Z[i]
		}
		if i < len(s.Weights) {
			p.Weights[c] = s.Weights[i]
		}
	}
	for _, c := range s.CorrectionsApplied {
		p.Corrected = append(p.Corrected, c.Component)
	}
	return p
}

// Align replays run through an alignment monitor with the expected weights
// and options (closed loop unless ropt.OpenLoop, like `reportgen align`)
// and returns the session for drawing, keeping about 2,000 snapshots: every
// k-th, each one that applied a correction or changed the flag, and the
// one at the run's last record. ErrNotApplicable (wrapped) when the run has no components.
func Align(run *ingest.Run, expected map[string]float64, opt analysis.AlignOptions, ropt analysis.ReplayOptions) (*SessionView, error) {
	if len(components(run)) == 0 {
		return nil, fmt.Errorf("session: %w: the run logs no reward components", ErrNotApplicable)
	}
	opt.MaxSnapshots = -1
	a, err := analysis.NewAligner(expected, opt)
	if err != nil {
		return nil, err
	}
	cfg := a.Config()
	v := sessionBase(cfg)
	stride := max(1, (run.Len()-cfg.BaselineSteps+maxSessionPoints-1)/maxSessionPoints)
	prevFlag := ""
	a.OnSnapshot(func(s analysis.Snapshot) {
		keep := s.Step%stride == 0 || len(s.CorrectionsApplied) > 0 || s.Flag != prevFlag || s.Step == run.Len()
		prevFlag = s.Flag
		if keep { // build the point only when kept: a replay makes one snapshot per record
			v.Points = append(v.Points, pointOf(&s))
		}
	})
	if _, err := a.Replay(run, ropt); err != nil {
		return nil, err
	}
	return v, nil
}
