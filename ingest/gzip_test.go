package ingest_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
)

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// gzipInputs are small logs of each text format, n records each.
func gzipInputs(n int) map[string]string {
	var spy, verl, vj, csv, sb3 strings.Builder
	sb3.WriteString("#{\"t_start\": 1.0}\nr,l,t\n")
	csv.WriteString("step,scalar_reward\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&spy, `{"call_id":"c%d","timestamp":1.5,"step":%d,"scalar_reward":0.%d,"components":{"a":0.5}}`+"\n", i, i, i%10)
		fmt.Fprintf(&verl, "step:%d - critic/score/mean:0.%d - actor/entropy:1.0\n", i, i%10)
		fmt.Fprintf(&vj, `{"step": %d, "data": {"critic/score/mean": 0.%d}}`+"\n", i, i%10)
		fmt.Fprintf(&csv, "%d,0.%d\n", i, i%10)
		fmt.Fprintf(&sb3, "0.%d,%d,%d.5\n", i%10, i, i)
	}
	var trl strings.Builder
	trl.WriteString("{\"log_history\": [\n")
	for i := 1; i <= n; i++ {
		if i > 1 {
			trl.WriteString(",\n")
		}
		fmt.Fprintf(&trl, `{"step": %d, "reward": 0.%d}`, i, i%10)
	}
	trl.WriteString("\n]}\n")
	var rg strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&rg, "Ep %d | OK | reward=%d.5\nsources:\n  food: %d\n  survival: 1\n\n", i, i, i)
	}
	return map[string]string{"rewardguard": rg.String(), "trl": trl.String(), "rewardspy-jsonl": spy.String(), "verl": verl.String(), "verl-jsonl": vj.String(),
		"csv": csv.String(), "sb3-monitor": sb3.String()}
}

// One rule for every size: a truncated gzip stream keeps every complete
// record and adds one issue (an error under Strict); so do bytes after the
// end of a complete stream.
func TestGzipTruncatedAndTrailingOneRule(t *testing.T) {
	for _, n := range []int{20, 3000} { // decompressed: well under, and over, the 64 KiB sniff
		for format, src := range gzipInputs(n) {
			full := gz([]byte(src))
			for _, c := range []struct {
				what string
				data []byte
				min  int
			}{
				{"truncated in the trailer", full[:len(full)-6], n},
				{"truncated mid-data", full[:len(full)-40], 1},
				{"trailing bytes", append(append([]byte(nil), full...), "junk after the end"...), n},
			} {
				name := fmt.Sprintf("%s/%d/%s", format, n, c.what)
				run, err := ingest.Read(bytes.NewReader(c.data), "run.gz", ingest.Options{})
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if run.Format != format || run.Len() < c.min || run.Len() > n {
					t.Errorf("%s: format %s rows %d", name, run.Format, run.Len())
				}
				gzIssues := 0
				for _, is := range run.Issues {
					if strings.Contains(is.Msg, "gzip") {
						gzIssues++
					}
				}
				if gzIssues != 1 || len(run.Issues) != 1 { // one issue, never the cut line twice
					t.Errorf("%s: %d gzip issues, want 1: %v", name, gzIssues, run.Issues)
				}
				if _, err := ingest.Read(bytes.NewReader(c.data), "run.gz", ingest.Options{Strict: true}); !errors.Is(err, ingest.ErrStrict) {
					t.Errorf("%s: strict: %v", name, err)
				}
			}
		}
	}
}
