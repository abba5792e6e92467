package ingest_test

import (
	"math"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// realFolder is one run folder copied byte for byte from a public RL
// repository into testdata (testdata/mlflow-real/SOURCES.md and
// testdata/wandb/SOURCES.md say where from). The numbers below were
// computed from the files with python3, independently of goodhart.
type realFolder struct {
	name      string     // the case's name
	path      []string   // the run folder (or the run's file) under testdata/
	parents   [][]string // folders above it that must resolve to the same run
	kind      string     // Source.Kind
	format    string     // Run.Format
	opt       ingest.Options
	rows      int
	rewardKey string // Meta[MetaRewardKey]
	runKind   string // Meta[MetaKind] ("": not checked)
	step0     float64
	stepN     float64
	reward0   float64 // the first and last reward exactly as logged
	rewardN   float64
	firstMean float64 // mean of the first and last ceil(10%) rewards
	lastMean  float64
	meta      map[string]string // other Meta entries that must be there
	cols      []string          // columns that must be there
	check     func(t *testing.T, run *ingest.Run)
}

func realFolders() []realFolder {
	const bilevel = "Finnk11__bilevel-rl"
	const bilevelRun = "770cc011eb214ea997501cabcfe12f58"
	return []realFolder{{
		// Stable-Baselines3 DQN on sumo-rl traffic-signal control
		// (reward_fn=delay: negative, rising as vehicle delay falls),
		// logged to MLflow by a KVWriter: 30 rollouts of one 720-step
		// episode each, eval every 3,600 steps.
		name:      "mlflow-sb3-dqn-sumo",
		path:      []string{"mlflow-real", bilevel, "mlruns", "1", bilevelRun},
		parents:   [][]string{{"mlflow-real", bilevel}, {"mlflow-real", bilevel, "mlruns", "1"}},
		kind:      "mlflow",
		format:    "mlflow",
		rows:      30,
		rewardKey: "rollout/ep_rew_mean",
		runKind:   "episodes",
		step0:     720,
		stepN:     21600,
		reward0:   -295.181266,
		rewardN:   -235.20043246666663,
		firstMean: -281.6844071111111,
		lastMean:  -235.37622917279688,
		meta: map[string]string{
			"mlflow_run_id":        bilevelRun,
			"mlflow_experiment_id": "1",
		},
		cols: []string{"step", "time", "reward", "length", "eval.mean_reward", "eval.mean_queue",
			"extra.rollout/exploration rate", "extra.time/total timesteps", "extra.train/loss"},
		check: func(t *testing.T, run *ingest.Run) {
			// eval/mean_reward is logged every 3,600 steps only (6 of 30
			// rows); the rows between are NaN, not zero.
			ev, _ := run.Column("eval.mean_reward")
			if !math.IsNaN(ev[0]) || ev[4] != -242.447169 || ev[29] != -200.721436 || countFinite(ev) != 6 {
				t.Errorf("eval.mean_reward: first %v, step-3600 %v, last %v, %d finite; want NaN, -242.447169, -200.721436, 6",
					ev[0], ev[4], ev[29], countFinite(ev))
			}
			// ep_len_mean is 720 on every row (fixed-length episodes).
			l, _ := run.Column("length")
			for i, v := range l {
				if v != 720 {
					t.Errorf("length row %d = %v, want 720", i, v)
					break
				}
			}
			// "exploration rate" (a metric file name with a space) is
			// logged twice at steps 3,600 and 7,200 ...: the row keeps the
			// later line (0.5496246872393662, not 0.5497497914929108).
			ex, _ := run.Column("extra.rollout/exploration rate")
			if ex[0] != 0.9099249374478733 || ex[4] != 0.5496246872393662 || ex[29] != 0.1 {
				t.Errorf("exploration rate: %v %v %v", ex[0], ex[4], ex[29])
			}
			// time is the latest timestamp logged at the step, in seconds.
			tm, _ := run.Column("time")
			if tm[0] != 1675439144.270 || tm[29] != 1675440090.377 {
				t.Errorf("time: first %v last %v, want 1675439144.27 and 1675440090.377", tm[0], tm[29])
			}
		},
	}, {
		// VPG + ICM (intrinsic curiosity) on MountainCarContinuous, wandb
		// 0.8.31: one history line per episode. The logged "Episode
		// reward" is extrinsic + intrinsic; the curiosity bonus grows from
		// 25 to 449 while the task (extrinsic) reward stays near -100, so
		// the reward goodhart reads rises by ~600 with no task progress.
		// wandb 0.8 wrote wandb-history.jsonl at the top of the run folder
		// (no files/), beside wandb-events.jsonl: the folder is the run.
		name:      "wandb08-vpg-icm-mountaincar",
		path:      []string{"wandb", "AGKhalil__RL_implements", "run-20200402_182553-z4nv4p4v"},
		kind:      "wandb",
		format:    "wandb-history",
		rows:      136,
		rewardKey: "Episode reward",
		step0:     0,
		stepN:     135,
		reward0:   -73.42727661132812,
		rewardN:   348.36236572265625,
		firstMean: -91.80199704851422,
		lastMean:  525.4199981689453,
		cols: []string{"step", "time", "reward", "extra.Extrinsic reward", "extra.Intrinsic reward",
			"extra.ICM Loss", "extra.Loss", "extra._runtime"},
		check: func(t *testing.T, run *ingest.Run) {
			// The six gradients/* histograms ({"_type": "histogram"}) at step 98 are
			// skipped, not read as columns.
			for _, c := range run.Columns() {
				if strings.Contains(c, "gradients") {
					t.Errorf("histogram key read as column %q", c)
				}
			}
			r, _ := run.Column("reward")
			ex, _ := run.Column("extra.Extrinsic reward")
			in, _ := run.Column("extra.Intrinsic reward")
			for i := range r {
				if math.Abs(r[i]-(ex[i]+in[i])) > 1e-3 {
					t.Fatalf("row %d: reward %v != extrinsic %v + intrinsic %v", i, r[i], ex[i], in[i])
				}
			}
			k := int(math.Ceil(float64(len(ex)) / 10))
			if a, b := mean(ex[:k]), mean(ex[len(ex)-k:]); math.Abs(a+99.8308804699534) > 1e-9 || math.Abs(b+99.78561574409449) > 1e-9 {
				t.Errorf("extrinsic first/last-10%% means %v -> %v, want -99.8309 -> -99.7856 (flat)", a, b)
			}
			tm, _ := run.Column("time")
			if tm[0] != 1585851978.2638037 || tm[135] != 1585852854.0888295 {
				t.Errorf("time %v..%v, want _timestamp 1585851978.2638037..1585852854.0888295", tm[0], tm[135])
			}
		},
	}}
}

// TestRealFolders reads each real run folder with ReadPath and no options
// (and from the folders above it, which must resolve to the same run): no
// issues, the row count, the reward key and kind goodhart finds by itself,
// and the first/last rewards and first/last-10% means computed by hand.
func TestRealFolders(t *testing.T) {
	for _, c := range realFolders() {
		t.Run(c.name, func(t *testing.T) {
			dir := ingesttest.Testdata(t, c.path...)
			paths := []string{dir}
			for _, p := range c.parents {
				paths = append(paths, ingesttest.Testdata(t, p...))
			}
			for _, p := range paths {
				run, src, err := ingest.ReadPath(p, c.opt)
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				if src.Kind != c.kind || run.Format != c.format || src.Name != dir {
					t.Errorf("%s: source %s %q format %s; want %s %q %s", p, src.Kind, src.Name, run.Format, c.kind, dir, c.format)
				}
				if len(run.Issues) != 0 || run.Skipped != 0 || run.Kept != 0 {
					t.Errorf("%s: %d issues, %d skipped, %d kept: %v", p, len(run.Issues), run.Skipped, run.Kept, run.Issues)
				}
				if run.Len() != c.rows {
					t.Fatalf("%s: %d rows, want %d", p, run.Len(), c.rows)
				}
				if got := run.Meta[ingest.MetaRewardKey]; got != c.rewardKey {
					t.Errorf("%s: reward key %q, want %q", p, got, c.rewardKey)
				}
				if got := run.Meta[ingest.MetaKind]; c.runKind != "" && got != c.runKind {
					t.Errorf("%s: kind %q, want %q", p, got, c.runKind)
				}
				for k, v := range c.meta {
					if run.Meta[k] != v {
						t.Errorf("%s: Meta[%s] = %q, want %q", p, k, run.Meta[k], v)
					}
				}
				for _, col := range c.cols {
					if !run.Has(col) {
						t.Errorf("%s: no column %q (have %v)", p, col, run.Columns())
					}
				}
				step, _ := run.Column("step")
				r, ok := run.Column("reward")
				if !ok {
					t.Fatalf("%s: no reward column", p)
				}
				n := len(r)
				if step[0] != c.step0 || step[n-1] != c.stepN {
					t.Errorf("%s: steps %v..%v, want %v..%v", p, step[0], step[n-1], c.step0, c.stepN)
				}
				if r[0] != c.reward0 || r[n-1] != c.rewardN {
					t.Errorf("%s: reward %v..%v, want %v..%v", p, r[0], r[n-1], c.reward0, c.rewardN)
				}
				if countFinite(r) != n {
					t.Errorf("%s: %d of %d rewards finite, want all", p, countFinite(r), n)
				}
				k := int(math.Ceil(float64(n) / 10))
				first, last := mean(r[:k]), mean(r[n-k:])
				if math.Abs(first-c.firstMean) > 1e-9 || math.Abs(last-c.lastMean) > 1e-9 {
					t.Errorf("%s: first/last-10%% means %v -> %v, want %v -> %v", p, first, last, c.firstMean, c.lastMean)
				}
				if c.check != nil && p == dir {
					c.check(t, run)
				}
			}
		})
	}
}

func countFinite(xs []float64) int {
	n := 0
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			n++
		}
	}
	return n
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
