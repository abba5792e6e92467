package analysis_test

import (
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

func TestNoLearning(t *testing.T) {
	n := 50
	noise := func(i int) float64 { return h4Noise(i) }
	cases := []struct {
		name   string
		grain  ingest.Grain
		r      []float64
		status analysis.Status
		msg    string
	}{
		{"return -100 on every episode", ingest.GrainEpisode, h4Seq(n, func(int) float64 { return -100 }),
			analysis.StatusAlert, "No learning: the episode return is -100 on every episode."},
		{"reward 0 on every step", ingest.GrainStep, h4Seq(n, func(int) float64 { return 0 }),
			analysis.StatusAlert, "No learning: the reward is 0 on every step."},
		{"flat noise", ingest.GrainStep, h4Seq(n, func(i int) float64 { return 0.5 + 0.1*noise(i) }),
			analysis.StatusWarning, ""},
		// Flat for 60% of the run, then it takes off: learning.
		{"late take-off", ingest.GrainEpisode, h4Seq(n, func(i int) float64 {
			if i < 30 {
				return 10 + 2*noise(i)
			}
			return 10 + 4*float64(i-30) + 2*noise(i)
		}), analysis.StatusOK, "The episode return improves over the run."},
		{"steady rise", ingest.GrainStep, h4Seq(n, func(i int) float64 { return 0.2 + 0.01*float64(i) + 0.05*noise(i) }),
			analysis.StatusOK, "The reward improves over the run."},
		// A falling reward is the collapse detector's business.
		{"falls", ingest.GrainStep, h4Seq(n, func(i int) float64 { return 1 - 0.01*float64(i) + 0.05*noise(i) }),
			analysis.StatusOK, "The reward moves (it fell; see collapse)."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			class := analysis.Class("")
			if c.status.Actionable() {
				class = analysis.ClassPathology
			}
			res, _ := h6Check(t, analysis.DetNoLearning, h6RewardRun(c.grain, c.r), analysis.Config{}, c.status, class)
			if c.msg != "" && res.Message != c.msg {
				t.Errorf("message %q, want %q", res.Message, c.msg)
			}
		})
	}
}

// Exact numbers: 0, 1, 0, 1, ... (20 values). The first fifth (4 values)
// has mean 0.5; every later tenth (2 values) has mean 0.5 too: Welch t = 0,
// one-sided p = 0.5. Flat.
func TestNoLearningEvidence(t *testing.T) {
	r := h4Seq(20, func(i int) float64 { return float64(i % 2) })
	res, alerts := h6Check(t, analysis.DetNoLearning, h6RewardRun(ingest.GrainStep, r), analysis.Config{}, analysis.StatusWarning, analysis.ClassPathology)
	h6Num(t, res, map[string]float64{"n": 20, "early_mean": 0.5, "late_mean": 0.5, "best_tenth_mean": 0.5,
		"best_tenth_p": 0.5, "best_tenth": 3, "min": 0, "max": 1})
	if res.Evidence.FromStep != 0 || res.Evidence.ToStep != 19 || alerts[0].RunStep != 19 {
		t.Errorf("range %v-%v, alert at %v", res.Evidence.FromStep, res.Evidence.ToStep, alerts[0].RunStep)
	}
	if res.Message != "No learning: the reward stays flat over the run (0.5 -> 0.5)." {
		t.Errorf("message %q", res.Message)
	}
	// 19 values: too few.
	d := h4Detector(t, analysis.DetNoLearning)
	if res, _ := d.Detect(h6RewardRun(ingest.GrainStep, r[:19]), analysis.Config{}); res.Status != analysis.StatusInsufficient {
		t.Errorf("19 values: %s", res.Status)
	}
}

func TestNoLearningRealRuns(t *testing.T) {
	for _, c := range []struct {
		file   string
		status analysis.Status
	}{
		// r = -100 on all 1,326 episodes.
		{"Cladett__rl-baselines3-zoo/logs__her__dVRLPick-v0_1__0.monitor.csv", analysis.StatusAlert},
		// reward 0 on all 50 steps.
		{"Sunshine535__nips-grpo-dynamics/results__csd_pilot__pilot2_adq_collapse__log_adq_seed42.txt", analysis.StatusAlert},
		// Wordle GRPO, 400 steps, decile means -0.257 ... -0.268.
		{"alexchilton__CAS_NLP_MODULE4_GRPO/lara__output_4090__wordle-grpo__checkpoint-400__trainer_state.json", analysis.StatusWarning},
		// Late take-offs and ordinary learning curves.
		{"MoniFarsang__ppo-clipping-approaches/logs__ppo__HopperBulletEnv-v0_1__0.monitor.csv", analysis.StatusOK},
		{"MoniFarsang__ppo-clipping-approaches/logs__ppo__HopperBulletEnv-v0_1__HopperBulletEnv-v0__PPO_1__events.out.tfevents.1611600981.042104f03417.9660.0", analysis.StatusOK},
		{"rishabhg97__robust-cartpole/logs__monitor.csv", analysis.StatusOK},
		{"enfff__rl-hopper/monitor.csv", analysis.StatusOK},
		{"surbhi1944__stable-baselines3_PR1261/runs__Jan07_19-24-24_surabhi-Vostro-3559_sac-popsan-Walker2d-v3-encoder-dim-10-decoder-dim-10_0__events.out.tfevents.1673099664.surabhi-Vostro-3559.3650.0", analysis.StatusOK},
		{"Bokai-Ji__ConceptPPO/wandb__run-20230723_121755-61qqbz3a/files/events.out.tfevents.1690085878.autodl-container-71644691e8-32af8c29.1214.0", analysis.StatusOK},
		{"eric-haibin-lin__verl-data/gsm8k__Qwen2.5-0.5B-bsz256_2-prompt512-resp256-0.538.log", analysis.StatusOK},
		{"yushengsu-thu__verl_training_log/gsm8k__grpo_run_deepseek7b_llm.log", analysis.StatusOK},
	} {
		t.Run(c.file, func(t *testing.T) {
			run := h6Real(t, c.file, ingest.Options{})
			class := analysis.Class("")
			if c.status.Actionable() {
				class = analysis.ClassPathology
			}
			h6Check(t, analysis.DetNoLearning, run, analysis.Config{}, c.status, class)
		})
	}
	// Sunshine535 gate2: alive but noisy (0.356 -> 0.444 first/last tenth,
	// 178/200 steps non-zero). Never "constant"; whether it counts as flat
	// is a statement about its noise, logged here.
	t.Run("gate2", func(t *testing.T) {
		run := h6Real(t, "Sunshine535__nips-grpo-dynamics/results__gates_1_2__logs__gate2_rho1.00_seed42.log", ingest.Options{})
		res, _ := h4Detector(t, analysis.DetNoLearning).Detect(run, analysis.Config{})
		if res.Status == analysis.StatusAlert {
			t.Errorf("gate2 called constant: %q", res.Message)
		}
		t.Logf("gate2: %s %q: %s", res.Status, res.Message, res.Evidence.Reason)
	})
}
