package plots

import "math"

// RollingBands is Rolling followed by Downsample in one pass, without
// materialising the rolling series: for a long run it is the difference
// between streaming once over the data and allocating four more copies of
// it. For bucket k it returns
//
//	Raw:  min, max and mean of y, and the mean x
//	Mean: the mean over the bucket of the rolling mean (W = w)
//	Lo:   the mean of (rolling mean - rolling std)
//	Hi:   the mean of (rolling mean + rolling std)
//
// with the definitions of Rolling and Downsample (NaN skipped; a bucket
// with no value is NaN). x == nil means x[i] = i. Lo and Hi share Raw's X.
func RollingBands(x, y []float64, w, buckets int) (raw Bands, mean, lo, hi []float64) {
	n := len(y)
	if x != nil {
		n = min(n, len(x))
	}
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
	raw = Bands{X: make([]float64, m), Min: make([]float64, m), Max: make([]float64, m),
		Mean: make([]float64, m), PerBucket: per}
	mean, lo, hi = make([]float64, m), make([]float64, m), make([]float64, m)
	shift := 0.0
	for _, v := range y[:n] {
		if v == v {
			shift = v
			break
		}
	}
	var s, s2 float64 // rolling sums relative to shift
	c := 0
	for k := 0; k < m; k++ {
		from, to := k*per, min((k+1)*per, n)
		rlo, rhi, rsum, sx := math.Inf(1), math.Inf(-1), 0.0, 0.0
		rc, mc := 0, 0
		var msum, losum, hisum float64
		for i := from; i < to; i++ {
			if x != nil {
				sx += x[i]
			} else {
				sx += float64(i)
			}
			v := y[i]
			if v == v {
				if v < rlo {
					rlo = v
				}
				if v > rhi {
					rhi = v
				}
				rsum += v
				rc++
				d := v - shift
				s += d
				s2 += d * d
				c++
			}
			if j := i - w; j >= 0 {
				if u := y[j]; u == u {
					d := u - shift
					s -= d
					s2 -= d * d
					c--
				}
			}
			if c == 0 {
				s, s2 = 0, 0
				continue
			}
			mu := s / float64(c)
			sd := math.Sqrt(math.Max(0, s2/float64(c)-mu*mu))
			mu += shift
			msum += mu
			losum += mu - sd
			hisum += mu + sd
			mc++
		}
		raw.X[k] = sx / float64(to-from)
		if rc == 0 {
			raw.Min[k], raw.Max[k], raw.Mean[k] = math.NaN(), math.NaN(), math.NaN()
		} else {
			raw.Min[k], raw.Max[k], raw.Mean[k] = rlo, rhi, rsum/float64(rc)
		}
		if mc == 0 {
			mean[k], lo[k], hi[k] = math.NaN(), math.NaN(), math.NaN()
		} else {
			mean[k], lo[k], hi[k] = msum/float64(mc), losum/float64(mc), hisum/float64(mc)
		}
	}
	return raw, mean, lo, hi
}
