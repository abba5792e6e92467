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
// far, in first-seen order, which only ever grows at the end). Columns may
// differ from chunk to chunk (a key first seen late appears then). Issues,
// Skipped and Kept are not set on chunks: Stream returns them on the header
// run it returns when the input ends (Source, Format, Grain, Meta, Issues,
// Skipped, Kept, Len() = rows delivered, no columns).
//
// A run of at most StreamHeadRows rows may be delivered as one chunk equal
// to what Read returns; the rewardspy JSONL and Parquet readers stream in
// chunks from the start; the other formats are read whole and delivered as
// one chunk. Chunks are not reused after fn returns: fn may keep one, at the
// cost of its memory. An error from fn stops the read and is returned as is.
func Stream(r io.Reader, name string, opt Options, fn func(chunk *Run) error) (*Run, error) {
	if h, ok, err := streamParquet(r, name, opt, fn); ok {
		return h, err
	}
	run, err := Read(r, name, opt)
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

// deliverWhole hands a run read whole to fn as one chunk and returns its
// header.
func deliverWhole(run *Run, fn func(*Run) error) (*Run, error) {
	if run.Len() > 0 {
		if err := fn(run); err != nil {
			return nil, err
		}
	}
	return Header(run), nil
}

// Header returns run without its columns: Source, Format, Grain, Meta,
// Issues, Skipped and Kept, with the same Len().
func Header(run *Run) *Run {
	return &Run{Source: run.Source, Format: run.Format, Grain: run.Grain, Meta: run.Meta,
		Issues: run.Issues, Skipped: run.Skipped, Kept: run.Kept, n: run.n}
}

// Concat joins runs (consecutive chunks of one run) into one: columns
// missing from a chunk are NaN ("" for strings) there; Source, Format,
// Grain and Meta come from the last run, Issues, Skipped and Kept are not
// set.
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
			if r.IsString(name) {
				col := make([]string, 0, n)
				for _, q := range runs {
					c, ok := q.StringColumn(name)
					if !ok {
						c = make([]string, q.Len())
					}
					col = append(col, c...)
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
