package probe

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestReadCasesForms(t *testing.T) {
	tests := []struct {
		name, file, in string
		want           []Case
	}{
		{"array of objects", "c.json", `[{"response": "a", "answer": "1"}]`,
			[]Case{{Index: 0, Line: 1, Kwargs: map[string]any{"response": "a", "answer": "1"}, Keys: []string{"response", "answer"}}}},
		{"args and kwargs", "c.json", "[\n {\"args\": [\"r\", 2], \"kwargs\": {\"z\": 1, \"a\": true}}\n]",
			[]Case{{Index: 0, Line: 2, Args: []any{"r", json.Number("2")}, Kwargs: map[string]any{"z": json.Number("1"), "a": true}, Keys: []string{"z", "a"}}}},
		{"args only", "c.json", `[{"args": ["x"]}]`,
			[]Case{{Index: 0, Line: 1, Args: []any{"x"}}}},
		{"object with args and more is named", "c.json", `[{"args": [1], "other": 2}]`,
			[]Case{{Index: 0, Line: 1, Kwargs: map[string]any{"args": []any{json.Number("1")}, "other": json.Number("2")}, Keys: []string{"args", "other"}}}},
		{"array is positional", "c.json", "[\n  [\"resp\", \"42\"],\n  []\n]",
			[]Case{{Index: 0, Line: 2, Args: []any{"resp", "42"}}, {Index: 1, Line: 3, Args: []any{}}}},
		{"scalars are one argument", "c.json", "[\"s\", 3.50, null, false]",
			[]Case{{Index: 0, Line: 1, Args: []any{"s"}}, {Index: 1, Line: 1, Args: []any{json.Number("3.50")}},
				{Index: 2, Line: 1, Args: []any{nil}}, {Index: 3, Line: 1, Args: []any{false}}}},
		{"jsonl mixed forms and blank lines", "c.jsonl", "{\"response\": \"a\"}\n\n[\"b\", \"2\"]\n\"c\"\n{\"args\": [], \"kwargs\": {\"k\": 1}}\n",
			[]Case{{Index: 0, Line: 1, Kwargs: map[string]any{"response": "a"}, Keys: []string{"response"}},
				{Index: 1, Line: 3, Args: []any{"b", "2"}},
				{Index: 2, Line: 4, Args: []any{"c"}},
				{Index: 3, Line: 5, Args: []any{}, Kwargs: map[string]any{"k": json.Number("1")}, Keys: []string{"k"}}}},
		{"jsonl of arrays without .jsonl name", "cases.txt", "[\"a\", \"1\"]\n[\"b\", \"2\"]\n",
			[]Case{{Index: 0, Line: 1, Args: []any{"a", "1"}}, {Index: 1, Line: 2, Args: []any{"b", "2"}}}},
		{"single array line in a .jsonl file is one case", "c.jsonl", "[\"a\", \"1\"]\n",
			[]Case{{Index: 0, Line: 1, Args: []any{"a", "1"}}}},
		{"empty", "c.json", "  \n", nil},
		{"empty array", "c.json", "[]", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadCases(strings.NewReader(tt.in), tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestReadCasesErrors(t *testing.T) {
	tests := []struct{ name, file, in, want string }{
		{"bad item in array", "c.json", "[\n {\"a\": 1},\n {\"a\": }\n]", "c.json: case 1 (line 3)"},
		{"args not array", "c.json", `[{"args": "x"}]`, `case 0 (line 1): "args" must be an array, got a string`},
		{"kwargs not object", "c.json", `[{"kwargs": [1]}]`, `"kwargs" must be an object, got an array`},
		{"duplicate key", "c.json", `[{"a": 1, "a": 2}]`, `key "a" appears twice`},
		{"unclosed array", "c.json", "[\n{\"a\": 1},\n", "c.json"},
		{"bad jsonl line", "c.jsonl", "{\"a\": 1}\n\n{\"a\": \n", "c.jsonl:3: case 1"},
		{"text after array", "c.json", `[1] x`, "c.jsonl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadCases(strings.NewReader(tt.in), tt.file)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrBadCases) {
				t.Errorf("error %v does not wrap ErrBadCases", err)
			}
			want := tt.want
			if tt.name == "text after array" {
				want = "c.json:1: case 0"
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		})
	}
}

func TestReadCasesTestdataForms(t *testing.T) {
	a, err := ReadCasesFile("../testdata/probe/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadCasesFile("../testdata/probe/cases.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 10 || len(b) != 10 {
		t.Fatalf("got %d and %d cases, want 10 each", len(a), len(b))
	}
	for i := range a {
		ja, _ := a[i].MarshalJSON()
		jb, _ := b[i].MarshalJSON()
		if string(ja) != string(jb) {
			t.Errorf("case %d differs between the JSON and JSONL files:\n%s\n%s", i, ja, jb)
		}
		if b[i].Line != i+1 {
			t.Errorf("jsonl case %d line = %d", i, b[i].Line)
		}
	}
	if a[4].Line != 6 || len(a[4].Args) != 1 || a[4].Kwargs["answer"] != "624" {
		t.Errorf("case 4 = %+v", a[4])
	}
}

func TestCaseMarshalJSON(t *testing.T) {
	cs, err := ReadCases(strings.NewReader(`[{"z": 1.50, "a": "x<y"}, ["p", 12345678901234567890]]`), "c.json")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"args":[],"kwargs":{"z":1.50,"a":"x<y"}}`,
		`{"args":["p",12345678901234567890],"kwargs":{}}`,
	}
	for i, c := range cs {
		b, err := c.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want[i] {
			t.Errorf("case %d: %s, want %s", i, b, want[i])
		}
	}
	c := NewCase([]any{"r"}, "b", 1, "a", 2).With("a", 3).With("new", "n")
	b, _ := c.MarshalJSON()
	if string(b) != `{"args":["r"],"kwargs":{"b":1,"a":3,"new":"n"}}` {
		t.Errorf("NewCase/With: %s", b)
	}
}

func TestResponseAndAnswerFields(t *testing.T) {
	tests := []struct {
		name                 string
		c                    Case
		wantResp, wantAnswer string
		respOK, ansOK        bool
		respSpec, ansSpec    string
	}{
		{"named", NewCase(nil, "prompt", "p", "completion", "c", "solution", "s"), "completion", "solution", true, true, "", ""},
		{"response preferred", NewCase(nil, "text", "t", "response", "r", "target", "x"), "response", "target", true, true, "", ""},
		{"positional", NewCase([]any{json.Number("1"), "resp", "ans"}), "1", "2", true, true, "", ""},
		{"first string kwarg", NewCase(nil, "n", json.Number("3"), "body", "b"), "body", "", true, false, "", ""},
		{"explicit", NewCase(nil, "a", "x", "b", "y"), "b", "a", true, true, "b", "a"},
		{"explicit missing", NewCase(nil, "a", "x"), "zz", "", false, false, "zz", ""},
		{"no strings", NewCase([]any{json.Number("1")}), "", "", false, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := tt.c.ResponseField(tt.respSpec)
			if r != tt.wantResp || ok != tt.respOK {
				t.Errorf("ResponseField = %q, %v; want %q, %v", r, ok, tt.wantResp, tt.respOK)
			}
			if !ok {
				return
			}
			a, ok := tt.c.AnswerField(tt.ansSpec, r)
			if a != tt.wantAnswer || ok != tt.ansOK {
				t.Errorf("AnswerField = %q, %v; want %q, %v", a, ok, tt.wantAnswer, tt.ansOK)
			}
		})
	}
	c := NewCase([]any{"a", "b"})
	if v, ok := c.Lookup("args[1]"); !ok || v != "b" {
		t.Errorf("Lookup(args[1]) = %v, %v", v, ok)
	}
	d := c.With("0", "z")
	if d.Args[0] != "z" || c.Args[0] != "a" {
		t.Errorf("With(0) changed the original or did not apply: %v %v", c.Args, d.Args)
	}
}

func TestCaseKeysWithoutOrder(t *testing.T) {
	c := Case{Kwargs: map[string]any{"b": 1, "a": "x", "c": nil}, Keys: []string{"c", "gone"}}
	b, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"args":[],"kwargs":{"c":null,"a":"x","b":1}}` {
		t.Errorf("got %s", b)
	}
	if n := NewCase([]any{"abc", []any{1, 2}, json.Number("3")}, "k", map[string]any{"x": 1}).InputLength(); n != 3+2+0+1 {
		t.Errorf("InputLength = %d", n)
	}
}
