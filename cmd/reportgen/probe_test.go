package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goodhart-rl/goodhart/ingest"
)

func probeRun(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = run(append([]string{"probe"}, args...), &o, &e)
	return o.String(), e.String(), code
}

func probeData(name string) string { return filepath.Join("..", "..", "testdata", "probe", name) }

func probePython(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("skipping: no python3 (these tests run the Python reward functions in testdata/probe)")
	}
	return p
}

func TestProbeCommandVerdicts(t *testing.T) {
	py := probePython(t)
	tests := []struct {
		name string
		args []string
		code int
		out  []string
	}{
		{"exact reward is sound", []string{"--cmd", py, "--cmd", probeData("exact_reward.py"), "-p", probeData("cases.json"), "--hacks"},
			exitOK, []string{"10 cases, 10 scored, 0 failed", "mean       0.8000", "verdict: not exploitable by these rewrites."}},
		{"lenient reward is exploitable", []string{"--cmd-json", `["` + py + `","` + probeData("lenient_reward.py") + `"]`, "-p", probeData("cases.jsonl"), "--hacks", "--correct-component", "correctness"},
			exitFlagged, []string{"pad          10      10 (100%)", "verdict: EXPLOITABLE: pad, repeat, answer-spam, fake-final raise the reward"}},
		{"without --hacks no verdict", []string{"--cmd", py, "--cmd", probeData("lenient_reward.py"), "--cases", probeData("cases.json")},
			exitOK, []string{"components (over the cases that have them)", "length       10     0.1028"}},
		{"flags after the case file", []string{probeData("cases.json"), "--cmd", py, "--cmd", probeData("exact_reward.py"), "--concurrency", "2"},
			exitOK, []string{"10 scored"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := probeRun(tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if tt.name == "without --hacks no verdict" && strings.Contains(out, "verdict") {
				t.Errorf("verdict printed without --hacks:\n%s", out)
			}
		})
	}
}

func TestProbeCommandJSONAndOutput(t *testing.T) {
	py := probePython(t)
	dir := t.TempDir()
	outPath := filepath.Join(dir, "probe.jsonl")
	out, errOut, code := probeRun("--cmd", py, "--cmd", probeData("lenient_reward.py"), "-p", probeData("cases.json"),
		"--hacks", "--format", "json", "-o", outPath)
	if code != exitFlagged {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var rep struct {
		Cases       int  `json:"cases"`
		Scored      int  `json:"scored"`
		Exploitable bool `json:"exploitable"`
		Hacks       struct {
			Perturbations []struct {
				Name        string `json:"name"`
				Exploitable bool   `json:"exploitable"`
				Worst       []struct {
					Case int `json:"case"`
				} `json:"worst"`
			} `json:"perturbations"`
		} `json:"hacks"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Cases != 10 || rep.Scored != 10 || !rep.Exploitable || len(rep.Hacks.Perturbations) != 9 ||
		!rep.Hacks.Perturbations[0].Exploitable || len(rep.Hacks.Perturbations[0].Worst) != 3 {
		t.Errorf("json report: %+v", rep)
	}
	if !strings.Contains(errOut, "wrote 10 scored cases to "+outPath) {
		t.Errorf("stderr: %q", errOut)
	}
	run, err := ingest.ReadFile(outPath, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	comps := run.Components()
	if run.Len() != 10 || strings.Join(comps, ",") != "correctness,format,length" {
		t.Errorf("run: %d rows, components %v", run.Len(), comps)
	}
	if r, _ := run.Column(ingest.ColReward); r[0] != 1.60625 {
		t.Errorf("reward[0] = %v, want 1.60625", r[0])
	}
	if l, _ := run.Column(ingest.ColLength); l[0] != 85 {
		t.Errorf("length[0] = %v, want 85", l[0])
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
	// The run is an input like any other: audit reads it.
	if _, e, c := runCmd("summary", outPath); c != exitOK {
		t.Errorf("summary of the probe run: exit %d: %s", c, e)
	}
}

func TestProbeCommandFailures(t *testing.T) {
	py := probePython(t)
	cases := filepath.Join(t.TempDir(), "c.jsonl")
	os.WriteFile(cases, []byte("{\"response\": \"fine\"}\n{\"response\": \"CRASH\"}\n{\"response\": \"NAN\"}\n[\"ok\"]\n"), 0o644)
	out, errOut, code := probeRun("--cmd", py, "--cmd", probeData("faulty_reward.py"), "-p", cases)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, w := range []string{"4 cases, 2 scored, 2 failed", "failures (2; these cases have no reward)",
		"case 1 (" + cases + ":2): reward command exited while scoring this case (exit status 3); stderr: RuntimeError: boom on purpose",
		"case 2 (" + cases + ":3): not a reward: result contains NaN or Infinity"} {
		if !strings.Contains(out, w) {
			t.Errorf("stdout lacks %q:\n%s", w, out)
		}
	}

	// Every case failing is exit 2: the reward function is broken.
	os.WriteFile(cases, []byte("{\"response\": \"NONE\"}\n"), 0o644)
	if _, e, c := probeRun("--cmd", py, "--cmd", probeData("faulty_reward.py"), "-p", cases); c != exitUsage || !strings.Contains(e, "scored none of the 1 cases") {
		t.Errorf("all failed: exit %d, stderr %q", c, e)
	}
}

func TestProbeCommandHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Key") != "k1" {
			w.WriteHeader(401)
			io.WriteString(w, `{"error": "bad key"}`)
			return
		}
		var c struct {
			Kwargs map[string]any `json:"kwargs"`
			Args   []any          `json:"args"`
		}
		json.NewDecoder(r.Body).Decode(&c)
		resp, _ := c.Kwargs["response"].(string)
		if resp == "" && len(c.Args) > 0 {
			resp, _ = c.Args[0].(string)
		}
		// Pays for length: exploitable.
		json.NewEncoder(w).Encode(map[string]float64{"length": float64(len(resp)) / 1000})
	}))
	defer srv.Close()
	out, errOut, code := probeRun("--url", srv.URL, "--header", "X-Key: k1", "-p", probeData("cases.json"), "--hacks")
	if code != exitFlagged || !strings.Contains(out, "with "+srv.URL) || !strings.Contains(out, "EXPLOITABLE") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code = probeRun("--url", srv.URL, "-p", probeData("cases.json"))
	if code != exitUsage || !strings.Contains(out, "HTTP 401 Unauthorized: bad key") {
		t.Errorf("without the key: exit %d\n%s", code, out)
	}
}

func TestProbeCommandUsageErrors(t *testing.T) {
	py := probePython(t)
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte("[\n {\"response\": \"a\"},\n {\"response\": }\n]\n"), 0o644)
	empty := filepath.Join(t.TempDir(), "empty.json")
	os.WriteFile(empty, []byte("[]"), 0o644)
	exact := probeData("exact_reward.py")
	cases := probeData("cases.json")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no function", []string{"-p", cases}, "give exactly one reward function"},
		{"two functions", []string{"--cmd", py, "--url", "http://x/", "-p", cases}, "give exactly one reward function"},
		{"unquoted argv", []string{"--cmd", py, exact, "-p", cases}, "give each command argument its own --cmd"},
		{"no cases", []string{"--cmd", py}, "no case file"},
		{"missing case file", []string{"--cmd", py, "--cmd", exact, "-p", "nope.json"}, "nope.json: no such file"},
		{"bad case file", []string{"--cmd", py, "--cmd", exact, "-p", bad}, bad + ": case 1 (line 3)"},
		{"empty case file", []string{"--cmd", py, "--cmd", exact, "-p", empty}, "has no cases"},
		{"bad format", []string{"--cmd", py, "-p", cases, "--format", "xml"}, `--format "xml"`},
		{"bad cmd-json", []string{"--cmd-json", "python3 r.py", "-p", cases}, "--cmd-json: want a non-empty JSON array"},
		{"bad url", []string{"--url", "localhost:8000", "-p", cases}, "want http://host"},
		{"bad output", []string{"--cmd", py, "-p", cases, "-o", "out.xyz"}, "-o out.xyz"},
		{"bad min share", []string{"--cmd", py, "-p", cases, "--min-share", "2"}, "--min-share 2"},
		{"command not found", []string{"--cmd", "/nonexistent/reward", "-p", cases}, "cannot run /nonexistent/reward"},
		{"header without url", []string{"--cmd", py, "--header", "A: b", "-p", cases}, "--header only applies to --url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := probeRun(tt.args...)
			if code != exitUsage || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q (stdout %q)", code, errOut, tt.want, out)
			}
		})
	}
	out, _, code := probeRun("--help")
	if code != exitOK || !strings.Contains(out, "Usage: reportgen probe") || !strings.Contains(out, "--hacks") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
}

func TestProbePython(t *testing.T) {
	py := probePython(t)
	dir, err := filepath.Abs(probeData("py"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		out  []string // in stdout
		err  string   // in stderr
	}{
		{"module from the current directory, hacks", []string{"--py", "plain_reward:lenient", "-p", "cases.json", "--hacks"},
			exitFlagged, []string{"with plain_reward:lenient (" + py + "): 5 cases, 5 scored, 0 failed", "pad          5       1 (20%)", "verdict: EXPLOITABLE"}, ""},
		{"module with a helper import", []string{"--py", "with_helper:reward", "-p", "cases.json"},
			exitOK, []string{"5 cases, 5 scored, 0 failed", "correctness  5      0.8000"}, ""},
		{"file form", []string{"--py", filepath.Join(dir, "plain_reward.py") + ":exact", "-p", "cases.json"},
			exitOK, []string{"5 scored, 0 failed", "mean       0.8000"}, ""},
		{"TRL batch signature", []string{"--py", "trl_rewards:accuracy_reward", "--trl", "-p", "trl_cases.json"},
			exitOK, []string{"(" + py + ", TRL batch signature): 4 cases, 4 scored, 0 failed", "mean       0.7500"}, ""},
		{"exceptions per case", []string{"--py", "plain_reward:raises", "-p", "cases.json"},
			exitOK, []string{"5 cases, 2 scored, 3 failed",
				"case 4 (cases.json:6): reward function error: ValueError: invalid literal for int() with base 10: '3.14' (plain_reward.py:42)"}, ""},
		{"None per case", []string{"--py", "plain_reward:returns_none", "-p", "cases.json"},
			exitOK, []string{"case 1 (cases.json:3): reward function error: returned None; a reward function must return a number or a dict of numbers (missing return?)"}, ""},
		{"TRL list of the wrong length", []string{"--py", "trl_rewards:wrong_length", "--trl", "-p", "trl_cases.json"},
			exitUsage, []string{"4 cases, 0 scored, 4 failed", "returned 2 rewards for 1 completion"}, "scored none of the 4 cases"},
		{"import error once, exit 2", []string{"--py", "broken_import:reward", "-p", "cases.json"},
			exitUsage, nil, "reportgen probe: cannot load broken_import:reward: ModuleNotFoundError: No module named 'goodhart_no_such_module_xyz' (broken_import.py:2)"},
		{"typo in the function name", []string{"--py", "plain_reward:exakt", "-p", "cases.json"},
			exitUsage, nil, "plain_reward has no attribute 'exakt' (functions defined there: async_exact, components, exact, lenient,"},
		{"no function", []string{"--py", "plain_reward", "-p", "cases.json"},
			exitUsage, nil, `want MODULE:FUNCTION (e.g. my_rewards:reward_fn) or path/to/file.py:FUNCTION`},
		{"--trl without --py", []string{"--cmd", py, "--trl", "-p", "cases.json"},
			exitUsage, nil, "--trl and --python go with --py MODULE:FUNCTION"},
		{"two reward functions", []string{"--py", "plain_reward:exact", "--cmd", py, "-p", "cases.json"},
			exitUsage, nil, "give exactly one reward function"},
	}
	t.Chdir(dir)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "--python", py)
			if tt.name == "--trl without --py" {
				args = tt.args
			}
			out, errOut, code := probeRun(args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if !strings.Contains(errOut, tt.err) {
				t.Errorf("stderr lacks %q:\n%s", tt.err, errOut)
			}
			if strings.Count(errOut, "cannot load") > 1 {
				t.Errorf("the load error is reported more than once:\n%s", errOut)
			}
		})
	}
}

// SIGTERM to probe ends it like SIGINT and stops the reward command with
// its children (the command here sends the signal itself, then hangs).
func TestProbeSIGTERMStopsCommandGroup(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("skipping: no /bin/sh")
	}
	// Safety net: without the fix SIGTERM would end the test binary.
	safety := make(chan os.Signal, 1)
	signal.Notify(safety, syscall.SIGTERM)
	defer signal.Stop(safety)
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "child.pid")
	t.Setenv("FORK_PIDFILE", pidfile)
	t.Setenv("FORK_TERM_AT", "3")
	cases := filepath.Join(dir, "cases.jsonl")
	os.WriteFile(cases, []byte(strings.Repeat("{\"response\": \"x\"}\n", 20)), 0o644)
	start := time.Now()
	_, errOut, code := probeRun("--cmd", "/bin/sh", "--cmd", probeData("forking_reward.sh"), "-p", cases, "--timeout", "60s")
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("probe took %s after SIGTERM", el)
	}
	if code != exitUsage || !strings.Contains(errOut, "interrupted") {
		t.Errorf("exit %d, stderr %q; want 2 and 'interrupted'", code, errOut)
	}
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(5 * time.Second)
	for !pidGone(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the reward command's child %d outlived probe", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pidGone reports whether pid no longer runs (absent or a zombie).
func pidGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
}
