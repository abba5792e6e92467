package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// The parallel JSONL pipeline, shared by Read and Stream: one goroutine
// cuts the input into chunks at newlines, up to GOMAXPROCS (at most 8)
// workers parse chunks into column batches, and the consumer takes the
// batches in file order. Only the batches in flight exist: the splitter
// waits while every worker is busy and the workers wait while the
// consumer has not taken their batch.

// jsonlPipe is one run of the pipeline.
type jsonlPipe struct {
	name      string
	rewardspy bool
	km        *keyMapper
	mu        sync.Mutex // guards km (only touched on new keys)

	small   []*jsonlBatch // an input of one chunk, parsed up front
	results chan *jsonlBatch
	pending map[int]*jsonlBatch // batches that arrived before their turn
	next    int                 // seq of the next batch to hand over
	done    chan struct{}       // closed to stop the pipeline early
	split   chan struct{}       // closed when the splitter has returned
	workers sync.WaitGroup
	stopped bool
	readErr error // a real read failure (set before split is closed)
}

// errStopped ends the splitter when the consumer stopped the pipeline.
var errStopped = errors.New("stopped")

// startJSONL starts the pipeline on r.
func startJSONL(r io.Reader, name string, opt Options, rewardspy bool) (*jsonlPipe, error) {
	km, err := newKeyMapper(opt.Map)
	if err != nil {
		return nil, err
	}
	if rewardspy {
		km = &keyMapper{bySource: map[string]string{}, taken: map[string]bool{}, seen: map[string]bool{}}
	}
	p := &jsonlPipe{name: name, rewardspy: rewardspy, km: km, pending: map[int]*jsonlBatch{}, done: make(chan struct{})}
	skip := opt.SkipColumn
	// An input smaller than one chunk is parsed right here: no goroutines,
	// and deterministic (which the fuzzer needs).
	head, herr := io.ReadAll(io.LimitReader(r, jsonlChunkSize))
	if herr != nil && !errors.Is(herr, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("%s: %w", name, herr)
	}
	if len(head) < jsonlChunkSize {
		// One chunk: parse the bytes read, no copy.
		c := &jsonlChunk{firstLine: 1, data: head, last: true}
		if herr != nil {
			c.truncated, c.truncMsg = true, herr.Error()
			c.truncLine = max(1, 1+bytes.Count(head, []byte{'\n'})-btoi(len(head) > 0 && head[len(head)-1] == '\n'))
		}
		var scratch []byte
		p.small = []*jsonlBatch{parseChunk(c, name, rewardspy, km, &p.mu, &scratch, skip)}
		return p, nil
	}
	if herr != nil {
		var rest io.Reader = bytes.NewReader(head)
		if herr != nil {
			rest = io.MultiReader(rest, errorReader{herr})
		}
		jobs := make(chan *jsonlChunk, 4) // one chunk, or two around a cut
		p.readErr = splitLines(rest, jobs, nil)
		close(jobs)
		var scratch []byte
		for c := range jobs {
			p.small = append(p.small, parseChunk(c, name, rewardspy, km, &p.mu, &scratch, skip))
		}
		return p, nil
	}
	r = io.MultiReader(bytes.NewReader(head), r)
	workers := min(runtime.GOMAXPROCS(0), 8)
	jobs := make(chan *jsonlChunk, workers)
	p.results = make(chan *jsonlBatch, workers)
	p.split = make(chan struct{})
	go func() {
		defer close(p.split)
		defer close(jobs)
		if err := splitLines(r, jobs, p.done); err != errStopped {
			p.readErr = err
		}
	}()
	for w := 0; w < workers; w++ {
		p.workers.Add(1)
		go func() {
			defer p.workers.Done()
			var scratch []byte
			for c := range jobs {
				b := parseChunk(c, name, rewardspy, km, &p.mu, &scratch, skip)
				select {
				case p.results <- b:
				case <-p.done:
					return
				}
			}
		}()
	}
	go func() { p.workers.Wait(); close(p.results) }()
	return p, nil
}

// nextBatch returns the next batch in file order, or nil at the end of the
// input.
func (p *jsonlPipe) nextBatch() *jsonlBatch {
	if p.results == nil {
		if len(p.small) == 0 {
			return nil
		}
		b := p.small[0]
		p.small = p.small[1:]
		return b
	}
	for {
		if b, ok := p.pending[p.next]; ok {
			delete(p.pending, p.next)
			p.next++
			return b
		}
		b, ok := <-p.results
		if !ok {
			return nil
		}
		p.pending[b.seq] = b
	}
}

// stop ends the pipeline (early or after the last batch) and waits for its
// goroutines, so the input is no longer read when it returns. A splitter
// blocked reading a pipe returns when that read does.
func (p *jsonlPipe) stop() {
	if p.stopped {
		return
	}
	p.stopped = true
	close(p.done)
	if p.split != nil {
		<-p.split
		p.workers.Wait()
	}
}

// splitLines reads r into chunks of whole lines. It returns a non-nil error
// only for a real read failure, or errStopped when done was closed; a
// truncated gzip stream ends the input normally and its last chunk says
// the line it ended on.
func splitLines(r io.Reader, jobs chan<- *jsonlChunk, done <-chan struct{}) error {
	send := func(c *jsonlChunk) bool {
		select {
		case jobs <- c:
			return true
		case <-done:
			return false
		}
	}
	line := 1
	seq := 0
	var carry []byte
	for {
		bp := jsonlBufPool.Get().(*[]byte)
		buf := append((*bp)[:0], carry...)
		want := jsonlChunkSize
		if len(buf) >= want { // one line longer than a chunk: read on
			want = len(buf) + jsonlChunkSize
		}
		for len(buf) < want {
			if cap(buf)-len(buf) < 32<<10 {
				buf = append(buf, make([]byte, 64<<10)...)[:len(buf)]
			}
			n, rerr := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if rerr == nil {
				continue
			}
			truncLine, truncMsg := 0, ""
			if rerr != io.EOF {
				if !errors.Is(rerr, io.ErrUnexpectedEOF) {
					return rerr
				}
				truncMsg = rerr.Error()
				truncLine = line + bytes.Count(buf, []byte{'\n'})
				if len(buf) > 0 && buf[len(buf)-1] == '\n' {
					truncLine--
				}
				if truncLine < 1 {
					truncLine = 1
				}
			}
			*bp = buf
			if !send(&jsonlChunk{seq: seq, firstLine: line, data: buf, buf: bp, last: true,
				truncated: truncLine > 0, truncLine: truncLine, truncMsg: truncMsg}) {
				return errStopped
			}
			return nil
		}
		cut := bytes.LastIndexByte(buf, '\n')
		if cut < 0 {
			// One line longer than the chunk: keep reading into it.
			carry = buf
			continue
		}
		carry = append(carry[:0:0], buf[cut+1:]...)
		*bp = buf
		data := buf[:cut+1]
		lines := bytes.Count(data, []byte{'\n'})
		if !send(&jsonlChunk{seq: seq, firstLine: line, data: data, buf: bp}) {
			return errStopped
		}
		line += lines
		seq++
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// estimateLines guesses the lines of a chunk from its first 64 KiB (a
// capacity hint: columns grow past it when later lines are shorter).
func estimateLines(data []byte) int {
	const sample = 64 << 10
	if len(data) <= sample {
		return bytes.Count(data, []byte{'\n'}) + 1
	}
	n := bytes.Count(data[:sample], []byte{'\n'})
	return int(float64(n)*float64(len(data))/sample*1.1) + 8
}

// jsonlIssues gathers the batches' issues in file order: capped at
// MaxIssues, all counted in skipped; the first one under Strict is kept as
// strict.
type jsonlIssues struct {
	name    string
	opt     Options
	issues  []Issue
	skipped int
	strict  error
}

// add takes the issues of the next batch. A line cut by a truncated stream
// is reported once, as the truncation.
func (s *jsonlIssues) add(b *jsonlBatch) {
	truncLine := b.truncLine
	suffix := "; the records before it were kept"
	if truncLine > 0 && len(b.issues) > 0 && b.issues[len(b.issues)-1].Line == truncLine {
		b.issues[len(b.issues)-1].Msg = strings.TrimPrefix(b.truncMsg, s.name+": ") + suffix
		b.issues[len(b.issues)-1].Field = ""
		truncLine = 0
	}
	s.skipped += b.skipped
	keep := func(is Issue) {
		if s.opt.Strict && s.strict == nil {
			s.strict = fmt.Errorf("%w: %v", ErrStrict, is)
		}
		if len(s.issues) < s.opt.maxIssues() {
			s.issues = append(s.issues, is)
		}
	}
	for _, is := range b.issues {
		keep(is)
	}
	if truncLine > 0 {
		keep(Issue{File: s.name, Line: truncLine, Msg: strings.TrimPrefix(b.truncMsg, s.name+": ") + suffix})
	}
}

// noRecords is the error for an input none of whose lines is a record.
func (s *jsonlIssues) noRecords() error {
	first := ""
	if len(s.issues) > 0 {
		first = " (first: " + s.issues[0].Error() + ")"
	}
	return fmt.Errorf("%s: %w: none of its %d non-blank lines is a valid JSON record%s",
		s.name, ErrNotARun, s.skipped, first)
}

// compOrder accumulates the distinct per-record orders of component keys
// and merges them as componentOrder says.
type compOrder struct {
	seen  map[string]bool
	seqs  [][]string
	cache string
	dirty bool
}

func (o *compOrder) add(b *jsonlBatch) {
	for _, seq := range b.order {
		names := make([]string, len(seq))
		var kb []byte // the names, each after its length: unambiguous
		for i, ci := range seq {
			names[i] = strings.TrimPrefix(b.cols[ci].name, ComponentPrefix)
			kb = append(strconv.AppendInt(kb, int64(len(names[i])), 10), ':')
			kb = append(kb, names[i]...)
		}
		k := string(kb)
		if o.seen == nil {
			o.seen = map[string]bool{}
		}
		if !o.seen[k] {
			o.seen[k] = true
			o.seqs = append(o.seqs, names)
			o.dirty = true
		}
	}
}

// String is the merged order as a JSON array, "" when no record had a
// component.
func (o *compOrder) String() string {
	if o.dirty {
		o.cache = componentOrder(o.seqs)
		o.dirty = false
	}
	return o.cache
}

// componentOrder merges the per-record component key orders into one order
// consistent with all of them (a topological sort; ties and cycles broken
// by first appearance) and returns it as a JSON array ("" when empty).
func componentOrder(seqs [][]string) string {
	var first []string
	pos := map[string]int{}
	succ := map[string]map[string]bool{}
	indeg := map[string]int{}
	for _, seq := range seqs {
		prev, started := "", false // "" is a valid component name
		for _, name := range seq {
			if _, ok := pos[name]; !ok {
				pos[name] = len(first)
				first = append(first, name)
				succ[name] = map[string]bool{}
			}
			if started && prev != name && !succ[prev][name] {
				succ[prev][name] = true
				indeg[name]++
			}
			prev, started = name, true
		}
	}
	if len(first) == 0 {
		return ""
	}
	var out []string
	done := map[string]bool{}
	for len(out) < len(first) {
		pick, found := "", false // "" is a valid component name
		for _, n := range first {
			if !done[n] && indeg[n] == 0 {
				pick, found = n, true
				break
			}
		}
		if !found { // a cycle: take the earliest remaining
			for _, n := range first {
				if !done[n] {
					pick = n
					break
				}
			}
		}
		done[pick] = true
		out = append(out, pick)
		for m := range succ[pick] {
			indeg[m]--
		}
	}
	return jsonStringList(out)
}

// fileRowsLeft estimates the records in the rest of a plain input file
// from the first batch (its bytes per line), or returns -1 when the input
// is not a plain file. The estimate is 2% high so that one allocation of
// each column nearly always suffices; the merger grows columns otherwise.
func fileRowsLeft(opt Options, first *jsonlBatch) int {
	if opt.src == nil || first == nil || first.bytes == 0 {
		return -1
	}
	fi, err := opt.src.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return -1
	}
	rest := fi.Size() - opt.srcOff - int64(first.bytes)
	if rest < 0 {
		rest = 0
	}
	perLine := float64(first.bytes) / float64(max(first.nlines, 1))
	return int(float64(rest)/perLine*1.02) + 64
}

// readJSONL reads a whole JSONL run. For a plain file the columns are
// allocated once, at the size the first chunk predicts, and each batch is
// copied in as soon as its predecessors are, so only the batches in flight
// exist besides the columns; for gzip or a pipe the batches are kept and
// joined at the end (about twice the columns at the peak).
func readJSONL(r io.Reader, name string, opt Options, rewardspy bool) (*Run, error) {
	p, err := startJSONL(r, name, opt, rewardspy)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	iss := &jsonlIssues{name: name, opt: opt}
	var order compOrder
	var keys []string
	var m *merger
	var batches []*jsonlBatch
	for b := p.nextBatch(); b != nil; b = p.nextBatch() {
		iss.add(b)
		order.add(b)
		if !rewardspy {
			keys = append(keys, b.keys...)
		}
		if b.seq == 0 {
			if total := fileRowsLeft(opt, b); total >= 0 {
				m = newMerger(b.rows + total)
			}
		}
		if m == nil {
			batches = append(batches, b)
			continue
		}
		if m.err == nil {
			m.add(b)
		}
	}
	var run *Run
	if m != nil {
		if m.err != nil {
			return nil, fmt.Errorf("%s: %w", name, m.err)
		}
		run = m.finish()
	} else if run, _, err = assembleBatches(batches); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if o := order.String(); o != "" {
		run.setMeta(MetaComponentOrder, o)
	}
	if p.readErr != nil {
		return nil, fmt.Errorf("%s: %w", name, p.readErr)
	}
	if iss.strict != nil {
		return nil, iss.strict
	}
	run.Issues, run.Skipped = iss.issues, iss.skipped
	return finishJSONL(run, name, opt, rewardspy, p.km, keys)
}

// finishJSONL sets the run's format and grain once all its rows are read:
// the checks and rules Read applies after the columns are assembled.
func finishJSONL(run *Run, name string, opt Options, rewardspy bool, km *keyMapper, keys []string) (*Run, error) {
	run.Source = name
	if rewardspy {
		run.Format = "rewardspy-jsonl"
		run.Grain = GrainCall
	} else {
		run.Format = "jsonl"
	}
	if run.Len() == 0 && run.Skipped > 0 && !opt.chunk {
		iss := jsonlIssues{name: name, issues: run.Issues, skipped: run.Skipped}
		return nil, iss.noRecords()
	}
	if !rewardspy {
		if err := km.unseen(name, dedupe(keys)); err != nil && run.Len() > 0 {
			return nil, err
		}
		applyGrain(run, opt)
	} else if _, ok := run.Column(ColReward); !ok && run.Len() > 0 {
		run.SetColumn(ColReward, nil)
	}
	return run, nil
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// batchRun turns one batch into a run of its rows, handing the batch's
// column storage over (no copy). Rarely present columns are kept or
// dropped by sparseBudget on the batch's own rows and values; the dropped
// names are returned.
func batchRun(b *jsonlBatch) (*Run, []string) {
	run := NewRun(b.rows)
	var names []string
	var cands []sparseCand
	values, denseCols := 0, 0
	for _, bc := range b.cols {
		if !bc.has {
			continue
		}
		names = append(names, bc.name)
		values += bc.count
		if bc.sparse {
			cands = append(cands, sparseCand{name: bc.name, values: bc.count, order: len(names) - 1})
		} else {
			denseCols++
		}
	}
	drop := sparseBudget(b.rows, values, denseCols, cands)
	var dropped []string
	for _, bc := range b.cols {
		if !bc.has {
			continue
		}
		if drop[bc.name] {
			dropped = append(dropped, bc.name)
			bc.num, bc.ss, bc.srow = nil, nil, nil
			continue
		}
		switch {
		case bc.sparse && bc.isStr:
			c := make([]string, b.rows)
			for k, r := range bc.srow {
				c[r] = bc.ss[k]
			}
			run.SetStringColumn(bc.name, c)
		case bc.sparse:
			c := make([]float64, b.rows)
			fillNaN(c)
			for k, r := range bc.srow {
				c[r] = bc.num[k]
			}
			run.SetColumn(bc.name, c)
		case bc.isStr:
			run.SetStringColumn(bc.name, bc.ss[:b.rows:b.rows])
		default:
			run.SetColumn(bc.name, bc.num[:b.rows:b.rows])
		}
		bc.num, bc.ss, bc.srow = nil, nil, nil
	}
	return run, dropped
}
