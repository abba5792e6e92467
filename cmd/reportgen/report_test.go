package main

import (
	"bufio"
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

func reportCmd(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return o.String(), e.String(), code
}

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	hacked := ingesttest.Testdata(t, "runs", "hacked.jsonl")
	healthy := ingesttest.Testdata(t, "runs", "healthy.jsonl")
	cases := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"hacked run is flagged", []string{"report", hacked, "-o", filepath.Join(dir, "h.html")}, exitFlagged,
			[]string{"Reward hacking", "Reward over the run", "hacked.jsonl"}},
		{"healthy run is clean", []string{"report", healthy, "-o", filepath.Join(dir, "ok.html")}, exitOK,
			[]string{">Healthy", "No detector raised a warning or an alert."}},
		{"empty run in rewardspy mode: collecting, no figures", []string{"report", ingesttest.Testdata(t, "conformance", "rewardspy", "empty", "run.jsonl"),
			"-o", filepath.Join(dir, "empty.html"), "--detectors", "rewardspy"}, exitOK, []string{"Collecting", "Nothing flagged", "records</th><td>0"}},
		{"two runs side by side, flags after the files", []string{"report", hacked, healthy, "-o", filepath.Join(dir, "two.html"),
			"--expected", "correctness=0.7,format=0.3"}, exitFlagged,
			[]string{"Sweep: 2 runs: 1 hacking", "Reward balance by component", "Alignment session", "Balance over the last 200 records"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := reportCmd(c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, c.code, errOut)
			}
			if !strings.HasPrefix(out, "wrote ") {
				t.Errorf("stdout %q", out)
			}
			path := c.args[len(c.args)-1]
			for i, a := range c.args {
				if a == "-o" {
					path = c.args[i+1]
				}
			}
			html, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range c.contains {
				if !strings.Contains(string(html), want) {
					t.Errorf("report lacks %q", want)
				}
			}
		})
	}
	// Atomic write: no temporary files are left beside the reports.
	left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestReportPNGDir(t *testing.T) {
	dir := t.TempDir()
	pngs := filepath.Join(dir, "figs")
	_, errOut, code := reportCmd("report", ingesttest.Testdata(t, "runs", "hacked.jsonl"), "-o", filepath.Join(dir, "r.html"),
		"--png", pngs, "--expected", "correctness=0.7,format=0.3")
	if code != exitFlagged {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, k := range []string{"timeline", "components", "balance", "session", "length"} {
		f, err := os.Open(filepath.Join(pngs, "hacked-"+k+".png"))
		if err != nil {
			t.Errorf("missing %s figure: %v", k, err)
			continue
		}
		if _, err := png.DecodeConfig(f); err != nil {
			t.Errorf("%s: not a PNG: %v", k, err)
		}
		f.Close()
	}
}

func TestReportUsageErrors(t *testing.T) {
	hacked := ingesttest.Testdata(t, "runs", "hacked.jsonl")
	dir := t.TempDir()
	bad := filepath.Join(dir, "garbage.bin")
	os.WriteFile(bad, []byte{0, 1, 2, 3, 0xff, 0xfe}, 0o644)
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"no run", []string{"report", "-o", filepath.Join(dir, "x.html")}, "want at least one RUN file"},
		{"not html", []string{"report", hacked, "-o", filepath.Join(dir, "x.png")}, "name it .html"},
		{"bad expected", []string{"report", hacked, "-o", filepath.Join(dir, "x.html"), "--expected", "a=x"}, "--expected"},
		{"missing file", []string{"report", filepath.Join(dir, "nope.jsonl"), "-o", filepath.Join(dir, "x.html")}, "nope.jsonl"},
		{"not a run", []string{"report", bad, "-o", filepath.Join(dir, "x.html")}, "garbage.bin"},
		{"bad sensitivity", []string{"report", hacked, "-o", filepath.Join(dir, "x.html"), "--sensitivity", "max"}, "--sensitivity"},
		{"unwritable output", []string{"report", hacked, "-o", filepath.Join(dir, "no", "such", "dir", "x.html")}, "x.html"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errOut, code := reportCmd(c.args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want 2; stderr %q", code, errOut)
			}
			if !strings.Contains(errOut, c.msg) {
				t.Errorf("stderr %q lacks %q", errOut, c.msg)
			}
			if n := strings.Count(strings.TrimSpace(errOut), "\n"); n > 2 {
				t.Errorf("error is %d lines; keep it short:\n%s", n+1, errOut)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "x.html")); err == nil {
		t.Error("a failed report left an output file")
	}
}

func TestReportHelp(t *testing.T) {
	out, _, code := reportCmd("report", "--help")
	if code != exitOK || !strings.Contains(out, "Example:") || !strings.Contains(out, "--expected") {
		t.Errorf("help: exit %d\n%s", code, out)
	}
}

// BenchmarkReport1M measures `reportgen report` end to end (read, audit,
// figures, HTML) on a 1,000,000-record rewardspy log.
func BenchmarkReport1M(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "big.jsonl")
	writeBigRun(b, path, 1_000_000)
	out := filepath.Join(dir, "r.html")
	b.ResetTimer()
	for range b.N {
		if _, errOut, code := reportCmd("report", path, "-o", out); code == exitUsage {
			b.Fatal(errOut)
		}
	}
}

// writeBigRun writes n rewardspy records: a noisy rising reward with two
// components and a length.
func writeBigRun(b testing.TB, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	x := uint64(1)
	for i := range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		u := float64(x%10000) / 10000
		task := 0.3 + 0.4*float64(i)/float64(n) + 0.2*u
		form := 0.1 + 0.05*u
		fmt.Fprintf(w, `{"call_id":"c%d","timestamp":%d.0,"step":%d,"scalar_reward":%.4f,"components":{"task":%.4f,"format":%.4f,"total":%.4f},"call_duration_ms":1.5,"input_length":100,"output_length":%d}`+"\n",
			i, 1790000000+i, i, task+form, task, form, task+form, 200+int(u*50))
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
}
