package ingest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

var updateTF = flag.Bool("update-tfevents", false, "rewrite testdata/trainers/small.tfevents")

// simpleEvent encodes an Event with one simple_value (torch SummaryWriter style).
func simpleEvent(wall float64, step int64, tag string, v float32) []byte {
	var ev []byte
	ev = pbAppendKey(ev, 1, 1)
	ev = binary.LittleEndian.AppendUint64(ev, math.Float64bits(wall))
	ev = pbAppendKey(ev, 2, 0)
	ev = pbAppendVarint(ev, uint64(step))
	var val []byte
	val = pbAppendBytes(val, 1, []byte(tag))
	val = pbAppendKey(val, 2, 5)
	val = binary.LittleEndian.AppendUint32(val, math.Float32bits(v))
	return pbAppendBytes(ev, 5, pbAppendBytes(nil, 1, val))
}

// tensorEvent encodes an Event whose value is a tensor built by the caller.
func tensorEvent(step int64, tag, plugin string, tensor []byte) []byte {
	var ev []byte
	ev = pbAppendKey(ev, 2, 0)
	ev = pbAppendVarint(ev, uint64(step))
	var val []byte
	val = pbAppendBytes(val, 1, []byte(tag))
	if plugin != "" {
		val = pbAppendBytes(val, 9, pbAppendBytes(nil, 1, pbAppendBytes(nil, 1, []byte(plugin))))
	}
	val = pbAppendBytes(val, 8, tensor)
	return pbAppendBytes(ev, 5, pbAppendBytes(nil, 1, val))
}

func records(events ...[]byte) []byte {
	out := appendTFRecord(nil, encodeEvent(0, 0, "", 0, false))
	for _, e := range events {
		out = appendTFRecord(out, e)
	}
	return out
}

func readTF(t *testing.T, b []byte, opt Options) *Run {
	t.Helper()
	run, err := Read(bytes.NewReader(b), "ev", opt)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func TestMaskedCRC(t *testing.T) {
	// Known value: TFRecord's masked CRC32C of an 8-byte length of 24
	// (from a file written by torch's SummaryWriter).
	var hdr [8]byte
	binary.LittleEndian.PutUint64(hdr[:], 0x18)
	if got := maskedCRC(hdr[:]); got != 0x224b7fa3 {
		t.Errorf("maskedCRC = %#x, want 0x224b7fa3", got)
	}
}

func TestTFEventsSimpleValues(t *testing.T) {
	b := records(
		simpleEvent(100, 1, "run/Train-Reward", 1.5),
		simpleEvent(100.5, 1, "loss", 0.25),
		simpleEvent(101, 2, "run/Train-Reward", 2.5),
		simpleEvent(102, 3, "loss", 0.125),
	)
	run := readTF(t, b, Options{})
	if run.Format != "tfevents" || run.Grain != GrainStep || run.Len() != 3 {
		t.Fatalf("format %s grain %s rows %d", run.Format, run.Grain, run.Len())
	}
	want := map[string][]float64{
		"step":                   {1, 2, 3},
		"time":                   {100, 101, 102},
		"reward":                 {1.5, 2.5, math.NaN()},
		"extra.run/Train-Reward": {1.5, 2.5, math.NaN()},
		"extra.loss":             {0.25, math.NaN(), 0.125},
	}
	if got := run.Columns(); len(got) != len(want) {
		t.Errorf("columns %v", got)
	}
	for c, w := range want {
		if g, _ := run.Column(c); !tfSameFloats(g, w) {
			t.Errorf("%s = %v, want %v", c, g, w)
		}
	}
}

func TestTFEventsTagMapping(t *testing.T) {
	cases := []struct {
		tags []string
		want []string // canonical columns expected besides extra.*
		not  []string
	}{
		{[]string{"rollout/ep_rew_mean", "rollout/ep_len_mean"}, []string{"reward", "length"}, nil},
		{[]string{"train/reward", "train/rewards/fmt/mean", "eval/loss", "train/completions/clipped_ratio"},
			[]string{"reward", "component.fmt", "eval.loss", "clip_ratio"}, nil},
		{[]string{"train/reward", "custom/reward"}, nil, []string{"reward"}}, // ambiguous
		{[]string{"eval/reward"}, []string{"eval.reward"}, []string{"reward"}},
		{[]string{"reward", "extra.x"}, []string{"reward", "extra.x"}, []string{"extra.reward", "extra.extra.x"}},
	}
	for _, c := range cases {
		var evs [][]byte
		for _, tag := range c.tags {
			evs = append(evs, simpleEvent(0, 1, tag, 1))
		}
		run := readTF(t, records(evs...), Options{})
		for _, w := range c.want {
			if !run.Has(w) {
				t.Errorf("tags %v: missing %s (have %v)", c.tags, w, run.Columns())
			}
		}
		for _, w := range c.not {
			if run.Has(w) {
				t.Errorf("tags %v: unexpected %s", c.tags, w)
			}
		}
	}
}

func TestTFEventsTensors(t *testing.T) {
	scalarShape := pbAppendBytes(nil, 2, nil)
	f32 := func(v float32) []byte {
		b := pbAppendKey(nil, 1, 0)
		b = pbAppendVarint(b, dtFloat)
		b = append(b, scalarShape...)
		return pbAppendBytes(b, 5, binary.LittleEndian.AppendUint32(nil, math.Float32bits(v)))
	}
	content := func(v float64) []byte {
		b := pbAppendKey(nil, 1, 0)
		b = pbAppendVarint(b, dtDouble)
		b = append(b, scalarShape...)
		return pbAppendBytes(b, 4, binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)))
	}
	vector := func() []byte { // shape [2]: not a scalar
		b := pbAppendKey(nil, 1, 0)
		b = pbAppendVarint(b, dtFloat)
		dim := pbAppendKey(nil, 1, 0)
		dim = pbAppendVarint(dim, 2)
		b = pbAppendBytes(b, 2, pbAppendBytes(nil, 2, dim))
		return pbAppendBytes(b, 5, make([]byte, 8))
	}
	i64 := func(v int64) []byte {
		b := pbAppendKey(nil, 1, 0)
		b = pbAppendVarint(b, dtInt64)
		b = pbAppendKey(b, 10, 0)
		return pbAppendVarint(b, uint64(v))
	}
	half := func(bits uint16) []byte {
		b := pbAppendKey(nil, 1, 0)
		b = pbAppendVarint(b, dtHalf)
		b = pbAppendKey(b, 13, 0)
		return pbAppendVarint(b, uint64(bits))
	}
	b := records(
		tensorEvent(1, "a", "scalars", f32(0.5)),
		tensorEvent(2, "a", "", f32(0.75)), // metadata only on the first event of a tag
		tensorEvent(1, "b", "scalars", content(-2.25)),
		tensorEvent(1, "h", "histograms", f32(9)),
		tensorEvent(1, "v", "", vector()),
		tensorEvent(1, "n", "", i64(-7)),
		tensorEvent(1, "f16", "", half(0x3c00)), // 1.0
	)
	run := readTF(t, b, Options{})
	checks := map[string][]float64{"extra.a": {0.5, 0.75}, "extra.b": {-2.25, math.NaN()}, "extra.n": {-7, math.NaN()}, "extra.f16": {1, math.NaN()}}
	for c, w := range checks {
		if g, _ := run.Column(c); !tfSameFloats(g, w) {
			t.Errorf("%s = %v, want %v", c, g, w)
		}
	}
	for _, c := range []string{"extra.h", "extra.v"} {
		if run.Has(c) {
			t.Errorf("non-scalar %s read as a column", c)
		}
	}
}

func TestTFEventsCorruption(t *testing.T) {
	good := records(simpleEvent(0, 1, "r", 1), simpleEvent(0, 2, "r", 2), simpleEvent(0, 3, "r", 3))
	recLen := len(appendTFRecord(nil, simpleEvent(0, 1, "r", 1)))
	first := len(good) - 3*recLen // the file_version record

	badData := append([]byte(nil), good...)
	badData[first+recLen+14] ^= 0xff // inside record 3's data
	badLen := append([]byte(nil), good...)
	badLen[first+recLen] ^= 0x01 // record 3's length
	cases := []struct {
		name   string
		in     []byte
		rows   int
		issue  string
		strict bool
	}{
		{"bad data crc", badData, 2, "ev:3: record 3 has a bad data checksum (corrupt); skipped", true},
		{"bad length crc", badLen, 1, "ev:3: record 3 at byte", true},
		{"truncated", good[:len(good)-5], 2, "ev:4: file ends inside record 4", true},
		{"truncated header", good[:len(good)-recLen+6], 2, "ev:4: file ends inside record 4's header", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := readTF(t, c.in, Options{Format: "tfevents"})
			if run.Len() != c.rows || len(run.Issues) != 1 || !strings.HasPrefix(run.Issues[0].Error(), c.issue) {
				t.Fatalf("rows %d issues %v; want %d rows and %q", run.Len(), run.Issues, c.rows, c.issue)
			}
			if _, err := Read(bytes.NewReader(c.in), "ev", Options{Format: "tfevents", Strict: true}); !errors.Is(err, ErrStrict) {
				t.Errorf("strict: %v", err)
			}
		})
	}
	if _, err := Read(bytes.NewReader([]byte("0123456789abcdef")), "ev", Options{Format: "tfevents"}); !errors.Is(err, ErrNotARun) {
		t.Errorf("garbage: %v", err)
	}
}

func tfSameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func roundTripRun() *Run {
	run := NewRun(5)
	run.Grain = GrainStep
	nan := math.NaN()
	run.SetColumn("step", []float64{10, 20, 30, 40, 50})
	run.SetColumn("time", []float64{1e9, 1e9 + 1.5, 1e9 + 3, 1e9 + 4.25, 1e9 + 6})
	run.SetColumn("reward", []float64{0.1, 0.2, 0.30000000000000004, -1e-300, 5})
	run.SetColumn("length", []float64{100, nan, 102, 103, 104})
	run.SetColumn("component.fmt", []float64{1, 1, 0, 1, 1})
	run.SetColumn("eval.loss", []float64{nan, 2.5, nan, nan, 1.25})
	run.SetColumn("extra.actor/lr(1e-4)", []float64{0.01, 0.01, 0.01, 0.01, 0.01})
	run.SetStringColumn("call_id", []string{"a", "b", "c", "d", "e"})
	return run
}

func TestTFEventsRoundTrip(t *testing.T) {
	for _, grain := range []Grain{GrainStep, GrainSample} {
		run := roundTripRun()
		if grain == GrainSample {
			// Repeated steps (several samples per step): the event step is the
			// record index and the step column travels as a tag.
			run.SetColumn("step", []float64{1, 1, 1, 2, 2})
		}
		var buf bytes.Buffer
		if err := WriteTFEvents(&buf, run); err != nil {
			t.Fatal(err)
		}
		if !detectTFEvents(buf.Bytes(), "") {
			t.Fatal("writer output not detected as tfevents")
		}
		back := readTF(t, buf.Bytes(), Options{})
		// call_id travels as text events and comes back.
		want := []string{"step", "time", "call_id", "reward", "length", "component.fmt", "eval.loss", "extra.actor/lr(1e-4)"}
		if got := back.Columns(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: columns %v, want %v", grain, got, want)
		}
		if ids, _ := back.StringColumn("call_id"); !reflect.DeepEqual(ids, []string{"a", "b", "c", "d", "e"}) {
			t.Errorf("%s: call_id = %q", grain, ids)
		}
		for _, c := range want[3:] {
			a, _ := run.Column(c)
			b, _ := back.Column(c)
			if !tfSameFloats(a, b) {
				t.Errorf("%s: column %s = %v, want %v", grain, c, b, a)
			}
		}
		if len(back.Issues) != 0 {
			t.Errorf("issues %v", back.Issues)
		}
	}
}

// TestTFEventsTestdata checks the small event file in testdata (written by
// WriteTFEvents; regenerate with -update-tfevents).
func TestTFEventsTestdata(t *testing.T) {
	path := ingesttest.Testdata(t, "trainers", "small.tfevents")
	if *updateTF {
		run := roundTripRun()
		err := WriteFileAtomic(path, func(w io.Writer) error { return WriteTFEvents(w, run) })
		if err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	run := readTF(t, b, Options{})
	if run.Len() != 5 || run.Format != "tfevents" {
		t.Fatalf("rows %d format %s", run.Len(), run.Format)
	}
	if r, _ := run.Column("reward"); r[2] != 0.30000000000000004 {
		t.Errorf("reward not lossless: %v", r[2])
	}
}

func FuzzTFEvents(f *testing.F) {
	f.Add(records(simpleEvent(1, 1, "a/reward", 1)))
	var buf bytes.Buffer
	_ = WriteTFEvents(&buf, roundTripRun())
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:40])
	f.Fuzz(func(t *testing.T, b []byte) {
		run, err := Read(bytes.NewReader(b), "f", Options{Format: "tfevents"})
		if err != nil {
			return
		}
		for _, c := range run.Columns() {
			if v, ok := run.Column(c); ok && len(v) != run.Len() {
				t.Fatalf("column %s has %d rows, run %d", c, len(v), run.Len())
			}
		}
	})
}

func BenchmarkTFEventsRead(b *testing.B) {
	n := 100_000
	run := NewRun(n)
	steps := make([]float64, n)
	r := make([]float64, n)
	l := make([]float64, n)
	for i := range steps {
		steps[i], r[i], l[i] = float64(i), math.Sin(float64(i)), float64(100+i%50)
	}
	run.SetColumn("step", steps)
	run.SetColumn("reward", r)
	run.SetColumn("length", l)
	var buf bytes.Buffer
	if err := WriteTFEvents(&buf, run); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for b.Loop() {
		if _, err := Read(bytes.NewReader(buf.Bytes()), "ev", Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
