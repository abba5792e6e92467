package analysis

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/goodhart-rl/goodhart/ingest"
)

// Balance severities and statuses (rewardguard's names).
const (
	BalanceOK       = "ok"
	BalanceWarning  = "warning"
	BalanceCritical = "critical"

	StatusBalanced   = "balanced"
	StatusImbalanced = "imbalanced"
)

// Defaults of the balance analysis (rewardguard's).
const (
	// DefaultTolerance is the ok band, in percentage points.
	DefaultTolerance = 5.0
	// DefaultBalanceWindow is the Monitor's rolling window, in steps.
	DefaultBalanceWindow = 200
)

// Validation errors of Balance, Monitor and the alignment monitor. They are
// wrapped with the offending name and value; test them with errors.Is.
var (
	ErrEmptyExpected    = errors.New("expected distribution is empty")
	ErrBadExpected      = errors.New("expected weight must be a finite number >= 0")
	ErrZeroExpected     = errors.New("expected weights must sum to a positive number")
	ErrBadTolerance     = errors.New("tolerance must be >= 0")
	ErrBadWindow        = errors.New("window must be > 0")
	ErrNonFinite        = errors.New("reward value is not a finite number")
	ErrNoSteps          = errors.New("no steps recorded")
	ErrNoComponents     = errors.New("run has no reward components")
	ErrBadAlignOption   = errors.New("bad alignment option")
	ErrBadAlignmentFile = errors.New("not an alignment state file")
)

// ComponentBalance is one component's line of a balance analysis
// (rewardguard's imbalance_report entry).
type ComponentBalance struct {
	Real           float64 `json:"real"`           // share of the magnitude, %, 2 decimals
	Expected       float64 `json:"expected"`       // expected share, %
	Difference     float64 `json:"difference"`     // Real - Expected
	AbsDifference  float64 `json:"abs_difference"` // |Difference|
	Status         string  `json:"status"`         // "balanced" or "imbalanced"
	Severity       string  `json:"severity"`       // "ok", "warning" or "critical"
	Recommendation string  `json:"recommendation"` // e.g. "CRITICAL: Increase weight by ~43.6%"
	Unexpected     bool    `json:"unexpected"`     // seen with real > 0 but not in expected
}

// BalanceResult is rewardguard's AnalysisResult. Maps marshal to JSON with
// sorted keys; slices are sorted by component name.
type BalanceResult struct {
	// EpisodeCount is the number of records analysed (Balance: records in
	// the window; Monitor: steps recorded since creation or Reset, as
	// rewardguard reports it).
	EpisodeCount int    `json:"episode_count"`
	Severity     string `json:"severity"` // worst component severity
	// SourcesFound are the components with a value in the window.
	SourcesFound      []string `json:"sources_found"`
	UnexpectedSources []string `json:"unexpected_sources"`
	// RealPercentages: M_c / sum M * 100 rounded to 2 decimals, M_c the sum
	// of |value| over the window; all 0 when the sum is 0.
	RealPercentages        map[string]float64          `json:"real_percentages"`
	ExpectedPercentages    map[string]float64          `json:"expected_percentages"`
	SuggestedRewardWeights map[string]float64          `json:"suggested_reward_weights"`
	ImbalanceReport        map[string]ComponentBalance `json:"imbalance_report"`
	// Tolerance is the ok band used, in percentage points.
	Tolerance float64 `json:"-"`
}

// Components returns every component of the report (real ∪ expected),
// sorted by name.
func (r *BalanceResult) Components() []string {
	out := make([]string, 0, len(r.ImbalanceReport))
	for c := range r.ImbalanceReport {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// BalanceOptions tune Balance. The zero value uses every record and a
// 5 pp tolerance.
type BalanceOptions struct {
	// Tolerance is the ok band in percentage points; used only when
	// HasTolerance is set (so that 0 can be asked for), else 5.
	Tolerance    float64
	HasTolerance bool
	// Window > 0 analyses only the last Window records; 0 analyses all.
	Window int
}

func tolerance(t float64, has bool) (float64, error) {
	if !has {
		return DefaultTolerance, nil
	}
	if t < 0 || math.IsNaN(t) || math.IsInf(t, 0) {
		return 0, fmt.Errorf("%w, got %v", ErrBadTolerance, t)
	}
	return t, nil
}

// ExpectedPercentages validates relative weights and normalises them to
// percentages: p_c = w_c / sum(w) * 100 (the sum taken in name order).
// Errors (errors.Is-able): ErrEmptyExpected for an empty map, ErrBadExpected
// for a negative, NaN or infinite weight, ErrZeroExpected when they sum to 0.
//
//	ExpectedPercentages({"task": 3, "safety": 1}) = {"task": 75, "safety": 25}
func ExpectedPercentages(expected map[string]float64) (map[string]float64, error) {
	if len(expected) == 0 {
		return nil, ErrEmptyExpected
	}
	names := sortedNames(expected)
	total := 0.0
	for _, c := range names {
		v := expected[c]
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, fmt.Errorf("%w: %s=%v", ErrBadExpected, c, v)
		}
		total += v
	}
	if !(total > 0) || math.IsInf(total, 0) {
		return nil, fmt.Errorf("%w (sum is %v)", ErrZeroExpected, total)
	}
	out := make(map[string]float64, len(expected))
	for _, c := range names {
		out[c] = expected[c] / total * 100
	}
	return out, nil
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// shareComponents returns the component columns balance looks at: every
// component except rewardspy's "total" (the sum of the others), unless the
// expected distribution names it.
func shareComponents(run *ingest.Run, expected map[string]float64) []string {
	var out []string
	for _, c := range run.Components() {
		if c == ingest.TotalComponent {
			if _, ok := expected[c]; !ok {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// Balance analyses the balance of a run's reward components against an
// expected distribution, exactly as rewardguard's analyze_balance does
// Over the last opt.Window records (all when 0), M_c = sum of
// |value| (missing values contribute nothing), accumulated in record order;
// real_c = round(M_c / sum M * 100, 2), all 0 when sum M is 0. Then each
// component of real ∪ expected is graded with DetectImbalance and weighted
// with RecommendWeights. rewardspy's "total" component is left out unless
// expected names it.
//
// Errors: the ExpectedPercentages errors, ErrBadTolerance, ErrBadWindow
// (Window < 0), ErrNoComponents for a run without component columns.
func Balance(run *ingest.Run, expected map[string]float64, opt BalanceOptions) (*BalanceResult, error) {
	exp, err := ExpectedPercentages(expected)
	if err != nil {
		return nil, err
	}
	tol, err := tolerance(opt.Tolerance, opt.HasTolerance)
	if err != nil {
		return nil, err
	}
	if opt.Window < 0 {
		return nil, fmt.Errorf("%w, got %d", ErrBadWindow, opt.Window)
	}
	comps := shareComponents(run, expected)
	if len(comps) == 0 {
		return nil, ErrNoComponents
	}
	w := run
	if opt.Window > 0 {
		w = run.Last(opt.Window)
	}
	real := ObservedShares(w, comps)
	return AnalyzeShares(real, exp, tol, w.Len()), nil
}

// ObservedShares returns the magnitude shares (percent, 2 decimals) of the
// named component columns over all rows of run, for the components with at
// least one value: M_c = sum |v| in row order (within a row, components in
// the order given), real_c = round(M_c / sum M * 100, 2), all 0 when sum M
// is 0. Missing values (NaN) contribute nothing.
func ObservedShares(run *ingest.Run, comps []string) map[string]float64 {
	cols := make([][]float64, len(comps))
	for i, c := range comps {
		cols[i], _ = run.Column(ingest.ComponentPrefix + c)
	}
	totals := make([]float64, len(comps))
	seen := make([]bool, len(comps))
	grand := 0.0
	for row := 0; row < run.Len(); row++ {
		for i, col := range cols {
			if row >= len(col) {
				continue
			}
			v := col[row]
			if math.IsNaN(v) {
				continue
			}
			m := math.Abs(v)
			totals[i] += m
			grand += m
			seen[i] = true
		}
	}
	out := map[string]float64{}
	for i, c := range comps {
		if !seen[i] {
			continue
		}
		if grand == 0 {
			out[c] = 0
		} else {
			out[c] = PyRound(totals[i]/grand*100, 2)
		}
	}
	return out
}

// DetectImbalance grades one component (rewardguard's detect_imbalance):
// d = real - expected; ok when |d| <= tol, warning when |d| <= 3*tol,
// critical above; and critical with the "completely absent" message when
// real == 0 and expected > tol. Unexpected: not in expected and real > 0.
func DetectImbalance(component string, real, expected float64, inExpected bool, tol float64) ComponentBalance {
	d := real - expected
	ad := math.Abs(d)
	cb := ComponentBalance{Real: real, Expected: expected, Difference: d, AbsDifference: ad}
	switch {
	case ad <= tol:
		cb.Status, cb.Severity, cb.Recommendation = StatusBalanced, BalanceOK, "No action needed"
	case ad <= tol*3:
		cb.Status, cb.Severity = StatusImbalanced, BalanceWarning
		cb.Recommendation = direction(d) + " weight by ~" + pyFormat(ad, 1) + "%"
	default:
		cb.Status, cb.Severity = StatusImbalanced, BalanceCritical
		cb.Recommendation = "CRITICAL: " + direction(d) + " weight by ~" + pyFormat(ad, 1) + "%"
	}
	if real == 0 && expected > tol {
		cb.Status, cb.Severity = StatusImbalanced, BalanceCritical
		cb.Recommendation = fmt.Sprintf("REWARD HACKING DETECTED: '%s' is completely absent (expected %s%%). Agent may be ignoring this component.",
			component, pyFormat(expected, 1))
	}
	cb.Unexpected = !inExpected && real > 0
	return cb
}

func direction(d float64) string {
	if d > 0 {
		return "Decrease"
	}
	return "Increase"
}

// RecommendWeights returns rewardguard's suggested weight multipliers for
// every component of real ∪ expected: 1.0 when expected is 0 (or absent:
// an unexpected source is left alone); 5.0 when real is 0 (a component the
// agent ignores); else w = 1 + 0.3*(expected/real - 1), clamped to [0.1, 5]
// and rounded to 2 decimals (Python round). It returns an empty map when
// real or expected is empty.
//
//	RecommendWeights({"food": 16.4}, {"food": 60}) = {"food": 1.8}
func RecommendWeights(real, expected map[string]float64) map[string]float64 {
	out := map[string]float64{}
	if len(real) == 0 || len(expected) == 0 {
		return out
	}
	for _, c := range unionNames(real, expected) {
		r, e := real[c], expected[c]
		switch {
		case e == 0:
			out[c] = 1.0
		case r == 0:
			out[c] = 5.0
		default:
			w := 1.0 + (e/r-1.0)*0.3
			out[c] = PyRound(math.Max(0.1, math.Min(w, 5.0)), 2)
		}
	}
	return out
}

func unionNames(a, b map[string]float64) []string {
	set := make(map[string]struct{}, len(a)+len(b))
	for k := range a {
		set[k] = struct{}{}
	}
	for k := range b {
		set[k] = struct{}{}
	}
	return sortedNames(set)
}

// AnalyzeShares grades real against expected shares, both already in
// percent (no normalisation), with tolerance tol in percentage points:
// DetectImbalance per component of real ∪ expected, RecommendWeights, the
// worst severity and the unexpected sources. count becomes EpisodeCount.
// The maps are kept in the result, not copied.
func AnalyzeShares(real, exp map[string]float64, tol float64, count int) *BalanceResult {
	res := &BalanceResult{
		EpisodeCount:           count,
		Severity:               BalanceOK,
		SourcesFound:           sortedNames(real),
		UnexpectedSources:      []string{},
		RealPercentages:        real,
		ExpectedPercentages:    exp,
		SuggestedRewardWeights: RecommendWeights(real, exp),
		ImbalanceReport:        map[string]ComponentBalance{},
		Tolerance:              tol,
	}
	for _, c := range unionNames(real, exp) {
		_, inExp := exp[c]
		cb := DetectImbalance(c, real[c], exp[c], inExp, tol)
		res.ImbalanceReport[c] = cb
		if cb.Unexpected {
			res.UnexpectedSources = append(res.UnexpectedSources, c)
		}
		switch {
		case cb.Severity == BalanceCritical:
			res.Severity = BalanceCritical
		case cb.Severity == BalanceWarning && res.Severity == BalanceOK:
			res.Severity = BalanceWarning
		}
	}
	return res
}
