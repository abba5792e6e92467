package probe

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestParseResult(t *testing.T) {
	tests := []struct {
		in      string
		reward  float64
		comps   map[string]float64
		err     error
		errText string
	}{
		{in: "0.75", reward: 0.75},
		{in: " -2 \n", reward: -2},
		{in: "true", reward: 1},
		{in: `{"total": 3, "a": 1, "b": 1}`, reward: 3, comps: map[string]float64{"total": 3, "a": 1, "b": 1}},
		{in: `{"a": 0.5, "b": 0.25}`, reward: 0.75, comps: map[string]float64{"a": 0.5, "b": 0.25}},
		{in: `{"a": true, "b": "0.5", "note": "why", "n": null, "x": [1]}`, reward: 1.5, comps: map[string]float64{"a": 1, "b": 0.5}},
		{in: `{"error": null, "a": 2}`, reward: 2, comps: map[string]float64{"a": 2}},
		{in: `{"error": "TypeError: bad"}`, err: ErrFunction, errText: "TypeError: bad"},
		{in: `{"error": "boom", "a": 1}`, err: ErrFunction, errText: "boom"},
		{in: "NaN", err: ErrNotAReward, errText: "NaN or Infinity"},
		{in: `{"a": NaN}`, err: ErrNotAReward, errText: "NaN or Infinity"},
		{in: "-Infinity", err: ErrNotAReward, errText: "NaN or Infinity"},
		{in: "null", err: ErrNotAReward, errText: "null"},
		{in: `"0.5"`, err: ErrNotAReward, errText: "a string"},
		{in: "[1, 2]", err: ErrNotAReward, errText: "an array"},
		{in: `{"note": "x"}`, err: ErrNotAReward, errText: "no numeric entries"},
		{in: "debug: hello", err: ErrNotAReward, errText: "not JSON"},
		{in: `{"msg": "NaN"} x`, err: ErrNotAReward, errText: "not JSON"},
		{in: "1 2", err: ErrNotAReward, errText: "not JSON"},
		{in: "1e999", err: ErrNotAReward, errText: "out of range"},
		{in: "", err: ErrNotAReward, errText: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := ParseResult([]byte(tt.in))
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("err = %v, want %v containing %q", err, tt.err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Reward != tt.reward || !reflect.DeepEqual(s.Components, tt.comps) {
				t.Errorf("got %+v, want %v %v", s, tt.reward, tt.comps)
			}
		})
	}
}

func TestScoreOf(t *testing.T) {
	tests := []struct {
		v      any
		reward float64
		err    error
	}{
		{0.5, 0.5, nil},
		{float32(0.25), 0.25, nil},
		{3, 3, nil},
		{uint8(2), 2, nil},
		{true, 1, nil},
		{map[string]float64{"a": 1, "total": 5}, 5, nil},
		{map[string]int{"a": 1, "b": 2}, 3, nil},
		{map[string]any{"a": 1.0, "why": "ok"}, 1, nil},
		{map[string]any{"error": "no"}, 0, ErrFunction},
		{Score{Reward: 2}, 2, nil},
		{Score{Reward: math.NaN()}, 0, ErrNotAReward},
		{Score{Reward: 1, Components: map[string]float64{"x": math.Inf(1)}}, 0, ErrNotAReward},
		{math.Inf(-1), 0, ErrNotAReward},
		{map[string]float64{}, 0, ErrNotAReward},
		{"1", 0, ErrNotAReward},
		{nil, 0, ErrNotAReward},
	}
	for _, tt := range tests {
		s, err := ScoreOf(tt.v)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("ScoreOf(%#v) err = %v, want %v", tt.v, err, tt.err)
			}
			continue
		}
		if err != nil || s.Reward != tt.reward {
			t.Errorf("ScoreOf(%#v) = %v, %v; want %v", tt.v, s.Reward, err, tt.reward)
		}
	}
}

func TestGoFunc(t *testing.T) {
	exact := func(response, answer string) float64 {
		if strings.TrimSpace(response) == answer {
			return 1
		}
		return 0
	}
	fn, err := GoFunc(exact, "response", "answer")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		name   string
		c      Case
		reward float64
		err    error
		text   string
	}{
		{"positional", NewCase([]any{"42", "42"}), 1, nil, ""},
		{"named", NewCase(nil, "answer", "7", "response", " 7 "), 1, nil, ""},
		{"mixed", NewCase([]any{"8"}, "answer", "7"), 0, nil, ""},
		{"too many", NewCase([]any{"a", "b", "c"}), 0, ErrArity, "3 positional arguments, the function takes 2"},
		{"missing", NewCase([]any{"a"}), 0, ErrArity, `missing argument "answer"`},
		{"unknown kwarg", NewCase([]any{"a", "b"}, "extra", 1), 0, ErrArity, `unexpected named argument "extra"`},
		{"twice", NewCase([]any{"a", "b"}, "answer", "c"), 0, ErrArity, "both by position and by name"},
		{"wrong type", NewCase([]any{"a", []any{"x"}}), 0, ErrArity, "cannot use an array as string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := fn.Score(ctx, tt.c)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.text) {
					t.Fatalf("err = %v, want %v with %q", err, tt.err, tt.text)
				}
				return
			}
			if err != nil || s.Reward != tt.reward {
				t.Fatalf("got %v, %v; want %v", s.Reward, err, tt.reward)
			}
		})
	}
}

func TestGoFuncShapes(t *testing.T) {
	ctx := context.Background()
	type item struct {
		N int `json:"n"`
	}
	comps, _ := GoFunc(func(ctx context.Context, r string, n float64, it item, xs []int) (map[string]float64, error) {
		if ctx == nil {
			return nil, errors.New("no context")
		}
		return map[string]float64{"len": float64(len(r)), "n": n, "item": float64(it.N), "xs": float64(len(xs))}, nil
	})
	c, _ := ReadCases(strings.NewReader(`[["abc", 2.5, {"n": 4}, [1, 2]]]`), "c.json")
	s, err := comps.Score(ctx, c[0])
	if err != nil {
		t.Fatal(err)
	}
	if s.Reward != 3+2.5+4+2 || s.Components["item"] != 4 {
		t.Errorf("got %+v", s)
	}

	failing, _ := GoFunc(func(string) (float64, error) { return 0, errors.New("judge offline") })
	if _, err := failing.Score(ctx, NewCase([]any{"x"})); !errors.Is(err, ErrFunction) || !strings.Contains(err.Error(), "judge offline") {
		t.Errorf("error result: %v", err)
	}
	panicky, _ := GoFunc(func(s string) float64 { panic("index out of range") })
	if _, err := panicky.Score(ctx, NewCase([]any{"x"})); !errors.Is(err, ErrFunction) || !strings.Contains(err.Error(), "panic: index out of range") {
		t.Errorf("panic: %v", err)
	}
	nan, _ := GoFunc(func(s string) float64 { return math.NaN() })
	if _, err := nan.Score(ctx, NewCase([]any{"x"})); !errors.Is(err, ErrNotAReward) {
		t.Errorf("NaN: %v", err)
	}
	anyArg, _ := GoFunc(func(v any) float64 { return v.(float64) })
	if s, err := anyArg.Score(ctx, c[0].With("0", c[0].Args[1])); err == nil {
		t.Errorf("any: want arity error for 4 args, got %v", s)
	}
	if s, err := anyArg.Score(ctx, Case{Args: []any{c[0].Args[1]}}); err != nil || s.Reward != 2.5 {
		t.Errorf("any: %v %v", s, err)
	}

	for _, bad := range []any{nil, 3, func(...string) float64 { return 0 }, func() string { return "" },
		func() (float64, int) { return 0, 0 }, func() {}} {
		if _, err := GoFunc(bad); err == nil {
			t.Errorf("GoFunc(%T) accepted", bad)
		}
	}
	if _, err := GoFunc(func(a, b string) float64 { return 0 }, "only-one"); err == nil {
		t.Error("GoFunc with 1 name for 2 params accepted")
	}
}
