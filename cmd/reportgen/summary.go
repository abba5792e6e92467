package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/goodhart-rl/goodhart/analysis"
)

func init() {
	register(&command{
		name:    "summary",
		summary: "reward statistics over the last window, detector states, diagnosis",
		run:     runSummary,
	})
}

func runSummary(args []string, stdout, stderr io.Writer) int {
	var in inputFlags
	var af auditFlags
	var format string
	fs := newFlagSet("summary",
		"summary RUN... [--last N] [--window N] [--sensitivity low|medium|high] [--max-reward X] [--format text|json]",
		"Print the reward's mean, std, min/max and p50/p95 over the last window,\n"+
			"one line per detector, and the diagnosis. Always exits 0 unless the\n"+
			"input is unreadable (use 'reportgen audit' to gate CI).",
		"reportgen summary run.jsonl --last 500",
		stdout)
	in.register(fs)
	af.register(fs)
	fs.StringVar(&format, "format", "text", "output format: text|json (csv: several runs)")
	// Several runs, a glob or a directory: the sweep table (sweep.go).
	var sf sweepFlags
	sf.register(fs)
	if code, done := sf.maybeSweep("summary", fs, &in, &af, &format, nil, args, stdout, stderr); done {
		return code
	}
	a, code, ok := auditOne("summary", fs, &in, &af, &format, args, stderr)
	if !ok {
		return code
	}
	rep := a.rep
	if format == "json" {
		if err := rep.WriteSummaryJSON(stdout); err != nil {
			fmt.Fprintf(stderr, "reportgen summary: %v\n", err)
			return exitUsage
		}
		return exitOK
	}
	writeSummaryText(stdout, a.path, rep)
	return exitOK
}

// summaryBadge is rewardspy's short status label.
func summaryBadge(s analysis.Status) string {
	switch s {
	case analysis.StatusOK:
		return "OK"
	case analysis.StatusWarning:
		return "WARN"
	case analysis.StatusAlert:
		return "ALERT"
	}
	return "-"
}

// writeSummaryText prints rewardspy's summary layout: the statistics table,
// one line per detector, then the diagnosis.
func writeSummaryText(w io.Writer, path string, rep *analysis.Report) {
	fmt.Fprintln(w, filepath.Base(path))
	if rep.Records == 0 || rep.Summary == nil {
		fmt.Fprintln(w, "No records found.")
		return
	}
	s := rep.Summary
	fmt.Fprintf(w, "  records    %s\n", thousands(rep.Records))
	fmt.Fprintf(w, "  window     last %d\n", min(rep.Window, rep.Records))
	fmt.Fprintf(w, "  mean       %s\n", analysis.PyFixed(s.Mean, 4))
	fmt.Fprintf(w, "  std        %s\n", analysis.PyFixed(s.Std, 4))
	fmt.Fprintf(w, "  min / max  %s / %s\n", analysis.PyFixed(s.Min, 4), analysis.PyFixed(s.Max, 4))
	fmt.Fprintf(w, "  p50 / p95  %s / %s\n", analysis.PyFixed(s.P50, 4), analysis.PyFixed(s.P95, 4))
	fmt.Fprintln(w)
	width := 0
	for _, d := range rep.Detectors {
		width = max(width, len(d.Name))
	}
	for _, d := range rep.Detectors {
		line := fmt.Sprintf("  %-6s %-*s  %s", summaryBadge(d.Status), width, d.Name, d.Message)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, rep.HumanDiagnosis())
}
