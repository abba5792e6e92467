package analysis

import (
	"math"
	"strconv"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/goodhart-rl/goodhart/ingest"
)

// DefaultWindow is rewardspy's rolling window W, used for call, sample and
// episode grains.
const DefaultWindow = 100

// Windows are the record counts the streaming detectors wait for.
type Windows struct {
	W            int // rolling window (variance, ceiling rate, length halves)
	SlopeMin     int // slope: insufficient while count < SlopeMin (rewardspy: 20)
	ComponentMin int // component: insufficient while count < ComponentMin (rewardspy: 30)
	CeilingMin   int // ceiling: insufficient while count < CeilingMin (rewardspy: 50)
}

// WindowFor returns the windows for a run.
//
// An explicit cfg.Window is used as given, with rewardspy's minimum counts.
// Call, sample and episode grains (and any run of rewardspy's format) get
// rewardspy's defaults: W = 100, minimums 20/30/50, so conformance holds.
//
// Step-grain runs (one row per logged trainer step: TRL, verl) are short, so
// W scales with the number of rows n:
//
//	W = clamp(n/5, 10, 100)
//
// and the minimum counts scale with it: slope min(20, W), component
// min(30, W), ceiling min(50, W). A 40-row TRL log gets W = 10; a 1,119-step
// verl log gets W = 100.
func WindowFor(run *ingest.Run, cfg Config) Windows {
	def := Windows{W: DefaultWindow, SlopeMin: 20, ComponentMin: 30, CeilingMin: 50}
	if cfg.Window > 0 {
		def.W = cfg.Window
		return def
	}
	if run == nil || run.Grain != ingest.GrainStep {
		return def
	}
	w := run.Len() / 5
	if w < 10 {
		w = 10
	}
	if w > DefaultWindow {
		w = DefaultWindow
	}
	return Windows{W: w, SlopeMin: min(20, w), ComponentMin: min(30, w), CeilingMin: min(50, w)}
}

// Helpers shared by the batch detectors (group, divergence,
// length_coupling, truncation, dead_component).

// recordCounter maps a run row to the 1-based record count that alerts
// report as Step: the number of rows with a finite reward up to and
// including the row (what the streaming engine counts), or row+1 when the
// run has no reward column. A row before the first reward counts as 1.
type recordCounter struct {
	cum []int
	rec []float64 // a Stream sample's SampleRecordColumn, used as is
}

// newRecordCounter counts run's records. A sample made by Stream carries
// the original record count of each row in its SampleRecordColumn; that
// column is used as is.
func newRecordCounter(run *ingest.Run) recordCounter {
	if rec, ok := run.Column(SampleRecordColumn); ok {
		return recordCounter{rec: rec}
	}
	reward, ok := run.Column(ingest.ColReward)
	if !ok {
		return recordCounter{}
	}
	cum := make([]int, len(reward))
	n := 0
	for i, r := range reward {
		if !math.IsNaN(r) && !math.IsInf(r, 0) {
			n++
		}
		cum[i] = n
	}
	return recordCounter{cum: cum}
}

// at returns the record count for row.
func (c recordCounter) at(row int) int {
	if c.rec != nil && row >= 0 && row < len(c.rec) {
		return max(1, int(c.rec[row]))
	}
	if c.cum == nil || row < 0 || row >= len(c.cum) {
		return row + 1
	}
	return max(1, c.cum[row])
}

// finiteSeries returns the rows and values of col where the value is
// finite, with the run's step value of each such row.
func finiteSeries(run *ingest.Run, col string) (rows []int, steps, vals []float64) {
	c, ok := run.Column(col)
	if !ok {
		return nil, nil, nil
	}
	all := run.Steps()
	n := 0
	for _, v := range c {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			n++
		}
	}
	rows = make([]int, 0, n)
	steps = make([]float64, 0, n)
	vals = make([]float64, 0, n)
	for i, v := range c {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		rows = append(rows, i)
		steps = append(steps, all[i])
		vals = append(vals, v)
	}
	return rows, steps, vals
}

// olsFit is an ordinary least-squares line y = Alpha + Beta*x.
type olsFit struct {
	N           int
	Alpha, Beta float64
	// SE is the standard error of Beta: sqrt(s²/Sxx) with
	// s² = Σ(y - ŷ)²/(N-2). NaN when N < 3 or x is constant.
	SE float64
}

// T is Beta/SE, the t statistic for H0: Beta = 0 (N-2 degrees of freedom).
// A perfect fit (SE = 0) gives ±Inf for a nonzero slope and 0 for a flat one.
func (f olsFit) T() float64 {
	if math.IsNaN(f.SE) {
		return math.NaN()
	}
	if f.SE == 0 {
		switch {
		case f.Beta > 0:
			return math.Inf(1)
		case f.Beta < 0:
			return math.Inf(-1)
		}
		return 0
	}
	return f.Beta / f.SE
}

// fitOLS fits y on x by least squares (gonum stat.LinearRegression) and
// computes the slope's standard error. Edge cases: N < 2 or constant x gives
// Beta 0 and SE NaN.
func fitOLS(x, y []float64) olsFit {
	n := len(x)
	f := olsFit{N: n, SE: math.NaN()}
	if n < 2 {
		return f
	}
	mx := stat.Mean(x, nil)
	sxx := 0.0
	for _, v := range x {
		sxx += (v - mx) * (v - mx)
	}
	if sxx == 0 {
		f.Alpha = stat.Mean(y, nil)
		return f
	}
	f.Alpha, f.Beta = stat.LinearRegression(x, y, nil, false)
	if n < 3 {
		return f
	}
	rss := 0.0
	for i := range x {
		r := y[i] - (f.Alpha + f.Beta*x[i])
		rss += r * r
	}
	f.SE = math.Sqrt(rss / float64(n-2) / sxx)
	return f
}

// tCrit is the two-sided 95% critical value of Student's t with df degrees
// of freedom (the 0.975 quantile); +Inf when df < 1.
func tCrit(df int) float64 {
	if df < 1 {
		return math.Inf(1)
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(0.975)
}

// meanOf is the arithmetic mean of xs (NaN when empty).
func meanOf(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return stat.Mean(xs, nil)
}

// alertFrom builds the Alert of a detector's actionable result at row.
func alertFrom(det string, res Result, run *ingest.Run, rc recordCounter, row int) Alert {
	steps := run.Steps()
	rs := float64(row)
	if row >= 0 && row < len(steps) {
		rs = steps[row]
	}
	return Alert{Step: rc.at(row), RunStep: rs, Detector: det, Status: res.Status,
		Severity: res.Severity, Message: res.Message, Detail: res.Detail, Evidence: res.Evidence}
}

// fmtNum formats x with up to 3 significant decimals for messages.
func fmtNum(x float64) string {
	switch {
	case math.IsNaN(x):
		return "n/a"
	case x == math.Trunc(x) && math.Abs(x) < 1e15:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case math.Abs(x) >= 100:
		return strconv.FormatFloat(x, 'f', 1, 64)
	case math.Abs(x) >= 1:
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

// tidy drops non-finite numbers from the evidence of res and alerts
// (encoding/json cannot write NaN or ±Inf; a missing number reads better
// than a null), and returns them.
func tidy(res Result, alerts []Alert) (Result, []Alert) {
	clean := func(e *Evidence) {
		if e == nil {
			return
		}
		for k, v := range e.Numbers {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				delete(e.Numbers, k)
			}
		}
	}
	clean(res.Evidence)
	for i := range alerts {
		clean(alerts[i].Evidence)
	}
	return res, alerts
}
