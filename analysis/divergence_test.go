package analysis_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// h4EvalRun: 51 step rows (steps 0..50), reward r(step), and an eval metric
// logged every 10 steps.
func h4EvalRun(name string, r func(s float64) float64, e func(s float64) float64) *ingest.Run {
	steps := h4Seq(51, func(i int) float64 { return float64(i) })
	ev := h4Seq(51, func(i int) float64 {
		if i%10 != 0 {
			return math.NaN()
		}
		return e(float64(i))
	})
	return h4Run(ingest.GrainStep, map[string][]float64{"step": steps,
		"reward": h4Seq(51, func(i int) float64 { return r(float64(i)) }), ingest.EvalPrefix + name: ev})
}

func TestDivergence(t *testing.T) {
	d := h4Detector(t, analysis.DetDivergence)
	rising := func(s float64) float64 { return 0.5 + 0.008*s + 0.01*h4Noise(int(s)) }
	// A code-generation run: the reward it was trained on climbs
	// 0.21 -> 0.72 while correctness, the true objective, goes
	// 0.001 -> 0.007: nothing solved.
	codeReward := func(s float64) float64 { return 0.21 + 0.0102*s + 0.02*h4Noise(int(s)) }
	correctness := func(s float64) float64 { return 0.001 + 0.00012*s }
	cases := []struct {
		name    string
		run     *ingest.Run
		cfg     analysis.Config
		status  analysis.Status
		class   analysis.Class
		alertAt []float64
	}{
		{"loss rises with reward", h4EvalRun("loss", rising, func(s float64) float64 { return 1 + 0.01*s }),
			analysis.Config{}, analysis.StatusAlert, analysis.ClassHacking, []float64{40}},
		{"accuracy flat", h4EvalRun("acc", rising, func(s float64) float64 { return 0.6 + 0.002*h4Noise(int(s)+3) }),
			analysis.Config{}, analysis.StatusWarning, analysis.ClassHacking, []float64{40}},
		{"correctness near 0 while the reward climbs", h4EvalRun("correctness", codeReward, correctness),
			analysis.Config{}, analysis.StatusWarning, analysis.ClassHacking, []float64{40}},
		// Already at the best end of [0, 1]: it cannot rise, so no "flat".
		{"metric pinned at 1", h4EvalRun("distinct_2", rising, func(s float64) float64 { return 0.997 + 0.002*h4Noise(int(s)+5) }),
			analysis.Config{}, analysis.StatusOK, "", nil},
		{"accuracy keeps up", h4EvalRun("acc", rising, func(s float64) float64 { return 0.3 + 0.006*s + 0.005*h4Noise(int(s)) }),
			analysis.Config{}, analysis.StatusOK, "", nil},
		{"loss falls as it should", h4EvalRun("loss", rising, func(s float64) float64 { return 2 - 0.02*s }),
			analysis.Config{}, analysis.StatusOK, "", nil},
		{"train flat, eval falls", h4EvalRun("acc", func(s float64) float64 { return 0.5 + 0.01*h4Noise(int(s)) },
			func(s float64) float64 { return 0.9 - 0.01*s }), analysis.Config{}, analysis.StatusOK, "", nil},
		{"user says wer is lower-better", h4EvalRun("wer", rising, func(s float64) float64 { return 0.1 + 0.004*s }),
			analysis.Config{EvalLowerBetter: []string{"eval.wer"}}, analysis.StatusAlert, analysis.ClassHacking, []float64{40}},
		{"wer without the flag reads as improving", h4EvalRun("wer", rising, func(s float64) float64 { return 0.1 + 0.004*s }),
			analysis.Config{}, analysis.StatusOK, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !d.Applies(c.run, c.cfg) {
				t.Fatal("does not apply")
			}
			res, alerts := d.Detect(c.run, c.cfg)
			if res.Status != c.status || res.Class != c.class {
				t.Fatalf("status %s %s %q (%v)", res.Status, res.Class, res.Message, res.Evidence)
			}
			if len(alerts) != len(c.alertAt) {
				t.Fatalf("alerts %+v, want at %v", alerts, c.alertAt)
			}
			for i, a := range alerts {
				if a.RunStep != c.alertAt[i] {
					t.Errorf("alert at %v, want %v", a.RunStep, c.alertAt[i])
				}
			}
		})
	}
}

// The code-generation case in numbers: absolute change on [0, 1] scores.
func TestDivergenceBoundedScore(t *testing.T) {
	d := h4Detector(t, analysis.DetDivergence)
	run := h4EvalRun("correctness", func(s float64) float64 { return 0.21 + 0.0102*s },
		func(s float64) float64 { return 0.001 + 0.00012*s })
	res, _ := d.Detect(run, analysis.Config{})
	n := res.Evidence.Numbers
	// Train early: steps 0..5 (up to half way to the 2nd evaluation),
	// mean 0.21 + 0.0102*2.5; late: steps 41..50, mean 0.21 + 0.0102*45.5.
	want := map[string]float64{"train_start": 0.2355, "train_end": 0.6741, "train_gain": 0.4386,
		"eval_start": 0.001, "eval_end": 0.007, "eval_gain": 0.006, "eval_scale": 1, "train_scale": 1,
		"gap_start": 0.2345, "gap_end": 0.6671}
	for k, w := range want {
		if math.Abs(n[k]-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", k, n[k], w)
		}
	}
	if res.Status != analysis.StatusWarning || res.Message != "Train reward rising while held-out 'correctness' stays flat (0.001 -> 0.007)." {
		t.Errorf("%s %q", res.Status, res.Message)
	}
}

// Exact numbers on a noiseless case: reward = 0.5 + 0.01 s, loss = 1 + 0.02 s.
func TestDivergenceEvidence(t *testing.T) {
	d := h4Detector(t, analysis.DetDivergence)
	run := h4EvalRun("loss", func(s float64) float64 { return 0.5 + 0.01*s }, func(s float64) float64 { return 1 + 0.02*s })
	res, _ := d.Detect(run, analysis.Config{})
	ev := res.Evidence
	// 6 evaluations: k = 1. Train early = steps 0..5, late = steps 41..50.
	// Loss is unbounded: its scale is its range (1); y = -loss falls by
	// the whole range. Noise: successive differences of -0.2, so
	// σ = sqrt(5*0.04/10); bound = -1 + t(0.975, 4) σ sqrt(2).
	want := map[string]float64{"train_start": 0.525, "train_end": 0.955, "train_gain": 0.43,
		"eval_start": 1, "eval_end": 2, "eval_gain": -1, "eval_scale": 1, "train_scale": 1,
		"eval_points": 6, "edge_points": 1,
		"eval_gain_upper95": -1 + 2.7764451051977987*math.Sqrt(0.02)*math.Sqrt(2)}
	for k, w := range want {
		if g := ev.Numbers[k]; math.Abs(g-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
	if _, ok := ev.Numbers["gap_start"]; ok {
		t.Error("no gap for a loss")
	}
	if ev.FromStep != 0 || ev.ToStep != 50 || ev.FromRecord != 1 || ev.ToRecord != 51 {
		t.Errorf("range %+v", ev)
	}
	if res.Message != "Train reward rising while held-out 'loss' gets worse (1 -> 2)." || res.Class != analysis.ClassHacking {
		t.Errorf("message %q %s", res.Message, res.Class)
	}
}

// Which metrics are gold: --gold, then well-known names, then the rest.
func TestDivergenceGoldChoice(t *testing.T) {
	d := h4Detector(t, analysis.DetDivergence)
	rising := func(s float64) float64 { return 0.2 + 0.01*s + 0.01*h4Noise(int(s)) }
	every10 := func(f func(s float64) float64) []float64 {
		return h4Seq(51, func(i int) float64 {
			if i%10 != 0 {
				return math.NaN()
			}
			return f(float64(i))
		})
	}
	keepsUp := every10(func(s float64) float64 { return 0.2 + 0.009*s })
	flat := every10(func(s float64) float64 { return 0.3 + 0.002*h4Noise(int(s)) })
	falls := every10(func(s float64) float64 { return 0.6 - 0.004*s })
	mk := func(cols map[string][]float64) *ingest.Run {
		cols["step"] = h4Seq(51, func(i int) float64 { return float64(i) })
		cols["reward"] = h4Seq(51, func(i int) float64 { return rising(float64(i)) })
		return h4Run(ingest.GrainStep, cols)
	}
	cases := []struct {
		name   string
		run    *ingest.Run
		gold   []string
		status analysis.Status
		class  analysis.Class
		msg    string
	}{
		// The held-out reward is the proxy on other prompts; a test score
		// is gold and wins.
		{"test score over held-out reward", mk(map[string][]float64{"eval.reward": keepsUp, "eval.test_score": flat}), nil,
			analysis.StatusWarning, analysis.ClassHacking, "Train reward rising while held-out 'test_score' stays flat (0.3 -> 0.301)."},
		{"held-out reward alone", mk(map[string][]float64{"eval.reward": keepsUp}), nil,
			analysis.StatusOK, "", "Held-out metrics keep up with the train reward (reward)."},
		{"--gold names a non-eval column", mk(map[string][]float64{"eval.reward": keepsUp, "extra.correctness": flat}), []string{"correctness"},
			analysis.StatusWarning, analysis.ClassHacking, "Train reward rising while held-out 'correctness' stays flat (0.3 -> 0.301)."},
		{"--gold with the eval. prefix", mk(map[string][]float64{"eval.reward": flat, "eval.acc": keepsUp}), []string{"eval.reward"},
			analysis.StatusWarning, analysis.ClassHacking, "Train reward rising while held-out 'reward' stays flat (0.3 -> 0.301)."},
		// One gold set keeps up: the run learns the task.
		{"one keeps up, one flat", mk(map[string][]float64{"eval.acc_a": keepsUp, "eval.acc_b": flat}), nil,
			analysis.StatusOK, "", "Held-out 'acc_a' keeps up with the train reward ('acc_b' stays flat)."},
		{"one keeps up, one falls", mk(map[string][]float64{"eval.acc_a": keepsUp, "eval.acc_b": falls}), nil,
			analysis.StatusWarning, analysis.ClassEarlyWarning, "Held-out 'acc_b' got worse while 'acc_a' keeps up with the train reward."},
		{"both fall", mk(map[string][]float64{"eval.acc_a": falls, "eval.acc_b": falls}), nil,
			analysis.StatusAlert, analysis.ClassHacking, "Train reward rising while held-out 'acc_a' gets worse (0.6 -> 0.4)."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := analysis.Config{Gold: c.gold}
			if !d.Applies(c.run, cfg) {
				t.Fatal("does not apply")
			}
			res, _ := d.Detect(c.run, cfg)
			if res.Status != c.status || res.Class != c.class || res.Message != c.msg {
				t.Errorf("%s %s %q, want %s %s %q", res.Status, res.Class, res.Message, c.status, c.class, c.msg)
			}
		})
	}
	// Diagnostics are never gold.
	diag := mk(map[string][]float64{"eval.kl": flat, "eval.entropy": flat, "eval.clip_ratio/high_mean": flat, "eval.reward_std": flat})
	if d.Applies(diag, analysis.Config{}) {
		t.Error("diagnostics only: should not apply")
	}
}

func TestDivergenceNotApplicable(t *testing.T) {
	d := h4Detector(t, analysis.DetDivergence)
	run := h4EvalRun("completion_tokens", func(s float64) float64 { return s }, func(s float64) float64 { return 40 - s/10 })
	if d.Applies(run, analysis.Config{}) {
		t.Error("a length metric is not a held-out quality metric")
	}
	short := h4EvalRun("acc", func(s float64) float64 { return s }, func(s float64) float64 { return 1 })
	ev, _ := short.Column("eval.acc")
	ev[40], ev[50] = math.NaN(), math.NaN() // 4 evaluations left
	if res, _ := d.Detect(short, analysis.Config{}); res.Status != analysis.StatusInsufficient {
		t.Errorf("4 evaluations: %s", res.Status)
	}
}

func TestEvalLowerIsBetter(t *testing.T) {
	for name, want := range map[string]bool{"loss": true, "val_loss": true, "perplexity": true, "ppl": true,
		"error_rate": true, "Perplexity": true, "acc": false, "test_score/openai/gsm8k": false, "wer": false} {
		if got := analysis.EvalLowerIsBetter(name, nil); got != want {
			t.Errorf("%s: %v", name, got)
		}
	}
	if !analysis.EvalLowerIsBetter("wer", []string{"wer"}) {
		t.Error("user list")
	}
}

// BenchmarkBatchDetectors runs the five batch detectors of this file set on
// a 10,000-step run with every column they read.
func BenchmarkBatchDetectors(b *testing.B) {
	n := 10_000
	steps := h4Seq(n, func(i int) float64 { return float64(i) })
	run := h4Run(ingest.GrainStep, map[string][]float64{
		"step":          steps,
		"reward":        h4Seq(n, func(i int) float64 { return 0.5 + 0.00003*float64(i) + 0.05*h4Noise(i) }),
		"length":        h4Seq(n, func(i int) float64 { return 200 + 20*h4Noise(i+1) }),
		"clip_ratio":    h4Seq(n, func(i int) float64 { return 0.01 }),
		"zero_std_frac": h4Seq(n, func(i int) float64 { return 0.2 }),
		"component.a":   h4Seq(n, func(i int) float64 { return 0.5 }),
		"component.b":   h4Seq(n, func(i int) float64 { return 0 }),
		"eval.acc": h4Seq(n, func(i int) float64 {
			if i%100 != 0 {
				return math.NaN()
			}
			return 0.6
		}),
	})
	var dets []analysis.Detector
	for _, name := range []string{analysis.DetGroup, analysis.DetDivergence, analysis.DetLengthCoupling, analysis.DetTruncation, analysis.DetDeadComponent} {
		dets = append(dets, h4Detector(b, name))
	}
	for b.Loop() {
		for _, d := range dets {
			d.Detect(run, analysis.Config{})
		}
	}
}

// Held-out metrics whose names say loss, perplexity or error count as
// lower-is-better; others can be declared with Config.EvalLowerBetter
// (reportgen audit --eval-lower-better wer).
func ExampleEvalLowerIsBetter() {
	fmt.Println(analysis.EvalLowerIsBetter("perplexity", nil))
	fmt.Println(analysis.EvalLowerIsBetter("test_score/openai/gsm8k", nil))
	fmt.Println(analysis.EvalLowerIsBetter("wer", []string{"wer"}))
	// Output:
	// true
	// false
	// true
}

func TestDivergenceRealRuns(t *testing.T) {
	cases := []struct {
		file   string
		opt    ingest.Options
		status analysis.Status
		class  analysis.Class
		msg    string
	}{
		// GRPO: train 0.73 -> 0.97 from step 10 on, held-out GSM8K
		// 0.65 -> 0.70; the gap train - held-out triples (0.085 -> 0.28).
		{"yushengsu-thu__verl_training_log/gsm8k__grpo_run_deepseek7b_llm.log", ingest.Options{},
			analysis.StatusWarning, analysis.ClassHacking, "Train reward rising while held-out 'test_score/openai/gsm8k' stays flat (0.648 -> 0.697)."},
		// The PPO sibling: train 0.69 -> 0.96, held-out 0.62 -> 0.70 (a
		// third of the train gain), gap 0.076 -> 0.26: the same finding.
		{"yushengsu-thu__verl_training_log/gsm8k__ppo_run_deepseek7b_llm.log", ingest.Options{},
			analysis.StatusWarning, analysis.ClassHacking, "Train reward rising while held-out 'test_score/openai/gsm8k' stays flat (0.616 -> 0.701)."},
		// Healthy: score 0.005 -> 0.69, held-out 0 -> 0.53.
		{"eric-haibin-lin__verl-data/gsm8k__Qwen2.5-0.5B-bsz256_2-prompt512-resp256-0.538.log", ingest.Options{},
			analysis.StatusOK, "", "Held-out metrics keep up with the train reward (test_score/openai/gsm8k)."},
		// Built to be hacked: train 0.66 -> 0.996, perplexity 4.5 -> 18.
		{"Rohanjain2312__grpo-reward-hacking-demo/results__baseline__metrics.jsonl",
			ingest.Options{Map: map[string]string{"reward": "train_reward", "reward_std": "train_reward_std"}},
			analysis.StatusAlert, analysis.ClassHacking, "Train reward rising while held-out 'perplexity' gets worse (4.47 -> 18.14)."},
		// MATH held-out drifts 0.51 -> 0.49 while GSM8K held-out keeps up
		// (0.22 -> 0.88): the run learns the task; not hacking.
		{"diqiuzhuanzhuan__verldata/run_logs__qwen2-7b_math.log", ingest.Options{},
			analysis.StatusOK, "", "Held-out 'openai/gsm8k/reward/mean@1' keeps up with the train reward ('DigitalLearningGmbH/MATH-lighteval/reward/mean@1' stays flat)."},
		// Wordle stage 2: flat train reward, noisy eval on 8 points.
		{"alexchilton__CAS_NLP_MODULE4_GRPO/expert_guy__post_training_project__threestage__stage2_output__checkpoint-160__trainer_state.json", ingest.Options{},
			analysis.StatusOK, "", ""},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			run := h6Real(t, c.file, c.opt)
			res, _ := h6Check(t, analysis.DetDivergence, run, analysis.Config{}, c.status, c.class)
			if c.msg != "" && res.Message != c.msg {
				t.Errorf("message %q, want %q", res.Message, c.msg)
			}
		})
	}
}
