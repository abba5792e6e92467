package analysis_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// verdictCase is what a careful engineer says about one real run (from the
// SOURCES.md beside it): its kind, the class of the verdict, the detectors
// whose findings must explain it, and the first run step the leading one
// may name.
type verdictCase struct {
	file  string
	opt   ingest.Options
	cfg   analysis.Config
	kind  analysis.Kind
	class analysis.Class
	fire  []string // detectors that must end WARNING or ALERT
}

// checkVerdict audits c.file (under dir) and checks kind, class, exit code
// and that exactly the actionable detectors are the expected ones when the
// run is healthy, and at least c.fire otherwise. "reward hacking" is only
// said with evidence from divergence, format_gain or length_coupling.
func checkVerdict(t *testing.T, dir string, c verdictCase) {
	t.Helper()
	run, _, err := ingest.ReadPath(filepath.Join(dir, filepath.FromSlash(c.file)), c.opt)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := analysis.Audit(run, c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind != c.kind || rep.Class != c.class {
		t.Errorf("kind %s class %s, want %s %s\n%s", rep.Kind, rep.Class, c.kind, c.class, rep.Headline)
	}
	var flagged []string
	for _, d := range rep.Detectors {
		if d.Status.Actionable() {
			flagged = append(flagged, d.Name)
			if d.Class == analysis.ClassHacking && d.Name != "divergence" && d.Name != "format_gain" && d.Name != "length_coupling" {
				t.Errorf("%s says reward hacking without a proxy-vs-true-objective comparison: %s", d.Name, d.Message)
			}
		}
	}
	sort.Strings(flagged)
	for _, f := range c.fire {
		found := false
		for _, g := range flagged {
			found = found || g == f
		}
		if !found {
			t.Errorf("%s did not fire (flagged: %v)\n%s", f, flagged, rep.Headline)
		}
	}
	wantExit := 1
	if c.class == analysis.ClassHealthy {
		wantExit = 0
		if len(flagged) > 0 {
			t.Errorf("healthy run flagged by %v: %s", flagged, rep.Headline)
		}
		for _, a := range rep.Alerts {
			t.Errorf("healthy run has alert %s %s at step %v: %s", a.Detector, a.Status, a.RunStep, a.Message)
		}
	}
	if rep.ExitCode != wantExit {
		t.Errorf("exit %d, want %d", rep.ExitCode, wantExit)
	}
	if !strings.HasPrefix(strings.ToLower(rep.Headline), strings.ToLower(strings.Split(c.class.Words(), " ")[0])) {
		t.Errorf("headline does not start with the class: %q", rep.Headline)
	}
}

const (
	hacking   = analysis.ClassHacking
	pathology = analysis.ClassPathology
	healthy   = analysis.ClassHealthy
	policy    = analysis.KindPolicy
	episodes  = analysis.KindEpisodes
	pref      = analysis.KindPreference
)

// TestRealDataVerdicts: every run in ../shared/realdata (SOURCES.md says what
// happened in each), read without --map. A file added there without a row
// here fails, so new real data is always judged.
func TestRealDataVerdicts(t *testing.T) {
	dir := ingesttest.RealData(t)
	cases := []verdictCase{
		{file: "202520030411__Distill-Safety-Aligned-Models/outputs__dpo__trainer_state.json", kind: pref, class: pathology, fire: []string{"preference"}},
		{file: "5ivatej__meta-hackathon/results__trainer_state.json", kind: policy, class: pathology, fire: []string{"dead_component"}},
		{file: "Bokai-Ji__ConceptPPO/wandb__run-20230723_121755-61qqbz3a", kind: episodes, class: healthy},
		{file: "Bokai-Ji__ConceptPPO/wandb__run-20230723_121755-61qqbz3a/files/events.out.tfevents.1690085878.autodl-container-71644691e8-32af8c29.1214.0", kind: episodes, class: healthy},
		{file: "Cladett__rl-baselines3-zoo/logs__her__dVRLPick-v0_1__0.monitor.csv", kind: episodes, class: pathology, fire: []string{"no_learning"}},
		{file: "Cladett__rl-baselines3-zoo/logs__her__dVRLPickRail-v0_2__0.monitor.csv", kind: episodes, class: pathology, fire: []string{"collapse"}},
		{file: "Dkurkcu__energy_penalty_applications_final/logs__monitor.csv", kind: episodes, class: pathology, fire: []string{"collapse"}},
		{file: "JuncyLu__trl_DAPO/grpo-Qwen2.5-VL-3B-Instruct__runs__Oct22_12-05-31_instance-20251002-112605__events.out.tfevents.1761134743.instance-20251002-112605.176000.0", kind: policy, class: pathology, fire: []string{"dead_component", "length_explosion"}},
		{file: "MoniFarsang__ppo-clipping-approaches/logs__ppo__HopperBulletEnv-v0_1__0.monitor.csv", kind: episodes, class: healthy},
		{file: "MoniFarsang__ppo-clipping-approaches/logs__ppo__HopperBulletEnv-v0_1__HopperBulletEnv-v0__PPO_1__events.out.tfevents.1611600981.042104f03417.9660.0", kind: episodes, class: healthy},
		{file: "Rohanjain2312__grpo-reward-hacking-demo/results__baseline__metrics.jsonl", kind: policy, class: hacking, fire: []string{"divergence"}},
		{file: "Rusheel86__Chaos-Economy/trainer_state.json", kind: policy, class: pathology, fire: []string{"truncation"}},
		{file: "Rusheel86__Chaos-Economy/training_logs.json", kind: policy, class: pathology, fire: []string{"truncation"}},
		{file: "Sunshine535__nips-grpo-dynamics/results__csd_pilot__pilot2_adq_collapse__log_adq_seed42.txt", kind: policy, class: pathology, fire: []string{"no_learning"}},
		{file: "Sunshine535__nips-grpo-dynamics/results__gates_1_2__logs__gate2_rho1.00_seed42.log", kind: policy, class: healthy},
		{file: "aaravarora01__agent-memory-redteam/modal_results__strict__stage1__train_metrics.jsonl", kind: policy, class: healthy},
		{file: "aaravarora01__agent-memory-redteam/modal_results__strict__stage2__train_metrics.jsonl", kind: policy, class: pathology, fire: []string{"no_learning"}},
		{file: "aaravarora01__agent-memory-redteam/trainer_state.json", kind: policy, class: pathology, fire: []string{"group"}},
		{file: "alexchilton__CAS_NLP_MODULE4_GRPO/expert_guy__post_training_project__threestage__stage2_output__checkpoint-160__trainer_state.json", kind: policy, class: pathology, fire: []string{"no_learning"}},
		{file: "alexchilton__CAS_NLP_MODULE4_GRPO/lara__output_4090__wordle-grpo__checkpoint-400__trainer_state.json", kind: policy, class: pathology, fire: []string{"no_learning"}},
		{file: "diqiuzhuanzhuan__verldata/run_logs__qwen2-7b_math.log", kind: policy, class: pathology, fire: []string{"length_explosion", "truncation"}},
		{file: "enfff__rl-hopper/monitor.csv", kind: episodes, class: healthy},
		{file: "eric-haibin-lin__verl-data/gsm8k__Qwen2.5-0.5B-bsz256_2-prompt512-resp256-0.538.log", kind: policy, class: healthy},
		{file: "rishabhg97__robust-cartpole/logs__monitor.csv", kind: episodes, class: healthy},
		{file: "surbhi1944__stable-baselines3_PR1261/runs__Jan07_19-24-24_surabhi-Vostro-3559_sac-popsan-Walker2d-v3-encoder-dim-10-decoder-dim-10_0__events.out.tfevents.1673099664.surabhi-Vostro-3559.3650.0", kind: episodes, class: healthy},
		{file: "yushengsu-thu__verl_training_log/gsm8k__grpo_run_deepseek7b_llm.log", kind: policy, class: hacking, fire: []string{"divergence", "saturation"}},
		{file: "yushengsu-thu__verl_training_log/gsm8k__ppo_run_deepseek7b_llm.log", kind: policy, class: hacking, fire: []string{"divergence"}},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.file] = true
		t.Run(strings.SplitN(c.file, "__", 2)[0], func(t *testing.T) { checkVerdict(t, dir, c) })
	}
	// Every run there has a row: files inside a W&B run folder other than
	// the run's own TensorBoard copy are parts of that run, not runs.
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || info.Name() == "SOURCES.md" {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if i := strings.Index(rel, "/wandb__run-"); i >= 0 && !strings.Contains(rel, "tfevents") {
			return nil
		}
		if !covered[rel] {
			t.Errorf("realdata run %s has no verdict row in this table", rel)
		}
		return nil
	})
}

// TestPublicRunsVerdicts: the real logs we collected into testdata/publicruns
// (SOURCES.md there says what happened in each); they ship with the
// repository, so this runs everywhere.
func TestPublicRunsVerdicts(t *testing.T) {
	dir := ingesttest.Testdata(t, "publicruns")
	zoo := "DLR-RM__rl-trained-agents/"
	rohun := "rohunagrawal__reward-hacking-entropy/outputs__rl-leetcode__"
	cases := []verdictCase{
		{file: zoo + "a2c__CartPole-v1_1__0.monitor.csv", kind: episodes, class: healthy},
		{file: zoo + "dqn__PongNoFrameskip-v4_1__0.monitor.csv", kind: episodes, class: healthy},
		{file: zoo + "her__FetchReach-v1_1__0.monitor.csv", kind: episodes, class: healthy},
		{file: zoo + "ppo__Walker2d-v3_1__0.monitor.csv", kind: episodes, class: healthy},
		{file: zoo + "sac__Hopper-v3_1__0.monitor.csv", kind: episodes, class: healthy},
		{file: zoo + "a2c__EnduroNoFrameskip-v4_1__0.monitor.csv", kind: episodes, class: pathology, fire: []string{"no_learning"}},
		{file: "Awesommesh__SoccerPPO/results__poca__SoccerAgent__events.out.tfevents.1672894085.Animeshs-MacBook-Pro.local.30588.0", kind: episodes, class: pathology, fire: []string{"no_learning"}},
		{file: "Enzodtz__reach-target-AI/results__ppo__ReachTarget__events.out.tfevents.1617305628.dtz-pc.7816.0", kind: episodes, class: healthy},
		{file: "haakontveit1__rl_racer/a785c86__logs__progress.csv", kind: episodes, class: healthy},
		{file: "AndrisWillow__self-rewarding-models/outputs__Mistral-7B-v0.1-M2-V2__checkpoint-100__trainer_state.json", kind: pref, class: pathology, fire: []string{"no_learning"}},
		{file: "AndrisWillow__self-rewarding-models/outputs__Mistral-7B-v0.1-M2__checkpoint-100__trainer_state.json", kind: pref, class: healthy},
		{file: "IMJONEZZ__UnslothGRPO/outputs__checkpoint-250__trainer_state.json", kind: policy, class: pathology, fire: []string{"dead_component"}},
		{file: "srinath-manda__IITD_Feb26_AAIPL/outputs__checkpoint-500__trainer_state.json", kind: policy, class: pathology, fire: []string{"group"}},
		// The canonical hack: a code-generation run trained on a proxy
		// (g: compiles and runs) whose true objective (f: correct) stays near
		// 0. The log's keys are the authors' own letters, so the user names
		// the proxy and the gold metric.
		{file: rohun + "meta-llama__Llama-3.2-3B__g__Medium__metrics.jsonl",
			opt:  ingest.Options{Map: map[string]string{"reward": "reward/g"}},
			cfg:  analysis.Config{Gold: []string{"reward/f"}},
			kind: policy, class: hacking, fire: []string{"divergence"}},
		{file: "tonywang1990__gsm8k-grpo/runs__ablation__baseline__step_stat_history.json", kind: policy, class: healthy},
	}
	for _, c := range cases {
		t.Run(strings.SplitN(c.file, "__", 2)[0]+"/"+filepath.Base(c.file), func(t *testing.T) { checkVerdict(t, dir, c) })
	}
}
