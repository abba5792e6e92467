package analysis

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"

	"github.com/goodhart-rl/goodhart/ingest"
)

// SampleRows is the most rows Stream keeps for the batch detectors and the
// figures: a run of at most SampleRows rows is judged whole, exactly as
// Audit judges it; a longer run's batch detectors judge an evenly spaced
// sample of it.
const SampleRows = 1 << 20

// SampleRecordColumn is the column a sampled Stream.Sample carries with
// each row's 1-based record count in the whole run (rows with a finite
// reward up to and including it, as alerts count records). The batch
// detectors report it as the record of their evidence and alerts. It is
// absent while the sample is the whole run.
const SampleRecordColumn = "sample_record"

// rewardspyFormat is the reader format of rewardspy's own JSONL call log:
// call grain, fixed windows, so the engine can replay from the first chunk.
const rewardspyFormat = "rewardspy-jsonl"

// Stream is the streaming audit: feed it a run in consecutive chunks (as
// ingest.Stream delivers them, or as a live log grows) and ask for the
// report at any time. Its memory is bounded by SampleRows, not by the
// length of the run:
//
//   - rewardspy's five streaming detectors see every row: each chunk is
//     replayed into an Engine as it arrives, with Audit's replay rules
//     (rows with a finite reward, components registered in the run's
//     first-seen order). A rewardspy JSONL call log is replayed from the
//     first chunk; for other formats the kind and windows are decided on
//     the first SampleRows rows (on the whole run when it is shorter), as
//     Audit decides them on the whole run, and the held rows replayed then.
//   - the batch detectors, the headline's "how the reward moved" and the
//     diagnosis judge the sample: every row while the run has at most
//     SampleRows rows (the report is then Audit's on the whole run, bit for
//     bit), beyond that every k-th row (rows 0, k, 2k, ...; k doubles each
//     time the sample fills, so it holds between SampleRows/2 and
//     SampleRows rows) plus the run's last row, each with its original step
//     and record count, so evidence and alerts name real steps and records.
//     Rows carrying a sparse held-out value (an eval.* or Config.Gold column
//     with values on at most half of a chunk's rows) are kept besides the
//     stride, at most SampleRows/4 of them (every m-th such row, m doubling
//     as needed), so a metric logged now and then is not thinned away.
//     The group detector is the exception: its rule is applied to every
//     row as it arrives (a sample would split the groups), so its result is
//     exact. Report.Sampled says when the report judged a sample.
//
// Memory is then the sample (about SampleRows x numeric columns x 8 bytes)
// plus the alerts raised, which the report lists in full: a detector that
// flaps on a long run adds one alert per flip.
//
// String columns other than group are not kept (no detector reads them).
// A step column that first appears after rows without one leaves those
// earlier rows' alert steps at their row index (Audit would leave them
// missing).
//
// A Stream is safe for concurrent use: Report and Sample may run while
// another goroutine adds chunks (they wait for each other). The zero value
// is not usable; make one with NewStream.
type Stream struct {
	mu     sync.Mutex
	cfg    Config
	header *ingest.Run
	limit  int // SampleRows (tests lower it)

	n       int // rows added
	records int // rows added with a finite reward
	// Source, Format, Grain and Meta of the last chunk (the header's win).
	source, format string
	grain          ingest.Grain
	meta           map[string]string

	// The engine, once kind and windows are decided (nil before).
	e       *Engine
	kind    Kind
	win     Windows
	sawStep bool // a chunk had a step column

	cols     map[string]bool // every column name seen
	smp      sample
	group    groupStream // the group detector on every row
	cumBuf   []int
	pickBuf  []int
	markBuf  []int32
	markOn   []bool
	marksBuf []int
}

// sample holds every every-th row of the run (global rows 0, every,
// 2*every, ...) and the marker rows kept (rows with a sparse held-out
// value), in row order, column by column, with each row's original index
// and record count, and the run's last row.
type sample struct {
	limit   int
	every   int
	rows    int
	num     map[string][]float64
	str     map[string][]string
	names   []string  // columns in first-seen order
	origRow []float64 // each row's index in the run
	rec     []float64 // each row's record count (SampleRecordColumn)
	markOrd []int32   // a marker row's ordinal among marker rows; -1 for none

	marks     int32 // marker rows seen
	markEvery int   // marker rows kept: those with ordinal % markEvery == 0

	tailRow, tailRec int
	tailNum          map[string]float64
	tailStr          map[string]string
}

// NewStream returns an empty streaming audit for cfg (validated as Audit
// validates it).
func NewStream(cfg Config) (*Stream, error) {
	return newStream(cfg, SampleRows)
}

// newStream is NewStream with a sample of at most limit rows (rounded down
// to even, at least 8).
func newStream(cfg Config, limit int) (*Stream, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if limit < 8 {
		limit = 8
	}
	limit &^= 1
	return &Stream{cfg: cfg, limit: limit, cols: map[string]bool{}, group: newGroupStream(), smp: sample{limit: limit, every: 1, markEvery: 1,
		num: map[string][]float64{}, str: map[string][]string{},
		tailNum: map[string]float64{}, tailStr: map[string]string{}}}, nil
}

// Add appends the next rows of the run (a nil or empty chunk is ignored).
// The stream keeps no reference to chunk after Add returns.
func (s *Stream) Add(chunk *ingest.Run) error {
	if chunk == nil || chunk.Len() == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.source, s.format, s.grain, s.meta = chunk.Source, chunk.Format, chunk.Grain, chunk.Meta
	for _, name := range chunk.Columns() {
		s.cols[name] = true
	}
	if s.e == nil && chunk.Format == rewardspyFormat && (chunk.Grain != ingest.GrainStep || s.cfg.Window > 0) {
		// Call grain: fixed windows, and the kind is the format's.
		s.decide(chunk, false)
	}
	if s.e == nil && s.n+chunk.Len() > s.limit {
		// The held rows are the first limit rows: decide kind and windows
		// on them, replay them, then stream the rest.
		k := s.limit - s.n
		if k > 0 {
			s.addRows(chunk.Slice(0, k))
			chunk = chunk.Slice(k, chunk.Len())
		}
		s.decide(s.sampleRun(false), true)
	}
	s.addRows(chunk)
	return nil
}

// decide fixes the kind and windows from run (Audit's rules on it) and
// starts the engine; replay pushes run's rows into it.
func (s *Stream) decide(run *ingest.Run, replayRun bool) {
	cfg := s.cfg
	kind := AuditKind(run, cfg)
	cfg.Kind = kind
	five, _, _ := selectDetectors(cfg.Detectors, nil, kind) // names were validated by NewStream
	win := WindowFor(run, cfg)
	e := NewEngine(cfg, win)
	e.setWant(five)
	e.SetGrain(run.Grain)
	s.e, s.kind, s.win = e, kind, win
	if replayRun {
		if reward, ok := run.Column(ingest.ColReward); ok {
			replayFrom(e, run, reward, 0, false)
		}
		_, s.sawStep = run.Column(ingest.ColStep)
	}
}

// addRows replays c into the engine (when started) and samples its rows.
func (s *Stream) addRows(c *ingest.Run) {
	n := c.Len()
	if n == 0 {
		return
	}
	g0 := s.n
	cum := s.cumBuf[:0]
	if reward, ok := c.Column(ingest.ColReward); ok {
		for _, r := range reward {
			if !math.IsNaN(r) && !math.IsInf(r, 0) {
				s.records++
			}
			cum = append(cum, s.records)
		}
	} else {
		for i := 0; i < n; i++ {
			cum = append(cum, s.records)
		}
	}
	s.cumBuf = cum
	if s.e != nil {
		if reward, ok := c.Column(ingest.ColReward); ok {
			replayFrom(s.e, c, reward, g0, s.sawStep)
		}
	}
	s.group.add(c, g0, cum, s.sawStep)
	if c.Has(ingest.ColStep) {
		s.sawStep = true
	}
	s.sampleAdd(c, g0, cum)
	s.n += n
}

// sampleAdd keeps the rows of c (global rows g0...) that fall on the
// sample's stride or are marker rows to keep, halving the sample (see
// halve) whenever it is full, and remembers c's last row.
func (s *Stream) sampleAdd(c *ingest.Run, g0 int, cum []int) {
	sm := &s.smp
	for _, name := range c.Columns() {
		if c.IsString(name) {
			if name != ingest.ColGroup {
				continue
			}
			if _, ok := sm.str[name]; !ok {
				if _, isNum := sm.num[name]; !isNum {
					sm.str[name] = make([]string, sm.rows, max(sm.rows, 1024))
					sm.names = append(sm.names, name)
				}
			}
			continue
		}
		if _, ok := sm.num[name]; !ok {
			if _, isStr := sm.str[name]; isStr {
				continue
			}
			col := make([]float64, sm.rows, max(sm.rows, 1024))
			for i := range col {
				col[i] = math.NaN()
			}
			sm.num[name] = col
			sm.names = append(sm.names, name)
		}
	}
	n := c.Len()
	marks := s.markRows(c)
	mi := 0
	i := 0 // the next row on the stride
	if r := g0 % sm.every; r != 0 {
		i = sm.every - r
	}
	pick, pmark := s.pickBuf[:0], s.markBuf[:0]
	for {
		// The next candidate: a row on the stride or a marker row.
		p, isMark := -1, false
		if mi < len(marks) && marks[mi] <= i {
			p, isMark = marks[mi], true
			mi++
			if p == i {
				i += sm.every
			}
		} else if i < n {
			p = i
			i += sm.every
		} else {
			break
		}
		ord := int32(-1)
		if isMark {
			ord = sm.marks
			sm.marks++
		}
		if !sm.keeps(g0+p, ord) {
			continue
		}
		if sm.rows+len(pick) == s.limit {
			sm.appendRows(c, pick, pmark, g0, cum)
			pick, pmark = pick[:0], pmark[:0]
			sm.halve(s.limit)
			i = p + 1
			if r := (g0 + i) % sm.every; r != 0 {
				i += sm.every - r
			}
			if !sm.keeps(g0+p, ord) {
				continue
			}
		}
		pick = append(pick, p)
		pmark = append(pmark, ord)
	}
	sm.appendRows(c, pick, pmark, g0, cum)
	s.pickBuf, s.markBuf = pick[:0], pmark[:0]
	// The run's last row, for when it is not on the stride.
	last := n - 1
	sm.tailRow, sm.tailRec = g0+last, cum[last]
	for name := range sm.num {
		v := math.NaN()
		if col, ok := c.Column(name); ok {
			v = col[last]
		}
		sm.tailNum[name] = v
	}
	for name := range sm.str {
		v := ""
		if col, ok := c.StringColumn(name); ok {
			v = col[last]
		}
		sm.tailStr[name] = v
	}
}

// keeps says whether the sample keeps global row g: on the stride, or a
// marker row (ord >= 0, its ordinal among marker rows) on the markers'
// stride.
func (sm *sample) keeps(g int, ord int32) bool {
	return g%sm.every == 0 || (ord >= 0 && int(ord)%sm.markEvery == 0)
}

// appendRows appends rows pick of c (global rows g0+pick[i], marker
// ordinals mark[i], -1 for none) to the sample.
func (sm *sample) appendRows(c *ingest.Run, pick []int, mark []int32, g0 int, cum []int) {
	if len(pick) == 0 {
		return
	}
	// While every row is kept (runs up to the sample's size) pick is a
	// run of consecutive rows: copy it as one block.
	contig := pick[len(pick)-1]-pick[0] == len(pick)-1
	for name, col := range sm.num {
		col = grow(col, len(pick), sm.limit)
		if src, ok := c.Column(name); ok {
			if contig {
				col = append(col, src[pick[0]:pick[0]+len(pick)]...)
			} else {
				for _, p := range pick {
					col = append(col, src[p])
				}
			}
		} else {
			for range pick {
				col = append(col, math.NaN())
			}
		}
		sm.num[name] = col
	}
	for name, col := range sm.str {
		col = grow(col, len(pick), sm.limit)
		if src, ok := c.StringColumn(name); ok {
			for _, p := range pick {
				col = append(col, src[p])
			}
		} else {
			for range pick {
				col = append(col, "")
			}
		}
		sm.str[name] = col
	}
	sm.origRow = grow(sm.origRow, len(pick), sm.limit)
	sm.rec = grow(sm.rec, len(pick), sm.limit)
	sm.markOrd = grow(sm.markOrd, len(pick), sm.limit)
	for k, p := range pick {
		sm.origRow = append(sm.origRow, float64(g0+p))
		sm.rec = append(sm.rec, float64(cum[p]))
		sm.markOrd = append(sm.markOrd, mark[k])
	}
	sm.rows += len(pick)
}

// grow makes room for k more elements in s: quadrupling (fewer copies of
// a growing sample than doubling), but never past
// limit+1 (the sample's most rows plus the run's last row), so a full
// sample wastes no capacity.
func grow[T any](s []T, k, limit int) []T {
	need := len(s) + k
	if need <= cap(s) {
		return s
	}
	c := max(need, min(4*cap(s), limit+1), 1024)
	out := make([]T, len(s), c)
	copy(out, s)
	return out
}

// halve doubles the stride and keeps the rows on it (every other stride
// row), and marker rows on the markers' stride, which doubles until at
// most limit/4 marker rows remain; at most 3/4 of limit rows remain.
func (sm *sample) halve(limit int) {
	sm.every *= 2
	for {
		k := 0
		for _, o := range sm.markOrd {
			if o >= 0 && int(o)%sm.markEvery == 0 {
				k++
			}
		}
		if k <= limit/4 || sm.markEvery > int(sm.marks) {
			break
		}
		sm.markEvery *= 2
	}
	keep := make([]int, 0, sm.rows/2+1)
	for p := 0; p < sm.rows; p++ {
		if sm.keeps(int(sm.origRow[p]), sm.markOrd[p]) {
			keep = append(keep, p)
		}
	}
	m := len(keep)
	for name, col := range sm.num {
		for w, p := range keep {
			col[w] = col[p]
		}
		sm.num[name] = col[:m]
	}
	for name, col := range sm.str {
		for w, p := range keep {
			col[w] = col[p]
		}
		clear(col[m:])
		sm.str[name] = col[:m]
	}
	for w, p := range keep {
		sm.origRow[w], sm.rec[w], sm.markOrd[w] = sm.origRow[p], sm.rec[p], sm.markOrd[p]
	}
	sm.origRow, sm.rec, sm.markOrd = sm.origRow[:m], sm.rec[:m], sm.markOrd[:m]
	sm.rows = m
}

// markRows returns the rows of c (in order) that carry a finite value in a
// sparse held-out column: an eval.* column or a Config.Gold column (as
// the divergence detector finds it) with values on at most half of c's
// rows. The sample keeps such rows besides its stride, so a held-out
// metric logged now and then is not thinned away (or missed entirely when
// its rows fall between the stride's).
func (s *Stream) markRows(c *ingest.Run) []int {
	var cols [][]float64
	for _, m := range c.EvalMetrics() {
		col, _ := c.Column(ingest.EvalPrefix + m)
		cols = append(cols, col)
	}
	for _, g := range s.cfg.Gold {
		name := strings.TrimPrefix(strings.TrimSpace(g), ingest.EvalPrefix)
		for _, n := range []string{name, ingest.ExtraPrefix + name, ingest.ComponentPrefix + name} {
			if col, ok := c.Column(n); ok {
				cols = append(cols, col)
				break
			}
		}
	}
	if len(cols) == 0 {
		return nil
	}
	n := c.Len()
	on := s.markOn[:0]
	for range n {
		on = append(on, false)
	}
	for _, col := range cols {
		k := 0
		for _, v := range col {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				k++
			}
		}
		if k == 0 || 2*k > n {
			continue // dense (or empty here): the stride samples it well
		}
		for i, v := range col {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				on[i] = true
			}
		}
	}
	s.markOn = on
	marks := s.marksBuf[:0]
	for i, b := range on {
		if b {
			marks = append(marks, i)
		}
	}
	s.marksBuf = marks
	return marks
}

// sampled reports whether the sample leaves rows out.
func (s *Stream) sampled() bool { return s.smp.every > 1 }

// sampleRun builds the sample as a Run: the sample rows, then the run's
// last row when it is off the stride; when rows are left out, a step
// column (the original row index when the run has none) and
// SampleRecordColumn. With copyCols false the numeric columns share the
// stream's storage: the run must not outlive the lock.
func (s *Stream) sampleRun(copyCols bool) *ingest.Run {
	sm := &s.smp
	m := sm.rows
	withTail := s.n > 0 && (m == 0 || int(sm.origRow[m-1]) != s.n-1)
	total := m
	if withTail {
		total++
	}
	run := ingest.NewRun(total)
	run.Source, run.Format, run.Grain, run.Meta = s.source, s.format, s.grain, s.meta
	if h := s.header; h != nil {
		run.Source, run.Format, run.Grain, run.Meta = h.Source, h.Format, h.Grain, h.Meta
		run.Issues, run.Skipped, run.Kept = h.Issues, h.Skipped, h.Kept
	}
	for _, name := range sm.names {
		if col, ok := sm.num[name]; ok {
			run.SetColumn(name, withLast(&col, sm.tailNum[name], withTail, copyCols))
			sm.num[name] = col
			continue
		}
		col := sm.str[name]
		out := make([]string, m, total)
		copy(out, col)
		if withTail {
			out = append(out, sm.tailStr[name])
		}
		run.SetStringColumn(name, out)
	}
	if s.sampled() {
		run.SetColumn(SampleRecordColumn, withLast(&sm.rec, float64(sm.tailRec), withTail, copyCols))
		if _, ok := sm.num[ingest.ColStep]; !ok {
			run.SetColumn(ingest.ColStep, withLast(&sm.origRow, float64(sm.tailRow), withTail, copyCols))
		}
	}
	return run
}

// withLast returns *col with last appended when add, as a copy when
// copyCols, else sharing *col's storage (which it may move: *col is
// updated and keeps its length).
func withLast(col *[]float64, last float64, add, copyCols bool) []float64 {
	m := len(*col)
	if copyCols {
		out := make([]float64, m, m+1)
		copy(out, *col)
		if add {
			out = append(out, last)
		}
		return out
	}
	if !add {
		return *col
	}
	out := append(*col, last)
	*col = out[:m]
	return out
}

// SetHeader records what the reader reported when the input ended (the
// header run ingest.Stream returns: Source, Format, Grain, Meta, issues,
// skipped and kept counts); Sample and Report then carry them.
func (s *Stream) SetHeader(h *ingest.Run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.header = h
}

// Records is how many rows have been added.
func (s *Stream) Records() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// Columns returns the name of every column the added chunks had, string
// columns included (Sample leaves most of those out), sorted as
// ingest.Run.Columns sorts them.
func (s *Stream) Columns() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := ingest.NewRun(0)
	for name := range s.cols {
		r.SetColumn(name, nil)
	}
	return r.Columns()
}

// Sample is the run the batch detectors judge, as a new Run the caller
// owns: every row added so far while there are at most SampleRows (string
// columns other than group left out), else every k-th row plus the last
// row, with a step column holding each row's original step (its row index
// in the run when the run has none) and SampleRecordColumn holding its
// original record count.
func (s *Stream) Sample() *ingest.Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sampleRun(true)
}

// Report is the audit of the rows added so far. It can be called at any
// time and does not change the stream. While the stream holds at most
// SampleRows rows it is Audit's report on them, bit for bit; beyond that
// the five streaming detectors, Records and Summary still cover every row,
// the batch detectors, headline and diagnosis judge the sample, and
// Report.Sampled says so.
func (s *Stream) Report() (*Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	run := s.sampleRun(false)
	if s.e == nil {
		// Kind and windows are not decided yet: every row is held.
		return Audit(run, s.cfg)
	}
	cfg := s.cfg
	cfg.Kind = s.kind
	_, batch, err := selectDetectors(cfg.Detectors, nil, s.kind)
	if err != nil {
		return nil, err
	}
	if _, ok := run.Column(ingest.ColReward); run.Len() > 0 && !ok {
		return nil, fmt.Errorf("%w: %w", ErrNoReward, ingest.NoRewardError(run))
	}
	// The batch detectors only read the sample: run them on every core.
	outs := make([]batchOut, len(batch))
	var wg sync.WaitGroup
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, d := range batch {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			outs[i] = runBatch(d, run, cfg)
		}()
	}
	wg.Wait()
	for i, d := range batch {
		if d.Name() == DetGroup && outs[i].ran && outs[i].err == nil && s.sampled() {
			// A sample splits groups: use the rule applied to every row.
			outs[i].res, outs[i].alerts = s.group.result(run)
		}
	}
	rep, err := assemble(s.e, run, cfg, s.win, batch, outs)
	if err != nil {
		return nil, err
	}
	if s.sampled() {
		rep.Sampled = &Sampled{Rows: run.Len(), Of: s.n, Every: s.smp.every}
	}
	return rep, nil
}
