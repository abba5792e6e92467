package analysis

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Status glyphs of rewardspy's theme, used in the diagnosis headline.
const (
	glyphOK      = "✓"
	glyphWarning = "▲"
	glyphAlert   = "✕"
)

// diagnosis is rewardspy's plain-language verdict (tui/render.py
// diagnosis), extended to findings of batch detectors:
//
//	no records:           "No records found."
//	fewer than W kept:    "Collecting data... (N calls so far)" (see SetGrain)
//	nothing actionable:   "✓ Healthy training\nReward is moving with no reward-hacking signatures. Keep going."
//	otherwise:            "✕ Likely reward hacking\n" (any ALERT) or "▲ Early warning signs\n", then
//	                      "The reward curve looks fine (mean M, TREND), but R1; R2; and R3.\n"
//	                      "First flagged near step S. Inspect rollouts from there for shortcut behavior."
//
// The reasons, in order: ceiling "~{rate:.0%} of rollouts are at the reward
// ceiling" (rate against the lifetime maximum, whatever --max-reward says,
// as rewardspy does), variance "reward variance collapsed to {ratio:.0%} of
// baseline" (against the baseline of the records kept now), component
// "'{c}' now drives {share:.0%} of the reward", length "response length is
// drifting", slope "the reward distribution shifted suddenly", then each
// actionable batch detector's message. S is the first alert's step.
func (e *Engine) diagnosis(results []NamedResult, alerts []Alert) string {
	if e.steps == 0 {
		return "No records found."
	}
	if e.count() < e.win.W {
		return fmt.Sprintf("Collecting data... (%d %s so far)", e.count(), e.unit)
	}
	actionable := map[string]bool{}
	hasAlert := false
	var batch []NamedResult
	for _, r := range results {
		if !r.Status.Actionable() {
			continue
		}
		actionable[r.Name] = true
		if r.Status == StatusAlert {
			hasAlert = true
		}
		if !isStreaming(r.Name) {
			batch = append(batch, r)
		}
	}
	if len(actionable) == 0 {
		return glyphOK + " Healthy training\nReward is moving with no reward-hacking signatures. Keep going."
	}
	var b strings.Builder
	if hasAlert {
		b.WriteString(glyphAlert + " Likely reward hacking\n")
	} else {
		b.WriteString(glyphWarning + " Early warning signs\n")
	}
	var reasons []string
	if actionable[DetCeiling] {
		rate := 0.0
		if e.lifeMax > 0 {
			rate = e.ceilingRate(e.lifeMax)
		}
		reasons = append(reasons, "~"+PyPercent(rate, 0)+" of rollouts are at the reward ceiling")
	}
	if actionable[DetVariance] {
		if base := e.baselineStd(); base < 1e-6 {
			reasons = append(reasons, "reward variance collapsed")
		} else {
			reasons = append(reasons, "reward variance collapsed to "+PyPercent(e.reward.Std()/base, 0)+" of baseline")
		}
	}
	if actionable[DetComponent] {
		if top, share, ok := e.dominantShare(); ok {
			reasons = append(reasons, "'"+e.compNames[top]+"' now drives "+PyPercent(share, 0)+" of the reward")
		}
	}
	if actionable[DetLength] {
		reasons = append(reasons, "response length is drifting")
	}
	if actionable[DetSlope] {
		reasons = append(reasons, "the reward distribution shifted suddenly")
	}
	for _, r := range batch {
		reasons = append(reasons, reasonOf(r))
	}
	fmt.Fprintf(&b, "The reward curve looks fine (mean %s, %s), but %s.\n",
		PyFixed(e.reward.Mean(), 2), e.trend(), joinReasons(reasons))
	if len(alerts) > 0 {
		first := alerts[0]
		for _, a := range alerts {
			if a.Step < first.Step {
				first = a
			}
		}
		if e.unit == "calls" {
			fmt.Fprintf(&b, "First flagged near step %d. Inspect rollouts from there for shortcut behavior.", first.Step)
		} else {
			// Trainer logs: name the trainer's own step, the one the
			// user's dashboards show, and the record count beside it.
			fmt.Fprintf(&b, "First flagged near step %s (record %d). Inspect rollouts from there for shortcut behavior.",
				strconv.FormatFloat(first.RunStep, 'f', -1, 64), first.Step)
		}
	}
	return b.String()
}

// reasonOf turns a batch detector's message into a clause: first letter
// lower-cased (unless it starts an acronym), trailing period dropped.
func reasonOf(r NamedResult) string {
	m := strings.TrimSpace(r.Message)
	if m == "" {
		return r.Name + " flagged " + strings.ToLower(string(r.Status))
	}
	m = strings.TrimSuffix(m, ".")
	if len(m) > 1 && m[0] >= 'A' && m[0] <= 'Z' && !(m[1] >= 'A' && m[1] <= 'Z') {
		m = strings.ToLower(m[:1]) + m[1:]
	}
	return m
}

// joinReasons joins like rewardspy's _join: "a", "a; and b", "a; b; and c".
func joinReasons(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], "; ") + "; and " + parts[len(parts)-1]
}

// trend is rewardspy's _trend over the last W kept rewards: "collecting"
// under 20; else early = fmean of the first half (n//2), late = fmean of the
// rest, eps = 0.01*|early| + 1e-6: "▲ rising" when late-early > eps,
// "▼ falling" when < -eps, else "▬ flat".
func (e *Engine) trend() string {
	n := min(e.win.W, e.history.len())
	// rewardspy needs 20 records for a trend; short step-grain logs, whose
	// windows are scaled down (WindowFor), need as many as their slope check.
	if n < min(20, e.win.SlopeMin) {
		return "collecting"
	}
	return trendWord(e.history.appendTo(nil, e.history.len()-n, e.history.len()))
}

// trendWord compares the halves of w (len(w) >= 2): early = fmean of the
// first len//2 values, late = fmean of the rest, eps = 0.01*|early| + 1e-6:
// "▲ rising" when late-early > eps, "▼ falling" when < -eps, else "▬ flat".
func trendWord(w []float64) string {
	half := len(w) / 2
	early, late := Fmean(w[:half]), Fmean(w[half:])
	eps := 0.01*math.Abs(early) + 1e-6
	switch {
	case late-early > eps:
		return "▲ rising"
	case late-early < -eps:
		return "▼ falling"
	}
	return "▬ flat"
}

func isStreaming(name string) bool {
	for _, n := range StreamingDetectors {
		if n == name {
			return true
		}
	}
	return false
}
