package probe_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/goodhart-rl/goodhart/probe"
)

// A reward that checks the answer but also pays a little for length is
// caught by the hack probes.
func Example() {
	reward := func(response, answer string) map[string]float64 {
		correct := 0.0
		if strings.HasSuffix(strings.TrimSpace(response), "Answer: "+answer) {
			correct = 1
		}
		return map[string]float64{"correctness": correct, "length": float64(len(response)) / 1000}
	}
	fn, err := probe.GoFunc(reward, "response", "answer")
	if err != nil {
		panic(err)
	}
	cases, err := probe.ReadCases(strings.NewReader(`[
		{"response": "2 + 2 = 4. Answer: 4", "answer": "4"},
		{"response": "3 * 3 = 6. Answer: 6", "answer": "9"}
	]`), "cases.json")
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	res, err := probe.Probe(ctx, fn, cases, probe.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("rewards: %.3f\n", res.Rewards())
	hacks, err := probe.Hack(ctx, fn, res, probe.HackOptions{}, probe.Options{})
	if err != nil {
		panic(err)
	}
	for _, p := range hacks.Perturbations {
		if p.Exploitable {
			fmt.Printf("%s raises the reward on %d of %d cases (max %+.3f)\n", p.Name, p.Raised, p.Scored, p.MaxRaise)
		}
	}
	// Output:
	// rewards: [1.020 0.020]
	// pad raises the reward on 1 of 2 cases (max +0.482)
	// repeat raises the reward on 2 of 2 cases (max +0.066)
	// answer-spam raises the reward on 1 of 2 cases (max +0.043)
	// format-only raises the reward on 1 of 2 cases (max +0.036)
	// fake-final raises the reward on 1 of 2 cases (max +0.026)
}
