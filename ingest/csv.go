package ingest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// CSV (format "csv"): a header row, then one record per row. goodhart's
// own export (rewardspy's columns step, timestamp, call_id, scalar_reward,
// call_duration_ms, input_length, output_length, component.<k>, then any
// other columns) reads back losslessly; any other CSV is read with the
// column naming rules of mapping.go (--map for anything else).
//
// Cells: an empty cell is a missing value. Canonical numeric columns
// (step, reward, component.<k>, eval.<k>, length, ...) must hold finite
// numbers: anything else is an issue and the row is skipped. call_id is
// text. An extra.<key> column is numeric until a cell is not a number;
// then it becomes a text column (earlier numbers kept as their text). A
// row with the wrong number of cells is an issue and skipped. A last row
// without a newline after it is an issue and skipped (it may be cut short:
// goodhart and Python's csv end every row); Follow reading a live log never
// passes a half-written row. A UTF-8 byte-order mark is skipped. Header
// names are trimmed of spaces, except names starting with component.,
// eval. or extra., which are goodhart's own and kept as written. The reader
// streams: columns grow in fixed-size chunks, joined once at the end.

func init() {
	RegisterFormat(&Format{
		Name:     "csv",
		Doc:      "CSV with a header row (goodhart/rewardspy export, or any table; use --map)",
		Priority: 10,
		Detect:   detectCSV,
		Read:     readCSV,
	})
}

func detectCSV(head []byte, name string) bool {
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	head = bytes.TrimPrefix(head, []byte("\ufeff"))
	line, rest, _ := bytes.Cut(head, []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	if len(line) == 0 || line[0] == '{' || line[0] == '[' || line[0] == '#' {
		return false
	}
	hdr := strings.Split(string(line), ",")
	if len(hdr) < 2 {
		return false
	}
	for _, h := range hdr {
		if strings.TrimSpace(strings.Trim(h, `"`)) == "" {
			return false
		}
	}
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".csv") || strings.HasSuffix(lower, ".csv.gz") {
		return true
	}
	second, _, _ := bytes.Cut(rest, []byte("\n"))
	second = bytes.TrimRight(second, "\r")
	return len(second) > 0 && bytes.Count(second, []byte(",")) == len(hdr)-1
}

const colChunk = 64 << 10

// floatBuilder grows a column in fixed chunks so that a long column is
// never copied by append-doubling; finish joins them into one slice.
type floatBuilder struct {
	chunks [][]float64
	n      int
}

func (b *floatBuilder) add(x float64) {
	if len(b.chunks) == 0 || len(b.chunks[len(b.chunks)-1]) == cap(b.chunks[len(b.chunks)-1]) {
		// Chunks grow 64, 128, ... up to colChunk values: small tables
		// (or very wide ones) stay small, long columns are never copied.
		size := min(max(64, b.n), colChunk)
		b.chunks = append(b.chunks, make([]float64, 0, size))
	}
	last := &b.chunks[len(b.chunks)-1]
	*last = append(*last, x)
	b.n++
}

// pop removes the last value.
func (b *floatBuilder) pop() {
	last := &b.chunks[len(b.chunks)-1]
	*last = (*last)[:len(*last)-1]
	b.n--
	if len(*last) == 0 {
		b.chunks = b.chunks[:len(b.chunks)-1]
	}
}

func (b *floatBuilder) finish() []float64 {
	out := make([]float64, 0, b.n)
	for i, c := range b.chunks {
		out = append(out, c...)
		b.chunks[i] = nil
	}
	return out
}

type csvCol struct {
	name    string
	numOnly bool
	isStr   bool
	num     floatBuilder
	str     []string
	any     bool
}

func readCSV(r io.Reader, name string, opt Options) (*Run, error) {
	km, err := newKeyMapper(opt.Map)
	if err != nil {
		return nil, err
	}
	lb := &lastByteReader{r: r}
	keeper := &csvCRKeeper{r: lb}
	cr := csv.NewReader(keeper)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	run := &Run{Source: name, Format: "csv"}
	max := opt.maxIssues()
	report := func(is Issue) error {
		run.Skipped++
		if opt.Strict {
			return fmt.Errorf("%w: %v", ErrStrict, is)
		}
		if len(run.Issues) < max {
			run.Issues = append(run.Issues, is)
		}
		return nil
	}
	header, err := cr.Read()
	if err == io.EOF {
		return run, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s:1: %w: cannot read the CSV header: %v", name, ErrNotARun, err)
	}
	header = append([]string(nil), header...)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	for i := range header {
		header[i] = keeper.restore(header[i])
	}
	cols := make([]*csvCol, len(header))
	byName := map[string]bool{}
	var comps []string
	for i, raw := range header {
		h := strings.TrimSpace(raw)
		if h == "" {
			h = fmt.Sprintf("column%d", i+1)
		}
		col := ownColumnName(raw, km.column(h), h, opt)
		if byName[col] {
			col = ExtraPrefix + h + "#" + strconv.Itoa(i+1)
		}
		byName[col] = true
		c := &csvCol{name: col}
		switch {
		case col == ColCallID:
			c.isStr = true
		case canonicalNames[col], strings.HasPrefix(col, ComponentPrefix), strings.HasPrefix(col, EvalPrefix):
			c.numOnly = true
		}
		if strings.HasPrefix(col, ComponentPrefix) {
			comps = append(comps, strings.TrimPrefix(col, ComponentPrefix))
		}
		cols[i] = c
	}
	n := 0
	lastLine, lastRow := 0, 0 // line of the last record read / kept
	readErr := false          // the input ended with a read error (truncated gzip)
	vals := make([]float64, len(cols))
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				if e := report(Issue{File: name, Line: pe.Line, Msg: "malformed CSV: " + pe.Err.Error()}); e != nil {
					return nil, e
				}
				continue
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				line, _ := cr.FieldPos(0)
				readErr = true
				is := Issue{File: name, Line: line, Msg: readErrIssue(name, err)}
				if opt.Strict {
					return nil, fmt.Errorf("%w: %v", ErrStrict, is)
				}
				if len(run.Issues) < max {
					run.Issues = append(run.Issues, is)
				}
				break
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if len(rec) != len(cols) {
			if e := report(Issue{File: name, Line: line,
				Msg: fmt.Sprintf("row has %d cells, the header has %d", len(rec), len(cols))}); e != nil {
				return nil, e
			}
			continue
		}
		lastLine = line
		bad := false
		for i, cell := range rec {
			c := cols[i]
			vals[i] = math.NaN()
			if c.isStr || cell == "" {
				continue
			}
			x, ok, msg := parseCSVNumber(cell)
			if ok {
				vals[i] = x
				continue
			}
			if c.numOnly || msg != "" {
				if msg == "" {
					msg = fmt.Sprintf("not a number: %.40q", cell)
				}
				if e := report(Issue{File: name, Line: line, Field: header[i], Msg: msg}); e != nil {
					return nil, e
				}
				bad = true
				break
			}
			c.toString(n)
		}
		if bad {
			continue
		}
		for i, c := range cols {
			if c.isStr {
				s := rec[i]
				if s != "" {
					s = keeper.restore(strings.Clone(s))
					c.any = true
				}
				c.str = append(c.str, s)
				continue
			}
			if !math.IsNaN(vals[i]) {
				c.any = true
			}
			c.num.add(vals[i])
		}
		n++
		lastRow = line
	}
	if lb.last != '\n' && lb.last != 0 && lastRow > 0 && lastRow == lastLine && (!opt.live || readErr) {
		// No newline at the end: the last row may be cut mid-number
		// (0.6658 written as 0.665), so it is not read as a value.
		// (Follow reading a live log never hands over a half line.)
		for _, c := range cols {
			if c.isStr {
				c.str = c.str[:len(c.str)-1]
			} else {
				c.num.pop()
			}
		}
		n--
		if readErr {
			run.Skipped++ // cut by the read error reported above: one issue, not two
		} else if e := report(Issue{File: name, Line: lastRow, Msg: "incomplete last line (no newline at the end: the file may be cut short; if it is complete, end it with a newline)"}); e != nil {
			return nil, e
		}
	}
	run.SetLen(n)
	for _, c := range cols {
		if !c.any {
			continue
		}
		if c.isStr {
			run.SetStringColumn(c.name, c.str)
		} else {
			run.SetColumn(c.name, c.num.finish())
		}
	}
	if len(comps) > 0 {
		run.Meta = map[string]string{MetaComponentOrder: jsonStringList(comps)}
	}
	if err := km.unseen(name, header); err != nil {
		return nil, err
	}
	applyGrain(run, opt)
	return run, nil
}

// toString turns a numeric column into a text column (rows so far: n).
func (c *csvCol) toString(n int) {
	if c.isStr {
		return
	}
	c.isStr = true
	nums := c.num.finish()
	c.num = floatBuilder{}
	c.str = make([]string, n, n+64)
	for i, x := range nums {
		if !math.IsNaN(x) {
			c.str[i] = string(appendNumText(nil, x))
		}
	}
}

// parseCSVNumber parses a decimal number cell. ok=false with msg == "" means
// the cell is text; msg != "" means it is a number that is not usable
// (non-finite or out of range).
func parseCSVNumber(cell string) (x float64, ok bool, msg string) {
	s := strings.TrimSpace(cell)
	if s == "" {
		return math.NaN(), true, ""
	}
	switch strings.ToLower(strings.TrimLeft(s, "+-")) {
	case "nan", "inf", "infinity":
		return 0, false, fmt.Sprintf("not a finite number: %q", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return 0, false, ""
		}
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return 0, false, fmt.Sprintf("number %.40s is out of range", s)
		}
		return 0, false, ""
	}
	return x, true, ""
}

// csvCRKeeper passes a CSV stream through, but marks each CR LF inside a
// quoted field with a private sentinel before it, because encoding/csv
// turns a quoted "\r\n" into "\n": restore puts the "\r" back, so a
// value or column name with CR LF reads back as written. Quotes are
// tracked by parity ("" escapes toggle twice), which is exact for valid
// CSV; after a malformed quote only the CR LF marking can be off.
type csvCRKeeper struct {
	r       io.Reader
	inQuote bool
	pendCR  bool // a CR inside quotes ended the last chunk
	used    bool // some sentinel was written
	tmp     []byte
	out     []byte
	err     error
}

// crSentinel stands for a CR before LF inside quotes (a Unicode
// noncharacter: never in real text).
const crSentinel = "\ufdd0"

func (k *csvCRKeeper) Read(p []byte) (int, error) {
	for len(k.out) == 0 {
		if k.err != nil {
			return 0, k.err
		}
		if cap(k.tmp) < len(p) {
			k.tmp = make([]byte, len(p))
		}
		n, err := k.r.Read(k.tmp[:len(p)])
		k.err = err
		k.out = k.feed(k.out[:0], k.tmp[:n])
		if err != nil && k.pendCR {
			k.out = append(k.out, '\r')
			k.pendCR = false
		}
	}
	n := copy(p, k.out)
	k.out = k.out[n:]
	return n, nil
}

func (k *csvCRKeeper) feed(out, b []byte) []byte {
	if !k.pendCR && bytes.IndexByte(b, '\r') < 0 {
		if bytes.Count(b, []byte{'"'})%2 == 1 {
			k.inQuote = !k.inQuote
		}
		return append(out, b...)
	}
	for _, c := range b {
		if k.pendCR {
			k.pendCR = false
			if c == '\n' {
				out = append(out, crSentinel...)
				k.used = true
			} else {
				out = append(out, '\r')
			}
		}
		switch {
		case c == '"':
			k.inQuote = !k.inQuote
		case c == '\r' && k.inQuote:
			k.pendCR = true
			continue
		}
		out = append(out, c)
	}
	return out
}

// restore puts back the CRs marked in s.
func (k *csvCRKeeper) restore(s string) string {
	if !k.used || !strings.Contains(s, crSentinel) {
		return s
	}
	return strings.ReplaceAll(s, crSentinel, "\r")
}

// ownColumnName keeps goodhart's own prefixed column names (component.,
// eval., extra.) exactly as a file written by goodhart holds them - a
// component named "x " or "" keeps its name through export and back -
// where the naming rules would trim them (col is what they gave for the
// trimmed name h). Spaces around other names are a hand-written file's
// padding. With --map the mapping decides.
func ownColumnName(raw, col, h string, opt Options) string {
	if len(opt.Map) > 0 {
		return col
	}
	if raw == ComponentPrefix {
		return raw
	}
	for _, p := range []string{ComponentPrefix, EvalPrefix, ExtraPrefix} {
		if strings.HasPrefix(raw, p) && col == h {
			return raw
		}
	}
	return col
}
