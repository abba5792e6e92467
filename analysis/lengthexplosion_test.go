package analysis_test

import (
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

func h6LengthRun(length []float64) *ingest.Run {
	n := len(length)
	return h4Run(ingest.GrainStep, map[string][]float64{"step": h6Steps(n), "length": length,
		"reward": h4Seq(n, func(i int) float64 { return 0.5 })})
}

func TestLengthExplosion(t *testing.T) {
	cases := []struct {
		name   string
		length []float64
		status analysis.Status
		msg    string
	}{
		// E = median of the first 2 = 100, L = median of the last 4 = 300.
		{"triples and stays", h6Blocks(10, 100, 300), analysis.StatusAlert,
			"Length explosion: responses grew from 100 to 300 tokens from step 10 on."},
		{"x2.5 and stays", h6Blocks(10, 100, 250), analysis.StatusWarning,
			"Length explosion: responses grew from 100 to 250 tokens from step 10 on."},
		{"collapse to a tenth", h6Blocks(10, 50, 5), analysis.StatusAlert,
			"Length collapse: responses shrank from 50 to 5 tokens from step 10 on."},
		// 216 -> 152: a gentle decline.
		{"gentle decline", h6Blocks(10, 216, 152), analysis.StatusOK, "Response length stays near its earlier level."},
		// The late median doubles, but only half of the last values are
		// beyond the midpoint: spikes, not a new level.
		{"spikes", append(h6Blocks(16, 100), 300, 100, 100, 300), analysis.StatusOK, "Response length stays near its earlier level."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			class := analysis.Class("")
			if c.status.Actionable() {
				class = analysis.ClassPathology
			}
			res, alerts := h6Check(t, analysis.DetLengthExplosion, h6LengthRun(c.length), analysis.Config{}, c.status, class)
			if res.Message != c.msg {
				t.Errorf("message %q, want %q", res.Message, c.msg)
			}
			if c.status.Actionable() && alerts[0].RunStep != 10 {
				t.Errorf("alert at %v", alerts[0].RunStep)
			}
		})
	}
	run := h6LengthRun(h6Blocks(10, 100, 300))
	run.SetColumn(ingest.ColClipRatio, h6Blocks(10, 0, 0.5))
	res, _ := h6Check(t, analysis.DetLengthExplosion, run, analysis.Config{}, analysis.StatusAlert, analysis.ClassPathology)
	h6Num(t, res, map[string]float64{"early_length": 100, "late_length": 300, "ratio": 3, "onset_step": 10, "clip_early": 0, "clip_late": 0.5})
	if res.Evidence.Reason != "Response length jumped from 100 to 300 tokens (x3.0) from step 10 on and stayed there; the share of answers cut at the max length went 0 -> 0.5." {
		t.Errorf("reason %q", res.Evidence.Reason)
	}
	// Episode length is not response length; growing episodes are learning.
	if h4Detector(t, analysis.DetLengthExplosion).Applies(run, analysis.Config{Kind: analysis.KindEpisodes}) {
		t.Error("applies to an episode log")
	}
	if res, _ := h4Detector(t, analysis.DetLengthExplosion).Detect(h6LengthRun(h6Blocks(3, 100, 300, 300)), analysis.Config{}); res.Status != analysis.StatusInsufficient {
		t.Errorf("9 steps: %s", res.Status)
	}
}

func TestLengthExplosionRealRuns(t *testing.T) {
	// qwen2-7b math: response_length/mean 220 -> 610 at steps ~156-165,
	// clip ratio 0 -> 0.45.
	run := h6Real(t, "diqiuzhuanzhuan__verldata/run_logs__qwen2-7b_math.log", ingest.Options{})
	res, _ := h6Check(t, analysis.DetLengthExplosion, run, analysis.Config{}, analysis.StatusWarning, analysis.ClassPathology)
	if s := res.Evidence.Numbers["onset_step"]; s < 150 || s > 170 {
		t.Errorf("onset at step %v", s)
	}
	// DAPO-VLM: mean length 53.4 at step 10, then 2.2-5.1.
	run = h6Real(t, "JuncyLu__trl_DAPO/grpo-Qwen2.5-VL-3B-Instruct__runs__Oct22_12-05-31_instance-20251002-112605__events.out.tfevents.1761134743.instance-20251002-112605.176000.0", ingest.Options{})
	res, _ = h6Check(t, analysis.DetLengthExplosion, run, analysis.Config{}, analysis.StatusAlert, analysis.ClassPathology)
	if res.Evidence.Numbers["onset_step"] != 20 {
		t.Errorf("onset %v", res.Evidence.Numbers["onset_step"])
	}
	for _, f := range []string{
		"eric-haibin-lin__verl-data/gsm8k__Qwen2.5-0.5B-bsz256_2-prompt512-resp256-0.538.log",
		"yushengsu-thu__verl_training_log/gsm8k__grpo_run_deepseek7b_llm.log",
		"Rusheel86__Chaos-Economy/trainer_state.json",
		"alexchilton__CAS_NLP_MODULE4_GRPO/lara__output_4090__wordle-grpo__checkpoint-400__trainer_state.json",
	} {
		h6Check(t, analysis.DetLengthExplosion, h6Real(t, f, ingest.Options{}), analysis.Config{}, analysis.StatusOK, "")
	}
}
