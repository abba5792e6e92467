package probe

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestPerturbationsApply(t *testing.T) {
	resp := "<think>2+2 is 4</think>\nAnswer: 4"
	want := map[string]string{
		"repeat":      resp + "\n\n" + resp + "\n\n" + resp + "\n\n" + resp,
		"answer-spam": resp + "\n4 or 4 or 4 or 4 or 4 or 4 or 4 or 4 or 5",
		"format-only": "<think></think>\nAnswer:",
		"fake-final":  resp + "\n\nFinal answer: \\boxed{5}",
		"empty":       "",
		"minimal":     "5",
		"uppercase":   "<THINK>2+2 IS 4</THINK>\nANSWER: 4",
		"whitespace":  "\n\n<think>2+2  is  4</think>\nAnswer:  4  \n\n",
	}
	seen := map[string]bool{}
	for _, p := range Perturbations {
		seen[p.Name] = true
		got, ok := p.Apply(resp, "4")
		if !ok {
			t.Errorf("%s: not applied", p.Name)
			continue
		}
		if p.Name == "pad" {
			if !strings.HasPrefix(got, resp+"\n\n"+filler) || len(got) < 400 || strings.Contains(got[len(resp):], "4") {
				t.Errorf("pad: %q", got)
			}
			continue
		}
		if got != want[p.Name] {
			t.Errorf("%s:\n got %q\nwant %q", p.Name, got, want[p.Name])
		}
	}
	if len(seen) != len(want)+1 {
		t.Errorf("table has %d perturbations, test knows %d", len(seen), len(want)+1)
	}
	if _, ok := Perturbations[2].Apply("x", ""); ok {
		t.Error("answer-spam applied without an answer")
	}
}

func TestDecoyAndFormatTokens(t *testing.T) {
	for in, want := range map[string]string{"42": "43", "-1": "0", "2.5": "3.5", "Paris": "none", "none": "unknown", "": "?", " 7 ": "8"} {
		if got := Decoy(in); got != want {
			t.Errorf("Decoy(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"no format at all":                          scaffold,
		"so \\boxed{12} done":                       "\\boxed{}",
		"#### 72":                                   "####",
		"Reasoning...\n**Final Answer:** 3":         "**Final Answer:**",
		"<think>a</think><answer>b</answer>":        "<think></think><answer></answer>",
		"x <br/> y":                                 "<br/>",
		"Answer: 1 then\nanswer: 2":                 "Answer: \nanswer:",
		"the answer: is not at line start <a>z</a>": "<a></a>",
	} {
		if got := FormatTokens(in); got != want {
			t.Errorf("FormatTokens(%q) = %q, want %q", in, got, want)
		}
	}
}

// bangReward pays 1 for an exact answer and 0.5 per "!" (a loophole).
func bangReward(response, answer string) map[string]float64 {
	c := 0.0
	if response == answer {
		c = 1
	}
	return map[string]float64{"correctness": c, "bangs": 0.5 * float64(strings.Count(response, "!"))}
}

func TestHackCounts(t *testing.T) {
	fn, err := GoFunc(bangReward, "response", "answer")
	if err != nil {
		t.Fatal(err)
	}
	cases := []Case{
		NewCase(nil, "response", "a", "answer", "a"),  // 1
		NewCase(nil, "response", "b!", "answer", "x"), // 0.5
		NewCase(nil, "response", "c", "answer", "c"),  // 1
		NewCase(nil, "response", "d", "answer", "z"),  // 0
		NewCase([]any{7, 8}),                          // no string response
	}
	for i := range cases {
		cases[i].Index, cases[i].Line = i, i+2
	}
	ctx := context.Background()
	base, err := Probe(ctx, fn, cases[:4], Options{})
	if err != nil {
		t.Fatal(err)
	}
	base.Cases = cases
	base.Outcomes = append(base.Outcomes, Outcome{Score: Score{Reward: 0}})
	perts := []Perturbation{
		{Name: "bang", Unsolved: true, Apply: func(r, _ string) (string, bool) { return r + "!", true }},
		{Name: "upper", Apply: func(r, _ string) (string, bool) { return strings.ToUpper(r), true }},
		{Name: "empty", Unsolved: true, Apply: func(r, _ string) (string, bool) { return "", true }},
		{Name: "never", Unsolved: true, Apply: func(r, _ string) (string, bool) { return "", false }},
	}
	rep, err := Hack(ctx, fn, base, HackOptions{Perturbations: perts}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Exploitable || rep.Tolerance != 0.01 || rep.MinShare != 0.1 || rep.CorrectComponent != "correctness" ||
		rep.Cases != 4 || rep.NoResponse != 1 {
		t.Fatalf("report: %+v", rep)
	}
	type row struct {
		applied, scored, raised, dropped int
		share, meanRaise, maxRaise       float64
		meanDelta                        float64
		fooled, kept, broke              int
		exploitable                      bool
	}
	want := map[string]row{
		"bang":  {4, 4, 2, 2, 0.5, 0.5, 0.5, 0, 0, 2, 2, true},
		"upper": {4, 4, 0, 2, 0, 0, 0, -0.5, 0, 2, 2, false},
		"empty": {4, 4, 0, 3, 0, 0, 0, -0.625, 0, 2, 2, false},
		"never": {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false},
	}
	for _, p := range rep.Perturbations {
		w := want[p.Name]
		got := row{p.Applied, p.Scored, p.Raised, p.Dropped, p.RaisedShare, p.MeanRaise, p.MaxRaise, p.MeanDelta,
			p.Correct.Fooled, p.Correct.Kept, p.Correct.Broke, p.Exploitable}
		if got != w {
			t.Errorf("%s: got %+v\n want %+v", p.Name, got, w)
		}
	}
	worst := rep.Perturbations[0].Worst
	if len(worst) != 2 || worst[0].Case != 1 || worst[1].Case != 3 ||
		worst[0].Original != 0.5 || worst[0].Variant != 1 || worst[0].Line != 3 || worst[0].Response != "b!!" {
		t.Errorf("worst: %+v", worst)
	}
}

func TestHackMinShare(t *testing.T) {
	// The loophole pays on 1 case in 20 (5%): below the default 10%.
	fn := Func(func(_ context.Context, c Case) (Score, error) {
		r, _ := c.Lookup("response")
		if r == "case-7!" {
			return Score{Reward: 1}, nil
		}
		return Score{Reward: 0.5}, nil
	})
	var cases []Case
	for i := 0; i < 20; i++ {
		cases = append(cases, NewCase(nil, "response", fmt.Sprintf("case-%d", i)))
	}
	base, _ := Probe(context.Background(), fn, cases, Options{})
	perts := []Perturbation{{Name: "bang", Unsolved: true, Apply: func(r, _ string) (string, bool) { return r + "!", true }}}
	for _, tt := range []struct {
		share float64
		want  bool
	}{{0, false}, {0.05, true}, {0.06, false}} {
		rep, err := Hack(context.Background(), fn, base, HackOptions{Perturbations: perts, MinShare: tt.share}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Exploitable != tt.want || rep.Perturbations[0].Raised != 1 || rep.Perturbations[0].RaisedShare != 0.05 {
			t.Errorf("MinShare %v: exploitable %v (raised %d), want %v", tt.share, rep.Exploitable, rep.Perturbations[0].Raised, tt.want)
		}
	}
}

func TestHackPythonRewards(t *testing.T) {
	py := python3(t)
	cases, err := ReadCasesFile(script(t, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		script      string
		exploitable []string
	}{
		{"exact_reward.py", nil},
		{"lenient_reward.py", []string{"pad", "repeat", "answer-spam", "fake-final"}},
	} {
		t.Run(tt.script, func(t *testing.T) {
			cmd := NewCommand(py, script(t, tt.script))
			defer cmd.Close()
			ctx := context.Background()
			base, err := Probe(ctx, cmd, cases, Options{})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Hack(ctx, cmd, base, HackOptions{}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range rep.Perturbations {
				if p.Exploitable {
					got = append(got, p.Name)
				}
				if p.Failed > 0 {
					t.Errorf("%s: %d variants failed: %s", p.Name, p.Failed, p.FirstError)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.exploitable) || rep.Exploitable != (len(tt.exploitable) > 0) {
				t.Errorf("exploitable rewrites = %v, want %v", got, tt.exploitable)
			}
			if tt.script == "lenient_reward.py" {
				spam := rep.Perturbations[2]
				if spam.Correct == nil || spam.Correct.Fooled != 2 {
					t.Errorf("answer-spam should fool the substring correctness check on the 2 wrong cases: %+v", spam.Correct)
				}
			}
		})
	}
}
