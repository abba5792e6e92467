package analysis

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

func TestPyRound(t *testing.T) {
	cases := []struct {
		x    float64
		n    int
		want float64
	}{
		{2.675, 2, 2.67}, // stored as 2.67499999999999982236431605997495353221893310546875
		{0.125, 2, 0.12}, // exact tie -> even
		{0.375, 2, 0.38}, // exact tie -> even
		{1.005, 2, 1.0},  // stored below the tie
		{2.5, 0, 2},
		{3.5, 0, 4},
		{-2.5, 0, -2},
		{16.4, 2, 16.4},
		{67.745, 2, 67.75}, // stored as 67.7450000000000045474735...
		{1.23456789, 4, 1.2346},
		{1.00005, 4, 1.0001},  // 1.0000500000000001055...
		{0.00005, 4, 0.0001},  // 5.00000000000000023960868...e-05
		{123456.5, 0, 123456}, // tie -> even
		{1e300, 2, 1e300},
		{-1e-300, 2, math.Copysign(0, -1)},
	}
	for _, c := range cases {
		got := PyRound(c.x, c.n)
		if got != c.want || math.Signbit(got) != math.Signbit(c.want) {
			t.Errorf("PyRound(%v, %d) = %v, want %v", c.x, c.n, got, c.want)
		}
	}
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := PyRound(x, 2); !(got == x || (math.IsNaN(got) && math.IsNaN(x))) {
			t.Errorf("PyRound(%v) = %v", x, got)
		}
	}
}

// TestPyRoundMatchesStrconv checks the fast path against the strconv
// definition on random values, including many exact and near ties.
func TestPyRoundMatchesStrconv(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 200000; i++ {
		n := rng.Intn(7)
		var x float64
		switch i % 4 {
		case 0:
			x = rng.NormFloat64() * 100
		case 1: // decimal ties like 12.345
			x = float64(rng.Intn(1000000)) / math.Pow(10, float64(n+1))
		case 2: // exact binary ties
			x = float64(rng.Intn(1<<20)) / 1024
		default:
			x = math.Nextafter(float64(rng.Intn(100000))/1000+0.0005, math.Inf(int(rng.Int63()%2)*2-1))
		}
		if rng.Intn(2) == 0 {
			x = -x
		}
		if got, want := PyRound(x, n), pyRoundSlow(x, n); got != want || math.Signbit(got) != math.Signbit(want) {
			t.Fatalf("PyRound(%v, %d) = %v, strconv gives %v", x, n, got, want)
		}
	}
}

func BenchmarkPyRound(b *testing.B) {
	xs := make([]float64, 1024)
	rng := rand.New(rand.NewSource(2))
	for i := range xs {
		xs[i] = rng.Float64() * 100
	}
	b.ResetTimer()
	var s float64
	for i := 0; i < b.N; i++ {
		s += PyRound(xs[i&1023], 2)
	}
	_ = s
}

func ExamplePyRound() {
	fmt.Println(PyRound(2.675, 2), PyRound(0.125, 2), PyRound(0.375, 2), PyRound(2.5, 0))
	// Output: 2.67 0.12 0.38 2
}
