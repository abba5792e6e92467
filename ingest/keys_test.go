package ingest_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
)

// TestWellKnownRewardPick: generic logs without a reward column get the
// best well-known key as the reward, and say which.
func TestWellKnownRewardPick(t *testing.T) {
	cases := []struct {
		name, text, key, kind string
		cols                  []string
	}{
		{"a.jsonl", `{"step":1,"reward/mean":0.5,"reward/std":0.1,"train_reward":9}` + "\n" + `{"step":2,"reward/mean":0.7,"reward/std":0.2,"train_reward":9}` + "\n",
			"reward/mean", "", []string{"reward_std", "extra.train_reward"}},
		{"b.jsonl", `{"step":1,"train_reward":0.5,"train_reward_std":0.1,"correctness":0.01}` + "\n" + `{"step":2,"train_reward":0.7,"train_reward_std":0.1,"correctness":0.02}` + "\n",
			"train_reward", "", []string{"reward_std", "eval.correctness"}},
		{"c.csv", "step,Environment/Cumulative Reward,Environment/Episode Length\n1,3,100\n2,4,120\n",
			"Environment/Cumulative Reward", "episodes", []string{"length"}},
		{"d.csv", "step,rollout/ep_rew_mean,rollout/ep_len_mean,eval/mean_reward\n1,3,100,2\n2,4,120,3\n",
			"rollout/ep_rew_mean", "episodes", []string{"length", "eval.mean_reward"}},
		{"e.jsonl", `{"step":1,"critic/score/mean":0.2,"val-core/gsm8k/acc":0.3,"pass@1":0.1}` + "\n",
			"critic/score/mean", "policy", []string{"eval.gsm8k/acc", "eval.pass@1"}},
		{"f.jsonl", `{"step":1,"train/rewards/chosen":1,"train/rewards/rejected":-1,"train/rewards/margins":2,"train/rewards/accuracies":1}` + "\n",
			"rewards/margins", "preference", []string{"chosen_reward", "rejected_reward", "margin", "pref_accuracy"}},
	}
	for _, c := range cases {
		run := readString(t, c.text, c.name, ingest.Options{})
		if !run.Has("reward") || run.Meta[ingest.MetaRewardKey] != c.key || run.Meta[ingest.MetaKind] != c.kind {
			t.Errorf("%s: reward %v key %q kind %q; want key %q kind %q (cols %v)", c.name, run.Has("reward"),
				run.Meta[ingest.MetaRewardKey], run.Meta[ingest.MetaKind], c.key, c.kind, run.Columns())
		}
		for _, col := range c.cols {
			if !run.Has(col) {
				t.Errorf("%s: no column %s (have %v)", c.name, col, run.Columns())
			}
		}
		if got := ingest.AutoRewardKey(run, ingest.Options{}); got != c.key {
			t.Errorf("%s: AutoRewardKey %q", c.name, got)
		}
	}
	// The DPO margin is the reward, value for value.
	run := readString(t, `{"step":1,"rewards/margins":2.5,"rewards/accuracies":1}`+"\n", "g.jsonl", ingest.Options{})
	if r, _ := run.Column("reward"); r[0] != 2.5 {
		t.Errorf("margin as reward: %v", r)
	}
	// Chosen and rejected without a margin: margin = chosen - rejected.
	run = readString(t, `{"step":1,"rewards/chosen":1.5,"rewards/rejected":-0.5}`+"\n", "k.jsonl", ingest.Options{})
	if m, _ := run.Column("margin"); len(m) != 1 || m[0] != 2 || run.Meta[ingest.MetaKind] != "preference" {
		t.Errorf("computed margin: %v %v", m, run.Meta)
	}
	// rewards/accuracies is not the gold "accuracy"; a top-level accuracy is.
	run = readString(t, `{"step":1,"reward":1,"accuracy":0.4,"rewards/accuracies":1}`+"\n", "h.jsonl", ingest.Options{})
	if !run.Has("eval.accuracy") || !run.Has("pref_accuracy") || run.Has("eval.rewards/accuracies") {
		t.Errorf("gold vs preference accuracy: %v", run.Columns())
	}
	// A --map of the reward wins over the table and is recorded.
	run = readString(t, `{"step":1,"reward/mean":0.5,"mine":3}`+"\n", "i.jsonl", ingest.Options{Map: map[string]string{"reward": "mine"}})
	if r, _ := run.Column("reward"); r[0] != 3 || run.Meta[ingest.MetaRewardKey] != "mine" || ingest.AutoRewardKey(run, ingest.Options{Map: map[string]string{"reward": "mine"}}) != "" {
		t.Errorf("--map: reward %v key %q", r, run.Meta[ingest.MetaRewardKey])
	}
	// A column already named reward stays; nothing is renamed over it.
	run = readString(t, `{"step":1,"reward":1,"train_reward":2}`+"\n", "j.jsonl", ingest.Options{})
	if r, _ := run.Column("reward"); r[0] != 1 || !run.Has("extra.train_reward") || ingest.AutoRewardKey(run, ingest.Options{}) != "" {
		t.Errorf("existing reward: %v %v", r, run.Columns())
	}
}

// TestNoRewardError: no candidate -> an error listing the numeric keys,
// reward-like ones first, with the --map line for the best.
func TestNoRewardError(t *testing.T) {
	run := readString(t, `{"step":1,"loss":2,"my_return":5,"lr":0.1,"eval_x":1,"name":"a","score_a":3}`+"\n", "n.jsonl", ingest.Options{})
	err := ingest.NoRewardError(run)
	if !errors.Is(err, ingest.ErrNoRewardKey) {
		t.Fatalf("got %v", err)
	}
	want := "n.jsonl: no reward key among its numeric keys (my_return, score_a, loss, lr, eval.x); read one as the reward with --map reward=my_return"
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	if ingest.NoRewardError(readString(t, `{"reward":1}`+"\n", "ok.jsonl", ingest.Options{})) != nil {
		t.Error("a run with a reward has no error")
	}
	if ingest.NoRewardError(ingest.NewRun(0)) != nil {
		t.Error("an empty run has no reward error (empty input is its own error)")
	}
}

// TestWellKnownColumnAndGold checks the table lookups.
func TestWellKnownColumnAndGold(t *testing.T) {
	for key, want := range map[string]string{
		"completions/mean_length": "length", "completion_length": "length", "response_length/mean": "length",
		"rollout/ep_len_mean": "length", "Environment/Episode Length": "length", "train/rewards/margins": "margin",
		"rewards/chosen": "chosen_reward", "rollout/ep_rew_mean": "reward", "charts/episodic_return": "reward",
		"train/reward": "reward", "frac_reward_zero_std": "zero_std_frac", "eval/mean_reward": "", "loss": "",
	} {
		if got := ingest.WellKnownColumn(key); got != want {
			t.Errorf("WellKnownColumn(%q) = %q, want %q", key, got, want)
		}
	}
	for key, want := range map[string]string{
		"correctness": "correctness", "accuracy": "accuracy", "pass@8": "pass@8", "test_score": "test_score",
		"val/test_score/gsm8k": "test_score/gsm8k", "val-core/math/acc": "math/acc", "eval/mean_reward": "mean_reward",
		"rewards/accuracies": "", "rewards/correctness/mean": "", "train/accuracy": "",
	} {
		if got := ingest.GoldName(key); got != want {
			t.Errorf("GoldName(%q) = %q, want %q", key, got, want)
		}
	}
	if !strings.Contains(ingest.RewardKeys[0].Key, "reward") {
		t.Error("reward is the first candidate")
	}
}

// TestWellKnownTensorBoardDPO: a DPO run logged to TensorBoard by the HF
// Trainer (train/rewards/...) reads as a preference run, margin = reward.
func TestWellKnownTensorBoardDPO(t *testing.T) {
	src := ingest.NewRun(3)
	src.SetColumn("step", []float64{10, 20, 30})
	src.SetColumn("train/rewards/margins", []float64{0.1, 2, 9})
	src.SetColumn("train/rewards/chosen", []float64{0, -1, -2})
	src.SetColumn("train/rewards/accuracies", []float64{0.5, 1, 1})
	var b bytes.Buffer
	if err := ingest.WriteTFEvents(&b, src); err != nil {
		t.Fatal(err)
	}
	run, err := ingest.Read(&b, "events.out.tfevents.1", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := run.Column("reward")
	if run.Format != "tfevents" || len(r) != 3 || r[2] != 9 || !run.Has("chosen_reward") || !run.Has("pref_accuracy") ||
		run.Meta[ingest.MetaKind] != "preference" || run.Meta[ingest.MetaRewardKey] != "rewards/margins" {
		t.Errorf("cols %v reward %v meta %v", run.Columns(), r, run.Meta)
	}
}

// TestWellKnownClaims: several table keys for one column -> the table's
// first; a name-only match beside another claimant -> ambiguous, unmapped.
func TestWellKnownClaims(t *testing.T) {
	read := func(tags ...string) *ingest.Run {
		src := ingest.NewRun(2)
		src.SetColumn("step", []float64{1, 2})
		for i, tag := range tags {
			src.SetColumn(tag, []float64{float64(i), float64(i) + 0.5})
		}
		var b bytes.Buffer
		if err := ingest.WriteTFEvents(&b, src); err != nil {
			t.Fatal(err)
		}
		run, err := ingest.Read(&b, "events.out.tfevents.1", ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	run := read("actor/kl_loss", "actor/kl", "critic/kl", "actor/entropy", "actor/entropy_loss")
	if kl, _ := run.Column("kl"); kl[0] != 0 {
		t.Errorf("kl from %v, want actor/kl_loss (0)", kl)
	}
	if e, _ := run.Column("entropy"); e[0] != 3 {
		t.Errorf("entropy from %v, want actor/entropy (3)", e)
	}
	run = read("train/reward", "score")
	if r, _ := run.Column("reward"); r[0] != 0 || run.Meta[ingest.MetaRewardKey] != "train/reward" {
		t.Errorf("reward %v key %q, want train/reward", r, run.Meta[ingest.MetaRewardKey])
	}
	run = read("train/reward", "custom/reward")
	if run.Has("reward") {
		t.Errorf("ambiguous reward tags got a reward: %v", run.Meta)
	}
}
