package plots

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLook writes every figure of the synthetic runs as PNG into
// $GOODHART_LOOK_DIR, for a person to look at. Skipped when unset.
func TestLook(t *testing.T) {
	dir := os.Getenv("GOODHART_LOOK_DIR")
	if dir == "" {
		t.Skip("set GOODHART_LOOK_DIR to write the figures as PNG for viewing")
	}
	run := synthRun(4000, true)
	rep := synthReport(4000)
	opt := Options{Expected: map[string]float64{"task": 0.7, "format": 0.3}}
	figs, errs := AllFigures(run, rep, nil, nil, opt)
	for _, e := range errs {
		t.Log(e)
	}
	for _, f := range figs {
		if err := f.Save(filepath.Join(dir, f.Kind+".png")); err != nil {
			t.Fatal(err)
		}
	}
}
