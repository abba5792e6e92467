package analysis

import "math"

// Rolling is a running mean and population variance with removal
// (Welford's method), bit-compatible with rewardspy's RunningStats. The
// zero value is empty and ready to use.
//
// Add(x):    n++, d = x-mean, mean += d/n, m2 += d*(x-mean)
// Remove(x): for n > 1: mean' = (n*mean - x)/(n-1), m2 -= (x-mean')*(x-mean),
// m2 = max(m2, 0), n--; for n <= 1 the statistics reset to empty.
type Rolling struct {
	n    int
	mean float64
	m2   float64
}

// Add adds x.
func (r *Rolling) Add(x float64) {
	r.n++
	d := x - r.mean
	r.mean += d / float64(r.n)
	r.m2 += d * (x - r.mean)
}

// Remove removes x, which must have been added before.
func (r *Rolling) Remove(x float64) {
	if r.n <= 1 {
		*r = Rolling{}
		return
	}
	n := float64(r.n)
	newMean := (n*r.mean - x) / (n - 1)
	r.m2 -= (x - newMean) * (x - r.mean)
	r.mean = newMean
	r.n--
	if r.m2 < 0 {
		r.m2 = 0
	}
}

// N is the number of values held.
func (r *Rolling) N() int { return r.n }

// Mean is the running mean; 0 when empty.
func (r *Rolling) Mean() float64 { return r.mean }

// Variance is the population variance m2/n; 0 when empty.
func (r *Rolling) Variance() float64 {
	if r.n == 0 {
		return 0
	}
	return r.m2 / float64(r.n)
}

// Std is the population standard deviation sqrt(Variance()).
func (r *Rolling) Std() float64 { return math.Sqrt(r.Variance()) }

// ring is a fixed-capacity FIFO of float64: pushing onto a full ring drops
// the oldest value. Storage grows lazily up to the capacity.
type ring struct {
	buf      []float64
	start, n int
	capacity int
}

func newRing(capacity int) *ring {
	if capacity < 1 {
		capacity = 1
	}
	return &ring{buf: make([]float64, 0, min(capacity, 1024)), capacity: capacity}
}

// push appends x and returns the dropped oldest value when the ring was full.
func (r *ring) push(x float64) (old float64, dropped bool) {
	if r.n < r.capacity {
		if len(r.buf) < r.capacity {
			r.buf = append(r.buf, x)
		} else {
			r.buf[r.index(r.n)] = x
		}
		r.n++
		return 0, false
	}
	old = r.buf[r.start]
	r.buf[r.start] = x
	r.start++
	if r.start == r.capacity {
		r.start = 0
	}
	return old, true
}

// index maps the i-th oldest position to the buffer index.
func (r *ring) index(i int) int {
	j := r.start + i
	if j >= r.capacity {
		j -= r.capacity
	}
	return j
}

// len is the number of values held.
func (r *ring) len() int { return r.n }

// at returns the i-th oldest value.
func (r *ring) at(i int) float64 { return r.buf[r.index(i)] }

// full reports whether the ring holds capacity values.
func (r *ring) full() bool { return r.n == r.capacity }

// appendTo appends values [from, to) in age order to dst.
func (r *ring) appendTo(dst []float64, from, to int) []float64 {
	for i := from; i < to; i++ {
		dst = append(dst, r.at(i))
	}
	return dst
}
