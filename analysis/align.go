package analysis

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/goodhart-rl/goodhart/ingest"
)

// Alignment flags of a Snapshot.
const (
	FlagOK       = "ok"
	FlagWarning  = "warning"
	FlagCritical = "critical"
)

// Defaults of the alignment monitor.
const (
	DefaultAlignWindow          = 200
	DefaultBaselineSteps        = 300
	DefaultZThreshold           = 2.5
	DefaultSigmoidSteepness     = 1.2
	DefaultCorrectionRate       = 0.2
	DefaultMinConfidenceSteps   = 50
	DefaultDriftWindow          = 30
	DefaultStarvationWindow     = 20
	DefaultStarvationThreshold  = 1.0
	zStdFloor                   = 0.5 // percentage points
	minWeight, maxWeight        = 0.1, 5.0
	alignStateFormat            = "goodhart-alignment-state"
	alignStateVersion           = 1
	defaultMultiplierWhenAbsent = 5.0
)

// AlignOptions tune the alignment monitor. The zero value gives the monitor's
// defaults: window 200, baseline_steps 300, z_threshold 2.5, sigmoid
// steepness 1.2, auto-correction on with rate 0.2 and no decay,
// min_confidence_steps 50, drift_window 30, starvation_window 20,
// starvation_threshold 1.0, every snapshot kept. A zero field means "the
// default" (and, for Load, "keep the saved value"); negative values are
// rejected with ErrBadAlignOption.
type AlignOptions struct {
	Window        int // records in the ratio window
	BaselineSteps int // warm-up records that define the baseline
	// ZThreshold applies to every component not in ZThresholds.
	ZThreshold  float64
	ZThresholds map[string]float64
	// SigmoidSteepness is k in score = 1/(1+exp(k*max(|z|-t))).
	SigmoidSteepness float64
	// NoAutoCorrect turns the weight correction off.
	NoAutoCorrect       bool
	CorrectionRate      float64
	CorrectionRateDecay float64 // subtracted from the rate after each correction
	MinConfidenceSteps  int     // records after the baseline, and between corrections
	DriftWindow         int     // snapshots in the drift-velocity fit
	StarvationWindow    int     // consecutive near-zero records before an alert
	StarvationThreshold float64 // |value| below this counts as near zero
	// MaxSnapshots bounds the snapshots kept in memory (and in the saved
	// state): 0 keeps all, n > 0 the last n, -1 none (use a callback).
	MaxSnapshots int
}

// AlignConfig is the resolved configuration, as saved in the state file.
type AlignConfig struct {
	Expected            map[string]float64 `json:"expected"` // percentages
	Window              int                `json:"window"`
	BaselineSteps       int                `json:"baseline_steps"`
	ZThreshold          float64            `json:"z_threshold"`
	ZThresholds         map[string]float64 `json:"z_thresholds,omitempty"`
	SigmoidSteepness    float64            `json:"sigmoid_steepness"`
	AutoCorrect         bool               `json:"auto_correct"`
	CorrectionRate      float64            `json:"correction_rate"`
	CorrectionRateDecay float64            `json:"correction_rate_decay"`
	MinConfidenceSteps  int                `json:"min_confidence_steps"`
	DriftWindow         int                `json:"drift_window"`
	StarvationWindow    int                `json:"starvation_window"`
	StarvationThreshold float64            `json:"starvation_threshold"`
	MaxSnapshots        int                `json:"max_snapshots"`
}

// threshold returns t_c.
func (c *AlignConfig) threshold(comp string) float64 {
	if t, ok := c.ZThresholds[comp]; ok {
		return t
	}
	return c.ZThreshold
}

// apply overlays the non-zero fields of o on c and validates the result.
func (c *AlignConfig) apply(o AlignOptions) error {
	bad := func(name string, v any) error {
		return fmt.Errorf("%w: %s must be > 0, got %v", ErrBadAlignOption, name, v)
	}
	seti := func(dst *int, v int, name string) error {
		if v < 0 {
			return bad(name, v)
		}
		if v > 0 {
			*dst = v
		}
		return nil
	}
	setf := func(dst *float64, v float64, name string, zeroOK bool) error {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			if zeroOK {
				return fmt.Errorf("%w: %s must be >= 0, got %v", ErrBadAlignOption, name, v)
			}
			return bad(name, v)
		}
		if v > 0 {
			*dst = v
		}
		return nil
	}
	if o.Window > MaxAlignWindow {
		return fmt.Errorf("%w: window must be at most %d, got %d", ErrBadAlignOption, MaxAlignWindow, o.Window)
	}
	for _, e := range []error{
		seti(&c.Window, o.Window, "window"),
		seti(&c.BaselineSteps, o.BaselineSteps, "baseline_steps"),
		setf(&c.ZThreshold, o.ZThreshold, "z_threshold", false),
		setf(&c.SigmoidSteepness, o.SigmoidSteepness, "sigmoid_steepness", false),
		setf(&c.CorrectionRate, o.CorrectionRate, "correction_rate", false),
		setf(&c.CorrectionRateDecay, o.CorrectionRateDecay, "correction_rate_decay", true),
		seti(&c.MinConfidenceSteps, o.MinConfidenceSteps, "min_confidence_steps"),
		seti(&c.DriftWindow, o.DriftWindow, "drift_window"),
		seti(&c.StarvationWindow, o.StarvationWindow, "starvation_window"),
		setf(&c.StarvationThreshold, o.StarvationThreshold, "starvation_threshold", false),
	} {
		if e != nil {
			return e
		}
	}
	for _, k := range sortedNames(o.ZThresholds) {
		v := o.ZThresholds[k]
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: z_threshold for %s must be > 0, got %v", ErrBadAlignOption, k, v)
		}
		if c.ZThresholds == nil {
			c.ZThresholds = map[string]float64{}
		}
		c.ZThresholds[k] = v
	}
	if o.NoAutoCorrect {
		c.AutoCorrect = false
	}
	if o.MaxSnapshots < -1 {
		return fmt.Errorf("%w: max_snapshots must be >= -1, got %d", ErrBadAlignOption, o.MaxSnapshots)
	}
	if o.MaxSnapshots != 0 {
		c.MaxSnapshots = o.MaxSnapshots
	}
	return nil
}

// Correction is one weight change made by the automatic corrector.
type Correction struct {
	Component string  `json:"component"`
	From      float64 `json:"from"`
	To        float64 `json:"to"`
}

// Snapshot is the alignment state after one record past the baseline.
// Components is sorted; Ratios[i] and Z[i] belong to Components[i]. JSON
// has rewardguard's shape: {step, alignment_score, component_ratios,
// z_scores, drift_velocity, flag, corrections_applied, starvation_alerts}.
type Snapshot struct {
	Step               int          // 1-based record count
	AlignmentScore     float64      // in (0, 1); 0.5 exactly at the threshold
	Components         []string     // tracked components, sorted (shared; do not modify)
	Ratios             []float64    // magnitude shares, %, 2 decimals
	Z                  []float64    // z-scores against the baseline
	DriftVelocity      float64      // slope of the score per record over the drift window
	Flag               string       // ok, warning or critical
	CorrectionsApplied []Correction // weights changed at this record
	StarvationAlerts   []string     // components near zero for starvation_window records, sorted
	// Weights are the weights after this record's correction (sorted like
	// Components).
	Weights []float64
}

// Ratio returns the ratio of component c.
func (s *Snapshot) Ratio(c string) (float64, bool) { return s.lookup(s.Ratios, c) }

// ZScore returns the z-score of component c.
func (s *Snapshot) ZScore(c string) (float64, bool) { return s.lookup(s.Z, c) }

func (s *Snapshot) lookup(v []float64, c string) (float64, bool) {
	i := sort.SearchStrings(s.Components, c)
	if i < len(s.Components) && s.Components[i] == c && i < len(v) {
		return v[i], true
	}
	return 0, false
}

func namesToMap(names []string, v []float64) map[string]float64 {
	m := make(map[string]float64, len(names))
	for i, n := range names {
		if i < len(v) {
			m[n] = v[i]
		}
	}
	return m
}

type snapshotJSON struct {
	Step               int                `json:"step"`
	AlignmentScore     float64            `json:"alignment_score"`
	ComponentRatios    map[string]float64 `json:"component_ratios"`
	ZScores            map[string]float64 `json:"z_scores"`
	DriftVelocity      float64            `json:"drift_velocity"`
	Flag               string             `json:"flag"`
	CorrectionsApplied []Correction       `json:"corrections_applied"`
	StarvationAlerts   []string           `json:"starvation_alerts"`
	Weights            map[string]float64 `json:"weights"`
}

// MarshalJSON writes the snapshot with maps keyed by component.
func (s Snapshot) MarshalJSON() ([]byte, error) {
	j := snapshotJSON{Step: s.Step, AlignmentScore: s.AlignmentScore, ComponentRatios: namesToMap(s.Components, s.Ratios),
		ZScores: namesToMap(s.Components, s.Z), DriftVelocity: s.DriftVelocity, Flag: s.Flag,
		CorrectionsApplied: s.CorrectionsApplied, StarvationAlerts: s.StarvationAlerts, Weights: namesToMap(s.Components, s.Weights)}
	if j.CorrectionsApplied == nil {
		j.CorrectionsApplied = []Correction{}
	}
	if j.StarvationAlerts == nil {
		j.StarvationAlerts = []string{}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Snapshot) UnmarshalJSON(b []byte) error {
	var j snapshotJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	names := unionNames(j.ComponentRatios, j.ZScores)
	*s = Snapshot{Step: j.Step, AlignmentScore: j.AlignmentScore, Components: names, DriftVelocity: j.DriftVelocity,
		Flag: j.Flag, CorrectionsApplied: j.CorrectionsApplied, StarvationAlerts: j.StarvationAlerts}
	if len(s.CorrectionsApplied) == 0 {
		s.CorrectionsApplied = nil
	}
	if len(s.StarvationAlerts) == 0 {
		s.StarvationAlerts = nil
	}
	s.Ratios = make([]float64, len(names))
	s.Z = make([]float64, len(names))
	s.Weights = make([]float64, len(names))
	for i, n := range names {
		s.Ratios[i], s.Z[i] = j.ComponentRatios[n], j.ZScores[n]
		w, ok := j.Weights[n]
		if !ok {
			w = 1
		}
		s.Weights[i] = w
	}
	return nil
}

// alignComp is one tracked component.
type alignComp struct {
	name        string
	expected    float64 // percent; 0 when not expected
	thr         float64
	weight      float64
	starve      int
	ring        []float64 // |value| of the last Window records (0 = missing)
	sum         xsum      // exact sum of ring
	warm        []float64 // warm-up ratios
	mean, std   float64   // frozen baseline
	cur         float64   // this record's value
	ratio, z    float64
	lastNonzero int     // scratch for the fallback sum order
	approx      float64 // scratch: sum.approx() this record
}

// Aligner is the alignment monitor (rewardguard's paid-tier AutoMonitor,
// whose source is closed; this is its documented behaviour): a baseline of magnitude shares, z-scores against it, a 0–1
// alignment score, drift velocity, starvation alerts and automatic weight
// correction. Feed it with Step (a training loop, values already weighted
// by the caller with Weights) or Replay (a finished log). It is not safe
// for concurrent use.
//
// Each record costs O(components) on average: the window magnitudes are
// kept as exact running sums (Shewchuk partials, as in Python's math.fsum),
// and the window is re-summed the way rewardguard does only when a share
// lies within rounding error of a 2-decimal tie, so results match a fresh
// sum bit for bit.
type Aligner struct {
	cfg       AlignConfig
	comps     []*alignComp // sorted by name
	byName    map[string]*alignComp
	names     []string // names of comps (shared by snapshots until the set changes)
	pos, n    int      // ring position and fill
	steps     int
	frozen    bool
	rate      float64
	lastCorr  int
	corrected bool
	scores    []scorePoint // last DriftWindow scores, oldest first
	snaps     []Snapshot
	callbacks []func(Snapshot)
	// scratch
	freshSums  []float64
	slab       []float64
	forceFresh bool // benchmarks: always re-sum the window
	fallbacks  int  // records whose ratios needed a fresh re-sum (near a tie)
}

type scorePoint struct {
	Step  int     `json:"step"`
	Score float64 `json:"score"`
}

// NewAligner returns an alignment monitor for expected relative weights
// (normalised to percentages; the ExpectedPercentages errors apply) and
// options (ErrBadAlignOption).
func NewAligner(expected map[string]float64, opt AlignOptions) (*Aligner, error) {
	exp, err := ExpectedPercentages(expected)
	if err != nil {
		return nil, err
	}
	cfg := AlignConfig{Expected: exp, Window: DefaultAlignWindow, BaselineSteps: DefaultBaselineSteps,
		ZThreshold: DefaultZThreshold, SigmoidSteepness: DefaultSigmoidSteepness, AutoCorrect: true,
		CorrectionRate: DefaultCorrectionRate, MinConfidenceSteps: DefaultMinConfidenceSteps,
		DriftWindow: DefaultDriftWindow, StarvationWindow: DefaultStarvationWindow,
		StarvationThreshold: DefaultStarvationThreshold}
	if err := cfg.apply(opt); err != nil {
		return nil, err
	}
	a := &Aligner{cfg: cfg, byName: map[string]*alignComp{}, rate: cfg.CorrectionRate}
	for _, c := range sortedNames(exp) {
		a.track(c)
	}
	return a, nil
}

// Config returns the resolved configuration.
func (a *Aligner) Config() AlignConfig { return a.cfg }

// OnSnapshot registers f to be called with every snapshot, in order.
func (a *Aligner) OnSnapshot(f func(Snapshot)) { a.callbacks = append(a.callbacks, f) }

// StepCount returns the number of records seen.
func (a *Aligner) StepCount() int { return a.steps }

// Components returns the tracked components, sorted.
func (a *Aligner) Components() []string { return append([]string(nil), a.names...) }

// Weights returns the current weights (1.0 until corrected).
func (a *Aligner) Weights() map[string]float64 {
	out := make(map[string]float64, len(a.comps))
	for _, c := range a.comps {
		out[c.name] = c.weight
	}
	return out
}

// Rate returns the current correction rate (after decay).
func (a *Aligner) Rate() float64 { return a.rate }

// Snapshots returns the snapshots kept (see AlignOptions.MaxSnapshots).
func (a *Aligner) Snapshots() []Snapshot { return a.snaps }

// Baseline returns the frozen per-component baseline mean and population
// std of the ratios, and false during warm-up.
func (a *Aligner) Baseline() (mean, std map[string]float64, ok bool) {
	if !a.frozen {
		return nil, nil, false
	}
	mean, std = map[string]float64{}, map[string]float64{}
	for _, c := range a.comps {
		mean[c.name], std[c.name] = c.mean, c.std
	}
	return mean, std, true
}

// track adds a component (weight 1, empty window) and returns it.
func (a *Aligner) track(name string) *alignComp {
	if c, ok := a.byName[name]; ok {
		return c
	}
	c := &alignComp{name: name, expected: a.cfg.Expected[name], thr: a.cfg.threshold(name), weight: 1,
		ring: make([]float64, a.cfg.Window)}
	if !a.frozen && a.steps > 0 {
		c.warm = make([]float64, a.steps) // missing = 0 in earlier warm-up records
	}
	a.byName[name] = c
	a.comps = append(a.comps, c)
	sort.Slice(a.comps, func(i, j int) bool { return a.comps[i].name < a.comps[j].name })
	a.names = make([]string, len(a.comps))
	for i, c := range a.comps {
		a.names[i] = c.name
	}
	return c
}

// Step feeds one record's component values, taken as given (in a training
// loop they are already weighted by Weights). Values must be finite: on a
// NaN or ±Inf it returns an error wrapping ErrNonFinite and changes
// nothing. It returns nil during warm-up (the first BaselineSteps records),
// then the record's snapshot.
func (a *Aligner) Step(values map[string]float64) (*Snapshot, error) {
	names := sortedNames(values)
	for _, k := range names {
		if v := values[k]; math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: %s=%v", ErrNonFinite, k, v)
		}
	}
	for _, k := range names {
		a.track(k)
	}
	for _, c := range a.comps {
		c.cur = 0
	}
	for _, k := range names {
		a.byName[k].cur = values[k]
	}
	return a.advance(true), nil
}

// ReplayOptions tune Replay.
type ReplayOptions struct {
	// OpenLoop feeds the logged values unchanged. By default (closed loop)
	// each record's components are multiplied by the weights current
	// before it, simulating the corrector inside the training loop.
	OpenLoop bool
}

// Replay feeds every record of run (component columns, except rewardspy's
// "total" unless expected names it; a missing value counts as absent) and
// returns the number of snapshots produced. Register callbacks first to
// stream them.
func (a *Aligner) Replay(run *ingest.Run, opt ReplayOptions) (int, error) {
	var names []string
	for _, c := range run.Components() {
		if _, ok := a.cfg.Expected[c]; c == ingest.TotalComponent && !ok {
			continue
		}
		names = append(names, c)
	}
	if len(names) == 0 {
		return 0, ErrNoComponents
	}
	cols := make([][]float64, len(names))
	comps := make([]*alignComp, len(names))
	for i, n := range names {
		cols[i], _ = run.Column(ingest.ComponentPrefix + n)
		comps[i] = a.byName[n]
	}
	produced := 0
	for row := 0; row < run.Len(); row++ {
		for i, col := range cols {
			if row < len(col) && math.IsInf(col[row], 0) {
				return produced, fmt.Errorf("record %d: %w: %s=%v", row+1, ErrNonFinite, names[i], col[row])
			}
		}
		for _, c := range a.comps {
			c.cur = 0
		}
		for i, col := range cols {
			if row >= len(col) {
				continue
			}
			v := col[row]
			if math.IsNaN(v) {
				continue
			}
			c := comps[i]
			if c == nil {
				c = a.track(names[i])
				comps[i] = c
			}
			if !opt.OpenLoop {
				v *= c.weight
			}
			c.cur = v
		}
		if a.advance(false) != nil {
			produced++
		}
	}
	return produced, nil
}

// advance takes one record (the values in comps[].cur) through the
// monitor: starvation run lengths (|value| below the threshold, a missing
// value counting as 0), the window's magnitude ratios (rounded to 2
// decimals), the warm-up baseline (frozen at baseline_steps: per-component
// mean and population std of the ratio vectors), then z-scores against it
// (std floored at 0.5), the score 1/(1+exp(k·max(|z|-t))), the flag, drift
// velocity (least-squares slope of the last drift_window scores) and the
// weight correction (see AlignOptions).
func (a *Aligner) advance(want bool) *Snapshot {
	a.steps++
	s := a.steps
	cfg := &a.cfg
	// 2. starvation and 3. the window.
	full := a.n == cfg.Window
	for _, c := range a.comps {
		m := math.Abs(c.cur)
		if m < cfg.StarvationThreshold {
			c.starve++
		} else {
			c.starve = 0
		}
		if full {
			if old := c.ring[a.pos]; old != 0 {
				c.sum.add(-old)
			}
		}
		c.ring[a.pos] = m
		if m != 0 {
			c.sum.add(m)
		}
	}
	a.pos++
	if a.pos == cfg.Window {
		a.pos = 0
	}
	if !full {
		a.n++
	}
	a.ratios()

	// 4. warm-up.
	if !a.frozen {
		for _, c := range a.comps {
			c.warm = append(c.warm, c.ratio)
		}
		if s >= cfg.BaselineSteps {
			a.freeze()
		}
		return nil
	}

	// 5. z, score, flag.
	worst := math.Inf(-1)
	anyOver, anyCrit := false, false
	for _, c := range a.comps {
		c.z = (c.ratio - c.mean) / math.Max(c.std, zStdFloor)
		az := math.Abs(c.z)
		if d := az - c.thr; d > worst {
			worst = d
		}
		if az > c.thr {
			anyOver = true
		}
		if az > 2*c.thr {
			anyCrit = true
		}
	}
	score := 1 / (1 + math.Exp(cfg.SigmoidSteepness*worst))
	flag := FlagOK
	if anyCrit {
		flag = FlagCritical
	} else if anyOver {
		flag = FlagWarning
	}
	drift := a.drift(s, score)

	// 6. correction.
	var corr []Correction
	if cfg.AutoCorrect && s-cfg.BaselineSteps >= cfg.MinConfidenceSteps &&
		(!a.corrected || s-a.lastCorr >= cfg.MinConfidenceSteps) {
		for _, c := range a.comps {
			if !(math.Abs(c.z) > c.thr) || !(c.expected > 0) {
				continue
			}
			m := defaultMultiplierWhenAbsent
			if c.ratio != 0 {
				m = c.expected / c.ratio
			}
			m = clampf(m, minWeight, maxWeight)
			w := clampf(PyRound(c.weight*(1+a.rate*(m-1)), 4), minWeight, maxWeight)
			if w != c.weight {
				corr = append(corr, Correction{Component: c.name, From: c.weight, To: w})
				c.weight = w
			}
		}
		if len(corr) > 0 {
			a.lastCorr, a.corrected = s, true
			a.rate = math.Max(0, a.rate-cfg.CorrectionRateDecay)
		}
	}

	if !want && a.cfg.MaxSnapshots < 0 && len(a.callbacks) == 0 {
		return &noSnapshot // nobody looks at it: skip building the vectors
	}
	var starving []string
	for _, c := range a.comps {
		if c.starve >= cfg.StarvationWindow {
			starving = append(starving, c.name)
		}
	}
	snap := Snapshot{Step: s, AlignmentScore: score, Components: a.names, DriftVelocity: drift, Flag: flag,
		CorrectionsApplied: corr, StarvationAlerts: starving}
	nc := len(a.comps)
	vals := a.alloc(3 * nc)
	snap.Ratios, snap.Z, snap.Weights = vals[:nc:nc], vals[nc:2*nc:2*nc], vals[2*nc:]
	for i, c := range a.comps {
		snap.Ratios[i], snap.Z[i], snap.Weights[i] = c.ratio, c.z, c.weight
	}
	a.keep(snap)
	for _, f := range a.callbacks {
		f(snap)
	}
	return &snap
}

// noSnapshot marks "a snapshot was produced" for Replay when nobody keeps it.
var noSnapshot Snapshot

// alloc hands out n floats from a slab, so that snapshots cost one
// allocation per few thousand records instead of one each.
func (a *Aligner) alloc(n int) []float64 {
	if len(a.slab) < n {
		a.slab = make([]float64, max(n, 4096))
	}
	v := a.slab[:n:n]
	a.slab = a.slab[n:]
	return v
}

func clampf(x, lo, hi float64) float64 { return math.Max(lo, math.Min(x, hi)) }

func (a *Aligner) keep(s Snapshot) {
	switch max := a.cfg.MaxSnapshots; {
	case max < 0:
	case max == 0 || len(a.snaps) < max:
		a.snaps = append(a.snaps, s)
	default:
		copy(a.snaps, a.snaps[1:])
		a.snaps[len(a.snaps)-1] = s
	}
}

// drift appends the score and returns the least-squares slope of score
// against step over the last DriftWindow snapshots, 0 until there are that
// many.
func (a *Aligner) drift(step int, score float64) float64 {
	w := a.cfg.DriftWindow
	if len(a.scores) == w {
		copy(a.scores, a.scores[1:])
		a.scores[w-1] = scorePoint{step, score}
	} else {
		a.scores = append(a.scores, scorePoint{step, score})
	}
	if len(a.scores) < w {
		return 0
	}
	return driftSlope(a.scores)
}

// driftSlope is the least-squares slope sum((x-x̄)(y-ȳ)) / sum((x-x̄)²) of
// score against step; 0 for fewer than 2 points or equal steps. Steps after
// the baseline are consecutive, so x̄ = (first+last)/2 and the denominator
// n(n²-1)/12 are exact; other spacings are summed.
func driftSlope(p []scorePoint) float64 {
	n := len(p)
	if n < 2 {
		return 0
	}
	var sy float64
	for _, q := range p {
		sy += q.Score
	}
	my := sy / float64(n)
	first, last := p[0].Step, p[n-1].Step
	if last-first == n-1 {
		mx := float64(first+last) / 2
		var num float64
		for _, q := range p {
			num += (float64(q.Step) - mx) * (q.Score - my)
		}
		fn := float64(n)
		return num / (fn * (fn*fn - 1) / 12)
	}
	var sx float64
	for _, q := range p {
		sx += float64(q.Step)
	}
	mx := sx / float64(n)
	var num, den float64
	for _, q := range p {
		dx := float64(q.Step) - mx
		num += dx * (q.Score - my)
		den += dx * dx
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// freeze fixes the baseline: per component, the mean and population std of
// the warm-up ratios, correctly rounded from exact arithmetic (as Python's
// statistics.mean and pstdev).
func (a *Aligner) freeze() {
	for _, c := range a.comps {
		c.mean, c.std = exactMeanPstd(c.warm)
		c.warm = nil
	}
	a.frozen = true
}

// exactMeanPstd returns the correctly rounded mean and population standard
// deviation of xs (0, 0 for an empty slice).
func exactMeanPstd(xs []float64) (mean, std float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	sum := new(big.Rat)
	t := new(big.Rat)
	for _, x := range xs {
		sum.Add(sum, t.SetFloat64(x))
	}
	n := big.NewRat(int64(len(xs)), 1)
	m := new(big.Rat).Quo(sum, n)
	mean, _ = m.Float64()
	ss := new(big.Rat)
	d := new(big.Rat)
	for _, x := range xs {
		d.Sub(t.SetFloat64(x), m)
		ss.Add(ss, d.Mul(d, d))
	}
	v := new(big.Rat).Quo(ss, n)
	f := new(big.Float).SetPrec(256).SetRat(v)
	std, _ = f.Sqrt(f).Float64()
	return mean, std
}

// ratios sets c.ratio for every tracked component: round(M_c/sum M*100, 2)
// over the window, all 0 when sum M is 0.
func (a *Aligner) ratios() {
	total := 0.0
	for _, c := range a.comps {
		c.approx = c.sum.approx()
		total += c.approx
	}
	if total == 0 {
		for _, c := range a.comps {
			c.ratio = 0
		}
		return
	}
	if !math.IsInf(total, 0) && !a.forceFresh {
		// The shares rewardguard computes (sequential sums of n non-negative
		// terms) are within (2n+C+8) ulps of these; trust them unless that
		// interval holds a 2-decimal tie.
		relErr := float64(2*a.n+len(a.comps)+8) * 0x1p-52
		safe := true
		for _, c := range a.comps {
			q := c.approx / total * 100
			if nearTie(q, 2, relErr) {
				safe = false
				break
			}
			c.ratio = PyRound(q, 2)
		}
		if safe {
			return
		}
	}
	a.freshRatios()
}

// nearTie reports whether x lies within relErr*|x| of a tie of rounding to
// n decimals.
func nearTie(x float64, n int, relErr float64) bool {
	p := pow10tab[n]
	y := math.Abs(x) * p
	d := math.Abs(y - math.Floor(y) - 0.5)
	return d <= relErr*y*2+1e-300
}

// freshRatios re-sums the window as rewardguard's Monitor does: per
// component newest record first, then the grand total over components in
// the order they were first seen going back in time.
func (a *Aligner) freshRatios() {
	a.fallbacks++
	if cap(a.freshSums) < len(a.comps) {
		a.freshSums = make([]float64, len(a.comps))
	}
	sums := a.freshSums[:len(a.comps)]
	w := a.cfg.Window
	for i, c := range a.comps {
		s := 0.0
		c.lastNonzero = a.n
		for k := 0; k < a.n; k++ {
			v := c.ring[(a.pos-1-k+2*w)%w]
			if v != 0 && c.lastNonzero == a.n {
				c.lastNonzero = k
			}
			s += v
		}
		sums[i] = s
	}
	order := make([]int, len(a.comps))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool {
		return a.comps[order[x]].lastNonzero < a.comps[order[y]].lastNonzero
	})
	grand := 0.0
	for _, i := range order {
		grand += sums[i]
	}
	for i, c := range a.comps {
		if grand == 0 {
			c.ratio = 0
		} else {
			c.ratio = PyRound(sums[i]/grand*100, 2)
		}
	}
}

// xsum is an exact running sum of float64 values: a list of non-overlapping
// partials in increasing magnitude (Shewchuk's algorithm, as in Python's
// math.fsum). Adding the negation of a value added before removes it exactly.
type xsum struct{ p []float64 }

func (s *xsum) add(x float64) {
	i := 0
	for _, y := range s.p {
		if math.Abs(x) < math.Abs(y) {
			x, y = y, x
		}
		hi := x + y
		lo := y - (hi - x)
		if lo != 0 {
			s.p[i] = lo
			i++
		}
		x = hi
	}
	s.p = append(s.p[:i], x)
}

// approx returns the sum to within about one ulp.
func (s *xsum) approx() float64 {
	t := 0.0
	for _, p := range s.p {
		t += p
	}
	return t
}

func (s *xsum) reset(vals []float64) {
	s.p = s.p[:0]
	for _, v := range vals {
		if v != 0 {
			s.add(v)
		}
	}
}

// AlignCSVHeader returns the audit-trail header for the given components:
// step,alignment_score,flag,drift_velocity,starvation_alerts then
// ratio_<c>,z_<c> per component, sorted.
func AlignCSVHeader(components []string) []string {
	comps := append([]string(nil), components...)
	sort.Strings(comps)
	h := []string{"step", "alignment_score", "flag", "drift_velocity", "starvation_alerts"}
	for _, c := range comps {
		h = append(h, "ratio_"+c, "z_"+c)
	}
	return h
}

// AlignCSVWriter writes the alignment audit trail: score and
// drift with 6 decimals, ratios 2, z 4, starvation names joined by ';'. A
// component a snapshot does not track gets empty cells.
type AlignCSVWriter struct {
	w     *csv.Writer
	comps []string
	row   []string
	err   error
}

// NewAlignCSVWriter writes the header for components (sorted) and returns
// the writer.
func NewAlignCSVWriter(w io.Writer, components []string) *AlignCSVWriter {
	h := AlignCSVHeader(components)
	cw := &AlignCSVWriter{w: csv.NewWriter(w), row: make([]string, len(h))}
	for i := 5; i < len(h); i += 2 {
		cw.comps = append(cw.comps, h[i][len("ratio_"):])
	}
	cw.err = cw.w.Write(h)
	return cw
}

// Write writes one snapshot's row.
func (cw *AlignCSVWriter) Write(s Snapshot) error {
	if cw.err != nil {
		return cw.err
	}
	r := cw.row
	r[0] = strconv.Itoa(s.Step)
	r[1] = pyFormat(s.AlignmentScore, 6)
	r[2] = s.Flag
	r[3] = pyFormat(s.DriftVelocity, 6)
	r[4] = strings.Join(s.StarvationAlerts, ";")
	for i, c := range cw.comps {
		r[5+2*i], r[6+2*i] = "", ""
		if v, ok := s.Ratio(c); ok {
			r[5+2*i] = pyFormat(v, 2)
		}
		if v, ok := s.ZScore(c); ok {
			r[6+2*i] = pyFormat(v, 4)
		}
	}
	cw.err = cw.w.Write(r)
	return cw.err
}

// Flush flushes the underlying csv.Writer and returns any error so far.
func (cw *AlignCSVWriter) Flush() error {
	cw.w.Flush()
	if cw.err != nil {
		return cw.err
	}
	return cw.w.Error()
}

// WriteAlignCSV writes snapshots as an audit trail, with a column pair for
// every component any of them tracks.
func WriteAlignCSV(w io.Writer, snaps []Snapshot) error {
	set := map[string]bool{}
	for i := range snaps {
		for _, c := range snaps[i].Components {
			set[c] = true
		}
	}
	cw := NewAlignCSVWriter(w, sortedNames(set))
	for i := range snaps {
		if err := cw.Write(snaps[i]); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// alignState is the JSON state file.
type alignState struct {
	Format           string               `json:"format"`
	Version          int                  `json:"version"`
	Config           AlignConfig          `json:"config"`
	StepCount        int                  `json:"step_count"`
	Components       []string             `json:"components"`
	Weights          map[string]float64   `json:"weights"`
	Rate             float64              `json:"rate"`
	LastCorrection   int                  `json:"last_correction"`
	Corrected        bool                 `json:"corrected"`
	StarvationCounts map[string]int       `json:"starvation_counts"`
	Baseline         *alignBaseline       `json:"baseline"`
	WarmupRatios     map[string][]float64 `json:"warmup_ratios,omitempty"`
	Window           map[string][]float64 `json:"window"` // |value|, oldest first
	RecentScores     []scorePoint         `json:"recent_scores"`
	// Snapshots were saved by earlier versions; they are history, not
	// state, and are ignored when read.
	Snapshots json.RawMessage `json:"snapshots,omitempty"`
}

type alignBaseline struct {
	Mean map[string]float64 `json:"mean"`
	Std  map[string]float64 `json:"std"`
}

// MaxAlignWindow is the largest ratio window accepted (records per
// component kept in memory: 8 bytes each).
const MaxAlignWindow = 1 << 24

// maxStateValues bounds window x components of a loaded state (512 MB of
// window memory).
const maxStateValues = 1 << 26

// Save writes the monitor's state as JSON: configuration, step count,
// baseline (or the warm-up ratios), weights, correction rate and counters,
// the window of magnitudes and the last DriftWindow scores. Its size does
// not grow with the run (at most Window + BaselineSteps numbers per
// component). Snapshots are history, not state: they are not saved (stream
// them with OnSnapshot). LoadAligner resumes from it bit-exactly: the
// snapshots after the cut equal those of one uninterrupted run (floats are
// written in shortest round-trip form).
func (a *Aligner) Save(w io.Writer) error {
	st := alignState{Format: alignStateFormat, Version: alignStateVersion, Config: a.cfg, StepCount: a.steps,
		Components: a.Components(), Weights: a.Weights(), Rate: a.rate, LastCorrection: a.lastCorr,
		Corrected: a.corrected, StarvationCounts: map[string]int{}, Window: map[string][]float64{},
		RecentScores: a.scores}
	if st.RecentScores == nil {
		st.RecentScores = []scorePoint{}
	}
	if a.frozen {
		st.Baseline = &alignBaseline{Mean: map[string]float64{}, Std: map[string]float64{}}
	} else {
		st.WarmupRatios = map[string][]float64{}
	}
	w0 := a.cfg.Window
	for _, c := range a.comps {
		st.StarvationCounts[c.name] = c.starve
		win := make([]float64, a.n)
		for k := 0; k < a.n; k++ {
			win[k] = c.ring[(a.pos-a.n+k+2*w0)%w0]
		}
		st.Window[c.name] = win
		if a.frozen {
			st.Baseline.Mean[c.name], st.Baseline.Std[c.name] = c.mean, c.std
		} else {
			st.WarmupRatios[c.name] = append([]float64{}, c.warm...)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(st)
}

// LoadAligner restores an Aligner saved with Save. Non-zero fields of
// overrides replace the saved options (a new CorrectionRate also resets the
// current, decayed rate; a smaller Window keeps the newest records; a
// BaselineSteps override has no effect once the baseline is frozen).
// Callbacks are not saved: register them again; no snapshots are kept
// from before the cut.
//
// The state is checked before use, and refused (ErrBadAlignmentFile,
// naming the field) when: a number is not finite; a weight is outside
// [0.1, 5]; a count is negative or exceeds step_count; the rate is outside
// [0, correction_rate]; a ratio or baseline mean is outside [0, 100], a
// std or window magnitude negative, a score outside [0, 1]; an option is
// out of range (window at most MaxAlignWindow, window x components at most
// 2^26 values); a component name is empty
// or repeated, lacks its weight, window, counter or baseline, or a map
// names a component not listed; an expected component is not tracked; a
// window is longer than the window size or the step count; the warm-up
// does not have step_count ratios. Bad overrides are ErrBadAlignOption.
func LoadAligner(r io.Reader, overrides AlignOptions) (*Aligner, error) {
	var st alignState
	dec := json.NewDecoder(r)
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadAlignmentFile, err)
	}
	if st.Format != alignStateFormat {
		return nil, fmt.Errorf("%w: format is %q, want %q", ErrBadAlignmentFile, st.Format, alignStateFormat)
	}
	if st.Version != alignStateVersion {
		return nil, fmt.Errorf("%w: version %d, this goodhart reads version %d", ErrBadAlignmentFile, st.Version, alignStateVersion)
	}
	if err := st.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadAlignmentFile, err)
	}
	cfg := st.Config
	oldRate := cfg.CorrectionRate
	if err := cfg.apply(overrides); err != nil {
		return nil, err
	}
	a := &Aligner{cfg: cfg, byName: map[string]*alignComp{}, rate: st.Rate, steps: st.StepCount,
		lastCorr: st.LastCorrection, corrected: st.Corrected, frozen: st.Baseline != nil}
	if overrides.CorrectionRate > 0 && overrides.CorrectionRate != oldRate {
		a.rate = cfg.CorrectionRate
	}
	n := len(st.Window[st.Components[0]])
	for _, name := range st.Components {
		c := a.track(name)
		c.weight = st.Weights[name]
		c.starve = st.StarvationCounts[name]
		if a.frozen {
			c.mean, c.std = st.Baseline.Mean[name], st.Baseline.Std[name]
		} else {
			c.warm = append([]float64(nil), st.WarmupRatios[name]...)
		}
	}
	if n > cfg.Window {
		n = cfg.Window
	}
	for _, c := range a.comps {
		win := st.Window[c.name]
		win = win[len(win)-n:]
		copy(c.ring, win)
		c.sum.reset(win)
	}
	a.n = n
	a.pos = n % cfg.Window
	a.scores = st.RecentScores
	if len(a.scores) > cfg.DriftWindow {
		a.scores = a.scores[len(a.scores)-cfg.DriftWindow:]
	}
	if !a.frozen && a.steps >= cfg.BaselineSteps {
		a.freeze()
	}
	return a, nil
}

// validate checks a decoded state (see LoadAligner for the rules).
func (st *alignState) validate() error {
	cfg := &st.Config
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	posInt := func(name string, v, hi int) error {
		if v <= 0 || v > hi {
			return fmt.Errorf("config.%s is %d, want 1..%d", name, v, hi)
		}
		return nil
	}
	posF := func(name string, v float64) error {
		if !finite(v) || !(v > 0) {
			return fmt.Errorf("config.%s is %v, want a finite number > 0", name, v)
		}
		return nil
	}
	const maxInt = math.MaxInt32
	for _, e := range []error{
		posInt("window", cfg.Window, MaxAlignWindow),
		posInt("baseline_steps", cfg.BaselineSteps, maxInt),
		posInt("min_confidence_steps", cfg.MinConfidenceSteps, maxInt),
		posInt("drift_window", cfg.DriftWindow, maxInt),
		posInt("starvation_window", cfg.StarvationWindow, maxInt),
		posF("z_threshold", cfg.ZThreshold),
		posF("sigmoid_steepness", cfg.SigmoidSteepness),
		posF("correction_rate", cfg.CorrectionRate),
		posF("starvation_threshold", cfg.StarvationThreshold),
	} {
		if e != nil {
			return e
		}
	}
	if !finite(cfg.CorrectionRateDecay) || cfg.CorrectionRateDecay < 0 {
		return fmt.Errorf("config.correction_rate_decay is %v, want a finite number >= 0", cfg.CorrectionRateDecay)
	}
	if cfg.MaxSnapshots < -1 {
		return fmt.Errorf("config.max_snapshots is %d, want >= -1", cfg.MaxSnapshots)
	}
	for _, k := range sortedNames(cfg.ZThresholds) {
		if v := cfg.ZThresholds[k]; !finite(v) || !(v > 0) {
			return fmt.Errorf("config.z_thresholds.%s is %v, want a finite number > 0", k, v)
		}
	}
	if len(cfg.Expected) == 0 {
		return errors.New("config.expected is empty")
	}
	sum := 0.0
	for _, k := range sortedNames(cfg.Expected) {
		v := cfg.Expected[k]
		if !finite(v) || v < 0 || v > 100 {
			return fmt.Errorf("config.expected.%s is %v, want a percentage in [0, 100]", k, v)
		}
		sum += v
	}
	if math.Abs(sum-100) > 1e-6 {
		return fmt.Errorf("config.expected sums to %v%%, want 100%%", sum)
	}
	if st.StepCount < 0 {
		return fmt.Errorf("step_count is %d, want >= 0", st.StepCount)
	}
	if st.LastCorrection < 0 || st.LastCorrection > st.StepCount {
		return fmt.Errorf("last_correction is %d, want 0..step_count (%d)", st.LastCorrection, st.StepCount)
	}
	if !finite(st.Rate) || st.Rate < 0 || st.Rate > cfg.CorrectionRate {
		return fmt.Errorf("rate is %v, want a number in [0, correction_rate %v]", st.Rate, cfg.CorrectionRate)
	}
	if len(st.Components) == 0 {
		return errors.New("no components")
	}
	if len(st.Components) > maxStateValues/cfg.Window {
		return fmt.Errorf("config.window %d x %d components needs more than %d values in memory", cfg.Window, len(st.Components), maxStateValues)
	}
	names := map[string]bool{}
	for _, c := range st.Components {
		if c == "" || names[c] {
			return fmt.Errorf("component %q is empty or listed twice", c)
		}
		names[c] = true
	}
	for _, k := range sortedNames(cfg.Expected) {
		if !names[k] {
			return fmt.Errorf("expected component %s is not among the components", k)
		}
	}
	if st.Baseline == nil && st.StepCount >= cfg.BaselineSteps {
		return fmt.Errorf("no baseline after %d records (baseline_steps %d)", st.StepCount, cfg.BaselineSteps)
	}
	if st.Baseline != nil && st.StepCount < cfg.BaselineSteps {
		return fmt.Errorf("a baseline after only %d records (baseline_steps %d)", st.StepCount, cfg.BaselineSteps)
	}
	extra := func(field string, m map[string]bool) error {
		for _, k := range sortedNames(m) {
			if !names[k] {
				return fmt.Errorf("%s names %q, which is not among the components", field, k)
			}
		}
		return nil
	}
	for _, e := range []error{extra("weights", keysOf(st.Weights)), extra("starvation_counts", keysOf(st.StarvationCounts)),
		extra("window", keysOf(st.Window)), extra("warmup_ratios", keysOf(st.WarmupRatios))} {
		if e != nil {
			return e
		}
	}
	if st.Baseline != nil {
		if e := extra("baseline.mean", keysOf(st.Baseline.Mean)); e != nil {
			return e
		}
		if e := extra("baseline.std", keysOf(st.Baseline.Std)); e != nil {
			return e
		}
	}
	n := -1
	for _, c := range st.Components {
		w, ok := st.Weights[c]
		if !ok {
			return fmt.Errorf("no weight for %s", c)
		}
		if !finite(w) || w < minWeight || w > maxWeight {
			return fmt.Errorf("weight of %s is %v, outside [%v, %v]", c, w, minWeight, maxWeight)
		}
		k, ok := st.StarvationCounts[c]
		if !ok || k < 0 || k > st.StepCount {
			return fmt.Errorf("starvation count of %s is missing or outside 0..step_count (%d)", c, st.StepCount)
		}
		win, ok := st.Window[c]
		if !ok {
			return fmt.Errorf("no window for %s", c)
		}
		if n < 0 {
			n = len(win)
		} else if len(win) != n {
			return fmt.Errorf("window of %s has %d records, others %d", c, len(win), n)
		}
		for _, v := range win {
			if !finite(v) || v < 0 {
				return fmt.Errorf("window of %s holds %v, want finite magnitudes >= 0", c, v)
			}
		}
		if st.Baseline != nil {
			m, ok1 := st.Baseline.Mean[c]
			sd, ok2 := st.Baseline.Std[c]
			if !ok1 || !ok2 || !finite(m) || m < 0 || m > 100 || !finite(sd) || sd < 0 {
				return fmt.Errorf("baseline of %s is missing or invalid (mean %v, std %v)", c, m, sd)
			}
		} else {
			warm := st.WarmupRatios[c]
			if len(warm) != st.StepCount {
				return fmt.Errorf("warm-up of %s has %d records, step count is %d", c, len(warm), st.StepCount)
			}
			for _, v := range warm {
				if !finite(v) || v < 0 || v > 100 {
					return fmt.Errorf("warm-up ratio of %s is %v, want a percentage in [0, 100]", c, v)
				}
			}
		}
	}
	if n > cfg.Window || n > st.StepCount {
		return fmt.Errorf("window holds %d records, more than the window size %d or the step count %d", n, cfg.Window, st.StepCount)
	}
	if len(st.RecentScores) > cfg.DriftWindow {
		return fmt.Errorf("recent_scores has %d entries, more than drift_window %d", len(st.RecentScores), cfg.DriftWindow)
	}
	prev := 0
	for _, p := range st.RecentScores {
		if !finite(p.Score) || p.Score < 0 || p.Score > 1 || p.Step <= prev || p.Step > st.StepCount {
			return fmt.Errorf("recent_scores entry {step %d, score %v} is invalid (scores in [0, 1], steps increasing up to step_count)", p.Step, p.Score)
		}
		prev = p.Step
	}
	return nil
}

func keysOf[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}
