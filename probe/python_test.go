package probe

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

func pyDir(t testing.TB) string {
	return ingesttest.Testdata(t, "probe", "py")
}

// runPython probes file with target (relative to testdata/probe/py, run
// from that directory as a user would) and returns the results.
func runPython(t *testing.T, target, cases string, opt PythonOptions) (*Results, error) {
	t.Helper()
	opt.Interpreter = python3(t)
	if opt.Dir == "" {
		opt.Dir = pyDir(t)
	}
	fn, err := NewPython(target, opt)
	if err != nil {
		t.Fatalf("NewPython(%q): %v", target, err)
	}
	defer fn.Close()
	cs, err := ReadCasesFile(filepath.Join(pyDir(t), cases))
	if err != nil {
		t.Fatal(err)
	}
	return Probe(context.Background(), fn, cs, Options{})
}

func rewardsOrErrors(res *Results) []string {
	var out []string
	for _, o := range res.Outcomes {
		if o.Err != nil {
			out = append(out, "error: "+o.Err.Error())
		} else {
			out = append(out, trimFloat(o.Score.Reward))
		}
	}
	return out
}

func wantOutcomes(t *testing.T, res *Results, want ...string) {
	t.Helper()
	got := rewardsOrErrors(res)
	if len(got) != len(want) {
		t.Fatalf("got %d outcomes %q, want %d", len(got), got, len(want))
	}
	for i := range want {
		if strings.HasPrefix(want[i], "error: ") {
			if !strings.HasPrefix(got[i], "error: ") || !strings.Contains(got[i], strings.TrimPrefix(want[i], "error: ")) {
				t.Errorf("case %d: got %q, want an error containing %q", i, got[i], strings.TrimPrefix(want[i], "error: "))
			}
			if !errors.Is(res.Outcomes[i].Err, ErrFunction) {
				t.Errorf("case %d: %v is not ErrFunction", i, res.Outcomes[i].Err)
			}
			continue
		}
		if got[i] != want[i] {
			t.Errorf("case %d: got %s, want %s", i, got[i], want[i])
		}
	}
}

func TestPythonPlain(t *testing.T) {
	for _, tc := range []struct {
		target string
		want   []string
	}{
		{"plain_reward:exact", []string{"1", "0", "1", "1", "1"}},
		// the file form, from another directory
		{"async_exact", []string{"1", "0", "1", "1", "1"}},
		{"plain_reward:scorer.score", []string{"1", "0", "1", "1", "1"}},
		// components: the reward is their sum; the stray print() and the
		// string entry do not disturb anything
		{"plain_reward:components", []string{"1.5", "0.5", "1.5", "1.5", "1.5"}},
		{"plain_reward:returns_none", []string{"1", "error: returned None; a reward function must return a number or a dict of numbers (missing return?)", "1", "1", "1"}},
		{"plain_reward:returns_text", []string{"error: returned a str ('correct'); a reward function must return a number or a dict of numbers", "error: returned a str ('wrong')", "error: str", "error: str", "error: str"}},
		{"plain_reward:returns_list", []string{"error: returned a list of 1 values; a reward function returns one number per call (for a TRL batch function use --trl)",
			"error: list", "error: list", "error: list", "error: list"}},
		{"plain_reward:returns_nan", []string{"1", "error: the result is nan", "1", "1", "1"}},
		// 4 % 2 == 0: ZeroDivisionError with the file and line; 3.14: ValueError
		{"plain_reward:raises", []string{"error: ZeroDivisionError: float division by zero (plain_reward.py:42)", "1", "1", "error: ZeroDivisionError", "error: ValueError: invalid literal for int() with base 10: '3.14' (plain_reward.py:42)"}},
	} {
		t.Run(tc.target, func(t *testing.T) {
			target, opt := tc.target, PythonOptions{}
			if target == "async_exact" {
				// path/to/file.py:function, run from the probe testdata directory
				target = "py/plain_reward.py:async_exact"
				opt.Dir = filepath.Dir(pyDir(t))
			}
			res, err := runPython(t, target, "cases.json", opt)
			if err != nil {
				t.Fatal(err)
			}
			wantOutcomes(t, res, tc.want...)
		})
	}
}

// A module importing a helper module that sits beside it works from its
// own directory (module form) and from anywhere (file form).
func TestPythonModuleWithImports(t *testing.T) {
	res, err := runPython(t, "with_helper:reward", "cases.json", PythonOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantOutcomes(t, res, "1", "0", "1", "1", "1")
	if c := res.Outcomes[0].Score.Components["correctness"]; c != 1 {
		t.Errorf("correctness component = %v", c)
	}
	res, err = runPython(t, filepath.Join(pyDir(t), "with_helper.py")+":reward", "cases.json", PythonOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	wantOutcomes(t, res, "1", "0", "1", "1", "1")
}

func TestPythonTRL(t *testing.T) {
	for _, tc := range []struct {
		target string
		want   []string
	}{
		// case 2 answers 6 for 9; case 4 is chat-format (lists of messages)
		{"trl_rewards:accuracy_reward", []string{"1", "0", "1", "1"}},
		{"trl_rewards:format_reward", []string{"0.5", "0.5", "0", "0"}},
		{"trl_rewards:prompt_aware", []string{"1", "1", "0", "0"}},
		// trainer_state from the case, else global_step 0
		{"trl_rewards:step_scaled", []string{"0", "0", "0.5", "0"}},
		// no **kwargs: prompts, trainer_state, log_metric are not passed
		{"trl_rewards:explicit_only", []string{"1", "0", "1", "0"}},
		{"trl_rewards:wrong_length", []string{"error: returned 2 rewards for 1 completion", "error: 2 rewards", "error: 2 rewards", "error: 2 rewards"}},
		{"trl_rewards:returns_none", []string{"error: returned [None]: no reward for this completion", "error: [None]", "error: [None]", "error: [None]"}},
		{"trl_rewards:returns_scalar", []string{"error: returned a float (1.0); a TRL reward function returns a list with one reward per completion", "error: float", "error: float", "error: float"}},
		// TRL's own think_format_reward (copied from huggingface/trl) wants
		// chat-format completions: string completions fail per case, clearly
		{"trl_format_rewards:think_format_reward", []string{"error: TypeError: string indices must be integers", "error: TypeError", "error: TypeError", "1"}},
		{"trl_rewards:needs_ids", []string{"error: the function needs completion_ids (token ids), which goodhart cannot make without the tokenizer", "error: completion_ids", "error: completion_ids", "error: completion_ids"}},
	} {
		t.Run(tc.target, func(t *testing.T) {
			res, err := runPython(t, tc.target, "trl_cases.json", PythonOptions{TRL: true})
			if err != nil {
				t.Fatal(err)
			}
			wantOutcomes(t, res, tc.want...)
		})
	}
	// prompts are required by prompt_aware: a case without one says so
	py := python3(t)
	fn, err := NewPython("trl_rewards:prompt_aware", PythonOptions{Interpreter: py, TRL: true, Dir: pyDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer fn.Close()
	_, err = fn.Score(context.Background(), NewCase(nil, "completion", "abc"))
	if err == nil || !strings.Contains(err.Error(), `the function needs prompts: add a "prompt" field to the cases`) {
		t.Errorf("no prompt: err = %v", err)
	}
}

// A target that cannot be loaded stops the probe with one error naming
// the cause, its file and line; it is never a per-case failure.
func TestPythonLoadErrors(t *testing.T) {
	for _, tc := range []struct{ target, want string }{
		{"broken_import:reward", "cannot load broken_import:reward: ModuleNotFoundError: No module named 'goodhart_no_such_module_xyz' (broken_import.py:2)"},
		{"no_such_module_here:reward", "No module named 'no_such_module_here' (run reportgen from the directory that holds it, or give path/to/file.py:FUNCTION)"},
		{"plain_reward:exactt", "plain_reward has no attribute 'exactt' (functions defined there: async_exact, components, exact, lenient, raises, returns_list, returns_nan, returns_none, returns_text)"},
		{"plain_reward:not_callable", "not_callable is a int, not a function"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			res, err := runPython(t, tc.target, "cases.json", PythonOptions{})
			if !errors.Is(err, ErrUnusable) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant ErrUnusable containing %q", err, tc.want)
			}
			for i, o := range res.Outcomes {
				if o.Err == nil {
					t.Errorf("case %d scored", i)
				}
			}
		})
	}
}

func TestPythonTargetErrors(t *testing.T) {
	python3(t)
	for _, tc := range []struct{ target, want string }{
		{"plain_reward", "want MODULE:FUNCTION"},
		{"plain_reward:", "want MODULE:FUNCTION"},
		{":reward", "want MODULE:FUNCTION"},
		{"missing/file.py:reward", "no such file missing/file.py"},
	} {
		if _, err := NewPython(tc.target, PythonOptions{Dir: pyDir(t)}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.target, err, tc.want)
		}
	}
	if _, err := NewPython("plain_reward:exact", PythonOptions{Interpreter: "/nonexistent/python9"}); err == nil || !strings.Contains(err.Error(), "--python /nonexistent/python9: not found") {
		t.Errorf("bad interpreter: err = %v", err)
	}
}

func TestDefaultPythonVirtualenv(t *testing.T) {
	venv := t.TempDir()
	if err := os.MkdirAll(filepath.Join(venv, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	py := filepath.Join(venv, "bin", "python")
	if err := os.WriteFile(py, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VIRTUAL_ENV", venv)
	got, from, err := DefaultPython()
	if err != nil || got != py || from != "$VIRTUAL_ENV" {
		t.Errorf("DefaultPython() = %q, %q, %v; want %q from $VIRTUAL_ENV", got, from, err, py)
	}
	t.Setenv("VIRTUAL_ENV", filepath.Join(venv, "gone"))
	if got, from, err := DefaultPython(); err == nil && (got == py || from != "PATH") {
		t.Errorf("stale VIRTUAL_ENV: DefaultPython() = %q, %q", got, from)
	}
}

// The hack probes run through the adapter like any command.
func TestPythonHacks(t *testing.T) {
	py := python3(t)
	fn, err := NewPython("plain_reward:lenient", PythonOptions{Interpreter: py, Dir: pyDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer fn.Close()
	cs, err := ReadCasesFile(filepath.Join(pyDir(t), "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := Probe(ctx, fn, cs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := Hack(ctx, fn, res, HackOptions{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// "length" pays for padding: on the wrongly answered case 1 padding raises
	// the reward (the others lose correctness, the last line no longer answers)
	if !h.Exploitable {
		t.Fatalf("lenient reward not exploitable: %+v", h.Perturbations)
	}
	for _, p := range h.Perturbations {
		if p.Name == "pad" && (!p.Exploitable || p.Raised != 1 || p.Worst[0].Case != 1) {
			t.Errorf("pad: %+v", p)
		}
	}
}

// A module that takes longer to import than the timeout: the error names
// the target (never the adapter's source) and says what to raise.
func TestPythonSlowImport(t *testing.T) {
	start := time.Now()
	_, err := runPython(t, "slow_import:reward", "cases.json", PythonOptions{Timeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrUnusable) {
		t.Fatalf("err = %v, want ErrUnusable", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "reward function unusable: slow_import:reward (") || strings.Contains(msg, "adapter") ||
		!strings.Contains(msg, "raise --timeout if it loads a model") {
		t.Errorf("message: %s", msg)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s", d)
	}
}
