package ingest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"sort"
	"strings"
)

// The TensorBoard event-file reader and writer (format "tfevents"), with no
// TensorFlow: TFRecord framing and the Event/Summary protobufs are decoded
// by hand.
//
// Framing, per record: uint64 length (little endian), uint32 masked CRC32C
// of those 8 bytes, the data, uint32 masked CRC32C of the data; masked(c) =
// ((c >> 15) | (c << 17)) + 0xa282ead8. A record whose data CRC is wrong is
// reported as an Issue and skipped; a wrong length CRC means the framing is
// lost, so reading stops there with an Issue; a file cut mid-record keeps
// every record before the cut and reports the cut.
//
// Values: Summary.Value.simple_value (float32, torch SummaryWriter and TF1)
// and scalar tensors (TF2 tf.summary.scalar: one element of float, double,
// half, bfloat16, int32, int64, uint8/16/32/64 or bool, in the typed *_val
// field or in tensor_content). Non-scalar tensors, histograms, images and
// text are skipped, as are tensors whose tag's plugin is not "scalars". A
// NaN or infinite value is reported (Issue.Line is the record number) and
// its event skipped, so the cell is missing.
//
// Columns: one row per distinct event step (rows sorted by step); wall_time
// -> time (absent when every wall_time is 0). Each tag becomes a column:
//
//   - a tag that is already a goodhart column name (reward, length, clip_ratio,
//     reward_std, zero_std_frac, kl, entropy, time, step, component.*,
//     eval.*, extra.*) is read as that column (this is what the writer writes);
//   - every other tag is kept as extra.<tag>, and is ALSO copied to a
//     canonical column when it is the only tag that maps there:
//     reward <- rollout/ep_rew_mean (SB3), train/reward (HF/TRL),
//     critic/score/mean (verl), charts/episodic_return (CleanRL), or any
//     tag whose last path element is reward, train-reward / train_reward /
//     Train-Reward, ep_rew_mean, episode_reward, episodic_return or
//     episode_return (not under eval/, val/ or test/); length <-
//     rollout/ep_len_mean, charts/episodic_length,
//     train/completions/mean_length, train/completion_length,
//     response_length/mean; clip_ratio <- train/completions/clipped_ratio,
//     response_length/clip_ratio; zero_std_frac <- train/frac_reward_zero_std;
//     reward_std <- train/reward_std; kl <- train/kl, actor/kl_loss;
//     entropy <- train/entropy, actor/entropy; component.<f> <-
//     train/rewards/<f>/mean; eval.<m> <- eval/<m>, val/<m>, val-core/<m>.
//     Two tags competing for reward (say train/reward and a custom
//     .../reward) map neither: ambiguity is left to --map.

func init() {
	RegisterFormat(&Format{
		Name:     "tfevents",
		Doc:      "TensorBoard event file (events.out.tfevents.*; scalar summaries)",
		Priority: 70,
		Detect:   detectTFEvents,
		Read:     readTFEvents,
	})
	RegisterWriter(&Writer{
		Name:  "tfevents",
		Exts:  []string{".tfevents"},
		Write: WriteTFEvents,
	})
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskedCRC is TFRecord's masked CRC32C of b.
func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return ((c >> 15) | (c << 17)) + 0xa282ead8
}

// maxTFRecord caps one record's length: a larger header is corruption.
const maxTFRecord = 256 << 20

func detectTFEvents(head []byte, name string) bool {
	if len(head) < 12 {
		return false
	}
	n := binary.LittleEndian.Uint64(head[:8])
	return n > 0 && n < maxTFRecord && binary.LittleEndian.Uint32(head[8:12]) == maskedCRC(head[:8])
}

// pbField is one decoded protobuf field.
type pbField struct {
	num  int
	wire int
	u    uint64 // varint, fixed64, fixed32 values
	b    []byte // length-delimited payload
}

var errPB = errors.New("malformed protobuf")

func pbVarint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * uint(i))
		if b[i] < 0x80 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errPB
}

// pbFields decodes the top-level fields of a message.
func pbFields(b []byte, fn func(f pbField) error) error {
	for len(b) > 0 {
		key, n, err := pbVarint(b)
		if err != nil {
			return err
		}
		b = b[n:]
		f := pbField{num: int(key >> 3), wire: int(key & 7)}
		if f.num == 0 {
			return errPB
		}
		switch f.wire {
		case 0:
			if f.u, n, err = pbVarint(b); err != nil {
				return err
			}
			b = b[n:]
		case 1:
			if len(b) < 8 {
				return errPB
			}
			f.u = binary.LittleEndian.Uint64(b)
			b = b[8:]
		case 2:
			l, n, err := pbVarint(b)
			if err != nil || l > uint64(len(b)-n) {
				return errPB
			}
			f.b = b[n : n+int(l)]
			b = b[n+int(l):]
		case 5:
			if len(b) < 4 {
				return errPB
			}
			f.u = uint64(binary.LittleEndian.Uint32(b))
			b = b[4:]
		default:
			return errPB
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// tfScalar is one scalar value of one event.
type tfScalar struct {
	tag    string
	value  float64
	plugin string // plugin name from the value's metadata, "" if none
	hasMD  bool
	isStr  bool // a scalar DT_STRING tensor (text plugin): str holds it
	str    string
}

type tfEvent struct {
	wall    float64
	step    int64
	scalars []tfScalar
}

// tagInterner returns one shared string per distinct tag, so a file of a
// million events for a few tags allocates a few strings.
type tagInterner map[string]string

func (t tagInterner) get(b []byte) string {
	if s, ok := t[string(b)]; ok {
		return s
	}
	s := string(b)
	t[s] = s
	return s
}

func decodeEvent(b []byte, tags tagInterner) (tfEvent, error) {
	var ev tfEvent
	err := pbFields(b, func(f pbField) error {
		switch {
		case f.num == 1 && f.wire == 1:
			ev.wall = math.Float64frombits(f.u)
		case f.num == 2 && f.wire == 0:
			ev.step = int64(f.u)
		case f.num == 5 && f.wire == 2:
			return pbFields(f.b, func(sf pbField) error {
				if sf.num != 1 || sf.wire != 2 {
					return nil
				}
				s, ok, err := decodeValue(sf.b, tags)
				if err != nil {
					return err
				}
				if ok {
					ev.scalars = append(ev.scalars, s)
				}
				return nil
			})
		}
		return nil
	})
	return ev, err
}

// decodeValue reads a Summary.Value; ok is false for non-scalar values.
func decodeValue(b []byte, tags tagInterner) (tfScalar, bool, error) {
	var s tfScalar
	var nodeName string
	has := false
	err := pbFields(b, func(f pbField) error {
		switch {
		case f.num == 1 && f.wire == 2:
			s.tag = tags.get(f.b)
		case f.num == 7 && f.wire == 2:
			nodeName = tags.get(f.b)
		case f.num == 2 && f.wire == 5:
			s.value = float64(math.Float32frombits(uint32(f.u)))
			has = true
		case f.num == 8 && f.wire == 2:
			if str, ok := decodeStringTensor(f.b); ok {
				s.str, s.isStr, has = str, true, true
				return nil
			}
			v, ok, err := decodeScalarTensor(f.b)
			if err != nil {
				return err
			}
			if ok {
				s.value, has = v, true
			}
		case f.num == 9 && f.wire == 2:
			s.hasMD = true
			return pbFields(f.b, func(mf pbField) error {
				if mf.num == 1 && mf.wire == 2 { // plugin_data
					return pbFields(mf.b, func(pf pbField) error {
						if pf.num == 1 && pf.wire == 2 {
							s.plugin = tags.get(pf.b)
						}
						return nil
					})
				}
				return nil
			})
		}
		return nil
	})
	if s.tag == "" {
		s.tag = nodeName
	}
	return s, has && err == nil && s.tag != "", err
}

// TensorFlow DataType enum values used by scalar summaries.
const (
	dtFloat    = 1
	dtDouble   = 2
	dtInt32    = 3
	dtUint8    = 4
	dtInt16    = 5
	dtInt8     = 6
	dtInt64    = 9
	dtBool     = 10
	dtBfloat16 = 14
	dtUint16   = 17
	dtHalf     = 19
	dtUint32   = 22
	dtUint64   = 23
)

// tfComponentOrderTag is the text event in which the writer records the
// source's component order (a JSON list of names), read back into
// Run.Meta[MetaComponentOrder].
const tfComponentOrderTag = "goodhart/component_order"

// dtString is TensorFlow's DT_STRING.
const dtString = 7

// decodeStringTensor reads a TensorProto holding exactly one string (what
// the text plugin logs, and what the writer writes for text columns).
func decodeStringTensor(b []byte) (string, bool) {
	var dtype uint64
	var vals [][]byte
	dims := 0
	err := pbFields(b, func(f pbField) error {
		switch {
		case f.num == 1 && f.wire == 0:
			dtype = f.u
		case f.num == 2 && f.wire == 2:
			return pbFields(f.b, func(sf pbField) error {
				if sf.num == 2 && sf.wire == 2 {
					dims++
				}
				return nil
			})
		case f.num == 8 && f.wire == 2: // string_val
			vals = append(vals, f.b)
		}
		return nil
	})
	if err != nil || dtype != dtString || dims != 0 || len(vals) != 1 {
		return "", false
	}
	return string(vals[0]), true
}

// decodeScalarTensor reads a TensorProto holding exactly one number.
func decodeScalarTensor(b []byte) (float64, bool, error) {
	var dtype uint64
	elems := int64(1)
	var content []byte
	var vals []float64
	err := pbFields(b, func(f pbField) error {
		switch {
		case f.num == 1 && f.wire == 0:
			dtype = f.u
		case f.num == 2 && f.wire == 2: // TensorShapeProto
			return pbFields(f.b, func(sf pbField) error {
				if sf.num == 2 && sf.wire == 2 { // dim
					size := int64(-1)
					if err := pbFields(sf.b, func(df pbField) error {
						if df.num == 1 && df.wire == 0 {
							size = int64(df.u)
						}
						return nil
					}); err != nil {
						return err
					}
					if size < 0 {
						size = 0 // a dim with no size field has size 0
					}
					elems *= size
				}
				return nil
			})
		case f.num == 4 && f.wire == 2:
			content = f.b
		case f.num == 5: // float_val
			return pbRepeated(f, 4, func(u uint64) { vals = append(vals, float64(math.Float32frombits(uint32(u)))) })
		case f.num == 6: // double_val
			return pbRepeated(f, 8, func(u uint64) { vals = append(vals, math.Float64frombits(u)) })
		case f.num == 7: // int_val (also int8/16, uint8/16, bool in old writers)
			return pbRepeated(f, 0, func(u uint64) { vals = append(vals, float64(int32(u))) })
		case f.num == 10: // int64_val
			return pbRepeated(f, 0, func(u uint64) { vals = append(vals, float64(int64(u))) })
		case f.num == 11: // bool_val
			return pbRepeated(f, 0, func(u uint64) { vals = append(vals, float64(u&1)) })
		case f.num == 13: // half_val (and bfloat16), raw bits in an int32
			return pbRepeated(f, 0, func(u uint64) {
				if dtype == dtBfloat16 {
					vals = append(vals, float64(math.Float32frombits(uint32(u&0xffff)<<16)))
				} else {
					vals = append(vals, halfToFloat(uint16(u)))
				}
			})
		case f.num == 16: // uint32_val
			return pbRepeated(f, 0, func(u uint64) { vals = append(vals, float64(uint32(u))) })
		case f.num == 17: // uint64_val
			return pbRepeated(f, 0, func(u uint64) { vals = append(vals, float64(u)) })
		}
		return nil
	})
	if err != nil || elems != 1 {
		return 0, false, err
	}
	if len(vals) >= 1 {
		return vals[0], true, nil
	}
	if content != nil {
		le := binary.LittleEndian
		switch {
		case dtype == dtFloat && len(content) == 4:
			return float64(math.Float32frombits(le.Uint32(content))), true, nil
		case dtype == dtDouble && len(content) == 8:
			return math.Float64frombits(le.Uint64(content)), true, nil
		case dtype == dtInt32 && len(content) == 4:
			return float64(int32(le.Uint32(content))), true, nil
		case dtype == dtInt64 && len(content) == 8:
			return float64(int64(le.Uint64(content))), true, nil
		case dtype == dtUint32 && len(content) == 4:
			return float64(le.Uint32(content)), true, nil
		case dtype == dtUint64 && len(content) == 8:
			return float64(le.Uint64(content)), true, nil
		case dtype == dtInt16 && len(content) == 2:
			return float64(int16(le.Uint16(content))), true, nil
		case dtype == dtUint16 && len(content) == 2:
			return float64(le.Uint16(content)), true, nil
		case (dtype == dtInt8) && len(content) == 1:
			return float64(int8(content[0])), true, nil
		case (dtype == dtUint8 || dtype == dtBool) && len(content) == 1:
			return float64(content[0]), true, nil
		case dtype == dtHalf && len(content) == 2:
			return halfToFloat(le.Uint16(content)), true, nil
		case dtype == dtBfloat16 && len(content) == 2:
			return float64(math.Float32frombits(uint32(le.Uint16(content)) << 16)), true, nil
		}
	}
	return 0, false, nil
}

// pbRepeated walks a repeated scalar field, packed (wire 2) or not. size is
// 4 or 8 for fixed-width elements, 0 for varints.
func pbRepeated(f pbField, size int, add func(uint64)) error {
	if f.wire != 2 {
		add(f.u)
		return nil
	}
	b := f.b
	for len(b) > 0 {
		switch size {
		case 4:
			if len(b) < 4 {
				return errPB
			}
			add(uint64(binary.LittleEndian.Uint32(b)))
			b = b[4:]
		case 8:
			if len(b) < 8 {
				return errPB
			}
			add(binary.LittleEndian.Uint64(b))
			b = b[8:]
		default:
			v, n, err := pbVarint(b)
			if err != nil {
				return err
			}
			add(v)
			b = b[n:]
		}
	}
	return nil
}

// halfToFloat converts IEEE 754 binary16 bits to a float64.
func halfToFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * frac * math.Pow(2, -24)
	case 0x1f:
		if frac == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * (1 + frac/1024) * math.Pow(2, float64(exp-15))
}

// tfKnownTags maps well-known tags of other tools to canonical columns.
var tfKnownTags = map[string]string{
	"rollout/ep_rew_mean":             ColReward,
	"charts/episodic_return":          ColReward,
	"charts/episodic_length":          ColLength,
	"train/reward":                    ColReward,
	"critic/score/mean":               ColReward,
	"rollout/ep_len_mean":             ColLength,
	"train/completions/mean_length":   ColLength,
	"train/completion_length":         ColLength,
	"response_length/mean":            ColLength,
	"train/completions/clipped_ratio": ColClipRatio,
	"response_length/clip_ratio":      ColClipRatio,
	"train/frac_reward_zero_std":      ColZeroStdFrac,
	"train/reward_std":                ColRewardStd,
	"train/kl":                        ColKL,
	"actor/kl_loss":                   ColKL,
	"train/entropy":                   ColEntropy,
	"actor/entropy":                   ColEntropy,
}

// tfRewardNames are last path elements (lower case, '-' and ' ' as '_')
// that name a training reward.
var tfRewardNames = map[string]bool{"reward": true, "train_reward": true, "ep_rew_mean": true, "episode_reward": true,
	"episodic_return": true, "episode_return": true}

// isGoodhartColumn reports whether tag is already a goodhart column name.
func isGoodhartColumn(tag string) bool {
	switch tag {
	case ColStep, ColReward, ColRewardStd, ColLength, ColGroup, ColZeroStdFrac, ColClipRatio,
		ColKL, ColEntropy, ColTime, ColDurationMS, ColInputLength, ColCallID,
		ColChosen, ColRejected, ColMargin, ColPrefAccuracy,
		ComponentPrefix: // a component named "" (as the writer writes it)
		return true
	}
	for _, p := range []string{ComponentPrefix, EvalPrefix, ExtraPrefix} {
		if strings.HasPrefix(tag, p) && len(tag) > len(p) {
			return true
		}
	}
	return false
}

// tfCanonical returns the canonical column a foreign tag maps to, or "".
func tfCanonical(tag string) string {
	if c, ok := tfKnownTags[tag]; ok {
		return c
	}
	if c := WellKnownColumn(tag); c != "" {
		return c
	}
	for _, p := range []string{"eval/", "val/", "val-core/"} {
		if strings.HasPrefix(tag, p) && len(tag) > len(p) {
			return EvalPrefix + strings.TrimPrefix(tag, p)
		}
	}
	if strings.HasPrefix(tag, "train/rewards/") && strings.HasSuffix(tag, "/mean") {
		f := strings.TrimSuffix(strings.TrimPrefix(tag, "train/rewards/"), "/mean")
		if f != "" {
			return ComponentPrefix + f
		}
	}
	last := tag
	if i := strings.LastIndexByte(tag, '/'); i >= 0 {
		last = tag[i+1:]
	}
	last = strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(last))
	if tfRewardNames[last] && !strings.HasPrefix(tag, "eval") && !strings.HasPrefix(tag, "val") && !strings.HasPrefix(tag, "test") {
		return ColReward
	}
	return ""
}

func readTFEvents(r io.Reader, name string, opt Options) (*Run, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	issues := issueList{name: name, opt: opt}
	type textPoint struct {
		step int64
		tag  string
		s    string
	}
	var texts []textPoint
	compOrder := "" // the writer's component order, a JSON list
	type point struct {
		step int64
		tag  string
		v    float64
	}
	var points []point
	wall := map[int64]float64{}
	plugin := map[string]string{} // tag -> plugin name from its first metadata
	interner := tagInterner{}
	var hdr [12]byte
	var data bytes.Buffer
	rec := 0
	var off int64
	records := 0
	for {
		rec++
		n, err := io.ReadFull(br, hdr[:])
		if err == io.EOF {
			break
		}
		if err != nil {
			if opt.live && errors.Is(err, io.ErrUnexpectedEOF) {
				break // a live writer's next record, half written
			}
			if e := issues.add(rec, "", fmt.Sprintf("file ends inside record %d's header (byte %d): truncated; kept the %d records before it", rec, off, records), false); e != nil {
				return nil, e
			}
			break
		}
		off += int64(n)
		length := binary.LittleEndian.Uint64(hdr[:8])
		if binary.LittleEndian.Uint32(hdr[8:]) != maskedCRC(hdr[:8]) || length >= maxTFRecord {
			if rec == 1 {
				return nil, fmt.Errorf("%s: %w: not a TFRecord file (bad length checksum in the first record)", name, ErrNotARun)
			}
			if e := issues.add(rec, "", fmt.Sprintf("record %d at byte %d has a bad length checksum: the rest of the file cannot be framed; kept the %d records before it", rec, off-12, records), true); e != nil {
				return nil, e
			}
			break
		}
		data.Reset()
		m, err := io.CopyN(&data, br, int64(length)+4)
		off += m
		if err != nil {
			if opt.live && errors.Is(err, io.EOF) {
				break // a live writer's last record, half written
			}
			if e := issues.add(rec, "", fmt.Sprintf("file ends inside record %d (byte %d): truncated; kept the %d records before it", rec, off, records), true); e != nil {
				return nil, e
			}
			break
		}
		body := data.Bytes()[:length]
		if binary.LittleEndian.Uint32(data.Bytes()[length:]) != maskedCRC(body) {
			if e := issues.add(rec, "", fmt.Sprintf("record %d has a bad data checksum (corrupt); skipped", rec), true); e != nil {
				return nil, e
			}
			continue
		}
		ev, err := decodeEvent(body, interner)
		if err != nil {
			if e := issues.add(rec, "", fmt.Sprintf("record %d is not a valid Event protobuf; skipped", rec), true); e != nil {
				return nil, e
			}
			continue
		}
		records++
		if len(ev.scalars) > 0 {
			if _, ok := wall[ev.step]; !ok {
				wall[ev.step] = ev.wall
			}
		}
		for _, s := range ev.scalars {
			if s.hasMD {
				if _, seen := plugin[s.tag]; !seen {
					plugin[s.tag] = s.plugin
				}
			}
			if s.isStr {
				// Text: only goodhart's own text columns (call_id,
				// extra.<key>, as the writer writes them) are read back;
				// other text summaries (sample generations) are not
				// metrics.
				if s.tag == tfComponentOrderTag {
					compOrder = s.str
					continue
				}
				if plugin[s.tag] == "text" && isGoodhartColumn(s.tag) && s.str != "" {
					texts = append(texts, textPoint{ev.step, s.tag, s.str})
				}
				continue
			}
			if p := plugin[s.tag]; p != "" && p != "scalars" {
				continue
			}
			if math.IsNaN(s.value) || math.IsInf(s.value, 0) {
				// A NaN loss after divergence, an overflowed value: not a
				// value to compute with. The event is skipped and reported.
				if e := issues.add(rec, s.tag, valueProblem(s.tag, s.value, false, fmt.Sprint(s.value))+" (event skipped)", true); e != nil {
					return nil, e
				}
				continue
			}
			points = append(points, point{ev.step, s.tag, s.value})
		}
	}

	// Decide each tag's columns.
	tags := map[string]bool{}
	for _, p := range points {
		tags[p.tag] = true
	}
	claim := map[string][]string{} // canonical column -> foreign tags mapping there
	for tag := range tags {
		if isGoodhartColumn(tag) {
			continue
		}
		if c := tfCanonical(tag); c != "" {
			claim[c] = append(claim[c], tag)
		}
	}
	winner := resolveClaims(claim)
	colsOf := map[string][]string{}
	for tag := range tags {
		if isGoodhartColumn(tag) {
			colsOf[tag] = []string{tag}
			continue
		}
		cols := []string{ExtraPrefix + tag}
		if c := tfCanonical(tag); c != "" && winner[c] == tag && !tags[c] {
			cols = append(cols, c)
		}
		colsOf[tag] = cols
	}

	// Rows: one per distinct step, sorted.
	stepSet := map[int64]bool{}
	for _, p := range points {
		stepSet[p.step] = true
	}
	for _, p := range texts {
		stepSet[p.step] = true
	}
	steps := make([]int64, 0, len(stepSet))
	for s := range stepSet {
		steps = append(steps, s)
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i] < steps[j] })
	rowOf := make(map[int64]int, len(steps))
	for i, s := range steps {
		rowOf[s] = i
	}
	t := newTrainerTable(name, opt)
	t.n = len(steps)
	stepCol := make([]float64, len(steps))
	anyWall := false
	timeCol := make([]float64, len(steps))
	for i, s := range steps {
		stepCol[i] = float64(s)
		timeCol[i] = wall[s]
		if wall[s] != 0 {
			anyWall = true
		}
	}
	t.cols[ColStep] = stepCol
	t.order = append(t.order, ColStep)
	if anyWall && !tags[ColTime] {
		t.cols[ColTime] = timeCol
		t.order = append(t.order, ColTime)
	}
	tagNames := make([]string, 0, len(tags))
	for tag := range tags {
		tagNames = append(tagNames, tag)
	}
	sort.Strings(tagNames)
	for _, tag := range tagNames {
		for _, c := range colsOf[tag] {
			if !t.has(c) {
				t.set(0, c, math.NaN())
			}
		}
	}
	for _, p := range points {
		for _, c := range colsOf[p.tag] {
			t.put(rowOf[p.step], c, p.tag, p.v)
		}
	}
	t.issues = issues
	if records == 0 && len(issues.list) == 0 && issues.skipped == 0 {
		return nil, fmt.Errorf("%s: %w: empty event file", name, ErrNotARun)
	}
	run := t.run("tfevents", GrainStep)
	run.Source = name
	strCols := map[string][]string{}
	var strOrder []string
	for _, p := range texts {
		c, ok := strCols[p.tag]
		if !ok {
			if run.Has(p.tag) {
				continue // a tag logged as both numbers and text: the numbers win
			}
			c = make([]string, len(steps))
			strOrder = append(strOrder, p.tag)
		}
		c[rowOf[p.step]] = p.s
		strCols[p.tag] = c
	}
	for _, tag := range strOrder {
		run.SetStringColumn(tag, strCols[tag])
	}
	if compOrder != "" {
		run.setMeta(MetaComponentOrder, compOrder)
	}
	if err := applySourceMap(run, t.origin, opt.Map); err != nil {
		return nil, err
	}
	return run, nil
}

// TFRecord / protobuf encoding for the writer.

func pbAppendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func pbAppendKey(b []byte, num, wire int) []byte {
	return pbAppendVarint(b, uint64(num)<<3|uint64(wire))
}

func pbAppendBytes(b []byte, num int, p []byte) []byte {
	b = pbAppendKey(b, num, 2)
	b = pbAppendVarint(b, uint64(len(p)))
	return append(b, p...)
}

func appendTFRecord(out, data []byte) []byte {
	var hdr [8]byte
	binary.LittleEndian.PutUint64(hdr[:], uint64(len(data)))
	out = append(out, hdr[:]...)
	out = binary.LittleEndian.AppendUint32(out, maskedCRC(hdr[:]))
	out = append(out, data...)
	return binary.LittleEndian.AppendUint32(out, maskedCRC(data))
}

// encodeTextEvent builds an Event holding one text value: a scalar
// DT_STRING tensor with the "text" plugin (TensorBoard's text tab shows it).
func encodeTextEvent(wall float64, step int64, tag, text string, withMeta bool) []byte {
	var ev []byte
	ev = pbAppendKey(ev, 1, 1)
	ev = binary.LittleEndian.AppendUint64(ev, math.Float64bits(wall))
	if step != 0 {
		ev = pbAppendKey(ev, 2, 0)
		ev = pbAppendVarint(ev, uint64(step))
	}
	var tensor []byte
	tensor = pbAppendKey(tensor, 1, 0)
	tensor = pbAppendVarint(tensor, dtString)
	tensor = pbAppendBytes(tensor, 2, nil)
	tensor = pbAppendBytes(tensor, 8, []byte(text))
	var val []byte
	val = pbAppendBytes(val, 1, []byte(tag))
	if withMeta {
		var pd, md []byte
		pd = pbAppendBytes(pd, 1, []byte("text"))
		md = pbAppendBytes(md, 1, pd)
		val = pbAppendBytes(val, 9, md)
	}
	val = pbAppendBytes(val, 8, tensor)
	summary := pbAppendBytes(nil, 1, val)
	return pbAppendBytes(ev, 5, summary)
}

// encodeEvent builds an Event. With tag == "" it is the file_version header.
func encodeEvent(wall float64, step int64, tag string, v float64, withMeta bool) []byte {
	var ev []byte
	ev = pbAppendKey(ev, 1, 1)
	ev = binary.LittleEndian.AppendUint64(ev, math.Float64bits(wall))
	if tag == "" {
		return pbAppendBytes(ev, 3, []byte("brain.Event:2"))
	}
	if step != 0 {
		ev = pbAppendKey(ev, 2, 0)
		ev = pbAppendVarint(ev, uint64(step))
	}
	// TensorProto{dtype: DT_DOUBLE, tensor_shape: {}, double_val: [v]}.
	var tensor []byte
	tensor = pbAppendKey(tensor, 1, 0)
	tensor = pbAppendVarint(tensor, dtDouble)
	tensor = pbAppendBytes(tensor, 2, nil)
	var dv [8]byte
	binary.LittleEndian.PutUint64(dv[:], math.Float64bits(v))
	tensor = pbAppendBytes(tensor, 6, dv[:])
	var val []byte
	val = pbAppendBytes(val, 1, []byte(tag))
	if withMeta {
		// SummaryMetadata{plugin_data: {plugin_name: "scalars"}, data_class: DATA_CLASS_SCALAR}.
		var pd, md []byte
		pd = pbAppendBytes(pd, 1, []byte("scalars"))
		md = pbAppendBytes(md, 1, pd)
		md = pbAppendKey(md, 4, 0)
		md = pbAppendVarint(md, 1)
		val = pbAppendBytes(val, 9, md)
	}
	val = pbAppendBytes(val, 8, tensor)
	summary := pbAppendBytes(nil, 1, val)
	return pbAppendBytes(ev, 5, summary)
}

// WriteTFEvents writes run's numeric columns as a TensorBoard event file:
// one scalar event per finite value, tag = column name, value a DT_DOUBLE
// scalar tensor with the "scalars" plugin (lossless; TensorBoard shows it
// like any scalar). The event step is the run's step column when it is
// strictly increasing and integral (step-grain logs); otherwise the 0-based
// record index, and the step column, if any, is written as the tag "step".
// wall_time is the time column when present, else 0. Text columns (call_id,
// extra.<key> holding text) are written as text events (a scalar DT_STRING
// tensor with the "text" plugin), one per non-empty cell. Components come
// in the source's order (Run.Meta[MetaComponentOrder]), which the reader
// restores. Rows without a single value are not written. ReadFile of the
// output gives back the same columns; the grain reads back as step (pass
// Options.Grain to restore another).
func WriteTFEvents(w io.Writer, run *Run) error {
	n := run.Len()
	steps, hasStep := run.Column(ColStep)
	useStep := hasStep
	if hasStep {
		for i, s := range steps {
			if math.IsNaN(s) || math.IsInf(s, 0) || s != math.Trunc(s) || math.Abs(s) > 1<<53 || (i > 0 && s <= steps[i-1]) {
				useStep = false
				break
			}
		}
	}
	times, hasTime := run.Column(ColTime)
	var cols, textCols []string
	names := run.Columns()
	// Components in the source's order.
	var compNames []string
	for _, k := range orderedComponents(run) {
		compNames = append(compNames, ComponentPrefix+k)
	}
	ci := 0
	for i, c := range names {
		if strings.HasPrefix(c, ComponentPrefix) {
			names[i] = compNames[ci]
			ci++
		}
	}
	for _, c := range names {
		if run.IsString(c) {
			textCols = append(textCols, c)
			continue
		}
		if c == ColStep && useStep {
			continue
		}
		if c == ColTime {
			continue // carried as wall_time (see below)
		}
		cols = append(cols, c)
	}
	// time is written as wall_time; keep it as a tag too when it cannot be
	// carried exactly (non-finite values).
	if hasTime {
		for _, t := range times {
			if math.IsNaN(t) || math.IsInf(t, 0) {
				cols = append(cols, ColTime)
				hasTime = false
				break
			}
		}
	}
	bw := bufio.NewWriter(w)
	buf := appendTFRecord(nil, encodeEvent(0, 0, "", 0, false))
	if _, err := bw.Write(buf); err != nil {
		return err
	}
	if len(compNames) > 1 && n > 0 {
		step := int64(0)
		if useStep {
			step = int64(steps[0])
		}
		order := make([]string, len(compNames))
		for i, c := range compNames {
			order[i] = strings.TrimPrefix(c, ComponentPrefix)
		}
		buf = appendTFRecord(buf[:0], encodeTextEvent(0, step, tfComponentOrderTag, jsonStringList(order), true))
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	data := make(map[string][]float64, len(cols))
	for _, c := range cols {
		data[c], _ = run.Column(c)
	}
	for i := 0; i < n; i++ {
		step := int64(i)
		if useStep {
			step = int64(steps[i])
		}
		wall := 0.0
		if hasTime {
			wall = times[i]
		}
		for _, c := range cols {
			v := data[c][i]
			if math.IsNaN(v) {
				continue
			}
			buf = appendTFRecord(buf[:0], encodeEvent(wall, step, c, v, !seen[c]))
			seen[c] = true
			if _, err := bw.Write(buf); err != nil {
				return err
			}
		}
		for _, c := range textCols {
			sc, _ := run.StringColumn(c)
			if sc[i] == "" {
				continue
			}
			buf = appendTFRecord(buf[:0], encodeTextEvent(wall, step, c, sc[i], !seen[c]))
			seen[c] = true
			if _, err := bw.Write(buf); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}
