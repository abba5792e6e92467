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
		"audit RUN [--window N] [--sensitivity low|medium|high] [--max-reward X] [--detectors rewardspy|all|a,b] [--format text|json] [--last N] [--strict] [--junit FILE]",
		"Replay a training log through the hack detectors and print the verdict,\n"+
			"each alert with the step where it fired, and a diagnosis. Exit code 0 when\n"+
			"nothing is flagged, 1 when any detector ends at WARNING or ALERT, 2 on bad\n"+
			"usage or input, so it can gate a CI job.",
		"reportgen audit run.jsonl --max-reward 1.0 --junit audit.xml",
		stdout)
	in.register(fs)
	af.register(fs)
	fs.StringVar(&format, "format", "text", "output format: text|json")
	fs.StringVar(&junit, "junit", "", "also write a JUnit XML file (one test case per detector) to FILE")
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
		writeAuditText(stdout, a.path, a.cfg, rep)
	}
	return rep.ExitCode
}

// writeAuditText prints the verdict first, then the diagnosis, the final
// status of each detector and the alerts ("STATUS step N: message").
func writeAuditText(w io.Writer, path string, cfg analysis.Config, rep *analysis.Report) {
	sens := cfg.Sensitivity
	if sens == "" {
		sens = analysis.SensitivityMedium
	}
	noun := "records"
	if rep.Records == 1 {
		noun = "record"
	}
	fmt.Fprintf(w, "%s: %s %s, window %d, sensitivity %s\n",
		filepath.Base(path), thousands(rep.Records), noun, rep.Window, sens)
	if rep.Records == 0 {
		fmt.Fprintln(w, "No records found.")
		return
	}
	fmt.Fprintf(w, "Verdict: %s (exit %d)\n\n", strings.ToUpper(rep.Verdict), rep.ExitCode)
	fmt.Fprintln(w, rep.Diagnosis)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Detectors:")
	width, swidth := 0, 0
	for _, d := range rep.Detectors {
		width = max(width, len(d.Name))
		swidth = max(swidth, len(d.Status))
	}
	for _, d := range rep.Detectors {
		line := fmt.Sprintf("  %-*s  %-*s  %s", swidth, d.Status, width, d.Name, d.Message)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
		if ev := d.Evidence; ev != nil && d.Status.Actionable() {
			fmt.Fprintf(w, "  %-*s  %-*s  %s\n", swidth, "", width, "", evidenceLine(ev))
		}
	}
	if len(rep.Alerts) == 0 {
		fmt.Fprintln(w, "\nNo alerts.")
		return
	}
	fmt.Fprintf(w, "\nAlerts (%d):\n", len(rep.Alerts))
	for i, a := range rep.Alerts {
		if i == maxTextAlerts {
			fmt.Fprintf(w, "  ... and %d more (--format json lists them all)\n", len(rep.Alerts)-i)
			break
		}
		fmt.Fprintf(w, "  %s step %d%s: %s\n", a.Status, a.Step, runStepNote(a), a.Message)
	}
}

// runStepNote is " (run step S)" when the run's own step differs from the
// 1-based record count.
func runStepNote(a analysis.Alert) string {
	if math.IsNaN(a.RunStep) || a.RunStep == float64(a.Step) {
		return ""
	}
	return " (run step " + formatStep(a.RunStep) + ")"
}

func formatStep(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
		return strconv.FormatInt(int64(x), 10)
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// evidenceLine is "steps A-B (records C-D): reason".
func evidenceLine(ev *analysis.Evidence) string {
	s := fmt.Sprintf("steps %s-%s (records %d-%d)", formatStep(ev.FromStep), formatStep(ev.ToStep), ev.FromRecord, ev.ToRecord)
	if ev.Reason != "" {
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
					fmt.Fprintf(&body, "%s step %d%s: %s\n", a.Status, a.Step, runStepNote(a), a.Message)
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
