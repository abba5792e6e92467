package ingest

import (
	"context"
	"path/filepath"
	"testing"
)

// Malformed lines appended while following are counted exactly like the
// same lines present at start-up (a chunk holding only bad lines used to be
// dropped as "not a run").
func TestFollowCountsAppendedMalformedLines(t *testing.T) {
	for _, c := range []struct {
		format, good, bad string
	}{
		{"rewardspy-jsonl", `{"call_id":"a","step":1,"scalar_reward":0.5,"components":{}}`,
			`{"call_id":"b","step":2,"scalar_reward":Infinity,"components":{}}`},
		{"verl-jsonl", `{"step": 1, "data": {"critic/score/mean": 0.5}}`, `{"step": 2, "data": {"critic/score/mean": NaN}}`},
		{"verl", `step:1 - critic/score/mean:0.5`, `step:2 - critic/score/mean:nan`},
	} {
		t.Run(c.format, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "run.log")
			appendFile(t, path, c.good+"\n"+c.bad+"\n")
			// At start-up: one skipped.
			fc := startFollow(t, path, FollowOptions{Options: Options{Format: c.format}})
			fc.waitFor(t, "start-up issue", func(fc *collector) bool { return fc.skipped == 1 && len(fc.rewards) == 1 })
			fc.settle(t, path)
			// Appended alone: counted too.
			appendFile(t, path, c.bad+"\n")
			fc.waitFor(t, "appended issue", func(fc *collector) bool { return fc.skipped == 2 && len(fc.issues) == 2 })
			fc.mu.Lock()
			if fc.issues[1].Line != 3 {
				t.Errorf("appended issue at line %d, want 3", fc.issues[1].Line)
			}
			fc.mu.Unlock()
			appendFile(t, path, c.good+"\n")
			fc.waitFor(t, "records go on", func(fc *collector) bool { return len(fc.rewards) == 2 })
		})
	}
}

// Once reads a finished file: a cut last row is reported as ReadFile
// reports it; following, the same bytes wait for their newline.
func TestFollowOnceReportsCutLastRow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.csv")
	appendFile(t, path, "step,scalar_reward\n1,0.5\n2,0.665")
	rows, skipped := 0, 0
	err := Follow(context.Background(), path, FollowOptions{Once: true}, func(ev FollowEvent) error {
		if ev.Kind == FollowRecords {
			rows += ev.Run.Len()
			skipped += ev.Run.Skipped
		}
		return nil
	})
	if err != nil || rows != 1 || skipped != 1 {
		t.Fatalf("Once: err %v rows %d skipped %d, want 1 row and 1 skipped", err, rows, skipped)
	}
	fc := startFollow(t, path, FollowOptions{})
	fc.settle(t, path)
	fc.mu.Lock()
	if len(fc.rewards) != 1 || fc.skipped != 0 {
		t.Errorf("following: rewards %v skipped %d, want [0.5] and 0", fc.rewards, fc.skipped)
	}
	fc.mu.Unlock()
}
