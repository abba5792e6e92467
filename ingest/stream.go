package ingest

import (
	"io"
	"math"
	"os"
)

// StreamHeadRows is the most rows a streaming reader buffers before it hands
// the first chunk over, for formats whose grain, key mapping or row merging
// is decided on the whole run (generic JSONL, CSV, trainer logs): a run of
// at most this many rows reaches the callback as one chunk equal to what
// Read returns; a longer run is decided on its first StreamHeadRows rows.
const StreamHeadRows = 1 << 20

// Stream reads a run from r like Read, but hands its rows to fn in
// consecutive chunks, in file order, so the caller never needs the whole
// run in memory.
//
// Every chunk carries the run's Source, Format and Grain, and its Meta (a
// reader that keeps MetaComponentOrder sets it to the components seen so
// far, ordered by the rule Read uses: first-seen order, which only grows
// at the end, unless a later record lists a new component before one seen
// earlier, which then takes its place in the middle). Columns may
// differ from chunk to chunk (a key first seen late appears then). Issues,
// Skipped and Kept are not set on chunks: Stream returns them on the header
// run it returns when the input ends (Source, Format, Grain, Meta, Issues,
// Skipped, Kept, Len() = rows delivered, no columns).
//
// A run of at most StreamHeadRows rows may be delivered as one chunk equal
// to what Read returns. rewardspy JSONL streams in chunks from the start;
// a plain Parquet file streams one row group per chunk when its column
// statistics settle, before any row is read, what Read would decide on the
// whole run (the columns, no ±Inf, a grain without row merging), and is
// read whole otherwise; the other formats are read whole and delivered as
// one chunk. Chunks are not reused after fn returns: fn may keep one, at the
// cost of its memory. An error from fn stops the read and is returned as is.
//
// JSONL in detail. A rewardspy log is delivered one parsed batch (about 2
// MiB of input, some thousands of records) per chunk, as the parallel
// parser produces them, so memory holds only the batches in flight. A
// generic JSONL log of at most StreamHeadRows rows is one chunk equal to
// Read's run. A longer one is decided on its head (its first batches,
// just over StreamHeadRows rows, delivered as the first chunk): the grain
// and the renaming of well-known keys (WellKnown: a reward key, roles,
// gold metrics, the DPO margin) found there are applied unchanged to every
// later chunk, so a key first seen after the head stays extra.<key>. If
// the head's rows of one step would be merged (a trainer log writing a
// train and an eval line per step), the whole run is read and delivered as
// one chunk, as Read returns it. Rarely present columns are kept or
// dropped by the memory budget of each chunk's own rows rather than the
// whole run's (the header's Meta lists every column some chunk dropped).
// Issues, Skipped, the truncated-last-line rule and Strict behave as in
// Read; under Strict the first malformed record ends the stream with its
// error before the chunk holding it is delivered. A --map key never seen,
// or a read failure, is reported when the input ends, after the chunks.
func Stream(r io.Reader, name string, opt Options, fn func(chunk *Run) error) (*Run, error) {
	if h, ok, err := streamParquet(r, name, opt, fn); ok {
		return h, err
	}
	br, f, opt, stop, err := openInput(r, name, opt)
	if err != nil {
		return nil, err
	}
	defer stop()
	switch {
	case f.Name == "rewardspy-jsonl" && len(opt.Map) == 0:
		return streamJSONL(br, name, opt, true, fn)
	case f.Name == "rewardspy-jsonl" || f.Name == "jsonl":
		// --map on a rewardspy log reads it as generic JSONL, as Read does.
		return streamJSONL(br, name, opt, false, fn)
	}
	run, err := readFormat(f, br, name, opt)
	if err != nil {
		return nil, err
	}
	return deliverWhole(run, fn)
}

// StreamFile is Stream for the file at path ("-" for standard input),
// resolved as ReadFile resolves it.
func StreamFile(path string, opt Options, fn func(chunk *Run) error) (*Run, error) {
	if path == StdinName {
		return Stream(os.Stdin, StdinLabel, opt, fn)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		run, _, err := ReadPath(path, opt)
		if err != nil {
			return nil, err
		}
		return deliverWhole(run, fn)
	}
	if err := partOfFolderRun(path); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Stream(f, path, opt, fn)
}

// StreamSource is ReadSource streaming: a source of one file streams as
// StreamFile does; runs merged from several files (TensorBoard, SB3
// monitors, MLflow) are read whole and delivered as one chunk.
func StreamSource(src Source, opt Options, fn func(chunk *Run) error) (*Run, error) {
	if src.Kind == "file" && len(src.Files) == 1 {
		return StreamFile(src.Files[0], opt, fn)
	}
	run, err := ReadSource(src, opt)
	if err != nil {
		return nil, err
	}
	return deliverWhole(run, fn)
}

// deliverWhole hands a run read whole to fn as one chunk (without its
// Issues, Skipped and Kept, which the header carries) and returns its
// header.
func deliverWhole(run *Run, fn func(*Run) error) (*Run, error) {
	h := Header(run)
	if run.Len() > 0 {
		run.Issues, run.Skipped, run.Kept = nil, 0, 0
		if err := fn(run); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Header returns run without its columns: Source, Format, Grain, Meta,
// Issues, Skipped and Kept, with the same Len().
func Header(run *Run) *Run {
	return &Run{Source: run.Source, Format: run.Format, Grain: run.Grain, Meta: run.Meta,
		Issues: run.Issues, Skipped: run.Skipped, Kept: run.Kept, n: run.n}
}

// Concat joins runs (consecutive chunks of one run) into one: columns
// missing from a chunk are NaN ("" for strings) there; a column that is
// text in some chunk is text throughout (numbers become their shortest
// text, integral values below 2^53 plain digits, as the JSONL reader
// writes them); Source, Format, Grain and Meta come from the last run,
// Issues, Skipped and Kept are not set.
func Concat(runs ...*Run) *Run {
	n := 0
	for _, r := range runs {
		n += r.Len()
	}
	out := NewRun(n)
	if len(runs) == 0 {
		return out
	}
	last := runs[len(runs)-1]
	out.Source, out.Format, out.Grain, out.Meta = last.Source, last.Format, last.Grain, last.Meta
	done := map[string]bool{}
	for _, r := range runs {
		for _, name := range r.Columns() {
			if done[name] {
				continue
			}
			done[name] = true
			isStr := false
			for _, q := range runs {
				isStr = isStr || q.IsString(name)
			}
			if isStr {
				col := make([]string, 0, n)
				for _, q := range runs {
					if c, ok := q.StringColumn(name); ok {
						col = append(col, c...)
						continue
					}
					c, ok := q.Column(name)
					for i := 0; i < q.Len(); i++ {
						s := ""
						if ok && !math.IsNaN(c[i]) {
							s = string(appendNumText(nil, c[i]))
						}
						col = append(col, s)
					}
				}
				out.SetStringColumn(name, col)
				continue
			}
			col := make([]float64, 0, n)
			for _, q := range runs {
				if c, ok := q.Column(name); ok {
					col = append(col, c...)
					continue
				}
				for i := 0; i < q.Len(); i++ {
					col = append(col, math.NaN())
				}
			}
			out.SetColumn(name, col)
		}
	}
	return out
}
