package probe

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkCommandPython10k probes 10,000 cases against the Python
// exact-match reward command (pipelined, one process) and reports cases/s.
func BenchmarkCommandPython10k(b *testing.B) {
	py := python3(b)
	cases := make([]Case, 10000)
	for i := range cases {
		cases[i] = NewCase(nil, "response", fmt.Sprintf("Step one.\nStep two.\nAnswer: %d", i%13), "answer", fmt.Sprint(i%11))
		cases[i].Index = i
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		cmd := NewCommand(py, script(b, "exact_reward.py"))
		res, err := Probe(context.Background(), cmd, cases, Options{})
		cmd.Close()
		if err != nil {
			b.Fatal(err)
		}
		if res.Scored() != len(cases) {
			b.Fatalf("scored %d of %d", res.Scored(), len(cases))
		}
	}
	b.ReportMetric(float64(len(cases)*b.N)/b.Elapsed().Seconds(), "cases/s")
}

// BenchmarkHackGoFunc measures the hack probes' own overhead with a
// trivial Go reward (1,000 cases x 9 rewrites).
func BenchmarkHackGoFunc(b *testing.B) {
	fn, _ := GoFunc(func(r, a string) float64 { return float64(len(r)) }, "response", "answer")
	cases := make([]Case, 1000)
	for i := range cases {
		cases[i] = NewCase(nil, "response", fmt.Sprintf("<think>work %d</think>\nAnswer: %d", i, i), "answer", fmt.Sprint(i))
	}
	ctx := context.Background()
	base, _ := Probe(ctx, fn, cases, Options{})
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		if _, err := Hack(ctx, fn, base, HackOptions{}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(cases)*len(Perturbations)*b.N)/b.Elapsed().Seconds(), "variants/s")
}
