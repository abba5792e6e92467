package ingest

import (
	"fmt"
	"sort"
	"strings"
)

// Column naming for the generic readers (jsonl, csv, parquet), in order:
//
//  1. Options.Map: Map[target] = source reads the source key as column
//     target ("--map reward=train_reward,length=completion_len"). Nested JSON
//     keys are addressed with "/" ("metrics/reward").
//  2. A key that is already a canonical column name (step, reward,
//     reward_std, length, group, zero_std_frac, clip_ratio, kl, entropy,
//     time, duration_ms, call_id, input_length, chosen_reward,
//     rejected_reward, margin, pref_accuracy) is that column, unless a
//     mapping already targets that column: then it is kept as extra.<key>.
//  3. rewardspy's field names: scalar_reward -> reward, timestamp -> time,
//     call_duration_ms -> duration_ms, output_length -> length,
//     components/<k> -> component.<k>.
//  4. Keys already in goodhart's own form (component.<k>, eval.<k>,
//     extra.<k>) are kept as they are, so our exports read back unchanged.
//  5. eval_<name> and eval/<name> -> eval.<name> (TRL's bookkeeping keys
//     eval_runtime, eval_samples_per_second and eval_steps_per_second are
//     extras).
//  6. Everything else -> extra.<key>.

var canonicalNames = map[string]bool{
	ColStep: true, ColReward: true, ColRewardStd: true, ColLength: true, ColGroup: true,
	ColZeroStdFrac: true, ColClipRatio: true, ColKL: true, ColEntropy: true, ColTime: true,
	ColDurationMS: true, ColCallID: true, ColInputLength: true,
	ColChosen: true, ColRejected: true, ColMargin: true, ColPrefAccuracy: true,
}

var rewardspyNames = map[string]string{
	"scalar_reward":    ColReward,
	"timestamp":        ColTime,
	"call_duration_ms": ColDurationMS,
	"output_length":    ColLength,
}

var evalBookkeeping = map[string]bool{
	"eval_runtime": true, "eval_samples_per_second": true, "eval_steps_per_second": true,
}

// keyMapper turns source keys into column names (rules above).
type keyMapper struct {
	bySource map[string]string // source key -> column
	taken    map[string]bool   // columns some mapping produces
	seen     map[string]bool   // mapped sources found in the input
}

// newKeyMapper validates m (target=source pairs).
func newKeyMapper(m map[string]string) (*keyMapper, error) {
	km := &keyMapper{bySource: map[string]string{}, taken: map[string]bool{}, seen: map[string]bool{}}
	targets := make([]string, 0, len(m))
	for t := range m {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	for _, t := range targets {
		src := m[t]
		if strings.TrimSpace(t) == "" || strings.TrimSpace(src) == "" {
			return nil, fmt.Errorf("--map %s=%s: both sides must be non-empty (canonical=source)", t, src)
		}
		if prev, dup := km.bySource[src]; dup {
			return nil, fmt.Errorf("--map: source key %q is mapped twice (to %s and %s)", src, prev, t)
		}
		km.bySource[src] = t
		km.taken[t] = true
	}
	return km, nil
}

// column returns the column name for source key.
func (km *keyMapper) column(key string) string {
	if t, ok := km.bySource[key]; ok {
		km.seen[key] = true
		return t
	}
	name := defaultColumnName(key)
	if km.taken[name] {
		return ExtraPrefix + key
	}
	return name
}

// defaultColumnName applies rules 2-6 (no mapping).
func defaultColumnName(key string) string {
	if canonicalNames[key] {
		return key
	}
	if c, ok := rewardspyNames[key]; ok {
		return c
	}
	if k, ok := strings.CutPrefix(key, "components/"); ok && k != "" {
		return ComponentPrefix + k
	}
	for _, p := range []string{ComponentPrefix, EvalPrefix, ExtraPrefix} {
		if strings.HasPrefix(key, p) && len(key) > len(p) {
			return key
		}
	}
	if key == ExtraPrefix {
		// The column of the empty key "" read back (a Parquet or CSV
		// export of it): naming is idempotent, so it stays "extra.".
		return key
	}
	if !evalBookkeeping[key] {
		if k, ok := strings.CutPrefix(key, "eval_"); ok && k != "" {
			return EvalPrefix + k
		}
		if k, ok := strings.CutPrefix(key, "eval/"); ok && k != "" {
			return EvalPrefix + k
		}
	}
	return ExtraPrefix + key
}

// unseen reports mapped source keys that never appeared, as an error that
// names the keys the input does have, so a typo in --map is caught instead
// of silently producing a run without a reward column.
func (km *keyMapper) unseen(name string, have []string) error {
	var missing []string
	for src := range km.bySource {
		if !km.seen[src] {
			missing = append(missing, src)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	sort.Strings(have)
	if len(have) > 20 {
		have = append(have[:20:20], "...")
	}
	return fmt.Errorf("%s: --map names source key(s) %s not found in the input (keys: %s)",
		name, strings.Join(missing, ", "), strings.Join(have, ", "))
}
