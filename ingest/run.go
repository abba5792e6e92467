package ingest

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Grain says what one row of a Run stands for. Detector defaults differ by
// grain (window sizes and minimum counts scale for step-grain logs).
type Grain string

const (
	GrainCall    Grain = "call"    // one reward-function call (rewardspy)
	GrainSample  Grain = "sample"  // one sample/completion
	GrainEpisode Grain = "episode" // one episode (SB3 monitor, rewardguard)
	GrainStep    Grain = "step"    // one logged trainer step (TRL, verl)
)

// Canonical column names.
const (
	ColStep        = "step"
	ColReward      = "reward"
	ColRewardStd   = "reward_std"
	ColLength      = "length"
	ColGroup       = "group"
	ColZeroStdFrac = "zero_std_frac"
	ColClipRatio   = "clip_ratio"
	ColKL          = "kl"
	ColEntropy     = "entropy"
	ColTime        = "time"
	ColDurationMS  = "duration_ms"
	ColCallID      = "call_id" // string column
	ColInputLength = "input_length"

	// Preference optimisation (DPO, ORPO, KTO, SimPO): the implicit rewards
	// of the chosen and rejected answers, their margin (also the run's
	// reward) and the preference accuracy (TRL rewards/chosen,
	// rewards/rejected, rewards/margins, rewards/accuracies).
	ColChosen       = "chosen_reward"
	ColRejected     = "rejected_reward"
	ColMargin       = "margin"
	ColPrefAccuracy = "pref_accuracy"

	ComponentPrefix = "component."
	EvalPrefix      = "eval."
	ExtraPrefix     = "extra."

	// TotalComponent is the component rewardspy logs as the sum of the
	// others; detectors that look at shares exclude it.
	TotalComponent = "total"
)

// Run.Meta keys that readers set and analysis reads.
const (
	// MetaKind is the kind of run when the reader knows it from the format
	// or the keys: "rewardspy", "policy", "preference" or "episodes" (see
	// analysis.DetectKind). Absent when the format does not say.
	MetaKind = "kind"
	// MetaRewardKey is the source's own key that became the reward column
	// (e.g. "critic/score/mean", "rollout/ep_rew_mean", "rewards/margins").
	MetaRewardKey = "reward_key"
)

// Sentinel errors. Wrap them with %w so callers can use errors.Is.
var (
	// ErrNotARun: the input is not a run in any format goodhart reads
	// (binary garbage, an unrelated file). Exit code 2 in reportgen.
	ErrNotARun = errors.New("not a run")
	// ErrStrict: Options.Strict was set and a record had a problem.
	ErrStrict = errors.New("malformed record (strict mode)")
	// ErrUnknownFormat: Options.Format names no registered format.
	ErrUnknownFormat = errors.New("unknown format")
)

// Issue is one problem found in the input. The record it belongs to was
// skipped (or, for a single bad field, the field was left missing).
type Issue struct {
	File  string // path as given by the user
	Line  int    // 1-based line (or row/record number for binary formats); 0 if unknown
	Field string // field or key, "" when the whole line is bad
	Msg   string // short, lower-case, no trailing period
	// Kept: the record was kept and only this field was left missing (a
	// non-finite value in an extra column, a bad pair on a verl line);
	// otherwise the whole record was skipped (and counted in Run.Skipped).
	Kept bool
}

func (i Issue) Error() string {
	var b strings.Builder
	b.WriteString(i.File)
	if i.Line > 0 {
		fmt.Fprintf(&b, ":%d", i.Line)
	}
	if i.Field != "" {
		fmt.Fprintf(&b, ": field %q", i.Field)
	}
	b.WriteString(": ")
	b.WriteString(i.Msg)
	return b.String()
}

// Run is a training run as columns. All columns have Len() rows. Numeric
// columns hold NaN where a record has no value; string columns hold "".
// The zero value is an empty run ready for use.
type Run struct {
	Source string            // the path or name it was read from
	Format string            // format name, e.g. "rewardspy-jsonl", "csv", "trl"
	Grain  Grain             // what one row stands for
	Meta   map[string]string // source metadata (e.g. SB3's #{json} header)

	// Issues holds the first problems found (readers keep at most
	// Options.MaxIssues); Skipped counts every skipped record.
	Issues  []Issue
	Skipped int
	// Kept counts problems in records that were kept with one value left
	// missing (a non-finite value in an extra column, a bad key:value pair
	// on a verl line); their Issues have Kept set. IssueSummary words both.
	Kept int

	n     int
	num   map[string][]float64
	str   map[string][]string
	order []string // first-appearance order of all columns
}

// IssueSummary is the one line to show the user about a run's problems,
// or "" when it has none: "skipped 3 malformed records, left 2 bad values
// missing: run.jsonl:17, :204, :9120, ..." (the first five places; Skipped
// and Kept are counted in full, Issues holds the first MaxIssues).
func IssueSummary(run *Run) string {
	if run == nil || (run.Skipped == 0 && run.Kept == 0 && len(run.Issues) == 0) {
		return ""
	}
	var parts []string
	if run.Skipped > 0 {
		parts = append(parts, fmt.Sprintf("skipped %d malformed %s", run.Skipped, plural(run.Skipped, "record", "records")))
	}
	if run.Kept > 0 {
		parts = append(parts, fmt.Sprintf("left %d bad %s missing", run.Kept, plural(run.Kept, "value", "values")))
	}
	if len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%d %s", len(run.Issues), plural(len(run.Issues), "problem", "problems")))
	}
	var locs []string
	for i, is := range run.Issues {
		if i == 5 {
			locs = append(locs, "...")
			break
		}
		switch {
		case is.Line <= 0:
			locs = append(locs, is.File)
		case i == 0:
			locs = append(locs, fmt.Sprintf("%s:%d", is.File, is.Line))
		default:
			locs = append(locs, fmt.Sprintf(":%d", is.Line))
		}
	}
	s := strings.Join(parts, ", ")
	if len(locs) > 0 {
		s += ": " + strings.Join(locs, ", ")
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// setMeta sets one Meta entry, creating the map.
func (r *Run) setMeta(k, v string) {
	if r.Meta == nil {
		r.Meta = map[string]string{}
	}
	r.Meta[k] = v
}

// NewRun returns an empty run with n rows and no columns.
func NewRun(n int) *Run { return &Run{n: n} }

// Len returns the number of rows (records).
func (r *Run) Len() int {
	if r == nil {
		return 0
	}
	return r.n
}

// SetLen sets the number of rows. Existing columns shorter than n are padded
// with NaN / ""; longer ones are cut. Readers call it once at the end.
func (r *Run) SetLen(n int) {
	r.n = n
	for k, c := range r.num {
		r.num[k] = fitFloat(c, n)
	}
	for k, c := range r.str {
		r.str[k] = fitString(c, n)
	}
}

func fitFloat(c []float64, n int) []float64 {
	if len(c) >= n {
		return c[:n]
	}
	for len(c) < n {
		c = append(c, math.NaN())
	}
	return c
}

func fitString(c []string, n int) []string {
	if len(c) >= n {
		return c[:n]
	}
	for len(c) < n {
		c = append(c, "")
	}
	return c
}

// Column returns the numeric column name and whether it exists. The slice is
// the run's own storage: do not modify it.
func (r *Run) Column(name string) ([]float64, bool) {
	if r == nil || r.num == nil {
		return nil, false
	}
	c, ok := r.num[name]
	return c, ok
}

// StringColumn returns the string column name and whether it exists.
func (r *Run) StringColumn(name string) ([]string, bool) {
	if r == nil || r.str == nil {
		return nil, false
	}
	c, ok := r.str[name]
	return c, ok
}

// Has reports whether a numeric or string column exists.
func (r *Run) Has(name string) bool {
	_, a := r.Column(name)
	_, b := r.StringColumn(name)
	return a || b
}

// SetColumn stores a numeric column, padding or cutting it to Len().
func (r *Run) SetColumn(name string, c []float64) {
	if r.num == nil {
		r.num = map[string][]float64{}
	}
	if _, ok := r.num[name]; !ok {
		if _, s := r.str[name]; !s {
			r.order = append(r.order, name)
		} else {
			delete(r.str, name)
		}
	}
	r.num[name] = fitFloat(c, r.n)
}

// SetStringColumn stores a string column, padding or cutting it to Len().
func (r *Run) SetStringColumn(name string, c []string) {
	if r.str == nil {
		r.str = map[string][]string{}
	}
	if _, ok := r.str[name]; !ok {
		if _, s := r.num[name]; !s {
			r.order = append(r.order, name)
		} else {
			delete(r.num, name)
		}
	}
	r.str[name] = fitString(c, r.n)
}

// DropColumn removes a column if present.
func (r *Run) DropColumn(name string) {
	delete(r.num, name)
	delete(r.str, name)
	for i, n := range r.order {
		if n == name {
			r.order = append(r.order[:i:i], r.order[i+1:]...)
			break
		}
	}
}

// Columns returns every column name: canonical columns first (step, time,
// call_id, reward, reward_std, duration_ms, input_length, length, group,
// zero_std_frac, clip_ratio, kl, entropy), then component.*, eval.*, other
// names and extra.*, each group sorted by name.
func (r *Run) Columns() []string {
	if r == nil {
		return nil
	}
	names := append([]string(nil), r.order...)
	sort.SliceStable(names, func(i, j int) bool {
		ri, rj := columnRank(names[i]), columnRank(names[j])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	return names
}

// IsString reports whether name is a string column.
func (r *Run) IsString(name string) bool {
	_, ok := r.StringColumn(name)
	return ok
}

var canonicalOrder = []string{ColStep, ColTime, ColCallID, ColReward, ColRewardStd,
	ColDurationMS, ColInputLength, ColLength, ColGroup, ColZeroStdFrac, ColClipRatio,
	ColKL, ColEntropy}

func columnRank(name string) int {
	for i, c := range canonicalOrder {
		if c == name {
			return i
		}
	}
	switch {
	case strings.HasPrefix(name, ComponentPrefix):
		return 100
	case strings.HasPrefix(name, EvalPrefix):
		return 101
	case strings.HasPrefix(name, ExtraPrefix):
		return 103
	}
	return 102
}

// Components returns the component names (without the "component." prefix),
// sorted. It includes "total" when the source logged it.
func (r *Run) Components() []string {
	return r.prefixed(ComponentPrefix)
}

// EvalMetrics returns the held-out metric names (without "eval."), sorted.
func (r *Run) EvalMetrics() []string {
	return r.prefixed(EvalPrefix)
}

func (r *Run) prefixed(p string) []string {
	var out []string
	for _, n := range r.order {
		if strings.HasPrefix(n, p) {
			if _, ok := r.num[n]; ok {
				out = append(out, strings.TrimPrefix(n, p))
			}
		}
	}
	sort.Strings(out)
	return out
}

// Slice returns rows [from, to) as a new Run sharing storage with r (the
// reader's metadata and issues are kept). Used for --last N.
func (r *Run) Slice(from, to int) *Run {
	if from < 0 {
		from = 0
	}
	if to > r.n {
		to = r.n
	}
	if from > to {
		from = to
	}
	s := &Run{Source: r.Source, Format: r.Format, Grain: r.Grain, Meta: r.Meta,
		Issues: r.Issues, Skipped: r.Skipped, Kept: r.Kept, n: to - from,
		order: append([]string(nil), r.order...)}
	if r.num != nil {
		s.num = make(map[string][]float64, len(r.num))
		for k, c := range r.num {
			s.num[k] = c[from:to:to]
		}
	}
	if r.str != nil {
		s.str = make(map[string][]string, len(r.str))
		for k, c := range r.str {
			s.str[k] = c[from:to:to]
		}
	}
	return s
}

// Last returns the last n rows (all rows when n <= 0 or n >= Len()).
func (r *Run) Last(n int) *Run {
	if n <= 0 || n >= r.n {
		return r
	}
	return r.Slice(r.n-n, r.n)
}

// Steps returns the step column, or 0..n-1 when the source has none.
func (r *Run) Steps() []float64 {
	if c, ok := r.Column(ColStep); ok {
		return c
	}
	s := make([]float64, r.n)
	for i := range s {
		s[i] = float64(i)
	}
	return s
}
