package ingest

// JSONL readers.
//
// rewardspy-jsonl (detected by a scalar_reward key in the first object):
// call_id -> call_id, timestamp -> time, step -> step, scalar_reward ->
// reward, components.<k> -> component.<k> (total included),
// call_duration_ms -> duration_ms, input_length -> input_length,
// output_length -> length; any other key is kept (see mapping.go). Grain
// call. A record without a numeric scalar_reward, or with a field of the
// wrong type, is an issue and skipped.
//
// jsonl (any JSON object per line): nested objects are flattened with "/"
// ({"metrics": {"acc": 1}} -> metrics/acc), arrays are kept as their JSON
// text, strings as string columns, booleans as 1/0, null as a missing
// value (a boolean where a canonical column wants a number is an issue);
// keys are named by the rules of mapping.go (--map first). Lines of
// different shapes are fine: a key a line lacks is missing in that row. A
// column holding both numbers and text becomes a text column.
//
// Several lines for one trainer step (a train line and an eval line): when
// the step column never decreases and repeats a value, consecutive rows of
// the same step are merged into one row if no column has two different
// values among them, giving one row per step (grain step); if any column
// conflicts, rows are kept as they are (several samples per step). See
// InferGrain and mergeSameStep.
//
// Both readers: numbers are parsed exactly (strconv semantics, the same
// float64 Python's json gives; see parseNumber); NaN, Infinity and
// out-of-range numbers (1e999) are issues; blank lines are ignored; a last
// line without a newline is a record if it parses (a live log) and one
// issue if not; a truncated gzip stream keeps every complete record and
// adds one issue.
//
// Speed: the input is cut at newlines into 2 MiB chunks parsed on all
// cores and taken in file order (line numbers in issues are exact); lines
// in rewardspy's exact layout skip the general scanner. For a plain file
// every column is allocated once, at the size the first chunk's bytes per
// line predict for the whole file (grown if the file has more), so reading
// needs little more than the columns themselves; for gzip or a pipe the
// chunks are kept and joined at the end (about twice the columns at the
// peak). Stream hands the chunks over instead of keeping them (see
// Stream).
//
// Wide, sparse logs (thousands of keys, each in a few rows): while reading,
// a column with a value in fewer than a quarter of a chunk's rows is held
// as (row, value) pairs, so memory follows the values, not rows x keys.
// At the end such columns become dense columns while the run's cells
// (rows x columns) stay within max(8,388,608, 8 x the values the file
// holds); reward, component.*, eval.* and mapped columns are always kept,
// extra.<key> columns with the most values first. The rest are dropped:
// Meta[MetaDroppedCount] counts them, Meta[MetaDroppedColumns] lists them
// and DroppedNote gives the line to show the user. A kept column keeps
// every value.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonScanner is a small, allocation-free JSON scanner for one line holding
// one object. Nested objects are flattened: their keys are joined with "/".
// Arrays are kept as their raw JSON text. Numbers are parsed with strconv
// semantics (correctly rounded, bit-exact with Python's float()); NaN,
// Infinity and out-of-range numbers are errors, as are all JSON syntax
// errors.
type jsonScanner struct {
	b   []byte
	i   int
	key []byte // current flattened key path
	tmp []byte // unescape buffer
	// value receives each leaf value. kind is one of the kind* constants;
	// for kindStr s holds the unescaped text (valid until the next call).
	value func(key []byte, kind int, num float64, s []byte) error
}

const (
	kindNum = iota
	kindStr
	kindBool
	kindNull
	kindRaw    // an array, as raw JSON text (kept as a string)
	kindObject // (only as a column's expected kind) must be an object
)

const maxJSONDepth = 64

// jsonError is a syntax problem at a byte offset of the line.
type jsonError struct {
	off   int
	msg   string
	field string
}

func (e *jsonError) Error() string { return e.msg }

func (s *jsonScanner) fail(msg string) error {
	return &jsonError{off: s.i, msg: msg, field: string(s.key)}
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// scanLine parses b, which must hold exactly one JSON object (surrounding
// white space allowed).
func (s *jsonScanner) scanLine(b []byte) error {
	s.b, s.i, s.key = b, 0, s.key[:0]
	s.ws()
	if s.i >= len(s.b) {
		return s.fail("empty line")
	}
	if s.b[s.i] != '{' {
		return s.fail("not a JSON object")
	}
	if err := s.object(0); err != nil {
		return err
	}
	s.ws()
	if s.i < len(s.b) {
		return s.fail(fmt.Sprintf("unexpected %s after the object", quoteByte(s.b[s.i])))
	}
	return nil
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (s *jsonScanner) object(depth int) error {
	if depth > maxJSONDepth {
		return s.fail("objects nested too deeply")
	}
	s.i++ // '{'
	base := len(s.key)
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("line ends inside an object (truncated record?)")
		}
		s.key = s.key[:base]
		if s.b[s.i] != '"' {
			return s.fail(fmt.Sprintf("expected a key, found %s", quoteByte(s.b[s.i])))
		}
		k, err := s.str()
		if err != nil {
			return err
		}
		s.key = s.key[:base]
		if base > 0 {
			s.key = append(s.key, '/')
		}
		s.key = append(s.key, k...)
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.fail("expected ':' after a key")
		}
		s.i++
		s.ws()
		if err := s.val(depth); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("line ends inside an object (truncated record?)")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			s.key = s.key[:base]
			return nil
		default:
			return s.fail(fmt.Sprintf("expected ',' or '}', found %s", quoteByte(s.b[s.i])))
		}
	}
}

func (s *jsonScanner) val(depth int) error {
	if s.i >= len(s.b) {
		return s.fail("missing value")
	}
	c := s.b[s.i]
	switch {
	case c == '{':
		return s.object(depth + 1)
	case c == '"':
		v, err := s.str()
		if err != nil {
			return err
		}
		return s.value(s.key, kindStr, 0, v)
	case c == '-' || (c >= '0' && c <= '9'):
		x, err := s.num()
		if err != nil {
			return err
		}
		return s.value(s.key, kindNum, x, nil)
	case c == '[':
		start := s.i
		if err := s.skipArray(depth + 1); err != nil {
			return err
		}
		return s.value(s.key, kindRaw, 0, s.b[start:s.i])
	case c == 't' && s.lit("true"):
		return s.value(s.key, kindBool, 1, nil)
	case c == 'f' && s.lit("false"):
		return s.value(s.key, kindBool, 0, nil)
	case c == 'n' && s.lit("null"):
		return s.value(s.key, kindNull, 0, nil)
	case c == 'N' && s.lit("NaN"), c == 'I' && s.lit("Infinity"):
		s.i -= 3
		return s.fail("not a finite number (NaN/Infinity)")
	}
	return s.fail(fmt.Sprintf("invalid value starting with %s", quoteByte(c)))
}

func (s *jsonScanner) lit(w string) bool {
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

func (s *jsonScanner) skipArray(depth int) error {
	if depth > maxJSONDepth {
		return s.fail("arrays nested too deeply")
	}
	s.i++ // '['
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return nil
	}
	save := s.value
	defer func() { s.value = save }()
	s.value = func([]byte, int, float64, []byte) error { return nil }
	keyLen := len(s.key)
	for {
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("line ends inside an array (truncated record?)")
		}
		if err := s.val(depth); err != nil {
			return err
		}
		s.key = s.key[:keyLen]
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("line ends inside an array (truncated record?)")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.fail(fmt.Sprintf("expected ',' or ']', found %s", quoteByte(s.b[s.i])))
		}
	}
}

// str scans a string starting at the opening quote and returns its
// unescaped bytes (a subslice of the line when it has no escapes).
func (s *jsonScanner) str() ([]byte, error) {
	s.i++
	start := s.i
	b := s.b
	i := s.i
	i = skipPlain(b, i)
	s.i = i
	if i < len(b) {
		switch c := b[i]; {
		case c == '"':
			s.i++
			return b[start:i], nil
		case c == '\\':
			return s.strSlow(start)
		default:
			return nil, s.fail("control character inside a string")
		}
	}
	return nil, s.fail("line ends inside a string (truncated record?)")
}

func (s *jsonScanner) strSlow(start int) ([]byte, error) {
	s.tmp = append(s.tmp[:0], s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.tmp, nil
		case c < 0x20:
			return nil, s.fail("control character inside a string")
		case c != '\\':
			s.tmp = append(s.tmp, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			break
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			s.tmp = append(s.tmp, e)
		case 'b':
			s.tmp = append(s.tmp, '\b')
		case 'f':
			s.tmp = append(s.tmp, '\f')
		case 'n':
			s.tmp = append(s.tmp, '\n')
		case 'r':
			s.tmp = append(s.tmp, '\r')
		case 't':
			s.tmp = append(s.tmp, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, s.fail(`bad \u escape in a string`)
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					s.i += 2
					lo, ok := s.hex4()
					if !ok {
						return nil, s.fail(`bad \u escape in a string`)
					}
					r2 = utf16.DecodeRune(r, lo)
				}
				r = r2
			}
			s.tmp = utf8.AppendRune(s.tmp, r)
		default:
			s.i--
			return nil, s.fail("bad escape in a string")
		}
	}
	return nil, s.fail("line ends inside a string (truncated record?)")
}

func (s *jsonScanner) hex4() (rune, bool) {
	if len(s.b)-s.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	s.i += 4
	return r, true
}

// skipPlain returns the index of the first byte at or after i in b that
// ends the fast path of string scanning (a quote, a backslash or a control
// byte; see strSpecial), or len(b). It tests eight bytes at a time.
func skipPlain(b []byte, i int) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q := x ^ (lo * '"')
		bs := x ^ (lo * '\\')
		// a byte of q or bs is zero, or a byte of x is below 0x20
		m := ((q - lo) &^ q) | ((bs - lo) &^ bs) | ((x - lo*0x20) &^ x)
		if m&hi != 0 {
			break
		}
	}
	for i < len(b) && !strSpecial[b[i]] {
		i++
	}
	return i
}

// strSpecial marks the bytes that end the fast path of string scanning.
var strSpecial = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// num scans a JSON number (strict grammar) and parses it in the same pass,
// with exactly strconv.ParseFloat's result (see parseNumber).
func (s *jsonScanner) num() (float64, error) {
	start := s.i
	x, n, err := parseNumber(s.b[start:])
	if err == nil {
		s.i = start + n
		return x, nil
	}
	if err == errNumberRange {
		return 0, s.fail(fmt.Sprintf("number %.40s is out of range (not finite as a float64)", s.b[start:start+n]))
	}
	s.i = start + n
	if s.i < len(s.b) && s.b[s.i] == 'I' && n == 1 {
		return 0, s.fail("not a finite number (NaN/Infinity)")
	}
	return 0, s.fail(err.Error())
}

// ---- readers ----

func init() {
	RegisterFormat(&Format{
		Name:     "rewardspy-jsonl",
		Doc:      "rewardspy JSONL log (one reward call per line, with scalar_reward)",
		Priority: 70,
		Detect:   detectRewardspyJSONL,
		Read:     readRewardspyJSONL,
	})
	RegisterFormat(&Format{
		Name:     "jsonl",
		Doc:      "any JSON object per line (nested keys joined with /; use --map)",
		Priority: 10,
		Detect:   detectJSONL,
		Read:     readGenericJSONL,
	})
}

// firstLine returns the first non-blank line of head and whether it is
// complete (ends in a newline, or is all there is of the input).
func firstLine(head []byte) ([]byte, bool) {
	head = bytes.TrimPrefix(head, utf8BOM)
	for len(head) > 0 {
		i := bytes.IndexByte(head, '\n')
		var line []byte
		complete := true
		if i < 0 {
			line, head = head, nil
			complete = len(line) < SniffSize
		} else {
			line, head = head[:i], head[i+1:]
		}
		if len(bytes.TrimSpace(line)) > 0 {
			return line, complete
		}
	}
	return nil, false
}

// topKeys scans a line and returns its flattened keys, or ok=false when it
// is not one valid JSON object.
func topKeys(line []byte) (keys []string, ok bool) {
	var s jsonScanner
	s.value = func(k []byte, _ int, _ float64, _ []byte) error {
		keys = append(keys, string(k))
		return nil
	}
	return keys, s.scanLine(line) == nil
}

func detectRewardspyJSONL(head []byte, _ string) bool {
	line, complete := firstLine(head)
	if line == nil {
		return false
	}
	if !complete {
		t := bytes.TrimSpace(line)
		return len(t) > 0 && t[0] == '{' && bytes.Contains(line, []byte(`"scalar_reward"`))
	}
	keys, ok := topKeys(line)
	if !ok {
		return false
	}
	for _, k := range keys {
		if k == "scalar_reward" {
			return true
		}
	}
	return false
}

func detectJSONL(head []byte, _ string) bool {
	line, complete := firstLine(head)
	if line == nil {
		return false
	}
	t := bytes.TrimSpace(line)
	if len(t) == 0 || t[0] != '{' {
		return false
	}
	if !complete {
		return true
	}
	_, ok := topKeys(line)
	return ok
}

func readRewardspyJSONL(r io.Reader, name string, opt Options) (*Run, error) {
	if len(opt.Map) > 0 {
		// --map on a rewardspy log: read it as generic JSONL, which knows
		// rewardspy's field names and applies the mapping on top.
		return readJSONL(r, name, opt, false)
	}
	return readJSONL(r, name, opt, true)
}

func readGenericJSONL(r io.Reader, name string, opt Options) (*Run, error) {
	return readJSONL(r, name, opt, false)
}

// jsonlChunk is a block of whole lines and the 1-based number of its first line.
type jsonlChunk struct {
	seq       int
	firstLine int
	data      []byte
	buf       *[]byte // pooled backing store, returned after parsing (or nil)
	last      bool    // the final chunk of the input
	truncated bool    // the input ended with a read error (truncated gzip)
	truncLine int     // with truncated: the line the input was cut on
	truncMsg  string  // with truncated: the read error
}

const jsonlChunkSize = 2 << 20

var jsonlBufPool = sync.Pool{New: func() any { b := make([]byte, 0, jsonlChunkSize+64<<10); return &b }}

// jsonlBatch holds the rows parsed from one chunk.
type jsonlBatch struct {
	seq       int
	lines     int // estimated lines in the chunk (a capacity hint)
	nlines    int // lines in the chunk, blank ones included
	bytes     int // bytes of input in the chunk
	rows      int
	last      bool // the final batch of the input
	truncLine int  // the line a truncated input was cut on (last batch only)
	truncMsg  string
	cols      []*batchCol
	byName    map[string]int
	byKey     map[string]int // source key -> index in cols; -1 = ignored
	keys      []string       // source keys seen
	sbuf      []byte         // string cell storage
	strs      string         // sbuf frozen into one string at the end
	issues    []Issue
	skipped   int
	order     [][]int32 // distinct orders of component columns seen
	// skip is Options.SkipColumn for the rewardspy reader (nil otherwise):
	// the call_id and extra.* columns it names are checked but not stored.
	skip func(string) bool
}

type batchCol struct {
	name  string
	isStr bool
	want  int // kindNum / kindStr, or -1 for any
	num   []float64
	sp    []int64 // string cells: start<<32 | end into sbuf; -1 = missing
	ss    []string
	has   bool // some row has a value

	capHint int // initial capacity: the batch's line count for its first 64 columns

	// sparse: the column stores only the rows that have a value (srow,
	// ascending) with num / sp / ss parallel to it, so that a log with
	// thousands of rarely present keys costs memory in proportion to its
	// values, not rows x keys. Columns past the batch's 64th start sparse;
	// one with a value in at least a quarter of the rows is made dense at
	// the end of the chunk.
	sparse bool
	srow   []int32
	count  int // rows with a value

	// skip: the column is checked (a wrong type still drops the row) but
	// its values are not stored (Options.SkipColumn).
	skip bool
	// isReward, isComp: the column is the reward or a component.* column.
	isReward, isComp bool
}

// pendingVal is one value of a line, stored once the whole line parsed
// (s0:s1 is a string's span in the batch's string storage).
type pendingVal struct {
	num    float64
	col    int32
	s0, s1 int32
	isStr  bool
}

// columnFor returns the batch column for a source key, creating it.
func (b *jsonlBatch) columnFor(key []byte, rewardspy bool, km *keyMapper, mu *sync.Mutex) int {
	if i, ok := b.byKey[string(key)]; ok {
		return i
	}
	k := string(key)
	b.keys = append(b.keys, k)
	want := -1
	var name string
	if rewardspy {
		switch k {
		case "call_id":
			name, want = ColCallID, kindStr
		case "timestamp":
			name, want = ColTime, kindNum
		case "step":
			name, want = ColStep, kindNum
		case "scalar_reward":
			name, want = ColReward, kindNum
		case "call_duration_ms":
			name, want = ColDurationMS, kindNum
		case "input_length":
			name, want = ColInputLength, kindNum
		case "output_length":
			name, want = ColLength, kindNum
		case "components":
			name, want = ExtraPrefix+k, kindObject
		default:
			if c, ok := strings.CutPrefix(k, "components/"); ok {
				name, want = ComponentPrefix+c, kindNum
			} else {
				name = defaultColumnName(k)
				if canonicalNames[name] || name == ColReward {
					name = ExtraPrefix + k
				}
			}
		}
	} else {
		mu.Lock()
		name = km.column(k)
		mu.Unlock()
		if name == ColCallID {
			want = kindStr
		}
	}
	i, ok := b.byName[name]
	if !ok {
		i = len(b.cols)
		hint := 256 // a log with ever new keys must not allocate lines x keys
		if i < 64 {
			hint = b.lines
		}
		skip := b.skip != nil && (want == kindStr || (want == -1 && strings.HasPrefix(name, ExtraPrefix))) && b.skip(name)
		b.cols = append(b.cols, &batchCol{name: name, want: want, capHint: hint, sparse: i >= 64, skip: skip,
			isReward: name == ColReward, isComp: strings.HasPrefix(name, ComponentPrefix)})
		b.byName[name] = i
	}
	b.byKey[k] = i
	return i
}

func parseChunk(c *jsonlChunk, name string, rewardspy bool, km *keyMapper, mu *sync.Mutex, scratch *[]byte, skip func(string) bool) *jsonlBatch {
	b := &jsonlBatch{seq: c.seq, byName: map[string]int{}, byKey: map[string]int{},
		bytes: len(c.data), last: c.last, truncLine: c.truncLine, truncMsg: c.truncMsg}
	if rewardspy {
		b.skip = skip
	}
	b.lines = estimateLines(c.data)
	var pend []pendingVal
	var compSeq, lastSeq []int32
	orderSet := map[string]bool{}
	var rowErr error
	var errField string
	hasReward := false
	var s jsonScanner
	// Lines of one log nearly always list the same keys in the same order,
	// so the column of the j-th key of a line is predicted from the line
	// before, and the key map is consulted only when the key differs.
	var posKeys [][]byte
	var posCols []int
	pos := 0
	s.value = func(key []byte, kind int, num float64, v []byte) error {
		var col int
		if pos < len(posKeys) && string(posKeys[pos]) == string(key) {
			col = posCols[pos]
		} else {
			col = b.columnFor(key, rewardspy, km, mu)
			if pos < len(posKeys) {
				posKeys[pos] = append(posKeys[pos][:0], key...)
				posCols[pos] = col
			} else {
				posKeys = append(posKeys, append([]byte(nil), key...))
				posCols = append(posCols, col)
			}
		}
		pos++
		bc := b.cols[col]
		switch kind {
		case kindNull:
			if rewardspy && bc.name == ColReward {
				errField = string(key)
				return errors.New("scalar_reward is null")
			}
			return nil
		case kindNum, kindBool:
			if kind == kindBool && canonicalCol(bc.name) {
				errField = string(key)
				return fmt.Errorf("want a number, got a boolean")
			}
			if bc.want == kindObject {
				errField = string(key)
				return fmt.Errorf("want an object of numbers, got %s", kindName(kind))
			}
			if bc.want == kindStr {
				errField = string(key)
				return fmt.Errorf("want a string, got a %s", kindName(kind))
			}
			if bc.skip {
				return nil
			}
			pend = append(pend, pendingVal{col: int32(col), num: num})
		case kindStr, kindRaw:
			if bc.want == kindNum || bc.want == kindObject {
				errField = string(key)
				return fmt.Errorf("want a number, got %s", kindName(kind))
			}
			if bc.skip {
				return nil
			}
			s0 := len(b.sbuf)
			b.sbuf = append(b.sbuf, v...)
			pend = append(pend, pendingVal{col: int32(col), isStr: true, s0: int32(s0), s1: int32(len(b.sbuf))})
		}
		if bc.isReward {
			hasReward = true
		}
		if bc.isComp {
			compSeq = append(compSeq, int32(col))
		}
		return nil
	}
	var fast fastRewardspy
	if rewardspy {
		fast.init(b, km, mu)
	}
	b.sbuf = (*scratch)[:0]
	data := c.data
	line := c.firstLine - 1
	for len(data) > 0 {
		line++
		i := bytes.IndexByte(data, '\n')
		var l []byte
		if i < 0 {
			l, data = data, nil
		} else {
			l, data = data[:i], data[i+1:]
		}
		if len(l) > 0 && l[len(l)-1] == '\r' {
			l = l[:len(l)-1]
		}
		if line == 1 {
			l = bytes.TrimPrefix(l, utf8BOM) // a byte-order mark some editors write
		}
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		pend, compSeq, errField, hasReward, pos = pend[:0], compSeq[:0], "", false, 0
		sMark := len(b.sbuf)
		ok := false
		if rewardspy {
			pend, compSeq, ok = fast.line(l, b, pend, compSeq)
		}
		if ok {
			rowErr = nil
			hasReward = true
		} else {
			pend, compSeq, pos = pend[:0], compSeq[:0], 0
			b.sbuf = b.sbuf[:sMark]
			rowErr = s.scanLine(l)
		}
		if rowErr == nil && rewardspy && !hasReward {
			rowErr, errField = errors.New("missing required field scalar_reward"), "scalar_reward"
		}
		if rowErr != nil {
			b.sbuf = b.sbuf[:sMark]
			b.skipped++
			is := Issue{File: name, Line: line, Field: errField, Msg: rowErr.Error()}
			var je *jsonError
			if errors.As(rowErr, &je) {
				is.Field = je.field
				is.Msg = fmt.Sprintf("%s (column %d)", je.msg, je.off+1)
				if c.truncated && i < 0 {
					is.Msg = "incomplete last line (input is truncated): " + is.Msg
				}
			}
			if len(b.issues) < 1000 {
				b.issues = append(b.issues, is)
			}
			continue
		}
		row := b.rows
		for _, p := range pend {
			bc := b.cols[p.col]
			if !p.isStr && !bc.isStr && !bc.sparse && len(bc.num) == row && cap(bc.num) > row {
				bc.num = append(bc.num, p.num) // the common case of set
				bc.count++
			} else {
				bc.set(b, row, p)
			}
			bc.has = true
		}
		b.rows++
		if len(compSeq) > 0 && !int32sEqual(compSeq, lastSeq) {
			k := int32sKey(compSeq)
			if !orderSet[k] {
				orderSet[k] = true
				b.order = append(b.order, append([]int32(nil), compSeq...))
			}
			lastSeq = append(lastSeq[:0], compSeq...)
		}
	}
	b.nlines = line - c.firstLine + 1
	if c.buf != nil {
		*c.buf = (*c.buf)[:0]
		jsonlBufPool.Put(c.buf)
	}
	// Freeze strings: one allocation per batch.
	b.strs = string(b.sbuf)
	*scratch = b.sbuf[:0]
	b.sbuf = nil
	for _, bc := range b.cols {
		if bc.sparse && bc.count*4 >= b.rows {
			bc.densify()
		} else if !bc.sparse && bc.count*4 < b.rows {
			bc.sparsify()
		}
		if bc.sparse {
			if bc.isStr {
				bc.ss = make([]string, len(bc.sp))
				for k, sp := range bc.sp {
					bc.ss[k] = b.strs[sp>>32 : sp&0xffffffff]
				}
				bc.sp = nil
			}
			continue
		}
		if bc.isStr {
			bc.ss = getStrings(b.rows)
			for r, sp := range bc.sp {
				if sp >= 0 {
					bc.ss[r] = b.strs[sp>>32 : sp&0xffffffff]
				}
			}
			bc.sp = nil
		} else {
			bc.num = fitFloat(bc.num, b.rows)
		}
	}
	return b
}

func kindName(k int) string {
	switch k {
	case kindNum:
		return "a number"
	case kindStr:
		return "a string"
	case kindBool:
		return "a boolean"
	case kindRaw:
		return "an array"
	}
	return "null"
}

// set stores a value at row, padding the column with missing values.
// A numeric column that receives a string becomes a string column (its
// numbers are kept as their shortest text), so no value is lost.
func (bc *batchCol) set(b *jsonlBatch, row int, p pendingVal) {
	if p.isStr && !bc.isStr {
		bc.toString(b)
	}
	if bc.sparse {
		dup := len(bc.srow) > 0 && int(bc.srow[len(bc.srow)-1]) == row
		if !dup {
			bc.srow = append(bc.srow, int32(row))
			bc.count++
		}
		if bc.isStr {
			s0, s1 := int(p.s0), int(p.s1)
			if !p.isStr {
				s0 = len(b.sbuf)
				b.sbuf = appendNumText(b.sbuf, p.num)
				s1 = len(b.sbuf)
			}
			v := int64(s0)<<32 | int64(s1)
			if dup {
				bc.sp[len(bc.sp)-1] = v // duplicate key in one line: the last wins
			} else {
				bc.sp = append(bc.sp, v)
			}
		} else if dup {
			bc.num[len(bc.num)-1] = p.num
		} else {
			bc.num = append(bc.num, p.num)
		}
		return
	}
	if bc.isStr {
		s0, s1 := int(p.s0), int(p.s1)
		if !p.isStr {
			s0 = len(b.sbuf)
			b.sbuf = appendNumText(b.sbuf, p.num)
			s1 = len(b.sbuf)
		}
		for len(bc.sp) < row {
			bc.sp = append(bc.sp, -1)
		}
		v := int64(s0)<<32 | int64(s1)
		if len(bc.sp) == row+1 {
			bc.sp[row] = v // duplicate key in one line: the last wins
		} else {
			bc.sp = append(bc.sp, v)
			bc.count++
		}
		return
	}
	if bc.num == nil {
		bc.num = getFloats(bc.capHint)
	}
	for len(bc.num) < row {
		bc.num = append(bc.num, math.NaN())
	}
	if len(bc.num) == row+1 {
		bc.num[row] = p.num
	} else {
		bc.num = append(bc.num, p.num)
		bc.count++
	}
}

// densify turns a sparse column into the dense layout (missing rows NaN or
// -1 spans).
func (bc *batchCol) densify() {
	if !bc.sparse {
		return
	}
	last := 0
	if len(bc.srow) > 0 {
		last = int(bc.srow[len(bc.srow)-1]) + 1
	}
	if bc.isStr {
		sp := make([]int64, last)
		for i := range sp {
			sp[i] = -1
		}
		for k, r := range bc.srow {
			sp[r] = bc.sp[k]
		}
		bc.sp = sp
	} else {
		num := make([]float64, last)
		fillNaN(num)
		for k, r := range bc.srow {
			num[r] = bc.num[k]
		}
		bc.num = num
	}
	bc.sparse, bc.srow = false, nil
}

// sparsify turns a dense column into the sparse layout.
func (bc *batchCol) sparsify() {
	if bc.sparse {
		return
	}
	rows := make([]int32, 0, bc.count)
	if bc.isStr {
		sp := make([]int64, 0, bc.count)
		for r, v := range bc.sp {
			if v >= 0 {
				rows = append(rows, int32(r))
				sp = append(sp, v)
			}
		}
		bc.sp = sp
	} else {
		num := make([]float64, 0, bc.count)
		for r, x := range bc.num {
			if !math.IsNaN(x) {
				rows = append(rows, int32(r))
				num = append(num, x)
			}
		}
		putFloats(bc.num)
		bc.num = num
	}
	bc.sparse, bc.srow = true, rows
}

func (bc *batchCol) toString(b *jsonlBatch) {
	bc.isStr = true
	bc.sp = make([]int64, len(bc.num))
	for i, x := range bc.num {
		if bc.sparse {
			s0 := len(b.sbuf)
			b.sbuf = appendNumText(b.sbuf, x)
			bc.sp[i] = int64(s0)<<32 | int64(len(b.sbuf))
			continue
		}
		if math.IsNaN(x) {
			bc.sp[i] = -1
			continue
		}
		s0 := len(b.sbuf)
		b.sbuf = appendNumText(b.sbuf, x)
		bc.sp[i] = int64(s0)<<32 | int64(len(b.sbuf))
	}
	bc.num = nil
}

// appendNumText is the text a number gets in a string column: Python's
// repr for floats, plain digits for integral values below 2^53.
func appendNumText(b []byte, x float64) []byte {
	if x == math.Trunc(x) && math.Abs(x) < 1<<53 && !(x == 0 && math.Signbit(x)) {
		return strconv.AppendInt(b, int64(x), 10)
	}
	return AppendPyFloat(b, x)
}

func int32sEqual(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func int32sKey(a []int32) string {
	b := make([]byte, 0, 4*len(a))
	for _, x := range a {
		b = append(b, byte(x), byte(x>>8), byte(x>>16), byte(x>>24))
	}
	return string(b)
}

// assembleBatches concatenates the batches, in order, into exact-size
// columns. Each batch column is released as soon as it is copied and, for
// big runs, collected before the next column is allocated, so the peak is
// about the final columns plus one column (rather than twice the columns).
// Rarely present columns are kept or dropped by sparseBudget.
func assembleBatches(batches []*jsonlBatch) (*Run, []string, error) {
	n := 0
	type colInfo struct {
		isStr  bool
		dense  bool // some batch holds it dense
		values int
	}
	var names []string
	info := map[string]*colInfo{}
	values := 0
	for _, b := range batches {
		n += b.rows
		for _, bc := range b.cols {
			if !bc.has {
				continue
			}
			ci, ok := info[bc.name]
			if !ok {
				ci = &colInfo{}
				info[bc.name] = ci
				names = append(names, bc.name)
				if len(names) > MaxColumns {
					return nil, nil, errTooManyColumns
				}
			}
			if bc.isStr {
				ci.isStr = true
			}
			if !bc.sparse {
				ci.dense = true
			}
			ci.values += bc.count
			values += bc.count
		}
	}
	var cands []sparseCand
	denseCols := 0
	for i, name := range names {
		if info[name].dense {
			denseCols++
		} else {
			cands = append(cands, sparseCand{name: name, values: info[name].values, order: i})
		}
	}
	drop := sparseBudget(n, values, denseCols, cands)
	run := NewRun(n)
	for _, name := range names {
		ci := info[name]
		if drop[name] {
			for _, b := range batches {
				if i, ok := b.byName[name]; ok {
					b.cols[i].num, b.cols[i].ss, b.cols[i].srow = nil, nil, nil
				}
			}
			continue
		}
		if ci.isStr {
			out := make([]string, n)
			off, any := 0, false
			for _, b := range batches {
				if i, ok := b.byName[name]; ok {
					bc := b.cols[i]
					// a key with only "" values is a column, as the
					// merger (a plain file) keeps it
					any = any || bc.has
					row := func(k int) int { return k }
					if bc.sparse {
						row = func(k int) int { return int(bc.srow[k]) }
					}
					if bc.isStr {
						for k, s := range bc.ss {
							if s != "" {
								out[off+row(k)] = s
								any = true
							}
						}
					} else {
						for k, x := range bc.num {
							if !math.IsNaN(x) {
								out[off+row(k)] = string(appendNumText(nil, x))
								any = true
							}
						}
					}
					bc.ss, bc.num, bc.srow = nil, nil, nil
				}
				off += b.rows
			}
			if any {
				run.SetStringColumn(name, out)
			}
			reclaim(n)
			continue
		}
		out := make([]float64, n)
		off, any := 0, false
		for _, b := range batches {
			i, ok := b.byName[name]
			switch {
			case ok && b.cols[i].has && b.cols[i].sparse:
				bc := b.cols[i]
				seg := out[off : off+b.rows]
				fillNaN(seg)
				for k, r := range bc.srow {
					seg[r] = bc.num[k]
				}
				bc.num, bc.srow = nil, nil
				any = true
			case ok && b.cols[i].has && len(b.cols[i].num) > 0:
				copy(out[off:], b.cols[i].num)
				b.cols[i].num = nil
				any = true
			default:
				fillNaN(out[off : off+b.rows])
			}
			off += b.rows
		}
		if any {
			run.SetColumn(name, out)
		}
		reclaim(n)
	}
	setDropped(run, names, drop)
	var dropped []string
	for _, name := range names {
		if drop[name] {
			dropped = append(dropped, name)
		}
	}
	return run, dropped, nil
}

// sparseCand is a column held sparse while reading: it never had a value
// in a quarter of the rows of any chunk it appeared in.
type sparseCand struct {
	name   string
	values int // rows with a value
	order  int // first appearance
}

// Cell budget for rarely present columns: see sparseBudget.
const (
	minCellBudget   = 8 << 20
	cellsPerValue   = 8
	droppedListMax  = 10
	droppedMetaKeys = 1000
)

// sparseBudget decides which rarely present columns a JSONL run keeps.
// Every column a Run holds is dense (rows x 8 bytes), so a log with
// thousands of keys that each appear in a few rows would need rows x keys
// cells. The rule: a rarely present column (sparse) is kept while the
// run's cells (rows x kept columns) stay within max(8,388,608, 8 x the
// values the file holds); columns that are not extra.<key> (reward,
// component.*, eval.*, anything --map names) are always kept; among the
// extra.<key> columns those with more values come first, ties in order of
// first appearance. The returned set names the dropped columns (nil when
// none is).
func sparseBudget(rows, values, denseCols int, cands []sparseCand) map[string]bool {
	budget := max(minCellBudget, cellsPerValue*values)
	cells := denseCols * rows
	var extras []sparseCand
	for _, c := range cands {
		if strings.HasPrefix(c.name, ExtraPrefix) {
			extras = append(extras, c)
		} else {
			cells += rows
		}
	}
	if cells+len(extras)*rows <= budget {
		return nil
	}
	sort.SliceStable(extras, func(i, j int) bool {
		if extras[i].values != extras[j].values {
			return extras[i].values > extras[j].values
		}
		return extras[i].order < extras[j].order
	})
	drop := map[string]bool{}
	for _, c := range extras {
		if cells+rows <= budget {
			cells += rows
			continue
		}
		drop[c.name] = true
	}
	return drop
}

// MetaDroppedColumns is the Run.Meta key listing, as a JSON array in order
// of first appearance, the rarely present columns the reader dropped to
// keep memory in proportion to the data (at most 1000 names; see
// DroppedColumns). Absent when nothing was dropped.
const MetaDroppedColumns = "dropped_columns"

// MetaDroppedCount is the Run.Meta key holding how many columns were
// dropped (a decimal number); MetaDroppedColumns may list fewer.
const MetaDroppedCount = "dropped_count"

func setDropped(run *Run, names []string, drop map[string]bool) {
	if len(drop) == 0 {
		return
	}
	var list []string
	for _, n := range names {
		if drop[n] && len(list) < droppedMetaKeys {
			list = append(list, n)
		}
	}
	run.setMeta(MetaDroppedColumns, jsonStringList(list))
	run.setMeta(MetaDroppedCount, strconv.Itoa(len(drop)))
}

// DroppedNote returns one line for the user when the reader dropped rarely
// present columns ("kept 135 of 9,002 columns: 8,867 keys with values in
// few rows were dropped to bound memory (first: extra.k17, extra.k4,
// ...)"), or "" when nothing was dropped.
func DroppedNote(run *Run) string {
	if run == nil || run.Meta[MetaDroppedCount] == "" {
		return ""
	}
	n, _ := strconv.Atoi(run.Meta[MetaDroppedCount])
	var list []string
	_ = json.Unmarshal([]byte(run.Meta[MetaDroppedColumns]), &list)
	if len(list) > droppedListMax {
		list = append(list[:droppedListMax:droppedListMax], "...")
	}
	kept := len(run.Columns())
	return fmt.Sprintf("kept %d of %d columns: %d keys with values in few rows were dropped to bound memory (first: %s)",
		kept, kept+n, n, strings.Join(list, ", "))
}

func fillNaN(c []float64) {
	nan := math.NaN()
	for i := range c {
		c[i] = nan
	}
}

// MetaComponentOrder is the Run.Meta key holding the order in which the
// source listed its components (a JSON array of names), so that writers can
// reproduce rewardspy's per-record key order byte for byte.
const MetaComponentOrder = "component_order"

func jsonStringList(s []string) string {
	b := []byte{'['}
	for i, x := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPyJSONString(b, x)
	}
	return string(append(b, ']'))
}

// fastRewardspy parses the exact line layout rewardspy writes
// ({"call_id":"..","timestamp":..,"step":..,"scalar_reward":..,
// "components":{..},"call_duration_ms":..,"input_length":..,
// "output_length":..} with no spaces and no string escapes) without the
// general scanner. Any deviation returns false and the line is parsed by
// the general scanner, so the result never depends on which path ran.
type fastRewardspy struct {
	cols     [7]int
	compName [][]byte
	compCol  []int
	key      []byte
	b        *jsonlBatch
	km       *keyMapper
	mu       *sync.Mutex
}

var fastKeys = [7]string{`{"call_id":`, `,"timestamp":`, `,"step":`, `,"scalar_reward":`,
	`,"call_duration_ms":`, `,"input_length":`, `,"output_length":`}

func (f *fastRewardspy) init(b *jsonlBatch, km *keyMapper, mu *sync.Mutex) {
	f.b, f.km, f.mu = b, km, mu
	for i, k := range fastKeys {
		name := strings.Trim(k, `{,":`)
		f.cols[i] = b.columnFor([]byte(name), true, km, mu)
	}
}

// line parses l into pend (the values) and comp (the component columns in
// order), reusing their storage; ok=false means l is not in the exact
// layout and must go to the general scanner.
func (f *fastRewardspy) line(l []byte, b *jsonlBatch, pend []pendingVal, comp []int32) (_ []pendingVal, _ []int32, ok bool) {
	pend, comp = pend[:0], comp[:0]
	i := 0
	lit := func(k string) bool {
		if len(l)-i < len(k) || string(l[i:i+len(k)]) != k {
			return false
		}
		i += len(k)
		return true
	}
	num := func() (float64, bool) {
		if i >= len(l) || !(l[i] == '-' || l[i]-'0' <= 9) {
			return 0, false
		}
		x, n, err := parseNumber(l[i:])
		i += n
		return x, err == nil
	}
	// call_id
	if !lit(fastKeys[0]) || i >= len(l) || l[i] != '"' {
		return pend, comp, false
	}
	start := i + 1
	j := start
	j = skipPlain(l, j)
	if j >= len(l) || l[j] != '"' {
		return pend, comp, false
	}
	if !b.cols[f.cols[0]].skip {
		s0 := len(b.sbuf)
		b.sbuf = append(b.sbuf, l[start:j]...)
		pend = append(pend, pendingVal{col: int32(f.cols[0]), isStr: true, s0: int32(s0), s1: int32(len(b.sbuf))})
	}
	i = j + 1
	for field := 1; field <= 3; field++ {
		if !lit(fastKeys[field]) {
			return pend, comp, false
		}
		x, ok := num()
		if !ok {
			return pend, comp, false
		}
		pend = append(pend, pendingVal{col: int32(f.cols[field]), num: x})
	}
	if !lit(`,"components":{`) {
		return pend, comp, false
	}
	for c := 0; ; c++ {
		if i < len(l) && l[i] == '}' {
			i++
			break
		}
		if c > 0 && !lit(",") {
			return pend, comp, false
		}
		if i >= len(l) || l[i] != '"' {
			return pend, comp, false
		}
		start := i + 1
		j := start
		j = skipPlain(l, j)
		if j >= len(l) || l[j] != '"' || j+1 >= len(l) || l[j+1] != ':' {
			return pend, comp, false
		}
		name := l[start:j]
		i = j + 2
		x, ok := num()
		if !ok {
			return pend, comp, false
		}
		var col int
		if c < len(f.compName) && string(f.compName[c]) == string(name) {
			col = f.compCol[c]
		} else {
			f.key = append(append(f.key[:0], "components/"...), name...)
			col = b.columnFor(f.key, true, f.km, f.mu)
			if c < len(f.compName) {
				f.compName[c] = append(f.compName[c][:0], name...)
				f.compCol[c] = col
			} else {
				f.compName = append(f.compName, append([]byte(nil), name...))
				f.compCol = append(f.compCol, col)
			}
		}
		pend = append(pend, pendingVal{col: int32(col), num: x})
		comp = append(comp, int32(col))
	}
	for field := 4; field <= 6; field++ {
		if !lit(fastKeys[field]) {
			return pend, comp, false
		}
		x, ok := num()
		if !ok {
			return pend, comp, false
		}
		pend = append(pend, pendingVal{col: int32(f.cols[field]), num: x})
	}
	return pend, comp, i == len(l)-1 && l[i] == '}'
}

// reclaim runs a collection after a big column was assembled, so that the
// batch storage just released is reused for the next column instead of
// the heap growing to twice the run (the default GC pacing would wait).
// Runs of half a million rows or more only: it costs a few milliseconds.
func reclaim(rows int) {
	if rows >= 1<<19 {
		runtime.GC()
	}
}

// merger copies batches, in file order, into columns sized for total rows.
// A column that every batch so far held sparse stays sparse (rows and
// values only) until finish, which applies sparseBudget.
type merger struct {
	err    error
	total  int
	n      int // rows so far
	next   int // seq of the next batch to add
	names  []string
	num    map[string][]float64
	str    map[string][]string
	sp     map[string]*sparseCol
	values int // cells with a value (dense batch columns count every row)
}

// sparseCol is a rarely present column: the rows that have a value and
// the values (num or str, parallel to rows).
type sparseCol struct {
	rows  []int32
	num   []float64
	str   []string
	isStr bool
}

func newMerger(total int) *merger {
	return &merger{total: total, num: map[string][]float64{}, str: map[string][]string{},
		sp: map[string]*sparseCol{}}
}

func (m *merger) grow(need int) {
	t := need + need/4
	for k, c := range m.num {
		nc := make([]float64, t)
		copy(nc, c)
		fillNaN(nc[len(c):])
		m.num[k] = nc
	}
	for k, c := range m.str {
		nc := make([]string, t)
		copy(nc, c)
		m.str[k] = nc
	}
	m.total = t
}

// densify moves a sparse column into a dense one of m.total rows.
func (m *merger) densify(name string) {
	sc := m.sp[name]
	delete(m.sp, name)
	if sc.isStr {
		c := make([]string, m.total)
		for k, r := range sc.rows {
			c[r] = sc.str[k]
		}
		m.str[name] = c
		return
	}
	c := make([]float64, m.total)
	fillNaN(c)
	for k, r := range sc.rows {
		c[r] = sc.num[k]
	}
	m.num[name] = c
}

func (sc *sparseCol) toString() {
	if sc.isStr {
		return
	}
	sc.isStr = true
	sc.str = make([]string, len(sc.num))
	for k, x := range sc.num {
		sc.str[k] = string(appendNumText(nil, x))
	}
	sc.num = nil
}

func (m *merger) add(b *jsonlBatch) {
	m.next++
	if m.n+b.rows > m.total { // the file grew while we read it
		m.grow(m.n + b.rows)
	}
	for _, bc := range b.cols {
		if !bc.has {
			continue
		}
		m.values += bc.count
		_, isNum := m.num[bc.name]
		_, isStr := m.str[bc.name]
		sc := m.sp[bc.name]
		if !isNum && !isStr && sc == nil {
			m.names = append(m.names, bc.name)
			if len(m.names) > MaxColumns {
				m.err = errTooManyColumns
				return
			}
			switch {
			case bc.sparse:
				sc = &sparseCol{isStr: bc.isStr}
				m.sp[bc.name] = sc
			case bc.isStr:
				m.str[bc.name] = make([]string, m.total)
				isStr = true
			default:
				c := make([]float64, m.total)
				fillNaN(c)
				m.num[bc.name] = c
				isNum = true
			}
		}
		if sc != nil && !bc.sparse {
			m.densify(bc.name)
			_, isNum = m.num[bc.name]
			_, isStr = m.str[bc.name]
			sc = nil
		}
		if sc != nil {
			if bc.isStr {
				sc.toString()
			}
			for k, r := range bc.srow {
				sc.rows = append(sc.rows, int32(m.n+int(r)))
				switch {
				case bc.isStr:
					sc.str = append(sc.str, bc.ss[k])
				case sc.isStr:
					sc.str = append(sc.str, string(appendNumText(nil, bc.num[k])))
				default:
					sc.num = append(sc.num, bc.num[k])
				}
			}
			bc.num, bc.ss, bc.srow = nil, nil, nil
			continue
		}
		if isNum && bc.isStr { // the column turns out to hold text
			c := m.num[bc.name]
			s := make([]string, m.total)
			for i, x := range c[:m.n] {
				if !math.IsNaN(x) {
					s[i] = string(appendNumText(nil, x))
				}
			}
			delete(m.num, bc.name)
			m.str[bc.name] = s
			isNum, isStr = false, true
		}
		row := func(k int) int { return k }
		if bc.sparse {
			row = func(k int) int { return int(bc.srow[k]) }
		}
		if isStr {
			dst := m.str[bc.name][m.n : m.n+b.rows]
			if bc.isStr {
				if bc.sparse {
					for k, s := range bc.ss {
						dst[row(k)] = s
					}
				} else {
					copy(dst, bc.ss)
				}
			} else {
				for k, x := range bc.num {
					if !math.IsNaN(x) {
						dst[row(k)] = string(appendNumText(nil, x))
					}
				}
			}
		} else if bc.sparse {
			dst := m.num[bc.name][m.n : m.n+b.rows]
			for k, r := range bc.srow {
				dst[r] = bc.num[k]
			}
		} else {
			copy(m.num[bc.name][m.n:m.n+b.rows], bc.num)
		}
		if !bc.sparse {
			putFloats(bc.num)
			putStrings(bc.ss)
		}
		bc.num, bc.ss, bc.srow = nil, nil, nil
	}
	m.n += b.rows
}

func (m *merger) finish() *Run {
	run := NewRun(m.n)
	var cands []sparseCand
	for i, name := range m.names {
		if sc, ok := m.sp[name]; ok {
			cands = append(cands, sparseCand{name: name, values: len(sc.rows), order: i})
		}
	}
	drop := sparseBudget(m.n, m.values, len(m.num)+len(m.str), cands)
	for _, name := range m.names {
		if _, ok := m.sp[name]; ok {
			if drop[name] {
				delete(m.sp, name)
				continue
			}
			if m.total > m.n {
				m.total = m.n // only the rows read
			}
			m.densify(name)
		}
		if c, ok := m.num[name]; ok {
			if len(c) > m.n+m.n/8 { // the first chunk's lines were short: trim
				c = append([]float64(nil), c[:m.n]...)
				m.num[name] = nil
			}
			run.SetColumn(name, c[:m.n:m.n])
		} else {
			c := m.str[name]
			if len(c) > m.n+m.n/8 {
				c = append([]string(nil), c[:m.n]...)
				m.str[name] = nil
			}
			run.SetStringColumn(name, c[:m.n:m.n])
		}
	}
	setDropped(run, m.names, drop)
	return run
}

// Batch column storage is recycled once a batch has been merged, so that
// reading a big file creates little garbage (and the heap stays close to
// the size of the final columns).
var (
	floatPool  sync.Pool
	stringPool sync.Pool
)

func getFloats(n int) []float64 {
	if p, ok := floatPool.Get().(*[]float64); ok && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]float64, 0, n)
}

func putFloats(c []float64) {
	if cap(c) > 0 {
		c = c[:0]
		floatPool.Put(&c)
	}
}

func getStrings(n int) []string {
	if p, ok := stringPool.Get().(*[]string); ok && cap(*p) >= n {
		s := (*p)[:n]
		clear(s)
		return s
	}
	return make([]string, n)
}

func putStrings(c []string) {
	if cap(c) > 0 {
		clear(c)
		c = c[:0]
		stringPool.Put(&c)
	}
}

var utf8BOM = []byte("\ufeff")

// MaxColumns caps the distinct columns a JSONL file may create. A log with
// a new key in every record (ids used as keys) is not a table; reading it
// as one would need rows x keys cells, so it is refused with a clear error.
const MaxColumns = 10000

var errTooManyColumns = fmt.Errorf("%w: more than %d distinct keys (records keyed by ids are not a table of metrics)", ErrNotARun, MaxColumns)

// errorReader returns err on every Read (a truncated stream's error after
// the bytes that were read).
type errorReader struct{ err error }

func (e errorReader) Read([]byte) (int, error) { return 0, e.err }
