package analysis

import (
	"cmp"
	"math"
	"slices"
)

// Summary returns the reward statistics over the last window: the rolling
// (Welford) mean and population std, and min, max, p50, p95 by linear
// interpolation over the window's rewards (see Percentile). Nil before the
// first record.
func (e *Engine) Summary() *Summary {
	if e.steps == 0 {
		return nil
	}
	w := e.window.appendTo(nil, 0, e.window.len())
	slices.SortStableFunc(w, cmp.Compare[float64]) // stable, like Python sorted(): -0.0 and 0.0 keep their order
	return &Summary{
		Mean: e.reward.Mean(), Std: e.reward.Std(),
		Min: percentileSorted(w, 0), Max: percentileSorted(w, 100),
		P50: percentileSorted(w, 50), P95: percentileSorted(w, 95),
	}
}

// Percentile is rewardspy's store.percentile: q in [0, 100] over xs by
// linear interpolation between closest ranks, rank = q/100*(n-1):
// xs[lo] + (xs[hi]-xs[lo])*(rank-lo). It returns 0 for an empty slice and
// the single value for one. xs is not modified.
func Percentile(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.SortStableFunc(s, cmp.Compare[float64])
	return percentileSorted(s, q)
}

func percentileSorted(data []float64, q float64) float64 {
	if len(data) == 0 {
		return 0
	}
	if len(data) == 1 {
		return data[0]
	}
	rank := (q / 100.0) * float64(len(data)-1)
	lo := math.Floor(rank)
	hi := math.Ceil(rank)
	if lo == hi {
		return data[int(lo)]
	}
	l, h := data[int(lo)], data[int(hi)]
	return l + (h-l)*(rank-lo)
}
