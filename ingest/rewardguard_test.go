package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readRG(t *testing.T, text string, opt Options) *Run {
	t.Helper()
	opt.Format = "rewardguard"
	run, err := Read(strings.NewReader(text), "run.log", opt)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return run
}

func col(t *testing.T, run *Run, name string) []float64 {
	t.Helper()
	c, ok := run.Column(name)
	if !ok {
		t.Fatalf("no column %q (have %v)", name, run.Columns())
	}
	return c
}

func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func TestRewardguardSample(t *testing.T) {
	path := filepath.Join("..", "testdata", "rewardguard", "snake.log")
	run, err := ReadFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Format != "rewardguard" || run.Grain != GrainEpisode {
		t.Fatalf("format %q grain %q", run.Format, run.Grain)
	}
	if run.Len() != 3 || run.Skipped != 0 || len(run.Issues) != 0 {
		t.Fatalf("len %d skipped %d issues %v", run.Len(), run.Skipped, run.Issues)
	}
	if got := run.Components(); strings.Join(got, ",") != "death,food,survival" {
		t.Fatalf("components %v", got)
	}
	checks := map[string][]float64{
		"step":                    {1, 2, 3},
		"reward":                  {-38.5, 12.15, -9.15},
		"component.food":          {3, 10, 3.4},
		"component.survival":      {8.5, 2.15, 5.2},
		"component.death":         {-50, 0, -17.75},
		"extra.steps":             {85, 215, 52},
		"extra.percentages.death": {81.6, 0, 66},
	}
	for name, want := range checks {
		if got := col(t, run, name); !sameFloats(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	st, _ := run.StringColumn("extra.status")
	if strings.Join(st, ",") != "DEATH,SUCCESS,DEATH" {
		t.Errorf("status %v", st)
	}
}

func TestRewardguardEdgeCases(t *testing.T) {
	cases := []struct {
		name     string
		text     string
		rows     int
		skipped  int
		issues   []string // substrings of Issue.Error(), in order
		food     []float64
		reward   []float64
		mapping  map[string]string
		extraCol string
		extra    []float64
	}{
		{
			name: "text before the first header is ignored",
			text: "starting run\nsources:\n  food: 99\nEp 1 | OK | reward=1\nsources:\n  food: 1\n",
			rows: 1, food: []float64{1}, reward: []float64{1},
		},
		{
			name: "malformed header drops its block, not merged into the previous",
			text: "Ep 1 | OK | reward=1\nsources:\n  food: 1\n\nEp 2 | OK | reward=abc\nsources:\n  food: 50\n\nEp 3 | OK | reward=3\nsources:\n  food: 3\n",
			rows: 2, skipped: 1, food: []float64{1, 3}, reward: []float64{1, 3},
			issues: []string{`run.log:5: field "header": malformed episode header: reward="abc": not a number; block dropped`},
		},
		{
			name: "header without episode number",
			text: "Ep x | OK | reward=1\nsources:\n  food: 9\nEp 2 | OK | reward=2\nsources:\n  food: 2\n",
			rows: 1, skipped: 1, food: []float64{2}, reward: []float64{2},
			issues: []string{`run.log:1: field "header": malformed episode header: episode number "x" is not a whole number; block dropped`},
		},
		{
			name: "non-number value is reported and left missing",
			text: "Ep 1 | OK | reward=1\nsources:\n  food: lots\n  survival: 2\nEp 2 | OK | reward=2\nsources:\n  food: 2\n",
			rows: 2, food: []float64{math.NaN(), 2}, reward: []float64{1, 2},
			issues: []string{`run.log:3: field "food": value "lots": not a number; left missing`},
		},
		{
			name: "exponents, leading plus, keys with dashes",
			text: "Ep 1 | OK | reward=+1.5e1\nsources:\n  food: +2.5E-1\n  near-miss: -1e2\n",
			rows: 1, food: []float64{0.25}, reward: []float64{15},
			extraCol: "component.near-miss", extra: []float64{-100},
		},
		{
			name: "total_reward overrides the header reward",
			text: "Ep 1 | OK | reward=1\n=== EPISODE DATA ===\ntotal_reward: 7\noutcome: died\n\nsources:\n  food: 7\n",
			rows: 1, food: []float64{7}, reward: []float64{7},
		},
		{
			name: "block without sources is reported and skipped",
			text: "Ep 1 | OK | reward=1\n\nEp 2 | OK | reward=2\nsources:\n  food: 2\n",
			rows: 1, skipped: 1, food: []float64{2}, reward: []float64{2},
			issues: []string{`run.log:1: field "sources": episode 1 has no sources: lines; skipped`},
		},
		{
			name: "blank line ends the sources section",
			text: "Ep 1 | OK | reward=1\nsources:\n  food: 1\n\nnot: a source\n",
			rows: 1, food: []float64{1}, reward: []float64{1},
		},
		{
			name: "truncated last line of a live log is not an error",
			text: "Ep 1 | OK | reward=1\nsources:\n  food: 1\nEp 2 | OK | reward=2\nsources:\n  food: 2\n  survival: 1.",
			rows: 2, food: []float64{1, 2}, reward: []float64{1, 2},
		},
		{
			name: "non-finite values are rejected",
			text: "Ep 1 | OK | reward=1\nsources:\n  food: 1e999\n  survival: 1\nEp 2 | OK | reward=2\nsources:\n  food: 2\n",
			rows: 2, food: []float64{math.NaN(), 2}, reward: []float64{1, 2},
			issues: []string{`run.log:3: field "food": value "1e999": out of range; left missing`},
		},
		{
			name: "--map renames an EPISODE DATA key",
			text: "Ep 1 | OK | reward=1\n=== EPISODE DATA ===\nsteps: 40\n\nsources:\n  food: 1\n",
			rows: 1, food: []float64{1}, reward: []float64{1},
			mapping: map[string]string{"length": "steps"}, extraCol: "length", extra: []float64{40},
		},
		{
			name: "duplicate source keeps the last value",
			text: "Ep 1 | OK | reward=1\nsources:\n  food: 1\n  food: 4\n",
			rows: 1, food: []float64{4}, reward: []float64{1},
			issues: []string{`run.log:4: field "food": source given twice in one episode; kept the last value`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := readRG(t, c.text, Options{Map: c.mapping})
			if run.Len() != c.rows || run.Skipped != c.skipped {
				t.Fatalf("rows %d skipped %d, want %d %d (issues %v)", run.Len(), run.Skipped, c.rows, c.skipped, run.Issues)
			}
			if len(run.Issues) != len(c.issues) {
				t.Fatalf("issues %v, want %v", run.Issues, c.issues)
			}
			for i, want := range c.issues {
				if got := run.Issues[i].Error(); got != want {
					t.Errorf("issue %d = %q, want %q", i, got, want)
				}
			}
			if got := col(t, run, "component.food"); !sameFloats(got, c.food) {
				t.Errorf("food %v, want %v", got, c.food)
			}
			if got := col(t, run, "reward"); !sameFloats(got, c.reward) {
				t.Errorf("reward %v, want %v", got, c.reward)
			}
			if c.extraCol != "" {
				if got := col(t, run, c.extraCol); !sameFloats(got, c.extra) {
					t.Errorf("%s %v, want %v", c.extraCol, got, c.extra)
				}
			}
		})
	}
}

func TestRewardguardStrict(t *testing.T) {
	text := "Ep 1 | OK | reward=1\nsources:\n  food: x\n"
	_, err := Read(strings.NewReader(text), "run.log", Options{Format: "rewardguard", Strict: true})
	if !errors.Is(err, ErrStrict) || !strings.Contains(err.Error(), `run.log:3: field "food"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestRewardguardDetect(t *testing.T) {
	cases := []struct {
		head string
		want bool
	}{
		{"preamble\nEp 1 | SUCCESS | reward=3.5\nsources:\n", true},
		{"  Ep 12 | DEATH | reward=-1e3 | steps=40\n", true},
		{"Epoch 1 | loss=3\n", false},
		{`{"scalar_reward": 1}` + "\n", false},
		{"Ep 1 | SUCCESS | score=3\n", false},
		{"", false},
	}
	for _, c := range cases {
		if got := detectRewardguard([]byte(c.head), "x"); got != c.want {
			t.Errorf("detect(%q) = %v, want %v", c.head, got, c.want)
		}
	}
	// Through the registry, and gzipped.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	data, err := os.ReadFile(filepath.Join("..", "testdata", "rewardguard", "snake.log"))
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(data)
	zw.Close()
	run, err := Read(&buf, "snake.log.gz", Options{})
	if err != nil || run.Format != "rewardguard" || run.Len() != 3 {
		t.Fatalf("gz read: %v %v", err, run)
	}
}

func FuzzRewardguard(f *testing.F) {
	f.Add("Ep 1 | OK | reward=1\nsources:\n  food: 1\n")
	f.Add("x\nEp 2 | DEATH | reward=-1e3\n=== EPISODE DATA ===\ntotal_reward: 4\n\nsources:\n a-b: +3\npercentages:\n a-b: 100\n")
	f.Add("Ep | | reward=\nsources:\n:\n")
	f.Fuzz(func(t *testing.T, text string) {
		run, err := Read(strings.NewReader(text), "f.log", Options{Format: "rewardguard"})
		if err != nil {
			t.Fatalf("non-strict read failed: %v", err)
		}
		for _, name := range run.Columns() {
			if c, ok := run.Column(name); ok && len(c) != run.Len() {
				t.Fatalf("column %s has %d rows, run %d", name, len(c), run.Len())
			}
			if s, ok := run.StringColumn(name); ok && len(s) != run.Len() {
				t.Fatalf("column %s has %d rows, run %d", name, len(s), run.Len())
			}
		}
		for _, is := range run.Issues {
			if is.File != "f.log" || is.Line <= 0 {
				t.Fatalf("issue without a location: %+v", is)
			}
		}
		for _, comp := range run.Components() {
			for _, v := range col(t, run, ComponentPrefix+comp) {
				if math.IsInf(v, 0) {
					t.Fatalf("infinite value in %s", comp)
				}
			}
		}
	})
}

func BenchmarkRewardguardRead(b *testing.B) {
	var sb strings.Builder
	for ep := 1; ep <= 20000; ep++ {
		fmt.Fprintf(&sb, "Ep %d | SUCCESS | reward=%g\n=== EPISODE DATA ===\ntotal_reward: %g\nsteps: %d\n\nsources:\n  food: %g\n  survival: %g\n  death: %g\npercentages:\n  food: 50.0\n  survival: 30.0\n  death: 20.0\n\n",
			ep, float64(ep)*0.5, float64(ep)*0.5, ep%400, float64(ep%7)*1.25, 0.01*float64(ep%100), -float64(ep%3))
	}
	data := sb.String()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run, err := Read(strings.NewReader(data), "bench.log", Options{Format: "rewardguard"})
		if err != nil || run.Len() != 20000 {
			b.Fatal(err, run.Len())
		}
	}
}
