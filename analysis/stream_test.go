package analysis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// reportJSON is json.Marshal of a report, failing the test on error.
func reportJSON(t *testing.T, rep *Report) []byte {
	t.Helper()
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// streamChunks feeds run to a new stream (sample limit `limit`) in chunks
// of size rows (<= 0: one chunk), checking Report against Audit of the
// prefix at the chunk boundaries nearest the given fractions of the run.
func streamChunks(t *testing.T, run *ingest.Run, cfg Config, size, limit int, midAt ...float64) *Stream {
	t.Helper()
	s, err := newStream(cfg, limit)
	if err != nil {
		t.Fatal(err)
	}
	n := run.Len()
	if size <= 0 {
		size = max(n, 1)
	}
	next := 0
	for from := 0; from < n; from += size {
		to := min(from+size, n)
		if err := s.Add(run.Slice(from, to)); err != nil {
			t.Fatal(err)
		}
		for next < len(midAt) && float64(to) >= midAt[next]*float64(n) {
			next++
			if to == n {
				continue
			}
			got, err := s.Report()
			if err != nil {
				t.Fatal(err)
			}
			want, err := Audit(run.Slice(0, to), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := reportJSON(t, got), reportJSON(t, want); !bytes.Equal(g, w) {
				t.Fatalf("after %d of %d rows (chunks of %d): Report differs from Audit of the prefix\n got %s\nwant %s", to, n, size, g, w)
			}
		}
	}
	s.SetHeader(ingest.Header(run))
	return s
}

// checkStreamEqualsAudit streams run in chunks of 1, 7, 1000 rows and
// whole, and requires Report to equal Audit bit for bit, at the end and
// at a third and two thirds of the way.
func checkStreamEqualsAudit(t *testing.T, run *ingest.Run, cfg Config) {
	t.Helper()
	want, wantErr := Audit(run, cfg)
	for _, size := range []int{1, 7, 1000, 0} {
		if size == 1 && run.Len() > 20000 {
			continue // one row at a time is covered by the shorter runs
		}
		s := streamChunks(t, run, cfg, size, SampleRows, 1.0/3, 2.0/3)
		if s.Records() != run.Len() {
			t.Fatalf("Records() = %d, want %d", s.Records(), run.Len())
		}
		got, err := s.Report()
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("chunks of %d: Report error %v, Audit error %v", size, err, wantErr)
		}
		if err != nil {
			if err.Error() != wantErr.Error() {
				t.Fatalf("chunks of %d: Report error %q, Audit error %q", size, err, wantErr)
			}
			continue
		}
		if got.Sampled != nil {
			t.Fatalf("chunks of %d: a run of %d rows was sampled: %+v", size, run.Len(), *got.Sampled)
		}
		if g, w := reportJSON(t, got), reportJSON(t, want); !bytes.Equal(g, w) {
			t.Fatalf("chunks of %d: Report differs from Audit\n got %s\nwant %s", size, g, w)
		}
	}
}

func TestStreamEqualsAuditConformance(t *testing.T) {
	dir := ingesttest.Testdata(t, "conformance", "rewardspy")
	cases, err := filepath.Glob(filepath.Join(dir, "*", "expected.json"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no conformance cases under %s (%v)", dir, err)
	}
	for _, exp := range cases {
		caseDir := filepath.Dir(exp)
		t.Run(filepath.Base(caseDir), func(t *testing.T) {
			raw, err := os.ReadFile(exp)
			if err != nil {
				t.Fatal(err)
			}
			var list []conformanceCase
			if err := json.Unmarshal(raw, &list); err != nil {
				t.Fatal(err)
			}
			run, err := ingest.ReadFile(filepath.Join(caseDir, "run.jsonl"), ingest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			// The default audit (the kind's batch detectors too), another
			// kind forced, and named detectors.
			cfgs := []Config{{}, {Kind: KindPolicy}, {Detectors: []string{"all"}, Sensitivity: SensitivityHigh},
				{Detectors: []string{DetSlope, DetDeadComponent, DetGroup}, Window: 50}}
			for _, c := range list {
				cfgs = append(cfgs, conformanceConfig(c))
			}
			for i, cfg := range cfgs {
				t.Run(fmt.Sprint(i), func(t *testing.T) { checkStreamEqualsAudit(t, run, cfg) })
			}
		})
	}
}

func TestStreamEqualsAuditRealData(t *testing.T) {
	dir := ingesttest.RealData(t)
	var files []string
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || info.Name() == "SOURCES.md" {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if i := strings.Index(filepath.ToSlash(rel), "/wandb__run-"); i >= 0 && !strings.Contains(rel, "tfevents") {
			return nil
		}
		files = append(files, p)
		return nil
	})
	if len(files) == 0 {
		t.Fatalf("no runs under %s", dir)
	}
	for _, p := range files {
		rel, _ := filepath.Rel(dir, p)
		t.Run(rel, func(t *testing.T) {
			run, _, err := ingest.ReadPath(p, ingest.Options{})
			if err != nil {
				t.Skipf("not a run on its own: %v", err)
			}
			checkStreamEqualsAudit(t, run, Config{})
			checkStreamEqualsAudit(t, run, Config{Detectors: []string{"rewardspy"}})
		})
	}
}

func TestStreamEmpty(t *testing.T) {
	s, err := NewStream(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Report()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Audit(ingest.NewRun(0), Config{})
	if g, w := reportJSON(t, got), reportJSON(t, want); !bytes.Equal(g, w) {
		t.Fatalf("empty stream:\n got %s\nwant %s", g, w)
	}
	if _, err := NewStream(Config{Sensitivity: "extreme"}); err == nil {
		t.Fatal("NewStream accepted a bad sensitivity")
	}
}

// synthOpts shape a synthetic rewardspy-format run.
type synthOpts struct {
	n        int
	deadFrom int // component "bonus" is 0 from this row on (0: never)
	hackFrom int // from this row the reward is pinned at 1 (0: never)
	noStep   bool
}

// streamSynth is a rewardspy call log (format rewardspy-jsonl, call grain)
// of o.n rows: a noisy reward slowly rising, a length, components
// "correct", "bonus" and "total" in that first-seen order.
func streamSynth(o synthOpts) *ingest.Run {
	rng := rand.New(rand.NewSource(7))
	run := ingest.NewRun(o.n)
	run.Source, run.Format, run.Grain = "synth.jsonl", rewardspyFormat, ingest.GrainCall
	run.Meta = map[string]string{ingest.MetaComponentOrder: `["correct","bonus","total"]`}
	step := make([]float64, o.n)
	reward := make([]float64, o.n)
	length := make([]float64, o.n)
	corr := make([]float64, o.n)
	bonus := make([]float64, o.n)
	total := make([]float64, o.n)
	for i := range reward {
		step[i] = float64(i)
		c := 0.0
		if rng.Float64() < 0.3+0.3*float64(i)/float64(o.n) {
			c = 0.6
		}
		b := 0.1 + 0.3*rng.Float64()
		if o.deadFrom > 0 && i >= o.deadFrom {
			b = 0
		}
		r := c + b
		if o.hackFrom > 0 && i >= o.hackFrom {
			c, b, r = 1, 0, 1
		}
		corr[i], bonus[i], total[i], reward[i] = c, b, r, r
		length[i] = float64(200 + rng.Intn(100))
	}
	if !o.noStep {
		run.SetColumn(ingest.ColStep, step)
	}
	run.SetColumn(ingest.ColReward, reward)
	run.SetColumn(ingest.ColLength, length)
	run.SetColumn(ingest.ComponentPrefix+"correct", corr)
	run.SetColumn(ingest.ComponentPrefix+"bonus", bonus)
	run.SetColumn(ingest.ComponentPrefix+"total", total)
	return run
}

// fiveOf returns the five streaming detectors' part of a report: their
// results and alerts, records and summary.
func fiveOf(t *testing.T, rep *Report) string {
	t.Helper()
	var det []NamedResult
	for _, d := range rep.Detectors {
		if isStreaming(d.Name) {
			det = append(det, d)
		}
	}
	var al []Alert
	for _, a := range rep.Alerts {
		if isStreaming(a.Detector) {
			al = append(al, a)
		}
	}
	b, err := json.Marshal(struct {
		R int
		D []NamedResult
		A []Alert
		S *Summary
	}{rep.Records, det, al, rep.Summary})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestStreamLongRunSampled: a run 25 times the sample limit. The five
// streaming detectors see every row (same results and alerts as Audit of
// the whole run, the late hack caught at its real step); the batch
// detectors judge the sample, the dead component is placed within one
// stride of where it died, and Report says the report was sampled.
func TestStreamLongRunSampled(t *testing.T) {
	const limit = 4096
	n := 25*limit + 123
	dead, hack := 40_000, 90_000
	run := streamSynth(synthOpts{n: n, deadFrom: dead, hackFrom: hack})
	want, err := Audit(run, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{1000, 4095, 0} {
		s := streamChunks(t, run, Config{}, size, limit)
		got, err := s.Report()
		if err != nil {
			t.Fatal(err)
		}
		if got.Sampled == nil {
			t.Fatalf("chunks of %d: no sampled field on a run of %d rows with a sample of %d", size, n, limit)
		}
		sp := *got.Sampled
		if sp.Of != n || sp.Every != 32 || sp.Rows < limit/2 || sp.Rows > limit+1 {
			t.Fatalf("chunks of %d: sampled %+v, want of %d, every 32, rows in [%d, %d]", size, sp, n, limit/2, limit+1)
		}
		if g, w := fiveOf(t, got), fiveOf(t, want); g != w {
			t.Fatalf("chunks of %d: the five differ from Audit's on a sampled run\n got %s\nwant %s", size, g, w)
		}
		// The hack (reward pinned at 1 from row 90,000) is caught by the
		// five at its real record and step.
		caught := false
		for _, a := range got.Alerts {
			if isStreaming(a.Detector) && a.RunStep >= float64(hack) && a.RunStep < float64(hack+200) {
				caught = true
				if a.Step != int(a.RunStep)+1 {
					t.Errorf("alert %s at record %d, step %v: records and steps disagree", a.Detector, a.Step, a.RunStep)
				}
			}
		}
		if !caught {
			t.Errorf("chunks of %d: no streaming alert within 200 rows of the hack at row %d: %+v", size, hack, got.Alerts)
		}
		var dc *NamedResult
		for i := range got.Detectors {
			if got.Detectors[i].Name == DetDeadComponent {
				dc = &got.Detectors[i]
			}
		}
		if dc == nil || dc.Status != StatusWarning || !strings.Contains(dc.Message, "'bonus'") {
			t.Fatalf("chunks of %d: dead_component %+v, want a WARNING on 'bonus'", size, dc)
		}
		from := dc.Evidence.FromStep
		if from < float64(dead) || from > float64(dead+sp.Every) {
			t.Errorf("chunks of %d: bonus dead from step %v, want within one stride (%d) of %d", size, from, sp.Every, dead)
		}
		if dc.Evidence.FromRecord != int(from)+1 || dc.Evidence.ToRecord != n || dc.Evidence.ToStep != float64(n-1) {
			t.Errorf("chunks of %d: evidence records %d..%d steps %v..%v, want %d..%d, ..%d", size,
				dc.Evidence.FromRecord, dc.Evidence.ToRecord, from, dc.Evidence.ToStep, int(from)+1, n, n-1)
		}
		var js map[string]any
		if err := json.Unmarshal(reportJSON(t, got), &js); err != nil {
			t.Fatal(err)
		}
		if m, _ := js["sampled"].(map[string]any); m == nil || m["every"] != 32.0 || m["of"] != float64(n) {
			t.Errorf(`chunks of %d: JSON "sampled" = %v`, size, js["sampled"])
		}
		var sum bytes.Buffer
		if err := got.WriteSummaryJSON(&sum); err != nil || !strings.Contains(sum.String(), `"every": 32`) {
			t.Errorf("chunks of %d: summary JSON has no sampled field (%v):\n%s", size, err, sum.String())
		}
	}
}

// TestStreamLongRunNoStepColumn: without a step column the sample's steps
// are the original row indexes, so evidence still names real rows.
func TestStreamLongRunNoStepColumn(t *testing.T) {
	const limit = 2048
	n, dead := 20*limit, 30_000
	run := streamSynth(synthOpts{n: n, deadFrom: dead, noStep: true})
	s := streamChunks(t, run, Config{}, 777, limit)
	got, err := s.Report()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Audit(run, Config{})
	if g, w := fiveOf(t, got), fiveOf(t, want); g != w {
		t.Fatalf("the five differ from Audit's\n got %s\nwant %s", g, w)
	}
	smp := s.Sample()
	steps, ok := smp.Column(ingest.ColStep)
	rec, ok2 := smp.Column(SampleRecordColumn)
	if !ok || !ok2 {
		t.Fatalf("sample has no step or record column: %v", smp.Columns())
	}
	every := got.Sampled.Every
	for i := 0; i < len(steps)-1; i++ {
		if steps[i] != float64(i*every) || rec[i] != steps[i]+1 {
			t.Fatalf("sample row %d: step %v record %v, want %d and %d", i, steps[i], rec[i], i*every, i*every+1)
		}
	}
	if last := len(steps) - 1; steps[last] != float64(n-1) || rec[last] != float64(n) {
		t.Fatalf("sample's last row: step %v record %v, want the run's last row %d (record %d)", steps[last], rec[last], n-1, n)
	}
	for _, d := range got.Detectors {
		if d.Name == DetDeadComponent {
			if d.Evidence == nil || d.Evidence.FromStep < float64(dead) || d.Evidence.FromStep > float64(dead+every) {
				t.Errorf("dead_component %+v, want dead from within %d of row %d", d, every, dead)
			}
		}
	}
}

// TestStreamLongRunHealthy: a long healthy run is not flagged, sampled
// or not.
func TestStreamLongRunHealthy(t *testing.T) {
	const limit = 4096
	run := streamSynth(synthOpts{n: 30 * limit})
	s := streamChunks(t, run, Config{}, 5000, limit)
	got, err := s.Report()
	if err != nil {
		t.Fatal(err)
	}
	if got.Sampled == nil {
		t.Fatal("not sampled")
	}
	for _, d := range got.Detectors {
		if d.Status.Actionable() {
			t.Errorf("%s flagged a healthy run: %s", d.Name, d.Message)
		}
	}
	if got.Class != ClassHealthy {
		t.Errorf("class %s, want healthy: %s", got.Class, got.Headline)
	}
}

// TestStreamGenericFormatDecidesLate: a run of a format other than
// rewardspy's is held until the sample fills, judged on those rows, then
// streamed; the five still match Audit of the whole run, and a report
// asked for mid-way equals Audit of the prefix while it is held.
func TestStreamGenericFormatDecidesLate(t *testing.T) {
	const limit = 2048
	run := streamSynth(synthOpts{n: 10 * limit, hackFrom: 15_000})
	run.Format, run.Grain = "jsonl", ingest.GrainSample
	run.Meta = map[string]string{ingest.MetaComponentOrder: `["correct","bonus","total"]`}
	s, _ := newStream(Config{Detectors: []string{"rewardspy"}}, limit)
	for from := 0; from < run.Len(); from += 500 {
		to := min(from+500, run.Len())
		if err := s.Add(run.Slice(from, to)); err != nil {
			t.Fatal(err)
		}
		if to == 1500 {
			got, _ := s.Report()
			want, _ := Audit(run.Slice(0, to), Config{Detectors: []string{"rewardspy"}})
			if g, w := reportJSON(t, got), reportJSON(t, want); !bytes.Equal(g, w) {
				t.Fatalf("held rows: Report differs from Audit of the prefix\n got %s\nwant %s", g, w)
			}
		}
	}
	got, err := s.Report()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Audit(run, Config{Detectors: []string{"rewardspy"}})
	if got.Sampled == nil {
		t.Fatal("not sampled")
	}
	if g, w := fiveOf(t, got), fiveOf(t, want); g != w {
		t.Fatalf("the five differ from Audit's\n got %s\nwant %s", g, w)
	}
	if got.Verdict != want.Verdict || got.Diagnosis != want.Diagnosis {
		t.Errorf("verdict %q diagnosis %q, want %q %q", got.Verdict, got.Diagnosis, want.Verdict, want.Diagnosis)
	}
}

// TestStreamReportDoesNotDisturb: reports asked for between chunks leave
// the final report unchanged, and Sample is a copy the caller owns.
func TestStreamReportDoesNotDisturb(t *testing.T) {
	const limit = 1024
	run := streamSynth(synthOpts{n: 12 * limit, deadFrom: 9000})
	quiet := streamChunks(t, run, Config{}, 333, limit)
	want, _ := quiet.Report()
	s, _ := newStream(Config{}, limit)
	var held *ingest.Run
	for from := 0; from < run.Len(); from += 333 {
		if err := s.Add(run.Slice(from, min(from+333, run.Len()))); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Report(); err != nil {
			t.Fatal(err)
		}
		if from == 333*10 {
			held = s.Sample()
		}
	}
	s.SetHeader(ingest.Header(run))
	got, _ := s.Report()
	if g, w := reportJSON(t, got), reportJSON(t, want); !bytes.Equal(g, w) {
		t.Fatalf("reports mid-stream changed the final report\n got %s\nwant %s", g, w)
	}
	r, _ := held.Column(ingest.ColReward)
	steps, _ := held.Column(ingest.ColStep)
	full, _ := run.Column(ingest.ColReward)
	for i, v := range r {
		if w := full[int(steps[i])]; v != w && !(math.IsNaN(v) && math.IsNaN(w)) {
			t.Fatalf("a Sample taken earlier changed at row %d (step %v): %v, want %v", i, steps[i], v, w)
		}
	}
}

// groupPart is the group detector's result and alerts in a report.
func groupPart(t *testing.T, rep *Report) string {
	t.Helper()
	var res []NamedResult
	for _, d := range rep.Detectors {
		if d.Name == DetGroup {
			res = append(res, d)
		}
	}
	var al []Alert
	for _, a := range rep.Alerts {
		if a.Detector == DetGroup {
			al = append(al, a)
		}
	}
	b, err := json.Marshal(struct {
		D []NamedResult
		A []Alert
	}{res, al})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestStreamGroupExactWhenSampled: a sample would split GRPO groups, so
// the stream applies the group rule to every row: on a long run its result
// and alerts equal Audit's on the whole run, and the collapse that starts
// late is caught at its real step.
func TestStreamGroupExactWhenSampled(t *testing.T) {
	const limit = 2048
	n, collapse := 60_000, 40_000
	build := func(kind string) *ingest.Run {
		run := ingest.NewRun(n)
		run.Source, run.Format = "groups.jsonl", "jsonl"
		step := streamSeq(n, func(i int) float64 { return float64(i) })
		var reward []float64
		switch kind {
		case "zero_std_frac":
			run.Grain = ingest.GrainStep
			reward = streamSeq(n, func(i int) float64 { return 0.5 + 0.1*math.Sin(float64(i)) })
			run.SetColumn(ingest.ColZeroStdFrac, streamSeq(n, func(i int) float64 {
				if i%3 == 1 {
					return math.NaN()
				}
				if i >= collapse {
					return 0.8
				}
				return 0.2
			}))
		default:
			run.Grain = ingest.GrainSample
			reward = streamSeq(n, func(i int) float64 {
				if i >= collapse {
					return 1
				}
				return float64(i%4) / 3
			})
			if kind == "string" {
				ids := make([]string, n)
				for i := range ids {
					ids[i] = fmt.Sprint("g", i/4)
				}
				run.SetStringColumn(ingest.ColGroup, ids)
			} else {
				run.SetColumn(ingest.ColGroup, streamSeq(n, func(i int) float64 { return float64(i / 4) }))
			}
		}
		run.SetColumn(ingest.ColStep, step)
		run.SetColumn(ingest.ColReward, reward)
		return run
	}
	for _, kind := range []string{"numeric", "string", "zero_std_frac"} {
		t.Run(kind, func(t *testing.T) {
			run := build(kind)
			cfg := Config{Detectors: []string{DetGroup}}
			want, err := Audit(run, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, size := range []int{999, 4096} {
				got, err := streamChunks(t, run, cfg, size, limit).Report()
				if err != nil {
					t.Fatal(err)
				}
				if got.Sampled == nil {
					t.Fatal("not sampled")
				}
				if g, w := groupPart(t, got), groupPart(t, want); g != w {
					t.Fatalf("chunks of %d: group differs from Audit's\n got %s\nwant %s", size, g, w)
				}
				var first *Alert
				for i := range got.Alerts {
					if got.Alerts[i].Detector == DetGroup {
						first = &got.Alerts[i]
						break
					}
				}
				if first == nil || first.RunStep < float64(collapse) || first.RunStep > float64(collapse+2000) {
					t.Fatalf("chunks of %d: first group alert %+v, want one soon after step %d", size, first, collapse)
				}
			}
		})
	}
}

// streamSeq returns n values f(0), f(1), ...
func streamSeq(n int, f func(i int) float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// TestStreamKeepsSparseEvalRows: a held-out score logged on its own rows
// every 2,000 rows, always between the sample's stride rows. The sample
// keeps those rows, so divergence still judges the score (and catches the
// reward rising while it falls) as Audit does on the whole run.
func TestStreamKeepsSparseEvalRows(t *testing.T) {
	const limit = 4096
	n := 100_000
	run := ingest.NewRun(n)
	run.Source, run.Format, run.Grain = "evals.jsonl", "jsonl", ingest.GrainSample
	rng := rand.New(rand.NewSource(3))
	isEval := func(i int) bool { return i%2000 == 8 }
	run.SetColumn(ingest.ColStep, streamSeq(n, func(i int) float64 { return float64(i) }))
	run.SetColumn(ingest.ColReward, streamSeq(n, func(i int) float64 {
		if isEval(i) {
			return math.NaN()
		}
		return 0.2 + 0.7*float64(i)/float64(n) + 0.1*rng.Float64()
	}))
	run.SetColumn(ingest.EvalPrefix+"score", streamSeq(n, func(i int) float64 {
		switch {
		case !isEval(i):
			return math.NaN()
		case i < n/2:
			return 0.6
		}
		return 0.6 - 0.4*float64(i-n/2)/float64(n/2)
	}))
	cfg := Config{Detectors: []string{DetDivergence}}
	want, err := Audit(run, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want.Detectors[0].Status != StatusAlert {
		t.Fatalf("test run: Audit's divergence is %s (%s), want ALERT", want.Detectors[0].Status, want.Detectors[0].Message)
	}
	s := streamChunks(t, run, cfg, 1000, limit)
	got, err := s.Report()
	if err != nil {
		t.Fatal(err)
	}
	if got.Sampled == nil || got.Sampled.Every < 16 {
		t.Fatalf("sampled %+v, want a stride of at least 16", got.Sampled)
	}
	d := got.Detectors[0]
	if d.Status != StatusAlert || d.Class != ClassHacking {
		t.Fatalf("divergence on the sample: %s %s (%s), want an ALERT (hacking)", d.Status, d.Class, d.Message)
	}
	smp := s.Sample()
	score, _ := smp.Column(ingest.EvalPrefix + "score")
	k := 0
	for _, v := range score {
		if !math.IsNaN(v) {
			k++
		}
	}
	if k != n/2000 {
		t.Errorf("the sample kept %d of the %d evaluation rows", k, n/2000)
	}
}

// TestStreamConcurrentReport: show --follow asks for reports from another
// goroutine while chunks arrive; the final report is unaffected (run with
// -race).
func TestStreamConcurrentReport(t *testing.T) {
	const limit = 1024
	run := streamSynth(synthOpts{n: 8 * limit, deadFrom: 6000})
	want, _ := streamChunks(t, run, Config{}, 100, limit).Report()
	s, _ := newStream(Config{}, limit)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for s.Records() < run.Len() {
			if _, err := s.Report(); err != nil {
				t.Error(err)
				return
			}
			_ = s.Sample()
		}
	}()
	for from := 0; from < run.Len(); from += 100 {
		if err := s.Add(run.Slice(from, min(from+100, run.Len()))); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	s.SetHeader(ingest.Header(run))
	got, _ := s.Report()
	if g, w := reportJSON(t, got), reportJSON(t, want); !bytes.Equal(g, w) {
		t.Fatalf("concurrent reports changed the final report\n got %s\nwant %s", g, w)
	}
}

// TestStreamLateComponent: chunks as a streaming reader delivers them: a
// component first logged at row 500 is absent from earlier chunks, and
// each chunk's component order lists the components seen so far. The
// report still equals Audit of the whole run.
func TestStreamLateComponent(t *testing.T) {
	n := 3000
	run := streamSynth(synthOpts{n: n, hackFrom: 2500})
	late := streamSeq(n, func(i int) float64 {
		if i < 500 || i%3 == 0 {
			return math.NaN()
		}
		return 0.05
	})
	run.SetColumn(ingest.ComponentPrefix+"late", late)
	run.Meta = map[string]string{ingest.MetaComponentOrder: `["correct","bonus","total","late"]`}
	for _, cfg := range []Config{{}, {Detectors: []string{"rewardspy"}}} {
		want, err := Audit(run, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{7, 250, 1000} {
			s, _ := NewStream(cfg)
			for from := 0; from < n; from += size {
				c := run.Slice(from, min(from+size, n))
				if from+size <= 500 {
					c.DropColumn(ingest.ComponentPrefix + "late")
					c.Meta = map[string]string{ingest.MetaComponentOrder: `["correct","bonus","total"]`}
				}
				if err := s.Add(c); err != nil {
					t.Fatal(err)
				}
			}
			s.SetHeader(ingest.Header(run))
			got, err := s.Report()
			if err != nil {
				t.Fatal(err)
			}
			if g, w := reportJSON(t, got), reportJSON(t, want); !bytes.Equal(g, w) {
				t.Fatalf("chunks of %d: Report differs from Audit\n got %s\nwant %s", size, g, w)
			}
		}
	}
}

// TestStreamSampleInvariants: random chunkings, sample sizes and sparse
// held-out columns. The sample always holds every row on its stride (and
// nothing it should not), in order, each row with its own values, step and
// record count, the run's last row, and never more than its size.
func TestStreamSampleInvariants(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for trial := 0; trial < 200; trial++ {
		limit := 8 + 2*rng.Intn(60)
		n := 1 + rng.Intn(40*limit)
		evalEvery := 1 + rng.Intn(50)
		run := ingest.NewRun(n)
		run.Format, run.Grain = "jsonl", ingest.GrainSample
		reward := streamSeq(n, func(i int) float64 {
			if rng.Intn(5) == 0 {
				return math.NaN()
			}
			return float64(i)
		})
		run.SetColumn(ingest.ColReward, reward)
		run.SetColumn(ingest.EvalPrefix+"acc", streamSeq(n, func(i int) float64 {
			if i%evalEvery == 3 {
				return 0.5
			}
			return math.NaN()
		}))
		s, _ := newStream(Config{}, limit)
		for from := 0; from < n; {
			to := min(n, from+1+rng.Intn(3*limit))
			if err := s.Add(run.Slice(from, to)); err != nil {
				t.Fatal(err)
			}
			from = to
		}
		smp := s.Sample()
		every := s.smp.every
		if smp.Len() > s.limit+1 {
			t.Fatalf("trial %d: sample of %d rows, limit %d", trial, smp.Len(), s.limit)
		}
		r, _ := smp.Column(ingest.ColReward)
		steps := smp.Steps()
		var rec []float64
		if every > 1 {
			rec, _ = smp.Column(SampleRecordColumn)
		}
		cum := make([]int, n)
		k := 0
		for i, v := range reward {
			if !math.IsNaN(v) {
				k++
			}
			cum[i] = k
		}
		next := 0 // the next stride row expected
		prev := -1
		for p := range r {
			row := int(steps[p])
			if row <= prev {
				t.Fatalf("trial %d: sample rows out of order: %d after %d", trial, row, prev)
			}
			prev = row
			for next < row {
				if next%every == 0 {
					t.Fatalf("trial %d (n %d, limit %d, every %d): stride row %d missing", trial, n, limit, every, next)
				}
				next++
			}
			if row%every != 0 && row%evalEvery != 3 && row != n-1 {
				t.Fatalf("trial %d: row %d is neither on the stride, a marker, nor the last row", trial, row)
			}
			if w := reward[row]; !(r[p] == w || (math.IsNaN(r[p]) && math.IsNaN(w))) {
				t.Fatalf("trial %d: row %d has reward %v, want %v", trial, row, r[p], w)
			}
			if rec != nil && int(rec[p]) != cum[row] {
				t.Fatalf("trial %d: row %d has record %v, want %d", trial, row, rec[p], cum[row])
			}
			next = row + 1
		}
		if prev != n-1 {
			t.Fatalf("trial %d: the sample ends at row %d, the run at %d", trial, prev, n-1)
		}
	}
}

// TestStreamColumns: Columns lists every column the chunks had, the string
// columns Sample leaves out included.
func TestStreamColumns(t *testing.T) {
	run := streamSynth(synthOpts{n: 50})
	run.SetStringColumn(ingest.ColCallID, make([]string, 50))
	s, _ := NewStream(Config{})
	_ = s.Add(run.Slice(0, 20))
	c := run.Slice(20, 50)
	c.SetColumn("extra.late", streamSeq(30, func(int) float64 { return 1 }))
	_ = s.Add(c)
	want := append(run.Columns(), "extra.late")
	if got := s.Columns(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Columns() = %v, want %v", got, want)
	}
	if s.Sample().Has(ingest.ColCallID) {
		t.Error("the sample kept call_id")
	}
}

// TestStreamFromIngestStream: the pipeline the CLI runs. Every
// conformance log and every realdata file streamed by ingest.StreamFile
// (in whatever chunks the reader makes) gives the report Audit gives on
// the run ingest.ReadPath reads.
func TestStreamFromIngestStream(t *testing.T) {
	conf, _ := filepath.Glob(filepath.Join(ingesttest.Testdata(t, "conformance", "rewardspy"), "*", "run.jsonl"))
	if len(conf) == 0 {
		t.Fatal("no conformance logs")
	}
	for _, p := range conf {
		t.Run(filepath.Base(filepath.Dir(p)), func(t *testing.T) { checkIngestStream(t, p) })
	}
	t.Run("realdata", func(t *testing.T) {
		dir := ingesttest.RealData(t)
		_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() && info.Name() != "SOURCES.md" && !strings.Contains(p, "/wandb__run-") {
				rel, _ := filepath.Rel(dir, p)
				t.Run(rel, func(t *testing.T) { checkIngestStream(t, p) })
			}
			return nil
		})
	})
}

// checkIngestStream streams the file at p through ingest.StreamFile into
// a Stream and compares the report with Audit of ingest.ReadPath's run.
func checkIngestStream(t *testing.T, p string) {
	t.Helper()
	run, _, err := ingest.ReadPath(p, ingest.Options{})
	if err != nil {
		t.Skipf("not a run on its own: %v", err)
	}
	for _, cfg := range []Config{{}, {Detectors: []string{"rewardspy"}}} {
		want, err := Audit(run, cfg)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := NewStream(cfg)
		h, err := ingest.StreamFile(p, ingest.Options{}, s.Add)
		if err != nil {
			t.Fatal(err)
		}
		s.SetHeader(h)
		got, err := s.Report()
		if err != nil {
			t.Fatal(err)
		}
		if g, w := reportJSON(t, got), reportJSON(t, want); !bytes.Equal(g, w) {
			t.Fatalf("streamed report differs from Audit\n got %s\nwant %s", g, w)
		}
	}
}
