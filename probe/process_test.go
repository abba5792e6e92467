package probe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// processGone reports whether pid no longer runs (absent, or a zombie
// waiting for a reaper that is not us).
func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] == 'Z' || s[i+2] == 'X'
	}
	return false
}

// waitGone waits up to d for pid to be gone.
func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if processGone(pid) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return processGone(pid)
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				return pid
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pid in %s", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A reward command whose child keeps stdout open must not keep Probe (or
// Close) waiting: the process group is killed when the program exits.
func TestCommandChildHoldingStdout(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("skipping: no /bin/sh")
	}
	pidfile := filepath.Join(t.TempDir(), "child.pid")
	cmd := &Command{Argv: []string{"/bin/sh", script(t, "forking_reward.sh")}, Env: []string{"FORK_PIDFILE=" + pidfile}}
	var cases []Case
	for i := 0; i < 50; i++ {
		cases = append(cases, NewCase([]any{fmt.Sprint("r", i)}))
	}
	start := time.Now()
	done := make(chan struct{})
	var res *Results
	var err error
	go func() {
		defer close(done)
		res, err = Probe(context.Background(), cmd, cases, Options{})
		if err == nil {
			err = cmd.Close()
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Probe and Close still running after 20s: a child holding stdout keeps probe waiting")
	}
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 8*time.Second {
		t.Errorf("took %s; want well under the grace periods", el)
	}
	if res.Scored() != len(cases) {
		t.Errorf("scored %d of %d", res.Scored(), len(cases))
	}
	if pid := readPid(t, pidfile); !waitGone(pid, 5*time.Second) {
		t.Errorf("the reward command's child (pid %d) is still running", pid)
		_ = syscallKill(pid)
	}
}

// Killing a hung program kills its children too.
func TestCommandTimeoutKillsGroup(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("skipping: no /bin/sh")
	}
	pidfile := filepath.Join(t.TempDir(), "child.pid")
	src := `sleep 300 & echo $! > "$FORK_PIDFILE"; while IFS= read -r l; do case "$l" in *HANG*) sleep 300;; *) echo 1;; esac; done`
	cmd := &Command{Argv: []string{"/bin/sh", "-c", src}, Env: []string{"FORK_PIDFILE=" + pidfile}, Timeout: 300 * time.Millisecond, Depth: 1}
	defer cmd.Close()
	cases := []Case{NewCase([]any{"a"}), NewCase([]any{"HANG"}), NewCase([]any{"b"})}
	res, err := Probe(context.Background(), cmd, cases, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res.Outcomes[1].Err, ErrTimeout) || res.Outcomes[0].Err != nil || res.Outcomes[2].Err != nil {
		t.Errorf("outcomes: %+v", res.Outcomes)
	}
	// The first copy's child was killed with it (the pid file now names
	// the second copy's child, which Probe's end stops).
	if pid := readPid(t, pidfile); !waitGone(pid, 5*time.Second) {
		t.Errorf("child %d still running", pid)
		_ = syscallKill(pid)
	}
}

// Two result lines per case: the surplus is detected and every case of
// that copy fails; nothing is assigned to a later case.
func TestCommandSurplusOutput(t *testing.T) {
	py := python3(t)
	var cases []Case
	for i := 0; i < 10; i++ {
		cases = append(cases, NewCase([]any{strings.Repeat("x", i)}))
	}
	for _, depth := range []int{1, 0} {
		t.Run(fmt.Sprintf("depth %d", depth), func(t *testing.T) {
			cmd := &Command{Argv: []string{py, script(t, "double_reward.py")}, Depth: depth}
			res := probeCmd(t, cmd, cases)
			if n := res.Scored(); n != 0 {
				t.Errorf("%d cases scored, want 0 (every result is unreliable)", n)
			}
			for i, o := range res.Outcomes {
				if !errors.Is(o.Err, ErrNotAReward) || !strings.Contains(o.Err.Error(), "more result lines than") {
					t.Errorf("case %d: %v, %v; want ErrNotAReward about surplus lines", i, o.Score.Reward, o.Err)
				}
			}
		})
	}
	// A well-behaved command is unaffected, and can be used again after
	// Probe stopped it.
	cmd := NewCommand(py, script(t, "exact_reward.py"))
	defer cmd.Close()
	cs := []Case{NewCase(nil, "response", "Answer: 1", "answer", "1")}
	for round := 0; round < 2; round++ {
		res, err := Probe(context.Background(), cmd, cs, Options{})
		if err != nil || res.Scored() != 1 || res.Outcomes[0].Score.Reward != 1 {
			t.Fatalf("round %d: %v %+v", round, err, res.Outcomes)
		}
	}
	if cmd.Restarts() != 0 {
		t.Errorf("restarts = %d after a clean stop, want 0", cmd.Restarts())
	}
}

// A trailing line after the last result (a log line at exit) is surplus too.
func TestCommandSurplusAtExit(t *testing.T) {
	py := python3(t)
	src := `import sys, json
for line in sys.stdin:
    print(1.0, flush=True)
print("done", flush=True)
`
	cases := []Case{NewCase([]any{"a"}), NewCase([]any{"b"})}
	res := probeCmd(t, &Command{Argv: []string{py, "-c", src}}, cases)
	for i, o := range res.Outcomes {
		if !errors.Is(o.Err, ErrNotAReward) {
			t.Errorf("case %d: %v, want the surplus error", i, o.Err)
		}
	}
}
