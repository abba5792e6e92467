package analysis

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
)

func TestDownsampler(t *testing.T) {
	d := downsampler{cap: 4, width: 1}
	var got []string
	for i := 1; i <= 9; i++ {
		d.add(float64(i))
		got = append(got, fmt.Sprint(d.points()))
	}
	want := []string{"[1]", "[1 2]", "[1 2 3]", "[1 2 3 4]", "[1.5 3.5 5]", "[1.5 3.5 5.5]",
		"[1.5 3.5 5.5 7]", "[1.5 3.5 5.5 7.5]", "[2.5 6.5 9]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if d.total != 9 {
		t.Errorf("total %d", d.total)
	}
}

func TestRings(t *testing.T) {
	var r []int
	n := 0
	for i := 1; i <= 7; i++ {
		r = ringPut(r, &n, 3, i)
	}
	if got := fmt.Sprint(ringNewest(r, n, 5)); got != "[7 6 5]" {
		t.Errorf("ringNewest = %s", got)
	}
	fr := newFloatRing(3)
	for i := 1; i <= 5; i++ {
		fr.push(float64(i))
	}
	if got := fmt.Sprint(fr.values()); got != "[3 4 5]" {
		t.Errorf("floatRing = %s", got)
	}
}

func liveBatch(cols map[string][]float64) *ingest.Run {
	n := 0
	for _, c := range cols {
		n = len(c)
	}
	r := ingest.NewRun(n)
	r.Format, r.Grain = "rewardspy-jsonl", ingest.GrainCall
	for k, c := range cols {
		r.SetColumn(k, c)
	}
	return r
}

func mustLive(t *testing.T, cfg Config, opt LiveOptions) *Live {
	t.Helper()
	l, err := NewLive(cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestLiveNumbers checks a view small enough to work out by hand (window 3).
func TestLiveNumbers(t *testing.T) {
	l := mustLive(t, Config{Window: 3}, LiveOptions{})
	l.Add(liveBatch(map[string][]float64{"reward": {1, 2, 3}, "component.a": {1, 1, 1}, "component.b": {-1, -2, math.NaN()}}))
	l.Add(liveBatch(map[string][]float64{"reward": {4, 5}, "component.a": {1, 1}, "component.b": {-4, -5}}))
	l.CaughtUp()
	v := l.View()
	if v.Records != 5 || v.Counted != 5 || v.Window != 3 {
		t.Fatalf("records %d counted %d window %d, want 5 5 3", v.Records, v.Counted, v.Window)
	}
	// Window [3 4 5]: mean 4, population std sqrt(2/3); baseline pstdev of
	// the first max(2, int(0.2*3)) = 2 rewards = 0.5.
	if s := v.Summary; s == nil || math.Abs(s.Mean-4) > 1e-12 || math.Abs(s.Std-math.Sqrt(2.0/3)) > 1e-12 {
		t.Errorf("summary %+v", v.Summary)
	}
	if want := math.Sqrt(2.0/3) / 0.5; math.Abs(v.VarRatio-want) > 1e-12 {
		t.Errorf("variance ratio %v, want %v", v.VarRatio, want)
	}
	// Ceiling = lifetime max 5; window values >= 4.95: one of three.
	if v.Ceiling != 5 || math.Abs(v.CeilingShare-1.0/3) > 1e-12 {
		t.Errorf("ceiling %v share %v", v.Ceiling, v.CeilingShare)
	}
	// b over the last 3: (-4-5)/2 (its NaN is absent, not zero).
	if len(v.Components) != 2 || v.Components[1].Name != "b" || v.Components[1].Mean != -4.5 || math.Abs(v.Components[1].Share-4.5/5.5) > 1e-12 {
		t.Errorf("components %+v", v.Components)
	}
	if fmt.Sprint(v.Curve) != "[1 2 3 4 5]" || v.Recent[0].Record != 5 || v.Recent[0].Step != 4 {
		t.Errorf("curve %v, newest row %+v", v.Curve, v.Recent[0])
	}
}

// TestLiveMatchesAudit: the live view's verdict, statuses, alerts and
// diagnosis equal Audit's on the same rows, however they are chunked.
func TestLiveMatchesAudit(t *testing.T) {
	run, err := ingest.ReadFile("../testdata/runs/hacked.jsonl", ingest.Options{})
	if err != nil {
		t.Skip(err)
	}
	cfg := Config{Detectors: []string{"rewardspy"}}
	rep, err := Audit(run, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []int{1, 7, 1000, run.Len()} {
		l := mustLive(t, cfg, LiveOptions{})
		for i := 0; i < run.Len(); i += chunk {
			l.Add(run.Slice(i, i+chunk))
		}
		l.CaughtUp()
		v := l.View()
		if v.Verdict != rep.Verdict || v.ExitCode != rep.ExitCode || v.Counted != rep.Records || fmt.Sprint(v.Detectors) != fmt.Sprint(rep.Detectors) {
			t.Errorf("chunk %d: %s %d %d %v\naudit %s %d %d %v", chunk, v.Verdict, v.ExitCode, v.Counted, v.Detectors, rep.Verdict, rep.ExitCode, rep.Records, rep.Detectors)
		}
		if v.TotalAlerts != len(rep.Alerts) || strings.Join(v.Diagnosis, "\n") != rep.HumanDiagnosis() {
			t.Errorf("chunk %d: %d alerts, diagnosis %q; audit %d, %q", chunk, v.TotalAlerts, v.Diagnosis, len(rep.Alerts), rep.HumanDiagnosis())
		}
	}
}

// TestLiveLastAndHolding: with Last, rows are held until CaughtUp and only
// the last N are judged, numbered from 1; later rows are added as they come.
func TestLiveLastAndHolding(t *testing.T) {
	rewards := make([]float64, 60)
	for i := range rewards {
		rewards[i] = float64(i)
	}
	l := mustLive(t, Config{}, LiveOptions{Last: 25})
	l.Add(liveBatch(map[string][]float64{"reward": rewards}))
	if v := l.View(); v.Verdict != VerdictCollecting || !strings.Contains(v.Diagnosis[0], "60 records so far") {
		t.Errorf("before catching up: %s %q", v.Verdict, v.Diagnosis)
	}
	l.CaughtUp()
	l.Add(liveBatch(map[string][]float64{"reward": {100}}))
	v := l.View()
	if v.Records != 26 || v.Recent[1].Reward != 59 || v.Recent[1].Record != 25 || v.Curve[0] != 35 {
		t.Errorf("last 25: records %d, recent %+v, curve[0] %v", v.Records, v.Recent[:2], v.Curve[0])
	}
	if _, err := NewLive(Config{}, LiveOptions{Last: -1}); err == nil {
		t.Error("Last -1 accepted")
	}
	if _, err := NewLive(Config{}, LiveOptions{Expected: map[string]float64{"a": -1}}); err == nil {
		t.Error("a negative expected weight accepted")
	}
}

// TestLiveBounded: the rings and the recent rows stay bounded.
func TestLiveBounded(t *testing.T) {
	l := mustLive(t, Config{}, LiveOptions{})
	r := make([]float64, 1000)
	for i := range r {
		r[i] = math.Sin(float64(i))
	}
	for k := 0; k < 20; k++ {
		l.Add(liveBatch(map[string][]float64{"reward": r}))
	}
	l.CaughtUp()
	v := l.View()
	if l.recentRows > LiveRecentRows+1000 || len(v.Recent) != LiveRecords || len(v.Alerts) > LiveAlerts || len(v.Curve) > LiveCurveBins || v.CurveRecords != 20000 {
		t.Errorf("recent rows %d, recent %d, alerts %d, curve %d of %d", l.recentRows, len(v.Recent), len(v.Alerts), len(v.Curve), v.CurveRecords)
	}
}

// TestLiveOtherKind: a run whose kind is not rewardspy (a step-grain policy
// log) is judged by the full Audit of its recent rows, all of them here.
func TestLiveOtherKind(t *testing.T) {
	run, err := ingest.ReadFile("../testdata/runs/divergence_steps.jsonl", ingest.Options{})
	if err != nil {
		t.Skip(err)
	}
	cfg := Config{}
	rep, err := Audit(run, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind == KindRewardspy {
		t.Fatalf("kind %s: want a policy run", rep.Kind)
	}
	l := mustLive(t, cfg, LiveOptions{})
	for i := 0; i < run.Len(); i += 10 {
		l.Add(run.Slice(i, i+10))
	}
	l.CaughtUp()
	v := l.View()
	if v.Verdict != rep.Verdict || v.ExitCode != rep.ExitCode || v.Class != rep.Class || statuses(v.Detectors) != statuses(rep.Detectors) {
		t.Errorf("live %s %d %s %s\naudit %s %d %s %s", v.Verdict, v.ExitCode, v.Class, statuses(v.Detectors),
			rep.Verdict, rep.ExitCode, rep.Class, statuses(rep.Detectors))
	}
	// The alerts listed are the kind's audit's, not the five reward
	// detectors' (which do not judge this kind).
	if v.TotalAlerts != len(rep.Alerts) || len(v.Alerts) != len(rep.Alerts) {
		t.Errorf("live %d alerts %v, audit %d", v.TotalAlerts, v.Alerts, len(rep.Alerts))
	}
}

// statuses is "name STATUS message" per detector, one a line.
func statuses(rs []NamedResult) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%s %s %s\n", r.Name, r.Status, r.Message)
	}
	return b.String()
}
