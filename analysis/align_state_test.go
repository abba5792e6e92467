package analysis

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// savedState returns a state after n records, as a generic JSON map.
func savedState(t *testing.T, n int) map[string]any {
	t.Helper()
	a := mustAligner(t, map[string]float64{"a": 0.5, "b": 0.3, "c": 0.2}, AlignOptions{Window: 40, BaselineSteps: 100, MinConfidenceSteps: 20, DriftWindow: 10})
	for _, r := range randomRecords(5, n, []string{"a", "b", "c"}) {
		mustStep(t, a, r)
	}
	var buf bytes.Buffer
	if err := a.Save(&buf); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func loadMap(m map[string]any) error {
	b, _ := json.Marshal(m)
	_, err := LoadAligner(bytes.NewReader(b), AlignOptions{})
	return err
}

// Invalid or tampered state is refused with the field named, never
// resumed into "score 1.000000, OK".
func TestLoadAlignerRejectsInvalidState(t *testing.T) {
	set := func(path string, v any) func(m map[string]any) {
		return func(m map[string]any) {
			keys := strings.Split(path, ".")
			cur := m
			for _, k := range keys[:len(keys)-1] {
				cur = cur[k].(map[string]any)
			}
			cur[keys[len(keys)-1]] = v
		}
	}
	tests := []struct {
		name   string
		steps  int
		change func(map[string]any)
		want   string
	}{
		{"negative weight", 300, set("weights.a", -5.0), "weight of a is -5, outside [0.1, 5]"},
		{"huge weight", 300, set("weights.b", 1e308), "weight of b is 1e+308, outside [0.1, 5]"},
		{"missing weight", 300, func(m map[string]any) { delete(m["weights"].(map[string]any), "c") }, "no weight for c"},
		{"unknown component in weights", 300, set("weights.zz", 1.0), `weights names "zz"`},
		{"negative starvation count", 300, set("starvation_counts.a", -1), "starvation count of a"},
		{"negative step count", 300, set("step_count", -3), "step_count is -3"},
		{"last correction after the end", 300, set("last_correction", 301), "last_correction is 301"},
		{"rate above the configured rate", 300, set("rate", 7.0), "rate is 7"},
		{"negative rate", 300, set("rate", -0.1), "rate is -0.1"},
		{"baseline mean out of range", 300, set("baseline.mean.a", 1e9), "baseline of a is missing or invalid"},
		{"negative std", 300, set("baseline.std.b", -1.0), "baseline of b is missing or invalid"},
		{"negative window value", 300, func(m map[string]any) { m["window"].(map[string]any)["a"].([]any)[0] = -2.0 }, "window of a holds -2"},
		{"score above 1", 300, func(m map[string]any) { m["recent_scores"].([]any)[0].(map[string]any)["score"] = 2.0 }, "recent_scores entry"},
		{"zero window", 300, set("config.window", 0), "config.window is 0"},
		{"absurd window", 300, set("config.window", 1e12), "config.window is 1000000000000"},
		{"negative threshold", 300, set("config.z_threshold", -1.0), "config.z_threshold is -1"},
		{"expected not 100%", 300, set("config.expected.a", 90.0), "config.expected sums to"},
		{"expected component not tracked", 300, set("config.expected", map[string]any{"a": 50.0, "zz": 50.0}), "expected component zz is not among the components"},
		{"duplicate component", 300, set("components", []any{"a", "a", "b", "c"}), `component "a" is empty or listed twice`},
		{"warm-up ratio out of range", 50, func(m map[string]any) { m["warmup_ratios"].(map[string]any)["a"].([]any)[3] = 250.0 }, "warm-up ratio of a is 250"},
		{"baseline removed after the warm-up", 300, set("baseline", nil), "no baseline after 300 records"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := savedState(t, tt.steps)
			if err := loadMap(m); err != nil {
				t.Fatalf("unchanged state refused: %v", err)
			}
			tt.change(m)
			err := loadMap(m)
			if !errors.Is(err, ErrBadAlignmentFile) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrBadAlignmentFile containing %q", err, tt.want)
			}
		})
	}
	// 1e309 is not a float64: refused by the decoder.
	if _, err := LoadAligner(strings.NewReader(`{"format":"goodhart-alignment-state","version":1,"rate":1e309}`), AlignOptions{}); !errors.Is(err, ErrBadAlignmentFile) {
		t.Errorf("1e309: %v", err)
	}
}

// The state is the monitor's state, not its history: its size does not
// grow with the number of records.
func TestAlignStateSizeBounded(t *testing.T) {
	size := func(n int) int {
		a := mustAligner(t, map[string]float64{"a": 0.5, "b": 0.3, "c": 0.2}, AlignOptions{Window: 40, BaselineSteps: 100})
		for _, r := range randomRecords(9, n, []string{"a", "b", "c"}) {
			mustStep(t, a, r)
		}
		var buf bytes.Buffer
		if err := a.Save(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Len()
	}
	small, big := size(500), size(20000)
	if big > small*3/2 {
		t.Errorf("state after 20,000 records is %d bytes, after 500 %d: it grows with the run", big, small)
	}
}

// A state file written by an earlier version, with its snapshot history,
// still loads (the history is ignored).
func TestLoadAlignerIgnoresSavedSnapshots(t *testing.T) {
	m := savedState(t, 300)
	m["snapshots"] = []any{map[string]any{"step": 101, "alignment_score": 0.9}}
	b, _ := json.Marshal(m)
	a, err := LoadAligner(bytes.NewReader(b), AlignOptions{})
	if err != nil || len(a.Snapshots()) != 0 || a.StepCount() != 300 {
		t.Fatalf("%v, %d snapshots", err, len(a.Snapshots()))
	}
}
