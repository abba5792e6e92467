package analysis

import (
	"fmt"
	"strings"

	"github.com/goodhart-rl/goodhart/ingest"
)

// Kind is what sort of run a log comes from. Each kind has its own
// detectors, thresholds, words and units: a rising learning curve in
// classic RL is learning, not a distribution shift; an episode length is not
// a response length.
type Kind string

const (
	// KindRewardspy is a per-call (or per-sample) reward log of an LLM
	// policy, rewardspy's own format. Its audit is rewardspy's, bit for bit.
	KindRewardspy Kind = "rewardspy"
	// KindPolicy is an LLM policy-optimisation trainer log (GRPO, PPO,
	// RLOO in TRL, verl, OpenRLHF...): one row per logged trainer step.
	KindPolicy Kind = "policy"
	// KindPreference is a preference-optimisation log (DPO, ORPO, KTO,
	// SimPO): implicit rewards of chosen and rejected answers, their margin
	// and the preference accuracy.
	KindPreference Kind = "preference"
	// KindEpisodes is classic RL: one row per episode (SB3 monitor,
	// rewardguard) or a logged mean episode return (TensorBoard
	// rollout/ep_rew_mean, ML-Agents Environment/Cumulative Reward).
	KindEpisodes Kind = "episodes"
)

// Kinds lists every kind, in the order help texts show them.
var Kinds = []Kind{KindRewardspy, KindPolicy, KindPreference, KindEpisodes}

// ParseKind accepts a kind name as --kind takes it ("" means detect).
func ParseKind(s string) (Kind, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "auto" {
		return "", nil
	}
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	switch s {
	case "grpo", "ppo", "rloo", "trainer", "llm":
		return KindPolicy, nil
	case "dpo", "orpo", "kto", "simpo":
		return KindPreference, nil
	case "rl", "classic", "episode", "sb3":
		return KindEpisodes, nil
	}
	return "", fmt.Errorf("%w: kind %q: want rewardspy, policy, preference or episodes", ErrBadConfig, s)
}

// DetectKind says what kind of run run is:
//
//  1. the reader's own word, run.Meta[ingest.MetaKind], when it set one
//     (a TRL log with rewards/chosen is "preference", an SB3 monitor file
//     "episodes");
//  2. else preference columns (ingest.ColChosen, ColRejected, ColMargin,
//     ColPrefAccuracy) make it preference;
//  3. else call and sample grain are rewardspy, episode grain is episodes,
//     and step grain is policy, except a TensorBoard file that logs none of
//     an LLM trainer's columns (lengths, KL, clip ratio, group spread,
//     reward std, components), which is a classic RL curve (episodes).
func DetectKind(run *ingest.Run) Kind {
	if run == nil {
		return KindRewardspy
	}
	if k, err := ParseKind(run.Meta[ingest.MetaKind]); err == nil && k != "" {
		return k
	}
	for _, c := range []string{ingest.ColChosen, ingest.ColRejected, ingest.ColMargin, ingest.ColPrefAccuracy} {
		if run.Has(c) {
			return KindPreference
		}
	}
	switch run.Grain {
	case ingest.GrainEpisode:
		return KindEpisodes
	case ingest.GrainStep:
		if run.Format == "tfevents" && !hasLLMColumns(run) {
			// A TensorBoard file with a reward and nothing an LLM trainer
			// logs (lengths, KL, clip ratio, group spread, components) is a
			// classic RL learning curve (a SummaryWriter's Train-Reward).
			return KindEpisodes
		}
		return KindPolicy
	}
	return KindRewardspy
}

// hasLLMColumns reports whether run has a column only LLM policy trainers
// log: response length, KL, clip ratio, zero-spread share, reward std or a
// reward component.
func hasLLMColumns(run *ingest.Run) bool {
	for _, c := range []string{ingest.ColLength, ingest.ColKL, ingest.ColClipRatio, ingest.ColZeroStdFrac, ingest.ColRewardStd} {
		if run.Has(c) {
			return true
		}
	}
	return len(run.Components()) > 0
}

// Noun is how human output names the kind: "reward-call log",
// "policy-optimisation log", "preference-optimisation log", "RL episode log".
func (k Kind) Noun() string {
	switch k {
	case KindPolicy:
		return "policy-optimisation log"
	case KindPreference:
		return "preference-optimisation log"
	case KindEpisodes:
		return "RL episode log"
	}
	return "reward-call log"
}

// LengthLabel is the axis label of the length column: "episode length
// (steps)" for classic RL, "response length (tokens)" otherwise.
func (k Kind) LengthLabel() string {
	if k == KindEpisodes {
		return "episode length (steps)"
	}
	return "response length (tokens)"
}

// RewardLabel is the axis label of the reward column.
func (k Kind) RewardLabel() string {
	switch k {
	case KindEpisodes:
		return "episode return"
	case KindPreference:
		return "reward margin (chosen - rejected)"
	}
	return "reward"
}

// StepLabel is the axis label of the run's own step column: "episode",
// "trainer step" or "record" (reward calls).
func (k Kind) StepLabel() string {
	switch k {
	case KindEpisodes:
		return "episode"
	case KindPolicy, KindPreference:
		return "trainer step"
	}
	return "record"
}
