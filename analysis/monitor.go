package analysis

import (
	"fmt"
	"math"
	"sort"
)

// MonitorOptions tune a Monitor. The zero value means a 5 pp tolerance and
// a 200-step window (rewardguard's defaults).
type MonitorOptions struct {
	// Tolerance in percentage points, used when HasTolerance is set.
	Tolerance    float64
	HasTolerance bool
	// Window is the number of recent steps Check looks at; 0 = 200,
	// negative is an error.
	Window int
}

// Monitor is the streaming balance API (rewardguard's Monitor) for a Go
// training loop: call Step with each step's reward components and Check
// whenever you want an analysis of the last Window steps. It keeps only the
// window, so memory is O(Window). A Monitor is not safe for concurrent use.
type Monitor struct {
	expected map[string]float64 // percentages
	tol      float64
	window   int
	ring     []map[string]float64
	pos      int // next slot
	n        int // filled slots
	steps    int
}

// NewMonitor returns a Monitor for an expected distribution given as
// relative weights (normalised to percentages). Errors: the
// ExpectedPercentages errors, ErrBadTolerance, ErrBadWindow.
func NewMonitor(expected map[string]float64, opt MonitorOptions) (*Monitor, error) {
	exp, err := ExpectedPercentages(expected)
	if err != nil {
		return nil, err
	}
	tol, err := tolerance(opt.Tolerance, opt.HasTolerance)
	if err != nil {
		return nil, err
	}
	w := opt.Window
	if w < 0 {
		return nil, fmt.Errorf("%w, got %d", ErrBadWindow, w)
	}
	if w == 0 {
		w = DefaultBalanceWindow
	}
	return &Monitor{expected: exp, tol: tol, window: w, ring: make([]map[string]float64, w)}, nil
}

// Step records one step's component values. Every value must be finite:
// on a NaN or ±Inf it returns an error wrapping ErrNonFinite and records
// nothing. The map is copied.
func (m *Monitor) Step(values map[string]float64) error {
	for _, c := range sortedNames(values) {
		if v := values[c]; math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: %s=%v", ErrNonFinite, c, v)
		}
	}
	cp := make(map[string]float64, len(values))
	for k, v := range values {
		cp[k] = v
	}
	m.ring[m.pos] = cp
	m.pos = (m.pos + 1) % m.window
	if m.n < m.window {
		m.n++
	}
	m.steps++
	return nil
}

// Check analyses the last Window steps like Balance does (magnitude shares
// summed newest step first, as rewardguard's Monitor does). EpisodeCount is
// the number of steps since creation or Reset. It returns ErrNoSteps before
// the first Step.
func (m *Monitor) Check() (BalanceResult, error) {
	if m.n == 0 {
		return BalanceResult{}, ErrNoSteps
	}
	totals := map[string]float64{}
	var order []string // first seen, newest step first
	for i := 0; i < m.n; i++ {
		step := m.ring[(m.pos-1-i+m.window)%m.window]
		keys := make([]string, 0, len(step))
		for k := range step {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if _, ok := totals[k]; !ok {
				order = append(order, k)
			}
			totals[k] += math.Abs(step[k])
		}
	}
	grand := 0.0
	for _, k := range order {
		grand += totals[k]
	}
	real := make(map[string]float64, len(totals))
	for k, t := range totals {
		if grand == 0 {
			real[k] = 0
		} else {
			real[k] = PyRound(t/grand*100, 2)
		}
	}
	exp := make(map[string]float64, len(m.expected))
	for k, v := range m.expected {
		exp[k] = v
	}
	return *AnalyzeShares(real, exp, m.tol, m.steps), nil
}

// Reset forgets every recorded step; the configuration is kept.
func (m *Monitor) Reset() {
	for i := range m.ring {
		m.ring[i] = nil
	}
	m.pos, m.n, m.steps = 0, 0, 0
}

// StepCount returns the number of steps recorded since creation or Reset.
func (m *Monitor) StepCount() int { return m.steps }

// Expected returns the expected distribution in percent (sums to 100).
func (m *Monitor) Expected() map[string]float64 {
	out := make(map[string]float64, len(m.expected))
	for k, v := range m.expected {
		out[k] = v
	}
	return out
}
