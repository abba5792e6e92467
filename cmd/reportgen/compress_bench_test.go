package main

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/goodhart-rl/goodhart/ingest"
)

// BenchmarkAuditCompressed1M measures `reportgen audit --format json` end to
// end on the 1,000,000-record rewardspy log of BenchmarkAudit1M, plain,
// gzipped and zstd-compressed (both compressed in-process at the default
// level, once, next to the plain file; zstd with the 2 MiB window of the
// zstd command's default level 3). Each iteration audits the three in
// turn, so that load from other processes hits them alike; the reported
// figures are the best of the iterations. MB/s is of the uncompressed
// JSONL text. Run:
//
//	go test ./cmd/reportgen -run '^$' -bench AuditCompressed1M -benchtime 3x
func BenchmarkAuditCompressed1M(b *testing.B) {
	plain, _ := auditBenchFiles(b)
	gzPath, zstPath := plain+".gz", plain+".zst"
	compressBenchFile(b, plain, gzPath, func(w io.Writer) (io.WriteCloser, error) { return gzip.NewWriterLevel(w, gzip.DefaultCompression) })
	compressBenchFile(b, plain, zstPath, func(w io.Writer) (io.WriteCloser, error) {
		return zstd.NewWriter(w, zstd.WithWindowSize(zstdCLIWindow))
	})
	st, err := os.Stat(plain)
	if err != nil {
		b.Fatal(err)
	}
	mb := float64(st.Size()) / 1e6
	paths := []string{plain, gzPath, zstPath}
	best := []float64{0, 0, 0}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k, p := range paths {
			t0 := time.Now()
			var errb strings.Builder
			if code := run([]string{"audit", p, "--format", "json"}, io.Discard, &errb); code != exitFlagged && code != exitOK {
				b.Fatalf("audit %s exit %d: %s", p, code, errb.String())
			}
			if d := time.Since(t0).Seconds(); best[k] == 0 || d < best[k] {
				best[k] = d
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(mb/best[0], "plain-MB/s")
	b.ReportMetric(mb/best[1], "gz-MB/s")
	b.ReportMetric(mb/best[2], "zst-MB/s")
	b.ReportMetric(best[1]/best[0], "gz/plain")
	b.ReportMetric(best[2]/best[0], "zst/plain")
}

// zstdCLIWindow is the window of `zstd -3` (the zstd command's default) on
// large inputs: what users' .zst files mostly have.
const zstdCLIWindow = 1 << 21

// compressBenchFile writes src compressed to dst unless dst exists.
func compressBenchFile(b *testing.B, src, dst string, newWriter func(io.Writer) (io.WriteCloser, error)) {
	if _, err := os.Stat(dst); err == nil {
		return
	}
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	err = ingest.WriteFileAtomic(dst, func(w io.Writer) error {
		zw, err := newWriter(w)
		if err != nil {
			return err
		}
		if _, err := io.Copy(zw, in); err != nil {
			return err
		}
		return zw.Close()
	})
	if err != nil {
		b.Fatal(err)
	}
}
