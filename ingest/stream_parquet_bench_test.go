package ingest_test

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// Reading the benchmark log as an audit does (without call_id and extra.*),
// whole (ReadFile) or streamed (StreamFile, a consumer that sums the
// rewards of each chunk and drops it), at 1M and 10M records, JSONL and
// Parquet:
//
//	go test ./ingest -run '^$' -bench 'Ingest' -benchtime 1x
//
// The 10M-record files (2.7 GB of JSONL, 0.75 GB of Parquet) are generated
// once into $TMPDIR/goodhart-bench-10M (about a minute and 3 GB of memory;
// delete the directory to regenerate).

var bench10 struct {
	once           sync.Once
	jsonl, parquet string
	err            error
}

func bench10MFiles(b *testing.B) (jsonl, parquet string) {
	bench10.once.Do(func() {
		dir := filepath.Join(os.TempDir(), "goodhart-bench-10M")
		if bench10.err = os.MkdirAll(dir, 0o755); bench10.err != nil {
			return
		}
		bench10.jsonl = filepath.Join(dir, "bench.jsonl")
		bench10.parquet = filepath.Join(dir, "bench.parquet")
		if _, err := os.Stat(bench10.parquet); err == nil {
			return
		}
		bench10.err = ingest.WriteFileAtomic(bench10.jsonl, func(w io.Writer) error {
			bw := bufio.NewWriterSize(w, 1<<20)
			if err := ingesttest.WriteRewardspyJSONL(bw, 10*benchRecords, 1); err != nil {
				return err
			}
			return bw.Flush()
		})
		if bench10.err != nil {
			return
		}
		run, err := ingest.ReadFile(bench10.jsonl, ingest.Options{})
		if err != nil {
			bench10.err = err
			return
		}
		bench10.err = ingest.WriteFileAtomic(bench10.parquet, func(w io.Writer) error { return ingest.WriteParquet(w, run) })
	})
	if bench10.err != nil {
		b.Fatal(bench10.err)
	}
	return bench10.jsonl, bench10.parquet
}

func BenchmarkIngest(b *testing.B) {
	for _, size := range []string{"1M", "10M"} {
		for _, format := range []string{"jsonl", "parquet"} {
			for _, mode := range []string{"read", "stream"} {
				b.Run(size+"/"+format+"/"+mode, func(b *testing.B) {
					var j, p string
					records := benchRecords
					if size == "1M" {
						j, p = benchFiles(b)
					} else {
						j, p = bench10MFiles(b)
						records *= 10
					}
					path := j
					if format == "parquet" {
						path = p
					}
					benchIngest(b, path, mode == "stream", records)
				})
			}
		}
	}
}

func benchIngest(b *testing.B, path string, stream bool, records int) {
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	opt := ingest.Options{SkipColumn: skipAudit}
	var before, after runtime.MemStats
	var peak uint64
	rows, chunks := 0, 0
	sum := 0.0
	runtime.GC()
	runtime.ReadMemStats(&before)
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		base := heapInuse(heapSamples())
		var run *ingest.Run
		p := peakHeap(func() {
			if !stream {
				run, err = ingest.ReadFile(path, opt)
				rows = run.Len()
				chunks = 1
				return
			}
			rows, chunks = 0, 0
			_, err = ingest.StreamFile(path, opt, func(c *ingest.Run) error {
				rw, _ := c.Column(ingest.ColReward)
				for _, x := range rw {
					sum += x
				}
				rows += c.Len()
				chunks++
				return nil
			})
		})
		if err != nil {
			b.Fatal(err)
		}
		run = nil
		peak = max(peak, p-base)
	}
	b.StopTimer()
	cpu := (cpuTime() - cpu0).Seconds() / float64(b.N)
	runtime.ReadMemStats(&after)
	if rows != records {
		b.Fatalf("%d rows, want %d", rows, records)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "alloc-MB/op")
	b.ReportMetric(cpu, "cpu-s/op")
	b.ReportMetric(float64(chunks), "chunks")
}
