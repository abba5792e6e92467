package ingest_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// The fuzz targets feed arbitrary bytes to every reader (forced and
// auto-detected) and check that reading never panics or hangs and that a
// run it returns is consistent and can be written back out. Seeds come from
// testdata. Run one briefly with e.g.
//
//	go test ./ingest -run '^$' -fuzz FuzzJSONL -fuzztime 30s -fuzzminimizetime 5s
//
// (-fuzzminimizetime keeps the default 60 s minimisation of each new input
// from eating a short run.)

func seedFiles(f *testing.F, patterns ...string) {
	for _, p := range patterns {
		files, _ := filepath.Glob(ingesttest.Testdata(f, p))
		for _, path := range files {
			data, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			if len(data) > 1024 {
				data = data[:1024]
			}
			f.Add(data)
		}
	}
}

// checkRun asserts the invariants of a run a reader returned.
//
// With roundTrip the run also goes through Parquet and back (costly: the
// fuzz targets ask for it on a quarter of the inputs, so that the readers
// get most of the budget).
func fuzzCheckRun(t *testing.T, run *ingest.Run, err error, opt ingest.Options, roundTrip bool) {
	t.Helper()
	if err != nil {
		return
	}
	n := run.Len()
	for _, name := range run.Columns() {
		if c, ok := run.Column(name); ok && len(c) != n {
			t.Fatalf("column %s has %d rows, run has %d", name, len(c), n)
		}
		if c, ok := run.StringColumn(name); ok && len(c) != n {
			t.Fatalf("column %s has %d rows, run has %d", name, len(c), n)
		}
	}
	max := opt.MaxIssues
	if max == 0 {
		max = 100
	}
	if len(run.Issues) > max+1 {
		t.Fatalf("%d issues kept, cap %d", len(run.Issues), max)
	}
	for _, w := range []func(io.Writer, *ingest.Run) error{ingest.WriteCSV, ingest.WriteJSONL, ingest.WriteTFEvents} {
		if err := w(io.Discard, run); err != nil {
			t.Fatalf("writing a run read from fuzz input: %v", err)
		}
	}
	if !roundTrip {
		return
	}
	// Parquet is typed, so any run a reader returns must come back from it
	// unchanged (a step column is added when the run has none: the export
	// layout always has one). FuzzWriterRoundTrip checks every format on
	// generated runs.
	var buf bytes.Buffer
	if err := ingest.WriteParquet(&buf, run); err != nil {
		t.Fatalf("writing a run read from fuzz input: %v", err)
	}
	back, err := ingest.Read(bytes.NewReader(buf.Bytes()), "rt.parquet", ingest.Options{Format: "parquet", Grain: run.Grain})
	if err != nil {
		if run.Len() == 0 {
			return
		}
		t.Fatalf("reading back the Parquet export: %v", err)
	}
	want := run.Slice(0, run.Len())
	if !run.Has(ingest.ColStep) && run.Len() > 0 {
		want.SetColumn(ingest.ColStep, run.Steps())
	}
	// A column with no value at all (every cell NaN or "") is not written:
	// missing is missing.
	for _, name := range want.Columns() {
		c, num := want.Column(name)
		s, _ := want.StringColumn(name)
		if (num && !slices.ContainsFunc(c, func(x float64) bool { return !math.IsNaN(x) })) ||
			(!num && !slices.ContainsFunc(s, func(x string) bool { return x != "" })) {
			want.DropColumn(name)
		}
	}
	if d := sameRun(want, back); d != "" && run.Len() > 0 {
		t.Fatalf("Parquet round trip: %s", d)
	}
}

func fuzzRead(t *testing.T, data []byte, format string) {
	opt := ingest.Options{Format: format, MaxIssues: 5}
	run, err := ingest.Read(bytes.NewReader(data), "fuzz", opt)
	fuzzCheckRun(t, run, err, opt, len(data)%4 == 0)
}

func FuzzJSONL(f *testing.F) {
	seedFiles(f, "runs/*.jsonl", "conformance/rewardspy/*/run.jsonl", "golden/export_*.jsonl")
	f.Add([]byte(`{"a":{"b":[1,{"c":"\ud83d\ude00"}],"d":null,"e":true},"step":1}` + "\n" + `{"step":1,"a/b":"x"}`))
	f.Add([]byte("{\"scalar_reward\":1e999}\n{\"scalar_reward\":NaN}\n{\"x\":-0.0e-0}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, "jsonl")
		fuzzRead(t, data, "rewardspy-jsonl")
		fuzzRead(t, data, "")
	})
}

func FuzzCSV(f *testing.F) {
	seedFiles(f, "golden/export_*.csv", "conformance/alignment/*.csv")
	f.Add([]byte("step,reward,extra\n1,0.5,a\n2,,\"b,\"\"c\"\n3,nan,x\n4,1e999\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, "csv")
		fuzzRead(t, data, "")
	})
}

func FuzzParquet(f *testing.F) {
	for _, path := range []string{"runs/healthy.jsonl", "conformance/rewardspy/penalties/run.jsonl"} {
		run, err := ingest.ReadFile(ingesttest.Testdata(f, path), ingest.Options{})
		if err != nil {
			f.Fatal(err)
		}
		var b bytes.Buffer
		if err := ingest.WriteParquet(&b, run.Last(40)); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, "parquet")
		fuzzRead(t, data, "")
	})
}

func FuzzGzip(f *testing.F) {
	for _, s := range []string{"{\"scalar_reward\":1.0}\n{\"scalar_reward\":2.0}\n", "step,reward\n1,2\n"} {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		f.Add(b.Bytes())
		f.Add(b.Bytes()[:b.Len()-5])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, "")
	})
}

func FuzzDetect(f *testing.F) {
	seedFiles(f, "runs/*.jsonl")
	f.Add([]byte("PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ingest.Detect(data, "fuzz")
	})
}
