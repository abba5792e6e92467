package ingest_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// Benchmarks over a synthetic 1,000,000-record rewardspy log (~150 MB of
// JSONL). They report throughput (MB/s of input), the peak heap in use
// while reading (sampled), total bytes allocated per read, and the ratio of
// the peak heap to the bytes of the final columns. Run:
//
//	go test ./ingest -run '^$' -bench 'Read(JSONL|Parquet)' -benchtime 3x

const benchRecords = 1_000_000

var benchData struct {
	once    sync.Once
	jsonl   string // path of the JSONL file
	parquet string
	err     error
}

// benchFiles returns the benchmark inputs, generated once into
// $TMPDIR/goodhart-bench-1M and reused by later runs (the generator is
// deterministic; delete the directory to regenerate).
func benchFiles(b *testing.B) (jsonl, parquet string) {
	benchData.once.Do(func() {
		dir := filepath.Join(os.TempDir(), "goodhart-bench-1M")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			benchData.err = err
			return
		}
		benchData.jsonl = filepath.Join(dir, "bench.jsonl")
		benchData.parquet = filepath.Join(dir, "bench.parquet")
		if _, err := os.Stat(benchData.parquet); err == nil {
			return
		}
		var buf bytes.Buffer
		if err := ingesttest.WriteRewardspyJSONL(&buf, benchRecords, 1); err != nil {
			benchData.err = err
			return
		}
		if err := ingest.WriteFileAtomic(benchData.jsonl, func(w io.Writer) error {
			_, err := w.Write(buf.Bytes())
			return err
		}); err != nil {
			benchData.err = err
			return
		}
		run, err := ingest.Read(bytes.NewReader(buf.Bytes()), "bench.jsonl", ingest.Options{})
		if err != nil {
			benchData.err = err
			return
		}
		benchData.err = ingest.WriteFileAtomic(benchData.parquet, func(w io.Writer) error {
			return ingest.WriteParquet(w, run)
		})
	})
	if benchData.err != nil {
		b.Fatal(benchData.err)
	}
	return benchData.jsonl, benchData.parquet
}

// columnBytes is the memory the run's columns need: 8 bytes a numeric cell,
// 16 a string header plus its bytes.
func columnBytes(run *ingest.Run) float64 {
	total := 0.0
	for _, name := range run.Columns() {
		if s, ok := run.StringColumn(name); ok {
			for _, x := range s {
				total += 16 + float64(len(x))
			}
			continue
		}
		total += 8 * float64(run.Len())
	}
	return total
}

// cpuTime is the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapInuse reads the heap in use (HeapInuse: live and not yet swept
// objects plus fragmentation in spans) without stopping the world.
func heapInuse(s []metrics.Sample) uint64 {
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64()
}

func heapSamples() []metrics.Sample {
	return []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
}

// peakHeap samples the heap in use every 2 ms while f runs.
func peakHeap(f func()) (peak uint64) {
	runtime.GC()
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		s := heapSamples()
		for !stop.Load() {
			if h := heapInuse(s); h > peak {
				peak = h
			}
			time.Sleep(2 * time.Millisecond)
		}
		close(done)
	}()
	f()
	stop.Store(true)
	<-done
	return peak
}

func benchRead(b *testing.B, path string) {
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	var before, after runtime.MemStats
	var run *ingest.Run
	var peak uint64
	runtime.GC()
	runtime.ReadMemStats(&before)
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run = nil
		runtime.GC()
		base := heapInuse(heapSamples())
		p := peakHeap(func() {
			run, err = ingest.ReadFile(path, ingest.Options{})
			if err != nil {
				b.Fatal(err)
			}
		})
		if p-base > peak {
			peak = p - base
		}
	}
	b.StopTimer()
	cpu := (cpuTime() - cpu0).Seconds() / float64(b.N)
	runtime.ReadMemStats(&after)
	if run.Len() != benchRecords {
		b.Fatalf("read %d records", run.Len())
	}
	cb := columnBytes(run)
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "alloc-MB/op")
	b.ReportMetric(cb/(1<<20), "columns-MB")
	b.ReportMetric(float64(peak)/cb, "peak/columns")
	// CPU time per read: on a shared machine wall time depends on the other
	// load; MB per CPU-second does not (times cores = the wall-clock rate on
	// an idle machine when the reader scales, as the JSONL reader does).
	b.ReportMetric(float64(st.Size())/(1<<20)/cpu, "MB/cpu-s")
}

func BenchmarkReadJSONL(b *testing.B) {
	j, _ := benchFiles(b)
	benchRead(b, j)
}

func BenchmarkReadParquet(b *testing.B) {
	_, p := benchFiles(b)
	benchRead(b, p)
}

// BenchmarkReadJSONLGzip reads the same log gzipped: no line count up
// front, so batches are joined at the end.
func BenchmarkReadJSONLGzip(b *testing.B) {
	j, _ := benchFiles(b)
	gz := j + ".gz"
	if _, err := os.Stat(gz); err != nil {
		data, err := os.ReadFile(j)
		if err != nil {
			b.Fatal(err)
		}
		err = ingest.WriteFileAtomic(gz, func(w io.Writer) error {
			zw := gzip.NewWriter(w)
			if _, err := zw.Write(data); err != nil {
				return err
			}
			return zw.Close()
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	benchRead(b, gz)
}
