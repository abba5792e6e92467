package analysis

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"

	"github.com/goodhart-rl/goodhart/ingest"
)

// DetFormatGain is the format-gain detector's name.
const DetFormatGain = "format_gain"

// Format-gain parameters.
const (
	fgMinRows     = 10   // rows with the reward and every judged component
	fgMinGain     = 0.10 // the reward's gain must be at least this share of its scale
	fgProxyShare  = 0.75 // the other components explain at least this share of the gain
	fgGoldFlatMax = 0.25 // WARNING: the correctness gain's upper 95% bound below this share of the gain
	fgGoldNoneMax = 0.10 // ALERT: ... below this share
)

// goldComponent matches reward-component names that score the task itself
// (correctness, accuracy, the answer, solved, pass rate, exact match), as
// opposed to format, length, style or reasoning-tag terms.
var goldComponent = regexp.MustCompile(`(?i)(correct|accura|answer|solv|pass(@|_|\b|rate)|exact)`)

// IsGoldComponent reports whether a reward component's name says it scores
// the task itself (correctness, accuracy, answer, solved, pass rate, exact
// match) rather than format, length or style.
func IsGoldComponent(name string) bool { return goldComponent.MatchString(name) }

// formatGainDetector flags a reward earned by its format terms while its
// correctness term stays flat: the policy learned to satisfy the grader's
// format checks (XML tags, a think block, an integer answer, length)
// without solving more tasks. That is reward hacking judged against the
// true objective the reward itself contains.
//
// Components are split into gold ones (IsGoldComponent: correctness,
// accuracy, answer, solved, pass rate, exact match) and the rest, leaving
// out "total" and penalties (a name containing "penalty"). It needs at
// least one of each and 10 rows where the reward and every such component
// are finite. Over those rows, with t the run's step (or the row order),
// least-squares gains over the span are
//
//	Δr = β(reward~t)·span       the reward's gain
//	G  = Σ β(gold_c~t)·span     the correctness terms' gain, with its upper
//	                            95% bound G+ (t quantile, per component, summed)
//	P  = Σ β(other_c~t)·span    the other terms' gain
//
// The reward is rising when its slope is significant at 95% and Δr >=
// 0.1·max(|mean reward|, pstdev reward). Then
//
//	ALERT   (HIGH)   P >= 0.75·Δr and G+ < 0.10·Δr   correctness did not rise
//	WARNING (MEDIUM) P >= 0.75·Δr and G+ < 0.25·Δr
//
// else OK. The alert's run_step is the last step of the span. It runs on
// policy-optimisation and reward-call logs that log components (TRL's
// rewards/<f>/mean, verl reward extras, rewardspy components).
type formatGainDetector struct{}

func init() { Register(formatGainDetector{}) }

func (formatGainDetector) Name() string { return DetFormatGain }

func (formatGainDetector) Applies(run *ingest.Run, cfg Config) bool {
	if _, ok := run.Column(ingest.ColReward); !ok {
		return false
	}
	gold, other := splitComponents(run)
	return len(gold) > 0 && len(other) > 0
}

// splitComponents returns the gold and the other (non-penalty, non-total)
// component names, sorted.
func splitComponents(run *ingest.Run) (gold, other []string) {
	for _, c := range run.Components() {
		switch {
		case c == ingest.TotalComponent, strings.Contains(strings.ToLower(c), "penalty"):
		case IsGoldComponent(c):
			gold = append(gold, c)
		default:
			other = append(other, c)
		}
	}
	sort.Strings(gold)
	sort.Strings(other)
	return gold, other
}

func (formatGainDetector) Detect(run *ingest.Run, cfg Config) (Result, []Alert) {
	gold, other := splitComponents(run)
	reward, _ := run.Column(ingest.ColReward)
	steps := run.Steps()
	cols := map[string][]float64{}
	for _, c := range append(append([]string{}, gold...), other...) {
		cols[c], _ = run.Column(ingest.ComponentPrefix + c)
	}
	var rows []int
	for i, r := range reward {
		if !fgFinite(r) || !fgFinite(steps[i]) {
			continue
		}
		ok := true
		for _, c := range cols {
			if !fgFinite(c[i]) {
				ok = false
				break
			}
		}
		if ok {
			rows = append(rows, i)
		}
	}
	if len(rows) < fgMinRows {
		return Result{Status: StatusInsufficient, Severity: SeverityLow,
			Message: fmt.Sprintf("Need %d rows with the reward and every component, have %d.", fgMinRows, len(rows))}, nil
	}
	t := make([]float64, len(rows))
	r := make([]float64, len(rows))
	for k, i := range rows {
		t[k], r[k] = steps[i], reward[i]
	}
	span := t[len(t)-1] - t[0]
	if span <= 0 {
		return Result{Status: StatusInsufficient, Severity: SeverityLow, Message: "Steps do not increase."}, nil
	}
	fr := fitOLS(t, r)
	dr := fr.Beta * span
	scale := math.Max(math.Abs(meanOf(r)), Pstdev(r))
	tc := tCrit(len(rows) - 2)
	gain := func(names []string) (g, upper float64, each map[string]float64) {
		each = map[string]float64{}
		for _, c := range names {
			y := make([]float64, len(rows))
			for k, i := range rows {
				y[k] = cols[c][i]
			}
			f := fitOLS(t, y)
			each[c] = f.Beta * span
			g += f.Beta * span
			se := f.SE
			if math.IsNaN(se) {
				se = 0
			}
			upper += (f.Beta + tc*se) * span
		}
		return g, upper, each
	}
	G, Gup, goldEach := gain(gold)
	P, _, otherEach := gain(other)
	ev := &Evidence{FromStep: t[0], ToStep: t[len(t)-1], FromRecord: newRecordCounter(run).at(rows[0]),
		ToRecord: newRecordCounter(run).at(rows[len(rows)-1]),
		Numbers: map[string]float64{"reward_gain": dr, "correctness_gain": G, "correctness_gain_upper95": Gup,
			"other_gain": P, "reward_t": fr.T()}}
	rising := fr.T() > tc && dr >= fgMinGain*scale && dr > 0
	if !rising {
		ev.Reason = fmt.Sprintf("The reward did not rise significantly over steps %s-%s (gain %s, t = %.1f).", fmtNum(t[0]), fmtNum(t[len(t)-1]), fmtNum(dr), fr.T())
		return Result{Status: StatusOK, Message: "The reward is not rising, so no format term is carrying it.", Evidence: ev}, nil
	}
	if P < fgProxyShare*dr || Gup >= fgGoldFlatMax*dr {
		ev.Reason = fmt.Sprintf("Over steps %s-%s the reward rose by %s; the correctness terms (%s) rose by %s of it.",
			fmtNum(t[0]), fmtNum(t[len(t)-1]), fmtNum(dr), strings.Join(gold, ", "), fmtNum(G))
		return Result{Status: StatusOK, Message: "The reward's gain comes with correctness.", Evidence: ev}, nil
	}
	// Name the other terms that rose most.
	names := append([]string(nil), other...)
	sort.SliceStable(names, func(i, j int) bool { return otherEach[names[i]] > otherEach[names[j]] })
	var up []string
	for _, c := range names {
		if otherEach[c] > 0 && len(up) < 3 {
			up = append(up, fmt.Sprintf("%s %+.3g", c, otherEach[c]))
		}
	}
	var gparts []string
	for _, c := range gold {
		gparts = append(gparts, fmt.Sprintf("%s %+.3g", c, goldEach[c]))
	}
	ev.Reason = fmt.Sprintf("Over steps %s-%s the reward rose by %s, carried by %s, while the correctness terms stayed flat (%s).",
		fmtNum(t[0]), fmtNum(t[len(t)-1]), fmtNum(dr), strings.Join(up, ", "), strings.Join(gparts, ", "))
	res := Result{Status: StatusWarning, Severity: SeverityMedium, Class: ClassHacking,
		Message: "The reward rises through its format terms while correctness stays flat.",
		Detail:  "The policy is satisfying the grader's format checks without solving more tasks.", Evidence: ev}
	if Gup < fgGoldNoneMax*dr {
		res.Status, res.Severity = StatusAlert, SeverityHigh
		res.Message = "The reward rises through its format terms while correctness does not rise at all."
	}
	return res, []Alert{alertFrom(DetFormatGain, res, run, newRecordCounter(run), rows[len(rows)-1])}
}

func fgFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
