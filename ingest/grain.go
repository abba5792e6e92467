package ingest

import "math"

// StepGrainMaxRows is the most rows a run without reward_std or
// zero_std_frac can have and still be inferred as step grain (trainer logs
// have hundreds to a few thousand logged steps; per-call logs have more).
const StepGrainMaxRows = 5000

// InferGrain says what one row of run stands for, by these rules in order:
//
//  1. rewardspy JSONL, or any run with a call_id column: GrainCall.
//  2. A group column: GrainSample (GRPO samples, consecutive rows with the
//     same group id form one group).
//  3. A step column with no missing values that strictly increases, when
//     the run also has reward_std or zero_std_frac (per-step statistics) or
//     has at most StepGrainMaxRows rows: GrainStep.
//  4. A step column that repeats values (several records per step): GrainSample.
//  5. Otherwise GrainCall (one record per reward call).
//
// Options.Grain, when set, overrides the inference.
//
// The generic readers (jsonl, csv, parquet) first merge trainer logs that
// write several lines per step: when the step column never decreases and
// repeats a value, consecutive rows of one step become one row if no column
// holds two different values among them (an eval line joins the train line
// of its step). With a conflict the rows stay separate, and rule 4 makes
// the run sample grain. --grain other than step turns merging off.
func InferGrain(run *Run) Grain {
	if run.Format == "rewardspy-jsonl" || run.Has(ColCallID) {
		return GrainCall
	}
	if run.Has(ColGroup) {
		return GrainSample
	}
	steps, ok := run.Column(ColStep)
	if ok {
		if strictlyIncreasing(steps) {
			if run.Has(ColRewardStd) || run.Has(ColZeroStdFrac) || run.Len() <= StepGrainMaxRows {
				return GrainStep
			}
		} else if nonDecreasing(steps) {
			return GrainSample
		}
	}
	return GrainCall
}

func strictlyIncreasing(c []float64) bool {
	for i, x := range c {
		if math.IsNaN(x) || (i > 0 && !(x > c[i-1])) {
			return false
		}
	}
	return true
}

func nonDecreasing(c []float64) bool {
	for i, x := range c {
		if math.IsNaN(x) || (i > 0 && x < c[i-1]) {
			return false
		}
	}
	return true
}

// applyGrain sets run.Grain for the generic readers, merging rows of the
// same step first (see mergeSameStep).
func applyGrain(run *Run, opt Options) {
	if opt.Grain == GrainStep || opt.Grain == "" {
		if merged := mergeSameStep(run); merged != nil {
			*run = *merged
		}
	}
	if opt.Grain != "" {
		run.Grain = opt.Grain
		return
	}
	run.Grain = InferGrain(run)
}

// mergeSameStep implements the rule for trainer logs that write several
// lines per step (a train line and an eval line, as HF/TRL-style loggers
// do): consecutive rows with the same step value are merged into one row
// when no column has two different values among them. It applies when the
// step column has no missing values, never decreases, repeats at least one
// value, and the run has no call_id or group column; otherwise (or on any
// conflict) the run is left as it is (nil is returned) and the repeated
// steps mean several samples per step. It runs unless --grain names a grain
// other than step.
func mergeSameStep(run *Run) *Run {
	steps, ok := run.Column(ColStep)
	if !ok || run.Len() < 2 || !nonDecreasing(steps) || strictlyIncreasing(steps) {
		return nil
	}
	if run.Has(ColCallID) || run.Has(ColGroup) {
		return nil
	}
	names := run.Columns()
	// Find the groups and check for conflicts.
	var starts []int
	for i := 0; i < run.Len(); {
		j := i + 1
		for j < run.Len() && steps[j] == steps[i] {
			j++
		}
		for _, name := range names {
			if c, ok := run.Column(name); ok {
				v := math.NaN()
				for k := i; k < j; k++ {
					if math.IsNaN(c[k]) {
						continue
					}
					if !math.IsNaN(v) && math.Float64bits(v) != math.Float64bits(c[k]) {
						return nil
					}
					v = c[k]
				}
			} else if s, ok := run.StringColumn(name); ok {
				v := ""
				for k := i; k < j; k++ {
					if s[k] == "" {
						continue
					}
					if v != "" && v != s[k] {
						return nil
					}
					v = s[k]
				}
			}
		}
		starts = append(starts, i)
		i = j
	}
	n := len(starts)
	out := NewRun(n)
	out.Source, out.Format, out.Grain, out.Meta = run.Source, run.Format, run.Grain, run.Meta
	out.Issues, out.Skipped = run.Issues, run.Skipped
	bound := func(g int) (int, int) {
		end := run.Len()
		if g+1 < n {
			end = starts[g+1]
		}
		return starts[g], end
	}
	for _, name := range run.order {
		if c, ok := run.Column(name); ok {
			m := make([]float64, n)
			for g := range m {
				i, j := bound(g)
				m[g] = math.NaN()
				for k := i; k < j; k++ {
					if !math.IsNaN(c[k]) {
						m[g] = c[k]
					}
				}
			}
			out.SetColumn(name, m)
		} else if s, ok := run.StringColumn(name); ok {
			m := make([]string, n)
			for g := range m {
				i, j := bound(g)
				for k := i; k < j; k++ {
					if s[k] != "" {
						m[g] = s[k]
					}
				}
			}
			out.SetStringColumn(name, m)
		}
	}
	return out
}
