package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The verl readers: console logs (format "verl") and the file logger's JSONL
// (format "verl-jsonl", one {"step": N, "data": {key: value}} per line).
//
// A console log is whatever the trainer printed: shell traces, Ray banners,
// config dumps and sample generations, with metric lines of the form
//
//	step:N - key:value - key:value - ...
//
// anywhere in a line (after ANSI colour codes and "(TaskRunner pid=...)"
// prefixes, which are ignored). Every other line is skipped silently: it is
// not a record. Lines with the same step are merged (verl prints the
// initial validation as its own "step:0 - val-core/..." line); one-line
// "Initial/Final validation metrics: {...}" summaries add eval values at
// step 0 and at the last step. Grain: step.
//
// Key mapping (old and new verl key sets):
//
//	critic/score/mean                       -> reward
//	response_length/mean                    -> length
//	response_length/clip_ratio              -> clip_ratio
//	val/<m>, val-core/<m>                   -> eval.<m> (val-aux/... stays extra)
//	actor/entropy, else actor/entropy_loss  -> entropy
//	actor/kl_loss, else actor/kl, else critic/kl -> kl (actor/kl_coef is a coefficient: extra)
//	everything else                         -> extra.<key>

func init() {
	RegisterFormat(&Format{
		Name:     "verl",
		Doc:      "verl console log (step:N - key:value - ...; ANSI/Ray prefixes ok)",
		Priority: 55,
		Detect:   detectVerl,
		Read:     readVerl,
	})
	RegisterFormat(&Format{
		Name:     "verl-jsonl",
		Doc:      `verl file-logger JSONL ({"step": N, "data": {...}} per line)`,
		Priority: 56,
		Detect:   detectVerlJSONL,
		Read:     readVerlJSONL,
	})
}

var (
	ansiRE     = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)
	verlStepRE = regexp.MustCompile(`(?:^|[\s)\]>|])step:(\d+)(?:\s+-\s+|\s*$)`)
)

func detectVerl(head []byte, name string) bool {
	// A metric line with at least one pair, or (when the first metric line
	// is beyond the sniffed bytes, after a long config dump) verl's own
	// launch and Ray worker markers.
	for _, line := range bytes.Split(head, []byte{'\n'}) {
		if !bytes.Contains(line, []byte("step:")) {
			continue
		}
		line = ansiRE.ReplaceAll(line, nil)
		loc := verlStepRE.FindSubmatchIndex(line)
		if loc != nil && bytes.Contains(line[loc[1]:], []byte(":")) {
			return true
		}
	}
	for _, m := range verlMarkers {
		if bytes.Contains(head, []byte(m)) {
			return true
		}
	}
	return false
}

var verlMarkers = []string{"verl.trainer.main_ppo", "(TaskRunner pid=", "(main_task pid="}

// verlCanonical resolves the canonical columns of one record's keys: it
// returns key -> column for every key.
func verlCanonical(keys []string) map[string]string {
	has := make(map[string]bool, len(keys))
	for _, k := range keys {
		has[k] = true
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		out[k] = ExtraPrefix + k
	}
	pick := func(col string, candidates ...string) {
		for _, c := range candidates {
			if has[c] {
				out[c] = col
				return
			}
		}
	}
	pick(ColReward, "critic/score/mean")
	pick(ColLength, wellKnownKeys(ColLength)...)
	pick(ColClipRatio, wellKnownKeys(ColClipRatio)...)
	pick(ColEntropy, wellKnownKeys(ColEntropy)...)
	pick(ColKL, wellKnownKeys(ColKL)...)
	for _, k := range keys {
		switch {
		case strings.HasPrefix(k, "val-core/") && len(k) > len("val-core/"):
			out[k] = EvalPrefix + strings.TrimPrefix(k, "val-core/")
		case strings.HasPrefix(k, "val/") && len(k) > len("val/"):
			out[k] = EvalPrefix + strings.TrimPrefix(k, "val/")
		}
	}
	return out
}

// parseVerlValue reads a console value: a float as Python prints it, also
// nan/inf, True/False. ok is false for anything else.
func parseVerlValue(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	switch s {
	case "True", "true":
		return 1, true
	case "False", "false":
		return 0, true
	}
	if strings.HasPrefix(s, "tensor(") && strings.HasSuffix(s, ")") {
		s = strings.TrimSuffix(strings.TrimPrefix(s, "tensor("), ")")
		if i := strings.IndexByte(s, ','); i >= 0 {
			s = s[:i]
		}
	}
	if strings.HasPrefix(s, "np.float64(") && strings.HasSuffix(s, ")") {
		s = strings.TrimSuffix(strings.TrimPrefix(s, "np.float64("), ")")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

// verlValRE matches verl's one-line validation summaries,
// "Initial validation metrics: {'val/test_score/x': 0.5}" (printed before
// the first step) and "Final validation metrics: {...}" (after the last).
var (
	verlValRE     = regexp.MustCompile(`(Initial|Final) validation metrics: \{(.*)\}`)
	verlValPairRE = regexp.MustCompile(`'([^']+)':\s*([-+0-9.eEinfa]+)`)
)

// verlValidation merges a one-line validation summary into the run: the
// initial one at step 0, the final one at the last step seen. Values a
// step line already gave win. Multi-line (pprint-wrapped) summaries are
// skipped: the verl versions that wrap them also log the same numbers on
// step lines.
func verlValidation(t *trainerTable, line []byte, lastStep float64, seen bool) {
	m := verlValRE.FindSubmatch(ansiRE.ReplaceAll(line, nil))
	if m == nil {
		return
	}
	step := 0.0
	if string(m[1]) == "Final" {
		if !seen {
			return
		}
		step = lastStep
	}
	pairs := verlValPairRE.FindAllSubmatch(m[2], -1)
	if len(pairs) == 0 {
		return
	}
	row := t.row(step)
	for _, p := range pairs {
		v, ok := parseVerlValue(string(p[2]))
		if !ok {
			continue
		}
		k := string(p[1])
		col := verlCanonical([]string{k})[k]
		if !strings.HasPrefix(col, EvalPrefix) && !strings.HasPrefix(k, "val-aux/") {
			col = EvalPrefix + k // old verl printed the bare metric name
		}
		if c, ok := t.cols[col]; ok && row < len(c) && !math.IsNaN(c[row]) {
			continue
		}
		t.put(row, col, k, v)
	}
}

func readVerl(r io.Reader, name string, opt Options) (*Run, error) {
	t := newTrainerTable(name, opt)
	br := bufio.NewReaderSize(r, 1<<20)
	lineNo := 0
	sawStep := false
	type pendingVal struct {
		line []byte
		last float64
		seen bool
	}
	var pending []pendingVal
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			lineNo++
			if lineNo == 1 {
				line = trimBOM(line)
			}
			if err != nil && err != io.EOF && !bytes.HasSuffix(line, []byte{'\n'}) {
				// Cut by a read error (a truncated gzip or zstd stream): the
				// half line may parse into wrong values (a number cut short),
				// so it is dropped; the one issue below says why.
				if e := t.issues.add(lineNo, "", readErrIssue(name, err), true); e != nil {
					return nil, e
				}
				break
			}
			eof := err == io.EOF
			if bytes.Contains(line, []byte("validation metrics: {")) {
				last, seen := 0.0, false
				if st, ok := t.cols[ColStep]; ok && len(st) > 0 {
					last, seen = st[len(st)-1], true
				}
				pending = append(pending, pendingVal{line: append([]byte(nil), line...), last: last, seen: seen})
				continue
			}
			if e := verlLine(t, line, lineNo, eof, &sawStep); e != nil {
				return nil, e
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if e := t.issues.add(lineNo+1, "", readErrIssue(name, err), false); e != nil {
				return nil, e
			}
			break
		}
	}
	if !sawStep && !(opt.chunk && len(t.issues.list)+t.issues.skipped > 0) {
		return nil, fmt.Errorf("%s: %w: no verl metric lines (step:N - key:value - ...) found", name, ErrNotARun)
	}
	// Summaries are merged last so that step lines win over them.
	for _, p := range pending {
		verlValidation(t, p.line, p.last, p.seen)
	}
	run := t.run("verl", GrainStep)
	run.Source = name
	if err := applySourceMap(run, t.origin, opt.Map); err != nil {
		return nil, err
	}
	return run, nil
}

// verlLine parses one console line into t. Lines without a metric record are
// ignored. last says it is the final line of the file (possibly cut short
// by a live trainer: a bad last pair is dropped without an issue).
func verlLine(t *trainerTable, line []byte, lineNo int, last bool, sawStep *bool) error {
	if !bytes.Contains(line, []byte("step:")) {
		return nil
	}
	line = ansiRE.ReplaceAll(line, nil)
	line = bytes.TrimRight(line, "\r\n")
	loc := verlStepRE.FindSubmatchIndex(line)
	if loc == nil {
		return nil
	}
	step, err := strconv.ParseFloat(string(line[loc[2]:loc[3]]), 64)
	if err != nil {
		return t.issues.add(lineNo, "step", "step number out of range", true)
	}
	rest := string(line[loc[1]:])
	type kv struct {
		k       string
		v       float64
		problem string // non-finite or boolean: see valueProblem
		isBool  bool
	}
	var pairs []kv
	var keys []string
	parts := strings.Split(rest, " - ")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		j := strings.LastIndexByte(p, ':')
		if j <= 0 {
			if last && i == len(parts)-1 {
				continue
			}
			if err := t.issues.addKept(lineNo, "", fmt.Sprintf("pair %q has no key:value (pair left out)", clip(p, 40))); err != nil {
				return err
			}
			continue
		}
		k, vs := strings.TrimSpace(p[:j]), p[j+1:]
		v, ok := parseVerlValue(vs)
		if !ok {
			if last && i == len(parts)-1 {
				continue
			}
			if err := t.issues.addKept(lineNo, k, fmt.Sprintf("value %q is not a number (left missing)", clip(strings.TrimSpace(vs), 40))); err != nil {
				return err
			}
			continue
		}
		text := strings.TrimSpace(vs)
		isBool := text == "True" || text == "False" || text == "true" || text == "false"
		pairs = append(pairs, kv{k: k, v: v, isBool: isBool})
		keys = append(keys, k)
	}
	if len(pairs) == 0 {
		return nil
	}
	*sawStep = true
	cols := t.canonical(keys)
	// A non-finite value or a boolean costs the line when its column is
	// canonical (reward, length, eval.*, ...), only the value otherwise.
	keep := pairs[:0]
	for _, p := range pairs {
		msg := valueProblem(cols[p.k], p.v, p.isBool, p.k)
		if msg == "" {
			keep = append(keep, p)
			continue
		}
		msg = valueProblem(cols[p.k], p.v, p.isBool, verlValueText(line, p.k))
		if canonicalCol(cols[p.k]) {
			return t.issues.add(lineNo, p.k, msg, true)
		}
		if err := t.issues.addKept(lineNo, p.k, msg+" (left missing)"); err != nil {
			return err
		}
	}
	if len(keep) == 0 {
		return nil
	}
	row := t.row(step)
	for _, p := range keep {
		t.put(row, cols[p.k], p.k, p.v)
	}
	return nil
}

// verlValueText returns the text after "key:" on a console line (for
// messages).
func verlValueText(line []byte, key string) string {
	s := string(line)
	i := strings.Index(s, key+":")
	if i < 0 {
		return "?"
	}
	s = s[i+len(key)+1:]
	if j := strings.Index(s, " - "); j >= 0 {
		s = s[:j]
	}
	return strings.TrimSpace(s)
}

// canonical is verlCanonical memoised by key set: a console log repeats
// the same keys on every step line.
func (t *trainerTable) canonical(keys []string) map[string]string {
	sig := strings.Join(keys, "\x00")
	if m, ok := t.canon[sig]; ok {
		return m
	}
	m := verlCanonical(keys)
	if t.canon == nil || len(t.canon) >= 256 {
		t.canon = map[string]map[string]string{}
	}
	t.canon[sig] = m
	return m
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// firstJSONObject decodes the first line of head as a JSON object
// (Python's NaN/Infinity allowed; a BOM and leading blank lines skipped).
// ok is false when that line is not a whole object, or is cut off by the
// end of head.
func firstJSONObject(head []byte) (m map[string]json.RawMessage, ok bool) {
	line := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	} else if len(head) >= SniffSize {
		return nil, false
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return nil, false
	}
	if json.Unmarshal(pyNonFinite(line), &m) != nil {
		return nil, false
	}
	return m, true
}

func detectVerlJSONL(head []byte, name string) bool {
	m, ok := firstJSONObject(head)
	if !ok || len(m) != 2 {
		return false
	}
	d, ok := m["data"]
	if _, s := m["step"]; !s || !ok {
		return false
	}
	d = bytes.TrimSpace(d)
	return len(d) > 0 && d[0] == '{'
}

func readVerlJSONL(r io.Reader, name string, opt Options) (*Run, error) {
	t := newTrainerTable(name, opt)
	br := bufio.NewReaderSize(r, 1<<20)
	lineNo := 0
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			lineNo++
			if lineNo == 1 {
				line = trimBOM(line)
			}
			partial := err != nil && !bytes.HasSuffix(line, []byte{'\n'})
			if partial && err != io.EOF {
				// Cut by a read error (truncated gzip): a line that still
				// parses is whole; one that does not is part of the one
				// issue below, not a second one.
				o := t.issues
				t.issues.opt.live = true
				e := verlJSONLine(t, line, lineNo, true)
				t.issues.opt.live = o.opt.live
				if e != nil {
					return nil, e
				}
				if e := t.issues.add(lineNo, "", readErrIssue(name, err), true); e != nil {
					return nil, e
				}
				break
			}
			if e := verlJSONLine(t, line, lineNo, partial); e != nil {
				return nil, e
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if e := t.issues.add(lineNo+1, "", readErrIssue(name, err), false); e != nil {
				return nil, e
			}
			break
		}
	}
	run := t.run("verl-jsonl", GrainStep)
	run.Source = name
	if err := applySourceMap(run, t.origin, opt.Map); err != nil {
		return nil, err
	}
	return run, nil
}

func verlJSONLine(t *trainerTable, line []byte, lineNo int, partial bool) error {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil
	}
	var rec struct {
		Step json.Number    `json:"step"`
		Data map[string]any `json:"data"`
	}
	d := json.NewDecoder(bytes.NewReader(pyNonFinite(line)))
	d.UseNumber()
	if err := d.Decode(&rec); err != nil {
		if partial {
			if t.issues.opt.live {
				return nil // a live trainer's last line may be half written
			}
			return t.issues.add(lineNo, "", "incomplete last line (no newline at the end: the file is cut short): "+err.Error(), true)
		}
		return t.issues.add(lineNo, "", "not a JSON object {\"step\": N, \"data\": {...}}: "+err.Error(), true)
	}
	if d.More() {
		return t.issues.add(lineNo, "", "text after the JSON object on this line", true)
	}
	step, err := strconv.ParseFloat(string(rec.Step), 64)
	if rec.Step == "" || err != nil || math.IsInf(step, 0) {
		return t.issues.add(lineNo, "step", "missing or non-numeric step", true)
	}
	if rec.Data == nil {
		return t.issues.add(lineNo, "data", "missing data object", true)
	}
	flat := map[string]float64{}
	isBool := map[string]bool{}
	text := map[string]string{}
	var keys []string
	var walk func(prefix string, v any) error
	walk = func(prefix string, v any) error {
		if m, ok := v.(map[string]any); ok {
			for k, sub := range m {
				if err := walk(prefix+"/"+k, sub); err != nil {
					return err
				}
			}
			return nil
		}
		if v == nil {
			return nil // null: no value
		}
		f, ok := jsonNumber(v)
		if !ok {
			if _, isStr := v.(string); isStr {
				return nil // text (e.g. logged generations) is not a metric
			}
			return t.issues.addKept(lineNo, prefix, "value is not a number (left missing)")
		}
		_, isBool[prefix] = v.(bool)
		text[prefix] = fmt.Sprint(v)
		flat[prefix] = f
		keys = append(keys, prefix)
		return nil
	}
	for k, v := range rec.Data {
		if err := walk(k, v); err != nil {
			return err
		}
	}
	sort.Strings(keys)
	cols := verlCanonical(keys)
	keep := keys[:0]
	for _, k := range keys {
		msg := valueProblem(cols[k], flat[k], isBool[k], text[k])
		switch {
		case msg == "":
			keep = append(keep, k)
		case canonicalCol(cols[k]):
			return t.issues.add(lineNo, "data/"+k, msg, true)
		default:
			if err := t.issues.addKept(lineNo, "data/"+k, msg+" (left missing)"); err != nil {
				return err
			}
		}
	}
	row := t.row(step)
	for _, k := range keep {
		t.put(row, cols[k], k, flat[k])
	}
	return nil
}
