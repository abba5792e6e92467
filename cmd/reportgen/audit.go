package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

func init() {
	register(&command{
		name:    "audit",
		summary: "verdict on reward hacking, exit 1 when flagged (for CI)",
		run:     runAudit,
	})
}

// maxTextAlerts caps the alert lines of the text report.
const maxTextAlerts = 50

func runAudit(args []string, stdout, stderr io.Writer) int {
	var in inputFlags
	var af auditFlags
	var format, junit string
	fs := newFlagSet("audit",
		"audit RUN... [--kind rewardspy|policy|preference|episodes] [--gold KEY] [--window N] [--sensitivity low|medium|high] [--max-reward X] [--detectors rewardspy|all|a,b] [--format text|json|csv] [-j N] [--findings F.parquet] [--last N] [--strict] [--junit FILE]",
		"Judge a training log with the detectors for its kind of run (detected, or\n"+
			"--kind) and print the verdict: reward hacking (the reward rises while the\n"+
			"true objective, --gold or a held-out metric, does not), a training\n"+
			"pathology (no learning, collapse, truncation, ...), an early warning, or\n"+
			"healthy, with the evidence and the step where each finding starts.\n"+
			"Exit code 0 when nothing is flagged, 1 when any detector ends at WARNING or\n"+
			"ALERT, 2 on bad usage or input (an empty log included), so it can gate CI.\n"+
			"Several runs (files, quoted globs, directories) are audited in parallel\n"+
			"(-j N) into one table, worst first (--format text|json|csv, --findings\n"+
			"FILE.parquet); exit 1 when any run is flagged, 2 when any run failed.",
		"reportgen audit run.jsonl --max-reward 1.0 --junit audit.xml",
		stdout)
	in.register(fs)
	af.register(fs)
	fs.StringVar(&format, "format", "text", "output format: text|json (csv: several runs)")
	fs.StringVar(&junit, "junit", "", "also write a JUnit XML file (one test case per detector) to FILE")
	// Several runs, a glob or a directory: the sweep table (sweep.go).
	var sf sweepFlags
	sf.register(fs)
	if code, done := sf.maybeSweep("audit", fs, &in, &af, &format, &junit, args, stdout, stderr); done {
		return code
	}
	a, code, ok := auditOne("audit", fs, &in, &af, &format, args, stderr)
	if !ok {
		return code
	}
	rep := a.rep
	if c := refuseOverwrite(stderr, "audit", runArgs([]string{a.path}), []fileArg{{"--junit", junit}}); c >= 0 {
		return c
	}
	if junit != "" {
		if err := ingest.WriteFileAtomic(junit, func(w io.Writer) error {
			return writeJUnit(w, a.path, rep)
		}); err != nil {
			fmt.Fprintf(stderr, "reportgen audit: %v\n", err)
			return exitUsage
		}
	}
	if format == "json" {
		if err := rep.WriteJSON(stdout); err != nil {
			fmt.Fprintf(stderr, "reportgen audit: %v\n", err)
			return exitUsage
		}
	} else {
		writeAuditText(stdout, a)
	}
	return rep.ExitCode
}

// writeAuditText prints what a person reads first: the run and its kind,
// the verdict (the class of what was found) with one sentence of evidence,
// then each finding with its step range, the other detectors, and the
// alerts. "step" is always the run's own step (the trainer step, the
// episode, the record's step field); JSON keeps rewardspy's 1-based record
// count in "step" and the run's step in "run_step".
func writeAuditText(w io.Writer, a audited) {
	rep, cfg := a.rep, a.cfg
	noun := "records"
	if rep.Records == 1 {
		noun = "record"
	}
	format := ""
	if a.run != nil && a.run.Format != "" {
		format = " (" + a.run.Format + ")"
	}
	fmt.Fprintf(w, "%s: %s%s, %s %s, window %d", filepath.Base(a.path), rep.Kind.Noun(), format, thousands(rep.Records), noun, rep.Window)
	if rep.Kind == analysis.KindRewardspy {
		sens := cfg.Sensitivity
		if sens == "" {
			sens = analysis.SensitivityMedium
		}
		fmt.Fprintf(w, ", sensitivity %s", sens)
	}
	fmt.Fprintln(w)
	if rep.Records == 0 {
		fmt.Fprintln(w, "No records found.")
		return
	}
	fmt.Fprintf(w, "Verdict: %s (exit %d)\n", verdictWords(rep), rep.ExitCode)
	fmt.Fprintln(w, rep.Headline)
	if line := sampledLine(rep); line != "" {
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w)
	width, swidth := 0, 0
	for _, d := range rep.Detectors {
		width = max(width, len(d.Name))
		swidth = max(swidth, len(d.Status))
	}
	var findings, rest []analysis.NamedResult
	for _, d := range rep.Detectors {
		if d.Status.Actionable() {
			findings = append(findings, d)
		} else {
			rest = append(rest, d)
		}
	}
	if len(findings) > 0 {
		fmt.Fprintln(w, "Findings:")
		for _, d := range findings {
			fmt.Fprintf(w, "  %-*s  %-*s  %s: %s\n", swidth, d.Status, width, d.Name, d.Class.Words(), d.Message)
			if ev := d.Evidence; ev != nil {
				fmt.Fprintf(w, "  %-*s  %-*s  %s\n", swidth, "", width, "", evidenceLine(ev))
			}
		}
		fmt.Fprintln(w)
	}
	if len(rest) > 0 {
		fmt.Fprintln(w, "Other detectors:")
		for _, d := range rest {
			line := fmt.Sprintf("  %-*s  %-*s  %s", swidth, d.Status, width, d.Name, d.Message)
			fmt.Fprintln(w, strings.TrimRight(line, " "))
		}
	}
	if len(rep.Alerts) == 0 {
		fmt.Fprintln(w, "\nNo alerts.")
		return
	}
	if rep.ExitCode == 0 {
		// Alerts that fired and cleared (rewardspy's slope WARNING lasts one
		// record): history, not a contradiction of the verdict.
		fmt.Fprintf(w, "\nEarlier alerts (%d), all cleared by the end of the run:\n", len(rep.Alerts))
	} else {
		fmt.Fprintf(w, "\nAlerts (%d):\n", len(rep.Alerts))
	}
	for i, al := range rep.Alerts {
		if i == maxTextAlerts {
			fmt.Fprintf(w, "  ... and %d more (--format json lists them all)\n", len(rep.Alerts)-i)
			break
		}
		fmt.Fprintf(w, "  %s %s: %s\n", al.Status, alertWhere(al), al.Message)
	}
}

// verdictWords is the verdict line's word: COLLECTING while too few records
// and nothing flagged, else the report's class ("REWARD HACKING",
// "TRAINING PATHOLOGY", "EARLY WARNING", "HEALTHY").
func verdictWords(rep *analysis.Report) string {
	if rep.Verdict == analysis.VerdictCollecting && rep.ExitCode == 0 {
		return "COLLECTING"
	}
	return strings.ToUpper(rep.Class.Words())
}

// alertWhere is "step S" with the run's own step, or "record N" (1-based)
// when the run has no step value there.
func alertWhere(a analysis.Alert) string {
	if math.IsNaN(a.RunStep) {
		return fmt.Sprintf("record %d", a.Step)
	}
	return "step " + formatStep(a.RunStep)
}

func formatStep(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
		return strconv.FormatInt(int64(x), 10)
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// evidenceLine is "steps A-B: reason" (the run's own steps).
func evidenceLine(ev *analysis.Evidence) string {
	s := "step " + formatStep(ev.FromStep)
	if ev.ToStep != ev.FromStep {
		s = fmt.Sprintf("steps %s-%s", formatStep(ev.FromStep), formatStep(ev.ToStep))
	}
	if ev.Reason != "" {
		if strings.Contains(ev.Reason, formatStep(ev.FromStep)) {
			// The reason names its own steps.
			return ev.Reason
		}
		s += ": " + ev.Reason
	}
	return s
}

// thousands formats n with comma separators: 12345 -> "12,345".
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// JUnit XML: one test case per detector; WARNING and ALERT are failures,
// INSUFFICIENT_DATA and NOT_APPLICABLE are skipped.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func writeJUnit(w io.Writer, path string, rep *analysis.Report) error {
	suite := junitSuite{Name: "goodhart audit " + filepath.Base(path)}
	for _, d := range rep.Detectors {
		c := junitCase{Name: d.Name, Classname: "goodhart.audit"}
		switch {
		case d.Status.Actionable():
			var body strings.Builder
			fmt.Fprintf(&body, "%s (%s): %s\n", d.Status, d.Severity, d.Message)
			if d.Detail != "" {
				fmt.Fprintf(&body, "%s\n", d.Detail)
			}
			if d.Evidence != nil {
				fmt.Fprintf(&body, "%s\n", evidenceLine(d.Evidence))
			}
			for _, a := range rep.Alerts {
				if a.Detector == d.Name {
					fmt.Fprintf(&body, "%s %s: %s\n", a.Status, alertWhere(a), a.Message)
				}
			}
			c.Failure = &junitFailure{Message: d.Message, Type: string(d.Status), Body: body.String()}
			suite.Failures++
		case d.Status == analysis.StatusInsufficient:
			c.Skipped = &junitSkipped{Message: "not enough records yet"}
			suite.Skipped++
		case d.Status == analysis.StatusNotApplicable:
			c.Skipped = &junitSkipped{Message: "does not apply to this run"}
			suite.Skipped++
		}
		suite.Cases = append(suite.Cases, c)
		suite.Tests++
	}
	doc := junitSuites{Name: "goodhart", Tests: suite.Tests, Failures: suite.Failures, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// sampledLine is the one line that says a long run's batch detectors judged
// an evenly spaced sample ("" when they judged every row).
func sampledLine(rep *analysis.Report) string {
	sm := rep.Sampled
	if sm == nil {
		return ""
	}
	every := "The record count covers every record."
	if rep.Kind == analysis.KindRewardspy {
		every = "The record count and rewardspy's five detectors cover every record."
	}
	return fmt.Sprintf("Sampled: the run is longer than %s rows, so the batch detectors judged 1 row in %d (%s of %s); their figures are estimates. %s",
		thousands(analysis.SampleRows), sm.Every, thousands(sm.Rows), thousands(sm.Of), every)
}
