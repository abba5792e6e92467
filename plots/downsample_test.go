package plots

import (
	"math"
	"testing"
)

func eqSlice(t *testing.T, name string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d (%v)", name, len(got), len(want), got)
	}
	for i := range got {
		g, w := got[i], want[i]
		if math.IsNaN(w) {
			if !math.IsNaN(g) {
				t.Fatalf("%s[%d] = %v, want NaN", name, i, g)
			}
			continue
		}
		if math.Abs(g-w) > 1e-12 {
			t.Fatalf("%s[%d] = %v, want %v (all: %v)", name, i, g, w, got)
		}
	}
}

func TestDownsample(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		name          string
		x, y          []float64
		buckets       int
		wantPer       int
		wx, lo, hi, m []float64
	}{
		{"short series kept", []float64{0, 1, 2}, []float64{5, 6, 7}, 10, 1,
			[]float64{0, 1, 2}, []float64{5, 6, 7}, []float64{5, 6, 7}, []float64{5, 6, 7}},
		{"spike survives", []float64{0, 1, 2, 3, 4, 5, 6, 7}, []float64{1, 1, 1, 100, 1, 1, 1, 1}, 2, 4,
			[]float64{1.5, 5.5}, []float64{1, 1}, []float64{100, 1}, []float64{25.75, 1}},
		{"uneven last bucket", []float64{0, 1, 2, 3, 4}, []float64{1, 2, 3, 4, 5}, 2, 3,
			[]float64{1, 3.5}, []float64{1, 4}, []float64{3, 5}, []float64{2, 4.5}},
		{"NaN skipped, all-NaN bucket is NaN", []float64{0, 1, 2, 3}, []float64{nan, 2, nan, nan}, 2, 2,
			[]float64{0.5, 2.5}, []float64{2, nan}, []float64{2, nan}, []float64{2, nan}},
		{"empty", nil, nil, 5, 1, []float64{}, []float64{}, []float64{}, []float64{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := Downsample(c.x, c.y, c.buckets)
			if b.PerBucket != c.wantPer {
				t.Fatalf("PerBucket = %d, want %d", b.PerBucket, c.wantPer)
			}
			eqSlice(t, "X", b.X, c.wx)
			eqSlice(t, "Min", b.Min, c.lo)
			eqSlice(t, "Max", b.Max, c.hi)
			eqSlice(t, "Mean", b.Mean, c.m)
		})
	}
}

func TestDownsampleBucketCount(t *testing.T) {
	for _, n := range []int{999, 1000, 1001, 12345, 1_000_000} {
		x := make([]float64, n)
		b := Downsample(x, x, 0)
		if b.Len() > DefaultBuckets || (n >= DefaultBuckets && b.Len() < DefaultBuckets/2) {
			t.Errorf("n=%d: %d buckets", n, b.Len())
		}
	}
}

func TestRolling(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		name      string
		y         []float64
		w         int
		mean, std []float64
	}{
		// window 2: [1], [1,3], [3,5], [5,5]
		{"w=2", []float64{1, 3, 5, 5}, 2, []float64{1, 2, 4, 5}, []float64{0, 1, 1, 0}},
		// NaN does not count: [nan], [nan,2], [2,4], [4,nan], [nan,nan]
		{"NaN gaps", []float64{nan, 2, 4, nan, nan}, 2, []float64{nan, 2, 3, 4, nan}, []float64{nan, 0, 1, 0, nan}},
		{"w<=0 is 1", []float64{7, 8}, 0, []float64{7, 8}, []float64{0, 0}},
		// a large offset must not destroy the variance
		{"offset", []float64{1e9 + 1, 1e9 + 3}, 2, []float64{1e9 + 1, 1e9 + 2}, []float64{0, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, s := Rolling(c.y, c.w)
			eqSlice(t, "mean", m, c.mean)
			eqSlice(t, "std", s, c.std)
		})
	}
}

func TestHumanNum(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want string
	}{{0, "0"}, {0.25, "0.25"}, {1500, "1500"}, {25000, "25k"}, {1_500_000, "1.5M"}, {2e9, "2G"}, {-30000, "-30k"}, {0.0001, "0.0001"}} {
		if got := humanNum(c.x); got != c.want {
			t.Errorf("humanNum(%v) = %q, want %q", c.x, got, c.want)
		}
	}
}

// TestRollingBandsMatchesRollingThenDownsample checks the fused pass
// against its definition.
func TestRollingBandsMatchesRollingThenDownsample(t *testing.T) {
	nan := math.NaN()
	y := []float64{1, 5, nan, 2, 8, 8, nan, nan, 3, 0, 4, 7, 1}
	x := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	for _, w := range []int{1, 3, 5} {
		for _, buckets := range []int{2, 4, 13, 100} {
			raw, mean, lo, hi := RollingBands(nil, y, w, buckets)
			m, s := Rolling(y, w)
			l, h := make([]float64, len(m)), make([]float64, len(m))
			for i := range m {
				l[i], h[i] = m[i]-s[i], m[i]+s[i]
			}
			want := Downsample(x, y, buckets)
			eqSlice(t, "raw.X", raw.X, want.X)
			eqSlice(t, "raw.Min", raw.Min, want.Min)
			eqSlice(t, "raw.Max", raw.Max, want.Max)
			eqSlice(t, "raw.Mean", raw.Mean, want.Mean)
			eqSlice(t, "mean", mean, Downsample(x, m, buckets).Mean)
			eqSlice(t, "lo", lo, Downsample(x, l, buckets).Mean)
			eqSlice(t, "hi", hi, Downsample(x, h, buckets).Mean)
		}
	}
}
