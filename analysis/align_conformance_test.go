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
// AlignOptions (the names are the alignment monitor's option names).
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

func TestAlignConformance(t *testing.T) {
	for di, dir := range ingesttest.ConformanceDirs(t, "alignment") {
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
				for _, d := range ingesttest.CompareAlignTrail(buf.Bytes(), want) {
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
