package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func runCmd(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return o.String(), e.String(), code
}

// TestAuditEmptyInput: an empty log is an input error (exit 2), so it
// cannot pass a CI gate; rewardspy's own audit (--detectors rewardspy)
// keeps its "No records found", exit 0.
func TestAuditEmptyInput(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "run.jsonl")
	header := filepath.Join(dir, "monitor.csv")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(header, []byte("#{\"t_start\": 1.0, \"env_id\": \"X\"}\nr,l,t\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		exit int
		want string
	}{
		{[]string{"audit", empty}, 2, "no records to audit: the file holds no records"},
		{[]string{"summary", empty}, 2, "no records to audit"},
		{[]string{"audit", header}, 2, "no records to audit"},
		{[]string{"audit", empty, "--detectors", "rewardspy"}, 0, ""},
	} {
		_, errOut, code := runCmd(c.args...)
		if code != c.exit || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d stderr %q; want exit %d and %q", c.args, code, errOut, c.exit, c.want)
		}
	}
}

func TestAuditSummaryGolden(t *testing.T) {
	hacked := repoPath("testdata", "runs", "hacked.jsonl")
	healthy := repoPath("testdata", "runs", "healthy.jsonl")
	conf := func(c string) string { return repoPath("testdata", "conformance", "rewardspy", c, "run.jsonl") }
	cases := []struct {
		golden string
		args   []string
		exit   int
	}{
		{"audit_hacked.txt", []string{"audit", hacked, "--detectors", "rewardspy"}, 1},
		{"audit_healthy.txt", []string{"audit", healthy, "--detectors", "rewardspy"}, 0},
		{"audit_hacked_last.txt", []string{"audit", "--last", "150", "--sensitivity", "high", hacked, "--detectors", "rewardspy"}, 1},
		{"audit_short_log.txt", []string{"audit", conf("short_log"), "--detectors", "rewardspy"}, 1},
		{"audit_empty.txt", []string{"audit", conf("empty"), "--detectors", "rewardspy"}, 0},
		{"audit_hacked_math_low.txt", []string{"audit", conf("hacked_math"), "--sensitivity", "low", "--detectors", "rewardspy"}, 1},
		{"summary_hacked.txt", []string{"summary", hacked, "--detectors", "rewardspy"}, 0},
		{"summary_healthy.txt", []string{"summary", healthy, "--detectors", "rewardspy"}, 0},
		{"summary_short_log.txt", []string{"summary", conf("short_log"), "--detectors", "rewardspy"}, 0},
		{"summary_empty.txt", []string{"summary", conf("empty"), "--detectors", "rewardspy"}, 0},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			out, errOut, code := runCmd(c.args...)
			if code != c.exit {
				t.Errorf("exit %d, want %d (stderr %q)", code, c.exit, errOut)
			}
			checkGolden(t, c.golden, []byte(out))
		})
	}
}

// The conformance cases through the command itself: `reportgen audit RUN
// --detectors rewardspy --format json` with each case's flags.
func TestAuditConformanceCommand(t *testing.T) {
	dirs, _ := filepath.Glob(repoPath("testdata", "conformance", "rewardspy", "*"))
	if len(dirs) == 0 {
		t.Fatal("no conformance cases")
	}
	n := 0
	for _, dir := range dirs {
		raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
		if err != nil {
			t.Fatal(err)
		}
		var list []struct {
			Args     map[string]any `json:"args"`
			Expected map[string]any `json:"expected"`
		}
		if err := json.Unmarshal(raw, &list); err != nil {
			t.Fatal(err)
		}
		for i, c := range list {
			args := []string{"audit", filepath.Join(dir, "run.jsonl"), "--detectors", "rewardspy", "--format", "json"}
			for _, k := range []string{"window", "sensitivity", "max_reward"} {
				if v, ok := c.Args[k]; ok && v != nil {
					args = append(args, "--"+strings.ReplaceAll(k, "_", "-"), fmt.Sprint(v))
				}
			}
			out, errOut, code := runCmd(args...)
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%s #%d: output is not JSON: %v\n%s%s", dir, i, err, out, errOut)
			}
			if want := int(c.Expected["exit_code"].(float64)); code != want {
				t.Errorf("%s #%d: exit %d, want %d", dir, i, code, want)
			}
			if diff := subsetDiff("", c.Expected, got); diff != "" {
				t.Errorf("%s #%d %v: %s", filepath.Base(dir), i, c.Args, diff)
			}
			n++
		}
	}
	if n < 20 {
		t.Errorf("only %d conformance runs", n)
	}
}

func TestAuditUsageErrors(t *testing.T) {
	hacked := repoPath("testdata", "runs", "hacked.jsonl")
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"audit"}, "want exactly one RUN file"},
		{[]string{"audit", hacked, "--sensitivity", "extreme"}, "want low, medium or high"},
		{[]string{"audit", hacked, "--format", "xml"}, "want text or json"},
		{[]string{"audit", hacked, "--detectors", "variance,bogus"}, `unknown detector "bogus" (valid: all, rewardspy, variance`},
		{[]string{"audit", hacked, "--window", "-3"}, "must be > 0"},
		{[]string{"audit", hacked, "--max-reward", "abc"}, "invalid value"},
		{[]string{"audit", repoPath("testdata", "runs", "no-such-file.jsonl")}, "no-such-file.jsonl"},
		{[]string{"summary", hacked, "--format", "yaml"}, "want text or json"},
		{[]string{"summary"}, "want exactly one RUN file"},
	}
	for _, c := range cases {
		_, errOut, code := runCmd(c.args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want 2", c.args, code)
		}
		if !strings.Contains(errOut, c.msg) || strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
			t.Errorf("%v: stderr %q, want one short message containing %q", c.args, errOut, c.msg)
		}
	}
}

func TestAuditHelp(t *testing.T) {
	for _, cmd := range []string{"audit", "summary"} {
		out, _, code := runCmd(cmd, "--help")
		if code != 0 || !strings.Contains(out, "Example:\n  reportgen "+cmd) || !strings.Contains(out, "-window") {
			t.Errorf("%s --help: exit %d\n%s", cmd, code, out)
		}
	}
}

func TestAuditJUnit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.xml")
	_, errOut, code := runCmd("audit", repoPath("testdata", "runs", "hacked.jsonl"), "--detectors", "rewardspy", "--junit", path, "--format", "json")
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("JUnit file does not parse: %v\n%s", err, raw)
	}
	if doc.Tests != 5 || doc.Failures != 4 || len(doc.Suites) != 1 {
		t.Fatalf("tests=%d failures=%d suites=%d, want 5, 4, 1\n%s", doc.Tests, doc.Failures, len(doc.Suites), raw)
	}
	got := map[string]string{}
	for _, c := range doc.Suites[0].Cases {
		got[c.Name] = "pass"
		if c.Failure != nil {
			got[c.Name] = c.Failure.Type
			if c.Failure.Message == "" || !strings.Contains(c.Failure.Body, "step ") {
				t.Errorf("%s: failure without message or alert steps: %+v", c.Name, c.Failure)
			}
		}
	}
	want := map[string]string{"variance": "ALERT", "slope": "pass", "component": "ALERT", "ceiling": "ALERT", "length": "WARNING"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("test cases %v, want %v", got, want)
	}
	// Atomic write: no temporary files left beside it.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files in %s: %v", dir, entries)
	}
	// An unwritable path is an error (exit 2), not a silent loss.
	_, errOut, code = runCmd("audit", repoPath("testdata", "runs", "hacked.jsonl"), "--junit", filepath.Join(dir, "missing", "x.xml"))
	if code != exitUsage || !strings.Contains(errOut, "x.xml") {
		t.Errorf("unwritable junit: exit %d stderr %q", code, errOut)
	}
}

func TestSummaryJSON(t *testing.T) {
	out, _, code := runCmd("summary", repoPath("testdata", "conformance", "rewardspy", "fixture_hacky", "run.jsonl"), "--format", "json", "--detectors", "rewardspy")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var got struct {
		Records int                `json:"records"`
		Summary map[string]float64 `json:"summary"`
		Verdict string             `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	// rewardspy's conformance values for this run at window 100.
	want := map[string]float64{"mean": 1.1000000000000003, "std": 2.2204460492503132e-17, "min": 1.1, "max": 1.1, "p50": 1.1, "p95": 1.1}
	if got.Records != 120 || got.Verdict != "hacking" || !reflect.DeepEqual(got.Summary, want) {
		t.Errorf("got %+v", got)
	}
}

// subsetDiff describes the first place where got lacks or differs from
// want: maps are compared on want's keys only (goodhart adds keys such as
// run_step and verdict), lists element by element, and leaves exactly.
func subsetDiff(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %v, want an object", path, got)
		}
		if path == ".detectors" && len(g) != len(w) {
			return fmt.Sprintf("%s: got %d detectors (%v), want %d", path, len(g), g, len(w))
		}
		for k, wv := range w {
			if d := subsetDiff(path+"."+k, wv, g[k]); d != "" {
				return d
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %d items (%v), want %d", path, len(g), got, len(w))
		}
		for i := range w {
			if d := subsetDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); d != "" {
				return d
			}
		}
	default:
		if !reflect.DeepEqual(want, got) {
			return fmt.Sprintf("%s: got %#v, want %#v", path, got, want)
		}
	}
	return ""
}
