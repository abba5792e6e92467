package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// streamAll streams data and returns the chunks and the header.
func streamAll(t *testing.T, data []byte, name string, opt Options) ([]*Run, *Run, error) {
	t.Helper()
	var chunks []*Run
	h, err := Stream(bytes.NewReader(data), name, opt, func(c *Run) error {
		chunks = append(chunks, c)
		return nil
	})
	return chunks, h, err
}

// sameColumns reports the first difference between two runs' columns
// (bit for bit), or "".
func sameColumns(a, b *Run) string {
	if a.Len() != b.Len() {
		return fmt.Sprintf("rows %d vs %d", a.Len(), b.Len())
	}
	if !reflect.DeepEqual(a.Columns(), b.Columns()) {
		return fmt.Sprintf("columns %v vs %v", a.Columns(), b.Columns())
	}
	for _, name := range a.Columns() {
		if a.IsString(name) != b.IsString(name) {
			return name + ": string vs number"
		}
		if s, ok := a.StringColumn(name); ok {
			s2, _ := b.StringColumn(name)
			for i := range s {
				if s[i] != s2[i] {
					return fmt.Sprintf("%s[%d]: %q vs %q", name, i, s[i], s2[i])
				}
			}
			continue
		}
		x, _ := a.Column(name)
		y, _ := b.Column(name)
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				return fmt.Sprintf("%s[%d]: %v vs %v", name, i, x[i], y[i])
			}
		}
	}
	return ""
}

// checkParity streams data and checks that the chunks joined and the
// header equal what Read returns (or that both fail alike). It returns the
// number of chunks.
func checkParity(t *testing.T, data []byte, name string, opt Options) int {
	t.Helper()
	want, rerr := Read(bytes.NewReader(data), name, opt)
	chunks, h, serr := streamAll(t, data, name, opt)
	if rerr != nil || serr != nil {
		if rerr == nil || serr == nil || rerr.Error() != serr.Error() {
			t.Fatalf("%s: Read error %v, Stream error %v", name, rerr, serr)
		}
		return len(chunks)
	}
	got := Concat(chunks...)
	if d := sameColumns(want, got); d != "" {
		t.Fatalf("%s: %d chunks joined differ from Read: %s", name, len(chunks), d)
	}
	if h.Len() != want.Len() || h.Source != want.Source || h.Format != want.Format || h.Grain != want.Grain {
		t.Fatalf("%s: header %d rows %s %s %s, Read %d rows %s %s %s", name, h.Len(), h.Source, h.Format, h.Grain,
			want.Len(), want.Source, want.Format, want.Grain)
	}
	if !reflect.DeepEqual(h.Meta, want.Meta) && !(len(h.Meta) == 0 && len(want.Meta) == 0) {
		t.Fatalf("%s: header Meta %v, Read %v", name, h.Meta, want.Meta)
	}
	if !reflect.DeepEqual(h.Issues, want.Issues) || h.Skipped != want.Skipped || h.Kept != want.Kept {
		t.Fatalf("%s: header issues %v (skipped %d kept %d), Read %v (skipped %d kept %d)", name,
			h.Issues, h.Skipped, h.Kept, want.Issues, want.Skipped, want.Kept)
	}
	for i, c := range chunks {
		if c.Source != h.Source || c.Format != h.Format || c.Grain != h.Grain || c.Len() == 0 {
			t.Fatalf("%s: chunk %d: %d rows %s %s %s", name, i, c.Len(), c.Source, c.Format, c.Grain)
		}
		if len(c.Issues) > 0 || c.Skipped > 0 {
			t.Fatalf("%s: chunk %d carries issues", name, i)
		}
	}
	if len(chunks) > 0 {
		lastOrder := chunks[len(chunks)-1].Meta[MetaComponentOrder]
		if lastOrder != want.Meta[MetaComponentOrder] {
			t.Fatalf("%s: last chunk's component order %s, Read %s", name, lastOrder, want.Meta[MetaComponentOrder])
		}
	}
	return len(chunks)
}

// checkFileParity writes data to a file and checks StreamFile against
// ReadFile (which sizes its columns from the file).
func checkFileParity(t *testing.T, data []byte, opt Options) int {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run.jsonl")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := ReadFile(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	var chunks []*Run
	h, err := StreamFile(path, opt, func(c *Run) error { chunks = append(chunks, c); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if d := sameColumns(want, Concat(chunks...)); d != "" {
		t.Fatalf("%s: StreamFile differs from ReadFile: %s", path, d)
	}
	if !reflect.DeepEqual(h.Meta, want.Meta) || !reflect.DeepEqual(h.Issues, want.Issues) || h.Grain != want.Grain {
		t.Fatalf("%s: header %v %v %s, ReadFile %v %v %s", path, h.Meta, h.Issues, h.Grain, want.Meta, want.Issues, want.Grain)
	}
	return len(chunks)
}

func rewardspyLog(t testing.TB, n int, seed int64) []byte {
	var buf bytes.Buffer
	if err := ingesttest.WriteRewardspyJSONL(&buf, n, seed); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(t testing.TB, data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

func TestStreamConformanceLogs(t *testing.T) {
	files, _ := filepath.Glob(ingesttest.Testdata(t, "conformance", "rewardspy", "*", "run.jsonl"))
	more, _ := filepath.Glob(ingesttest.Testdata(t, "runs", "*.jsonl"))
	files = append(files, more...)
	if len(files) < 10 {
		t.Fatalf("found only %d logs", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checkParity(t, data, f, Options{})
	}
}

func TestStreamRealJSONL(t *testing.T) {
	dir := ingesttest.RealData(t)
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".jsonl") || strings.HasSuffix(p, ".jsonl.gz")) {
			files = append(files, p)
		}
		return nil
	})
	pub, _ := filepath.Glob(ingesttest.Testdata(t, "publicruns", "*", "*.jsonl"))
	files = append(files, pub...)
	if len(files) == 0 {
		t.Skip("no JSONL files in realdata")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checkParity(t, data, f, Options{})
		// The long-run path: the head decides, later chunks follow it.
		withHeadRows(t, 7, func() { checkParity(t, data, f, Options{}) })
	}
}

func withHeadRows(t *testing.T, n int, f func()) {
	t.Helper()
	old := streamHeadRows
	streamHeadRows = n
	defer func() { streamHeadRows = old }()
	f()
}

// A rewardspy log of many batches streams in many chunks with exactly
// Read's columns, issues and component order: bad lines, a component
// first seen late, a truncated last line, gzip and truncated gzip.
func TestStreamRewardspyChunks(t *testing.T) {
	data := rewardspyLog(t, 40000, 3) // ~11 MB: several parallel batches
	if n := checkParity(t, data, "a.jsonl", Options{}); n < 4 {
		t.Fatalf("%d chunks, want several", n)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	var mod []byte
	for i, l := range lines {
		switch {
		case i%5000 == 17:
			mod = append(mod, []byte("{\"call_id\":\"x\",\"scalar_reward\":\"high\"}\n")...)
			mod = append(mod, l...)
		case i == 30000:
			mod = append(mod, bytes.Replace(l, []byte(`"total"`), []byte(`"late":0.5,"total"`), 1)...)
		case i == 12345:
			mod = append(mod, []byte("not json\n\n")...)
		default:
			mod = append(mod, l...)
		}
	}
	checkParity(t, mod, "bad.jsonl", Options{})
	checkParity(t, mod, "bad.jsonl", Options{MaxIssues: 3})
	checkParity(t, mod, "bad.jsonl", Options{Strict: true})
	checkParity(t, mod, "bad.jsonl", Options{Grain: GrainSample})
	checkFileParity(t, mod, Options{})
	cut := mod[:len(mod)-40] // a last line cut in the middle
	checkParity(t, cut, "cut.jsonl", Options{})
	z := gz(t, mod)
	checkParity(t, z, "bad.jsonl.gz", Options{})
	checkParity(t, z[:len(z)*2/3], "trunc.jsonl.gz", Options{})
	checkParity(t, z[:len(z)*2/3], "trunc.jsonl.gz", Options{Strict: true})
	// --map reads a rewardspy log as generic JSONL.
	checkParity(t, data, "a.jsonl", Options{Map: map[string]string{"length": "input_length"}})
}

// A generic log longer than the head: keys first seen late, bad lines,
// strings, a column that turns from numbers to text, well-known keys
// renamed on the head and then on every chunk.
func TestStreamGenericLong(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 60000; i++ {
		fmt.Fprintf(&b, `{"step":%d,"train/reward":%g,"loss":%g,"tag":"t%d"`, i, float64(i%97)/10, 1/float64(i+1), i%3)
		if i > 40000 {
			fmt.Fprintf(&b, `,"late_metric":%d`, i)
		}
		if i%1000 == 5 {
			fmt.Fprintf(&b, `,"rare":%d`, i)
		}
		if i > 50000 {
			b.WriteString(`,"mixed":"x"`)
		} else if i%2 == 0 {
			fmt.Fprintf(&b, `,"mixed":%d`, i)
		}
		b.WriteString("}\n")
		if i%7777 == 0 {
			b.WriteString("{\"step\": 1,\n")
		}
	}
	data := []byte(b.String())
	checkParity(t, data, "g.jsonl", Options{})
	checkFileParity(t, data, Options{})
	withHeadRows(t, 1000, func() {
		if n := checkParity(t, data, "g.jsonl", Options{}); n < 3 {
			t.Fatalf("%d chunks, want several", n)
		}
		checkParity(t, data, "g.jsonl", Options{Map: map[string]string{"reward": "loss"}})
		checkParity(t, data, "g.jsonl", Options{Grain: GrainStep})
		checkParity(t, gz(t, data), "g.jsonl.gz", Options{})
		checkFileParity(t, data, Options{})
		_, _, err := streamAll(t, data, "g.jsonl", Options{Map: map[string]string{"reward": "nope"}})
		if err == nil || !strings.Contains(err.Error(), "nope") {
			t.Fatalf("an unknown --map key: %v", err)
		}
	})
	// Rows of one step that merge: the run is read whole.
	b.Reset()
	for i := 0; i < 40000; i++ {
		fmt.Fprintf(&b, "{\"step\":%d,\"reward\":%d}\n{\"step\":%d,\"eval/acc\":0.5}\n", i, i%10, i)
	}
	withHeadRows(t, 1000, func() {
		if n := checkParity(t, []byte(b.String()), "m.jsonl", Options{}); n != 1 {
			t.Fatalf("a merged step log came in %d chunks", n)
		}
		checkFileParity(t, []byte(b.String()), Options{})
	})
}

// An error from fn stops the read and is returned as is.
func TestStreamStopsOnCallbackError(t *testing.T) {
	data := rewardspyLog(t, 40000, 5)
	stop := errors.New("enough")
	for _, opt := range []Options{{}, {Format: "jsonl"}} {
		calls := 0
		withHeadRows(t, 1000, func() {
			_, err := Stream(bytes.NewReader(data), "a.jsonl", opt, func(*Run) error {
				calls++
				return stop
			})
			if err != stop {
				t.Fatalf("err = %v, want fn's error", err)
			}
		})
		if calls != 1 {
			t.Fatalf("fn called %d times after its error", calls)
		}
	}
}

// SkipColumn leaves call_id out of a rewardspy log and changes nothing
// else; a call_id of the wrong type still drops its record.
func TestJSONLSkipColumn(t *testing.T) {
	data := append(rewardspyLog(t, 20000, 2), []byte("{\"call_id\":7,\"scalar_reward\":1}\n")...)
	skip := Options{SkipColumn: func(n string) bool { return n == ColCallID || n == "extra.note" }}
	full, err := Read(bytes.NewReader(data), "a.jsonl", Options{})
	if err != nil {
		t.Fatal(err)
	}
	lean, err := Read(bytes.NewReader(data), "a.jsonl", skip)
	if err != nil {
		t.Fatal(err)
	}
	if lean.Has(ColCallID) || !full.Has(ColCallID) {
		t.Fatal("call_id not skipped")
	}
	full.DropColumn(ColCallID)
	if d := sameColumns(full, lean); d != "" {
		t.Fatal(d)
	}
	if lean.Skipped != 1 || full.Skipped != 1 || !reflect.DeepEqual(lean.Issues, full.Issues) {
		t.Fatalf("skipped %d/%d, issues %v", lean.Skipped, full.Skipped, lean.Issues)
	}
	checkParity(t, data, "a.jsonl", skip)
}

// skipPlain stops at the first quote, backslash or control byte, as the
// byte-by-byte loop does.
func TestSkipPlain(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	alphabet := []byte("abc\"\\\x00\x1f\x20\x7f\x80\xff\xe2z09")
	for n := 0; n < 20000; n++ {
		b := make([]byte, rng.Intn(40))
		for i := range b {
			if rng.Intn(6) == 0 {
				b[i] = alphabet[rng.Intn(len(alphabet))]
			} else {
				b[i] = byte(0x20 + rng.Intn(0x60))
				if b[i] == '"' || b[i] == '\\' {
					b[i] = 'x'
				}
			}
		}
		start := 0
		if len(b) > 0 {
			start = rng.Intn(len(b) + 1)
		}
		want := start
		for want < len(b) && !strSpecial[b[want]] {
			want++
		}
		if got := skipPlain(b, start); got != want {
			t.Fatalf("skipPlain(%q, %d) = %d, want %d", b, start, got, want)
		}
	}
}

// FuzzStreamJSONL: on any input, Stream's chunks joined and its header
// equal Read's run (or both fail with the same error), on the short path
// and on the long one (a head of two rows deciding the rest).
func FuzzStreamJSONL(f *testing.F) {
	for _, g := range []string{"runs/*.jsonl", "conformance/rewardspy/*/run.jsonl"} {
		files, _ := filepath.Glob(filepath.Join("..", "testdata", g))
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil && len(data) < 64<<10 {
				f.Add(data)
			}
		}
	}
	f.Add([]byte("{\"step\":1,\"reward\":1}\n{\"step\":1,\"eval/acc\":2}\n{\"step\":2,\"reward\":3}\n{\"step\":2,\"x\":\"a\"}\n"))
	f.Add([]byte("{\"rewards/chosen\":1,\"rewards/rejected\":0.5}\n{\"rewards/chosen\":2,\"rewards/rejected\":1}\n{\"rewards/chosen\":3}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range []string{"", "jsonl", "rewardspy-jsonl"} {
			opt := Options{Format: format, MaxIssues: 5}
			checkParity(t, data, "fuzz", opt)
			withHeadRows(t, 2, func() { checkParity(t, data, "fuzz", opt) })
		}
	})
}

// A file whose first chunk has short lines and the rest long ones is
// sized from the first chunk: the columns come out exact all the same.
func TestReadFileShortFirstLines(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 60000; i++ {
		fmt.Fprintf(&b, "{\"step\":%d,\"r\":1}\n", i)
	}
	pad := strings.Repeat("x", 400)
	for i := 60000; i < 70000; i++ {
		fmt.Fprintf(&b, "{\"step\":%d,\"r\":2,\"note\":\"%s\"}\n", i, pad)
	}
	data := []byte(b.String())
	checkFileParity(t, data, Options{})
	path := filepath.Join(t.TempDir(), "run.jsonl")
	os.WriteFile(path, data, 0o644)
	run, err := ReadFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := run.Column(ColStep); len(c) != 70000 || cap(c) != 70000 {
		t.Fatalf("step column: len %d cap %d, want 70000", len(c), cap(c))
	}
}
