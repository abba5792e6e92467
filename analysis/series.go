package analysis

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/goodhart-rl/goodhart/ingest"
)

// Helpers shared by the no_learning, collapse, preference, saturation,
// length_explosion and divergence detectors.

// series is one column's finite values in step order, with the row and the
// run's step value of each.
type series struct {
	rows  []int
	steps []float64
	vals  []float64
}

func (s series) len() int { return len(s.vals) }

// sortedSeries returns the finite values of col ordered by step (stable, so
// rows with equal steps keep file order).
func sortedSeries(run *ingest.Run, col string) series {
	rows, steps, vals := finiteSeries(run, col)
	if sort.Float64sAreSorted(steps) {
		return series{rows, steps, vals}
	}
	ord := make([]int, len(steps))
	for i := range ord {
		ord[i] = i
	}
	sort.SliceStable(ord, func(a, b int) bool { return steps[ord[a]] < steps[ord[b]] })
	out := series{make([]int, len(ord)), make([]float64, len(ord)), make([]float64, len(ord))}
	for i, k := range ord {
		out.rows[i], out.steps[i], out.vals[i] = rows[k], steps[k], vals[k]
	}
	return out
}

// kindOf is cfg.Kind, or DetectKind(run) when cfg.Kind is empty.
func kindOf(run *ingest.Run, cfg Config) Kind {
	if cfg.Kind != "" {
		return cfg.Kind
	}
	return DetectKind(run)
}

// words are the nouns a detector's text uses for a kind of run.
type words struct {
	reward string // "episode return", "reward", "reward margin"
	unit   string // "episode", "step", "record"
	units  string
}

func wordsFor(k Kind) words {
	switch k {
	case KindEpisodes:
		return words{"episode return", "episode", "episodes"}
	case KindPolicy:
		return words{"reward", "step", "steps"}
	case KindPreference:
		return words{"reward margin", "step", "steps"}
	}
	return words{"reward", "record", "records"}
}

// welch is Welch's unequal-variance t-test of mean(b) - mean(a): the t
// statistic, its Welch–Satterthwaite degrees of freedom and the one-sided
// p-value P(T >= t) for H0: mean(b) <= mean(a). Both samples need >= 2
// values (else ok is false). When both variances are 0, t is ±Inf for
// different means (p 0 or 1) and 0 for equal means (p 0.5).
func welch(a, b []float64) (t, df, p float64, ok bool) {
	if len(a) < 2 || len(b) < 2 {
		return 0, 0, 0, false
	}
	ma, va := stat.MeanVariance(a, nil)
	mb, vb := stat.MeanVariance(b, nil)
	na, nb := float64(len(a)), float64(len(b))
	sa, sb := va/na, vb/nb
	se := math.Sqrt(sa + sb)
	d := mb - ma
	if se == 0 || math.IsNaN(se) {
		switch {
		case d > 0:
			return math.Inf(1), na + nb - 2, 0, true
		case d < 0:
			return math.Inf(-1), na + nb - 2, 1, true
		}
		return 0, na + nb - 2, 0.5, true
	}
	t = d / se
	df = (sa + sb) * (sa + sb) / (sa*sa/(na-1) + sb*sb/(nb-1))
	if math.IsNaN(df) || df < 1 {
		df = 1
	}
	p = 1 - distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.CDF(t)
	return t, df, p, true
}

// noiseSD is the von Neumann estimate of the noise of a series around a
// smooth trend: sqrt(Σ(x[i+1]-x[i])² / (2(n-1))); 0 for n < 2.
func noiseSD(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	s := 0.0
	for i := 1; i < len(xs); i++ {
		d := xs[i] - xs[i-1]
		s += d * d
	}
	return math.Sqrt(s / float64(2*(len(xs)-1)))
}

// boundedScale is the size of the scale a score lives on: 1 when every
// value is within [0, 1], 100 when every value is within [0, 100] and some
// exceed 10 (a percentage); 0 (unbounded) otherwise.
func boundedScale(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	lo, hi := minMax(xs)
	switch {
	case lo >= 0 && hi <= 1:
		return 1
	case lo >= 0 && hi <= 100 && hi > 10:
		return 100
	}
	return 0
}

// minMax returns the smallest and largest of xs (NaN, NaN when empty).
func minMax(xs []float64) (lo, hi float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	lo, hi = xs[0], xs[0]
	for _, x := range xs[1:] {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// median is the middle value of xs (mean of the two middle ones for even
// n); NaN when empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// evidenceFor builds an Evidence for the values s[from..to] (inclusive
// indices into s).
func evidenceFor(s series, rc recordCounter, from, to int) *Evidence {
	return &Evidence{FromStep: s.steps[from], ToStep: s.steps[to],
		FromRecord: rc.at(s.rows[from]), ToRecord: rc.at(s.rows[to]), Numbers: map[string]float64{}}
}
