package analysis_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// Verdicts on the real runs of ../shared/realdata, as SOURCES.md describes
// them: each hacked, saturated, collapsed, truncated or length-growing run
// is flagged by the detector that explains it, at the right time; the
// healthy runs get no ALERT and no divergence.

func h4Audit(t *testing.T, file string, opt ingest.Options) (*ingest.Run, *analysis.Report) {
	t.Helper()
	run, err := ingest.ReadFile(ingesttest.RealData(t, filepath.FromSlash(file)), opt)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := analysis.Audit(run, analysis.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return run, rep
}

func h4Result(rep *analysis.Report, name string) (analysis.NamedResult, bool) {
	for _, d := range rep.Detectors {
		if d.Name == name {
			return d, true
		}
	}
	return analysis.NamedResult{}, false
}

// h4FirstAlert is the first alert of detector det with status st (any
// actionable status when st is "").
func h4FirstAlert(rep *analysis.Report, det string, st analysis.Status) (analysis.Alert, bool) {
	for _, a := range rep.Alerts {
		if a.Detector == det && (a.Status == st || (st == "" && a.Status.Actionable())) {
			return a, true
		}
	}
	return analysis.Alert{}, false
}

// h4Flagged asserts detector det's final status and that its first alert of
// status st came at a run step in [lo, hi].
func h4Flagged(t *testing.T, rep *analysis.Report, det string, final, st analysis.Status, lo, hi float64) {
	t.Helper()
	r, ok := h4Result(rep, det)
	if !ok || r.Status != final {
		t.Errorf("%s: final %v %q, want %s", det, r.Status, r.Message, final)
	}
	a, ok := h4FirstAlert(rep, det, st)
	if !ok {
		t.Errorf("%s: no %s alert", det, st)
		return
	}
	if a.RunStep < lo || a.RunStep > hi {
		t.Errorf("%s: first %s at run_step %v, want %v..%v", det, st, a.RunStep, lo, hi)
	}
	switch det {
	case analysis.DetGroup, analysis.DetDivergence, analysis.DetLengthCoupling, analysis.DetTruncation, analysis.DetDeadComponent:
		if a.Evidence == nil || a.Evidence.Reason == "" {
			t.Errorf("%s: alert without evidence", det)
		}
	}
}

func TestRealVerdictGroupCollapse(t *testing.T) {
	// frac_reward_zero_std = 1 on 84/100 steps from step 3 on; judged from
	// the 20th logged step.
	_, rep := h4Audit(t, "aaravarora01__agent-memory-redteam/trainer_state.json", ingest.Options{})
	h4Flagged(t, rep, analysis.DetGroup, analysis.StatusAlert, analysis.StatusAlert, 3, 25)
	if rep.Verdict != analysis.VerdictHacking || rep.ExitCode != 1 {
		t.Errorf("verdict %s exit %d", rep.Verdict, rep.ExitCode)
	}
}

func TestRealVerdictDeadComponent(t *testing.T) {
	_, rep := h4Audit(t, "5ivatej__meta-hackathon/results__trainer_state.json", ingest.Options{})
	h4Flagged(t, rep, analysis.DetDeadComponent, analysis.StatusWarning, analysis.StatusWarning, 5, 5)
	if r, _ := h4Result(rep, analysis.DetDeadComponent); !strings.Contains(r.Message, "think_format_reward_func") {
		t.Errorf("message %q", r.Message)
	}
	if rep.ExitCode != 1 {
		t.Errorf("exit %d", rep.ExitCode)
	}
}

func TestRealVerdictHackedOnPurpose(t *testing.T) {
	// reward 0.65 -> 0.996 by step ~20, its spread to 0.0002, perplexity
	// 4.5 -> 18: read with --map like a user would.
	_, rep := h4Audit(t, "Rohanjain2312__grpo-reward-hacking-demo/results__baseline__metrics.jsonl",
		ingest.Options{Map: map[string]string{"reward": "train_reward", "reward_std": "train_reward_std"}})
	if rep.Verdict != analysis.VerdictHacking {
		t.Errorf("verdict %s", rep.Verdict)
	}
	h4Flagged(t, rep, analysis.DetDivergence, analysis.StatusAlert, analysis.StatusAlert, 20, 50)
	if r, _ := h4Result(rep, analysis.DetDivergence); !strings.Contains(r.Message, "'perplexity' gets worse") {
		t.Errorf("divergence message %q", r.Message)
	}
	// The streaming detectors see the collapse and the ceiling too.
	for _, det := range []string{"variance", "ceiling"} {
		h4Flagged(t, rep, det, analysis.StatusAlert, analysis.StatusAlert, 15, 60)
	}
}

func TestRealVerdictTruncation(t *testing.T) {
	// clipped_ratio 0.73 -> 0.98, length pinned at 512.
	_, rep := h4Audit(t, "Rusheel86__Chaos-Economy/trainer_state.json", ingest.Options{})
	h4Flagged(t, rep, analysis.DetTruncation, analysis.StatusAlert, analysis.StatusAlert, 60, 150)
	// Second run: clipped_ratio -> 1.0 by step 65.
	_, rep = h4Audit(t, "Rusheel86__Chaos-Economy/training_logs.json", ingest.Options{})
	h4Flagged(t, rep, analysis.DetTruncation, analysis.StatusAlert, analysis.StatusAlert, 40, 100)
}

func TestRealVerdictLengthExplosion(t *testing.T) {
	// response length 220 -> 610 and clip ratio 0 -> 0.45 at steps ~156-165.
	_, rep := h4Audit(t, "diqiuzhuanzhuan__verldata/run_logs__qwen2-7b_math.log", ingest.Options{})
	h4Flagged(t, rep, analysis.DetTruncation, analysis.StatusWarning, analysis.StatusWarning, 156, 185)
	h4Flagged(t, rep, "length", analysis.StatusWarning, analysis.StatusWarning, 156, 185)
	// Train score rises while the MATH held-out score drifts down, but the
	// GSM8K held-out score keeps up: the run learns the task, so this is
	// not hacking; the message names the flat MATH score.
	if r, _ := h4Result(rep, analysis.DetDivergence); r.Status != analysis.StatusOK || !strings.Contains(r.Message, "MATH") {
		t.Errorf("divergence %s %q", r.Status, r.Message)
	}
}

func TestRealVerdictSaturation(t *testing.T) {
	// critic/score/mean >= 0.95 from step 131 on (GRPO), held-out flat.
	for _, f := range []string{"gsm8k__grpo_run_deepseek7b_llm.log", "gsm8k__ppo_run_deepseek7b_llm.log"} {
		_, rep := h4Audit(t, "yushengsu-thu__verl_training_log/"+f, ingest.Options{})
		if rep.Verdict != analysis.VerdictHacking {
			t.Errorf("%s: verdict %s", f, rep.Verdict)
		}
		h4Flagged(t, rep, "variance", analysis.StatusAlert, analysis.StatusAlert, 100, 400)
	}
}

func TestRealVerdictHealthy(t *testing.T) {
	cases := []struct {
		file string
		div  bool // has held-out metrics (divergence must run and say OK)
	}{
		{"eric-haibin-lin__verl-data/gsm8k__Qwen2.5-0.5B-bsz256_2-prompt512-resp256-0.538.log", true},
		{"enfff__rl-hopper/monitor.csv", false},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			_, rep := h4Audit(t, c.file, ingest.Options{})
			for _, d := range rep.Detectors {
				if d.Status == analysis.StatusAlert {
					t.Errorf("%s: ALERT %q", d.Name, d.Message)
				}
			}
			for _, a := range rep.Alerts {
				if a.Status == analysis.StatusAlert || a.Detector == analysis.DetDivergence {
					t.Errorf("alert %s %s at %v: %s", a.Detector, a.Status, a.RunStep, a.Message)
				}
			}
			r, ok := h4Result(rep, analysis.DetDivergence)
			if c.div && (!ok || r.Status != analysis.StatusOK) {
				t.Errorf("divergence %v %s %q", ok, r.Status, r.Message)
			}
		})
	}
}

// The other real runs are not described as hacked: the batch detectors of
// this package must not flag them.
func TestRealNoFalseFlags(t *testing.T) {
	for _, f := range []string{
		"Dkurkcu__energy_penalty_applications_final/logs__monitor.csv",
		"aaravarora01__agent-memory-redteam/modal_results__strict__stage1__train_metrics.jsonl",
		"aaravarora01__agent-memory-redteam/modal_results__strict__stage2__train_metrics.jsonl",
		"surbhi1944__stable-baselines3_PR1261/runs__Jan07_19-24-24_surabhi-Vostro-3559_sac-popsan-Walker2d-v3-encoder-dim-10-decoder-dim-10_0__events.out.tfevents.1673099664.surabhi-Vostro-3559.3650.0",
		"eric-haibin-lin__verl-data/gsm8k__Qwen2.5-0.5B-bsz256_2-prompt512-resp256-0.538.log",
		"enfff__rl-hopper/monitor.csv",
	} {
		_, rep := h4Audit(t, f, ingest.Options{})
		for _, a := range rep.Alerts {
			switch a.Detector {
			case analysis.DetGroup, analysis.DetDivergence, analysis.DetLengthCoupling, analysis.DetTruncation, analysis.DetDeadComponent:
				t.Errorf("%s: %s %s at %v: %s", filepath.Base(f), a.Detector, a.Status, a.RunStep, a.Message)
			}
		}
	}
}
