package analysis_test

import (
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

func TestSaturation(t *testing.T) {
	half := func(a, b float64) []float64 { return append(h6Blocks(10, a), h6Blocks(10, b)...) }
	cases := []struct {
		name   string
		r      []float64
		cfg    analysis.Config
		status analysis.Status
		msg    string
	}{
		{"pinned at 1", half(0.5, 0.97), analysis.Config{}, analysis.StatusWarning,
			"Saturation: the score is at its ceiling (>= 0.95) on 100% of the steps from step 10 on."},
		{"high but under the ceiling", half(0.5, 0.9), analysis.Config{}, analysis.StatusOK, "The score is not pinned at its maximum."},
		{"a percentage", half(40, 97), analysis.Config{}, analysis.StatusWarning,
			"Saturation: the score is at its ceiling (>= 95) on 100% of the steps from step 10 on."},
		{"no known maximum", half(-1, 2), analysis.Config{}, analysis.StatusNotApplicable, ""},
		{"--max-reward", half(-1, 2), analysis.Config{MaxReward: 2, HasMaxReward: true}, analysis.StatusWarning,
			"Saturation: the score is at its ceiling (>= 1.90) on 100% of the steps from step 10 on."},
		// 7 of the last 10 at the ceiling: 70% < 80%.
		{"mostly but not pinned", append(h6Blocks(10, 0.5), 1, 1, 1, 0.6, 1, 1, 0.6, 1, 0.6, 1), analysis.Config{}, analysis.StatusOK, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := h4Detector(t, analysis.DetSaturation)
			run := h6RewardRun(ingest.GrainStep, c.r)
			if c.status == analysis.StatusNotApplicable {
				if res, _ := d.Detect(run, c.cfg); res.Status != c.status {
					t.Errorf("%s", res.Status)
				}
				return
			}
			class := analysis.Class("")
			if c.status.Actionable() {
				class = analysis.ClassEarlyWarning
			}
			res, alerts := h6Check(t, analysis.DetSaturation, run, c.cfg, c.status, class)
			if c.msg != "" && res.Message != c.msg {
				t.Errorf("message %q, want %q", res.Message, c.msg)
			}
			if c.status.Actionable() {
				h6Num(t, res, map[string]float64{"onset_step": 10, "share_after_onset": 1, "run_share_after_onset": 0.5, "late_share": 1})
				if alerts[0].RunStep != 10 {
					t.Errorf("alert at %v", alerts[0].RunStep)
				}
			}
		})
	}
	// Episode returns are not a batch-mean score.
	if h4Detector(t, analysis.DetSaturation).Applies(h6RewardRun(ingest.GrainEpisode, half(0.5, 1)), analysis.Config{}) {
		t.Error("applies to an episode log")
	}
	if res, _ := h4Detector(t, analysis.DetSaturation).Detect(h6RewardRun(ingest.GrainStep, half(0.5, 1)[:19]), analysis.Config{}); res.Status != analysis.StatusInsufficient {
		t.Errorf("19 steps: %s", res.Status)
	}
}

func TestSaturationRealRuns(t *testing.T) {
	// verl GRPO: critic/score/mean >= 0.95 from step 131 on.
	run := h6Real(t, "yushengsu-thu__verl_training_log/gsm8k__grpo_run_deepseek7b_llm.log", ingest.Options{})
	res, _ := h6Check(t, analysis.DetSaturation, run, analysis.Config{}, analysis.StatusWarning, analysis.ClassEarlyWarning)
	if n := res.Evidence.Numbers; n["onset_step"] != 131 || n["share_after_onset"] < 0.95 {
		t.Errorf("numbers %v", n)
	}
	// The PPO sibling hovers at 0.95: 65% of its last half is at or above.
	run = h6Real(t, "yushengsu-thu__verl_training_log/gsm8k__ppo_run_deepseek7b_llm.log", ingest.Options{})
	h6Check(t, analysis.DetSaturation, run, analysis.Config{}, analysis.StatusOK, "")
	// Built to be hacked: 0.65 -> 0.996 by step 15.
	run = h6Real(t, "Rohanjain2312__grpo-reward-hacking-demo/results__baseline__metrics.jsonl",
		ingest.Options{Map: map[string]string{"reward": "train_reward", "reward_std": "train_reward_std"}})
	h6Check(t, analysis.DetSaturation, run, analysis.Config{}, analysis.StatusWarning, analysis.ClassEarlyWarning)
	for _, f := range []string{
		"eric-haibin-lin__verl-data/gsm8k__Qwen2.5-0.5B-bsz256_2-prompt512-resp256-0.538.log",
		"diqiuzhuanzhuan__verldata/run_logs__qwen2-7b_math.log",
	} {
		h6Check(t, analysis.DetSaturation, h6Real(t, f, ingest.Options{}), analysis.Config{}, analysis.StatusOK, "")
	}
	// A reward of 0.78 -> 1.3 has no known maximum.
	run = h6Real(t, "aaravarora01__agent-memory-redteam/modal_results__strict__stage1__train_metrics.jsonl", ingest.Options{})
	if res, _ := h4Detector(t, analysis.DetSaturation).Detect(run, analysis.Config{}); res.Status != analysis.StatusNotApplicable {
		t.Errorf("stage1: %s %q", res.Status, res.Message)
	}
}
