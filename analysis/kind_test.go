package analysis

import (
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
)

func TestDetectKind(t *testing.T) {
	mk := func(format string, grain ingest.Grain, meta map[string]string, cols ...string) *ingest.Run {
		r := ingest.NewRun(3)
		r.Format, r.Grain, r.Meta = format, grain, meta
		r.SetColumn(ingest.ColReward, []float64{1, 2, 3})
		for _, c := range cols {
			r.SetColumn(c, []float64{1, 2, 3})
		}
		return r
	}
	cases := []struct {
		name string
		run  *ingest.Run
		want Kind
	}{
		{"reader says episodes", mk("trl", ingest.GrainStep, map[string]string{ingest.MetaKind: "episodes"}), KindEpisodes},
		{"preference columns", mk("jsonl", ingest.GrainStep, nil, ingest.ColMargin), KindPreference},
		{"call grain", mk("rewardspy-jsonl", ingest.GrainCall, nil), KindRewardspy},
		{"sample grain", mk("jsonl", ingest.GrainSample, nil), KindRewardspy},
		{"episode grain", mk("sb3-monitor", ingest.GrainEpisode, nil, ingest.ColLength), KindEpisodes},
		{"trainer steps", mk("verl", ingest.GrainStep, nil, ingest.ColLength), KindPolicy},
		{"plain JSONL steps", mk("jsonl", ingest.GrainStep, nil), KindPolicy},
		{"TensorBoard reward only", mk("tfevents", ingest.GrainStep, nil, "extra.run/Train-Reward"), KindEpisodes},
		{"TensorBoard with lengths", mk("tfevents", ingest.GrainStep, nil, ingest.ColLength, ingest.ColKL), KindPolicy},
		{"nil run", nil, KindRewardspy},
	}
	for _, c := range cases {
		if got := DetectKind(c.run); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	for in, want := range map[string]Kind{"": "", "auto": "", "GRPO": KindPolicy, "dpo": KindPreference, "sb3": KindEpisodes, "episodes": KindEpisodes} {
		if got, err := ParseKind(in); err != nil || got != want {
			t.Errorf("ParseKind(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseKind("bandit"); err == nil {
		t.Error("ParseKind accepts an unknown kind")
	}
}
