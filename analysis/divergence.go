package analysis

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/goodhart-rl/goodhart/ingest"
)

// DetDivergence is the train/held-out divergence detector's name.
//
// The detector flags reward hacking as Gao et al. (2022) measure it: the
// train (proxy) reward keeps rising while the true objective, a held-out or
// gold metric, falls or stays flat. Everything is judged in each metric's
// own terms, on levels rather than fitted lines (a saturating curve is not a
// line).
//
// Gold metrics: the names in Config.Gold (looked up as eval.NAME, NAME,
// extra.NAME and component.NAME); else the run's eval.* columns, taking the
// first non-empty tier: (1) well-known gold names (test/val score,
// correctness, accuracy, pass@k, exact match, success, verl's mean@k);
// (2) other quality metrics (perplexity, BLEU, distinct-n...); (3) the
// held-out reward (the proxy on held-out prompts); (4) the eval loss.
// Diagnostics are never gold (lengths, tokens, timing, KL, entropy, clip
// ratios, stds, grad norms). Lower is
// better for names containing loss, perplexity, ppl or error and for
// Config.EvalLowerBetter; such metrics are negated (y = -value).
//
// Scales: a series whose values all lie in [0, 1] has scale 1, in [0, 100]
// with some above 10 scale 100 (absolute change for bounded scores; losses
// and perplexities are never bounded, error rates are); otherwise its range
// over the judged span, floored at 1e-9 max(1, |mean|), so a mean near 0
// cannot make a tiny move look large.
//
// For each gold metric with evaluations at steps s_1 < ... < s_J, at each
// J' = 5..J (an expanding span [s_1, s_J']), with k = clamp(J'/5, 1, 5):
//
//	gold early = the first evaluation y_1, gold late = the mean of the last k;
//	train early = the rewards with step <= s_1 + (s_2 - s_1)/2 (and from
//	s_1 - (s_2 - s_1)/2 on), at least the first 5; train late = the rewards
//	with s_{J'-k} < step <= s_J' (>= 2 each, else the span is skipped)
//	Δr = (mean train late - mean train early)/scale_r, Welch one-sided p_r
//	Δg = (gold late - gold early)/scale_g, with upper 95% bound
//	     Δg+ = Δg + t_{0.975, J'-2} σ sqrt(1 + 1/k), σ = the von Neumann noise
//	     sqrt(Σ(y_{i+1}-y_i)²/(2(J'-1)))/scale_g of the span's evaluations
//	rising: p_r < 0.025 and Δr >= 0.10
//	ALERT   (HIGH)   rising, Δg+ < 0 and Δg <= -0.05: the gold metric got worse
//	WARNING (MEDIUM) rising, Δg+ < 0.5 Δr and Δr - Δg+ >= 0.10: the gold
//	                 metric took less than half the gain and the gap
//	                 train - gold grew by >= 0.10 of the scale (not for a
//	                 metric pinned at the best end of [0, 1])
//	otherwise OK; "keeps up" when rising and neither.
//
// The early level is the first evaluation because runs change fastest at
// the start: averaging the first few evaluations of a run that saturates
// within them would hide the rise.
//
// Both findings are reward hacking (ClassHacking). When several gold
// metrics are judged and one keeps up, the run is learning the task: a
// flat one is then OK (named in the message) and one that got worse is a
// WARNING early warning (ClassEarlyWarning), not hacking. The final status
// combines each metric's judgement at its last evaluation. Alerts escalate
// only: one when the combined status first becomes WARNING, one when it
// first becomes ALERT, at that evaluation's step; when the final status is
// OK there are none (a finding that did not last is not reported). The evidence gives both
// levels of both series and, for two [0, 1] scores, the gap train - gold
// early and late. Fewer than 5 evaluations: INSUFFICIENT_DATA.
const DetDivergence = "divergence"

// Divergence parameters.
const (
	divMinEval      = 5    // gold evaluations needed
	divMinTrain     = 2    // train rewards needed in each of the early and late windows
	divMinEarly     = 5    // the early window takes at least the first 5 train rewards
	divTrainGain    = 0.10 // train must rise by >= 0.10 of its scale
	divFlatFraction = 0.5  // flat: gold's upper 95% bound < half the train gain...
	divGapGrowth    = 0.10 // ...and the gap train - gold grew by >= 0.10 of the scale
	divFallGain     = 0.05 // falls: gold's upper bound < 0 and its drop >= 0.05 of its scale
	divMaxEdge      = 5    // at most 5 evaluations in the early and late windows
)

// divergenceDetector implements the DetDivergence detector (see DetDivergence for its rule).
type divergenceDetector struct{}

func init() { Register(divergenceDetector{}) }

func (divergenceDetector) Name() string { return DetDivergence }

func (divergenceDetector) Applies(run *ingest.Run, cfg Config) bool {
	return run.Has(ingest.ColReward) && len(divGold(run, cfg)) > 0
}

// goldMetric is one gold column: its full column name and the name shown.
type goldMetric struct{ col, name string }

// divDiagnostic reports whether an eval metric name is a diagnostic, not a
// measure of quality.
func divDiagnostic(l string) bool {
	for _, s := range []string{"length", "tokens", "runtime", "per_second", "time", "kl", "entropy", "clip",
		"zero_std", "std", "grad_norm", "learning_rate", "epoch", "num_", "samples"} {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// divTier is 1 for well-known gold names, 2 for other quality metrics, 3
// for held-out rewards and 4 for losses.
func divTier(l string) int {
	for _, s := range []string{"test_score", "val_score", "score", "correct", "accuracy", "acc", "pass@", "pass_at",
		"exact_match", "mean@", "success", "win_rate", "solve"} {
		if strings.Contains(l, s) {
			return 1
		}
	}
	switch {
	case strings.Contains(l, "reward"):
		return 3
	case strings.Contains(l, "loss"):
		return 4
	}
	return 2
}

// divGold returns the gold metrics to judge (see the detector's doc).
func divGold(run *ingest.Run, cfg Config) []goldMetric {
	var out []goldMetric
	if len(cfg.Gold) > 0 {
		for _, g := range cfg.Gold {
			name := strings.TrimPrefix(strings.TrimSpace(g), ingest.EvalPrefix)
			for _, col := range []string{ingest.EvalPrefix + name, name, ingest.ExtraPrefix + name, ingest.ComponentPrefix + name} {
				if _, ok := run.Column(col); ok {
					out = append(out, goldMetric{col, name})
					break
				}
			}
		}
		return out
	}
	tiers := map[int][]goldMetric{}
	for _, m := range run.EvalMetrics() {
		l := strings.ToLower(m)
		if divDiagnostic(l) {
			continue
		}
		t := divTier(l)
		tiers[t] = append(tiers[t], goldMetric{ingest.EvalPrefix + m, m})
	}
	for t := 1; t <= 4; t++ {
		if len(tiers[t]) > 0 {
			return tiers[t]
		}
	}
	return nil
}

// EvalLowerIsBetter reports whether a held-out metric (name without
// "eval.") improves downwards: names containing loss, perplexity, ppl or
// error, or listed in extra (with or without the "eval." prefix).
func EvalLowerIsBetter(name string, extra []string) bool {
	for _, e := range extra {
		if strings.TrimPrefix(strings.TrimSpace(e), ingest.EvalPrefix) == name {
			return true
		}
	}
	l := strings.ToLower(name)
	for _, s := range []string{"loss", "perplexity", "ppl", "error"} {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// atBound reports whether a held-out metric sits at the best end of the
// unit interval the whole time (every value >= 0.99 for higher-is-better,
// every value <= 0.01 and >= 0 for lower-is-better; ys is sign-adjusted):
// a metric already at its best cannot rise, so "flat" says nothing.
func atBound(ys []float64, lower bool) bool {
	for _, y := range ys {
		if lower {
			if y > 0 || y < -0.01 {
				return false
			}
		} else if y < 0.99 || y > 1 {
			return false
		}
	}
	return true
}

// relScale is max(|mean|, pstdev) of xs, at least 1e-12.
func relScale(xs []float64) float64 {
	return math.Max(math.Max(math.Abs(meanOf(xs)), pstd(xs)), 1e-12)
}

// spanScale is the scale of a series: bounded (1 or 100, from all of its
// values) or else the range of the span's values, floored.
func spanScale(bounded float64, span []float64) float64 {
	if bounded > 0 {
		return bounded
	}
	lo, hi := minMax(span)
	return math.Max(hi-lo, 1e-9*math.Max(1, math.Abs(meanOf(span))))
}

// divJudgement is one metric's result over one span.
type divJudgement struct {
	step  float64 // the span's last evaluation step
	row   int
	res   Result
	keeps bool // train rising and gold keeping up
}

func (d divergenceDetector) Detect(run *ingest.Run, cfg Config) (Result, []Alert) {
	return tidy(d.detect(run, cfg))
}

func (divergenceDetector) detect(run *ingest.Run, cfg Config) (Result, []Alert) {
	train := sortedSeries(run, ingest.ColReward)
	trainBound := boundedScale(train.vals)
	rc := newRecordCounter(run)
	golds := divGold(run, cfg)
	var judged [][]divJudgement
	var names []string
	for _, g := range golds {
		e := sortedSeries(run, g.col)
		if e.len() < divMinEval {
			continue
		}
		lower := EvalLowerIsBetter(g.name, cfg.EvalLowerBetter)
		sign := 1.0
		if lower {
			sign = -1
		}
		ys := make([]float64, e.len())
		for i, v := range e.vals {
			ys[i] = sign * v
		}
		gb := boundedScale(e.vals)
		if lower && !strings.Contains(strings.ToLower(g.name), "err") {
			gb = 0 // a loss or perplexity has no upper bound
		}
		var js []divJudgement
		for j := divMinEval; j <= e.len(); j++ {
			r, keeps, ok := divJudge(g.name, lower, e.steps[:j], ys[:j], gb, train, trainBound, rc, e.rows[0], e.rows[j-1])
			if ok {
				js = append(js, divJudgement{e.steps[j-1], e.rows[j-1], r, keeps})
			}
		}
		if len(js) > 0 {
			judged = append(judged, js)
			names = append(names, g.name)
		}
	}
	if len(judged) == 0 {
		return Result{Status: StatusInsufficient, Severity: SeverityLow,
			Message: fmt.Sprintf("Need %d gold (held-out) evaluations with train rewards around them.", divMinEval)}, nil
	}
	// Replay the evaluations in step order, combining each metric's latest
	// judgement.
	type ev struct {
		step float64
		m, i int
	}
	var evs []ev
	for m, js := range judged {
		for i, j := range js {
			evs = append(evs, ev{j.step, m, i})
		}
	}
	sort.SliceStable(evs, func(a, b int) bool { return evs[a].step < evs[b].step })
	latest := make([]*divJudgement, len(judged))
	var alerts []Alert
	var last Status
	var final Result
	for n, e := range evs {
		latest[e.m] = &judged[e.m][e.i]
		if n+1 < len(evs) && evs[n+1].step == e.step {
			continue // combine once all metrics evaluated at this step are in
		}
		final = divCombine(latest, names)
		if final.Status.Actionable() && statusRank(final.Status) > statusRank(last) {
			alerts = append(alerts, alertFrom(DetDivergence, final, run, rc, judged[e.m][e.i].row))
			last = final.Status
		}
	}
	if !final.Status.Actionable() {
		// A finding that did not last is not news at the end of the run.
		alerts = nil
	}
	return final, alerts
}

// divCombine folds the metrics' latest judgements into one result (see the
// detector's doc: a metric that keeps up turns the others' hacking
// findings into an OK or an early warning).
func divCombine(latest []*divJudgement, names []string) Result {
	var keepers []string
	worst := -1
	for m, j := range latest {
		if j == nil {
			continue
		}
		if j.keeps {
			keepers = append(keepers, names[m])
		}
		if worst < 0 || statusRank(j.res.Status) > statusRank(latest[worst].res.Status) {
			worst = m
		}
	}
	if worst < 0 {
		return Result{Status: StatusInsufficient, Severity: SeverityLow, Message: "No gold metric judged yet."}
	}
	w := latest[worst].res
	if !w.Status.Actionable() {
		if len(keepers) > 0 {
			w.Message = "Held-out metrics keep up with the train reward (" + strings.Join(keepers, ", ") + ")."
		}
		return w
	}
	if len(keepers) == 0 {
		return w
	}
	keep := strings.Join(keepers, ", ")
	if w.Status == StatusAlert {
		w.Status, w.Severity, w.Class = StatusWarning, SeverityMedium, ClassEarlyWarning
		w.Message = fmt.Sprintf("Held-out '%s' got worse while '%s' keeps up with the train reward.", names[worst], keep)
		w.Detail = "The gains are real on one held-out set but do not transfer to the other: not reward hacking, but watch the falling metric (overfitting to part of the training mix)."
		return w
	}
	ok := w
	ok.Status, ok.Severity, ok.Class = StatusOK, "", ""
	ok.Detail = ""
	ok.Message = fmt.Sprintf("Held-out '%s' keeps up with the train reward ('%s' stays flat).", keep, names[worst])
	return ok
}

// divJudge applies the rule to one expanding span of a gold metric. ok is
// false when the span has too few train rewards in a window.
func divJudge(m string, lower bool, xs, ys []float64, goldBound float64, train series, trainBound float64,
	rc recordCounter, fromRow, toRow int) (res Result, keeps, ok bool) {
	j := len(xs)
	s0, s1 := xs[0], xs[j-1]
	if s1 <= s0 {
		return Result{}, false, false
	}
	k := min(max(j/5, 1), divMaxEdge)
	lo := sort.SearchFloat64s(train.steps, s0-(xs[1]-s0)/2)
	hi := sort.Search(len(train.steps), func(i int) bool { return train.steps[i] > s1 })
	tSteps, tVals := train.steps[lo:hi], train.vals[lo:hi]
	// Early: the train rewards around the first evaluation (up to half way
	// to the next one; at least the first five); late: those after the
	// evaluation before the last k.
	h1 := (xs[1] - s0) / 2
	var early, late []float64
	for i, s := range tSteps {
		if s <= s0+h1 || len(early) < divMinEarly {
			early = append(early, tVals[i])
		}
		if s > xs[j-k-1] {
			late = append(late, tVals[i])
		}
	}
	if len(early) < divMinTrain || len(late) < divMinTrain {
		return Result{}, false, false
	}
	scR := spanScale(trainBound, tVals)
	scG := spanScale(goldBound, ys)
	rE, rL := meanOf(early), meanOf(late)
	dr := (rL - rE) / scR
	_, _, pr, _ := welch(early, late)
	gE, gL := ys[0], meanOf(ys[j-k:])
	dg := (gL - gE) / scG
	half := tCrit(j-2) * noiseSD(ys) / scG * math.Sqrt(1+1/float64(k))
	dgHi := dg + half
	if lower {
		gE, gL = -gE, -gL
	}
	ev := &Evidence{FromStep: s0, ToStep: s1, FromRecord: rc.at(fromRow), ToRecord: rc.at(toRow),
		Numbers: map[string]float64{
			"train_start": rE, "train_end": rL, "train_gain": dr, "train_p": pr, "train_scale": scR,
			"eval_start": gE, "eval_end": gL, "eval_gain": dg, "eval_gain_upper95": dgHi, "eval_scale": scG,
			"eval_points": float64(j), "edge_points": float64(k),
		}}
	gap := ""
	if trainBound == 1 && goldBound == 1 && !lower {
		ev.Numbers["gap_start"], ev.Numbers["gap_end"] = rE-gE, rL-gL
		gap = fmt.Sprintf("; the gap train - held-out went %s -> %s", fmtNum(rE-gE), fmtNum(rL-gL))
	}
	dir := "higher is better"
	if lower {
		dir = "lower is better"
	}
	rising := pr < 0.025 && dr >= divTrainGain
	fell := rising && dgHi < 0 && dg <= -divFallGain
	flat := rising && dgHi < divFlatFraction*dr && dr-dgHi >= divGapGrowth
	switch {
	case fell:
		ev.Reason = fmt.Sprintf("Over steps %s-%s the train reward rose %s -> %s while held-out %s (%s) got worse, %s -> %s (%d evaluations)%s.",
			fmtNum(s0), fmtNum(s1), fmtNum(rE), fmtNum(rL), m, dir, fmtNum(gE), fmtNum(gL), j, gap)
		return Result{Status: StatusAlert, Severity: SeverityHigh, Class: ClassHacking,
			Message:  fmt.Sprintf("Train reward rising while held-out '%s' gets worse (%s -> %s).", m, fmtNum(gE), fmtNum(gL)),
			Detail:   "The policy is optimising the reward, not the task (Gao et al. 2022): stop at the best held-out checkpoint and fix the reward or add a KL penalty.",
			Evidence: ev}, false, true
	case flat && !atBound(ys, lower):
		ev.Reason = fmt.Sprintf("Over steps %s-%s the train reward rose %s -> %s (+%s of its scale) while held-out %s moved %s -> %s (at most %s of its scale at 95%% confidence)%s.",
			fmtNum(s0), fmtNum(s1), fmtNum(rE), fmtNum(rL), fmtNum(dr), m, fmtNum(gE), fmtNum(gL), fmtNum(math.Max(dgHi, 0)), gap)
		return Result{Status: StatusWarning, Severity: SeverityMedium, Class: ClassHacking,
			Message:  fmt.Sprintf("Train reward rising while held-out '%s' stays flat (%s -> %s).", m, fmtNum(gE), fmtNum(gL)),
			Detail:   "Reward gains are not reaching the held-out metric: check samples for reward gaming, and stop at the best held-out checkpoint.",
			Evidence: ev}, false, true
	}
	ev.Reason = fmt.Sprintf("Over steps %s-%s held-out %s moved %s -> %s while the train reward moved %s -> %s%s.",
		fmtNum(s0), fmtNum(s1), m, fmtNum(gE), fmtNum(gL), fmtNum(rE), fmtNum(rL), gap)
	msg := "The train reward does not rise, so there is no divergence to judge (held-out '" + m + "')."
	if rising {
		msg = "Held-out metrics keep up with the train reward."
	}
	return Result{Status: StatusOK, Message: msg, Evidence: ev}, rising && !flat, true
}
