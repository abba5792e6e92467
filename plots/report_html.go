package plots

// reportHTML is the report page. No JavaScript: everything reads with
// scripts disabled. Colours are the Okabe-Ito status colours of palette.go.
const reportHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="goodhart reportgen {{.Version}}">
<title>{{.Title}}{{range $i, $r := .Runs}}{{if eq $i 0}}: {{else}}, {{end}}{{$r.Name}}{{end}}</title>
<style>
{{.FontCSS}}
:root { --ok:#009E73; --warn:#E69F00; --alert:#D55E00; --grey:#777; --ink:#1d1d1f; --line:#d9d9de; --soft:#f5f5f7; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 28px 48px; font: 15px/1.45 "Liberation Sans", Arial, Helvetica, sans-serif; color: var(--ink); background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 0 0 12px; word-break: break-all; }
h3 { font-size: 16px; margin: 22px 0 8px; }
.sub { color: #555; margin: 0 0 20px; }
.runs { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 780px), 1fr)); gap: 28px; align-items: start; }
section.run { border-top: 3px solid var(--line); padding-top: 14px; min-width: 0; }
.verdict { border-radius: 8px; padding: 12px 16px; margin: 0 0 12px; border-left: 8px solid var(--grey); background: var(--soft); }
.verdict .word { font-size: 22px; font-weight: bold; letter-spacing: .03em; }
.verdict ul { margin: 6px 0 0; padding-left: 20px; }
.verdict .headline { font-size: 16px; margin: 4px 0 2px; }
.verdict .kind { color: #555; font-size: 13px; }
.v-hacking { border-left-color: var(--alert); background: #fbe9df; }
.v-warning { border-left-color: var(--warn); background: #fdf3dc; }
.v-healthy { border-left-color: var(--ok); background: #e2f4ee; }
.v-collecting { border-left-color: var(--grey); }
td.v-hacking, td.v-warning, td.v-healthy, td.v-collecting { border-left-width: 0; font-weight: bold; }
.diagnosis { margin: 0 0 8px; white-space: pre-line; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 14px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 10px 5px 0; text-align: left; vertical-align: top; }
th { font-weight: bold; color: #333; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.s-alert { color: var(--alert); font-weight: bold; }
.s-warning { color: #9a6700; font-weight: bold; }
.s-ok { color: var(--ok); }
.s-none { color: var(--grey); }
.evidence { color: #444; font-size: 13.5px; }
.evidence code, code { font-family: "Liberation Mono", Menlo, Consolas, monospace; font-size: 13px; background: var(--soft); padding: 0 3px; border-radius: 3px; }
figure { margin: 10px 0 20px; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: 13px; }
.note { color: #555; font-size: 13.5px; }
details summary { cursor: pointer; color: #333; margin: 6px 0; }
.wrap { overflow-x: auto; }
footer { margin-top: 36px; color: #777; font-size: 13px; }
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p class="sub">{{len .Runs}} {{plural (len .Runs) "run" "runs"}} · reward-hacking audit by goodhart {{.Version}}</p>
</header>
{{.Sweep}}
{{with .Comparison}}
<section class="compare">
<h2>Runs side by side</h2>
<div class="wrap"><table>
<tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td class="{{.Class}}">{{.Text}}</td>{{end}}</tr>
{{end}}</table></div>
</section>
{{end}}
{{with .Compare}}<figure><h3>{{.Title}}</h3>{{.SVG}}{{range .Notes}}<figcaption>{{.}}</figcaption>{{end}}</figure>{{end}}
<div class="runs">
{{range .Runs}}
<section class="run">
<h2>{{.Name}}</h2>
<div class="verdict {{.VerdictClass}}">
{{if .Headline}}<div class="word">{{.ClassWord}}</div>
<div class="headline">{{.Headline}}</div>
<div class="kind">Verdict {{.Verdict}}{{if .KindNoun}} · {{.KindNoun}}{{end}}</div>{{else}}<div class="word">Verdict: {{.Verdict}}</div>{{if .KindNoun}}<div class="kind">{{.KindNoun}}</div>{{end}}{{end}}
{{if .Reasons}}<ul>{{range .Reasons}}<li>{{.}}</li>{{end}}</ul>{{else if .Cleared}}<div>Nothing is flagged at the end of the run: {{.Cleared}} alerts fired earlier and cleared (listed under Alerts).</div>{{else}}<div>No detector raised a warning or an alert.</div>{{end}}
</div>
{{if .Diagnosis}}<p class="diagnosis">{{.Diagnosis}}</p>{{end}}

<h3>Findings</h3>
{{if .Findings}}
<div class="wrap"><table>
<tr><th>detector</th><th>status</th><th>severity</th><th>what was found</th><th>where</th></tr>
{{range .Findings}}<tr>
<td>{{.Detector}}</td><td class="{{.Class}}">{{.Status}}</td><td>{{.Severity}}</td>
<td>{{.Message}}{{if .Detail}}<div class="evidence">{{.Detail}}</div>{{end}}{{if .Reason}}<div class="evidence">{{.Reason}}</div>{{end}}{{if .Numbers}}<div class="evidence">{{range $i, $n := .Numbers}}{{if $i}}, {{end}}<code>{{$n}}</code>{{end}}</div>{{end}}</td>
<td>{{if .Range}}{{.Range}}{{else}}—{{end}}</td>
</tr>{{end}}
</table></div>
{{else}}<p class="note">Nothing flagged.</p>{{end}}
{{if .Quiet}}
<details><summary>Other detectors ({{len .Quiet}})</summary>
<table>
<tr><th>detector</th><th>status</th><th>message</th></tr>
{{range .Quiet}}<tr><td>{{.Detector}}</td><td class="{{.Class}}">{{.Status}}</td><td>{{.Message}}{{if .Reason}}<div class="evidence">{{.Reason}}</div>{{end}}</td></tr>{{end}}
</table></details>
{{end}}

{{if .Alerts}}
<details{{if le (len .Alerts) 12}} open{{end}}><summary>Alerts raised ({{len .Alerts}}{{if .MoreAlerts}} shown, {{.MoreAlerts}} more{{end}})</summary>
<div class="wrap"><table>
<tr><th class="num">record</th><th class="num">step</th><th>detector</th><th>status</th><th>message</th></tr>
{{range .Alerts}}<tr><td class="num">{{.Record}}</td><td class="num">{{.Step}}</td><td>{{.Detector}}</td><td class="{{.Class}}">{{.Status}}</td><td>{{.Message}}</td></tr>{{end}}
</table></div></details>
{{end}}

{{range .Figures}}<figure><h3>{{.Title}}</h3>{{.SVG}}{{range .Notes}}<figcaption>{{.}}</figcaption>{{end}}</figure>
{{end}}
{{range .FigureErrors}}<p class="note">Figure not drawn: {{.}}</p>{{end}}

{{if .Summary}}
<h3>Reward over the last {{.SummaryWindow}} records</h3>
<table><tr>{{range .Summary}}<th class="num">{{index . 0}}</th>{{end}}</tr>
<tr>{{range .Summary}}<td class="num">{{index . 1}}</td>{{end}}</tr></table>
{{end}}

{{with .Balance}}
<h3>Balance{{if .Records}} over the last {{.Records}} records{{end}}{{if .Severity}}: <span class="{{sev .Severity}}">{{.Severity}}</span>{{end}}</h3>
<div class="wrap"><table>
<tr><th>component</th><th class="num">real %</th><th class="num">expected %</th><th class="num">diff (pp)</th><th>severity</th><th class="num">weight ×</th><th>action</th></tr>
{{range .Rows}}<tr><td>{{.Component}}{{if .Unexpected}} <span class="note">(not expected)</span>{{end}}</td>
<td class="num">{{pct .Real}}</td><td class="num">{{pct .Expected}}</td><td class="num">{{diff .Difference}}</td>
<td class="{{sev .Severity}}">{{.Severity}}</td><td class="num">{{mult .Multiplier}}</td><td>{{.Recommendation}}</td></tr>{{end}}
</table></div>
{{end}}

{{with .Session}}
<h3>Alignment at record {{.Step}}: score {{.Score}}, <span class="{{sev .Flag}}">{{.Flag}}</span></h3>
<p class="note">Drift velocity {{.Drift}} per record; {{.Corrections}} weight {{plural .Corrections "correction" "corrections"}} applied{{if .Starving}}; starving: {{.Starving}}{{end}}.</p>
<div class="wrap"><table>
<tr><th>component</th><th class="num">ratio %</th><th class="num">expected %</th><th class="num">z</th><th class="num">weight</th></tr>
{{range .Rows}}<tr>{{range $i, $c := .}}{{if $i}}<td class="num">{{$c}}</td>{{else}}<td>{{$c}}</td>{{end}}{{end}}</tr>{{end}}
</table></div>
{{end}}

<h3>Input</h3>
<table>{{range .Input}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
{{if .Issues}}<details><summary>Skipped lines ({{len .Issues}} shown{{if .MoreIssues}}, {{.MoreIssues}} more{{end}})</summary><ul>{{range .Issues}}<li><code>{{.}}</code></li>{{end}}</ul></details>{{end}}
</section>
{{end}}
</div>
<footer>Generated by goodhart reportgen {{.Version}}. Figures: rolling statistics over the audit window W; long runs are drawn from per-bucket min, max and mean.</footer>
</body>
</html>
`
