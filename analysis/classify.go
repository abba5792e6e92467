package analysis

import (
	"fmt"
	"math"
	"strings"

	"github.com/goodhart-rl/goodhart/ingest"
)

// VerdictPathology is the verdict of a non-rewardspy run whose worst
// finding is a training pathology (no learning signal, collapse,
// truncation, a dead component...), not reward hacking.
const VerdictPathology = "pathology"

// kindBatch lists the batch detectors each kind runs by default (those that
// apply to the run's columns). The rewardspy kind also runs rewardspy's
// five streaming detectors; the other kinds do not, because their rules
// read ordinary learning as a fault: a rising curve as a "distribution
// shift", an episode length as a response length, a saturating mean as a
// variance collapse.
var kindBatch = map[Kind][]string{
	KindRewardspy:  {"dead_component", "divergence", "group", "length_coupling", "truncation"},
	KindPolicy:     {"collapse", "dead_component", "divergence", "format_gain", "group", "length_coupling", "length_explosion", "no_learning", "saturation", "truncation"},
	KindPreference: {"dead_component", "divergence", "no_learning", "preference"},
	KindEpisodes:   {"collapse", "dead_component", "divergence", "no_learning"},
}

// KindDetectors returns the detector names a kind runs by default: for the
// rewardspy kind rewardspy's five then the batch detectors, for the others
// their batch detectors, in name order.
func KindDetectors(k Kind) []string {
	var out []string
	if k == KindRewardspy || k == "" {
		out = append(out, StreamingDetectors...)
		k = KindRewardspy
	}
	return append(out, kindBatch[k]...)
}

// defaultClass is the class of an actionable finding whose detector did not
// set one. On the rewardspy kind, rewardspy's five are its hacking
// signatures: an ALERT is reward hacking, a WARNING an early warning.
// divergence and length_coupling compare the reward with the true objective
// or with length, so they are hacking; everything else is a pathology.
func defaultClass(name string, st Status) Class {
	if isStreaming(name) {
		if st == StatusAlert {
			return ClassHacking
		}
		return ClassEarlyWarning
	}
	switch name {
	case "divergence", "length_coupling", "format_gain":
		return ClassHacking
	case "saturation":
		return ClassEarlyWarning
	}
	return ClassPathology
}

// classRank orders classes for the verdict: hacking over pathology over an
// early warning.
func classRank(c Class) int {
	switch c {
	case ClassHacking:
		return 3
	case ClassPathology:
		return 2
	case ClassEarlyWarning:
		return 1
	}
	return 0
}

// ClassWords is how human output names a class: "reward hacking",
// "training pathology", "early warning", "healthy".
func (c Class) Words() string {
	switch c {
	case ClassHacking:
		return "reward hacking"
	case ClassPathology:
		return "training pathology"
	case ClassEarlyWarning:
		return "early warning"
	case ClassHealthy:
		return "healthy"
	}
	return string(c)
}

// classify sets the class of every actionable final result (keeping a class
// the detector set), then the report's class: the worst class among
// actionable results, ClassHealthy when there is none. Results that are not
// actionable carry no class.
func classify(rep *Report) {
	rep.Class = ClassHealthy
	best := 0
	for i := range rep.Detectors {
		d := &rep.Detectors[i]
		if !d.Status.Actionable() {
			d.Class = ""
			continue
		}
		if d.Class == "" {
			d.Class = defaultClass(d.Name, d.Status)
		}
		if r := classRank(d.Class); r > best {
			best, rep.Class = r, d.Class
		}
	}
}

// Classify sets the classes of rep's actionable findings and rep.Class, the
// verdict word for kinds other than rewardspy, and the headline. Audit and
// Engine.Report call it; a live view that assembles a Report from an Engine
// and batch detectors calls it too, so its words match the audit's.
func Classify(rep *Report) {
	classify(rep)
	if rep.Kind != "" && rep.Kind != KindRewardspy && rep.Verdict != VerdictCollecting {
		rep.Verdict = kindVerdict(rep)
	}
	rep.Headline = headline(rep, fmt.Sprintf("%d records", rep.Records))
}

// kindVerdict is the verdict word of a non-rewardspy run: "collecting" for
// an empty run, then by class: "hacking", "pathology", "warning" (early
// warnings only), "healthy".
func kindVerdict(rep *Report) string {
	if rep.Records == 0 {
		return VerdictCollecting
	}
	switch rep.Class {
	case ClassHacking:
		return VerdictHacking
	case ClassPathology:
		return VerdictPathology
	case ClassEarlyWarning:
		return VerdictWarning
	}
	return VerdictHealthy
}

// lead returns the actionable finding the headline names: the highest
// class, ALERT before WARNING, then report order.
func lead(rep *Report) *NamedResult {
	var best *NamedResult
	score := func(d *NamedResult) int {
		s := classRank(d.Class) * 10
		if d.Status == StatusAlert {
			s += 5
		}
		return s
	}
	for i := range rep.Detectors {
		d := &rep.Detectors[i]
		if !d.Status.Actionable() {
			continue
		}
		if best == nil || score(d) > score(best) {
			best = d
		}
	}
	return best
}

// headline writes the one-sentence verdict for humans: the class, then the
// evidence of the leading finding ("Reward hacking: the reward rose 0.74 ->
// 0.98 while ..."), or for a healthy run how the reward moved.
func headline(rep *Report, moved string) string {
	if rep.Records == 0 {
		return "No records with a reward."
	}
	d := lead(rep)
	if d == nil {
		if rep.Verdict == VerdictCollecting {
			return fmt.Sprintf("Collecting: %d records so far, too few to judge (the window is %d).", rep.Records, rep.Window)
		}
		return "Healthy: " + moved + "; no detector flagged anything."
	}
	why := ""
	if d.Evidence != nil && strings.TrimSpace(d.Evidence.Reason) != "" {
		why = d.Evidence.Reason
	} else {
		why = d.Message
	}
	why = strings.TrimSpace(why)
	prefix := strings.ToUpper(d.Class.Words()[:1]) + d.Class.Words()[1:]
	if d.Class == ClassPathology {
		prefix += " (not reward hacking)"
	}
	n := 0
	for _, x := range rep.Detectors {
		if x.Status.Actionable() {
			n++
		}
	}
	more := ""
	if n > 1 {
		more = fmt.Sprintf(" (+%d more finding%s)", n-1, plural(n-1))
	}
	return fmt.Sprintf("%s: %s%s", prefix, lowerFirst(strings.TrimSuffix(why, ".")), more+".")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// lowerFirst lower-cases the first letter unless it starts an acronym or a
// quoted name.
func lowerFirst(s string) string {
	if len(s) > 1 && s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z') {
		return strings.ToLower(s[:1]) + s[1:]
	}
	return s
}

// movement says how the reward moved over the run, in the kind's words:
// "the episode return rose 15.2 -> 650" (means of the first and last tenth
// of the rows with a reward, at least one row each).
func movement(k Kind, run *ingest.Run) string {
	r, ok := run.Column(ingest.ColReward)
	if !ok {
		return "no reward column"
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	n := 0
	for _, v := range r {
		if finite(v) {
			n++
		}
	}
	if n == 0 {
		return "no reward values"
	}
	// Copy only the first and last m finite values, not the whole column.
	m := max(1, n/10)
	head := make([]float64, 0, m)
	for i := 0; len(head) < m; i++ {
		if finite(r[i]) {
			head = append(head, r[i])
		}
	}
	tail := make([]float64, m)
	for i, k := len(r)-1, m; k > 0; i-- {
		if finite(r[i]) {
			k--
			tail[k] = r[i]
		}
	}
	first, last := Fmean(head), Fmean(tail)
	verb := "stayed near"
	spread := math.Abs(first) + math.Abs(last)
	switch {
	case last-first > 0.02*spread+1e-12:
		verb = "rose"
	case first-last > 0.02*spread+1e-12:
		verb = "fell"
	}
	noun := "the " + k.RewardLabel()
	if verb == "stayed near" {
		return fmt.Sprintf("%s stayed near %s", noun, fmtNum(last))
	}
	return fmt.Sprintf("%s %s %s -> %s (first and last tenth)", noun, verb, fmtNum(first), fmtNum(last))
}

// kindDiagnosis is the plain-language verdict of a non-rewardspy run:
//
//	healthy:   "✓ Healthy training\n<how the reward moved>. No detector flagged anything."
//	otherwise: "<glyph> <Class>\n" then one line per actionable finding,
//	           leading finding first ("detector: reason"), then
//	           "First flagged near step S." with S the run's own step of the
//	           earliest alert, and what to look at for that class.
func kindDiagnosis(rep *Report, run *ingest.Run) string {
	if lead(rep) == nil {
		return glyphOK + " Healthy training\n" + upperFirst(movement(rep.Kind, run)) + ". No detector flagged anything."
	}
	var b strings.Builder
	glyph := glyphWarning
	if rep.Class == ClassHacking || rep.Class == ClassPathology {
		glyph = glyphAlert
	}
	b.WriteString(glyph + " " + upperFirst(rep.Class.Words()) + "\n")
	l := lead(rep)
	lines := []*NamedResult{l}
	for i := range rep.Detectors {
		d := &rep.Detectors[i]
		if d != l && d.Status.Actionable() {
			lines = append(lines, d)
		}
	}
	for _, d := range lines {
		why := d.Message
		if d.Evidence != nil && strings.TrimSpace(d.Evidence.Reason) != "" {
			why = d.Evidence.Reason
		}
		fmt.Fprintf(&b, "%s (%s): %s\n", d.Name, d.Class.Words(), strings.TrimSpace(why))
	}
	first := math.NaN()
	for _, a := range rep.Alerts {
		if math.IsNaN(first) || a.RunStep < first {
			first = a.RunStep
		}
	}
	if !math.IsNaN(first) {
		fmt.Fprintf(&b, "First flagged near %s %s. ", rep.Kind.StepLabel(), fmtNum(first))
	}
	switch rep.Class {
	case ClassHacking:
		b.WriteString("Inspect samples from there: the reward is being earned without the task.")
	case ClassPathology:
		b.WriteString("This is a training problem, not reward hacking: fix the run before reading its reward.")
	default:
		b.WriteString("Worth a look before the next run.")
	}
	return b.String()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// HumanDiagnosis is Diagnosis for people: the same text, except that on a
// rewardspy run "First flagged near step N" (rewardspy's 1-based record
// count, kept in the JSON diagnosis) names the run's own step of that
// record, the step every other human output uses.
func (r *Report) HumanDiagnosis() string {
	if r.Kind != KindRewardspy || len(r.Alerts) == 0 {
		return r.Diagnosis
	}
	first := r.Alerts[0]
	for _, a := range r.Alerts {
		if a.Step < first.Step {
			first = a
		}
	}
	if math.IsNaN(first.RunStep) {
		return r.Diagnosis
	}
	old := fmt.Sprintf("First flagged near step %d.", first.Step)
	return strings.Replace(r.Diagnosis, old, "First flagged near step "+fmtNum(first.RunStep)+".", 1)
}
