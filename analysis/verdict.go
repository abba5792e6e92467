package analysis

// statusRank orders statuses for the overall status, as rewardspy's
// engine.overall: OK < WARNING < ALERT; INSUFFICIENT_DATA and
// NOT_APPLICABLE do not count.
func statusRank(s Status) int {
	switch s {
	case StatusOK:
		return 1
	case StatusWarning:
		return 2
	case StatusAlert:
		return 3
	}
	return 0
}

// Overall is the worst final status among results (rewardspy's
// engine.overall): ALERT over WARNING over OK; OK when no detector has a
// decision yet (all insufficient or not applicable) or results is empty.
func Overall(results []NamedResult) Status {
	worst := StatusOK
	for _, r := range results {
		if statusRank(r.Status) > statusRank(worst) {
			worst = r.Status
		}
	}
	return worst
}

// ExitCode is what `reportgen audit` exits with: 1 when any final status
// is WARNING or ALERT (even while the verdict is still "collecting"), else 0.
func ExitCode(results []NamedResult) int {
	if Overall(results) == StatusOK {
		return 0
	}
	return 1
}

// Verdict folds the final statuses into one word: "collecting" while
// fewer than window records have been seen, else "hacking" when any status
// is ALERT, "warning" when any is WARNING, and "healthy" otherwise.
func Verdict(records, window int, results []NamedResult) string {
	if records < window || records == 0 {
		return VerdictCollecting
	}
	switch Overall(results) {
	case StatusAlert:
		return VerdictHacking
	case StatusWarning:
		return VerdictWarning
	}
	return VerdictHealthy
}
