package analysis

import (
	"gonum.org/v1/gonum/stat"

	"fmt"
	"math"

	"github.com/goodhart-rl/goodhart/ingest"
)

// DetNoLearning is the no-learning detector's name.
//
// The detector flags runs whose reward never improves: a reward that
// is the same number on every record (a constant return of 0 or -100, a
// GRPO reward of 0 on every step), or one that stays flat for the whole
// run. It is judged on the whole run, never on a short window, so a run
// that is flat for a long time and then takes off is learning.
//
// Over the finite rewards r_1..r_n in step order (n >= 20, else
// INSUFFICIENT_DATA):
//
//	constant: max(r) - min(r) <= 1e-9 max(1, |mean r|)       -> ALERT (HIGH)
//	early E = the first max(2, n/5) values (the first fifth);
//	tenths T_3..T_10 = the values of each later tenth of the run;
//	rose:  some T_d has Welch one-sided p < 0.01 for mean(T_d) > mean(E)
//	       and mean(T_d) - mean(E) >= 0.2 sqrt((var E + var T_d)/2);
//	fell:  the last fifth L has p < 0.01 for mean(L) < mean(E) and
//	       mean(E) - mean(L) >= 0.2 sqrt((var E + var L)/2);
//	flat:  neither rose nor fell                              -> WARNING (MEDIUM)
//
// otherwise OK; an actionable result raises one alert, at the last value.
// A run that fell is left to the collapse detector. Not run
// on rewardspy's per-call logs (Kind rewardspy keeps rewardspy's audit). Both
// findings are training pathologies (ClassPathology), not hacking. Text
// says "episode return" and "episodes" for classic RL runs, "reward" and
// "steps" for trainer logs.
const DetNoLearning = "no_learning"

// No-learning parameters.
const (
	noLearnMin      = 20   // values needed
	noLearnAlpha    = 0.01 // one-sided Welch test level for "rose" and "fell"
	noLearnMaterial = 0.2  // a rise or fall must also be >= 0.2 pooled SDs
)

// noLearningDetector implements the DetNoLearning detector (see DetNoLearning for its rule).
type noLearningDetector struct{}

func init() { Register(noLearningDetector{}) }

func (noLearningDetector) Name() string { return DetNoLearning }

func (noLearningDetector) Applies(run *ingest.Run, cfg Config) bool {
	return run.Has(ingest.ColReward) && kindOf(run, cfg) != KindRewardspy
}

func (d noLearningDetector) Detect(run *ingest.Run, cfg Config) (Result, []Alert) {
	res := d.judge(run, cfg)
	var alerts []Alert
	if res.Status.Actionable() {
		s := sortedSeries(run, ingest.ColReward)
		alerts = append(alerts, alertFrom(DetNoLearning, res, run, newRecordCounter(run), s.rows[s.len()-1]))
	}
	return tidy(res, alerts)
}

func (noLearningDetector) judge(run *ingest.Run, cfg Config) Result {
	w := wordsFor(kindOf(run, cfg))
	s := sortedSeries(run, ingest.ColReward)
	n := s.len()
	if n < noLearnMin {
		return Result{Status: StatusInsufficient, Severity: SeverityLow,
			Message: fmt.Sprintf("Need %d %s to judge learning, have %d.", noLearnMin, w.units, n)}
	}
	rc := newRecordCounter(run)
	ev := evidenceFor(s, rc, 0, n-1)
	x := s.vals
	lo, hi := minMax(x)
	mean := meanOf(x)
	ev.Numbers["n"] = float64(n)
	ev.Numbers["min"], ev.Numbers["max"], ev.Numbers["mean"] = lo, hi, mean
	if hi-lo <= 1e-9*math.Max(1, math.Abs(mean)) {
		ev.Reason = fmt.Sprintf("The %s is %s on every one of the %d %s (%s %s-%s): the policy gets no signal to learn from.",
			w.reward, fmtNum(x[0]), n, w.units, w.units, fmtNum(s.steps[0]), fmtNum(s.steps[n-1]))
		return Result{Status: StatusAlert, Severity: SeverityHigh, Class: ClassPathology,
			Message:  fmt.Sprintf("No learning: the %s is %s on every %s.", w.reward, fmtNum(x[0]), w.unit),
			Detail:   "Check that the reward is wired up (a constant is never informative): a sparse goal that is never reached, a reward function that always returns its default, or a crashed judge.",
			Evidence: ev}
	}
	early := x[:max(2, n/5)]
	eMean := meanOf(early)
	eVar := variance(early)
	bestMean, bestP, bestD := math.Inf(-1), 1.0, -1
	rose := false
	for d := 2; d < 10; d++ {
		t := x[d*n/10 : (d+1)*n/10]
		_, _, p, ok := welch(early, t)
		if !ok {
			continue
		}
		m := meanOf(t)
		if m > bestMean {
			bestMean, bestP, bestD = m, p, d
		}
		if p < noLearnAlpha && m-eMean >= noLearnMaterial*math.Sqrt((eVar+variance(t))/2) {
			rose = true
		}
	}
	late := x[n-max(2, n/5):]
	lMean := meanOf(late)
	_, _, pUp, _ := welch(early, late)
	fell := 1-pUp < noLearnAlpha && eMean-lMean >= noLearnMaterial*math.Sqrt((eVar+variance(late))/2)
	ev.Numbers["early_mean"], ev.Numbers["late_mean"] = eMean, lMean
	ev.Numbers["best_tenth_mean"], ev.Numbers["best_tenth_p"] = bestMean, bestP
	ev.Numbers["best_tenth"] = float64(bestD + 1)
	switch {
	case rose:
		ev.Reason = fmt.Sprintf("The %s rose from %s (first fifth) to %s (best later tenth, one-sided p = %.2g).",
			w.reward, fmtNum(eMean), fmtNum(bestMean), bestP)
		return Result{Status: StatusOK, Message: fmt.Sprintf("The %s improves over the run.", w.reward), Evidence: ev}
	case fell:
		ev.Reason = fmt.Sprintf("The %s fell from %s (first fifth) to %s (last fifth); see the collapse detector.",
			w.reward, fmtNum(eMean), fmtNum(lMean))
		return Result{Status: StatusOK, Message: fmt.Sprintf("The %s moves (it fell; see collapse).", w.reward), Evidence: ev}
	}
	ev.Reason = fmt.Sprintf("Over %d %s (%s %s-%s) the %s stayed at its starting level: first fifth %s, last fifth %s; no later tenth is significantly higher (best %s, one-sided p = %.2g).",
		n, w.units, w.units, fmtNum(s.steps[0]), fmtNum(s.steps[n-1]), w.reward, fmtNum(eMean), fmtNum(lMean), fmtNum(bestMean), bestP)
	return Result{Status: StatusWarning, Severity: SeverityMedium, Class: ClassPathology,
		Message:  fmt.Sprintf("No learning: the %s stays flat over the run (%s -> %s).", w.reward, fmtNum(eMean), fmtNum(lMean)),
		Detail:   "The policy is not improving: check the learning rate, that gradients reach the policy, and that the reward can be earned at all (a task too hard for the start policy gives no signal).",
		Evidence: ev}
}

// variance is the unbiased sample variance of xs, Σ(x-mean)²/(n-1)
// (gonum stat.Variance), and 0 for n < 2.
func variance(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	return stat.Variance(xs, nil)
}
