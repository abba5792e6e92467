package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// Whole-process benchmarks of `reportgen audit`: a binary built once (go
// build into $TMPDIR/goodhart-bench-bin) audits a synthetic rewardspy log as a
// child process, so that each figure is what a user sees: wall time, MB/s
// and the child's peak resident memory (getrusage's ru_maxrss). For every
// input (JSONL, Parquet, JSONL.gz, JSONL.zst) two audits run:
// `audit FILE --format json` (every detector; "default") and
// `audit FILE --detectors rewardspy --format json` ("rewardspy").
// MB/s is of the JSONL text of the same records, whatever the input's
// form. Reported per sub-benchmark: wall-s (median of the iterations),
// MB/s (from that median) and peak-RSS-MiB (the largest of the
// iterations). Run:
//
//	go test ./cmd/reportgen -run '^$' -bench 'Audit(10M|1MProcess)$' -benchtime 3x -timeout 2h
//
// BenchmarkAudit10M generates its 10,000,000-record inputs once into
// $TMPDIR/goodhart-bench-10M (JSONL 2.7 GB; the Parquet, .gz and .zst are
// made from it: several minutes the first time, and the Parquet is written
// from the run read whole, ~3 GB of memory once); BenchmarkAudit1MProcess
// reuses $TMPDIR/goodhart-bench-1M of BenchmarkAudit1M. Delete a folder to
// regenerate it.

// benchInput is one input file of the process benchmarks.
type benchInput struct {
	name string // jsonl, parquet, gz, zst
	path string
}

func BenchmarkAudit10M(b *testing.B) {
	auditProcessBench(b, bench10MFiles(b))
}

func BenchmarkAudit1MProcess(b *testing.B) {
	jsonl, parquet := auditBenchFiles(b)
	gz, zst := jsonl+".gz", jsonl+".zst"
	compressBenchFile(b, jsonl, gz, newGzipBench)
	compressBenchFile(b, jsonl, zst, newZstdBench)
	auditProcessBench(b, []benchInput{{"jsonl", jsonl}, {"parquet", parquet}, {"gz", gz}, {"zst", zst}})
}

func newGzipBench(w io.Writer) (io.WriteCloser, error) {
	return gzip.NewWriterLevel(w, gzip.DefaultCompression)
}

func newZstdBench(w io.Writer) (io.WriteCloser, error) {
	return zstd.NewWriter(w, zstd.WithWindowSize(zstdCLIWindow))
}

var bench10M struct {
	once sync.Once
	in   []benchInput
	err  error
}

// bench10MFiles makes (once) the 10M-record inputs.
func bench10MFiles(b *testing.B) []benchInput {
	bench10M.once.Do(func() {
		dir := filepath.Join(os.TempDir(), "goodhart-bench-10M")
		if bench10M.err = os.MkdirAll(dir, 0o755); bench10M.err != nil {
			return
		}
		jsonl := filepath.Join(dir, "bench.jsonl")
		parquet := filepath.Join(dir, "bench.parquet")
		if _, err := os.Stat(jsonl); err != nil {
			b.Logf("writing %s (10,000,000 records)...", jsonl)
			if bench10M.err = ingest.WriteFileAtomic(jsonl, func(w io.Writer) error {
				return ingesttest.WriteRewardspyJSONL(w, 10_000_000, 1)
			}); bench10M.err != nil {
				return
			}
		}
		if _, err := os.Stat(parquet); err != nil {
			b.Logf("writing %s...", parquet)
			run, err := ingest.ReadFile(jsonl, ingest.Options{})
			if err != nil {
				bench10M.err = err
				return
			}
			if bench10M.err = ingest.WriteFileAtomic(parquet, func(w io.Writer) error {
				return ingest.WriteParquet(w, run)
			}); bench10M.err != nil {
				return
			}
		}
		bench10M.in = []benchInput{{"jsonl", jsonl}, {"parquet", parquet}, {"gz", jsonl + ".gz"}, {"zst", jsonl + ".zst"}}
	})
	if bench10M.err != nil {
		b.Fatal(bench10M.err)
	}
	compressBenchFile(b, bench10M.in[0].path, bench10M.in[2].path, newGzipBench)
	compressBenchFile(b, bench10M.in[0].path, bench10M.in[3].path, newZstdBench)
	return bench10M.in
}

var benchBinary struct {
	once sync.Once
	path string
	err  error
}

// reportgenBinary builds this command once per test process into
// $TMPDIR/goodhart-bench-bin/reportgen (overwritten by the next process,
// so stale copies do not pile up).
func reportgenBinary(b *testing.B) string {
	benchBinary.once.Do(func() {
		dir := filepath.Join(os.TempDir(), "goodhart-bench-bin")
		if benchBinary.err = os.MkdirAll(dir, 0o755); benchBinary.err != nil {
			return
		}
		benchBinary.path = filepath.Join(dir, "reportgen")
		var out bytes.Buffer
		cmd := exec.Command("go", "build", "-o", benchBinary.path, ".")
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			benchBinary.err = fmt.Errorf("go build: %v\n%s", err, out.String())
		}
	})
	if benchBinary.err != nil {
		b.Fatal(benchBinary.err)
	}
	return benchBinary.path
}

// auditProcessBench runs the two audits on every input as child processes
// and reports wall time, MB/s and peak RSS (see the comment at the top).
func auditProcessBench(b *testing.B, inputs []benchInput) {
	bin := reportgenBinary(b)
	st, err := os.Stat(inputs[0].path) // the JSONL text
	if err != nil {
		b.Fatal(err)
	}
	mb := float64(st.Size()) / 1e6
	for _, in := range inputs {
		for _, mode := range []struct {
			name string
			args []string
		}{
			{"default", []string{"audit", in.path, "--format", "json"}},
			{"rewardspy", []string{"audit", in.path, "--detectors", "rewardspy", "--format", "json"}},
		} {
			b.Run(in.name+"/"+mode.name, func(b *testing.B) {
				var walls []float64
				var rss int64
				for i := 0; i < b.N; i++ {
					wall, maxrss := runChild(b, bin, mode.args)
					walls = append(walls, wall)
					rss = max(rss, maxrss)
				}
				sort.Float64s(walls)
				med := walls[len(walls)/2]
				b.ReportMetric(med, "wall-s")
				b.ReportMetric(mb/med, "MB/s")
				b.ReportMetric(float64(rss)/1024, "peak-RSS-MiB")
			})
		}
	}
}

// runChild runs bin with args, its output discarded, and returns its wall
// time in seconds and its peak RSS in KiB (Linux reports ru_maxrss in
// KiB). Exit codes 0 and 1 (flagged) are success.
func runChild(b *testing.B, bin string, args []string) (float64, int64) {
	var errb bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, &errb
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0).Seconds()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitFlagged {
			b.Fatalf("reportgen %v: %v\n%s", args, err, errb.String())
		}
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = int64(ru.Maxrss)
	}
	return wall, rss
}
