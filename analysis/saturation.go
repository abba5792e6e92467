package analysis

import (
	"fmt"

	"github.com/goodhart-rl/goodhart/ingest"
)

// DetSaturation is the score-saturation detector's name.
//
// The detector flags a batch-mean score pinned at its ceiling on a
// trainer log (one row per step). A saturated score is not hacking by
// itself (the held-out comparison of the divergence detector decides
// that), but it leaves GRPO/PPO little to learn from and says nothing about
// the task: an early warning.
//
// Over the finite rewards r_1..r_n in step order (n >= 20, else
// INSUFFICIENT_DATA), the maximum M is Config.MaxReward when set (> 0),
// else 1 when every value is in [0, 1] and 100 when every value is in
// [0, 100] and some exceed 10 (a percentage); with no known maximum the
// detector is NOT_APPLICABLE. With
// late = the last half of the values:
//
//	saturated: >= 80% of late values are >= 0.95 M  -> WARNING (LOW), ClassEarlyWarning
//
// otherwise OK. The evidence starts at the onset: the first value >= 0.95 M
// from which on >= 80% of the values stay >= 0.95 M, and gives that share,
// the share of the run after the onset and the late share; the one alert
// is raised at the onset. Runs only on policy-optimisation logs (Kind
// policy).
const DetSaturation = "saturation"

// Saturation parameters.
const (
	satMin      = 20   // logged steps needed
	satLevel    = 0.95 // "at the ceiling": >= 95% of the score's maximum
	satLateFrac = 0.8  // on >= 80% of the late run
)

// saturationDetector implements the DetSaturation detector (see DetSaturation for its rule).
type saturationDetector struct{}

func init() { Register(saturationDetector{}) }

func (saturationDetector) Name() string { return DetSaturation }

func (saturationDetector) Applies(run *ingest.Run, cfg Config) bool {
	return run.Has(ingest.ColReward) && kindOf(run, cfg) == KindPolicy
}

func (d saturationDetector) Detect(run *ingest.Run, cfg Config) (Result, []Alert) {
	s := sortedSeries(run, ingest.ColReward)
	n := s.len()
	if n < satMin {
		return Result{Status: StatusInsufficient, Severity: SeverityLow,
			Message: fmt.Sprintf("Need %d logged steps to judge saturation, have %d.", satMin, n)}, nil
	}
	m := boundedScale(s.vals)
	if cfg.HasMaxReward && cfg.MaxReward > 0 {
		m = cfg.MaxReward
	}
	if m == 0 {
		return Result{Status: StatusNotApplicable, Severity: SeverityLow,
			Message: "The score has no known maximum (values outside [0, 1] and [0, 100]); pass --max-reward to check saturation."}, nil
	}
	thr := satLevel * m
	// above[i] = number of values >= thr in s.vals[i:].
	above := make([]int, n+1)
	for i := n - 1; i >= 0; i-- {
		above[i] = above[i+1]
		if s.vals[i] >= thr {
			above[i]++
		}
	}
	half := n / 2
	lateFrac := float64(above[half]) / float64(n-half)
	onset := -1
	for i := 0; i < n; i++ {
		if s.vals[i] >= thr && float64(above[i]) >= satLateFrac*float64(n-i) {
			onset = i
			break
		}
	}
	rc := newRecordCounter(run)
	from := half
	if onset >= 0 {
		from = onset
	}
	ev := evidenceFor(s, rc, from, n-1)
	ev.Numbers["max"], ev.Numbers["threshold"], ev.Numbers["late_share"] = m, thr, lateFrac
	if lateFrac < satLateFrac || onset < 0 {
		ev.Reason = fmt.Sprintf("The score is >= %s (95%% of its maximum %s) on %s of the last half of the steps, under 80%%.",
			fmtNum(thr), fmtNum(m), PyPercent(lateFrac, 0))
		return Result{Status: StatusOK, Message: "The score is not pinned at its maximum.", Evidence: ev}, nil
	}
	share := float64(above[onset]) / float64(n-onset)
	ev.Numbers["onset_step"], ev.Numbers["share_after_onset"] = s.steps[onset], share
	ev.Numbers["run_share_after_onset"] = float64(n-onset) / float64(n)
	ev.Reason = fmt.Sprintf("From step %s on (%s of the run) the batch-mean score is >= %s (95%% of its maximum %s) on %s of the steps; last half: %s.",
		fmtNum(s.steps[onset]), PyPercent(float64(n-onset)/float64(n), 0), fmtNum(thr), fmtNum(m), PyPercent(share, 0), PyPercent(lateFrac, 0))
	res := Result{Status: StatusWarning, Severity: SeverityLow, Class: ClassEarlyWarning,
		Message:  fmt.Sprintf("Saturation: the score is at its ceiling (>= %s) on %s of the steps from step %s on.", fmtNum(thr), PyPercent(share, 0), fmtNum(s.steps[onset])),
		Detail:   "A pinned score leaves little to learn from and proves nothing about the task: compare with a held-out metric before trusting the gains; use harder prompts or a finer-grained reward.",
		Evidence: ev}
	return tidy(res, []Alert{alertFrom(DetSaturation, res, run, rc, s.rows[onset])})
}
