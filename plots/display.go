package plots

import (
	"fmt"
	"html/template"
	"image/png"
	"strings"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
	"github.com/janpfeifer/gonb/gonbui"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// GoNB display helpers. Each sends its output to the notebook cell it runs
// in; outside a GoNB notebook they do nothing. Figures go out as PNG: a
// committed notebook then reads well on a code host, and stays small (an
// SVG with embedded fonts is about 1 MB).

// ShowFigure displays a figure in the current cell as a PNG image at
// NotebookDPI.
func ShowFigure(f *Figure) error {
	b, err := f.png(NotebookDPI, png.BestCompression)
	if err != nil {
		return err
	}
	displayPNG(b)
	return nil
}

// ShowFigures displays each figure in turn, stopping at the first error.
func ShowFigures(figs ...*Figure) error {
	for _, f := range figs {
		if err := ShowFigure(f); err != nil {
			return err
		}
	}
	return nil
}

// ShowFigureSVG displays a figure as SVG without embedded fonts (the
// notebook's own sans-serif font is used): crisp at any zoom, and small.
func ShowFigureSVG(f *Figure) error {
	b, err := f.svg(false)
	if err != nil {
		return err
	}
	s := string(b)
	if i := strings.Index(s, "<svg"); i > 0 {
		s = s[i:]
	}
	displayHTML(`<div style="max-width:960px">` + s + `</div>`)
	return nil
}

// ShowAudit displays an audit in the cell: the verdict with its reasons,
// the findings table and the diagnosis (FindingsHTML).
func ShowAudit(rep *analysis.Report) {
	displayHTML(FindingsHTML(rep))
}

// ShowReport displays a whole report in the cell: per run the verdict and
// findings, the balance table, then every figure.
func ShowReport(r *Report) error {
	for _, rr := range r.Runs {
		displayHTML("<h3>" + template.HTMLEscapeString(rr.Name) + "</h3>")
		if rr.Audit != nil {
			ShowAudit(rr.Audit)
		}
		if rr.Balance != nil {
			displayHTML(BalanceHTML(rr.Balance))
		}
		if err := ShowFigures(rr.Figures...); err != nil {
			return err
		}
	}
	return nil
}

// ShowDataFrame displays the first n rows (all when n <= 0) of a gota
// DataFrame as an HTML table (DataFrameHTML).
func ShowDataFrame(df dataframe.DataFrame, n int) {
	displayHTML(DataFrameHTML(df, n))
}

// ShowRun displays the first n rows of a run as a table, with its source,
// format, grain and size above it.
func ShowRun(run *ingest.Run, n int) {
	displayHTML(fmt.Sprintf("<p><b>%s</b>: %s, grain %s, %d records, %d skipped</p>",
		template.HTMLEscapeString(run.Source), template.HTMLEscapeString(run.Format),
		template.HTMLEscapeString(string(run.Grain)), run.Len(), run.Skipped) + DataFrameHTML(run.DataFrame(), n))
}

// DataFrameHTML renders the first n rows (all when n <= 0) of df as an
// escaped HTML table, noting how many rows were left out.
func DataFrameHTML(df dataframe.DataFrame, n int) string {
	var b strings.Builder
	rows := df.Nrow()
	show := rows
	if n > 0 && n < rows {
		show = n
	}
	b.WriteString(`<table style="border-collapse:collapse;font-size:13px"><tr>`)
	for _, name := range df.Names() {
		b.WriteString(`<th style="text-align:right;padding:2px 8px;border-bottom:1px solid #ccc">` + template.HTMLEscapeString(name) + "</th>")
	}
	b.WriteString("</tr>")
	for i := 0; i < show; i++ {
		b.WriteString("<tr>")
		for j := 0; j < df.Ncol(); j++ {
			e := df.Elem(i, j)
			var cell string
			if e.Type() == series.Float {
				cell = fmtNum(e.Float())
			} else {
				cell = e.String()
			}
			b.WriteString(`<td style="text-align:right;padding:2px 8px">` + template.HTMLEscapeString(cell) + "</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table>")
	if show < rows {
		fmt.Fprintf(&b, "<p>%d of %d rows shown</p>", show, rows)
	}
	return b.String()
}

// FindingsHTML renders an audit as an HTML fragment (inline styles only,
// so it survives notebook sanitizers): the verdict in its colour with the
// reasons, a table of every detector's final status with its message and
// evidence, and the diagnosis. Every string from the run is escaped.
func FindingsHTML(rep *analysis.Report) string {
	if rep == nil {
		return "<p>No audit.</p>"
	}
	var b strings.Builder
	col := SeverityColor(rep.Verdict)
	if rep.Verdict == analysis.VerdictWarning {
		col = Orange
	}
	fmt.Fprintf(&b, `<div style="border-left:6px solid %s;padding:6px 12px;margin:4px 0"><b style="font-size:17px">Verdict: %s</b> <span>(%d records, window %d)</span>`,
		hexColor(col), template.HTMLEscapeString(strings.ToUpper(rep.Verdict)), rep.Records, rep.Window)
	if rep.Diagnosis != "" {
		b.WriteString(`<div style="white-space:pre-line">` + template.HTMLEscapeString(rep.Diagnosis) + "</div>")
	}
	b.WriteString("</div>")
	b.WriteString(`<table style="border-collapse:collapse;font-size:13px"><tr><th style="text-align:left;padding:2px 8px">detector</th><th style="text-align:left;padding:2px 8px">status</th><th style="text-align:left;padding:2px 8px">message</th><th style="text-align:left;padding:2px 8px">where</th></tr>`)
	for _, d := range rep.Detectors {
		f := findingOf(d)
		if f.Range == "" && d.Status.Actionable() {
			f.Range = sinceAlert(rep.Alerts, d.Name, d.Status)
		}
		msg := template.HTMLEscapeString(d.Message)
		if f.Reason != "" {
			msg += "<br><small>" + template.HTMLEscapeString(f.Reason) + "</small>"
		}
		fmt.Fprintf(&b, `<tr><td style="padding:2px 8px">%s</td><td style="padding:2px 8px;color:%s;font-weight:bold">%s</td><td style="padding:2px 8px;text-align:left">%s</td><td style="padding:2px 8px">%s</td></tr>`,
			template.HTMLEscapeString(d.Name), hexColor(StatusColor(d.Status)), template.HTMLEscapeString(string(d.Status)),
			msg, template.HTMLEscapeString(f.Range))
	}
	b.WriteString("</table>")
	return b.String()
}

// BalanceHTML renders a balance view as an HTML table (inline styles).
func BalanceHTML(v *BalanceView) string {
	if v == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<p><b>Balance</b> over %d records: <b style="color:%s">%s</b></p>`, v.Records,
		hexColor(SeverityColor(v.Severity)), template.HTMLEscapeString(v.Severity))
	b.WriteString(`<table style="border-collapse:collapse;font-size:13px"><tr><th style="padding:2px 8px">component</th><th style="padding:2px 8px">real %</th><th style="padding:2px 8px">expected %</th><th style="padding:2px 8px">diff</th><th style="padding:2px 8px">severity</th><th style="padding:2px 8px">weight ×</th><th style="padding:2px 8px">action</th></tr>`)
	for _, r := range v.Rows {
		fmt.Fprintf(&b, `<tr><td style="padding:2px 8px">%s</td><td style="padding:2px 8px">%.2f</td><td style="padding:2px 8px">%.2f</td><td style="padding:2px 8px">%+.2f</td><td style="padding:2px 8px;color:%s;font-weight:bold">%s</td><td style="padding:2px 8px">%.2f</td><td style="padding:2px 8px;text-align:left">%s</td></tr>`,
			template.HTMLEscapeString(r.Component), r.Real, r.Expected, r.Difference, hexColor(SeverityColor(r.Severity)),
			template.HTMLEscapeString(r.Severity), r.Multiplier, template.HTMLEscapeString(r.Recommendation))
	}
	b.WriteString("</table>")
	return b.String()
}

func hexColor(c interface{ RGBA() (r, g, b, a uint32) }) string {
	r, g, bl, _ := c.RGBA()
	return fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, bl>>8)
}

// displayHTML and displayPNG send one output and wait until GoNB has taken
// it (gonbui.Sync): otherwise a cell's program can exit before its last
// output is forwarded, and the output is lost.
func displayHTML(html string) {
	gonbui.DisplayHtml(html)
	gonbui.Sync()
}

func displayPNG(b []byte) {
	gonbui.DisplayPng(b)
	gonbui.Sync()
}
