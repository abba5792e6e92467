package analysis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// conformanceCase is one entry of a case's expected.json.
type conformanceCase struct {
	Args struct {
		Window      int      `json:"window"`
		Sensitivity string   `json:"sensitivity"`
		MaxReward   *float64 `json:"max_reward"`
	} `json:"args"`
	Expected map[string]any `json:"expected"`
}

// ConformanceConfig turns a case's args into the Config that
// `reportgen audit --detectors rewardspy` builds from the same flags.
func conformanceConfig(c conformanceCase) Config {
	cfg := Config{Window: c.Args.Window, Sensitivity: Sensitivity(c.Args.Sensitivity),
		Detectors: []string{"rewardspy"}}
	if cfg.Sensitivity == "" {
		cfg.Sensitivity = SensitivityMedium
	}
	if c.Args.MaxReward != nil {
		cfg.MaxReward, cfg.HasMaxReward = *c.Args.MaxReward, true
	}
	return cfg
}

func TestConformanceRewardspy(t *testing.T) {
	runConformance(t, ingesttest.Testdata(t, "conformance", "rewardspy"))
}

func TestConformanceRewardspyShared(t *testing.T) {
	dir := filepath.Join(ingesttest.SharedDir(t), "conformance", "rewardspy")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("skipping: %s not found", dir)
	}
	runConformance(t, dir)
}

func runConformance(t *testing.T, dir string) {
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
				t.Fatalf("%s: %v", exp, err)
			}
			run, err := ingest.ReadFile(filepath.Join(caseDir, "run.jsonl"), ingest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range list {
				name := fmt.Sprintf("w%d-%s-max%v", c.Args.Window, c.Args.Sensitivity, c.Args.MaxReward != nil)
				t.Run(name, func(t *testing.T) {
					rep, err := Audit(run, conformanceConfig(c))
					if err != nil {
						t.Fatal(err)
					}
					var buf bytes.Buffer
					if err := rep.WriteJSON(&buf); err != nil {
						t.Fatal(err)
					}
					var got map[string]any
					if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
						t.Fatalf("audit JSON does not parse: %v\n%s", err, buf.String())
					}
					compareExpected(t, c.Expected, got)
				})
			}
		})
	}
}

// compareExpected checks every key of want (rewardspy's output) against
// got; detectors and alerts are compared field by field so a failure says
// which one differs.
func compareExpected(t *testing.T, want, got map[string]any) {
	t.Helper()
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w, g := want[k], got[k]
		switch k {
		case "detectors":
			wd, _ := w.(map[string]any)
			gd, _ := g.(map[string]any)
			if len(wd) != len(gd) {
				t.Errorf("detectors: got %d, want %d (%v)", len(gd), len(wd), gd)
			}
			for name, wr := range wd {
				gr, _ := gd[name].(map[string]any)
				for field, wv := range wr.(map[string]any) {
					if !reflect.DeepEqual(gr[field], wv) {
						t.Errorf("detector %s %s: got %#v, want %#v", name, field, gr[field], wv)
					}
				}
			}
		case "alerts":
			wa, _ := w.([]any)
			ga, _ := g.([]any)
			for i := 0; i < max(len(wa), len(ga)); i++ {
				if i >= len(wa) {
					t.Errorf("extra alert %d: %v", i, ga[i])
					continue
				}
				if i >= len(ga) {
					t.Errorf("missing alert %d: %v", i, wa[i])
					continue
				}
				wm, gm := wa[i].(map[string]any), ga[i].(map[string]any)
				for field, wv := range wm {
					if !reflect.DeepEqual(gm[field], wv) {
						t.Errorf("alert %d (%v %v) %s: got %#v, want %#v", i, wm["step"], wm["detector"], field, gm[field], wv)
					}
				}
			}
		default:
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s: got %#v, want %#v", k, g, w)
			}
		}
	}
}
