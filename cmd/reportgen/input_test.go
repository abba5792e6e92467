package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// TestInputFolders: a command given a folder says which files it read and
// which key became the reward; a folder with several runs lists them (exit
// 2); a log without a reward key lists its keys and the --map line.
func TestInputFolders(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"summary", ingesttest.Testdata(t, "mlflow")}, &out, &errb)
	want := "goodhart: read " + filepath.Join("mlruns", "1", "3f2a9c1e5b7d4e0f8a6b2c4d9e1f0a7b", "metrics") + "\n" +
		"goodhart: reward = rollout/ep_rew_mean (another key: --map reward=<key>)\n"
	if code != exitOK || errb.String() != want || !strings.Contains(out.String(), "records    20") {
		t.Errorf("mlflow folder: exit %d\nstderr %q\nwant   %q\n%s", code, errb.String(), want, out.String())
	}

	dir := t.TempDir()
	for _, d := range []string{"a", "b"} {
		p := filepath.Join(dir, d, "trainer_state.json")
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(`{"log_history": [{"step": 1, "reward": 0.5}]}`), 0o644)
	}
	out.Reset()
	errb.Reset()
	// audit takes a sweep of runs; a command that reads one run lists them.
	code = run([]string{"export", dir, "-o", filepath.Join(t.TempDir(), "x.csv")}, &out, &errb)
	if code != exitUsage || !strings.Contains(errb.String(), "holds several runs (2); give one of them:") ||
		!strings.Contains(errb.String(), filepath.Join(dir, "a")+" (hf-checkpoint)") {
		t.Errorf("several runs: exit %d %q", code, errb.String())
	}

	p := filepath.Join(dir, "m.jsonl")
	os.WriteFile(p, []byte(`{"step": 1, "loss": 2, "my_reward": 0.1}`+"\n"+`{"step": 2, "loss": 1, "my_reward": 0.2}`+"\n"), 0o644)
	out.Reset()
	errb.Reset()
	code = run([]string{"audit", p}, &out, &errb)
	if code != exitUsage || !strings.Contains(errb.String(), "numeric keys (my_reward, loss); read one as the reward with --map reward=my_reward") {
		t.Errorf("no reward: exit %d %q", code, errb.String())
	}
	// A file the reader understands prints no "read ..." line.
	out.Reset()
	errb.Reset()
	if code = run([]string{"summary", ingesttest.Testdata(t, "runs", "healthy.jsonl")}, &out, &errb); code != exitOK || errb.Len() != 0 {
		t.Errorf("plain file: exit %d stderr %q", code, errb.String())
	}
}

// TestStdinInput: "-" reads the run from standard input in every command
// that reads one run.
func TestStdinInput(t *testing.T) {
	data, err := os.ReadFile(repoPath("testdata", "runs", "hacked.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"audit", "-"}, exitFlagged, "600 records"},
		{[]string{"summary", "-"}, exitOK, "600"},
		{[]string{"show", "-"}, exitFlagged, "600 records"},
		{[]string{"export", "-", "-o", filepath.Join(dir, "x.csv")}, exitOK, ""},
		{[]string{"show", "-", "--follow"}, exitUsage, ""},
	} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() { w.Write(data); w.Close() }()
		old := os.Stdin
		os.Stdin = r
		out, errOut, code := runCmd(c.args...)
		os.Stdin = old
		r.Close()
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", c.args, code, out, errOut)
		}
	}
}
