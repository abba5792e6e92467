package ingest_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// TestRealData reads every file in ../shared/realdata (SOURCES.md says what
// each run is) without --map and checks format, grain, row count, the kind
// and reward key the reader found, and the columns detectors need. Files
// that are not runs (the side files of a W&B run folder) must be a clear
// ErrNotARun error that names the folder to read. A file added to realdata
// without a row here fails.
func TestRealData(t *testing.T) {
	dir := ingesttest.RealData(t)
	const wb = "Bokai-Ji__ConceptPPO/wandb__run-20230723_121755-61qqbz3a/"
	cases := []struct {
		file      string
		format    string
		grain     ingest.Grain
		rows      int
		kind      string
		rewardKey string
		cols      []string
		notARun   bool
	}{
		{"202520030411__Distill-Safety-Aligned-Models/outputs__dpo__trainer_state.json", "trl", ingest.GrainStep, 4, "preference", "rewards/margins",
			[]string{"step", "reward", "chosen_reward", "rejected_reward", "margin", "pref_accuracy", "extra.logps/rejected"}, false},
		{"5ivatej__meta-hackathon/results__trainer_state.json", "trl", ingest.GrainStep, 4, "policy", "reward",
			[]string{"step", "reward", "reward_std", "length", "zero_std_frac", "clip_ratio", "entropy",
				"component.future_reward_func", "component.think_format_reward_func", "extra.step_time"}, false},
		{wb + "files/conda-environment.yaml", "", "", 0, "", "", nil, true},
		{wb + "files/config.yaml", "", "", 0, "", "", nil, true},
		{wb + "files/events.out.tfevents.1690085878.autodl-container-71644691e8-32af8c29.1214.0", "tfevents", ingest.GrainStep, 763, "episodes", "Rewards/mean_episodes",
			[]string{"step", "time", "reward", "length", "extra.Rewards/mean_episodes", "extra.Loss/pi"}, false},
		{wb + "files/output.log", "", "", 0, "", "", nil, true},
		{wb + "files/requirements.txt", "", "", 0, "", "", nil, true},
		{wb + "files/wandb-metadata.json", "", "", 0, "", "", nil, true},
		{wb + "files/wandb-summary.json", "", "", 0, "", "", nil, true},
		{wb + "logs/debug-internal.log", "", "", 0, "", "", nil, true},
		{wb + "logs/debug.log", "", "", 0, "", "", nil, true},
		{wb + "run-61qqbz3a.wandb", "wandb", ingest.GrainStep, 763, "episodes", "Rewards/mean_episodes",
			[]string{"step", "time", "reward", "length", "extra.Rewards/max_episodes", "extra.Loss/v", "extra._step", "extra._runtime"}, false},
		{"Cladett__rl-baselines3-zoo/logs__her__dVRLPick-v0_1__0.monitor.csv", "sb3-monitor", ingest.GrainEpisode, 1326, "episodes", "r",
			[]string{"reward", "length", "time"}, false},
		{"Cladett__rl-baselines3-zoo/logs__her__dVRLPickRail-v0_2__0.monitor.csv", "sb3-monitor", ingest.GrainEpisode, 2000, "episodes", "r",
			[]string{"reward", "length", "time"}, false},
		{"Dkurkcu__energy_penalty_applications_final/logs__monitor.csv", "sb3-monitor", ingest.GrainEpisode, 7658, "episodes", "r",
			[]string{"reward", "length", "time", "extra.episode_energy", "extra.success"}, false},
		{"JuncyLu__trl_DAPO/grpo-Qwen2.5-VL-3B-Instruct__runs__Oct22_12-05-31_instance-20251002-112605__events.out.tfevents.1761134743.instance-20251002-112605.176000.0",
			"tfevents", ingest.GrainStep, 18, "policy", "train/reward",
			[]string{"step", "reward", "reward_std", "length", "zero_std_frac", "entropy", "component.think_format_reward", "component.mc_idx_reward"}, false},
		{"MoniFarsang__ppo-clipping-approaches/logs__ppo__HopperBulletEnv-v0_1__0.monitor.csv", "sb3-monitor", ingest.GrainEpisode, 389, "episodes", "r",
			[]string{"reward", "length", "time"}, false},
		{"MoniFarsang__ppo-clipping-approaches/logs__ppo__HopperBulletEnv-v0_1__HopperBulletEnv-v0__PPO_1__events.out.tfevents.1611600981.042104f03417.9660.0",
			"tfevents", ingest.GrainStep, 245, "episodes", "rollout/ep_rew_mean",
			[]string{"step", "reward", "length", "eval.mean_reward", "eval.mean_ep_length", "extra.train/value_loss"}, false},
		{"Rohanjain2312__grpo-reward-hacking-demo/results__baseline__metrics.jsonl", "jsonl", ingest.GrainStep, 81, "", "train_reward",
			[]string{"step", "reward", "reward_std", "kl", "eval.perplexity", "eval.reward"}, false},
		{"Rusheel86__Chaos-Economy/trainer_state.json", "trl", ingest.GrainStep, 40, "policy", "reward",
			[]string{"step", "reward", "reward_std", "length", "zero_std_frac", "clip_ratio", "kl",
				"component.diversity_reward_fn", "component.format_reward_fn", "component.oversight_reward_fn",
				"component.pnl_reward_fn", "component.risk_reward_fn", "extra.completion_length"}, false},
		{"Rusheel86__Chaos-Economy/training_logs.json", "trl", ingest.GrainStep, 50, "policy", "reward",
			[]string{"step", "reward", "length", "clip_ratio", "component.news_alpha_reward_fn"}, false},
		{"Sunshine535__nips-grpo-dynamics/results__csd_pilot__pilot2_adq_collapse__log_adq_seed42.txt", "trl-console", ingest.GrainStep, 50, "policy", "reward",
			[]string{"step", "reward", "reward_std", "length", "kl", "component.reward_fn", "extra.epoch", "extra.grad_norm"}, false},
		{"Sunshine535__nips-grpo-dynamics/results__gates_1_2__logs__gate2_rho1.00_seed42.log", "trl-console", ingest.GrainStep, 200, "policy", "reward",
			[]string{"step", "reward", "reward_std", "length", "kl", "component.reward_fn", "extra.epoch", "extra.grad_norm"}, false},
		{"aaravarora01__agent-memory-redteam/modal_results__strict__stage1__train_metrics.jsonl", "jsonl", ingest.GrainStep, 250, "", "reward",
			[]string{"step", "reward", "extra.noop_penalty", "extra.retrieval_reward"}, false},
		{"aaravarora01__agent-memory-redteam/modal_results__strict__stage2__train_metrics.jsonl", "jsonl", ingest.GrainStep, 150, "", "reward",
			[]string{"step", "reward", "extra.noop_penalty"}, false},
		{"aaravarora01__agent-memory-redteam/trainer_state.json", "trl", ingest.GrainStep, 100, "policy", "reward",
			[]string{"step", "reward", "reward_std", "length", "zero_std_frac", "clip_ratio", "kl", "entropy",
				"component.FinancePoisonReward", "extra.step_time"}, false},
		{"alexchilton__CAS_NLP_MODULE4_GRPO/expert_guy__post_training_project__threestage__stage2_output__checkpoint-160__trainer_state.json",
			"trl", ingest.GrainStep, 160, "policy", "reward",
			[]string{"step", "reward", "reward_std", "length", "kl", "component.wordle_reward_func", "eval.reward", "eval.loss"}, false},
		{"alexchilton__CAS_NLP_MODULE4_GRPO/lara__output_4090__wordle-grpo__checkpoint-400__trainer_state.json",
			"trl", ingest.GrainStep, 400, "policy", "reward",
			[]string{"step", "reward", "reward_std", "length", "zero_std_frac", "kl", "entropy", "component.wordle_reward_func"}, false},
		{"diqiuzhuanzhuan__verldata/run_logs__qwen2-7b_math.log", "verl", ingest.GrainStep, 211, "policy", "critic/score/mean",
			[]string{"step", "reward", "length", "clip_ratio", "entropy",
				"eval.openai/gsm8k/reward/mean@1", "eval.DigitalLearningGmbH/MATH-lighteval/reward/mean@1"}, false},
		{"enfff__rl-hopper/monitor.csv", "sb3-monitor", ingest.GrainEpisode, 828, "episodes", "r",
			[]string{"reward", "length", "time"}, false},
		{"eric-haibin-lin__verl-data/gsm8k__Qwen2.5-0.5B-bsz256_2-prompt512-resp256-0.538.log", "verl", ingest.GrainStep, 435, "policy", "critic/score/mean",
			[]string{"step", "reward", "length", "kl", "entropy", "eval.test_score/openai/gsm8k", "extra.critic/vf_loss"}, false},
		{"rishabhg97__robust-cartpole/logs__monitor.csv", "sb3-monitor", ingest.GrainEpisode, 389, "episodes", "r",
			[]string{"reward", "length", "time"}, false},
		{"surbhi1944__stable-baselines3_PR1261/runs__Jan07_19-24-24_surabhi-Vostro-3559_sac-popsan-Walker2d-v3-encoder-dim-10-decoder-dim-10_0__events.out.tfevents.1673099664.surabhi-Vostro-3559.3650.0",
			"tfevents", ingest.GrainStep, 522, "", "sac-popsan-Walker2d-v3-encoder-dim-10-decoder-dim-10/Train-Reward",
			[]string{"step", "time", "reward", "extra.sac-popsan-Walker2d-v3-encoder-dim-10-decoder-dim-10/Train-Reward"}, false},
		{"yushengsu-thu__verl_training_log/gsm8k__grpo_run_deepseek7b_llm.log", "verl", ingest.GrainStep, 1120, "policy", "critic/score/mean",
			[]string{"step", "reward", "length", "clip_ratio", "kl", "entropy", "eval.test_score/openai/gsm8k", "extra.actor/kl_coef"}, false},
		{"yushengsu-thu__verl_training_log/gsm8k__ppo_run_deepseek7b_llm.log", "verl", ingest.GrainStep, 1120, "policy", "critic/score/mean",
			[]string{"step", "reward", "length", "clip_ratio", "kl", "entropy", "eval.test_score/openai/gsm8k", "extra.critic/values/mean"}, false},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.file] = true
		t.Run(strings.SplitN(c.file, "__", 2)[0]+"/"+filepath.Base(c.file), func(t *testing.T) {
			run, err := ingest.ReadFile(filepath.Join(dir, c.file), ingest.Options{})
			if c.notARun {
				if !errors.Is(err, ingest.ErrNotARun) || !strings.Contains(err.Error(), "wandb__run-20230723_121755-61qqbz3a") {
					t.Fatalf("want ErrNotARun naming the W&B run folder, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if run.Format != c.format || run.Grain != c.grain || run.Len() != c.rows {
				t.Errorf("format %q grain %q rows %d; want %q %q %d", run.Format, run.Grain, run.Len(), c.format, c.grain, c.rows)
			}
			if run.Meta[ingest.MetaKind] != c.kind || run.Meta[ingest.MetaRewardKey] != c.rewardKey {
				t.Errorf("kind %q reward key %q; want %q %q", run.Meta[ingest.MetaKind], run.Meta[ingest.MetaRewardKey], c.kind, c.rewardKey)
			}
			for _, col := range c.cols {
				if !run.Has(col) {
					t.Errorf("missing column %q (have %s)", col, strings.Join(run.Columns(), " "))
				}
			}
			if run.Skipped != 0 || len(run.Issues) != 0 {
				t.Errorf("skipped %d, issues %v", run.Skipped, run.Issues)
			}
			if err := ingest.NoRewardError(run); err != nil {
				t.Errorf("read without --map but: %v", err)
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

// meanOf is the mean of c[from:to].
func meanOf(c []float64, from, to int) float64 {
	s := 0.0
	for _, x := range c[from:to] {
		s += x
	}
	return s / float64(to-from)
}

// TestRealDataNewFormats checks the numbers SOURCES.md gives for the runs
// read by the W&B, TRL-console and preference readers.
func TestRealDataNewFormats(t *testing.T) {
	dir := ingesttest.RealData(t)
	read := func(f string) *ingest.Run {
		t.Helper()
		run, err := ingest.ReadFile(filepath.Join(dir, f), ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	// W&B: 763 points, Rewards/mean_episodes decile means 15.5 ... 50.6,
	// final 48.45 (wandb-summary.json), steps 32,768 .. 25,001,984 (the
	// run's global_step), the same numbers as the TensorBoard copy.
	wb := read("Bokai-Ji__ConceptPPO/wandb__run-20230723_121755-61qqbz3a/run-61qqbz3a.wandb")
	tb := read("Bokai-Ji__ConceptPPO/wandb__run-20230723_121755-61qqbz3a/files/events.out.tfevents.1690085878.autodl-container-71644691e8-32af8c29.1214.0")
	r := h4Col(t, wb, "reward")
	if got := meanOf(r, 0, 76); math.Abs(got-15.5) > 0.05 {
		t.Errorf("W&B first-decile reward mean %.3f, SOURCES says 15.5", got)
	}
	if got := meanOf(r, len(r)-76, len(r)); math.Abs(got-50.6) > 0.05 {
		t.Errorf("W&B last-decile reward mean %.3f, SOURCES says 50.6", got)
	}
	if got := r[len(r)-1]; math.Abs(got-48.45) > 1e-4 {
		t.Errorf("W&B final reward %v, wandb-summary.json says 48.45", got)
	}
	if s := h4Col(t, wb, "step"); s[0] != 32768 || s[len(s)-1] != 25001984 {
		t.Errorf("W&B steps %v..%v, want 32768..25001984", s[0], s[len(s)-1])
	}
	if own := h4Col(t, wb, "extra._step"); own[0] != 0 || own[len(own)-1] != 762 {
		t.Errorf("W&B _step %v..%v, want 0..762", own[0], own[len(own)-1])
	}
	tr := h4Col(t, tb, "reward")
	for i := range r {
		if float32(r[i]) != float32(tr[i]) {
			t.Fatalf("W&B and TensorBoard copies differ at row %d: %v vs %v", i, r[i], tr[i])
		}
	}
	if wb.Meta["wandb_run_id"] != "61qqbz3a" {
		t.Errorf("W&B run id %q", wb.Meta["wandb_run_id"])
	}

	// TRL DPO: margins 0 -> 26.7 -> 119.6 -> 141.7 are the reward,
	// accuracies 0 -> 0.89 -> 1 -> 1.
	dpo := read("202520030411__Distill-Safety-Aligned-Models/outputs__dpo__trainer_state.json")
	m, rw, acc := h4Col(t, dpo, "margin"), h4Col(t, dpo, "reward"), h4Col(t, dpo, "pref_accuracy")
	for i, want := range []float64{0, 26.7, 119.6, 141.7} {
		if math.Abs(m[i]-want) > 0.05 || rw[i] != m[i] {
			t.Errorf("DPO row %d: margin %v reward %v, want %v", i, m[i], rw[i], want)
		}
	}
	if acc[0] != 0 || acc[3] != 1 {
		t.Errorf("DPO accuracies %v", acc)
	}

	// TRL console, dead run: reward, reward_std and kl 0 on all 50 steps,
	// completion length at the 256 cap; the train_runtime summary is
	// metadata, not a row.
	dead := read("Sunshine535__nips-grpo-dynamics/results__csd_pilot__pilot2_adq_collapse__log_adq_seed42.txt")
	for _, c := range []string{"reward", "reward_std", "kl"} {
		for i, v := range h4Col(t, dead, c) {
			if v != 0 {
				t.Fatalf("dead run %s[%d] = %v, SOURCES says 0 on all steps", c, i, v)
			}
		}
	}
	// (SOURCES says 256 on every step; the file has 225.1 at step 37.)
	capped := 0
	for _, v := range h4Col(t, dead, "length") {
		if v == 256 {
			capped++
		}
	}
	if l := h4Col(t, dead, "length"); capped != 49 || l[36] != 225.1 {
		t.Errorf("dead run: length 256 on %d steps, step 37 %v; want 49 and 225.1", capped, l[36])
	}
	if s := h4Col(t, dead, "step"); s[0] != 1 || s[49] != 50 {
		t.Errorf("steps %v..%v, want 1..50", s[0], s[49])
	}
	if dead.Meta["train_runtime"] != "1.482e+04" {
		t.Errorf("summary meta %v", dead.Meta)
	}
	// Alive: 178/200 steps with non-zero reward, first/last 10% 0.356 -> 0.444.
	alive := read("Sunshine535__nips-grpo-dynamics/results__gates_1_2__logs__gate2_rho1.00_seed42.log")
	ar := h4Col(t, alive, "reward")
	nz := 0
	for _, v := range ar {
		if v != 0 {
			nz++
		}
	}
	if nz != 178 || math.Abs(meanOf(ar, 0, 20)-0.356) > 0.001 || math.Abs(meanOf(ar, 180, 200)-0.444) > 0.001 {
		t.Errorf("alive run: %d non-zero, first/last 10%% %.4f %.4f; SOURCES: 178, 0.356, 0.444", nz, meanOf(ar, 0, 20), meanOf(ar, 180, 200))
	}
}

// TestRealDataFolders reads realdata folders as a user points at them.
func TestRealDataFolders(t *testing.T) {
	dir := ingesttest.RealData(t)
	// The W&B run folder is one run, from its .wandb file (no
	// wandb-history.jsonl in this online run).
	run, src, err := ingest.ReadPath(filepath.Join(dir, "Bokai-Ji__ConceptPPO/wandb__run-20230723_121755-61qqbz3a"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if src.Kind != "wandb" || run.Len() != 763 || run.Format != "wandb" || src.Describe() != "read run-61qqbz3a.wandb" {
		t.Errorf("W&B folder: %s %s %d rows, %q", src.Kind, run.Format, run.Len(), src.Describe())
	}
	// Its parent holds just that run.
	if _, src, err := ingest.ReadPath(filepath.Join(dir, "Bokai-Ji__ConceptPPO"), ingest.Options{}); err != nil || src.Kind != "wandb" {
		t.Errorf("parent of the W&B run: %v %v", src, err)
	}
	// Two different SB3 runs side by side: several runs, both listed.
	_, _, err = ingest.ReadPath(filepath.Join(dir, "Cladett__rl-baselines3-zoo"), ingest.Options{})
	if !errors.Is(err, ingest.ErrSeveralRuns) || !strings.Contains(err.Error(), "dVRLPick-v0_1") || !strings.Contains(err.Error(), "dVRLPickRail-v0_2") {
		t.Errorf("two SB3 runs: %v", err)
	}
	// An SB3 folder with its TensorBoard log beside it: the monitor file.
	run, src, err = ingest.ReadPath(filepath.Join(dir, "MoniFarsang__ppo-clipping-approaches"), ingest.Options{})
	if err != nil || src.Kind != "sb3-monitor" || run.Len() != 389 || !strings.Contains(src.Describe(), "TensorBoard files beside it not read") {
		t.Errorf("SB3 folder: %v %v", src, err)
	}
	// A TensorBoard folder: its event file.
	run, src, err = ingest.ReadPath(filepath.Join(dir, "JuncyLu__trl_DAPO"), ingest.Options{})
	if err != nil || src.Kind != "tensorboard" || run.Len() != 18 || run.Source != filepath.Join(dir, "JuncyLu__trl_DAPO") {
		t.Errorf("TB folder: %v %v", src, err)
	}
	// The whole realdata folder: many runs, an error that lists them.
	if _, _, err := ingest.ReadPath(dir, ingest.Options{}); !errors.Is(err, ingest.ErrSeveralRuns) {
		t.Errorf("realdata root: %v", err)
	}
}
