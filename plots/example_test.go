package plots_test

import (
	"fmt"
	"math"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/plots"
)

// A figure is built from a run (and optionally its audit), inspected
// through its structure, and saved as PNG or SVG by file name.
func ExampleTimeline() {
	run := ingest.NewRun(300)
	reward := make([]float64, 300)
	for i := range reward {
		reward[i] = 0.5 + 0.3*math.Sin(float64(i)/10)
	}
	run.SetColumn(ingest.ColReward, reward)
	rep, err := analysis.Audit(run, analysis.Config{})
	if err != nil {
		panic(err)
	}
	f, err := plots.Timeline(run, rep, plots.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Print(f.Structure())
	// f.Save("timeline.png") writes it to a file.
	// Output:
	// figure timeline: "Reward over the run"
	// panel 1: ""
	//   x: "record index (record, from 0)" [0, 299]
	//   y: "reward (as logged)" [0.2, 0.8]
	//   series: reward
	//   series: ±1 std
	//   series: rolling mean (W=100)
}

// Downsample keeps a one-record spike in a long series.
func ExampleDownsample() {
	x := make([]float64, 1_000_000)
	y := make([]float64, len(x))
	for i := range x {
		x[i] = float64(i)
	}
	y[123_456] = 9
	b := plots.Downsample(x, y, 1000)
	fmt.Println(b.Len(), "buckets of", b.PerBucket)
	fmt.Println("max of bucket 123:", b.Max[123], "mean:", b.Mean[123])
	// Output:
	// 1000 buckets of 1000
	// max of bucket 123: 9 mean: 0.009
}
