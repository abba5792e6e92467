// Package gonbdisplay shows goodhart's figures, audits, reports and runs in
// a GoNB notebook cell. Each helper sends its output to the cell it runs in;
// outside a GoNB notebook they do nothing. It is a package of its own so
// that programs which draw figures (the reportgen command among them) do not
// link GoNB or gota.
//
// Figures go out as PNG: a committed notebook then reads well on a code
// host and stays small (an SVG with embedded fonts is about 1 MB).
package gonbdisplay

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
	"github.com/janpfeifer/gonb/gonbui"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/frame"
	"github.com/goodhart-rl/goodhart/plots"
)

// Figure displays a figure in the current cell as a PNG image at
// plots.NotebookDPI (768 px wide for a default figure).
func Figure(f *plots.Figure) error {
	b, err := f.NotebookPNG()
	if err != nil {
		return err
	}
	displayPNG(b)
	return nil
}

// Figures displays each figure in turn, stopping at the first error.
func Figures(figs ...*plots.Figure) error {
	for _, f := range figs {
		if err := Figure(f); err != nil {
			return err
		}
	}
	return nil
}

// FigureSVG displays a figure as SVG without embedded fonts (the
// notebook's own sans-serif font is used): crisp at any zoom, and small.
func FigureSVG(f *plots.Figure) error {
	b, err := f.SVGNoFonts()
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

// Audit displays an audit in the cell: the verdict with its reasons, the
// findings table and the diagnosis (plots.FindingsHTML).
func Audit(rep *analysis.Report) {
	displayHTML(plots.FindingsHTML(rep))
}

// Report displays a whole report in the cell: per run its name, the
// verdict and findings, the balance table, then every figure.
func Report(r *plots.Report) error {
	for _, rr := range r.Runs {
		displayHTML("<h3>" + template.HTMLEscapeString(rr.Name) + "</h3>")
		if rr.Audit != nil {
			Audit(rr.Audit)
		}
		if rr.Balance != nil {
			displayHTML(plots.BalanceHTML(rr.Balance))
		}
		if err := Figures(rr.Figures...); err != nil {
			return err
		}
	}
	return nil
}

// DataFrame displays the first n rows (all when n <= 0) of a gota
// DataFrame as an HTML table (DataFrameHTML).
func DataFrame(df dataframe.DataFrame, n int) {
	displayHTML(DataFrameHTML(df, n))
}

// Run displays the first n rows (all when n <= 0) of a run as a table,
// with its source, format, grain, record count and skipped count above it.
func Run(run *ingest.Run, n int) {
	displayHTML(RunHTML(run, n))
}

// RunHTML is what Run displays: a line naming the run's source, format,
// grain, records and skipped records, then its first n rows as a table.
func RunHTML(run *ingest.Run, n int) string {
	return fmt.Sprintf("<p><b>%s</b>: %s, grain %s, %d records, %d skipped</p>",
		template.HTMLEscapeString(run.Source), template.HTMLEscapeString(run.Format),
		template.HTMLEscapeString(string(run.Grain)), run.Len(), run.Skipped) + DataFrameHTML(frame.Of(run), n)
}

// DataFrameHTML renders the first n rows (all when n <= 0) of df as an
// escaped HTML table, numbers formatted by plots.FormatNumber ("—" for a
// missing value), with a line saying how many rows were left out.
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
				cell = plots.FormatNumber(e.Float())
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
