package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// export to OUT ending in .zst writes Zstandard (magic 28 B5 2F FD), with
// the format from the name before it; reading it back gives the same run:
// jsonl -> csv.zst -> jsonl.zst -> jsonl is the input byte for byte.
func TestExportZstd(t *testing.T) {
	dir := t.TempDir()
	in := repoPath("testdata", "runs", "hacked.jsonl")
	orig, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	steps := [][]string{
		{"export", in, "-o", filepath.Join(dir, "a.csv.zst")},
		{"export", filepath.Join(dir, "a.csv.zst"), "-o", filepath.Join(dir, "b.jsonl.ZST")},
		{"export", filepath.Join(dir, "b.jsonl.ZST"), "-o", filepath.Join(dir, "c.jsonl")},
	}
	for _, args := range steps {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
	}
	for _, name := range []string{"a.csv.zst", "b.jsonl.ZST"} {
		data, _ := os.ReadFile(filepath.Join(dir, name))
		if !bytes.HasPrefix(data, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
			t.Errorf("%s is not zstd: starts % x", name, data[:min(4, len(data))])
		}
	}
	got, _ := os.ReadFile(filepath.Join(dir, "c.jsonl"))
	if !bytes.Equal(got, orig) {
		t.Errorf("jsonl -> csv.zst -> jsonl.zst -> jsonl changed the run")
	}
}
