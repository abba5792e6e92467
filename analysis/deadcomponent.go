package analysis

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/goodhart-rl/goodhart/ingest"
)

// DetDeadComponent is the dead-component detector's name.
const DetDeadComponent = "dead_component"

// Dead-component parameters.
const (
	deadRelTol     = 1e-3 // ~0 means |v| <= max(1e-9, 1e-3 * scale)
	deadAbsTol     = 1e-9
	deadMinValues  = 3    // a component needs this many finite values to be judged
	deadBlipShare  = 0.05 // whole-run dead tolerates this share of non-zero blips (n >= 20)
	deadTailShare  = 0.2  // "dead from step s on" needs a zero tail of >= 20% of the values ...
	deadTailMinLen = 3    // ... and >= 3 values
)

// deadComponentDetector flags reward components that contribute nothing:
// a term that is ~0 for the whole run never fired (a bug, an unreachable
// condition, or a weight of 0), and one that goes to ~0 from some step on
// stopped paying (the policy abandoned it, or learned to dodge a penalty
// by a route that also zeroes it). Either way the policy gets no signal from
// it and the reward is not the one designed.
//
// Per component c (excluding "total") with finite values v_1..v_n (n >= 3):
// scale = the largest mean |v| over all components; a value is ~0 when
// |v| <= max(1e-9, 1e-3 * scale).
//
//   - whole run: every value ~0 (when n < 20), or at least 95% of them (n >= 20,
//     so a rare blip does not hide a dead term);
//   - from step s: the longest all-~0 suffix starts at s, covers at least
//     max(3, 20% of n) values, and some earlier value was not ~0.
//
// Penalties (a name containing "penalty", or every non-~0 value negative)
// are judged only by the strict whole-run rule: a penalty that rarely or
// no longer fires is usually the policy avoiding it, which is learning.
//
// Each dead component is a WARNING (MEDIUM), not an ALERT: a dead term is a
// reward-design fault to fix, not by itself proof of gaming. The alert's
// run_step is the first step of the dead stretch.
type deadComponentDetector struct{}

func init() { Register(deadComponentDetector{}) }

func (deadComponentDetector) Name() string { return DetDeadComponent }

func (deadComponentDetector) Applies(run *ingest.Run, cfg Config) bool {
	for _, c := range run.Components() {
		if c != ingest.TotalComponent {
			return true
		}
	}
	return false
}

type deadFinding struct {
	name      string
	wholeRun  bool
	fromRow   int
	fromIdx   int // index into the component's finite values
	n, zeros  int
	meanAbsOn float64 // mean |v| before the dead stretch
}

func (d deadComponentDetector) Detect(run *ingest.Run, cfg Config) (Result, []Alert) {
	return tidy(d.detect(run, cfg))
}

func (deadComponentDetector) detect(run *ingest.Run, cfg Config) (Result, []Alert) {
	type series struct {
		name string
		rows []int
		vals []float64
	}
	// The scale first, then one component's finite values at a time, so a
	// long run holds one component's copy, not all of them.
	var names []string
	scale := 0.0
	for _, c := range run.Components() {
		if c == ingest.TotalComponent {
			continue
		}
		names = append(names, c)
		col, _ := run.Column(ingest.ComponentPrefix + c)
		m, k := 0.0, 0
		for _, v := range col {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				m += math.Abs(v)
				k++
			}
		}
		if k > 0 {
			scale = math.Max(scale, m/float64(k))
		}
	}
	tol := math.Max(deadAbsTol, deadRelTol*scale)
	rc := newRecordCounter(run)
	steps := run.Steps()
	judged := 0
	var found []deadFinding
	for _, name := range names {
		rows, _, vals := finiteSeries(run, ingest.ComponentPrefix+name)
		s := series{name, rows, vals}
		n := len(s.vals)
		if n < deadMinValues {
			continue
		}
		judged++
		zeros := 0
		for _, v := range s.vals {
			if math.Abs(v) <= tol {
				zeros++
			}
		}
		penalty := strings.Contains(strings.ToLower(s.name), "penalty")
		if !penalty && zeros < n {
			penalty = true
			for _, v := range s.vals {
				if math.Abs(v) > tol && v > 0 {
					penalty = false
					break
				}
			}
		}
		whole := zeros == n || (!penalty && n >= 20 && float64(zeros) >= (1-deadBlipShare)*float64(n))
		if whole {
			found = append(found, deadFinding{name: s.name, wholeRun: true, fromRow: s.rows[0], n: n, zeros: zeros})
			continue
		}
		tail := n
		for tail > 0 && math.Abs(s.vals[tail-1]) <= tol {
			tail--
		}
		tailLen := n - tail
		if !penalty && tailLen >= deadTailMinLen && float64(tailLen) >= deadTailShare*float64(n) && tail > 0 {
			on := 0.0
			for _, v := range s.vals[:tail] {
				on += math.Abs(v)
			}
			found = append(found, deadFinding{name: s.name, fromRow: s.rows[tail], fromIdx: tail,
				n: n, zeros: tailLen, meanAbsOn: on / float64(tail)})
		}
	}
	if judged == 0 {
		return Result{Status: StatusInsufficient, Severity: SeverityLow,
			Message: fmt.Sprintf("Need %d logged values of a component to judge it.", deadMinValues)}, nil
	}
	if len(found) == 0 {
		return Result{Status: StatusOK, Message: "Every reward component contributes."}, nil
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].fromRow < found[j].fromRow })
	last := run.Len() - 1
	var alerts []Alert
	var parts []string
	for _, f := range found {
		ev := &Evidence{FromStep: steps[f.fromRow], ToStep: steps[last],
			FromRecord: rc.at(f.fromRow), ToRecord: rc.at(last),
			Numbers: map[string]float64{"values": float64(f.n), "near_zero": float64(f.zeros), "tolerance": tol}}
		var msg string
		if f.wholeRun {
			if f.zeros == f.n {
				ev.Reason = fmt.Sprintf("Component '%s' is ~0 (|v| <= %s) on all %d logged values.", f.name, fmtNum(tol), f.n)
			} else {
				ev.Reason = fmt.Sprintf("Component '%s' is ~0 (|v| <= %s) on %d of %d logged values.", f.name, fmtNum(tol), f.zeros, f.n)
			}
			msg = fmt.Sprintf("Component '%s' is ~0 for the whole run.", f.name)
			parts = append(parts, f.name+" (whole run)")
		} else {
			ev.Numbers["mean_abs_before"] = f.meanAbsOn
			ev.Reason = fmt.Sprintf("Component '%s' averaged |%s| before step %s and is ~0 on all %d logged values from then on.",
				f.name, fmtNum(f.meanAbsOn), fmtNum(steps[f.fromRow]), f.zeros)
			msg = fmt.Sprintf("Component '%s' is ~0 from step %s on.", f.name, fmtNum(steps[f.fromRow]))
			parts = append(parts, fmt.Sprintf("%s (from step %s)", f.name, fmtNum(steps[f.fromRow])))
		}
		res := Result{Status: StatusWarning, Severity: SeverityMedium, Message: msg,
			Detail:   "A dead term gives the policy no signal: check its trigger condition and weight, or drop it.",
			Evidence: ev}
		alerts = append(alerts, alertFrom(DetDeadComponent, res, run, rc, f.fromRow))
	}
	if len(found) == 1 {
		r := alerts[0]
		return Result{Status: StatusWarning, Severity: SeverityMedium, Message: r.Message, Detail: r.Detail, Evidence: r.Evidence}, alerts
	}
	first := alerts[0].Evidence
	ev := &Evidence{FromStep: first.FromStep, ToStep: first.ToStep, FromRecord: first.FromRecord, ToRecord: first.ToRecord,
		Numbers: map[string]float64{"dead_components": float64(len(found)), "tolerance": tol},
		Reason:  fmt.Sprintf("%d reward components contribute ~nothing: %s.", len(found), strings.Join(parts, ", "))}
	return Result{Status: StatusWarning, Severity: SeverityMedium,
		Message:  fmt.Sprintf("%d components are ~0: %s.", len(found), strings.Join(parts, ", ")),
		Detail:   "A dead term gives the policy no signal: check its trigger condition and weight, or drop it.",
		Evidence: ev}, alerts
}
