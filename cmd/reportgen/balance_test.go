package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func balanceCmd(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = run(append([]string{"balance"}, args...), &o, &e)
	return o.String(), e.String(), code
}

func TestBalanceCommand(t *testing.T) {
	snake := repoPath("testdata", "rewardguard", "snake.log")

	out, errOut, code := balanceCmd(snake, "--expected", "food=60,survival=40")
	if code != exitFlagged || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	checkGolden(t, "balance_cmd_snake.txt", []byte(out))

	out, _, code = balanceCmd("--format", "json", snake, "--expected", "food=0.6,survival=0.4")
	if code != exitFlagged {
		t.Fatalf("json exit %d", code)
	}
	var js map[string]any
	if err := json.Unmarshal([]byte(out), &js); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range js {
		keys = append(keys, k)
	}
	wantKeys := []string{"episode_count", "expected_percentages", "imbalance_report", "real_percentages", "severity",
		"sources_found", "suggested_reward_weights", "unexpected_sources"}
	if !sameSet(keys, wantKeys) {
		t.Errorf("JSON keys %v, want %v", keys, wantKeys)
	}
	wantW := map[string]any{"death": 1.0, "food": 1.8, "survival": 1.46}
	if !reflect.DeepEqual(js["suggested_reward_weights"], wantW) || js["severity"] != "critical" || js["episode_count"] != 3.0 {
		t.Errorf("JSON %s", out)
	}
	entry := js["imbalance_report"].(map[string]any)["death"].(map[string]any)
	var ekeys []string
	for k := range entry {
		ekeys = append(ekeys, k)
	}
	if !sameSet(ekeys, []string{"real", "expected", "difference", "abs_difference", "status", "severity", "recommendation", "unexpected"}) || entry["unexpected"] != true {
		t.Errorf("imbalance_report entry %v", entry)
	}

	out, _, code = balanceCmd(snake, "--expected", "food=60,survival=40", "--format", "csv")
	wantCSV := "source,real_pct,expected_pct,difference,severity,weight,recommendation\n" +
		"death,67.75,0,67.75,critical,1,CRITICAL: Decrease weight by ~67.8%\n" +
		"food,16.4,60,-43.6,critical,1.8,CRITICAL: Increase weight by ~43.6%\n" +
		"survival,15.85,40,-24.15,critical,1.46,CRITICAL: Increase weight by ~24.1%\n"
	if out != wantCSV || code != exitFlagged {
		t.Errorf("csv (exit %d):\n%s\nwant\n%s", code, out, wantCSV)
	}

	// A loose tolerance and a window: warning at most, exit 0.
	out, _, code = balanceCmd(snake, "--expected", "food=20,survival=20,death=60", "--tolerance", "10", "--format", "csv", "--imbalanced-only")
	if code != exitOK || strings.Count(out, "\n") != 1 {
		t.Errorf("tolerance 10, imbalanced only (exit %d):\n%s", code, out)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		if m[x] == 0 {
			return false
		}
		m[x]--
	}
	return true
}

func TestBalanceWithoutExpected(t *testing.T) {
	out, errOut, code := balanceCmd(repoPath("testdata", "rewardguard", "snake.log"))
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errOut, "no --expected given, so the observed shares are used as expected (death=67.75,food=16.4,survival=15.85)") ||
		!strings.Contains(errOut, "--expected death=1,food=1,survival=1") {
		t.Errorf("stderr %q", errOut)
	}
	if !strings.Contains(out, "All reward sources are well balanced.") {
		t.Errorf("stdout %s", out)
	}
}

func TestBalanceCommandErrors(t *testing.T) {
	dir := t.TempDir()
	noComp := filepath.Join(dir, "plain.jsonl")
	os.WriteFile(noComp, []byte(`{"step": 1, "reward": 0.5}`+"\n"+`{"step": 2, "reward": 0.7}`+"\n"), 0o644)
	snake := repoPath("testdata", "rewardguard", "snake.log")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{snake, "--expected", "food=-1,survival=1"}, "expected weight must be a finite number >= 0"},
		{[]string{snake, "--expected", "food=0,survival=0"}, "must sum to a positive number"},
		{[]string{snake, "--expected", "food"}, `"food" is not name=weight or name:pct`},
		{[]string{snake, "--format", "xml"}, `--format "xml": want text, json or csv`},
		{[]string{snake, "--window", "-3"}, "--window -3: must be >= 0"},
		{[]string{snake, "--tolerance", "-1"}, "--tolerance -1: must be a number >= 0"},
		{[]string{}, "want exactly one RUN file, got 0"},
		{[]string{filepath.Join(dir, "missing.log")}, "no such file"},
		{[]string{noComp, "--expected", "a=1"}, "run has no reward components: this needs per-component rewards"},
		{[]string{noComp}, "run has no reward components: this needs per-component rewards"},
	}
	for _, c := range cases {
		_, errOut, code := balanceCmd(c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("balance %v: exit %d, stderr %q, want exit 2 and %q", c.args, code, errOut, c.want)
		}
	}
	out, _, code := balanceCmd("--help")
	if code != exitOK || !strings.Contains(out, "Example:\n  reportgen balance train.log --expected") || !strings.Contains(out, "-imbalanced-only") {
		t.Errorf("help (exit %d):\n%s", code, out)
	}
}
