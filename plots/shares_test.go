package plots

import (
	"math"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
)

func TestComponentShares(t *testing.T) {
	nan := math.NaN()
	run := ingest.NewRun(4)
	run.SetColumn(ingest.ComponentPrefix+"a", []float64{1, -3, nan, 0})
	run.SetColumn(ingest.ComponentPrefix+"b", []float64{1, 1, 1, 0})
	run.SetColumn(ingest.ComponentPrefix+"total", []float64{2, -2, 1, 0}) // excluded
	got := ComponentShares(run, 2)
	if len(got) != 2 {
		t.Fatalf("components %v, want a and b only", got)
	}
	// windows of 2: a |1|,|-3|: row0 a=1 b=1 -> 50/50; row1 a=4 b=2;
	// row2 a=3 b=2; row3 a=0 b=1.
	eqSlice(t, "a", got["a"], []float64{50, 100 * 4.0 / 6, 100 * 3.0 / 5, 0})
	eqSlice(t, "b", got["b"], []float64{50, 100 * 2.0 / 6, 100 * 2.0 / 5, 100})
	zero := ingest.NewRun(2)
	zero.SetColumn(ingest.ComponentPrefix+"a", []float64{0, 0})
	eqSlice(t, "all zero", ComponentShares(zero, 5)["a"], []float64{nan, nan})
	if ComponentShares(ingest.NewRun(3), 5) != nil {
		t.Error("a run without components should give nil")
	}
}

func TestGroupCollapseRate(t *testing.T) {
	run := ingest.NewRun(8)
	// groups: 0 {1,1} collapsed, 1 {0,1} not, 2 {2,2,2} collapsed, 3 {5} collapsed
	run.SetColumn(ingest.ColGroup, []float64{0, 0, 1, 1, 2, 2, 2, 3})
	run.SetColumn(ingest.ColReward, []float64{1, 1, 0, 1, 2, 2, 2, 5})
	x := []float64{10, 11, 12, 13, 14, 15, 16, 17}
	gx, rate := GroupCollapseRate(run, x)
	eqSlice(t, "x", gx, []float64{11, 13, 16, 17})
	eqSlice(t, "rate", rate, []float64{100, 50, 100 * 2.0 / 3, 75})
}

func TestExpectedShares(t *testing.T) {
	o := Options{Expected: map[string]float64{"a": 3, "b": 1, "c": 0}}
	got := o.expectedShares()
	if got["a"] != 75 || got["b"] != 25 || got["c"] != 0 {
		t.Errorf("expectedShares = %v", got)
	}
	if (Options{Expected: map[string]float64{"a": 0}}).expectedShares() != nil {
		t.Error("all-zero weights should give nil")
	}
}

func TestMergeRanges(t *testing.T) {
	got := mergeRanges([][2]float64{{50, 60}, {0, 20}, {10, 30}, {30, 40}, {70, 70}})
	want := [][2]float64{{0, 40}, {50, 60}, {70, 70}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestShareBandsMatchesComponentShares(t *testing.T) {
	run := synthRun(1000, true)
	names := components(run)
	x := run.Steps()
	for _, buckets := range []int{7, 100, 5000} {
		bx, got := shareBands(run, names, x, 30, buckets)
		all := ComponentShares(run, 30)
		for k, c := range names {
			want := Downsample(x, all[c], buckets)
			eqSlice(t, "x", bx, want.X)
			eqSlice(t, c, got[k], want.Mean)
		}
	}
}
