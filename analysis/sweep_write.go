package analysis

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/goodhart-rl/goodhart/ingest"
)

// Writers of the sweep table (text, JSON, CSV) and of the findings table
// (JSONL, Parquet). Missing numbers are "-" in text, null in JSON, an
// empty cell in CSV and a null in Parquet.

// flagText is "divergence@120" (the detector and the run's step of its
// first alert), or the bare name when there is no step.
func flagText(f FlaggedDetector) string {
	if math.IsNaN(f.FirstStep) {
		return f.Detector
	}
	return f.Detector + "@" + fmtNum(f.FirstStep)
}

func flagsText(fs []FlaggedDetector) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, flagText(f))
	}
	return strings.Join(parts, " ")
}

// signed is fmtNum with an explicit "+" on positive changes; "-" for NaN.
func signed(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	if x > 0 {
		return "+" + fmtNum(x)
	}
	return fmtNum(x)
}

func plain(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmtNum(x)
}

// SweepCounts returns how many rows have each verdict.
func SweepCounts(rows []SweepRow) map[string]int {
	c := map[string]int{}
	for _, r := range rows {
		c[r.Verdict]++
	}
	return c
}

// SweepSummaryLine is "12 runs: 2 hacking, 1 pathology, 0 warning, 9
// healthy" (plus ", N collecting" and ", N failed" when there are any).
func SweepSummaryLine(rows []SweepRow) string {
	c := SweepCounts(rows)
	s := fmt.Sprintf("%d run%s: %d hacking, %d pathology, %d warning, %d healthy",
		len(rows), plural(len(rows)), c[VerdictHacking], c[VerdictPathology], c[VerdictWarning], c[VerdictHealthy])
	if n := c[VerdictCollecting]; n > 0 {
		s += fmt.Sprintf(", %d collecting", n)
	}
	if n := c[VerdictError]; n > 0 {
		s += fmt.Sprintf(", %d failed", n)
	}
	return s
}

// middleCut shortens s to n runes by replacing its middle with "…" (the
// start and the end of a run name are what tell runs apart).
func middleCut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n || n < 5 {
		return s
	}
	head := (n - 1) / 3
	tail := n - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// WriteSweepText writes the sweep table for people: one line per row in the
// rows' order (FinishSweep sorts them worst first) with the verdict, class,
// name, kind, records, final reward, held-out change, length change,
// group-collapse share and the flagged detectors with their first step
// (names longer than 72 characters and metric names longer than 24 lose
// their middle to "…"; JSON and CSV keep them whole); then the summary line
// and one "FAILED name: reason" line per error row.
func WriteSweepText(w io.Writer, rows []SweepRow) error {
	bw := bufio.NewWriter(w)
	head := []string{"VERDICT", "CLASS", "RUN", "KIND", "RECORDS", "FINAL REWARD", "HELD-OUT Δ", "LENGTH Δ", "COLLAPSE", "FLAGGED (detector@first step)"}
	table := [][]string{head}
	for _, r := range rows {
		if r.Verdict == VerdictError {
			continue
		}
		collapse := "-"
		if !math.IsNaN(r.GroupCollapse) {
			collapse = PyPercent(r.GroupCollapse, 0)
		}
		ho := signed(r.HeldOutChange)
		if r.HeldOutMetric != "" {
			ho += " " + middleCut(strings.TrimPrefix(r.HeldOutMetric, ingest.EvalPrefix), 24)
		}
		class := strings.ReplaceAll(r.Class.Words(), "training ", "")
		if r.Class == ClassHealthy || r.Class == "" {
			class = "-"
		}
		table = append(table, []string{strings.ToUpper(r.Verdict), class, middleCut(r.Name, 72), string(r.Kind), strconv.Itoa(r.Records),
			plain(r.FinalReward), ho, signed(r.LengthChange), collapse, flagsText(r.Flagged)})
	}
	width := make([]int, len(head))
	for _, row := range table {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for _, row := range table {
		var line strings.Builder
		for i, c := range row {
			line.WriteString(c)
			if i < len(row)-1 {
				line.WriteString(strings.Repeat(" ", width[i]-len([]rune(c))+2))
			}
		}
		fmt.Fprintln(bw, strings.TrimRight(line.String(), " "))
	}
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, SweepSummaryLine(rows))
	for _, r := range rows {
		if r.Verdict == VerdictError {
			fmt.Fprintf(bw, "FAILED %s: %s\n", r.Name, strings.TrimPrefix(r.Error, r.Path+": "))
		}
	}
	return bw.Flush()
}

type jsonFlag struct {
	Detector  string  `json:"detector"`
	Status    Status  `json:"status"`
	Class     Class   `json:"class"`
	FirstStep stepNum `json:"first_step"`
}

type jsonSweepRow struct {
	Name          string     `json:"name"`
	Path          string     `json:"path"`
	Format        string     `json:"format"`
	Kind          Kind       `json:"kind"`
	Records       int        `json:"records"`
	Verdict       string     `json:"verdict"`
	Class         Class      `json:"class"`
	ExitCode      int        `json:"exit_code"`
	Headline      string     `json:"headline"`
	Flagged       []jsonFlag `json:"flagged"`
	FinalReward   pyFloat    `json:"final_reward"`
	HeldOutMetric string     `json:"heldout_metric"`
	HeldOutFirst  pyFloat    `json:"heldout_first"`
	HeldOutLast   pyFloat    `json:"heldout_last"`
	HeldOutChange pyFloat    `json:"heldout_change"`
	LengthFirst   pyFloat    `json:"length_first"`
	LengthLast    pyFloat    `json:"length_last"`
	LengthChange  pyFloat    `json:"length_change"`
	GroupCollapse pyFloat    `json:"group_collapse"`
	Error         string     `json:"error,omitempty"`
}

func toJSONRow(r SweepRow) jsonSweepRow {
	j := jsonSweepRow{Name: r.Name, Path: r.Path, Format: r.Format, Kind: r.Kind, Records: r.Records,
		Verdict: r.Verdict, Class: r.Class, ExitCode: r.ExitCode, Headline: r.Headline, Flagged: []jsonFlag{},
		FinalReward: pyFloat(r.FinalReward), HeldOutMetric: r.HeldOutMetric, HeldOutFirst: pyFloat(r.HeldOutFirst),
		HeldOutLast: pyFloat(r.HeldOutLast), HeldOutChange: pyFloat(r.HeldOutChange), LengthFirst: pyFloat(r.LengthFirst),
		LengthLast: pyFloat(r.LengthLast), LengthChange: pyFloat(r.LengthChange), GroupCollapse: pyFloat(r.GroupCollapse),
		Error: r.Error}
	for _, f := range r.Flagged {
		j.Flagged = append(j.Flagged, jsonFlag{Detector: f.Detector, Status: f.Status, Class: f.Class, FirstStep: stepNum(f.FirstStep)})
	}
	return j
}

// WriteSweepJSON writes {"runs", "exit_code", "counts": {verdict: n},
// "rows": [...]} with one object per row (name, path, format, kind,
// records, verdict, class, exit_code, headline, flagged [{detector,
// status, class, first_step}], final_reward, heldout_metric,
// heldout_first, heldout_last, heldout_change, length_first, length_last,
// length_change, group_collapse, error when it failed), indented by two
// spaces. exit_code is SweepExitCode(rows).
func WriteSweepJSON(w io.Writer, rows []SweepRow) error {
	out := struct {
		Runs     int            `json:"runs"`
		ExitCode int            `json:"exit_code"`
		Counts   map[string]int `json:"counts"`
		Rows     []jsonSweepRow `json:"rows"`
	}{Runs: len(rows), ExitCode: SweepExitCode(rows), Counts: SweepCounts(rows), Rows: []jsonSweepRow{}}
	for _, r := range rows {
		out.Rows = append(out.Rows, toJSONRow(r))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// csvNum is the shortest text that reads back to x, "" for NaN.
func csvNum(x float64) string {
	if math.IsNaN(x) {
		return ""
	}
	return string(ingest.AppendPyFloat(nil, x))
}

// SweepCSVHeader is the header of WriteSweepCSV.
var SweepCSVHeader = []string{"name", "path", "format", "kind", "records", "verdict", "class", "exit_code",
	"flagged", "final_reward", "heldout_metric", "heldout_first", "heldout_last", "heldout_change",
	"length_first", "length_last", "length_change", "group_collapse", "headline", "error"}

// WriteSweepCSV writes the sweep table as CSV (RFC 4180) with
// SweepCSVHeader: flagged is "detector@step" items separated by spaces,
// numbers in their shortest exact form, missing numbers empty.
func WriteSweepCSV(w io.Writer, rows []SweepRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(SweepCSVHeader); err != nil {
		return err
	}
	for _, r := range rows {
		rec := []string{r.Name, r.Path, r.Format, string(r.Kind), strconv.Itoa(r.Records), r.Verdict, string(r.Class),
			strconv.Itoa(r.ExitCode), flagsText(r.Flagged), csvNum(r.FinalReward), r.HeldOutMetric,
			csvNum(r.HeldOutFirst), csvNum(r.HeldOutLast), csvNum(r.HeldOutChange), csvNum(r.LengthFirst),
			csvNum(r.LengthLast), csvNum(r.LengthChange), csvNum(r.GroupCollapse), r.Headline, r.Error}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

type jsonFinding struct {
	Path          string  `json:"path"`
	Name          string  `json:"name"`
	Row           string  `json:"row"`
	Kind          Kind    `json:"kind"`
	Format        string  `json:"format"`
	Records       int     `json:"records"`
	Verdict       string  `json:"verdict"`
	RunClass      Class   `json:"run_class"`
	ExitCode      int     `json:"exit_code"`
	Headline      string  `json:"headline"`
	FinalReward   pyFloat `json:"final_reward"`
	HeldOutMetric string  `json:"heldout_metric"`
	HeldOutChange pyFloat `json:"heldout_change"`
	LengthChange  pyFloat `json:"length_change"`
	GroupCollapse pyFloat `json:"group_collapse"`
	Error         string  `json:"error"`
	Detector      string  `json:"detector"`
	Status        Status  `json:"status"`
	Severity      string  `json:"severity"`
	DetectorClass Class   `json:"detector_class"`
	Record        int     `json:"record"`
	RunStep       stepNum `json:"run_step"`
	Message       string  `json:"message"`
}

// FindingsColumns are the findings table's columns, in file order.
var FindingsColumns = []string{"path", "name", "row", "kind", "format", "records", "verdict", "run_class",
	"exit_code", "headline", "final_reward", "heldout_metric", "heldout_change", "length_change",
	"group_collapse", "error", "detector", "status", "severity", "detector_class", "record", "run_step", "message"}

// WriteFindingsJSONL writes one JSON object per finding row, keys in
// FindingsColumns order; missing numbers are null, missing text "".
func WriteFindingsJSONL(w io.Writer, fs []FindingRow) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, f := range fs {
		if err := enc.Encode(jsonFinding{Path: f.Path, Name: f.Name, Row: f.Row, Kind: f.Kind, Format: f.Format,
			Records: f.Records, Verdict: f.Verdict, RunClass: f.RunClass, ExitCode: f.ExitCode, Headline: f.Headline,
			FinalReward: pyFloat(f.FinalReward), HeldOutMetric: f.HeldOutMetric, HeldOutChange: pyFloat(f.HeldOutChange),
			LengthChange: pyFloat(f.LengthChange), GroupCollapse: pyFloat(f.GroupCollapse), Error: f.Error,
			Detector: f.Detector, Status: f.Status, Severity: f.Severity, DetectorClass: f.DetectorClass,
			Record: f.Record, RunStep: stepNum(f.RunStep), Message: f.Message}); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// FindingsTable returns the findings as table columns (FindingsColumns
// order): text as strings (null when empty), records, exit_code and record
// as int64, the numbers as float64 (null when NaN).
func FindingsTable(fs []FindingRow) []ingest.TableColumn {
	n := len(fs)
	str := func(get func(f *FindingRow) string) []string {
		out := make([]string, n)
		for i := range fs {
			out[i] = get(&fs[i])
		}
		return out
	}
	ints := func(get func(f *FindingRow) int) []int64 {
		out := make([]int64, n)
		for i := range fs {
			out[i] = int64(get(&fs[i]))
		}
		return out
	}
	num := func(get func(f *FindingRow) float64) []float64 {
		out := make([]float64, n)
		for i := range fs {
			x := get(&fs[i])
			if math.IsInf(x, 0) {
				x = math.NaN()
			}
			out[i] = x
		}
		return out
	}
	return []ingest.TableColumn{
		{Name: "path", Str: str(func(f *FindingRow) string { return f.Path })},
		{Name: "name", Str: str(func(f *FindingRow) string { return f.Name })},
		{Name: "row", Str: str(func(f *FindingRow) string { return f.Row })},
		{Name: "kind", Str: str(func(f *FindingRow) string { return string(f.Kind) })},
		{Name: "format", Str: str(func(f *FindingRow) string { return f.Format })},
		{Name: "records", Int: ints(func(f *FindingRow) int { return f.Records })},
		{Name: "verdict", Str: str(func(f *FindingRow) string { return f.Verdict })},
		{Name: "run_class", Str: str(func(f *FindingRow) string { return string(f.RunClass) })},
		{Name: "exit_code", Int: ints(func(f *FindingRow) int { return f.ExitCode })},
		{Name: "headline", Str: str(func(f *FindingRow) string { return f.Headline })},
		{Name: "final_reward", Float: num(func(f *FindingRow) float64 { return f.FinalReward })},
		{Name: "heldout_metric", Str: str(func(f *FindingRow) string { return f.HeldOutMetric })},
		{Name: "heldout_change", Float: num(func(f *FindingRow) float64 { return f.HeldOutChange })},
		{Name: "length_change", Float: num(func(f *FindingRow) float64 { return f.LengthChange })},
		{Name: "group_collapse", Float: num(func(f *FindingRow) float64 { return f.GroupCollapse })},
		{Name: "error", Str: str(func(f *FindingRow) string { return f.Error })},
		{Name: "detector", Str: str(func(f *FindingRow) string { return f.Detector })},
		{Name: "status", Str: str(func(f *FindingRow) string { return string(f.Status) })},
		{Name: "severity", Str: str(func(f *FindingRow) string { return f.Severity })},
		{Name: "detector_class", Str: str(func(f *FindingRow) string { return string(f.DetectorClass) })},
		{Name: "record", Int: ints(func(f *FindingRow) int { return f.Record })},
		{Name: "run_step", Float: num(func(f *FindingRow) float64 { return f.RunStep })},
		{Name: "message", Str: str(func(f *FindingRow) string { return f.Message })},
	}
}

// WriteFindingsParquet writes the findings table as Parquet (see
// FindingsTable for the column types) with metadata
// "goodhart.table" = "findings".
func WriteFindingsParquet(w io.Writer, fs []FindingRow) error {
	return ingest.WriteTableParquet(w, FindingsTable(fs), map[string]string{"goodhart.table": "findings"})
}

// WriteFindings writes the findings to w as Parquet when path ends in
// .parquet or .pq, as JSON lines when it ends in .jsonl, .ndjson or .json;
// any other name is an error that says which names work.
func WriteFindings(w io.Writer, path string, fs []FindingRow) error {
	switch FindingsFormat(path) {
	case "parquet":
		return WriteFindingsParquet(w, fs)
	case "jsonl":
		return WriteFindingsJSONL(w, fs)
	}
	return fmt.Errorf("findings file %q: name it .parquet or .jsonl", path)
}

// FindingsFormat is "parquet", "jsonl" or "" (unknown) by path's extension.
func FindingsFormat(path string) string {
	l := strings.ToLower(path)
	switch {
	case strings.HasSuffix(l, ".parquet"), strings.HasSuffix(l, ".pq"):
		return "parquet"
	case strings.HasSuffix(l, ".jsonl"), strings.HasSuffix(l, ".ndjson"), strings.HasSuffix(l, ".json"):
		return "jsonl"
	}
	return ""
}
