// Package plots draws goodhart's findings: figures of a run and its audit
// (gonum/plot), self-contained HTML reports, SVG/PNG files for CI artifacts
// and HTML fragments for notebooks (package plots/gonbdisplay shows them
// in a GoNB cell; it is apart so that the reportgen command does not link
// GoNB).
//
// Data flow: a Run (package ingest) and the analysis results computed from
// it (an analysis.Report, a balance result, alignment snapshots) go into a
// figure function — Timeline, Components, Balance, Session, Length,
// GroupCollapse, Divergence — which returns a *Figure: one or more stacked
// gonum/plot panels plus the structure (titles, axis labels, series names,
// data ranges) that tests compare against golden files. A Figure renders to
// SVG (fonts embedded, for HTML and notebooks) or PNG (for CI artifacts).
// BuildReport gathers the figures, verdict, findings and tables of one or
// more runs into a Report, which WriteHTML turns into one HTML file with
// inline SVG and CSS and no JavaScript.
//
// Long runs are aggregated before drawing: Downsample keeps the minimum,
// maximum and mean of each pixel-wide bucket, so a one-record spike in a
// ten-million-record run still shows while drawing stays fast. Alerts are
// aggregated too: one rug row of ticks per detector under the data, with
// its counts in the legend, however many alerts there are.
//
// Figures are meant to be read at a glance: axis words and units follow the
// kind of run (analysis.Kind: "episode return" and "episode length (steps)"
// for classic RL, "reward" and "response length (tokens)" for LLM runs);
// ticks fall on round values; stacked panels share their x axis; legends
// sit beside the data and wrap long entries instead of cutting them; long
// metric and component names are shortened to their distinctive part
// (ShortName, TrimCommon) with the full names in the notes; a flagged range
// that covers the whole plot is named in a note rather than shaded.
//
// Colours come from the Okabe-Ito palette, which stays distinguishable
// under the common forms of colour blindness; statuses always use the same
// colours (ok green, warning orange, alert/critical vermillion).
//
// Nothing in this package prints.
package plots
