package plots

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/goodhart-rl/goodhart/analysis"
)

// HTML fragments for notebooks and other pages (inline styles only, so they
// survive notebook sanitizers). Package plots/gonbdisplay shows them in a
// GoNB cell.

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

// FormatNumber formats a number for tables: up to 4 significant decimals,
// no exponent for ordinary magnitudes, integers without a decimal point,
// "—" for NaN.
func FormatNumber(x float64) string { return fmtNum(x) }
