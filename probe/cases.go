package probe

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrBadCases is wrapped by every error about a malformed case file.
var ErrBadCases = errors.New("bad case file")

// Case is one call of the reward function: positional and named arguments.
// JSON numbers are kept as json.Number so they reach a command or an HTTP
// endpoint digit for digit.
type Case struct {
	Index  int            // 0-based position in the case file
	Line   int            // 1-based line where the case starts (0 when built in code)
	Args   []any          // positional arguments
	Kwargs map[string]any // named arguments
	Keys   []string       // names of Kwargs in file order
}

// NewCase returns a case with positional arguments args and named
// arguments given as alternating name, value pairs (names in that order).
func NewCase(args []any, kv ...any) Case {
	c := Case{Args: args}
	for i := 0; i+1 < len(kv); i += 2 {
		c = c.With(fmt.Sprint(kv[i]), kv[i+1])
	}
	return c
}

// MarshalJSON writes the case in the wire shape used by commands and HTTP
// endpoints: {"args": [...], "kwargs": {...}}, kwargs in file order.
func (c Case) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"args":`)
	args := c.Args
	if args == nil {
		args = []any{}
	}
	if err := writeJSON(&b, args); err != nil {
		return nil, err
	}
	b.WriteString(`,"kwargs":{`)
	for i, k := range c.keys() {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := writeJSON(&b, k); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		if err := writeJSON(&b, c.Kwargs[k]); err != nil {
			return nil, fmt.Errorf("kwarg %q: %w", k, err)
		}
	}
	b.WriteString("}}")
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

// keys returns the kwarg names in file order, adding any name set in
// Kwargs but missing from Keys (sorted, for determinism).
func (c Case) keys() []string {
	if len(c.Keys) == len(c.Kwargs) {
		return c.Keys
	}
	seen := map[string]bool{}
	var out []string
	for _, k := range c.Keys {
		if _, ok := c.Kwargs[k]; ok && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	var rest []string
	for k := range c.Kwargs {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// Lookup returns the argument named field: a kwarg of that name, or else,
// when field is a decimal index ("0", "1") or "args[N]", that positional
// argument.
func (c Case) Lookup(field string) (any, bool) {
	if v, ok := c.Kwargs[field]; ok {
		return v, true
	}
	if i, ok := argIndex(field); ok && i < len(c.Args) {
		return c.Args[i], true
	}
	return nil, false
}

func argIndex(field string) (int, bool) {
	s := field
	if strings.HasPrefix(s, "args[") && strings.HasSuffix(s, "]") {
		s = s[5 : len(s)-1]
	}
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 {
		return 0, false
	}
	return i, true
}

// With returns a copy of c whose argument field (as in Lookup) is v. A
// field that names neither a kwarg nor an existing positional argument is
// added as a kwarg. c itself is not modified.
func (c Case) With(field string, v any) Case {
	out := c
	if _, ok := c.Kwargs[field]; !ok {
		if i, ok := argIndex(field); ok && i < len(c.Args) {
			out.Args = append([]any(nil), c.Args...)
			out.Args[i] = v
			return out
		}
	}
	out.Kwargs = make(map[string]any, len(c.Kwargs)+1)
	for k, x := range c.Kwargs {
		out.Kwargs[k] = x
	}
	if _, ok := c.Kwargs[field]; !ok {
		out.Keys = append(append([]string(nil), c.keys()...), field)
	}
	out.Kwargs[field] = v
	return out
}

// DefaultResponseFields are tried in order when no response field is named.
var DefaultResponseFields = []string{"response", "completion", "output", "text"}

// DefaultAnswerFields are tried in order when no answer field is named.
var DefaultAnswerFields = []string{"answer", "solution", "ground_truth", "target"}

// ResponseField returns the field (as in Lookup) holding the response to
// score: want when given and present; else the first of
// DefaultResponseFields that is a string kwarg; else the first string
// positional argument; else the first string kwarg in file order.
func (c Case) ResponseField(want string) (string, bool) {
	if want != "" {
		_, ok := c.Lookup(want)
		return want, ok
	}
	for _, f := range DefaultResponseFields {
		if _, ok := c.Kwargs[f].(string); ok {
			return f, true
		}
	}
	for i, a := range c.Args {
		if _, ok := a.(string); ok {
			return strconv.Itoa(i), true
		}
	}
	for _, k := range c.keys() {
		if _, ok := c.Kwargs[k].(string); ok {
			return k, true
		}
	}
	return "", false
}

// AnswerField returns the field holding the reference answer: want when
// given and present; else the first of DefaultAnswerFields present as a
// kwarg; else, when the response is positional argument i, argument i+1.
// response is the field ResponseField chose.
func (c Case) AnswerField(want, response string) (string, bool) {
	if want != "" {
		_, ok := c.Lookup(want)
		return want, ok
	}
	for _, f := range DefaultAnswerFields {
		if _, ok := c.Kwargs[f]; ok && f != response {
			return f, true
		}
	}
	if _, kw := c.Kwargs[response]; !kw {
		if i, ok := argIndex(response); ok && i+1 < len(c.Args) {
			return strconv.Itoa(i + 1), true
		}
	}
	return "", false
}

// InputLength is the total length of the case's string arguments in
// characters (rewardspy's input_length counts every argument's len()).
func (c Case) InputLength() int {
	n := 0
	for _, a := range c.Args {
		n += valueLength(a)
	}
	for _, v := range c.Kwargs {
		n += valueLength(v)
	}
	return n
}

// valueLength is rewardspy's length estimate: characters of a string,
// items of a list or object, 0 for numbers, booleans and null.
func valueLength(v any) int {
	switch x := v.(type) {
	case string:
		return utf8.RuneCountInString(x)
	case []any:
		return len(x)
	case map[string]any:
		return len(x)
	}
	return 0
}

// ReadCasesFile reads a case file (see ReadCases).
func ReadCasesFile(path string) ([]Case, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCases, err)
	}
	defer f.Close()
	return ReadCases(f, path)
}

// ReadCases reads cases in rewardspy's cases.json forms, either as one JSON
// array or as JSONL (one case a line; blank lines are skipped). Each item is:
//
//   - an object with "args" and/or "kwargs" (and no other keys): positional
//     and named arguments;
//   - any other object: named arguments, in file order;
//   - an array: positional arguments;
//   - a scalar (string, number, boolean, null): one positional argument.
//
// Errors wrap ErrBadCases and name the file, the case index (0-based) and
// its line. An empty file or an empty array gives no cases and no error.
func ReadCases(r io.Reader, name string) ([]Case, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadCases, name, err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trim := bytes.TrimSpace(data)
	if len(trim) == 0 {
		return nil, nil
	}
	if trim[0] == '[' && !strings.HasSuffix(strings.ToLower(name), ".jsonl") && isSingleValue(trim) {
		return readArray(data, name)
	}
	return readLines(data, name)
}

// isSingleValue reports whether data is exactly one JSON value.
func isSingleValue(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		// A broken array is still meant as an array when it spans lines
		// that are not each a value; let readArray name the problem.
		return !looksLikeJSONL(data)
	}
	_, err := dec.Token()
	return err == io.EOF
}

// looksLikeJSONL: the first non-blank line is a complete JSON value and a
// second non-blank line follows.
func looksLikeJSONL(data []byte) bool {
	lines := 0
	first := true
	for _, ln := range bytes.Split(data, []byte("\n")) {
		ln = bytes.TrimSpace(ln)
		if len(ln) == 0 {
			continue
		}
		if first && !json.Valid(ln) {
			return false
		}
		first = false
		lines++
	}
	return lines > 1
}

func readArray(data []byte, name string) ([]Case, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadCases, name, err)
	}
	var cases []Case
	for dec.More() {
		off := dec.InputOffset()
		// InputOffset is at the separator before the value; skip to it.
		for off < int64(len(data)) && (data[off] == ',' || data[off] == ' ' || data[off] == '\n' || data[off] == '\r' || data[off] == '\t') {
			off++
		}
		line := 1 + bytes.Count(data[:off], []byte("\n"))
		idx := len(cases)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%w: %s: case %d (line %d): %v", ErrBadCases, name, idx, line, jsonMsg(err))
		}
		c, err := parseCase(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: case %d (line %d): %v", ErrBadCases, name, idx, line, err)
		}
		c.Index, c.Line = idx, line
		cases = append(cases, c)
	}
	if _, err := dec.Token(); err != nil {
		line := 1 + bytes.Count(data[:min(int(dec.InputOffset()), len(data))], []byte("\n"))
		return nil, fmt.Errorf("%w: %s: line %d: after case %d: %v", ErrBadCases, name, line, len(cases)-1, jsonMsg(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: %s: text after the closing ] of the case array", ErrBadCases, name)
	}
	return cases, nil
}

func readLines(data []byte, name string) ([]Case, error) {
	var cases []Case
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), len(data)+1)
	line := 0
	for sc.Scan() {
		line++
		ln := bytes.TrimSpace(sc.Bytes())
		if len(ln) == 0 {
			continue
		}
		idx := len(cases)
		if !json.Valid(ln) {
			var v any
			err := json.Unmarshal(ln, &v)
			return nil, fmt.Errorf("%w: %s:%d: case %d: not one JSON value per line: %v", ErrBadCases, name, line, idx, jsonMsg(err))
		}
		c, err := parseCase(ln)
		if err != nil {
			return nil, fmt.Errorf("%w: %s:%d: case %d: %v", ErrBadCases, name, line, idx, err)
		}
		c.Index, c.Line = idx, line
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s:%d: %v", ErrBadCases, name, line+1, err)
	}
	return cases, nil
}

func jsonMsg(err error) string {
	if err == nil {
		return "invalid JSON"
	}
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return "unexpected end of file (unclosed bracket or quote?)"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// parseCase turns one JSON value into a Case (forms in ReadCases).
func parseCase(raw []byte) (Case, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return Case{}, errors.New("empty case")
	}
	switch raw[0] {
	case '{':
		keys, vals, err := decodeObject(raw)
		if err != nil {
			return Case{}, err
		}
		if isArgsKwargs(keys) {
			var c Case
			if a, ok := vals["args"]; ok && a != nil {
				arr, ok := a.([]any)
				if !ok {
					return Case{}, fmt.Errorf(`"args" must be an array, got %s`, jsonType(a))
				}
				c.Args = arr
			}
			if kw, ok := vals["kwargs"]; ok && kw != nil {
				if _, isObj := kw.(map[string]any); !isObj {
					return Case{}, fmt.Errorf(`"kwargs" must be an object, got %s`, jsonType(kw))
				}
				// Decode the raw text again so the kwargs keep file order.
				ks, vs, err := decodeObject(rawField(raw, "kwargs"))
				if err != nil {
					return Case{}, fmt.Errorf(`"kwargs": %v`, err)
				}
				c.Kwargs, c.Keys = vs, ks
			}
			return c, nil
		}
		return Case{Kwargs: vals, Keys: keys}, nil
	case '[':
		var arr []any
		if err := unmarshalNumber(raw, &arr); err != nil {
			return Case{}, err
		}
		if arr == nil {
			arr = []any{}
		}
		return Case{Args: arr}, nil
	default:
		var v any
		if err := unmarshalNumber(raw, &v); err != nil {
			return Case{}, err
		}
		return Case{Args: []any{v}}, nil
	}
}

func isArgsKwargs(keys []string) bool {
	if len(keys) == 0 {
		return false
	}
	for _, k := range keys {
		if k != "args" && k != "kwargs" {
			return false
		}
	}
	return true
}

// rawField returns the raw text of the top-level key in the object raw (nil
// when absent).
func rawField(raw []byte, key string) []byte {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil
		}
		if k, _ := t.(string); k == key {
			return v
		}
	}
	return nil
}

// decodeObject decodes a JSON object keeping its key order. Duplicate keys
// are an error (Python would silently keep the last one).
func decodeObject(raw []byte) ([]string, map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, nil, errors.New(jsonMsg(err))
	}
	var keys []string
	vals := map[string]any{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, errors.New(jsonMsg(err))
		}
		k, _ := t.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, nil, fmt.Errorf("key %q: %s", k, jsonMsg(err))
		}
		if _, dup := vals[k]; dup {
			return nil, nil, fmt.Errorf("key %q appears twice", k)
		}
		keys = append(keys, k)
		vals[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, errors.New(jsonMsg(err))
	}
	return keys, vals, nil
}

func unmarshalNumber(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return errors.New(jsonMsg(err))
	}
	return nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
