package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

func TestPlotCommand(t *testing.T) {
	dir := t.TempDir()
	hacked := ingesttest.Testdata(t, "runs", "hacked.jsonl")
	trl := ingesttest.Testdata(t, "trainers", "trl_grpo_collapse.json")
	exp := []string{"--expected", "correctness=0.7,format=0.3"}
	cases := []struct {
		run, kind string
		extra     []string
	}{
		{hacked, "timeline", nil}, {hacked, "components", nil}, {hacked, "balance", exp}, {hacked, "session", exp},
		{hacked, "length", nil}, {trl, "group", nil},
	}
	for _, c := range cases {
		for _, ext := range []string{"png", "svg"} {
			t.Run(c.kind+"."+ext, func(t *testing.T) {
				if _, err := os.Stat(c.run); err != nil {
					t.Skipf("%v", err)
				}
				out := filepath.Join(dir, c.kind+"."+ext)
				args := append([]string{"plot", c.run, "--figure", c.kind, "-o", out}, c.extra...)
				stdout, stderr, code := reportCmd(args...)
				if code != exitOK {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				if stdout != "wrote "+out+"\n" {
					t.Errorf("stdout %q", stdout)
				}
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if ext == "png" {
					if _, err := png.DecodeConfig(bytes.NewReader(b)); err != nil {
						t.Errorf("not a PNG: %v", err)
					}
				} else if !bytes.Contains(b, []byte("<svg")) || !bytes.Contains(b, []byte("@font-face")) {
					t.Error("not an SVG with embedded fonts")
				}
			})
		}
	}
}

func TestPlotErrors(t *testing.T) {
	dir := t.TempDir()
	hacked := ingesttest.Testdata(t, "runs", "hacked.jsonl")
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"no output", []string{"plot", hacked}, "-o is required"},
		{"bad extension", []string{"plot", hacked, "-o", filepath.Join(dir, "x.jpg")}, "name it .png or .svg"},
		{"bad kind", []string{"plot", hacked, "--figure", "pie", "-o", filepath.Join(dir, "x.png")}, `--figure "pie"`},
		{"balance needs expected", []string{"plot", hacked, "--figure", "balance", "-o", filepath.Join(dir, "x.png")}, "needs --expected"},
		{"figure does not apply", []string{"plot", hacked, "--figure", "divergence", "-o", filepath.Join(dir, "x.png")}, "nothing to draw"},
		{"two runs", []string{"plot", hacked, hacked, "-o", filepath.Join(dir, "x.png")}, "exactly one RUN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := reportCmd(c.args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want 2", code)
			}
			if !strings.Contains(stderr, c.msg) {
				t.Errorf("stderr %q lacks %q", stderr, c.msg)
			}
		})
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) > 0 {
		t.Errorf("failed plots left files: %v", m)
	}
}
