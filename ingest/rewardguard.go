package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The rewardguard training-log format: one block per
// episode,
//
//	Ep 12 | DEATH | reward=-42.5
//	=== EPISODE DATA ===
//	total_reward: -42.5
//	sources:
//	  food: 10.0
//	  death: -57.5
//	percentages:
//	  food: 14.8
//	  death: 85.2
//
// The header's episode number becomes `step`, its status the string column
// `extra.status`, and reward= (or total_reward:, which wins) `reward`. Each
// `sources:` line becomes `component.<key>`; `percentages:` lines are kept as
// `extra.percentages.<key>` (rewardguard recomputes shares itself, and so does
// goodhart). Other numeric `key: value` lines of the EPISODE DATA section are
// kept as `extra.<key>` (or the column --map names for them). A blank line
// ends a section. Text before the first header, and lines of a block outside
// any section, are ignored, as rewardguard does.
//
// Unlike rewardguard: a line that starts like a header ("Ep " and a "|") but
// does not parse is reported and its whole block dropped, never merged into
// the previous episode; a value that is not a finite number is reported and
// left missing; numbers may have a leading '+' and an exponent; keys may
// contain '-' and '.'. A block without any sources line is reported and
// skipped (rewardguard drops it silently).
func init() {
	RegisterFormat(&Format{
		Name:     "rewardguard",
		Doc:      "rewardguard training logs: 'Ep <N> | <STATUS> | reward=<x>' blocks with sources: lines",
		Priority: 50,
		Detect:   detectRewardguard,
		Read:     readRewardguard,
	})
}

// detectRewardguard reports whether any complete line of head is a valid
// rewardguard episode header.
func detectRewardguard(head []byte, _ string) bool {
	for len(head) > 0 {
		i := bytes.IndexByte(head, '\n')
		if i < 0 {
			// The last line may be cut by the sniff limit; judge it anyway,
			// a header is short.
			i = len(head)
		}
		line := strings.TrimSpace(string(head[:i]))
		if _, err := parseRGHeader(line); err == nil {
			return true
		}
		if i == len(head) {
			break
		}
		head = head[i+1:]
	}
	return false
}

type rgHeader struct {
	episode float64
	status  string
	reward  float64
}

// looksLikeRGHeader: "Ep" then whitespace, and a '|' somewhere.
func looksLikeRGHeader(line string) bool {
	if len(line) < 3 || line[0] != 'E' || line[1] != 'p' {
		return false
	}
	if line[2] != ' ' && line[2] != '\t' {
		return false
	}
	return strings.IndexByte(line, '|') > 0
}

// parseRGHeader parses `Ep <N> | <STATUS> | reward=<x>` (anything after the
// number, separated by a space or '|', is ignored, as in rewardguard).
func parseRGHeader(line string) (rgHeader, error) {
	var h rgHeader
	if !looksLikeRGHeader(line) {
		return h, fmt.Errorf("not a header")
	}
	parts := strings.SplitN(line[2:], "|", 3)
	if len(parts) < 3 {
		return h, fmt.Errorf("header needs 'Ep <N> | <STATUS> | reward=<x>'")
	}
	num := strings.TrimSpace(parts[0])
	n, err := strconv.ParseUint(num, 10, 63)
	if err != nil {
		return h, fmt.Errorf("episode number %q is not a whole number", num)
	}
	h.episode = float64(n)
	h.status = strings.TrimSpace(parts[1])
	if h.status == "" || !isRGWord(h.status) {
		return h, fmt.Errorf("status %q must be one word", h.status)
	}
	rest := strings.TrimLeft(parts[2], " \t")
	if !strings.HasPrefix(rest, "reward=") {
		return h, fmt.Errorf("expected reward=<x> after the status")
	}
	rest = rest[len("reward="):]
	end := strings.IndexAny(rest, " \t|")
	if end < 0 {
		end = len(rest)
	}
	v, err := parseRGNumber(rest[:end])
	if err != nil {
		return h, fmt.Errorf("reward=%q: %v", rest[:end], err)
	}
	h.reward = v
	return h, nil
}

func isRGWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func isRGKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '-' || c == '.' || c == '/' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// parseRGNumber accepts decimal numbers with an optional sign (including
// '+') and exponent. It rejects hex, inf and nan.
func parseRGNumber(s string) (float64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty value")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == '+' || c == '-' || c == 'e' || c == 'E') {
			return 0, fmt.Errorf("not a number")
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, fmt.Errorf("out of range")
		}
		return 0, fmt.Errorf("not a number")
	}
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("not a finite number")
	}
	return v, nil
}

// rgBuilder accumulates columns row by row.
type rgBuilder struct {
	num  map[string][]float64
	str  map[string][]string
	keys []string
}

func (b *rgBuilder) setNum(col string, row int, v float64) {
	if b.num == nil {
		b.num = map[string][]float64{}
	}
	c, ok := b.num[col]
	if !ok {
		b.keys = append(b.keys, col)
	}
	for len(c) < row {
		c = append(c, math.NaN())
	}
	if len(c) == row {
		c = append(c, v)
	} else {
		c[row] = v
	}
	b.num[col] = c
}

func (b *rgBuilder) setStr(col string, row int, v string) {
	if b.str == nil {
		b.str = map[string][]string{}
	}
	c, ok := b.str[col]
	if !ok {
		b.keys = append(b.keys, col)
	}
	for len(c) < row {
		c = append(c, "")
	}
	if len(c) == row {
		c = append(c, v)
	} else {
		c[row] = v
	}
	b.str[col] = c
}

// rgBlock is one episode being read.
type rgBlock struct {
	line    int // line of the header
	hdr     rgHeader
	total   float64
	hasTot  bool
	sources map[string]float64
	order   []string // source keys in log order
	extra   map[string]float64
	pct     map[string]float64
}

func readRewardguard(r io.Reader, name string, opt Options) (*Run, error) {
	run := &Run{Source: name, Format: "rewardguard", Grain: GrainEpisode}
	maxIssues := opt.maxIssues()
	var strictErr error
	report := func(line int, field, msg string, skipped bool) {
		is := Issue{File: name, Line: line, Field: field, Msg: msg, Kept: !skipped}
		if skipped {
			run.Skipped++
		} else {
			run.Kept++
		}
		if opt.Strict && strictErr == nil {
			strictErr = fmt.Errorf("%w: %s", ErrStrict, is.Error())
		}
		if len(run.Issues) < maxIssues {
			run.Issues = append(run.Issues, is)
		}
	}
	// rename: source key of the EPISODE DATA section -> column (from --map).
	rename := map[string]string{}
	for col, src := range opt.Map {
		rename[src] = col
	}

	var b rgBuilder
	rows := 0
	var cur *rgBlock
	dropping := false // inside a block whose header was malformed
	section := ""

	flush := func() {
		if cur == nil {
			return
		}
		blk := cur
		cur = nil
		if len(blk.sources) == 0 {
			report(blk.line, "sources", fmt.Sprintf("episode %d has no sources: lines; skipped", int64(blk.hdr.episode)), true)
			return
		}
		row := rows
		rows++
		b.setNum(ColStep, row, blk.hdr.episode)
		rew := blk.hdr.reward
		if blk.hasTot {
			rew = blk.total
		}
		b.setNum(ColReward, row, rew)
		b.setStr(ExtraPrefix+"status", row, blk.hdr.status)
		for _, k := range blk.order {
			b.setNum(ComponentPrefix+k, row, blk.sources[k])
		}
		for _, k := range rgSortedKeys(blk.extra) {
			col := ExtraPrefix + k
			if c, ok := rename[k]; ok {
				col = c
			}
			b.setNum(col, row, blk.extra[k])
		}
		for _, k := range rgSortedKeys(blk.pct) {
			b.setNum(ExtraPrefix+"percentages."+k, row, blk.pct[k])
		}
	}

	// truncated reports a stream that ends with a read error (a truncated
	// gzip): one issue, the episodes before it kept.
	endedBlank := false // the last line read was a complete blank line
	truncated := func(line int, err error) {
		if cur != nil && !endedBlank {
			// The episode being read when the stream broke may miss
			// lines (unless a blank line had ended it): it is not a
			// complete record.
			cur = nil
			run.Skipped++
		}
		is := Issue{File: name, Line: line, Msg: readErrIssue(name, err)}
		if opt.Strict && strictErr == nil {
			strictErr = fmt.Errorf("%w: %s", ErrStrict, is.Error())
		}
		if len(run.Issues) < maxIssues {
			run.Issues = append(run.Issues, is)
		}
	}
	br := bufio.NewReaderSize(r, 1<<16)
	lineNo := 0
	for {
		raw, err := br.ReadString('\n')
		if len(raw) == 0 && err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				// A truncated gzip stream: the episodes before it are
				// kept, and one issue says why the file ends early.
				truncated(lineNo+1, err)
				if strictErr != nil {
					return nil, strictErr
				}
				break
			}
			if err != io.EOF {
				return nil, fmt.Errorf("%s: line %d: %w", name, lineNo+1, err)
			}
			break
		}
		if lineNo == 0 {
			raw = strings.TrimPrefix(raw, "\ufeff")
		}
		lineNo++
		complete := strings.HasSuffix(raw, "\n")
		line := strings.TrimSpace(raw)
		endedBlank = complete && line == ""
		if looksLikeRGHeader(line) {
			flush()
			section = ""
			h, perr := parseRGHeader(line)
			if perr != nil {
				if complete || err == nil {
					report(lineNo, "header", "malformed episode header: "+perr.Error()+"; block dropped", true)
				}
				dropping = true
			} else {
				dropping = false
				cur = &rgBlock{line: lineNo, hdr: h}
			}
		} else if cur != nil && !dropping {
			switch {
			case line == "":
				section = ""
			case strings.HasPrefix(line, "=== EPISODE DATA ==="):
				section = "data"
			case strings.HasPrefix(line, "sources:") && strings.TrimSpace(line[len("sources:"):]) == "":
				section = "sources"
			case strings.HasPrefix(line, "percentages:") && strings.TrimSpace(line[len("percentages:"):]) == "":
				section = "percentages"
			case section != "":
				// A cut last line of a live log is not an error.
				quiet := !complete && err != nil
				readRGValue(cur, section, line, lineNo, quiet, report)
			}
		}
		if strictErr != nil {
			return nil, strictErr
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				truncated(lineNo, err)
				if strictErr != nil {
					return nil, strictErr
				}
				break
			}
			if err != io.EOF {
				return nil, fmt.Errorf("%s: line %d: %w", name, lineNo, err)
			}
			break
		}
	}
	flush()
	if strictErr != nil {
		return nil, strictErr
	}
	run.n = rows
	for _, k := range b.keys {
		if c, ok := b.num[k]; ok {
			run.SetColumn(k, c)
		} else {
			run.SetStringColumn(k, b.str[k])
		}
	}
	return run, nil
}

// readRGValue reads one "key: value" line of a section into blk.
func readRGValue(blk *rgBlock, section, line string, lineNo int, quiet bool, report func(int, string, string, bool)) {
	k, v, ok := strings.Cut(line, ":")
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	if !ok || !isRGKey(k) {
		if section == "sources" && !quiet {
			report(lineNo, "", fmt.Sprintf("expected 'name: value' under sources:, got %q", rgClip(line, 40)), false)
		}
		return
	}
	x, err := parseRGNumber(v)
	if err != nil {
		if section == "data" && k != "total_reward" {
			// Free-form episode data (e.g. "outcome: died") is not ours to judge.
			return
		}
		if !quiet {
			report(lineNo, k, fmt.Sprintf("value %q: %v; left missing", rgClip(v, 40), err), false)
		}
		return
	}
	switch section {
	case "data":
		if k == "total_reward" {
			blk.total, blk.hasTot = x, true
			return
		}
		if blk.extra == nil {
			blk.extra = map[string]float64{}
		}
		blk.extra[k] = x
	case "sources":
		if blk.sources == nil {
			blk.sources = map[string]float64{}
		}
		if _, dup := blk.sources[k]; dup {
			report(lineNo, k, "source given twice in one episode; kept the last value", false)
		} else {
			blk.order = append(blk.order, k)
		}
		blk.sources[k] = x
	case "percentages":
		if blk.pct == nil {
			blk.pct = map[string]float64{}
		}
		blk.pct[k] = x
	}
}

func rgClip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func rgSortedKeys(m map[string]float64) []string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
