package analysis

import (
	"bufio"
	"math/rand"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
)

// benchChunk makes rows [from, from+n) of a synthetic rewardspy call log
// with 10 numeric columns (step, time, reward, duration_ms, input_length,
// length and four components), as the JSONL reader would deliver them.
func benchChunk(rng *rand.Rand, from, n, total int) *ingest.Run {
	c := ingest.NewRun(n)
	c.Source, c.Format, c.Grain = "bench.jsonl", rewardspyFormat, ingest.GrainCall
	c.Meta = map[string]string{ingest.MetaComponentOrder: `["correctness","format","brevity","total"]`}
	cols := make([][]float64, 10)
	for i := range cols {
		cols[i] = make([]float64, n)
	}
	for i := 0; i < n; i++ {
		row := from + i
		corr := 0.0
		if rng.Float64() < 0.3+0.4*float64(row)/float64(total) {
			corr = 1
		}
		format := 0.1
		brev := 0.1 * rng.Float64()
		r := corr + format + brev
		cols[0][i] = float64(row)
		cols[1][i] = 1.8e9 + float64(row)
		cols[2][i] = r
		cols[3][i] = 1 + rng.Float64()
		cols[4][i] = float64(400 + rng.Intn(100))
		cols[5][i] = float64(300 + rng.Intn(200))
		cols[6][i], cols[7][i], cols[8][i], cols[9][i] = corr, format, brev, r
	}
	names := []string{ingest.ColStep, ingest.ColTime, ingest.ColReward, ingest.ColDurationMS,
		ingest.ColInputLength, ingest.ColLength, "component.correctness", "component.format",
		"component.brevity", "component.total"}
	for i, name := range names {
		c.SetColumn(name, cols[i])
	}
	return c
}

// peakRSS is the process's peak resident set (VmHWM) in bytes, 0 when
// /proc is not there.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkStream10M streams 10M generated rewardspy records (10 numeric
// columns, 10k-row chunks, made on the fly so the run is never held
// whole) through a Stream, with a Report every 100 chunks and at the end.
// It reports records/s, the peak live heap seen after each chunk and the
// process's peak RSS.
//
//	go test ./analysis -run '^$' -bench Stream10M -benchtime 1x
func BenchmarkStream10M(b *testing.B) {
	const total, chunk = 10_000_000, 10_000
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peakHeap uint64
	for it := 0; it < b.N; it++ {
		rng := rand.New(rand.NewSource(1))
		s, err := NewStream(Config{})
		if err != nil {
			b.Fatal(err)
		}
		for from := 0; from < total; from += chunk {
			b.StopTimer()
			c := benchChunk(rng, from, chunk, total)
			b.StartTimer()
			if err := s.Add(c); err != nil {
				b.Fatal(err)
			}
			if (from/chunk)%100 == 99 {
				if _, err := s.Report(); err != nil {
					b.Fatal(err)
				}
			}
			metrics.Read(sample)
			peakHeap = max(peakHeap, sample[0].Value.Uint64())
		}
		rep, err := s.Report()
		if err != nil {
			b.Fatal(err)
		}
		if rep.Records != total || rep.Sampled == nil {
			b.Fatalf("records %d sampled %v", rep.Records, rep.Sampled)
		}
	}
	b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MiB")
	runtime.KeepAlive(sample)
}
