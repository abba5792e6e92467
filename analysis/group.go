package analysis

import (
	"gonum.org/v1/gonum/stat"

	"fmt"
	"math"

	"github.com/goodhart-rl/goodhart/ingest"
)

// DetGroup is the GRPO group-collapse detector's name.
const DetGroup = "group"

// Group-collapse parameters.
const (
	groupMinGroups  = 20   // insufficient data below this many groups (or step values)
	groupRecent     = 500  // rate over the last groupRecent groups
	groupCollapsed  = 1e-6 // a group whose reward pstdev is below this is collapsed
	groupAlertAbove = 0.5  // ALERT when the collapsed rate is above this
)

// groupDetector is GRPO group collapse: groups whose rewards
// all tie give GRPO a zero advantage, so no learning signal.
//
// Sample grain with a group column: consecutive rows with the same group id
// form one group; a group is collapsed when the population std of its
// finite rewards is < 1e-6 (a one-sample group is collapsed). After each
// completed group g (g >= 20), rate = collapsed / total over the last
// min(500, g) groups; ALERT (HIGH) while rate > 0.5, OK at rate <= 0.5:
// "{rate:.0%} of recent groups have zero reward variance."
//
// Step grain with zero_std_frac (TRL's frac_reward_zero_std): the same rule
// with rate = mean of the last min(500, n) finite zero_std_frac values,
// after at least 20 values.
//
// Alerts follow the package's de-duplication rule (one alert each time
// the status turns ALERT). Unlike rewardspy, the final status counts in the
// verdict.
type groupDetector struct{}

func init() { Register(groupDetector{}) }

func (groupDetector) Name() string { return DetGroup }

func (groupDetector) Applies(run *ingest.Run, cfg Config) bool {
	if _, ok := run.Column(ingest.ColZeroStdFrac); ok {
		return true
	}
	_, g := run.Column(ingest.ColGroup)
	_, gs := run.StringColumn(ingest.ColGroup)
	_, r := run.Column(ingest.ColReward)
	return (g || gs) && r
}

// groupUnit is one group (or one step's zero_std_frac): its collapsed
// weight (0..1) and the row range it covers.
type groupUnit struct {
	collapsed float64
	from, to  int // rows
}

func (d groupDetector) Detect(run *ingest.Run, cfg Config) (Result, []Alert) {
	return tidy(d.detect(run, cfg))
}

func (d groupDetector) detect(run *ingest.Run, cfg Config) (Result, []Alert) {
	units, fromSteps := groupUnits(run)
	rc := newRecordCounter(run)
	steps := run.Steps()
	g := groupRule{fromSteps: fromSteps}
	for _, u := range units {
		g.add(groupSpan{collapsed: u.collapsed, fromStep: steps[u.from], toStep: steps[u.to],
			fromRec: rc.at(u.from), toRec: rc.at(u.to)})
	}
	return g.final()
}

// groupSpan is a groupUnit with the run steps and record counts of its
// first and last rows.
type groupSpan struct {
	collapsed        float64
	fromStep, toStep float64
	fromRec, toRec   int
}

// groupRule is the group-collapse rule fed one unit at a time, in run
// order: it keeps the last groupRecent units, the running rate and the
// alerts raised, so a stream can apply it to every group of a run without
// holding the run.
type groupRule struct {
	fromSteps bool
	n         int         // units seen
	ring      []groupSpan // the last groupRecent units; unit i at i%groupRecent
	sum, rate float64
	k         int
	last      Status
	alerts    []Alert
}

// unit returns unit i (one of the last groupRecent).
func (g *groupRule) unit(i int) groupSpan { return g.ring[i%groupRecent] }

// add feeds the next unit: rate = mean collapsed weight of the last
// min(500, i+1) units once i+1 >= 20; an alert each time the status turns
// ALERT (rate > 0.5).
func (g *groupRule) add(u groupSpan) {
	i := g.n
	g.n++
	g.sum += u.collapsed
	if i >= groupRecent {
		g.sum -= g.unit(i).collapsed // unit i-groupRecent, about to be replaced
	}
	if len(g.ring) < groupRecent {
		g.ring = append(g.ring, u)
	} else {
		g.ring[i%groupRecent] = u
	}
	if i+1 < groupMinGroups {
		return
	}
	g.k = min(groupRecent, i+1)
	if i%groupRecent == 0 {
		// Re-sum now and then so removals do not accumulate error.
		g.sum = 0
		for j := i + 1 - g.k; j <= i; j++ {
			g.sum += g.unit(j).collapsed
		}
	}
	g.rate = max(g.sum/float64(g.k), 0)
	st := StatusOK
	if g.rate > groupAlertAbove {
		st = StatusAlert
	}
	if st.Actionable() && st != g.last {
		r := g.result(i, g.k, g.rate)
		g.alerts = append(g.alerts, Alert{Step: u.toRec, RunStep: u.toStep, Detector: DetGroup, Status: r.Status,
			Severity: r.Severity, Message: r.Message, Detail: r.Detail, Evidence: r.Evidence})
	}
	g.last = st
}

// result is the finding at unit i over the last k units at rate.
func (g *groupRule) result(i, k int, rate float64) Result {
	u, first := g.unit(i), g.unit(i+1-k)
	ev := &Evidence{FromStep: first.fromStep, ToStep: u.toStep,
		FromRecord: first.fromRec, ToRecord: u.toRec,
		Numbers: map[string]float64{"rate": rate, "window": float64(k)}}
	if rate <= groupAlertAbove {
		ev.Reason = fmt.Sprintf("%s of recent groups have zero reward variance, at or below the 50%% alert level.", PyPercent(rate, 0))
		return Result{Status: StatusOK, Message: "Groups keep reward variance.", Evidence: ev}
	}
	if g.fromSteps {
		ev.Reason = fmt.Sprintf("Over the last %d logged steps, on average %s of GRPO groups had identical rewards, so those groups gave no learning signal.", k, PyPercent(rate, 0))
	} else {
		ev.Numbers["collapsed"] = math.Round(rate * float64(k))
		ev.Reason = fmt.Sprintf("%d of the last %d groups had identical rewards for every sample, so those groups gave no learning signal.", int(math.Round(rate*float64(k))), k)
	}
	return Result{Status: StatusAlert, Severity: SeverityHigh,
		Message:  PyPercent(rate, 0) + " of recent groups have zero reward variance.",
		Detail:   "Check the reward for ties (a binary or saturated reward) or raise the group size; see evidence for the step range.",
		Evidence: ev}
}

// final is the detector's result after the units fed so far, and the
// alerts raised: INSUFFICIENT below 20 units.
func (g *groupRule) final() (Result, []Alert) {
	if g.n < groupMinGroups {
		noun := "groups"
		if g.fromSteps {
			noun = "logged steps"
		}
		return Result{Status: StatusInsufficient, Severity: SeverityLow,
			Message: fmt.Sprintf("Need %d %s to judge group collapse, have %d.", groupMinGroups, noun, g.n)}, nil
	}
	return g.result(g.n-1, g.k, g.rate), g.alerts
}

// clone is a copy of g that later adds to either do not affect.
func (g *groupRule) clone() *groupRule {
	c := *g
	c.ring = append([]groupSpan(nil), g.ring...)
	c.alerts = g.alerts[:len(g.alerts):len(g.alerts)]
	return &c
}

// groupUnits returns the groups of a sample-grain run, or one unit per
// finite zero_std_frac value; fromSteps says which.
func groupUnits(run *ingest.Run) (units []groupUnit, fromSteps bool) {
	if zs, ok := run.Column(ingest.ColZeroStdFrac); ok {
		if _, g := run.Column(ingest.ColGroup); !g || run.Grain == ingest.GrainStep {
			for i, v := range zs {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					continue
				}
				units = append(units, groupUnit{collapsed: math.Max(0, math.Min(1, v)), from: i, to: i})
			}
			return units, true
		}
	}
	reward, _ := run.Column(ingest.ColReward)
	key := groupKeys(run)
	if key == nil || reward == nil {
		return nil, false
	}
	start := -1
	var vals []float64
	flush := func(end int) {
		if start < 0 {
			return
		}
		if len(vals) > 0 {
			c := 0.0
			if pstd(vals) < groupCollapsed {
				c = 1
			}
			units = append(units, groupUnit{collapsed: c, from: start, to: end})
		}
		vals = vals[:0]
	}
	for i := range reward {
		if key[i] == "" {
			continue // a row without a group id belongs to no group
		}
		if start < 0 || key[i] != key[start] {
			flush(i - 1)
			start = i
		}
		if r := reward[i]; !math.IsNaN(r) && !math.IsInf(r, 0) {
			vals = append(vals, r)
		}
	}
	flush(len(reward) - 1)
	return units, false
}

// groupKeys returns the group id of each row as a string ("" = none).
func groupKeys(run *ingest.Run) []string {
	if s, ok := run.StringColumn(ingest.ColGroup); ok {
		return s
	}
	g, ok := run.Column(ingest.ColGroup)
	if !ok {
		return nil
	}
	out := make([]string, len(g))
	for i, v := range g {
		if !math.IsNaN(v) {
			out[i] = fmt.Sprint(v)
		}
	}
	return out
}

// pstd is the population standard deviation sqrt(Σ(x-mean)²/n) (gonum
// stat.PopStdDev), and 0 for n < 2.
func pstd(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	return stat.PopStdDev(xs, nil)
}
