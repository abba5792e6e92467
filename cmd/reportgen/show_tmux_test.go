package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// tmuxSession is one tmux session on a private server (its own socket), so
// the test never touches the user's tmux.
type tmuxSession struct {
	t      *testing.T
	socket string
	name   string
}

func (s *tmuxSession) cmd(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// capture returns the visible pane, one string per row; with escapes, SGR
// attribute sequences are kept.
func (s *tmuxSession) capture(escapes bool) []string {
	args := []string{"capture-pane", "-p", "-t", s.name}
	if escapes {
		args = append(args, "-e")
	}
	return strings.Split(strings.TrimRight(s.cmd(args...), "\n"), "\n")
}

// waitFor polls the pane until every want substring is on it; it fails
// after 30s (a hang guard, not a timing assertion).
func (s *tmuxSession) waitFor(what string, want ...string) []string {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rows := s.capture(false)
		screen := strings.Join(rows, "\n")
		missing := ""
		for _, w := range want {
			if !strings.Contains(screen, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return rows
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: %q never appeared; the pane shows:\n%s", what, missing, screen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// buildReportgen builds the command once into a temporary directory.
func buildReportgen(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "reportgen")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func needTmux(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the tmux-driven terminal test")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt-get install -y tmux): skipping the real-terminal test of `reportgen show --follow`")
	}
}

func startTmux(t *testing.T, env []string, command string) *tmuxSession {
	t.Helper()
	s := &tmuxSession{t: t, socket: fmt.Sprintf("goodhart-test-%d-%d", os.Getpid(), time.Now().UnixNano()), name: "show"}
	args := []string{"-L", s.socket, "-f", "/dev/null", "new-session", "-d", "-s", s.name, "-x", "80", "-y", "24"}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	// Keep the pane after the command ends so its exit line can be read.
	args = append(args, command+"; echo EXITED=$?; sleep 300")
	cmd := exec.Command("tmux", args...)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

func appendLines(t *testing.T, path string, lines []string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		if _, err := f.WriteString(l + "\n"); err != nil {
			t.Fatal(err)
		}
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// TestShowInTmux drives `reportgen show` in a real terminal (tmux, 80x24),
// with the binary built once.
func TestShowInTmux(t *testing.T) {
	needTmux(t)
	bin := buildReportgen(t)
	t.Run("follow", func(t *testing.T) { testShowFollow(t, bin) })
	t.Run("no_color", func(t *testing.T) { testShowNoColor(t, bin) })
}

// testShowFollow runs `reportgen show --follow`, grows the log from the
// test, and reads the screen back: counts, statuses, a new alert, a
// malformed line, pause, export, truncation, resize and quit. It uses
// rewardspy's five detectors, whose behaviour on the demo run is fixed.
func testShowFollow(t *testing.T, bin string) {
	hacked := readLines(t, ingesttest.Testdata(t, "runs", "hacked.jsonl"))
	if len(hacked) < 600 {
		t.Fatalf("testdata/runs/hacked.jsonl has %d lines, want 600", len(hacked))
	}
	dir := t.TempDir()
	run := filepath.Join(dir, "live.jsonl")
	export := filepath.Join(dir, "out.csv")
	appendLines(t, run, hacked[:300])

	s := startTmux(t, nil, fmt.Sprintf("cd %s && %s show live.jsonl --follow --interval 50ms --export out.csv --detectors rewardspy", dir, bin))

	rows := s.waitFor("first 300 records", "following 300 records", "HEALTHY", "variance        OK", "alerts, newest first (0)", "#300 ")
	if len(rows) != 24 {
		t.Errorf("pane has %d rows, want 24", len(rows))
	}
	if !strings.HasPrefix(rows[23], "q quit") {
		t.Errorf("footer %q, want the keys on the last row", rows[23])
	}

	// Training goes on: the reward gets hacked; new alerts appear.
	appendLines(t, run, hacked[300:450])
	rows = s.waitFor("hacked records", "following 450 records", "HACKING", "ceiling         ALERT", "#450 ")
	alertsAt := indexOf(rows, "alerts, newest first (")
	if alertsAt < 0 || !strings.Contains(rows[alertsAt+1], "ALERT") {
		t.Errorf("no alert under the alerts title:\n%s", strings.Join(rows, "\n"))
	}

	// A half-written line waits; a malformed line is counted, not fatal.
	f, _ := os.OpenFile(run, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(hacked[450][:40])
	f.Close()
	appendLines(t, run, []string{hacked[450][40:], "{not json"})
	s.waitFor("malformed line", "following 451 records", "1 malformed skipped, last live.jsonl:452")

	// Pause freezes the screen; new records are counted; resume shows them.
	s.cmd("send-keys", "-t", s.name, "p")
	s.waitFor("paused", "PAUSED (+0 new) 451 records", "p resume")
	appendLines(t, run, hacked[451:460])
	s.waitFor("paused counter", "PAUSED (+9 new) 451 records", "#451 ")
	s.cmd("send-keys", "-t", s.name, "p")
	s.waitFor("resumed", "following 460 records", "#460 ")

	// Export writes the CSV atomically and says so.
	s.cmd("send-keys", "-t", s.name, "e")
	s.waitFor("export notice", "exported 460 records to out.csv")
	if b, err := os.ReadFile(export); err != nil || strings.Count(string(b), "\n") != 461 {
		t.Errorf("export file: %v, %d lines, want a header and 460 rows", err, strings.Count(string(b), "\n"))
	}

	// Truncation (a new run in the same file): notice and reset.
	if err := os.WriteFile(run, []byte(strings.Join(hacked[:10], "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rows = s.waitFor("truncation", "was truncated: reading it again from the start", "following 10 records", "COLLECTING", "alerts, newest first (0)")
	if strings.Contains(strings.Join(rows, "\n"), "HACKING") {
		t.Errorf("state survived the truncation:\n%s", strings.Join(rows, "\n"))
	}

	// Resize: the layout follows the new size.
	s.cmd("resize-window", "-t", s.name, "-x", "100", "-y", "30")
	rows = s.waitFor("resize", "following 10 records")
	deadline := time.Now().Add(30 * time.Second)
	for len(rows) != 30 || !strings.HasPrefix(rows[29], "q quit") || strings.Index(rows[0], "records")+len("records") != 99 {
		if time.Now().After(deadline) {
			t.Fatalf("not redrawn at 100x30:\n%s", strings.Join(rows, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
		rows = s.capture(false)
	}
	s.cmd("resize-window", "-t", s.name, "-x", "80", "-y", "24")
	s.waitFor("resize back", "following 10 records")

	// q quits; the exit code is audit's (0: nothing flagged yet).
	s.cmd("send-keys", "-t", s.name, "q")
	s.waitFor("quit", "EXITED=0")
}

// testShowNoColor checks NO_COLOR: the same screen without any colour
// escape (39/49, "default colour", are allowed), while the coloured run does
// use colour (so the check can fail).
func testShowNoColor(t *testing.T, bin string) {
	run := ingesttest.Testdata(t, "runs", "hacked.jsonl")
	color := regexp.MustCompile(`\x1b\[(?:[0-9]+;)*(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9]+)*m`)
	for _, tc := range []struct {
		env       []string
		wantColor bool
	}{{nil, true}, {[]string{"NO_COLOR=1"}, false}} {
		s := startTmux(t, tc.env, fmt.Sprintf("%s show %s", bin, run))
		s.waitFor("whole file", "600 records", "HACKING", "latest records")
		screen := strings.Join(s.capture(true), "\n")
		if got := color.MatchString(screen); got != tc.wantColor {
			t.Errorf("env %v: colour escapes present = %v, want %v:\n%q", tc.env, got, tc.wantColor, screen)
		}
		s.cmd("send-keys", "-t", s.name, "q")
		s.waitFor("quit", "EXITED=1") // the hacked run is flagged
	}
}

func indexOf(rows []string, prefix string) int {
	for i, r := range rows {
		if strings.HasPrefix(r, prefix) {
			return i
		}
	}
	return -1
}
