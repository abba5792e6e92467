package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
)

// A report the batch detectors made on a sample says so, once, under the
// headline; one made on every row says nothing.
func TestAuditTextSampledLine(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sampled *analysis.Sampled
		kind    analysis.Kind
		want    string
	}{
		{"whole run", nil, analysis.KindRewardspy, ""},
		{"rewardspy log", &analysis.Sampled{Rows: 625001, Of: 10000000, Every: 16}, analysis.KindRewardspy,
			"Sampled: the run is longer than 1,048,576 rows, so the batch detectors judged 1 row in 16 (625,001 of 10,000,000); their figures are estimates. The record count and rewardspy's five detectors cover every record.\n"},
		{"policy log", &analysis.Sampled{Rows: 600000, Of: 1200000, Every: 2}, analysis.KindPolicy,
			"Sampled: the run is longer than 1,048,576 rows, so the batch detectors judged 1 row in 2 (600,000 of 1,200,000); their figures are estimates. The record count covers every record.\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &analysis.Report{Kind: tc.kind, Records: 10, Window: 100, Verdict: analysis.VerdictHealthy,
				Headline: "Healthy: the reward stayed near 1.", Sampled: tc.sampled}
			var b bytes.Buffer
			writeAuditText(&b, audited{path: "run.jsonl", rep: rep})
			out := b.String()
			got := strings.Count(out, "Sampled:")
			if tc.want == "" {
				if got != 0 {
					t.Fatalf("unsampled report mentions sampling:\n%s", out)
				}
				return
			}
			if got != 1 || !strings.Contains(out, "Healthy: the reward stayed near 1.\n"+tc.want) {
				t.Fatalf("want the line under the headline:\n%s\ngot:\n%s", tc.want, out)
			}
		})
	}
}
