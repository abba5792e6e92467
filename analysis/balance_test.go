package analysis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
)

// updateGolden rewrites golden files: GOODHART_UPDATE_GOLDEN=1 go test ./analysis
func updateGolden() bool { return os.Getenv("GOODHART_UPDATE_GOLDEN") == "1" }

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "testdata", "golden", name)
	if updateGolden() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run GOODHART_UPDATE_GOLDEN=1 go test to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// snakeRun is testdata/rewardguard/snake.log as a Run.
func snakeRun() *ingest.Run {
	run := ingest.NewRun(3)
	run.Grain = ingest.GrainEpisode
	run.SetColumn("step", []float64{1, 2, 3})
	run.SetColumn("reward", []float64{-38.5, 12.15, -9.15})
	run.SetColumn("component.food", []float64{3, 10, 3.4})
	run.SetColumn("component.survival", []float64{8.5, 2.15, 5.2})
	run.SetColumn("component.death", []float64{-50, 0, -17.75})
	return run
}

// The worked example of rewardguard's docs: expected food 60,
// survival 40; death is an unexpected source.
func TestBalanceWorkedExampleLog(t *testing.T) {
	res, err := Balance(snakeRun(), map[string]float64{"food": 60, "survival": 40}, BalanceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantReal := map[string]float64{"food": 16.4, "survival": 15.85, "death": 67.75}
	wantW := map[string]float64{"death": 1.00, "food": 1.80, "survival": 1.46}
	if !reflect.DeepEqual(res.RealPercentages, wantReal) {
		t.Errorf("real = %v, want %v", res.RealPercentages, wantReal)
	}
	if !reflect.DeepEqual(res.SuggestedRewardWeights, wantW) {
		t.Errorf("weights = %v, want %v", res.SuggestedRewardWeights, wantW)
	}
	if res.Severity != BalanceCritical || res.EpisodeCount != 3 {
		t.Errorf("severity %q count %d", res.Severity, res.EpisodeCount)
	}
	if !reflect.DeepEqual(res.UnexpectedSources, []string{"death"}) || !reflect.DeepEqual(res.SourcesFound, []string{"death", "food", "survival"}) {
		t.Errorf("unexpected %v sources %v", res.UnexpectedSources, res.SourcesFound)
	}
	food := res.ImbalanceReport["food"]
	if food.Severity != BalanceCritical || food.Recommendation != "CRITICAL: Increase weight by ~43.6%" || food.Unexpected {
		t.Errorf("food = %+v", food)
	}
	var buf bytes.Buffer
	if err := WriteBalanceReport(&buf, res); err != nil {
		t.Fatal(err)
	}
	golden(t, "balance_snake.txt", buf.Bytes())

	// The same through the rewardguard reader.
	run, err := ingest.ReadFile(filepath.Join("..", "testdata", "rewardguard", "snake.log"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res2, err := Balance(run, map[string]float64{"food": 60, "survival": 40}, BalanceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res, res2) {
		t.Errorf("via reader: %+v\nwant %+v", res2, res)
	}
}

// 20 identical steps {survival 1, food 10, death 0, proximity 0.5} with
// expected .15/.60/.05/.20 (issue 3).
func TestMonitorWorkedExampleSteps(t *testing.T) {
	m, err := NewMonitor(map[string]float64{"survival": .15, "food": .60, "death": .05, "proximity": .20}, MonitorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Check(); !errors.Is(err, ErrNoSteps) {
		t.Fatalf("Check before Step: %v", err)
	}
	for i := 0; i < 20; i++ {
		if err := m.Step(map[string]float64{"survival": 1, "food": 10, "death": 0, "proximity": 0.5}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := m.Check()
	if err != nil {
		t.Fatal(err)
	}
	wantReal := map[string]float64{"survival": 8.7, "food": 86.96, "death": 0, "proximity": 4.35}
	if !reflect.DeepEqual(res.RealPercentages, wantReal) {
		t.Errorf("real = %v, want %v", res.RealPercentages, wantReal)
	}
	death := res.ImbalanceReport["death"]
	if death.Severity != BalanceOK || res.SuggestedRewardWeights["death"] != 5.0 {
		t.Errorf("death %+v weight %v", death, res.SuggestedRewardWeights["death"])
	}
	if res.Severity != BalanceCritical || res.EpisodeCount != 20 || m.StepCount() != 20 {
		t.Errorf("severity %q count %d", res.Severity, res.EpisodeCount)
	}
	wantW := map[string]float64{"death": 5, "food": 0.91, "proximity": 2.08, "survival": 1.22}
	if !reflect.DeepEqual(res.SuggestedRewardWeights, wantW) {
		t.Errorf("weights %v, want %v", res.SuggestedRewardWeights, wantW)
	}
	var buf bytes.Buffer
	WriteBalanceReport(&buf, &res)
	golden(t, "balance_monitor.txt", buf.Bytes())

	// JSON carries rewardguard's keys.
	js, _ := json.Marshal(res)
	for _, k := range []string{`"episode_count":20`, `"severity":"critical"`, `"sources_found":["death","food","proximity","survival"]`,
		`"unexpected_sources":[]`, `"abs_difference"`, `"suggested_reward_weights":{"death":5,"food":0.91`} {
		if !strings.Contains(string(js), k) {
			t.Errorf("JSON lacks %s: %s", k, js)
		}
	}

	m.Reset()
	if m.StepCount() != 0 {
		t.Error("Reset kept steps")
	}
	if _, err := m.Check(); !errors.Is(err, ErrNoSteps) {
		t.Errorf("Check after Reset: %v", err)
	}
}

func TestMonitorWindowAndValidation(t *testing.T) {
	m, err := NewMonitor(map[string]float64{"a": 1, "b": 1}, MonitorOptions{Window: 2, Tolerance: 0, HasTolerance: true})
	if err != nil {
		t.Fatal(err)
	}
	m.Step(map[string]float64{"a": 100})
	m.Step(map[string]float64{"a": 1, "b": -1})
	m.Step(map[string]float64{"a": 3, "b": 3})
	if err := m.Step(map[string]float64{"a": 1, "b": math.NaN()}); !errors.Is(err, ErrNonFinite) {
		t.Fatalf("NaN step: %v", err)
	}
	res, _ := m.Check()
	if res.RealPercentages["a"] != 50 || res.RealPercentages["b"] != 50 || res.Severity != BalanceOK || res.EpisodeCount != 3 {
		t.Errorf("window of 2 (NaN step not recorded): %+v", res)
	}
	// A zero tolerance flags any difference.
	m.Step(map[string]float64{"a": 3, "b": 2})
	res, _ = m.Check()
	if res.Severity != BalanceWarning && res.Severity != BalanceCritical {
		t.Errorf("zero tolerance: %+v", res.ImbalanceReport)
	}

	bad := []struct {
		exp  map[string]float64
		opt  MonitorOptions
		want error
	}{
		{nil, MonitorOptions{}, ErrEmptyExpected},
		{map[string]float64{"a": -1, "b": 2}, MonitorOptions{}, ErrBadExpected},
		{map[string]float64{"a": math.Inf(1)}, MonitorOptions{}, ErrBadExpected},
		{map[string]float64{"a": math.NaN()}, MonitorOptions{}, ErrBadExpected},
		{map[string]float64{"a": 0, "b": 0}, MonitorOptions{}, ErrZeroExpected},
		{map[string]float64{"a": 1}, MonitorOptions{Tolerance: -1, HasTolerance: true}, ErrBadTolerance},
		{map[string]float64{"a": 1}, MonitorOptions{Window: -5}, ErrBadWindow},
	}
	for _, b := range bad {
		if _, err := NewMonitor(b.exp, b.opt); !errors.Is(err, b.want) {
			t.Errorf("NewMonitor(%v, %+v) = %v, want %v", b.exp, b.opt, err, b.want)
		}
	}
}

func TestDetectImbalanceBands(t *testing.T) {
	cases := []struct {
		name           string
		real, exp      float64
		inExp          bool
		sev, rec       string
		unexpected     bool
		wantStatus     string
		wantDifference float64
	}{
		{"within tolerance", 72, 70, true, BalanceOK, "No action needed", false, StatusBalanced, 2},
		{"exactly tolerance is ok", 75, 70, true, BalanceOK, "No action needed", false, StatusBalanced, 5},
		{"warning above", 20, 30, true, BalanceWarning, "Increase weight by ~10.0%", false, StatusImbalanced, -10},
		{"exactly 3x is warning", 85, 70, true, BalanceWarning, "Decrease weight by ~15.0%", false, StatusImbalanced, 15},
		{"critical above 3x", 90, 70, true, BalanceCritical, "CRITICAL: Decrease weight by ~20.0%", false, StatusImbalanced, 20},
		{"completely absent", 0, 30, true, BalanceCritical,
			"REWARD HACKING DETECTED: 'c' is completely absent (expected 30.0%). Agent may be ignoring this component.", false, StatusImbalanced, -30},
		{"absent but within tolerance", 0, 5, true, BalanceOK, "No action needed", false, StatusBalanced, -5},
		{"unexpected source", 12, 0, false, BalanceWarning, "Decrease weight by ~12.0%", true, StatusImbalanced, 12},
		{"expected with zero weight is not unexpected", 3, 0, true, BalanceOK, "No action needed", false, StatusBalanced, 3},
	}
	for _, c := range cases {
		got := DetectImbalance("c", c.real, c.exp, c.inExp, 5)
		if got.Severity != c.sev || got.Recommendation != c.rec || got.Unexpected != c.unexpected || got.Status != c.wantStatus || got.Difference != c.wantDifference {
			t.Errorf("%s: %+v", c.name, got)
		}
	}
}

func TestRecommendWeights(t *testing.T) {
	cases := []struct {
		real, exp, want map[string]float64
	}{
		{map[string]float64{"a": 50, "b": 50}, map[string]float64{"a": 70, "b": 30}, map[string]float64{"a": 1.12, "b": 0.88}},
		{map[string]float64{"a": 100, "b": 0}, map[string]float64{"a": 50, "b": 50}, map[string]float64{"a": 0.85, "b": 5}},
		{map[string]float64{"a": 1, "x": 99}, map[string]float64{"a": 100}, map[string]float64{"a": 5, "x": 1}},                      // 1+0.3*99 = 30.7 -> 5
		{map[string]float64{"a": 99.99, "b": 0.01}, map[string]float64{"a": 0.01, "b": 99.99}, map[string]float64{"a": 0.7, "b": 5}}, // 0.70003 -> 0.7
		{map[string]float64{}, map[string]float64{"a": 1}, map[string]float64{}},
	}
	for _, c := range cases {
		if got := RecommendWeights(c.real, c.exp); !reflect.DeepEqual(got, c.want) {
			t.Errorf("RecommendWeights(%v, %v) = %v, want %v", c.real, c.exp, got, c.want)
		}
	}
	// The clamp at 0.1: expected tiny against a large share.
	if got := RecommendWeights(map[string]float64{"a": 100}, map[string]float64{"a": 0.0001, "b": 99.9999})["a"]; got != 0.7 {
		t.Errorf("low clamp case: %v", got)
	}
}

func TestBalanceWindowAndErrors(t *testing.T) {
	run := ingest.NewRun(4)
	run.SetColumn("component.a", []float64{100, 1, math.NaN(), 1})
	run.SetColumn("component.b", []float64{0, 1, 1, 1})
	run.SetColumn("component.total", []float64{100, 2, 1, 2})
	res, err := Balance(run, map[string]float64{"a": 1, "b": 1}, BalanceOptions{Window: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.RealPercentages["a"] != 40 || res.RealPercentages["b"] != 60 || res.EpisodeCount != 3 {
		t.Errorf("window 3: %+v", res.RealPercentages)
	}
	if _, ok := res.RealPercentages["total"]; ok {
		t.Error("rewardspy's total component must be left out")
	}
	all, _ := Balance(run, map[string]float64{"a": 1, "b": 1}, BalanceOptions{})
	if all.RealPercentages["a"] != 97.14 || all.EpisodeCount != 4 { // 102/105
		t.Errorf("all records: %+v", all.RealPercentages)
	}
	zero := ingest.NewRun(2)
	zero.SetColumn("component.a", []float64{0, 0})
	zr, _ := Balance(zero, map[string]float64{"a": 1, "b": 1}, BalanceOptions{})
	if zr.RealPercentages["a"] != 0 || zr.ImbalanceReport["b"].Severity != BalanceCritical || zr.SuggestedRewardWeights["a"] != 5 {
		t.Errorf("all-zero run: %+v", zr)
	}
	if _, err := Balance(ingest.NewRun(3), map[string]float64{"a": 1}, BalanceOptions{}); !errors.Is(err, ErrNoComponents) {
		t.Errorf("no components: %v", err)
	}
	if _, err := Balance(run, map[string]float64{"a": 1}, BalanceOptions{Window: -1}); !errors.Is(err, ErrBadWindow) {
		t.Errorf("negative window: %v", err)
	}
}

func ExampleMonitor() {
	m, _ := NewMonitor(map[string]float64{"task": 0.7, "safety": 0.3}, MonitorOptions{})
	for i := 0; i < 100; i++ {
		m.Step(map[string]float64{"task": 0.9, "safety": 0.1})
	}
	res, _ := m.Check()
	fmt.Println(res.Severity, res.RealPercentages["task"], res.SuggestedRewardWeights["safety"])
	// Output: critical 90 1.6
}

func ExampleBalance() {
	run := ingest.NewRun(3)
	run.SetColumn("component.food", []float64{3, 10, 3.4})
	run.SetColumn("component.survival", []float64{8.5, 2.15, 5.2})
	run.SetColumn("component.death", []float64{-50, 0, -17.75})
	res, err := Balance(run, map[string]float64{"food": 60, "survival": 40}, BalanceOptions{})
	if err != nil {
		panic(err)
	}
	for _, c := range res.Components() {
		cb := res.ImbalanceReport[c]
		fmt.Printf("%-8s real %5.2f%%  expected %4.1f%%  weight %.2fx  %s\n", c, cb.Real, cb.Expected, res.SuggestedRewardWeights[c], cb.Severity)
	}
	fmt.Println("overall:", res.Severity)
	// Output:
	// death    real 67.75%  expected  0.0%  weight 1.00x  critical
	// food     real 16.40%  expected 60.0%  weight 1.80x  critical
	// survival real 15.85%  expected 40.0%  weight 1.46x  critical
	// overall: critical
}
