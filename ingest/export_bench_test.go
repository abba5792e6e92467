package ingest_test

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// BenchmarkExport writes a 1M- and a 10M-record run (the 1M benchmark log,
// tiled ten times with the steps shifted) in every registered output
// format (ingest.Writers: csv, jsonl, parquet, tfevents; "rewardspy" is
// jsonl under another name and is left out) to a byte counter. Cost must
// grow linearly: 10M within about 10x the 1M time.
//
//	go test ./ingest -run '^$' -bench Export -benchtime 1x
func BenchmarkExport(b *testing.B) {
	var buf bytes.Buffer
	if err := ingesttest.WriteRewardspyJSONL(&buf, benchRecords, 1); err != nil {
		b.Fatal(err)
	}
	run1, err := ingest.Read(bytes.NewReader(buf.Bytes()), "bench.jsonl", ingest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	buf = bytes.Buffer{}
	for _, size := range []struct {
		name  string
		times int
	}{{"1M", 1}, {"10M", 10}} {
		var run *ingest.Run
		for _, w := range ingest.Writers() {
			if w.Name == "rewardspy" {
				continue
			}
			b.Run(w.Name+"/"+size.name, func(b *testing.B) {
				if run == nil {
					run = tile(run1, size.times)
				}
				var n countWriter
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				cpu0 := cpuTime()
				for i := 0; i < b.N; i++ {
					n = 0
					if err := w.Write(&n, run); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "alloc-MB/op")
				b.SetBytes(int64(n))
				b.ReportMetric(float64(n)/(1<<20), "file-MB")
			})
		}
	}
}
