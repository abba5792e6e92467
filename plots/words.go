package plots

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// kindOf is the kind of run a figure describes: the audit's Kind when rep
// has one, else analysis.DetectKind(run).
func kindOf(run *ingest.Run, rep *analysis.Report) analysis.Kind {
	if rep != nil && rep.Kind != "" {
		return rep.Kind
	}
	return analysis.DetectKind(run)
}

// statWords are the last parts of metric names that name a statistic of
// the metric rather than the metric ("reward/mean@1" is the reward).
var statWords = map[string]bool{"mean": true, "avg": true, "average": true, "value": true}

// metricWords mark the part of a metric name that says what is measured.
var metricWords = []string{"reward", "score", "acc", "pass", "loss", "ppl", "perplexity", "error", "win", "return", "success", "correct", "em", "f1", "bleu", "rouge"}

// maxShortName is how long a shortened metric name may be, in runes.
const maxShortName = 28

// ShortName shortens a long metric or component name for axis labels and
// legends, keeping its distinctive part; the full name belongs in a title,
// caption or note. Names of at most 28 runes are returned unchanged. Longer
// ones are split at "/": a trailing statistic word (mean, avg, average,
// value) is dropped, keeping its "@k" suffix on the part before it
// ("reward/mean@1" -> "reward@1"); then the last part that names a measure
// (contains reward, score, acc, pass, loss, ...) and the last part that does
// not (the data set) are kept, data set first:
//
//	DigitalLearningGmbH/MATH-lighteval/reward/mean@1 -> MATH-lighteval reward@1
//	test_score/openai/gsm8k                          -> gsm8k test_score
//
// A name without "/" or still longer than 28 runes is cut in the middle
// with "…" so that both ends stay readable.
func ShortName(name string) string {
	if utf8.RuneCountInString(name) <= maxShortName {
		return name
	}
	parts := strings.FieldsFunc(name, func(r rune) bool { return r == '/' })
	if n := len(parts); n >= 2 {
		last := parts[n-1]
		word, suffix, _ := strings.Cut(last, "@")
		if statWords[strings.ToLower(word)] {
			if suffix != "" {
				suffix = "@" + suffix
			}
			parts = append(parts[:n-2:n-2], parts[n-2]+suffix)
		}
	}
	if len(parts) >= 2 {
		measure, set := -1, -1
		for i := len(parts) - 1; i >= 0; i-- {
			if isMeasure(parts[i]) {
				if measure < 0 {
					measure = i
				}
			} else if set < 0 {
				set = i
			}
		}
		var out string
		switch {
		case measure >= 0 && set >= 0:
			out = parts[set] + " " + parts[measure]
		default:
			out = parts[len(parts)-2] + " " + parts[len(parts)-1]
		}
		return middleCut(out, maxShortName)
	}
	return middleCut(name, maxShortName)
}

func isMeasure(part string) bool {
	l := strings.ToLower(part)
	for _, w := range metricWords {
		if len(w) <= 2 {
			if l == w || strings.HasPrefix(l, w+"@") {
				return true
			}
			continue
		}
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// middleCut cuts s to n runes by replacing its middle with "…".
func middleCut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n || n < 3 {
		return s
	}
	head := (n - 1) / 2
	tail := n - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// upperFirst returns s with its first letter in upper case.
func upperFirst(s string) string {
	r := []rune(s)
	if len(r) > 0 && r[0] >= 'a' && r[0] <= 'z' {
		r[0] -= 'a' - 'A'
	}
	return string(r)
}

// TrimCommon removes the prefix and suffix that all names share, cut at a
// separator ('_', '/', '.', '-' or ' '), so that labels keep only their
// distinctive part: [diversity_reward_fn format_reward_fn] -> [diversity
// format] with suffix "_reward_fn". Fewer than two names, or a trim that
// would leave a name empty, returns the names unchanged with empty affixes.
func TrimCommon(names []string) (short []string, prefix, suffix string) {
	if len(names) < 2 {
		return names, "", ""
	}
	isSep := func(b byte) bool { return b == '_' || b == '/' || b == '.' || b == '-' || b == ' ' }
	p := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, p) {
			p = p[:len(p)-1]
		}
	}
	for len(p) > 0 && !isSep(p[len(p)-1]) { // cut back to a separator
		p = p[:len(p)-1]
	}
	s := names[0]
	for _, n := range names[1:] {
		for !strings.HasSuffix(n, s) {
			s = s[1:]
		}
	}
	for len(s) > 0 && !isSep(s[0]) {
		s = s[1:]
	}
	short = make([]string, len(names))
	for i, n := range names {
		if len(n) <= len(p)+len(s) {
			return names, "", ""
		}
		short[i] = n[len(p) : len(n)-len(s)]
	}
	return short, p, s
}

// trimNote says what TrimCommon removed, for a figure's notes ("" when
// nothing was).
func trimNote(what, prefix, suffix string) string {
	switch {
	case prefix != "" && suffix != "":
		return fmt.Sprintf("%s are shown without their common prefix %q and suffix %q.", what, prefix, suffix)
	case prefix != "":
		return fmt.Sprintf("%s are shown without their common prefix %q.", what, prefix)
	case suffix != "":
		return fmt.Sprintf("%s are shown without their common suffix %q.", what, suffix)
	}
	return ""
}

// affixWords says briefly what TrimCommon removed: `names without "_fn"`.
func affixWords(prefix, suffix string) string {
	switch {
	case prefix != "" && suffix != "":
		return fmt.Sprintf("names without %q…%q", prefix, suffix)
	case prefix != "":
		return fmt.Sprintf("names without %q", prefix)
	}
	return fmt.Sprintf("names without %q", suffix)
}
