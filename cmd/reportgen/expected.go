package main

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/goodhart-rl/goodhart/ingest"
)

// --expected: the intended split of the reward between its components.
//
// Accepted spellings, all meaning the same split (values are relative
// weights, so percentages work as they are):
//
//	--expected task=0.7,safety=0.3     goodhart
//	--expected food:60,survival:40     rewardguard's name:pct
//	--expected food:60 survival:40     rewardguard's space-separated form
//	                                   (the extra words are positional arguments;
//	                                   see expectedFromArgs)

// parseWeightKV splits "a=1,b:2" into names and value texts (parsePairs
// with name:value allowed).
func parseWeightKV(s string) (map[string]string, error) { return parsePairs(s, true) }

// weightWord matches one rewardguard-style "name:pct" (or name=w) word.
var weightWord = regexp.MustCompile(`^[^\s=:,]+[:=][-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$`)

// expectedFromArgs moves rewardguard's space-separated --expected entries
// ("--expected food:60 survival:40": the flag takes food:60, and
// survival:40 lands among the positional arguments) back into expected.
// A positional argument moves only when expected is non-empty, it is one
// name:number or name=number word, and no file of that name exists.
func expectedFromArgs(pos []string, expected string) ([]string, string) {
	if expected == "" {
		return pos, expected
	}
	var rest []string
	for _, p := range pos {
		if weightWord.MatchString(p) {
			if _, err := os.Stat(p); err != nil {
				expected += "," + p
				continue
			}
		}
		rest = append(rest, p)
	}
	return rest, expected
}

// checkExpected returns an error when a name in exp is not a component of
// any of runs: `--expected: snake.log has no component "fod" (did you
// mean "food"?); its components are death, food, survival`. A component that
// is logged but is 0 throughout is a component (balance then reports it
// completely absent, as rewardguard does). Runs without any component are
// not checked here (the commands explain that case themselves), nor is
// rewardspy's "total".
func checkExpected(exp map[string]float64, runs ...*ingest.Run) error {
	have := map[string]bool{}
	var names []string
	var sources []string
	for _, r := range runs {
		for _, c := range r.Components() {
			if !have[c] {
				have[c] = true
				if c != ingest.TotalComponent {
					names = append(names, c)
				}
			}
		}
		if r.Source != "" {
			sources = append(sources, r.Source)
		}
	}
	if len(have) == 0 {
		return nil
	}
	sort.Strings(names)
	var unknown []string
	for _, k := range sortedKeys(exp) {
		if !have[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	where := "the run"
	if len(sources) == 1 {
		where = sources[0]
	} else if len(sources) > 1 {
		where = "the runs"
	}
	var parts []string
	for _, u := range unknown {
		p := strconv.Quote(u)
		if s := closestName(u, names); s != "" {
			p += fmt.Sprintf(" (did you mean %q?)", s)
		}
		parts = append(parts, p)
	}
	return fmt.Errorf("--expected: %s has no component %s; its components are %s",
		where, strings.Join(parts, " or "), strings.Join(names, ", "))
}

// expectedError prints a checkExpected error and returns 2.
func expectedError(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "reportgen %s: %v\n", cmd, err)
	return exitUsage
}

func sortedKeys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// closestName returns the name in names nearest to s: an exact match
// ignoring case, else the smallest edit distance (Levenshtein, on bytes)
// when it is at most max(1, len(s)/3); "" when none is that close or two
// names tie.
func closestName(s string, names []string) string {
	for _, n := range names {
		if strings.EqualFold(n, s) {
			return n
		}
	}
	limit := max(1, len(s)/3)
	best, bestD, tie := "", limit+1, false
	for _, n := range names {
		d := editDistance(strings.ToLower(s), strings.ToLower(n))
		switch {
		case d < bestD:
			best, bestD, tie = n, d, false
		case d == bestD:
			tie = true
		}
	}
	if bestD > limit || tie {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (insertions,
// deletions and substitutions of bytes, each costing 1).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
