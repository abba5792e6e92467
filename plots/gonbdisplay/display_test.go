package gonbdisplay

import (
	"math"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/frame"
	"github.com/goodhart-rl/goodhart/plots"
)

func smallRun() *ingest.Run {
	run := ingest.NewRun(3)
	run.SetColumn(ingest.ColReward, []float64{0.5, math.NaN(), 2})
	run.SetStringColumn(ingest.ColCallID, []string{"a", "b", "<c>"})
	return run
}

func TestDataFrameHTML(t *testing.T) {
	df := frame.Of(smallRun())
	if df.Nrow() != 3 || df.Ncol() != 2 {
		t.Fatalf("frame is %dx%d, want 3x2", df.Nrow(), df.Ncol())
	}
	got := DataFrameHTML(df, 2)
	for _, want := range []string{">call_id</th>", ">reward</th>", ">a</td>", ">0.5</td>", ">—</td>", "<p>2 of 3 rows shown</p>"} {
		if !strings.Contains(got, want) {
			t.Errorf("DataFrameHTML lacks %q:\n%s", want, got)
		}
	}
	all := DataFrameHTML(df, 0)
	if strings.Contains(all, "<c>") || !strings.Contains(all, "&lt;c&gt;") || strings.Contains(all, "rows shown") {
		t.Errorf("all rows: the string cell must be escaped and no 'rows shown' note given:\n%s", all)
	}
	r := smallRun()
	r.Source = "<img src=x>.jsonl"
	if h := RunHTML(r, 1); strings.Contains(h, "<img") || !strings.Contains(h, "3 records, 0 skipped") {
		t.Errorf("RunHTML: %s", h)
	}
}

// The helpers do nothing outside a notebook (and must not panic).
func TestOutsideNotebook(t *testing.T) {
	run := ingest.NewRun(200)
	y := make([]float64, 200)
	for i := range y {
		y[i] = math.Sin(float64(i) / 10)
	}
	run.SetColumn(ingest.ColReward, y)
	rep, err := analysis.Audit(run, analysis.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := plots.Timeline(run, rep, plots.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Figure(f); err != nil {
		t.Error(err)
	}
	if err := FigureSVG(f); err != nil {
		t.Error(err)
	}
	Audit(rep)
	Run(run, 3)
	DataFrame(frame.Of(run), 2)
	r := plots.BuildReport([]*plots.RunReport{{Run: run, Audit: rep}}, plots.Options{}, nil)
	if err := Report(r); err != nil {
		t.Error(err)
	}
}
