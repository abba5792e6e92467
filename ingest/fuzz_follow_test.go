package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/goodhart-rl/goodhart/ingest"
)

// FuzzFollow feeds arbitrary bytes to ingest.Follow (the path `show
// --follow` takes) in tiny chunks, as a growing file delivers them, and
// checks that it never panics, errors or hangs, that batches are numbered
// without gaps, and that for rewardspy JSONL - where every line stands
// alone - it delivers exactly the records and counts exactly the skipped
// lines that reading the whole file does.
func FuzzFollow(f *testing.F) {
	f.Add([]byte(`{"call_id":"a","step":1,"scalar_reward":0.5,"components":{"x":1}}`+"\n"+`{"scalar_reward":Infinity}`+"\nbad\n\n"), byte(5))
	f.Add([]byte("{\"scalar_reward\":1}\r\n{\"scalar_reward\":true}\n{\"scalar_reward\":2"), byte(1))
	f.Add([]byte("{\"scalar_reward\":1e999}\n{\"scalar_reward\":-0.0}\n"), byte(64))
	f.Fuzz(func(t *testing.T, data []byte, chunk byte) {
		if i := bytes.Index(data, []byte("\ufeff")); i > 0 {
			return // a BOM is skipped at a chunk's start only; mid-file it is text
		}
		path := filepath.Join(t.TempDir(), "run.jsonl")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		opt := ingest.Options{Format: "rewardspy-jsonl"}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		rows, skipped, next := 0, 0, 0
		err := ingest.Follow(ctx, path, ingest.FollowOptions{Options: opt, Once: true, ChunkBytes: int(chunk%64) + 1,
			Interval: time.Millisecond}, func(ev ingest.FollowEvent) error {
			if ev.Kind != ingest.FollowRecords {
				return nil
			}
			if ev.First != next {
				t.Fatalf("batch starts at %d, want %d", ev.First, next)
			}
			next += ev.Run.Len()
			rows += ev.Run.Len()
			skipped += ev.Run.Skipped
			return nil
		})
		if ctx.Err() != nil {
			t.Fatal("Follow did not finish a fixed file")
		}
		if err != nil {
			t.Fatalf("Follow: %v", err)
		}
		run, err := ingest.ReadFile(path, opt)
		if errors.Is(err, ingest.ErrNotARun) {
			if rows != 0 {
				t.Fatalf("Follow delivered %d records of a file with none", rows)
			}
			return
		}
		if err != nil {
			t.Fatalf("ReadFile: %v", err)
		}
		if rows != run.Len() || skipped != run.Skipped {
			t.Fatalf("Follow: %d records, %d skipped; ReadFile: %d, %d", rows, skipped, run.Len(), run.Skipped)
		}
	})
}
