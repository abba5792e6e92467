package analysis

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/goodhart-rl/goodhart/ingest"
)

// DetDivergence is the train/held-out divergence detector's name.
const DetDivergence = "divergence"

// Divergence parameters.
const (
	divMinEval      = 5    // eval points needed (t-test with >= 3 df)
	divMinTrain     = 5    // train rewards needed in the span
	divTrainGain    = 0.10 // train must rise by >= 10% of its scale
	divFlatFraction = 0.25 // flat: eval gain's upper 95% bound < 25% of the train gain
	divFallGain     = 0.05 // falls: eval's upper bound < 0 and its fitted drop >= 5% of its scale
)

// divergenceDetector is Gao et al. (2022)'s overoptimisation signature: the
// train (proxy) reward keeps rising while a held-out metric falls or stays
// flat over the same steps. It is judged with least-squares slopes and their
// standard errors, never by comparing two points.
//
// For each held-out metric eval.<m> with eval points (s_j, e_j), j = 1..J,
// and at each J' = 5..J (an expanding span [s_1, s_J']):
//
//	train: OLS of reward on step over the rows with s_1 <= step <= s_J';
//	       gain g_r = β_r (s_J' - s_1) / scale_r, t_r = β_r / SE(β_r)
//	eval:  OLS of y_j = ±e_j on s_j (sign -1 for lower-is-better metrics);
//	       g_e = β_e (s_J' - s_1) / scale_e, with the 95% bounds
//	       g_e± = (β_e ± t_{0.975, J'-2} SE(β_e)) (s_J' - s_1) / scale_e
//
// where scale = max(|mean|, pstdev) of the series over the span, so gains
// are relative and metrics in different units compare. The train reward is
// rising when t_r > t_{0.975, n-2} and g_r >= 0.10. Then:
//
//	ALERT   (HIGH)   g_e+ < 0 and g_e <= -0.05: held-out got worse
//	WARNING (MEDIUM) g_e+ < 0.25 g_r:           held-out stayed flat
//
// (no flat WARNING for a metric pinned at the best end of [0, 1] the whole
// span: >= 0.99 when higher is better, <= 0.01 when lower is better),
// otherwise OK. The final status is the worst over metrics at the last eval
// point. Alerts escalate only: per metric, one when WARNING first holds and
// one when ALERT first holds (run_step = that eval step); the expanding span
// re-judges the same history at every evaluation, so a status that flickers
// near a threshold is not news each time.
//
// Lower is better for metrics whose name contains loss, perplexity, ppl or
// error, and for those named in Config.EvalLowerBetter. Metrics that measure
// size or speed rather than quality (names containing length, tokens,
// runtime, per_second, time) are skipped. Fewer than 5 eval points or 5
// train rewards in the span: INSUFFICIENT_DATA.
type divergenceDetector struct{}

func init() { Register(divergenceDetector{}) }

func (divergenceDetector) Name() string { return DetDivergence }

func (divergenceDetector) Applies(run *ingest.Run, cfg Config) bool {
	if _, ok := run.Column(ingest.ColReward); !ok {
		return false
	}
	return len(divMetrics(run)) > 0
}

// divMetrics returns the eval metrics that measure quality.
func divMetrics(run *ingest.Run) []string {
	var out []string
	for _, m := range run.EvalMetrics() {
		l := strings.ToLower(m)
		skip := false
		for _, s := range []string{"length", "tokens", "runtime", "per_second", "time"} {
			if strings.Contains(l, s) {
				skip = true
			}
		}
		if !skip {
			out = append(out, m)
		}
	}
	return out
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

// edgeMeans returns the means of the first and of the last max(1, n/5)
// values of xs.
func edgeMeans(xs []float64) (first, last float64) {
	k := max(1, len(xs)/5)
	return meanOf(xs[:k]), meanOf(xs[len(xs)-k:])
}

// relScale is max(|mean|, pstdev) of xs, at least 1e-12.
func relScale(xs []float64) float64 {
	return math.Max(math.Max(math.Abs(meanOf(xs)), pstd(xs)), 1e-12)
}

type divEval struct {
	status Status
	res    Result
}

func (d divergenceDetector) Detect(run *ingest.Run, cfg Config) (Result, []Alert) {
	return tidy(d.detect(run, cfg))
}

func (divergenceDetector) detect(run *ingest.Run, cfg Config) (Result, []Alert) {
	_, rSteps, rVals := finiteSeries(run, ingest.ColReward)
	if !sort.Float64sAreSorted(rSteps) {
		ord := make([]int, len(rSteps))
		for i := range ord {
			ord[i] = i
		}
		sort.SliceStable(ord, func(a, b int) bool { return rSteps[ord[a]] < rSteps[ord[b]] })
		xs, ys := make([]float64, len(ord)), make([]float64, len(ord))
		for i, k := range ord {
			xs[i], ys[i] = rSteps[k], rVals[k]
		}
		rSteps, rVals = xs, ys
	}
	rc := newRecordCounter(run)
	var alerts []Alert
	type final struct {
		name string
		res  Result
	}
	var finals []final
	for _, m := range divMetrics(run) {
		eRows, eSteps, eVals := finiteSeries(run, ingest.EvalPrefix+m)
		if len(eVals) < divMinEval {
			continue
		}
		// Eval points must be in step order for the expanding span.
		idx := make([]int, len(eVals))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return eSteps[idx[a]] < eSteps[idx[b]] })
		sign := 1.0
		lower := EvalLowerIsBetter(m, cfg.EvalLowerBetter)
		if lower {
			sign = -1
		}
		xs := make([]float64, len(idx))
		ys := make([]float64, len(idx))
		rows := make([]int, len(idx))
		for i, k := range idx {
			xs[i], rows[i] = eSteps[k], eRows[k]
			ys[i] = sign * eVals[k]
		}
		var last Status
		var res Result
		judged := false
		for j := divMinEval; j <= len(xs); j++ {
			r, ok := divJudge(m, lower, xs[:j], ys[:j], rSteps, rVals, rows[0], rows[j-1], rc)
			if !ok {
				continue
			}
			judged = true
			res = r
			if res.Status.Actionable() && statusRank(res.Status) > statusRank(last) {
				alerts = append(alerts, alertFrom(DetDivergence, res, run, rc, rows[j-1]))
				last = res.Status
			}
		}
		if judged {
			finals = append(finals, final{m, res})
		}
	}
	if len(finals) == 0 {
		return Result{Status: StatusInsufficient, Severity: SeverityLow,
			Message: fmt.Sprintf("Need %d held-out evaluations and %d train rewards over the same steps.", divMinEval, divMinTrain)}, alerts
	}
	best := finals[0]
	for _, f := range finals[1:] {
		if statusRank(f.res.Status) > statusRank(best.res.Status) {
			best = f
		}
	}
	if best.res.Status == StatusOK {
		names := make([]string, len(finals))
		for i, f := range finals {
			names[i] = f.name
		}
		best.res.Message = "Held-out metrics keep up with the train reward (" + strings.Join(names, ", ") + ")."
	}
	return best.res, alerts
}

// divJudge applies the rule to one expanding span. ok is false when the
// span has too few train rewards.
func divJudge(m string, lower bool, xs, ys, rSteps, rVals []float64,
	fromRow, toRow int, rc recordCounter) (Result, bool) {
	s0, s1 := xs[0], xs[len(xs)-1]
	if s1 <= s0 {
		return Result{}, false
	}
	// rSteps is sorted: the span's train rows are one slice.
	lo := sort.SearchFloat64s(rSteps, s0)
	hi := sort.Search(len(rSteps), func(i int) bool { return rSteps[i] > s1 })
	tx, ty := rSteps[lo:hi], rVals[lo:hi]
	if len(tx) < divMinTrain {
		return Result{}, false
	}
	span := s1 - s0
	tf := fitOLS(tx, ty)
	gr := tf.Beta * span / relScale(ty)
	ef := fitOLS(xs, ys)
	scaleE := relScale(ys)
	ge := ef.Beta * span / scaleE
	tc := tCrit(len(xs) - 2)
	half := tc * ef.SE * span / scaleE
	if math.IsNaN(half) {
		half = math.Inf(1)
	}
	geHi := ge + half
	// Messages quote observed levels (means of the first and last fifth of
	// the points), not the fitted line, which overshoots a saturating curve.
	rStart, rEnd := edgeMeans(ty)
	eStart, eEnd := edgeMeans(ys)
	evalSlope := ef.Beta
	if lower {
		eStart, eEnd, evalSlope = -eStart, -eEnd, -evalSlope
	}
	ev := &Evidence{FromStep: s0, ToStep: s1, FromRecord: rc.at(fromRow), ToRecord: rc.at(toRow),
		Numbers: map[string]float64{
			"train_slope": tf.Beta, "train_t": tf.T(), "train_gain_rel": gr,
			"train_start": rStart, "train_end": rEnd,
			"train_fit_start": tf.Alpha + tf.Beta*s0, "train_fit_end": tf.Alpha + tf.Beta*s1,
			"eval_slope": evalSlope, "eval_t": ef.T(),
			"eval_gain_rel": ge, "eval_gain_rel_upper95": geHi,
			"eval_start": eStart, "eval_end": eEnd, "eval_points": float64(len(xs)),
		}}
	dir := "higher is better"
	if lower {
		dir = "lower is better"
	}
	rising := tf.T() > tCrit(len(tx)-2) && gr >= divTrainGain
	switch {
	case rising && geHi < 0 && ge <= -divFallGain:
		ev.Reason = fmt.Sprintf("Over steps %s-%s the train reward rose %s -> %s (t = %.1f) while held-out %s (%s) got worse, %s -> %s (t = %.1f, %d evaluations).",
			fmtNum(s0), fmtNum(s1), fmtNum(rStart), fmtNum(rEnd), tf.T(), m, dir, fmtNum(eStart), fmtNum(eEnd), ef.T(), len(xs))
		return Result{Status: StatusAlert, Severity: SeverityHigh,
			Message:  fmt.Sprintf("Train reward rising while held-out '%s' gets worse (%s -> %s).", m, fmtNum(eStart), fmtNum(eEnd)),
			Detail:   "The policy is optimising the reward, not the task (Gao et al. 2022): stop at the best held-out checkpoint and fix the reward or add a KL penalty.",
			Evidence: ev}, true
	case rising && geHi < divFlatFraction*gr && !atBound(ys, lower):
		ev.Reason = fmt.Sprintf("Over steps %s-%s the train reward rose %s -> %s (+%s relative) while held-out %s moved %s -> %s (at most %s relative at 95%% confidence).",
			fmtNum(s0), fmtNum(s1), fmtNum(rStart), fmtNum(rEnd), PyPercent(gr, 0), m, fmtNum(eStart), fmtNum(eEnd), PyPercent(math.Max(geHi, 0), 0))
		return Result{Status: StatusWarning, Severity: SeverityMedium,
			Message:  fmt.Sprintf("Train reward rising while held-out '%s' stays flat (%s -> %s).", m, fmtNum(eStart), fmtNum(eEnd)),
			Detail:   "Reward gains are not reaching the held-out metric: check for reward gaming or overfitting to the train prompts.",
			Evidence: ev}, true
	}
	ev.Reason = fmt.Sprintf("Over steps %s-%s held-out %s moved %s -> %s while the train reward moved %s -> %s.",
		fmtNum(s0), fmtNum(s1), m, fmtNum(eStart), fmtNum(eEnd), fmtNum(rStart), fmtNum(rEnd))
	return Result{Status: StatusOK, Message: "Held-out metrics keep up with the train reward.", Evidence: ev}, true
}
