package ingest_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
)

// A small writer of W&B's record file, following wandb's datastore.py
// (_write_header, _write_data, _write_record), to test the reader on
// framings a short real file does not have.

func pbKey(num, wire int) []byte { return binary.AppendUvarint(nil, uint64(num<<3|wire)) }

func pbLen(num int, b []byte) []byte {
	out := append(pbKey(num, 2), binary.AppendUvarint(nil, uint64(len(b)))...)
	return append(out, b...)
}

func pbInt(num int, v uint64) []byte { return append(pbKey(num, 0), binary.AppendUvarint(nil, v)...) }

// wbHistory encodes Record{history: HistoryRecord{items, step}}.
func wbHistory(step int, kv ...string) []byte {
	var h []byte
	for i := 0; i+1 < len(kv); i += 2 {
		item := append(pbLen(1, []byte(kv[i])), pbLen(16, []byte(kv[i+1]))...)
		h = append(h, pbLen(1, item)...)
	}
	h = append(h, pbLen(2, pbInt(1, uint64(step)))...)
	return append(pbInt(1, uint64(step+1)), pbLen(2, h)...)
}

type wbWriter struct {
	b       bytes.Buffer
	corrupt int // corrupt the CRC of the chunk with this index (1-based; 0 = none)
	chunks  int
}

func newWBWriter() *wbWriter {
	w := &wbWriter{}
	w.b.WriteString(":W&B")
	binary.Write(&w.b, binary.LittleEndian, uint16(0xBEE1))
	w.b.WriteByte(0)
	return w
}

func (w *wbWriter) chunk(typ byte, data []byte) {
	w.chunks++
	sum := crc32.Update(crc32.ChecksumIEEE([]byte{typ}), crc32.IEEETable, data)
	if w.chunks == w.corrupt {
		sum ^= 1
	}
	binary.Write(&w.b, binary.LittleEndian, sum)
	binary.Write(&w.b, binary.LittleEndian, uint16(len(data)))
	w.b.WriteByte(typ)
	w.b.Write(data)
}

func (w *wbWriter) record(s []byte) {
	const block, hdr = 32768, 7
	left := block - w.b.Len()%block
	if left < hdr {
		w.b.Write(make([]byte, left))
		left = block
	}
	if len(s)+hdr <= left {
		w.chunk(1, s)
		return
	}
	room := left - hdr
	w.chunk(2, s[:room])
	s = s[room:]
	for len(s) > block-hdr {
		w.chunk(3, s[:block-hdr])
		s = s[block-hdr:]
	}
	w.chunk(4, s)
}

// TestWandbRecordFile: records across block boundaries (first, middle and
// last chunks; zero padding), media values skipped, a global_step that
// becomes the step, NaN, a RunRecord's id in Meta.
func TestWandbRecordFile(t *testing.T) {
	w := newWBWriter()
	w.record(pbLen(17, append(pbLen(1, []byte("abc123")), pbLen(3, []byte("proj"))...)))
	big := strings.Repeat("x", 70000) // spans three blocks
	for i := 0; i < 400; i++ {
		kv := []string{"train/reward", "0.5", "train/global_step", "", "_runtime", "1.5", "rollout/ep_len_mean", "12"}
		kv[1] = []string{"0.5", "0.75", "NaN", "1"}[i%4]
		kv[3] = strconv.Itoa((i + 1) * 10)
		if i == 7 {
			kv = append(kv, "samples", `{"_type": "table", "data": "`+big+`"}`)
		}
		w.record(wbHistory(i, kv...))
	}
	run, err := ingest.Read(bytes.NewReader(w.b.Bytes()), "run-abc123.wandb", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Format != "wandb" || run.Len() != 400 || run.Skipped != 0 || len(run.Issues) != 0 {
		t.Fatalf("format %s rows %d skipped %d issues %v", run.Format, run.Len(), run.Skipped, run.Issues)
	}
	step, _ := run.Column("step")
	own, _ := run.Column("extra._step")
	r, _ := run.Column("reward")
	l, _ := run.Column("length")
	if step[0] != 10 || step[399] != 4000 || own[399] != 399 || r[1] != 0.75 || !math.IsNaN(r[2]) || l[5] != 12 {
		t.Errorf("step %v.. own %v r %v l %v", step[:2], own[399], r[:4], l[5])
	}
	if run.Has("extra.samples") || run.Meta["wandb_run_id"] != "abc123" || run.Meta[ingest.MetaRewardKey] != "train/reward" || run.Meta[ingest.MetaKind] != "policy" {
		t.Errorf("cols %v meta %v", run.Columns(), run.Meta)
	}

	// A chunk with a bad CRC: that record is skipped and reported.
	w2 := newWBWriter()
	w2.corrupt = 2
	for i := 0; i < 3; i++ {
		w2.record(wbHistory(i, "reward", "1"))
	}
	run, err = ingest.Read(bytes.NewReader(w2.b.Bytes()), "bad.wandb", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Len() != 2 || run.Skipped != 1 || !strings.Contains(run.Issues[0].Msg, "CRC") {
		t.Errorf("bad CRC: rows %d skipped %d %v", run.Len(), run.Skipped, run.Issues)
	}
	if _, err := ingest.Read(bytes.NewReader(w2.b.Bytes()), "bad.wandb", ingest.Options{Strict: true}); !errors.Is(err, ingest.ErrStrict) {
		t.Errorf("strict: %v", err)
	}
	// Cut short mid-record (a live run): the complete records are kept.
	full := w.b.Bytes()
	run, err = ingest.Read(bytes.NewReader(full[:len(full)-10]), "live.wandb", ingest.Options{})
	if err != nil || run.Len() != 399 {
		t.Errorf("cut: %v rows %d", err, run.Len())
	}
	// A file with no history: not a run.
	w3 := newWBWriter()
	w3.record(pbLen(17, pbLen(1, []byte("x"))))
	if _, err := ingest.Read(bytes.NewReader(w3.b.Bytes()), "empty.wandb", ingest.Options{}); !errors.Is(err, ingest.ErrNotARun) {
		t.Errorf("no history: %v", err)
	}
	// Broken framing: one issue, the records before it kept.
	broken := append([]byte(nil), w2.b.Bytes()...)
	broken = append(broken, 1, 2, 3, 4, 0xff, 0xff, 9)
	run, err = ingest.Read(bytes.NewReader(broken), "framing.wandb", ingest.Options{})
	if err != nil || run.Len() != 2 || !strings.Contains(run.Issues[len(run.Issues)-1].Msg, "bad chunk header") {
		t.Errorf("framing: %v %v", err, run.Issues)
	}
}

// TestWandbHistoryJSONL reads files/wandb-history.jsonl and a run folder
// holding it.
func TestWandbHistoryJSONL(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "wandb", "offline-run-20240101_120000-abcd1234")
	if err := os.MkdirAll(filepath.Join(run, "files"), 0o755); err != nil {
		t.Fatal(err)
	}
	hist := `{"_step": 0, "_runtime": 1.0, "_timestamp": 1700000000.5, "charts/episodic_return": 3.0, "charts/episodic_length": 50, "media": {"_type": "image-file", "path": "x.png"}}
{"_step": 1, "_runtime": 2.0, "_timestamp": 1700000001.5, "charts/episodic_return": 4.5, "losses/value_loss": NaN, "nested": {"a": 1}}
{"_step": 2, "_runtime": 3.0, "_timestamp": 1700000002.5, "charts/episodic_return": 6.0}
not json
`
	if err := os.WriteFile(filepath.Join(run, "files", "wandb-history.jsonl"), []byte(hist), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(run, "files", "wandb-summary.json"), []byte(`{"_step": 2, "_runtime": 3.0, "charts/episodic_return": 6.0}`), 0o644)
	for _, p := range []string{run, filepath.Join(dir, "wandb"), dir} {
		r, src, err := ingest.ReadPath(p, ingest.Options{})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if src.Kind != "wandb" || r.Format != "wandb-history" || r.Len() != 3 || r.Skipped != 1 || r.Issues[0].Line != 4 {
			t.Fatalf("%s: %s %s rows %d skipped %d %v", p, src.Kind, r.Format, r.Len(), r.Skipped, r.Issues)
		}
		rw, _ := r.Column("reward")
		tm, _ := r.Column("time")
		if rw[2] != 6 || tm[0] != 1700000000.5 || !r.Has("length") || !r.Has("extra.nested/a") || r.Has("extra.media/path") ||
			r.Meta[ingest.MetaKind] != "episodes" || r.Source != run {
			t.Errorf("%s: reward %v time %v cols %v meta %v source %s", p, rw, tm, r.Columns(), r.Meta, r.Source)
		}
	}
	// The summary on its own is not a run.
	_, err := ingest.ReadFile(filepath.Join(run, "files", "wandb-summary.json"), ingest.Options{})
	if !errors.Is(err, ingest.ErrNotARun) || !strings.Contains(err.Error(), "read the folder") {
		t.Errorf("summary: %v", err)
	}
}
