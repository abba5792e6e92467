package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// followtest-jsonl is a minimal line format for these tests: each non-blank
// line is one reward; anything else is a malformed line. Its name contains
// "jsonl" so that it is followed by lines, and it never claims a file by
// content (no Detect), so other tests' detection is unaffected.
func init() {
	RegisterFormat(&Format{Name: "followtest-jsonl", Read: readFollowTest})
}

func readFollowTest(r io.Reader, name string, opt Options) (*Run, error) {
	sc := bufio.NewScanner(r)
	var rewards []float64
	run := &Run{Grain: GrainCall}
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			iss := Issue{File: name, Line: line, Field: "reward", Msg: "not a number"}
			if opt.Strict {
				return nil, fmt.Errorf("%w: %w", ErrStrict, iss)
			}
			run.Issues = append(run.Issues, iss)
			run.Skipped++
			continue
		}
		rewards = append(rewards, x)
	}
	run.SetLen(len(rewards))
	run.SetColumn(ColReward, rewards)
	return run, nil
}

// collector runs Follow in the background and records its events.
type collector struct {
	mu      sync.Mutex
	events  []FollowEvent
	rewards []float64 // every record delivered, reset on FollowReset
	issues  []Issue
	skipped int
	notices []string
	resets  []string
	idle    int
	cancel  context.CancelFunc
	done    chan error
}

func startFollow(t *testing.T, path string, opt FollowOptions) *collector {
	t.Helper()
	if opt.Interval == 0 {
		opt.Interval = 5 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &collector{cancel: cancel, done: make(chan error, 1)}
	go func() { c.done <- Follow(ctx, path, opt, c.add) }()
	t.Cleanup(func() { c.stop(t) })
	return c
}

func (c *collector) add(ev FollowEvent) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, ev)
	switch ev.Kind {
	case FollowRecords:
		if ev.First != len(c.rewards) {
			return fmt.Errorf("batch starts at record %d, have %d", ev.First, len(c.rewards))
		}
		col, ok := ev.Run.Column(ColReward)
		if !ok {
			col = make([]float64, ev.Run.Len())
			for i := range col {
				col[i] = math.NaN()
			}
		}
		c.rewards = append(c.rewards, col...)
		c.issues = append(c.issues, ev.Run.Issues...)
		c.skipped += ev.Run.Skipped
	case FollowNotice:
		c.notices = append(c.notices, ev.Msg)
	case FollowReset:
		c.resets = append(c.resets, ev.Msg)
		c.rewards = nil
	case FollowIdle:
		c.idle++
	}
	return nil
}

func (c *collector) stop(t *testing.T) {
	c.cancel()
	if err := <-c.done; err != nil {
		t.Errorf("Follow returned %v", err)
	}
	c.done <- nil // later stop calls return at once
}

// waitFor polls cond until it holds; it fails the test after 10s (a hang
// guard, not a timing assertion).
func (c *collector) waitFor(t *testing.T, what string, cond func(c *collector) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		ok := cond(c)
		snap := fmt.Sprintf("rewards=%v notices=%q resets=%q issues=%v idle=%d", c.rewards, c.notices, c.resets, c.issues, c.idle)
		c.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; have %s", what, snap)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// settle waits until the follower is idle having read all of path.
func (c *collector) settle(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, "idle at end of file", func(c *collector) bool {
		if len(c.events) == 0 {
			return false
		}
		ev := c.events[len(c.events)-1]
		return ev.Kind == FollowIdle && ev.Offset == st.Size()
	})
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func TestFollowOnce(t *testing.T) {
	cases := []struct {
		name    string
		content string
		want    []float64
		lines   []int // issue lines
	}{
		{"empty", "", nil, nil},
		{"complete", "1\n2\n3\n", []float64{1, 2, 3}, nil},
		{"last line without newline is read", "1\n2\n3", []float64{1, 2, 3}, nil},
		{"malformed lines counted", "1\nx\n\n2\ny\n3\n", []float64{1, 2, 3}, []int{2, 5}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunk := range []int{0, 2, 3} { // default, and tiny chunks that split lines
				path := filepath.Join(t.TempDir(), "run.log")
				if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
				c := &collector{}
				err := Follow(context.Background(), path, FollowOptions{Options: Options{Format: "followtest-jsonl"}, Once: true, ChunkBytes: chunk}, c.add)
				if err != nil {
					t.Fatalf("chunk %d: %v", chunk, err)
				}
				if !equalFloats(c.rewards, tc.want) {
					t.Errorf("chunk %d: rewards %v, want %v", chunk, c.rewards, tc.want)
				}
				var lines []int
				for _, is := range c.issues {
					lines = append(lines, is.Line)
					if is.File != path {
						t.Errorf("issue file %q, want %q", is.File, path)
					}
				}
				if fmt.Sprint(lines) != fmt.Sprint(tc.lines) || c.skipped != len(tc.lines) {
					t.Errorf("chunk %d: issue lines %v skipped %d, want %v", chunk, lines, c.skipped, tc.lines)
				}
				if c.idle != 1 {
					t.Errorf("chunk %d: %d idle events, want 1", chunk, c.idle)
				}
			}
		})
	}
}

func TestFollowOnceMissingFile(t *testing.T) {
	err := Follow(context.Background(), filepath.Join(t.TempDir(), "nope.jsonl"), FollowOptions{Once: true}, func(FollowEvent) error { return nil })
	if err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("got %v, want a not-exist error", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

func TestFollowStrict(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.log")
	os.WriteFile(path, []byte("1\n2\nbad\n"), 0o644)
	err := Follow(context.Background(), path, FollowOptions{Options: Options{Format: "followtest-jsonl", Strict: true}, Once: true, ChunkBytes: 2}, func(FollowEvent) error { return nil })
	if err == nil || !strings.Contains(err.Error(), ":3:") {
		t.Fatalf("got %v, want a strict error on line 3", err)
	}
}

func TestFollowGrowingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.log")
	c := startFollow(t, path, FollowOptions{Options: Options{Format: "followtest-jsonl"}})

	// Missing: waited for with one message.
	c.waitFor(t, "waiting notice", func(c *collector) bool {
		return len(c.notices) == 1 && strings.Contains(c.notices[0], "waiting for "+path)
	})
	appendFile(t, path, "1\n2\n")
	c.waitFor(t, "first records", func(c *collector) bool { return equalFloats(c.rewards, []float64{1, 2}) })

	// A partial last line waits for its newline.
	appendFile(t, path, "3")
	c.settle(t, path)
	c.mu.Lock()
	got := append([]float64(nil), c.rewards...)
	c.mu.Unlock()
	if !equalFloats(got, []float64{1, 2}) {
		t.Fatalf("partial line was delivered: %v", got)
	}
	appendFile(t, path, ".5\nbad\n4\n")
	c.waitFor(t, "completed line", func(c *collector) bool { return equalFloats(c.rewards, []float64{1, 2, 3.5, 4}) })
	c.mu.Lock()
	if len(c.issues) != 1 || c.issues[0].Line != 4 {
		t.Errorf("issues %v, want one on line 4", c.issues)
	}
	c.mu.Unlock()

	// Truncation: reset, then the new content from the start.
	if err := os.WriteFile(path, []byte("9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, "reset after truncation", func(c *collector) bool {
		return len(c.resets) == 1 && strings.Contains(c.resets[0], "truncated") && equalFloats(c.rewards, []float64{9})
	})

	// Rotation: a new file renamed over the path.
	tmp := filepath.Join(dir, "new.log")
	os.WriteFile(tmp, []byte("7\n8\n5\n6\n"), 0o644)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, "reset after rotation", func(c *collector) bool {
		return len(c.resets) == 2 && strings.Contains(c.resets[1], "replaced") && equalFloats(c.rewards, []float64{7, 8, 5, 6})
	})
	appendFile(t, path, "bad\n")
	c.waitFor(t, "line numbers restart after rotation", func(c *collector) bool {
		return len(c.issues) == 2 && c.issues[1].Line == 5
	})

	// Removal: a notice, and the records already seen are kept.
	os.Remove(path)
	c.waitFor(t, "removed notice", func(c *collector) bool {
		return strings.Contains(c.notices[len(c.notices)-1], "was removed") && len(c.rewards) == 4
	})
}

func TestFollowHeaderFraming(t *testing.T) {
	path := filepath.Join(t.TempDir(), "monitor.csv")
	c := startFollow(t, path, FollowOptions{})
	appendFile(t, path, "#{\"t_start\": 1.5, \"env_id\": \"Hop\"}\n")
	c.waitFor(t, "format notice", func(c *collector) bool {
		return len(c.notices) > 0 && strings.Contains(c.notices[len(c.notices)-1], "cannot tell the format")
	})
	appendFile(t, path, "r,l,t\n1.5,10,0.1\n")
	c.waitFor(t, "first row", func(c *collector) bool { return equalFloats(c.rewards, []float64{1.5}) })
	appendFile(t, path, "2.5,11,0.2\nnot,a,row\n3")
	c.waitFor(t, "second row", func(c *collector) bool { return equalFloats(c.rewards, []float64{1.5, 2.5}) && len(c.issues) == 1 })
	appendFile(t, path, ".5,12,0.3\n")
	c.waitFor(t, "third row", func(c *collector) bool { return equalFloats(c.rewards, []float64{1.5, 2.5, 3.5}) })
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.issues[0].Line != 5 {
		t.Errorf("issue %v, want line 5", c.issues[0])
	}
	for _, ev := range c.events {
		if ev.Kind == FollowRecords && (ev.Run.Format != "sb3-monitor" || ev.Run.Grain != GrainEpisode) {
			t.Errorf("batch format %q grain %q", ev.Run.Format, ev.Run.Grain)
		}
	}
}

func TestFollowWholeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trainer_state.json")
	state := func(rewards ...float64) string {
		var rows []string
		for i, r := range rewards {
			rows = append(rows, fmt.Sprintf(`{"step": %d, "reward": %g}`, i+1, r))
		}
		return `{"global_step": 3, "log_history": [` + strings.Join(rows, ",") + `]}`
	}
	os.WriteFile(path, []byte(state(1, 2)), 0o644)
	c := startFollow(t, path, FollowOptions{})
	c.waitFor(t, "first read", func(c *collector) bool { return equalFloats(c.rewards, []float64{1, 2}) })
	// The trainer rewrites the file whole; only the new rows are delivered.
	os.WriteFile(path, []byte(state(1, 2, 3, 4)), 0o644)
	c.waitFor(t, "new rows", func(c *collector) bool { return equalFloats(c.rewards, []float64{1, 2, 3, 4}) })
	// Caught half-written: a notice, then the complete file.
	os.WriteFile(path, []byte(state(1, 2, 3, 4, 5)[:20]), 0o644)
	c.waitFor(t, "retry notice", func(c *collector) bool {
		return len(c.notices) > 0 && strings.Contains(c.notices[len(c.notices)-1], "retrying")
	})
	os.WriteFile(path, []byte(state(1, 2, 3, 4, 5)), 0o644)
	c.waitFor(t, "fifth row", func(c *collector) bool { return equalFloats(c.rewards, []float64{1, 2, 3, 4, 5}) })
	// Fewer rows: a new run.
	os.WriteFile(path, []byte(state(6)), 0o644)
	c.waitFor(t, "reset", func(c *collector) bool { return len(c.resets) == 1 && equalFloats(c.rewards, []float64{6}) })
}

func TestFollowLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.log")
	os.WriteFile(path, []byte("1\n"+strings.Repeat("9", 100)+"\n2\n"), 0o644)
	c := &collector{}
	err := Follow(context.Background(), path, FollowOptions{Options: Options{Format: "followtest-jsonl"}, Once: true, ChunkBytes: 16, MaxLine: 40}, c.add)
	if err != nil {
		t.Fatal(err)
	}
	if !equalFloats(c.rewards, []float64{1, 2}) || len(c.issues) != 1 || c.issues[0].Line != 2 {
		t.Fatalf("rewards %v issues %v, want [1 2] and one issue on line 2", c.rewards, c.issues)
	}
}

func TestFollowBlockCut(t *testing.T) {
	cases := []struct {
		in   string
		want string // the part delivered now
	}{
		{"Ep 1 | OK | reward=1\n  sources:\n    a: 1\n", ""},
		{"Ep 1 | OK | reward=1\n  a: 1\nEp 2 | OK | reward=2\n  a: 2\n", "Ep 1 | OK | reward=1\n  a: 1\n"},
		{"Ep 1 | OK | reward=1\n  a: 1\nEp 2 | OK | rew", "Ep 1 | OK | reward=1\n  a: 1\n"},
		{"preamble text\nmore\n", "preamble text\nmore\n"},
		{"junk\nEp 3 | OK | reward=1\n", "junk\n"},
	}
	for _, tc := range cases {
		tl := &tailer{framing: FrameBlocks, pending: []byte(tc.in)}
		if got := tc.in[:tl.cut(false)]; got != tc.want {
			t.Errorf("cut(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFramingFor(t *testing.T) {
	for name, want := range map[string]Framing{
		"rewardspy-jsonl": FrameLines, "jsonl": FrameLines, "verl": FrameLines, "verl-jsonl": FrameLines,
		"csv": FrameHeader, "sb3-monitor": FrameHeader, "rewardguard": FrameBlocks,
		"parquet": FrameWhole, "trl": FrameWhole, "tfevents": FrameWhole,
	} {
		if got := FramingFor(name); got != want {
			t.Errorf("FramingFor(%q) = %v, want %v", name, got, want)
		}
	}
}

// BenchmarkFollowGrowth measures the follower while the followed file grows
// by b.N records, appended in batches as a trainer would. It reports the
// live heap before and after (bytes): flat memory means heap-after does not
// grow with b.N.
func BenchmarkFollowGrowth(b *testing.B) {
	path := filepath.Join(b.TempDir(), "run.log")
	os.WriteFile(path, nil, 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	seen := 0
	done := make(chan error, 1)
	go func() {
		done <- Follow(ctx, path, FollowOptions{Options: Options{Format: "followtest-jsonl"}, Interval: time.Millisecond}, func(ev FollowEvent) error {
			if ev.Kind == FollowRecords {
				mu.Lock()
				seen += ev.Run.Len()
				mu.Unlock()
			}
			return nil
		})
	}()
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	var buf bytes.Buffer
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fmt.Fprintf(&buf, "%d.5\n", i%1000)
		if buf.Len() > 64<<10 || i == b.N-1 {
			f.Write(buf.Bytes())
			buf.Reset()
		}
	}
	f.Close()
	for {
		mu.Lock()
		n := seen
		mu.Unlock()
		if n == b.N {
			break
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	after := heap()
	cancel()
	<-done
	b.ReportMetric(float64(before), "heap-before-B")
	b.ReportMetric(float64(after), "heap-after-B")
}

// ExampleFollow reads a log once (Once: a finished file); without Once the
// same call keeps tailing it until the context is cancelled.
func ExampleFollow() {
	dir, _ := os.MkdirTemp("", "follow")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "run.jsonl")
	os.WriteFile(path, []byte(`{"call_id":"a","timestamp":1.0,"step":0,"scalar_reward":0.5,"components":{"total":0.5},"call_duration_ms":1.0,"input_length":3,"output_length":4}
{"call_id":"b","timestamp":2.0,"step":1,"scalar_reward":0.75,"components":{"total":0.75},"call_duration_ms":1.0,"input_length":3,"output_length":5}
not json
`), 0o644)
	err := Follow(context.Background(), path, FollowOptions{Once: true}, func(ev FollowEvent) error {
		switch ev.Kind {
		case FollowRecords:
			rewards, _ := ev.Run.Column(ColReward)
			fmt.Printf("%d new records from #%d (%s): rewards %v, %d skipped\n", ev.Run.Len(), ev.First+1, ev.Run.Format, rewards, ev.Run.Skipped)
			for _, is := range ev.Run.Issues {
				fmt.Println("issue on line", is.Line)
			}
		case FollowIdle:
			fmt.Println("caught up")
		}
		return nil
	})
	fmt.Println("error:", err)
	// Output:
	// 2 new records from #1 (rewardspy-jsonl): rewards [0.5 0.75], 1 skipped
	// issue on line 3
	// caught up
	// error: <nil>
}

// TestFollowMatchesRead: following a file cut into small chunks gives the
// same records as reading it whole, for every format Follow frames by
// lines, header or blocks (and for a whole-file format).
func TestFollowMatchesRead(t *testing.T) {
	dir := t.TempDir()
	hacked := filepath.Join(repoRoot(t), "testdata", "runs", "hacked.jsonl")
	run, err := ReadFile(hacked, Options{})
	if err != nil {
		t.Fatal(err)
	}
	csvPath := filepath.Join(dir, "hacked.csv")
	w, err := LookupWriter("csv", csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(csvPath, func(out io.Writer) error { return w.Write(out, run) }); err != nil {
		t.Fatal(err)
	}
	files := []struct {
		path    string
		framing Framing
	}{
		{hacked, FrameLines},
		{csvPath, FrameHeader},
		{filepath.Join(repoRoot(t), "testdata", "rewardguard", "snake_300.log"), FrameBlocks},
		{filepath.Join(repoRoot(t), "testdata", "trainers", "monitor.csv"), FrameHeader},
		{filepath.Join(repoRoot(t), "testdata", "trainers", "verl_console.log"), FrameLines},
		{filepath.Join(repoRoot(t), "testdata", "trainers", "verl_metrics.jsonl"), FrameLines},
		{filepath.Join(repoRoot(t), "testdata", "trainers", "trl_grpo_collapse.json"), FrameWhole},
	}
	for _, f := range files {
		t.Run(filepath.Base(f.path), func(t *testing.T) {
			want, err := ReadFile(f.path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := FramingFor(want.Format); got != f.framing {
				t.Fatalf("%s is framed by %v, want %v", want.Format, got, f.framing)
			}
			wantR, _ := want.Column(ColReward)
			for _, chunk := range []int{97, 1000, 0} {
				c := &collector{}
				if err := Follow(context.Background(), f.path, FollowOptions{Once: true, ChunkBytes: chunk}, c.add); err != nil {
					t.Fatal(err)
				}
				if !equalFloats(c.rewards, wantR) || c.skipped != want.Skipped {
					t.Errorf("chunk %d: %d records (%d skipped), read whole: %d (%d skipped)", chunk, len(c.rewards), c.skipped, len(wantR), want.Skipped)
				}
				for _, ev := range c.events {
					if ev.Kind == FollowRecords && ev.Run.Len() > 0 && (ev.Run.Format != want.Format || ev.Run.Grain != want.Grain) {
						t.Errorf("chunk %d: batch %s/%s, want %s/%s", chunk, ev.Run.Format, ev.Run.Grain, want.Format, want.Grain)
						break
					}
				}
			}
		})
	}
}

// TestFollowBlocksWaitForNextHeader: a rewardguard episode is delivered
// once the next one starts (more of its lines may still come before).
func TestFollowBlocksWaitForNextHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "train.log")
	block := func(ep int, r float64) string {
		return fmt.Sprintf("Ep %d | SUCCESS | reward=%g\n=== EPISODE DATA ===\ntotal_reward: %g\nsources:\n  food: %g\n  survival: 1.0\n\n", ep, r, r, r-1)
	}
	os.WriteFile(path, []byte("my run\n"+block(1, 2)), 0o644)
	c := startFollow(t, path, FollowOptions{})
	c.settle(t, path)
	c.mu.Lock()
	if len(c.rewards) != 0 {
		t.Errorf("the open episode was delivered: %v", c.rewards)
	}
	c.mu.Unlock()
	appendFile(t, path, block(2, 3)+"Ep 3 | SUCC")
	c.waitFor(t, "episodes 1 and 2", func(c *collector) bool { return equalFloats(c.rewards, []float64{2, 3}) })
	appendFile(t, path, "ESS | reward=4\nsources:\n  food: 3\n")
	c.settle(t, path)
	appendFile(t, path, block(4, 5))
	c.waitFor(t, "episode 3", func(c *collector) bool { return equalFloats(c.rewards, []float64{2, 3, 4}) })
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestFollowWaitsForFormat: a console log that starts with start-up noise
// is waited for until its first metric line tells the format; binary bytes
// are an error at once.
func TestFollowWaitsForFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "train.log")
	os.WriteFile(path, []byte(strings.Repeat("Loading checkpoint shards: 100%| 4/4 [00:03<00:00]\n", 100)), 0o644)
	c := startFollow(t, path, FollowOptions{})
	c.waitFor(t, "format notice", func(c *collector) bool {
		return len(c.notices) > 0 && strings.Contains(c.notices[len(c.notices)-1], "cannot tell the format")
	})
	appendFile(t, path, "(TaskRunner pid=1) step:1 - critic/score/mean:0.5 - response_length/mean:100\nstep:2 - critic/score/mean:0.75 - response_length/mean:120\n")
	c.waitFor(t, "verl records", func(c *collector) bool { return equalFloats(c.rewards, []float64{0.5, 0.75}) })
	c.mu.Lock()
	if len(c.issues) != 0 {
		t.Errorf("noise lines reported as issues: %v", c.issues)
	}
	c.mu.Unlock()

	bin := filepath.Join(t.TempDir(), "x.bin")
	os.WriteFile(bin, []byte("\x00\x01\x02garbage\n"), 0o644)
	err := Follow(context.Background(), bin, FollowOptions{Interval: time.Millisecond}, func(FollowEvent) error { return nil })
	if !errors.Is(err, ErrNotARun) {
		t.Errorf("binary file: %v, want ErrNotARun", err)
	}
}
