package ingest_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/goodhart-rl/goodhart/ingest"
)

// wideSparseJSONL is a generic JSONL log of rows rows over keys distinct
// extra keys: every row has step, train_reward and two of the keys (the
// shape of a log that writes per-item metrics under their own names).
func wideSparseJSONL(rows, keys int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&b, `{"step":%d,"train_reward":%.3f,"k%d":%.2f,"k%d":%.2f}`+"\n",
			i, rng.Float64(), rng.IntN(keys), rng.Float64(), rng.IntN(keys), rng.Float64())
	}
	return b.Bytes()
}

// A 3 MB log with 60,000 rows and 9,000 distinct keys used to need a dense
// column per key (60,000 x 9,000 cells, 10 GB). Reading it must stay in
// proportion to the data, drop only rarely present extra columns, keep
// every value of the columns it keeps, and say what it dropped.
func TestWideSparseJSONLBoundedMemory(t *testing.T) {
	data := wideSparseJSONL(60000, 9000)
	for _, viaFile := range []bool{true, false} {
		t.Run(fmt.Sprintf("file=%v", viaFile), func(t *testing.T) {
			var run *ingest.Run
			var err error
			opt := ingest.Options{Map: map[string]string{"reward": "train_reward"}}
			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			start := time.Now()
			if viaFile {
				p := filepath.Join(t.TempDir(), "wide.jsonl")
				if err := os.WriteFile(p, data, 0o644); err != nil {
					t.Fatal(err)
				}
				run, err = ingest.ReadFile(p, opt)
			} else {
				run, err = ingest.Read(bytes.NewReader(data), "wide.jsonl", opt) // no line count: the pipe path
			}
			el := time.Since(start)
			runtime.ReadMemStats(&m1)
			if err != nil {
				t.Fatal(err)
			}
			alloc := float64(m1.TotalAlloc-m0.TotalAlloc) / (1 << 20)
			t.Logf("%d rows, %d columns kept, %.0f MB allocated, %v", run.Len(), len(run.Columns()), alloc, el)
			if alloc > 200 {
				t.Errorf("allocated %.0f MB reading a %d KB file (want < 200 MB)", alloc, len(data)>>10)
			}
			if run.Len() != 60000 {
				t.Fatalf("rows = %d, want 60000", run.Len())
			}
			if _, ok := run.Column(ingest.ColReward); !ok {
				t.Fatal("reward column dropped")
			}
			note := ingest.DroppedNote(run)
			if !strings.Contains(note, "dropped") || run.Meta[ingest.MetaDroppedCount] == "" {
				t.Fatalf("no note about dropped columns: %q %v", note, run.Meta)
			}
			t.Log(note)
			kept := 0
			for _, c := range run.Columns() {
				if strings.HasPrefix(c, "extra.k") {
					kept++
				}
			}
			var dropped int
			fmt.Sscan(run.Meta[ingest.MetaDroppedCount], &dropped)
			if kept+dropped != 9000 {
				t.Errorf("kept %d + dropped %d extra columns, want 9000 in all", kept, dropped)
			}
			if cells := len(run.Columns()) * run.Len(); cells > 9<<20 {
				t.Errorf("%d cells kept, over the budget", cells)
			}
		})
	}
}

// Below the budget nothing is dropped, and a sparse key's values land on
// their own rows.
func TestSparseColumnsKeptExactly(t *testing.T) {
	var b bytes.Buffer
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, `{"step":%d,"r":%d`, i, i%7)
		if i%500 == 3 {
			fmt.Fprintf(&b, `,"rare%d":%d`, i%300, i)
		}
		if i == 2999 {
			b.WriteString(`,"late":"text"`)
		}
		for k := 0; k < 70; k++ { // push later keys past the batch's first 64 columns
			if i == 0 {
				fmt.Fprintf(&b, `,"w%d":1`, k)
			}
		}
		b.WriteString("}\n")
	}
	run, err := ingest.Read(bytes.NewReader(b.Bytes()), "s.jsonl", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := run.Meta[ingest.MetaDroppedCount]; n != "" {
		t.Fatalf("dropped %s columns of a small file", n)
	}
	c, ok := run.Column("extra.rare203")
	if !ok {
		t.Fatalf("extra.rare203 missing; columns %v", run.Columns())
	}
	for i, x := range c {
		want := i == 503 || i == 2003
		if want != (x == x) {
			t.Fatalf("row %d = %v", i, x)
		}
		if want && x != float64(i) {
			t.Fatalf("row %d = %v, want %d", i, x, i)
		}
	}
	s, ok := run.StringColumn("extra.late")
	if !ok || s[2999] != "text" || s[2998] != "" {
		t.Fatalf("extra.late = %v %q", ok, s[len(s)-2:])
	}
	w, _ := run.Column("extra.w69")
	if w[0] != 1 || w[1] == w[1] {
		t.Fatalf("extra.w69 = %v %v", w[0], w[1])
	}
}

// BenchmarkReadWideSparseJSONL reads the 3 MB, 9,000-key log (target: under
// 1 s and 200 MB).
func BenchmarkReadWideSparseJSONL(b *testing.B) {
	p := filepath.Join(b.TempDir(), "wide.jsonl")
	if err := os.WriteFile(p, wideSparseJSONL(60000, 9000), 0o644); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(p)
	b.SetBytes(st.Size())
	var peak uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		base := heapInuse(heapSamples())
		pk := peakHeap(func() {
			if _, err := ingest.ReadFile(p, ingest.Options{Map: map[string]string{"reward": "train_reward"}}); err != nil {
				b.Fatal(err)
			}
		})
		peak = max(peak, pk-base)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
