package plots

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

func TestShortName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"DigitalLearningGmbH/MATH-lighteval/reward/mean@1", "MATH-lighteval reward@1"},
		{"val-core/DigitalLearningGmbH/MATH-lighteval/reward/mean@1", "MATH-lighteval reward@1"},
		{"test_score/openai/gsm8k", "test_score/openai/gsm8k"}, // short enough: unchanged
		{"val/test_score/openai/gsm8k_with_a_long_suffix", "gsm8k_with_a_…fix test_score"},
		{"accuracy", "accuracy"},
		{"averyveryverylongcomponentnamewithoutanyseparator", "averyveryvery…utanyseparator"},
	} {
		if got := ShortName(c.in); got != c.want {
			t.Errorf("ShortName(%q) = %q, want %q", c.in, got, c.want)
		}
		if n := len([]rune(ShortName(c.in))); n > maxShortName {
			t.Errorf("ShortName(%q) is %d runes", c.in, n)
		}
	}
}

func TestTrimCommon(t *testing.T) {
	got, p, s := TrimCommon([]string{"diversity_reward_fn", "format_reward_fn", "pnl_reward_fn"})
	if fmt.Sprint(got) != "[diversity format pnl]" || p != "" || s != "_reward_fn" {
		t.Errorf("got %v %q %q", got, p, s)
	}
	got, p, s = TrimCommon([]string{"rewards/acc", "rewards/fmt"})
	if fmt.Sprint(got) != "[acc fmt]" || p != "rewards/" || s != "" {
		t.Errorf("got %v %q %q", got, p, s)
	}
	// A trim that would leave a name empty, or no shared affix at a separator.
	for _, in := range [][]string{{"fn", "x_fn"}, {"format", "formal"}, {"one"}} {
		if got, p, s := TrimCommon(in); fmt.Sprint(got) != fmt.Sprint(in) || p != "" || s != "" {
			t.Errorf("TrimCommon(%v) = %v %q %q, want unchanged", in, got, p, s)
		}
	}
}

// Labelled ticks fall on 1, 2 or 5 x 10^k steps, and 0 is labelled when
// it is in range.
func TestRoundTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   string
	}{
		{1, 1120, "[200 400 600 800 1000]"},
		{0, 7660, "[0 2000 4000 6000]"},
		{0.255, 0.991, "[0.4 0.6 0.8]"},
		{-0.49, 1.47, "[0 0.5 1]"},
		{0, 100, "[0 20 40 60 80 100]"},
		{5, 200, "[50 100 150 200]"},
	} {
		var labels []string
		for _, tk := range (humanTicks{}).Ticks(c.lo, c.hi) {
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if got := fmt.Sprint(labels); got != c.want {
			t.Errorf("ticks over [%g, %g] = %s, want %s", c.lo, c.hi, got, c.want)
		}
	}
}

func TestSameScaleAndFromTo(t *testing.T) {
	if !SameScale([]float64{0.25, 0.99}, []float64{0.64, 0.71}) || !SameScale([]float64{0, 0.2}, []float64{0.8, 1}) {
		t.Error("two [0,1] series must share an axis")
	}
	if !SameScale([]float64{-5, 3}, []float64{2, 9}) {
		t.Error("overlapping ranges must share an axis")
	}
	if SameScale([]float64{0.2, 0.9}, []float64{1.5, 2.5}) || SameScale([]float64{math.NaN()}, []float64{1}) {
		t.Error("disjoint ranges, or no values, must not share an axis")
	}
	for _, c := range []struct {
		a, b float64
		want string
	}{
		{0.648, 0.697, "0.65 → 0.70 (+0.05)"},
		{0.8, 0.5, "0.80 → 0.50 (−0.30)"},
		{120, 480.4, "120.0 → 480.4 (+360.4)"},
	} {
		if got := fromTo(c.a, c.b); got != c.want {
			t.Errorf("fromTo(%g, %g) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
}

// The verl GRPO log: train reward rises to ~0.97 while held-out GSM8K
// stays at 0.65-0.70. The figure must put both on one axis, shade the gap
// and say the numbers in the legend.
func TestDivergenceVerlGap(t *testing.T) {
	path := ingesttest.RealData(t, "yushengsu-thu__verl_training_log", "gsm8k__grpo_run_deepseek7b_llm.log")
	run, err := ingest.ReadFile(path, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := analysis.Audit(run, analysis.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Divergence(run, rep, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Panels) != 1 {
		t.Fatalf("want one shared panel, got %d:\n%s", len(f.Panels), f.Structure())
	}
	s := f.Structure()
	for _, want := range []string{
		`panel 1: "Train reward and held-out test_score/openai/gsm8k on one axis"`,
		`x: "trainer step" [1, 1120]`,
		"series: gap: train − held-out",
		"series: rolling mean (W=100): 0.84 → 0.97 (+0.13)",
		"series: held-out eval.test_score/openai/gsm8k: 0.65 → 0.70 (+0.05)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("structure lacks %q:\n%s", want, s)
		}
	}
	if _, err := f.PNG(); err != nil {
		t.Fatal(err)
	}
}

// A held-out metric on another scale gets its own panel, with the train
// rolling mean rescaled onto it and twin labels; every panel shares the x
// range.
func TestDivergenceOtherScale(t *testing.T) {
	n := 200
	run := ingest.NewRun(n)
	run.Grain = ingest.GrainStep
	step, rew, acc, loss := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		step[i] = float64(i + 1)
		rew[i] = 0.2 + 0.7*float64(i)/float64(n)
		acc[i], loss[i] = math.NaN(), math.NaN()
		if i%20 == 10 {
			acc[i] = 0.5
			loss[i] = 2.5 - 0.001*float64(i)
		}
	}
	run.SetColumn(ingest.ColStep, step)
	run.SetColumn(ingest.ColReward, rew)
	run.SetColumn(ingest.EvalPrefix+"accuracy", acc)
	run.SetColumn(ingest.EvalPrefix+"loss", loss)
	f, err := Divergence(run, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Panels) != 2 {
		t.Fatalf("want a shared panel and a loss panel:\n%s", f.Structure())
	}
	p2 := f.Panels[1].Plot
	if !strings.Contains(p2.Title.Text, "own scale") || !strings.Contains(p2.Y.Label.Text, "loss") {
		t.Errorf("second panel: %q / %q", p2.Title.Text, p2.Y.Label.Text)
	}
	if p2.Y.Min < 2.2 || p2.Y.Max > 2.5 {
		t.Errorf("loss panel y range [%g, %g]: the axis must be in the metric's units", p2.Y.Min, p2.Y.Max)
	}
	twin := false
	for _, pa := range f.Panels {
		if pa.Plot.X.Min != 1 || pa.Plot.X.Max != 200 {
			t.Errorf("panel %q x range [%g, %g], want [1, 200]", pa.Plot.Title.Text, pa.Plot.X.Min, pa.Plot.X.Max)
		}
	}
	// The twin axis is a plotter of the second panel; draw to make sure it
	// renders.
	if b, err := f.SVG(); err != nil || !strings.Contains(string(b), "svg") {
		t.Fatal(err)
	}
	for _, s := range f.Panels[1].Series {
		twin = twin || strings.Contains(s, "right axis")
	}
	if !twin {
		t.Errorf("the rescaled train series must say it reads on the right axis: %v", f.Panels[1].Series)
	}
}

// Only the span a divergence finding names is shaded; one that covers the
// whole plot is named in a note instead.
func TestDivergenceShading(t *testing.T) {
	run := synthRun(2000, true) // steps 0..499
	rep := func(from, to float64) *analysis.Report {
		return &analysis.Report{Records: 2000, Detectors: []analysis.NamedResult{{Name: analysis.DetDivergence,
			Result: analysis.Result{Status: analysis.StatusWarning, Evidence: &analysis.Evidence{FromStep: from, ToStep: to, FromRecord: 1, ToRecord: 2000}}}}}
	}
	f, err := Divergence(run, rep(300, 420), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := f.Structure(); !strings.Contains(s, "series: flagged by divergence (300–420)") {
		t.Errorf("want the span 300-420 shaded:\n%s", s)
	}
	f, err = Divergence(run, rep(0, 499), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := f.Structure()
	if strings.Contains(s, "flagged by divergence") || !strings.Contains(s, "nearly the whole plot, so it is not shaded") {
		t.Errorf("a whole-run span must not be shaded:\n%s", s)
	}
}

// manyAlerts is a report with n warnings of one detector and 3 alerts of
// another.
func manyAlerts(n int) *analysis.Report {
	rep := &analysis.Report{Records: n}
	for i := range n {
		rep.Alerts = append(rep.Alerts, analysis.Alert{Step: i + 1, RunStep: float64(i / 4), Detector: "slope", Status: analysis.StatusWarning})
	}
	for i := range 3 {
		rep.Alerts = append(rep.Alerts, analysis.Alert{Step: 100 * (i + 1), RunStep: float64(25 * (i + 1)), Detector: "variance", Status: analysis.StatusAlert})
	}
	return rep
}

func TestAlertRugCounts(t *testing.T) {
	f, err := Timeline(synthRun(2000, false), manyAlerts(1794), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := f.Structure()
	for _, want := range []string{"series: slope: 1,794 warnings\n", "series: variance: 3 alerts\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("structure lacks %q:\n%s", want, s)
		}
	}
	if plural(1, "alert") != "1 alert" || commas(1234567) != "1,234,567" {
		t.Error("plural/commas")
	}
}

// The SB3 energy-penalty run raises 1,794 slope warnings: one rug row with
// the count, episode words, and a length axis that never goes below 0.
func TestEpisodeRunWords(t *testing.T) {
	path := ingesttest.RealData(t, "Dkurkcu__energy_penalty_applications_final", "logs__monitor.csv")
	run, err := ingest.ReadFile(path, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := analysis.Audit(run, analysis.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Timeline(run, rep, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := f.Structure()
	for _, want := range []string{`"Episode return over the run"`, `x: "episode (from 0)"`, `y: "episode return (as logged)"`} {
		if !strings.Contains(s, want) {
			t.Errorf("timeline lacks %q:\n%s", want, s)
		}
	}
	warnings := 0
	for _, a := range rep.Alerts {
		if a.Status == analysis.StatusWarning {
			warnings++
		}
	}
	if warnings > 100 && !strings.Contains(s, plural(warnings, "warning")) {
		t.Errorf("timeline does not count the %d warnings:\n%s", warnings, s)
	}
	f, err = Length(run, rep, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s = f.Structure()
	if !strings.Contains(s, `"episode length (steps)"`) || !strings.Contains(s, "−3σ is below 0") {
		t.Errorf("length:\n%s", s)
	}
	if f.Panels[0].Plot.Y.Min < 0 {
		t.Errorf("length axis starts at %g", f.Panels[0].Plot.Y.Min)
	}
}

func TestMaxLength(t *testing.T) {
	run := ingest.NewRun(3)
	run.SetColumn(ingest.ColLength, []float64{300, 510.6, 400})
	run.SetColumn(ingest.ColClipRatio, []float64{0.1, 1, 0.3})
	if ml, src, ok := MaxLength(run); !ok || ml != 511 || !strings.Contains(src, "clip ratio ≥ 0.99") {
		t.Errorf("pinned lengths: %v %q %v", ml, src, ok)
	}
	run.SetColumn(ingest.ExtraPrefix+"completions/max_length", []float64{512, 512, 300})
	if ml, _, ok := MaxLength(run); !ok || ml != 512 {
		t.Errorf("logged max: %v %v", ml, ok)
	}
	run.SetColumn(ingest.ColClipRatio, []float64{0, 0, 0})
	if _, _, ok := MaxLength(run); ok {
		t.Error("a run that never hits the limit does not say what it is")
	}
	path := ingesttest.RealData(t, "Rusheel86__Chaos-Economy", "trainer_state.json")
	real, err := ingest.ReadFile(path, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Length(real, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := f.Structure(); !strings.Contains(s, "series: max length 512 (from completions/max_length)") {
		t.Errorf("Chaos-Economy length figure has no max-length line:\n%s", s)
	}
}

// Long names, many alerts and a single point must not break any figure:
// every kind draws, legends stay within their lines and axis labels short.
func TestFiguresSurviveOddInput(t *testing.T) {
	long := "DigitalLearningGmbH/MATH-lighteval/reward/a_very_long_component_name_for_testing/mean@1"
	mk := func(n int) *ingest.Run {
		run := synthRun(max(n, 1), true)
		if n == 1 {
			run = run.Slice(0, 1)
		}
		c, _ := run.Column(ingest.ComponentPrefix + "format")
		run.SetColumn(ingest.ComponentPrefix+long, c)
		e, _ := run.Column(ingest.EvalPrefix + "accuracy")
		if n == 1 {
			e = []float64{0.4}
		}
		run.SetColumn(ingest.EvalPrefix+long, e)
		return run
	}
	for _, c := range []struct {
		name string
		run  *ingest.Run
		rep  *analysis.Report
	}{
		{"long names + many alerts", mk(4000), manyAlerts(4000)},
		{"single point", mk(1), manyAlerts(1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			bal := synthBalance()
			bal.Rows = append(bal.Rows, BalanceRow{Component: long, Real: 1, Expected: 2, Severity: "ok", Multiplier: 1})
			opt := Options{Expected: map[string]float64{"task": 0.7, "format": 0.3, long: 0.1}}
			for _, kind := range Kinds {
				f, err := FigureOf(kind, c.run, c.rep, bal, synthSession(), opt)
				if err != nil {
					t.Fatalf("%s: %v", kind, err)
				}
				if _, err := f.PNG(); err != nil {
					t.Fatalf("%s: %v", kind, err)
				}
				for _, pa := range f.Panels {
					if n := len([]rune(pa.Plot.Y.Label.Text)); n > 60 {
						t.Errorf("%s: y label %q is %d runes", kind, pa.Plot.Y.Label.Text, n)
					}
					for _, e := range pa.entries {
						if len(e.lines) > legendMaxLines {
							t.Errorf("%s: legend entry %v", kind, e.lines)
						}
						for _, l := range e.lines {
							if len([]rune(l)) > legendLineMax {
								t.Errorf("%s: legend line %q is too long", kind, l)
							}
						}
					}
				}
			}
		})
	}
}

func TestWrap(t *testing.T) {
	got := wrap("held-out eval.test_score/openai/gsm8k: 0.65 → 0.70 (+0.05)", 30, 3)
	if fmt.Sprint(got) != "[held-out [eval.test_score/openai/gsm8k: 0.65 → 0.70 (+0.05)]" {
		t.Logf("wrapped: %q", got)
	}
	for _, l := range got {
		if len([]rune(l)) > 30 {
			t.Errorf("line %q longer than 30", l)
		}
	}
	if got := wrap("a b c d e f g h i j k l m n o p q r s t u v w x y z", 5, 2); len(got) != 2 || !strings.HasSuffix(got[1], "…") {
		t.Errorf("cut: %q", got)
	}
}

// The HTML report shows the verdict class and headline when the audit has
// them, and today's verdict wording when it does not.
func TestReportHeadline(t *testing.T) {
	run := synthRun(600, true)
	rep := synthReport(600)
	rep.Kind = analysis.KindPolicy
	html := func() string {
		r := BuildReport([]*RunReport{{Run: run, Audit: rep, Figures: []*Figure{}}}, Options{}, nil)
		b, err := r.HTML()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if h := html(); !strings.Contains(h, "Verdict: HACKING") || !strings.Contains(h, "policy-optimisation log") {
		t.Error("without a headline the report must say the verdict")
	}
	rep.Class, rep.Headline = analysis.ClassHacking, "Train reward rose 0.74 → 0.98 while held-out gained 0.05."
	h := html()
	for _, want := range []string{`<div class="word">Reward hacking</div>`, "Train reward rose 0.74 → 0.98 while held-out gained 0.05.", "Verdict HACKING · policy-optimisation log"} {
		if !strings.Contains(h, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// A million alerts draw quickly: rug ticks on the same spot are skipped.
func TestRugManyAlertsFast(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	run := synthRun(4000, false)
	rep := manyAlerts(1_000_000)
	start := time.Now()
	f, err := Timeline(run, rep, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.PNG(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("a million alerts took %v to draw", d)
	}
	if s := f.Structure(); !strings.Contains(s, "slope: 1,000,000 warnings") {
		t.Errorf("count missing:\n%s", s)
	}
}
