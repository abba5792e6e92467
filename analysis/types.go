package analysis

import (
	"sort"

	"github.com/goodhart-rl/goodhart/ingest"
)

// Status is a detector's state, with rewardspy's names.
type Status string

const (
	StatusOK            Status = "OK"
	StatusWarning       Status = "WARNING"
	StatusAlert         Status = "ALERT"
	StatusInsufficient  Status = "INSUFFICIENT_DATA"
	StatusNotApplicable Status = "NOT_APPLICABLE"
)

// Actionable reports whether s raises an alert (WARNING or ALERT).
func (s Status) Actionable() bool { return s == StatusWarning || s == StatusAlert }

// Severity levels used in results and alerts.
const (
	SeverityLow    = "LOW"
	SeverityMedium = "MEDIUM"
	SeverityHigh   = "HIGH"
)

// Evidence is the numbers behind a finding: where in the run, and why.
type Evidence struct {
	// FromStep/ToStep are the run's own step values (trainer steps) of the
	// flagged range; FromRecord/ToRecord are 1-based record counts.
	FromStep   float64            `json:"from_step"`
	ToStep     float64            `json:"to_step"`
	FromRecord int                `json:"from_record"`
	ToRecord   int                `json:"to_record"`
	Numbers    map[string]float64 `json:"numbers,omitempty"`
	Reason     string             `json:"reason"`
}

// Class names what a finding, or a whole verdict, means for the run.
type Class string

const (
	// ClassHealthy: nothing flagged.
	ClassHealthy Class = "healthy"
	// ClassHacking: reward hacking. The optimised reward rises while the
	// true objective (a held-out or gold metric, correctness) does not, or
	// the reward is earned by length, padding or format; on rewardspy's
	// call logs, rewardspy's own signatures.
	ClassHacking Class = "reward_hacking"
	// ClassPathology: a training pathology that is not hacking: no learning
	// signal, collapse, instability, truncation at the max length, a dead
	// component, a length explosion.
	ClassPathology Class = "training_pathology"
	// ClassEarlyWarning: a sign worth a look that is neither yet (for
	// example a saturating score with no held-out metric to compare).
	ClassEarlyWarning Class = "early_warning"
)

// Result is one detector's status at a point in the replay (or its final
// verdict for batch detectors).
type Result struct {
	Status   Status
	Message  string
	Detail   string
	Severity string
	Evidence *Evidence
	// Class is what an actionable Status means (hacking, pathology or an
	// early warning); empty while the status is not actionable.
	Class Class
}

// Alert is raised when a detector's status becomes actionable (see the
// de-duplication rule in the package documentation: one alert each time a
// detector's status turns actionable or changes level).
type Alert struct {
	Step     int     // 1-based record count at the time (rewardspy's meaning)
	RunStep  float64 // the run's own step value at that record
	Detector string
	Status   Status
	Severity string
	Message  string
	Detail   string
	Evidence *Evidence
}

// Sensitivity is low, medium or high.
type Sensitivity string

const (
	SensitivityLow    Sensitivity = "low"
	SensitivityMedium Sensitivity = "medium"
	SensitivityHigh   Sensitivity = "high"
)

// Config tunes an audit. The zero value means: window 100 for call/sample
// grain (a scaled window for step-grain runs, see WindowFor), medium
// sensitivity, no fixed reward ceiling, every detector that applies.
type Config struct {
	Window      int         // rolling window W; 0 = default
	Sensitivity Sensitivity // "" = medium
	// MaxReward is the reward ceiling; HasMaxReward false means "use the
	// lifetime maximum so far" (rewardspy's default).
	MaxReward    float64
	HasMaxReward bool
	// Detectors selects detectors by name; nil or ["all"] = all that apply;
	// ["rewardspy"] = exactly rewardspy's five (variance, slope, component,
	// ceiling, length), judged as a rewardspy call log.
	Detectors []string
	// Kind is the kind of run; "" = DetectKind(run). It picks the detector
	// set, thresholds and wording.
	Kind Kind
	// Gold names the true-objective metrics to judge the reward against
	// (column names with or without "eval."); nil = the run's eval.*
	// columns, preferring well-known gold names (test/val score,
	// correctness, accuracy, pass@k).
	Gold []string
	// EvalLowerBetter names eval metrics (without "eval.") where lower is
	// better, in addition to the built-in loss/perplexity-like names.
	EvalLowerBetter []string
}

// Detector is a batch detector over a whole run (group, divergence, ...). New
// detectors implement it and call Register from an init function; the
// rewardspy five are not Detectors but run in the streaming Engine.
type Detector interface {
	// Name is the stable id used in --detectors, JSON and alerts.
	Name() string
	// Applies reports whether the run has the columns the detector needs.
	Applies(run *ingest.Run, cfg Config) bool
	// Detect returns the final result and the alerts raised, in step order.
	Detect(run *ingest.Run, cfg Config) (Result, []Alert)
}

var registry []Detector

// Register adds a batch detector. Detectors run in name order.
func Register(d Detector) {
	registry = append(registry, d)
	sort.SliceStable(registry, func(i, j int) bool { return registry[i].Name() < registry[j].Name() })
}

// Registered returns the registered batch detectors in name order.
func Registered() []Detector { return append([]Detector(nil), registry...) }

// Verdicts, from the final statuses (see Verdict; VerdictPathology for the
// kinds other than rewardspy).
const (
	VerdictCollecting = "collecting" // fewer records than the window
	VerdictHealthy    = "healthy"
	VerdictWarning    = "warning"
	VerdictHacking    = "hacking"
)

// NamedResult is one detector's final result.
type NamedResult struct {
	Name string
	Result
}

// Summary holds statistics of the reward over the last window.
type Summary struct {
	Mean, Std, Min, Max, P50, P95 float64
}

// Report is the outcome of an audit: what `reportgen audit` prints.
type Report struct {
	Kind Kind // the kind of run the audit judged (DetectKind or --kind)
	// Class names the failure: the worst class among actionable findings
	// (hacking over pathology over early warning), ClassHealthy otherwise.
	Class Class
	// Headline is one sentence for humans: the class and the evidence.
	Headline  string
	Records   int
	Window    int           // the window W actually used
	Verdict   string        // one of the Verdict* constants
	ExitCode  int           // 1 when any final status is WARNING or ALERT, else 0
	Detectors []NamedResult // rewardspy's five first (variance, slope, component, ceiling, length), then batch detectors by name
	Alerts    []Alert       // in record order
	Diagnosis string        // rewardspy's diagnosis text
	Summary   *Summary      // nil when the run has no records
	// Sampled is set when the batch detectors, the headline and the
	// diagnosis judged an evenly spaced sample of the run (a Stream longer
	// than SampleRows): their figures are estimates; Records, the five
	// streaming detectors and Summary still cover every record. Nil when
	// every row was judged.
	Sampled *Sampled
}

// Sampled says which rows a sampled report judged: Rows rows of the Of rows
// added: every Every-th row (rows 0, Every, 2*Every, ...), the last row,
// and rows with a sparse held-out value (see Stream).
type Sampled struct {
	Rows, Of, Every int
}
