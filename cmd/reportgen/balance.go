package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

func init() {
	register(&command{
		name:    "balance",
		summary: "reward-component balance against an expected split, weight fixes (exit 1 when critical)",
		run:     func(args []string, stdout, stderr io.Writer) int { return runBalance("balance", args, stdout, stderr) },
	})
	register(&command{
		name:    "analyze",
		summary: "the same as balance, as rewardguard users type it (rewardguard analyze LOG --expected food:60 survival:40)",
		run:     func(args []string, stdout, stderr io.Writer) int { return runBalance("analyze", args, stdout, stderr) },
	})
}

func runBalance(name string, args []string, stdout, stderr io.Writer) int {
	var in inputFlags
	var expected, format string
	var tol float64
	var window int
	var imbalancedOnly bool
	about := "Compare each reward component's share of the total reward magnitude with the\n" +
		"split you intended (rewardguard's balance analysis): ok within --tolerance\n" +
		"percentage points, warning within 3x, critical beyond, or when a component\n" +
		"the agent should earn is completely absent. Suggests weight multipliers.\n" +
		"--expected takes relative weights in goodhart's or rewardguard's spelling:\n" +
		"task=0.7,safety=0.3, food:60,survival:40 or food:60 survival:40. A name that\n" +
		"is not a component of the run is an error that lists the run's components.\n" +
		"'reportgen analyze' is the same command under rewardguard's name (--output\n" +
		"is --format; RUN - reads standard input).\n" +
		"Exit code 1 when the overall severity is critical (a CI gate), 0 otherwise,\n" +
		"2 on bad usage or input."
	fs := newFlagSet(name,
		name+" RUN --expected name=w,... | name:pct ... [--tolerance 5] [--window N] [--format text|json|csv] [--imbalanced-only]",
		about,
		"reportgen "+name+" train.log --expected food:60,survival:40 --window 200",
		stdout)
	in.register(fs)
	fs.StringVar(&expected, "expected", "", "intended split as relative weights: task=0.7,safety=0.3 or food:60,survival:40 (default: the observed shares)")
	fs.Float64Var(&tol, "tolerance", analysis.DefaultTolerance, "ok band in percentage points (warning up to 3x)")
	fs.IntVar(&window, "window", 0, "analyse only the last N records (0 = all)")
	fs.StringVar(&format, "format", "text", "output format: text|json|csv")
	fs.StringVar(&format, "output", "text", "same as --format (rewardguard's name)")
	fs.BoolVar(&imbalancedOnly, "imbalanced-only", false, "list only the components that need action")
	pos, help, err := parseArgs(fs, args)
	if help {
		return exitOK
	}
	if err != nil {
		return usageError(stderr, name, "%v", err)
	}
	pos, expected = expectedFromArgs(pos, expected)
	if len(pos) != 1 {
		return usageError(stderr, name, "want exactly one RUN file, got %d", len(pos))
	}
	switch format {
	case "text", "json", "csv":
	default:
		return usageError(stderr, name, "--format %q: want text, json or csv", format)
	}
	if window < 0 {
		return usageError(stderr, name, "--window %d: must be >= 0 (0 = all records)", window)
	}
	if tol < 0 || math.IsNaN(tol) || math.IsInf(tol, 0) {
		return usageError(stderr, name, "--tolerance %v: must be a number >= 0", tol)
	}
	var exp map[string]float64
	if expected != "" {
		if exp, err = parseWeights(expected); err != nil {
			return usageError(stderr, name, "--expected: %v", err)
		}
		if _, err := analysis.ExpectedPercentages(exp); err != nil {
			return usageError(stderr, name, "--expected: %v", err)
		}
	}
	var run *ingest.Run
	if pos[0] == "-" {
		run, err = loadStdin(&in, stderr)
	} else {
		run, err = in.load(pos[0], stderr)
	}
	if err != nil {
		return inputError(stderr, err)
	}
	if exp != nil {
		if err := checkExpected(exp, run); err != nil {
			return expectedError(stderr, name, err)
		}
	}
	var res *analysis.BalanceResult
	if exp == nil {
		res, err = balanceObserved(run, tol, window, stderr)
	} else {
		res, err = analysis.Balance(run, exp, analysis.BalanceOptions{Tolerance: tol, HasTolerance: true, Window: window})
	}
	if err != nil {
		if errors.Is(err, analysis.ErrNoComponents) {
			err = noComponentsError(pos[0], run)
		} else {
			err = fmt.Errorf("%s: %w", pos[0], err)
		}
		return inputError(stderr, err)
	}
	if imbalancedOnly {
		res = onlyImbalanced(res)
	}
	switch format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(res)
	case "csv":
		err = writeBalanceCSV(stdout, res)
	default:
		err = analysis.WriteBalanceReport(stdout, res)
	}
	if err != nil {
		fmt.Fprintf(stderr, "reportgen %s: %v\n", name, err)
		return exitUsage
	}
	if res.Severity == analysis.BalanceCritical {
		return exitFlagged
	}
	return exitOK
}

// loadStdin reads the run from standard input ("-", as in rewardguard's
// "cat train.log | rewardguard analyze - ..."), with the input flags.
func loadStdin(in *inputFlags, stderr io.Writer) (*ingest.Run, error) {
	opt, err := in.options()
	if err != nil {
		return nil, err
	}
	run, err := ingest.Read(os.Stdin, "stdin", opt)
	if err != nil {
		return nil, err
	}
	reportSkipped(stderr, run)
	if in.last < 0 {
		return nil, fmt.Errorf("--last %d: must be >= 0", in.last)
	}
	return run.Last(in.last), nil
}

// noComponentsError explains what balance and align need.
func noComponentsError(path string, run *ingest.Run) error {
	cols := run.Columns()
	if len(cols) > 8 {
		cols = append(cols[:8:8], fmt.Sprintf("... (%d columns)", len(run.Columns())))
	}
	have := strings.Join(cols, ", ")
	if have == "" {
		have = "no columns"
	}
	return fmt.Errorf("%s: %w: this needs per-component rewards (component.<name> columns: rewardspy \"components\", TRL rewards/<f>, rewardguard sources:); this %s run has %s",
		path, analysis.ErrNoComponents, run.Format, have)
}

// balanceObserved grades the run against its own magnitude shares (so
// every component reads ok), and says so on stderr.
func balanceObserved(run *ingest.Run, tol float64, window int, stderr io.Writer) (*analysis.BalanceResult, error) {
	var comps []string
	for _, c := range run.Components() {
		if c != ingest.TotalComponent {
			comps = append(comps, c)
		}
	}
	if len(comps) == 0 {
		return nil, analysis.ErrNoComponents
	}
	w := run.Last(window)
	shares := analysis.ObservedShares(w, comps)
	sum := 0.0
	var parts, even []string
	for _, c := range balanceKeys(shares) {
		sum += shares[c]
		parts = append(parts, c+"="+strconv.FormatFloat(shares[c], 'f', -1, 64))
		even = append(even, c+"=1")
	}
	if sum == 0 {
		return nil, errors.New("every component value is 0 in the records analysed: nothing to balance")
	}
	fmt.Fprintf(stderr, "reportgen balance: no --expected given, so the observed shares are used as expected (%s) and every component reads ok.\n"+
		"  Pass the split you intended to find imbalance, e.g. --expected %s for an even one.\n", strings.Join(parts, ","), strings.Join(even, ","))
	exp := make(map[string]float64, len(shares))
	for c, v := range shares {
		exp[c] = v
	}
	return analysis.AnalyzeShares(shares, exp, tol, w.Len()), nil
}

func balanceKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// onlyImbalanced keeps the components whose status is imbalanced.
func onlyImbalanced(r *analysis.BalanceResult) *analysis.BalanceResult {
	cp := *r
	cp.ImbalanceReport = map[string]analysis.ComponentBalance{}
	cp.SuggestedRewardWeights = map[string]float64{}
	for c, cb := range r.ImbalanceReport {
		if cb.Status == analysis.StatusImbalanced {
			cp.ImbalanceReport[c] = cb
			if w, ok := r.SuggestedRewardWeights[c]; ok {
				cp.SuggestedRewardWeights[c] = w
			}
		}
	}
	return &cp
}

// writeBalanceCSV writes source,real_pct,expected_pct,difference,severity,
// weight,recommendation, one row per component, sorted.
func writeBalanceCSV(w io.Writer, r *analysis.BalanceResult) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"source", "real_pct", "expected_pct", "difference", "severity", "weight", "recommendation"})
	num := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	for _, c := range r.Components() {
		cb := r.ImbalanceReport[c]
		weight := ""
		if x, ok := r.SuggestedRewardWeights[c]; ok {
			weight = num(x)
		}
		cw.Write([]string{c, num(cb.Real), num(cb.Expected), num(cb.Difference), cb.Severity, weight, cb.Recommendation})
	}
	cw.Flush()
	return cw.Error()
}
