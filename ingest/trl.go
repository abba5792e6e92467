package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The HF Trainer / TRL reader (format "trl"): trainer_state.json, under any
// file name. Its log_history is a list of flat objects, one per logging
// event: train rows ({"step": 5, "loss": ..., "reward": ...}), eval rows
// ({"step": 10, "eval_loss": ...}) and a final summary row ({"step": 200,
// "train_runtime": ...}). Rows with the same step are merged into one
// record, so eval metrics sit on the train row of their step. Grain: step.
//
// Key mapping (TRL renamed keys across versions; both spellings are read):
//
//	reward                                      -> reward
//	reward_std                                  -> reward_std
//	rewards/chosen, rewards/rejected            -> chosen_reward, rejected_reward (DPO, ORPO, CPO, KTO)
//	rewards/margins, rewards/accuracies         -> margin (also the reward), pref_accuracy
//	rewards/<f>/mean, rewards/<f> (legacy)      -> component.<f>
//	completions/mean_length, completion_length  -> length (the first present; the other is kept as extra)
//	frac_reward_zero_std                        -> zero_std_frac
//	completions/clipped_ratio                   -> clip_ratio
//	kl, entropy                                 -> kl, entropy
//	eval_<name>                                 -> eval.<name> (except eval_runtime,
//	                                               eval_samples_per_second, eval_steps_per_second: extra)
//	step                                        -> step
//	anything else                               -> extra.<key>
//
// Scalar top-level fields (global_step, max_steps, logging_steps, ...) go to
// Run.Meta. Python's bare NaN/Infinity tokens are accepted. Options.Map
// overrides the mapping by source key (--map reward=rewards/accuracy/mean),
// in all the trainer readers (see applySourceMap).

func init() {
	RegisterFormat(&Format{
		Name:     "trl",
		Doc:      "HF Trainer / TRL trainer_state.json (log_history; any file name)",
		Priority: 60,
		Detect:   detectTRL,
		Read:     readTRL,
	})
}

func detectTRL(head []byte, name string) bool {
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(t) == 0 || t[0] != '{' {
		return false
	}
	return bytes.Contains(head, []byte(`"log_history"`))
}

// trainerTable builds a step-grain run: one row per distinct step, columns
// filled as keys arrive. Shared by the trl, verl and tfevents readers.
type trainerTable struct {
	n      int
	cols   map[string][]float64
	order  []string
	byStep map[float64]int
	issues issueList
	canon  map[string]map[string]string // verl key set -> columns
	origin map[string]string            // column -> the source key it was read from
}

func newTrainerTable(name string, opt Options) *trainerTable {
	return &trainerTable{cols: map[string][]float64{}, byStep: map[float64]int{},
		issues: issueList{name: name, opt: opt}}
}

// row returns the row for step, creating it (in arrival order) when new.
func (t *trainerTable) row(step float64) int {
	if r, ok := t.byStep[step]; ok {
		return r
	}
	r := t.newRow()
	t.byStep[step] = r
	t.set(r, ColStep, step)
	return r
}

// newRow appends a row not keyed by step.
func (t *trainerTable) newRow() int {
	t.n++
	return t.n - 1
}

func (t *trainerTable) set(row int, col string, v float64) {
	c, ok := t.cols[col]
	if !ok {
		t.order = append(t.order, col)
	}
	for len(c) <= row {
		c = append(c, math.NaN())
	}
	c[row] = v
	t.cols[col] = c
}

// put is set for a value read from source key src (recorded for --map).
func (t *trainerTable) put(row int, col, src string, v float64) {
	if t.origin == nil {
		t.origin = map[string]string{}
	}
	if _, ok := t.origin[col]; !ok {
		t.origin[col] = src
	}
	t.set(row, col, v)
}

func (t *trainerTable) has(col string) bool {
	_, ok := t.cols[col]
	return ok
}

// run builds the Run; the issues and skipped count are copied in.
func (t *trainerTable) run(format string, grain Grain) *Run {
	run := NewRun(t.n)
	run.Format = format
	run.Grain = grain
	for _, k := range t.order {
		run.SetColumn(k, t.cols[k])
	}
	run.Issues = t.issues.list
	run.Skipped = t.issues.skipped
	run.Kept = t.issues.kept
	return run
}

// applySourceMap applies Options.Map (Map[target] = source key) to a run a
// trainer reader built: the column read from the source key is renamed to
// target; a column already named target moves to extra.<its source key>.
// origin maps each column to the source key it was read from; a source is
// also found as extra.<source> or as a column of that exact name. A source
// key the run lacks is an error naming the keys it has, so a typo in --map
// does not silently leave the reward unmapped.
func applySourceMap(run *Run, origin map[string]string, m map[string]string) error {
	defer setRewardKey(run, origin, m)
	if len(m) == 0 {
		return nil
	}
	targets := make([]string, 0, len(m))
	for tg := range m {
		targets = append(targets, tg)
	}
	sort.Strings(targets)
	bySource := map[string]string{}
	for c, src := range origin {
		bySource[src] = c
	}
	for _, target := range targets {
		src := m[target]
		if strings.TrimSpace(target) == "" || strings.TrimSpace(src) == "" {
			return fmt.Errorf("--map %s=%s: both sides must be non-empty (column=source key)", target, src)
		}
		from := ""
		for _, c := range []string{bySource[src], ExtraPrefix + src, src} {
			if c != "" && run.Has(c) {
				from = c
				break
			}
		}
		if from == "" {
			var keys []string
			for _, c := range run.Columns() {
				if o, ok := origin[c]; ok {
					keys = append(keys, o)
				} else {
					keys = append(keys, strings.TrimPrefix(c, ExtraPrefix))
				}
			}
			sort.Strings(keys)
			if len(keys) > 20 {
				keys = append(keys[:20:20], "...")
			}
			return fmt.Errorf("%s: --map %s=%s: no key %q in this %s log (keys: %s)", run.Source, target, src, src, run.Format, strings.Join(keys, ", "))
		}
		if from == target {
			continue
		}
		vals, _ := run.Column(from)
		if old, ok := run.Column(target); ok {
			keep := ExtraPrefix + target
			if o, ok := origin[target]; ok {
				keep = ExtraPrefix + o
			}
			run.DropColumn(target)
			if !run.Has(keep) {
				run.SetColumn(keep, old)
			}
		}
		run.DropColumn(from)
		run.SetColumn(target, vals)
	}
	return nil
}

// issueList collects Issues for one input, honouring MaxIssues and Strict.
type issueList struct {
	name    string
	opt     Options
	list    []Issue
	skipped int
	kept    int
}

// add records a problem. skip says the whole record was dropped. In strict
// mode it returns an error wrapping ErrStrict, which the reader returns.
func (l *issueList) add(line int, field, msg string, skip bool) error {
	is := Issue{File: l.name, Line: line, Field: field, Msg: msg}
	if skip {
		l.skipped++
	}
	if l.opt.Strict {
		return fmt.Errorf("%w: %v", ErrStrict, is)
	}
	if len(l.list) < l.opt.maxIssues() {
		l.list = append(l.list, is)
	}
	return nil
}

// addKept records a problem with one value of a record that was kept
// (the value is left missing).
func (l *issueList) addKept(line int, field, msg string) error {
	is := Issue{File: l.name, Line: line, Field: field, Msg: msg, Kept: true}
	l.kept++
	if l.opt.Strict {
		return fmt.Errorf("%w: %v", ErrStrict, is)
	}
	if len(l.list) < l.opt.maxIssues() {
		l.list = append(l.list, is)
	}
	return nil
}

// pyNonFinite rewrites Python's bare NaN, Infinity and -Infinity tokens
// (outside strings) as JSON strings so encoding/json accepts them.
func pyNonFinite(b []byte) []byte {
	if !bytes.Contains(b, []byte("NaN")) && !bytes.Contains(b, []byte("Infinity")) {
		return b
	}
	out := make([]byte, 0, len(b)+64)
	inStr, esc := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			out = append(out, c)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch {
		case c == '"':
			inStr = true
			out = append(out, c)
		case bytes.HasPrefix(b[i:], []byte("NaN")):
			out = append(out, `"NaN"`...)
			i += 2
		case bytes.HasPrefix(b[i:], []byte("-Infinity")):
			out = append(out, `"-Infinity"`...)
			i += 8
		case bytes.HasPrefix(b[i:], []byte("Infinity")):
			out = append(out, `"Infinity"`...)
			i += 7
		default:
			out = append(out, c)
		}
	}
	return out
}

// jsonNumber converts a decoded JSON value to a float: numbers, booleans
// (0/1), null (NaN) and the strings NaN/Infinity/-Infinity. ok is false for
// anything else (strings, objects, arrays).
func jsonNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			// Out of range: ParseFloat returns ±Inf with the error.
			var ne *strconv.NumError
			if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
				return f, true
			}
			return 0, false
		}
		return f, true
	case float64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case nil:
		return math.NaN(), true
	case string:
		switch x {
		case "NaN", "nan":
			return math.NaN(), true
		case "Infinity", "inf":
			return math.Inf(1), true
		case "-Infinity", "-inf":
			return math.Inf(-1), true
		}
	}
	return 0, false
}

// lineAt returns the 1-based line of byte offset off in b.
func lineAt(b []byte, off int64) int {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	if off < 0 {
		off = 0
	}
	return bytes.Count(b[:off], []byte{'\n'}) + 1
}

// trlColumn maps one log_history key to its column. The length keys are
// resolved per file by the caller (lengthKey).
func trlColumn(key, lengthKey string) string {
	switch key {
	case "step":
		return ColStep
	case "reward":
		return ColReward
	case "reward_std":
		return ColRewardStd
	case "frac_reward_zero_std":
		return ColZeroStdFrac
	case "completions/clipped_ratio":
		return ColClipRatio
	case "kl":
		return ColKL
	case "entropy":
		return ColEntropy
	case "eval_runtime", "eval_samples_per_second", "eval_steps_per_second":
		return ExtraPrefix + key
	}
	if key == lengthKey {
		return ColLength
	}
	for _, k := range PreferenceKeys {
		if key == k {
			return WellKnownColumn(key)
		}
	}
	if strings.HasPrefix(key, "rewards/") {
		f := strings.TrimPrefix(key, "rewards/")
		switch {
		case strings.HasSuffix(f, "/mean"):
			return ComponentPrefix + strings.TrimSuffix(f, "/mean")
		case !strings.Contains(f, "/") && f != "":
			return ComponentPrefix + f
		}
		return ExtraPrefix + key
	}
	if strings.HasPrefix(key, "eval_") && len(key) > len("eval_") {
		return EvalPrefix + strings.TrimPrefix(key, "eval_")
	}
	return ExtraPrefix + key
}

func readTRL(r io.Reader, name string, opt Options) (*Run, error) {
	raw, readErr := io.ReadAll(r)
	t := newTrainerTable(name, opt)
	if readErr != nil && !errors.Is(readErr, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("%s: %w", name, readErr)
	}
	// A truncated gzip stream (readErr): what is there is read, and the
	// one issue says why it ends early.
	data := pyNonFinite(trimBOM(raw))
	meta := map[string]string{}
	var history [][]byte
	var offsets []int64

	// The top level is scanned by hand (jsonValueEnd) rather than with a
	// json.Decoder: one log_history entry that the decoder refuses (nested
	// too deeply) is then skipped on its own, and text after the object is
	// seen.
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, fmt.Errorf("%s: %w: a trainer_state.json must be a JSON object with a log_history list", name, ErrNotARun)
	}
	i++
	found := false
	truncated := ""
	truncAt := int64(-1)
	fail := func(at int, msg string) {
		truncated, truncAt = msg, int64(at)
	}
top:
	for {
		i = skipWS(data, i)
		if i >= len(data) {
			fail(i, "unexpected end of JSON input")
			break
		}
		if data[i] == '}' {
			i++
			break
		}
		if data[i] == ',' {
			i++
			continue
		}
		kend, err := jsonValueEnd(data, i)
		if err != nil || data[i] != '"' {
			fail(i, "expected a key")
			break
		}
		var key string
		if json.Unmarshal(data[i:kend], &key) != nil {
			fail(i, "bad key")
			break
		}
		i = skipWS(data, kend)
		if i >= len(data) || data[i] != ':' {
			fail(i, "expected ':' after a key")
			break
		}
		i = skipWS(data, i+1)
		if key == "log_history" {
			found = true
			if i >= len(data) || data[i] != '[' {
				return nil, fmt.Errorf("%s:%d: field \"log_history\": want a list of objects", name, lineAt(data, int64(i)))
			}
			i++
			for {
				i = skipWS(data, i)
				if i < len(data) && data[i] == ',' {
					i++
					continue
				}
				if i < len(data) && data[i] == ']' {
					i++
					continue top
				}
				end, err := jsonValueEnd(data, i)
				if err != nil {
					fail(i, err.Error())
					break top
				}
				history = append(history, data[i:end])
				offsets = append(offsets, int64(i))
				i = end
			}
		}
		end, err := jsonValueEnd(data, i)
		if err != nil {
			fail(i, err.Error())
			break
		}
		var v any
		d := json.NewDecoder(bytes.NewReader(data[i:end]))
		d.UseNumber()
		if d.Decode(&v) == nil {
			switch x := v.(type) {
			case json.Number:
				meta[key] = x.String()
			case string:
				meta[key] = x
			case bool:
				meta[key] = strconv.FormatBool(x)
			case nil:
			default:
				if b, err := json.Marshal(x); err == nil {
					meta[key] = string(b)
				}
			}
		}
		i = end
	}
	if !found {
		if truncated != "" {
			return nil, fmt.Errorf("%s:%d: %w: bad JSON before log_history: %s", name, lineAt(data, truncAt), ErrNotARun, truncated)
		}
		return nil, fmt.Errorf("%s: %w: JSON object has no log_history list (not a trainer_state.json)", name, ErrNotARun)
	}
	if truncated != "" || readErr != nil {
		msg := "file ends early or is malformed JSON (" + truncated + "); kept the rows before it"
		if readErr != nil {
			msg = readErrIssue(name, readErr)
		}
		if truncAt < 0 {
			truncAt = int64(len(data))
		}
		if err := t.issues.add(lineAt(data, truncAt), "", msg, false); err != nil {
			return nil, err
		}
	} else if j := skipWS(data, i); j < len(data) {
		if err := t.issues.add(lineAt(data, int64(j)), "", fmt.Sprintf("unexpected %s after the JSON object (two files pasted together?); ignored", quoteByte(data[j])), false); err != nil {
			return nil, err
		}
	}

	// Pick the length key once per file: the new name wins when both exist.
	lengthKey := ""
	for _, m := range history {
		if bytes.Contains(m, []byte(`"completions/mean_length"`)) {
			lengthKey = "completions/mean_length"
			break
		}
	}
	if lengthKey == "" {
		lengthKey = "completion_length"
	}

	lastStep := math.Inf(-1)
	for i, m := range history {
		line := lineAt(data, offsets[i])
		var obj map[string]any
		d := json.NewDecoder(bytes.NewReader(m))
		d.UseNumber()
		if err := d.Decode(&obj); err != nil || obj == nil {
			msg := "log_history entry is not a JSON object"
			if err != nil && len(m) > 0 && m[0] == '{' {
				msg = "log_history entry is not valid JSON: " + err.Error()
			}
			if err := t.issues.add(line, "", msg, true); err != nil {
				return nil, err
			}
			continue
		}
		if key, msg, fatal := trlBadValue(obj, "", lengthKey); msg != "" && fatal {
			if err := t.issues.add(line, key, msg, true); err != nil {
				return nil, err
			}
			continue
		}
		step, ok := jsonNumber(obj["step"])
		if _, has := obj["step"]; !has || !ok || math.IsNaN(step) || math.IsInf(step, 0) {
			// Old Trainer versions always log "step"; without it the row
			// cannot be placed. Use the next step after the last one.
			if math.IsInf(lastStep, -1) {
				step = 0
			} else {
				step = lastStep
			}
			if err := t.issues.add(line, "step", "missing or non-numeric step; merged into the previous step", false); err != nil {
				return nil, err
			}
		}
		lastStep = step
		row := t.row(step)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "step" {
				continue
			}
			if err := flattenTRL(t, row, line, k, obj[k], lengthKey); err != nil {
				return nil, err
			}
		}
	}
	run := t.run("trl", GrainStep)
	run.Source = name
	if len(meta) > 0 {
		run.Meta = meta
	}
	if err := applySourceMap(run, t.origin, opt.Map); err != nil {
		return nil, err
	}
	return run, nil
}

// trlBadValue finds the first value of a log_history entry (nested keys
// joined with "/") that is not finite, or a boolean for a canonical column;
// it returns its key, the problem ("" when every value is usable) and
// whether the column is canonical (the entry is then skipped).
func trlBadValue(obj map[string]any, prefix, lengthKey string) (string, string, bool) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		key := k
		if prefix != "" {
			key = prefix + "/" + k
		}
		col := trlColumn(key, lengthKey)
		switch v := obj[k].(type) {
		case map[string]any:
			if bk, msg, fatal := trlBadValue(v, key, lengthKey); msg != "" && fatal {
				return bk, msg, fatal
			}
		case nil:
		case bool:
			if msg := valueProblem(col, 0, true, strconv.FormatBool(v)); msg != "" {
				return key, msg, true
			}
		default:
			if f, ok := jsonNumber(v); ok && (math.IsNaN(f) || math.IsInf(f, 0)) && canonicalCol(col) {
				return key, valueProblem(col, f, false, fmt.Sprint(v)), true
			}
		}
	}
	return "", "", false
}

// skipWS returns the index of the first non-space byte of b at or after i.
func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// jsonValueEnd returns the end of the JSON value starting at b[i]: a
// string, a number or literal, or an object or array matched bracket by
// bracket (iteratively, so depth costs nothing). It checks only the
// framing; the value itself is validated when it is decoded.
func jsonValueEnd(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, errors.New("unexpected end of JSON input")
	}
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			i++
			for i < len(b) && b[i] != '"' {
				if b[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(b) {
				return i, errors.New("unexpected end of JSON input inside a string")
			}
			i++
		case '{', '[':
			depth++
			i++
		case '}', ']':
			if depth == 0 {
				return i, fmt.Errorf("unexpected %q", c)
			}
			depth--
			i++
		default:
			if depth == 0 {
				j := i
				for j < len(b) && !strings.ContainsRune(" \t\r\n,}]", rune(b[j])) {
					j++
				}
				if j == i {
					return i, fmt.Errorf("unexpected %q", c)
				}
				return j, nil
			}
			i++
		}
		if depth == 0 {
			return i, nil
		}
	}
	return i, errors.New("unexpected end of JSON input")
}

// flattenTRL stores one key (flattening nested objects with "/").
// A non-finite value of an extra column is reported and left missing (the
// caller has already skipped entries with one in a canonical column).
func flattenTRL(t *trainerTable, row, line int, key string, v any, lengthKey string) error {
	if obj, ok := v.(map[string]any); ok {
		subs := make([]string, 0, len(obj))
		for k := range obj {
			subs = append(subs, k)
		}
		sort.Strings(subs)
		for _, k := range subs {
			if err := flattenTRL(t, row, line, key+"/"+k, obj[k], lengthKey); err != nil {
				return err
			}
		}
		return nil
	}
	if v == nil {
		return nil
	}
	f, ok := jsonNumber(v)
	if !ok {
		// Strings and lists (e.g. logged completions) are not metrics.
		return nil
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return t.issues.addKept(line, key, valueProblem(key, f, false, fmt.Sprint(v))+" (left missing)")
	}
	t.put(row, trlColumn(key, lengthKey), key, f)
	return nil
}
