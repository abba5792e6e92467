package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// FollowOptions control Follow. The zero value auto-detects the format,
// polls every 500ms, decodes at most 1 MiB of new lines per batch and keeps
// following until the context is cancelled.
type FollowOptions struct {
	// Options are the reading options (format, mapping, grain, strict,
	// issue cap). With Strict, the first malformed record stops Follow with
	// an error wrapping ErrStrict.
	Options
	// Interval is how often the file is polled for growth (default 500ms).
	Interval time.Duration
	// ChunkBytes caps the bytes of complete lines decoded into one batch
	// (default 1 MiB); a long backlog is delivered as several batches.
	ChunkBytes int
	// MaxLine is the longest line kept while waiting for its newline
	// (default 16 MiB); a longer line is reported as an issue and dropped.
	MaxLine int
	// Once reads what the file holds now, including a last line without a
	// newline, and returns instead of following. A missing file is an error.
	Once bool
}

func (o FollowOptions) interval() time.Duration {
	if o.Interval <= 0 {
		return 500 * time.Millisecond
	}
	return o.Interval
}

func (o FollowOptions) chunkBytes() int {
	if o.ChunkBytes <= 0 {
		return 1 << 20
	}
	return o.ChunkBytes
}

func (o FollowOptions) maxLine() int {
	if o.MaxLine <= 0 {
		return 16 << 20
	}
	return o.MaxLine
}

// FollowEventKind says what a FollowEvent carries.
type FollowEventKind int

const (
	// FollowRecords: Run holds the records that are new since the last
	// event, in file order.
	FollowRecords FollowEventKind = iota
	// FollowNotice: Msg is a one-line message for the user (the file is
	// missing, empty, or its format cannot be told yet).
	FollowNotice
	// FollowReset: the file was truncated or replaced. Forget every record
	// seen so far; the records that follow start again from the file's
	// first record. Msg says what happened.
	FollowReset
	// FollowIdle: everything the file holds has been delivered. It is sent
	// once each time the follower catches up with the writer.
	FollowIdle
)

func (k FollowEventKind) String() string {
	switch k {
	case FollowRecords:
		return "records"
	case FollowNotice:
		return "notice"
	case FollowReset:
		return "reset"
	case FollowIdle:
		return "idle"
	}
	return fmt.Sprintf("FollowEventKind(%d)", int(k))
}

// FollowEvent is one thing Follow reports to its callback.
type FollowEvent struct {
	Kind FollowEventKind
	// Run holds the new records (FollowRecords only). Its Issues and
	// Skipped cover the lines of this batch only, with line numbers of the
	// whole file. Format and Grain are those of the followed file.
	Run *Run
	// First is the 0-based index, among the records delivered since the
	// start or the last reset, of Run's first row.
	First int
	// Msg is the message of a notice or reset.
	Msg string
	// Offset is how many bytes of the file have been read so far (FollowIdle
	// and FollowRecords), for progress displays.
	Offset int64
}

// Framing is how Follow cuts a growing file into decodable pieces.
type Framing int

const (
	// FrameWhole: the file is re-read whole whenever its size or
	// modification time changes, and the rows past those already delivered
	// are new. Used for Parquet, TensorBoard event files, trainer_state.json,
	// gzip- or zstd-compressed files and any format not listed below. Such files are
	// small (or rewritten whole by the trainer), so this is cheap enough.
	FrameWhole Framing = iota
	// FrameLines: every complete line stands alone (rewardspy and generic
	// JSONL, verl console logs and verl's JSONL).
	FrameLines
	// FrameHeader: lines after a header (CSV: the first line; SB3
	// monitor.csv: the #{json} line and the column line).
	FrameHeader
	// FrameBlocks: records span several lines and start with a header line
	// (rewardguard's "Ep N | STATUS | reward=x" blocks). The last block is
	// held back until the next one starts, since more of its lines may come.
	FrameBlocks
)

func (f Framing) String() string {
	return [...]string{"whole file", "lines", "lines after a header", "blocks"}[f]
}

// FramingFor returns how Follow reads a growing file of the named format.
func FramingFor(format string) Framing {
	switch {
	case format == "rewardguard":
		return FrameBlocks
	case strings.HasPrefix(format, "sb3"), format == "csv":
		return FrameHeader
	case strings.Contains(format, "jsonl"), strings.HasPrefix(format, "verl"):
		return FrameLines
	}
	return FrameWhole
}

var blockStart = regexp.MustCompile(`^\s*Ep\s+[+-]?\d+\s*\|`)

// ErrFollowStopped is returned by Follow when the callback asks to stop by
// returning it (a normal end, not a failure).
var ErrFollowStopped = errors.New("follow stopped")

// Follow reads the file at path as it grows and hands new records to fn,
// batch by batch, until ctx is done (then it returns nil), fn returns an
// error (ErrFollowStopped returns nil, anything else is returned), or, with
// opt.Once, the end of the file is reached.
//
// A folder is followed through the one file its run is read from (see
// ResolvePath); a folder with several runs, or whose run is merged from
// several files or is an MLflow run, is an error.
//
// Tailing rules:
//   - a last line without its newline waits for it (with Once it is read);
//   - a file that shrinks, or whose path now names another file (log
//     rotation), is read again from its start after a FollowReset event;
//   - a missing or empty file is waited for, with one FollowNotice;
//   - malformed lines are reported in the batch's Run.Issues and counted in
//     Run.Skipped, never fatal unless opt.Strict.
//
// The format is detected from the first complete lines (or forced with
// opt.Format) and fixed until a reset; see FramingFor for how each format is
// cut. Memory is bounded by the chunk size and the longest line, not by the
// file's length: only the undelivered tail is held.
//
// Truncation is seen as the size dropping below what was read: a file
// truncated and refilled past its old size between two polls (copytruncate
// followed by a burst of writes) reads as growth.
func Follow(ctx context.Context, path string, opt FollowOptions, fn func(FollowEvent) error) error {
	if path == StdinName {
		return fmt.Errorf("cannot follow standard input (-): give the log file's path")
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		f, err := followFile(path)
		if err != nil {
			return err
		}
		path = f
	}
	t := &tailer{path: path, opt: opt, fn: fn}
	err := t.loop(ctx)
	if t.f != nil {
		t.f.Close()
	}
	if errors.Is(err, ErrFollowStopped) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// followFile returns the one file to follow for a folder (see
// ResolvePath): its run must be read from a single file (not an MLflow run,
// not several merged files).
func followFile(dir string) (string, error) {
	srcs, err := ResolvePath(dir)
	if err != nil {
		return "", err
	}
	if len(srcs) > 1 {
		var names []string
		for _, s := range srcs {
			names = append(names, s.Name)
		}
		if len(names) > 5 {
			names = append(names[:5:5], "...")
		}
		return "", fmt.Errorf("%s %w (%d); follow one of them: %s", dir, ErrSeveralRuns, len(srcs), strings.Join(names, ", "))
	}
	s := srcs[0]
	if s.Kind == "mlflow" || len(s.Files) != 1 {
		return "", fmt.Errorf("%s: this %s run is read from several files; follow works on one log file (reading it without --follow works)", dir, s.Kind)
	}
	return s.Files[0], nil
}

type tailer struct {
	path string
	opt  FollowOptions
	fn   func(FollowEvent) error

	f       *os.File
	info    os.FileInfo // of the open file, at the last read
	format  *Format
	framing Framing
	grain   Grain

	offset    int64  // bytes consumed from the open file
	pending   []byte // bytes read but not yet decoded (an unfinished line or block)
	pendLine  int    // file line number of pending's first line (1-based)
	header    []byte // FrameHeader: the header lines prepended to each chunk
	headLines int    // number of lines in header
	skipping  bool   // dropping the rest of an over-long line

	limit     int64 // Once: the size at the first read
	delivered int   // records delivered since the start or the last reset
	idle      bool  // FollowIdle sent since the last delivery
	noticed   string

	wholeRead    bool
	wholeSize    int64
	wholeMtime   time.Time
	wholeSkipped int // Run.Skipped at the last whole read
	wholeIssues  int // len(Run.Issues) at the last whole read
	wholeKept    int // Run.Kept at the last whole read
}

func (t *tailer) emit(ev FollowEvent) error {
	if ev.Kind == FollowIdle || ev.Kind == FollowRecords {
		ev.Offset = t.offset
		if t.framing == FrameWhole {
			ev.Offset = max(t.wholeSize, 0)
		}
	}
	return t.fn(ev)
}

// notice sends msg once (repeats of the same message are dropped).
func (t *tailer) notice(msg string) error {
	if msg == t.noticed {
		return nil
	}
	t.noticed = msg
	return t.emit(FollowEvent{Kind: FollowNotice, Msg: msg})
}

func (t *tailer) loop(ctx context.Context) error {
	tick := time.NewTicker(t.opt.interval())
	defer tick.Stop()
	for {
		if err := ctx.Err(); err != nil {
			return nil
		}
		progressed, err := t.poll(ctx)
		if err != nil {
			return err
		}
		if t.opt.Once {
			if progressed {
				continue
			}
			if t.framing != FrameWhole {
				if err := t.flushFinal(); err != nil {
					return err
				}
			}
			return t.emit(FollowEvent{Kind: FollowIdle})
		}
		if progressed {
			t.idle = false
			continue // drain a backlog without sleeping
		}
		if !t.idle && t.format != nil {
			t.idle = true
			if err := t.emit(FollowEvent{Kind: FollowIdle}); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// poll does one step of work and reports whether it read anything new.
func (t *tailer) poll(ctx context.Context) (bool, error) {
	st, err := os.Stat(t.path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("%s: %w", t.path, err)
		}
		if t.opt.Once {
			return false, fmt.Errorf("%s: %w", t.path, err)
		}
		if t.f == nil && t.format == nil {
			return false, t.notice(fmt.Sprintf("waiting for %s to appear", t.path))
		}
		return false, t.notice(fmt.Sprintf("%s was removed: waiting for it to come back", t.path))
	}
	if st.IsDir() {
		return false, fmt.Errorf("%s is a directory, not a run", t.path)
	}
	if t.f != nil && !os.SameFile(t.info, st) {
		if err := t.reset(fmt.Sprintf("%s was replaced by a new file: reading it from the start", t.path)); err != nil {
			return false, err
		}
	}
	if t.f == nil {
		f, err := os.Open(t.path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return false, nil // raced with a rename; next poll
			}
			return false, fmt.Errorf("%s: %w", t.path, err)
		}
		t.f = f
		if t.info, err = f.Stat(); err != nil {
			return false, fmt.Errorf("%s: %w", t.path, err)
		}
		st = t.info
	}
	if t.format == nil {
		ok, err := t.detect(st.Size())
		if err != nil || !ok {
			return false, err
		}
	}
	if t.framing == FrameWhole {
		return t.pollWhole(st)
	}
	if st.Size() < t.offset {
		if err := t.reset(fmt.Sprintf("%s was truncated: reading it again from the start", t.path)); err != nil {
			return false, err
		}
		return true, nil
	}
	size := st.Size()
	if t.opt.Once {
		if t.limit == 0 {
			t.limit = size // read what the file holds now, then stop
		}
		size = min(size, t.limit)
	}
	if size == t.offset {
		return false, nil
	}
	return true, t.readChunk(size)
}

// reset closes the file and forgets everything read from it.
func (t *tailer) reset(msg string) error {
	if t.f != nil {
		t.f.Close()
	}
	*t = tailer{path: t.path, opt: t.opt, fn: t.fn}
	return t.emit(FollowEvent{Kind: FollowReset, Msg: msg})
}

// detect picks the format from the file's first bytes. It returns false
// (and no error) when there is not enough to tell yet.
func (t *tailer) detect(size int64) (bool, error) {
	if size == 0 {
		if t.opt.Once {
			t.setFormat(nil, FrameLines)
			return true, nil
		}
		return false, t.notice(fmt.Sprintf("%s is empty: waiting for records", t.path))
	}
	n := min(size, SniffSize)
	head := make([]byte, n)
	if _, err := t.f.ReadAt(head, 0); err != nil && err != io.EOF {
		return false, fmt.Errorf("%s: %w", t.path, err)
	}
	if compressionOf(head) != "" {
		f, err := t.lookup(sniffHead(head))
		if err != nil {
			return false, err
		}
		t.setFormat(f, FrameWhole)
		return true, nil
	}
	complete := head
	if !t.opt.Once && size <= SniffSize {
		// Line formats are sniffed on complete lines only, while the writer
		// may be mid-line; a file read whole (JSON, binary) on all of it.
		i := bytes.LastIndexByte(head, '\n')
		complete = head[:i+1]
		if f, err := t.lookup(head); err == nil && FramingFor(f.Name) == FrameWhole {
			t.setFormat(f, FrameWhole)
			return true, nil
		}
		if i < 0 {
			return false, nil
		}
	}
	f, err := t.lookup(complete)
	if err != nil {
		// A live log may start with lines of no format (a trainer's start-up
		// output): wait for more, unless the bytes are binary.
		if !t.opt.Once && !errors.Is(err, ErrUnknownFormat) && bytes.IndexByte(head, 0) < 0 {
			return false, t.notice(fmt.Sprintf("cannot tell the format of %s yet: waiting for more lines (or use --input-format)", t.path))
		}
		return false, err
	}
	t.setFormat(f, FramingFor(f.Name))
	return true, nil
}

func (t *tailer) lookup(head []byte) (*Format, error) {
	if t.opt.Format != "" {
		return LookupFormat(t.opt.Format)
	}
	return detect(head, t.path)
}

func (t *tailer) setFormat(f *Format, fr Framing) {
	t.format, t.framing = f, fr
	if f == nil {
		t.format = &Format{Name: "rewardspy-jsonl"} // empty file under Once
	}
	t.pendLine = 1
	t.noticed = ""
}

// pollWhole re-reads a FrameWhole file when it changed and delivers the rows
// past those already delivered.
func (t *tailer) pollWhole(st os.FileInfo) (bool, error) {
	if t.wholeRead && st.Size() == t.wholeSize && st.ModTime().Equal(t.wholeMtime) {
		return false, nil
	}
	run, err := ReadFile(t.path, t.readOptions())
	if err != nil {
		if t.opt.Once || errors.Is(err, ErrStrict) {
			return false, err
		}
		// A file rewritten in place can be caught half-written: try again.
		return false, t.notice(fmt.Sprintf("cannot read %s yet (%v): retrying", t.path, err))
	}
	t.noticed = ""
	t.wholeRead, t.wholeSize, t.wholeMtime = true, st.Size(), st.ModTime()
	if run.Len() < t.delivered {
		t.delivered, t.wholeSkipped, t.wholeIssues, t.wholeKept = 0, 0, 0, 0
		if err := t.emit(FollowEvent{Kind: FollowReset, Msg: fmt.Sprintf("%s now has fewer records than before: reading it again from the start", t.path)}); err != nil {
			return false, err
		}
	}
	if run.Len() == t.delivered && run.Skipped <= t.wholeSkipped && run.Kept <= t.wholeKept {
		return false, nil
	}
	// Only what is new: the rows past those delivered, and the issues
	// beyond those already reported.
	batch := run.Slice(t.delivered, run.Len())
	batch.Skipped = max(run.Skipped-t.wholeSkipped, 0)
	batch.Kept = max(run.Kept-t.wholeKept, 0)
	batch.Issues = run.Issues[min(t.wholeIssues, len(run.Issues)):]
	first := t.delivered
	t.delivered, t.wholeSkipped, t.wholeIssues = run.Len(), run.Skipped, len(run.Issues)
	t.wholeKept = run.Kept
	return true, t.emit(FollowEvent{Kind: FollowRecords, Run: batch, First: first})
}

func (t *tailer) readOptions() Options {
	o := t.opt.Options
	o.live = !t.opt.Once // Once reads a finished file: a cut last record is reported
	if t.format != nil && t.format.Read != nil {
		o.Format = t.format.Name
	}
	return o
}

// readChunk reads up to ChunkBytes new bytes and decodes the complete
// lines (or blocks) among them.
func (t *tailer) readChunk(size int64) error {
	want := int(min(size-t.offset, int64(t.opt.chunkBytes())))
	start := len(t.pending)
	t.pending = slices.Grow(t.pending, want)[:start+want]
	n, err := t.f.ReadAt(t.pending[start:], t.offset)
	t.pending = t.pending[:start+n]
	t.offset += int64(n)
	if err != nil && err != io.EOF {
		return fmt.Errorf("%s: %w", t.path, err)
	}
	if t.skipping {
		i := bytes.IndexByte(t.pending, '\n')
		if i < 0 {
			t.pending = t.pending[:0]
			return nil
		}
		t.pending = t.pending[i+1:]
		t.pendLine++
		t.skipping = false
	}
	cut := t.cut(false)
	if cut == 0 && len(t.pending) > t.opt.maxLine() {
		iss := Issue{File: t.path, Line: t.pendLine, Msg: fmt.Sprintf("line longer than %d bytes: skipped", t.opt.maxLine())}
		if t.opt.Strict {
			return fmt.Errorf("%w: %v", ErrStrict, iss)
		}
		run := &Run{Source: t.path, Format: t.format.Name, Grain: t.grain, Issues: []Issue{iss}, Skipped: 1}
		t.pending, t.skipping = t.pending[:0], true
		return t.emit(FollowEvent{Kind: FollowRecords, Run: run, First: t.delivered})
	}
	return t.decodeUpTo(cut)
}

// cut returns how many leading bytes of pending are complete pieces. At the
// end of a finished file (final) everything is complete.
func (t *tailer) cut(final bool) int {
	if final {
		return len(t.pending)
	}
	i := bytes.LastIndexByte(t.pending, '\n')
	if i < 0 {
		return 0
	}
	end := i + 1
	if t.framing != FrameBlocks {
		return end
	}
	// Hold back the last block: cut just before the last block header line
	// among the complete lines. Text with no header at all is delivered
	// (the reader skips it). A started header after the last newline ends
	// the block before it.
	if blockStart.Match(t.pending[end:]) {
		return end
	}
	for pos := end; pos > 0; {
		s := bytes.LastIndexByte(t.pending[:pos-1], '\n') + 1
		if blockStart.Match(t.pending[s:pos]) {
			return s
		}
		pos = s
	}
	return end
}

// flushFinal decodes whatever is pending (Once: the file is complete).
func (t *tailer) flushFinal() error {
	if t.skipping {
		t.pending = t.pending[:0]
	}
	return t.decodeUpTo(t.cut(true))
}

// decodeUpTo decodes pending[:n] and keeps the rest pending.
func (t *tailer) decodeUpTo(n int) error {
	if n == 0 {
		return nil
	}
	chunk := t.pending[:n]
	lines := bytes.Count(chunk, []byte{'\n'})
	if n > 0 && chunk[n-1] != '\n' {
		lines++
	}
	firstLine := t.pendLine
	if t.framing == FrameHeader && t.header == nil {
		h, hl := headerOf(chunk, t.format.Name)
		if h == nil {
			return nil // header not complete yet
		}
		t.header, t.headLines = append([]byte(nil), h...), hl
		chunk = chunk[len(h):]
		firstLine += hl
	}
	var buf []byte
	if t.framing == FrameHeader {
		buf = make([]byte, 0, len(t.header)+len(chunk))
		buf = append(append(buf, t.header...), chunk...)
	} else {
		buf = chunk
	}
	err := t.decode(buf, firstLine)
	t.pendLine += lines
	rest := copy(t.pending, t.pending[n:])
	t.pending = t.pending[:rest]
	return err
}

// headerOf returns the header lines at the start of a FrameHeader file and
// how many there are, or nil when they are not complete yet.
func headerOf(b []byte, format string) ([]byte, int) {
	end, lines := 0, 0
	for end < len(b) {
		i := bytes.IndexByte(b[end:], '\n')
		if i < 0 {
			return nil, 0
		}
		line := b[end : end+i+1]
		end += i + 1
		lines++
		if strings.HasPrefix(format, "sb3") && bytes.HasPrefix(line, []byte("#")) {
			continue // SB3 monitor: the #{json} metadata line
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		return b[:end], lines
	}
	return nil, 0
}

// decode reads buf (one chunk of complete lines, after the header for
// FrameHeader) and emits its records. firstLine is the file line number of
// the chunk's first line after any header.
func (t *tailer) decode(buf []byte, firstLine int) error {
	if t.format.Read == nil {
		return nil // empty file under Once
	}
	o := t.opt.Options
	o.live = !t.opt.Once
	o.chunk = true // readers return a chunk's issues even when no record in it is valid
	run, err := t.format.Read(bytes.NewReader(buf), t.path, o)
	shift := firstLine - 1 - t.headLines
	if err != nil {
		var iss Issue
		if errors.As(err, &iss) {
			iss.Line += shift
			return fmt.Errorf("%w: %v", ErrStrict, iss)
		}
		if errors.Is(err, ErrStrict) {
			return err
		}
		if errors.Is(err, ErrNotARun) {
			// Lines with no record at all (a console log's progress bars
			// and prompts): nothing to deliver, nothing malformed.
			return nil
		}
		iss = Issue{File: t.path, Line: firstLine, Msg: fmt.Sprintf("could not be read: %v", err)}
		run = &Run{Issues: []Issue{iss}, Skipped: 1}
	}
	for i := range run.Issues {
		if run.Issues[i].Line > 0 {
			run.Issues[i].Line += shift
		}
		run.Issues[i].File = t.path
	}
	run.Source = t.path
	if run.Format == "" {
		run.Format = t.format.Name
	}
	WellKnown(run, o) // as Read does: well-known reward and column keys
	if t.opt.Grain != "" {
		run.Grain = t.opt.Grain
	}
	if t.grain == "" && run.Len() > 0 {
		t.grain = run.Grain
	}
	if t.grain != "" {
		run.Grain = t.grain
	}
	if run.Len() == 0 && len(run.Issues) == 0 && run.Skipped == 0 {
		return nil
	}
	first := t.delivered
	t.delivered += run.Len()
	return t.emit(FollowEvent{Kind: FollowRecords, Run: run, First: first})
}
