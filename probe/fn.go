package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Errors a reward function reports for one case. They are errors.Is-able;
// the message around them says what happened.
var (
	// ErrNotAReward: the function's result is not a finite number, an object
	// of numeric components or {"error": "..."} (garbage output, NaN, null).
	ErrNotAReward = errors.New("not a reward")
	// ErrFunction: the function itself reported an error for this case
	// ({"error": "..."}, an HTTP error status, a Go error or panic).
	ErrFunction = errors.New("reward function error")
	// ErrTimeout: no result within the per-case timeout.
	ErrTimeout = errors.New("timed out")
	// ErrCrashed: the command exited (or closed its output) while this case
	// was the oldest one waiting for a result.
	ErrCrashed = errors.New("reward command exited")
	// ErrArity: the case's arguments do not fit the Go function.
	ErrArity = errors.New("wrong arguments")
	// ErrUnusable: the function cannot score anything (the command cannot
	// be started or keeps exiting before answering). Probe stops and
	// returns it instead of failing every case.
	ErrUnusable = errors.New("reward function unusable")
)

// Score is one reward: the scalar and its named components. Components
// hold every numeric entry of an object result, including "total".
type Score struct {
	Reward     float64
	Components map[string]float64
}

// RewardFunc scores one case. Implementations used with Options.Workers > 1
// must be safe for concurrent use.
type RewardFunc interface {
	Score(ctx context.Context, c Case) (Score, error)
}

// Concurrent is implemented by reward functions that want several calls in
// flight at once (a pipelined command, an HTTP endpoint). Probe runs that
// many calls concurrently unless Options.Workers says otherwise.
type Concurrent interface {
	MaxInFlight() int
}

// Func adapts a plain Go function to RewardFunc.
type Func func(ctx context.Context, c Case) (Score, error)

// Score calls f.
func (f Func) Score(ctx context.Context, c Case) (Score, error) { return f(ctx, c) }

// ComponentsScore turns components into a Score: Reward is
// components["total"] when present, else the sum of all components (the
// rewardspy rule). An empty map is ErrNotAReward; so is any NaN or ±Inf,
// and a sum that overflows to ±Inf.
func ComponentsScore(comps map[string]float64) (Score, error) {
	if len(comps) == 0 {
		return Score{}, fmt.Errorf("%w: no numeric components", ErrNotAReward)
	}
	names := make([]string, 0, len(comps))
	for k := range comps {
		names = append(names, k)
	}
	sort.Strings(names)
	sum := 0.0
	for _, k := range names {
		v := comps[k]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Score{}, fmt.Errorf("%w: component %q is %v", ErrNotAReward, k, v)
		}
		sum += v
	}
	if t, ok := comps["total"]; ok {
		sum = t
	} else if math.IsInf(sum, 0) {
		return Score{}, fmt.Errorf("%w: the components sum to %v (overflow): give a \"total\" or smaller values", ErrNotAReward, sum)
	}
	return Score{Reward: sum, Components: comps}, nil
}

// NumberScore is a Score with no components; NaN and ±Inf are ErrNotAReward.
func NumberScore(x float64) (Score, error) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return Score{}, fmt.Errorf("%w: result is %v", ErrNotAReward, x)
	}
	return Score{Reward: x}, nil
}

// ParseResult reads one result as a command prints it or an HTTP endpoint
// returns it:
//
//   - a number (true/false count as 1/0): the reward;
//   - an object: {"error": "msg"} is ErrFunction with msg; otherwise each
//     numeric entry (numbers, booleans, numeric strings, as rewardspy's
//     float() accepts) is a component and the reward is "total" or the sum
//     (ComponentsScore); null, nested and other string entries are ignored;
//   - anything else (null, a string, an array, invalid JSON, Python's bare
//     NaN/Infinity) is ErrNotAReward.
func ParseResult(data []byte) (Score, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return Score{}, fmt.Errorf("%w: empty result", ErrNotAReward)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err == nil {
		if _, e := dec.Token(); e != io.EOF {
			err = errors.New("more than one JSON value")
		}
	}
	if err != nil {
		if hasNonFinite(data) {
			return Score{}, fmt.Errorf("%w: result contains NaN or Infinity: %s", ErrNotAReward, quoteShort(data))
		}
		return Score{}, fmt.Errorf("%w: output is not JSON: %s", ErrNotAReward, quoteShort(data))
	}
	return scoreValue(v)
}

func scoreValue(v any) (Score, error) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return Score{}, fmt.Errorf("%w: %s is out of range", ErrNotAReward, x)
		}
		return NumberScore(f)
	case bool:
		if x {
			return Score{Reward: 1}, nil
		}
		return Score{Reward: 0}, nil
	case nil:
		return Score{}, fmt.Errorf("%w: result is null (did the function return None?)", ErrNotAReward)
	case map[string]any:
		if e, ok := x["error"]; ok && e != nil {
			msg, isStr := e.(string)
			if !isStr {
				b, _ := json.Marshal(e)
				msg = string(b)
			}
			if strings.TrimSpace(msg) == "" {
				msg = "(empty error message)"
			}
			return Score{}, fmt.Errorf("%w: %s", ErrFunction, msg)
		}
		comps := map[string]float64{}
		for k, c := range x {
			if k == "error" {
				continue
			}
			switch y := c.(type) {
			case json.Number:
				f, err := y.Float64()
				if err != nil {
					return Score{}, fmt.Errorf("%w: component %q: %s is out of range", ErrNotAReward, k, y)
				}
				comps[k] = f
			case bool:
				comps[k] = b2f(y)
			case string:
				if f, err := strconv.ParseFloat(strings.TrimSpace(y), 64); err == nil {
					comps[k] = f
				}
			}
		}
		if len(comps) == 0 {
			return Score{}, fmt.Errorf("%w: result object has no numeric entries", ErrNotAReward)
		}
		return ComponentsScore(comps)
	case string:
		return Score{}, fmt.Errorf("%w: result is a string %s, want a number or an object of components", ErrNotAReward, quoteShort([]byte(x)))
	case []any:
		return Score{}, fmt.Errorf("%w: result is an array, want a number or an object of components", ErrNotAReward)
	}
	return Score{}, fmt.Errorf("%w: unexpected result %T", ErrNotAReward, v)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// hasNonFinite reports whether data has a NaN/Infinity token outside a
// string (what Python's json.dumps writes for float("nan")).
func hasNonFinite(data []byte) bool {
	in := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if in {
			if c == '\\' {
				i++
			} else if c == '"' {
				in = false
			}
			continue
		}
		if c == '"' {
			in = true
			continue
		}
		if bytes.HasPrefix(data[i:], []byte("NaN")) || bytes.HasPrefix(data[i:], []byte("Infinity")) {
			return true
		}
	}
	return false
}

// quoteShort quotes s for a message, cut to 80 bytes.
func quoteShort(s []byte) string {
	const max = 80
	if len(s) > max {
		return strconv.Quote(string(s[:max])) + "..."
	}
	return strconv.Quote(string(s))
}
