package analysis

import (
	"github.com/goodhart-rl/goodhart/ingest"
)

// SampleRows is the most rows Stream keeps for the batch detectors and the
// figures: a run of at most SampleRows rows is judged whole, exactly as
// Audit judges it; a longer run's batch detectors judge an evenly spaced
// sample of it.
const SampleRows = 1 << 20

// Stream is the streaming audit: feed it a run in consecutive chunks (as
// ingest.Stream delivers them, or as a live log grows) and ask for the
// report at any time. A run of at most SampleRows rows gets the report
// Audit gives on the whole run, bit for bit.
//
// The zero value is not usable; make one with NewStream.
type Stream struct {
	cfg    Config
	chunks []*ingest.Run
	header *ingest.Run
}

// NewStream returns an empty streaming audit for cfg (validated as Audit
// validates it).
func NewStream(cfg Config) (*Stream, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Stream{cfg: cfg}, nil
}

// Add appends the next rows of the run.
func (s *Stream) Add(chunk *ingest.Run) error {
	if chunk == nil || chunk.Len() == 0 {
		return nil
	}
	s.chunks = append(s.chunks, chunk)
	return nil
}

// SetHeader records what the reader reported when the input ended (issues,
// skipped and kept counts: the run ingest.Stream returns), for Run.
func (s *Stream) SetHeader(h *ingest.Run) { s.header = h }

// Records is how many rows have been added.
func (s *Stream) Records() int {
	n := 0
	for _, c := range s.chunks {
		n += c.Len()
	}
	return n
}

// Sample is the run the batch detectors judge: every row added so far when
// there are at most SampleRows, else an evenly spaced sample of them.
func (s *Stream) Sample() *ingest.Run {
	run := ingest.Concat(s.chunks...)
	if s.header != nil {
		run.Source, run.Format, run.Grain, run.Meta = s.header.Source, s.header.Format, s.header.Grain, s.header.Meta
		run.Issues, run.Skipped, run.Kept = s.header.Issues, s.header.Skipped, s.header.Kept
	}
	return run
}

// Report is the audit of the rows added so far. It can be called at any
// time and does not change the stream.
func (s *Stream) Report() (*Report, error) {
	return Audit(s.Sample(), s.cfg)
}
