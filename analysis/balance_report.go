package analysis

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strings"
)

// WriteBalanceReport writes the balance text report in rewardguard's layout
// (print_analysis_report): a 60-character "=" rule, the title and the
// overall severity when not ok, the counts, a table of Source / Real % /
// Expected % / Diff / Severity (shares with one decimal, Diff signed), the
// weight multipliers with "<-- CRITICAL" / "<-- ADJUST" marks, and the
// actions needed. Everything is sorted by component name.
//
// One deliberate difference: the table lists every component of real ∪
// expected, so a component the agent ignores completely (no value in the
// window) shows up as a row with Real % 0.0 instead of only in the actions.
func WriteBalanceReport(w io.Writer, r *BalanceResult) error {
	bw := bufio.NewWriter(w)
	rule := strings.Repeat("=", 60)
	fmt.Fprintf(bw, "\n%s\n", rule)
	fmt.Fprintln(bw, "REWARD BALANCE REPORT")
	if r.Severity != BalanceOK {
		fmt.Fprintf(bw, "  *** OVERALL SEVERITY: %s ***\n", strings.ToUpper(r.Severity))
	}
	fmt.Fprintln(bw, rule)

	fmt.Fprintf(bw, "\n  Episodes analyzed : %d\n", r.EpisodeCount)
	fmt.Fprintf(bw, "  Sources found     : %s\n", strings.Join(r.SourcesFound, ", "))
	if len(r.UnexpectedSources) > 0 {
		fmt.Fprintf(bw, "  Unexpected sources: %s  [not in expected]\n", strings.Join(r.UnexpectedSources, ", "))
	}

	fmt.Fprintf(bw, "\n  %-15s %-10s %-12s %-10s Severity\n", "Source", "Real %", "Expected %", "Diff")
	fmt.Fprintf(bw, "  %s %s %s %s --------\n", strings.Repeat("-", 15), strings.Repeat("-", 10), strings.Repeat("-", 12), strings.Repeat("-", 10))
	comps := r.Components()
	for _, c := range comps {
		cb := r.ImbalanceReport[c]
		fmt.Fprintf(bw, "  %-15s %-10s %-12s %9s  %s\n", c, pyFormat(cb.Real, 1), pyFormat(cb.Expected, 1),
			signed1(cb.Difference), strings.ToUpper(cb.Severity))
	}

	fmt.Fprintln(bw, "\n  Suggested weight multipliers:")
	for _, c := range sortedNames(r.SuggestedRewardWeights) {
		flag := ""
		switch r.ImbalanceReport[c].Severity {
		case BalanceCritical:
			flag = "  <-- CRITICAL"
		case BalanceWarning:
			flag = "  <-- ADJUST"
		}
		fmt.Fprintf(bw, "    %s: %sx%s\n", c, pyFormat(r.SuggestedRewardWeights[c], 2), flag)
	}

	fmt.Fprintln(bw, "\n  Actions needed:")
	any := false
	for _, c := range comps {
		if cb := r.ImbalanceReport[c]; cb.Status == StatusImbalanced {
			fmt.Fprintf(bw, "    • %s: %s\n", c, cb.Recommendation)
			any = true
		}
	}
	if !any {
		fmt.Fprintln(bw, "    All reward sources are well balanced.")
	}
	fmt.Fprintf(bw, "%s\n\n", rule)
	return bw.Flush()
}

// signed1 formats x like Python's f"{x:+.1f}".
func signed1(x float64) string {
	s := pyFormat(x, 1)
	if !math.Signbit(x) {
		s = "+" + s
	}
	return s
}
