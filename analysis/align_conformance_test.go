package analysis

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// AlignCase is one entry of conformance/alignment/index.json.
type alignCase struct {
	Expected     string             `json:"expected"`
	Options      []string           `json:"options"`
	FinalWeights map[string]float64 `json:"final_weights"`
}

// readGoodhartCSV parses goodhart's CSV form (a header, numeric cells) into a
// Run without depending on ingest's CSV reader.
func readGoodhartCSV(t testing.TB, path string) *ingest.Run {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	run := ingest.NewRun(len(recs) - 1)
	for j, name := range recs[0] {
		col := make([]float64, len(recs)-1)
		for i, r := range recs[1:] {
			if r[j] == "" {
				col[i] = math.NaN()
				continue
			}
			if col[i], err = strconv.ParseFloat(r[j], 64); err != nil {
				t.Fatalf("%s row %d %s: %v", path, i+2, name, err)
			}
		}
		run.SetColumn(name, col)
	}
	return run
}

// alignOptionsFromIndex turns index.json's "name=value" options into
// AlignOptions (the names are the DESIGN §3 option names).
func alignOptionsFromIndex(opts []string) (AlignOptions, bool, error) {
	var o AlignOptions
	openLoop := false
	for _, kv := range opts {
		k, v, _ := strings.Cut(kv, "=")
		atoi := func() int { n, _ := strconv.Atoi(v); return n }
		atof := func() float64 { x, _ := strconv.ParseFloat(v, 64); return x }
		switch k {
		case "window":
			o.Window = atoi()
		case "baseline_steps":
			o.BaselineSteps = atoi()
		case "z_threshold":
			if strings.Contains(v, ":") || strings.Contains(v, "=") {
				return o, false, fmt.Errorf("per-component z_threshold in index.json: %s", v)
			}
			o.ZThreshold = atof()
		case "sigmoid_steepness":
			o.SigmoidSteepness = atof()
		case "auto_correct":
			o.NoAutoCorrect = v == "false" || v == "False" || v == "0"
		case "correction_rate":
			o.CorrectionRate = atof()
		case "correction_rate_decay":
			o.CorrectionRateDecay = atof()
		case "min_confidence_steps":
			o.MinConfidenceSteps = atoi()
		case "drift_window":
			o.DriftWindow = atoi()
		case "starvation_window":
			o.StarvationWindow = atoi()
		case "starvation_threshold":
			o.StarvationThreshold = atof()
		case "open_loop":
			openLoop = v == "true" || v == "True" || v == "1"
		default:
			return o, false, fmt.Errorf("unknown option %q", kv)
		}
	}
	return o, openLoop, nil
}

func parseExpectedSpec(s string) map[string]float64 {
	out := map[string]float64{}
	for _, p := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(p, "=")
		out[k], _ = strconv.ParseFloat(v, 64)
	}
	return out
}

// CompareAlignCSV compares an audit trail with the expected one: scores and
// drift to 1e-6, z to 1e-4, everything else exactly. It returns the first
// few differences.
func compareAlignCSV(got, want []byte) []string {
	g, err1 := csv.NewReader(bytes.NewReader(got)).ReadAll()
	w, err2 := csv.NewReader(bytes.NewReader(want)).ReadAll()
	if err1 != nil || err2 != nil {
		return []string{fmt.Sprintf("csv parse: %v %v", err1, err2)}
	}
	var diffs []string
	add := func(s string) bool {
		diffs = append(diffs, s)
		return len(diffs) >= 8
	}
	if strings.Join(g[0], ",") != strings.Join(w[0], ",") {
		return []string{fmt.Sprintf("header %v, want %v", g[0], w[0])}
	}
	if len(g) != len(w) {
		add(fmt.Sprintf("%d rows, want %d", len(g)-1, len(w)-1))
	}
	for i := 1; i < len(g) && i < len(w); i++ {
		for j, name := range w[0] {
			a, b := g[i][j], w[i][j]
			tol := -1.0
			switch {
			case name == "alignment_score" || name == "drift_velocity":
				tol = 1e-6
			case strings.HasPrefix(name, "z_"):
				tol = 1e-4
			}
			if tol < 0 {
				if a != b {
					if x, e1 := strconv.ParseFloat(a, 64); e1 == nil {
						if y, e2 := strconv.ParseFloat(b, 64); e2 == nil && x == y {
							continue
						}
					}
					if add(fmt.Sprintf("row %d (step %s) %s = %q, want %q", i+1, w[i][0], name, a, b)) {
						return diffs
					}
				}
				continue
			}
			x, _ := strconv.ParseFloat(a, 64)
			y, _ := strconv.ParseFloat(b, 64)
			if math.Abs(x-y) > tol*1.0000001+1e-12 {
				if add(fmt.Sprintf("row %d (step %s) %s = %s, want %s", i+1, w[i][0], name, a, b)) {
					return diffs
				}
			}
		}
	}
	return diffs
}

func conformanceDirs(t *testing.T) []string {
	dirs := []string{ingesttest.Testdata(t, "conformance", "alignment")}
	shared := filepath.Join(ingesttest.RepoRoot(t), "..", "shared", "conformance", "alignment")
	if env := os.Getenv("GOODHART_SHARED"); env != "" {
		shared = filepath.Join(env, "conformance", "alignment")
	}
	if _, err := os.Stat(filepath.Join(shared, "index.json")); err == nil {
		dirs = append(dirs, shared)
	} else {
		t.Logf("%s not found; checking the copies in testdata only", shared)
	}
	return dirs
}

func TestAlignConformance(t *testing.T) {
	for di, dir := range conformanceDirs(t) {
		label := "testdata"
		if di > 0 {
			label = "shared"
		}
		raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
		if err != nil {
			t.Fatal(err)
		}
		var index map[string]alignCase
		if err := json.Unmarshal(raw, &index); err != nil {
			t.Fatal(err)
		}
		names := make([]string, 0, len(index))
		for n := range index {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			c := index[name]
			t.Run(label+"/"+name, func(t *testing.T) {
				opt, openLoop, err := alignOptionsFromIndex(c.Options)
				if err != nil {
					t.Fatal(err)
				}
				opt.MaxSnapshots = -1
				a, err := NewAligner(parseExpectedSpec(c.Expected), opt)
				if err != nil {
					t.Fatal(err)
				}
				run := readGoodhartCSV(t, filepath.Join(dir, name+".csv"))
				comps := append([]string(nil), a.Components()...)
				for _, rc := range run.Components() {
					comps = append(comps, rc)
				}
				var buf bytes.Buffer
				cw := NewAlignCSVWriter(&buf, dedup(comps))
				a.OnSnapshot(func(s Snapshot) { cw.Write(s) })
				if _, err := a.Replay(run, ReplayOptions{OpenLoop: openLoop}); err != nil {
					t.Fatal(err)
				}
				if err := cw.Flush(); err != nil {
					t.Fatal(err)
				}
				want, err := os.ReadFile(filepath.Join(dir, name+".expected.csv"))
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range compareAlignCSV(buf.Bytes(), want) {
					t.Error(d)
				}
				w := a.Weights()
				for comp, fw := range c.FinalWeights {
					if w[comp] != fw {
						t.Errorf("final weight %s = %v, want %v", comp, w[comp], fw)
					}
				}
				if len(w) != len(c.FinalWeights) {
					t.Errorf("final weights %v, want %v", w, c.FinalWeights)
				}
			})
		}
	}
}

func dedup(xs []string) []string {
	sort.Strings(xs)
	out := xs[:0]
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}
