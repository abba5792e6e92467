package plots

import (
	"math"
	"sort"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// Options tune the figures. The zero value draws with the audit's default
// window, no reward ceiling line, no expected shares and DefaultBuckets.
type Options struct {
	// Config is the audit configuration the findings came from: its window
	// (see analysis.WindowFor), sensitivity and reward ceiling are drawn.
	Config analysis.Config
	// Expected are the expected component weights (any positive scale;
	// they are normalised to shares). Nil draws no expected lines.
	Expected map[string]float64
	// Buckets is how many buckets long series are reduced to (0 =
	// DefaultBuckets).
	Buckets int
}

func (o Options) window(run *ingest.Run) int {
	return analysis.WindowFor(run, o.Config).W
}

// expectedShares returns the expected weights as percentages, or nil.
func (o Options) expectedShares() map[string]float64 {
	sum := 0.0
	for _, w := range o.Expected {
		if finite(w) && w > 0 {
			sum += w
		}
	}
	if sum <= 0 {
		return nil
	}
	out := make(map[string]float64, len(o.Expected))
	for k, w := range o.Expected {
		if finite(w) && w > 0 {
			out[k] = w / sum * 100
		} else {
			out[k] = 0
		}
	}
	return out
}

// xAxis is xAxisKind with the run's detected kind.
func xAxis(run *ingest.Run) ([]float64, string) {
	return xAxisKind(run, analysis.DetectKind(run))
}

// xAxisKind returns the x values of a run's records and the axis label in
// the words of its kind: the logged step ("trainer step" for policy and
// preference runs, "probe case" for a probe's run of scored cases, "step
// (as logged)" otherwise) when the run has a step column, else the record
// number ("episode (from 0)" for episode logs).
func xAxisKind(run *ingest.Run, kind analysis.Kind) ([]float64, string) {
	_, lbl := xAxisLazyKind(run, kind)
	return run.Steps(), lbl
}

// xAxisLazy is xAxis without allocating the record index: x is nil when
// the run has no step column (meaning x[i] = i).
func xAxisLazy(run *ingest.Run) ([]float64, string) {
	return xAxisLazyKind(run, analysis.DetectKind(run))
}

func xAxisLazyKind(run *ingest.Run, kind analysis.Kind) ([]float64, string) {
	if c, ok := run.Column(ingest.ColStep); ok && run.Format == "probe" {
		return c, "probe case"
	}
	if c, ok := run.Column(ingest.ColStep); ok {
		if kind == analysis.KindPolicy || kind == analysis.KindPreference {
			return c, "trainer step"
		}
		return c, "step (as logged)"
	}
	if kind == analysis.KindEpisodes && run.Grain == ingest.GrainEpisode {
		return nil, "episode (from 0)"
	}
	return nil, "record index (" + grainNoun(run.Grain) + ", from 0)"
}

// xAt is x[i], or i when x is nil.
func xAt(x []float64, i int) float64 {
	if x == nil {
		return float64(i)
	}
	return x[i]
}

func grainNoun(g ingest.Grain) string {
	switch g {
	case ingest.GrainCall:
		return "reward call"
	case ingest.GrainSample:
		return "sample"
	case ingest.GrainEpisode:
		return "episode"
	case ingest.GrainStep:
		return "logged step"
	}
	return "record"
}

// components returns the run's component names without "total", sorted.
func components(run *ingest.Run) []string {
	var out []string
	for _, c := range run.Components() {
		if c != ingest.TotalComponent {
			out = append(out, c)
		}
	}
	return out
}

// sortedKeys returns the keys of m sorted.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// compact returns the points where y is finite (sparse series such as eval
// metrics logged every N steps).
func compact(x, y []float64) (cx, cy []float64) {
	for i := range min(len(x), len(y)) {
		if finite(y[i]) && finite(x[i]) {
			cx = append(cx, x[i])
			cy = append(cy, y[i])
		}
	}
	return
}

func nanSlice(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}
