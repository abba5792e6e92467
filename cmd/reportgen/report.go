package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/plots"
)

func init() {
	register(&command{
		name:    "report",
		summary: "one self-contained HTML report (verdict, findings, figures) of one or more runs",
		run:     runReport,
	})
}

// reportFlags are the flags report and plot share beyond input and audit.
type reportFlags struct {
	expected      string
	balanceWindow int
	noAlign       bool
}

func (r *reportFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.expected, "expected", "", "expected component weights, task=0.7,format=0.3 or food:60,survival:40 (adds balance)")
	fs.IntVar(&r.balanceWindow, "balance-window", 200, "balance over the last N records (0 = all)")
	fs.BoolVar(&r.noAlign, "no-align", false, "with --expected, skip the alignment session (default options of 'reportgen align')")
}

// views computes the balance view of run when --expected is given.
func (r *reportFlags) balance(run *ingest.Run, exp map[string]float64) (*plots.BalanceView, error) {
	if exp == nil || len(run.Components()) == 0 {
		return nil, nil
	}
	b, err := analysis.Balance(run, exp, analysis.BalanceOptions{Window: r.balanceWindow})
	if err != nil {
		return nil, fmt.Errorf("%s: balance: %w", run.Source, err)
	}
	return plots.BalanceViewOf(b), nil
}

func (r *reportFlags) expectedWeights() (map[string]float64, error) {
	if r.expected == "" {
		return nil, nil
	}
	w, err := parseWeights(r.expected)
	if err != nil {
		return nil, fmt.Errorf("--expected: %v", err)
	}
	if _, err := analysis.ExpectedPercentages(w); err != nil {
		return nil, fmt.Errorf("--expected: %v", err)
	}
	return w, nil
}

func runReport(args []string, stdout, stderr io.Writer) int {
	var in inputFlags
	var af auditFlags
	var rf reportFlags
	var out, pngDir, title string
	fs := newFlagSet("report",
		"report RUN... -o report.html [--expected a=w,...] [--png DIR] [audit flags]",
		"Audit each run and write one self-contained HTML file (inline SVG and CSS,\n"+
			"no JavaScript, no network): the verdict and its reasons first, then the\n"+
			"findings with their step ranges, the figures, summary and balance tables\n"+
			"and the inputs read. Several runs (files, quoted globs, directories; -j N\n"+
			"at once) get the sweep table and their curves overlaid on top. --png also\n"+
			"writes each figure as a PNG for CI artifacts. Exit code 1 when any run is\n"+
			"flagged (like audit), 2 on bad usage or input.",
		"reportgen report testdata/runs/hacked.jsonl -o report.html --expected correctness=0.7,format=0.3",
		stdout)
	in.register(fs)
	af.register(fs)
	rf.register(fs)
	fs.StringVar(&out, "o", "report.html", "write the HTML report to FILE")
	fs.StringVar(&pngDir, "png", "", "also write every figure as PNG into DIR (created if missing)")
	fs.StringVar(&title, "title", "", "report title (default: goodhart report)")
	var sf sweepFlags
	sf.register(fs)
	pos, help, err := parseArgs(fs, args)
	if help {
		return exitOK
	}
	if err != nil {
		return usageError(stderr, "report", "%v", err)
	}
	if len(pos) == 0 {
		return usageError(stderr, "report", "want at least one RUN file")
	}
	if !strings.HasSuffix(strings.ToLower(out), ".html") && !strings.HasSuffix(strings.ToLower(out), ".htm") {
		return usageError(stderr, "report", "-o %q: the report is HTML; name it .html (use 'reportgen plot' for PNG/SVG)", out)
	}
	cfg, err := af.config(fs)
	if err != nil {
		return usageError(stderr, "report", "%v", err)
	}
	if c := refuseOverwrite(stderr, "report", runArgs(pos), []fileArg{{"-o", out}}); c >= 0 {
		return c
	}
	if err := cfg.Validate(); err != nil {
		return usageError(stderr, "report", "%v", err)
	}
	exp, err := rf.expectedWeights()
	if err != nil {
		return usageError(stderr, "report", "%v", err)
	}
	if err := checkInts(intRange{"balance-window", rf.balanceWindow, 0, maxWindow}); err != nil {
		return usageError(stderr, "report", "%v", err)
	}
	if sf.jobs < 1 {
		return usageError(stderr, "report", "-j %d: must be >= 1", sf.jobs)
	}
	// Several runs, a glob or a directory: the sweep report (sweep.go).
	if isSweep(pos) {
		return runSweepReport(pos, &in, cfg, &rf, exp, &sf, out, pngDir, title, stdout, stderr)
	}
	if sf.findings != "" {
		return usageError(stderr, "report", "--findings is written for several runs: give several runs, a glob or a directory")
	}
	bar := newProgress(stderr, "report", 2*len(pos)+1)
	var runs []*plots.RunReport
	flagged := false
	for _, p := range pos {
		// The run streams into the audit; the figures, balance and alignment
		// read its sample (the whole run up to analysis.SampleRows rows).
		sr, err := in.stream(p, nil, cfg, stderr)
		if err != nil {
			bar.done()
			return inputError(stderr, err)
		}
		sr.reportSkipped(stderr)
		if exp != nil {
			if err := checkExpected(exp, sr.st.Sample()); err != nil {
				bar.done()
				return expectedError(stderr, "report", err)
			}
		}
		bar.step()
		rep, err := sr.report(p, cfg)
		if err != nil {
			bar.done()
			return inputError(stderr, err)
		}
		run := sr.st.Sample()
		if rep.ExitCode != 0 {
			flagged = true
		}
		bal, err := rf.balance(run, exp)
		if err != nil {
			bar.done()
			return inputError(stderr, err)
		}
		var ses *plots.SessionView
		if exp != nil && !rf.noAlign && len(run.Components()) > 0 {
			if ses, err = plots.Align(run, exp, analysis.AlignOptions{}, analysis.ReplayOptions{}); err != nil {
				bar.done()
				return inputError(stderr, fmt.Errorf("%s: alignment: %w", p, err))
			}
		}
		runs = append(runs, &plots.RunReport{Name: runName(p, pos), Run: run, Audit: rep, Balance: bal, Session: ses})
	}

	opt := plots.Options{Config: cfg, Expected: exp}
	r := plots.BuildReport(runs, opt, func(int, int) { bar.step() })
	r.Version = version
	if title != "" {
		r.Title = title
	}
	err = ingest.WriteFileAtomic(out, r.WriteHTML)
	bar.step()
	bar.done()
	if err != nil {
		fmt.Fprintf(stderr, "reportgen report: %v\n", err)
		return exitUsage
	}
	for _, rr := range runs {
		for _, e := range rr.FigureErrors {
			fmt.Fprintf(stderr, "reportgen report: %s: %v\n", rr.Name, e)
		}
	}
	if pngDir != "" {
		if err := writePNGs(pngDir, runs, append(runArgs(pos), fileArg{"-o", out})); err != nil {
			fmt.Fprintf(stderr, "reportgen report: %v\n", err)
			return exitUsage
		}
	}
	fmt.Fprintf(stdout, "wrote %s (%d %s)\n", out, len(runs), runsNoun(len(runs)))
	for _, rr := range runs {
		fmt.Fprintf(stdout, "  %s: %s (%d records)\n", rr.Name, strings.ToUpper(rr.Audit.Verdict), rr.Audit.Records)
	}
	if flagged {
		return exitFlagged
	}
	return exitOK
}

// runName labels a run in the report: its file name, or its path when two
// runs share a file name.
func runName(p string, all []string) string {
	base := filepath.Base(p)
	n := 0
	for _, q := range all {
		if filepath.Base(q) == base {
			n++
		}
	}
	if n > 1 {
		return p
	}
	return base
}

// writePNGs writes <stem>-<kind>.png for every figure of every run (see
// pngStems), with the run's name in each figure's title, refusing to
// overwrite any of the files in keep.
func writePNGs(dir string, runs []*plots.RunReport, keep []fileArg) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--png: %w", err)
	}
	names := make([]string, len(runs))
	for i, rr := range runs {
		names[i] = rr.Name
	}
	for i, stem := range pngStems(names) {
		for _, f := range runs[i].Figures {
			path := filepath.Join(dir, stem+"-"+f.Kind+".png")
			if err := checkOutputs(keep, []fileArg{{"--png", path}}); err != nil {
				return err
			}
			// A standalone PNG travels without the report: it carries the
			// run's name in its title.
			title := f.Title
			f.Title += " — " + plots.ShortName(runs[i].Name)
			err := f.Save(path)
			f.Title = title
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// pngStems returns one file-name stem per run name, all distinct: the name
// without its extension (and .gz), path separators, spaces and colons
// replaced by '_', leading dots and underscores dropped; a stem already
// taken gets -2, -3, ... So "a/x.jsonl" and "b/x.jsonl" give "a_x" and
// "b_x", and the same file given twice gives "x" and "x-2".
func pngStems(names []string) []string {
	out := make([]string, len(names))
	taken := map[string]bool{}
	for i, name := range names {
		stem := strings.TrimSuffix(name, ".gz")
		if ext := filepath.Ext(stem); ext != "" && ext != stem {
			stem = strings.TrimSuffix(stem, ext)
		}
		stem = strings.Map(func(r rune) rune {
			if r == '/' || r == '\\' || r == ' ' || r == ':' {
				return '_'
			}
			return r
		}, stem)
		stem = strings.TrimLeft(stem, "._")
		if stem == "" {
			stem = "run"
		}
		s := stem
		for k := 2; taken[s]; k++ {
			s = fmt.Sprintf("%s-%d", stem, k)
		}
		taken[s] = true
		out[i] = s
	}
	return out
}

// runsNoun is "run" or "runs".
func runsNoun(n int) string {
	if n == 1 {
		return "run"
	}
	return "runs"
}

// progress is a one-line progress bar on stderr, drawn only when stderr is
// a terminal (CI logs stay clean).
type progress struct {
	w        io.Writer
	what     string
	n, total int
	active   bool
}

func newProgress(stderr io.Writer, what string, total int) *progress {
	p := &progress{w: stderr, what: what, total: total}
	if f, ok := stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.active = true
		}
	}
	return p
}

func (p *progress) step() {
	p.n++
	if !p.active || p.total <= 0 {
		return
	}
	const width = 30
	fill := min(width, p.n*width/p.total)
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d", p.what, strings.Repeat("#", fill), strings.Repeat(".", width-fill), min(p.n, p.total), p.total)
}

func (p *progress) done() {
	if p.active && p.n > 0 {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
