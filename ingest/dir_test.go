package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func trainerState(steps ...int) string {
	var b strings.Builder
	b.WriteString(`{"global_step": 1, "log_history": [`)
	for i, s := range steps {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"step": ` + itoa(s) + `, "reward": 0.5, "loss": 1}`)
	}
	b.WriteString("]}")
	return b.String()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

// TestMLflowRun reads testdata/mlflow (a run written from MLflow's
// file-store layout) through the run folder, the experiment and the store.
func TestMLflowRun(t *testing.T) {
	root := ingesttest.Testdata(t, "mlflow")
	runDir := filepath.Join(root, "mlruns", "1", "3f2a9c1e5b7d4e0f8a6b2c4d9e1f0a7b")
	for _, p := range []string{runDir, filepath.Join(root, "mlruns", "1"), filepath.Join(root, "mlruns"), root} {
		run, src, err := ingest.ReadPath(p, ingest.Options{})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if src.Kind != "mlflow" || run.Format != "mlflow" || run.Len() != 20 || run.Source != runDir {
			t.Fatalf("%s: %s %s rows %d source %s", p, src.Kind, run.Format, run.Len(), run.Source)
		}
		step, _ := run.Column("step")
		r, _ := run.Column("reward")
		l, _ := run.Column("length")
		ev, _ := run.Column("eval.mean_reward")
		tm, _ := run.Column("time")
		if step[0] != 2048 || step[19] != 40960 || r[0] != 22.1 || r[19] != 487.9 || l[3] != 31.2 ||
			ev[4] != 42.8 || !math.IsNaN(ev[0]) || tm[0] != 1700000000.1 {
			t.Errorf("%s: step %v r %v l %v eval %v time %v", p, step[0], r[0], l[3], ev[:5], tm[0])
		}
		if run.Meta[ingest.MetaKind] != "episodes" || run.Meta[ingest.MetaRewardKey] != "rollout/ep_rew_mean" ||
			run.Meta["mlflow_run_name"] != "ppo-cartpole-seed0" || !run.Has("extra.train/entropy_loss") {
			t.Errorf("%s: meta %v cols %v", p, run.Meta, run.Columns())
		}
	}
	_, src, _ := ingest.ReadPath(runDir, ingest.Options{})
	if src.Describe() != "read metrics" {
		t.Errorf("describe %q", src.Describe())
	}
}

// TestMLflowEdges: malformed lines are issues naming the metric file, line
// and key; no step logged -> the line number is the step; two runs in one
// experiment -> several runs.
func TestMLflowEdges(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"mlruns/0/meta.yaml":                     "name: Default\n",
		"mlruns/0/aaa/meta.yaml":                 "run_id: aaa\n",
		"mlruns/0/aaa/metrics/episode_reward":    "1000 1.5\n2000 2.5\n3000 oops\n4000 3.5\n",
		"mlruns/0/aaa/metrics/loss":              "1000 0.9 0\n2000 0.8 0 extra more fields here\n",
		"mlruns/0/bbb/meta.yaml":                 "run_id: bbb\n",
		"mlruns/0/bbb/metrics/train/reward/mean": "1000 0.1 1\n1001 0.2 2\n",
	})
	run, err := ingest.ReadMLflowRun(filepath.Join(dir, "mlruns/0/aaa"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := run.Column("reward")
	st, _ := run.Column("step")
	if run.Len() != 3 || r[2] != 3.5 || st[2] != 2 || run.Meta["step_from"] == "" || run.Meta[ingest.MetaRewardKey] != "episode_reward" {
		t.Errorf("rows %d reward %v step %v meta %v", run.Len(), r, st, run.Meta)
	}
	if run.Skipped != 2 || len(run.Issues) != 2 {
		t.Fatalf("issues %v", run.Issues)
	}
	if is := run.Issues[0]; !strings.HasSuffix(is.File, filepath.Join("metrics", "episode_reward")) || is.Line != 3 || is.Field != "episode_reward" || !strings.Contains(is.Msg, `"oops"`) {
		t.Errorf("issue %+v", is)
	}
	if _, err := ingest.ReadMLflowRun(filepath.Join(dir, "mlruns/0/aaa"), ingest.Options{Strict: true}); !errors.Is(err, ingest.ErrStrict) {
		t.Errorf("strict: %v", err)
	}
	_, _, err = ingest.ReadPath(filepath.Join(dir, "mlruns"), ingest.Options{})
	if !errors.Is(err, ingest.ErrSeveralRuns) || !strings.Contains(err.Error(), "aaa (mlflow)") || !strings.Contains(err.Error(), "bbb (mlflow)") {
		t.Errorf("several: %v", err)
	}
	_, err = ingest.ReadFile(filepath.Join(dir, "mlruns/0/bbb/metrics/train/reward/mean"), ingest.Options{})
	if !errors.Is(err, ingest.ErrNotARun) || !strings.Contains(err.Error(), "read the run folder: reportgen audit "+filepath.Join(dir, "mlruns/0/bbb")) {
		t.Errorf("metric file: %v", err)
	}
	bbb, err := ingest.ReadFile(filepath.Join(dir, "mlruns/0/bbb"), ingest.Options{})
	if err != nil || bbb.Meta[ingest.MetaRewardKey] != "train/reward/mean" {
		t.Errorf("bbb: %v %v", err, bbb)
	}
}

// TestDirHFCheckpoints: the newest checkpoint by number (10 > 9), or
// trainer_state.json at the top when there is one.
func TestDirHFCheckpoints(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"out/checkpoint-9/trainer_state.json":  trainerState(1, 2),
		"out/checkpoint-10/trainer_state.json": trainerState(1, 2, 3),
		"out/checkpoint-2/trainer_state.json":  trainerState(1),
		"out/checkpoint-11/README.md":          "no state here",
	})
	run, src, err := ingest.ReadPath(filepath.Join(dir, "out"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "read " + filepath.Join("checkpoint-10", "trainer_state.json") + " (newest of 3 checkpoints)"
	if run.Len() != 3 || src.Describe() != want || run.Source != filepath.Join(dir, "out") {
		t.Errorf("rows %d %q", run.Len(), src.Describe())
	}
	writeFiles(t, dir, map[string]string{"out/trainer_state.json": trainerState(1, 2, 3, 4)})
	run, src, err = ingest.ReadPath(filepath.Join(dir, "out"), ingest.Options{})
	if err != nil || run.Len() != 4 || src.Describe() != "read trainer_state.json" {
		t.Errorf("top-level state: %v %d %q", err, run.Len(), src.Describe())
	}
}

// TestDirTensorBoard: a run folder's event files are merged in step order
// (a later file wins on the same step); two run folders are two runs.
func TestDirTensorBoard(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, steps []float64, vals []float64) {
		run := ingest.NewRun(len(steps))
		run.SetColumn("step", steps)
		run.SetColumn("reward", vals)
		var b bytes.Buffer
		if err := ingest.WriteTFEvents(&b, run); err != nil {
			t.Fatal(err)
		}
		writeFiles(t, dir, map[string]string{name: b.String()})
	}
	write("runs/a/events.out.tfevents.1.host", []float64{1, 2, 3}, []float64{1, 2, 3})
	write("runs/a/events.out.tfevents.2.host", []float64{3, 4}, []float64{30, 40}) // resumed run
	run, src, err := ingest.ReadPath(filepath.Join(dir, "runs/a"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := run.Column("reward")
	if src.Kind != "tensorboard" || run.Len() != 4 || r[2] != 30 || r[3] != 40 || !strings.Contains(src.Describe(), "2 event files merged") {
		t.Errorf("merge: %s %d %v %q", src.Kind, run.Len(), r, src.Describe())
	}
	write("runs/b/events.out.tfevents.3.host", []float64{1}, []float64{5})
	_, _, err = ingest.ReadPath(filepath.Join(dir, "runs"), ingest.Options{})
	if !errors.Is(err, ingest.ErrSeveralRuns) || !strings.Contains(err.Error(), filepath.Join("runs", "a")+" (tensorboard)") {
		t.Errorf("two runs: %v", err)
	}
	srcs, err := ingest.ResolvePath(filepath.Join(dir, "runs"))
	if err != nil || len(srcs) != 2 {
		t.Errorf("resolve: %v %v", srcs, err)
	}
}

// TestDirSB3: the monitor files of one vectorised run are merged by wall
// time (t_start + t); a TensorBoard folder beside them is the same run.
func TestDirSB3(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"logs/ppo_1/0.monitor.csv":               "#{\"t_start\": 1000.0, \"env_id\": \"CartPole-v1\"}\nr,l,t\n10,10,1.0\n30,30,5.0\n",
		"logs/ppo_1/1.monitor.csv":               "#{\"t_start\": 1002.0, \"env_id\": \"CartPole-v1\"}\nr,l,t\n20,20,1.0\n",
		"logs/ppo_1/PPO_1/events.out.tfevents.x": "not read",
	})
	run, src, err := ingest.ReadPath(filepath.Join(dir, "logs"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := run.Column("reward")
	tm, _ := run.Column("time")
	if src.Kind != "sb3-monitor" || run.Len() != 3 || r[0] != 10 || r[1] != 20 || r[2] != 30 || tm[1] != 3 || tm[2] != 5 ||
		run.Grain != ingest.GrainEpisode || run.Meta[ingest.MetaKind] != "episodes" {
		t.Errorf("%s rows %d r %v t %v meta %v", src.Kind, run.Len(), r, tm, run.Meta)
	}
	if !strings.Contains(src.Describe(), "2 monitor files merged") {
		t.Errorf("describe %q", src.Describe())
	}
}

// TestDirErrors: an empty folder and a folder of non-runs are ErrNotARun
// with what was looked for; a W&B side file names its folder.
func TestDirErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"notes/readme.txt": "hello\n", "notes/config.yaml": "a: 1\n"})
	for _, p := range []string{dir, filepath.Join(dir, "notes")} {
		_, _, err := ingest.ReadPath(p, ingest.Options{})
		if !errors.Is(err, ingest.ErrNotARun) || !strings.Contains(err.Error(), "trainer_state.json") {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := ingest.ReadFile(filepath.Join(dir, "missing"), ingest.Options{}); !os.IsNotExist(err) {
		t.Errorf("missing: %v", err)
	}
}

// TestFollowFolder: following a folder follows its one run file; a folder
// with several runs, or a run merged from several files, is an error.
func TestFollowFolder(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"out/checkpoint-3/trainer_state.json": trainerState(1, 2, 3)})
	n := 0
	err := ingest.Follow(context.Background(), filepath.Join(dir, "out"), ingest.FollowOptions{Once: true}, func(ev ingest.FollowEvent) error {
		if ev.Kind == ingest.FollowRecords {
			n += ev.Run.Len()
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Errorf("follow folder: %v, %d records", err, n)
	}
	writeFiles(t, dir, map[string]string{"other/trainer_state.json": trainerState(1)})
	err = ingest.Follow(context.Background(), dir, ingest.FollowOptions{Once: true}, func(ingest.FollowEvent) error { return nil })
	if !errors.Is(err, ingest.ErrSeveralRuns) {
		t.Errorf("several: %v", err)
	}
	err = ingest.Follow(context.Background(), ingesttest.Testdata(t, "mlflow"), ingest.FollowOptions{Once: true}, func(ingest.FollowEvent) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "follow works on one log file") {
		t.Errorf("mlflow: %v", err)
	}
}

// TestResolveSweepSideLogs: in a sweep, an HF output folder is one run, and
// another log saved beside its trainer_state.json is a run too (its
// checkpoints are not); a single-run lookup still reads only the HF run.
func TestResolveSweepSideLogs(t *testing.T) {
	root := t.TempDir()
	state := `{"log_history": [{"step": 1, "reward": 0.5}, {"step": 2, "reward": 0.6}]}`
	for _, f := range []string{"a/trainer_state.json", "a/second_run.json", "a/checkpoint-2/trainer_state.json", "b/run.jsonl"} {
		p := filepath.Join(root, filepath.FromSlash(f))
		os.MkdirAll(filepath.Dir(p), 0o755)
		body := state
		if strings.HasSuffix(f, ".jsonl") {
			body = `{"step": 1, "reward": 1}` + "\n"
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srcs, notRuns, err := ingest.ResolveSweep(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range srcs {
		rel, _ := filepath.Rel(root, s.Name)
		got = append(got, filepath.ToSlash(rel)+":"+s.Kind)
	}
	want := "a:hf-checkpoint a/second_run.json:file b/run.jsonl:file"
	if strings.Join(got, " ") != want || notRuns != 0 {
		t.Errorf("sweep runs %v (%d not runs), want %s", got, notRuns, want)
	}
	one, err := ingest.ResolvePath(filepath.Join(root, "a"))
	if err != nil || len(one) != 1 || one[0].Kind != "hf-checkpoint" {
		t.Errorf("single-run lookup of the HF folder: %+v, %v", one, err)
	}
}
