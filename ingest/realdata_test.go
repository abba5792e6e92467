package ingest_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// rohanMap is how a user reads the Rohanjain2312 metrics.jsonl (custom
// keys): reportgen ... --map reward=train_reward,reward_std=train_reward_std.
var rohanMap = map[string]string{"reward": "train_reward", "reward_std": "train_reward_std"}

// TestRealData reads every file in ../shared/realdata (SOURCES.md says what
// each run is) and checks format, grain, row count and the columns that
// detectors need. A file added to realdata without a row here fails.
func TestRealData(t *testing.T) {
	dir := ingesttest.RealData(t)
	cases := []struct {
		file   string
		opt    ingest.Options
		format string
		grain  ingest.Grain
		rows   int
		cols   []string
	}{
		{"5ivatej__meta-hackathon/results__trainer_state.json", ingest.Options{}, "trl", ingest.GrainStep, 4,
			[]string{"step", "reward", "reward_std", "length", "zero_std_frac", "clip_ratio", "entropy",
				"component.future_reward_func", "component.think_format_reward_func", "extra.step_time"}},
		{"Dkurkcu__energy_penalty_applications_final/logs__monitor.csv", ingest.Options{}, "sb3-monitor", ingest.GrainEpisode, 7658,
			[]string{"reward", "length", "time", "extra.episode_energy", "extra.success"}},
		{"Rohanjain2312__grpo-reward-hacking-demo/results__baseline__metrics.jsonl", ingest.Options{Map: rohanMap}, "jsonl", ingest.GrainStep, 81,
			[]string{"step", "reward", "reward_std", "kl", "eval.perplexity", "eval.reward"}},
		{"Rusheel86__Chaos-Economy/trainer_state.json", ingest.Options{}, "trl", ingest.GrainStep, 40,
			[]string{"step", "reward", "reward_std", "length", "zero_std_frac", "clip_ratio", "kl",
				"component.diversity_reward_fn", "component.format_reward_fn", "component.oversight_reward_fn",
				"component.pnl_reward_fn", "component.risk_reward_fn", "extra.completion_length"}},
		{"Rusheel86__Chaos-Economy/training_logs.json", ingest.Options{}, "trl", ingest.GrainStep, 50,
			[]string{"step", "reward", "length", "clip_ratio", "component.news_alpha_reward_fn"}},
		{"aaravarora01__agent-memory-redteam/modal_results__strict__stage1__train_metrics.jsonl", ingest.Options{}, "jsonl", ingest.GrainStep, 250,
			[]string{"step", "reward", "extra.noop_penalty", "extra.retrieval_reward"}},
		{"aaravarora01__agent-memory-redteam/modal_results__strict__stage2__train_metrics.jsonl", ingest.Options{}, "jsonl", ingest.GrainStep, 150,
			[]string{"step", "reward", "extra.noop_penalty"}},
		{"aaravarora01__agent-memory-redteam/trainer_state.json", ingest.Options{}, "trl", ingest.GrainStep, 100,
			[]string{"step", "reward", "reward_std", "length", "zero_std_frac", "clip_ratio", "kl", "entropy",
				"component.FinancePoisonReward", "extra.step_time"}},
		{"diqiuzhuanzhuan__verldata/run_logs__qwen2-7b_math.log", ingest.Options{}, "verl", ingest.GrainStep, 211,
			[]string{"step", "reward", "length", "clip_ratio", "entropy",
				"eval.openai/gsm8k/reward/mean@1", "eval.DigitalLearningGmbH/MATH-lighteval/reward/mean@1"}},
		{"enfff__rl-hopper/monitor.csv", ingest.Options{}, "sb3-monitor", ingest.GrainEpisode, 828,
			[]string{"reward", "length", "time"}},
		{"eric-haibin-lin__verl-data/gsm8k__Qwen2.5-0.5B-bsz256_2-prompt512-resp256-0.538.log", ingest.Options{}, "verl", ingest.GrainStep, 435,
			[]string{"step", "reward", "length", "kl", "entropy", "eval.test_score/openai/gsm8k", "extra.critic/vf_loss"}},
		{"surbhi1944__stable-baselines3_PR1261/runs__Jan07_19-24-24_surabhi-Vostro-3559_sac-popsan-Walker2d-v3-encoder-dim-10-decoder-dim-10_0__events.out.tfevents.1673099664.surabhi-Vostro-3559.3650.0",
			ingest.Options{}, "tfevents", ingest.GrainStep, 522,
			[]string{"step", "time", "reward", "extra.sac-popsan-Walker2d-v3-encoder-dim-10-decoder-dim-10/Train-Reward"}},
		{"yushengsu-thu__verl_training_log/gsm8k__grpo_run_deepseek7b_llm.log", ingest.Options{}, "verl", ingest.GrainStep, 1120,
			[]string{"step", "reward", "length", "clip_ratio", "kl", "entropy", "eval.test_score/openai/gsm8k", "extra.actor/kl_coef"}},
		{"yushengsu-thu__verl_training_log/gsm8k__ppo_run_deepseek7b_llm.log", ingest.Options{}, "verl", ingest.GrainStep, 1120,
			[]string{"step", "reward", "length", "clip_ratio", "kl", "entropy", "eval.test_score/openai/gsm8k", "extra.critic/values/mean"}},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.file] = true
		t.Run(strings.SplitN(c.file, "__", 2)[0]+"/"+filepath.Base(c.file), func(t *testing.T) {
			run, err := ingest.ReadFile(filepath.Join(dir, c.file), c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if run.Format != c.format || run.Grain != c.grain || run.Len() != c.rows {
				t.Errorf("format %q grain %q rows %d; want %q %q %d", run.Format, run.Grain, run.Len(), c.format, c.grain, c.rows)
			}
			for _, col := range c.cols {
				if !run.Has(col) {
					t.Errorf("missing column %q (have %s)", col, strings.Join(run.Columns(), " "))
				}
			}
			if run.Skipped != 0 || len(run.Issues) != 0 {
				t.Errorf("skipped %d, issues %v", run.Skipped, run.Issues)
			}
			h4CheckRun(t, run)
		})
	}
	var files []string
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && info.Name() != "SOURCES.md" {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return nil
	})
	sort.Strings(files)
	for _, f := range files {
		if !covered[f] {
			t.Errorf("realdata file %s has no row in this table", f)
		}
	}
}

// TestRealDataValues spot-checks numbers SOURCES.md states.
func TestRealDataValues(t *testing.T) {
	dir := ingesttest.RealData(t)
	read := func(f string) *ingest.Run {
		run, err := ingest.ReadFile(filepath.Join(dir, f), ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	grpo := read("yushengsu-thu__verl_training_log/gsm8k__grpo_run_deepseek7b_llm.log")
	if r := h4Col(t, grpo, "reward"); r[0] != 0.255 {
		t.Errorf("verl GRPO first critic/score/mean = %v, want 0.255", r[0])
	}
	if s := h4Col(t, grpo, "step"); s[len(s)-1] != 1120 {
		t.Errorf("last step %v, want 1120 (the final validation line)", s[len(s)-1])
	}
	az := read("aaravarora01__agent-memory-redteam/trainer_state.json")
	ones := 0
	for _, v := range h4Col(t, az, "zero_std_frac") {
		if v == 1 {
			ones++
		}
	}
	if ones != 84 {
		t.Errorf("frac_reward_zero_std == 1 on %d steps, SOURCES says 84", ones)
	}
	tb := read("surbhi1944__stable-baselines3_PR1261/runs__Jan07_19-24-24_surabhi-Vostro-3559_sac-popsan-Walker2d-v3-encoder-dim-10-decoder-dim-10_0__events.out.tfevents.1673099664.surabhi-Vostro-3559.3650.0")
	if s := h4Col(t, tb, "step"); s[0] != 31 || s[len(s)-1] != 17111 {
		t.Errorf("tfevents steps %v..%v, want 31..17111", s[0], s[len(s)-1])
	}
	hop := read("enfff__rl-hopper/monitor.csv")
	if hop.Meta["env_id"] != "CustomHopper-source-v0" {
		t.Errorf("monitor meta %v", hop.Meta)
	}
}
