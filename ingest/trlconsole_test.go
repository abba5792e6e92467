package ingest_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
)

const trlConsoleLog = `2026-04-17 14:29:31,835 [INFO] csd_pilot: CSD Pilot — model=Qwen, max_steps=3
Updated tokens: {'eos_token_id': 248046, 'pad_token_id': 248044}.
***** Running training *****
  0%|          | 0/3 [00:00<?, ?it/s]{'loss': '0', 'grad_norm': '0.2218', 'completion_length': '256', 'rewards/fmt': '0.125', 'reward': '0.125', 'reward_std': '0.1768', 'kl': '0', 'epoch': '0.0005'}
 33%|███▎      | 1/3 [00:10<00:20, 10.0s/it]
{'loss': 0.01, 'grad_norm': nan, 'completion_length': 240.5, 'rewards/fmt': 0.25, 'reward': 0.25, 'reward_std': None, 'kl': 1e-4, 'epoch': 0.001}
{'eval_loss': 0.5, 'eval_reward': 0.2, 'epoch': 0.001}
{'loss': '0', 'reward': 'oops', 'kl': '0', 'epoch': '0.0015'}
{'loss': '0', 'reward': '0.5', 'kl':
{'train_runtime': '12.5', 'train_loss': '0.003', 'epoch': '0.0015'}
`

// TestTRLConsole reads a hand-written console log: a dict after a progress
// bar, quoted and bare values, an eval dict merged into its step, a bad
// value (an issue, value missing), a broken dict (an issue naming the line
// and the key where it broke; skipped) and the summary (metadata).
func TestTRLConsole(t *testing.T) {
	run := readString(t, trlConsoleLog, "console.log", ingest.Options{})
	if run.Format != "trl-console" || run.Grain != ingest.GrainStep || run.Len() != 3 {
		t.Fatalf("format %s grain %s rows %d", run.Format, run.Grain, run.Len())
	}
	step, _ := run.Column("step")
	reward, _ := run.Column("reward")
	length, _ := run.Column("length")
	std, _ := run.Column("reward_std")
	comp, _ := run.Column("component.fmt")
	ev, _ := run.Column("eval.reward")
	if step[0] != 1 || step[2] != 3 || reward[0] != 0.125 || reward[1] != 0.25 || !math.IsNaN(reward[2]) {
		t.Errorf("step %v reward %v", step, reward)
	}
	if length[1] != 240.5 || !math.IsNaN(std[1]) || comp[0] != 0.125 || ev[1] != 0.2 || !math.IsNaN(ev[0]) {
		t.Errorf("length %v std %v comp %v eval %v", length, std, comp, ev)
	}
	if run.Meta["train_runtime"] != "12.5" || run.Meta[ingest.MetaKind] != "policy" || run.Meta[ingest.MetaRewardKey] != "reward" {
		t.Errorf("meta %v", run.Meta)
	}
	// grad_norm: nan is a non-finite value in an extra column: reported,
	// left missing, the step kept (reward_std: None is simply missing).
	if run.Skipped != 1 || run.Kept != 1 || len(run.Issues) != 3 {
		t.Fatalf("skipped %d kept %d issues %v", run.Skipped, run.Kept, run.Issues)
	}
	if is := run.Issues[0]; is.Line != 6 || is.Field != "grad_norm" || !is.Kept || !strings.Contains(is.Msg, "not a finite number") {
		t.Errorf("non-finite value issue %+v", is)
	}
	if g, _ := run.Column("extra.grad_norm"); !math.IsNaN(g[1]) || g[0] != 0.2218 {
		t.Errorf("grad_norm %v", g)
	}
	if is := run.Issues[1]; is.Line != 8 || is.Field != "reward" || !strings.Contains(is.Msg, `"oops" is not a number`) {
		t.Errorf("bad value issue %+v", is)
	}
	if is := run.Issues[2]; is.Line != 9 || is.Field != "kl" || !strings.Contains(is.Msg, "unreadable metrics dict") {
		t.Errorf("broken dict issue %+v", is)
	}
	// --strict: the first problem is fatal.
	if _, err := ingest.Read(strings.NewReader(trlConsoleLog), "console.log", ingest.Options{Strict: true}); !errors.Is(err, ingest.ErrStrict) {
		t.Errorf("strict: %v", err)
	}
}

// TestTRLConsoleEdges: an explicit step key, a half-written last line (a
// live run: no issue), and a log with no metrics dict (not a run).
func TestTRLConsoleEdges(t *testing.T) {
	run := readString(t, "{'step': 10, 'loss': 1, 'reward': 0.5}\n{'step': 20, 'loss': 1, 'reward': 0.6}\n{'step': 30, 'loss': 1, 're", "live.log", ingest.Options{})
	step, _ := run.Column("step")
	if run.Format != "trl-console" || run.Len() != 2 || step[1] != 20 || run.Skipped != 0 || len(run.Issues) != 0 {
		t.Errorf("rows %d steps %v issues %v", run.Len(), step, run.Issues)
	}
	// Forced on a file without dicts: a clear not-a-run error.
	_, err := ingest.Read(strings.NewReader("hello\nworld {x}\n"), "x.log", ingest.Options{Format: "trl-console"})
	if !errors.Is(err, ingest.ErrNotARun) {
		t.Errorf("no dicts: %v", err)
	}
	// JSON objects are not Python dicts: the JSONL readers keep them.
	run = readString(t, `{"loss": 1, "reward": 0.5}`+"\n", "j.jsonl", ingest.Options{})
	if run.Format != "jsonl" {
		t.Errorf("JSON detected as %s", run.Format)
	}
}
