package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// streamed is a run read chunk by chunk into the streaming audit.
type streamed struct {
	st     *analysis.Stream
	header *ingest.Run // what the reader reported: Source, Format, Grain, Meta, Issues, Skipped, Kept
	rows   int         // rows added to the audit (after --last)
}

// stream reads the run at path (a file, "-" or a folder holding one run:
// see ingest.ResolvePath), or src when it is not nil (a run a sweep's
// folder resolved to), through ingest.StreamSource into a streaming audit
// for cfg: the command holds no more of the run than the stream keeps
// (the chunk being read and the audit's bounded state). It says on stderr
// the lines load says (the files a folder gave, the reward key picked)
// and applies --last: only the last N rows reach the audit, held
// meanwhile as the fewest trailing chunks that cover them; the caller
// prints the skipped-records lines (streamed.check or reportSkipped). With
// f.tee set, tee gets every chunk read, before --last. It returns an error
// only for input that cannot be read as a run (the caller exits 2).
func (f *inputFlags) stream(path string, src *ingest.Source, cfg analysis.Config, stderr io.Writer) (*streamed, error) {
	opt, err := f.options()
	if err != nil {
		return nil, err
	}
	var s ingest.Source
	if src != nil {
		s = *src
	} else {
		srcs, err := ingest.ResolvePath(path)
		if err != nil {
			return nil, err
		}
		if len(srcs) != 1 {
			// ReadPath's error lists the runs (it reads nothing then).
			_, _, err := ingest.ReadPath(path, opt)
			if err == nil {
				err = fmt.Errorf("%s: %w", path, ingest.ErrSeveralRuns)
			}
			return nil, err
		}
		s = srcs[0]
	}
	st, err := analysis.NewStream(cfg)
	if err != nil {
		return nil, err
	}
	tail := &tailChunks{n: f.last}
	add := st.Add
	if f.last > 0 {
		add = tail.add
	} else {
		add = boundedGC(st)
	}
	if tee := f.tee; tee != nil {
		inner := add
		add = func(c *ingest.Run) error {
			tee(c)
			return inner(c)
		}
	}
	hdr, err := ingest.StreamSource(s, opt, add)
	if err != nil {
		return nil, err
	}
	if f.last > 0 {
		if err := st.Add(tail.run()); err != nil {
			return nil, err
		}
	}
	st.SetHeader(hdr)
	out := &streamed{st: st, header: hdr, rows: st.Records()}
	if s.Kind != "file" {
		fmt.Fprintf(stderr, "goodhart: %s\n", s.Describe())
	}
	if k := ingest.AutoRewardKey(hdr, opt); k != "" {
		fmt.Fprintf(stderr, "goodhart: reward = %s (another key: --map reward=<key>)\n", k)
	}
	return out, nil
}

// check prints the reader's skipped-records lines (see reportSkipped) and
// refuses --gold names the run lacks.
func (s *streamed) check(gold []string, stderr io.Writer) error {
	s.reportSkipped(stderr)
	if len(gold) == 0 {
		return nil
	}
	return checkGold(s.schema(), gold)
}

// schema is the run's header with every column the audit saw, empty (no
// rows): what checkGold and the dropped-columns note read, without copying
// the sample.
func (s *streamed) schema() *ingest.Run {
	h := s.header
	out := ingest.NewRun(0)
	out.Source, out.Format, out.Grain, out.Meta = h.Source, h.Format, h.Grain, h.Meta
	out.Issues, out.Skipped, out.Kept = h.Issues, h.Skipped, h.Kept
	for _, name := range s.st.Columns() {
		out.SetColumn(name, nil)
	}
	return out
}

// reportSkipped is reportSkipped for the streamed run: the header carries
// the issues, and the dropped-columns note counts the run's columns.
func (s *streamed) reportSkipped(stderr io.Writer) {
	reportSkipped(stderr, s.schema())
}

// report is the streaming audit's report. An empty log must not pass a CI
// gate, so a run with no record to audit is an error (exit 2), except in
// rewardspy mode (--detectors rewardspy), where rewardspy's own audit says
// "No records found" and exits 0.
func (s *streamed) report(path string, cfg analysis.Config) (*analysis.Report, error) {
	rep, err := s.st.Report()
	if err != nil {
		return nil, err
	}
	if rep.Records == 0 && !analysis.RewardspyMode(cfg.Detectors) {
		return nil, fmt.Errorf("%s: %w", path, errNoRecords(s.rows))
	}
	return rep, nil
}

// tailChunks keeps the fewest trailing chunks that hold the last n rows
// (--last n), and the names of the columns of the chunks it dropped, so
// that the last n rows keep every column of the run (NaN where absent), as
// Run.Last keeps them.
type tailChunks struct {
	n      int
	chunks []*ingest.Run
	rows   int
	schema *ingest.Run // no rows; the dropped chunks' columns
}

func (t *tailChunks) add(c *ingest.Run) error {
	if c == nil || c.Len() == 0 {
		return nil
	}
	t.chunks = append(t.chunks, c)
	t.rows += c.Len()
	for len(t.chunks) > 1 && t.rows-t.chunks[0].Len() >= t.n {
		old := t.chunks[0]
		if t.schema == nil {
			t.schema = ingest.NewRun(0)
		}
		for _, name := range old.Columns() {
			if t.schema.Has(name) {
				continue
			}
			if old.IsString(name) {
				t.schema.SetStringColumn(name, nil)
			} else {
				t.schema.SetColumn(name, nil)
			}
		}
		t.rows -= old.Len()
		t.chunks[0] = nil
		t.chunks = t.chunks[1:]
	}
	return nil
}

// run is the last n rows as one run (nil when no row was read).
func (t *tailChunks) run() *ingest.Run {
	if len(t.chunks) == 0 {
		return nil
	}
	runs := t.chunks
	if t.schema != nil {
		runs = append([]*ingest.Run{t.schema}, runs...)
		// Concat takes Source, Format, Grain and Meta from its last run.
	}
	if len(runs) == 1 {
		return runs[0].Last(t.n)
	}
	return ingest.Concat(runs...).Last(t.n)
}

// boundedGC returns st.Add, which also lowers the garbage collector's
// target once the run outgrows the audit's sample (unless GOGC is set):
// from then on the live heap is the bounded sample (~150 MB) plus the
// chunks in flight, and collecting at 50% growth instead of 100% keeps a
// 10M-record audit under ~300 MB resident for ~3% more time. Shorter runs
// are untouched.
func boundedGC(st *analysis.Stream) func(*ingest.Run) error {
	if os.Getenv("GOGC") != "" {
		return st.Add
	}
	lowered := false
	return func(c *ingest.Run) error {
		if err := st.Add(c); err != nil {
			return err
		}
		if !lowered && st.Records() > analysis.SampleRows {
			lowered = true
			debug.SetGCPercent(50)
		}
		return nil
	}
}
