package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/probe/golden")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := ingesttest.Testdata(t, "probe", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./probe -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}

func demoReport(t *testing.T) *Report {
	res := demoResults(t)
	fn, _ := GoFunc(demoReward, "response", "answer")
	h, err := Hack(context.Background(), fn, res, HackOptions{}, Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return &Report{Target: "demoReward", Results: res, Hacks: h}
}

func TestReportGolden(t *testing.T) {
	rep := demoReport(t)
	var txt, js bytes.Buffer
	if err := rep.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	golden(t, "demo.txt", txt.Bytes())
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	golden(t, "demo.json", js.Bytes())

	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back["exploitable"] != true || back["failed"] != 2.0 || back["scored"] != 5.0 {
		t.Errorf("json: exploitable %v failed %v scored %v", back["exploitable"], back["failed"], back["scored"])
	}
}

func TestReportNoScores(t *testing.T) {
	fn := Func(func(ctx context.Context, c Case) (Score, error) { return ScoreOf("nope") })
	res, err := Probe(context.Background(), fn, []Case{NewCase([]any{"a"})}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res.Source = "x.json"
	var txt, js bytes.Buffer
	rep := &Report{Results: res}
	if err := rep.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	want := "probe x.json: 1 cases, 0 scored, 1 failed\n\nfailures (1; these cases have no reward)\n  case 0: not a reward: cannot read a reward from a string\n"
	if txt.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", txt.String(), want)
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Summary  *Summary  `json:"summary"`
		Failures []Failure `json:"failures"`
		Hacks    any       `json:"hacks"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Summary != nil || len(back.Failures) != 1 || back.Hacks != nil {
		t.Errorf("json: %s (%v)", js.String(), err)
	}
}
