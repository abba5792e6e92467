package analysis

import (
	"fmt"
	"math"
	"strings"

	"github.com/goodhart-rl/goodhart/ingest"
)

// DetPreference is the preference-optimisation failure detector's name.
//
// The detector flags the known failure signs of preference
// optimisation (DPO, ORPO, KTO, SimPO) from the implicit rewards a trainer
// logs: chosen_reward, rejected_reward, margin (chosen - rejected) and
// pref_accuracy (the share of pairs with a positive margin).
//
// Rows are the steps with a finite margin (or chosen and rejected), in step
// order, without leading rows where the margin is exactly 0 and the
// accuracy is 0 or missing (the first step, when the policy is still the
// reference). With n >= 3 such rows (else INSUFFICIENT_DATA) and
// k = max(1, n/4), early and late are the means of the first and last k
// rows:
//
//	margins exploding with accuracy pinned at 1 -> ALERT (HIGH):
//	    late accuracy >= 0.99, early margin > 0 and late margin >= 4 x early margin
//	chosen reward falling while the margin grows -> WARNING (MEDIUM):
//	    margin late > early, chosen late < early, chosen late < 0 and
//	    chosen early - chosen late >= 0.1 (margin late - margin early)
//
// otherwise OK; an actionable result raises one alert, at the last row.
// Both are training pathologies (ClassPathology): the first
// is over-optimisation of pairs the model already separates (drift from
// the reference, margins bought by making the rejected answers absurdly
// unlikely); the second is likelihood displacement, the chosen answers
// themselves becoming less likely. The evidence gives both ends of each
// column and the share of the margin's growth that came from pushing the
// rejected reward down.
const DetPreference = "preference"

// Preference parameters.
const (
	prefMinRows     = 3    // logged steps needed (after the initial all-zero step)
	prefPinnedAcc   = 0.99 // accuracy "pinned at 1"
	prefMarginGrow  = 4.0  // margin "exploding": late >= 4x its early value
	prefChosenShare = 0.1  // chosen falls by >= 10% of the margin's growth
)

// preferenceDetector implements the DetPreference detector (see DetPreference for its rule).
type preferenceDetector struct{}

func init() { Register(preferenceDetector{}) }

func (preferenceDetector) Name() string { return DetPreference }

func (preferenceDetector) Applies(run *ingest.Run, cfg Config) bool {
	return run.Has(ingest.ColMargin) || (run.Has(ingest.ColChosen) && run.Has(ingest.ColRejected))
}

func (d preferenceDetector) Detect(run *ingest.Run, cfg Config) (Result, []Alert) {
	n := run.Len()
	col := func(name string) []float64 {
		c, ok := run.Column(name)
		if !ok {
			c = make([]float64, n)
			for i := range c {
				c[i] = math.NaN()
			}
		}
		return c
	}
	chosen, rejected, acc := col(ingest.ColChosen), col(ingest.ColRejected), col(ingest.ColPrefAccuracy)
	margin := col(ingest.ColMargin)
	if !run.Has(ingest.ColMargin) {
		for i := range margin {
			margin[i] = chosen[i] - rejected[i]
		}
	}
	// Rows with a finite margin, in step order.
	run2 := ingest.NewRun(n)
	run2.SetColumn(ingest.ColStep, run.Steps())
	run2.SetColumn("m", margin)
	s := sortedSeries(run2, "m")
	start := 0
	for start < s.len() && s.vals[start] == 0 && (math.IsNaN(acc[s.rows[start]]) || acc[s.rows[start]] == 0) {
		start++
	}
	rows, steps, m := s.rows[start:], s.steps[start:], s.vals[start:]
	if len(m) < prefMinRows {
		return Result{Status: StatusInsufficient, Severity: SeverityLow,
			Message: fmt.Sprintf("Need %d logged steps with a reward margin to judge preference training, have %d.", prefMinRows, len(m))}, nil
	}
	k := max(1, len(m)/4)
	at := func(c []float64, idx []int) float64 {
		var v []float64
		for _, r := range idx {
			if x := c[r]; !math.IsNaN(x) && !math.IsInf(x, 0) {
				v = append(v, x)
			}
		}
		return meanOf(v)
	}
	early, late := rows[:k], rows[len(rows)-k:]
	mE, mL := meanOf(m[:k]), meanOf(m[len(m)-k:])
	aL := at(acc, late)
	cE, cL := at(chosen, early), at(chosen, late)
	rE, rL := at(rejected, early), at(rejected, late)
	rc := newRecordCounter(run)
	ev := &Evidence{FromStep: steps[0], ToStep: steps[len(steps)-1], FromRecord: rc.at(rows[0]), ToRecord: rc.at(rows[len(rows)-1]),
		Numbers: map[string]float64{"margin_early": mE, "margin_late": mL, "accuracy_late": aL,
			"chosen_early": cE, "chosen_late": cL, "rejected_early": rE, "rejected_late": rL, "rows": float64(len(m)), "k": float64(k)}}
	if dm := mL - mE; dm > 0 && !math.IsNaN(rE) && !math.IsNaN(rL) {
		ev.Numbers["rejected_share"] = (rE - rL) / dm
	}
	explode := aL >= prefPinnedAcc && mE > 0 && mL >= prefMarginGrow*mE
	displaced := mL > mE && cL < cE && cL < 0 && cE-cL >= prefChosenShare*(mL-mE)
	if explode {
		ev.Numbers["margin_ratio"] = mL / mE
	}
	var parts []string
	if explode {
		parts = append(parts, fmt.Sprintf("accuracy is pinned at %s while the margin grew %s -> %s (x%.1f)", fmtNum(aL), fmtNum(mE), fmtNum(mL), mL/mE))
	}
	if displaced {
		parts = append(parts, fmt.Sprintf("the chosen reward fell %s -> %s while the margin grew %s -> %s", fmtNum(cE), fmtNum(cL), fmtNum(mE), fmtNum(mL)))
	}
	side := ""
	if sh, ok := ev.Numbers["rejected_share"]; ok {
		side = fmt.Sprintf(" %s of the margin's growth came from pushing the rejected reward down (%s -> %s); chosen moved %s -> %s.",
			PyPercent(sh, 0), fmtNum(rE), fmtNum(rL), fmtNum(cE), fmtNum(cL))
	}
	span := fmt.Sprintf("Steps %s-%s: ", fmtNum(steps[0]), fmtNum(steps[len(steps)-1]))
	if len(parts) == 0 {
		ev.Reason = span + fmt.Sprintf("margin %s -> %s, accuracy %s at the end.", fmtNum(mE), fmtNum(mL), fmtNum(aL)) + side
		return tidy(Result{Status: StatusOK, Message: "No sign of preference over-optimisation.", Evidence: ev}, nil)
	}
	ev.Reason = span + strings.Join(parts, "; ") + "." + side
	res := Result{Status: StatusWarning, Severity: SeverityMedium, Class: ClassPathology,
		Message:  fmt.Sprintf("Chosen reward falling while the margin grows (%s -> %s): the margin comes from pushing rejected answers down.", fmtNum(cE), fmtNum(cL)),
		Detail:   "The chosen answers are becoming less likely too (likelihood displacement): add an SFT term on the chosen answers, lower the learning rate or raise beta.",
		Evidence: ev}
	if explode {
		res = Result{Status: StatusAlert, Severity: SeverityHigh, Class: ClassPathology,
			Message:  fmt.Sprintf("Margins exploding with accuracy pinned at %s (margin %s -> %s).", fmtNum(aL), fmtNum(mE), fmtNum(mL)),
			Detail:   "The pairs are already separated and training keeps pushing the margin: the policy drifts far from the reference. Stop earlier, raise beta, or use harder pairs; check held-out behaviour, not the train accuracy.",
			Evidence: ev}
	}
	return tidy(res, []Alert{alertFrom(DetPreference, res, run, rc, rows[len(rows)-1])})
}
