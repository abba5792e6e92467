package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

func init() {
	register(&command{
		name:    "align",
		summary: "alignment score, drift, starvation and auto weight correction replayed over a log",
		run:     runAlign,
	})
}

// alignFlags are the alignment options, each a flag named after the option.
type alignFlags struct {
	window, baseline, minConf, driftWin, starveWin int
	zThreshold                                     string
	steepness, rate, decay, starveThr              float64
	noAutoCorrect, openLoop                        bool
}

func (a *alignFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&a.window, "window", analysis.DefaultAlignWindow, "records in the ratio window")
	fs.IntVar(&a.baseline, "baseline-steps", analysis.DefaultBaselineSteps, "warm-up records that define the baseline (no score before)")
	fs.StringVar(&a.zThreshold, "z-threshold", "2.5", "z-score threshold: one value, or per component comp=t,... (a bare value sets the rest)")
	fs.Float64Var(&a.steepness, "sigmoid-steepness", analysis.DefaultSigmoidSteepness, "k in score = 1/(1+exp(k*max(|z|-t)))")
	fs.BoolVar(&a.noAutoCorrect, "no-auto-correct", false, "do not correct the weights")
	fs.Float64Var(&a.rate, "correction-rate", analysis.DefaultCorrectionRate, "fraction of the full correction applied at a time")
	fs.Float64Var(&a.decay, "correction-rate-decay", 0, "subtracted from the rate after each correction")
	fs.IntVar(&a.minConf, "min-confidence-steps", analysis.DefaultMinConfidenceSteps, "records after the baseline, and between corrections")
	fs.IntVar(&a.driftWin, "drift-window", analysis.DefaultDriftWindow, "snapshots in the drift-velocity fit")
	fs.IntVar(&a.starveWin, "starvation-window", analysis.DefaultStarvationWindow, "consecutive near-zero records before a starvation alert")
	fs.Float64Var(&a.starveThr, "starvation-threshold", analysis.DefaultStarvationThreshold, "|value| below this counts as near zero")
	fs.BoolVar(&a.openLoop, "open-loop", false, "feed the logged values as they are (default: multiply them by the current weights, as the training loop would)")
}

// options returns the options of the flags actually given (so that --resume
// keeps the saved values of the others).
func (a *alignFlags) options(fs *flag.FlagSet) (analysis.AlignOptions, error) {
	var o analysis.AlignOptions
	var err error
	posInt := func(name string, v int, dst *int) {
		for _, r := range a.ranges() {
			if r.name == name && err == nil {
				if r.v <= 0 {
					err = fmt.Errorf("--%s %d: must be > 0", name, v)
				} else {
					err = checkInts(r)
				}
			}
		}
		*dst = v
	}
	posFloat := func(name string, v float64, dst *float64) {
		if err == nil && (!(v > 0) || math.IsInf(v, 0)) {
			err = fmt.Errorf("--%s %v: must be a number > 0", name, v)
		}
		*dst = v
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "window":
			posInt(f.Name, a.window, &o.Window)
		case "baseline-steps":
			posInt(f.Name, a.baseline, &o.BaselineSteps)
		case "min-confidence-steps":
			posInt(f.Name, a.minConf, &o.MinConfidenceSteps)
		case "drift-window":
			posInt(f.Name, a.driftWin, &o.DriftWindow)
		case "starvation-window":
			posInt(f.Name, a.starveWin, &o.StarvationWindow)
		case "sigmoid-steepness":
			posFloat(f.Name, a.steepness, &o.SigmoidSteepness)
		case "correction-rate":
			posFloat(f.Name, a.rate, &o.CorrectionRate)
		case "starvation-threshold":
			posFloat(f.Name, a.starveThr, &o.StarvationThreshold)
		case "correction-rate-decay":
			if err == nil && (a.decay < 0 || math.IsNaN(a.decay) || math.IsInf(a.decay, 0)) {
				err = fmt.Errorf("--correction-rate-decay %v: must be a number >= 0", a.decay)
			}
			o.CorrectionRateDecay = a.decay
		case "no-auto-correct":
			o.NoAutoCorrect = a.noAutoCorrect
		case "z-threshold":
			if e := parseZThreshold(a.zThreshold, &o); e != nil && err == nil {
				err = e
			}
		}
	})
	return o, err
}

// parseZThreshold reads "2.5", "food=3,death=4" or "2.5,food=3".
func parseZThreshold(s string, o *analysis.AlignOptions) error {
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, isKV := strings.Cut(part, "=")
		if !isKV {
			v = k
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || !(x > 0) || math.IsInf(x, 0) {
			return fmt.Errorf("--z-threshold %q: %q is not a number > 0", s, strings.TrimSpace(v))
		}
		if !isKV {
			o.ZThreshold = x
			continue
		}
		if o.ZThresholds == nil {
			o.ZThresholds = map[string]float64{}
		}
		k = strings.TrimSpace(k)
		if _, dup := o.ZThresholds[k]; dup || k == "" {
			return fmt.Errorf("--z-threshold %q: %q given twice or empty", s, k)
		}
		o.ZThresholds[k] = x
	}
	return nil
}

// alignSummary counts what the replay produced.
type alignSummary struct {
	snapshots, ok, warning, critical int
	firstFlagged                     int
	corrections                      int
	lastCorrection                   int
	last                             *analysis.Snapshot
}

func (s *alignSummary) add(sn analysis.Snapshot) {
	s.snapshots++
	switch sn.Flag {
	case analysis.FlagOK:
		s.ok++
	case analysis.FlagWarning:
		s.warning++
	default:
		s.critical++
	}
	if sn.Flag != analysis.FlagOK && s.firstFlagged == 0 {
		s.firstFlagged = sn.Step
	}
	if len(sn.CorrectionsApplied) > 0 {
		s.corrections++
		s.lastCorrection = sn.Step
	}
	cp := sn
	s.last = &cp
}

func runAlign(args []string, stdout, stderr io.Writer) int {
	var in inputFlags
	var af alignFlags
	var expected, csvPath, statePath, resumePath string
	fs := newFlagSet("align",
		"align RUN --expected name=w,... [--baseline-steps 300] [--z-threshold 2.5 | comp=t,...] [--csv audit.csv] [--state state.json] [--resume state.json] [--open-loop]",
		"Replay a log through the alignment monitor (rewardguard's paid-tier AutoMonitor):\n"+
			"a baseline of component shares over the first --baseline-steps records, then\n"+
			"per record z-scores against it, a 0-1 alignment score (0.5 at the threshold),\n"+
			"drift velocity, starvation alerts and automatic weight correction. By default\n"+
			"the replay multiplies each record's components by the weights current before\n"+
			"it, as your training loop would; --open-loop feeds them as logged. Prints the\n"+
			"final state; --csv writes the per-record audit trail; --state saves the state,\n"+
			"--resume continues from one. Exit code 1 when the final flag is warning or\n"+
			"critical or a component is starving, 0 otherwise, 2 on bad usage or input.",
		"reportgen align train.csv --expected task=0.7,safety=0.3 --csv audit.csv --state align.json",
		stdout)
	in.register(fs)
	af.register(fs)
	fs.StringVar(&expected, "expected", "", "intended split as relative weights, task=0.7,safety=0.3 or food:60,survival:40; each name must be a component of RUN\n(required unless --resume; with --resume, checked against the state)")
	fs.StringVar(&csvPath, "csv", "", "write the audit trail (one row per record after the baseline) to FILE")
	fs.StringVar(&statePath, "state", "", "save the monitor state (JSON: config, counters, baseline, weights, window; not the history) to FILE; may be the --resume file")
	fs.StringVar(&resumePath, "resume", "", "continue from a state FILE saved with --state (RUN holds the records that follow; refused when RUN has components the state never saw)")
	pos, help, err := parseArgs(fs, args)
	if help {
		return exitOK
	}
	if err != nil {
		return usageError(stderr, "align", "%v", err)
	}
	pos, expected = expectedFromArgs(pos, expected)
	if len(pos) != 1 {
		return usageError(stderr, "align", "want exactly one RUN file, got %d", len(pos))
	}
	opt, err := af.options(fs)
	if err != nil {
		return usageError(stderr, "align", "%v", err)
	}
	// --state may name the --resume file (continue and save in place);
	// nothing else may overwrite an input.
	if c := refuseOverwrite(stderr, "align", append(runArgs(pos), fileArg{"--resume", resumePath}),
		[]fileArg{{"--csv", csvPath}}); c >= 0 {
		return c
	}
	if c := refuseOverwrite(stderr, "align", runArgs(pos), []fileArg{{"--csv", csvPath}, {"--state", statePath}}); c >= 0 {
		return c
	}
	// Snapshots are streamed to the summary and the CSV; the state file
	// holds the monitor's state, not the history.
	opt.MaxSnapshots = -1
	run, err := in.load(pos[0], stderr)
	if err != nil {
		return inputError(stderr, err)
	}
	windowGiven := false
	fs.Visit(func(f *flag.Flag) { windowGiven = windowGiven || f.Name == "window" })
	if windowGiven && resumePath == "" {
		if err := checkWindowFits("window", af.window, run.Len()); err != nil {
			return usageError(stderr, "align", "%v", err)
		}
	}
	var a *analysis.Aligner
	switch {
	case resumePath != "":
		f, err := os.Open(resumePath)
		if err != nil {
			return inputError(stderr, err)
		}
		a, err = analysis.LoadAligner(f, opt)
		f.Close()
		if err != nil {
			if errors.Is(err, analysis.ErrBadAlignOption) {
				return usageError(stderr, "align", "%v", err)
			}
			return inputError(stderr, fmt.Errorf("%s: %w", resumePath, err))
		}
		if err := checkResume(a, run, pos[0], resumePath, expected); err != nil {
			return inputError(stderr, err)
		}
		if windowGiven {
			if err := checkWindowFits("window", af.window, a.StepCount()+run.Len()); err != nil {
				return usageError(stderr, "align", "%v", err)
			}
		}
	case expected == "":
		return usageError(stderr, "align", "--expected is required, e.g. --expected task=0.7,safety=0.3 (the split you intended)")
	default:
		exp, err := parseWeights(expected)
		if err != nil {
			return usageError(stderr, "align", "--expected: %v", err)
		}
		if a, err = analysis.NewAligner(exp, opt); err != nil {
			return usageError(stderr, "align", "%v", err)
		}
	}
	if expected != "" {
		if err := checkExpected(a.Config().Expected, run); err != nil {
			return expectedError(stderr, "align", err)
		}
	}
	comps := alignColumns(run, a)
	if len(comps) == 0 {
		return inputError(stderr, noComponentsError(pos[0], run))
	}
	startStep := a.StepCount()

	var sum alignSummary
	a.OnSnapshot(sum.add)
	var replayErr error
	write := func(w io.Writer) error {
		var cw *analysis.AlignCSVWriter
		if w != nil {
			cw = analysis.NewAlignCSVWriter(w, mergeNames(a.Components(), comps))
			a.OnSnapshot(func(s analysis.Snapshot) { cw.Write(s) })
		}
		_, replayErr = a.Replay(run, analysis.ReplayOptions{OpenLoop: af.openLoop})
		if replayErr != nil {
			return replayErr
		}
		if cw != nil {
			return cw.Flush()
		}
		return nil
	}
	if csvPath != "" {
		err = ingest.WriteFileAtomic(csvPath, write)
	} else {
		err = write(nil)
	}
	if replayErr != nil {
		return inputError(stderr, fmt.Errorf("%s: %w", pos[0], replayErr))
	}
	if err != nil {
		fmt.Fprintf(stderr, "reportgen align: %v\n", err)
		return exitUsage
	}
	if statePath != "" {
		if err := ingest.WriteFileAtomic(statePath, a.Save); err != nil {
			fmt.Fprintf(stderr, "reportgen align: %v\n", err)
			return exitUsage
		}
	}
	writeAlignText(stdout, pos[0], a, &sum, startStep, af.openLoop, csvPath, statePath)
	if sum.last != nil && (sum.last.Flag != analysis.FlagOK || len(sum.last.StarvationAlerts) > 0) {
		return exitFlagged
	}
	return exitOK
}

// checkResume refuses a state that is not this run's: RUN has a component
// the state never tracked, or --expected (when given with --resume) is not
// the state's expected split (same percentages after normalising, to 1e-9).
func checkResume(a *analysis.Aligner, run *ingest.Run, runPath, statePath, expected string) error {
	cfg := a.Config()
	if expected != "" {
		exp, err := parseWeights(expected)
		if err == nil {
			var pcts map[string]float64
			if pcts, err = analysis.ExpectedPercentages(exp); err == nil && !samePercentages(pcts, cfg.Expected) {
				err = fmt.Errorf("differs from the state's %s", percentList(cfg.Expected))
			}
		}
		if err != nil {
			return fmt.Errorf("--expected %s: %v; %s is from another session (drop --expected to continue it, or --resume to start afresh)",
				expected, err, statePath)
		}
	}
	tracked := map[string]bool{}
	for _, c := range a.Components() {
		tracked[c] = true
	}
	var unknown []string
	for _, c := range alignColumns(run, a) {
		if !tracked[c] {
			unknown = append(unknown, c)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("%s has components the state %s never saw (%s; it tracks %s): is the state from another run? "+
			"Start afresh with --expected instead of --resume", runPath, statePath, strings.Join(unknown, ", "), strings.Join(a.Components(), ", "))
	}
	return nil
}

func samePercentages(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || math.Abs(x-y) > 1e-9*math.Max(1, math.Abs(y)) {
			return false
		}
	}
	return true
}

func percentList(m map[string]float64) string {
	var parts []string
	for _, k := range balanceKeys(m) {
		parts = append(parts, k+"="+strconv.FormatFloat(m[k], 'g', 6, 64)+"%")
	}
	return strings.Join(parts, ",")
}

// alignColumns lists the run's components the monitor will see (those with
// at least one value; rewardspy's "total" only when expected names it).
func alignColumns(run *ingest.Run, a *analysis.Aligner) []string {
	cfg := a.Config()
	var out []string
	for _, c := range run.Components() {
		if _, ok := cfg.Expected[c]; c == ingest.TotalComponent && !ok {
			continue
		}
		col, _ := run.Column(ingest.ComponentPrefix + c)
		for _, v := range col {
			if !math.IsNaN(v) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

func mergeNames(a, b []string) []string {
	set := map[string]bool{}
	for _, x := range a {
		set[x] = true
	}
	for _, x := range b {
		set[x] = true
	}
	return balanceKeys(set)
}

// writeAlignText prints the final state: score, flag, drift, a table of
// components and what was written.
func writeAlignText(w io.Writer, path string, a *analysis.Aligner, s *alignSummary, start int, openLoop bool, csvPath, statePath string) {
	cfg := a.Config()
	loop := "closed loop (components x current weights)"
	if openLoop {
		loop = "open loop (values as logged)"
	}
	fed := a.StepCount() - start
	fmt.Fprintf(w, "%s: %s records, %s", path, thousands(fed), loop)
	if start > 0 {
		fmt.Fprintf(w, ", resumed after record %s", thousands(start))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Baseline: first %s records, window %d, z threshold %s\n", thousands(cfg.BaselineSteps), cfg.Window, thresholdText(cfg))
	if s.last == nil {
		if a.StepCount() < cfg.BaselineSteps {
			fmt.Fprintf(w, "\nStill warming up: %s of %s baseline records, so no alignment score yet.\n"+
				"Use a longer log or a smaller --baseline-steps.\n", thousands(a.StepCount()), thousands(cfg.BaselineSteps))
		} else {
			fmt.Fprintln(w, "\nNo records after the baseline in this run.")
		}
		writeAlignFiles(w, csvPath, statePath)
		return
	}
	l := s.last
	fmt.Fprintf(w, "\nFinal (record %s): score %s, %s, drift %s per record\n", thousands(l.Step),
		strconv.FormatFloat(l.AlignmentScore, 'f', 6, 64), strings.ToUpper(l.Flag), strconv.FormatFloat(l.DriftVelocity, 'f', 6, 64))
	width := len("component")
	for _, c := range l.Components {
		width = max(width, len(c))
	}
	fmt.Fprintf(w, "\n  %-*s  %10s  %8s  %9s  %8s\n", width, "component", "expected %", "ratio %", "z", "weight")
	weights := a.Weights()
	for i, c := range l.Components {
		exp := "-"
		if e, ok := cfg.Expected[c]; ok {
			exp = strconv.FormatFloat(e, 'f', 1, 64)
		}
		mark := ""
		if t := threshold(cfg, c); math.Abs(l.Z[i]) > t {
			mark = "  <-- |z| > " + strconv.FormatFloat(t, 'g', -1, 64)
		}
		fmt.Fprintf(w, "  %-*s  %10s  %8s  %9s  %8s%s\n", width, c, exp, strconv.FormatFloat(l.Ratios[i], 'f', 2, 64),
			strconv.FormatFloat(l.Z[i], 'f', 4, 64), strconv.FormatFloat(weights[c], 'f', 4, 64), mark)
	}
	fmt.Fprintf(w, "\nSnapshots: %s (ok %s, warning %s, critical %s)", thousands(s.snapshots), thousands(s.ok), thousands(s.warning), thousands(s.critical))
	if s.firstFlagged > 0 {
		fmt.Fprintf(w, "; first flagged at record %s", thousands(s.firstFlagged))
	}
	fmt.Fprintln(w)
	if !cfg.AutoCorrect {
		fmt.Fprintln(w, "Corrections: off (--no-auto-correct)")
	} else if s.corrections == 0 {
		fmt.Fprintln(w, "Corrections: none")
	} else {
		fmt.Fprintf(w, "Corrections: %s, the last at record %s; rate now %s\n", thousands(s.corrections), thousands(s.lastCorrection),
			strconv.FormatFloat(a.Rate(), 'g', -1, 64))
	}
	if len(l.StarvationAlerts) > 0 {
		fmt.Fprintf(w, "Starving: %s (|value| < %s for %d+ records; --starvation-threshold sets the scale)\n", strings.Join(l.StarvationAlerts, ", "),
			strconv.FormatFloat(cfg.StarvationThreshold, 'g', -1, 64), cfg.StarvationWindow)
	} else {
		fmt.Fprintln(w, "Starving: none")
	}
	writeAlignFiles(w, csvPath, statePath)
}

func writeAlignFiles(w io.Writer, csvPath, statePath string) {
	if csvPath != "" {
		fmt.Fprintf(w, "Audit trail: %s\n", csvPath)
	}
	if statePath != "" {
		fmt.Fprintf(w, "State: %s (continue with --resume %s)\n", statePath, statePath)
	}
}

func threshold(cfg analysis.AlignConfig, c string) float64 {
	if t, ok := cfg.ZThresholds[c]; ok {
		return t
	}
	return cfg.ZThreshold
}

func thresholdText(cfg analysis.AlignConfig) string {
	s := strconv.FormatFloat(cfg.ZThreshold, 'g', -1, 64)
	for _, c := range balanceKeys(cfg.ZThresholds) {
		s += ", " + c + "=" + strconv.FormatFloat(cfg.ZThresholds[c], 'g', -1, 64)
	}
	return s
}
