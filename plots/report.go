package plots

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// RunReport is everything a report shows about one run.
type RunReport struct {
	// Name labels the run (default: the base name of Run.Source).
	Name  string
	Run   *ingest.Run
	Audit *analysis.Report
	// Balance and Session are optional (nil = section left out).
	Balance *BalanceView
	Session *SessionView
	// Figures are drawn by BuildReport when nil.
	Figures []*Figure
	// FigureErrors are figures that failed to draw (shown as notes).
	FigureErrors []error
}

// Report is one HTML report over one or more runs. With several runs it
// starts with a side-by-side comparison.
type Report struct {
	Title   string
	Version string // the tool version, for the footer
	Runs    []*RunReport
	// Compare overlays the runs' rolling mean rewards (several runs only).
	Compare *Figure
	// Sweep, when set, replaces the side-by-side table and Compare with the
	// sweep comparison section (sweep.go): the sweep table, then every
	// run's curves overlaid.
	Sweep *SweepView
}

// BuildReport draws the figures of every run whose Figures are nil and,
// for several runs, the comparison figure. progress, when not nil, is
// called after each run with the number of runs done.
func BuildReport(runs []*RunReport, opt Options, progress func(done, total int)) *Report {
	r := &Report{Title: "goodhart report", Runs: runs}
	for i, rr := range runs {
		if rr.Name == "" && rr.Run != nil {
			rr.Name = filepath.Base(rr.Run.Source)
		}
		if rr.Figures == nil && rr.Run != nil {
			rr.Figures, rr.FigureErrors = AllFigures(rr.Run, rr.Audit, rr.Balance, rr.Session, opt)
		}
		if progress != nil {
			progress(i+1, len(runs))
		}
	}
	if len(runs) > 1 {
		if f, err := Compare(runs, opt); err == nil {
			r.Compare = f
		}
	}
	return r
}

// Compare overlays the rolling mean reward of several runs (W = each run's
// audit window), x = each run's own steps, one colour per run.
func Compare(runs []*RunReport, opt Options) (*Figure, error) {
	f := &Figure{Kind: "compare", Title: "Reward of each run (rolling mean)"}
	pa := newPanel("", "step (each run's own)", "reward (rolling mean)")
	drawn := 0
	for i, rr := range runs {
		if rr.Run == nil {
			continue
		}
		y, ok := rr.Run.Column(ingest.ColReward)
		if !ok || rr.Run.Len() == 0 {
			continue
		}
		w := opt.window(rr.Run)
		if rr.Audit != nil && rr.Audit.Window > 0 {
			w = rr.Audit.Window
		}
		m, _ := Rolling(y, w)
		d := Downsample(rr.Run.Steps(), m, opt.Buckets)
		pa.add(fmt.Sprintf("%s (W=%d)", rr.Name, w), NewLine(d.X, d.Mean, SeriesColor(i)))
		drawn++
	}
	if drawn == 0 {
		return nil, fmt.Errorf("compare: %w: no run has a reward", ErrNotApplicable)
	}
	f.Panels = []*Panel{pa}
	return f, nil
}

// WriteHTML writes the report as one self-contained HTML file: inline CSS
// and SVG (fonts embedded once), no JavaScript, no network. Every string
// taken from a log — file names, component and metric names, messages — is
// HTML-escaped by html/template; the SVG figures escape their text too.
func (r *Report) WriteHTML(w io.Writer) error {
	fonts := newFontSet()
	page := htmlPage{Title: r.Title, Version: r.Version}
	if r.Sweep != nil {
		sec, err := sweepSection(r.Sweep, fonts)
		if err != nil {
			return err
		}
		page.Sweep = sec
	} else if r.Compare != nil {
		svg, err := fonts.inline(r.Compare)
		if err != nil {
			return err
		}
		page.Compare = &htmlFigure{Title: r.Compare.Title, SVG: svg, Notes: r.Compare.Notes}
	}
	for _, rr := range r.Runs {
		hr, err := buildHTMLRun(rr, fonts)
		if err != nil {
			return err
		}
		page.Runs = append(page.Runs, hr)
	}
	if len(r.Runs) > 1 && r.Sweep == nil {
		page.Comparison = comparisonTable(r.Runs)
	}
	page.FontCSS = template.CSS(fonts.css())
	return reportTmpl.Execute(w, page)
}

// HTML returns the report as HTML bytes.
func (r *Report) HTML() ([]byte, error) {
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

type htmlPage struct {
	Title, Version string
	FontCSS        template.CSS
	Sweep          template.HTML // the sweep comparison section, when any
	Comparison     *htmlComparison
	Compare        *htmlFigure
	Runs           []*htmlRun
}

type htmlFigure struct {
	Title string
	SVG   template.HTML
	Notes []string
}

type htmlFinding struct {
	Detector, Status, Severity, Message, Detail, Range, Reason string
	Numbers                                                    []string
	Class                                                      string
}

type htmlAlert struct {
	Record                                    int
	Step, Detector, Status, Severity, Message string
	Class                                     string
}

type htmlRun struct {
	Name, Verdict, VerdictClass, Diagnosis string
	// ClassWord and Headline are the verdict class in words and its
	// one-sentence summary, when the audit gives them; KindNoun is the kind
	// of run ("RL episode log").
	ClassWord, Headline, KindNoun string
	Reasons                       []string
	Findings                      []htmlFinding
	Quiet                         []htmlFinding // OK / insufficient / not applicable
	Alerts                        []htmlAlert
	MoreAlerts                    int
	// Cleared counts the alerts of a run nothing flags at its end (they
	// fired and cleared, like rewardspy's one-record slope WARNING).
	Cleared       int
	Figures       []htmlFigure
	FigureErrors  []string
	Summary       [][2]string
	SummaryWindow int
	Balance       *BalanceView
	Session       *htmlSession
	Input         [][2]string
	Issues        []string
	MoreIssues    int
}

type htmlSession struct {
	Step               int
	Score, Flag, Drift string
	Rows               [][]string // component, ratio, expected, z, weight
	Starving           string
	Corrections        int
}

type htmlComparison struct {
	Header []string
	Rows   [][]htmlCell
}

type htmlCell struct {
	Text, Class string
}

// maxAlertRows caps the alert table; the rest are counted.
const maxAlertRows = 100

func buildHTMLRun(rr *RunReport, fonts *fontSet) (*htmlRun, error) {
	hr := &htmlRun{Name: rr.Name}
	a := rr.Audit
	if a != nil {
		hr.Verdict = strings.ToUpper(a.Verdict)
		hr.VerdictClass = "v-" + a.Verdict
		hr.Diagnosis = a.Diagnosis
		if a.Headline != "" {
			hr.ClassWord, hr.Headline = classWord(a.Class), a.Headline
			// The box names the class; the headline under it keeps only
			// the evidence ("Reward hacking: the reward rose ...").
			if pre, rest, ok := strings.Cut(a.Headline, ": "); ok && strings.HasPrefix(pre, hr.ClassWord) {
				hr.ClassWord, hr.Headline = pre, upperFirst(rest)
			}
			if c := classCSS(a.Class); c != "" {
				hr.VerdictClass = c
			}
			if a.Verdict == analysis.VerdictCollecting && a.ExitCode == 0 {
				// Too few records to judge: not "healthy".
				hr.ClassWord, hr.VerdictClass = "Collecting", "v-collecting"
			}
		}
		if a.Kind != "" {
			hr.KindNoun = a.Kind.Noun()
		}
		for _, d := range a.Detectors {
			f := findingOf(d)
			if f.Range == "" && d.Status.Actionable() {
				f.Range = sinceAlert(a.Alerts, d.Name, d.Status)
			}
			if d.Status.Actionable() {
				hr.Findings = append(hr.Findings, f)
				reason := d.Message
				if reason == "" {
					reason = string(d.Status)
				}
				hr.Reasons = append(hr.Reasons, d.Name+": "+reason)
			} else {
				hr.Quiet = append(hr.Quiet, f)
			}
		}
		if len(hr.Reasons) == 0 {
			hr.Cleared = len(a.Alerts)
		}
		for i, al := range a.Alerts {
			if i == maxAlertRows {
				hr.MoreAlerts = len(a.Alerts) - i
				break
			}
			hr.Alerts = append(hr.Alerts, htmlAlert{Record: al.Step, Step: fmtNum(al.RunStep), Detector: al.Detector,
				Status: string(al.Status), Severity: al.Severity, Message: al.Message, Class: statusClass(al.Status)})
		}
		if s := a.Summary; s != nil {
			hr.SummaryWindow = a.Window
			hr.Summary = [][2]string{{"mean", fmtNum(s.Mean)}, {"std", fmtNum(s.Std)}, {"min", fmtNum(s.Min)},
				{"max", fmtNum(s.Max)}, {"median", fmtNum(s.P50)}, {"p95", fmtNum(s.P95)}}
		}
	} else {
		hr.Verdict, hr.VerdictClass = "NOT AUDITED", "v-collecting"
	}
	for _, f := range rr.Figures {
		svg, err := fonts.inline(f)
		if err != nil {
			return nil, err
		}
		hr.Figures = append(hr.Figures, htmlFigure{Title: f.Title, SVG: svg, Notes: f.Notes})
	}
	for _, e := range rr.FigureErrors {
		hr.FigureErrors = append(hr.FigureErrors, e.Error())
	}
	hr.Balance = rr.Balance
	hr.Session = sessionOf(rr.Session)
	if run := rr.Run; run != nil {
		grain := string(run.Grain)
		if grain == "" {
			grain = "(not set)"
		}
		var cols []string
		for _, c := range run.Columns() {
			if c != analysis.SampleRecordColumn {
				cols = append(cols, c)
			}
		}
		hr.Input = [][2]string{{"file", run.Source}, {"format", run.Format}, {"grain", grain}}
		if a != nil {
			// One count of records everywhere: rows with a reward, as the
			// verdict and the CLI say; rows without one are named apart.
			hr.Input = append(hr.Input, [2]string{"records", fmt.Sprintf("%d (window W=%d)", a.Records, a.Window)})
			rows := run.Len()
			if sm := a.Sampled; sm != nil {
				// run is the audit's sample of a long run.
				rows = sm.Of
			}
			if extra := rows - a.Records; extra > 0 {
				hr.Input = append(hr.Input, [2]string{"rows without a reward", fmt.Sprint(extra)})
			}
			if sm := a.Sampled; sm != nil {
				hr.Input = append(hr.Input, [2]string{"sampled", fmt.Sprintf(
					"the batch detectors and the figures used 1 row in %d (%d of %d rows); their numbers are estimates", sm.Every, sm.Rows, sm.Of)})
			}
		} else {
			hr.Input = append(hr.Input, [2]string{"rows", fmt.Sprint(run.Len())})
		}
		hr.Input = append(hr.Input, [2]string{"skipped lines", fmt.Sprint(run.Skipped)},
			[2]string{"columns", fmt.Sprintf("%d: %s", len(cols), strings.Join(firstN(cols, 30), ", "))})
		for i, is := range run.Issues {
			if i == 10 {
				hr.MoreIssues = len(run.Issues) - i
				break
			}
			hr.Issues = append(hr.Issues, is.Error())
		}
		if run.Skipped > len(run.Issues) && hr.MoreIssues == 0 && len(run.Issues) > 0 {
			hr.MoreIssues = run.Skipped - len(run.Issues)
		}
	}
	return hr, nil
}

func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(append([]string(nil), s[:n]...), fmt.Sprintf("… %d more", len(s)-n))
}

func findingOf(d analysis.NamedResult) htmlFinding {
	f := htmlFinding{Detector: d.Name, Status: string(d.Status), Severity: d.Severity, Message: d.Message,
		Detail: d.Detail, Class: statusClass(d.Status)}
	if e := d.Evidence; e != nil {
		f.Range = evidenceRange(e)
		f.Reason = e.Reason
		for _, k := range sortedKeys(e.Numbers) {
			f.Numbers = append(f.Numbers, k+" = "+fmtNum(e.Numbers[k]))
		}
	}
	return f
}

// sinceAlert describes where a detector's current status started: the
// last alert it raised with that status.
func sinceAlert(alerts []analysis.Alert, det string, st analysis.Status) string {
	for i := len(alerts) - 1; i >= 0; i-- {
		if al := alerts[i]; al.Detector == det && al.Status == st {
			return fmt.Sprintf("since step %s (record %d)", fmtNum(al.RunStep), al.Step)
		}
	}
	return ""
}

func evidenceRange(e *analysis.Evidence) string {
	s := ""
	if finite(e.FromStep) && finite(e.ToStep) {
		s = "steps " + fmtNum(e.FromStep) + "–" + fmtNum(e.ToStep)
	}
	if e.FromRecord > 0 || e.ToRecord > 0 {
		if s != "" {
			s += " "
		}
		s += fmt.Sprintf("(records %d–%d)", e.FromRecord, e.ToRecord)
	}
	return s
}

func statusClass(s analysis.Status) string {
	switch s {
	case analysis.StatusAlert:
		return "s-alert"
	case analysis.StatusWarning:
		return "s-warning"
	case analysis.StatusOK:
		return "s-ok"
	}
	return "s-none"
}

func sessionOf(s *SessionView) *htmlSession {
	if s == nil || len(s.Points) == 0 {
		return nil
	}
	last := s.Points[len(s.Points)-1]
	hs := &htmlSession{Step: last.Step, Score: fmt.Sprintf("%.3f", last.Score), Flag: last.Flag,
		Drift: fmt.Sprintf("%+.3g", last.Drift), Starving: strings.Join(last.Starving, ", ")}
	for _, p := range s.Points {
		hs.Corrections += len(p.Corrected)
	}
	for _, c := range s.components() {
		exp := "—"
		if e, ok := s.Expected[c]; ok {
			exp = fmt.Sprintf("%.2f", e)
		}
		hs.Rows = append(hs.Rows, []string{c, fmtFixed(get(last.Ratios, c), 2), exp, fmtFixed(get(last.Z, c), 2), fmtFixed(get(last.Weights, c), 4)})
	}
	return hs
}

func comparisonTable(runs []*RunReport) *htmlComparison {
	t := &htmlComparison{Header: []string{""}}
	for _, rr := range runs {
		t.Header = append(t.Header, rr.Name)
	}
	row := func(label string, cell func(rr *RunReport) htmlCell) {
		cells := []htmlCell{{Text: label}}
		for _, rr := range runs {
			cells = append(cells, cell(rr))
		}
		t.Rows = append(t.Rows, cells)
	}
	row("verdict", func(rr *RunReport) htmlCell {
		if rr.Audit == nil {
			return htmlCell{Text: "—"}
		}
		return htmlCell{Text: strings.ToUpper(rr.Audit.Verdict), Class: "v-" + rr.Audit.Verdict}
	})
	row("records", func(rr *RunReport) htmlCell {
		if rr.Audit != nil {
			return htmlCell{Text: fmt.Sprint(rr.Audit.Records)}
		}
		return htmlCell{Text: fmt.Sprint(rr.Run.Len())}
	})
	row("format", func(rr *RunReport) htmlCell { return htmlCell{Text: rr.Run.Format} })
	row("alerts raised", func(rr *RunReport) htmlCell {
		if rr.Audit == nil {
			return htmlCell{Text: "—"}
		}
		return htmlCell{Text: fmt.Sprint(len(rr.Audit.Alerts))}
	})
	row("mean reward (last W)", func(rr *RunReport) htmlCell {
		if rr.Audit == nil || rr.Audit.Summary == nil {
			return htmlCell{Text: "—"}
		}
		return htmlCell{Text: fmtNum(rr.Audit.Summary.Mean)}
	})
	// One row per detector that any run reports.
	var names []string
	seen := map[string]bool{}
	for _, rr := range runs {
		if rr.Audit == nil {
			continue
		}
		for _, d := range rr.Audit.Detectors {
			if !seen[d.Name] {
				seen[d.Name] = true
				names = append(names, d.Name)
			}
		}
	}
	for _, n := range names {
		row(n, func(rr *RunReport) htmlCell {
			if rr.Audit != nil {
				for _, d := range rr.Audit.Detectors {
					if d.Name == n {
						return htmlCell{Text: string(d.Status), Class: statusClass(d.Status)}
					}
				}
			}
			return htmlCell{Text: "—"}
		})
	}
	return t
}

// fmtNum formats a number for tables: up to 4 significant decimals, no
// exponent for ordinary magnitudes, "—" for NaN.
func fmtNum(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	if math.IsInf(x, 0) {
		return fmt.Sprint(x)
	}
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return fmt.Sprintf("%.0f", x)
	}
	a := math.Abs(x)
	if a < 1e-12 {
		return "0"
	}
	if a >= 1e6 || a < 1e-4 {
		return fmt.Sprintf("%.4g", x)
	}
	return trimZeros(fmt.Sprintf("%.4f", x))
}

func fmtFixed(x float64, prec int) string {
	if math.IsNaN(x) {
		return "—"
	}
	return fmt.Sprintf("%.*f", prec, x)
}

// fontSet renders figures to SVG for inlining: the fonts each SVG would
// embed are collected once for the page's CSS and cut from the SVG.
type fontSet struct {
	faces map[string]string // @font-face rule by its descriptor line
	order []string
}

func newFontSet() *fontSet { return &fontSet{faces: map[string]string{}} }

func (fs *fontSet) inline(f *Figure) (template.HTML, error) {
	// The page shows the title as a heading: draw the figure without it.
	untitled := *f
	untitled.Title = ""
	b, err := untitled.svg(true)
	if err != nil {
		return "", err
	}
	s := string(b)
	if i := strings.Index(s, "<defs>"); i >= 0 {
		if j := strings.Index(s[i:], "</defs>"); j >= 0 {
			fs.add(s[i+len("<defs>") : i+j])
			s = s[:i] + s[i+j+len("</defs>"):]
		}
	}
	// Drop the XML declaration and generator comment: not valid inside HTML.
	if i := strings.Index(s, "<svg"); i > 0 {
		s = s[i:]
	}
	// Give the SVG a role and a label for screen readers; the title is
	// escaped like any other text.
	s = strings.Replace(s, "<svg ", `<svg role="img" aria-label="`+template.HTMLEscapeString(f.Title)+`" `, 1)
	return template.HTML(s), nil
}

func (fs *fontSet) add(defs string) {
	for _, part := range strings.Split(defs, "@font-face{")[1:] {
		end := strings.LastIndex(part, "}")
		if end < 0 {
			continue
		}
		body := part[:end]
		key := body
		if i := strings.Index(body, "src:"); i >= 0 {
			key = body[:i]
		}
		if _, ok := fs.faces[key]; !ok {
			fs.faces[key] = "@font-face{" + strings.TrimSpace(body) + "}"
			fs.order = append(fs.order, key)
		}
	}
}

func (fs *fontSet) css() string {
	keys := append([]string(nil), fs.order...)
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(fs.faces[k])
		b.WriteByte('\n')
	}
	return b.String()
}

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct":  func(x float64) string { return fmtFixed(x, 2) },
	"diff": func(x float64) string { return fmt.Sprintf("%+.2f", x) },
	"mult": func(x float64) string { return fmt.Sprintf("%.2f×", x) },
	"sev": func(s string) string {
		switch lower(s) {
		case "ok":
			return "s-ok"
		case "warning":
			return "s-warning"
		case "critical":
			return "s-alert"
		}
		return "s-none"
	},
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	},
}).Parse(reportHTML))

// classWord is a verdict class in words: "Reward hacking", "Training
// pathology", "Early warning", "Healthy"; "" for an empty class.
func classWord(c analysis.Class) string {
	switch c {
	case analysis.ClassHacking:
		return "Reward hacking"
	case analysis.ClassPathology:
		return "Training pathology"
	case analysis.ClassEarlyWarning:
		return "Early warning"
	case analysis.ClassHealthy:
		return "Healthy"
	}
	return upperFirst(strings.ReplaceAll(string(c), "_", " "))
}

// classCSS is the verdict box style of a class: hacking in the alert
// colour, pathology and early warning in the warning colour, healthy green.
func classCSS(c analysis.Class) string {
	switch c {
	case analysis.ClassHacking:
		return "v-hacking"
	case analysis.ClassPathology, analysis.ClassEarlyWarning:
		return "v-warning"
	case analysis.ClassHealthy:
		return "v-healthy"
	}
	return ""
}
