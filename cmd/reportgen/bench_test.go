package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// End-to-end benchmarks of `reportgen audit --format json` on a synthetic
// 1,000,000-record rewardspy log, as JSONL and as Parquet: reading,
// the five streaming detectors, every batch detector that applies, and the
// JSON output. They report MB/s of input and the peak heap in use. Run:
//
//	go test ./cmd/reportgen -run '^$' -bench Audit1M -benchtime 3x
//
// The inputs are generated once into $TMPDIR/goodhart-bench-1M (shared with
// the ingest benchmarks; delete it to regenerate).

var auditBench struct {
	once           sync.Once
	jsonl, parquet string
	err            error
}

func auditBenchFiles(b *testing.B) (string, string) {
	auditBench.once.Do(func() {
		dir := filepath.Join(os.TempDir(), "goodhart-bench-1M")
		if auditBench.err = os.MkdirAll(dir, 0o755); auditBench.err != nil {
			return
		}
		auditBench.jsonl = filepath.Join(dir, "bench.jsonl")
		auditBench.parquet = filepath.Join(dir, "bench.parquet")
		if _, err := os.Stat(auditBench.parquet); err == nil {
			return
		}
		var buf bytes.Buffer
		if auditBench.err = ingesttest.WriteRewardspyJSONL(&buf, 1_000_000, 1); auditBench.err != nil {
			return
		}
		if auditBench.err = ingest.WriteFileAtomic(auditBench.jsonl, func(w io.Writer) error {
			_, err := w.Write(buf.Bytes())
			return err
		}); auditBench.err != nil {
			return
		}
		run, err := ingest.Read(bytes.NewReader(buf.Bytes()), "bench.jsonl", ingest.Options{})
		if err != nil {
			auditBench.err = err
			return
		}
		auditBench.err = ingest.WriteFileAtomic(auditBench.parquet, func(w io.Writer) error {
			return ingest.WriteParquet(w, run)
		})
	})
	if auditBench.err != nil {
		b.Fatal(auditBench.err)
	}
	return auditBench.jsonl, auditBench.parquet
}

func BenchmarkAudit1M(b *testing.B) {
	jsonl, parquet := auditBenchFiles(b)
	for _, c := range []struct{ name, path string }{{"jsonl", jsonl}, {"parquet", parquet}} {
		b.Run(c.name, func(b *testing.B) {
			st, err := os.Stat(c.path)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(st.Size())
			var peak uint64
			var stop atomic.Bool
			done := make(chan struct{})
			runtime.GC()
			go func() {
				s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
				for !stop.Load() {
					metrics.Read(s)
					if h := s[0].Value.Uint64() + s[1].Value.Uint64(); h > peak {
						peak = h
					}
					time.Sleep(2 * time.Millisecond)
				}
				close(done)
			}()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var errb bytes.Buffer
				if code := run([]string{"audit", c.path, "--format", "json"}, io.Discard, &errb); code != exitFlagged && code != exitOK {
					b.Fatalf("audit exit %d: %s", code, errb.String())
				}
			}
			b.StopTimer()
			stop.Store(true)
			<-done
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}
