package analysis

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/goodhart-rl/goodhart/ingest"
)

// Sentinel errors of Audit; test with errors.Is.
var (
	// ErrUnknownDetector: Config.Detectors names a detector that does not exist.
	ErrUnknownDetector = errors.New("unknown detector")
	// ErrBadConfig: a Config field is out of range (sensitivity, window).
	ErrBadConfig = errors.New("bad audit config")
	// ErrNoReward: the run has records but no reward column.
	ErrNoReward = errors.New("run has no reward column")
)

// selectDetectors resolves Config.Detectors for a run of kind k. nil, []
// or ["all"] select the kind's default set (KindDetectors: rewardspy's five
// and the batch detectors for the rewardspy kind, the kind's batch
// detectors otherwise; only those that apply run); "rewardspy" stands for
// the five; other entries are detector names. batch is the registered batch
// detectors to consider (nil: Registered()). k "" means every registered
// batch detector (used to validate names).
func selectDetectors(names []string, batch []Detector, k Kind) (five map[string]bool, chosen []Detector, err error) {
	if batch == nil {
		batch = Registered()
	}
	five = map[string]bool{}
	all := len(names) == 0
	for _, n := range names {
		if strings.TrimSpace(n) == "all" {
			all = true
		}
	}
	if all {
		if k == "" || k == KindRewardspy {
			for _, n := range StreamingDetectors {
				five[n] = true
			}
		}
		if k == "" {
			return five, batch, nil
		}
		want := map[string]bool{}
		for _, n := range kindBatch[k] {
			want[n] = true
		}
		for _, d := range batch {
			if want[d.Name()] {
				chosen = append(chosen, d)
			}
		}
		return five, chosen, nil
	}
	byName := map[string]Detector{}
	for _, d := range batch {
		byName[d.Name()] = d
	}
	seen := map[string]bool{}
	var unknown []string
	for _, n := range names {
		n = strings.TrimSpace(n)
		switch {
		case n == "":
		case n == "rewardspy":
			for _, s := range StreamingDetectors {
				five[s] = true
			}
		case isStreaming(n):
			five[n] = true
		case byName[n] != nil:
			if !seen[n] {
				seen[n] = true
				chosen = append(chosen, byName[n])
			}
		default:
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		valid := append([]string{"all", "rewardspy"}, StreamingDetectors...)
		var extra []string
		for _, d := range batch {
			extra = append(extra, d.Name())
		}
		sort.Strings(extra)
		valid = append(valid, extra...)
		return nil, nil, fmt.Errorf("%w %s (valid: %s)", ErrUnknownDetector,
			strings.Join(quoteAll(unknown), ", "), strings.Join(valid, ", "))
	}
	sort.SliceStable(chosen, func(i, j int) bool { return chosen[i].Name() < chosen[j].Name() })
	return five, chosen, nil
}

// RewardspyMode reports whether names ask for rewardspy's own audit
// ("rewardspy" among them): the run is then judged as a rewardspy call log
// (rewardspy's verdict words and diagnosis, bit for bit), whatever its kind.
func RewardspyMode(names []string) bool {
	for _, n := range names {
		if strings.TrimSpace(n) == "rewardspy" {
			return true
		}
	}
	return false
}

// AuditKind is the kind an audit judges run as: KindRewardspy in rewardspy
// mode (see RewardspyMode), else cfg.Kind, else DetectKind(run).
func AuditKind(run *ingest.Run, cfg Config) Kind {
	switch {
	case RewardspyMode(cfg.Detectors):
		return KindRewardspy
	case cfg.Kind != "":
		return cfg.Kind
	}
	return DetectKind(run)
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

// Validate checks cfg: sensitivity "" or low/medium/high, window >= 0, a
// finite max reward, and known detector names.
func (cfg Config) Validate() error {
	switch cfg.Sensitivity {
	case "", SensitivityLow, SensitivityMedium, SensitivityHigh:
	default:
		return fmt.Errorf("%w: sensitivity %q: want low, medium or high", ErrBadConfig, cfg.Sensitivity)
	}
	if cfg.Window < 0 {
		return fmt.Errorf("%w: window %d: must be > 0", ErrBadConfig, cfg.Window)
	}
	if cfg.HasMaxReward && (math.IsNaN(cfg.MaxReward) || math.IsInf(cfg.MaxReward, 0)) {
		return fmt.Errorf("%w: max reward %v: must be a finite number", ErrBadConfig, cfg.MaxReward)
	}
	if cfg.Kind != "" {
		if _, err := ParseKind(string(cfg.Kind)); err != nil {
			return err
		}
	}
	_, _, err := selectDetectors(cfg.Detectors, nil, "")
	return err
}

// Audit replays run through the streaming Engine (the five rewardspy
// detectors, with the windows of WindowFor), then runs the selected batch
// detectors, and returns the report: final statuses (the five first, then
// batch detectors by name), alerts in record order, verdict, exit code,
// diagnosis and summary statistics.
//
// Records with a missing (NaN) reward are skipped by the five and not
// counted in Report.Records. Each alert's RunStep is the run's step column
// at its record (the row index when the run has none). With
// Config.Detectors nil or ["all"], batch detectors that do not apply to the
// run's columns are left out; a batch detector named explicitly is always
// reported (NOT_APPLICABLE when it does not apply). A run with no records
// gives an empty report: no detectors, verdict "collecting", exit code 0,
// diagnosis "No records found.", no summary.
func Audit(run *ingest.Run, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	kind := AuditKind(run, cfg)
	cfg.Kind = kind
	five, batch, err := selectDetectors(cfg.Detectors, nil, kind)
	if err != nil {
		return nil, err
	}
	win := WindowFor(run, cfg)
	e := NewEngine(cfg, win)
	e.setWant(five)
	e.SetGrain(run.Grain)
	reward, hasReward := run.Column(ingest.ColReward)
	if run.Len() > 0 && !hasReward {
		// The ingest error lists the run's numeric keys, best candidates
		// first, and the --map line to type.
		return nil, fmt.Errorf("%w: %w", ErrNoReward, ingest.NoRewardError(run))
	}
	// The batch detectors read the run only: run them on the other core
	// while the engine replays it.
	outs := make([]batchOut, len(batch))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i, d := range batch {
			outs[i] = runBatch(d, run, cfg)
		}
	}()
	if hasReward {
		replay(e, run, reward)
	}
	<-done
	return assemble(e, run, cfg, win, batch, outs)
}

// assemble builds the report from an engine that has replayed the run (or
// the stream) and the outputs of the batch detectors run on run (the whole
// run, or the stream's sample): the five's results and alerts, the batch
// detectors' results by name, alerts in record order, verdict, exit code,
// class, diagnosis and headline. cfg.Kind is the kind judged. It reads the
// engine without changing it.
func assemble(e *Engine, run *ingest.Run, cfg Config, win Windows, batch []Detector, outs []batchOut) (*Report, error) {
	kind := cfg.Kind
	explicit := !(len(cfg.Detectors) == 0 || containsAll(cfg.Detectors))
	rep := &Report{Kind: kind, Records: e.Records(), Window: win.W}
	if rep.Records > 0 {
		rep.Detectors = e.Results()
		rep.Alerts = e.Alerts()
		rep.Summary = e.Summary()
		for i, d := range batch {
			o := outs[i]
			if o.err != nil {
				return nil, o.err
			}
			if !o.ran {
				if explicit {
					rep.Detectors = append(rep.Detectors, NamedResult{Name: d.Name(),
						Result: Result{Status: StatusNotApplicable, Message: "The run lacks the columns this detector needs."}})
				}
				continue
			}
			rep.Detectors = append(rep.Detectors, NamedResult{Name: d.Name(), Result: o.res})
			rep.Alerts = append(rep.Alerts, o.alerts...)
		}
		sort.SliceStable(rep.Alerts, func(i, j int) bool { return rep.Alerts[i].Step < rep.Alerts[j].Step })
	}
	e.finish(rep)
	classify(rep)
	if kind != KindRewardspy {
		rep.Verdict = kindVerdict(rep)
		if rep.Records >= win.W || rep.Verdict != VerdictHealthy {
			rep.Diagnosis = kindDiagnosis(rep, run)
		} else {
			rep.Verdict = VerdictCollecting
		}
	}
	rep.Headline = headline(rep, movement(kind, run))
	return rep, nil
}

// batchOut is what one batch detector returned; ran is false when it does
// not apply to the run.
type batchOut struct {
	res    Result
	alerts []Alert
	ran    bool
	err    error
}

// runBatch runs one batch detector, turning a panic into an error so a bug
// in one detector is a clear message, not a crash.
func runBatch(d Detector, run *ingest.Run, cfg Config) (out batchOut) {
	defer func() {
		if p := recover(); p != nil {
			out.err = fmt.Errorf("detector %s failed on %s: %v (a bug: please report it; --detectors rewardspy skips it)", d.Name(), run.Source, p)
		}
	}()
	if run.Len() == 0 || !d.Applies(run, cfg) {
		return out
	}
	out.res, out.alerts = d.Detect(run, cfg)
	out.ran = true
	return out
}

func containsAll(names []string) bool {
	for _, n := range names {
		if strings.TrimSpace(n) == "all" {
			return true
		}
	}
	return false
}

// replay pushes every row of run with a reward into e.
func replay(e *Engine, run *ingest.Run, reward []float64) {
	replayFrom(e, run, reward, 0, false)
}

// replayFrom pushes every row of run (rows base, base+1, ... of a longer
// run) with a finite reward into e. An alert's run step is the row's step
// value; when run has no step column it is the row index in the longer run,
// or NaN when noStepNaN (the longer run has a step column elsewhere).
func replayFrom(e *Engine, run *ingest.Run, reward []float64, base int, noStepNaN bool) {
	steps, hasSteps := run.Column(ingest.ColStep)
	length, hasLength := run.Column(ingest.ColLength)
	// Components in the order the run first saw them (rewardspy sums the
	// shares in first-seen order); each registered with the engine the
	// first time a record carries it.
	names := componentOrder(run)
	cols := make([][]float64, len(names))
	idx := make([]int, len(names))
	for i, n := range names {
		cols[i], _ = run.Column(ingest.ComponentPrefix + n)
		idx[i] = -1
	}
	var vals []float64
	for row := 0; row < run.Len(); row++ {
		r := reward[row]
		if math.IsNaN(r) || math.IsInf(r, 0) {
			continue
		}
		vals = vals[:0]
		for i, c := range cols {
			v := c[row]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			if idx[i] < 0 {
				idx[i] = e.componentIndex(names[i])
			}
			for len(vals) <= idx[i] {
				vals = append(vals, math.NaN())
			}
			vals[idx[i]] = v
		}
		l := math.NaN()
		if hasLength {
			l = length[row]
		}
		rs := float64(base + row)
		switch {
		case hasSteps:
			rs = steps[row]
		case noStepNaN:
			rs = math.NaN()
		}
		e.push(r, l, rs, vals)
	}
}

// componentOrder returns the run's component names in the order the source
// listed them (ingest.MetaComponentOrder, kept by the JSONL reader), then
// any others sorted. rewardspy sums component shares in first-seen order,
// and replay registers each component the first time a record carries it,
// walking a record's components in this order, which reproduces that.
func componentOrder(run *ingest.Run) []string {
	names := run.Components()
	var listed []string
	if s := run.Meta[ingest.MetaComponentOrder]; s != "" {
		_ = json.Unmarshal([]byte(s), &listed)
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	var out []string
	used := map[string]bool{}
	for _, n := range listed {
		if have[n] && !used[n] {
			used[n] = true
			out = append(out, n)
		}
	}
	for _, n := range names {
		if !used[n] {
			out = append(out, n)
		}
	}
	return out
}
