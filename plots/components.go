package plots

import (
	"fmt"
	"math"

	"github.com/goodhart-rl/goodhart/ingest"
)

// ComponentShares returns, per component (without "total"), its share of
// the reward magnitude over the last w records, in percent:
//
//	share_c[i] = 100 * M_c[i] / sum_j M_j[i],  M_c[i] = sum |value_c| over records i-w < j <= i
//
// the rolling form of the balance definition (analysis.Balance; a missing value
// contributes nothing). Where every M is 0 the shares are NaN. O(n*k).
func ComponentShares(run *ingest.Run, w int) map[string][]float64 {
	names := components(run)
	if len(names) == 0 {
		return nil
	}
	if w <= 0 {
		w = 1
	}
	n := run.Len()
	cols := make([][]float64, len(names))
	for k, c := range names {
		cols[k], _ = run.Column(ingest.ComponentPrefix + c)
	}
	sums := make([]float64, len(names))
	out := make(map[string][]float64, len(names))
	shares := make([][]float64, len(names))
	for k := range names {
		shares[k] = make([]float64, n)
	}
	for i := 0; i < n; i++ {
		total := 0.0
		for k, col := range cols {
			if v := col[i]; v == v {
				sums[k] += math.Abs(v)
			}
			if j := i - w; j >= 0 {
				if v := col[j]; v == v {
					sums[k] -= math.Abs(v)
				}
			}
			if sums[k] < 1e-12 { // cancel rounding residue of a window gone empty
				sums[k] = math.Max(0, sums[k])
			}
			total += sums[k]
		}
		for k := range cols {
			if total <= 0 {
				shares[k][i] = math.NaN()
			} else {
				shares[k][i] = 100 * sums[k] / total
			}
		}
	}
	for k, c := range names {
		out[c] = shares[k]
	}
	return out
}

// Components draws each component's share of the reward magnitude over a
// rolling window of W records (ComponentShares), one line per component,
// with the expected share as a dashed line of the same colour when
// opt.Expected names it (one legend entry per component, "format (expected
// 30%)"). Names lose the prefix and suffix they all share (TrimCommon, said
// in the panel title) and are shortened (ShortName). Components expected
// but never logged are listed in the notes. ErrNotApplicable when the run
// has no components.
func Components(run *ingest.Run, opt Options) (*Figure, error) {
	names := components(run)
	if len(names) == 0 {
		return nil, fmt.Errorf("components: %w: the run logs no reward components", ErrNotApplicable)
	}
	x, xlabel := xAxisLazy(run)
	w := opt.window(run)
	bx, shares := shareBands(run, names, x, w, opt.Buckets)
	exp := opt.expectedShares()
	f := &Figure{Kind: "components", Title: fmt.Sprintf("Component shares of the reward (rolling, W=%d)", w)}
	pa := newPanel("", xlabel, "share of |reward| (%)")
	f.Panels = []*Panel{pa}
	short, prefix, suffix := TrimCommon(names)
	if n := trimNote("Component names", prefix, suffix); n != "" {
		f.Notes = append(f.Notes, n)
		pa.Plot.Title.Text = "Component " + affixWords(prefix, suffix)
	}
	anyExp := false
	for k, c := range names {
		col := SeriesColor(k)
		name := ShortName(short[k])
		pa.add(name, NewLine(bx, shares[k], col))
		full := c
		if e, ok := exp[c]; ok {
			l := NewHLine(e, col)
			l.Width = 1.4
			pa.Plot.Add(l)
			name += fmt.Sprintf(" (expected %.0f%%)", e)
			full += fmt.Sprintf(" (expected %.1f%%)", e)
			anyExp = true
		}
		pa.entries[len(pa.entries)-1].lines = wrap(name, legendLineMax, legendMaxLines)
		pa.Series[len(pa.Series)-1] = full
	}
	if anyExp {
		pa.legendOnly("dashed: expected share", NewHLine(0, Grey))
	}
	logged := map[string]bool{}
	for _, c := range names {
		logged[c] = true
	}
	for _, c := range sortedKeys(exp) {
		if !logged[c] && exp[c] > 0 {
			f.Notes = append(f.Notes, fmt.Sprintf("%q is expected (%.1f%%) but never logged.", c, exp[c]))
		}
	}
	pa.Plot.Y.Min = math.Min(pa.Plot.Y.Min, 0)
	pa.Plot.Y.Max = math.Max(pa.Plot.Y.Max, 100)
	return f, nil
}

// shareBands is ComponentShares followed by Downsample (bucket means) in
// one pass, without materialising a full series per component. x == nil
// means x[i] = i. It returns the bucket x values and, per component in the
// order of names, the mean share of each bucket (NaN where no record of the
// bucket has a share).
func shareBands(run *ingest.Run, names []string, x []float64, w, buckets int) ([]float64, [][]float64) {
	n := run.Len()
	if buckets <= 0 {
		buckets = DefaultBuckets
	}
	if w <= 0 {
		w = 1
	}
	per := 1
	if n > buckets {
		per = (n + buckets - 1) / buckets
	}
	m := (n + per - 1) / per
	cols := make([][]float64, len(names))
	for k, c := range names {
		cols[k], _ = run.Column(ingest.ComponentPrefix + c)
	}
	bx := make([]float64, m)
	out := make([][]float64, len(names))
	for k := range out {
		out[k] = make([]float64, m)
	}
	sums := make([]float64, len(names))
	acc := make([]float64, len(names))
	for b := 0; b < m; b++ {
		from, to := b*per, min((b+1)*per, n)
		sx := 0.0
		cnt := 0
		clear(acc)
		for i := from; i < to; i++ {
			sx += xAt(x, i)
			total := 0.0
			for k, col := range cols {
				if v := col[i]; v == v {
					sums[k] += math.Abs(v)
				}
				if j := i - w; j >= 0 {
					if v := col[j]; v == v {
						sums[k] -= math.Abs(v)
					}
				}
				if sums[k] < 1e-12 {
					sums[k] = math.Max(0, sums[k])
				}
				total += sums[k]
			}
			if total <= 0 {
				continue
			}
			for k := range cols {
				acc[k] += 100 * sums[k] / total
			}
			cnt++
		}
		bx[b] = sx / float64(to-from)
		for k := range cols {
			if cnt == 0 {
				out[k][b] = math.NaN()
			} else {
				out[k][b] = acc[k] / float64(cnt)
			}
		}
	}
	return bx, out
}
