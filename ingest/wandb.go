package ingest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"
)

// The Weights & Biases readers.
//
// Format "wandb": a run's binary record file, run-<id>.wandb, as the wandb
// SDK writes it (wandb/sdk/internal/datastore.py): a 7-byte file header
// (":W&B", magic 0xBEE1 little-endian, version 0), then LevelDB-log framing
// in 32 KiB blocks: each chunk has a 7-byte header (CRC-32 (IEEE) of the
// type byte and the data, little-endian uint32; data length, uint16; type:
// 1 full, 2 first, 3 middle, 4 last), a block's last < 7 bytes are zero
// padding, and a record longer than a block is split first/middle.../last.
// Each record is a protobuf wandb_internal.Record; its history field (2) is
// a HistoryRecord {repeated HistoryItem item = 1; HistoryStep step = 2}
// with HistoryItem {key = 1, repeated nested_key = 2, value_json = 16}.
// Only history records are read (plus the run's id, project and name from
// the RunRecord, field 17, into Run.Meta). A chunk whose CRC does not match
// is an issue and its record is skipped; broken framing (a bad type or a
// length past the block) ends the read with one issue, keeping the records
// before it; a file cut short mid-record (a live run) keeps what is
// complete.
//
// Format "wandb-history": files/wandb-history.jsonl of older SDKs and
// offline runs: one JSON object per logged step with _step, _runtime and
// _timestamp. Nested objects are flattened with "/"; media and histogram
// objects ({"_type": ...}) and text are skipped.
//
// Both: one row per history step (_step); when the run logged a
// global_step (or train/global_step) on every row that rises step by step,
// that is the step column and _step is kept as extra._step. _timestamp ->
// time. Keys are named by the well-known table (see buildForeign): e.g.
// train/reward -> reward, rollout/ep_rew_mean -> reward,
// Rewards/mean_episodes -> reward, train/rewards/<f>/mean -> component.<f>,
// eval/<m> -> eval.<m>. Grain: step.

func init() {
	RegisterFormat(&Format{
		Name:     "wandb",
		Doc:      "Weights & Biases run record file (run-<id>.wandb)",
		Priority: 90,
		Detect: func(head []byte, name string) bool {
			return len(head) >= 7 && string(head[:4]) == ":W&B"
		},
		Read: readWandb,
	})
	RegisterFormat(&Format{
		Name:     "wandb-history",
		Doc:      "Weights & Biases files/wandb-history.jsonl (one {\"_step\": N, ...} per line)",
		Priority: 57,
		Detect:   detectWandbHistory,
		Read:     readWandbHistory,
	})
}

const (
	wandbBlock  = 32768
	wandbHeader = 7
	wandbMagic  = 0xBEE1
)

func readWandb(r io.Reader, name string, opt Options) (*Run, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	issues := issueList{name: name, opt: opt}
	var hdr [wandbHeader]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil || string(hdr[:4]) != ":W&B" {
		return nil, fmt.Errorf("%s: %w: not a W&B record file (no :W&B header)", name, ErrNotARun)
	}
	if m := binary.LittleEndian.Uint16(hdr[4:6]); m != wandbMagic || hdr[6] != 0 {
		return nil, fmt.Errorf("%s: W&B record file with magic %#x version %d: only version 0 (magic 0xbee1) is known", name, m, hdr[6])
	}
	idx := int64(wandbHeader)
	var points []foreignPoint
	meta := map[string]string{}
	var rec []byte
	inRecord := false
	nrec := 0
	stop := func(msg string) error {
		return issues.add(nrec+1, "", fmt.Sprintf("%s at byte %d; kept the %d records before it", msg, idx, nrec), false)
	}
	var ch [wandbHeader]byte
	for {
		if left := wandbBlock - idx%wandbBlock; left < wandbHeader {
			if _, err := io.ReadFull(br, ch[:left]); err != nil {
				break
			}
			idx += left
		}
		n, err := io.ReadFull(br, ch[:])
		if err == io.EOF {
			break
		}
		if err != nil {
			if n > 0 && !allZero(ch[:n]) {
				if e := stop("file ends inside a chunk header (a run still being written?)"); e != nil {
					return nil, e
				}
			}
			break
		}
		idx += wandbHeader
		sum := binary.LittleEndian.Uint32(ch[0:4])
		length := int64(binary.LittleEndian.Uint16(ch[4:6]))
		typ := ch[6]
		if typ == 0 && sum == 0 && length == 0 {
			break // zero fill after the last record
		}
		if typ < 1 || typ > 4 || length > wandbBlock-idx%wandbBlock {
			if e := stop(fmt.Sprintf("bad chunk header (type %d, length %d)", typ, length)); e != nil {
				return nil, e
			}
			break
		}
		data := make([]byte, length)
		if _, err := io.ReadFull(br, data); err != nil {
			break // cut short: a live run; keep the complete records
		}
		idx += length
		if crc32.Update(crc32.ChecksumIEEE([]byte{typ}), crc32.IEEETable, data) != sum {
			if e := issues.add(nrec+1, "", fmt.Sprintf("chunk at byte %d fails its CRC check; record skipped", idx-length-wandbHeader), true); e != nil {
				return nil, e
			}
			rec, inRecord = nil, false
			continue
		}
		switch typ {
		case 1:
			rec, inRecord = data, false
		case 2:
			rec, inRecord = data, true
			continue
		case 3, 4:
			if !inRecord {
				if e := issues.add(nrec+1, "", fmt.Sprintf("chunk at byte %d continues a record that never started; skipped", idx-length-wandbHeader), true); e != nil {
					return nil, e
				}
				continue
			}
			rec = append(rec, data...)
			if typ == 3 {
				continue
			}
			inRecord = false
		}
		nrec++
		if err := wandbRecord(rec, &points, meta); err != nil {
			if e := issues.add(nrec, "", "record is not a valid protobuf Record: "+err.Error(), true); e != nil {
				return nil, e
			}
		}
		rec = nil
	}
	if len(points) == 0 && issues.skipped == 0 && len(issues.list) == 0 {
		return nil, fmt.Errorf("%s: %w: the W&B record file has no logged history (nothing was wandb.log()ged)", name, ErrNotARun)
	}
	return finishWandb(name, "wandb", points, meta, issues, opt)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// wandbRecord decodes one Record, appending its history values.
func wandbRecord(b []byte, points *[]foreignPoint, meta map[string]string) error {
	return pbFields(b, func(f pbField) error {
		switch {
		case f.num == 2 && f.wire == 2:
			return wandbHistory(f.b, points)
		case f.num == 17 && f.wire == 2:
			return pbFields(f.b, func(g pbField) error {
				if g.wire != 2 {
					return nil
				}
				switch g.num {
				case 1:
					meta["wandb_run_id"] = string(g.b)
				case 3:
					meta["wandb_project"] = string(g.b)
				case 8:
					meta["wandb_name"] = string(g.b)
				}
				return nil
			})
		}
		return nil
	})
}

// wandbHistory decodes a HistoryRecord.
func wandbHistory(b []byte, points *[]foreignPoint) error {
	type kv struct {
		key string
		val []byte
	}
	var items []kv
	step, hasStep := 0.0, false
	err := pbFields(b, func(f pbField) error {
		switch {
		case f.num == 1 && f.wire == 2:
			var it kv
			var nested []string
			if err := pbFields(f.b, func(g pbField) error {
				if g.wire != 2 {
					return nil
				}
				switch g.num {
				case 1:
					it.key = string(g.b)
				case 2:
					nested = append(nested, string(g.b))
				case 16:
					it.val = g.b
				}
				return nil
			}); err != nil {
				return err
			}
			if it.key == "" {
				it.key = strings.Join(nested, "/")
			}
			items = append(items, it)
		case f.num == 2 && f.wire == 2:
			return pbFields(f.b, func(g pbField) error {
				if g.num == 1 && g.wire == 0 {
					step, hasStep = float64(int64(g.u)), true
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !hasStep {
		for _, it := range items {
			if it.key == "_step" {
				if v, ok := jsonValue(it.val); ok {
					step, hasStep = v, true
				}
			}
		}
	}
	if !hasStep {
		return fmt.Errorf("history record without a step")
	}
	for _, it := range items {
		if it.key == "" || it.key == "_step" {
			continue
		}
		if v, ok := jsonValue(it.val); ok {
			*points = append(*points, foreignPoint{step, it.key, v})
		}
	}
	return nil
}

// jsonValue reads a value_json that is a number (or NaN/Infinity, true/false).
// Objects (media, histograms), strings and lists are not metrics.
func jsonValue(b []byte) (float64, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] == '{' || b[0] == '[' || b[0] == '"' && !bytes.Contains(b, []byte("NaN")) && !bytes.Contains(b, []byte("Infinity")) {
		return 0, false
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(pyNonFinite(b)))
	d.UseNumber()
	if d.Decode(&v) != nil || v == nil {
		return 0, false
	}
	return jsonNumber(v)
}

// finishWandb builds the run and moves the step to global_step when the
// run logged one on every row.
func finishWandb(name, format string, points []foreignPoint, meta map[string]string, issues issueList, opt Options) (*Run, error) {
	run, err := buildForeign(name, format, "_timestamp", points, issues, opt)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"global_step", "train/global_step"} {
		g, ok := run.Column(ExtraPrefix + k)
		if !ok || !strictlyIncreasing(g) {
			continue
		}
		own := append([]float64(nil), run.Steps()...)
		gs := append([]float64(nil), g...)
		run.DropColumn(ExtraPrefix + k)
		run.SetColumn(ColStep, gs)
		run.SetColumn(ExtraPrefix+"_step", own)
		meta["step_key"] = k
		break
	}
	if len(meta) > 0 {
		if run.Meta == nil {
			run.Meta = map[string]string{}
		}
		for k, v := range meta {
			run.Meta[k] = v
		}
	}
	return run, nil
}

func detectWandbHistory(head []byte, name string) bool {
	if filepath.Base(name) == "wandb-summary.json" {
		return true
	}
	m, ok := firstJSONObject(head)
	if !ok {
		return false
	}
	_, s := m["_step"]
	_, rt := m["_runtime"]
	_, ts := m["_timestamp"]
	return s && (rt || ts)
}

func readWandbHistory(r io.Reader, name string, opt Options) (*Run, error) {
	if filepath.Base(name) == "wandb-summary.json" {
		return nil, fmt.Errorf("%s: %w: a W&B summary holds only the final values; read the run folder (the directory with files/ and run-<id>.wandb) instead", name, ErrNotARun)
	}
	issues := issueList{name: name, opt: opt}
	br := bufio.NewReaderSize(r, 1<<20)
	var points []foreignPoint
	lineNo := 0
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			lineNo++
			partial := err == io.EOF && !bytes.HasSuffix(line, []byte{'\n'})
			if e := wandbHistoryLine(line, lineNo, partial, &points, &issues); e != nil {
				return nil, e
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if e := issues.add(lineNo+1, "", "read error: "+err.Error(), false); e != nil {
				return nil, e
			}
			break
		}
	}
	return finishWandb(name, "wandb-history", points, map[string]string{}, issues, opt)
}

func wandbHistoryLine(line []byte, lineNo int, partial bool, points *[]foreignPoint, issues *issueList) error {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil
	}
	var obj map[string]any
	d := json.NewDecoder(bytes.NewReader(pyNonFinite(line)))
	d.UseNumber()
	if err := d.Decode(&obj); err != nil || obj == nil {
		if partial {
			return nil
		}
		return issues.add(lineNo, "", "not a JSON object", true)
	}
	sv, ok := jsonNumber(obj["_step"])
	if !ok || math.IsNaN(sv) || math.IsInf(sv, 0) {
		return issues.add(lineNo, "_step", "missing or non-numeric _step", true)
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok {
			if _, media := m["_type"]; media {
				return
			}
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(prefix+"/"+k, m[k])
			}
			return
		}
		if f, ok := jsonNumber(v); ok {
			*points = append(*points, foreignPoint{sv, prefix, f})
		}
	}
	for k, v := range obj {
		if k == "_step" {
			continue
		}
		walk(k, v)
	}
	return nil
}
