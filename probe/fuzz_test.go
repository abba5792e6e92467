package probe

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
)

// FuzzReadCases: the case-file parser never panics; it returns cases with
// sequential indexes and in-file lines that encode to the wire form, or an
// ErrBadCases error.
func FuzzReadCases(f *testing.F) {
	for _, s := range []string{
		`[{"response": "a", "answer": "1"}, ["x", 2], "s", 3, null, {"args": [1], "kwargs": {"k": true}}]`,
		"{\"response\": \"a\"}\n\n[\"b\"]\n42\n",
		"[\n {\"response\": \"a\"},\n {\"response\": }\n]\n",
		"\xef\xbb\xbf[]", `[1] trailing`, `{"args": 5}`, `{"args": [], "kwargs": [], "x": 1}`, "[[[[[[[[", `"\ud800"`,
		`[{"a": 1e999}]`, "{\"a\":1}\r\n{\"b\":2}",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, jsonl bool) {
		name := "cases.json"
		if jsonl {
			name = "cases.jsonl"
		}
		cases, err := ReadCases(bytes.NewReader(data), name)
		if err != nil {
			if !errors.Is(err, ErrBadCases) {
				t.Fatalf("error does not wrap ErrBadCases: %v", err)
			}
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		lines := 1 + bytes.Count(data, []byte("\n"))
		for i, c := range cases {
			if c.Index != i || c.Line < 1 || c.Line > lines {
				t.Fatalf("case %d: index %d, line %d of %d", i, c.Index, c.Line, lines)
			}
			b, err := c.MarshalJSON()
			if err != nil {
				t.Fatalf("case %d does not encode: %v", i, err)
			}
			back, err := ReadCases(bytes.NewReader(b), "wire.jsonl")
			if err != nil || len(back) != 1 {
				t.Fatalf("case %d: wire form %s does not read back: %v", i, b, err)
			}
			if b2, _ := back[0].MarshalJSON(); !bytes.Equal(b, b2) {
				t.Fatalf("case %d: wire form changes on a round trip:\n%s\n%s", i, b, b2)
			}
		}
	})
}

// checkScore is the result parser's contract: a finite reward and finite
// components, or an error that says whose fault it is.
func checkScore(t *testing.T, s Score, err error, data []byte) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, ErrNotAReward) && !errors.Is(err, ErrFunction) {
			t.Fatalf("%q: error is neither ErrNotAReward nor ErrFunction: %v", data, err)
		}
		return
	}
	if math.IsNaN(s.Reward) || math.IsInf(s.Reward, 0) {
		t.Fatalf("%q: non-finite reward %v", data, s.Reward)
	}
	for k, v := range s.Components {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("%q: non-finite component %s=%v", data, k, v)
		}
	}
}

// FuzzParseResult: one output line of a reward command (or an HTTP body)
// gives a finite score or a classified error, never a panic.
func FuzzParseResult(f *testing.F) {
	for _, s := range []string{
		"0.5", "1", "true", "null", `"0.5"`, "[1]", "NaN", "Infinity", "-Infinity", "1e309", `{"total": 1, "a": 0.5}`,
		`{"a": "0.5", "b": true, "c": null, "d": {"x": 1}}`, `{"error": "boom"}`, `{"error": null, "a": 1}`, `{"a": "nan"}`,
		`{"a": "inf"}`, `{"a": 1e308, "b": 1e308}`, "1 2", "{", "", "  \n", `{"total": "Infinity"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, line := range bytes.Split(data, []byte("\n")) { // what the command reader does
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			s, err := ParseResult(line)
			checkScore(t, s, err, line)
		}
		s, err := ParseResult(data) // an HTTP body is parsed whole
		checkScore(t, s, err, data)
	})
}

type fuzzTransport struct {
	status int
	body   []byte
}

func (ft fuzzTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, req.Body)
	req.Body.Close()
	return &http.Response{StatusCode: ft.status, Status: http.StatusText(ft.status), Header: http.Header{},
		Body: io.NopCloser(bytes.NewReader(ft.body)), Request: req, ProtoMajor: 1, ProtoMinor: 1}, nil
}

// FuzzHTTPBody: any status and body from an endpoint give a finite score
// (2xx only) or a classified error.
func FuzzHTTPBody(f *testing.F) {
	f.Add(200, []byte("0.5"))
	f.Add(200, []byte(`{"a": 1}`))
	f.Add(500, []byte(`{"error": "boom"}`))
	f.Add(404, []byte(""))
	f.Add(204, []byte(""))
	f.Add(200, []byte("NaN"))
	f.Add(418, []byte("line one\nline two"))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 999 {
			status = 100 + (status%900+900)%900
		}
		if status == http.StatusSwitchingProtocols || status < 200 {
			status = 200 // 1xx are not final responses
		}
		h := &HTTP{URL: "http://reward.invalid/score", Client: &http.Client{Transport: fuzzTransport{status, body}}}
		s, err := h.Score(context.Background(), NewCase([]any{"r"}))
		if status < 200 || status > 299 {
			if err == nil {
				t.Fatalf("status %d accepted as a score", status)
			}
		}
		if err != nil && (errors.Is(err, ErrFunction) || errors.Is(err, ErrNotAReward)) {
			return
		}
		checkScore(t, s, err, body)
	})
}
