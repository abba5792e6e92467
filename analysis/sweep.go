package analysis

import (
	"math"
	"sort"
	"strings"

	"github.com/goodhart-rl/goodhart/ingest"
)

// A sweep is many runs audited side by side (seeds, reward weights, KL
// coefficients). SweepRowOf turns one run's audit into one row of the sweep
// table and FindingsOf into rows of the findings table; FinishSweep names
// the rows and sorts them worst first. These functions only build data;
// the writers are in sweep_write.go. Everything a row holds is computed
// from the Report and the Run, so a row can be built and the Run's columns
// released before the next run is read.

// VerdictError is the verdict of a sweep row whose run could not be read
// or audited (SweepRow.Error says why).
const VerdictError = "error"

// FlaggedDetector is one detector that ended at WARNING or ALERT.
type FlaggedDetector struct {
	Detector string `json:"detector"`
	Status   Status `json:"status"`
	Class    Class  `json:"class"`
	// FirstStep is the run's own step of the detector's first alert, else
	// of the start of its evidence range; NaN when neither exists.
	FirstStep float64 `json:"first_step"`
}

// SweepRow is one run of a sweep: who it is, what the audit said, and the
// headline numbers. Numbers the run cannot give are NaN.
type SweepRow struct {
	Name     string // Path relative to the sweep's common directory (FinishSweep)
	Path     string // the path or URL the run was read from
	Format   string // the input format ingest detected
	Kind     Kind
	Records  int
	Verdict  string // a Verdict* constant, VerdictPathology or VerdictError
	Class    Class
	ExitCode int // the audit's exit code; 2 for an error row
	Headline string
	Flagged  []FlaggedDetector
	// FinalReward is the mean of the last 10% of the finite reward values
	// (at least one value).
	FinalReward float64
	// HeldOutMetric is the gold/held-out column judged (see HeldOutMetric);
	// HeldOutFirst/Last are its first and last finite values, HeldOutChange
	// their difference (last - first).
	HeldOutMetric             string
	HeldOutFirst, HeldOutLast float64
	HeldOutChange             float64
	LengthFirst, LengthLast   float64 // means of the first and last 10% of the finite length values
	LengthChange              float64 // LengthLast - LengthFirst
	GroupCollapse             float64 // share of groups (or of logged steps' groups) with zero reward spread, whole run
	Error                     string  // why the run failed; empty otherwise
}

// FindingRow is one row of the findings table: one per run (Row == "run",
// the sweep row's fields) and one per alert (Row == "alert", with the
// alert's fields and the run's path, name, kind and verdict repeated so a
// join needs no second table). Numbers that do not apply are NaN.
type FindingRow struct {
	Path, Name, Row string
	Kind            Kind
	Format          string
	Records         int
	Verdict         string
	RunClass        Class
	ExitCode        int
	Headline        string
	FinalReward     float64
	HeldOutMetric   string
	HeldOutChange   float64
	LengthChange    float64
	GroupCollapse   float64
	Error           string
	Detector        string // alert rows
	Status          Status // alert rows
	Severity        string // alert rows
	DetectorClass   Class  // alert rows: the detector's final class ("" when it ended clear)
	Record          int    // alert rows: 1-based record count (0 on run rows)
	RunStep         float64
	Message         string
}

// HeldOutMetric returns the column a sweep row reports as the held-out
// change: the gold metric the divergence detector judges the reward against
// (cfg.Gold, else the run's eval.* metrics, well-known gold names first;
// diagnostics such as lengths, KL or entropy never), the first one where
// higher is better: a loss or perplexity would read backwards in the table.
// "" when there is none.
func HeldOutMetric(run *ingest.Run, cfg Config) string {
	gold := divGold(run, cfg)
	for _, g := range gold {
		if !EvalLowerIsBetter(g.name, cfg.EvalLowerBetter) && !run.IsString(g.col) {
			return g.col
		}
	}
	return ""
}

// finite returns the finite values of col in row order (nil when absent).
func finite(run *ingest.Run, col string) []float64 {
	c, ok := run.Column(col)
	if !ok {
		return nil
	}
	out := make([]float64, 0, len(c))
	for _, v := range c {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	return out
}

// tenths returns the means of the first and last max(1, n/10) values of
// xs; NaN, NaN when xs is empty.
func tenths(xs []float64) (first, last float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	k := max(1, len(xs)/10)
	return Fmean(xs[:k]), Fmean(xs[len(xs)-k:])
}

// GroupCollapseShare is the share of GRPO groups with zero reward spread
// over the whole run: the mean of zero_std_frac over the logged steps when
// the run has that column, else the fraction of groups (consecutive rows
// with one group id) whose rewards have population std < 1e-9 (the group
// detector's rule). NaN when the run has neither.
func GroupCollapseShare(run *ingest.Run) float64 {
	units, _ := groupUnits(run)
	if len(units) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, u := range units {
		s += u.collapsed
	}
	return s / float64(len(units))
}

// SweepRowOf builds the sweep row of one audited run (Name is left for
// FinishSweep). rep must be Audit(run, cfg)'s report.
func SweepRowOf(path string, run *ingest.Run, rep *Report, cfg Config) SweepRow {
	row := SweepRow{Path: path, Format: run.Format, Kind: rep.Kind, Records: rep.Records,
		Verdict: rep.Verdict, Class: rep.Class, ExitCode: rep.ExitCode, Headline: rep.Headline}
	first := map[string]float64{}
	for _, a := range rep.Alerts {
		if _, seen := first[a.Detector]; !seen && !math.IsNaN(a.RunStep) {
			first[a.Detector] = a.RunStep
		}
	}
	for _, d := range rep.Detectors {
		if !d.Status.Actionable() {
			continue
		}
		f, ok := first[d.Name]
		if !ok {
			f = math.NaN()
			if d.Evidence != nil {
				f = d.Evidence.FromStep
			}
		}
		row.Flagged = append(row.Flagged, FlaggedDetector{Detector: d.Name, Status: d.Status, Class: d.Class, FirstStep: f})
	}
	_, row.FinalReward = tenths(finite(run, ingest.ColReward))
	row.HeldOutFirst, row.HeldOutLast, row.HeldOutChange = math.NaN(), math.NaN(), math.NaN()
	if m := HeldOutMetric(run, cfg); m != "" {
		if xs := finite(run, m); len(xs) > 0 {
			row.HeldOutMetric = m
			row.HeldOutFirst, row.HeldOutLast = xs[0], xs[len(xs)-1]
			row.HeldOutChange = row.HeldOutLast - row.HeldOutFirst
		}
	}
	row.LengthFirst, row.LengthLast = tenths(finite(run, ingest.ColLength))
	row.LengthChange = row.LengthLast - row.LengthFirst
	row.GroupCollapse = GroupCollapseShare(run)
	return row
}

// SweepErrorRow is the row of a run that could not be read or audited:
// verdict "error", exit code 2, err's text, every number NaN.
func SweepErrorRow(path string, err error) SweepRow {
	nan := math.NaN()
	return SweepRow{Path: path, Verdict: VerdictError, ExitCode: 2, Error: err.Error(),
		FinalReward: nan, HeldOutFirst: nan, HeldOutLast: nan, HeldOutChange: nan,
		LengthFirst: nan, LengthLast: nan, LengthChange: nan, GroupCollapse: nan}
}

// FindingsOf returns the findings rows of one run: its run row, then one
// row per alert in record order. Name is filled in by FinishFindings.
func FindingsOf(row SweepRow, rep *Report) []FindingRow {
	nan := math.NaN()
	base := FindingRow{Path: row.Path, Name: row.Name, Row: "run", Kind: row.Kind, Format: row.Format,
		Records: row.Records, Verdict: row.Verdict, RunClass: row.Class, ExitCode: row.ExitCode,
		Headline: row.Headline, FinalReward: row.FinalReward, HeldOutMetric: row.HeldOutMetric,
		HeldOutChange: row.HeldOutChange, LengthChange: row.LengthChange, GroupCollapse: row.GroupCollapse,
		Error: row.Error, RunStep: nan}
	out := []FindingRow{base}
	if rep == nil {
		return out
	}
	final := map[string]Class{}
	for _, d := range rep.Detectors {
		final[d.Name] = d.Class
	}
	for _, a := range rep.Alerts {
		f := base
		f.Row = "alert"
		f.Detector, f.Status, f.Severity, f.DetectorClass = a.Detector, a.Status, a.Severity, final[a.Detector]
		f.Record, f.RunStep, f.Message = a.Step, a.RunStep, a.Message
		out = append(out, f)
	}
	return out
}

// verdictRank orders verdicts worst first: hacking 0, pathology 1,
// warning 2, collecting 3, healthy 4, anything else (error) 5.
func verdictRank(v string) int {
	switch v {
	case VerdictHacking:
		return 0
	case VerdictPathology:
		return 1
	case VerdictWarning:
		return 2
	case VerdictCollecting:
		return 3
	case VerdictHealthy:
		return 4
	}
	return 5
}

// SweepNames returns each path relative to the longest directory prefix
// all paths share ("sweep/a/trainer_state.json" and
// "sweep/b/trainer_state.json" -> "a/trainer_state.json",
// "b/trainer_state.json"). Paths are split at "/" (and "\" on input that
// uses it), so URLs such as gs://bucket/x work too. One path gives its
// last element; paths with no common directory are returned unchanged.
func SweepNames(paths []string) []string {
	split := make([][]string, len(paths))
	for i, p := range paths {
		split[i] = strings.Split(strings.ReplaceAll(p, `\`, "/"), "/")
	}
	common := -1
	for _, s := range split {
		dir := len(s) - 1 // directories only, never the file name
		if common < 0 || dir < common {
			common = dir
		}
	}
	for k := 0; k < common; k++ {
		for _, s := range split[1:] {
			if s[k] != split[0][k] {
				common = k
				break
			}
		}
	}
	out := make([]string, len(paths))
	for i, s := range split {
		if common <= 0 {
			out[i] = paths[i]
			continue
		}
		out[i] = strings.Join(s[common:], "/")
	}
	return out
}

// FinishSweep names the rows (SweepNames of their paths) and sorts them
// worst first: by verdict (hacking, pathology, warning, collecting,
// healthy, then errors), then by name. It returns the name of each path.
func FinishSweep(rows []SweepRow) map[string]string {
	paths := make([]string, len(rows))
	for i := range rows {
		paths[i] = rows[i].Path
	}
	names := SweepNames(paths)
	byPath := make(map[string]string, len(rows))
	for i := range rows {
		rows[i].Name = names[i]
		byPath[rows[i].Path] = names[i]
	}
	sort.SliceStable(rows, func(i, j int) bool {
		ri, rj := verdictRank(rows[i].Verdict), verdictRank(rows[j].Verdict)
		if ri != rj {
			return ri < rj
		}
		if rows[i].Name != rows[j].Name {
			return rows[i].Name < rows[j].Name
		}
		return rows[i].Path < rows[j].Path
	})
	return byPath
}

// FinishFindings sets each finding's Name from FinishSweep's map and sorts
// the rows as the sweep table is sorted (worst run first), keeping each
// run's rows together (run row first, then its alerts by record).
func FinishFindings(fs []FindingRow, names map[string]string) {
	for i := range fs {
		fs[i].Name = names[fs[i].Path]
	}
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := &fs[i], &fs[j]
		if ra, rb := verdictRank(a.Verdict), verdictRank(b.Verdict); ra != rb {
			return ra < rb
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if (a.Row == "run") != (b.Row == "run") {
			return a.Row == "run"
		}
		if a.Record != b.Record {
			return a.Record < b.Record
		}
		return a.Detector < b.Detector
	})
}

// SweepExitCode is the sweep's exit code: 2 when any run failed, else 1
// when any run is flagged (its audit exit code is 1), else 0.
func SweepExitCode(rows []SweepRow) int {
	code := 0
	for _, r := range rows {
		if r.Verdict == VerdictError {
			return 2
		}
		if r.ExitCode != 0 {
			code = 1
		}
	}
	return code
}
