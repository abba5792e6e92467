package plots

import "math"

// DefaultBuckets is the number of buckets a long series is reduced to
// before drawing: about one per pixel of a figure's data area.
const DefaultBuckets = 1000

// Bands is a series reduced to buckets: for bucket i, X[i] is the mean x of
// its points and Min[i], Max[i], Mean[i] summarise its y values. A bucket
// whose y values are all missing (NaN) has NaN in Min, Max and Mean, which
// the line plotters draw as a gap.
type Bands struct {
	X, Min, Max, Mean []float64
	// PerBucket is the number of points per bucket (1 when the series was
	// short enough to keep every point).
	PerBucket int
}

// Len returns the number of buckets.
func (b Bands) Len() int { return len(b.X) }

// Downsample reduces the points (x[i], y[i]) to at most buckets buckets of
// consecutive points, each holding ceil(n/buckets) points (the last may
// hold fewer), so that a single spike survives as a bucket's Min or Max:
//
//	X[k]    = mean of x over the bucket's points
//	Min[k]  = min of the non-NaN y, Max[k] = max, Mean[k] = their mean
//
// With n <= buckets every point is its own bucket (Min = Max = Mean = y).
// buckets <= 0 means DefaultBuckets. x and y must have the same length;
// the shorter length is used otherwise. NaN y values are skipped (a bucket
// of only NaN yields NaN). It runs in O(n) with no allocation beyond the
// result.
func Downsample(x, y []float64, buckets int) Bands {
	n := min(len(x), len(y))
	if buckets <= 0 {
		buckets = DefaultBuckets
	}
	per := 1
	if n > buckets {
		per = (n + buckets - 1) / buckets
	}
	m := (n + per - 1) / per
	b := Bands{X: make([]float64, m), Min: make([]float64, m), Max: make([]float64, m),
		Mean: make([]float64, m), PerBucket: per}
	for k := 0; k < m; k++ {
		from, to := k*per, min((k+1)*per, n)
		lo, hi, sum, sx := math.Inf(1), math.Inf(-1), 0.0, 0.0
		cnt := 0
		for i := from; i < to; i++ {
			sx += x[i]
			v := y[i]
			if v != v {
				continue
			}
			if v < lo {
				lo = v
			}
			if v > hi {
				hi = v
			}
			sum += v
			cnt++
		}
		b.X[k] = sx / float64(to-from)
		if cnt == 0 {
			b.Min[k], b.Max[k], b.Mean[k] = math.NaN(), math.NaN(), math.NaN()
			continue
		}
		b.Min[k], b.Max[k], b.Mean[k] = lo, hi, sum/float64(cnt)
	}
	return b
}

// Rolling returns the rolling mean and population standard deviation of y
// over the last w records (the record itself and the w-1 before it):
//
//	mean[i] = sum(y[j]) / c,  std[i] = sqrt(max(0, sum(y[j]^2)/c - mean[i]^2))
//
// over the non-NaN y[j] with i-w < j <= i, where c is their count. Where
// c == 0 both are NaN. w <= 0 is treated as 1. The sums are taken relative
// to the first non-NaN value, which keeps the variance exact enough for
// rewards with a large offset. O(n).
func Rolling(y []float64, w int) (mean, std []float64) {
	n := len(y)
	if w <= 0 {
		w = 1
	}
	mean, std = make([]float64, n), make([]float64, n)
	shift := 0.0
	for _, v := range y {
		if v == v {
			shift = v
			break
		}
	}
	var s, s2 float64
	c := 0
	for i := 0; i < n; i++ {
		if v := y[i]; v == v {
			d := v - shift
			s += d
			s2 += d * d
			c++
		}
		if j := i - w; j >= 0 {
			if v := y[j]; v == v {
				d := v - shift
				s -= d
				s2 -= d * d
				c--
			}
		}
		if c == 0 {
			mean[i], std[i] = math.NaN(), math.NaN()
			s, s2 = 0, 0 // drop accumulated rounding when the window empties
			continue
		}
		m := s / float64(c)
		mean[i] = m + shift
		std[i] = math.Sqrt(math.Max(0, s2/float64(c)-m*m))
	}
	return mean, std
}

// finiteRange returns the min and max of the finite values of the slices,
// and ok false when there are none.
func finiteRange(vs ...[]float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			ok = true
			if x < lo {
				lo = x
			}
			if x > hi {
				hi = x
			}
		}
	}
	return lo, hi, ok
}
