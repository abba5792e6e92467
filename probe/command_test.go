package probe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// python3 returns Debian's python3 (or the first on PATH), skipping the
// test when there is none.
func python3(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("skipping: no python3 (the command tests run Python reward functions; apt-get install python3)")
	}
	return p
}

func script(t testing.TB, name string) string {
	return ingesttest.Testdata(t, "probe", name)
}

func probeCmd(t *testing.T, cmd *Command, cases []Case) *Results {
	t.Helper()
	defer cmd.Close()
	res, err := Probe(context.Background(), cmd, cases, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestCommandExactReward(t *testing.T) {
	py := python3(t)
	cases, err := ReadCasesFile(script(t, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	res := probeCmd(t, NewCommand(py, script(t, "exact_reward.py")), cases)
	want := []float64{1, 1, 1, 0, 1, 1, 1, 0, 1, 1}
	for i, o := range res.Outcomes {
		if o.Err != nil || o.Score.Reward != want[i] || o.Score.Components["correctness"] != want[i] {
			t.Errorf("case %d: %+v, want %v", i, o, want[i])
		}
	}
}

func TestCommandArityError(t *testing.T) {
	py := python3(t)
	cases := []Case{NewCase([]any{"Answer: 1", "1", "extra"}), NewCase([]any{"Answer: 1"}), NewCase([]any{"Answer: 1", "1"})}
	res := probeCmd(t, NewCommand(py, script(t, "exact_reward.py")), cases)
	for i, want := range []string{"takes 2 positional arguments but 3 were given", "missing 1 required positional argument"} {
		if err := res.Outcomes[i].Err; !errors.Is(err, ErrFunction) || !strings.Contains(err.Error(), want) {
			t.Errorf("case %d: err = %v, want ErrFunction with %q", i, err, want)
		}
	}
	if o := res.Outcomes[2]; o.Err != nil || o.Score.Reward != 1 {
		t.Errorf("case 2 after arity errors: %+v", o)
	}
}

func TestCommandFailureModes(t *testing.T) {
	py := python3(t)
	responses := []string{"ok-1", "CRASH", "ok-3", "GARBAGE", "ok-5x", "NAN", "NONE", "RAISE", "HANG", "ok-10"}
	var cases []Case
	for i, r := range responses {
		c := NewCase(nil, "response", r)
		c.Index = i
		cases = append(cases, c)
	}
	for _, depth := range []int{1, 0} {
		t.Run(fmt.Sprintf("depth %d", depth), func(t *testing.T) {
			cmd := &Command{Argv: []string{py, script(t, "faulty_reward.py")}, Timeout: 400 * time.Millisecond, Depth: depth}
			res := probeCmd(t, cmd, cases)
			want := map[int]struct {
				err  error
				text string
			}{
				1: {ErrCrashed, "exit status 3); stderr: RuntimeError: boom on purpose"},
				3: {ErrNotAReward, `not JSON: "debug: looking at GARBAGE"`},
				5: {ErrNotAReward, "NaN"},
				6: {ErrNotAReward, "null"},
				7: {ErrFunction, "ValueError: cannot score this"},
				8: {ErrTimeout, "no result within 400ms"},
			}
			for i, o := range res.Outcomes {
				w, bad := want[i]
				if !bad {
					if o.Err != nil || o.Score.Reward != float64(len(responses[i]))/100 {
						t.Errorf("case %d (%s): %v, %v; want %v", i, responses[i], o.Score.Reward, o.Err, float64(len(responses[i]))/100)
					}
					continue
				}
				if !errors.Is(o.Err, w.err) || !strings.Contains(o.Err.Error(), w.text) {
					t.Errorf("case %d (%s): err = %v, want %v containing %q", i, responses[i], o.Err, w.err, w.text)
				}
			}
			// One case at a time, every failure that kills the program has
			// a later case that needs it restarted. Pipelined, the order of
			// the cases on the pipe is not fixed, so neither is the count.
			if got := cmd.Restarts(); depth == 1 && got != 3 {
				t.Errorf("restarts = %d, want 3 (crash, garbage, hang)", got)
			}
		})
	}
}

func TestCommandExitsMidRun(t *testing.T) {
	py := python3(t)
	// Answers two cases, then exits cleanly: the third case in each round
	// is the one the exit is blamed on; the rest go to the restarted copy.
	src := `import sys, json
n = 0
for line in sys.stdin:
    n += 1
    if n == 3:
        sys.exit(0)
    print(json.dumps(len(json.loads(line)["args"][0])), flush=True)
`
	var cases []Case
	for i := 0; i < 7; i++ {
		cases = append(cases, NewCase([]any{strings.Repeat("x", i)}))
	}
	// Depth 1: one case at a time, so which line the exit hits is fixed.
	res := probeCmd(t, &Command{Argv: []string{py, "-c", src}, Depth: 1}, cases)
	for i, o := range res.Outcomes {
		if i == 2 || i == 5 {
			if !errors.Is(o.Err, ErrCrashed) || !strings.Contains(o.Err.Error(), "exit status 0") {
				t.Errorf("case %d: err = %v, want ErrCrashed (exit status 0)", i, o.Err)
			}
			continue
		}
		if o.Err != nil || o.Score.Reward != float64(i) {
			t.Errorf("case %d: %v %v, want %d", i, o.Score.Reward, o.Err, i)
		}
	}
}

func TestCommandUnusable(t *testing.T) {
	py := python3(t)
	tests := []struct {
		name string
		argv []string
		text string
	}{
		{"not found", []string{"/nonexistent/reward-bin"}, "cannot run /nonexistent/reward-bin"},
		{"exits at once", []string{py, "-c", "import sys; sys.stderr.write('SyntaxError: invalid syntax\\n'); sys.exit(1)"},
			"3 starts in a row exited before answering any case; stderr: SyntaxError: invalid syntax"},
		{"prints a banner", []string{py, script(t, "faulty_reward.py"), "BANNER"}, "before answering any case"},
		{"hangs", []string{py, "-c", "import time; time.sleep(60)"}, "hung (no result within 200ms)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cases []Case
			for i := 0; i < 20; i++ {
				cases = append(cases, NewCase([]any{fmt.Sprint("r", i)}))
			}
			cmd := &Command{Argv: tt.argv, Timeout: 200 * time.Millisecond}
			defer cmd.Close()
			_, err := Probe(context.Background(), cmd, cases, Options{})
			if !errors.Is(err, ErrUnusable) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v, want ErrUnusable containing %q", err, tt.text)
			}
		})
	}
}

func TestCommandProcesses(t *testing.T) {
	py := python3(t)
	var cases []Case
	for i := 0; i < 300; i++ {
		ans := fmt.Sprint(i % 7)
		resp := "Answer: " + fmt.Sprint(i%5)
		cases = append(cases, NewCase(nil, "response", resp, "answer", ans))
	}
	cmd := &Command{Argv: []string{py, script(t, "exact_reward.py")}, Processes: 3, Depth: 8}
	if cmd.MaxInFlight() != 24 {
		t.Fatalf("MaxInFlight = %d", cmd.MaxInFlight())
	}
	res := probeCmd(t, cmd, cases)
	for i, o := range res.Outcomes {
		want := 0.0
		if i%5 == i%7 {
			want = 1
		}
		if o.Err != nil || o.Score.Reward != want {
			t.Fatalf("case %d: %v %v, want %v", i, o.Score.Reward, o.Err, want)
		}
	}
}

func TestCommandLongLine(t *testing.T) {
	py := python3(t)
	old := maxLine
	maxLine = 100 << 10
	defer func() { maxLine = old }()
	src := `import sys, json
for line in sys.stdin:
    r = json.loads(line)["args"][0]
    print(json.dumps({"x": "y" * 300000}) if r == "long" else 1.0, flush=True)
`
	cases := []Case{NewCase([]any{"a"}), NewCase([]any{"long"}), NewCase([]any{"b"})}
	res := probeCmd(t, &Command{Argv: []string{py, "-c", src}, Depth: 1}, cases)
	if err := res.Outcomes[1].Err; !errors.Is(err, ErrNotAReward) || !strings.Contains(err.Error(), "longer than 102400 bytes") {
		t.Errorf("long line: %v", err)
	}
	for _, i := range []int{0, 2} {
		if o := res.Outcomes[i]; o.Err != nil || o.Score.Reward != 1 {
			t.Errorf("case %d: %+v", i, o)
		}
	}
}
