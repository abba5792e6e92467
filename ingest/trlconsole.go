package ingest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// The TRL console reader (format "trl-console"): what an HF Trainer / TRL
// trainer prints on stdout when it logs to the console: Python logging
// lines, progress bars (with carriage returns) and one Python dict per
// logging step,
//
//	{'loss': '0', 'grad_norm': '0.2218', 'completion_length': '256', 'reward': '0.125', 'epoch': '0.0005'}
//	{'loss': 0.0123, 'reward': 0.5, 'epoch': 0.01}
//
// with values as numbers or as quoted numbers (newer Trainers round them to
// strings), nan/inf, True/False and None. A dict may start mid-line after a
// progress bar. Each train dict is one row; an eval dict ({'eval_loss': ...})
// is merged into the row before it; the final {'train_runtime': ...}
// summary goes to Run.Meta. step is the dict's own 'step' when it has one,
// else the 1-based count of train dicts (the epoch is kept as extra.epoch).
// Keys map as in trainer_state.json (see the trl reader: reward, reward_std,
// rewards/<f> -> component.<f>, completion_length or completions/mean_length
// -> length, kl, entropy, eval_<m> -> eval.<m>, ...). Every other line is
// ignored. A dict that does not parse is an issue (file, line, and the key
// where it broke) and is skipped; a value that is not a number is an issue
// and left missing; a half-written last line (a live run) is dropped
// without an issue. Grain: step; kind: policy.

func init() {
	RegisterFormat(&Format{
		Name:     "trl-console",
		Doc:      "HF Trainer / TRL console output (one {'loss': ..., 'reward': ...} dict per step)",
		Priority: 52,
		Detect:   detectTRLConsole,
		Read:     readTRLConsole,
	})
}

// trlConsoleKeys are keys of which at least one must be in a dict for it
// to be a Trainer log line.
var trlConsoleKeys = []string{"loss", "reward", "learning_rate", "grad_norm", "train_runtime", "eval_loss", "epoch"}

func detectTRLConsole(head []byte, name string) bool {
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(t) > 0 && (t[0] == '{' && len(t) > 1 && t[1] == '"' || t[0] == '[') {
		return false // JSON, not Python
	}
	lines := bytes.Split(head, []byte{'\n'})
	if len(head) >= SniffSize && len(lines) > 1 {
		lines = lines[:len(lines)-1] // the last one may be cut by the sniff
	}
	for _, line := range lines {
		for _, seg := range bytes.Split(line, []byte{'\r'}) {
			d, ok := pyDictIn(seg)
			if !ok {
				continue
			}
			pairs, _, err := parsePyDict(d)
			if err != nil || len(pairs) == 0 {
				continue
			}
			for _, p := range pairs {
				for _, k := range trlConsoleKeys {
					if p.key == k {
						return true
					}
				}
			}
		}
	}
	return false
}

// pyDictIn returns the "{'...}" part of a console segment.
func pyDictIn(seg []byte) ([]byte, bool) {
	i := bytes.Index(seg, []byte("{'"))
	if i < 0 {
		return nil, false
	}
	d := bytes.TrimRight(seg[i:], " \t\r\n")
	if len(d) < 2 || d[len(d)-1] != '}' {
		return d, false
	}
	return d, true
}

type pyPair struct {
	key string
	val string // the value's text, unquoted
}

// parsePyDict parses a flat Python dict literal of string keys. On error it
// returns the key at which parsing broke ("" before the first key).
func parsePyDict(b []byte) ([]pyPair, string, error) {
	i := 0
	skip := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
	}
	str := func() (string, bool) {
		if i >= len(b) || (b[i] != '\'' && b[i] != '"') {
			return "", false
		}
		q := b[i]
		i++
		var s []byte
		for i < len(b) {
			c := b[i]
			if c == '\\' && i+1 < len(b) {
				s = append(s, b[i+1])
				i += 2
				continue
			}
			if c == q {
				i++
				return string(s), true
			}
			s = append(s, c)
			i++
		}
		return "", false
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, "", fmt.Errorf("not a dict")
	}
	i = 1
	var out []pyPair
	key := ""
	for {
		skip()
		if i < len(b) && b[i] == '}' && len(out) == 0 {
			i++
			break
		}
		k, ok := str()
		if !ok {
			return out, key, fmt.Errorf("expected a quoted key")
		}
		key = k
		skip()
		if i >= len(b) || b[i] != ':' {
			return out, key, fmt.Errorf("expected ':' after the key")
		}
		i++
		skip()
		var v string
		if i < len(b) && (b[i] == '\'' || b[i] == '"') {
			if v, ok = str(); !ok {
				return out, key, fmt.Errorf("unterminated string value")
			}
		} else {
			j := i
			for i < len(b) && b[i] != ',' && b[i] != '}' {
				if b[i] == '{' || b[i] == '[' || b[i] == '(' {
					return out, key, fmt.Errorf("nested value")
				}
				i++
			}
			v = strings.TrimSpace(string(b[j:i]))
			if v == "" {
				return out, key, fmt.Errorf("empty value")
			}
		}
		out = append(out, pyPair{key: k, val: v})
		skip()
		if i < len(b) && b[i] == ',' {
			i++
			continue
		}
		if i < len(b) && b[i] == '}' {
			i++
			break
		}
		return out, key, fmt.Errorf("expected ',' or '}'")
	}
	skip()
	if i != len(b) {
		return out, key, fmt.Errorf("text after the closing '}'")
	}
	return out, "", nil
}

// pyNumber reads a Python-printed value as a number: floats, nan, inf,
// True/False, None (missing), and np.float64(...)/tensor(...) wrappers.
func pyNumber(s string) (float64, bool) {
	switch strings.TrimSpace(s) {
	case "None":
		return math.NaN(), true
	case "nan", "NaN":
		return math.NaN(), true
	case "inf", "Infinity":
		return math.Inf(1), true
	case "-inf", "-Infinity":
		return math.Inf(-1), true
	}
	return parseVerlValue(s)
}

func readTRLConsole(r io.Reader, name string, opt Options) (*Run, error) {
	t := newTrainerTable(name, opt)
	meta := map[string]string{}
	br := bufio.NewReaderSize(r, 1<<20)
	type rec struct {
		line  int
		pairs []pyPair
		vals  []float64
	}
	var recs []rec
	lengthKey := "completion_length"
	lineNo := 0
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			lineNo++
			partial := err == io.EOF && !bytes.HasSuffix(line, []byte{'\n'})
			for _, seg := range bytes.Split(line, []byte{'\r'}) {
				d, closed := pyDictIn(seg)
				if d == nil {
					continue
				}
				if !closed && partial {
					continue // a live run's half-written last line
				}
				pairs, at, perr := parsePyDict(d)
				if !closed || perr != nil {
					if !looksTrainerDict(d) {
						continue // braces in a message, not a metrics dict
					}
					msg := "unreadable metrics dict"
					if perr != nil {
						msg += ": " + perr.Error()
					} else {
						msg += ": no closing '}'"
					}
					if e := t.issues.add(lineNo, at, msg, true); e != nil {
						return nil, e
					}
					continue
				}
				if !trainerDict(pairs) {
					continue
				}
				vals := make([]float64, len(pairs))
				summary := false
				for _, p := range pairs {
					summary = summary || p.key == "train_runtime"
				}
				for i, p := range pairs {
					if p.key == "completions/mean_length" {
						lengthKey = p.key
					}
					v, ok := pyNumber(p.val)
					if !ok {
						v = math.NaN()
						if !summary { // the summary goes to Run.Meta as text
							if e := t.issues.add(lineNo, p.key, fmt.Sprintf("value %q is not a number", clip(p.val, 40)), false); e != nil {
								return nil, e
							}
						}
					}
					vals[i] = v
				}
				recs = append(recs, rec{lineNo, pairs, vals})
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if e := t.issues.add(lineNo+1, "", "read error: "+err.Error(), false); e != nil {
				return nil, e
			}
			break
		}
	}
	if len(recs) == 0 && t.issues.skipped == 0 {
		return nil, fmt.Errorf("%s: %w: no Trainer metrics dicts ({'loss': ..., 'reward': ...}) found", name, ErrNotARun)
	}
	row, count := -1, 0
	for _, rc := range recs {
		kind := "train"
		for _, p := range rc.pairs {
			switch {
			case p.key == "train_runtime":
				kind = "summary"
			case strings.HasPrefix(p.key, "eval_") && kind == "train":
				kind = "eval"
			}
		}
		if kind == "summary" {
			for _, p := range rc.pairs {
				meta[p.key] = p.val
			}
			continue
		}
		// A non-finite value (nan, inf, 1e999) in one of goodhart's own
		// columns costs the record; in an extra column only that value,
		// left missing. Either way it is reported.
		bad := false
		for i, p := range rc.pairs {
			v := rc.vals[i]
			if p.key == "step" || !nonFiniteValue(v, p.val) || !canonicalCol(trlColumn(p.key, lengthKey)) {
				continue
			}
			if err := t.issues.add(rc.line, p.key, valueProblem(trlColumn(p.key, lengthKey), v, false, p.val), true); err != nil {
				return nil, err
			}
			bad = true
			break
		}
		if bad {
			continue
		}
		var step float64
		hasStep := false
		for _, p := range rc.pairs {
			if p.key == "step" {
				if v, ok := pyNumber(p.val); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
					step, hasStep = v, true
				}
			}
		}
		switch {
		case hasStep:
			row = t.row(step)
		case kind == "eval" && row >= 0:
			// merged into the train row before it
		default:
			count++
			row = t.row(float64(count))
		}
		if hasStep && kind == "train" {
			count++
		}
		for i, p := range rc.pairs {
			if p.key == "step" || math.IsNaN(rc.vals[i]) && !isNaNText(p.val) {
				continue
			}
			if nonFiniteValue(rc.vals[i], p.val) {
				msg := valueProblem(p.key, rc.vals[i], false, p.val) + " (left missing)"
				if err := t.issues.addKept(rc.line, p.key, msg); err != nil {
					return nil, err
				}
				continue
			}
			t.put(row, trlColumn(p.key, lengthKey), p.key, rc.vals[i])
		}
	}
	run := t.run("trl-console", GrainStep)
	run.Source = name
	sort.SliceStable(run.Issues, func(i, j int) bool { return run.Issues[i].Line < run.Issues[j].Line })
	if len(meta) > 0 {
		run.Meta = meta
	}
	if err := applySourceMap(run, t.origin, opt.Map); err != nil {
		return nil, err
	}
	return run, nil
}

// looksTrainerDict reports whether unparsable dict text names a key of
// trainerDict, so that a broken metrics line is reported while other
// braces in log messages are ignored.
func looksTrainerDict(d []byte) bool {
	if bytes.Contains(d, []byte("'eval_")) {
		return true
	}
	for _, k := range trlConsoleKeys {
		if bytes.Contains(d, []byte("'"+k+"':")) {
			return true
		}
	}
	return false
}

// nonFiniteValue reports whether v, read from text, is a NaN or infinity
// the log wrote as a value (nan, inf, 1e999), as opposed to None (missing).
func nonFiniteValue(v float64, text string) bool {
	if math.IsInf(v, 0) {
		return true
	}
	return math.IsNaN(v) && isNaNText(text) && strings.TrimSpace(text) != "None"
}

// isNaNText reports whether a value was written as a missing number.
func isNaNText(s string) bool {
	switch strings.TrimSpace(s) {
	case "nan", "NaN", "None":
		return true
	}
	return false
}

// trainerDict reports whether a parsed dict is a Trainer log entry (has one
// of the keys every Trainer log line carries, or an eval_ key).
func trainerDict(pairs []pyPair) bool {
	for _, p := range pairs {
		if strings.HasPrefix(p.key, "eval_") {
			return true
		}
		for _, k := range trlConsoleKeys {
			if p.key == k {
				return true
			}
		}
	}
	return false
}
