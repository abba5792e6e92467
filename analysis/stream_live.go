package analysis

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/goodhart-rl/goodhart/ingest"
)

// Bounds of the live audit: its memory and the cost of a View do not grow
// with the run.
const (
	LiveAlerts      = 64              // latest alerts a LiveView lists
	LiveRecords     = 64              // latest records a LiveView lists
	LiveRecentRows  = 5000            // most recent rows the batch detectors judge
	LiveBatchPeriod = 2 * time.Second // how often they are re-run while records stream in
	LiveCurveBins   = 1024            // reward curve resolution (the whole run, downsampled)
	liveReportEvery = time.Second     // how often the engine's diagnosis is rebuilt while records stream in
)

// LiveOptions tune a Live audit.
type LiveOptions struct {
	// Last judges only the last Last records of what the log holds at the
	// first catch-up (0: all), then every record added after.
	Last int
	// Expected, when not nil, is the intended component split (name ->
	// weight): the view then carries the balance over the last
	// DefaultBalanceWindow records that have components.
	Expected map[string]float64
	// BatchEvery is how often the batch detectors re-run over the recent
	// rows while records arrive (0: LiveBatchPeriod; < 0: never, e.g. when
	// the caller judges the whole run with Audit itself). They always
	// re-run at CaughtUp.
	BatchEvery time.Duration
}

// LiveRow is one record as a live view lists it.
type LiveRow struct {
	Record int     // 1-based record number (rewardspy's step)
	Step   float64 // the run's own step (the row index when it has none)
	Reward float64 // NaN: the row has no reward
	Length float64 // NaN: no length
	Comps  []ComponentValue
	rec    Record
}

// LiveComponent is one reward component over the last W records.
type LiveComponent struct {
	Name  string
	Mean  float64 // mean of its present (non-NaN) values
	Share float64 // |Mean| / sum of |Mean| over the components (total excluded)
}

// LiveView is a snapshot of a Live audit: what a live display shows. Its
// size is bounded whatever the run's length.
type LiveView struct {
	Format   string
	Grain    ingest.Grain
	Records  int // records read (after Last)
	Counted  int // records with a finite reward (the ones judged)
	NoReward int // records without one
	Window   int

	Verdict   string
	Class     Class
	Headline  string
	Diagnosis []string
	ExitCode  int
	Detectors []NamedResult
	Summary   *Summary // reward statistics over the last Window records

	Trend        string  // "collecting", "▲ rising", "▼ falling" or "▬ flat" (rewardspy's rule)
	Ceiling      float64 // --max-reward, else the highest reward seen
	CeilingShare float64 // share of the last Window rewards >= 0.99 Ceiling; NaN: not known
	VarRatio     float64 // window std / baseline std; NaN: no baseline yet

	Curve        []float64 // the whole reward history in at most LiveCurveBins bin means
	CurveRecords int       // rewards the curve covers
	Components   []LiveComponent
	Alerts       []Alert // newest first, at most LiveAlerts
	TotalAlerts  int
	Recent       []LiveRow      // newest first, at most LiveRecords
	Balance      *BalanceResult // with LiveOptions.Expected
}

// Live is the streaming audit as a live display needs it: records are
// added as a log grows, and View can be asked for at any moment, cheaply.
//
// Every record goes through the streaming Engine, so the five rewardspy
// detectors, their alerts, the window statistics, trend, ceiling and
// variance baseline are exact, equal to Audit's on the same records. The
// batch detectors judge the last LiveRecentRows rows, re-run at most every
// LiveOptions.BatchEvery (and at CaughtUp); for a run whose kind is not
// rewardspy, the verdict, detectors and alerts are the full Audit of those
// recent rows. Memory is bounded: rings of the last Window rewards and
// components, the last LiveRecords rows and LiveAlerts alerts, a curve of
// LiveCurveBins bins.
//
// Until the first CaughtUp, records are held (not judged) when the window
// depends on the run's length (step grain and no Config.Window) or with
// LiveOptions.Last; the view then says how many were read. A log that
// restarts (truncated, rotated) needs a new Live.
//
// A Live is not safe for concurrent use.
type Live struct {
	cfg        Config
	last       int
	batchEvery time.Duration

	format string
	grain  ingest.Grain

	caughtUp bool
	held     []LiveRow
	heldHead int // Last: ring start in held

	eng *Engine
	win Windows

	records  int
	counted  int
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
	alerts  []Alert // ring, LiveAlerts
	alertN  int
	recent  []LiveRow // ring, LiveRecords
	recentN int

	rep      *Report
	repDirty bool
	repFresh bool
	repAt    time.Time

	weights map[string]float64
	monitor *Monitor

	recentRuns  []*ingest.Run
	recentRows  int
	batchAt     time.Time
	batchDirty  bool
	batchRes    []NamedResult
	batchAlerts []Alert
	batchBase   int // records dropped from the recent rows

	kind    Kind
	kindRep *Report
}

// NewLive returns an empty live audit for cfg (validated as Audit
// validates it); LiveOptions.Expected is validated as NewMonitor does.
func NewLive(cfg Config, opt LiveOptions) (*Live, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opt.Last < 0 {
		return nil, fmt.Errorf("%w: last %d: must be >= 0", ErrBadConfig, opt.Last)
	}
	l := &Live{cfg: cfg, last: opt.Last, batchEvery: opt.BatchEvery, weights: opt.Expected,
		compIdx: map[string]int{}, lifeMax: math.Inf(-1), curve: downsampler{cap: LiveCurveBins, width: 1}}
	if l.batchEvery == 0 {
		l.batchEvery = LiveBatchPeriod
	}
	if opt.Expected != nil {
		m, err := NewMonitor(opt.Expected, MonitorOptions{})
		if err != nil {
			return nil, err
		}
		l.monitor = m
	}
	return l, nil
}

// Records is how many records were added (after LiveOptions.Last, once
// caught up).
func (l *Live) Records() int { return l.records }

// Add appends the next rows of the run (a chunk as ingest.Follow or
// ingest.Stream delivers it; its Issues and Skipped are the caller's to
// count). The batch detectors re-run when LiveOptions.BatchEvery has passed.
func (l *Live) Add(chunk *ingest.Run) {
	if chunk == nil {
		return
	}
	l.addChunk(chunk)
	l.runBatch(false)
}

// CaughtUp says the log has been read to its current end: held records are
// judged, the batch detectors re-run over the recent rows, and the next
// View rebuilds the diagnosis.
func (l *Live) CaughtUp() {
	if !l.caughtUp {
		l.caughtUp = true
		l.flushHeld()
	}
	l.runBatch(true)
	l.repFresh = l.repDirty
}

// RefreshReport marks the engine's diagnosis stale, as a new record does:
// the next View rebuilds it when a second has passed since the last
// rebuild (its cost grows with the alerts raised).
func (l *Live) RefreshReport() { l.repDirty = true }

func (l *Live) addChunk(run *ingest.Run) {
	if run.Format != "" {
		l.format = run.Format
	}
	if run.Grain != "" {
		l.grain = run.Grain
	}
	n := run.Len()
	if n == 0 {
		return
	}
	rew, hasRew := run.Column(ingest.ColReward)
	steps, hasStep := run.Column(ingest.ColStep)
	lens, hasLen := run.Column(ingest.ColLength)
	l.keepRecent(run)
	names := componentOrder(run)
	cols := make([][]float64, len(names))
	for i, c := range names {
		cols[i], _ = run.Column(ingest.ComponentPrefix + c)
	}
	for i := 0; i < n; i++ {
		l.records++
		row := LiveRow{Record: l.records, Step: float64(l.records - 1), Reward: math.NaN(), Length: math.NaN()}
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
				row.Comps = append(row.Comps, ComponentValue{Name: c, Value: v})
			}
		}
		row.rec = Record{RunStep: row.Step, Reward: row.Reward, Length: row.Length, Components: row.Comps}
		l.hold(row)
	}
}

// holding reports whether records wait for the first catch-up.
func (l *Live) holding() bool {
	if l.caughtUp {
		return false
	}
	return l.last > 0 || (l.cfg.Window == 0 && l.grain == ingest.GrainStep)
}

func (l *Live) hold(row LiveRow) {
	if !l.holding() {
		l.push(row)
		return
	}
	if l.last > 0 && len(l.held) == l.last {
		l.held[l.heldHead] = row
		l.heldHead = (l.heldHead + 1) % l.last
		return
	}
	l.held = append(l.held, row)
}

// flushHeld pushes the held records, oldest first, once the run's length
// is known.
func (l *Live) flushHeld() {
	held := append(l.held[l.heldHead:], l.held[:l.heldHead]...)
	l.held, l.heldHead = nil, 0
	if l.eng == nil {
		l.startEngine(len(held))
	}
	for i, row := range held {
		row.Record = i + 1
		l.push(row)
	}
	if l.last > 0 {
		l.records = len(held)
	}
}

func (l *Live) startEngine(n int) {
	r := ingest.NewRun(n)
	r.Grain = l.grain
	l.win = WindowFor(r, l.cfg)
	l.eng = NewEngine(l.cfg, l.win)
	l.eng.SetGrain(l.grain)
	l.rewards = newFloatRing(l.win.W)
	l.compRing = make([][]float64, l.win.W)
}

// push feeds one record to the engine and the aggregates.
func (l *Live) push(row LiveRow) {
	if l.eng == nil {
		l.startEngine(0)
	}
	l.recent = ringPut(l.recent, &l.recentN, LiveRecords, row)
	if math.IsNaN(row.Reward) || math.IsInf(row.Reward, 0) {
		l.noReward++
		return
	}
	for _, a := range l.eng.Push(row.rec) {
		l.alerts = ringPut(l.alerts, &l.alertN, LiveAlerts, a)
	}
	l.counted++
	l.repDirty = true
	x := row.Reward
	l.rewards.push(x)
	l.curve.add(x)
	l.lifeMax = max(l.lifeMax, x)
	if len(l.first) < l.win.W {
		l.first = append(l.first, x)
		if len(l.first) == l.win.W {
			// rewardspy's variance baseline: the first max(2, 0.2 n) records
			// at the first full window.
			k := max(2, int(0.2*float64(len(l.first))))
			l.baseStd, l.hasBase = Pstdev(l.first[:k]), true
			l.first = l.first[:l.win.W:l.win.W]
		}
	}
	l.addComponents(row.Comps)
	if l.monitor != nil && len(row.Comps) > 0 {
		vals := make(map[string]float64, len(row.Comps))
		for _, c := range row.Comps {
			if _, named := l.weights[c.Name]; c.Name != ingest.TotalComponent || named {
				vals[c.Name] = c.Value
			}
		}
		l.monitor.Step(vals) // non-finite values are refused and skipped
	}
}

// keepRecent keeps the chunks covering the last LiveRecentRows rows.
func (l *Live) keepRecent(run *ingest.Run) {
	if l.batchEvery < 0 || run.Len() == 0 {
		return
	}
	l.recentRuns = append(l.recentRuns, run)
	l.recentRows += run.Len()
	for len(l.recentRuns) > 1 && l.recentRows-l.recentRuns[0].Len() >= LiveRecentRows {
		l.recentRows -= l.recentRuns[0].Len()
		l.batchBase += l.recentRuns[0].Len()
		l.recentRuns[0] = nil
		l.recentRuns = l.recentRuns[1:]
	}
	l.batchDirty = true
}

// runBatch runs the batch detectors cfg selects over the recent rows, at
// most every batchEvery unless now.
func (l *Live) runBatch(now bool) {
	if l.batchEvery < 0 || !l.batchDirty || l.holding() || len(l.recentRuns) == 0 {
		return
	}
	if !now && time.Since(l.batchAt) < l.batchEvery {
		return
	}
	l.batchAt, l.batchDirty = time.Now(), false
	run := ingest.Concat(l.recentRuns...)
	run.Grain = l.grain
	if l.last > 0 && run.Len() > l.last+l.batchBase {
		run = run.Last(l.last)
	}
	base := l.counted - run.Len() // records before the recent rows
	l.batchRes, l.batchAlerts = l.batchRes[:0], l.batchAlerts[:0]
	if l.kind == "" {
		l.kind = AuditKind(run, l.cfg)
	}
	if l.kind != KindRewardspy {
		if rep, err := Audit(run, l.cfg); err == nil {
			for i := range rep.Alerts {
				rep.Alerts[i].Step += max(base, 0)
			}
			l.kindRep = rep
		}
		l.repDirty = true
		return
	}
	for _, d := range liveBatchDetectors(l.cfg) {
		if d.Applies(run, l.cfg) {
			res, alerts := d.Detect(run, l.cfg)
			l.batchRes = append(l.batchRes, NamedResult{Name: d.Name(), Result: res})
			for _, a := range alerts {
				a.Step += max(base, 0)
				l.batchAlerts = append(l.batchAlerts, a)
			}
		}
	}
	l.repDirty = true
}

// liveBatchDetectors are the registered batch detectors cfg.Detectors
// selects (the rewardspy kind's default set for "all" or none given; none
// for "rewardspy").
func liveBatchDetectors(cfg Config) []Detector {
	all := len(cfg.Detectors) == 0
	named := map[string]bool{}
	for _, d := range cfg.Detectors {
		all = all || d == "all"
		named[d] = true
	}
	if all {
		// Other kinds are judged with a full audit of the recent rows.
		for _, n := range KindDetectors(KindRewardspy) {
			named[n] = true
		}
	}
	var out []Detector
	for _, d := range Registered() {
		if named[d.Name()] {
			out = append(out, d)
		}
	}
	return out
}

// addComponents keeps per-component sums over the last W records.
func (l *Live) addComponents(comps []ComponentValue) {
	vec := l.compRing[l.compHead]
	if vec != nil { // evict the oldest
		for i, v := range vec {
			if !math.IsNaN(v) {
				l.compSum[i] -= v
				l.compN[i]--
			}
		}
	}
	vec = vec[:0]
	for _, c := range comps {
		i, ok := l.compIdx[c.Name]
		if !ok {
			i = len(l.compNames)
			l.compIdx[c.Name] = i
			l.compNames = append(l.compNames, c.Name)
			l.compSum = append(l.compSum, 0)
			l.compN = append(l.compN, 0)
		}
		for len(vec) <= i {
			vec = append(vec, math.NaN())
		}
		vec[i] = c.Value
		l.compSum[i] += c.Value
		l.compN[i]++
	}
	if vec == nil {
		vec = []float64{}
	}
	l.compRing[l.compHead] = vec
	l.compHead = (l.compHead + 1) % len(l.compRing)
}

// View snapshots the live audit. Before the first record it is
// "collecting" with "No records yet." ("No records found." once caught
// up); while records are held it says how many were read. The engine's
// diagnosis copies every alert it raised, so it is rebuilt at most every
// second while records stream in, and at once after CaughtUp; the rest is
// current.
func (l *Live) View() *LiveView {
	v := &LiveView{Format: l.format, Grain: l.grain, Records: l.records, Counted: l.counted,
		NoReward: l.noReward, CeilingShare: math.NaN(), VarRatio: math.NaN()}
	if !l.caughtUp && len(l.held) > 0 {
		v.Verdict = VerdictCollecting
		v.Diagnosis = []string{fmt.Sprintf("Reading the log... (%d records so far)", l.records)}
		return v
	}
	if l.eng == nil {
		v.Verdict = VerdictCollecting
		v.Diagnosis = []string{"No records yet."}
		if l.caughtUp && l.records == 0 {
			v.Diagnosis = []string{"No records found."}
		}
		return v
	}
	if l.rep == nil || l.repFresh || (l.repDirty && time.Since(l.repAt) >= liveReportEvery) {
		l.rep = l.eng.Report()
		l.repDirty, l.repFresh, l.repAt = false, false, time.Now()
	}
	rep := l.rep
	v.Window = l.win.W
	v.Summary = l.eng.Summary()
	v.Detectors = append(l.eng.Results(), l.batchRes...)
	v.Verdict = Verdict(l.eng.Records(), l.win.W, v.Detectors)
	v.ExitCode = ExitCode(v.Detectors)
	v.Diagnosis = withBatchFindings(strings.Split(rep.HumanDiagnosis(), "\n"), l.batchRes)
	cls := &Report{Kind: KindRewardspy, Records: l.counted, Window: l.win.W,
		Verdict: v.Verdict, ExitCode: v.ExitCode, Detectors: v.Detectors}
	Classify(cls)
	v.Detectors, v.Class, v.Headline = cls.Detectors, cls.Class, cls.Headline
	kindRep := l.kind != "" && l.kind != KindRewardspy && l.kindRep != nil
	if kindRep {
		v.FromReport(l.kindRep)
	}
	if l.monitor != nil {
		if b, err := l.monitor.Check(); err == nil {
			v.Balance = &b
		}
	}
	if l.counted == 0 && l.records > 0 && l.noReward > 0 {
		v.Diagnosis = []string{"No reward values: map the reward column with --map reward=KEY."}
	}
	w := l.rewards.values()
	v.Trend = liveTrend(w, l.win)
	if len(w) > 0 {
		ceil := l.lifeMax
		if l.cfg.HasMaxReward {
			ceil = l.cfg.MaxReward
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
	if l.hasBase && l.baseStd >= 1e-6 && v.Summary != nil {
		v.VarRatio = v.Summary.Std / l.baseStd
	}
	v.Curve = l.curve.points()
	v.CurveRecords = l.curve.total
	var tot float64
	for i, c := range l.compNames {
		if c != ingest.TotalComponent && l.compN[i] > 0 {
			tot += math.Abs(l.compSum[i] / float64(l.compN[i]))
		}
	}
	for i, c := range l.compNames {
		if c == ingest.TotalComponent || l.compN[i] == 0 {
			continue
		}
		cv := LiveComponent{Name: c, Mean: l.compSum[i] / float64(l.compN[i])}
		if tot > 0 {
			cv.Share = math.Abs(cv.Mean) / tot
		}
		v.Components = append(v.Components, cv)
	}
	if !kindRep { // else the kind's audit listed its own alerts
		v.Alerts = mergeLiveAlerts(ringNewest(l.alerts, l.alertN, LiveAlerts), l.batchAlerts)
		v.TotalAlerts = l.alertN + len(l.batchAlerts)
	}
	v.Recent = ringNewest(l.recent, l.recentN, LiveRecords)
	return v
}

// FromReport replaces the view's verdict, class, headline, diagnosis,
// detectors and alerts (the latest LiveAlerts, newest first) by an audit
// report's.
func (v *LiveView) FromReport(rep *Report) {
	v.Verdict, v.ExitCode, v.Detectors = rep.Verdict, rep.ExitCode, rep.Detectors
	v.Class, v.Headline = rep.Class, rep.Headline
	v.Diagnosis = strings.Split(rep.HumanDiagnosis(), "\n")
	v.TotalAlerts = len(rep.Alerts)
	v.Alerts = nil
	for i := len(rep.Alerts) - 1; i >= 0 && len(v.Alerts) < LiveAlerts; i-- {
		v.Alerts = append(v.Alerts, rep.Alerts[i])
	}
}

// mergeLiveAlerts merges the batch detectors' alerts into the streaming
// ones (newest first), keeping at most LiveAlerts.
func mergeLiveAlerts(stream, batch []Alert) []Alert {
	if len(batch) == 0 {
		return stream
	}
	out := append(append([]Alert(nil), stream...), batch...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Step > out[j].Step })
	return out[:min(len(out), LiveAlerts)]
}

// withBatchFindings adds the actionable batch detectors' messages to the
// engine's diagnosis (which covers the five streaming detectors).
func withBatchFindings(diag []string, batch []NamedResult) []string {
	var msgs []string
	alert := false
	for _, r := range batch {
		if r.Status.Actionable() {
			msgs = append(msgs, r.Name+": "+strings.TrimSuffix(r.Message, "."))
			alert = alert || r.Status == StatusAlert
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

// liveTrend is rewardspy's trend rule over the last W rewards: under 20
// (or, for short step-grain logs, under their scaled slope minimum)
// "collecting"; else the early and late halves' means, eps = 0.01|early| +
// 1e-6. It matches the trend word of the audit's diagnosis.
func liveTrend(w []float64, win Windows) string {
	if len(w) > win.W {
		w = w[len(w)-win.W:]
	}
	if len(w) < min(20, win.SlopeMin) {
		return "collecting"
	}
	return trendWord(w)
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

// downsampler keeps a whole series in at most cap bins: when the bins are
// full, neighbours are merged pairwise and each bin covers twice as many
// values. Memory is O(cap) whatever the series' length.
type downsampler struct {
	cap   int
	width int // values per full bin
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
