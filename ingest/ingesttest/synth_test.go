package ingesttest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/runs/ from the generators")

func TestPyFloat(t *testing.T) {
	cases := []struct {
		x    float64
		want string
	}{
		{0, "0.0"}, {math.Copysign(0, -1), "-0.0"}, {1, "1.0"}, {-2.5, "-2.5"},
		{0.1, "0.1"}, {1.1, "1.1"}, {1e-4, "0.0001"}, {1e-5, "1e-05"},
		{1.5e-7, "1.5e-07"}, {123456789012345.0, "123456789012345.0"},
		{1e15, "1000000000000000.0"}, {1e16, "1e+16"}, {1.2345e22, "1.2345e+22"},
		{1790000000.731, "1790000000.731"}, {0.30000000000000004, "0.30000000000000004"},
		{1e300, "1e+300"}, {5e-324, "5e-324"},
	}
	for _, c := range cases {
		if got := pyf(c.x); got != c.want {
			t.Errorf("pyf(%v) = %q, want %q", c.x, got, c.want)
		}
	}
}

// TestRegenerateRuns checks that the committed demo runs are what the
// generators write (and rewrites them with -update).
func TestRegenerateRuns(t *testing.T) {
	gens := map[string]func(*bytes.Buffer) error{
		"healthy.jsonl":          func(b *bytes.Buffer) error { return WriteDemoRun(b, Healthy) },
		"hacked.jsonl":           func(b *bytes.Buffer) error { return WriteDemoRun(b, Hacked) },
		"divergence_steps.jsonl": func(b *bytes.Buffer) error { return WriteDivergenceSteps(b) },
	}
	for name, gen := range gens {
		var b bytes.Buffer
		if err := gen(&b); err != nil {
			t.Fatal(err)
		}
		path := Testdata(t, "runs", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(got, b.Bytes()) {
			t.Errorf("%s differs from its generator (run with -update if the change is intended)", name)
		}
	}
}

// TestSynthIsValidJSON checks every generated line parses and keeps the
// rewardspy key order, and that the float text round-trips.
func TestSynthIsValidJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteRewardspyJSONL(&b, 500, 7); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&b)
	n := 0
	for sc.Scan() {
		n++
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		if _, ok := m["scalar_reward"].(float64); !ok {
			t.Fatalf("line %d: no scalar_reward", n)
		}
		if !bytes.HasPrefix(sc.Bytes(), []byte(`{"call_id":`)) {
			t.Fatalf("line %d: key order", n)
		}
	}
	if n != 500 {
		t.Fatalf("got %d lines, want 500", n)
	}
	for _, x := range []float64{0.1, 1.0 / 3, 2.5e-9, 7e22, -0.0} {
		s := pyf(x)
		y, err := strconv.ParseFloat(s, 64)
		if err != nil || y != x {
			t.Errorf("pyf(%v)=%q does not round-trip", x, s)
		}
	}
}
