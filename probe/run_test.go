package probe

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/goodhart-rl/goodhart/ingest"
)

// demoReward is a small Go reward: exact match, plus a format bonus of 0.25
// per "answer:" marker (the loophole), with failures on purpose for "FAIL"
// and a hang for "SLOW".
func demoReward(ctx context.Context, response, answer string) (map[string]float64, error) {
	switch response {
	case "FAIL":
		return nil, errors.New("cannot parse the response")
	case "SLOW":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	c := 0.0
	if strings.TrimSpace(strings.TrimPrefix(response, "Answer:")) == answer {
		c = 1
	}
	f := 0.25 * float64(strings.Count(strings.ToLower(response), "answer:"))
	return map[string]float64{"correctness": c, "format": f}, nil
}

func demoCases(t testing.TB) []Case {
	cs, err := ReadCases(strings.NewReader(`[
  {"response": "Answer: 4", "answer": "4"},
  {"response": "Answer: 5", "answer": "4"},
  {"response": "FAIL", "answer": "4"},
  ["Answer: 9", "9"],
  {"args": ["7"], "kwargs": {"answer": "7"}},
  {"response": "SLOW", "answer": "1"},
  {"response": "Answer: 10", "answer": "10"}
]`), "demo.json")
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func demoResults(t testing.TB) *Results {
	fn, err := GoFunc(demoReward, "response", "answer")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Probe(context.Background(), fn, demoCases(t), Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	res.Source = "demo.json"
	return res
}

func TestProbeGoFuncTimeoutAndErrors(t *testing.T) {
	res := demoResults(t)
	want := []float64{1.25, 0.25, -1, 1.25, 1, -1, 1.25}
	for i, o := range res.Outcomes {
		if want[i] < 0 {
			continue
		}
		if o.Err != nil || o.Score.Reward != want[i] {
			t.Errorf("case %d: %v %v, want %v", i, o.Score.Reward, o.Err, want[i])
		}
	}
	if err := res.Outcomes[2].Err; !errors.Is(err, ErrFunction) || !strings.Contains(err.Error(), "cannot parse the response") {
		t.Errorf("case 2: %v", err)
	}
	if err := res.Outcomes[5].Err; !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "100ms") {
		t.Errorf("case 5: %v", err)
	}
	if res.Scored() != 5 {
		t.Errorf("Scored = %d", res.Scored())
	}
}

func TestResultsRun(t *testing.T) {
	res := demoResults(t)
	run := res.Run()
	if run.Len() != 5 || run.Grain != ingest.GrainSample || run.Format != "probe" || run.Source != "demo.json" {
		t.Fatalf("run: len %d grain %s format %s source %s", run.Len(), run.Grain, run.Format, run.Source)
	}
	if run.Skipped != 2 || len(run.Issues) != 2 || run.Issues[0].Line != 4 ||
		!strings.Contains(run.Issues[0].Error(), "demo.json:4: case 2: reward function error: cannot parse the response") {
		t.Errorf("issues: skipped %d %v", run.Skipped, run.Issues)
	}
	cols := map[string][]float64{
		ingest.ColStep:                         {0, 1, 3, 4, 6},
		ingest.ColReward:                       {1.25, 0.25, 1.25, 1, 1.25},
		ingest.ComponentPrefix + "correctness": {1, 0, 1, 1, 1},
		ingest.ComponentPrefix + "format":      {0.25, 0.25, 0.25, 0, 0.25},
		ingest.ColLength:                       {9, 9, 9, 1, 10},
		ingest.ColInputLength:                  {10, 10, 10, 2, 12},
		ingest.ExtraPrefix + "line":            {2, 3, 5, 6, 8},
	}
	for name, want := range cols {
		got, ok := run.Column(name)
		if !ok {
			t.Errorf("no column %s", name)
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s = %v, want %v", name, got, want)
				break
			}
		}
	}
	if ids, _ := run.StringColumn(ingest.ColCallID); len(ids) != 5 || ids[2] != "case-3" {
		t.Errorf("call_id = %v", ids)
	}
	if d, _ := run.Column(ingest.ColDurationMS); len(d) != 5 || math.IsNaN(d[0]) || d[0] < 0 {
		t.Errorf("duration_ms = %v", d)
	}
}

// The run a probe writes reads back through ingest like any rewardspy log.
func TestResultsRunRoundTrip(t *testing.T) {
	w, err := ingest.LookupWriter("jsonl", "")
	if err != nil {
		t.Skipf("skipping: no jsonl writer registered yet: %v", err)
	}
	run := demoResults(t).Run()
	var buf bytes.Buffer
	if err := w.Write(&buf, run); err != nil {
		t.Fatal(err)
	}
	back, err := ingest.Read(&buf, "probe.jsonl", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if back.Len() != run.Len() {
		t.Fatalf("read back %d rows, wrote %d", back.Len(), run.Len())
	}
	for _, name := range []string{ingest.ColReward, ingest.ComponentPrefix + "correctness", ingest.ColLength, ingest.ColStep} {
		a, _ := run.Column(name)
		b, ok := back.Column(name)
		if !ok {
			t.Errorf("column %s lost (have %v)", name, back.Columns())
			continue
		}
		for i := range a {
			if a[i] != b[i] {
				t.Errorf("%s[%d] = %v, wrote %v", name, i, b[i], a[i])
			}
		}
	}
}

func TestProbeStopsOnUnusable(t *testing.T) {
	calls := 0
	fn := Func(func(ctx context.Context, c Case) (Score, error) {
		calls++
		return Score{}, ErrUnusable
	})
	cases := make([]Case, 50)
	_, err := Probe(context.Background(), fn, cases, Options{})
	if !errors.Is(err, ErrUnusable) || calls > 2 {
		t.Errorf("err %v after %d calls; want ErrUnusable at once", err, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Probe(ctx, fn, cases, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{4, 1, 3, 2})
	want := Summary{Records: 4, Mean: 2.5, Std: math.Sqrt(1.25), Min: 1, Max: 4, P50: 2.5, P95: 3.85}
	if math.Abs(s.P95-want.P95) > 1e-12 {
		t.Errorf("p95 = %v", s.P95)
	}
	s.P95 = want.P95
	if *s != want {
		t.Errorf("got %+v, want %+v", *s, want)
	}
	if Summarize(nil) != nil {
		t.Error("Summarize(nil) != nil")
	}
	if p := Percentile([]float64{7}, 95); p != 7 {
		t.Errorf("single value p95 = %v", p)
	}
	if p := Percentile([]float64{0, 10}, 50); p != 5 {
		t.Errorf("p50 = %v", p)
	}
}
