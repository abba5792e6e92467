package analysis_test

import (
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// 40 values make 8 blocks of w = 5. With no noise inside or between most
// blocks the drop threshold is half the gain: best 10, start 0, D = 5.
func TestCollapse(t *testing.T) {
	cases := []struct {
		name   string
		blocks []float64
		status analysis.Status
		msg    string
	}{
		{"falls and stays down", []float64{0, 0, 10, 10, 10, 2, 2, 2}, analysis.StatusAlert,
			"Collapse: the episode return fell from its best level 10 to 2 and stays down (last 2)."},
		{"falls and recovers", []float64{0, 0, 10, 10, 2, 2, 10, 10}, analysis.StatusWarning,
			"Collapse and recovery: the episode return fell from 10 to 2 for 10 episodes, then came back (last 10)."},
		{"one-block dip", []float64{0, 0, 10, 10, 2, 10, 10, 10}, analysis.StatusOK,
			"No collapse: the episode return holds its best level."},
		// Loses 30% of the gain at the end: a small final dip.
		{"small final dip", []float64{0, 0, 10, 10, 10, 10, 7, 7}, analysis.StatusOK,
			"No collapse: the episode return holds its best level."},
		{"never moves", []float64{3, 3, 3, 3, 3, 3, 3, 3}, analysis.StatusOK,
			"No collapse: the episode return never moves."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			class := analysis.Class("")
			if c.status.Actionable() {
				class = analysis.ClassPathology
			}
			res, _ := h6Check(t, analysis.DetCollapse, h6RewardRun(ingest.GrainEpisode, h6Blocks(5, c.blocks...)), analysis.Config{}, c.status, class)
			if res.Message != c.msg {
				t.Errorf("message %q, want %q", res.Message, c.msg)
			}
		})
	}
}

func TestCollapseEvidence(t *testing.T) {
	run := h6RewardRun(ingest.GrainStep, h6Blocks(5, 0, 0, 10, 10, 10, 2, 2, 2))
	res, alerts := h6Check(t, analysis.DetCollapse, run, analysis.Config{}, analysis.StatusAlert, analysis.ClassPathology)
	h6Num(t, res, map[string]float64{"best_level": 10, "start_level": 0, "end_level": 2, "low_level": 2,
		"block": 5, "drop_threshold": 5, "noise_se": 0, "best_from_step": 10, "best_to_step": 14,
		"low_from_step": 25, "low_to_step": 29})
	ev := res.Evidence
	if ev.FromStep != 25 || ev.ToStep != 39 || ev.FromRecord != 26 || ev.ToRecord != 40 {
		t.Errorf("range %+v", ev)
	}
	// Alerted once the drop has lasted P = 2 blocks: row 34.
	if len(alerts) != 1 || alerts[0].RunStep != 34 {
		t.Errorf("alerts %+v", alerts)
	}
	want := "The reward fell from its best 5-step level 10 (steps 10-14) to 2 (steps 25-29) and stayed below 5 for 15 steps (25-39); the last level is 2."
	if ev.Reason != want {
		t.Errorf("reason %q", ev.Reason)
	}
	// Noise inside the blocks raises the bar: a 0-10-2 pattern whose
	// values swing by ±20 is not a collapse.
	noisy := h6Blocks(5, 0, 0, 10, 10, 10, 2, 2, 2)
	for i := range noisy {
		noisy[i] += 20 * h4Noise(i)
	}
	h6Check(t, analysis.DetCollapse, h6RewardRun(ingest.GrainStep, noisy), analysis.Config{}, analysis.StatusOK, "")
	if res, _ := h4Detector(t, analysis.DetCollapse).Detect(h6RewardRun(ingest.GrainStep, noisy[:39]), analysis.Config{}); res.Status != analysis.StatusInsufficient {
		t.Errorf("39 values: %s", res.Status)
	}
}

func TestCollapseRealRuns(t *testing.T) {
	// Cladett dVRLPickRail: best 100-episode mean -32.8 (episodes 500-599),
	// -618.5 at 1500-1599, back to -71 at the end: a collapse that
	// recovered.
	run := h6Real(t, "Cladett__rl-baselines3-zoo/logs__her__dVRLPickRail-v0_2__0.monitor.csv", ingest.Options{})
	res, alerts := h6Check(t, analysis.DetCollapse, run, analysis.Config{}, analysis.StatusWarning, analysis.ClassPathology)
	n := res.Evidence.Numbers
	if n["best_level"] > -32.8 || n["best_level"] < -32.82 || n["low_level"] > -618.4 || n["low_level"] < -618.6 || n["best_from_step"] != 500 || n["low_from_step"] != 1500 {
		t.Errorf("numbers %v", n)
	}
	if a := alerts[0].RunStep; a < 1300 || a > 1500 {
		t.Errorf("alert at episode %v", a)
	}
	// Dkurkcu energy penalty: the return peaks at 8.39 (episodes 100-199)
	// and stays near 5 for the last 7,000 episodes, while the success
	// column stays ~0.90: the task is still solved, the shaped return is
	// not. A persistent drop, so a collapse (a pathology, never hacking).
	run = h6Real(t, "Dkurkcu__energy_penalty_applications_final/logs__monitor.csv", ingest.Options{})
	res, _ = h6Check(t, analysis.DetCollapse, run, analysis.Config{}, analysis.StatusAlert, analysis.ClassPathology)
	if res.Evidence.FromStep > 700 {
		t.Errorf("drop from episode %v", res.Evidence.FromStep)
	}
	for _, f := range []string{
		// best decile 384.6, last 351.1: a small final dip.
		"rishabhg97__robust-cartpole/logs__monitor.csv",
		"MoniFarsang__ppo-clipping-approaches/logs__ppo__HopperBulletEnv-v0_1__0.monitor.csv",
		"enfff__rl-hopper/monitor.csv",
		"alexchilton__CAS_NLP_MODULE4_GRPO/lara__output_4090__wordle-grpo__checkpoint-400__trainer_state.json",
		"eric-haibin-lin__verl-data/gsm8k__Qwen2.5-0.5B-bsz256_2-prompt512-resp256-0.538.log",
		"yushengsu-thu__verl_training_log/gsm8k__grpo_run_deepseek7b_llm.log",
		"aaravarora01__agent-memory-redteam/trainer_state.json",
		"Sunshine535__nips-grpo-dynamics/results__gates_1_2__logs__gate2_rho1.00_seed42.log",
	} {
		t.Run(f, func(t *testing.T) {
			h6Check(t, analysis.DetCollapse, h6Real(t, f, ingest.Options{}), analysis.Config{}, analysis.StatusOK, "")
		})
	}
}
