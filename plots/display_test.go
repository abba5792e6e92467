package plots

import (
	"math"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
)

func TestFrameAndDataFrameHTML(t *testing.T) {
	run := ingest.NewRun(3)
	run.SetColumn(ingest.ColReward, []float64{0.5, math.NaN(), 2})
	run.SetStringColumn(ingest.ColCallID, []string{"a", "b", "<c>"})
	df := run.DataFrame()
	if df.Nrow() != 3 || df.Ncol() != 2 {
		t.Fatalf("frame is %dx%d, want 3x2", df.Nrow(), df.Ncol())
	}
	got := DataFrameHTML(df, 2)
	for _, want := range []string{">call_id</th>", ">reward</th>", ">a</td>", ">0.5</td>", ">—</td>", "<p>2 of 3 rows shown</p>"} {
		if !strings.Contains(got, want) {
			t.Errorf("DataFrameHTML lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(DataFrameHTML(df, 0), "<c>") || strings.Contains(DataFrameHTML(df, 0), "rows shown") {
		t.Error("all rows: the string cell must be escaped and no 'rows shown' note given")
	}
	if ingest.NewRun(0).DataFrame().Nrow() != 0 {
		t.Error("empty run should give an empty frame")
	}
}

func TestFindingsHTML(t *testing.T) {
	rep := synthReport(1000)
	got := FindingsHTML(rep)
	for _, want := range []string{"Verdict: HACKING", "(1000 records, window 100)", "#d55e00", "Reward variance collapsed to 3.0% of baseline.",
		"steps 150–249 (records 601–1000)", "since step", "the reward stopped varying"} {
		if !strings.Contains(got, want) {
			t.Errorf("FindingsHTML lacks %q", want)
		}
	}
	if FindingsHTML(nil) != "<p>No audit.</p>" {
		t.Error("nil report")
	}
	b := BalanceHTML(synthBalance())
	for _, want := range []string{"over 200 records", ">critical</b>", ">task</td>", "+62.50", "5.00", "CRITICAL: Increase weight by ~66.5%"} {
		if !strings.Contains(b, want) {
			t.Errorf("BalanceHTML lacks %q", want)
		}
	}
}

// The Show* helpers do nothing outside a notebook (and must not panic).
func TestShowOutsideNotebook(t *testing.T) {
	f, err := Timeline(synthRun(200, false), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ShowFigure(f); err != nil {
		t.Error(err)
	}
	if err := ShowFigureSVG(f); err != nil {
		t.Error(err)
	}
	ShowAudit(synthReport(200))
	ShowRun(synthRun(10, false), 3)
	r := BuildReport([]*RunReport{{Run: synthRun(300, true), Audit: synthReport(300), Balance: synthBalance()}}, Options{}, nil)
	if err := ShowReport(r); err != nil {
		t.Error(err)
	}
}
