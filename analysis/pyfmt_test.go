package analysis

import (
	"fmt"
	"math"
	"testing"
)

// Expected strings were produced by CPython 3.11 (format(x, ".1%") etc.).
func TestPyPercent(t *testing.T) {
	cases := []struct {
		x      float64
		p1, p0 string
	}{
		{0.125, "12.5%", "12%"}, // 12.5 is a tie: half to even
		{0.005, "0.5%", "0%"},
		{0.015, "1.5%", "2%"}, // 0.015*100 rounds to exactly 1.5: tie to even
		{0.0125, "1.2%", "1%"},
		{0.945, "94.5%", "94%"},
		{0.955, "95.5%", "96%"},
		{math.Copysign(0, -1), "-0.0%", "-0%"},
		{0.999, "99.9%", "100%"},
		{0.9995, "100.0%", "100%"},
		{1e-7, "0.0%", "0%"},
		{2.0 / 3, "66.7%", "67%"},
	}
	for _, c := range cases {
		if got := PyPercent(c.x, 1); got != c.p1 {
			t.Errorf("PyPercent(%v, 1) = %q, want %q", c.x, got, c.p1)
		}
		if got := PyPercent(c.x, 0); got != c.p0 {
			t.Errorf("PyPercent(%v, 0) = %q, want %q", c.x, got, c.p0)
		}
	}
	if got := PyPercent(math.Inf(1), 0); got != "inf%" {
		t.Errorf("PyPercent(+Inf) = %q", got)
	}
}

func TestPyRepr(t *testing.T) {
	cases := []struct {
		x    float64
		want string
	}{
		{1.1, "1.1"}, {0, "0.0"}, {1e-5, "1e-05"}, {1e16, "1e+16"},
		{2.2204460492503132e-17, "2.2204460492503132e-17"},
		{123456789012345.6, "123456789012345.6"}, {1e15, "1000000000000000.0"},
		{0.0001, "0.0001"}, {-2.5, "-2.5"}, {1.1000000000000003, "1.1000000000000003"},
		{5e-324, "5e-324"}, {math.NaN(), "nan"}, {math.Inf(-1), "-inf"},
	}
	for _, c := range cases {
		if got := PyRepr(c.x); got != c.want {
			t.Errorf("PyRepr(%v) = %q, want %q", c.x, got, c.want)
		}
	}
}

func TestFsum(t *testing.T) {
	tenth := make([]float64, 10)
	for i := range tenth {
		tenth[i] = 0.1
	}
	cases := []struct {
		xs   []float64
		want float64
	}{
		{tenth, 1.0}, // naive summation gives 0.9999999999999999
		{[]float64{1e100, 1.0, -1e100, 1e-100}, 1.0},
		{[]float64{1, 1e-16, 1e-16}, 1.0000000000000002},
		{nil, 0},
		{[]float64{math.Inf(1), 1}, math.Inf(1)},
	}
	for _, c := range cases {
		if got := Fsum(c.xs); got != c.want {
			t.Errorf("Fsum(%v) = %v, want %v", c.xs, got, c.want)
		}
	}
	if !math.IsNaN(Fsum([]float64{math.Inf(1), math.Inf(-1)})) {
		t.Error("Fsum(+Inf, -Inf) should be NaN")
	}
}

func TestPstdevFmean(t *testing.T) {
	cases := []struct {
		xs        []float64
		std, mean float64
	}{
		{[]float64{1.5, 2.5, 2.5, 2.75, 3.25, 4.75}, 0.986893273527251, 2.875},
		{[]float64{402, 431, 405, 399, 500, 1}, 162.66086055211792, 356.3333333333333},
		{[]float64{0.1, 0.2, 0.3}, 0.0816496580927726, 0.19999999999999998},
		{[]float64{7}, 0, 7},
		{[]float64{3, 3, 3}, 0, 3},
	}
	for _, c := range cases {
		if got := Pstdev(c.xs); got != c.std {
			t.Errorf("Pstdev(%v) = %v, want %v", c.xs, got, c.std)
		}
		if got := Fmean(c.xs); got != c.mean {
			t.Errorf("Fmean(%v) = %v, want %v", c.xs, got, c.mean)
		}
	}
	if !math.IsNaN(Pstdev(nil)) || !math.IsNaN(Fmean(nil)) {
		t.Error("Pstdev/Fmean of nothing should be NaN")
	}
}

func ExamplePyPercent() {
	fmt.Println(PyPercent(0.125, 0), PyPercent(0.015, 0), PyPercent(0.0125, 1))
	// Output: 12% 2% 1.2%
}
