package analysis

import (
	"fmt"
	"math"
	"sort"

	"github.com/goodhart-rl/goodhart/ingest"
)

// DetLengthCoupling is the length-coupling detector's name.
const DetLengthCoupling = "length_coupling"

// Length-coupling parameters.
const (
	lcMinStepRows   = 10  // step grain: rows with reward and length
	lcMinSampleRows = 60  // sample/call grain: rows with reward and length
	lcMinBinCount   = 5   // per bin and third
	lcBins          = 5   // length quintiles
	lcMinBins       = 3   // bins with both thirds needed for the within-bin rule
	lcGain          = 0.1 // reward and length must each rise by >= 10% of their scale
	lcWarnShare     = 0.5 // WARNING when length explains >= 50% of the gain
	lcAlertShare    = 0.8 // ALERT at >= 80%
)

// lengthCouplingDetector asks how much of the reward gain moves with
// response length (Singhal et al. 2023, "A Long Way to Go"): when longer
// answers alone buy the reward, the policy learns to pad.
//
// Step grain (per-step means: TRL, verl), over the rows with reward and
// length (n >= 10), with t = step:
//
//	reward gain  Δr = β(r~t)·span, rising when t(β) > t_{0.975,n-2} and Δr >= 0.1·scale_r
//	length gain  ΔL = β(L~t)·span, rising likewise with ΔL >= 0.1·|mean L|
//	share        = β(r~L)·ΔL / Δr  (the gain a reward-on-length regression predicts)
//	partial      = β of L in r ~ L + t (Frisch–Waugh), significant at 95%
//
// where scale = max(|mean|, pstdev). The partial test is what keeps two
// series that merely both trend upward from counting: length must explain
// reward beyond training progress.
//
// Sample and call grain, within length bins: early = first third of the
// rows, late = last third; overall gain D = mean(r_late) - mean(r_early)
// (Welch t > t_{0.975}, D >= 0.1·scale_r); bins = length quintiles over
// both thirds; within = Σ w_b (late_b - early_b) / Σ w_b over bins with
// >= 5 rows in each third, w_b = n_e n_l / (n_e + n_l); share = 1 -
// within/D; the late length mean must exceed the early one by >= 10%. When
// fewer than 3 bins hold both thirds (lengths moved so far that early and
// late answers do not overlap), the step-grain regression rule is used with
// the record order as time.
//
// Only growing length counts. Shorter answers that score higher are left to
// the length drift detector: prompt difficulty alone makes hard prompts
// both longer and lower-scoring, so "shorter pays" cannot be told apart
// from learning in logs like these.
//
// share >= 0.8: ALERT (HIGH); >= 0.5: WARNING (MEDIUM); else OK. The alert's
// run_step is where length first reached half of its rise. Episode grain is
// not judged: an RL episode's return grows with its length by construction
// (Hopper's alive bonus), so the coupling says nothing about gaming.
type lengthCouplingDetector struct{}

func init() { Register(lengthCouplingDetector{}) }

func (lengthCouplingDetector) Name() string { return DetLengthCoupling }

func (lengthCouplingDetector) Applies(run *ingest.Run, cfg Config) bool {
	if run.Grain == ingest.GrainEpisode {
		return false
	}
	_, r := run.Column(ingest.ColReward)
	_, l := run.Column(ingest.ColLength)
	return r && l
}

// lcRows returns the rows, steps, rewards and lengths where both are finite.
func lcRows(run *ingest.Run) (rows []int, t, r, l []float64) {
	rw, okR := run.Column(ingest.ColReward)
	ln, okL := run.Column(ingest.ColLength)
	if !okR || !okL {
		return nil, nil, nil, nil
	}
	steps := run.Steps()
	ok := func(i int) bool {
		return !math.IsNaN(rw[i]) && !math.IsInf(rw[i], 0) && !math.IsNaN(ln[i]) && !math.IsInf(ln[i], 0)
	}
	n := 0
	for i := range rw {
		if ok(i) {
			n++
		}
	}
	rows, t, r, l = make([]int, 0, n), make([]float64, 0, n), make([]float64, 0, n), make([]float64, 0, n)
	for i := range rw {
		if !ok(i) {
			continue
		}
		rows = append(rows, i)
		t = append(t, steps[i])
		r = append(r, rw[i])
		l = append(l, ln[i])
	}
	return rows, t, r, l
}

func (d lengthCouplingDetector) Detect(run *ingest.Run, cfg Config) (Result, []Alert) {
	return tidy(d.detect(run, cfg))
}

func (d lengthCouplingDetector) detect(run *ingest.Run, cfg Config) (Result, []Alert) {
	if run.Grain == ingest.GrainStep {
		return d.steps(run)
	}
	return d.samples(run)
}

// partialSlope is the coefficient of x in y ~ x + t and its t statistic,
// by Frisch–Waugh: residualise y and x on t, regress residual on residual;
// SE = sqrt(RSS/(n-3) / Σ e_x²).
func partialSlope(y, x, t []float64) (beta, tstat float64) {
	fy, fx := fitOLS(t, y), fitOLS(t, x)
	n := len(y)
	sxx, sxy := 0.0, 0.0
	ey := make([]float64, n)
	ex := make([]float64, n)
	for i := range y {
		ey[i] = y[i] - (fy.Alpha + fy.Beta*t[i])
		ex[i] = x[i] - (fx.Alpha + fx.Beta*t[i])
		sxx += ex[i] * ex[i]
		sxy += ex[i] * ey[i]
	}
	if sxx == 0 || n < 4 {
		return 0, math.NaN()
	}
	beta = sxy / sxx
	rss := 0.0
	for i := range ey {
		e := ey[i] - beta*ex[i]
		rss += e * e
	}
	se := math.Sqrt(rss / float64(n-3) / sxx)
	if se == 0 {
		return beta, math.Copysign(math.Inf(1), beta)
	}
	return beta, beta / se
}

func (lengthCouplingDetector) steps(run *ingest.Run) (Result, []Alert) {
	rows, t, r, l := lcRows(run)
	n := len(rows)
	if n < lcMinStepRows {
		return Result{Status: StatusInsufficient, Severity: SeverityLow,
			Message: fmt.Sprintf("Need %d logged steps with reward and length, have %d.", lcMinStepRows, n)}, nil
	}
	if t[n-1] <= t[0] {
		return Result{Status: StatusInsufficient, Severity: SeverityLow, Message: "Steps do not increase."}, nil
	}
	return lcRegress(run, rows, t, r, l, "")
}

// lcRegress is the regression rule (see the type's doc) over time t.
func lcRegress(run *ingest.Run, rows []int, t, r, l []float64, note string) (Result, []Alert) {
	n := len(rows)
	span := t[n-1] - t[0]
	fr, fl, frl := fitOLS(t, r), fitOLS(t, l), fitOLS(l, r)
	dr := fr.Beta * span
	dl := fl.Beta * span
	tc := tCrit(n - 2)
	rRising := fr.T() > tc && dr >= lcGain*relScale(r)
	lRising := fl.T() > tc && dl >= lcGain*math.Abs(meanOf(l))
	share := 0.0
	if dr > 0 {
		share = frl.Beta * dl / dr
	}
	pb, pt := partialSlope(r, l, t)
	rc := newRecordCounter(run)
	steps := run.Steps()
	ev := &Evidence{FromStep: steps[rows[0]], ToStep: steps[rows[n-1]], FromRecord: rc.at(rows[0]), ToRecord: rc.at(rows[n-1]),
		Numbers: map[string]float64{"share": share, "reward_gain": dr, "length_gain": dl,
			"reward_per_token": frl.Beta, "partial_slope": pb, "partial_t": pt,
			"reward_t": fr.T(), "length_t": fl.T()}}
	coupled := rRising && lRising && pt > tCrit(n-3)
	if rRising && lRising && !coupled && share >= lcWarnShare {
		ev.Reason = fmt.Sprintf("Reward and length rose together (steps %s-%s); length may explain up to %s of the gain, but it moves too closely with training progress to tell them apart (partial t = %.1f).",
			fmtNum(ev.FromStep), fmtNum(ev.ToStep), PyPercent(math.Min(share, 9.99), 0), pt)
		return Result{Status: StatusOK, Message: "Reward and length rose together; length's share cannot be separated from training progress.", Evidence: ev}, nil
	}
	return lcVerdict(run, rc, ev, coupled, share, rows, l, dl,
		fmt.Sprintf("Over steps %s-%s the reward rose by %s and mean length by %s tokens; a reward-on-length fit predicts %s of that gain, and length still predicts reward with training progress held fixed (t = %.1f)%s.",
			fmtNum(ev.FromStep), fmtNum(ev.ToStep), fmtNum(dr), fmtNum(dl), PyPercent(math.Max(share, 0), 0), pt, note))
}

func (lengthCouplingDetector) samples(run *ingest.Run) (Result, []Alert) {
	rows, t, r, l := lcRows(run)
	n := len(rows)
	if n < lcMinSampleRows {
		return Result{Status: StatusInsufficient, Severity: SeverityLow,
			Message: fmt.Sprintf("Need %d records with reward and length, have %d.", lcMinSampleRows, n)}, nil
	}
	third := n / 3
	er, lr := r[:third], r[n-third:]
	el, ll := l[:third], l[n-third:]
	D := meanOf(lr) - meanOf(er)
	// Welch's t for the difference of means.
	ve, vl := variance(er), variance(lr)
	se := math.Sqrt(ve/float64(third) + vl/float64(third))
	tw := math.Inf(1)
	if se > 0 {
		tw = D / se
	} else if D <= 0 {
		tw = 0
	}
	rRising := tw > tCrit(third-1) && D >= lcGain*relScale(r)
	dl := meanOf(ll) - meanOf(el)
	lRising := dl >= lcGain*math.Abs(meanOf(el))
	// Length quintile edges over both thirds.
	both := append(append([]float64(nil), el...), ll...)
	sort.Float64s(both)
	edges := make([]float64, lcBins-1)
	for i := range edges {
		edges[i] = both[(i+1)*len(both)/lcBins]
	}
	bin := func(x float64) int { return sort.SearchFloat64s(edges, math.Nextafter(x, math.Inf(1))) }
	var se_, sl_ [lcBins]float64
	var ne, nl [lcBins]int
	for i := range er {
		b := bin(el[i])
		se_[b] += er[i]
		ne[b]++
	}
	for i := range lr {
		b := bin(ll[i])
		sl_[b] += lr[i]
		nl[b]++
	}
	within, wsum := 0.0, 0.0
	used := 0
	for b := 0; b < lcBins; b++ {
		if ne[b] < lcMinBinCount || nl[b] < lcMinBinCount {
			continue
		}
		w := float64(ne[b]*nl[b]) / float64(ne[b]+nl[b])
		within += w * (sl_[b]/float64(nl[b]) - se_[b]/float64(ne[b]))
		wsum += w
		used++
	}
	if used < lcMinBins {
		// Early and late lengths barely overlap, so bins cannot hold length
		// fixed: judge by the regression rule over record order instead.
		idx := make([]float64, n)
		for i, row := range rows {
			idx[i] = float64(row)
		}
		return lcRegress(run, rows, idx, r, l, " (early and late answers share too few lengths to compare within bins)")
	}
	share := 0.0
	if wsum > 0 && D > 0 {
		within /= wsum
		share = 1 - within/D
	}
	rc := newRecordCounter(run)
	ev := &Evidence{FromStep: t[0], ToStep: t[n-1], FromRecord: rc.at(rows[0]), ToRecord: rc.at(rows[n-1]),
		Numbers: map[string]float64{"share": share, "reward_gain": D, "within_bin_gain": within,
			"length_gain": dl, "bins_used": float64(used), "reward_t": tw}}
	return lcVerdict(run, rc, ev, rRising && lRising, share, rows, l, dl,
		fmt.Sprintf("From the first to the last third of the run the reward rose by %s and mean length by %s; within length bins the reward rose only %s, so length accounts for %s of the gain.",
			fmtNum(D), fmtNum(dl), fmtNum(within), PyPercent(math.Max(share, 0), 0)))
}

func lcVerdict(run *ingest.Run, rc recordCounter, ev *Evidence, coupled bool, share float64,
	rows []int, l []float64, dl float64, reason string) (Result, []Alert) {
	if !coupled || share < lcWarnShare {
		ev.Reason = "Reward and response length did not both rise, or length does not predict the reward."
		return Result{Status: StatusOK, Message: "Reward gain does not ride on response length.", Evidence: ev}, nil
	}
	ev.Reason = reason
	res := Result{Status: StatusWarning, Severity: SeverityMedium,
		Message:  fmt.Sprintf("Length explains %s of the reward gain.", PyPercent(share, 0)),
		Detail:   "Longer answers are buying reward: compare rewards at equal length, add a length penalty or normalise the reward by length.",
		Evidence: ev}
	if share >= lcAlertShare {
		res.Status, res.Severity = StatusAlert, SeverityHigh
	}
	// run_step: where length first reached half of its rise.
	k := max(1, len(l)/10)
	start := meanOf(l[:k])
	at := len(l) - 1
	for i, v := range l {
		if v >= start+dl/2 {
			at = i
			break
		}
	}
	return res, []Alert{alertFrom(DetLengthCoupling, res, run, rc, rows[at])}
}
