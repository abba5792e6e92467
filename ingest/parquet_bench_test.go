package ingest_test

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// BenchmarkReadParquetSkip reads the 1M-record benchmark Parquet file (see
// benchFiles) leaving out what an audit does not need (call_id, extra.*):
//
//	go test ./ingest -run '^$' -bench 'ReadParquet' -benchtime 3x
func BenchmarkReadParquetSkip(b *testing.B) {
	_, path := benchFiles(b)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	opt := ingest.Options{SkipColumn: skipAudit}
	var before, after runtime.MemStats
	var run *ingest.Run
	var peak uint64
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run = nil
		runtime.GC()
		base := heapInuse(heapSamples())
		p := peakHeap(func() {
			if run, err = ingest.ReadFile(path, opt); err != nil {
				b.Fatal(err)
			}
		})
		peak = max(peak, p-base)
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	if run.Len() != benchRecords || run.Has(ingest.ColCallID) || run.Grain != ingest.GrainCall {
		b.Fatalf("read %d records, call_id %v, grain %s", run.Len(), run.Has(ingest.ColCallID), run.Grain)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "alloc-MB/op")
}

// BenchmarkWriteParquet exports a 1M- and a 10M-record run (the 1M
// benchmark log, tiled ten times with the steps shifted) to Parquet; the
// cost must grow linearly (10M within 10x the 1M time):
//
//	go test ./ingest -run '^$' -bench WriteParquet -benchtime 3x
func BenchmarkWriteParquet(b *testing.B) {
	var buf bytes.Buffer
	if err := ingesttest.WriteRewardspyJSONL(&buf, benchRecords, 1); err != nil {
		b.Fatal(err)
	}
	run1, err := ingest.Read(bytes.NewReader(buf.Bytes()), "bench.jsonl", ingest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	buf = bytes.Buffer{}
	for _, c := range []struct {
		name  string
		times int
	}{{"1M", 1}, {"10M", 10}} {
		run := tile(run1, c.times)
		b.Run(c.name, func(b *testing.B) {
			var n countWriter
			for i := 0; i < b.N; i++ {
				n = 0
				if err := ingest.WriteParquet(&n, run); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(n))
			b.ReportMetric(float64(n)/(1<<20), "file-MB")
		})
	}
}

// tile repeats run k times, shifting the steps so they keep increasing.
func tile(run *ingest.Run, k int) *ingest.Run {
	if k == 1 {
		return run
	}
	n := run.Len()
	out := ingest.NewRun(n * k)
	out.Meta = run.Meta
	steps := run.Steps()
	shift := steps[n-1] + 1
	for _, name := range run.Columns() {
		if s, ok := run.StringColumn(name); ok {
			c := make([]string, 0, n*k)
			for j := 0; j < k; j++ {
				c = append(c, s...)
			}
			out.SetStringColumn(name, c)
			continue
		}
		x, _ := run.Column(name)
		c := make([]float64, 0, n*k)
		for j := 0; j < k; j++ {
			if name == ingest.ColStep {
				for _, v := range x {
					c = append(c, v+float64(j)*shift)
				}
			} else {
				c = append(c, x...)
			}
		}
		out.SetColumn(name, c)
	}
	return out
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
