package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// The Stable-Baselines3 Monitor reader (format "sb3-monitor"): monitor.csv
// as written by stable_baselines3.common.monitor.Monitor.
//
//	#{"t_start": 1708701891.7, "env_id": "Hopper-v4"}
//	r,l,t,success
//	9.46,11,1.03,False
//
// The #{json} first line goes to Run.Meta (t_start, env_id, ...); r ->
// reward, l -> length, t -> time (seconds since t_start); every info-keyword
// column -> extra.<name>, read as numbers with True/False as 1/0 (a column
// holding any other text is kept as a string column). One row per episode:
// grain episode. A row with a bad, non-finite or boolean r, l or t is
// reported and skipped; a non-finite info value is reported and left
// missing. A last line without its newline is reported and skipped (it may
// be cut mid-number); when Follow reads a live run it is dropped quietly.
// Options.Map renames by header name (--map reward=episode_energy).

func init() {
	RegisterFormat(&Format{
		Name:     "sb3-monitor",
		Doc:      "Stable-Baselines3 monitor.csv (#{json} line, then r,l,t[,info keywords])",
		Priority: 55,
		Detect:   detectSB3,
		Read:     readSB3,
	})
}

func detectSB3(head []byte, name string) bool {
	t := bytes.TrimLeft(head, "\ufeff")
	first, rest, _ := bytes.Cut(t, []byte{'\n'})
	if bytes.HasPrefix(first, []byte("#{")) {
		hdr, _, _ := bytes.Cut(rest, []byte{'\n'})
		return sb3Header(string(bytes.TrimSpace(hdr)))
	}
	return sb3Header(string(bytes.TrimSpace(first))) && bytes.HasPrefix(first, []byte("r,l,t"))
}

// sb3Header reports whether h is a monitor header: it has r, l and t.
func sb3Header(h string) bool {
	have := map[string]bool{}
	for _, f := range strings.Split(h, ",") {
		have[strings.TrimSpace(f)] = true
	}
	return have["r"] && have["l"] && have["t"]
}

// lastByteReader remembers the last byte read, so the reader can tell a
// half-written last line from a complete one.
type lastByteReader struct {
	r    io.Reader
	last byte
}

func (l *lastByteReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if n > 0 {
		l.last = p[n-1]
	}
	return n, err
}

func sb3Bool(s string) bool {
	switch s {
	case "True", "true", "False", "false":
		return true
	}
	return false
}

func parseSB3Float(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return math.NaN(), true
	case "True", "true":
		return 1, true
	case "False", "false":
		return 0, true
	case "nan", "NaN":
		return math.NaN(), true
	case "inf", "Infinity":
		return math.Inf(1), true
	case "-inf", "-Infinity":
		return math.Inf(-1), true
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

func readSB3(r io.Reader, name string, opt Options) (*Run, error) {
	lb := &lastByteReader{r: r}
	br := bufio.NewReaderSize(lb, 1<<20)
	issues := issueList{name: name, opt: opt}
	meta := map[string]string{}
	line := 0

	first, err := br.ReadString('\n')
	if err != nil && first == "" {
		return nil, fmt.Errorf("%s: %w: empty monitor file", name, ErrNotARun)
	}
	line++
	first = strings.TrimPrefix(first, "\ufeff")
	headerLine := first
	if strings.HasPrefix(first, "#") {
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(pyNonFiniteString(strings.TrimSpace(first[1:]))))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			if e := issues.add(line, "", "metadata line is not #{json}; ignored", false); e != nil {
				return nil, e
			}
		}
		for k, v := range m {
			switch x := v.(type) {
			case string:
				meta[k] = x
			case json.Number:
				meta[k] = x.String()
			case nil:
			default:
				b, _ := json.Marshal(x)
				meta[k] = string(b)
			}
		}
		headerLine, err = br.ReadString('\n')
		if err != nil && headerLine == "" {
			return nil, fmt.Errorf("%s:2: monitor file has no r,l,t header line", name)
		}
		line++
	}
	cr := csv.NewReader(strings.NewReader(headerLine))
	header, herr := cr.Read()
	if herr != nil || !sb3Header(strings.Join(header, ",")) {
		return nil, fmt.Errorf("%s:%d: %w: header %q lacks the r, l and t columns of an SB3 monitor file", name, line, ErrNotARun, clip(strings.TrimSpace(headerLine), 60))
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	hdrLine := line

	cr = csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	raw := make([][]string, len(header))
	var pendingErr *Issue
	lastAccepted := 0
	readErr := false // the input ended with a read error (truncated gzip)
	lastLn := hdrLine
	n := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if pendingErr != nil {
			// The previous bad record was not the last one: report it.
			if e := issues.add(pendingErr.Line, pendingErr.Field, pendingErr.Msg, true); e != nil {
				return nil, e
			}
			pendingErr = nil
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				// A read error (e.g. a truncated gzip stream): stop here.
				if e := issues.add(lastLn+1, "", readErrIssue(name, err), false); e != nil {
					return nil, e
				}
				readErr = true
				break
			}
			lastLn = pe.Line + hdrLine
			pendingErr = &Issue{Line: lastLn, Msg: "malformed CSV row: " + pe.Err.Error()}
			continue
		}
		ln, _ := cr.FieldPos(0)
		ln += hdrLine
		lastLn = ln
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != len(header) {
			pendingErr = &Issue{Line: ln, Msg: fmt.Sprintf("row has %d fields, header has %d", len(rec), len(header))}
			continue
		}
		bad := false
		var kept []Issue
		for i, h := range header {
			cell := strings.TrimSpace(rec[i])
			f, ok := parseSB3Float(cell)
			if h == "r" || h == "l" || h == "t" {
				msg := ""
				switch {
				case !ok || cell == "":
					msg = fmt.Sprintf("value %q is not a number", clip(rec[i], 40))
				case sb3Bool(cell):
					msg = valueProblem(h, f, true, cell)
				default:
					msg = valueProblem(h, f, false, cell)
				}
				if msg != "" {
					pendingErr = &Issue{Line: ln, Field: h, Msg: msg}
					bad = true
					break
				}
			} else if ok && cell != "" && (math.IsNaN(f) || math.IsInf(f, 0)) {
				kept = append(kept, Issue{Line: ln, Field: h, Msg: valueProblem(ExtraPrefix+h, f, false, cell) + " (left missing)", Kept: true})
				rec[i] = ""
			}
		}
		if bad {
			continue
		}
		for _, is := range kept {
			if e := issues.addKept(is.Line, is.Field, is.Msg); e != nil {
				return nil, e
			}
		}
		for i := range header {
			raw[i] = append(raw[i], rec[i])
		}
		n++
		lastAccepted = ln
	}
	if lb.last != '\n' && lb.last != 0 {
		// The file does not end with a newline: its last line may be cut
		// short (0.6658 written as 0.665). A live run's half-written last
		// episode (Follow) is dropped quietly; in a finished file it is
		// reported and skipped, never read with a wrong value.
		switch {
		case readErr && pendingErr == nil && lastAccepted == lastLn && n > 0:
			// Cut by the read error already reported: skipped, one issue.
			for i := range raw {
				raw[i] = raw[i][:n-1]
			}
			n--
			issues.skipped++
		case readErr && pendingErr != nil:
			issues.skipped++
			pendingErr = nil
		case pendingErr != nil && !opt.live:
			pendingErr.Msg = "incomplete last line (no newline at the end: the file is cut short): " + pendingErr.Msg
		case pendingErr == nil && lastAccepted == lastLn && n > 0:
			for i := range raw {
				raw[i] = raw[i][:n-1]
			}
			n--
			if !opt.live {
				pendingErr = &Issue{Line: lastLn, Msg: "incomplete last line (no newline at the end: the file is cut short)"}
			}
		}
		if opt.live {
			pendingErr = nil
		}
	}
	if pendingErr != nil {
		if e := issues.add(pendingErr.Line, pendingErr.Field, pendingErr.Msg, true); e != nil {
			return nil, e
		}
	}

	run := NewRun(n)
	run.Format = "sb3-monitor"
	run.Grain = GrainEpisode
	if len(meta) > 0 {
		run.Meta = meta
	}
	for i, h := range header {
		col := ExtraPrefix + h
		switch h {
		case "r":
			col = ColReward
		case "l":
			col = ColLength
		case "t":
			col = ColTime
		}
		if run.Has(col) {
			continue // a duplicated header name: keep the first
		}
		vals := make([]float64, n)
		numeric := true
		for j, s := range raw[i] {
			f, ok := parseSB3Float(s)
			if !ok {
				numeric = false
				break
			}
			vals[j] = f
		}
		if numeric {
			run.SetColumn(col, vals)
		} else {
			run.SetStringColumn(col, append([]string(nil), raw[i]...))
		}
	}
	run.Issues = issues.list
	run.Skipped = issues.skipped
	run.Kept = issues.kept
	run.Source = name
	origin := map[string]string{ColReward: "r", ColLength: "l", ColTime: "t"}
	if err := applySourceMap(run, origin, opt.Map); err != nil {
		return nil, err
	}
	return run, nil
}

func pyNonFiniteString(s string) string { return string(pyNonFinite([]byte(s))) }
