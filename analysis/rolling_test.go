package analysis

import (
	"math"
	"testing"
)

func TestRolling(t *testing.T) {
	var r Rolling
	if r.N() != 0 || r.Mean() != 0 || r.Variance() != 0 || r.Std() != 0 {
		t.Fatalf("zero Rolling not empty: %+v", r)
	}
	for _, x := range []float64{1, 2, 3, 4} {
		r.Add(x)
	}
	if r.N() != 4 || r.Mean() != 2.5 || r.Variance() != 1.25 {
		t.Fatalf("after 1..4: n=%d mean=%v var=%v, want 4 2.5 1.25", r.N(), r.Mean(), r.Variance())
	}
	// mean' = (4*2.5-1)/3 = 3; m2 = 5 - (1-3)*(1-2.5) = 2; var = 2/3.
	r.Remove(1)
	if r.N() != 3 || r.Mean() != 3 || r.Variance() != 2.0/3 {
		t.Fatalf("after removing 1: n=%d mean=%v var=%v, want 3 3 2/3", r.N(), r.Mean(), r.Variance())
	}
	r.Remove(2)
	r.Remove(3)
	if r.N() != 1 || r.Mean() != 4 || r.Variance() != 0 {
		t.Fatalf("one left: n=%d mean=%v var=%v", r.N(), r.Mean(), r.Variance())
	}
	r.Remove(4) // n <= 1 resets
	if r != (Rolling{}) {
		t.Fatalf("remove at n=1 should reset, got %+v", r)
	}
	r.Remove(5) // removing from empty stays empty
	if r != (Rolling{}) {
		t.Fatalf("remove from empty: %+v", r)
	}
}

// The m2 clamp: cancellation can drive m2 below zero; it must stay >= 0.
func TestRollingClamp(t *testing.T) {
	var r Rolling
	for _, x := range []float64{1.1, 1.1, 1.1} {
		r.Add(x)
	}
	r.Remove(1.1)
	if r.Variance() < 0 || math.IsNaN(r.Std()) {
		t.Fatalf("variance %v std %v", r.Variance(), r.Std())
	}
}

func TestRing(t *testing.T) {
	r := newRing(3)
	for i, x := range []float64{1, 2, 3} {
		if _, dropped := r.push(x); dropped {
			t.Fatalf("push %d dropped", i)
		}
	}
	old, dropped := r.push(4)
	if !dropped || old != 1 {
		t.Fatalf("push onto full ring: old=%v dropped=%v", old, dropped)
	}
	got := r.appendTo(nil, 0, r.len())
	if len(got) != 3 || got[0] != 2 || got[2] != 4 || !r.full() {
		t.Fatalf("ring = %v", got)
	}
}

func TestPercentile(t *testing.T) {
	xs := []float64{4, 1, 3, 2}
	cases := []struct{ q, want float64 }{{0, 1}, {100, 4}, {50, 2.5}, {95, 3.8499999999999996}, {25, 1.75}}
	for _, c := range cases {
		if got := Percentile(xs, c.q); got != c.want {
			t.Errorf("Percentile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if Percentile(nil, 50) != 0 || Percentile([]float64{7}, 95) != 7 {
		t.Error("edge cases")
	}
	if xs[0] != 4 {
		t.Error("Percentile modified its input")
	}
}
