package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// sweepDir builds sweep/{a,b,c}/ with the hacked and healthy demo runs and a
// trainer log, plus files that are not runs (a README, an empty file, a
// hidden directory) and one unreadable run in bad/.
func sweepDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	copyFile := func(src, dst string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(repoPath("testdata", "runs", "hacked.jsonl"), filepath.Join(dir, "sweep", "a", "run.jsonl"))
	copyFile(repoPath("testdata", "runs", "healthy.jsonl"), filepath.Join(dir, "sweep", "b", "run.jsonl"))
	copyFile(repoPath("testdata", "trainers", "trl_grpo_collapse.json"), filepath.Join(dir, "sweep", "c", "trainer_state.json"))
	copyFile(repoPath("testdata", "runs", "healthy.jsonl"), filepath.Join(dir, "sweep", ".cache", "run.jsonl"))
	for name, body := range map[string]string{
		"sweep/README.md":   "# my sweep\nseeds 1-3\n",
		"sweep/a/empty.log": "",
		"sweep/b/model.bin": "\x00\x01\x02garbage",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestExpandRuns(t *testing.T) {
	dir := sweepDir(t)
	sw := filepath.Join(dir, "sweep")
	runs, notRuns, err := expandRuns([]string{sw})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range runs {
		rel, _ := filepath.Rel(sw, r.path)
		got = append(got, rel)
		if !r.walked {
			t.Errorf("%s not marked walked", rel)
		}
	}
	// c is an HF output folder (one run); README.md is documentation, not
	// sniffed; empty.log is empty; model.bin is binary; .cache is hidden.
	if strings.Join(got, " ") != "a/run.jsonl b/run.jsonl c" || notRuns != 2 {
		t.Errorf("walk = %v, %d not runs; want a/run.jsonl b/run.jsonl c and 2", got, notRuns)
	}
	runs, _, err = expandRuns([]string{filepath.Join(sw, "*", "run.jsonl"), filepath.Join(sw, "a", "run.jsonl")})
	if err != nil || len(runs) != 2 || runs[0].walked {
		t.Errorf("glob + duplicate: %+v, %v", runs, err)
	}
	if _, _, err := expandRuns([]string{filepath.Join(sw, "*", "nothing.json")}); err == nil || !strings.Contains(err.Error(), "no file matches") {
		t.Errorf("empty glob: %v", err)
	}
}

func TestAuditSweep(t *testing.T) {
	dir := sweepDir(t)
	sw := filepath.Join(dir, "sweep")
	out, errOut, code := runCmd("audit", sw, "-j", "2")
	if code != exitFlagged {
		t.Fatalf("exit %d, want 1 (hacked run flagged)\n%s\n%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "VERDICT") || !strings.HasPrefix(lines[1], "HACKING") || !strings.Contains(lines[1], "a/run.jsonl") {
		t.Errorf("table does not start with the hacked run:\n%s", out)
	}
	if !strings.Contains(out, "3 runs: 1 hacking, 1 pathology, 0 warning, 1 healthy") {
		t.Errorf("summary line missing:\n%s", out)
	}
	if !strings.Contains(errOut, "skipped 2 files that are not training logs") {
		t.Errorf("stderr %q", errOut)
	}
	// -j 1 gives the same table, JSON and CSV agree on the verdicts.
	out1, _, _ := runCmd("audit", sw, "-j", "1")
	if out1 != out {
		t.Errorf("-j 1 and -j 2 differ:\n%s\n---\n%s", out1, out)
	}
	js, _, _ := runCmd("audit", sw, "--format", "json")
	var doc struct {
		Runs     int `json:"runs"`
		ExitCode int `json:"exit_code"`
		Rows     []struct {
			Name, Verdict string
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	if doc.Runs != 3 || doc.ExitCode != 1 || doc.Rows[0].Name != "a/run.jsonl" || doc.Rows[0].Verdict != "hacking" {
		t.Errorf("json %+v", doc)
	}
	csvOut, _, _ := runCmd("audit", sw, "--format", "csv")
	if !strings.HasPrefix(csvOut, "name,path,format,kind,records,verdict") || strings.Count(csvOut, "\n") != 4 {
		t.Errorf("csv:\n%s", csvOut)
	}
	// summary: the same table, exit 0 although a run is flagged.
	if _, _, code := runCmd("summary", sw); code != exitOK {
		t.Errorf("summary exit %d, want 0", code)
	}
}

// TestAuditSweepFailure: one unreadable run makes the exit 2, the others
// are still audited, and the table names the failed one.
func TestAuditSweepFailure(t *testing.T) {
	dir := sweepDir(t)
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{\"scalar_reward\": 1}\nnot json at all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.jsonl")
	out, errOut, code := runCmd("audit", filepath.Join(dir, "sweep", "*", "run.jsonl"), missing, "--findings", filepath.Join(dir, "f.jsonl"))
	if code != exitUsage {
		t.Fatalf("exit %d, want 2\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "FAILED missing.jsonl: ") || !strings.Contains(out, "HACKING") || !strings.Contains(out, "1 failed") {
		t.Errorf("table:\n%s", out)
	}
	if !strings.Contains(errOut, "missing.jsonl failed") {
		t.Errorf("stderr %q", errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "f.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var runs, alerts int
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var f struct{ Row, Path, Error string }
		if err := json.Unmarshal(line, &f); err != nil {
			t.Fatal(err)
		}
		switch f.Row {
		case "run":
			runs++
		case "alert":
			alerts++
		}
		if f.Path == missing && f.Error == "" {
			t.Errorf("failed run without error: %s", line)
		}
	}
	if runs != 3 || alerts == 0 {
		t.Errorf("findings: %d run rows, %d alert rows", runs, alerts)
	}
}

func TestAuditSweepUsage(t *testing.T) {
	hacked := repoPath("testdata", "runs", "hacked.jsonl")
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"audit", hacked, "--format", "csv"}, "--format csv is the sweep table"},
		{[]string{"audit", hacked, "--findings", "x.parquet"}, "--findings is written for several runs"},
		{[]string{"audit", hacked, hacked, "--findings", "x.txt"}, "name it .parquet or .jsonl"},
		{[]string{"audit", hacked, hacked, "--junit", "x.xml"}, "--junit takes one run"},
		{[]string{"audit", hacked, hacked, "-j", "0"}, "-j 0: must be >= 1"},
		{[]string{"audit", filepath.Join(dir, "*.jsonl")}, "no file matches"},
		{[]string{"audit", dir}, "no training log found"},
	} {
		_, errOut, code := runCmd(c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d stderr %q; want 2 and %q", c.args, code, errOut, c.msg)
		}
	}
}

// TestAuditSweepRealData audits all of shared/realdata as one sweep.
func TestAuditSweepRealData(t *testing.T) {
	dir := ingesttest.RealData(t)
	out, errOut, code := runCmd("audit", dir, "--format", "json")
	if code != exitFlagged && code != exitUsage {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var doc struct {
		Runs int `json:"runs"`
		Rows []struct {
			Name, Verdict, Error string
			Records              int
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Runs < 15 {
		t.Errorf("only %d runs found in %s", doc.Runs, dir)
	}
	for _, r := range doc.Rows {
		if r.Verdict != "error" && r.Records == 0 {
			t.Errorf("%s: 0 records", r.Name)
		}
	}
}
