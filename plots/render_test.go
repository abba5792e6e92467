package plots

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// checkRenders renders f to SVG and PNG and checks both decode.
func checkRenders(t *testing.T, f *Figure) {
	t.Helper()
	// Well-formedness is checked on the SVG without fonts (the embedded
	// fonts are a megabyte of base64 that the XML decoder would crawl
	// through for every figure); TestSVGEmbedsFonts covers embedding.
	svg, err := f.svg(false)
	if err != nil {
		t.Fatalf("%s: SVG: %v", f.Kind, err)
	}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		if _, err := dec.Token(); err != nil {
			if err != io.EOF {
				t.Fatalf("%s: SVG is not well-formed XML: %v", f.Kind, err)
			}
			break
		}
	}
	// The sweep renders PNGs at a low resolution: the drawing code is the
	// same at any dpi, and rasterising at 144 dpi under -race makes this
	// test take minutes. TestSVGEmbedsFonts renders one at PNGDPI.
	const dpi = 36
	p, err := f.png(dpi, png.BestSpeed)
	if err != nil {
		t.Fatalf("%s: PNG: %v", f.Kind, err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(p))
	if err != nil {
		t.Fatalf("%s: PNG does not decode: %v", f.Kind, err)
	}
	w, _ := f.Size()
	if got, want := cfg.Width, int(w.Dots(dpi)+0.5); got != want {
		t.Errorf("%s: PNG is %d px wide, want %d", f.Kind, got, want)
	}
}

// renderAll audits run and renders every figure that applies (balance and
// session with the run's components as equal expected weights).
func renderAll(t *testing.T, run *ingest.Run) []string {
	t.Helper()
	rep, err := analysis.Audit(run, analysis.Config{})
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	var bal *BalanceView
	var ses *SessionView
	exp := map[string]float64{}
	for _, c := range components(run) {
		exp[c] = 1
	}
	if len(exp) > 0 {
		if b, err := analysis.Balance(run, exp, analysis.BalanceOptions{}); err == nil {
			bal = BalanceViewOf(b)
		}
		if s, err := Align(run, exp, analysis.AlignOptions{}, analysis.ReplayOptions{}); err == nil {
			ses = s
		} else if !errors.Is(err, ErrNotApplicable) {
			t.Errorf("align: %v", err)
		}
	}
	figs, errs := AllFigures(run, rep, bal, ses, Options{Expected: exp})
	for _, e := range errs {
		t.Errorf("figure failed: %v", e)
	}
	var kinds []string
	for _, f := range figs {
		checkRenders(t, f)
		kinds = append(kinds, f.Kind)
	}
	return kinds
}

// TestRenderTestdataRuns renders every figure for every run in testdata.
func TestRenderTestdataRuns(t *testing.T) {
	var files []string
	for _, pat := range []string{"runs/*", "conformance/rewardspy/*/run.jsonl", "conformance/alignment/*[0-9].csv", "trainers/*"} {
		m, _ := filepath.Glob(ingesttest.Testdata(t, pat))
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Fatalf("found only %d testdata runs", len(files))
	}
	var mu sync.Mutex
	drawn := map[string]int{}
	t.Cleanup(func() {
		for _, k := range []string{"timeline", "components", "balance", "session", "length", "group"} {
			if drawn[k] == 0 {
				t.Errorf("no testdata run drew a %s figure", k)
			}
		}
	})
	for _, path := range files {
		if st, err := os.Stat(path); err != nil || st.IsDir() {
			continue
		}
		rel, _ := filepath.Rel(ingesttest.Testdata(t), path)
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			run, err := ingest.ReadFile(path, ingest.Options{})
			if err != nil {
				t.Skipf("not a run: %v", err)
			}
			if !run.Has(ingest.ColReward) && run.Has(ingest.ExtraPrefix+"train_reward") {
				// A generic per-step JSONL: map it as a user would.
				run, err = ingest.ReadFile(path, ingest.Options{Map: map[string]string{"reward": "train_reward"}})
				if err != nil {
					t.Fatal(err)
				}
			}
			if !run.Has(ingest.ColReward) {
				t.Skip("no reward column")
			}
			kinds := renderAll(t, run)
			mu.Lock()
			for _, k := range kinds {
				drawn[k]++
			}
			mu.Unlock()
		})
	}
}

// TestRenderRealData renders every figure for every real training log in
// ../shared/realdata (skipped when it is absent).
func TestRenderRealData(t *testing.T) {
	dir := ingesttest.RealData(t)
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	if testing.Short() && len(files) > 4 {
		files = files[:4]
	}
	var mu sync.Mutex
	drawn := map[string]int{}
	t.Cleanup(func() { t.Logf("figures drawn from real data: %v", drawn) })
	for _, path := range files {
		rel, _ := filepath.Rel(dir, path)
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			run, err := ingest.ReadFile(path, ingest.Options{})
			if err != nil {
				t.Skipf("not read: %v", err)
			}
			if !run.Has(ingest.ColReward) && run.Has(ingest.ExtraPrefix+"train_reward") {
				run, err = ingest.ReadFile(path, ingest.Options{Map: map[string]string{"reward": "train_reward"}})
				if err != nil {
					t.Fatal(err)
				}
			}
			if !run.Has(ingest.ColReward) {
				t.Skipf("no reward column (%s)", run.Format)
			}
			kinds := renderAll(t, run)
			mu.Lock()
			for _, k := range kinds {
				drawn[k]++
			}
			mu.Unlock()
		})
	}
}

func TestSVGEmbedsFonts(t *testing.T) {
	f, err := Timeline(synthRun(300, false), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	svg, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"@font-face", "font/ttf;charset=utf-8;base64,", "Reward over the run", "rolling mean (W=100)"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		if _, err := dec.Token(); err != nil {
			if err != io.EOF {
				t.Fatalf("SVG with fonts is not well-formed XML: %v", err)
			}
			break
		}
	}
	p, err := f.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(p))
	if err != nil {
		t.Fatal(err)
	}
	// Not blank: the plot draws dark ink (axes, text) on white.
	dark := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r+g+bl < 3*0x4000 {
				dark++
			}
		}
	}
	if dark < 200 {
		t.Errorf("PNG looks blank: %d dark samples", dark)
	}
}
