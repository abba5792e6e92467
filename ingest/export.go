package ingest

import (
	"encoding/json"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Writers for goodhart's own export formats. CSV and Parquet use
// rewardspy's export layout, so that rewardspy users get the files they
// know, and goodhart reads them back without loss:
//
//	step, timestamp, call_id, scalar_reward, call_duration_ms, input_length,
//	output_length, component.<k>..., then every other column of the run
//	under its own name (reward_std, kl, eval.<m>, extra.<key>, ...).
//
// Component columns come in the order the source listed its components
// (Run.Meta[MetaComponentOrder], else sorted): rewardspy's own CSV and
// Parquet exporters sort them, which no reader depends on, and keeping the
// source order is what lets rewardspy JSONL -> Parquet -> CSV -> JSONL
// reproduce the original file byte for byte.
//
// Numbers are written as Python writes them (repr: the shortest text that
// reads back to the same float64, "1.0" not "1", "1e-05"); step,
// input_length and output_length are written as integers when they are
// integral. A missing value is an empty CSV cell and a Parquet null. ±Inf
// (which no reader accepts as a value, but a Run built in Go may hold) is
// written as Python writes it - Infinity in JSONL, inf in CSV, the IEEE
// value in Parquet and tfevents - so the file stays valid, and reading it
// back reports each such record instead of misreading it.
//
// JSONL ("jsonl", also named "rewardspy") holds rewardspy's records and
// nothing else, so that rewardspy's own tools read it: see WriteJSONL.

func init() {
	RegisterWriter(&Writer{Name: "csv", Exts: []string{".csv", ".csv.gz"}, Write: WriteCSV})
	RegisterWriter(&Writer{Name: "jsonl", Exts: []string{".jsonl", ".jsonl.gz", ".ndjson"}, Write: WriteJSONL})
	RegisterWriter(&Writer{Name: "rewardspy", Write: WriteJSONL}) // the same records, by rewardspy's name
	RegisterWriter(&Writer{Name: "parquet", Exts: []string{".parquet", ".pq"}, Write: WriteParquet})
}

type outKind int

const (
	outFloat outKind = iota
	outInt           // integral values written without a fraction
	outString
)

// outCol is one column of the export layout.
type outCol struct {
	name string // name in the file
	src  string // Run column
	kind outKind
	num  []float64
	str  []string
}

// exportLayout returns the columns every writer emits, in order.
func exportLayout(run *Run) []outCol {
	base := []outCol{
		{name: "step", src: ColStep, kind: outInt},
		{name: "timestamp", src: ColTime},
		{name: "call_id", src: ColCallID, kind: outString},
		{name: "scalar_reward", src: ColReward},
		{name: "call_duration_ms", src: ColDurationMS},
		{name: "input_length", src: ColInputLength, kind: outInt},
		{name: "output_length", src: ColLength, kind: outInt},
	}
	used := map[string]bool{}
	var cols []outCol
	for _, c := range base {
		used[c.src] = true
		if c.src == ColStep {
			c.num = run.Steps()
		} else if c.kind == outString {
			c.str, _ = run.StringColumn(c.src)
			if c.str == nil {
				if num, ok := run.Column(c.src); ok {
					c.kind, c.num = outFloat, num
				}
			}
		} else {
			var ok bool
			if c.num, ok = run.Column(c.src); !ok {
				if s, ok := run.StringColumn(c.src); ok {
					c.kind, c.str = outString, s
				}
			}
		}
		cols = append(cols, c)
	}
	for _, k := range orderedComponents(run) {
		src := ComponentPrefix + k
		used[src] = true
		c := outCol{name: src, src: src}
		if s, ok := run.StringColumn(src); ok {
			c.kind, c.str = outString, s
		} else {
			c.num, _ = run.Column(src)
		}
		cols = append(cols, c)
	}
	for _, name := range run.Columns() {
		if used[name] {
			continue
		}
		c := outCol{name: name, src: name}
		if s, ok := run.StringColumn(name); ok {
			c.kind, c.str = outString, s
		} else {
			c.num, _ = run.Column(name)
		}
		cols = append(cols, c)
	}
	return cols
}

// orderedComponents returns the component names (numeric or string
// columns) in the source's order, then any others sorted.
func orderedComponents(run *Run) []string {
	all := map[string]bool{}
	for _, name := range run.Columns() {
		if k, ok := strings.CutPrefix(name, ComponentPrefix); ok {
			all[k] = true
		}
	}
	var out []string
	if s := run.Meta[MetaComponentOrder]; s != "" {
		var order []string
		if json.Unmarshal([]byte(s), &order) == nil {
			for _, k := range order {
				if all[k] {
					out = append(out, k)
					delete(all, k)
				}
			}
		}
	}
	rest := make([]string, 0, len(all))
	for k := range all {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// present reports whether row i of c has a value.
func (c *outCol) present(i int) bool {
	switch {
	case c.kind == outString:
		return c.str != nil && c.str[i] != ""
	case c.num == nil:
		return false
	}
	return !math.IsNaN(c.num[i])
}

// appendJSONValue is appendValue for JSON: ±Inf become Python json's
// Infinity and -Infinity (which goodhart's JSONL reader recognises and
// reports, and Python reads back), never the invalid inf.
func (c *outCol) appendJSONValue(b []byte, i int) []byte {
	if c.kind != outString {
		switch x := c.num[i]; {
		case math.IsInf(x, 1):
			return append(b, "Infinity"...)
		case math.IsInf(x, -1):
			return append(b, "-Infinity"...)
		}
	}
	return c.appendValue(b, i)
}

// appendValue appends row i's value as text (numbers Python-style).
func (c *outCol) appendValue(b []byte, i int) []byte {
	if c.kind == outString {
		return append(b, c.str[i]...)
	}
	x := c.num[i]
	if c.kind == outInt {
		return appendNumText(b, x)
	}
	return AppendPyFloat(b, x)
}

// WriteCSV writes run as CSV in rewardspy's layout (see the package
// comment above): a header row, then one row per record, CRLF line ends and
// minimal quoting as Python's csv module writes them.
func WriteCSV(w io.Writer, run *Run) error {
	cols := exportLayout(run)
	buf := make([]byte, 0, 64<<10)
	for j, c := range cols {
		if j > 0 {
			buf = append(buf, ',')
		}
		buf = appendCSVField(buf, c.name)
	}
	buf = append(buf, '\r', '\n')
	var cell []byte
	for i := 0; i < run.Len(); i++ {
		for j := range cols {
			if j > 0 {
				buf = append(buf, ',')
			}
			c := &cols[j]
			if !c.present(i) {
				continue
			}
			if c.kind == outString {
				buf = appendCSVField(buf, c.str[i])
			} else {
				cell = c.appendValue(cell[:0], i)
				buf = append(buf, cell...)
			}
		}
		buf = append(buf, '\r', '\n')
		if len(buf) > 60<<10 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	return err
}

func appendCSVField(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// WriteJSONL writes run as rewardspy JSONL: records rewardspy's own
// reader (RolloutRecord(**json.loads(line))) accepts, and so its audit,
// summary and export. One object per record with exactly rewardspy's keys
// in its order, formatted as Python's json.dumps(obj, separators=(",",
// ":")) formats them (ASCII only, \uXXXX escapes, float repr):
//
//	call_id           string; a numeric id is written as its text; when the
//	                  run has none, "row-N" (N the 1-based row)
//	timestamp         float; 0.0 when the run has none
//	step              the run's step (integral values as integers); the
//	                  0-based row when the run has no step
//	scalar_reward     float
//	components        {name: float}: every numeric component present in
//	                  the row ("total" included when logged); text values
//	                  and missing ones are left out
//	call_duration_ms, input_length, output_length
//	                  written when the row has them (lengths as integers when
//	                  integral); rewardspy reads a missing one as 0
//
// The first four are required by rewardspy and always written. Rows
// without a reward (the eval-only rows of TRL and verl logs) are not
// written, since a record without scalar_reward is not a rewardspy record,
// and columns rewardspy has no field for (kl, eval.<m>, extra.<key>, ...)
// are left out: rewardspy rejects a record with any other key.
// RewardspyLosses says what a run loses; CSV and Parquet keep everything.
// For a run read from a rewardspy log the output is byte-identical to the
// input.
func WriteJSONL(w io.Writer, run *Run) error {
	cols := exportLayout(run)
	byName := map[string]*outCol{}
	var comps []*outCol
	for j := range cols {
		c := &cols[j]
		switch {
		case j < 7:
			byName[c.name] = c
		case strings.HasPrefix(c.name, ComponentPrefix) && c.kind != outString:
			comps = append(comps, c)
		}
	}
	id, ts, step, reward := byName["call_id"], byName["timestamp"], byName["step"], byName["scalar_reward"]
	tail := []string{"call_duration_ms", "input_length", "output_length"}
	buf := make([]byte, 0, 64<<10)
	for i := 0; i < run.Len(); i++ {
		if reward.kind == outString || !reward.present(i) {
			continue
		}
		buf = append(buf, `{"call_id":`...)
		switch {
		case id.present(i) && id.kind == outString:
			buf = appendPyJSONString(buf, id.str[i])
		case id.present(i):
			buf = appendPyJSONString(buf, string(appendNumText(nil, id.num[i])))
		default:
			buf = append(buf, `"row-`...)
			buf = strconv.AppendInt(buf, int64(i+1), 10)
			buf = append(buf, '"')
		}
		buf = append(buf, `,"timestamp":`...)
		if ts.kind != outString && ts.present(i) {
			buf = AppendPyFloat(buf, ts.num[i])
		} else {
			buf = append(buf, "0.0"...)
		}
		buf = append(buf, `,"step":`...)
		if step.present(i) {
			buf = appendNumText(buf, step.num[i])
		} else {
			buf = strconv.AppendInt(buf, int64(i), 10)
		}
		buf = append(buf, `,"scalar_reward":`...)
		buf = reward.appendJSONValue(buf, i)
		buf = append(buf, `,"components":{`...)
		nc := 0
		for _, c := range comps {
			if !c.present(i) {
				continue
			}
			if nc > 0 {
				buf = append(buf, ',')
			}
			nc++
			buf = appendPyJSONString(buf, strings.TrimPrefix(c.name, ComponentPrefix))
			buf = append(buf, ':')
			buf = c.appendJSONValue(buf, i)
		}
		buf = append(buf, '}')
		for _, k := range tail {
			c := byName[k]
			if c.kind == outString || !c.present(i) {
				continue
			}
			buf = append(buf, ',')
			buf = appendPyJSONString(buf, k)
			buf = append(buf, ':')
			buf = c.appendValue(buf, i)
		}
		buf = append(buf, '}', '\n')
		if len(buf) > 60<<10 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	return err
}

// RewardspyLosses says what WriteJSONL leaves out of run: the rows without
// a reward (their count and the first one's 1-based row number), and the
// columns rewardspy records have no field for, in export order (text
// components included).
func RewardspyLosses(run *Run) (noReward, firstRow int, dropped []string) {
	cols := exportLayout(run)
	for j := range cols {
		c := &cols[j]
		switch {
		case j < 7:
			if c.src == ColReward {
				for i := 0; i < run.Len(); i++ {
					if c.kind == outString || !c.present(i) {
						if noReward == 0 {
							firstRow = i + 1
						}
						noReward++
					}
				}
			}
		case strings.HasPrefix(c.name, ComponentPrefix) && c.kind != outString:
		default:
			if _, ok := run.Column(c.src); ok || c.kind == outString {
				dropped = append(dropped, c.name)
			}
		}
	}
	return noReward, firstRow, dropped
}

// AppendPyFloat formats x as Python's repr(float): the shortest digits that
// read back to x, "1.0" rather than "1", and exponent form only for
// exponents below -4 or from 16 on ("1e-05", "1.5e+16"). NaN and ±Inf
// (which JSON cannot hold; writers never pass them) become "nan", "inf"
// and "-inf". analysis.PyRepr and the JSON writers share it.
func AppendPyFloat(b []byte, x float64) []byte {
	switch {
	case math.IsNaN(x):
		return append(b, "nan"...)
	case math.IsInf(x, 1):
		return append(b, "inf"...)
	case math.IsInf(x, -1):
		return append(b, "-inf"...)
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], x, 'e', -1, 64) // [-]d[.ddd]e±XX
	if e[0] == '-' {
		b = append(b, '-')
		e = e[1:]
	}
	ei := 0
	for e[ei] != 'e' {
		ei++
	}
	mant, exps := e[:ei], e[ei+1:]
	exp := 0
	for _, c := range exps[1:] {
		exp = exp*10 + int(c-'0')
	}
	if exps[0] == '-' {
		exp = -exp
	}
	var digits [24]byte
	nd := 0
	for _, c := range mant {
		if c != '.' {
			digits[nd] = c
			nd++
		}
	}
	d := digits[:nd]
	if exp < -4 || exp >= 16 {
		b = append(b, d[0])
		if nd > 1 {
			b = append(b, '.')
			b = append(b, d[1:]...)
		}
		b = append(b, 'e')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10)
	}
	if exp < 0 {
		b = append(b, "0."...)
		for i := -1; i > exp; i-- {
			b = append(b, '0')
		}
		return append(b, d...)
	}
	if nd <= exp+1 {
		b = append(b, d...)
		for i := nd; i <= exp; i++ {
			b = append(b, '0')
		}
		return append(b, ".0"...)
	}
	b = append(b, d[:exp+1]...)
	b = append(b, '.')
	return append(b, d[exp+1:]...)
}

// appendPyJSONString quotes s as Python's json.dumps does by default
// (ensure_ascii=True): \" \\ \n \r \t \b \f, other control characters and
// every non-ASCII character as \uXXXX (UTF-16 surrogate pairs above
// U+FFFF). Invalid UTF-8 bytes are written as U+FFFD.
func appendPyJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		if c < 0x80 {
			switch c {
			case '"':
				b = append(b, '\\', '"')
			case '\\':
				b = append(b, '\\', '\\')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		u := func(x rune) {
			b = append(b, '\\', 'u', hex[x>>12&15], hex[x>>8&15], hex[x>>4&15], hex[x&15])
		}
		if r >= 0x10000 {
			r -= 0x10000
			u(0xd800 + (r >> 10))
			u(0xdc00 + (r & 0x3ff))
		} else {
			u(r)
		}
	}
	return append(b, '"')
}
