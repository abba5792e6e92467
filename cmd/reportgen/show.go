package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
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
// exactly `reportgen audit`'s (the run streams into analysis.Stream); the
// overview is the live view's (the same chunks go to an analysis.Live).
func runShowPlain(o *showOptions, stdout, stderr io.Writer) int {
	// The stream's audit judges the whole run: the live model runs no
	// batch detector of its own.
	live, err := analysis.NewLive(o.cfg, analysis.LiveOptions{Last: o.in.last, Expected: o.weights, BatchEvery: -1})
	if err != nil {
		return usageError(stderr, "show", "%v", err)
	}
	in := o.in
	in.tee = live.Add
	sr, err := in.stream(o.path, nil, o.cfg, stderr)
	if err != nil {
		return inputError(stderr, err)
	}
	live.CaughtUp()
	sr.reportSkipped(stderr)
	if o.weights != nil {
		if err := checkExpected(o.weights, sr.st.Sample()); err != nil {
			return expectedError(stderr, "show", err)
		}
	}
	rep, err := sr.report(o.path, o.cfg)
	if err != nil {
		return inputError(stderr, err)
	}
	v := &showView{LiveView: *live.View(), Path: o.path, Skipped: sr.header.Skipped}
	v.FromReport(rep)
	writePlainSummary(stdout, v)
	return rep.ExitCode
}

func showPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// noticeTTL is how long a follower's message stays on screen.
const noticeTTL = 30 * time.Second

// showRow is one record as the view lists it; compView one component.
type (
	showRow  = analysis.LiveRow
	compView = analysis.LiveComponent
)

// showModel is the follower's side of the live view: the streaming audit
// (analysis.Live; a new one when the file restarts) and what the follower
// reports (offset, skipped lines, notices, restarts). All methods are safe
// for concurrent use: the follower feeds it while the UI draws from it.
type showModel struct {
	mu   sync.Mutex
	path string
	cfg  analysis.Config
	opt  analysis.LiveOptions
	live *analysis.Live

	offset     int64
	skipped    int
	firstIssue string
	lastIssue  string
	notice     string
	noticeAt   time.Time
	resets     int
	waiting    bool
	version    int // bumped on every change, for redraw decisions
}

// newShowModel returns the model of a live view of path; cfg and weights
// (--expected) are validated as analysis.NewLive validates them.
func newShowModel(path string, cfg analysis.Config, last int, weights map[string]float64) (*showModel, error) {
	m := &showModel{path: path, cfg: cfg, opt: analysis.LiveOptions{Last: last, Expected: weights}}
	var err error
	m.live, err = analysis.NewLive(cfg, m.opt)
	return m, err
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
		live, err := analysis.NewLive(m.cfg, m.opt)
		if err != nil {
			return err // cannot happen: the same options made the first one
		}
		m.live = live
		m.setNotice(ev.Msg)
	case ingest.FollowIdle:
		m.offset = ev.Offset
		m.live.CaughtUp()
	case ingest.FollowRecords:
		if m.waiting {
			m.waiting = false
			m.notice = "" // the file appeared, or can now be read
		}
		m.offset = ev.Offset
		m.countIssues(ev.Run)
		m.live.Add(ev.Run)
	}
	return nil
}

func (m *showModel) setNotice(msg string) {
	m.notice, m.noticeAt = msg, time.Now()
}

// countIssues counts a chunk's skipped lines and keeps its first and last
// issue (they survive a restart of the file).
func (m *showModel) countIssues(run *ingest.Run) {
	if run == nil {
		return
	}
	m.skipped += run.Skipped
	if len(run.Issues) > 0 {
		if m.firstIssue == "" {
			m.firstIssue = run.Issues[0].Error()
		}
		m.lastIssue = run.Issues[len(run.Issues)-1].Error()
	}
}

// records is how many records the live audit holds.
func (m *showModel) records() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.live.Records()
}

// showView is a snapshot of everything the screen shows: built under the
// model's lock, drawn without it. Its size is bounded.
type showView struct {
	analysis.LiveView
	Path          string
	Skipped       int
	FirstIssue    string
	LastIssue     string
	Offset        int64
	Waiting       bool
	Notice        string // the follower's latest message, kept noticeTTL
	NoticeAt      time.Time
	Paused        bool
	NewSincePause int
}

// view snapshots the model.
func (m *showModel) view() *showView {
	m.mu.Lock()
	defer m.mu.Unlock()
	lv := m.live.View()
	v := &showView{LiveView: *lv, Path: m.path, Skipped: m.skipped, FirstIssue: m.firstIssue,
		LastIssue: m.lastIssue, Offset: m.offset, Waiting: m.waiting && lv.Records == 0}
	if m.notice != "" && (m.waiting || time.Since(m.noticeAt) < noticeTTL) {
		v.Notice, v.NoticeAt = m.notice, m.noticeAt
	}
	return v
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
