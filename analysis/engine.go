package analysis

import (
	"math"
	"slices"

	"github.com/goodhart-rl/goodhart/ingest"
)

// HistoryCap is how many records the engine keeps for baseline_std, as
// rewardspy's MetricStore does (its deque of 10,000 records).
const HistoryCap = 10_000

// The rewardspy-compatible detectors, in rewardspy's order.
const (
	DetVariance  = "variance"
	DetSlope     = "slope"
	DetComponent = "component"
	DetCeiling   = "ceiling"
	DetLength    = "length"
)

// StreamingDetectors are the names of the five rewardspy detectors run by
// the Engine, in report order.
var StreamingDetectors = []string{DetVariance, DetSlope, DetComponent, DetCeiling, DetLength}

// Record is one record fed to the Engine.
type Record struct {
	// RunStep is the run's own step value (the trainer step); it is copied
	// into alerts. NaN when unknown.
	RunStep float64
	// Reward is the scalar reward. A record whose reward is NaN or infinite
	// is ignored (not counted).
	Reward float64
	// Length is the response length; NaN when the record has none.
	Length float64
	// Components are the record's reward components in source order. A NaN
	// (or infinite) value means the component is absent from this record.
	Components []ComponentValue
}

// ComponentValue is one named reward component of a record.
type ComponentValue struct {
	Name  string
	Value float64
}

// Engine replays records one at a time through the five rewardspy
// detectors (variance, slope, component, ceiling, length; their rules are in
// the package documentation),
// with rewardspy's exact arithmetic. Its memory and the cost of Push never
// depend on how many records came before: the engine keeps the last W
// rewards and component values, the last HistoryCap rewards (for
// rewardspy's baseline_std) and, for length, the first and last W lengths.
// Push is O(components), plus O(W) when the reward ceiling moves (a new
// lifetime maximum) or the window holds non-integer lengths, and a one-off
// O(HistoryCap/5) when the variance baseline is frozen. Report is
// O(W log W + HistoryCap/5).
//
// An Engine is not safe for concurrent use.
type Engine struct {
	cfg  Config
	win  Windows
	sens Sensitivity
	want [5]bool // which of the five are reported (cfg.Detectors)

	steps   int   // records pushed (rewardspy's step_counter)
	window  *ring // last W rewards
	slots   compRing
	reward  Rolling
	history *ring // last HistoryCap rewards
	lifeMax float64

	compNames []string
	compIdx   map[string]int
	compStats []Rolling
	hasTotal  bool // "total" is among compNames

	variance  varianceState
	slope     slopeState
	component componentState
	ceiling   ceilingState
	length    lengthState

	th       thresholds
	unit     string // what a record is called in the diagnosis ("calls")
	latest   [5]finding
	lastAct  [5]Status
	alerts   []Alert
	scratchC []float64
}

// finding is a detector's decision at one record, kept compact (no
// pointers) so the per-record loop stays cheap; result() turns it into the
// Result with rewardspy's message, formatted only when needed.
type finding struct {
	c    code
	comp int32   // component index, for the component detector
	v    float64 // the number in the message (ratio, share, rate, z)
}

type code uint8

const (
	cInsufficient code = iota
	cNotApplicable
	cOK
	cVarianceAlert
	cVarianceWarn
	cSlopeUp
	cSlopeDown
	cComponentAlert
	cComponentWarn
	cCeilingAlert
	cLengthLonger
	cLengthShorter
)

var (
	fInsufficient  = finding{c: cInsufficient}
	fNotApplicable = finding{c: cNotApplicable}
	fOK            = finding{c: cOK}
)

func (f finding) status() Status {
	switch f.c {
	case cInsufficient:
		return StatusInsufficient
	case cNotApplicable:
		return StatusNotApplicable
	case cOK:
		return StatusOK
	case cVarianceAlert, cComponentAlert, cCeilingAlert:
		return StatusAlert
	}
	return StatusWarning
}

// result formats the finding the way rewardspy's detector does.
func (f finding) result(e *Engine) Result {
	r := Result{Status: f.status()}
	switch f.c {
	case cVarianceAlert:
		r.Severity, r.Message, r.Detail = SeverityHigh,
			"Reward variance collapsed to "+PyPercent(f.v, 1)+" of baseline.",
			"Model may have found a single dominant strategy (possible hack)."
	case cVarianceWarn:
		r.Severity, r.Message, r.Detail = SeverityLow,
			"Reward variance declining ("+PyPercent(f.v, 1)+" of baseline).",
			"Watch for convergence onto a single strategy."
	case cSlopeUp, cSlopeDown:
		dir := "upward"
		if f.c == cSlopeDown {
			dir = "downward"
		}
		r.Severity, r.Message, r.Detail = SeverityMedium,
			"Reward distribution shift detected ("+dir+").",
			"Policy may have switched strategies. Review recent rollouts."
	case cComponentAlert:
		r.Severity, r.Message, r.Detail = SeverityMedium,
			"Component '"+e.compNames[f.comp]+"' dominates reward ("+PyPercent(f.v, 0)+").",
			"Model may be exploiting this component. Check rollouts for shortcut behavior."
	case cComponentWarn:
		r.Severity, r.Message, r.Detail = SeverityLow,
			"Component '"+e.compNames[f.comp]+"' contributes "+PyPercent(f.v, 0)+" of reward.",
			"One component is starting to dominate the signal."
	case cCeilingAlert:
		r.Severity, r.Message, r.Detail = SeverityHigh,
			PyPercent(f.v, 0)+" of rollouts hit the reward ceiling.",
			"Model saturated the reward function. Check if this reflects true mastery."
	case cLengthLonger, cLengthShorter:
		dir := "longer"
		if f.c == cLengthShorter {
			dir = "shorter"
		}
		r.Severity, r.Message, r.Detail = SeverityMedium,
			"Response length drifted "+dir+" by "+PyFixed(f.v, 1)+" sigma.",
			"Possible verbosity bias or format shortcutting."
	}
	return r
}

// thresholds are the sensitivity-dependent constants, resolved once.
type thresholds struct {
	varAlert, varWarn   float64
	slopeH              float64
	compAlert, compWarn float64
	ceiling             float64
	lengthZ             float64
}

func thresholdsFor(s Sensitivity) thresholds {
	v, c := varianceThresholds[s], componentThresholds[s]
	return thresholds{varAlert: v[0], varWarn: v[1], slopeH: slopeThresholds[s],
		compAlert: c[0], compWarn: c[1], ceiling: ceilingThresholds[s], lengthZ: lengthThresholds[s]}
}

// NewEngine returns an engine for cfg with the windows win (see WindowFor;
// a zero field takes rewardspy's default: W 100, minimum counts 20/30/50).
// An unknown cfg.Sensitivity is treated as medium (Audit rejects it).
// cfg.Detectors selects which of the five appear in Report; names of batch
// detectors are ignored here.
func NewEngine(cfg Config, win Windows) *Engine {
	if win.W <= 0 {
		win.W = DefaultWindow
	}
	if win.SlopeMin <= 0 {
		win.SlopeMin = 20
	}
	if win.ComponentMin <= 0 {
		win.ComponentMin = 30
	}
	if win.CeilingMin <= 0 {
		win.CeilingMin = 50
	}
	sens := cfg.Sensitivity
	switch sens {
	case SensitivityLow, SensitivityMedium, SensitivityHigh:
	default:
		sens = SensitivityMedium
	}
	e := &Engine{
		cfg: cfg, win: win, sens: sens,
		window:  newRing(win.W),
		slots:   compRing{capacity: win.W},
		history: newRing(HistoryCap),
		lifeMax: math.Inf(-1),
		compIdx: map[string]int{},
	}
	e.length.init(win.W)
	e.th = thresholdsFor(sens)
	e.unit = "calls"
	five, _, _ := selectDetectors(cfg.Detectors, nil, "")
	e.setWant(five)
	return e
}

// setWant chooses which of the five the engine reports.
func (e *Engine) setWant(five map[string]bool) {
	for i, name := range StreamingDetectors {
		e.want[i] = five[name]
		e.latest[i] = fInsufficient
	}
}

// SetGrain names records after the run's grain in the diagnosis
// ("Collecting data... (40 calls so far)" for call grain, rewardspy's text;
// "steps", "samples" or "episodes" otherwise).
func (e *Engine) SetGrain(g ingest.Grain) {
	switch g {
	case ingest.GrainStep:
		e.unit = "logged steps"
	case ingest.GrainSample:
		e.unit = "samples"
	case ingest.GrainEpisode:
		e.unit = "episodes"
	default:
		e.unit = "calls"
	}
}

// Windows returns the windows the engine uses.
func (e *Engine) Windows() Windows { return e.win }

// Records returns how many records have been pushed (rewardspy's
// step_counter; records with a missing reward are not counted).
func (e *Engine) Records() int { return e.steps }

// count is rewardspy's store.count: the records kept, at most HistoryCap.
func (e *Engine) count() int { return e.history.len() }

// componentIndex returns the index of a component, registering it (in
// first-seen order, as rewardspy's dict does) when new.
func (e *Engine) componentIndex(name string) int {
	if i, ok := e.compIdx[name]; ok {
		return i
	}
	i := len(e.compNames)
	e.compIdx[name] = i
	e.compNames = append(e.compNames, name)
	e.compStats = append(e.compStats, Rolling{})
	if name == ingest.TotalComponent {
		e.hasTotal = true
	}
	return i
}

// Push adds one record, runs the five detectors and returns the alerts it
// raised (nil when none). A record with a non-finite reward is ignored.
func (e *Engine) Push(rec Record) []Alert {
	if math.IsNaN(rec.Reward) || math.IsInf(rec.Reward, 0) {
		return nil
	}
	vals := e.scratchC[:0]
	for _, c := range rec.Components {
		if math.IsNaN(c.Value) || math.IsInf(c.Value, 0) {
			continue
		}
		i := e.componentIndex(c.Name)
		for len(vals) <= i {
			vals = append(vals, math.NaN())
		}
		vals[i] = c.Value
	}
	e.scratchC = vals
	return e.push(rec.Reward, rec.Length, rec.RunStep, vals)
}

// push is Push with components already resolved to indexes (NaN = absent).
func (e *Engine) push(reward, length, runStep float64, comps []float64) []Alert {
	// store.append: evict the oldest window record from the statistics.
	if e.window.full() {
		old := e.window.at(0)
		e.reward.Remove(old)
		for i, v := range e.slots.oldest() {
			if !math.IsNaN(v) {
				e.compStats[i].Remove(v)
			}
		}
	}
	old, dropped := e.window.push(reward)
	e.slots.push(comps)
	e.history.push(reward)
	e.reward.Add(reward)
	for i, v := range comps {
		if !math.IsNaN(v) {
			e.compStats[i].Add(v)
		}
	}
	if reward > e.lifeMax {
		e.lifeMax = reward
	}
	e.steps++
	e.ceiling.update(old, dropped, reward)
	if !math.IsNaN(length) && !math.IsInf(length, 0) {
		e.length.add(length)
	}

	// engine.process: run the detectors in order and de-duplicate alerts.
	e.latest[0] = e.variance.check(e)
	e.latest[1] = e.slope.check(e, reward)
	e.latest[2] = e.component.check(e)
	e.latest[3] = e.ceiling.check(e)
	e.latest[4] = e.length.check(e)
	var out []Alert
	for i := range e.latest {
		f := e.latest[i]
		switch st := f.status(); st {
		case StatusWarning, StatusAlert:
			if e.lastAct[i] != st {
				r := f.result(e)
				a := Alert{Step: e.steps, RunStep: runStep, Detector: StreamingDetectors[i],
					Status: st, Severity: r.Severity, Message: r.Message, Detail: r.Detail}
				e.alerts = append(e.alerts, a)
				if e.want[i] {
					out = append(out, a)
				}
			}
			e.lastAct[i] = st
		case StatusOK:
			e.lastAct[i] = ""
		}
	}
	return out
}

// Results returns the latest result of each of the selected streaming
// detectors, in rewardspy's order.
func (e *Engine) Results() []NamedResult {
	var out []NamedResult
	for i, name := range StreamingDetectors {
		if e.want[i] {
			out = append(out, NamedResult{Name: name, Result: e.latest[i].result(e)})
		}
	}
	return out
}

// Alerts returns the alerts raised so far by the selected detectors, in
// record order.
func (e *Engine) Alerts() []Alert {
	var out []Alert
	for _, a := range e.alerts {
		if e.want[slices.Index(StreamingDetectors, a.Detector)] {
			out = append(out, a)
		}
	}
	return out
}

// Report returns the audit report of the records pushed so far, for the
// selected streaming detectors only (Audit adds the batch detectors).
func (e *Engine) Report() *Report {
	rep := &Report{Kind: KindRewardspy, Records: e.steps, Window: e.win.W}
	if e.steps > 0 {
		rep.Detectors = e.Results()
		rep.Alerts = e.Alerts()
		rep.Summary = e.Summary()
	}
	e.finish(rep)
	classify(rep)
	rep.Headline = headline(rep, "the reward mean is "+fmtNum(e.reward.Mean())+" over the last "+fmtNum(float64(e.window.len()))+" records")
	return rep
}

// finish fills the verdict, exit code and diagnosis from rep's detectors
// and alerts.
func (e *Engine) finish(rep *Report) {
	rep.Verdict = Verdict(e.count(), e.win.W, rep.Detectors)
	rep.ExitCode = ExitCode(rep.Detectors)
	rep.Diagnosis = e.diagnosis(rep.Detectors, rep.Alerts)
}

// baselineStd is rewardspy's store.baseline_std(0.2): the population std
// (Welford) of the first max(2, int(0.2*total)) kept rewards; 0 when fewer
// than 2 are kept.
func (e *Engine) baselineStd() float64 {
	total := e.history.len()
	if total < 2 {
		return 0
	}
	n := max(2, int(float64(total)*0.2))
	var s Rolling
	for i := 0; i < n; i++ {
		s.Add(e.history.at(i))
	}
	return s.Std()
}

// ceilingRate is rewardspy's store.ceiling_rate: the fraction of window
// rewards >= 0.99*ceiling.
func (e *Engine) ceilingRate(ceiling float64) float64 {
	n := e.window.len()
	if n == 0 {
		return 0
	}
	thr := ceiling * 0.99
	k := 0
	for i := 0; i < n; i++ {
		if e.window.at(i) >= thr {
			k++
		}
	}
	return float64(k) / float64(n)
}

// compRing holds the component values of the records in the window.
type compRing struct {
	slots    [][]float64
	start, n int
	capacity int
}

func (c *compRing) push(vals []float64) {
	if c.n < c.capacity {
		if len(c.slots) < c.capacity {
			c.slots = append(c.slots, append([]float64(nil), vals...))
		} else {
			j := (c.start + c.n) % c.capacity
			c.slots[j] = append(c.slots[j][:0], vals...)
		}
		c.n++
		return
	}
	c.slots[c.start] = append(c.slots[c.start][:0], vals...)
	c.start = (c.start + 1) % c.capacity
}

func (c *compRing) oldest() []float64 {
	if c.n == 0 {
		return nil
	}
	return c.slots[c.start]
}
