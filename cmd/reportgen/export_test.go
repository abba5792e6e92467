package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
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
