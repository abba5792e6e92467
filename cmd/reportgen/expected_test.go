package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
)

func TestParseWeightsSpellings(t *testing.T) {
	want := map[string]float64{"food": 60, "survival": 40}
	for _, s := range []string{"food=60,survival=40", "food:60,survival:40", " food : 60 , survival=40 ,", "survival:40,food:60"} {
		got, err := parseWeights(s)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parseWeights(%q) = %v, %v", s, got, err)
		}
	}
	// '=' wins; without one the last ':' splits, so a name may hold a colon
	got, err := parseWeights("env:food:0.5,a=b:1")
	if err == nil {
		t.Errorf("a=b:1 parsed: %v", got)
	}
	got, err = parseWeights("env:food:0.5")
	if err != nil || got["env:food"] != 0.5 {
		t.Errorf("env:food:0.5 = %v, %v", got, err)
	}
	for s, msg := range map[string]string{
		"food":           `"food" is not name=weight or name:pct`,
		"food:":          `"food:" is not name=weight`,
		":60":            `":60" is not name=weight`,
		"food:60,food=1": `"food" given twice`,
		"food:sixty":     `food=sixty: not a number`,
		",,":             "empty list",
	} {
		if _, err := parseWeights(s); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("parseWeights(%q) err = %v, want %q", s, err, msg)
		}
	}
}

func TestExpectedFromArgs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a:1")
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct {
		pos      []string
		expected string
		rest     []string
		exp      string
	}{
		{[]string{"run.log", "survival:40", "death:0"}, "food:60", []string{"run.log"}, "food:60,survival:40,death:0"},
		{[]string{"survival=0.4", "run.log"}, "food=0.6", []string{"run.log"}, "food=0.6,survival=0.4"},
		// without --expected nothing moves; a file of that name stays a file
		{[]string{"run.log", "survival:40"}, "", []string{"run.log", "survival:40"}, ""},
		{[]string{file}, "food:60", []string{file}, "food:60"},
		{[]string{"run.log", "x:y"}, "food:60", []string{"run.log", "x:y"}, "food:60"},
	} {
		rest, exp := expectedFromArgs(tc.pos, tc.expected)
		if !reflect.DeepEqual(rest, tc.rest) || exp != tc.exp {
			t.Errorf("expectedFromArgs(%q, %q) = %q, %q; want %q, %q", tc.pos, tc.expected, rest, exp, tc.rest, tc.exp)
		}
	}
}

func TestClosestName(t *testing.T) {
	names := []string{"death", "food", "survival"}
	for s, want := range map[string]string{
		"fod": "food", "Food": "food", "survivl": "survival", "surival": "survival", "deth": "death",
		"x": "", "fuel": "", "safety": "",
	} {
		if got := closestName(s, names); got != want {
			t.Errorf("closestName(%q) = %q, want %q", s, got, want)
		}
	}
	// a tie suggests nothing
	if got := closestName("ab", []string{"aa", "bb"}); got != "" {
		t.Errorf("tie: %q", got)
	}
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"fod", "food", 1}, {"kitten", "sitting", 3}, {"abc", "", 3}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}

func TestCheckExpected(t *testing.T) {
	run := ingest.NewRun(2)
	run.Source = "snake.log"
	run.SetColumn("component.food", []float64{1, 2})
	run.SetColumn("component.survival", []float64{0, 0}) // logged, always 0: a component
	run.SetColumn("component.total", []float64{1, 2})
	if err := checkExpected(map[string]float64{"food": 1, "survival": 1, "total": 0}, run); err != nil {
		t.Errorf("known names: %v", err)
	}
	err := checkExpected(map[string]float64{"fod": 60, "survival": 40, "task": 1}, run)
	want := `--expected: snake.log has no component "fod" (did you mean "food"?) or "task"; its components are food, survival`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant   %s", err, want)
	}
	if err := checkExpected(map[string]float64{"a": 1}, ingest.NewRun(0)); err != nil {
		t.Errorf("a run without components is left to the command: %v", err)
	}
	if err := checkExpected(nil, run); err != nil {
		t.Errorf("no --expected: %v", err)
	}
}

// rewardguard users' spellings give rewardguard's report; a typo is exit 2
// naming the run's components; a component logged as 0 throughout stays
// rewardguard's "completely absent".
func TestBalanceExpectedSpellingsAndTypos(t *testing.T) {
	snake := repoPath("testdata", "rewardguard", "snake.log")
	want, _, code := balanceCmd(snake, "--expected", "food=60,survival=40")
	if code != exitFlagged {
		t.Fatalf("exit %d", code)
	}
	for _, args := range [][]string{
		{"balance", snake, "--expected", "food:60,survival:40"},
		{"balance", snake, "--expected", "food:60", "survival:40"},
		{"analyze", snake, "--expected", "food:60", "survival:40"},
		{"analyze", "--expected", "food:0.6", "survival:0.4", snake},
	} {
		out, errOut, code := runCmd(args...)
		if code != exitFlagged || out != want || errOut != "" {
			t.Errorf("%q: exit %d, stderr %q, stdout differs: %v", args, code, errOut, out != want)
		}
	}
	out, _, code := runCmd("analyze", snake, "--expected", "food:60", "survival:40", "--output", "json")
	if code != exitFlagged || !strings.Contains(out, `"severity": "critical"`) {
		t.Errorf("analyze --output json: exit %d\n%s", code, out)
	}

	out, errOut, code := balanceCmd(snake, "--expected", "fod=60,survival=40")
	wantErr := `reportgen balance: --expected: ` + snake + ` has no component "fod" (did you mean "food"?); its components are death, food, survival` + "\n"
	if code != exitUsage || out != "" || errOut != wantErr {
		t.Errorf("typo: exit %d, stdout %q, stderr %q\nwant %q", code, out, errOut, wantErr)
	}
	if strings.Contains(out+errOut, "REWARD HACKING DETECTED") {
		t.Error("a typo reported as reward hacking")
	}
	_, errOut, code = runCmd("analyze", snake, "--expected", "fod:60", "survival:40")
	if code != exitUsage || !strings.HasPrefix(errOut, "reportgen analyze: --expected:") {
		t.Errorf("analyze typo: exit %d, %q", code, errOut)
	}

	// a source the log records as 0.0 in every episode is completely absent
	dir := t.TempDir()
	log := filepath.Join(dir, "zero.log")
	var b strings.Builder
	for ep := 1; ep <= 3; ep++ {
		b.WriteString("Ep 1 | SUCCESS | reward=5.0\n=== EPISODE DATA ===\ntotal_reward: 5.0\nsteps: 10\nsources:\n  food: 5.0\n  bonus: 0.0\n\n")
	}
	os.WriteFile(log, []byte(b.String()), 0o644)
	out, errOut, code = balanceCmd(log, "--expected", "food:60,bonus:40")
	if code != exitFlagged || !strings.Contains(out, "REWARD HACKING DETECTED: 'bonus' is completely absent (expected 40.0%)") {
		t.Errorf("zero component: exit %d, stderr %q\n%s", code, errOut, out)
	}
}

func TestExpectedNamesCheckedEverywhere(t *testing.T) {
	hacked := repoPath("testdata", "runs", "hacked.jsonl")
	drift := repoPath("testdata", "conformance", "alignment", "drift_10.csv")
	html := filepath.Join(t.TempDir(), "r.html")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"align", drift, "--expected", "task:0.7,safty:0.3"}, `reportgen align: --expected: ` + drift + ` has no component "safty" (did you mean "safety"?); its components are safety, task`},
		{[]string{"align", drift, "--expected", "correctness=1"}, `has no component "correctness"; its components are safety, task`},
		{[]string{"report", hacked, "-o", html, "--expected", "correctnes:0.7,format:0.3"}, `reportgen report: --expected: ` + hacked + ` has no component "correctnes" (did you mean "correctness"?)`},
		{[]string{"show", hacked, "--expected", "correctness=1,fromat=1"}, `reportgen show: --expected: ` + hacked + ` has no component "fromat"`},
	} {
		_, errOut, code := runCmd(tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q\nwant %q", tc.args, code, errOut, tc.want)
		}
	}
	if _, err := os.Stat(html); err == nil {
		t.Error("report written despite the bad --expected")
	}
	// the colon spelling works in align, report and show
	for _, args := range [][]string{
		{"align", drift, "--expected", "task:0.7,safety:0.3"},
		{"align", drift, "--expected", "task:70", "safety:30"},
		{"report", hacked, "-o", html, "--expected", "correctness:0.7,format:0.3"},
		{"show", hacked, "--expected", "correctness:70,format:30"},
	} {
		_, errOut, code := runCmd(args...)
		if code == exitUsage {
			t.Errorf("%q: exit 2: %s", args, errOut)
		}
	}
}

// rewardguard's "cat train.log | rewardguard analyze - --expected ..."
func TestAnalyzeStdin(t *testing.T) {
	snake := repoPath("testdata", "rewardguard", "snake.log")
	want, _, _ := balanceCmd(snake, "--expected", "food=60,survival=40")
	f, err := os.Open(snake)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	out, errOut, code := runCmd("analyze", "-", "--expected", "food:60", "survival:40")
	if code != exitFlagged || out != want || errOut != "" {
		t.Errorf("exit %d, stderr %q, same report %v", code, errOut, out == want)
	}
}
