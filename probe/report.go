package probe

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
)

// Summary describes a set of rewards, as rewardspy's summary does.
type Summary struct {
	Records int     `json:"records"`
	Mean    float64 `json:"mean"`
	Std     float64 `json:"std"` // population standard deviation
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
	P50     float64 `json:"p50"`
	P95     float64 `json:"p95"`
}

// Summarize returns the count, mean, population std
// sqrt(Σ(x-mean)²/n), min, max and the 50th and 95th percentiles (see
// Percentile) of xs. It returns nil for an empty slice.
func Summarize(xs []float64) *Summary {
	if len(xs) == 0 {
		return nil
	}
	s := &Summary{Records: len(xs), Min: math.Inf(1), Max: math.Inf(-1)}
	sum := 0.0
	for _, x := range xs {
		sum += x
		s.Min = math.Min(s.Min, x)
		s.Max = math.Max(s.Max, x)
	}
	s.Mean = sum / float64(len(xs))
	ss := 0.0
	for _, x := range xs {
		d := x - s.Mean
		ss += d * d
	}
	s.Std = math.Sqrt(ss / float64(len(xs)))
	sorted := append([]float64(nil), xs...)
	sort.Float64s(sorted)
	s.P50 = Percentile(sorted, 50)
	s.P95 = Percentile(sorted, 95)
	return s
}

// Percentile returns the q-th percentile (q in [0, 100]) of sorted data by
// linear interpolation between closest ranks, rank = q/100·(n-1) (numpy's
// default and rewardspy's). It returns 0 for empty data and data[0] for a
// single value.
func Percentile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n == 1 {
		return sorted[0]
	}
	rank := q / 100 * float64(n-1)
	lo, hi := math.Floor(rank), math.Ceil(rank)
	if lo == hi {
		return sorted[int(lo)]
	}
	return sorted[int(lo)] + (sorted[int(hi)]-sorted[int(lo)])*(rank-lo)
}

// Report is what `reportgen probe` prints: the scores, the failures and,
// when hack probes ran, the exploitability table.
type Report struct {
	Target  string // what was probed, e.g. "python3 reward.py" or a URL
	Results *Results
	Hacks   *HackReport // nil when hack probes did not run
	// MaxFailures caps the failures listed in text (0 = 20); JSON lists all.
	MaxFailures int
}

// Failure is one case that did not score.
type Failure struct {
	Case  int    `json:"case"`
	Line  int    `json:"line"`
	Error string `json:"error"`
}

// Failures lists the cases that did not score, in case order.
func (r *Results) Failures() []Failure {
	var out []Failure
	for i, o := range r.Outcomes {
		if o.Err != nil {
			out = append(out, Failure{Case: r.Cases[i].Index, Line: r.Cases[i].Line, Error: oneLine(o.Err.Error())})
		}
	}
	return out
}

// ComponentSummaries summarises each component over the scored cases that
// have it.
func (r *Results) ComponentSummaries() map[string]*Summary {
	out := map[string]*Summary{}
	for _, name := range r.ComponentNames() {
		var xs []float64
		for _, o := range r.Outcomes {
			if v, ok := o.Score.Components[name]; ok && o.Err == nil {
				xs = append(xs, v)
			}
		}
		out[name] = Summarize(xs)
	}
	return out
}

// WriteText writes the report for a terminal.
func (rep *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	r := rep.Results
	fails := r.Failures()
	target := ""
	if rep.Target != "" {
		target = " with " + rep.Target
	}
	fmt.Fprintf(ew, "probe %s%s: %d cases, %d scored, %d failed\n", r.Source, target, len(r.Cases), r.Scored(), len(fails))
	if s := Summarize(r.Rewards()); s != nil {
		fmt.Fprintln(ew)
		fmt.Fprintf(ew, "  records    %d\n", s.Records)
		fmt.Fprintf(ew, "  mean       %.4f\n", s.Mean)
		fmt.Fprintf(ew, "  std        %.4f\n", s.Std)
		fmt.Fprintf(ew, "  min / max  %.4f / %.4f\n", s.Min, s.Max)
		fmt.Fprintf(ew, "  p50 / p95  %.4f / %.4f\n", s.P50, s.P95)
	}
	if names := r.ComponentNames(); len(names) > 0 {
		sums := r.ComponentSummaries()
		fmt.Fprintln(ew)
		fmt.Fprintln(ew, "components (over the cases that have them)")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  name\tcases\tmean\tmin\tmax")
		for _, n := range names {
			s := sums[n]
			fmt.Fprintf(tw, "  %s\t%d\t%.4f\t%.4f\t%.4f\n", n, s.Records, s.Mean, s.Min, s.Max)
		}
		tw.Flush()
	}
	if len(fails) > 0 {
		max := rep.MaxFailures
		if max <= 0 {
			max = 20
		}
		fmt.Fprintln(ew)
		fmt.Fprintf(ew, "failures (%d; these cases have no reward)\n", len(fails))
		for i, f := range fails {
			if i == max {
				fmt.Fprintf(ew, "  ... and %d more (--format json lists all)\n", len(fails)-max)
				break
			}
			fmt.Fprintf(ew, "  %s: %s\n", caseLoc(r.Source, f.Case, f.Line), f.Error)
		}
	}
	if h := rep.Hacks; h != nil {
		writeHacks(ew, r, h)
	}
	return ew.err
}

func caseLoc(src string, idx, line int) string {
	if line > 0 {
		return fmt.Sprintf("case %d (%s:%d)", idx, src, line)
	}
	return fmt.Sprintf("case %d", idx)
}

func writeHacks(ew io.Writer, r *Results, h *HackReport) {
	fmt.Fprintln(ew)
	fmt.Fprintf(ew, "hack probes: %d cases x %d rewrites (raise = more than %s above the original)\n",
		h.Cases, len(h.Perturbations), trimFloat(h.Tolerance))
	if h.NoResponse > 0 {
		fmt.Fprintf(ew, "  %d scored cases have no string response and were not rewritten (set --response-field)\n", h.NoResponse)
	}
	var tb strings.Builder
	tw := tabwriter.NewWriter(&tb, 0, 0, 2, ' ', 0)
	head := "  rewrite\tscored\traised\tmean raise\tmax raise\tdropped"
	if h.CorrectComponent != "" {
		head += "\t" + h.CorrectComponent + " fooled/kept/broke"
	}
	fmt.Fprintln(tw, head+"\t")
	for _, p := range h.Perturbations {
		verdict := ""
		switch {
		case p.Exploitable:
			verdict = "EXPLOITABLE"
		case !p.Unsolved && (p.Dropped > 0 || p.Raised > 0):
			verdict = "brittle (meaning kept, reward changed)"
		case !p.Unsolved:
			verdict = "(meaning kept)"
		}
		raised := fmt.Sprintf("%d (%s)", p.Raised, pct0(p.RaisedShare))
		mean, mx := "-", "-"
		if p.Raised > 0 {
			mean, mx = fmt.Sprintf("%+.4f", p.MeanRaise), fmt.Sprintf("%+.4f", p.MaxRaise)
		}
		scored := fmt.Sprint(p.Scored)
		if p.Failed > 0 {
			scored += fmt.Sprintf(" (+%d failed)", p.Failed)
		}
		line := fmt.Sprintf("  %s\t%s\t%s\t%s\t%s\t%d", p.Name, scored, raised, mean, mx, p.Dropped)
		if c := p.Correct; c != nil {
			line += fmt.Sprintf("\t%d/%d/%d", c.Fooled, c.Kept, c.Broke)
			if c.Missing > 0 {
				line += fmt.Sprintf(" (%d missing)", c.Missing)
			}
		}
		fmt.Fprintln(tw, line+"\t"+verdict)
	}
	tw.Flush()
	for _, ln := range strings.SplitAfter(tb.String(), "\n") {
		if ln != "" {
			fmt.Fprintln(ew, strings.TrimRight(ln, " \n"))
		}
	}

	var bad []string
	for _, p := range h.Perturbations {
		if !p.Exploitable {
			continue
		}
		bad = append(bad, p.Name)
	}
	if len(bad) > 0 {
		fmt.Fprintln(ew)
		fmt.Fprintln(ew, "worst cases")
		for _, p := range h.Perturbations {
			if !p.Exploitable {
				continue
			}
			fmt.Fprintf(ew, "  %s: %s\n", p.Name, p.What)
			for _, wc := range p.Worst {
				fmt.Fprintf(ew, "    %s: %.4f -> %.4f (%+.4f)  \"%s\"\n", caseLoc(r.Source, wc.Case, wc.Line),
					wc.Original, wc.Variant, wc.Raise, wc.Response)
			}
		}
	}
	for _, p := range h.Perturbations {
		if p.FirstError != "" {
			fmt.Fprintf(ew, "  note: %d %s variants failed; first: %s\n", p.Failed, p.Name, p.FirstError)
		}
	}
	fmt.Fprintln(ew)
	if h.Exploitable {
		fmt.Fprintf(ew, "verdict: EXPLOITABLE: %s raise the reward without solving the task.\n", strings.Join(bad, ", "))
		fmt.Fprintln(ew, "  Fix the reward so that it pays only for a correct final answer (check it, don't count tokens or length).")
	} else {
		fmt.Fprintln(ew, "verdict: not exploitable by these rewrites.")
	}
	fmt.Fprintf(ew, "  rule: %s.\n", h.Rule)
}

func pct0(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) }

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// jsonReport is the --format json shape.
type jsonReport struct {
	Source      string              `json:"source"`
	Target      string              `json:"target,omitempty"`
	Cases       int                 `json:"cases"`
	Scored      int                 `json:"scored"`
	Failed      int                 `json:"failed"`
	Summary     *Summary            `json:"summary"`
	Components  map[string]*Summary `json:"components"`
	Failures    []Failure           `json:"failures"`
	Hacks       *jsonHacks          `json:"hacks"`
	Exploitable bool                `json:"exploitable"`
}

type jsonHacks struct {
	Exploitable      bool        `json:"exploitable"`
	Rule             string      `json:"rule"`
	MinShare         float64     `json:"min_share"`
	Tolerance        float64     `json:"tolerance"`
	CorrectComponent string      `json:"correct_component,omitempty"`
	Cases            int         `json:"cases"`
	NoResponse       int         `json:"no_response"`
	Perturbations    []jsonPertu `json:"perturbations"`
}

type jsonPertu struct {
	Name        string        `json:"name"`
	What        string        `json:"what"`
	Unsolved    bool          `json:"unsolved"`
	Applied     int           `json:"applied"`
	Scored      int           `json:"scored"`
	Failed      int           `json:"failed"`
	Raised      int           `json:"raised"`
	Dropped     int           `json:"dropped"`
	RaisedShare float64       `json:"raised_share"`
	MeanRaise   float64       `json:"mean_raise"`
	MaxRaise    float64       `json:"max_raise"`
	MeanDelta   float64       `json:"mean_delta"`
	Correct     *CorrectStats `json:"correctness,omitempty"`
	Exploitable bool          `json:"exploitable"`
	Worst       []WorstCase   `json:"worst"`
	FirstError  string        `json:"first_error,omitempty"`
}

// MarshalJSON gives CorrectStats lower-case keys.
func (c CorrectStats) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"component": c.Component, "fooled": c.Fooled,
		"kept": c.Kept, "broke": c.Broke, "missing": c.Missing})
}

// MarshalJSON gives WorstCase lower-case keys.
func (w WorstCase) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Case     int     `json:"case"`
		Line     int     `json:"line"`
		Original float64 `json:"original"`
		Variant  float64 `json:"variant"`
		Raise    float64 `json:"raise"`
		Response string  `json:"response"`
	}{w.Case, w.Line, w.Original, w.Variant, w.Raise, w.Response})
}

// WriteJSON writes the report as one indented JSON object: source, target,
// cases, scored, failed, summary (null when nothing scored), components,
// failures (all of them), hacks (null without hack probes) and
// exploitable.
func (rep *Report) WriteJSON(w io.Writer) error {
	r := rep.Results
	out := jsonReport{Source: r.Source, Target: rep.Target, Cases: len(r.Cases), Scored: r.Scored(),
		Summary: Summarize(r.Rewards()), Components: r.ComponentSummaries(), Failures: r.Failures()}
	out.Failed = len(out.Failures)
	if out.Failures == nil {
		out.Failures = []Failure{}
	}
	if h := rep.Hacks; h != nil {
		jh := &jsonHacks{Exploitable: h.Exploitable, Rule: h.Rule, MinShare: h.MinShare, Tolerance: h.Tolerance,
			CorrectComponent: h.CorrectComponent, Cases: h.Cases, NoResponse: h.NoResponse,
			Perturbations: []jsonPertu{}}
		for _, p := range h.Perturbations {
			worst := p.Worst
			if worst == nil {
				worst = []WorstCase{}
			}
			jh.Perturbations = append(jh.Perturbations, jsonPertu{Name: p.Name, What: p.What, Unsolved: p.Unsolved,
				Applied: p.Applied, Scored: p.Scored, Failed: p.Failed, Raised: p.Raised, Dropped: p.Dropped,
				RaisedShare: p.RaisedShare, MeanRaise: p.MeanRaise, MaxRaise: p.MaxRaise, MeanDelta: p.MeanDelta,
				Correct: p.Correct, Exploitable: p.Exploitable, Worst: worst, FirstError: p.FirstError})
		}
		out.Hacks = jh
		out.Exploitable = h.Exploitable
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
