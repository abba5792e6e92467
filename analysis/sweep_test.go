package analysis_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

func TestSweepNames(t *testing.T) {
	cases := []struct{ in, want []string }{
		{[]string{"sweep/a/trainer_state.json", "sweep/b/trainer_state.json"}, []string{"a/trainer_state.json", "b/trainer_state.json"}},
		{[]string{"/x/runs/s1/log.jsonl", "/x/runs/s2/deep/log.jsonl"}, []string{"s1/log.jsonl", "s2/deep/log.jsonl"}},
		{[]string{"a.jsonl", "b.jsonl"}, []string{"a.jsonl", "b.jsonl"}},
		{[]string{"dir/only.jsonl"}, []string{"only.jsonl"}},
		{[]string{"gs://bkt/sweep/r1/x.log", "gs://bkt/sweep/r2/x.log"}, []string{"r1/x.log", "r2/x.log"}},
		// A common prefix that is not a whole directory name is not cut.
		{[]string{"runs/seed1.jsonl", "runs2/seed1.jsonl"}, []string{"runs/seed1.jsonl", "runs2/seed1.jsonl"}},
	}
	for _, c := range cases {
		got := analysis.SweepNames(c.in)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("SweepNames(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// stepRun is a 20-step policy log: reward 0.05, 0.10 ... 1.00, length
// 100..119, eval.accuracy logged at steps 5, 10, 15, 20 (0.5, 0.5, 0.4,
// 0.3), zero_std_frac 0.25 on every step.
func stepRun() *ingest.Run {
	n := 20
	run := ingest.NewRun(n)
	step, rew, length, acc, z := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		step[i] = float64(i + 1)
		rew[i] = float64(i+1) * 0.05
		length[i] = float64(100 + i)
		acc[i] = math.NaN()
		z[i] = 0.25
	}
	acc[4], acc[9], acc[14], acc[19] = 0.5, 0.5, 0.4, 0.3
	run.SetColumn(ingest.ColStep, step)
	run.SetColumn(ingest.ColReward, rew)
	run.SetColumn(ingest.ColLength, length)
	run.SetColumn(ingest.EvalPrefix+"accuracy", acc)
	run.SetColumn(ingest.ColZeroStdFrac, z)
	run.Grain = ingest.GrainStep
	run.Format = "jsonl"
	return run
}

func TestSweepRowOfHandChecked(t *testing.T) {
	run := stepRun()
	cfg := analysis.Config{}
	rep, err := analysis.Audit(run, cfg)
	if err != nil {
		t.Fatal(err)
	}
	row := analysis.SweepRowOf("sweep/a/log.jsonl", run, rep, cfg)
	// last 10% of 20 values = the last 2: (0.95 + 1.00) / 2.
	if math.Abs(row.FinalReward-0.975) > 1e-12 {
		t.Errorf("FinalReward = %v, want 0.975", row.FinalReward)
	}
	if row.HeldOutMetric != "eval.accuracy" || row.HeldOutFirst != 0.5 || row.HeldOutLast != 0.3 || math.Abs(row.HeldOutChange+0.2) > 1e-12 {
		t.Errorf("held-out = %s %v -> %v (%v), want eval.accuracy 0.5 -> 0.3 (-0.2)", row.HeldOutMetric, row.HeldOutFirst, row.HeldOutLast, row.HeldOutChange)
	}
	// first 2 lengths 100, 101 -> 100.5; last 2 118, 119 -> 118.5.
	if row.LengthFirst != 100.5 || row.LengthLast != 118.5 || row.LengthChange != 18 {
		t.Errorf("length = %v -> %v (%v), want 100.5 -> 118.5 (18)", row.LengthFirst, row.LengthLast, row.LengthChange)
	}
	if row.GroupCollapse != 0.25 {
		t.Errorf("GroupCollapse = %v, want 0.25", row.GroupCollapse)
	}
	if row.Kind != analysis.KindPolicy || row.Records != 20 || row.Verdict != rep.Verdict || row.Class != rep.Class {
		t.Errorf("row = %+v, report kind %s verdict %s class %s", row, rep.Kind, rep.Verdict, rep.Class)
	}
	var actionable int
	for _, d := range rep.Detectors {
		if d.Status.Actionable() {
			actionable++
		}
	}
	if len(row.Flagged) != actionable {
		t.Errorf("flagged %+v, report has %d actionable detectors", row.Flagged, actionable)
	}
	fs := analysis.FindingsOf(row, rep)
	if len(fs) != 1+len(rep.Alerts) || fs[0].Row != "run" || !math.IsNaN(fs[0].RunStep) {
		t.Fatalf("findings: %d rows (want 1 + %d alerts), first %+v", len(fs), len(rep.Alerts), fs[0])
	}
	for i, a := range rep.Alerts {
		f := fs[i+1]
		if f.Row != "alert" || f.Detector != a.Detector || f.Record != a.Step || f.RunStep != a.RunStep || f.Path != row.Path || f.Verdict != row.Verdict {
			t.Errorf("finding %d = %+v, alert %+v", i+1, f, a)
		}
	}
}

func TestSweepRowNoOptionalColumns(t *testing.T) {
	run := ingest.NewRun(3)
	run.SetColumn(ingest.ColReward, []float64{1, math.NaN(), 3})
	rep, err := analysis.Audit(run, analysis.Config{})
	if err != nil {
		t.Fatal(err)
	}
	row := analysis.SweepRowOf("r.jsonl", run, rep, analysis.Config{})
	if row.FinalReward != 3 {
		t.Errorf("FinalReward = %v, want 3 (the last finite value)", row.FinalReward)
	}
	for name, x := range map[string]float64{"held-out": row.HeldOutChange, "length": row.LengthChange, "collapse": row.GroupCollapse} {
		if !math.IsNaN(x) {
			t.Errorf("%s = %v, want NaN (no column)", name, x)
		}
	}
	if row.HeldOutMetric != "" {
		t.Errorf("HeldOutMetric = %q", row.HeldOutMetric)
	}
}

func TestHeldOutMetricChoice(t *testing.T) {
	run := ingest.NewRun(2)
	for _, c := range []string{"eval.loss", "eval.frac_reward_zero_std", "eval.bleu", "eval.test_score"} {
		run.SetColumn(c, []float64{1, 2})
	}
	if got := analysis.HeldOutMetric(run, analysis.Config{}); got != "eval.test_score" {
		t.Errorf("HeldOutMetric = %q, want eval.test_score (a quality name beats bleu; loss and frac are never picked)", got)
	}
	if got := analysis.HeldOutMetric(run, analysis.Config{Gold: []string{"bleu"}}); got != "eval.bleu" {
		t.Errorf("with --gold bleu: %q", got)
	}
	run2 := ingest.NewRun(2)
	run2.SetColumn("eval.loss", []float64{1, 2})
	if got := analysis.HeldOutMetric(run2, analysis.Config{}); got != "" {
		t.Errorf("only a loss: %q, want none", got)
	}
}

func sweepRows() []analysis.SweepRow {
	nan := math.NaN()
	mk := func(path, verdict string, code int) analysis.SweepRow {
		return analysis.SweepRow{Path: path, Verdict: verdict, ExitCode: code, FinalReward: nan, HeldOutFirst: nan,
			HeldOutLast: nan, HeldOutChange: nan, LengthFirst: nan, LengthLast: nan, LengthChange: nan, GroupCollapse: nan}
	}
	return []analysis.SweepRow{
		mk("s/h2/x", analysis.VerdictHealthy, 0),
		analysis.SweepErrorRow("s/bad/x", errors.New("s/bad/x: not a run")),
		mk("s/w/x", analysis.VerdictWarning, 1),
		mk("s/h1/x", analysis.VerdictHealthy, 0),
		mk("s/p/x", analysis.VerdictPathology, 1),
		mk("s/k/x", analysis.VerdictHacking, 1),
	}
}

func TestFinishSweepOrderAndExit(t *testing.T) {
	rows := sweepRows()
	names := analysis.FinishSweep(rows)
	var got []string
	for _, r := range rows {
		got = append(got, r.Name+":"+r.Verdict)
	}
	want := "k/x:hacking p/x:pathology w/x:warning h1/x:healthy h2/x:healthy bad/x:error"
	if strings.Join(got, " ") != want {
		t.Errorf("order = %s\nwant    %s", strings.Join(got, " "), want)
	}
	if names["s/k/x"] != "k/x" {
		t.Errorf("names = %v", names)
	}
	if c := analysis.SweepExitCode(rows); c != 2 {
		t.Errorf("exit = %d, want 2 (a run failed)", c)
	}
	if c := analysis.SweepExitCode(rows[:5]); c != 1 {
		t.Errorf("exit = %d, want 1 (flagged, none failed)", c)
	}
	if c := analysis.SweepExitCode(rows[3:5]); c != 0 {
		t.Errorf("exit = %d, want 0 (healthy only)", c)
	}
	if s := analysis.SweepSummaryLine(rows); s != "6 runs: 1 hacking, 1 pathology, 1 warning, 2 healthy, 1 failed" {
		t.Errorf("summary line %q", s)
	}
}

func TestWriteSweepCSVAndJSON(t *testing.T) {
	rows := sweepRows()[:1]
	rows[0].FinalReward, rows[0].Records, rows[0].Kind = 0.5, 7, analysis.KindPolicy
	rows[0].Flagged = []analysis.FlaggedDetector{{Detector: "group", Status: analysis.StatusAlert, Class: analysis.ClassPathology, FirstStep: 12}}
	analysis.FinishSweep(rows)
	var b bytes.Buffer
	if err := analysis.WriteSweepCSV(&b, rows); err != nil {
		t.Fatal(err)
	}
	want := strings.Join(analysis.SweepCSVHeader, ",") + "\n" + "x,s/h2/x,,policy,7,healthy,,0,group@12,0.5,,,,,,,,,,\n"
	if b.String() != want {
		t.Errorf("CSV:\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	if err := analysis.WriteSweepJSON(&b, rows); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"final_reward": 0.5`, `"heldout_change": null`, `"first_step": 12`, `"exit_code": 0`, `"healthy": 1`} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("JSON lacks %s:\n%s", s, b.String())
		}
	}
}

// TestFindingsParquetReadsBack writes the findings of a real audit as
// Parquet and reads them back with Arrow: every column, every row.
func TestFindingsParquetReadsBack(t *testing.T) {
	run, err := ingest.ReadFile(ingesttest.Testdata(t, "runs", "hacked.jsonl"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := analysis.Audit(run, analysis.Config{})
	if err != nil {
		t.Fatal(err)
	}
	row := analysis.SweepRowOf("runs/hacked.jsonl", run, rep, analysis.Config{})
	// Each flagged detector's first step is the run step of its first alert.
	if len(row.Flagged) == 0 {
		t.Fatalf("hacked.jsonl flags nothing: %s", rep.Headline)
	}
	for _, f := range row.Flagged {
		for _, a := range rep.Alerts {
			if a.Detector == f.Detector {
				if a.RunStep != f.FirstStep {
					t.Errorf("%s first step %v, first alert at %v", f.Detector, f.FirstStep, a.RunStep)
				}
				break
			}
		}
	}
	rows := []analysis.SweepRow{row, analysis.SweepErrorRow("runs/bad.jsonl", errors.New("runs/bad.jsonl: bad"))}
	names := analysis.FinishSweep(rows)
	fs := append(analysis.FindingsOf(rows[0], rep), analysis.FindingsOf(rows[1], nil)...)
	analysis.FinishFindings(fs, names)
	var b bytes.Buffer
	if err := analysis.WriteFindingsParquet(&b, fs); err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if int(tbl.NumRows()) != len(fs) || int(tbl.NumCols()) != len(analysis.FindingsColumns) {
		t.Fatalf("table %dx%d, want %dx%d", tbl.NumRows(), tbl.NumCols(), len(fs), len(analysis.FindingsColumns))
	}
	for i, name := range analysis.FindingsColumns {
		if got := tbl.Schema().Field(i).Name; got != name {
			t.Errorf("column %d = %s, want %s", i, got, name)
		}
	}
	col := func(name string) []any {
		idx := tbl.Schema().FieldIndices(name)[0]
		var out []any
		for _, ch := range tbl.Column(idx).Data().Chunks() {
			for k := 0; k < ch.Len(); k++ {
				if ch.IsNull(k) {
					out = append(out, nil)
					continue
				}
				switch a := ch.(type) {
				case *array.String:
					out = append(out, a.Value(k))
				case *array.Int64:
					out = append(out, a.Value(k))
				case *array.Float64:
					out = append(out, a.Value(k))
				}
			}
		}
		return out
	}
	paths, rowKind, dets, records, steps := col("path"), col("row"), col("detector"), col("record"), col("run_step")
	for i, f := range fs {
		if paths[i] != f.Path || rowKind[i] != f.Row {
			t.Fatalf("row %d: path %v row %v, want %s %s", i, paths[i], rowKind[i], f.Path, f.Row)
		}
		if f.Row == "alert" {
			if dets[i] != f.Detector || records[i] != int64(f.Record) || steps[i] != f.RunStep {
				t.Errorf("row %d: %v %v %v, want %s %d %v", i, dets[i], records[i], steps[i], f.Detector, f.Record, f.RunStep)
			}
		} else if dets[i] != nil || steps[i] != nil {
			t.Errorf("run row %d: detector %v run_step %v, want nulls", i, dets[i], steps[i])
		}
	}
	if errs := col("error"); errs[len(errs)-1] != "runs/bad.jsonl: bad" {
		t.Errorf("error row: %v", errs[len(errs)-1])
	}
}

// TestSweepRealData audits every log in shared/realdata as one sweep and
// checks the rows agree with each run's own audit.
func TestSweepRealData(t *testing.T) {
	p := ingesttest.RealData(t, "yushengsu-thu__verl_training_log", "gsm8k__grpo_run_deepseek7b_llm.log")
	run, err := ingest.ReadFile(p, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := analysis.Audit(run, analysis.Config{})
	if err != nil {
		t.Fatal(err)
	}
	row := analysis.SweepRowOf(p, run, rep, analysis.Config{})
	// SOURCES.md: held-out 0.65 -> 0.70 on gsm8k test score.
	if row.HeldOutMetric != "eval.test_score/openai/gsm8k" || math.Abs(row.HeldOutFirst-0.648) > 1e-9 || math.Abs(row.HeldOutLast-0.697) > 1e-9 {
		t.Errorf("held-out %s %v -> %v, want test_score 0.648 -> 0.697", row.HeldOutMetric, row.HeldOutFirst, row.HeldOutLast)
	}
	if row.Records != rep.Records || row.Verdict != rep.Verdict {
		t.Errorf("row %d %s, report %d %s", row.Records, row.Verdict, rep.Records, rep.Verdict)
	}
}
