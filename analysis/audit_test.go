package analysis

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
)

// ExampleAudit audits a run built in memory: the reward saturates at its
// ceiling, which the ceiling detector flags.
func ExampleAudit() {
	n := 300
	run := ingest.NewRun(n)
	reward := make([]float64, n)
	for i := range reward {
		reward[i] = math.Min(1, float64(i%50)/40+float64(i)/200)
	}
	run.SetColumn(ingest.ColReward, reward)
	rep, err := Audit(run, Config{Detectors: []string{"rewardspy"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Verdict, rep.ExitCode)
	for _, d := range rep.Detectors {
		fmt.Println(strings.TrimSpace(fmt.Sprint(d.Name, " ", d.Status, " ", d.Message)))
	}
	fmt.Println(rep.Diagnosis)
	// Output:
	// hacking 1
	// variance ALERT Reward variance collapsed to 0.0% of baseline.
	// slope OK
	// component NOT_APPLICABLE
	// ceiling ALERT 100% of rollouts hit the reward ceiling.
	// length NOT_APPLICABLE
	// ✕ Likely reward hacking
	// The reward curve looks fine (mean 1.00, ▬ flat), but ~100% of rollouts are at the reward ceiling; and reward variance collapsed to 0% of baseline.
	// First flagged near step 96. Inspect rollouts from there for shortcut behavior.
}

// ExampleEngine follows a live run record by record.
func ExampleEngine() {
	e := NewEngine(Config{}, Windows{W: 100})
	for i := 0; i < 120; i++ {
		for _, a := range e.Push(Record{RunStep: float64(i), Reward: 1, Length: math.NaN()}) {
			fmt.Printf("%s step %d: %s\n", a.Status, a.Step, a.Message)
		}
	}
	fmt.Println(e.Report().Verdict)
	// Output:
	// ALERT step 50: 100% of rollouts hit the reward ceiling.
	// hacking
}

// synthRun is a noisy rewardspy-like run of n records with two components.
func synthRun(n int) *ingest.Run {
	rng := rand.New(rand.NewSource(1))
	run := ingest.NewRun(n)
	step := make([]float64, n)
	reward := make([]float64, n)
	length := make([]float64, n)
	a := make([]float64, n)
	b := make([]float64, n)
	for i := 0; i < n; i++ {
		step[i] = float64(i)
		a[i] = rng.Float64()
		b[i] = 0.6 * rng.Float64()
		reward[i] = a[i] + b[i]
		length[i] = float64(200 + rng.Intn(100))
	}
	run.SetColumn(ingest.ColStep, step)
	run.SetColumn(ingest.ColReward, reward)
	run.SetColumn(ingest.ColLength, length)
	run.SetColumn("component.a", a)
	run.SetColumn("component.b", b)
	return run
}

// BenchmarkEngineReplay measures the five streaming detectors on a
// 1,000,000-record run already in memory (records/s is reported).
func BenchmarkEngineReplay(b *testing.B) {
	run := synthRun(1_000_000)
	cfg := Config{Detectors: []string{"rewardspy"}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Audit(run, cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(run.Len())*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkEngineReport measures one Report() call (what a live view does
// per refresh) after 1,000,000 records.
func BenchmarkEngineReport(b *testing.B) {
	e := NewEngine(Config{}, Windows{W: 100})
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 1_000_000; i++ {
		e.Push(Record{RunStep: float64(i), Reward: rng.Float64(), Length: float64(rng.Intn(500)),
			Components: []ComponentValue{{"a", rng.Float64()}, {"b", rng.Float64()}}})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = e.Report()
	}
}

// A run longer than HistoryCap: the engine's memory stays bounded and the
// diagnosis' variance baseline uses only the kept records.
func TestEngineLongRun(t *testing.T) {
	if testing.Short() {
		t.Skip("long run")
	}
	run := synthRun(30_000)
	rep, err := Audit(run, Config{Detectors: []string{"rewardspy"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != 30_000 || rep.Verdict != VerdictHealthy {
		t.Errorf("records %d verdict %s: %+v", rep.Records, rep.Verdict, rep.Detectors)
	}
	e := NewEngine(Config{}, Windows{W: 100})
	reward, _ := run.Column(ingest.ColReward)
	for _, r := range reward {
		e.Push(Record{Reward: r, Length: math.NaN()})
	}
	if e.history.len() != HistoryCap || e.window.len() != 100 || e.count() != HistoryCap {
		t.Errorf("history %d window %d", e.history.len(), e.window.len())
	}
}

func TestMain(m *testing.M) { os.Exit(m.Run()) }

// Batch detectors run concurrently with the replay; the report must not
// depend on scheduling (run under -race).
func TestAuditAllDetectorsDeterministic(t *testing.T) {
	run, err := ingest.ReadFile("../testdata/runs/hacked.jsonl", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := Audit(run, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		again, err := Audit(run, Config{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(first, again) {
			t.Fatalf("audit %d differs from the first", i+2)
		}
	}
	if len(first.Detectors) <= len(StreamingDetectors) {
		t.Logf("no batch detector applied to hacked.jsonl (%d detectors)", len(first.Detectors))
	}
}

type panicky struct{}

func (panicky) Name() string                           { return "zz_panicky_test_only" }
func (panicky) Applies(run *ingest.Run, _ Config) bool { return run.Has("extra.panicky") }
func (panicky) Detect(*ingest.Run, Config) (Result, []Alert) {
	panic("boom")
}

func TestAuditDetectorPanicIsAnError(t *testing.T) {
	Register(panicky{})
	run := ingest.NewRun(3)
	run.SetColumn(ingest.ColReward, []float64{1, 2, 3})
	run.SetColumn("extra.panicky", []float64{1, 2, 3})
	_, err := Audit(run, Config{Detectors: []string{"zz_panicky_test_only"}})
	if err == nil || !strings.Contains(err.Error(), "zz_panicky_test_only") {
		t.Fatalf("err = %v", err)
	}
}
