package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

func alignCmd(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = run(append([]string{"align"}, args...), &o, &e)
	return o.String(), e.String(), code
}

type alignIndexCase struct {
	Expected     string             `json:"expected"`
	Options      []string           `json:"options"`
	FinalWeights map[string]float64 `json:"final_weights"`
}

// alignFlagsFromIndex turns index.json's "name=value" options into flags of
// the same name: window=100 -> --window 100, auto_correct=false ->
// --no-auto-correct, open_loop=true -> --open-loop.
func alignFlagsFromIndex(opts []string) []string {
	var out []string
	for _, kv := range opts {
		k, v, _ := strings.Cut(kv, "=")
		flagName := "--" + strings.ReplaceAll(k, "_", "-")
		switch k {
		case "auto_correct":
			if v == "false" || v == "False" || v == "0" {
				out = append(out, "--no-auto-correct")
			}
		case "open_loop":
			if v == "true" || v == "True" || v == "1" {
				out = append(out, "--open-loop")
			}
		default:
			out = append(out, flagName, v)
		}
	}
	return out
}

// TestAlignConformanceCommand runs `reportgen align` on every conformance
// run and matches its audit trail and final weights.
func TestAlignConformanceCommand(t *testing.T) {
	for di, dir := range ingesttest.ConformanceDirs(t, "alignment") {
		raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
		if err != nil {
			t.Fatal(err)
		}
		var index map[string]alignIndexCase
		if err := json.Unmarshal(raw, &index); err != nil {
			t.Fatal(err)
		}
		names := make([]string, 0, len(index))
		for n := range index {
			names = append(names, n)
		}
		sort.Strings(names)
		label := []string{"testdata", "shared"}[min(di, 1)]
		for _, name := range names {
			c := index[name]
			t.Run(label+"/"+name, func(t *testing.T) {
				tmp := t.TempDir()
				trail := filepath.Join(tmp, "audit.csv")
				state := filepath.Join(tmp, "state.json")
				args := append([]string{filepath.Join(dir, name+".csv"), "--expected", c.Expected, "--csv", trail, "--state", state},
					alignFlagsFromIndex(c.Options)...)
				out, errOut, code := alignCmd(args...)
				if code == exitUsage {
					t.Fatalf("exit 2: %s", errOut)
				}
				got, err := os.ReadFile(trail)
				if err != nil {
					t.Fatal(err)
				}
				want, err := os.ReadFile(filepath.Join(dir, name+".expected.csv"))
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range ingesttest.CompareAlignTrail(got, want) {
					t.Error(d)
				}
				var st struct {
					Weights map[string]float64 `json:"weights"`
				}
				raw, _ := os.ReadFile(state)
				if err := json.Unmarshal(raw, &st); err != nil {
					t.Fatal(err)
				}
				if len(st.Weights) != len(c.FinalWeights) {
					t.Errorf("final weights %v, want %v", st.Weights, c.FinalWeights)
				}
				for comp, w := range c.FinalWeights {
					if st.Weights[comp] != w {
						t.Errorf("final weight %s = %v, want %v", comp, st.Weights[comp], w)
					}
					if !strings.Contains(out, strconv.FormatFloat(w, 'f', 4, 64)) {
						t.Errorf("report does not show weight %s=%v:\n%s", comp, w, out)
					}
				}
			})
		}
	}
}

// splitCSV writes the header plus rows [from, to) of a CSV file.
func splitCSV(t *testing.T, src, dst string, from, to int) {
	t.Helper()
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(raw), "\n")
	body := lines[1:]
	if body[len(body)-1] == "" {
		body = body[:len(body)-1]
	}
	if to > len(body) {
		to = len(body)
	}
	if err := os.WriteFile(dst, []byte(lines[0]+strings.Join(body[from:to], "")), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestAlignResumeMatchesOneRun(t *testing.T) {
	dir := repoPath("testdata", "conformance", "alignment")
	tmp := t.TempDir()
	src := filepath.Join(dir, "starve_11.csv")
	exp := "survival=0.15,food=0.60,death=0.05,proximity=0.20"
	full := filepath.Join(tmp, "full.csv")
	if _, e, code := alignCmd(src, "--expected", exp, "--window", "100", "--baseline-steps", "200", "--csv", full); code == exitUsage {
		t.Fatal(e)
	}
	for _, cut := range []int{150, 731} { // inside the warm-up, and after corrections began
		a, b := filepath.Join(tmp, "a.csv"), filepath.Join(tmp, "b.csv")
		splitCSV(t, src, a, 0, cut)
		splitCSV(t, src, b, cut, 1<<30)
		state := filepath.Join(tmp, "state.json")
		t1, t2 := filepath.Join(tmp, "t1.csv"), filepath.Join(tmp, "t2.csv")
		if _, e, code := alignCmd(a, "--expected", exp, "--window", "100", "--baseline-steps", "200", "--csv", t1, "--state", state); code == exitUsage {
			t.Fatal(e)
		}
		out, e, code := alignCmd(b, "--resume", state, "--csv", t2)
		if code == exitUsage {
			t.Fatal(e)
		}
		if !strings.Contains(out, fmt.Sprintf("resumed after record %s", thousands(cut))) {
			t.Errorf("report: %s", out)
		}
		r1, _ := os.ReadFile(t1)
		r2, _ := os.ReadFile(t2)
		joined := string(r1)
		if lines := strings.SplitAfterN(string(r2), "\n", 2); len(lines) == 2 {
			if !strings.HasPrefix(joined, lines[0]) {
				t.Fatalf("headers differ: %q", lines[0])
			}
			joined += lines[1]
		}
		want, _ := os.ReadFile(full)
		if joined != string(want) {
			t.Errorf("cut at %d: resumed trail differs from one run (%d vs %d bytes)", cut, len(joined), len(want))
		}
	}
}

func TestAlignCommandMessages(t *testing.T) {
	dir := repoPath("testdata", "conformance", "alignment")
	src := filepath.Join(dir, "drift_10.csv")
	out, _, code := alignCmd(src, "--expected", "task=0.7,safety=0.3", "--baseline-steps", "5000")
	if code != exitOK || !strings.Contains(out, "Still warming up: 2,000 of 5,000 baseline records") {
		t.Errorf("warm-up (exit %d): %s", code, out)
	}
	out, _, code = alignCmd(src, "--expected", "task=0.7,safety=0.3", "--open-loop", "--no-auto-correct")
	if code != exitFlagged || !strings.Contains(out, "open loop (values as logged)") || !strings.Contains(out, "Corrections: off") {
		t.Errorf("open loop (exit %d): %s", code, out)
	}
	out, _, code = alignCmd(src, "--expected", "task=0.7,safety=0.3", "--z-threshold", "3,task=100,safety=100")
	if !strings.Contains(out, "z threshold 3, safety=100, task=100") || !strings.Contains(out, "Corrections: none") || code != exitOK {
		t.Errorf("per-component thresholds (exit %d): %s", code, out)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{src}, "--expected is required"},
		{[]string{src, "--expected", "task=1", "--z-threshold", "x"}, `--z-threshold "x": "x" is not a number > 0`},
		{[]string{src, "--expected", "task=1", "--window", "0"}, "--window 0: must be > 0"},
		{[]string{src, "--expected", "task=1", "--correction-rate-decay", "-1"}, "must be a number >= 0"},
		{[]string{src, "--resume", src}, "not an alignment state file"},
		{[]string{src, "--expected", "task=-1"}, "expected weight must be a finite number >= 0"},
	}
	for _, c := range cases {
		_, errOut, code := alignCmd(c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("align %v: exit %d, stderr %q, want 2 and %q", c.args, code, errOut, c.want)
		}
	}
	out, _, code = alignCmd("--help")
	for _, f := range []string{"-baseline-steps", "-z-threshold", "-sigmoid-steepness", "-no-auto-correct", "-correction-rate", "-correction-rate-decay",
		"-min-confidence-steps", "-drift-window", "-starvation-window", "-starvation-threshold", "-open-loop", "-csv", "-state", "-resume", "Example:"} {
		if !strings.Contains(out, f) {
			t.Errorf("--help lacks %s", f)
		}
	}
	if code != exitOK {
		t.Errorf("--help exit %d", code)
	}
}

// --resume refuses a state from another run (components it never saw,
// another --expected) and corrupted state, instead of printing "OK".
func TestAlignResumeRefusesForeignState(t *testing.T) {
	dir := repoPath("testdata", "conformance", "alignment")
	tmp := t.TempDir()
	drift := filepath.Join(dir, "drift_10.csv") // task, safety
	starve := filepath.Join(dir, "starve_11.csv")
	state := filepath.Join(tmp, "state.json")
	if _, e, code := alignCmd(drift, "--expected", "task=0.7,safety=0.3", "--state", state); code == exitUsage {
		t.Fatal(e)
	}
	raw, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), `"snapshots"`) {
		t.Errorf("the state holds the snapshot history")
	}
	corrupt := func(name, from, to string) string {
		p := filepath.Join(tmp, name)
		s := string(raw)
		if !strings.Contains(s, from) {
			t.Fatalf("state lacks %q", from)
		}
		os.WriteFile(p, []byte(strings.Replace(s, from, to, 1)), 0o644)
		return p
	}
	var st struct {
		Weights map[string]float64 `json:"weights"`
	}
	json.Unmarshal(raw, &st)
	wSafety := `"safety": ` + strconv.FormatFloat(st.Weights["safety"], 'g', -1, 64)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"other components", []string{starve, "--resume", state}, "has components the state " + state + " never saw (death, food, proximity, survival; it tracks safety, task)"},
		{"other --expected", []string{drift, "--resume", state, "--expected", "task=0.5,safety=0.5"}, "--expected task=0.5,safety=0.5: differs from the state's safety=30%,task=70%"},
		{"negative weight", []string{drift, "--resume", corrupt("neg.json", wSafety, `"safety": -5`)}, "weight of safety is -5, outside [0.1, 5]"},
		{"huge weight", []string{drift, "--resume", corrupt("huge.json", wSafety, `"safety": 1e308`)}, "weight of safety is 1e+308"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := alignCmd(tt.args...)
			if code != exitUsage || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q, want 2 and %q; stdout %q", code, errOut, tt.want, out)
			}
		})
	}
	// The same --expected (any scale) is accepted.
	if _, e, code := alignCmd(drift, "--resume", state, "--expected", "task=7,safety=3"); code == exitUsage {
		t.Errorf("same --expected refused: %s", e)
	}
}
