package ingest

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// Well-known keys: the one table every reader uses to recognise what
// trainers log under their own names (TRL, verl, Stable-Baselines3, CleanRL,
// ML-Agents, TensorBoard, MLflow, W&B, plain JSONL/CSV/Parquet). Readers name
// columns by their own rules first; then WellKnown (called by Read on every
// run except rewardspy's own log) renames what is still extra.<key>:
//
//  1. Roles (reward_std, length, kl, entropy, clip_ratio, zero_std_frac and
//     the preference columns): for each role whose column is absent, the
//     first key of its list present as extra.<key> becomes that column.
//     A key is also matched under HF Trainer's "train/" prefix
//     (train/rewards/chosen), and case-insensitively.
//  2. Reward: when there is no reward column and Options.Map names none,
//     the first of RewardKeys present becomes the reward. rewards/margins
//     (DPO, ORPO, KTO, CPO) is kept as the margin column and copied to the
//     reward; a log with chosen and rejected rewards but no margin gets
//     margin = chosen - rejected (TRL's own definition) first.
//     Meta[MetaRewardKey] names the key.
//  3. Gold / held-out metrics: extra.<key> with a held-out name becomes
//     eval.<name> even without an eval_ prefix (see GoldName).
//  4. Meta[MetaKind] is set when the format or the keys say it (see
//     kindOf).

// ErrNoRewardKey: a run has records but no reward column and no
// well-known reward key. The error from NoRewardError lists the run's
// numeric keys, best candidates first, and the --map line to type.
var ErrNoRewardKey = errors.New("no reward key")

// RewardKey is one well-known reward key and the kind of run it implies
// ("" when the key does not tell).
type RewardKey struct {
	Key  string
	Kind string
}

// RewardKeys are the well-known reward keys in priority order: the first
// one a run has becomes its reward. Evaluation keys (eval/..., val/...) are
// never a reward.
var RewardKeys = []RewardKey{
	{"reward", ""},
	{"reward/mean", ""},
	{"rewards/mean", ""},
	{"train/reward", "policy"},
	{"train_reward", ""},
	{"mean_reward", ""},
	{"reward_mean", ""},
	{"critic/score/mean", "policy"},
	{"rewards/margins", "preference"},
	{"rollout/ep_rew_mean", "episodes"},
	{"charts/episodic_return", "episodes"},
	{"Environment/Cumulative Reward", "episodes"},
	{"Rewards/mean_episodes", "episodes"},
	{"mean_episode_rewards", "episodes"},
	{"episode_reward", "episodes"},
	{"episodic_return", "episodes"},
	{"episode_return", "episodes"},
	{"ep_rew_mean", "episodes"},
	{"eprewmean", "episodes"},
	{"return", "episodes"},
	{"score", ""},
}

// roleKeys are the other canonical columns' well-known keys, in priority
// order within each role.
var roleKeys = []struct {
	col  string
	keys []string
}{
	{ColRewardStd, []string{"reward_std", "reward/std", "rewards/std", "train_reward_std", "critic/score/std"}},
	{ColLength, []string{"completions/mean_length", "completion_length", "response_length/mean",
		"rollout/ep_len_mean", "charts/episodic_length", "Environment/Episode Length",
		"Len/mean_episodes", "mean_episode_len", "episode_length", "eplenmean"}},
	{ColKL, []string{"kl", "objective/kl", "actor/kl_loss", "actor/kl", "critic/kl"}},
	{ColEntropy, []string{"entropy", "objective/entropy", "actor/entropy", "actor/entropy_loss"}},
	{ColClipRatio, []string{"completions/clipped_ratio", "response_length/clip_ratio"}},
	{ColZeroStdFrac, []string{"frac_reward_zero_std"}},
	// Preference optimisation: TRL's DPO, ORPO, CPO and KTO trainers log
	// these four names (KTO without accuracies).
	{ColChosen, []string{"rewards/chosen"}},
	{ColRejected, []string{"rewards/rejected"}},
	{ColMargin, []string{"rewards/margins"}},
	{ColPrefAccuracy, []string{"rewards/accuracies"}},
}

// PreferenceKeys are the source keys that make a run a preference run.
var PreferenceKeys = []string{"rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"}

// WellKnownColumn returns the canonical column a source key stands for by
// the table above ("" when none): e.g. "completions/mean_length" ->
// "length", "train/rewards/margins" -> "margin", "rollout/ep_rew_mean" ->
// "reward". Matching is exact, then without a "train/" prefix, then
// case-insensitive.
func WellKnownColumn(key string) string {
	for _, k := range keyForms(key) {
		for _, rk := range RewardKeys {
			if k == rk.Key || strings.EqualFold(k, rk.Key) {
				if rk.Key == "rewards/margins" {
					return ColMargin
				}
				return ColReward
			}
		}
		for _, r := range roleKeys {
			for _, rk := range r.keys {
				if k == rk || strings.EqualFold(k, rk) {
					return r.col
				}
			}
		}
	}
	return ""
}

// keyForms are the spellings a key is matched under: as is, and without
// HF Trainer's "train/" prefix.
func keyForms(key string) []string {
	if k, ok := strings.CutPrefix(key, "train/"); ok && k != "" {
		return []string{key, k}
	}
	return []string{key}
}

var passAtRE = regexp.MustCompile(`^(?i)pass@\d+$`)

// GoldName returns the eval.<name> a source key becomes as a held-out or
// gold metric, or "" when it is not one. Gold keys: correctness, accuracy,
// acc, test_score, test_acc, test_accuracy, pass@k (any k), and every key
// under val/, val-core/, eval/, test/ (name = the rest). Train-side keys
// that merely contain these words are not gold: rewards/accuracies is the
// DPO preference accuracy, rewards/correctness/mean a reward component.
func GoldName(key string) string {
	switch strings.ToLower(key) {
	case "correctness", "accuracy", "acc", "test_score", "test_acc", "test_accuracy":
		return key
	}
	if passAtRE.MatchString(key) {
		return key
	}
	for _, p := range []string{"val/", "val-core/", "eval/", "test/"} {
		if rest, ok := strings.CutPrefix(key, p); ok && rest != "" {
			return rest
		}
	}
	return ""
}

// formatKinds are the kinds whole formats imply.
var formatKinds = map[string]string{
	"rewardspy-jsonl": "rewardspy",
	"sb3-monitor":     "episodes",
	"rewardguard":     "episodes",
	"verl":            "policy",
	"verl-jsonl":      "policy",
	"trl":             "policy",
	"trl-console":     "policy",
}

var generic = map[string]bool{"jsonl": true, "csv": true, "parquet": true}

// WellKnown applies the well-known key table to a run a reader built (the
// rules at the top of this file). opt.Map targets are never overridden:
// a column the user mapped stays as mapped. It is idempotent.
func WellKnown(run *Run, opt Options) {
	if run == nil || run.Format == "rewardspy-jsonl" {
		if run != nil {
			setMeta(run, MetaKind, "rewardspy", false)
		}
		return
	}
	extras := map[string]string{} // lower-case source key -> extra column
	var extraOrder []string
	for _, c := range run.Columns() {
		if k, ok := strings.CutPrefix(c, ExtraPrefix); ok && !run.IsString(c) {
			lk := strings.ToLower(k)
			if _, dup := extras[lk]; !dup {
				extras[lk] = c
				extraOrder = append(extraOrder, lk)
			}
		}
	}
	find := func(key string) (string, string) {
		for _, k := range []string{key, "train/" + key} {
			if c, ok := extras[strings.ToLower(k)]; ok && run.Has(c) {
				return c, strings.TrimPrefix(c, ExtraPrefix)
			}
		}
		return "", ""
	}
	mapped := func(col string) bool { _, ok := opt.Map[col]; return ok }
	hadStd := run.Has(ColRewardStd) || run.Has(ColZeroStdFrac)
	// The TensorBoard reader resolves tags with this table itself (keeping
	// each tag's extra.<tag> copy and leaving ambiguous tags unmapped).
	tb := run.Format == "tfevents"
	for _, r := range roleKeys {
		if tb || run.Has(r.col) || mapped(r.col) {
			continue
		}
		for _, k := range r.keys {
			if c, _ := find(k); c != "" {
				vals, _ := run.Column(c)
				run.DropColumn(c)
				run.SetColumn(r.col, vals)
				break
			}
		}
	}
	if !run.Has(ColMargin) && !mapped(ColMargin) {
		ch, ok1 := run.Column(ColChosen)
		rj, ok2 := run.Column(ColRejected)
		if ok1 && ok2 {
			m := make([]float64, len(ch))
			for i := range m {
				m[i] = ch[i] - rj[i]
			}
			run.SetColumn(ColMargin, m)
		}
	}
	if !run.Has(ColReward) && !mapped(ColReward) {
		for _, rk := range RewardKeys {
			if tb && rk.Key != "rewards/margins" {
				continue // tfCanonical already chose among the tags
			}
			if rk.Key == "rewards/margins" {
				if m, ok := run.Column(ColMargin); ok {
					run.SetColumn(ColReward, append([]float64(nil), m...))
					setMeta(run, MetaRewardKey, rk.Key, false)
					break
				}
				continue
			}
			if c, src := find(rk.Key); c != "" {
				vals, _ := run.Column(c)
				run.DropColumn(c)
				run.SetColumn(ColReward, vals)
				setMeta(run, MetaRewardKey, src, false)
				break
			}
		}
	}
	for _, lk := range extraOrder {
		c := extras[lk]
		if !run.Has(c) {
			continue
		}
		key := strings.TrimPrefix(c, ExtraPrefix)
		if g := GoldName(key); g != "" && !run.Has(EvalPrefix+g) {
			vals, _ := run.Column(c)
			run.DropColumn(c)
			run.SetColumn(EvalPrefix+g, vals)
		}
	}
	if src, ok := opt.Map[ColReward]; ok {
		setMeta(run, MetaRewardKey, src, true)
	} else if run.Has(ColReward) {
		k := fixedRewardKeys[run.Format]
		if k == "" {
			k = ColReward
		}
		setMeta(run, MetaRewardKey, k, false)
	}
	if generic[run.Format] && !hadStd && (run.Has(ColRewardStd) || run.Has(ColZeroStdFrac)) {
		// A within-step spread column makes a step log (see InferGrain).
		run.Grain = InferGrain(run)
	}
	if k := kindOf(run); k != "" {
		setMeta(run, MetaKind, k, false)
	}
}

// kindOf says the kind of run from its columns, reward key and format:
// preference columns make it "preference"; a reward key that implies a
// kind (rollout/ep_rew_mean: episodes; critic/score/mean: policy) decides
// next; then the format (sb3-monitor and rewardguard: episodes; trl, verl,
// trl-console: policy; rewardspy-jsonl: rewardspy). "" when nothing says.
func kindOf(run *Run) string {
	for _, c := range []string{ColMargin, ColChosen, ColRejected, ColPrefAccuracy} {
		if run.Has(c) {
			return "preference"
		}
	}
	if rk := run.Meta[MetaRewardKey]; rk != "" {
		for _, k := range keyForms(rk) {
			for _, c := range RewardKeys {
				if c.Kind != "" && (strings.EqualFold(k, c.Key) || keyNorm(k) == keyNorm(c.Key)) {
					return c.Kind
				}
			}
		}
	}
	return formatKinds[run.Format]
}

// setMeta sets run.Meta[k] = v; an existing value is kept unless force.
func setMeta(run *Run, k, v string, force bool) {
	if v == "" {
		return
	}
	if run.Meta == nil {
		run.Meta = map[string]string{}
	}
	if _, ok := run.Meta[k]; ok && !force {
		return
	}
	run.Meta[k] = v
}

// NoRewardError returns nil when run has a reward column (or no rows), and
// otherwise an error wrapping ErrNoRewardKey that lists the run's numeric
// columns by their source keys, best reward candidates first (keys with
// "reward", "return" or "score" in their name, then the others, each
// group sorted by name), and ends with the --map line to type for the best
// one:
//
//	run.jsonl: no reward key found (numeric keys: my_reward, score_b, loss, lr);
//	  read one as the reward with --map reward=my_reward
func NoRewardError(run *Run) error {
	if run == nil || run.Len() == 0 || run.Has(ColReward) {
		return nil
	}
	var keys []string
	for _, c := range run.Columns() {
		if run.IsString(c) || c == ColStep || c == ColTime {
			continue
		}
		v, _ := run.Column(c)
		if allNaN(v) {
			continue
		}
		keys = append(keys, strings.TrimPrefix(c, ExtraPrefix))
	}
	score := func(k string) int {
		l := strings.ToLower(k)
		switch {
		case strings.HasPrefix(l, "eval") || strings.HasPrefix(l, "val") || strings.HasPrefix(l, "test"):
			return 3
		case strings.Contains(l, "reward") || strings.Contains(l, "return"):
			return 0
		case strings.Contains(l, "score"):
			return 1
		}
		return 2
	}
	sort.SliceStable(keys, func(i, j int) bool {
		si, sj := score(keys[i]), score(keys[j])
		if si != sj {
			return si < sj
		}
		return keys[i] < keys[j]
	})
	if len(keys) == 0 {
		return fmt.Errorf("%s: %w: the run has no numeric keys at all", run.Source, ErrNoRewardKey)
	}
	shown := keys
	if len(shown) > 15 {
		shown = append(shown[:15:15], fmt.Sprintf("... %d more", len(keys)-15))
	}
	return fmt.Errorf("%s: %w among its numeric keys (%s); read one as the reward with --map reward=%s",
		run.Source, ErrNoRewardKey, strings.Join(shown, ", "), keys[0])
}

func allNaN(v []float64) bool {
	for _, x := range v {
		if !math.IsNaN(x) {
			return false
		}
	}
	return true
}

// wellKnownKeys returns the table's source keys for a canonical column, in
// priority order.
func wellKnownKeys(col string) []string {
	for _, r := range roleKeys {
		if r.col == col {
			return r.keys
		}
	}
	return nil
}

// setRewardKey records in Meta[MetaRewardKey] the source key the reward
// column was read from: the --map source when the user mapped one, else the
// reader's origin of the reward column.
func setRewardKey(run *Run, origin map[string]string, m map[string]string) {
	if src, ok := m[ColReward]; ok && run.Has(ColReward) {
		setMeta(run, MetaRewardKey, src, true)
		return
	}
	if src, ok := origin[ColReward]; ok && run.Has(ColReward) {
		setMeta(run, MetaRewardKey, src, false)
	}
}

// fixedRewardKeys are the reward keys formats map by their own rule.
var fixedRewardKeys = map[string]string{
	"rewardspy-jsonl": "scalar_reward", "sb3-monitor": "r", "rewardguard": "reward",
	"trl": "reward", "trl-console": "reward", "verl": "critic/score/mean", "verl-jsonl": "critic/score/mean",
}

// AutoRewardKey returns the source key that became the reward by the
// well-known key table (e.g. "train_reward", "rewards/margins",
// "rollout/ep_rew_mean"), or "" when the reward is the format's own fixed
// field (SB3's r, TRL's reward, verl's critic/score/mean), a column named
// reward, or was mapped with Options.Map. The command line prints it once
// ("reward = train_reward") so the user knows what is being audited.
func AutoRewardKey(run *Run, opt Options) string {
	if run == nil {
		return ""
	}
	k := run.Meta[MetaRewardKey]
	if _, mapped := opt.Map[ColReward]; mapped || k == "" || k == ColReward || k == fixedRewardKeys[run.Format] {
		return ""
	}
	return k
}

// keyRank is the priority of a source key for the canonical column col in
// the well-known table (0 = first), or -1 when the table does not list it.
func keyRank(col, key string) int {
	for _, k := range keyForms(key) {
		if col == ColReward {
			for i, rk := range RewardKeys {
				if strings.EqualFold(k, rk.Key) {
					return i
				}
			}
			continue
		}
		for _, r := range roleKeys {
			if r.col != col {
				continue
			}
			for i, rk := range r.keys {
				if strings.EqualFold(k, rk) {
					return i
				}
			}
		}
	}
	return -1
}

// resolveClaims picks, for each canonical column several foreign keys
// claim, the one key that gets it: the only claimant; or, when every
// claimant is in the well-known table, the one the table ranks first.
// When a claimant was matched only by name (e.g. ".../reward" as a last
// path element), two claimants are ambiguous and none gets the column.
func resolveClaims(claim map[string][]string) map[string]string {
	out := map[string]string{}
	for col, keys := range claim {
		if len(keys) == 1 {
			out[col] = keys[0]
			continue
		}
		best, bestRank := "", -1
		for _, k := range keys {
			r := keyRank(col, k)
			if r < 0 {
				best = ""
				break
			}
			if best == "" || r < bestRank || r == bestRank && k < best {
				best, bestRank = k, r
			}
		}
		if best != "" {
			out[col] = best
		}
	}
	return out
}

// keyNorm folds case and treats space, hyphen and underscore alike, so
// "Episode reward" names the same metric as "episode_reward".
func keyNorm(k string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return unicode.ToLower(r)
	}, k)
}
