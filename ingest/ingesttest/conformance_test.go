package ingesttest

import (
	"strings"
	"testing"
)

func TestCompareAlignTrail(t *testing.T) {
	want := "step,alignment_score,flag,drift_velocity,starvation_alerts,ratio_a,z_a\n" +
		"301,0.500000,warning,0.000000,,0.00,2.5000\n"
	cases := []struct {
		name, got string
		diffs     int
	}{
		{"identical", want, 0},
		{"score within 1e-6, z within 1e-4, -0.00 ratio", strings.NewReplacer("0.500000", "0.5000009", "0.00,", "-0.00,", "2.5000", "2.50009").Replace(want), 0},
		{"score off by 1e-5", strings.Replace(want, "0.500000", "0.500010", 1), 1},
		{"z off by 1e-3", strings.Replace(want, "2.5000", "2.5010", 1), 1},
		{"flag differs", strings.Replace(want, "warning", "critical", 1), 1},
		{"step formatted differently", strings.Replace(want, "\n301,", "\n301.0,", 1), 1},
		{"missing row", strings.SplitAfter(want, "\n")[0], 1},
	}
	for _, c := range cases {
		if d := CompareAlignTrail([]byte(c.got), []byte(want)); len(d) != c.diffs {
			t.Errorf("%s: %d diffs %v, want %d", c.name, len(d), d, c.diffs)
		}
	}
}
