package analysis

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
)

func mustAligner(t *testing.T, exp map[string]float64, opt AlignOptions) *Aligner {
	t.Helper()
	a, err := NewAligner(exp, opt)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustStep(t *testing.T, a *Aligner, v map[string]float64) *Snapshot {
	t.Helper()
	s, err := a.Step(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAlignWarmupReturnsNoSnapshot(t *testing.T) {
	a := mustAligner(t, map[string]float64{"a": 1, "b": 1}, AlignOptions{BaselineSteps: 4, Window: 3})
	for i := 1; i <= 4; i++ {
		if s := mustStep(t, a, map[string]float64{"a": float64(i), "b": 1}); s != nil {
			t.Fatalf("snapshot at record %d of a 4-record baseline", i)
		}
		if _, _, ok := a.Baseline(); ok != (i == 4) {
			t.Fatalf("baseline frozen=%v after %d records", ok, i)
		}
	}
	// Ratios of the 4 warm-up records over a window of 3:
	// a: 1/2, 2/3, 3/5, 4/7 of (a+b)... computed from windows {1},{1,2},{1,2,3},{2,3,4}.
	mean, std, _ := a.Baseline()
	// a window sums: 1, 3, 6, 9; b: 1, 2, 3, 3 -> a shares 50, 60, 66.67, 75.
	wantMean, wantStd := exactMeanPstd([]float64{50, 60, 66.67, 75})
	if mean["a"] != wantMean || std["a"] != wantStd {
		t.Errorf("baseline a = %v ± %v, want %v ± %v", mean["a"], std["a"], wantMean, wantStd)
	}
	if math.Abs(wantMean-62.9175) > 1e-12 {
		t.Errorf("mean = %v", wantMean)
	}
	s := mustStep(t, a, map[string]float64{"a": 1, "b": 1})
	if s == nil || s.Step != 5 {
		t.Fatalf("first snapshot: %+v", s)
	}
}

func TestAlignScoreAtThreshold(t *testing.T) {
	// Window 1, constant 50/50 baseline (std 0 -> floor 0.5): z = (r-50)/0.5.
	cases := []struct {
		a, b  float64
		z     float64
		score float64
		flag  string
	}{
		{51, 49, 2, 0.5, FlagOK}, // |z| == t: score exactly 0.5, still ok
		{51.01, 48.99, 2.02, 1 / (1 + math.Exp(1.2*0.02)), FlagWarning}, // just over
		{52, 48, 4, 1 / (1 + math.Exp(1.2*2)), FlagWarning},             // 2t is still warning
		{52.5, 47.5, 5, 1 / (1 + math.Exp(1.2*3)), FlagCritical},        // above 2t
		{50, 50, 0, 1 / (1 + math.Exp(-1.2*2)), FlagOK},
	}
	for _, c := range cases {
		a := mustAligner(t, map[string]float64{"a": 1, "b": 1}, AlignOptions{Window: 1, BaselineSteps: 3, ZThreshold: 2, NoAutoCorrect: true})
		for i := 0; i < 3; i++ {
			mustStep(t, a, map[string]float64{"a": 1, "b": 1})
		}
		s := mustStep(t, a, map[string]float64{"a": c.a, "b": c.b})
		za, _ := s.ZScore("a")
		if math.Abs(za-c.z) > 1e-9 || s.AlignmentScore != c.score && math.Abs(s.AlignmentScore-c.score) > 1e-12 || s.Flag != c.flag {
			t.Errorf("a=%v: z %v score %v flag %s, want %v %v %s", c.a, za, s.AlignmentScore, s.Flag, c.z, c.score, c.flag)
		}
		if c.z == 2 && s.AlignmentScore != 0.5 {
			t.Errorf("score at the threshold = %v, want exactly 0.5", s.AlignmentScore)
		}
	}
	// Per-component thresholds: b gets a looser one.
	a := mustAligner(t, map[string]float64{"a": 1, "b": 1}, AlignOptions{Window: 1, BaselineSteps: 1, ZThreshold: 10,
		ZThresholds: map[string]float64{"b": 2}, NoAutoCorrect: true})
	mustStep(t, a, map[string]float64{"a": 1, "b": 1})
	s := mustStep(t, a, map[string]float64{"a": 51, "b": 49})
	if s.AlignmentScore != 1/(1+math.Exp(1.2*0)) {
		t.Errorf("per-component threshold: score %v", s.AlignmentScore)
	}
}

func TestAlignDrift(t *testing.T) {
	// slope on an exact line.
	var pts []scorePoint
	for s := 10; s < 40; s++ {
		pts = append(pts, scorePoint{s, 0.25 + 0.0125*float64(s)})
	}
	if got := driftSlope(pts); math.Abs(got-0.0125) > 1e-15 {
		t.Errorf("slope = %v, want 0.0125", got)
	}
	pts = pts[:0]
	for s := 1; s <= 5; s++ {
		pts = append(pts, scorePoint{s, 1 - 0.1*float64(s)})
	}
	if got := driftSlope(pts); math.Abs(got+0.1) > 1e-15 {
		t.Errorf("slope = %v, want -0.1", got)
	}

	// Uneven steps take the summed path.
	uneven := []scorePoint{{1, 3}, {2, 5}, {4, 9}, {8, 17}}
	if got := driftSlope(uneven); got != 2 {
		t.Errorf("uneven slope = %v, want 2", got)
	}
	if got := driftSlope([]scorePoint{{5, 1}, {5, 2}}); got != 0 {
		t.Errorf("equal steps: slope %v, want 0", got)
	}

	// Drift is 0 until DriftWindow snapshots exist, then the fitted slope.
	a := mustAligner(t, map[string]float64{"a": 1, "b": 1}, AlignOptions{Window: 1, BaselineSteps: 1, DriftWindow: 4, NoAutoCorrect: true})
	mustStep(t, a, map[string]float64{"a": 1, "b": 1})
	var got []Snapshot
	for i := 0; i < 6; i++ {
		got = append(got, *mustStep(t, a, map[string]float64{"a": 50 + float64(i), "b": 50 - float64(i)}))
	}
	for i, s := range got {
		if i < 3 && s.DriftVelocity != 0 {
			t.Errorf("snapshot %d: drift %v before the window filled", i, s.DriftVelocity)
		}
		if i >= 3 {
			var p []scorePoint
			for _, q := range got[i-3 : i+1] {
				p = append(p, scorePoint{q.Step, q.AlignmentScore})
			}
			if want := driftSlope(p); s.DriftVelocity != want || want >= 0 {
				t.Errorf("snapshot %d: drift %v, want %v (< 0: the score is falling)", i, s.DriftVelocity, want)
			}
		}
	}
}

func TestAlignStarvation(t *testing.T) {
	a := mustAligner(t, map[string]float64{"a": 1, "c": 1}, AlignOptions{Window: 5, BaselineSteps: 1, StarvationWindow: 3, NoAutoCorrect: true})
	steps := []struct {
		v    map[string]float64
		want []string
	}{
		{map[string]float64{"a": 5, "c": 0.5}, nil}, // warm-up: c run 1
		{map[string]float64{"a": 5, "c": -0.99}, nil},
		{map[string]float64{"a": 5}, []string{"c"}}, // missing counts as 0: third near-zero record
		{map[string]float64{"a": 5, "c": 1}, nil},   // |1| is not < 1: reset
		{map[string]float64{"a": 0.1, "c": 0}, nil},
		{map[string]float64{"a": 0.1, "c": 0}, nil},
		{map[string]float64{"a": 0.1, "c": 0}, []string{"a", "c"}},
	}
	for i, st := range steps {
		s := mustStep(t, a, st.v)
		if i == 0 {
			continue
		}
		if !reflect.DeepEqual(s.StarvationAlerts, st.want) {
			t.Errorf("record %d: starvation %v, want %v", i+1, s.StarvationAlerts, st.want)
		}
	}
}

// hacked feeds a 50/50 baseline, then a 90/10 split.
func hacked(t *testing.T, a *Aligner, baseline, after int) []Snapshot {
	t.Helper()
	var out []Snapshot
	for i := 0; i < baseline; i++ {
		mustStep(t, a, map[string]float64{"a": 1, "b": 1})
	}
	for i := 0; i < after; i++ {
		out = append(out, *mustStep(t, a, map[string]float64{"a": 9, "b": 1}))
	}
	return out
}

func TestAlignCorrection(t *testing.T) {
	exp := map[string]float64{"a": 1, "b": 1}
	t.Run("min confidence and cooldown", func(t *testing.T) {
		a := mustAligner(t, exp, AlignOptions{Window: 1, BaselineSteps: 2, MinConfidenceSteps: 3})
		snaps := hacked(t, a, 2, 7) // records 3..9
		var at []int
		for _, s := range snaps {
			if len(s.CorrectionsApplied) > 0 {
				at = append(at, s.Step)
			}
		}
		if !reflect.DeepEqual(at, []int{5, 8}) {
			t.Fatalf("corrections at %v, want [5 8] (s-baseline >= 3, then every 3)", at)
		}
		// m_a = 50/90 -> 1*(1+0.2*(0.5556-1)) = 0.9111; m_b = 50/10 = 5 -> 1.8.
		want := []Correction{{"a", 1, 0.9111}, {"b", 1, 1.8}}
		if got := snaps[2].CorrectionsApplied; !reflect.DeepEqual(got, want) {
			t.Errorf("first correction %+v, want %+v", got, want)
		}
		// Second: 0.9111*(1+0.2*(0.5556-1)) = 0.83012... -> 0.8301; 1.8*1.8 = 3.24.
		if w := a.Weights(); w["a"] != 0.8301 || w["b"] != 3.24 {
			t.Errorf("weights %v", w)
		}
		if w := snaps[2].Weights; !reflect.DeepEqual(w, []float64{0.9111, 1.8}) {
			t.Errorf("snapshot weights %v", w)
		}
	})
	t.Run("decay floors at 0", func(t *testing.T) {
		a := mustAligner(t, exp, AlignOptions{Window: 1, BaselineSteps: 1, MinConfidenceSteps: 1, CorrectionRateDecay: 0.15})
		snaps := hacked(t, a, 1, 4)
		if a.Rate() != 0 {
			t.Errorf("rate %v, want 0 after two corrections with decay 0.15", a.Rate())
		}
		if len(snaps[0].CorrectionsApplied) == 0 || len(snaps[1].CorrectionsApplied) == 0 {
			t.Fatal("first two records should correct")
		}
		if len(snaps[2].CorrectionsApplied) != 0 || len(snaps[3].CorrectionsApplied) != 0 {
			t.Errorf("rate 0 must not change weights: %+v", snaps[2:])
		}
	})
	t.Run("clamps", func(t *testing.T) {
		a := mustAligner(t, exp, AlignOptions{Window: 1, BaselineSteps: 1, MinConfidenceSteps: 1, CorrectionRate: 10})
		hacked(t, a, 1, 1)
		if w := a.Weights(); w["a"] != 0.1 || w["b"] != 5 {
			t.Errorf("weights %v, want clamped to 0.1 and 5", w)
		}
	})
	t.Run("off, unexpected and absent components", func(t *testing.T) {
		a := mustAligner(t, exp, AlignOptions{Window: 1, BaselineSteps: 1, MinConfidenceSteps: 1, NoAutoCorrect: true})
		hacked(t, a, 1, 3)
		if w := a.Weights(); w["a"] != 1 || w["b"] != 1 {
			t.Errorf("no-auto-correct changed weights: %v", w)
		}
		a = mustAligner(t, map[string]float64{"a": 1, "b": 1}, AlignOptions{Window: 1, BaselineSteps: 1, MinConfidenceSteps: 1})
		mustStep(t, a, map[string]float64{"a": 1, "b": 1})
		s := mustStep(t, a, map[string]float64{"a": 1, "x": 50})
		// b absent: ratio 0, m = 5; x unexpected: never corrected.
		if w := a.Weights(); w["b"] != 1.8 || w["x"] != 1 || w["a"] == 1 {
			t.Errorf("weights %v (snapshot %+v)", w, s)
		}
		if zx, _ := s.ZScore("x"); zx != 98.04/0.5 {
			t.Errorf("z of a component first seen after the baseline = %v, want ratio/0.5", zx)
		}
	})
}

func TestAlignValidation(t *testing.T) {
	if _, err := NewAligner(map[string]float64{"a": 1}, AlignOptions{Window: -1}); !errors.Is(err, ErrBadAlignOption) {
		t.Errorf("negative window: %v", err)
	}
	if _, err := NewAligner(map[string]float64{"a": 1}, AlignOptions{ZThresholds: map[string]float64{"a": 0}}); !errors.Is(err, ErrBadAlignOption) {
		t.Errorf("zero per-component threshold: %v", err)
	}
	if _, err := NewAligner(nil, AlignOptions{}); !errors.Is(err, ErrEmptyExpected) {
		t.Errorf("empty expected: %v", err)
	}
	a := mustAligner(t, map[string]float64{"a": 1}, AlignOptions{})
	if _, err := a.Step(map[string]float64{"a": math.Inf(1)}); !errors.Is(err, ErrNonFinite) || a.StepCount() != 0 {
		t.Errorf("Inf step: %v, count %d", err, a.StepCount())
	}
	if _, err := LoadAligner(strings.NewReader(`{"format":"something else"}`), AlignOptions{}); !errors.Is(err, ErrBadAlignmentFile) {
		t.Errorf("bad state file: %v", err)
	}
	if _, err := LoadAligner(strings.NewReader(`not json`), AlignOptions{}); !errors.Is(err, ErrBadAlignmentFile) {
		t.Errorf("not json: %v", err)
	}
}

// randomRecords makes n records over comps; nice values (multiples of 1/4)
// half of the time, to hit exact 2-decimal ties.
func randomRecords(seed int64, n int, comps []string) []map[string]float64 {
	rng := rand.New(rand.NewSource(seed))
	out := make([]map[string]float64, n)
	for i := range out {
		m := map[string]float64{}
		for j, c := range comps {
			if rng.Intn(10) == 0 {
				continue // missing
			}
			var v float64
			if (i/50)%2 == 0 {
				v = float64(rng.Intn(12)) / 4
			} else {
				v = rng.NormFloat64() * float64(j+1)
			}
			if i > n/2 && j == 0 {
				v *= 4 // drift so corrections happen
			}
			m[c] = v
		}
		out[i] = m
	}
	return out
}

func TestAlignFastRatiosMatchFreshSums(t *testing.T) {
	comps := []string{"a", "b", "c", "d"}
	a := mustAligner(t, map[string]float64{"a": 1, "b": 2, "c": 3}, AlignOptions{Window: 37, BaselineSteps: 50, MaxSnapshots: -1})
	defer func() { t.Logf("%d of 3000 records took the re-sum path", a.fallbacks) }()
	for i, rec := range randomRecords(3, 3000, comps) {
		mustStep(t, a, rec)
		fast := make([]float64, len(a.comps))
		for j, c := range a.comps {
			fast[j] = c.ratio
		}
		saved := a.fallbacks
		a.freshRatios()
		a.fallbacks = saved
		for j, c := range a.comps {
			if c.ratio != fast[j] {
				t.Fatalf("record %d %s: running-sum ratio %v, fresh sum %v", i+1, c.name, fast[j], c.ratio)
			}
		}
	}
}

func TestAlignSaveLoadResumesExactly(t *testing.T) {
	comps := []string{"a", "b", "c"}
	recs := randomRecords(5, 600, comps)
	opt := AlignOptions{Window: 40, BaselineSteps: 100, MinConfidenceSteps: 20, DriftWindow: 10, CorrectionRateDecay: 0.01}
	exp := map[string]float64{"a": 0.5, "b": 0.3, "c": 0.2}
	full := mustAligner(t, exp, opt)
	for _, r := range recs {
		mustStep(t, full, r)
	}
	for _, k := range []int{0, 37, 100, 101, 333, 599} {
		part := mustAligner(t, exp, opt)
		for _, r := range recs[:k] {
			mustStep(t, part, r)
		}
		var buf bytes.Buffer
		if err := part.Save(&buf); err != nil {
			t.Fatal(err)
		}
		resumed, err := LoadAligner(&buf, AlignOptions{})
		if err != nil {
			t.Fatalf("k=%d: %v", k, err)
		}
		if n := len(resumed.Snapshots()); n != 0 {
			t.Fatalf("k=%d: %d snapshots loaded; the state holds none", k, n)
		}
		for _, r := range recs[k:] {
			mustStep(t, resumed, r)
		}
		joined := append(append([]Snapshot(nil), part.Snapshots()...), resumed.Snapshots()...)
		if !reflect.DeepEqual(joined, full.Snapshots()) {
			fs, rs := full.Snapshots(), joined
			for i := range fs {
				if i >= len(rs) || !reflect.DeepEqual(fs[i], rs[i]) {
					t.Fatalf("k=%d: snapshot %d differs:\n%+v\n%+v", k, i, fs[i], rs[i])
				}
			}
			t.Fatalf("k=%d: %d snapshots, want %d", k, len(rs), len(fs))
		}
		if !reflect.DeepEqual(resumed.Weights(), full.Weights()) || resumed.Rate() != full.Rate() || resumed.StepCount() != full.StepCount() {
			t.Fatalf("k=%d: weights %v rate %v, want %v %v", k, resumed.Weights(), resumed.Rate(), full.Weights(), full.Rate())
		}
	}
	// Overrides replace saved options.
	var buf bytes.Buffer
	full.Save(&buf)
	o, err := LoadAligner(&buf, AlignOptions{ZThreshold: 9, NoAutoCorrect: true, CorrectionRate: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if c := o.Config(); c.ZThreshold != 9 || c.AutoCorrect || c.Window != 40 || o.Rate() != 0.5 {
		t.Errorf("overrides: %+v rate %v", c, o.Rate())
	}
}

func TestAlignReplayClosedLoop(t *testing.T) {
	run := ingest.NewRun(6)
	run.SetColumn("component.a", []float64{1, 1, 9, 9, 9, 9})
	run.SetColumn("component.b", []float64{1, 1, 1, 1, 1, math.NaN()})
	run.SetColumn("component.total", []float64{2, 2, 10, 10, 10, 9})
	closed := mustAligner(t, map[string]float64{"a": 1, "b": 1}, AlignOptions{Window: 1, BaselineSteps: 2, MinConfidenceSteps: 1})
	n, err := closed.Replay(run, ReplayOptions{})
	if err != nil || n != 4 {
		t.Fatalf("replay: %d snapshots, %v", n, err)
	}
	open := mustAligner(t, map[string]float64{"a": 1, "b": 1}, AlignOptions{Window: 1, BaselineSteps: 2, MinConfidenceSteps: 1})
	open.Replay(run, ReplayOptions{OpenLoop: true})
	if got := closed.Components(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("total must not be tracked: %v", got)
	}
	// Record 4 sees a*0.9111 and b*1.8 in the closed loop: a = 8.1999, b = 1.8.
	cs, os := closed.Snapshots()[1], open.Snapshots()[1]
	if r, _ := cs.Ratio("a"); r != PyRound(8.1999/(8.1999+1.8)*100, 2) {
		t.Errorf("closed-loop ratio a = %v", r)
	}
	if r, _ := os.Ratio("a"); r != 90 {
		t.Errorf("open-loop ratio a = %v", r)
	}
}

var benchRun *ingest.Run

// benchRun1M is 1,000,000 records of 5 components with a slow drift.
func benchRun1M() *ingest.Run {
	if benchRun != nil {
		return benchRun
	}
	const n = 1_000_000
	rng := rand.New(rand.NewSource(9))
	run := ingest.NewRun(n)
	for j, c := range []string{"a", "b", "c", "d", "e"} {
		col := make([]float64, n)
		for i := range col {
			drift := 1 + float64(j)*float64(i)/n
			col[i] = (rng.Float64() + 0.1) * float64(j+1) * drift
			if j == 4 && rng.Intn(4) == 0 {
				col[i] = math.NaN()
			}
		}
		run.SetColumn("component."+c, col)
	}
	benchRun = run
	return run
}

var benchExpected = map[string]float64{"a": 0.1, "b": 0.2, "c": 0.2, "d": 0.25, "e": 0.25}

func BenchmarkBalance1M(b *testing.B) {
	run := benchRun1M()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Balance(run, benchExpected, BalanceOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(run.Len()), "ns/record")
}

func BenchmarkAlignReplay1M(b *testing.B) {
	run := benchRun1M()
	b.ReportAllocs()
	b.ResetTimer()
	fallbacks := 0
	for i := 0; i < b.N; i++ {
		a, _ := NewAligner(benchExpected, AlignOptions{MaxSnapshots: -1})
		if _, err := a.Replay(run, ReplayOptions{}); err != nil {
			b.Fatal(err)
		}
		fallbacks += a.fallbacks
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(run.Len()), "ns/record")
	b.ReportMetric(float64(fallbacks)/float64(b.N), "resums/op")
}

// An exact 2-decimal tie (1/800 = 0.125%) takes the re-sum path and rounds
// half to even, as Python's round does.
func TestAlignRatioTie(t *testing.T) {
	a := mustAligner(t, map[string]float64{"a": 1, "b": 1}, AlignOptions{Window: 1, BaselineSteps: 1, NoAutoCorrect: true})
	mustStep(t, a, map[string]float64{"a": 1, "b": 1})
	s := mustStep(t, a, map[string]float64{"a": 1, "b": 799})
	ra, _ := s.Ratio("a")
	rb, _ := s.Ratio("b")
	if ra != 0.12 || rb != 99.88 {
		t.Errorf("ratios %v %v, want 0.12 99.88", ra, rb)
	}
	if a.fallbacks != 1 {
		t.Errorf("%d re-sums, want 1", a.fallbacks)
	}
}

// A training loop: the caller weights its reward components with the
// monitor's current weights and feeds back what it used.
func ExampleNewAligner() {
	a, err := NewAligner(map[string]float64{"task": 0.7, "safety": 0.3}, AlignOptions{Window: 50, BaselineSteps: 100})
	if err != nil {
		panic(err)
	}
	flagged := false
	for step := 1; step <= 400; step++ {
		task, safety := 7.0, 3.0
		if step > 150 {
			safety = 1.0 // the policy stops earning the safety term
		}
		w := a.Weights()
		snap, _ := a.Step(map[string]float64{"task": task * w["task"], "safety": safety * w["safety"]})
		if snap != nil && snap.Flag != FlagOK && !flagged {
			flagged = true
			r, _ := snap.Ratio("safety")
			fmt.Printf("step %d: %s, safety share %.2f%%, score %.3f\n", snap.Step, snap.Flag, r, snap.AlignmentScore)
		}
	}
	fmt.Printf("weights after 400 steps: %v\n", a.Weights())
	// Output:
	// step 155: warning, safety share 28.57%, score 0.394
	// weights after 400 steps: map[safety:1.8275 task:0.8792]
}

func TestAlignReplayRejectsInf(t *testing.T) {
	run := ingest.NewRun(3)
	run.SetColumn("component.a", []float64{1, 1, 1})
	run.SetColumn("component.new", []float64{math.NaN(), math.Inf(1), 1})
	a := mustAligner(t, map[string]float64{"a": 1}, AlignOptions{BaselineSteps: 1})
	_, err := a.Replay(run, ReplayOptions{})
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "record 2") {
		t.Fatalf("err = %v", err)
	}
	if a.StepCount() != 1 || len(a.Components()) != 1 {
		t.Errorf("the bad record changed the state: %d steps, components %v", a.StepCount(), a.Components())
	}
}

func TestWriteAlignCSV(t *testing.T) {
	snaps := []Snapshot{
		{Step: 301, AlignmentScore: 0.8834149, Components: []string{"a", "b"}, Ratios: []float64{30.24, 69.76},
			Z: []float64{0.81244, -0.00004}, DriftVelocity: 0, Flag: FlagOK},
		{Step: 302, AlignmentScore: 0.5, Components: []string{"a", "b", "c"}, Ratios: []float64{30, 60, 10},
			Z: []float64{-1, 2.5, 3.00005}, DriftVelocity: -0.0000361, Flag: FlagWarning, StarvationAlerts: []string{"a", "c"}},
	}
	var buf bytes.Buffer
	if err := WriteAlignCSV(&buf, snaps); err != nil {
		t.Fatal(err)
	}
	want := "step,alignment_score,flag,drift_velocity,starvation_alerts,ratio_a,z_a,ratio_b,z_b,ratio_c,z_c\n" +
		"301,0.883415,ok,0.000000,,30.24,0.8124,69.76,-0.0000,,\n" +
		"302,0.500000,warning,-0.000036,a;c,30.00,-1.0000,60.00,2.5000,10.00,3.0000\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

// BenchmarkAlignReplay1MFreshSums re-sums the whole window every record
// (what the running sums avoid), for comparison.
func BenchmarkAlignReplay1MFreshSums(b *testing.B) {
	run := benchRun1M()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a, _ := NewAligner(benchExpected, AlignOptions{MaxSnapshots: -1})
		a.forceFresh = true
		if _, err := a.Replay(run, ReplayOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(run.Len()), "ns/record")
}
