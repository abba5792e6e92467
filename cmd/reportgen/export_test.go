package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

func TestExportCommand(t *testing.T) {
	dir := t.TempDir()
	in := repoPath("testdata", "runs", "hacked.jsonl")
	orig, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		out    string
		golden string
	}{
		{"csv by extension", []string{"export", in, "-o", "OUT.csv", "--last", "5"}, "OUT.csv", "export_hacked_last5.csv"},
		{"jsonl flags first", []string{"export", "--last", "5", "-o", "OUT.jsonl", in}, "OUT.jsonl", "export_hacked_last5.jsonl"},
		{"forced format", []string{"export", in, "-o", "OUT.txt", "--format", "csv", "--last", "5"}, "OUT.txt", "export_hacked_last5.csv"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.out)
			args := append([]string(nil), c.args...)
			for i, a := range args {
				if a == c.out {
					args[i] = out
				}
			}
			var stdout, stderr bytes.Buffer
			if code := run(args, &stdout, &stderr); code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			if stdout.Len() != 0 || !strings.Contains(stderr.String(), "wrote 5 records") {
				t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, c.golden, got)
		})
	}
	// JSONL export of the whole run is the input, byte for byte; so is
	// parquet -> gzipped csv -> jsonl through the command.
	steps := [][]string{
		{"export", in, "-o", filepath.Join(dir, "a.parquet")},
		{"export", filepath.Join(dir, "a.parquet"), "-o", filepath.Join(dir, "b.csv.gz")},
		{"export", filepath.Join(dir, "b.csv.gz"), "-o", filepath.Join(dir, "c.jsonl")},
	}
	for _, args := range steps {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
	}
	got, _ := os.ReadFile(filepath.Join(dir, "c.jsonl"))
	if !bytes.Equal(got, orig) {
		t.Errorf("jsonl -> parquet -> csv.gz -> jsonl changed the run")
	}
	f, _ := os.Open(filepath.Join(dir, "b.csv.gz"))
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("b.csv.gz is not gzip: %v", err)
	}
	head := make([]byte, 4)
	io.ReadFull(zr, head)
	if string(head) != "step" {
		t.Errorf("b.csv.gz starts %q", head)
	}
	// Stdout.
	var stdout, stderr bytes.Buffer
	if code := run([]string{"export", in, "-o", "-", "--format", "jsonl", "--last", "1"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("stdout export: exit %d %s", code, stderr.String())
	}
	lines := strings.Split(string(orig), "\n")
	if stdout.String() != lines[len(lines)-2]+"\n" {
		t.Errorf("stdout export %q", stdout.String())
	}
}

func TestExportErrors(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "garbage.bin")
	os.WriteFile(bin, []byte{0, 1, 2, 3, 0xff}, 0o644)
	in := repoPath("testdata", "runs", "healthy.jsonl")
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"no output", []string{"export", in}, "-o OUT is required"},
		{"no input", []string{"export", "-o", filepath.Join(dir, "x.csv")}, "exactly one RUN"},
		{"unknown extension", []string{"export", in, "-o", filepath.Join(dir, "x.txt")}, "cannot tell the output format"},
		{"unknown format", []string{"export", in, "-o", filepath.Join(dir, "x.csv"), "--format", "xls"}, "unknown format"},
		{"stdout needs format", []string{"export", in, "-o", "-"}, "needs --format"},
		{"binary input", []string{"export", bin, "-o", filepath.Join(dir, "x.csv")}, "not a run"},
		{"missing input", []string{"export", filepath.Join(dir, "nope.jsonl"), "-o", filepath.Join(dir, "x.csv")}, "no such file"},
		{"bad output dir", []string{"export", in, "-o", filepath.Join(dir, "no", "such", "x.csv")}, "cannot write"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(c.args, &stdout, &stderr); code != exitUsage {
				t.Fatalf("exit %d, want 2 (stderr %q)", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.msg) {
				t.Errorf("stderr %q, want ~%q", stderr.String(), c.msg)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "x.csv")); err == nil {
		t.Errorf("a failed export left an output file")
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"export", "--help"}, &stdout, &stderr); code != exitOK || !strings.Contains(stdout.String(), "Example:") {
		t.Errorf("--help: exit %d %q", code, stdout.String())
	}
	_ = ingest.ErrNotARun
}

// The verl GRPO log exported as rewardspy records: the eval-only row is
// left out with a note, the other columns too, and the file reads back
// (in reportgen, and with rewardspy's record constructor in Python) with
// no malformed record.
func TestExportRewardspyVerl(t *testing.T) {
	src := filepath.Join(ingesttest.SharedDir(t), "realdata", "yushengsu-thu__verl_training_log", "gsm8k__grpo_run_deepseek7b_llm.log")
	if _, err := os.Stat(src); err != nil {
		t.Skipf("skipping: %s not found", src)
	}
	out := filepath.Join(t.TempDir(), "verl.jsonl")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"export", src, "-o", out, "--format", "rewardspy"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, w := range []string{
		"reportgen export: left out 1 row without a reward (eval-only rows; the first at step 1120): a rewardspy record needs scalar_reward\n",
		"reportgen export: left out columns rewardspy records have no field for: clip_ratio, kl, entropy, ",
		"(48 in all) (export to .csv or .parquet to keep them)\n",
		"wrote 1119 records to " + out + " (rewardspy)\n",
	} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
		}
	}
	stdout.Reset()
	stderr.Reset()
	code := run([]string{"audit", out}, &stdout, &stderr)
	if code == exitUsage || stderr.Len() != 0 || !strings.Contains(stdout.String(), "1,119 records") {
		t.Errorf("audit of the export: exit %d, stderr %q\n%s", code, stderr.String(), stdout.String())
	}

	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("skipping the Python half: no python3")
	}
	// rewardspy reads a line as RolloutRecord(**json.loads(line)), a slotted
	// dataclass of these eight fields (the last four with defaults): any
	// other key, or a missing required one, is a TypeError.
	check := `
import json, sys
from dataclasses import dataclass, field
@dataclass(slots=True)
class Record:
    call_id: str
    timestamp: float
    step: int
    scalar_reward: float
    components: dict = field(default_factory=dict)
    call_duration_ms: float = 0.0
    input_length: int = 0
    output_length: int = 0
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    r = Record(**json.loads(line))
    assert isinstance(r.call_id, str) and isinstance(r.step, int), line
    float(r.scalar_reward) + float(r.timestamp) + sum(float(v) for v in r.components.values())
    n += 1
print(n)
`
	got, err := exec.Command(py, "-c", check, out).CombinedOutput()
	if err != nil || strings.TrimSpace(string(got)) != "1119" {
		t.Errorf("python: %v\n%s", err, got)
	}
}

func TestExportRewardspyNoReward(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "evals.jsonl")
	os.WriteFile(in, []byte(`{"step": 1, "eval/acc": 0.5}`+"\n"+`{"step": 2, "eval/acc": 0.6}`+"\n"), 0o644)
	var stdout, stderr bytes.Buffer
	code := run([]string{"export", in, "-o", filepath.Join(dir, "out.jsonl")}, &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "no row of "+in+" has a reward, and a rewardspy record needs one (scalar_reward); export to .csv or .parquet instead") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "out.jsonl")); err == nil {
		t.Error("wrote a file")
	}
}
