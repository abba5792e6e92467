package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/plots"
)

func init() {
	register(&command{
		name:    "plot",
		summary: "draw one figure of a run to PNG or SVG (for CI artifacts)",
		run:     runPlot,
	})
}

func runPlot(args []string, stdout, stderr io.Writer) int {
	var in inputFlags
	var af auditFlags
	var rf reportFlags
	var kind, out string
	fs := newFlagSet("plot",
		"plot RUN --figure "+strings.Join(plots.Kinds, "|")+" -o out.png|out.svg [audit flags]",
		"Draw one figure of a run. The run is audited first so the figure shows\n"+
			"its alerts and flagged ranges. balance and session need --expected.\n"+
			"The format follows the file name: .png (144 dpi) or .svg (fonts embedded).\n"+
			"Exit code 0 when written, 2 on bad usage or input, or when the run lacks\n"+
			"what the figure shows (e.g. --figure length on a run without lengths).",
		"reportgen plot testdata/runs/hacked.jsonl --figure timeline -o timeline.png",
		stdout)
	in.register(fs)
	af.register(fs)
	rf.register(fs)
	fs.StringVar(&kind, "figure", "timeline", "which figure: "+strings.Join(plots.Kinds, ", "))
	fs.StringVar(&out, "o", "", "output file, .png or .svg (required)")
	pos, help, err := parseArgs(fs, args)
	if help {
		return exitOK
	}
	if err != nil {
		return usageError(stderr, "plot", "%v", err)
	}
	if len(pos) != 1 {
		return usageError(stderr, "plot", "want exactly one RUN file, got %d", len(pos))
	}
	if out == "" {
		return usageError(stderr, "plot", "-o is required (out.png or out.svg)")
	}
	if _, err := plots.ImageFormat(out); err != nil {
		return usageError(stderr, "plot", "%v", err)
	}
	if c := refuseOverwrite(stderr, "plot", runArgs(pos), []fileArg{{"-o", out}}); c >= 0 {
		return c
	}
	known := false
	for _, k := range plots.Kinds {
		known = known || k == kind
	}
	if !known {
		return usageError(stderr, "plot", "--figure %q: want one of %s", kind, strings.Join(plots.Kinds, ", "))
	}
	cfg, err := af.config(fs)
	if err != nil {
		return usageError(stderr, "plot", "%v", err)
	}
	if err := cfg.Validate(); err != nil {
		return usageError(stderr, "plot", "%v", err)
	}
	exp, err := rf.expectedWeights()
	if err != nil {
		return usageError(stderr, "plot", "%v", err)
	}
	if (kind == "balance" || kind == "session") && exp == nil {
		return usageError(stderr, "plot", "--figure %s needs --expected, e.g. --expected task=0.7,format=0.3", kind)
	}
	// As in report: the run streams into the audit, and the figure is drawn
	// from its sample (the whole run up to analysis.SampleRows rows).
	sr, err := in.stream(pos[0], nil, cfg, stderr)
	if err != nil {
		return inputError(stderr, err)
	}
	sr.reportSkipped(stderr)
	rep, err := sr.report(pos[0], cfg)
	if err != nil {
		return inputError(stderr, err)
	}
	run := sr.st.Sample()
	var bal *plots.BalanceView
	var ses *plots.SessionView
	switch kind {
	case "balance":
		if bal, err = rf.balance(run, exp); err != nil {
			return inputError(stderr, err)
		}
	case "session":
		if ses, err = plots.Align(run, exp, analysis.AlignOptions{}, analysis.ReplayOptions{}); err != nil && !errors.Is(err, plots.ErrNotApplicable) {
			return inputError(stderr, fmt.Errorf("%s: alignment: %w", pos[0], err))
		}
	}
	fig, err := plots.FigureOf(kind, run, rep, bal, ses, plots.Options{Config: cfg, Expected: exp})
	if err != nil {
		fmt.Fprintf(stderr, "reportgen plot: %s: %v\n", pos[0], err)
		return exitUsage
	}
	// A standalone image carries the run's name: it travels without the
	// report around it.
	fig.Title += " — " + plots.ShortName(filepath.Base(pos[0]))
	if err := fig.Save(out); err != nil {
		fmt.Fprintf(stderr, "reportgen plot: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "wrote %s\n", out)
	return exitOK
}
