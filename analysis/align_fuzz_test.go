package analysis

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

// FuzzLoadAligner: the state loader never panics or allocates without
// bound; a state it accepts can be stepped, and saves to a state that
// loads again and saves to the same bytes.
func FuzzLoadAligner(f *testing.F) {
	for _, n := range []int{0, 50, 120} {
		a, _ := NewAligner(map[string]float64{"a": 0.6, "b": 0.4}, AlignOptions{Window: 20, BaselineSteps: 100, DriftWindow: 5, MinConfidenceSteps: 5})
		for _, r := range randomRecords(int64(n), n, []string{"a", "b"}) {
			a.Step(r)
		}
		var buf bytes.Buffer
		a.Save(&buf)
		f.Add(buf.Bytes())
	}
	f.Add([]byte(`{"format":"goodhart-alignment-state","version":1,"config":{"expected":{"a":100},"window":1000000000000,"baseline_steps":1,"drift_window":1,"starvation_window":1,"min_confidence_steps":1},"components":["a"]}`))
	f.Add([]byte(`{"format":"goodhart-alignment-state","version":1,"weights":{"a":-5}}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := LoadAligner(bytes.NewReader(data), AlignOptions{})
		if err != nil {
			if !errors.Is(err, ErrBadAlignmentFile) && !errors.Is(err, ErrBadAlignOption) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		for _, w := range a.Weights() {
			if !(w >= minWeight && w <= maxWeight) {
				t.Fatalf("accepted weight %v", w)
			}
		}
		for i := 0; i < 3; i++ {
			s, err := a.Step(map[string]float64{"a": float64(i), "b": 1})
			if err != nil {
				t.Fatal(err)
			}
			if s != nil && (math.IsNaN(s.AlignmentScore) || s.AlignmentScore < 0 || s.AlignmentScore > 1) {
				t.Fatalf("score %v", s.AlignmentScore)
			}
		}
		var b1, b2 bytes.Buffer
		if err := a.Save(&b1); err != nil {
			t.Fatal(err)
		}
		a2, err := LoadAligner(bytes.NewReader(b1.Bytes()), AlignOptions{})
		if err != nil {
			t.Fatalf("a saved state does not load: %v\n%s", err, b1.Bytes())
		}
		a2.Save(&b2)
		if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
			t.Fatalf("save/load/save differs:\n%s\n%s", b1.Bytes(), b2.Bytes())
		}
	})
}
