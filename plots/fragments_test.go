package plots

import (
	"strings"
	"testing"
)

func TestFindingsHTML(t *testing.T) {
	rep := synthReport(1000)
	got := FindingsHTML(rep)
	for _, want := range []string{"Verdict: HACKING", "(1000 records, window 100)", "#d55e00", "Reward variance collapsed to 3.0% of baseline.",
		"steps 150–249 (records 601–1000)", "since step", "the reward stopped varying"} {
		if !strings.Contains(got, want) {
			t.Errorf("FindingsHTML lacks %q", want)
		}
	}
	if FindingsHTML(nil) != "<p>No audit.</p>" {
		t.Error("nil report")
	}
	b := BalanceHTML(synthBalance())
	for _, want := range []string{"over 200 records", ">critical</b>", ">task</td>", "+62.50", "5.00", "CRITICAL: Increase weight by ~66.5%"} {
		if !strings.Contains(b, want) {
			t.Errorf("BalanceHTML lacks %q", want)
		}
	}
}
