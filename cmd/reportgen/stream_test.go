package main

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
)

func seqRun(from, n int, cols ...string) *ingest.Run {
	r := ingest.NewRun(n)
	r.Format = "rewardspy-jsonl"
	for _, c := range cols {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(from + i)
		}
		r.SetColumn(c, v)
	}
	return r
}

// sameRun reports the first difference between two runs' columns (NaN
// equals NaN).
func sameRun(a, b *ingest.Run) string {
	if a.Len() != b.Len() || fmt.Sprint(a.Columns()) != fmt.Sprint(b.Columns()) {
		return fmt.Sprintf("%d rows %v vs %d rows %v", a.Len(), a.Columns(), b.Len(), b.Columns())
	}
	for _, c := range a.Columns() {
		x, _ := a.Column(c)
		y, _ := b.Column(c)
		for i := range x {
			if x[i] != y[i] && !(math.IsNaN(x[i]) && math.IsNaN(y[i])) {
				return fmt.Sprintf("%s[%d] = %v vs %v", c, i, x[i], y[i])
			}
		}
	}
	return ""
}

// --last N over chunks: the fewest trailing chunks are kept, and the last
// N rows equal the whole run's, with every column (NaN where a chunk lacks
// it), also columns seen only in dropped chunks.
func TestTailChunks(t *testing.T) {
	chunks := []*ingest.Run{
		seqRun(0, 5, "reward", "extra.x"),
		seqRun(5, 5, "reward"),
		seqRun(10, 3, "reward", "component.a"),
	}
	for _, n := range []int{1, 3, 4, 8, 13, 100} {
		tc := &tailChunks{n: n}
		for _, c := range chunks {
			tc.add(c)
		}
		want := ingest.Concat(chunks...).Last(n)
		if d := sameRun(tc.run(), want); d != "" {
			t.Errorf("last %d: %s", n, d)
		}
		if n == 4 && len(tc.chunks) != 2 {
			t.Errorf("last 4: kept %d chunks, want 2 (5 and 3 rows)", len(tc.chunks))
		}
	}
	if (&tailChunks{n: 3}).run() != nil {
		t.Error("no rows: want a nil run")
	}
}

// An empty log read through the stream fails the audit (exit 2), with the
// file named; in rewardspy mode it says "No records found." and exits 0.
func TestStreamEmptyLog(t *testing.T) {
	path := writeTemp(t, nil)
	var out, errb strings.Builder
	if code := run([]string{"audit", path}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "holds no records") || !strings.Contains(errb.String(), path) {
		t.Errorf("empty log: exit %d, stderr %q", code, errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"audit", path, "--detectors", "rewardspy"}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "No records found.") {
		t.Errorf("empty log, rewardspy: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}
