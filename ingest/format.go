package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Options control how a run is read. The zero value auto-detects the format,
// infers the grain, keeps the first 100 issues and skips bad records.
type Options struct {
	// Format forces a format by name (see Formats); "" auto-detects.
	Format string
	// Map renames source keys to canonical columns: Map["reward"] =
	// "train_reward" reads the source key train_reward as the reward column.
	// Nested keys are addressed with "/" ("metrics/reward").
	Map map[string]string
	// Grain overrides the inferred grain ("" = infer).
	Grain Grain
	// Strict makes the first malformed record fatal (an error wrapping
	// ErrStrict and the Issue).
	Strict bool
	// MaxIssues caps Run.Issues (default 100); Run.Skipped still counts all.
	MaxIssues int
	// SkipColumn, when set, lets a reader leave out columns the caller does
	// not need: a string column or an extra.* column whose Run name (after
	// Map: "call_id", "extra.tag") makes SkipColumn return true may be
	// missing from the Run. Everything else about the run stays as without
	// it (rows, values, grain, merging of rows of one step, Skipped), but
	// issues about a skipped column's values are neither reported nor
	// counted in Kept. Numeric columns other than extra.* are always read,
	// since a bad value there drops its row. Readers that honour it:
	// Parquet (the column is not decoded) and rewardspy JSONL (call_id and
	// extra.* values are checked but not stored: a call_id that is not a
	// string still drops its record). Generic JSONL and the other readers
	// read every column, since grain inference and the merging of rows of
	// one step look at all of them.
	SkipColumn func(name string) bool

	// live: the input is a live log read by Follow (not Once), whose last
	// line may be half written; a cut last line is then dropped without an
	// issue.
	live bool
	// chunk: the input is one chunk of a file read by Follow: a chunk with
	// no valid record is not "not a run" but a batch of issues.
	chunk bool

	// src is the uncompressed input file when Read was given one (set by
	// Read, not by callers): line readers use its size to allocate their
	// columns once (see readJSONL).
	src    *os.File
	srcOff int64
}

func (o Options) maxIssues() int {
	if o.MaxIssues <= 0 {
		return 100
	}
	return o.MaxIssues
}

// Format is one input format a reader understands.
type Format struct {
	Name string // e.g. "rewardspy-jsonl", "csv", "parquet", "trl", "verl"
	Doc  string // one line for --help
	// Priority orders detection: higher is tried first. Specific formats
	// (trl, verl, sb3-monitor) use 50+, generic ones (jsonl, csv) 10.
	Priority int
	// Detect looks at the first bytes of the (decompressed) input, at most
	// SniffSize, and the file name; it must not panic on any input.
	Detect func(head []byte, name string) bool
	// Read reads the whole stream into a Run. name is used in Issues.
	Read func(r io.Reader, name string, opt Options) (*Run, error)
}

// SniffSize is how many leading bytes Detect sees.
const SniffSize = 64 << 10

var formats []*Format

// RegisterFormat adds a format. Call it from an init function.
func RegisterFormat(f *Format) {
	formats = append(formats, f)
	sort.SliceStable(formats, func(i, j int) bool { return formats[i].Priority > formats[j].Priority })
}

// Formats returns the registered formats, most specific first.
func Formats() []*Format { return append([]*Format(nil), formats...) }

// LookupFormat returns the format with that name.
func LookupFormat(name string) (*Format, error) {
	for _, f := range formats {
		if f.Name == name {
			return f, nil
		}
	}
	var names []string
	for _, f := range formats {
		names = append(names, f.Name)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownFormat, name, strings.Join(names, ", "))
}

// StdinName is the path that means standard input ("-"), and StdinLabel
// the name issues and Run.Source give it.
const (
	StdinName  = "-"
	StdinLabel = "stdin"
)

// ReadFile reads a run from path, decompressing it when it starts with the
// gzip (1F 8B) or Zstandard (28 B5 2F FD) magic bytes, and picking the format by content unless opt.Format is set.
// The path "-" reads standard input (issues then say "stdin:LINE"). A folder
// is read as ReadPath reads it (the one run it holds); a file that is part
// of a folder run (a W&B run's output.log or config.yaml, an MLflow run's
// metrics/<key>) is an ErrNotARun error that names the folder to read
// instead.
func ReadFile(path string, opt Options) (*Run, error) {
	if path == StdinName {
		return Read(os.Stdin, StdinLabel, opt)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		run, _, err := ReadPath(path, opt)
		return run, err
	}
	if err := partOfFolderRun(path); err != nil {
		return nil, err
	}
	return readOneFile(path, opt)
}

// readOneFile is ReadFile for a plain file.
func readOneFile(path string, opt Options) (*Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path, opt)
}

// Read reads a run from r; name labels issues and Run.Source. Input that
// starts with gzip or Zstandard magic bytes is decompressed (in a goroutine
// ahead of the parser). A truncated compressed stream, or bytes after its
// end that are not more compressed data, keeps every complete record before
// the cut and adds one issue (an error under Strict).
func Read(r io.Reader, name string, opt Options) (*Run, error) {
	br, f, opt, stop, err := openInput(r, name, opt)
	if err != nil {
		return nil, err
	}
	defer stop()
	return readFormat(f, br, name, opt)
}

// openInput is the start of Read: it decompresses r when it starts with
// gzip or Zstandard magic bytes and picks the format (opt.Format, or
// detection on the first SniffSize bytes). stop ends the decompressor.
func openInput(r io.Reader, name string, opt Options) (br *bufio.Reader, f *Format, _ Options, stop func(), err error) {
	br = bufio.NewReaderSize(r, 1<<20)
	if f, ok := r.(*os.File); ok {
		if off, err := f.Seek(0, io.SeekCurrent); err == nil {
			opt.src, opt.srcOff = f, off
		}
	}
	zr, kind, stop, err := decompress(br, name)
	if err != nil {
		return nil, nil, opt, nil, err
	}
	if kind != "" {
		opt.src = nil
		br = bufio.NewReaderSize(zr, 1<<20)
	}
	if opt.Format != "" {
		if f, err = LookupFormat(opt.Format); err != nil {
			stop()
			return nil, nil, opt, nil, err
		}
		return br, f, opt, stop, nil
	}
	head, err := br.Peek(SniffSize)
	// A truncated gzip stream shorter than SniffSize is detected on
	// what it holds; the reader then meets the same error and keeps
	// every complete record with one issue, as for a longer one.
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull && !errors.Is(err, io.ErrUnexpectedEOF) {
		stop()
		return nil, nil, opt, nil, fmt.Errorf("%s: %w", name, err)
	}
	if f, err = detect(head, name); err != nil {
		stop()
		return nil, nil, opt, nil, err
	}
	return br, f, opt, stop, nil
}

// readFormat is the rest of Read: the format's reader and the rules every
// run gets (Source, Format, WellKnown, the --grain override).
func readFormat(f *Format, br *bufio.Reader, name string, opt Options) (*Run, error) {
	run, err := f.Read(br, name, opt)
	if err != nil {
		return nil, err
	}
	if run.Source == "" {
		run.Source = name
	}
	if run.Format == "" {
		run.Format = f.Name
	}
	WellKnown(run, opt)
	if opt.Grain != "" {
		run.Grain = opt.Grain
	}
	return run, nil
}

// Detect names the format of head (the first SniffSize bytes of an input).
func Detect(head []byte, name string) (string, error) {
	f, err := detect(head, name)
	if err != nil {
		return "", err
	}
	return f.Name, nil
}

func detect(head []byte, name string) (*Format, error) {
	if len(bytes.TrimSpace(head)) == 0 {
		// An empty file is an empty run of the most generic line format,
		// so that "no records" is a verdict, not an error.
		for _, f := range formats {
			if f.Name == "rewardspy-jsonl" {
				return f, nil
			}
		}
	}
	for _, f := range formats {
		if f.Detect != nil && safeDetect(f, head, name) {
			return f, nil
		}
	}
	return nil, fmt.Errorf("%s: %w: no known format matches its first bytes (use --input-format; known: %s)",
		name, ErrNotARun, formatNames())
}

func safeDetect(f *Format, head []byte, name string) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return f.Detect(head, name)
}

func formatNames() string {
	var names []string
	for _, f := range formats {
		names = append(names, f.Name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// Writer writes a whole run in one output format (csv, jsonl, parquet,
// tfevents). Register writers from init functions; `reportgen export`
// looks them up by name or by the output file's extension.
type Writer struct {
	Name  string   // "csv", "jsonl", "parquet", "tfevents"
	Exts  []string // file name endings that select it, e.g. ".csv", ".parquet"
	Write func(w io.Writer, run *Run) error
}

var writers []*Writer

// RegisterWriter adds an output format.
func RegisterWriter(w *Writer) { writers = append(writers, w) }

// Writers returns the registered output formats in registration order.
func Writers() []*Writer { return append([]*Writer(nil), writers...) }

// LookupWriter finds a writer by name, or else by the ending of path.
func LookupWriter(name, path string) (*Writer, error) {
	for _, w := range writers {
		if name != "" && w.Name == name {
			return w, nil
		}
	}
	if name == "" {
		for _, w := range writers {
			for _, e := range w.Exts {
				if strings.HasSuffix(strings.ToLower(path), e) {
					return w, nil
				}
			}
		}
	}
	var names []string
	for _, w := range writers {
		names = append(names, w.Name)
	}
	sort.Strings(names)
	if name == "" {
		return nil, fmt.Errorf("cannot tell the output format from %q: use --format (%s)", path, strings.Join(names, ", "))
	}
	return nil, fmt.Errorf("%w %q for output (known: %s)", ErrUnknownFormat, name, strings.Join(names, ", "))
}
