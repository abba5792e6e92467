package analysis

import (
	"fmt"

	"github.com/goodhart-rl/goodhart/ingest"
)

// DetTruncation is the truncation detector's name.
const DetTruncation = "truncation"

// Truncation thresholds (fractions of completions cut at the max length).
const (
	truncPinned    = 0.9  // ALERT: this share or more of recent completions are cut
	truncHighLevel = 0.5  // ALERT when also up truncHighRise from the start
	truncHighRise  = 0.3  //
	truncWarnLevel = 0.25 // WARNING: clip ratio at least this ...
	truncWarnRise  = 0.15 // ... and up at least this from the start
	truncMinValues = 6    // fewer finite clip_ratio values: insufficient data
)

// truncationDetector flags clip_ratio (the fraction of completions cut at
// the max generation length) climbing toward 1: the policy's answers are
// pinned at the length limit, so the reward is scoring cut-off text.
//
// With the finite clip_ratio values c_1..c_n in row order and
// k = clamp(W/2, 3, 50) (W from WindowFor; W/2 keeps a 40-row TRL log
// responsive), base = mean(c_1..c_k) and, at each i >= 2k,
// cur = mean(c_{i-k+1}..c_i):
//
//	ALERT   (HIGH)   cur >= 0.9, or cur >= 0.5 and cur - base >= 0.3
//	WARNING (MEDIUM) cur >= 0.25 and cur - base >= 0.15
//	OK               otherwise
//
// The levels are absolute because clip_ratio is a proportion: a run whose
// completions are 90% truncated is broken whether or not it started there;
// 25% and +15 points catches a climb early (a length blow-up) while normal
// runs sit near 0 with noise of a few points. Fewer than max(6, 2k) values:
// INSUFFICIENT_DATA. One alert each time the status turns actionable or
// changes level.
type truncationDetector struct{}

func init() { Register(truncationDetector{}) }

func (truncationDetector) Name() string { return DetTruncation }

func (truncationDetector) Applies(run *ingest.Run, cfg Config) bool {
	_, ok := run.Column(ingest.ColClipRatio)
	return ok
}

func (d truncationDetector) Detect(run *ingest.Run, cfg Config) (Result, []Alert) {
	return tidy(d.detect(run, cfg))
}

func (truncationDetector) detect(run *ingest.Run, cfg Config) (Result, []Alert) {
	rows, steps, c := finiteSeries(run, ingest.ColClipRatio)
	k := min(max(WindowFor(run, cfg).W/2, 3), 50)
	need := max(truncMinValues, 2*k)
	if len(c) < need {
		return Result{Status: StatusInsufficient, Severity: SeverityLow,
			Message: fmt.Sprintf("Need %d logged clip ratios to judge truncation, have %d.", need, len(c))}, nil
	}
	rc := newRecordCounter(run)
	base := meanOf(c[:k])
	status := func(cur float64) Status {
		switch {
		case cur >= truncPinned || (cur >= truncHighLevel && cur-base >= truncHighRise):
			return StatusAlert
		case cur >= truncWarnLevel && cur-base >= truncWarnRise:
			return StatusWarning
		}
		return StatusOK
	}
	result := func(i int, cur float64) Result {
		ev := &Evidence{FromStep: steps[i-k+1], ToStep: steps[i],
			FromRecord: rc.at(rows[i-k+1]), ToRecord: rc.at(rows[i]),
			Numbers: map[string]float64{"clip_ratio": cur, "baseline_clip_ratio": base, "window": float64(k)}}
		switch status(cur) {
		case StatusAlert:
			ev.Reason = fmt.Sprintf("Over steps %s-%s, %s of completions were cut at the max length (%s over the first %d logged steps).",
				fmtNum(steps[i-k+1]), fmtNum(steps[i]), PyPercent(cur, 0), PyPercent(base, 0), k)
			return Result{Status: StatusAlert, Severity: SeverityHigh,
				Message:  fmt.Sprintf("%s of completions hit the max length (clip ratio %s at the start).", PyPercent(cur, 0), PyPercent(base, 0)),
				Detail:   "Answers are pinned at the length limit: the reward is scoring cut-off text. Check whether length pays, add a length penalty or raise max length.",
				Evidence: ev}
		case StatusWarning:
			ev.Reason = fmt.Sprintf("The share of completions cut at the max length rose from %s to %s by step %s.",
				PyPercent(base, 0), PyPercent(cur, 0), fmtNum(steps[i]))
			return Result{Status: StatusWarning, Severity: SeverityMedium,
				Message:  fmt.Sprintf("Clip ratio climbing: %s of completions truncated (from %s).", PyPercent(cur, 0), PyPercent(base, 0)),
				Detail:   "Responses are growing into the length limit; check the length evidence and whether the reward favours longer answers.",
				Evidence: ev}
		}
		ev.Reason = fmt.Sprintf("%s of recent completions were truncated (%s at the start).", PyPercent(cur, 0), PyPercent(base, 0))
		return Result{Status: StatusOK, Message: "Few completions hit the max length.", Evidence: ev}
	}
	var alerts []Alert
	var last Status
	sum, cur := 0.0, 0.0
	for i := 2*k - 1; i < len(c); i++ {
		// Rolling sum over c[i-k+1..i], re-summed every k rows against drift.
		if (i-(2*k-1))%k == 0 {
			sum = 0
			for _, v := range c[i-k+1 : i] {
				sum += v
			}
		} else {
			sum -= c[i-k]
		}
		sum += c[i]
		cur = sum / float64(k)
		st := status(cur)
		if st.Actionable() && st != last {
			alerts = append(alerts, alertFrom(DetTruncation, result(i, cur), run, rc, rows[i]))
		}
		last = st
	}
	res := result(len(c)-1, cur)
	return res, alerts
}
