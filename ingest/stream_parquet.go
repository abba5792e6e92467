package ingest

import (
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/metadata"
)

// Streaming Parquet. A plain Parquet file of two or more row groups is
// delivered one row group per chunk, decoded in a goroutine ahead of the
// caller, when the footer's statistics settle before any row is read what
// Read decides on the whole run:
//
//   - which columns the run has: a column is in the run when some row
//     group's statistics show a value (a non-empty string; a number that
//     is not null or NaN), and out of it when every row group shows none;
//   - that no row is dropped and no value reported: every float column's
//     statistics show no ±Inf;
//   - the grain, without merging rows of one step: --grain names call,
//     sample or episode; or the run has a call_id (grain call); or it has
//     a group column and no call_id (grain sample).
//
// Otherwise (no statistics, a possible ±Inf, a step-keyed table whose
// rows might merge, one row group, a compressed or piped input) Stream
// reads the file whole as Read does. The statistics are checked against
// the values as they are decoded: a file whose statistics contradict its
// values is corrupt, and the stream ends with an error naming the column
// and row.

// streamParquet streams the Parquet file r (an *os.File positioned at the
// PAR1 magic) by row group, as described above; chunks follow Stream's
// contract and Concat of them equals what Read returns. ok is false, with
// nothing read from r's position, when r is not such a file or the file
// cannot be streamed: the caller then reads it with Read.
func streamParquet(r io.Reader, name string, opt Options, fn func(*Run) error) (header *Run, ok bool, err error) {
	if opt.Format != "" && opt.Format != "parquet" {
		return nil, false, nil
	}
	f, isFile := r.(*os.File)
	if !isFile {
		return nil, false, nil
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, false, nil
	}
	var magic [4]byte
	if _, err := f.ReadAt(magic[:], off); err != nil || string(magic[:]) != "PAR1" {
		return nil, false, nil
	}
	opt.src, opt.srcOff = f, off
	if _, err := statFile(opt); err != nil {
		return nil, false, nil
	}
	plan := planPQStream(name, opt)
	if plan == nil {
		return nil, false, nil
	}
	defer plan.pq.pf.Close()
	return plan.run(name, opt, fn)
}

// pqStream is a plan to stream one Parquet file.
type pqStream struct {
	pq      *pqFile
	read    []int  // columns to decode, in schema order
	present []bool // by column: in the run (per the statistics)
	grain   Grain
	meta    map[string]string // Meta of every chunk, before WellKnown
}

// planPQStream opens the file and decides whether it can be streamed; nil
// when it cannot (or cannot be opened: Read then says why).
func planPQStream(name string, opt Options) (plan *pqStream) {
	defer func() {
		if p := recover(); p != nil {
			if plan != nil {
				plan.pq.pf.Close()
			}
			plan = nil
		}
	}()
	pq, err := openParquet(nil, name, opt)
	if err != nil {
		return nil
	}
	plan = &pqStream{pq: pq, present: make([]bool, len(pq.dests))}
	fail := func() *pqStream { pq.pf.Close(); plan = nil; return nil }
	if pq.pf.NumRowGroups() < 2 || pq.n == 0 || (opt.Strict && len(pq.issues) > 0) ||
		pq.km.unseen(name, pq.have) != nil {
		return fail()
	}
	var call, group, callUnknown bool
	for j, d := range pq.dests {
		if d.skip != "" {
			continue
		}
		var present, known bool
		if d.lazy {
			if d.name != ColCallID && d.name != ColGroup {
				continue // never read when the grain is settled here
			}
			if !d.isStr {
				return fail()
			}
			present, known = pqStringPresence(pq.pf, j)
		} else {
			present, known = pqPresence(pq.pf, j, d)
			if !known {
				return fail()
			}
			plan.read = append(plan.read, j)
			plan.present[j] = present
		}
		switch d.name {
		case ColCallID:
			call = call || present
			callUnknown = callUnknown || !known
		case ColGroup:
			group = group || present
		}
	}
	switch {
	case opt.Grain != "" && opt.Grain != GrainStep:
		plan.grain = opt.Grain
	case call:
		plan.grain = GrainCall
	case group && !callUnknown:
		plan.grain = GrainSample
	default:
		return fail() // a step-keyed table: its rows may merge
	}
	if len(pq.comps) > 0 {
		plan.meta = map[string]string{MetaComponentOrder: jsonStringList(pq.comps)}
	}
	// WellKnown infers the grain again when it names a reward_std column;
	// that inference looks at the whole step column unless the run has a
	// call_id or group column or --grain is set.
	probe := plan.chunk(name, opt, 0, nil)
	if opt.Grain == "" && !probe.Has(ColCallID) && !probe.Has(ColGroup) {
		hadStd := false
		for _, j := range plan.read {
			if n := pq.dests[j].name; plan.present[j] && (n == ColRewardStd || n == ColZeroStdFrac) {
				hadStd = true
			}
		}
		if !hadStd && (probe.Has(ColRewardStd) || probe.Has(ColZeroStdFrac)) {
			return fail()
		}
	}
	return plan
}

// pqPresence says, from the statistics of column j alone, whether it holds
// a value in some row group (present), and whether that is known (known):
// a row group of nulls only holds none; one whose largest string is ""
// holds none, a larger one holds one; an integer or boolean row group with
// a non-null value holds one; a float row group with a finite minimum and
// maximum holds one (and no ±Inf). A float column is known only when
// every row group rules out ±Inf that way.
func pqPresence(pf *file.Reader, j int, d *pqDest) (present, known bool) {
	md := pf.MetaData()
	for g := 0; g < pf.NumRowGroups(); g++ {
		cc, err := md.RowGroup(g).ColumnChunk(j)
		if err != nil {
			return false, false
		}
		if cc.NumValues() == 0 {
			continue
		}
		if ok, err := cc.StatsSet(); err != nil || !ok {
			if present && !d.isFloat {
				return true, true
			}
			return false, false
		}
		st, err := cc.Statistics()
		if err != nil || st == nil || !st.HasNullCount() {
			if present && !d.isFloat {
				return true, true
			}
			return false, false
		}
		if st.NullCount() >= cc.NumValues() {
			continue
		}
		switch s := st.(type) {
		case *metadata.ByteArrayStatistics:
			if !s.HasMinMax() {
				return present, present
			}
			present = present || len(s.Max()) > 0
		case *metadata.Float64Statistics:
			if !s.HasMinMax() || !finite(s.Min()) || !finite(s.Max()) {
				return false, false
			}
			present = true
		case *metadata.Float32Statistics:
			if !s.HasMinMax() || !finite(float64(s.Min())) || !finite(float64(s.Max())) {
				return false, false
			}
			present = true
		default:
			present = true
		}
		if present && !d.isFloat {
			return true, true
		}
	}
	return present, true
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// chunk builds the run of one row group from its decoded columns (cols[k]
// is plan.read[k]: a []float64 or a []string; nil builds an empty probe).
func (p *pqStream) chunk(name string, opt Options, rows int, cols []any) *Run {
	run := NewRun(rows)
	run.Source, run.Format, run.Grain = name, "parquet", p.grain
	if p.meta != nil {
		run.Meta = make(map[string]string, len(p.meta)+2)
		for k, v := range p.meta {
			run.Meta[k] = v
		}
	}
	for k, j := range p.read {
		if !p.present[j] {
			continue
		}
		d := p.pq.dests[j]
		switch {
		case cols == nil && d.isStr:
			run.SetStringColumn(d.name, make([]string, rows))
		case cols == nil:
			run.SetColumn(d.name, make([]float64, rows))
		case d.isStr:
			run.SetStringColumn(d.name, cols[k].([]string))
		default:
			run.SetColumn(d.name, cols[k].([]float64))
		}
	}
	WellKnown(run, opt)
	if opt.Grain != "" {
		run.Grain = opt.Grain
	}
	return run
}

// pqChunk is one decoded row group, or the error that ends the stream.
type pqChunk struct {
	run *Run
	err error
}

// run decodes the row groups in a goroutine (its columns on all cores) one
// ahead of fn, checks them against the statistics the plan relied on, and
// hands them to fn in order.
func (p *pqStream) run(name string, opt Options, fn func(*Run) error) (*Run, bool, error) {
	out := make(chan pqChunk, 1)
	stop := make(chan struct{})
	go p.decode(name, opt, out, stop)
	defer func() {
		// Also when fn panics: stop the decoder and wait until it no
		// longer reads the file.
		close(stop)
		for range out {
		}
	}()
	h := &Run{Source: name, Format: "parquet", Grain: p.grain, Meta: p.meta}
	total := 0
	for c := range out {
		if c.err != nil {
			return nil, true, c.err
		}
		if err := fn(c.run); err != nil {
			return nil, true, err
		}
		h = Header(c.run)
		total += c.run.Len()
	}
	h.Issues, h.Skipped, h.Kept = p.pq.issues, 0, 0
	h.n = total
	return h, true, nil
}

func (p *pqStream) decode(name string, opt Options, out chan<- pqChunk, stop <-chan struct{}) {
	defer close(out)
	pf, dests := p.pq.pf, p.pq.dests
	send := func(c pqChunk) bool {
		select {
		case out <- c:
			return true
		case <-stop:
			return false
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(p.read))
	scratch := make([]pqScratch, workers)
	// Each goroutine reads through its own reader, whose page buffers are
	// recycled once a column chunk is read.
	readers := make([]*file.Reader, workers)
	pools := make([]*pqPool, workers)
	for w := range readers {
		pools[w] = &pqPool{}
		r, err := p.pq.reopen(pools[w])
		if err != nil {
			send(pqChunk{err: fmt.Errorf("%s: %w: cannot read Parquet metadata: %v", name, ErrNotARun, err)})
			return
		}
		defer r.Close()
		readers[w] = r
	}
	seen := make([]bool, len(dests))
	off := 0
	for g := 0; g < pf.NumRowGroups(); g++ {
		rows := int(pf.MetaData().RowGroup(g).NumRows())
		if rows < 0 || off+rows > p.pq.n {
			// Read says the same, naming the first column.
			send(pqChunk{err: fmt.Errorf("%s: column %q: %w: corrupt Parquet data: row group %d has %d rows, more than the file says",
				name, p.pq.have[p.read[0]], ErrNotARun, g, rows)})
			return
		}
		cols := make([]any, len(p.read))
		errs := make([]error, len(p.read))
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(sc *pqScratch, pf *file.Reader, pool *pqPool) {
				defer wg.Done()
				for k := int(next.Add(1) - 1); k < len(p.read); k = int(next.Add(1) - 1) {
					j := p.read[k]
					d := dests[j]
					var num []float64
					var str []string
					if d.isStr {
						str = make([]string, rows)
						cols[k] = str
					} else {
						num = make([]float64, rows)
						cols[k] = num
					}
					err := readPQGroup(pf, g, j, d, num, str, sc)
					pool.recycle()
					if err != nil {
						errs[k] = fmt.Errorf("%s: column %q: %w: corrupt Parquet data: %v", name, p.pq.have[j], ErrNotARun, err)
						continue
					}
					errs[k] = p.check(name, j, off, num, str, &seen[j])
				}
			}(&scratch[w], readers[w], pools[w])
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				send(pqChunk{err: err})
				return
			}
		}
		off += rows
		if rows > 0 && !send(pqChunk{run: p.chunk(name, opt, rows, cols)}) {
			return
		}
	}
	if off != p.pq.n {
		send(pqChunk{err: fmt.Errorf("%s: column %q: %w: corrupt Parquet data: %d rows in row groups, the footer says %d",
			name, p.pq.have[p.read[0]], ErrNotARun, off, p.pq.n)})
		return
	}
	for _, j := range p.read {
		if p.present[j] && !seen[j] {
			send(pqChunk{err: fmt.Errorf("%s: column %q: %w: corrupt Parquet file: its statistics say it holds values, it holds none",
				name, p.pq.have[j], ErrNotARun)})
			return
		}
	}
}

// check holds a decoded row group of column j (rows from off) to what
// the plan read from the statistics: no ±Inf, and no value in a column
// said to have none. seen is set when the column holds a value.
func (p *pqStream) check(name string, j, off int, num []float64, str []string, seen *bool) error {
	for i, s := range str {
		if s != "" {
			if !p.present[j] {
				return pqStatsLie(name, p.pq.have[j], off+i)
			}
			*seen = true
			break
		}
	}
	if num == nil {
		return nil
	}
	if !p.present[j] {
		for i, x := range num {
			if x == x {
				return pqStatsLie(name, p.pq.have[j], off+i)
			}
		}
		return nil
	}
	if p.pq.dests[j].isFloat {
		for i, x := range num {
			if x-x != 0 && math.IsInf(x, 0) { // x-x is NaN for ±Inf and NaN only
				return pqStatsLie(name, p.pq.have[j], off+i)
			}
		}
	}
	for _, x := range num {
		if x == x {
			*seen = true
			break
		}
	}
	return nil
}

func pqStatsLie(name, col string, row int) error {
	return fmt.Errorf("%s: row %d: column %q: %w: corrupt Parquet file: the value contradicts the column's statistics",
		name, row+1, col, ErrNotARun)
}

// pqPool is the page buffer allocator of one decoding goroutine's Parquet
// reader. The library frees a page's buffer while a dictionary decoded
// from it may still point into it, so a freed buffer is reused only after
// recycle, which the goroutine calls once it has read a whole column chunk
// (and copied out every value). Buffers are 64-byte aligned, as the
// library expects, in power-of-two size classes from 4 KiB; reused ones
// are not zeroed (the library overwrites what it reads).
type pqPool struct {
	free    map[int][][]byte // by class size
	pending [][]byte
}

func (p *pqPool) Allocate(size int) []byte {
	c := 4 << 10
	for c < size {
		c <<= 1
	}
	if l := p.free[c]; len(l) > 0 {
		b := l[len(l)-1]
		p.free[c] = l[:len(l)-1]
		return b[:size]
	}
	buf := make([]byte, c+64)
	shift := int(-uintptr(unsafe.Pointer(unsafe.SliceData(buf)))) & 63
	return buf[shift : shift+size : shift+c]
}

func (p *pqPool) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		return b[:size]
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

func (p *pqPool) Free(b []byte) {
	if c := cap(b); c >= 4<<10 && c&(c-1) == 0 && uintptr(unsafe.Pointer(unsafe.SliceData(b)))&63 == 0 {
		p.pending = append(p.pending, b[:c])
	}
}

// recycle makes the buffers freed since the last call available again.
func (p *pqPool) recycle() {
	if p.free == nil {
		p.free = map[int][][]byte{}
	}
	for i, b := range p.pending {
		p.free[cap(b)] = append(p.free[cap(b)], b)
		p.pending[i] = nil
	}
	p.pending = p.pending[:0]
}
