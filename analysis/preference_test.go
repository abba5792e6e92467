package analysis_test

import (
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// h6PrefRun builds a preference run by hand (steps, then chosen, rejected,
// margin and accuracy per row; a nil column is left out).
func h6PrefRun(steps, chosen, rejected, margin, acc []float64) *ingest.Run {
	cols := map[string][]float64{"step": steps}
	for name, c := range map[string][]float64{ingest.ColChosen: chosen, ingest.ColRejected: rejected,
		ingest.ColMargin: margin, ingest.ColPrefAccuracy: acc} {
		if c != nil {
			cols[name] = c
		}
	}
	run := h4Run(ingest.GrainStep, cols)
	if run.Meta == nil {
		run.Meta = map[string]string{}
	}
	run.Meta[ingest.MetaKind] = string(analysis.KindPreference)
	return run
}

// The numbers of 202520030411/Distill-Safety-Aligned-Models
// outputs/dpo/trainer_state.json (steps 1, 10, 20, 30).
func h6DistillDPO() *ingest.Run {
	return h6PrefRun([]float64{1, 10, 20, 30},
		[]float64{0, 0.1973733752965927, 0.07875525951385498, -0.08688183128833771},
		[]float64{0, -26.53607940673828, -119.52474212646484, -141.8050079345703},
		[]float64{0, 26.73345184326172, 119.603515625, 141.71812438964844},
		[]float64{0, 0.8888888955116272, 1, 1})
}

func TestPreferenceMarginsExplode(t *testing.T) {
	// The first row (margin 0, accuracy 0: the policy is the reference) is
	// skipped; 3 rows remain, k = 1: early margin 26.73, late 141.72
	// (x5.3), late accuracy 1.
	res, alerts := h6Check(t, analysis.DetPreference, h6DistillDPO(), analysis.Config{}, analysis.StatusAlert, analysis.ClassPathology)
	h6Num(t, res, map[string]float64{"margin_early": 26.73345184326172, "margin_late": 141.71812438964844,
		"margin_ratio": 141.71812438964844 / 26.73345184326172, "accuracy_late": 1, "rows": 3, "k": 1,
		"chosen_early": 0.1973733752965927, "chosen_late": -0.08688183128833771,
		"rejected_share": (-26.53607940673828 + 141.8050079345703) / (141.71812438964844 - 26.73345184326172)})
	if res.Message != "Margins exploding with accuracy pinned at 1 (margin 26.73 -> 141.7)." {
		t.Errorf("message %q", res.Message)
	}
	if res.Evidence.FromStep != 10 || res.Evidence.ToStep != 30 || alerts[0].RunStep != 30 {
		t.Errorf("range %v-%v alert %v", res.Evidence.FromStep, res.Evidence.ToStep, alerts[0].RunStep)
	}
	want := "Steps 10-30: accuracy is pinned at 1 while the margin grew 26.73 -> 141.7 (x5.3). 100% of the margin's growth came from pushing the rejected reward down (-26.54 -> -141.8); chosen moved 0.197 -> -0.0869."
	if res.Evidence.Reason != want {
		t.Errorf("reason %q", res.Evidence.Reason)
	}
}

func TestPreference(t *testing.T) {
	steps := h6Steps(8)
	lin := func(a, b float64) []float64 { return h4Seq(8, func(i int) float64 { return a + b*float64(i) }) }
	sub := func(a, b []float64) []float64 {
		return h4Seq(len(a), func(i int) float64 { return a[i] - b[i] })
	}
	// Likelihood displacement: chosen 0 -> -1.75, rejected falls faster.
	chosen := lin(0, -0.25)
	rejected := lin(0, -0.5)
	cases := []struct {
		name   string
		run    *ingest.Run
		status analysis.Status
		msg    string
	}{
		{"chosen falls while the margin grows", h6PrefRun(steps, chosen, rejected, sub(chosen, rejected), lin(0.55, 0.02)),
			analysis.StatusWarning, "Chosen reward falling while the margin grows (-0.125 -> -1.62): the margin comes from pushing rejected answers down."},
		{"healthy: chosen up, rejected down", h6PrefRun(steps, lin(0, 0.05), lin(0, -0.1), sub(lin(0, 0.05), lin(0, -0.1)), lin(0.55, 0.03)),
			analysis.StatusOK, "No sign of preference over-optimisation."},
		// Accuracy pinned, margin only doubles: not exploding.
		{"pinned, margin x2", h6PrefRun(steps, nil, nil, lin(1, 0.2), lin(1, 0)), analysis.StatusOK, "No sign of preference over-optimisation."},
		// Chosen dips a little (less than 10% of the margin's growth).
		{"chosen dips slightly", h6PrefRun(steps, lin(0, -0.01), lin(0, -0.5), sub(lin(0, -0.01), lin(0, -0.5)), lin(0.6, 0.01)),
			analysis.StatusOK, "No sign of preference over-optimisation."},
		// No margin column: it is chosen - rejected. Without an accuracy
		// the all-zero first row is skipped: 7 rows, k = 1.
		{"margin from chosen and rejected", h6PrefRun(steps, chosen, rejected, nil, nil),
			analysis.StatusWarning, "Chosen reward falling while the margin grows (-0.25 -> -1.75): the margin comes from pushing rejected answers down."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			class := analysis.Class("")
			if c.status.Actionable() {
				class = analysis.ClassPathology
			}
			res, _ := h6Check(t, analysis.DetPreference, c.run, analysis.Config{}, c.status, class)
			if res.Message != c.msg {
				t.Errorf("message %q, want %q", res.Message, c.msg)
			}
		})
	}
	// Two rows after the initial one: too few.
	short := h6PrefRun([]float64{1, 2, 3}, nil, nil, []float64{0, 1, 2}, []float64{0, 0.6, 0.7})
	if res, _ := h4Detector(t, analysis.DetPreference).Detect(short, analysis.Config{}); res.Status != analysis.StatusInsufficient {
		t.Errorf("2 rows: %s", res.Status)
	}
	if h4Detector(t, analysis.DetPreference).Applies(h6RewardRun(ingest.GrainStep, chosen), analysis.Config{}) {
		t.Error("applies without preference columns")
	}
}

func TestPreferenceRealRuns(t *testing.T) {
	// The real file gives the same verdict as the hand-built run.
	run := h6Pref(h6Real(t, "202520030411__Distill-Safety-Aligned-Models/outputs__dpo__trainer_state.json", ingest.Options{}))
	h6Check(t, analysis.DetPreference, run, analysis.Config{}, analysis.StatusAlert, analysis.ClassPathology)
	// A healthy TRL DPO run (llama-2-7b, stack-exchange-paired): accuracy
	// 0.49 -> ~0.67, margins 0 -> ~0.5, chosen reward dips and recovers;
	// 97 rows with a finite margin (3 are NaN in the file).
	healthy, err := ingest.ReadFile("../testdata/realruns/ccccai239__llama2-7b-miniguanaco-dpo__dpo_model__trainer_state.json", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, _ := h6Check(t, analysis.DetPreference, h6Pref(healthy), analysis.Config{}, analysis.StatusOK, "")
	if n := res.Evidence.Numbers; n["rows"] != 97 || n["accuracy_late"] > 0.8 || n["margin_late"] > 1 {
		t.Errorf("numbers %v", n)
	}
}
