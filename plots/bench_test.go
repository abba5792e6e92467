package plots

import (
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
)

// bigRun is an n-record run with a reward, two components and a length,
// cheap to build (no random numbers).
func bigRun(n int) *ingest.Run {
	run := ingest.NewRun(n)
	run.Grain = ingest.GrainCall
	r, a, c, l := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	x := uint64(1)
	for i := range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		u := float64(x%10000) / 10000
		a[i] = 0.3 + 0.4*float64(i)/float64(n) + 0.2*u
		c[i] = 0.1 + 0.05*u
		r[i] = a[i] + c[i]
		l[i] = 200 + 50*u
	}
	run.SetColumn(ingest.ColReward, r)
	run.SetColumn(ingest.ComponentPrefix+"task", a)
	run.SetColumn(ingest.ComponentPrefix+"format", c)
	run.SetColumn(ingest.ColLength, l)
	return run
}

// BenchmarkTimeline10M draws the reward timeline of a 10-million-record
// run: rolling statistics, downsampling to 1,000 buckets, and rendering to
// SVG and to PNG.
func BenchmarkTimeline10M(b *testing.B) {
	run := bigRun(10_000_000)
	for _, format := range []string{"svg", "png"} {
		b.Run(format, func(b *testing.B) {
			for range b.N {
				f, err := Timeline(run, nil, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if format == "svg" {
					_, err = f.svg(false)
				} else {
					_, err = f.PNG()
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFigures1M draws every run-based figure of a 1M-record run.
func BenchmarkFigures1M(b *testing.B) {
	run := bigRun(1_000_000)
	for range b.N {
		for _, k := range []string{"timeline", "components", "length"} {
			f, err := FigureOf(k, run, nil, nil, nil, Options{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := f.svg(true); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkDownsample10M(b *testing.B) {
	run := bigRun(10_000_000)
	y, _ := run.Column(ingest.ColReward)
	x := run.Steps()
	b.ResetTimer()
	for range b.N {
		Downsample(x, y, DefaultBuckets)
	}
}
