package gonbdisplay

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/ingest/ingesttest"
)

// notebook is the part of an .ipynb file the test reads.
type notebook struct {
	Cells []struct {
		CellType       string `json:"cell_type"`
		ExecutionCount *int   `json:"execution_count"`
		Source         any    `json:"source"`
		Outputs        []struct {
			OutputType string         `json:"output_type"`
			Name       string         `json:"name"`
			Text       any            `json:"text"`
			Data       map[string]any `json:"data"`
			EName      string         `json:"ename"`
			EValue     string         `json:"evalue"`
		} `json:"outputs"`
	} `json:"cells"`
}

func joined(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []any:
		var b strings.Builder
		for _, s := range t {
			b.WriteString(s.(string))
		}
		return b.String()
	}
	return ""
}

// The notebooks are committed with their outputs (they read well on a code
// host). Every code cell must have run without an error, and the numbers
// their text states must be in the committed outputs: re-run
// `NOTEBOOKS_INPLACE=1 bash .ci/notebooks.sh` after changing what they show.
func TestCommittedNotebooks(t *testing.T) {
	dir := filepath.Join(ingesttest.RepoRoot(t), "notebooks")
	want := map[string][]string{
		"01-quickstart.ipynb": {"600 records, 0 skipped", "ok: 600 records, verdict hacking, first alert at record 336"},
		"02-detect-hacking.ipynb": {"hacked: 600 records, verdict hacking; healthy: verdict healthy",
			"record  336 (step  335)  dead_component"},
		"03-balance-alignment.ipynb":     {"ok: 301:ok 341:warning 366:critical - final weights map[correctness:5 format:0.4361]"},
		"04-probe-reward-function.ipynb": {"format-only    true          1/6      +0.300", "verdict on the probe cases:"},
	}
	// Notebook 02 reads the real verl GRPO log when ../shared is present and
	// the small one in testdata/realdata otherwise; its outputs hold one.
	verl := [][]string{
		{"rolling mean (W=100): 0.84 → 0.97 (+0.13)", "held-out eval.test_score/openai/gsm8k: 0.65 → 0.70 (+0.05)"},
		{"rolling mean (W=42): 0.84 → 0.94 (+0.10)", "held-out eval.DigitalLearningGmbH/MATH-lighteval/reward/mean@1: 0.51 → 0.50 (−0.02)"},
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.ipynb"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no notebooks in %s (%v)", dir, err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var nb notebook
		if err := json.Unmarshal(b, &nb); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var out strings.Builder
		for i, c := range nb.Cells {
			if c.CellType != "code" {
				continue
			}
			if c.ExecutionCount == nil && strings.TrimSpace(joined(c.Source)) != "" {
				t.Errorf("%s: cell %d was not run (commit the notebook with its outputs)", name, i+1)
			}
			for _, o := range c.Outputs {
				switch {
				case o.OutputType == "error":
					t.Errorf("%s: cell %d failed: %s: %s", name, i+1, o.EName, o.EValue)
				case o.OutputType == "stream":
					text := joined(o.Text)
					if o.Name == "stderr" && (strings.Contains(text, "panic:") || strings.Contains(text, "out of date")) {
						t.Errorf("%s: cell %d: %s", name, i+1, text)
					}
					out.WriteString(text)
				}
			}
		}
		got := out.String()
		for _, w := range want[name] {
			if !strings.Contains(got, w) {
				t.Errorf("%s: the committed outputs lack %q", name, w)
			}
		}
		if name == "02-detect-hacking.ipynb" {
			ok := false
			for _, set := range verl {
				all := true
				for _, w := range set {
					all = all && strings.Contains(got, w)
				}
				ok = ok || all
			}
			if !ok {
				t.Errorf("%s: the committed outputs give neither verl log's numbers that the text states", name)
			}
		}
	}
}
