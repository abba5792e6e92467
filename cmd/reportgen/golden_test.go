package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update is the package's -update flag: `go test ./cmd/reportgen -update`
// rewrites the golden files under testdata/golden/. Tests of other
// commands in this package should use it too (a second flag.Bool("update")
// would panic).
var update = flag.Bool("update", false, "rewrite golden files under testdata/golden/")

// repoPath returns a path under the repository root (tests run in
// cmd/reportgen).
func repoPath(elem ...string) string {
	return filepath.Join(append([]string{"..", ".."}, elem...)...)
}

// checkGolden compares got with testdata/golden/name, or rewrites it with
// -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := repoPath("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/reportgen -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test ./cmd/reportgen -update rewrites it)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}
