package ingest_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// streamFile streams path, checks each chunk against Stream's contract
// (same Source, Format, Grain and Meta as the header; no issues on it) and
// returns Concat of the chunks, the header and the number of chunks. A
// run read whole comes as one chunk, as Read returns it.
func streamFile(t *testing.T, path string, opt ingest.Options) (all, header *ingest.Run, chunks int, err error) {
	t.Helper()
	var got []*ingest.Run
	header, err = ingest.StreamFile(path, opt, func(c *ingest.Run) error {
		got = append(got, c)
		return nil
	})
	if err != nil {
		return nil, nil, len(got), err
	}
	for i, c := range got {
		// (A run read whole comes as Read returns it, issues included.)
		if len(got) > 1 && (len(c.Issues) > 0 || c.Skipped > 0 || c.Kept > 0) {
			t.Errorf("%s: chunk %d carries issues", path, i)
		}
		if c.Source != header.Source || c.Format != header.Format || c.Grain != header.Grain || !reflect.DeepEqual(c.Meta, header.Meta) {
			t.Errorf("%s: chunk %d: source %q format %q grain %q meta %v; header %q %q %q %v",
				path, i, c.Source, c.Format, c.Grain, c.Meta, header.Source, header.Format, header.Grain, header.Meta)
		}
	}
	return ingest.Concat(got...), header, len(got), nil
}

// checkStreamParquet fails unless streaming path gives what Read gives:
// Concat of the chunks equals the run bit for bit, and the header has its
// Source, Format, Grain, Meta, Issues, Skipped, Kept and length. It
// returns the number of chunks (want: that many, or any when < 0).
func checkStreamParquet(t *testing.T, path string, opt ingest.Options, want int) int {
	t.Helper()
	run, rerr := ingest.ReadFile(path, opt)
	all, h, chunks, serr := streamFile(t, path, opt)
	if rerr != nil || serr != nil {
		if rerr == nil || serr == nil {
			t.Fatalf("%s: Read error %v, Stream error %v", path, rerr, serr)
		}
		return chunks
	}
	if d := sameRun(run, all); d != "" {
		t.Fatalf("%s (%+v): streamed in %d chunks: %s", path, opt, chunks, d)
	}
	if h.Source != run.Source || h.Format != run.Format || h.Grain != run.Grain || !reflect.DeepEqual(h.Meta, run.Meta) ||
		!reflect.DeepEqual(h.Issues, run.Issues) || h.Skipped != run.Skipped || h.Kept != run.Kept || h.Len() != run.Len() {
		t.Fatalf("%s: header %q %q %q %v %v %d %d %d; Read %q %q %q %v %v %d %d %d", path,
			h.Source, h.Format, h.Grain, h.Meta, h.Issues, h.Skipped, h.Kept, h.Len(),
			run.Source, run.Format, run.Grain, run.Meta, run.Issues, run.Skipped, run.Kept, run.Len())
	}
	if want >= 0 && chunks != want {
		t.Fatalf("%s (%+v): %d chunks, want %d", path, opt, chunks, want)
	}
	return chunks
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func parquetOf(t *testing.T, run *ingest.Run) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := ingest.WriteParquet(&b, run); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestStreamParquetRewardspy: a rewardspy run exported to Parquet streams
// one row group per chunk, with and without the columns an audit skips,
// and with --grain.
func TestStreamParquetRewardspy(t *testing.T) {
	var buf bytes.Buffer
	if err := ingesttest.WriteRewardspyJSONL(&buf, 150_000, 3); err != nil {
		t.Fatal(err)
	}
	run, err := ingest.Read(bytes.NewReader(buf.Bytes()), "r.jsonl", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := writeTemp(t, "r.parquet", parquetOf(t, run)) // row groups of 64Ki rows: 3
	for _, opt := range []ingest.Options{{}, {SkipColumn: skipAudit}, {Grain: ingest.GrainSample}, {Strict: true}} {
		checkStreamParquet(t, path, opt, 3)
	}
	// An error from the callback stops the stream and is returned as is.
	stop := errors.New("enough")
	calls := 0
	_, err = ingest.StreamFile(path, ingest.Options{}, func(*ingest.Run) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Fatalf("callback error: got %v after %d calls", err, calls)
	}
}

// TestStreamParquetRoundTrips: every real log, written to Parquet in small
// row groups, streams to what Read gives (the grain of a step-keyed log is
// decided on the whole run, so it arrives as one chunk unless --grain is
// set).
func TestStreamParquetRoundTrips(t *testing.T) {
	defer ingest.SetParquetGroupRows(97)()
	dir := ingesttest.RealData(t)
	streamed := 0
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		if fi, err := e.Info(); err != nil || fi.Size() > 20<<20 {
			return nil
		}
		run, err := ingest.ReadFile(p, ingest.Options{})
		if err != nil || run.Len() == 0 {
			return nil
		}
		path := writeTemp(t, "rt.parquet", parquetOf(t, run))
		for _, opt := range []ingest.Options{{}, {SkipColumn: skipAudit}, {Grain: ingest.GrainCall}, {Grain: ingest.GrainCall, SkipColumn: skipAudit}} {
			if checkStreamParquet(t, path, opt, -1) > 1 {
				streamed++
			}
		}
		return nil
	})
	if streamed == 0 {
		t.Fatal("no real log streamed in more than one chunk")
	}
}

// TestStreamParquetTestdata: every Parquet file in the repository.
func TestStreamParquetTestdata(t *testing.T) {
	root := ingesttest.RepoRoot(t)
	n := 0
	filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.HasSuffix(p, ".parquet") {
			n++
			for _, opt := range []ingest.Options{{}, {SkipColumn: skipAudit}, {Grain: ingest.GrainCall}} {
				checkStreamParquet(t, p, opt, -1)
			}
		}
		return nil
	})
	if n == 0 {
		t.Fatal("no Parquet file in testdata")
	}
}

// pyarrowTable writes n rows with pqarrow (dictionary pages, page v2, row
// groups of groupRows): step; reward with nulls; a float32 kl; a group
// string; extra.tag strings that are null in the first row group; an
// int32 column that is null everywhere; an extra column holding bad.
func pyarrowTable(t *testing.T, n, groupRows int, bad float64, stats bool) []byte {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "step", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "reward", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "kl", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "group", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "tag", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "empty", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "odd", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i := 0; i < n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i / 4))
		if i%7 == 3 {
			b.Field(1).(*array.Float64Builder).AppendNull()
		} else {
			b.Field(1).(*array.Float64Builder).Append(float64(i%100) / 8)
		}
		if i%5 == 0 {
			b.Field(2).(*array.Float32Builder).AppendNull()
		} else {
			b.Field(2).(*array.Float32Builder).Append(float32(i%3) / 2)
		}
		b.Field(3).(*array.StringBuilder).Append(string(rune('a' + i/4%26)))
		if i < groupRows || i%11 == 0 {
			b.Field(4).(*array.StringBuilder).AppendNull()
		} else {
			b.Field(4).(*array.StringBuilder).Append(string(rune('a' + i%5)))
		}
		b.Field(5).(*array.Int32Builder).AppendNull()
		if i == n/2 {
			b.Field(6).(*array.Float64Builder).Append(bad)
		} else {
			b.Field(6).(*array.Float64Builder).Append(float64(i))
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithDataPageVersion(parquet.DataPageV2),
		parquet.WithMaxRowGroupLength(int64(groupRows)), parquet.WithDictionaryDefault(true), parquet.WithStats(stats))
	w, err := pqarrow.NewFileWriter(sc, &buf, props, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestStreamParquetPyarrow: a pyarrow-style table with a group column
// streams by row group (nulls, a column empty in the first row group, one
// empty everywhere); ±Inf, missing statistics or a step-keyed table are
// read whole, as one chunk.
func TestStreamParquetPyarrow(t *testing.T) {
	const n, g = 10_001, 2_500
	path := writeTemp(t, "py.parquet", pyarrowTable(t, n, g, 3, true))
	for _, opt := range []ingest.Options{{}, {SkipColumn: skipAudit}, {Grain: ingest.GrainCall},
		{Map: map[string]string{"kl": "kl"}}, {Strict: true}} {
		checkStreamParquet(t, path, opt, 5)
	}
	// A group column keeps rows of one step apart even under --grain step.
	checkStreamParquet(t, path, ingest.Options{Grain: ingest.GrainStep}, 5)
	for _, bad := range []float64{math.Inf(1), math.Inf(-1), math.NaN()} {
		p := writeTemp(t, "inf.parquet", pyarrowTable(t, n, g, bad, true))
		want := 1
		if math.IsNaN(bad) {
			want = 5 // NaN is a missing value: nothing to report
		}
		checkStreamParquet(t, p, ingest.Options{}, want)
		// Skipped, the extra column is not read: nothing to report.
		checkStreamParquet(t, p, ingest.Options{SkipColumn: skipAudit}, 5)
	}
	checkStreamParquet(t, writeTemp(t, "nostats.parquet", pyarrowTable(t, n, g, 3, false)), ingest.Options{}, 1)
	// A step-keyed table (no call_id, no group) may merge rows of a step.
	steps := make([]int64, 300)
	extra := make([]float64, 300)
	for i := range steps {
		steps[i], extra[i] = int64(i/2), float64(i)
	}
	steps2 := writeTemp(t, "steps.parquet", stepTable(t, steps, nil, nil, extra, true))
	checkStreamParquet(t, steps2, ingest.Options{}, 1)
	checkStreamParquet(t, steps2, ingest.Options{Grain: ingest.GrainStep}, 1)
}

// TestStreamParquetBadFiles: a truncated file or bytes flipped anywhere
// in the data give an error from Stream whenever Read gives one, and
// otherwise the same run, or an error saying the statistics contradict
// the values.
func TestStreamParquetBadFiles(t *testing.T) {
	defer ingest.SetParquetGroupRows(300)()
	var buf bytes.Buffer
	if err := ingesttest.WriteRewardspyJSONL(&buf, 1200, 5); err != nil {
		t.Fatal(err)
	}
	run, err := ingest.Read(bytes.NewReader(buf.Bytes()), "r.jsonl", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	good := parquetOf(t, run)
	dir := t.TempDir()
	check := func(label string, data []byte) {
		path := filepath.Join(dir, label+".parquet")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		want, rerr := ingest.ReadFile(path, ingest.Options{})
		all, _, _, serr := streamFile(t, path, ingest.Options{})
		switch {
		case rerr != nil && serr == nil:
			t.Fatalf("%s: Read error %v, Stream none", label, rerr)
		case rerr == nil && serr != nil:
			if !strings.Contains(serr.Error(), "statistics") || !errors.Is(serr, ingest.ErrNotARun) {
				t.Fatalf("%s: Stream error %v, Read none", label, serr)
			}
		case rerr == nil:
			if d := sameRun(want, all); d != "" {
				t.Fatalf("%s: %s", label, d)
			}
		}
	}
	for _, cut := range []int{len(good) - 1, len(good) / 2, 100, 8} {
		check("cut", good[:cut])
	}
	for off := 4; off < len(good)-8; off += len(good) / 97 {
		data := bytes.Clone(good)
		data[off] ^= 0x5a
		check("flip", data)
	}
}

// FuzzParquetStream: a fuzzed run written to Parquet in row groups of 3
// rows streams to what Read gives.
func FuzzParquetStream(f *testing.F) {
	f.Add([]byte{3, 1, 0, 0, 1, 2, 3, 3, 0, 5, 6, 7, 8, 9, 0, 0, 1, 0, 2})
	f.Add([]byte{11, 4, 0, 13, 14, 12, 3, 5, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 1, 0, 6, 0, 0, 1, 1, 1, 1})
	f.Add([]byte{7, 2, 0, 1, 13, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		restore := ingest.SetParquetGroupRows(3)
		defer restore()
		path := writeTemp(t, "f.parquet", parquetOf(t, genRun(data)))
		for _, opt := range []ingest.Options{{}, {SkipColumn: skipAudit}, {Grain: ingest.GrainCall}, {Grain: ingest.GrainStep}} {
			checkStreamParquet(t, path, opt, -1)
		}
	})
}

// TestStreamParquetStatsLie: a value the statistics rule out (an +Inf
// patched into an uncompressed data page, the row group's minimum and
// maximum left finite) ends the stream with an error naming the column
// and row; Read, which does not rely on the statistics, reports the row.
func TestStreamParquetStatsLie(t *testing.T) {
	const n = 1000
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "call_id", Type: arrow.BinaryTypes.String},
		{Name: "reward", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i := 0; i < n; i++ {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("c%d", i))
		b.Field(1).(*array.Float64Builder).Append(float64(i) + 0.25)
	}
	rec := b.NewRecord()
	defer rec.Release()
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(100), parquet.WithDictionaryDefault(false),
		parquet.WithCompression(compress.Codecs.Uncompressed))
	w, err := pqarrow.NewFileWriter(sc, &buf, props, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	var old, inf [8]byte
	binary.LittleEndian.PutUint64(old[:], math.Float64bits(550.25)) // row 551: neither minimum nor maximum of its group
	binary.LittleEndian.PutUint64(inf[:], math.Float64bits(math.Inf(1)))
	if bytes.Count(data, old[:]) != 1 {
		t.Fatalf("the value occurs %d times", bytes.Count(data, old[:]))
	}
	copy(data[bytes.Index(data, old[:]):], inf[:])
	path := writeTemp(t, "lie.parquet", data)
	run, err := ingest.ReadFile(path, ingest.Options{})
	if err != nil || run.Len() != n-1 || run.Skipped != 1 {
		t.Fatalf("Read: %v, %d rows, %d skipped", err, run.Len(), run.Skipped)
	}
	_, _, chunks, err := streamFile(t, path, ingest.Options{})
	if err == nil || !errors.Is(err, ingest.ErrNotARun) || !strings.Contains(err.Error(), `row 551: column "reward"`) ||
		!strings.Contains(err.Error(), "statistics") || chunks != 5 {
		t.Fatalf("Stream: %v after %d chunks", err, chunks)
	}
	// The same file without the patch streams in 10 chunks.
	copy(data[bytes.Index(data, inf[:]):], old[:])
	checkStreamParquet(t, writeTemp(t, "ok.parquet", data), ingest.Options{}, 10)
}
