package main

import (
	"fmt"
	"math"
	"time"

	"github.com/goodhart-rl/goodhart/analysis"
)

// Limits of the numeric flags, in one place. A value outside its range is
// refused (exit 2) with the flag, the value and the range; nothing is
// clamped silently.
const (
	// maxWindow bounds every rolling window (--window of audit, summary,
	// report, plot; --balance-window): 16,777,216 records.
	maxWindow = 1 << 24
	// maxShowWindow bounds show's --window: the live view keeps the whole
	// window in memory (reward and component values per record).
	maxShowWindow = 1 << 20
	// maxCount bounds record counts that only grow with the data
	// (--baseline-steps, --min-confidence-steps, --drift-window,
	// --starvation-window).
	maxCount = math.MaxInt32
	// maxConcurrency bounds probe --concurrency (copies of the reward
	// command, or HTTP requests in flight).
	maxConcurrency = 256
	minInterval    = 10 * time.Millisecond
	maxInterval    = time.Hour
	maxTimeout     = 24 * time.Hour
)

// intRange is one integer flag's value and valid range [lo, hi].
type intRange struct {
	name   string
	v      int
	lo, hi int
}

// checkInts returns an error for the first value outside its range:
// "--window 5000000000: must be at most 16777216" or "... must be >= 0".
func checkInts(flags ...intRange) error {
	for _, f := range flags {
		if f.v < f.lo {
			return fmt.Errorf("--%s %d: must be >= %d", f.name, f.v, f.lo)
		}
		if f.v > f.hi {
			return fmt.Errorf("--%s %d: must be at most %d", f.name, f.v, f.hi)
		}
	}
	return nil
}

// checkDuration returns an error unless lo <= v <= hi.
func checkDuration(name string, v, lo, hi time.Duration) error {
	if v < lo || v > hi {
		return fmt.Errorf("--%s %s: want a duration from %s to %s", name, v, lo, hi)
	}
	return nil
}

// checkWindowFits refuses a window longer than the records there are: the
// run's records plus those a resumed session already saw. A window that
// can never fill only costs memory; the message says the run's length.
func checkWindowFits(name string, w, records int) error {
	if w > records {
		return fmt.Errorf("--%s %d: longer than the run (%s records); use at most %s", name, w, thousands(records), thousands(max(records, 1)))
	}
	return nil
}

// alignRanges are the ranges of align's integer flags.
func (a *alignFlags) ranges() []intRange {
	return []intRange{
		{"window", a.window, 1, analysis.MaxAlignWindow},
		{"baseline-steps", a.baseline, 1, maxCount},
		{"min-confidence-steps", a.minConf, 1, maxCount},
		{"drift-window", a.driftWin, 1, maxCount},
		{"starvation-window", a.starveWin, 1, maxCount},
	}
}
