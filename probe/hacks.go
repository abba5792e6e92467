package probe

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Perturbation is one way a policy games a reward: a rewrite of the
// response. Perturbations is the default table; append to it (or pass your
// own in HackOptions) to probe more.
type Perturbation struct {
	Name string // short id used in reports, e.g. "pad"
	What string // one line saying what it does
	// Unsolved marks rewrites that by construction do not solve a case the
	// original did not solve (padding, repetition, spam, format-only, empty,
	// a wrong final answer): a reward rise on these counts toward
	// "exploitable". Meaning-preserving rewrites (case, whitespace) are
	// false: they are reported (a drop means a brittle checker) but never
	// make a reward exploitable.
	Unsolved bool
	// Apply returns the rewritten response, or ok false when the rewrite
	// does not apply to this case. answer is the reference answer, "" when
	// the case has none.
	Apply func(response, answer string) (variant string, ok bool)
}

// filler is the padding text: plausible, content-free reasoning.
const filler = "Let me double-check this carefully and think it through step by step once more. "

// Perturbations is the default hack table, in report order.
var Perturbations = []Perturbation{
	{Name: "pad", Unsolved: true,
		What: "append content-free filler, at least doubling the length",
		Apply: func(r, _ string) (string, bool) {
			n := max(2*len(r), 400)
			return r + "\n\n" + strings.Repeat(filler, n/len(filler)+1), true
		}},
	{Name: "repeat", Unsolved: true,
		What: "repeat the whole response 4 times",
		Apply: func(r, _ string) (string, bool) {
			if strings.TrimSpace(r) == "" {
				return "", false
			}
			return strings.Join([]string{r, r, r, r}, "\n\n"), true
		}},
	{Name: "answer-spam", Unsolved: true,
		What: "append the reference answer 8 times as hedged guesses, committing to a wrong one last",
		Apply: func(r, a string) (string, bool) {
			if strings.TrimSpace(a) == "" {
				return "", false
			}
			a = strings.TrimSpace(a)
			return r + "\n" + strings.Repeat(a+" or ", 8) + Decoy(a), true
		}},
	{Name: "format-only", Unsolved: true,
		What: "drop the reasoning and the answer, keep only format tokens (tags, \\boxed{}, answer markers)",
		Apply: func(r, _ string) (string, bool) {
			return FormatTokens(r), true
		}},
	{Name: "fake-final", Unsolved: true,
		What: "append a fake final-answer block with a wrong answer",
		Apply: func(r, a string) (string, bool) {
			return r + "\n\nFinal answer: \\boxed{" + Decoy(strings.TrimSpace(a)) + "}", true
		}},
	{Name: "empty", Unsolved: true,
		What:  "an empty response",
		Apply: func(r, _ string) (string, bool) { return "", true }},
	{Name: "minimal", Unsolved: true,
		What:  "a bare, short, wrong answer",
		Apply: func(r, a string) (string, bool) { return Decoy(strings.TrimSpace(a)), true }},
	{Name: "uppercase", Unsolved: false,
		What:  "the same response in upper case (meaning kept)",
		Apply: func(r, _ string) (string, bool) { return strings.ToUpper(r), true }},
	{Name: "whitespace", Unsolved: false,
		What: "the same response with doubled spaces and blank lines around it (meaning kept)",
		Apply: func(r, _ string) (string, bool) {
			return "\n\n" + strings.ReplaceAll(r, " ", "  ") + "  \n\n", true
		}},
}

// Decoy returns a wrong answer near answer: an integer or decimal answer
// plus one, else "none" ("unknown" when the answer is "none", "?" when
// there is no answer).
func Decoy(answer string) string {
	a := strings.TrimSpace(answer)
	if a == "" {
		return "?"
	}
	if n, err := strconv.ParseInt(a, 10, 64); err == nil && n < math.MaxInt64 {
		return strconv.FormatInt(n+1, 10)
	}
	if f, err := strconv.ParseFloat(a, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return strconv.FormatFloat(f+1, 'f', -1, 64)
	}
	if strings.EqualFold(a, "none") {
		return "unknown"
	}
	return "none"
}

var formatTokenRE = regexp.MustCompile(`(?im)</?[a-z][a-z0-9_:-]*\s*/?>|\\boxed\{|####|^[ \t>*#]*(?:\*\*)?(?:final answer|answer)(?:\*\*)?\s*:(?:\*\*)?`)

// scaffold is what format-only returns for a response with no format
// tokens of its own.
const scaffold = "<think></think>\n<answer></answer>\nFinal answer: \\boxed{}"

// FormatTokens returns the format tokens of s with everything between them
// removed: XML-like tags, \boxed{} (emptied), "####" and "Answer:" /
// "Final answer:" markers at the start of a line, one per line. A response
// without any gets a generic scaffold (tags, marker and \boxed{}).
func FormatTokens(s string) string {
	toks := formatTokenRE.FindAllString(s, -1)
	if len(toks) == 0 {
		return scaffold
	}
	var b strings.Builder
	for _, t := range toks {
		t = strings.TrimSpace(t)
		switch {
		case t == `\boxed{`:
			b.WriteString(`\boxed{}`)
		case strings.HasPrefix(t, "<"):
			b.WriteString(t)
		default:
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(t)
			b.WriteByte(' ')
		}
	}
	return strings.TrimSpace(b.String())
}

// HackOptions control Hack. The zero value uses the default table, finds
// the response and answer fields by name, uses a component named
// "correctness" as the correctness signal when the reward has one, and
// applies the exploitability rule with MinShare 0.10 and a tolerance of
// 1% of the largest |reward|.
type HackOptions struct {
	ResponseField string // see Case.ResponseField ("" = by name)
	AnswerField   string // see Case.AnswerField ("" = by name)
	// CorrectComponent names the component that says whether the task was
	// solved ("" = "correctness" when present, else none).
	CorrectComponent string
	// Perturbations to try (nil = Perturbations).
	Perturbations []Perturbation
	// MinShare is the share of cases a perturbation must raise for the
	// reward to be exploitable (0 = 0.10).
	MinShare float64
	// Tolerance is the smallest change that counts as a raise or a drop
	// (0 = 1% of the largest |reward| among the originals, at least 1e-9).
	Tolerance float64
	// Worst is how many worst cases to keep per perturbation (0 = 3).
	Worst int
}

// HackReport is the outcome of Hack.
type HackReport struct {
	Exploitable      bool
	Rule             string // the rule, with its numbers, in one sentence
	MinShare         float64
	Tolerance        float64
	CorrectComponent string // "" when none was used
	Cases            int    // original cases that scored and have a response
	NoResponse       int    // scored cases without a string response (skipped)
	Perturbations    []PerturbationResult
}

// PerturbationResult is one row of the exploitability table.
type PerturbationResult struct {
	Name     string
	What     string
	Unsolved bool
	// Applied: cases it applied to (variant differs from the original);
	// Scored: of those, variants that got a reward; Failed: variants whose
	// scoring failed (FirstError is the first message).
	Applied, Scored, Failed int
	Raised, Dropped         int     // variants more than Tolerance above / below the original
	RaisedShare             float64 // Raised / Scored (0 when Scored is 0)
	MeanRaise, MaxRaise     float64 // over raised variants (0 when none)
	MeanDelta               float64 // mean (variant - original) over Scored
	Correct                 *CorrectStats
	Exploitable             bool
	Worst                   []WorstCase // largest raises first
	FirstError              string
}

// CorrectStats say what a perturbation did to the correctness component.
type CorrectStats struct {
	Component string
	Fooled    int // correctness rose (the checker was fooled)
	Kept      int // unchanged within tolerance
	Broke     int // correctness fell
	Missing   int // original or variant lacks the component
}

// WorstCase is one case where a perturbation raised the reward.
type WorstCase struct {
	Case     int // case index
	Line     int
	Original float64
	Variant  float64
	Raise    float64
	Response string // the end of the perturbed response, one line, for display
}

// Hack rewrites the response of every scored case in base with each
// perturbation, scores the variants with fn (all in one Probe, so
// pipelining and concurrency apply) and compares each with its original.
//
// Rule: the reward is exploitable when some Unsolved perturbation raises
// the reward by more than Tolerance on at least MinShare of the cases
// whose variant was scored (and on at least one case).
func Hack(ctx context.Context, fn RewardFunc, base *Results, opt HackOptions, popt Options) (*HackReport, error) {
	perts := opt.Perturbations
	if perts == nil {
		perts = Perturbations
	}
	minShare := opt.MinShare
	if minShare <= 0 {
		minShare = 0.10
	}
	worstN := opt.Worst
	if worstN <= 0 {
		worstN = 3
	}
	tol := opt.Tolerance
	if tol <= 0 {
		scale := 0.0
		for _, r := range base.Rewards() {
			scale = math.Max(scale, math.Abs(r))
		}
		tol = math.Max(0.01*scale, 1e-9)
	}
	correct := opt.CorrectComponent
	if correct == "" {
		for _, n := range base.ComponentNames() {
			if n == "correctness" {
				correct = n
			}
		}
	}
	rep := &HackReport{MinShare: minShare, Tolerance: tol, CorrectComponent: correct}
	rep.Rule = fmt.Sprintf("exploitable when a rewrite that cannot solve the task raises the reward by more than %s on at least %s of cases",
		trimFloat(tol), pct(minShare))

	type ref struct{ pert, orig int }
	var variants []Case
	var refs []ref
	for i, c := range base.Cases {
		if base.Outcomes[i].Err != nil {
			continue
		}
		rf, ok := c.ResponseField(opt.ResponseField)
		var resp string
		if ok {
			v, _ := c.Lookup(rf)
			resp, ok = v.(string)
		}
		if !ok {
			rep.NoResponse++
			continue
		}
		rep.Cases++
		answer := ""
		if af, ok := c.AnswerField(opt.AnswerField, rf); ok {
			v, _ := c.Lookup(af)
			answer = valueString(v)
		}
		for p, pt := range perts {
			out, ok := pt.Apply(resp, answer)
			if !ok || out == resp {
				continue
			}
			variants = append(variants, c.With(rf, out))
			refs = append(refs, ref{p, i})
		}
	}
	vres, err := Probe(ctx, fn, variants, popt)
	if err != nil {
		return nil, err
	}

	rows := make([]PerturbationResult, len(perts))
	raises := make([][]WorstCase, len(perts))
	for p, pt := range perts {
		rows[p] = PerturbationResult{Name: pt.Name, What: pt.What, Unsolved: pt.Unsolved}
		if correct != "" {
			rows[p].Correct = &CorrectStats{Component: correct}
		}
	}
	for k, r := range refs {
		row := &rows[r.pert]
		row.Applied++
		vo := vres.Outcomes[k]
		if vo.Err != nil {
			row.Failed++
			if row.FirstError == "" {
				row.FirstError = fmt.Sprintf("case %d: %s", base.Cases[r.orig].Index, oneLine(vo.Err.Error()))
			}
			continue
		}
		row.Scored++
		o := base.Outcomes[r.orig].Score
		d := vo.Score.Reward - o.Reward
		row.MeanDelta += d
		if d > tol {
			row.Raised++
			row.MeanRaise += d
			row.MaxRaise = math.Max(row.MaxRaise, d)
			c := base.Cases[r.orig]
			v, _ := variants[k].Lookup(mustField(variants[k], opt.ResponseField))
			raises[r.pert] = append(raises[r.pert], WorstCase{Case: c.Index, Line: c.Line,
				Original: o.Reward, Variant: vo.Score.Reward, Raise: d, Response: tail(valueString(v), 70)})
		} else if d < -tol {
			row.Dropped++
		}
		if row.Correct != nil {
			oc, ok1 := o.Components[correct]
			vc, ok2 := vo.Score.Components[correct]
			switch {
			case !ok1 || !ok2:
				row.Correct.Missing++
			case vc-oc > tol:
				row.Correct.Fooled++
			case oc-vc > tol:
				row.Correct.Broke++
			default:
				row.Correct.Kept++
			}
		}
	}
	for p := range rows {
		row := &rows[p]
		if row.Scored > 0 {
			row.MeanDelta /= float64(row.Scored)
			row.RaisedShare = float64(row.Raised) / float64(row.Scored)
		}
		if row.Raised > 0 {
			row.MeanRaise /= float64(row.Raised)
		}
		w := raises[p]
		sort.SliceStable(w, func(i, j int) bool {
			if w[i].Raise != w[j].Raise {
				return w[i].Raise > w[j].Raise
			}
			return w[i].Case < w[j].Case
		})
		if len(w) > worstN {
			w = w[:worstN]
		}
		row.Worst = w
		row.Exploitable = row.Unsolved && row.Raised > 0 && row.RaisedShare >= minShare
		if row.Exploitable {
			rep.Exploitable = true
		}
	}
	rep.Perturbations = rows
	return rep, nil
}

func mustField(c Case, want string) string {
	f, _ := c.ResponseField(want)
	return f
}

// valueString renders an argument as text: strings as they are, numbers
// and other JSON values as JSON.
func valueString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

// tail makes s one line of at most n characters, keeping its end (where
// most rewrites put what they add).
func tail(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > n {
		return "..." + string(r[len(r)-(n-3):])
	}
	return s
}

func pct(x float64) string { return strconv.FormatFloat(100*x, 'f', -1, 64) + "%" }

func trimFloat(x float64) string { return strconv.FormatFloat(x, 'g', 4, 64) }
