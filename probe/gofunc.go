package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

var (
	ctxType   = reflect.TypeOf((*context.Context)(nil)).Elem()
	errType   = reflect.TypeOf((*error)(nil)).Elem()
	scoreType = reflect.TypeOf(Score{})
)

// GoFunc adapts an ordinary Go function to a RewardFunc, the way rewardspy
// calls a Python one: positional arguments fill the parameters from the
// first, then named arguments fill the rest by the names in params (one
// name per parameter, in order; Go keeps no parameter names at run time).
//
// fn may take a context.Context first. Each other parameter receives the
// JSON value converted to its type (string, numbers, bool, slices, maps,
// structs, or any). fn returns a reward and optionally an error last; the
// reward is a number or bool, a map[string]float64 (or map[string]any) of
// components, or a Score. A panic in fn is reported as an ErrFunction for
// that case.
//
// Per case, too many positional arguments, an unknown named argument, a
// missing argument or a value of the wrong type is ErrArity. GoFunc
// itself fails when fn is not such a function or params has the wrong
// length. The function is called from one goroutine at a time unless
// Options.Workers says otherwise.
func GoFunc(fn any, params ...string) (RewardFunc, error) {
	v := reflect.ValueOf(fn)
	if !v.IsValid() || v.Kind() != reflect.Func || v.IsNil() {
		return nil, fmt.Errorf("probe.GoFunc: want a function, got %T", fn)
	}
	t := v.Type()
	if t.IsVariadic() {
		return nil, errors.New("probe.GoFunc: variadic functions are not supported")
	}
	g := &goFunc{fn: v, names: params}
	if t.NumIn() > 0 && t.In(0) == ctxType {
		g.ctx = true
	}
	for i := 0; i < t.NumIn(); i++ {
		if i == 0 && g.ctx {
			continue
		}
		g.in = append(g.in, t.In(i))
	}
	if len(params) > 0 && len(params) != len(g.in) {
		return nil, fmt.Errorf("probe.GoFunc: %d parameter names for a function of %d parameters", len(params), len(g.in))
	}
	switch t.NumOut() {
	case 1:
	case 2:
		if t.Out(1) != errType {
			return nil, fmt.Errorf("probe.GoFunc: second result must be error, got %s", t.Out(1))
		}
		g.hasErr = true
	default:
		return nil, fmt.Errorf("probe.GoFunc: want 1 result (and an optional error), got %d", t.NumOut())
	}
	if !resultKindOK(t.Out(0)) {
		return nil, fmt.Errorf("probe.GoFunc: cannot read a reward from %s (want a number, bool, map of components or probe.Score)", t.Out(0))
	}
	return g, nil
}

func resultKindOK(t reflect.Type) bool {
	if t == scoreType {
		return true
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32,
		reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Bool:
		return true
	case reflect.Map:
		return t.Key().Kind() == reflect.String
	case reflect.Interface:
		return true
	}
	return false
}

type goFunc struct {
	fn     reflect.Value
	ctx    bool
	in     []reflect.Type
	names  []string
	hasErr bool
}

func (g *goFunc) Score(ctx context.Context, c Case) (s Score, err error) {
	args, err := g.bind(c)
	if err != nil {
		return Score{}, err
	}
	if g.ctx {
		args = append([]reflect.Value{reflect.ValueOf(ctx)}, args...)
	}
	defer func() {
		if p := recover(); p != nil {
			s, err = Score{}, fmt.Errorf("%w: panic: %v", ErrFunction, p)
		}
	}()
	out := g.fn.Call(args)
	if g.hasErr {
		if e, _ := out[1].Interface().(error); e != nil {
			return Score{}, fmt.Errorf("%w: %v", ErrFunction, e)
		}
	}
	return ScoreOf(out[0].Interface())
}

func (g *goFunc) bind(c Case) ([]reflect.Value, error) {
	n := len(g.in)
	if len(c.Args) > n {
		return nil, fmt.Errorf("%w: case has %d positional arguments, the function takes %d", ErrArity, len(c.Args), n)
	}
	vals := make([]reflect.Value, n)
	set := make([]bool, n)
	for i, a := range c.Args {
		v, err := convert(a, g.in[i])
		if err != nil {
			return nil, fmt.Errorf("%w: argument %d: %v", ErrArity, i, err)
		}
		vals[i], set[i] = v, true
	}
	for _, k := range c.keys() {
		i := indexOf(g.names, k)
		if i < 0 {
			if len(g.names) == 0 {
				return nil, fmt.Errorf("%w: named argument %q, but no parameter names were given to GoFunc", ErrArity, k)
			}
			return nil, fmt.Errorf("%w: unexpected named argument %q (parameters: %s)", ErrArity, k, strings.Join(g.names, ", "))
		}
		if set[i] {
			return nil, fmt.Errorf("%w: argument %q given both by position and by name", ErrArity, k)
		}
		v, err := convert(c.Kwargs[k], g.in[i])
		if err != nil {
			return nil, fmt.Errorf("%w: argument %q: %v", ErrArity, k, err)
		}
		vals[i], set[i] = v, true
	}
	for i, ok := range set {
		if !ok {
			name := fmt.Sprintf("%d", i)
			if len(g.names) > 0 {
				name = fmt.Sprintf("%q", g.names[i])
			}
			return nil, fmt.Errorf("%w: missing argument %s (case has %d positional, %d named)", ErrArity, name, len(c.Args), len(c.Kwargs))
		}
	}
	return vals, nil
}

func indexOf(s []string, x string) int {
	for i, v := range s {
		if v == x {
			return i
		}
	}
	return -1
}

// convert turns a decoded JSON value into a value of type t.
func convert(v any, t reflect.Type) (reflect.Value, error) {
	switch x := v.(type) {
	case string:
		if t.Kind() == reflect.String {
			return reflect.ValueOf(x).Convert(t), nil
		}
	case json.Number:
		if t.Kind() == reflect.Float64 {
			f, err := x.Float64()
			if err != nil {
				return reflect.Value{}, err
			}
			return reflect.ValueOf(f).Convert(t), nil
		}
	}
	if t.Kind() == reflect.Interface && t.NumMethod() == 0 {
		// any: hand over plain Go values (float64 for numbers).
		b, err := json.Marshal(v)
		if err != nil {
			return reflect.Value{}, err
		}
		var out any
		if err := json.Unmarshal(b, &out); err != nil {
			return reflect.Value{}, err
		}
		if out == nil {
			return reflect.Zero(t), nil
		}
		return reflect.ValueOf(out), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return reflect.Value{}, err
	}
	p := reflect.New(t)
	if err := json.Unmarshal(b, p.Interface()); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return reflect.Value{}, fmt.Errorf("cannot use %s as %s", jsonType(v), t)
		}
		return reflect.Value{}, err
	}
	return p.Elem(), nil
}

// ScoreOf reads a reward from a Go value: a number or bool; a Score; a
// map[string]float64, map[string]int or map[string]any of components
// (ComponentsScore; in a map[string]any, non-numeric entries are ignored
// and an "error" string is ErrFunction). NaN and ±Inf are ErrNotAReward.
func ScoreOf(v any) (Score, error) {
	switch x := v.(type) {
	case Score:
		if _, err := NumberScore(x.Reward); err != nil {
			return Score{}, err
		}
		for _, k := range sortedKeys(x.Components) {
			if c := x.Components[k]; c != c || c > maxFloat || c < -maxFloat {
				return Score{}, fmt.Errorf("%w: component %q is %v", ErrNotAReward, k, c)
			}
		}
		return x, nil
	case map[string]float64:
		return ComponentsScore(x)
	case map[string]any:
		b, err := json.Marshal(x)
		if err != nil {
			return Score{}, fmt.Errorf("%w: %v", ErrNotAReward, err)
		}
		return ParseResult(b)
	case nil:
		return Score{}, fmt.Errorf("%w: result is nil", ErrNotAReward)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		return NumberScore(rv.Float())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return NumberScore(float64(rv.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return NumberScore(float64(rv.Uint()))
	case reflect.Bool:
		return Score{Reward: b2f(rv.Bool())}, nil
	case reflect.Map:
		if rv.Type().Key().Kind() == reflect.String {
			comps := map[string]float64{}
			for _, k := range rv.MapKeys() {
				e := rv.MapIndex(k)
				switch e.Kind() {
				case reflect.Float32, reflect.Float64:
					comps[k.String()] = e.Float()
				case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
					comps[k.String()] = float64(e.Int())
				case reflect.Bool:
					comps[k.String()] = b2f(e.Bool())
				default:
					return Score{}, fmt.Errorf("%w: component %q is a %s", ErrNotAReward, k.String(), e.Type())
				}
			}
			return ComponentsScore(comps)
		}
	}
	return Score{}, fmt.Errorf("%w: cannot read a reward from a %T", ErrNotAReward, v)
}

const maxFloat = 1.7976931348623157e308

func sortedKeys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
