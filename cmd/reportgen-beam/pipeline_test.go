package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// The tests run the pipeline on Beam's local prism runner.
func TestMain(m *testing.M) { ptest.MainWithDefault(m, "prism") }

// repo is the goodhart repository root (two levels up).
func repo(t *testing.T, elem ...string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(append([]string{"..", ".."}, elem...)...))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func copyTo(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeTo(t, dst, b)
}

func writeTo(t *testing.T, dst string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sweep lays out one run per directory: the demo runs and trainer logs of
// testdata, four generated rewardspy logs, a generated divergence run, and
// one run that cannot be read.
func sweep(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "sweep")
	copyTo(t, repo(t, "testdata", "runs", "hacked.jsonl"), filepath.Join(dir, "hacked", "run.jsonl"))
	copyTo(t, repo(t, "testdata", "runs", "healthy.jsonl"), filepath.Join(dir, "healthy", "run.jsonl"))
	for _, f := range []string{"trl_grpo_collapse.json", "trl_legacy_truncation.json", "verl_console.log", "monitor.csv", "small.tfevents"} {
		copyTo(t, repo(t, "testdata", "trainers", f), filepath.Join(dir, "trainer-"+strings.TrimSuffix(f, filepath.Ext(f)), f))
	}
	for seed := int64(1); seed <= 4; seed++ {
		var b bytes.Buffer
		if err := ingesttest.WriteRewardspyJSONL(&b, 3000, seed); err != nil {
			t.Fatal(err)
		}
		writeTo(t, filepath.Join(dir, "gen", "seed"+string(rune('0'+seed)), "run.jsonl"), b.Bytes())
	}
	var b bytes.Buffer
	if err := ingesttest.WriteDivergenceSteps(&b); err != nil {
		t.Fatal(err)
	}
	writeTo(t, filepath.Join(dir, "divergence", "run.jsonl"), b.Bytes())
	writeTo(t, filepath.Join(dir, "broken", "run.jsonl"), []byte("{\"scalar_reward\": \"x\"}\n"))
	return dir
}

// reportgen builds the CLI of the main module once per test binary.
func reportgen(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "reportgen")
	// Built in the main module (its own go.mod and go.sum), not this one.
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/reportgen")
	cmd.Dir = repo(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build reportgen: %v\n%s", err, out)
	}
	return bin
}

func runPipeline(t *testing.T, patterns []string, opt Options) {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	Build(s, patterns, opt)
	if err := ptest.Run(p); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
}

// TestPipelineEqualsAudit: on prism, the pipeline's findings (JSONL and
// Parquet) and its sweep table equal 'reportgen audit' over the same runs,
// byte for byte, record for record.
func TestPipelineEqualsAudit(t *testing.T) {
	dir := sweep(t)
	out := t.TempDir()
	pattern := filepath.Join(dir, "*", "*")
	pattern2 := filepath.Join(dir, "gen", "*", "*.jsonl")
	runPipeline(t, []string{pattern, pattern2}, Options{RunKey: "dir", Findings: filepath.Join(out, "beam.jsonl"), Table: filepath.Join(out, "beam.csv")})
	runPipeline(t, []string{pattern, pattern2}, Options{RunKey: "file", Findings: filepath.Join(out, "beam.parquet"), Table: filepath.Join(out, "beam.json")})

	bin := reportgen(t)
	for _, c := range []struct{ findings, format, table string }{{"cli.jsonl", "csv", "cli.csv"}, {"cli.parquet", "json", "cli.json"}} {
		cmd := exec.Command(bin, "audit", pattern, pattern2, "--findings", filepath.Join(out, c.findings), "--format", c.format)
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Fatalf("reportgen audit: %v (want exit 2: one run is broken)", err)
		}
		writeTo(t, filepath.Join(out, c.table), stdout.Bytes())
	}
	for _, pair := range [][2]string{{"beam.jsonl", "cli.jsonl"}, {"beam.parquet", "cli.parquet"}, {"beam.csv", "cli.csv"}, {"beam.json", "cli.json"}} {
		a, err := os.ReadFile(filepath.Join(out, pair[0]))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(out, pair[1]))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
			for i := 0; i < min(len(al), len(bl)); i++ {
				if al[i] != bl[i] {
					t.Errorf("%s and %s differ first at line %d:\n%s\n%s", pair[0], pair[1], i+1, al[i], bl[i])
					break
				}
			}
			t.Errorf("%s (%d bytes) != %s (%d bytes)", pair[0], len(a), pair[1], len(b))
		}
	}
	// The table holds every run, the broken one as a failure.
	js, _ := os.ReadFile(filepath.Join(out, "beam.json"))
	if code, err := exitFromOutput(js); err != nil || code != 2 {
		t.Errorf("exit code from the table: %d %v, want 2", code, err)
	}
	if n := strings.Count(string(js), `"path":`); n != 13 {
		t.Errorf("table has %d runs, want 13", n)
	}
}

// TestShardedRun: a run split over several files of one directory (with a
// README beside them) is one run, audited as the whole file is.
func TestShardedRun(t *testing.T) {
	whole, err := os.ReadFile(repo(t, "testdata", "runs", "hacked.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(whole, []byte("\n"))
	dir := filepath.Join(t.TempDir(), "sweep")
	writeTo(t, filepath.Join(dir, "whole", "run.jsonl"), whole)
	writeTo(t, filepath.Join(dir, "sharded", "part-000.jsonl"), bytes.Join(lines[:250], nil))
	writeTo(t, filepath.Join(dir, "sharded", "part-001.jsonl"), bytes.Join(lines[250:], nil))
	writeTo(t, filepath.Join(dir, "sharded", "README"), []byte("two shards of one run\n"))

	ctx := context.Background()
	a := auditGroup(ctx, filepath.Join(dir, "whole"), []string{filepath.Join(dir, "whole", "run.jsonl")}, Options{RunKey: "dir"})
	b := auditGroup(ctx, filepath.Join(dir, "sharded"), []string{filepath.Join(dir, "sharded", "README"),
		filepath.Join(dir, "sharded", "part-000.jsonl"), filepath.Join(dir, "sharded", "part-001.jsonl")}, Options{RunKey: "dir"})
	if b.Row.Error != "" {
		t.Fatalf("sharded run failed: %s", b.Row.Error)
	}
	if b.Row.Path != filepath.Join(dir, "sharded") {
		t.Errorf("sharded run path %q, want its directory", b.Row.Path)
	}
	ra, rb := a.Row, b.Row
	ra.Path, rb.Path, ra.Name, rb.Name = "", "", "", ""
	if !reflect.DeepEqual(nanless(ra.FinalReward), nanless(rb.FinalReward)) || ra.Records != rb.Records || ra.Verdict != rb.Verdict ||
		!reflect.DeepEqual(ra.Flagged, rb.Flagged) || ra.Headline != rb.Headline || len(a.Findings) != len(b.Findings) {
		t.Errorf("sharded run differs from the whole file:\n%+v\n%+v", rb, ra)
	}

	// And through the pipeline, grouped by directory.
	out := filepath.Join(t.TempDir(), "t.json")
	runPipeline(t, []string{filepath.Join(dir, "*", "*")}, Options{RunKey: "dir", Table: out})
	js, _ := os.ReadFile(out)
	if n := strings.Count(string(js), `"path":`); n != 2 || !strings.Contains(string(js), `"name": "sharded"`) {
		t.Errorf("want 2 runs (whole, sharded):\n%s", js)
	}
}

func nanless(x float64) float64 {
	if math.IsNaN(x) {
		return -1
	}
	return x
}

func TestOptionsErrors(t *testing.T) {
	if _, err := (Options{Sensitivity: "extreme"}).config(); err == nil {
		t.Error("bad sensitivity accepted")
	}
	if _, err := (Options{Kind: "bogus"}).config(); err == nil {
		t.Error("bad kind accepted")
	}
	if k := runKey("gs://b/sweep/a/x.log", "dir"); k != "gs://b/sweep/a" {
		t.Errorf("runKey = %q", k)
	}
	if k := runKey("x.log", "dir"); k != "." {
		t.Errorf("runKey = %q", k)
	}
}
