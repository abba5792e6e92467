package plots

import (
	"math"
	"math/rand/v2"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// synthRun builds a deterministic sample-grain run of n records: a reward
// that climbs then saturates at 1 after 60% of the run (hacked) or keeps
// its spread (healthy), two components, a length column that grows when
// hacked, GRPO groups of 4 and a sparse eval metric.
func synthRun(n int, hacked bool) *ingest.Run {
	rng := rand.New(rand.NewPCG(1, 2))
	run := ingest.NewRun(n)
	run.Source, run.Format, run.Grain = "synthetic.jsonl", "rewardspy-jsonl", ingest.GrainSample
	step := make([]float64, n)
	reward := make([]float64, n)
	fmtc := make([]float64, n)
	task := make([]float64, n)
	length := make([]float64, n)
	group := make([]float64, n)
	eval := make([]float64, n)
	for i := range n {
		t := float64(i) / float64(n)
		step[i] = float64(i / 4)
		group[i] = float64(i / 4)
		task[i] = 0.5 + 0.3*t + 0.15*rng.NormFloat64()
		fmtc[i] = 0.2 + 0.05*rng.NormFloat64()
		length[i] = 200 + 20*rng.NormFloat64()
		if hacked && t > 0.6 {
			fmtc[i] = 1
			task[i] = 0.02 * rng.Float64()
			length[i] = 200 + 300*(t-0.6) + 5*rng.NormFloat64()
		}
		reward[i] = task[i] + fmtc[i]
		if hacked && t > 0.6 && i%4 != 0 {
			reward[i] = reward[i-1]
		}
		eval[i] = math.NaN()
		if i%50 == 0 {
			eval[i] = 0.4 + 0.2*t
			if hacked && t > 0.6 {
				eval[i] = 0.52 - 0.3*(t-0.6)
			}
		}
	}
	run.SetColumn(ingest.ColStep, step)
	run.SetColumn(ingest.ColReward, reward)
	run.SetColumn(ingest.ComponentPrefix+"format", fmtc)
	run.SetColumn(ingest.ComponentPrefix+"task", task)
	run.SetColumn(ingest.ColLength, length)
	run.SetColumn(ingest.ColGroup, group)
	run.SetColumn(ingest.EvalPrefix+"accuracy", eval)
	return run
}

// synthReport is a hand-made audit of synthRun(n, true) with one alert
// per status and evidence ranges, so figures can be checked without the
// analysis package's detectors.
func synthReport(n int) *analysis.Report {
	from := float64(int(0.6*float64(n)) / 4)
	to := float64((n - 1) / 4)
	ev := &analysis.Evidence{FromStep: from, ToStep: to, FromRecord: int(0.6*float64(n)) + 1, ToRecord: n,
		Numbers: map[string]float64{"ratio": 0.03}, Reason: "the reward stopped varying"}
	return &analysis.Report{
		Records: n, Window: 100, Verdict: analysis.VerdictHacking, ExitCode: 1,
		Detectors: []analysis.NamedResult{
			{Name: "variance", Result: analysis.Result{Status: analysis.StatusAlert, Severity: analysis.SeverityHigh,
				Message: "Reward variance collapsed to 3.0% of baseline.", Evidence: ev}},
			{Name: "slope", Result: analysis.Result{Status: analysis.StatusOK}},
			{Name: "component", Result: analysis.Result{Status: analysis.StatusAlert, Severity: analysis.SeverityMedium,
				Message: "Component 'format' dominates reward (98%)."}},
			{Name: "ceiling", Result: analysis.Result{Status: analysis.StatusOK}},
			{Name: "length", Result: analysis.Result{Status: analysis.StatusWarning, Severity: analysis.SeverityMedium,
				Message: "Response length drifted longer by 5.1 sigma."}},
		},
		Alerts: []analysis.Alert{
			{Step: int(0.62 * float64(n)), RunStep: float64(int(0.62*float64(n)) / 4), Detector: "length",
				Status: analysis.StatusWarning, Severity: analysis.SeverityMedium, Message: "Response length drifted longer by 4.1 sigma."},
			{Step: int(0.7 * float64(n)), RunStep: float64(int(0.7*float64(n)) / 4), Detector: "variance",
				Status: analysis.StatusAlert, Severity: analysis.SeverityHigh, Message: "Reward variance collapsed to 3.0% of baseline.", Evidence: ev},
		},
		Diagnosis: "The reward curve looks fine (mean 1.02, rising), but its variance collapsed. First flagged near step 1240.",
		Summary:   &analysis.Summary{Mean: 1.02, Std: 0.01, Min: 1, Max: 1.04, P50: 1.02, P95: 1.03},
	}
}
