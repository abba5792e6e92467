package analysis

import (
	"math"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
)

// pushAll feeds rewards (and optional lengths) to a fresh engine.
func pushAll(cfg Config, win Windows, rewards, lengths []float64, comps map[string][]float64, order []string) *Engine {
	e := NewEngine(cfg, win)
	for i, r := range rewards {
		rec := Record{RunStep: float64(i), Reward: r, Length: math.NaN()}
		if lengths != nil {
			rec.Length = lengths[i]
		}
		for _, name := range order {
			rec.Components = append(rec.Components, ComponentValue{name, comps[name][i]})
		}
		e.Push(rec)
	}
	return e
}

func repeat(x float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = x
	}
	return out
}

func cat(parts ...[]float64) []float64 {
	var out []float64
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

type wantAlert struct {
	step    int
	det     string
	status  Status
	message string
}

func alertsOf(e *Engine) []wantAlert {
	var out []wantAlert
	for _, a := range e.Alerts() {
		out = append(out, wantAlert{a.Step, a.Detector, a.Status, a.Message})
	}
	return out
}

func resultOf(e *Engine, name string) Result {
	for _, r := range e.Results() {
		if r.Name == name {
			return r.Result
		}
	}
	return Result{}
}

// Hand-checked cases, one detector at a time (the others stay quiet:
// lengths absent, no components, windows chosen so ceiling and slope stay
// insufficient or OK).
func TestDetectorsHandChecked(t *testing.T) {
	cases := []struct {
		name    string
		cfg     Config
		win     Windows
		rewards []float64
		lengths []float64
		comps   map[string][]float64
		order   []string
		det     string
		final   Status
		msg     string
		alerts  []wantAlert
	}{
		{
			// W=4: base = pstdev of the first max(2, int(0.8)) = 2 rewards
			// [0 2] = 1. Window [1 1 1 1.2]: std 0.0866 -> WARNING at 8;
			// [1 1 1 1]: std 0 -> ALERT at 12.
			name: "variance warns then alerts", win: Windows{W: 4, SlopeMin: 1000, ComponentMin: 1000, CeilingMin: 1000},
			rewards: []float64{0, 2, 0, 2, 1, 1, 1, 1.2, 1, 1, 1, 1},
			det:     DetVariance, final: StatusAlert, msg: "Reward variance collapsed to 0.0% of baseline.",
			alerts: []wantAlert{
				{8, DetVariance, StatusWarning, "Reward variance declining (8.7% of baseline)."},
				{12, DetVariance, StatusAlert, "Reward variance collapsed to 0.0% of baseline."},
			},
		},
		{
			name: "variance: constant baseline is OK forever", win: Windows{W: 4, SlopeMin: 1000, ComponentMin: 1000, CeilingMin: 1000},
			rewards: cat(repeat(1, 10), []float64{5, 1, 1, 1, 1}),
			det:     DetVariance, final: StatusOK,
		},
		{
			name: "variance: insufficient until the window is full", win: Windows{W: 10, SlopeMin: 1000, ComponentMin: 1000, CeilingMin: 1000},
			rewards: repeat(1, 9),
			det:     DetVariance, final: StatusInsufficient,
		},
		{
			// Baseline 0 at record 20; ones add 0.5 to pos each: 5.5 > 5 at 31.
			// Then base = 11/31 and the next 1.0 leaves pos at 0.145: OK.
			name: "slope fires once upward and clears", win: Windows{W: 100, SlopeMin: 20, ComponentMin: 1000, CeilingMin: 1000},
			rewards: cat(repeat(0, 20), repeat(1, 12)),
			det:     DetSlope, final: StatusOK,
			alerts: []wantAlert{{31, DetSlope, StatusWarning, "Reward distribution shift detected (upward)."}},
		},
		{
			name: "slope downward, high sensitivity (h=3)", cfg: Config{Sensitivity: SensitivityHigh},
			win:     Windows{W: 100, SlopeMin: 20, ComponentMin: 1000, CeilingMin: 1000},
			rewards: cat(repeat(1, 20), repeat(0, 7)), // neg: 0.5*7 = 3.5 > 3 at 27
			det:     DetSlope, final: StatusWarning, msg: "Reward distribution shift detected (downward).",
			alerts: []wantAlert{{27, DetSlope, StatusWarning, "Reward distribution shift detected (downward)."}},
		},
		{
			name: "slope: steady reward never fires", win: Windows{W: 100, SlopeMin: 20, ComponentMin: 1000, CeilingMin: 1000},
			rewards: repeat(0.7, 200),
			det:     DetSlope, final: StatusOK,
		},
		{
			// share = 0.95/(0.95+0.025+0.025) > 0.90: ALERT at record 30.
			name: "component dominates", win: Windows{W: 100, SlopeMin: 1000, ComponentMin: 30, CeilingMin: 1000},
			rewards: repeat(1, 30),
			comps:   map[string][]float64{"a": repeat(0.95, 30), "b": repeat(0.025, 30), "c": repeat(0.025, 30), "total": repeat(1, 30)},
			order:   []string{"a", "b", "c", "total"},
			det:     DetComponent, final: StatusAlert, msg: "Component 'a' dominates reward (95%).",
			alerts: []wantAlert{{30, DetComponent, StatusAlert, "Component 'a' dominates reward (95%)."}},
		},
		{
			name: "component warns (80%, medium)", win: Windows{W: 100, SlopeMin: 1000, ComponentMin: 30, CeilingMin: 1000},
			rewards: repeat(1, 40),
			comps:   map[string][]float64{"format": repeat(-0.2, 40), "correct": repeat(0.8, 40)},
			order:   []string{"correct", "format"},
			det:     DetComponent, final: StatusWarning, msg: "Component 'correct' contributes 80% of reward.",
			alerts: []wantAlert{{30, DetComponent, StatusWarning, "Component 'correct' contributes 80% of reward."}},
		},
		{
			name: "component: one component besides total is not applicable", win: Windows{W: 100, SlopeMin: 1000, ComponentMin: 30, CeilingMin: 1000},
			rewards: repeat(1, 40),
			comps:   map[string][]float64{"a": repeat(1, 40), "total": repeat(1, 40)},
			order:   []string{"a", "total"},
			det:     DetComponent, final: StatusNotApplicable,
		},
		{
			name: "component: balanced is OK", win: Windows{W: 100, SlopeMin: 1000, ComponentMin: 30, CeilingMin: 1000},
			rewards: repeat(1, 40),
			comps:   map[string][]float64{"a": repeat(0.5, 40), "b": repeat(0.5, 40)},
			order:   []string{"a", "b"},
			det:     DetComponent, final: StatusOK,
		},
		{
			name: "ceiling: every reward at the lifetime max", win: Windows{W: 100, SlopeMin: 1000, ComponentMin: 1000, CeilingMin: 50},
			rewards: repeat(1, 60),
			det:     DetCeiling, final: StatusAlert, msg: "100% of rollouts hit the reward ceiling.",
			alerts: []wantAlert{{50, DetCeiling, StatusAlert, "100% of rollouts hit the reward ceiling."}},
		},
		{
			name: "ceiling: a known max above the rewards is OK", cfg: Config{MaxReward: 2, HasMaxReward: true},
			win:     Windows{W: 100, SlopeMin: 1000, ComponentMin: 1000, CeilingMin: 50},
			rewards: repeat(1, 60),
			det:     DetCeiling, final: StatusOK,
		},
		{
			name: "ceiling: non-positive ceiling is OK", win: Windows{W: 100, SlopeMin: 1000, ComponentMin: 1000, CeilingMin: 50},
			rewards: repeat(-1, 60),
			det:     DetCeiling, final: StatusOK,
		},
		{
			// The window is not full yet: at record n, (n-19)/n > 0.8 first at
			// n = 96 (77/96 = 0.802, shown as 80%). Then 0.5s replace 0.5s
			// until record 120 drops the first 1: 80/100 is not above 0.8.
			name: "ceiling: rate just above and at the threshold", win: Windows{W: 100, SlopeMin: 1000, ComponentMin: 1000, CeilingMin: 50},
			rewards: cat(repeat(0.5, 19), repeat(1, 81), repeat(0.5, 20)),
			det:     DetCeiling, final: StatusOK,
			alerts: []wantAlert{{96, DetCeiling, StatusAlert, "80% of rollouts hit the reward ceiling."}},
		},
		{
			// Base: [100 110]*5 -> mean 105, pstdev 5. Lengths 130 replace
			// 105s in the last-10 mean: 105 + 2.5k > 120 first at k = 7.
			name: "length drifts longer", win: Windows{W: 10, SlopeMin: 1000, ComponentMin: 1000, CeilingMin: 1000},
			rewards: repeat(1, 30),
			lengths: cat([]float64{100, 110, 100, 110, 100, 110, 100, 110, 100, 110}, repeat(105, 10), repeat(130, 10)),
			det:     DetLength, final: StatusWarning, msg: "Response length drifted longer by 5.0 sigma.",
			alerts: []wantAlert{{27, DetLength, StatusWarning, "Response length drifted longer by 3.5 sigma."}},
		},
		{
			name: "length: flat baseline (std < 1) is OK", win: Windows{W: 10, SlopeMin: 1000, ComponentMin: 1000, CeilingMin: 1000},
			rewards: repeat(1, 30),
			lengths: cat(repeat(100, 20), repeat(500, 10)),
			det:     DetLength, final: StatusOK,
		},
		{
			name: "length: no lengths at all is not applicable", win: Windows{W: 10, SlopeMin: 1000, ComponentMin: 1000, CeilingMin: 1000},
			rewards: repeat(1, 30),
			det:     DetLength, final: StatusNotApplicable,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := pushAll(c.cfg, c.win, c.rewards, c.lengths, c.comps, c.order)
			r := resultOf(e, c.det)
			if r.Status != c.final || r.Message != c.msg {
				t.Errorf("final %s = %s %q, want %s %q", c.det, r.Status, r.Message, c.final, c.msg)
			}
			if got := alertsOf(e); !reflect.DeepEqual(got, c.alerts) {
				t.Errorf("alerts\n got %v\nwant %v", got, c.alerts)
			}
		})
	}
}

// A WARNING -> ALERT -> WARNING sequence raises three alerts; staying at a
// status raises none; OK resets; INSUFFICIENT does not.
func TestAlertDeduplication(t *testing.T) {
	e := NewEngine(Config{}, Windows{W: 100, SlopeMin: 1000, ComponentMin: 1, CeilingMin: 1000})
	push := func(a, b float64) {
		e.Push(Record{Reward: 1, Length: math.NaN(), Components: []ComponentValue{{"a", a}, {"b", b}}})
	}
	// The window holds 100 records, so shares move slowly; use big blocks.
	for i := 0; i < 100; i++ {
		push(0.8, 0.2) // 80%: WARNING
	}
	for i := 0; i < 200; i++ {
		push(0.99, 0.01) // -> ALERT
	}
	for i := 0; i < 200; i++ {
		push(0.8, 0.2) // back to WARNING
	}
	for i := 0; i < 200; i++ {
		push(0.5, 0.5) // OK
	}
	for i := 0; i < 200; i++ {
		push(0.8, 0.2) // WARNING again: a new alert
	}
	var seq []Status
	for _, a := range e.Alerts() {
		seq = append(seq, a.Status)
	}
	want := []Status{StatusWarning, StatusAlert, StatusWarning, StatusWarning}
	if !reflect.DeepEqual(seq, want) {
		t.Fatalf("alert statuses %v, want %v", seq, want)
	}
	if e.Alerts()[0].Step != 1 {
		t.Errorf("first alert at step %d, want 1", e.Alerts()[0].Step)
	}
}

func TestVerdictAndExitCode(t *testing.T) {
	res := func(ss ...Status) []NamedResult {
		var out []NamedResult
		for i, s := range ss {
			out = append(out, NamedResult{Name: StreamingDetectors[i], Result: Result{Status: s}})
		}
		return out
	}
	cases := []struct {
		records, window int
		results         []NamedResult
		verdict         string
		exit            int
		overall         Status
	}{
		{0, 100, nil, VerdictCollecting, 0, StatusOK},
		{40, 100, res(StatusInsufficient, StatusOK, StatusWarning), VerdictCollecting, 1, StatusWarning},
		{90, 100, res(StatusInsufficient, StatusOK, StatusNotApplicable), VerdictCollecting, 0, StatusOK},
		{100, 100, res(StatusOK, StatusOK, StatusNotApplicable, StatusInsufficient), VerdictHealthy, 0, StatusOK},
		{500, 100, res(StatusOK, StatusWarning, StatusOK), VerdictWarning, 1, StatusWarning},
		{500, 100, res(StatusAlert, StatusWarning, StatusOK), VerdictHacking, 1, StatusAlert},
	}
	for _, c := range cases {
		if v := Verdict(c.records, c.window, c.results); v != c.verdict {
			t.Errorf("Verdict(%d, %v) = %s, want %s", c.records, c.results, v, c.verdict)
		}
		if x := ExitCode(c.results); x != c.exit {
			t.Errorf("ExitCode(%v) = %d, want %d", c.results, x, c.exit)
		}
		if o := Overall(c.results); o != c.overall {
			t.Errorf("Overall(%v) = %s, want %s", c.results, o, c.overall)
		}
	}
}

func TestDiagnosisText(t *testing.T) {
	// Healthy: enough records, nothing actionable.
	e := pushAll(Config{}, Windows{W: 10}, []float64{0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1}, nil, nil, nil)
	if got := e.Report().Diagnosis; got != "✓ Healthy training\nReward is moving with no reward-hacking signatures. Keep going." {
		t.Errorf("healthy diagnosis %q", got)
	}
	// Collecting.
	e = pushAll(Config{}, Windows{W: 100}, repeat(1, 7), nil, nil, nil)
	if got := e.Report().Diagnosis; got != "Collecting data... (7 calls so far)" {
		t.Errorf("collecting diagnosis %q", got)
	}
	// Empty.
	if got := NewEngine(Config{}, Windows{}).Report().Diagnosis; got != "No records found." {
		t.Errorf("empty diagnosis %q", got)
	}
	// Ceiling alert on a flat reward: mean 1.00, flat, 100% at the ceiling.
	e = pushAll(Config{}, Windows{W: 50}, repeat(1, 60), nil, nil, nil)
	want := "✕ Likely reward hacking\nThe reward curve looks fine (mean 1.00, ▬ flat), but ~100% of rollouts are at the reward ceiling.\n" +
		"First flagged near step 50. Inspect rollouts from there for shortcut behavior."
	if got := e.Report().Diagnosis; got != want {
		t.Errorf("ceiling diagnosis\n got %q\nwant %q", got, want)
	}
}

func TestJoinReasons(t *testing.T) {
	for n, want := range []string{"", "a", "a; and b", "a; b; and c"} {
		if got := joinReasons([]string{"a", "b", "c"}[:n]); got != want {
			t.Errorf("joinReasons(%d) = %q, want %q", n, got, want)
		}
	}
}

// Streaming with Push gives the same report as Audit's replay.
func TestPushMatchesAudit(t *testing.T) {
	path := "../testdata/conformance/rewardspy/hacked_math/run.jsonl"
	run, err := ingest.ReadFile(path, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Detectors: []string{"rewardspy"}}
	want, err := Audit(run, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(cfg, WindowFor(run, cfg))
	reward, _ := run.Column(ingest.ColReward)
	length, _ := run.Column(ingest.ColLength)
	steps := run.Steps()
	names := componentOrder(run)
	var streamed []Alert
	for i := range reward {
		rec := Record{RunStep: steps[i], Reward: reward[i], Length: length[i]}
		for _, n := range names {
			c, _ := run.Column(ingest.ComponentPrefix + n)
			rec.Components = append(rec.Components, ComponentValue{n, c[i]})
		}
		streamed = append(streamed, e.Push(rec)...)
	}
	got := e.Report()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("streamed report differs from Audit:\n got %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(streamed, want.Alerts) {
		t.Errorf("alerts returned by Push differ from the report's")
	}
	if len(streamed) == 0 {
		t.Fatal("expected alerts on hacked_math")
	}
}

func TestAuditSelection(t *testing.T) {
	run := ingest.NewRun(150)
	run.SetColumn(ingest.ColReward, repeat(1, 150))
	run.SetColumn(ingest.ColStep, func() []float64 {
		s := make([]float64, 150)
		for i := range s {
			s[i] = float64(10 * i)
		}
		return s
	}())
	rep, err := Audit(run, Config{Detectors: []string{"ceiling", "variance"}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range rep.Detectors {
		names = append(names, d.Name)
	}
	if !reflect.DeepEqual(names, []string{"variance", "ceiling"}) {
		t.Errorf("detectors %v, want [variance ceiling] in rewardspy order", names)
	}
	if len(rep.Alerts) != 1 || rep.Alerts[0].Detector != DetCeiling || rep.Alerts[0].Step != 50 || rep.Alerts[0].RunStep != 490 {
		t.Errorf("alerts %+v, want one ceiling alert at step 50, run step 490", rep.Alerts)
	}
	if rep.Verdict != VerdictHacking || rep.ExitCode != 1 {
		t.Errorf("verdict %s exit %d", rep.Verdict, rep.ExitCode)
	}

	_, err = Audit(run, Config{Detectors: []string{"variance", "nosuch"}})
	if err == nil || !strings.Contains(err.Error(), `"nosuch"`) || !strings.Contains(err.Error(), "rewardspy") {
		t.Errorf("unknown detector error: %v", err)
	}
	if _, err := Audit(run, Config{Sensitivity: "extreme"}); err == nil {
		t.Error("bad sensitivity accepted")
	}
	noReward := ingest.NewRun(3)
	noReward.SetColumn(ingest.ColLength, []float64{1, 2, 3})
	if _, err := Audit(noReward, Config{}); err == nil {
		t.Error("run without reward accepted")
	}
}

// Records with a missing reward are skipped, not counted.
func TestAuditSkipsMissingRewards(t *testing.T) {
	run := ingest.NewRun(5)
	run.SetColumn(ingest.ColReward, []float64{1, math.NaN(), 2, math.NaN(), 3})
	rep, err := Audit(run, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != 3 || rep.Summary == nil || rep.Summary.Mean != 2 || rep.Summary.Max != 3 {
		t.Errorf("records %d summary %+v", rep.Records, rep.Summary)
	}
	empty, err := Audit(ingest.NewRun(0), Config{})
	if err != nil || empty.Records != 0 || len(empty.Detectors) != 0 || empty.Summary != nil || empty.Diagnosis != "No records found." {
		t.Errorf("empty run: %+v %v", empty, err)
	}
}

// Non-integer lengths take the exact Fsum path; the result must equal
// Fmean over the last W lengths, and integer lengths the int64 path.
func TestLengthRecentMean(t *testing.T) {
	for _, frac := range []float64{0, 0.1} {
		var l lengthState
		l.init(7)
		var all []float64
		for i := 0; i < 40; i++ {
			x := float64(100+(i*37)%23) + frac*float64(i%3)
			l.add(x)
			all = append(all, x)
			n := min(len(all), 7)
			if got, want := l.recentMean(), Fmean(all[len(all)-n:]); got != want {
				t.Fatalf("frac %v record %d: recentMean %v, want %v", frac, i, got, want)
			}
		}
	}
}

// Components are summed in the order the source listed them
// (Meta component_order), not alphabetically.
func TestComponentOrder(t *testing.T) {
	run := ingest.NewRun(2)
	for _, c := range []string{"b", "a", "c"} {
		run.SetColumn(ingest.ComponentPrefix+c, []float64{1, 1})
	}
	if got := componentOrder(run); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("without metadata: %v, want sorted", got)
	}
	run.Meta = map[string]string{ingest.MetaComponentOrder: `["c","a"]`}
	if got := componentOrder(run); !reflect.DeepEqual(got, []string{"c", "a", "b"}) {
		t.Errorf("with metadata: %v, want [c a b]", got)
	}
}

// Engine.Report on a run with a missing length column at every record
// and components arriving late keeps working (no panic, sane statuses).
func TestEngineLateComponents(t *testing.T) {
	e := NewEngine(Config{}, Windows{W: 10})
	for i := 0; i < 50; i++ {
		rec := Record{Reward: float64(i % 3), Length: math.NaN()}
		if i >= 25 {
			rec.Components = []ComponentValue{{"late", 1}, {"total", 1}, {"other", math.NaN()}}
		}
		if i >= 40 {
			rec.Components = append(rec.Components, ComponentValue{"third", 0.01})
		}
		e.Push(rec)
	}
	r := resultOf(e, DetComponent)
	if r.Status != StatusAlert || r.Message != "Component 'late' dominates reward (99%)." {
		t.Errorf("component %+v", r)
	}
	if got := resultOf(e, DetLength).Status; got != StatusNotApplicable {
		t.Errorf("length %s, want NOT_APPLICABLE", got)
	}
}

// Random garbage never panics and only finite rewards are counted.
func TestEngineRobust(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	pick := func() float64 {
		switch rng.Intn(8) {
		case 0:
			return math.NaN()
		case 1:
			return math.Inf(1 - 2*rng.Intn(2))
		case 2:
			return 0
		case 3:
			return -rng.Float64() * 1e6
		}
		return rng.Float64()
	}
	for _, w := range []int{1, 2, 7, 100} {
		e := NewEngine(Config{Sensitivity: "bogus"}, Windows{W: w})
		finite := 0
		for i := 0; i < 3000; i++ {
			rec := Record{RunStep: pick(), Reward: pick(), Length: pick()}
			for j := rng.Intn(4); j > 0; j-- {
				rec.Components = append(rec.Components, ComponentValue{string(rune('a' + rng.Intn(5))), pick()})
			}
			if !math.IsNaN(rec.Reward) && !math.IsInf(rec.Reward, 0) {
				finite++
			}
			e.Push(rec)
			if i%500 == 0 {
				_ = e.Report()
			}
		}
		rep := e.Report()
		if rep.Records != finite || len(rep.Detectors) != 5 || rep.Summary == nil {
			t.Errorf("W=%d: records %d (want %d), %d detectors", w, rep.Records, finite, len(rep.Detectors))
		}
	}
}
