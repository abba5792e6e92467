package analysis

import (
	"fmt"
	"math"

	"github.com/goodhart-rl/goodhart/ingest"
)

// DetCollapse is the collapse detector's name.
//
// The detector flags a reward that falls from its best level and stays
// down: a persistent drop, measured against the run's own gain and noise,
// not a dip.
//
// Over the finite rewards r_1..r_n in step order (n >= 40, else
// INSUFFICIENT_DATA), cut into consecutive blocks of w = clamp(n/20, 5, 100)
// values (the last block takes the remainder), with block means b_k:
//
//	B   = max_k b_k (the best level), b_1 the first block's mean
//	G   = max(0, B - b_1), what the run gained up to its best
//	SE  = max(median over blocks of sd(block)/sqrt(len(block)),
//	          1.4826 median_k |b_{k+1} - b_k| / sqrt(2))   (noise of a block mean)
//	D   = max(0.5 G, 3 sqrt(2) SE)
//	P   = max(2, ceil(nb/10)) blocks (a tenth of the run)
//
// Collapsed: after the best block, P or more consecutive blocks have means
// below B - D. Then ALERT (HIGH) when the last P blocks are all below B - D
// (still down at the end), else WARNING (MEDIUM): it fell and recovered.
// Otherwise OK. The one alert is raised when the drop has lasted P blocks.
// A run that never rose can still collapse (G = 0: the drop
// must then clear the noise term alone). Not run on rewardspy's per-call
// logs (Kind rewardspy keeps rewardspy's audit). Findings are training pathologies
// (ClassPathology). The evidence gives the best level and its steps, the
// lowest block and the last block's level.
const DetCollapse = "collapse"

// Collapse parameters.
const (
	collapseMin      = 40  // values needed
	collapseGainFrac = 0.5 // a drop must lose >= half of what the run had gained...
	collapseNoiseZ   = 3.0 // ...and be >= 3 standard errors of a difference of block means
)

// collapseDetector implements the DetCollapse detector (see DetCollapse for its rule).
type collapseDetector struct{}

func init() { Register(collapseDetector{}) }

func (collapseDetector) Name() string { return DetCollapse }

func (collapseDetector) Applies(run *ingest.Run, cfg Config) bool {
	return run.Has(ingest.ColReward) && kindOf(run, cfg) != KindRewardspy
}

type block struct {
	from, to int // indices into the series, inclusive
	mean, se float64
}

func (d collapseDetector) Detect(run *ingest.Run, cfg Config) (Result, []Alert) {
	res, at := d.judge(run, cfg)
	var alerts []Alert
	if res.Status.Actionable() {
		alerts = append(alerts, alertFrom(DetCollapse, res, run, newRecordCounter(run), at))
	}
	return tidy(res, alerts)
}

// blocksOf cuts xs into blocks of w values (the last takes the remainder).
func blocksOf(xs []float64, w int) []block {
	nb := len(xs) / w
	out := make([]block, 0, nb)
	for k := 0; k < nb; k++ {
		from, to := k*w, (k+1)*w-1
		if k == nb-1 {
			to = len(xs) - 1
		}
		v := xs[from : to+1]
		out = append(out, block{from: from, to: to, mean: meanOf(v), se: math.Sqrt(variance(v) / float64(len(v)))})
	}
	return out
}

// judge returns the result and, for an actionable one, the row to alert at
// (the end of the first persistent stretch).
func (collapseDetector) judge(run *ingest.Run, cfg Config) (Result, int) {
	w := wordsFor(kindOf(run, cfg))
	s := sortedSeries(run, ingest.ColReward)
	n := s.len()
	if n < collapseMin {
		return Result{Status: StatusInsufficient, Severity: SeverityLow,
			Message: fmt.Sprintf("Need %d %s to judge a collapse, have %d.", collapseMin, w.units, n)}, -1
	}
	bw := min(max(n/20, 5), 100)
	bl := blocksOf(s.vals, bw)
	nb := len(bl)
	kb := 0
	ses := make([]float64, nb)
	for k, b := range bl {
		if b.mean > bl[kb].mean {
			kb = k
		}
		ses[k] = b.se
	}
	best := bl[kb].mean
	gain := math.Max(0, best-bl[0].mean)
	// Noise of a block mean: the larger of the within-block standard error
	// and a robust estimate from successive block means (1.4826 times the
	// median absolute difference, over sqrt 2), which also sees slow
	// wandering that the within-block spread misses.
	diffs := make([]float64, 0, nb-1)
	for k := 1; k < nb; k++ {
		diffs = append(diffs, math.Abs(bl[k].mean-bl[k-1].mean))
	}
	se := math.Max(median(ses), 1.4826*median(diffs)/math.Sqrt2)
	drop := math.Max(collapseGainFrac*gain, collapseNoiseZ*math.Sqrt2*se)
	p := max(2, (nb+9)/10)
	thr := best - drop
	rc := newRecordCounter(run)
	last := bl[nb-1]
	ev := evidenceFor(s, rc, bl[kb].from, bl[kb].to)
	ev.Numbers["best_level"], ev.Numbers["start_level"], ev.Numbers["end_level"] = best, bl[0].mean, last.mean
	ev.Numbers["block"], ev.Numbers["drop_threshold"], ev.Numbers["noise_se"] = float64(bw), drop, se
	lvl := fmt.Sprintf("%d-%s", bw, w.unit)
	if drop <= 0 {
		ev.Reason = fmt.Sprintf("The %s never moves.", w.reward)
		return Result{Status: StatusOK, Message: fmt.Sprintf("No collapse: the %s never moves.", w.reward), Evidence: ev}, -1
	}
	// First stretch of >= p consecutive blocks below thr after the best.
	first, length, start := -1, 0, -1
	for k := kb + 1; k < nb; k++ {
		if bl[k].mean >= thr {
			if first >= 0 {
				break
			}
			start = -1
			continue
		}
		if start < 0 {
			start = k
		}
		if k-start+1 >= p {
			first, length = start, k-start+1
		}
	}
	if first < 0 {
		ev.Reason = fmt.Sprintf("Best %s level %s (%s %s-%s); the %s never stayed below %s (best minus %s) for %d blocks; last level %s.",
			lvl, fmtNum(best), w.units, fmtNum(s.steps[bl[kb].from]), fmtNum(s.steps[bl[kb].to]), w.reward, fmtNum(thr), fmtNum(drop), p, fmtNum(last.mean))
		return Result{Status: StatusOK, Message: fmt.Sprintf("No collapse: the %s holds its best level.", w.reward), Evidence: ev}, -1
	}
	down := bl[first : first+length]
	low := down[0]
	for _, b := range down {
		if b.mean < low.mean {
			low = b
		}
	}
	stillDown := true
	for _, b := range bl[nb-p:] {
		if b.mean >= thr {
			stillDown = false
		}
	}
	from, to := down[0].from, down[len(down)-1].to
	ev.FromStep, ev.ToStep = s.steps[from], s.steps[to]
	ev.FromRecord, ev.ToRecord = rc.at(s.rows[from]), rc.at(s.rows[to])
	ev.Numbers["low_level"], ev.Numbers["best_from_step"], ev.Numbers["best_to_step"] = low.mean, s.steps[bl[kb].from], s.steps[bl[kb].to]
	ev.Numbers["low_from_step"], ev.Numbers["low_to_step"] = s.steps[low.from], s.steps[low.to]
	span := to - from + 1
	ev.Reason = fmt.Sprintf("The %s fell from its best %s level %s (%s %s-%s) to %s (%s %s-%s) and stayed below %s for %d %s (%s-%s); the last level is %s.",
		w.reward, lvl, fmtNum(best), w.units, fmtNum(s.steps[bl[kb].from]), fmtNum(s.steps[bl[kb].to]),
		fmtNum(low.mean), w.units, fmtNum(s.steps[low.from]), fmtNum(s.steps[low.to]), fmtNum(thr), span, w.units,
		fmtNum(s.steps[from]), fmtNum(s.steps[to]), fmtNum(last.mean))
	if stillDown {
		return Result{Status: StatusAlert, Severity: SeverityHigh, Class: ClassPathology,
			Message:  fmt.Sprintf("Collapse: the %s fell from its best level %s to %s and stays down (last %s).", w.reward, fmtNum(best), fmtNum(low.mean), fmtNum(last.mean)),
			Detail:   "Training fell apart after its best point: keep the checkpoint from the best steps, then lower the learning rate, clip updates harder or check for a change in the reward or environment at the drop.",
			Evidence: ev}, s.rows[min(from+p*bw, n)-1]
	}
	return Result{Status: StatusWarning, Severity: SeverityMedium, Class: ClassPathology,
		Message:  fmt.Sprintf("Collapse and recovery: the %s fell from %s to %s for %d %s, then came back (last %s).", w.reward, fmtNum(best), fmtNum(low.mean), span, w.units, fmtNum(last.mean)),
		Detail:   "Training is unstable: a long stretch lost most of what was learned. Keep the best checkpoint; lower the learning rate or clip updates harder.",
		Evidence: ev}, s.rows[min(from+p*bw, n)-1]
}
