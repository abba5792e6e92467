package main

import (
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/goodhart-rl/goodhart/analysis"
)

// FuzzParseMap: --map gives non-empty, trimmed, unique keys and values, or
// an error; the map written back as k=v,... parses to the same map.
func FuzzParseMap(f *testing.F) {
	for _, s := range []string{"reward=train_reward,length=len", "a=1", " a = b , c=d ", "a=", "=b", "a=1,a=2", ",,", "", "a=b=c", "r=x/y,l=z\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseKV(s)
		if err != nil {
			return
		}
		if len(m) == 0 {
			t.Fatalf("%q: empty map without an error", s)
		}
		var parts []string
		for k, v := range m {
			if k == "" || v == "" || k != strings.TrimSpace(k) || v != strings.TrimSpace(v) || strings.Contains(k, "=") || strings.ContainsAny(k+v, ",") {
				t.Fatalf("%q: bad entry %q=%q", s, k, v)
			}
			parts = append(parts, k+"="+v)
		}
		sort.Strings(parts)
		back, err := parseKV(strings.Join(parts, ","))
		if err != nil || len(back) != len(m) {
			t.Fatalf("%q: written back as %q: %v %v", s, strings.Join(parts, ","), back, err)
		}
		for k, v := range m {
			if back[k] != v {
				t.Fatalf("%q: %s=%q became %q", s, k, v, back[k])
			}
		}
	})
}

// FuzzParseExpected: --expected gives numbers; the split the commands
// accept (ExpectedPercentages) is finite, >= 0 and sums to 100.
func FuzzParseExpected(f *testing.F) {
	for _, s := range []string{"task=0.7,safety=0.3", "a=60,b=40", "a=NaN", "a=Inf,b=1", "a=-1", "a=0", "a=1e308,b=1e308", "a=0x1p-2", "a=1_0", "a=1,a=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := parseWeights(s)
		if err != nil {
			return
		}
		p, err := analysis.ExpectedPercentages(w)
		if err != nil {
			return
		}
		sum := 0.0
		for k, v := range p {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("%q: %s=%v", s, k, v)
			}
			sum += v
		}
		if math.Abs(sum-100) > 1e-6 {
			t.Fatalf("%q: percentages sum to %v", s, sum)
		}
		if _, err := analysis.NewAligner(w, analysis.AlignOptions{}); err != nil {
			t.Fatalf("%q: accepted split refused by the aligner: %v", s, err)
		}
	})
}

// FuzzParseZThreshold: --z-threshold gives finite thresholds > 0 that the
// aligner accepts, or an error naming the flag.
func FuzzParseZThreshold(f *testing.F) {
	for _, s := range []string{"2.5", "food=3,death=4", "2.5,food=3", "0", "-1", "NaN", "Inf", "a=1,a=2", "=3", "a=", ",", "1e400", "a=1e-320"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var o analysis.AlignOptions
		if err := parseZThreshold(s, &o); err != nil {
			if !strings.HasPrefix(err.Error(), "--z-threshold ") {
				t.Fatalf("%q: error does not name the flag: %v", s, err)
			}
			return
		}
		if x := o.ZThreshold; !(x >= 0) || math.IsInf(x, 0) { // 0 = not given (the default)
			t.Fatalf("%q: threshold %v", s, x)
		}
		for k, v := range o.ZThresholds {
			if k == "" || !(v > 0) || math.IsInf(v, 0) {
				t.Fatalf("%q: %q=%v", s, k, v)
			}
		}
		if _, err := analysis.NewAligner(map[string]float64{"a": 1}, o); err != nil {
			t.Fatalf("%q: accepted thresholds refused by the aligner: %v", s, err)
		}
	})
}
