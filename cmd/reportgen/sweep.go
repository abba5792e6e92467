package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/plots"
)

// A sweep: audit, summary and report given several runs (files, shell
// globs, directories) read and audit them in parallel and print one table.

// sweepFlags are the flags of the multi-run paths.
type sweepFlags struct {
	jobs     int
	findings string
}

func (s *sweepFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&s.jobs, "j", runtime.GOMAXPROCS(0), "with several runs: how many to read and audit at once (each streams one run, holding a bounded sample of it)")
	fs.StringVar(&s.findings, "findings", "", "with several runs: also write the findings table (one row per run and per alert) to FILE.parquet or FILE.jsonl")
}

// runInput is one run to read: its path, and whether it was found by
// walking a directory (then a file that turns out not to be a run is
// skipped, not a failure).
type runInput struct {
	path   string
	walked bool
	src    *ingest.Source // the run a folder resolved to (nil: read path as given)
}

// isGlob reports whether s has shell glob characters.
func isGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

// isSweep reports whether the RUN arguments ask for a sweep: more than one,
// a glob, or a folder that holds more than one run (a folder that is one
// run, such as a W&B run or an HF output folder, is audited as that run).
func isSweep(args []string) bool {
	if len(args) > 1 {
		return true
	}
	for _, a := range args {
		if isGlob(a) {
			return true
		}
		if st, err := os.Stat(a); err == nil && st.IsDir() {
			srcs, err := ingest.ResolvePath(a)
			return err != nil || len(srcs) != 1
		}
	}
	return false
}

// expandRuns turns RUN arguments into the runs to read, in argument order
// without duplicates:
//
//   - a path that names a file is one run (read errors are reported later,
//     per run);
//   - an argument with * ? or [ is a shell glob (filepath.Glob, so quoted
//     globs such as 'sweep/*/trainer_state.json' work; as in a shell, * does
//     not match a leading "."); matching nothing is an error; matched
//     directories are resolved like directory arguments;
//   - a directory is resolved by ingest.ResolveSweep: a W&B, MLflow or HF
//     run folder is one run; below a plain folder, each such run folder,
//     each TensorBoard run folder (its event files merged), each group of
//     SB3 monitor files and each file of a known log format is one run
//     (hidden entries skipped); files that are not runs are counted in
//     notRuns.
func expandRuns(args []string) (runs []runInput, notRuns int, err error) {
	seen := map[string]bool{}
	add := func(r runInput) {
		key := r.path
		if r.src != nil {
			key = r.src.Kind + "\x00" + r.src.Name + "\x00" + strings.Join(r.src.Files, "\x00")
		}
		if !seen[key] {
			seen[key] = true
			runs = append(runs, r)
		}
	}
	var one func(p string, fromGlob bool) error
	one = func(p string, fromGlob bool) error {
		st, err := os.Stat(p)
		if err != nil {
			if fromGlob {
				return nil // vanished between Glob and Stat
			}
			add(runInput{path: p}) // reported as that run's read error
			return nil
		}
		if !st.IsDir() {
			add(runInput{path: p})
			return nil
		}
		srcs, n, err := ingest.ResolveSweep(p)
		if err != nil {
			return err
		}
		notRuns += n
		for i := range srcs {
			if srcs[i].Kind == "file" {
				// A log file found below the folder: the same run as the
				// file named directly.
				add(runInput{path: srcs[i].Files[0], walked: true})
				continue
			}
			add(runInput{path: srcs[i].Name, walked: true, src: &srcs[i]})
		}
		return nil
	}
	for _, a := range args {
		if !isGlob(a) {
			if err := one(a, false); err != nil {
				return nil, 0, err
			}
			continue
		}
		ms, err := filepath.Glob(a)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: bad glob pattern: %v", a, err)
		}
		if len(ms) == 0 {
			return nil, 0, fmt.Errorf("%s: no file matches (quote the pattern, and check the path)", a)
		}
		for _, m := range ms {
			if hiddenMatch(a, m) {
				continue
			}
			if err := one(m, true); err != nil {
				return nil, 0, err
			}
		}
	}
	return runs, notRuns, nil
}

// hiddenMatch reports whether glob match m has a hidden element (".x")
// where pattern's element does not start with "." itself: like a shell,
// 'sweep/*/run.jsonl' does not match sweep/.cache/run.jsonl.
func hiddenMatch(pattern, m string) bool {
	pe := strings.Split(filepath.ToSlash(pattern), "/")
	me := strings.Split(filepath.ToSlash(m), "/")
	if len(pe) != len(me) {
		return false
	}
	for i := range me {
		if strings.HasPrefix(me[i], ".") && me[i] != "." && me[i] != ".." && !strings.HasPrefix(pe[i], ".") {
			return true
		}
	}
	return false
}

// notARun reports whether err says the file is not a training log at all
// (no format, no reward, no records): for a walked file that is a skip.
func notARun(err error) bool {
	return errors.Is(err, ingest.ErrNotARun) || errors.Is(err, analysis.ErrNoReward) || errors.Is(err, errEmptyRun)
}

// sweepResult is one run of a sweep once audited: its row and findings,
// what it printed to stderr, and whatever keep() kept (report figures).
type sweepResult struct {
	row      analysis.SweepRow
	findings []analysis.FindingRow
	stderr   bytes.Buffer
	skipped  bool // a walked file that is not a run
	kept     any
}

// auditSweep reads and audits every input with up to jobs at once. Each
// worker streams one run at a time into analysis.Stream (so it holds at
// most the stream's bounded sample of it), builds its row and findings from
// the report and the sample (and calls keep, when not nil, for what a
// report needs), then drops them before taking the next. A run that fails to read
// or audit becomes an error row; a walked file that is not a run is marked
// skipped. Results are in input order. bar counts finished runs (drawn
// only when stderr is a terminal).
func auditSweep(inputs []runInput, in *inputFlags, cfg analysis.Config, jobs int, bar *progress,
	keep func(path string, run *ingest.Run, rep *analysis.Report) any) []*sweepResult {
	out := make([]*sweepResult, len(inputs))
	jobs = max(1, min(jobs, len(inputs)))
	next := make(chan int)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = auditSweepOne(inputs[i], in, cfg, keep)
				done <- struct{}{}
			}
		}()
	}
	go func() {
		for i := range inputs {
			next <- i
		}
		close(next)
		wg.Wait()
		close(done)
	}()
	for range done {
		bar.step() // only this goroutine draws the bar
	}
	bar.done()
	return out
}

// auditSweepOne is one worker's job: the same steps as a one-run audit
// (stream with the input flags, --last, --gold check, audit, empty-run
// check).
func auditSweepOne(inp runInput, in *inputFlags, cfg analysis.Config,
	keep func(string, *ingest.Run, *analysis.Report) any) *sweepResult {
	res := &sweepResult{}
	fail := func(err error) *sweepResult {
		if inp.walked && notARun(err) {
			res.skipped = true
		}
		res.row = analysis.SweepErrorRow(inp.path, err)
		res.findings = analysis.FindingsOf(res.row, nil)
		return res
	}
	sr, err := in.stream(inp.path, inp.src, cfg, &res.stderr)
	if err != nil {
		return fail(err)
	}
	if err := sr.check(cfg.Gold, &res.stderr); err != nil {
		return fail(fmt.Errorf("%s: %w", inp.path, err))
	}
	rep, err := sr.report(inp.path, cfg)
	if err != nil {
		return fail(err)
	}
	// The row and findings read the run's columns (held-out metrics, the
	// reward's movement): the sample the batch detectors judged, which is
	// the whole run up to analysis.SampleRows rows.
	sample := sr.st.Sample()
	res.row = analysis.SweepRowOf(inp.path, sample, rep, cfg)
	res.findings = analysis.FindingsOf(res.row, rep)
	if keep != nil {
		res.kept = keep(inp.path, sample, rep)
	}
	return res
}

// sweep is a finished sweep: rows sorted worst first, findings in the same
// order, and the results in input order.
type sweep struct {
	rows     []analysis.SweepRow
	findings []analysis.FindingRow
	results  []*sweepResult
	notRuns  int
	names    map[string]string
	inputs   []fileArg // every file read, so no output overwrites one
}

// runSweep expands args, audits the runs and finishes the table; it prints
// each run's stderr lines in input order and the skip count. A usage or
// expansion problem is returned as an error (exit 2 before any run).
func runSweep(args []string, in *inputFlags, cfg analysis.Config, jobs int, stderr io.Writer,
	keep func(string, *ingest.Run, *analysis.Report) any) (*sweep, error) {
	if jobs < 1 {
		return nil, fmt.Errorf("-j %d: must be >= 1", jobs)
	}
	inputs, notRuns, err := expandRuns(args)
	if err != nil {
		return nil, err
	}
	if _, err := in.options(); err != nil {
		return nil, err
	}
	if in.last < 0 {
		return nil, fmt.Errorf("--last %d: must be >= 0", in.last)
	}
	results := auditSweep(inputs, in, cfg, jobs, newProgress(stderr, "audit", len(inputs)), keep)
	sw := &sweep{notRuns: notRuns, inputs: sweepInputArgs(inputs)}
	for _, r := range results {
		if r.skipped { // a walked file that is not a run: its messages are noise
			sw.notRuns++
			continue
		}
		stderr.Write(r.stderr.Bytes())
		sw.results = append(sw.results, r)
		sw.rows = append(sw.rows, r.row)
		sw.findings = append(sw.findings, r.findings...)
	}
	if sw.notRuns > 0 {
		fmt.Fprintf(stderr, "goodhart: skipped %d file%s that %s not training logs\n", sw.notRuns, plural(sw.notRuns), map[bool]string{true: "is", false: "are"}[sw.notRuns == 1])
	}
	if len(sw.rows) == 0 {
		return nil, fmt.Errorf("no training log found in %s", strings.Join(args, " "))
	}
	sw.names = analysis.FinishSweep(sw.rows)
	analysis.FinishFindings(sw.findings, sw.names)
	for _, r := range sw.rows {
		if r.Verdict == analysis.VerdictError {
			fmt.Fprintf(stderr, "reportgen: %s failed: %s\n", r.Name, r.Error)
		}
	}
	return sw, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// writeSweepOutputs prints the table in format and writes --findings.
func writeSweepOutputs(cmd string, sw *sweep, format, findings string, stdout, stderr io.Writer) error {
	if err := checkOutputs(sw.inputs, []fileArg{{"--findings", findings}}); err != nil {
		return err
	}
	if findings != "" {
		if err := ingest.WriteFileAtomic(findings, func(w io.Writer) error {
			return analysis.WriteFindings(w, findings, sw.findings)
		}); err != nil {
			return fmt.Errorf("--findings: %w", err)
		}
	}
	switch format {
	case "json":
		return analysis.WriteSweepJSON(stdout, sw.rows)
	case "csv":
		return analysis.WriteSweepCSV(stdout, sw.rows)
	}
	return analysis.WriteSweepText(stdout, sw.rows)
}

// maybeSweep runs audit or summary over several runs when args ask for a
// sweep (see isSweep); done is false for a one-run invocation, which the
// caller handles as before. The exit code is SweepExitCode (2 when any run
// failed, else 1 when any is flagged) for audit; summary exits 0 unless a
// run failed.
func (s *sweepFlags) maybeSweep(cmd string, fs *flag.FlagSet, in *inputFlags, af *auditFlags, format *string,
	junit *string, args []string, stdout, stderr io.Writer) (code int, done bool) {
	pos, help, err := parseArgs(fs, args)
	if help {
		return exitOK, true
	}
	if err != nil {
		return usageError(stderr, cmd, "%v", err), true
	}
	if !isSweep(pos) {
		if *format == "csv" {
			return usageError(stderr, cmd, "--format csv is the sweep table: give several runs, a glob or a directory"), true
		}
		if s.findings != "" {
			return usageError(stderr, cmd, "--findings is written for several runs: give several runs, a glob or a directory"), true
		}
		return 0, false
	}
	if *format != "text" && *format != "json" && *format != "csv" {
		return usageError(stderr, cmd, "--format %q: want text, json or csv", *format), true
	}
	if junit != nil && *junit != "" {
		return usageError(stderr, cmd, "--junit takes one run; for several runs use --findings FILE.parquet|.jsonl"), true
	}
	if s.findings != "" && analysis.FindingsFormat(s.findings) == "" {
		return usageError(stderr, cmd, "--findings %q: name it .parquet or .jsonl", s.findings), true
	}
	cfg, err := af.config(fs)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return usageError(stderr, cmd, "%v", err), true
	}
	sw, err := runSweep(pos, in, cfg, s.jobs, stderr, nil)
	if err != nil {
		return usageError(stderr, cmd, "%v", err), true
	}
	if err := writeSweepOutputs(cmd, sw, *format, s.findings, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "reportgen %s: %v\n", cmd, err)
		return exitUsage, true
	}
	code = analysis.SweepExitCode(sw.rows)
	if cmd == "summary" && code == exitFlagged {
		code = exitOK
	}
	return code, true
}

// sweepFullLimit is the largest sweep whose report keeps every run's full
// section (figures and the inputs table, so every run stays in memory until
// the page is written). Larger sweeps draw figures for flagged runs only
// and release each run's columns once its section is built.
const sweepFullLimit = 20

// reportKept is what a report worker keeps of one run.
type reportKept struct {
	rr    *plots.RunReport
	curve plots.SweepCurve
}

// runSweepReport writes the comparison report of several runs: the sweep
// table and overlaid curves on top, then each run's own section, worst
// run first. Runs are read and audited in parallel (-j); see sweepFullLimit
// for what a large sweep keeps.
func runSweepReport(pos []string, in *inputFlags, cfg analysis.Config, rf *reportFlags, exp map[string]float64,
	sf *sweepFlags, out, pngDir, title string, stdout, stderr io.Writer) int {
	if sf.findings != "" && analysis.FindingsFormat(sf.findings) == "" {
		return usageError(stderr, "report", "--findings %q: name it .parquet or .jsonl", sf.findings)
	}
	inputs, _, err := expandRuns(pos)
	if err != nil {
		return usageError(stderr, "report", "%v", err)
	}
	ins := sweepInputArgs(inputs)
	if c := refuseOverwrite(stderr, "report", ins, []fileArg{{"-o", out}, {"--findings", sf.findings}}); c >= 0 {
		return c
	}
	full := len(inputs) <= sweepFullLimit
	opt := plots.Options{Config: cfg, Expected: exp}
	keep := func(path string, run *ingest.Run, rep *analysis.Report) any {
		rr := &plots.RunReport{Run: run, Audit: rep}
		var errs []error
		var err error
		if rr.Balance, err = rf.balance(run, exp); err != nil {
			errs = append(errs, err)
		}
		if exp != nil && !rf.noAlign && len(run.Components()) > 0 {
			if rr.Session, err = plots.Align(run, exp, analysis.AlignOptions{}, analysis.ReplayOptions{}); err != nil {
				errs = append(errs, fmt.Errorf("alignment: %w", err))
			}
		}
		if full || rep.ExitCode != 0 {
			rr.Figures, rr.FigureErrors = plots.AllFigures(run, rep, rr.Balance, rr.Session, opt)
		} else {
			rr.Figures = []*plots.Figure{}
		}
		rr.FigureErrors = append(errs, rr.FigureErrors...)
		k := &reportKept{rr: rr, curve: plots.SweepCurveOf(path, run, rep, analysis.HeldOutMetric(run, cfg), 0)}
		if !full {
			rr.Run = nil // release the columns; the section is built from the audit and figures
		}
		return k
	}
	sw, err := runSweep(pos, in, cfg, sf.jobs, stderr, keep)
	if err != nil {
		return usageError(stderr, "report", "%v", err)
	}
	view := &plots.SweepView{Rows: sw.rows}
	if !full {
		view.Note = fmt.Sprintf("%d runs: each run's own figures are drawn for flagged runs only, and the per-run input tables are left out (run 'reportgen report RUN' on one run for all of it).", len(sw.rows))
	}
	byPath := map[string]*reportKept{}
	for _, r := range sw.results {
		if k, ok := r.kept.(*reportKept); ok {
			byPath[r.row.Path] = k
			view.Curves = append(view.Curves, k.curve)
		}
	}
	var runs []*plots.RunReport
	for _, row := range sw.rows { // worst first
		if k := byPath[row.Path]; k != nil {
			k.rr.Name = row.Name
			runs = append(runs, k.rr)
		}
	}
	r := plots.BuildReport(runs, opt, nil)
	r.Compare = nil
	r.Sweep = view
	r.Version = version
	if title != "" {
		r.Title = title
	}
	if err := ingest.WriteFileAtomic(out, r.WriteHTML); err != nil {
		fmt.Fprintf(stderr, "reportgen report: %v\n", err)
		return exitUsage
	}
	for _, rr := range runs {
		for _, e := range rr.FigureErrors {
			fmt.Fprintf(stderr, "reportgen report: %s: %v\n", rr.Name, e)
		}
	}
	if pngDir != "" {
		if err := writePNGs(pngDir, runs, append(ins, fileArg{"-o", out})); err != nil {
			fmt.Fprintf(stderr, "reportgen report: %v\n", err)
			return exitUsage
		}
	}
	if sf.findings != "" {
		if err := ingest.WriteFileAtomic(sf.findings, func(w io.Writer) error {
			return analysis.WriteFindings(w, sf.findings, sw.findings)
		}); err != nil {
			fmt.Fprintf(stderr, "reportgen report: --findings: %v\n", err)
			return exitUsage
		}
	}
	fmt.Fprintf(stdout, "wrote %s (%d %s)\n", out, len(sw.rows), runsNoun(len(sw.rows)))
	fmt.Fprintln(stdout, "  "+analysis.SweepSummaryLine(sw.rows))
	return analysis.SweepExitCode(sw.rows)
}

// sweepInputArgs lists every file a sweep reads, for the check that no
// output overwrites an input.
func sweepInputArgs(inputs []runInput) []fileArg {
	var out []fileArg
	for _, in := range inputs {
		if in.src == nil {
			out = append(out, fileArg{"RUN", in.path})
			continue
		}
		for _, f := range in.src.Files {
			out = append(out, fileArg{"RUN", f})
		}
	}
	return out
}
