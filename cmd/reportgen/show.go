package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
	"golang.org/x/term"
)

func init() {
	register(&command{
		name:    "show",
		summary: "live terminal view of a run; --follow tails a growing log",
		run:     runShow,
	})
}

const showAbout = `Shows a run in a full-screen terminal view: the verdict and why, reward
statistics over the last window, one line per detector, the reward curve,
component shares (negative means marked), the latest alerts and records.
With --follow it tails the file as training appends to it: a half-written
last line waits for its newline, a truncated or rotated log is read again
from the start, a missing log is waited for, malformed lines are counted.
Line formats (rewardspy/generic JSONL, verl logs, CSV, SB3 monitor.csv,
rewardguard logs) are read incrementally; Parquet, TensorBoard files,
trainer_state.json and .gz files are re-read whole when they change.

Keys: q quit; p pause/resume the display (records keep being read); e
export: re-read the file and write every record (the last N with --last)
as goodhart CSV to --export, atomically.

When stdout is not a terminal (a pipe, a CI log) it prints a plain summary
of the file as it is now and exits with audit's exit code (0 clean,
1 flagged, 2 bad input). NO_COLOR turns colour off.`

// showOptions is everything runShow parsed.
type showOptions struct {
	in       inputFlags
	audit    auditFlags
	follow   bool
	interval time.Duration
	export   string
	expected string
	path     string
	cfg      analysis.Config
	weights  map[string]float64 // --expected
}

func runShow(args []string, stdout, stderr io.Writer) int {
	var o showOptions
	fs := newFlagSet("show", "show RUN [--follow] [--interval 500ms] [flags]", showAbout,
		"reportgen show runs/grpo.jsonl --follow --max-reward 1", stdout)
	o.in.register(fs)
	o.audit.register(fs)
	fs.BoolVar(&o.follow, "follow", false, "keep reading the file as it grows (Ctrl-C or q to stop)")
	fs.DurationVar(&o.interval, "interval", 500*time.Millisecond, "how often to check the file and redraw")
	fs.StringVar(&o.expected, "expected", "", "intended component split, task=0.7,format=0.3 or food:60,survival:40: shows the balance over the last 200 records")
	fs.StringVar(&o.export, "export", "", "CSV file the e key writes (default: RUN's name + .export.csv, in the current directory)")
	pos, help, err := parseArgs(fs, args)
	if help {
		return exitOK
	}
	if err != nil {
		return usageError(stderr, "show", "%v", err)
	}
	if len(pos) != 1 {
		return usageError(stderr, "show", "want exactly one RUN file, got %d", len(pos))
	}
	o.path = pos[0]
	if err := checkDuration("interval", o.interval, minInterval, maxInterval); err != nil {
		return usageError(stderr, "show", "%v", err)
	}
	if err := checkInts(intRange{"last", o.in.last, 0, math.MaxInt}, intRange{"window", o.audit.window, 0, maxShowWindow}); err != nil {
		return usageError(stderr, "show", "%v", err)
	}
	if o.cfg, err = o.audit.config(fs); err != nil {
		return usageError(stderr, "show", "%v", err)
	}
	if err := o.cfg.Validate(); err != nil {
		return usageError(stderr, "show", "%v", err)
	}
	if o.expected != "" {
		if o.weights, err = parseWeights(o.expected); err != nil {
			return usageError(stderr, "show", "--expected: %v", err)
		}
		if _, err := analysis.NewMonitor(o.weights, analysis.MonitorOptions{}); err != nil {
			return usageError(stderr, "show", "--expected: %v", err)
		}
	}
	if _, err := o.in.options(); err != nil {
		return usageError(stderr, "show", "%v", err)
	}
	if o.export == "" {
		o.export = defaultExportName(o.path)
	}
	if c := refuseOverwrite(stderr, "show", runArgs(pos), []fileArg{{"--export", o.export}}); c >= 0 {
		return c
	}
	if o.path == ingest.StdinName {
		// The log comes on standard input: it cannot be followed, and the
		// view is the plain summary of what was read.
		if o.follow {
			return usageError(stderr, "show", "--follow needs a file: standard input (-) cannot be followed")
		}
		return runShowPlain(&o, stdout, stderr)
	}
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return runShowTUI(&o, stderr)
	}
	return runShowPlain(&o, stdout, stderr)
}

// defaultExportName is RUN's base name without .gz and extension, plus
// ".export.csv", in the current directory.
func defaultExportName(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), ".gz")
	if ext := filepath.Ext(base); ext != "" && ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	return base + ".export.csv"
}

// runShowPlain reads the run once and prints the summary (stdout is not a
// terminal: a pipe, a CI log). Verdict, detectors, alerts and exit code are
// exactly `reportgen audit`'s; the overview is the live view's.
func runShowPlain(o *showOptions, stdout, stderr io.Writer) int {
	run, err := o.in.load(o.path, stderr)
	if err != nil {
		return inputError(stderr, err)
	}
	if o.weights != nil {
		if err := checkExpected(o.weights, run); err != nil {
			return expectedError(stderr, "show", err)
		}
	}
	rep, err := auditRun(o.path, run, o.cfg)
	if err != nil {
		return inputError(stderr, err)
	}
	m := newShowModel(o.path, o.cfg, 0, o.weights)
	m.batchEvery = -1 // Audit ran the batch detectors over the whole run
	m.apply(ingest.FollowEvent{Kind: ingest.FollowRecords, Run: run})
	m.apply(ingest.FollowEvent{Kind: ingest.FollowIdle})
	v := m.view()
	v.fromReport(rep)
	writePlainSummary(stdout, v)
	return rep.ExitCode
}

// fromReport replaces the view's verdict, detectors and alerts by an audit
// report's.
func (v *showView) fromReport(rep *analysis.Report) {
	v.Verdict, v.ExitCode, v.Detectors = rep.Verdict, rep.ExitCode, rep.Detectors
	v.Class, v.Headline = rep.Class, rep.Headline
	v.Diagnosis = strings.Split(rep.HumanDiagnosis(), "\n")
	v.TotalAlerts = len(rep.Alerts)
	v.Alerts = nil
	for i := len(rep.Alerts) - 1; i >= 0 && len(v.Alerts) < keepAlerts; i-- {
		v.Alerts = append(v.Alerts, rep.Alerts[i])
	}
}

func showPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Sizes of the bounded buffers the live view keeps: memory and redraw cost
// do not grow with the run.
const (
	keepAlerts  = 64   // latest alerts shown
	keepRecords = 64   // latest records shown
	keepRows    = 5000 // recent rows the batch detectors look at
	batchPeriod = 2 * time.Second
	curveBins   = 1024 // reward curve resolution (whole run, downsampled)
	noticeTTL   = 30 * time.Second
	diagEvery   = time.Second
)

// showRow is one record as the view lists it.
type showRow struct {
	Record  int     // 1-based record number (rewardspy's step)
	Step    float64 // the run's own step
	Reward  float64
	Length  float64
	Comps   []analysis.ComponentValue
	rec     analysis.Record
	counted bool
}

// showModel folds followed records into the engine and bounded aggregates.
// All methods are safe for concurrent use: the follower feeds it while the
// UI draws from it.
type showModel struct {
	mu sync.Mutex
	showState
}

// showState is the model's data, reset as a whole when the file restarts.
type showState struct {
	path string
	cfg  analysis.Config
	last int

	format string
	grain  ingest.Grain
	offset int64

	// Initial phase: until the follower first catches up, records are held
	// when the window depends on the run's length (step grain, no --window)
	// or only the last N count (--last).
	caughtUp bool
	held     []showRow
	heldHead int // --last: ring start in held

	eng *analysis.Engine
	win analysis.Windows

	records  int // records read (including those without a reward)
	counted  int // records pushed with a reward
	noReward int
	rewards  *floatRing // last W rewards
	first    []float64  // the first W rewards, for the variance baseline
	baseStd  float64
	hasBase  bool
	lifeMax  float64

	compNames []string
	compIdx   map[string]int
	compSum   []float64 // sums over the last W counted records
	compN     []int
	compRing  [][]float64 // last W component vectors (NaN = absent)
	compHead  int

	curve   downsampler
	alerts  []analysis.Alert // ring, keepAlerts
	alertN  int
	recent  []showRow // ring, keepRecords
	recentN int

	skipped    int
	firstIssue string
	lastIssue  string
	notice     string
	noticeAt   time.Time
	resets     int
	waiting    bool

	rep      *analysis.Report
	repDirty bool      // records arrived since rep
	repFresh bool      // refresh rep at the next view
	repAt    time.Time // when rep was made
	version  int       // bumped on every change, for redraw decisions

	// --expected: the balance monitor over the last 200 records.
	weights map[string]float64
	monitor *analysis.Monitor

	// Batch detectors (divergence, truncation, group, ...) run over the
	// last keepRows rows at most every batchPeriod (batchEvery < 0: never).
	recentRuns  []*ingest.Run
	recentRows  int
	batchEvery  time.Duration
	batchAt     time.Time
	batchDirty  bool
	batchRes    []analysis.NamedResult
	batchAlerts []analysis.Alert // of the last batch run, steps of the whole file
	batchBase   int              // records dropped from the recent rows

	// kind is the kind of run (analysis.AuditKind of the first batch). For
	// kinds other than rewardspy the live verdict is the full audit of the
	// recent rows (kindRep), as `reportgen audit` judges them.
	kind    analysis.Kind
	kindRep *analysis.Report
}

func newShowModel(path string, cfg analysis.Config, last int, weights map[string]float64) *showModel {
	m := &showModel{showState: showState{path: path, cfg: cfg, last: last, weights: weights, batchEvery: batchPeriod}}
	m.clear()
	return m
}

// clear forgets every record (start, or the file was truncated/replaced).
func (m *showModel) clear() {
	m.showState = showState{path: m.path, cfg: m.cfg, last: m.last, format: m.format, grain: m.grain,
		skipped: m.skipped, firstIssue: m.firstIssue, lastIssue: m.lastIssue,
		notice: m.notice, noticeAt: m.noticeAt, resets: m.resets, version: m.version + 1,
		compIdx: map[string]int{}, lifeMax: math.Inf(-1), weights: m.weights, batchEvery: m.batchEvery}
	if m.weights != nil {
		m.monitor, _ = analysis.NewMonitor(m.weights, analysis.MonitorOptions{}) // validated by runShow
	}
	m.curve = downsampler{cap: curveBins, width: 1}
}

// apply is the follower callback.
func (m *showModel) apply(ev ingest.FollowEvent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.version++
	switch ev.Kind {
	case ingest.FollowNotice:
		m.setNotice(ev.Msg)
		m.waiting = true
	case ingest.FollowReset:
		m.resets++
		m.clear()
		m.setNotice(ev.Msg)
	case ingest.FollowIdle:
		m.offset = ev.Offset
		if !m.caughtUp {
			m.caughtUp = true
			m.flushHeld()
		}
		m.runBatch(true)
		m.repFresh = m.repDirty
	case ingest.FollowRecords:
		if m.waiting {
			m.waiting = false
			m.notice = "" // the file appeared, or can now be read
		}
		m.offset = ev.Offset
		m.addBatch(ev.Run)
		m.runBatch(false)
	}
	return nil
}

func (m *showModel) setNotice(msg string) {
	m.notice, m.noticeAt = msg, time.Now()
}

func (m *showModel) addBatch(run *ingest.Run) {
	if run.Format != "" {
		m.format = run.Format
	}
	if run.Grain != "" {
		m.grain = run.Grain
	}
	m.skipped += run.Skipped
	if len(run.Issues) > 0 {
		if m.firstIssue == "" {
			m.firstIssue = run.Issues[0].Error()
		}
		m.lastIssue = run.Issues[len(run.Issues)-1].Error()
	}
	n := run.Len()
	if n == 0 {
		return
	}
	rew, hasRew := run.Column(ingest.ColReward)
	steps, hasStep := run.Column(ingest.ColStep)
	lens, hasLen := run.Column(ingest.ColLength)
	m.keepRecent(run)
	names := componentOrder(run)
	cols := make([][]float64, len(names))
	for i, c := range names {
		cols[i], _ = run.Column(ingest.ComponentPrefix + c)
	}
	for i := 0; i < n; i++ {
		m.records++
		row := showRow{Record: m.records, Step: float64(m.records - 1), Reward: math.NaN(), Length: math.NaN()}
		if hasStep {
			row.Step = steps[i]
		}
		if hasRew {
			row.Reward = rew[i]
		}
		if hasLen {
			row.Length = lens[i]
		}
		for j, c := range names {
			if v := cols[j][i]; !math.IsNaN(v) {
				row.Comps = append(row.Comps, analysis.ComponentValue{Name: c, Value: v})
			}
		}
		row.rec = analysis.Record{RunStep: row.Step, Reward: row.Reward, Length: row.Length, Components: row.Comps}
		m.hold(row)
	}
}

// holding reports whether records wait for the first catch-up.
func (m *showModel) holding() bool {
	if m.caughtUp {
		return false
	}
	return m.last > 0 || (m.cfg.Window == 0 && m.grain == ingest.GrainStep)
}

func (m *showModel) hold(row showRow) {
	if !m.holding() {
		m.push(row)
		return
	}
	if m.last > 0 && len(m.held) == m.last {
		m.held[m.heldHead] = row
		m.heldHead = (m.heldHead + 1) % m.last
		return
	}
	m.held = append(m.held, row)
}

// flushHeld pushes the held records, oldest first, once the run's length
// is known.
func (m *showModel) flushHeld() {
	held := append(m.held[m.heldHead:], m.held[:m.heldHead]...)
	m.held, m.heldHead = nil, 0
	if m.eng == nil {
		m.startEngine(len(held))
	}
	for i, row := range held {
		row.Record = i + 1
		m.push(row)
	}
	if m.last > 0 {
		m.records = len(held)
	}
}

func (m *showModel) startEngine(n int) {
	r := ingest.NewRun(n)
	r.Grain = m.grain
	m.win = analysis.WindowFor(r, m.cfg)
	m.eng = analysis.NewEngine(m.cfg, m.win)
	m.eng.SetGrain(m.grain)
	m.rewards = newFloatRing(m.win.W)
	m.compRing = make([][]float64, m.win.W)
}

// push feeds one record to the engine and the aggregates.
func (m *showModel) push(row showRow) {
	if m.eng == nil {
		m.startEngine(0)
	}
	m.recent = ringPut(m.recent, &m.recentN, keepRecords, row)
	if math.IsNaN(row.Reward) || math.IsInf(row.Reward, 0) {
		m.noReward++
		return
	}
	for _, a := range m.eng.Push(row.rec) {
		m.alerts = ringPut(m.alerts, &m.alertN, keepAlerts, a)
	}
	m.counted++
	m.repDirty = true
	x := row.Reward
	m.rewards.push(x)
	m.curve.add(x)
	m.lifeMax = max(m.lifeMax, x)
	if len(m.first) < m.win.W {
		m.first = append(m.first, x)
		if len(m.first) == m.win.W {
			// rewardspy's variance baseline: the first max(2, 0.2 n) records
			// at the first full window.
			k := max(2, int(0.2*float64(len(m.first))))
			m.baseStd, m.hasBase = analysis.Pstdev(m.first[:k]), true
			m.first = m.first[:m.win.W:m.win.W]
		}
	}
	m.addComponents(row.Comps)
	if m.monitor != nil && len(row.Comps) > 0 {
		vals := make(map[string]float64, len(row.Comps))
		for _, c := range row.Comps {
			if _, named := m.weights[c.Name]; c.Name != ingest.TotalComponent || named {
				vals[c.Name] = c.Value
			}
		}
		m.monitor.Step(vals) // non-finite values are refused and skipped
	}
}

// componentOrder is the order components first appear in a batch
// (Run.Meta[MetaComponentOrder] when the reader records it, then the rest
// by name), as Audit feeds them to the engine.
func componentOrder(run *ingest.Run) []string {
	names := run.Components()
	var listed []string
	if s := run.Meta[ingest.MetaComponentOrder]; s != "" {
		_ = json.Unmarshal([]byte(s), &listed)
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	var out []string
	for _, n := range listed {
		if have[n] {
			out = append(out, n)
			have[n] = false
		}
	}
	for _, n := range names {
		if have[n] {
			out = append(out, n)
		}
	}
	return out
}

// keepRecent keeps the batches covering the last keepRows rows.
func (m *showModel) keepRecent(run *ingest.Run) {
	if m.batchEvery < 0 || run.Len() == 0 {
		return
	}
	m.recentRuns = append(m.recentRuns, run)
	m.recentRows += run.Len()
	for len(m.recentRuns) > 1 && m.recentRows-m.recentRuns[0].Len() >= keepRows {
		m.recentRows -= m.recentRuns[0].Len()
		m.batchBase += m.recentRuns[0].Len()
		m.recentRuns[0] = nil
		m.recentRuns = m.recentRuns[1:]
	}
	m.batchDirty = true
}

// runBatch runs the registered batch detectors that apply over the recent
// rows, at most every batchEvery unless now.
func (m *showModel) runBatch(now bool) {
	if m.batchEvery < 0 || !m.batchDirty || m.holding() || len(m.recentRuns) == 0 {
		return
	}
	if !now && time.Since(m.batchAt) < m.batchEvery {
		return
	}
	m.batchAt, m.batchDirty = time.Now(), false
	run := concatRuns(m.recentRuns, m.grain)
	if m.last > 0 && run.Len() > m.last+m.batchBase {
		run = run.Last(m.last)
	}
	base := m.counted - run.Len() // records before the recent rows
	m.batchRes, m.batchAlerts = m.batchRes[:0], m.batchAlerts[:0]
	if m.kind == "" {
		m.kind = analysis.AuditKind(run, m.cfg)
	}
	if m.kind != analysis.KindRewardspy {
		if rep, err := analysis.Audit(run, m.cfg); err == nil {
			for i := range rep.Alerts {
				rep.Alerts[i].Step += max(base, 0)
			}
			m.kindRep = rep
		}
		m.repDirty = true
		return
	}
	for _, d := range batchDetectors(m.cfg) {
		if d.Applies(run, m.cfg) {
			res, alerts := d.Detect(run, m.cfg)
			m.batchRes = append(m.batchRes, analysis.NamedResult{Name: d.Name(), Result: res})
			for _, a := range alerts {
				a.Step += max(base, 0)
				m.batchAlerts = append(m.batchAlerts, a)
			}
		}
	}
	m.repDirty = true
}

// batchDetectors are the registered batch detectors cfg.Detectors selects
// (all of them for "all" or none given; none for "rewardspy").
func batchDetectors(cfg analysis.Config) []analysis.Detector {
	all := len(cfg.Detectors) == 0
	named := map[string]bool{}
	for _, d := range cfg.Detectors {
		all = all || d == "all"
		named[d] = true
	}
	if all {
		// The rewardspy kind's default set (the live view judges other kinds
		// with a full audit of the recent rows).
		for _, n := range analysis.KindDetectors(analysis.KindRewardspy) {
			named[n] = true
		}
	}
	var out []analysis.Detector
	for _, d := range analysis.Registered() {
		if named[d.Name()] {
			out = append(out, d)
		}
	}
	return out
}

// concatRuns joins batches into one run (columns missing from a batch are
// NaN / "" there).
func concatRuns(runs []*ingest.Run, grain ingest.Grain) *ingest.Run {
	n := 0
	for _, r := range runs {
		n += r.Len()
	}
	out := ingest.NewRun(n)
	last := runs[len(runs)-1]
	out.Source, out.Format, out.Grain, out.Meta = last.Source, last.Format, grain, last.Meta
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
				c, ok := q.Column(name)
				if ok {
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

// addComponents keeps per-component sums over the last W records.
func (m *showModel) addComponents(comps []analysis.ComponentValue) {
	vec := m.compRing[m.compHead]
	if vec != nil { // evict the oldest
		for i, v := range vec {
			if !math.IsNaN(v) {
				m.compSum[i] -= v
				m.compN[i]--
			}
		}
	}
	vec = vec[:0]
	for _, c := range comps {
		i, ok := m.compIdx[c.Name]
		if !ok {
			i = len(m.compNames)
			m.compIdx[c.Name] = i
			m.compNames = append(m.compNames, c.Name)
			m.compSum = append(m.compSum, 0)
			m.compN = append(m.compN, 0)
		}
		for len(vec) <= i {
			vec = append(vec, math.NaN())
		}
		vec[i] = c.Value
		m.compSum[i] += c.Value
		m.compN[i]++
	}
	if vec == nil {
		vec = []float64{}
	}
	m.compRing[m.compHead] = vec
	m.compHead = (m.compHead + 1) % len(m.compRing)
}

// ringPut appends x to a ring of capacity n; *count counts all puts.
func ringPut[T any](ring []T, count *int, n int, x T) []T {
	if len(ring) < n {
		ring = append(ring, x)
	} else {
		ring[*count%n] = x
	}
	*count++
	return ring
}

// ringNewest returns up to k items of a ring, newest first.
func ringNewest[T any](ring []T, count int, k int) []T {
	var out []T
	for i := 0; i < len(ring) && i < k; i++ {
		out = append(out, ring[(count-1-i+len(ring)*2)%len(ring)])
	}
	return out
}

// floatRing keeps the last n values.
type floatRing struct {
	buf  []float64
	head int
	full bool
}

func newFloatRing(n int) *floatRing { return &floatRing{buf: make([]float64, 0, n)} }

func (r *floatRing) push(x float64) {
	if len(r.buf) < cap(r.buf) {
		r.buf = append(r.buf, x)
		return
	}
	r.buf[r.head] = x
	r.head = (r.head + 1) % len(r.buf)
}

// values returns the values oldest first (a new slice).
func (r *floatRing) values() []float64 {
	out := make([]float64, 0, len(r.buf))
	out = append(out, r.buf[r.head:]...)
	return append(out, r.buf[:r.head]...)
}

// downsampler keeps the whole reward history in at most cap bins: when the
// bins are full, neighbours are merged pairwise and each bin covers twice as
// many records. Memory is O(cap) whatever the run's length.
type downsampler struct {
	cap   int
	width int // records per full bin
	sum   []float64
	n     []int
	total int
}

func (d *downsampler) add(x float64) {
	d.total++
	if k := len(d.n); k > 0 && d.n[k-1] < d.width {
		d.sum[k-1] += x
		d.n[k-1]++
		return
	}
	if len(d.n) == d.cap {
		half := d.cap / 2
		for i := 0; i < half; i++ {
			d.sum[i] = d.sum[2*i] + d.sum[2*i+1]
			d.n[i] = d.n[2*i] + d.n[2*i+1]
		}
		d.sum, d.n = d.sum[:half], d.n[:half]
		d.width *= 2
	}
	d.sum = append(d.sum, x)
	d.n = append(d.n, 1)
}

// points returns the bin means, oldest first.
func (d *downsampler) points() []float64 {
	out := make([]float64, len(d.n))
	for i := range out {
		out[i] = d.sum[i] / float64(d.n[i])
	}
	return out
}

// showView is a snapshot of everything the screen shows: built under the
// model's lock, drawn without it. Its size is bounded.
type showView struct {
	Path, Format  string
	Grain         ingest.Grain
	Records       int // records read
	Counted       int // with a reward
	NoReward      int
	Skipped       int
	FirstIssue    string
	LastIssue     string
	Offset        int64
	Waiting       bool
	Window        int
	Verdict       string
	Class         analysis.Class
	Headline      string
	Diagnosis     []string
	ExitCode      int
	Summary       *analysis.Summary
	Trend         string
	CeilingShare  float64 // NaN: not known
	Ceiling       float64
	VarRatio      float64 // NaN: no baseline yet
	Detectors     []analysis.NamedResult
	Curve         []float64
	CurveRecords  int
	Components    []compView
	Alerts        []analysis.Alert // newest first
	TotalAlerts   int
	Recent        []showRow // newest first
	Notice        string    // the follower's latest message, kept noticeTTL
	NoticeAt      time.Time
	Paused        bool
	NewSincePause int
	Balance       *analysis.BalanceResult // --expected, over the last 200 records
}

type compView struct {
	Name  string
	Mean  float64
	Share float64 // |mean| / sum |means| (total excluded)
}

// view snapshots the model.
func (m *showModel) view() *showView {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := &showView{Path: m.path, Format: m.format, Grain: m.grain, Records: m.records,
		Counted: m.counted, NoReward: m.noReward, Skipped: m.skipped, FirstIssue: m.firstIssue,
		LastIssue: m.lastIssue, Offset: m.offset, Waiting: m.waiting && m.records == 0,
		CeilingShare: math.NaN(), VarRatio: math.NaN()}
	if m.notice != "" && (m.waiting || time.Since(m.noticeAt) < noticeTTL) {
		v.Notice, v.NoticeAt = m.notice, m.noticeAt
	}
	if !m.caughtUp && len(m.held) > 0 {
		v.Verdict = analysis.VerdictCollecting
		v.Diagnosis = []string{fmt.Sprintf("Reading the log... (%d records so far)", len(m.held))}
		return v
	}
	if m.eng == nil {
		v.Verdict = analysis.VerdictCollecting
		v.Diagnosis = []string{"No records yet."}
		if m.caughtUp && m.records == 0 {
			v.Diagnosis = []string{"No records found."}
		}
		return v
	}
	// The engine's Report (for its diagnosis text) copies every alert it
	// ever raised, so it is refreshed at most every diagEvery while records
	// stream in, and at once when the follower catches up.
	if m.rep == nil || m.repFresh || (m.repDirty && time.Since(m.repAt) >= diagEvery) {
		m.rep = m.eng.Report()
		m.repDirty, m.repFresh, m.repAt = false, false, time.Now()
	}
	rep := m.rep
	v.Window = m.win.W
	v.Summary = m.eng.Summary()
	v.Detectors = append(m.eng.Results(), m.batchRes...)
	v.Verdict = analysis.Verdict(m.eng.Records(), m.win.W, v.Detectors)
	v.ExitCode = analysis.ExitCode(v.Detectors)
	v.Diagnosis = withBatchFindings(strings.Split(rep.HumanDiagnosis(), "\n"), m.batchRes)
	cls := &analysis.Report{Kind: analysis.KindRewardspy, Records: m.counted, Window: m.win.W,
		Verdict: v.Verdict, ExitCode: v.ExitCode, Detectors: v.Detectors}
	analysis.Classify(cls)
	v.Detectors, v.Class, v.Headline = cls.Detectors, cls.Class, cls.Headline
	if m.kind != "" && m.kind != analysis.KindRewardspy && m.kindRep != nil {
		v.fromReport(m.kindRep)
	}
	if m.monitor != nil {
		if b, err := m.monitor.Check(); err == nil {
			v.Balance = &b
		}
	}
	if m.counted == 0 && m.records > 0 && m.noReward > 0 {
		v.Diagnosis = []string{"No reward values: map the reward column with --map reward=KEY."}
	}
	w := m.rewards.values()
	v.Trend = trendOf(w, m.win)
	if len(w) > 0 {
		ceil := m.lifeMax
		if m.cfg.HasMaxReward {
			ceil = m.cfg.MaxReward
		}
		v.Ceiling = ceil
		if ceil > 0 {
			hit := 0
			for _, x := range w {
				if x >= 0.99*ceil {
					hit++
				}
			}
			v.CeilingShare = float64(hit) / float64(len(w))
		}
	}
	if m.hasBase && m.baseStd >= 1e-6 && v.Summary != nil {
		v.VarRatio = v.Summary.Std / m.baseStd
	}
	v.Curve = m.curve.points()
	v.CurveRecords = m.curve.total
	var tot float64
	for i, c := range m.compNames {
		if c != ingest.TotalComponent && m.compN[i] > 0 {
			tot += math.Abs(m.compSum[i] / float64(m.compN[i]))
		}
	}
	for i, c := range m.compNames {
		if c == ingest.TotalComponent || m.compN[i] == 0 {
			continue
		}
		cv := compView{Name: c, Mean: m.compSum[i] / float64(m.compN[i])}
		if tot > 0 {
			cv.Share = math.Abs(cv.Mean) / tot
		}
		v.Components = append(v.Components, cv)
	}
	v.Alerts = mergeAlerts(ringNewest(m.alerts, m.alertN, keepAlerts), m.batchAlerts)
	v.TotalAlerts = m.alertN + len(m.batchAlerts)
	v.Recent = ringNewest(m.recent, m.recentN, keepRecords)
	return v
}

// mergeAlerts merges the batch detectors' alerts into the streaming ones
// (newest first), keeping at most keepAlerts.
func mergeAlerts(stream, batch []analysis.Alert) []analysis.Alert {
	if len(batch) == 0 {
		return stream
	}
	out := append(append([]analysis.Alert(nil), stream...), batch...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Step > out[j].Step })
	return out[:min(len(out), keepAlerts)]
}

// withBatchFindings adds the actionable batch detectors' messages to the
// engine's diagnosis (which covers the five streaming detectors).
func withBatchFindings(diag []string, batch []analysis.NamedResult) []string {
	var msgs []string
	alert := false
	for _, r := range batch {
		if r.Status.Actionable() {
			msgs = append(msgs, r.Name+": "+strings.TrimSuffix(r.Message, "."))
			alert = alert || r.Status == analysis.StatusAlert
		}
	}
	if len(msgs) == 0 {
		return diag
	}
	if len(diag) > 0 && strings.HasPrefix(diag[0], "✓") {
		head := "▲ Early warning signs"
		if alert {
			head = "✕ Likely reward hacking"
		}
		return []string{head, "The five reward detectors are quiet, but " + strings.Join(msgs, "; ") + "."}
	}
	also := "Also: " + strings.Join(msgs, "; ") + "."
	if n := len(diag); n > 1 && strings.HasPrefix(diag[n-1], "First flagged") {
		return append(append(diag[:n-1:n-1], also), diag[n-1])
	}
	return append(diag, also)
}

// trendOf is rewardspy's trend rule over the last W rewards: under 20
// (or, for short step-grain logs, under their scaled slope minimum)
// "collecting"; else early/late halves' means, eps = 0.01|early| + 1e-6.
// It matches the trend word of the audit's diagnosis.
func trendOf(w []float64, win analysis.Windows) string {
	if len(w) > win.W {
		w = w[len(w)-win.W:]
	}
	if len(w) < min(20, win.SlopeMin) {
		return "collecting"
	}
	half := len(w) / 2
	early, late := analysis.Fmean(w[:half]), analysis.Fmean(w[half:])
	eps := 0.01*math.Abs(early) + 1e-6
	switch {
	case late-early > eps:
		return "▲ rising"
	case late-early < -eps:
		return "▼ falling"
	}
	return "▬ flat"
}

// writePlainSummary prints the view as text (stdout is not a terminal).
func writePlainSummary(w io.Writer, v *showView) {
	fmt.Fprintf(w, "%s: %d records", v.Path, v.Counted)
	if v.Format != "" {
		fmt.Fprintf(w, " (%s", v.Format)
		if v.Grain != "" {
			fmt.Fprintf(w, ", %s grain", v.Grain)
		}
		fmt.Fprint(w, ")")
	}
	if v.NoReward > 0 {
		fmt.Fprintf(w, ", +%d %s without a reward", v.NoReward, showPlural(v.NoReward, "row", "rows"))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "verdict: %s\n", v.Verdict)
	if v.Headline != "" {
		fmt.Fprintf(w, "  %s\n", v.Headline)
	}
	for _, l := range v.Diagnosis {
		if l != "" {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	if s := overviewLine(v); s != "" {
		fmt.Fprintf(w, "reward (last %d): %s\n", v.Window, s)
		fmt.Fprintf(w, "  %s\n", overviewLine2(v))
	}
	if len(v.Detectors) > 0 {
		fmt.Fprintln(w, "detectors:")
		for _, d := range v.Detectors {
			fmt.Fprintf(w, "  %-15s %-17s %s\n", d.Name, d.Status, d.Message)
		}
	}
	if len(v.Components) > 0 {
		fmt.Fprintln(w, "components (share of |mean| over the window):")
		width := 14
		for _, c := range v.Components {
			width = max(width, len(c.Name))
		}
		for _, c := range v.Components {
			neg := ""
			if c.Mean < 0 {
				neg = "  (negative)"
			}
			fmt.Fprintf(w, "  %-*s %5s  mean %s%s\n", width, c.Name, pct(c.Share), num(c.Mean), neg)
		}
	}
	if b := v.Balance; b != nil {
		fmt.Fprintf(w, "balance vs expected (last %d records): %s\n", min(b.EpisodeCount, analysis.DefaultBalanceWindow), b.Severity)
		for _, c := range b.Components() {
			cb := b.ImbalanceReport[c]
			fmt.Fprintf(w, "  %-14s real %6.2f%%  expected %6.2f%%  %-8s %s\n", c, cb.Real, cb.Expected, cb.Severity, cb.Recommendation)
		}
	}
	if len(v.Alerts) > 0 {
		fmt.Fprintf(w, "latest alerts (newest first, %d in all):\n", v.TotalAlerts)
		for i, a := range v.Alerts {
			if i == 10 {
				break
			}
			fmt.Fprintf(w, "  %s\n", alertLine(a))
		}
	}
}

func overviewLine(v *showView) string {
	s := v.Summary
	if s == nil {
		return ""
	}
	return fmt.Sprintf("mean %s  std %s  p50 %s  min %s  max %s", num(s.Mean), num(s.Std), num(s.P50), num(s.Min), num(s.Max))
}

func overviewLine2(v *showView) string {
	return fmt.Sprintf("trend %s  at ceiling %s  variance vs baseline %s", v.Trend, pct(v.CeilingShare), pct(v.VarRatio))
}

func alertLine(a analysis.Alert) string {
	where := fmt.Sprintf("#%d", a.Step)
	if !math.IsNaN(a.RunStep) && a.RunStep != float64(a.Step) {
		where += fmt.Sprintf(" (step %s)", num(a.RunStep))
	}
	return fmt.Sprintf("%-7s %-10s %-9s %s", a.Status, where, a.Detector, a.Message)
}

// num formats a number compactly for the screen.
func num(x float64) string {
	switch {
	case math.IsNaN(x):
		return "-"
	case math.Abs(x) < 1e-9:
		return "0" // rounding residue of running sums
	case x == math.Trunc(x) && math.Abs(x) < 1e9:
		return fmt.Sprintf("%.0f", x)
	case math.Abs(x) >= 1e4 || math.Abs(x) < 1e-3:
		return fmt.Sprintf("%.3g", x)
	}
	return fmt.Sprintf("%.3f", x)
}

func pct(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*x)
}

// exportRun re-reads the run (with the input flags) and writes it as CSV,
// atomically. It returns a one-line notice.
func exportRun(o *showOptions) string {
	run, err := o.in.load(o.path, io.Discard)
	if err != nil {
		return "export failed: " + err.Error()
	}
	w, err := ingest.LookupWriter("csv", o.export)
	if err != nil {
		return "export failed: " + err.Error()
	}
	if err := checkOutputs([]fileArg{{"RUN", o.path}}, []fileArg{{"--export", o.export}}); err != nil {
		return "export refused: " + err.Error()
	}
	if err := ingest.WriteFileAtomic(o.export, func(out io.Writer) error { return w.Write(out, run) }); err != nil {
		return "export failed: " + err.Error()
	}
	return fmt.Sprintf("exported %d records to %s", run.Len(), o.export)
}
