package analysis

import (
	"math"

	"github.com/goodhart-rl/goodhart/ingest"
)

// groupValsCap is the most rewards of one group a stream keeps to take
// their exact population std; a longer "group" (no GRPO group is) is
// judged by a running (Welford) std instead.
const groupValsCap = 1 << 16

// groupStream applies the group-collapse rule to every row of a stream as
// it arrives, so the group detector stays exact when the batch detectors
// judge a sample (a sample of every k-th row would split every group).
// It tracks both unit kinds the detector knows: groups of consecutive rows
// with one group id, and rows with a finite zero_std_frac; Report picks
// the one the detector would use on the run's columns.
type groupStream struct {
	zs, grp groupRule

	open     bool // a group is open
	keyNum   bool
	keyS     string
	keyB     uint64
	vals     []float64
	all      Rolling // every finite reward of the open group
	fromStep float64
	fromRec  int
	prevStep float64 // the last row seen, which ends an open group
	prevRec  int
}

func newGroupStream() groupStream {
	return groupStream{zs: groupRule{fromSteps: true}}
}

// add feeds rows of c (global rows g0...): cum are their record counts;
// noStepNaN says a missing step column means a missing step (the run has
// one elsewhere), not the row index.
func (gs *groupStream) add(c *ingest.Run, g0 int, cum []int, noStepNaN bool) {
	n := c.Len()
	zs, hasZs := c.Column(ingest.ColZeroStdFrac)
	keyS, hasS := c.StringColumn(ingest.ColGroup)
	keyN, hasN := c.Column(ingest.ColGroup)
	steps, hasSteps := c.Column(ingest.ColStep)
	reward, hasR := c.Column(ingest.ColReward)
	step := func(i int) float64 {
		switch {
		case hasSteps:
			return steps[i]
		case noStepNaN:
			return math.NaN()
		}
		return float64(g0 + i)
	}
	if !hasZs && !hasS && !hasN {
		// No group ids here: every row belongs to no group.
		gs.prevStep, gs.prevRec = step(n-1), cum[n-1]
		return
	}
	for i := 0; i < n; i++ {
		st, rec := step(i), cum[i]
		if hasZs {
			if v := zs[i]; !math.IsNaN(v) && !math.IsInf(v, 0) {
				gs.zs.add(groupSpan{collapsed: math.Max(0, math.Min(1, v)), fromStep: st, toStep: st, fromRec: rec, toRec: rec})
			}
		}
		isNum, ks, kb, ok := false, "", uint64(0), false
		switch {
		case hasS:
			ks, ok = keyS[i], keyS[i] != ""
		case hasN:
			// Two numeric ids are the same group when they print the same,
			// which for non-NaN floats is when their bits are equal.
			isNum, kb, ok = true, math.Float64bits(keyN[i]), !math.IsNaN(keyN[i])
		}
		if ok {
			if !gs.open || isNum != gs.keyNum || ks != gs.keyS || kb != gs.keyB {
				gs.flush(gs.prevStep, gs.prevRec)
				gs.open, gs.keyNum, gs.keyS, gs.keyB = true, isNum, ks, kb
				gs.fromStep, gs.fromRec = st, rec
			}
			if hasR {
				if r := reward[i]; !math.IsNaN(r) && !math.IsInf(r, 0) {
					if len(gs.vals) < groupValsCap {
						gs.vals = append(gs.vals, r)
					}
					gs.all.Add(r)
				}
			}
		}
		gs.prevStep, gs.prevRec = st, rec
	}
}

// flush ends the open group at the given last row: a group with finite
// rewards is one unit, collapsed when their population std < 1e-6.
func (gs *groupStream) flush(toStep float64, toRec int) {
	if !gs.open {
		return
	}
	if gs.all.N() > 0 {
		sd := gs.all.Std()
		if gs.all.N() == len(gs.vals) {
			sd = pstd(gs.vals)
		}
		c := 0.0
		if sd < groupCollapsed {
			c = 1
		}
		gs.grp.add(groupSpan{collapsed: c, fromStep: gs.fromStep, toStep: toStep, fromRec: gs.fromRec, toRec: toRec})
	}
	gs.vals = gs.vals[:0]
	gs.all = Rolling{}
}

// result is the group detector's result and alerts on every row so far,
// by its rule on run's columns: zero_std_frac units when the run has that
// column and no numeric group column (or is step grain), else groups. The
// open group ends at the last row; the stream is not changed.
func (gs *groupStream) result(run *ingest.Run) (Result, []Alert) {
	if _, ok := run.Column(ingest.ColZeroStdFrac); ok {
		if _, g := run.Column(ingest.ColGroup); !g || run.Grain == ingest.GrainStep {
			return tidy(gs.zs.clone().final())
		}
	}
	c := *gs
	c.grp = *gs.grp.clone()
	c.vals = append([]float64(nil), gs.vals...)
	c.flush(gs.prevStep, gs.prevRec)
	return tidy(c.grp.final())
}
