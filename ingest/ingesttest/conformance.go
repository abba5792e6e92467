package ingesttest

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ConformanceDirs returns the folders holding the conformance cases of one
// kind ("rewardspy", "alignment"): the copy in testdata/conformance, and
// ../shared/conformance (or $GOODHART_SHARED/conformance) when present.
// A missing shared copy is logged, not skipped: testdata's copy still runs.
func ConformanceDirs(t testing.TB, kind string) []string {
	t.Helper()
	dirs := []string{Testdata(t, "conformance", kind)}
	shared := filepath.Join(RepoRoot(t), "..", "shared", "conformance", kind)
	if env := os.Getenv("GOODHART_SHARED"); env != "" {
		shared = filepath.Join(env, "conformance", kind)
	}
	if _, err := os.Stat(shared); err == nil {
		dirs = append(dirs, shared)
	} else {
		t.Logf("%s not found: checking testdata's copies only", shared)
	}
	return dirs
}

// CompareAlignTrail compares an alignment audit trail (CSV) with the
// expected one as the conformance cases require: alignment_score and drift_velocity to
// 1e-6, z_* to 1e-4, ratio_* as numbers ("-0.00" equals "0.00"), every
// other cell byte for byte. It returns at most 10 differences.
func CompareAlignTrail(got, want []byte) []string {
	g, err1 := csv.NewReader(bytes.NewReader(got)).ReadAll()
	w, err2 := csv.NewReader(bytes.NewReader(want)).ReadAll()
	if err1 != nil || err2 != nil {
		return []string{fmt.Sprintf("csv: %v %v", err1, err2)}
	}
	if len(g) == 0 || len(w) == 0 {
		return []string{fmt.Sprintf("%d rows, want %d", len(g), len(w))}
	}
	if strings.Join(g[0], ",") != strings.Join(w[0], ",") {
		return []string{fmt.Sprintf("header %v, want %v", g[0], w[0])}
	}
	var diffs []string
	if len(g) != len(w) {
		diffs = append(diffs, fmt.Sprintf("%d rows, want %d", len(g)-1, len(w)-1))
	}
	for i := 1; i < len(g) && i < len(w) && len(diffs) < 10; i++ {
		for j, name := range w[0] {
			a, b := g[i][j], w[i][j]
			tol := -1.0
			switch {
			case name == "alignment_score" || name == "drift_velocity":
				tol = 1e-6
			case strings.HasPrefix(name, "z_"):
				tol = 1e-4
			case strings.HasPrefix(name, "ratio_"):
				tol = 0
			}
			if tol < 0 {
				if a != b {
					diffs = append(diffs, fmt.Sprintf("row %d (step %s) %s = %q, want %q", i+1, w[i][0], name, a, b))
				}
				continue
			}
			x, e1 := strconv.ParseFloat(a, 64)
			y, e2 := strconv.ParseFloat(b, 64)
			if e1 != nil || e2 != nil || math.Abs(x-y) > tol+1e-12 {
				diffs = append(diffs, fmt.Sprintf("row %d (step %s) %s = %s, want %s", i+1, w[i][0], name, a, b))
			}
		}
	}
	return diffs
}
