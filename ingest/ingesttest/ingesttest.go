// Package ingesttest holds helpers for tests across goodhart: where the
// repository and ../shared are, and skipping cleanly when ../shared is absent
// (a plain clone elsewhere has no ../shared; CI always has it).
package ingesttest

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the directory holding go.mod, walking up from the
// working directory (a package directory under go test).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Testdata returns the path of elem under the repository's testdata/.
func Testdata(t testing.TB, elem ...string) string {
	t.Helper()
	return filepath.Join(append([]string{RepoRoot(t), "testdata"}, elem...)...)
}

// SharedDir returns ../shared beside the repository, or skips the test with
// a clear message when it is not there.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(t), "..", "shared")
	if env := os.Getenv("GOODHART_SHARED"); env != "" {
		dir = env
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("skipping: %s not found (../shared holds the real training logs; CI has it, a plain clone does not; set GOODHART_SHARED to point elsewhere)", dir)
	}
	return dir
}

// RealData returns ../shared/realdata/elem..., skipping when absent.
func RealData(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{SharedDir(t), "realdata"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("skipping: %s not found", p)
	}
	return p
}
