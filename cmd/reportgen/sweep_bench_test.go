package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// Sweep benchmarks: `reportgen audit DIR --format json` over many runs,
// with -j 1 and -j 2. They report runs/s, MB/s of input and the peak
// resident set of the test process during the audit (VmHWM, reset before
// each sub-benchmark through /proc/self/clear_refs). Run:
//
//	go test ./cmd/reportgen -run '^$' -bench 'Sweep' -benchtime 1x
//
// Sweep1000Trainer is 1,000 generated TRL trainer_state.json logs of 200
// steps each. Sweep20 is 20 generated rewardspy logs of
// GOODHART_SWEEP_RECORDS records each (default 200,000, ~46 MB a run;
// 1,000,000 is the size, ~230 MB a run), and Sweep20/runs=5,10,20
// shows how time and memory scale with the number of runs.

// writeTrainerState writes a TRL trainer_state.json of steps steps whose
// reward rises from ~0.2 to ~0.8 with seeded noise.
func writeTrainerState(w io.Writer, steps int, seed int64) error {
	rng := rand.New(rand.NewSource(seed))
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "{\n  \"global_step\": %d,\n  \"log_history\": [\n", steps)
	for s := 1; s <= steps; s++ {
		p := float64(s) / float64(steps)
		rew := 0.2 + 0.6*p + 0.05*rng.NormFloat64()
		length := 120 + 40*p + 5*rng.NormFloat64()
		zero := math.Max(0, 0.2-0.1*p+0.03*rng.NormFloat64())
		sep := ","
		if s == steps {
			sep = ""
		}
		fmt.Fprintf(bw, "    {\"step\": %d, \"epoch\": %.4f, \"reward\": %.4f, \"reward_std\": %.4f, \"completions/mean_length\": %.2f, \"frac_reward_zero_std\": %.4f, \"kl\": %.5f, \"loss\": 0.01}%s\n",
			s, p, rew, 0.2+0.02*rng.Float64(), length, zero, 0.001*float64(s), sep)
	}
	fmt.Fprintf(bw, "  ]\n}\n")
	return bw.Flush()
}

// benchDir returns a directory under $TMPDIR (kept between runs; delete
// it to regenerate) after calling fill when it is new.
func benchDir(b *testing.B, name string, fill func(dir string) error) string {
	dir := filepath.Join(os.TempDir(), name)
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return dir
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := fill(dir); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".complete"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

func dirBytes(paths []string) int64 {
	var n int64
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n
}

// resetPeakRSS clears the process's peak RSS (Linux; a no-op elsewhere).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSSMiB reads VmHWM from /proc/self/status (NaN when unavailable).
func peakRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return math.NaN()
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
				return kb / 1024
			}
		}
	}
	return math.NaN()
}

func benchSweep(b *testing.B, args []string, runs int, bytes int64) {
	b.SetBytes(bytes)
	resetPeakRSS()
	start := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var errb strings.Builder
		if code := run(append([]string{"audit", "--format", "json"}, args...), io.Discard, &errb); code != exitOK && code != exitFlagged {
			b.Fatalf("exit %d: %s", code, errb.String())
		}
	}
	b.StopTimer()
	sec := time.Since(start).Seconds() / float64(b.N)
	b.ReportMetric(float64(runs)/sec, "runs/s")
	b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
}

func BenchmarkSweep1000Trainer(b *testing.B) {
	dir := benchDir(b, "goodhart-bench-sweep1000", func(dir string) error {
		for i := range 1000 {
			var buf bytes.Buffer
			if err := writeTrainerState(&buf, 200, int64(i)); err != nil {
				return err
			}
			p := filepath.Join(dir, fmt.Sprintf("run%04d", i), "trainer_state.json")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
				return err
			}
		}
		return nil
	})
	paths, _ := filepath.Glob(filepath.Join(dir, "*", "trainer_state.json"))
	for _, j := range []int{1, 2} {
		b.Run(fmt.Sprintf("j=%d", j), func(b *testing.B) {
			benchSweep(b, []string{dir, "-j", strconv.Itoa(j)}, len(paths), dirBytes(paths))
		})
	}
}

func BenchmarkSweep20(b *testing.B) {
	n := 200_000
	if s := os.Getenv("GOODHART_SWEEP_RECORDS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("GOODHART_SWEEP_RECORDS=%q: want a positive integer", s)
		}
	}
	dir := benchDir(b, fmt.Sprintf("goodhart-bench-sweep20x%d", n), func(dir string) error {
		for i := range 20 {
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("run%02d.jsonl", i)))
			if err != nil {
				return err
			}
			bw := bufio.NewWriterSize(f, 1<<20)
			if err := ingesttest.WriteRewardspyJSONL(bw, n, int64(i+1)); err != nil {
				f.Close()
				return err
			}
			if err := bw.Flush(); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
		}
		return nil
	})
	all, _ := filepath.Glob(filepath.Join(dir, "run*.jsonl"))
	for _, c := range []struct{ runs, j int }{{20, 1}, {20, 2}, {5, 2}, {10, 2}} {
		b.Run(fmt.Sprintf("runs=%d/j=%d", c.runs, c.j), func(b *testing.B) {
			paths := all[:c.runs]
			benchSweep(b, append(append([]string{}, paths...), "-j", strconv.Itoa(c.j)), c.runs, dirBytes(paths))
		})
	}
}
