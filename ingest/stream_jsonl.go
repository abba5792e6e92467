package ingest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
)

// streamHeadRows is StreamHeadRows; tests lower it to exercise long runs
// on small inputs.
var streamHeadRows = StreamHeadRows

// jsonlStream is the state of a streaming JSONL read: what the header run
// reports at the end.
type jsonlStream struct {
	p       *jsonlPipe
	name    string
	opt     Options
	fn      func(*Run) error
	iss     jsonlIssues
	order   compOrder
	keys    []string        // source keys seen (for --map checks)
	names   map[string]bool // columns seen, for MaxColumns
	dropped []string        // columns a chunk dropped (sparseBudget), first-seen order
	dropSet map[string]bool
	rows    int // rows delivered
}

// streamJSONL streams a JSONL run read from r (see Stream).
func streamJSONL(r io.Reader, name string, opt Options, rewardspy bool, fn func(*Run) error) (*Run, error) {
	p, err := startJSONL(r, name, opt, rewardspy)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	st := &jsonlStream{p: p, name: name, opt: opt, fn: fn, iss: jsonlIssues{name: name, opt: opt},
		names: map[string]bool{}, dropSet: map[string]bool{}}
	if rewardspy {
		return st.rewardspy()
	}
	return st.generic()
}

// take registers the next batch's issues, component orders, keys and
// columns. It returns the Strict error at the batch's first issue, or the
// error for too many distinct columns.
func (st *jsonlStream) take(b *jsonlBatch) error {
	st.iss.add(b)
	if st.iss.strict != nil {
		return st.iss.strict
	}
	st.order.add(b)
	if !st.p.rewardspy {
		st.keys = append(st.keys, b.keys...)
	}
	for _, bc := range b.cols {
		if bc.has && !st.names[bc.name] {
			st.names[bc.name] = true
			if len(st.names) > MaxColumns {
				return fmt.Errorf("%s: %w", st.name, errTooManyColumns)
			}
		}
	}
	return nil
}

// chunkOf turns a batch into a chunk, noting the columns it dropped.
func (st *jsonlStream) chunkOf(b *jsonlBatch) *Run {
	chunk, dropped := batchRun(b)
	st.noteDropped(dropped)
	return chunk
}

// noteDropped adds columns a chunk dropped to those the header lists.
func (st *jsonlStream) noteDropped(names []string) {
	for _, d := range names {
		if !st.dropSet[d] {
			st.dropSet[d] = true
			st.dropped = append(st.dropped, d)
		}
	}
}

// deliver hands a chunk to fn.
func (st *jsonlStream) deliver(chunk *Run) error {
	st.rows += chunk.Len()
	return st.fn(chunk)
}

// header is the run Stream returns at the end: meta is the last chunk's
// Meta, completed with the final component order and the dropped columns.
func (st *jsonlStream) header(format string, grain Grain, meta map[string]string) (*Run, error) {
	if st.p.readErr != nil {
		return nil, fmt.Errorf("%s: %w", st.name, st.p.readErr)
	}
	if st.rows == 0 && st.iss.skipped > 0 && !st.opt.chunk {
		return nil, st.iss.noRecords()
	}
	h := &Run{Source: st.name, Format: format, Grain: grain, Meta: maps.Clone(meta),
		Issues: st.iss.issues, Skipped: st.iss.skipped, n: st.rows}
	if o := st.order.String(); o != "" {
		h.setMeta(MetaComponentOrder, o)
	}
	setDropped(h, st.dropped, st.dropSet)
	return h, nil
}

// rewardspy streams a rewardspy log: one chunk per parsed batch.
func (st *jsonlStream) rewardspy() (*Run, error) {
	grain := GrainCall
	if st.opt.Grain != "" {
		grain = st.opt.Grain
	}
	meta := map[string]string{MetaKind: "rewardspy"}
	for b := st.p.nextBatch(); b != nil; b = st.p.nextBatch() {
		if err := st.take(b); err != nil {
			return nil, err
		}
		if b.rows == 0 {
			continue
		}
		chunk := st.chunkOf(b)
		chunk.Source, chunk.Format, chunk.Grain = st.name, "rewardspy-jsonl", grain
		chunk.Meta = maps.Clone(meta)
		if o := st.order.String(); o != "" {
			chunk.Meta[MetaComponentOrder] = o
		}
		if err := st.deliver(chunk); err != nil {
			return nil, err
		}
	}
	return st.header("rewardspy-jsonl", grain, meta)
}

// generic streams a generic JSONL log. Up to streamHeadRows rows are
// read into columns as Read reads them; a shorter run is delivered as one
// chunk equal to Read's. A longer one gets its grain and key mapping from
// the head, which are then applied to every later chunk; a head whose rows
// of one step would be merged makes the run read whole after all.
func (st *jsonlStream) generic() (*Run, error) {
	var m *merger
	long := false
	for b := st.p.nextBatch(); b != nil; b = st.p.nextBatch() {
		if err := st.take(b); err != nil {
			return nil, err
		}
		if m == nil {
			rest := fileRowsLeft(st.opt, b)
			if rest < 0 { // a pipe or compressed input: grow as needed
				rest = 16 * b.rows
			}
			m = newMerger(b.rows + min(rest, streamHeadRows+1))
		}
		m.add(b)
		if m.err != nil {
			return nil, fmt.Errorf("%s: %w", st.name, m.err)
		}
		if m.n > streamHeadRows {
			long = true
			break
		}
	}
	if m == nil {
		m = newMerger(0)
	}
	if !long {
		return st.whole(m)
	}
	headRun := m.finish()
	if st.opt.Grain == "" || st.opt.Grain == GrainStep {
		if mergeSameStep(headRun) != nil {
			return st.whole(mergerFrom(headRun))
		}
	}
	st.noteDropped(droppedNames(headRun))
	headRun.Meta = nil
	if o := st.order.String(); o != "" {
		headRun.setMeta(MetaComponentOrder, o)
	}
	headRun.Source, headRun.Format = st.name, "jsonl"
	applyGrain(headRun, st.opt)
	before := numericData(headRun)
	WellKnown(headRun, st.opt)
	if st.opt.Grain != "" {
		headRun.Grain = st.opt.Grain
	}
	plan := wellKnownPlan(before, headRun)
	grain := headRun.Grain
	meta := maps.Clone(headRun.Meta)
	delete(meta, MetaComponentOrder)
	setDropped(headRun, st.dropped, st.dropSet)
	if err := st.deliver(headRun); err != nil {
		return nil, err
	}
	for b := st.p.nextBatch(); b != nil; b = st.p.nextBatch() {
		if err := st.take(b); err != nil {
			return nil, err
		}
		if b.rows == 0 {
			continue
		}
		chunk := st.chunkOf(b)
		plan.apply(chunk)
		chunk.Source, chunk.Format, chunk.Grain = st.name, "jsonl", grain
		chunk.Meta = maps.Clone(meta)
		if o := st.order.String(); o != "" {
			chunk.Meta[MetaComponentOrder] = o
		}
		if err := st.deliver(chunk); err != nil {
			return nil, err
		}
	}
	if err := st.p.km.unseen(st.name, dedupe(st.keys)); err != nil {
		return nil, err
	}
	return st.header("jsonl", grain, meta)
}

// droppedNames lists the columns a run's reader dropped (MetaDroppedColumns).
func droppedNames(run *Run) []string {
	var list []string
	if s := run.Meta[MetaDroppedColumns]; s != "" {
		_ = json.Unmarshal([]byte(s), &list)
	}
	return list
}

// mergerFrom is a merger holding run's columns, to read on into.
func mergerFrom(run *Run) *merger {
	m := newMerger(run.Len())
	m.n = run.Len()
	m.next = 1
	for _, name := range run.Columns() {
		m.names = append(m.names, name)
		if c, ok := run.Column(name); ok {
			m.num[name] = c
			m.values += countValues(c)
		} else {
			c, _ := run.StringColumn(name)
			m.str[name] = c
			for _, x := range c {
				if x != "" {
					m.values++
				}
			}
		}
	}
	return m
}

func countValues(c []float64) int {
	n := 0
	for _, x := range c {
		if !math.IsNaN(x) {
			n++
		}
	}
	return n
}

// whole reads the rest of the input into m and delivers the run as Read
// returns it, in one chunk.
func (st *jsonlStream) whole(m *merger) (*Run, error) {
	for b := st.p.nextBatch(); b != nil; b = st.p.nextBatch() {
		if err := st.take(b); err != nil {
			return nil, err
		}
		m.add(b)
		if m.err != nil {
			return nil, fmt.Errorf("%s: %w", st.name, m.err)
		}
	}
	run := m.finish()
	if o := st.order.String(); o != "" {
		run.setMeta(MetaComponentOrder, o)
	}
	if st.p.readErr != nil {
		return nil, fmt.Errorf("%s: %w", st.name, st.p.readErr)
	}
	run.Issues, run.Skipped = st.iss.issues, st.iss.skipped
	run, err := finishJSONL(run, st.name, st.opt, false, st.p.km, st.keys)
	if err != nil {
		return nil, err
	}
	run.Source, run.Format = st.name, "jsonl"
	WellKnown(run, st.opt)
	if st.opt.Grain != "" {
		run.Grain = st.opt.Grain
	}
	return deliverWhole(run, st.fn)
}

// numericData maps the first cell of each non-empty numeric column of run
// to the column's name: WellKnown moves columns without copying them, so
// this identifies a renamed column afterwards.
func numericData(run *Run) map[*float64]string {
	m := map[*float64]string{}
	for _, name := range run.Columns() {
		if c, ok := run.Column(name); ok && len(c) > 0 {
			m[&c[0]] = name
		}
	}
	return m
}

// wkPlan is what WellKnown did to a stream's head, to be done the same way
// to every later chunk: columns renamed (extra.<key> to a role, reward or
// eval.<name> column), the margin derived from chosen and rejected, the
// reward copied from the margin.
type wkPlan struct {
	renames          [][2]string // from, to
	margin           bool
	rewardFromMargin bool
}

// wellKnownPlan compares the head after WellKnown with its columns before
// (numericData).
func wellKnownPlan(before map[*float64]string, after *Run) wkPlan {
	var pl wkPlan
	for _, name := range after.Columns() {
		c, ok := after.Column(name)
		if !ok || len(c) == 0 {
			continue
		}
		old, ok := before[&c[0]]
		switch {
		case ok && old != name:
			pl.renames = append(pl.renames, [2]string{old, name})
		case !ok && name == ColMargin:
			pl.margin = true
		case !ok && name == ColReward:
			pl.rewardFromMargin = true
		}
	}
	return pl
}

// apply does the plan to a chunk: a rename only when the chunk has the
// source column and not the target.
func (pl wkPlan) apply(run *Run) {
	for _, rn := range pl.renames {
		if c, ok := run.Column(rn[0]); ok && !run.Has(rn[1]) {
			run.DropColumn(rn[0])
			run.SetColumn(rn[1], c)
		}
	}
	if pl.margin && !run.Has(ColMargin) {
		ch, ok1 := run.Column(ColChosen)
		rj, ok2 := run.Column(ColRejected)
		if ok1 && ok2 {
			m := make([]float64, len(ch))
			for i := range m {
				m[i] = ch[i] - rj[i]
			}
			run.SetColumn(ColMargin, m)
		}
	}
	if pl.rewardFromMargin && !run.Has(ColReward) {
		if m, ok := run.Column(ColMargin); ok {
			run.SetColumn(ColReward, append([]float64(nil), m...))
		}
	}
}
