package analysis

import (
	"fmt"
	"math"

	"github.com/goodhart-rl/goodhart/ingest"
)

// DetLengthExplosion is the length explosion/collapse detector's name.
//
// The detector flags a response length that jumps far above
// (explosion) or falls far below (collapse) its earlier level and stays
// there, on LLM policy-optimisation logs (Kind policy; an episode length is
// not a response length, and a growing one is learning).
//
// Over the finite lengths x_1..x_n in step order (n >= 10, else
// INSUFFICIENT_DATA):
//
//	E = median of the first max(1, n/10) values (the earlier level)
//	L = median of the last max(2, n/5) values (the late level)
//	m = sqrt(E L), the midpoint on a log scale
//	stays: >= 80% of the last max(2, n/5) values are beyond m
//	explosion: L/E >= 2 and stays; collapse: L/E <= 1/2 and stays
//
// WARNING (MEDIUM) at a ratio of 2 (or 1/2), ALERT (HIGH) at 3 (or 1/3);
// otherwise OK; E <= 0 is OK (no level to compare). The onset is the first
// value beyond m after the earlier level from which on >= 80% of the values
// stay beyond m; the one alert is raised there. Findings are training
// pathologies (ClassPathology); with
// a clip_ratio column the evidence also gives its early and late medians
// (answers cut at the max length).
const DetLengthExplosion = "length_explosion"

// Length explosion parameters.
const (
	lenExMin      = 10  // logged steps needed
	lenExWarn     = 2.0 // late/early ratio for a WARNING (or its inverse)
	lenExAlert    = 3.0 // ... for an ALERT
	lenExStayFrac = 0.8 // share of the last fifth beyond the midpoint
)

// lengthExplosionDetector implements the DetLengthExplosion detector (see DetLengthExplosion for its rule).
type lengthExplosionDetector struct{}

func init() { Register(lengthExplosionDetector{}) }

func (lengthExplosionDetector) Name() string { return DetLengthExplosion }

func (lengthExplosionDetector) Applies(run *ingest.Run, cfg Config) bool {
	return run.Has(ingest.ColLength) && kindOf(run, cfg) == KindPolicy
}

func (d lengthExplosionDetector) Detect(run *ingest.Run, cfg Config) (Result, []Alert) {
	s := sortedSeries(run, ingest.ColLength)
	n := s.len()
	if n < lenExMin {
		return Result{Status: StatusInsufficient, Severity: SeverityLow,
			Message: fmt.Sprintf("Need %d logged steps to judge response length, have %d.", lenExMin, n)}, nil
	}
	k0, k1 := max(1, n/10), max(2, n/5)
	e := median(s.vals[:k0])
	l := median(s.vals[n-k1:])
	rc := newRecordCounter(run)
	ev := evidenceFor(s, rc, 0, n-1)
	ev.Numbers["early_length"], ev.Numbers["late_length"] = e, l
	if e <= 0 || math.IsNaN(e) {
		ev.Reason = "The early response length is 0: no level to compare with."
		return Result{Status: StatusOK, Message: "Response length: no earlier level to compare.", Evidence: ev}, nil
	}
	ratio := l / e
	mid := math.Sqrt(e * math.Max(l, 0))
	ev.Numbers["ratio"], ev.Numbers["midpoint"] = ratio, mid
	up := ratio >= 1
	beyond := func(x float64) bool {
		if up {
			return x > mid
		}
		return x < mid
	}
	cnt := make([]int, n+1)
	for i := n - 1; i >= 0; i-- {
		cnt[i] = cnt[i+1]
		if beyond(s.vals[i]) {
			cnt[i]++
		}
	}
	stays := float64(cnt[n-k1]) >= lenExStayFrac*float64(k1)
	big := ratio >= lenExWarn || ratio <= 1/lenExWarn
	if !big || !stays {
		ev.Reason = fmt.Sprintf("Response length moved %s -> %s (median of the first %d and last %d steps), ratio %.2f.",
			fmtNum(e), fmtNum(l), k0, k1, ratio)
		return Result{Status: StatusOK, Message: "Response length stays near its earlier level.", Evidence: ev}, nil
	}
	onset := n - k1
	for i := k0; i < n; i++ {
		if beyond(s.vals[i]) && float64(cnt[i]) >= lenExStayFrac*float64(n-i) {
			onset = i
			break
		}
	}
	ev.FromStep, ev.FromRecord = s.steps[onset], rc.at(s.rows[onset])
	ev.Numbers["onset_step"] = s.steps[onset]
	clip := ""
	if c := sortedSeries(run, ingest.ColClipRatio); c.len() >= lenExMin {
		ce, cl := median(c.vals[:max(1, c.len()/10)]), median(c.vals[c.len()-max(2, c.len()/5):])
		ev.Numbers["clip_early"], ev.Numbers["clip_late"] = ce, cl
		clip = fmt.Sprintf("; the share of answers cut at the max length went %s -> %s", fmtNum(ce), fmtNum(cl))
	}
	st, sev := StatusWarning, SeverityMedium
	if ratio >= lenExAlert || ratio <= 1/lenExAlert {
		st, sev = StatusAlert, SeverityHigh
	}
	var res Result
	if up {
		ev.Reason = fmt.Sprintf("Response length jumped from %s to %s tokens (x%.1f) from step %s on and stayed there%s.",
			fmtNum(e), fmtNum(l), ratio, fmtNum(s.steps[onset]), clip)
		res = Result{Status: st, Severity: sev, Class: ClassPathology,
			Message:  fmt.Sprintf("Length explosion: responses grew from %s to %s tokens from step %s on.", fmtNum(e), fmtNum(l), fmtNum(s.steps[onset])),
			Detail:   "Answers ballooned (repetition, rambling or runaway reasoning): read samples from after the onset; a length penalty, a lower max length or a lower learning rate usually helps.",
			Evidence: ev}
	} else {
		ev.Reason = fmt.Sprintf("Response length fell from %s to %s tokens (x%.2f) from step %s on and stayed there%s.",
			fmtNum(e), fmtNum(l), ratio, fmtNum(s.steps[onset]), clip)
		res = Result{Status: st, Severity: sev, Class: ClassPathology,
			Message:  fmt.Sprintf("Length collapse: responses shrank from %s to %s tokens from step %s on.", fmtNum(e), fmtNum(l), fmtNum(s.steps[onset])),
			Detail:   "The policy stopped writing (dropped its reasoning or format): read samples from after the onset; check for a reward that pays short answers, and the entropy.",
			Evidence: ev}
	}
	return tidy(res, []Alert{alertFrom(DetLengthExplosion, res, run, rc, s.rows[onset])})
}
