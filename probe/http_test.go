package probe

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHTTP(t *testing.T) {
	var inFlight, maxInFlight atomic.Int32
	var gotAuth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		gotAuth.Store(r.Header.Get("Authorization"))
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "want a JSON POST", http.StatusMethodNotAllowed)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var c struct {
			Args   []string          `json:"args"`
			Kwargs map[string]string `json:"kwargs"`
		}
		if err := json.Unmarshal(body, &c); err != nil {
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"error": "bad case: " + err.Error()})
			return
		}
		resp := c.Kwargs["response"]
		time.Sleep(2 * time.Millisecond) // let requests overlap
		switch resp {
		case "slow":
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		case "fail":
			w.WriteHeader(500)
			io.WriteString(w, `{"error": "judge model overloaded"}`)
			return
		case "html":
			w.WriteHeader(502)
			io.WriteString(w, "<html>Bad Gateway</html>\n<body>...</body>")
			return
		case "garbage":
			io.WriteString(w, "OK!")
			return
		case "components":
			io.WriteString(w, `{"correctness": 1, "format": 0.5}`)
			return
		}
		json.NewEncoder(w).Encode(float64(len(resp)))
	}))
	defer srv.Close()

	var cases []Case
	responses := []string{"a", "slow", "fail", "html", "garbage", "components"}
	for i := 0; i < 40; i++ {
		responses = append(responses, strings.Repeat("z", i))
	}
	for i, r := range responses {
		c := NewCase(nil, "response", r)
		c.Index = i
		cases = append(cases, c)
	}
	h := &HTTP{URL: srv.URL, Timeout: 300 * time.Millisecond, Concurrency: 4,
		Header: http.Header{"Authorization": []string{"Bearer t0ken"}}}
	res, err := Probe(context.Background(), h, cases, Options{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(i int, sentinel error, text string) {
		t.Helper()
		if err := res.Outcomes[i].Err; !errors.Is(err, sentinel) || !strings.Contains(err.Error(), text) {
			t.Errorf("case %d: err = %v, want %v containing %q", i, err, sentinel, text)
		}
	}
	check(1, ErrTimeout, "no response within 300ms")
	check(2, ErrFunction, "HTTP 500 Internal Server Error: judge model overloaded")
	check(3, ErrFunction, "HTTP 502 Bad Gateway: <html>Bad Gateway</html>")
	check(4, ErrNotAReward, "not JSON")
	if s := res.Outcomes[5].Score; s.Reward != 1.5 || s.Components["format"] != 0.5 {
		t.Errorf("components: %+v", s)
	}
	for i := 6; i < len(cases); i++ {
		if o := res.Outcomes[i]; o.Err != nil || o.Score.Reward != float64(i-6) {
			t.Errorf("case %d: %+v", i, o)
		}
	}
	if o := res.Outcomes[0]; o.Err != nil || o.Score.Reward != 1 {
		t.Errorf("case 0: %+v", o)
	}
	if m := maxInFlight.Load(); m > 4 || m < 2 {
		t.Errorf("max requests in flight = %d, want 2..4 (Concurrency 4)", m)
	}
	if gotAuth.Load() != "Bearer t0ken" {
		t.Errorf("header not sent: %v", gotAuth.Load())
	}
}

func TestHTTPUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	cases := []Case{NewCase([]any{"a"}), NewCase([]any{"b"})}
	_, err := Probe(context.Background(), NewHTTP(url), cases, Options{})
	if !errors.Is(err, ErrUnusable) || !strings.Contains(err.Error(), "cannot reach") {
		t.Fatalf("err = %v, want ErrUnusable (cannot reach)", err)
	}
}

// A redirect to another host is not followed (custom headers would go
// there); a redirect on the same host is, headers included.
func TestHTTPRedirects(t *testing.T) {
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Secret") != "" || r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		io.WriteString(w, "1")
	}))
	defer other.Close()
	var sameHostSecret atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
		case "/moved":
			http.Redirect(w, r, "/final", http.StatusPermanentRedirect)
		case "/final":
			sameHostSecret.Store(r.Header.Get("X-Secret"))
			io.WriteString(w, "0.5")
		}
	}))
	defer srv.Close()
	hdr := http.Header{"X-Secret": {"s3cret"}, "Authorization": {"Bearer t"}}

	h := &HTTP{URL: srv.URL + "/away", Header: hdr}
	_, err := h.Score(context.Background(), NewCase([]any{"r"}))
	if !errors.Is(err, ErrUnusable) || !strings.Contains(err.Error(), "redirects to http://"+strings.TrimPrefix(other.URL, "http://")) {
		t.Errorf("cross-host redirect: err = %v, want ErrUnusable naming the target", err)
	}
	if n := leaked.Load(); n != 0 {
		t.Errorf("%d requests carried the headers to the other host", n)
	}

	h = &HTTP{URL: srv.URL + "/moved", Header: hdr}
	s, err := h.Score(context.Background(), NewCase([]any{"r"}))
	if err != nil || s.Reward != 0.5 {
		t.Fatalf("same-host redirect: %v %v", s, err)
	}
	if got, _ := sameHostSecret.Load().(string); got != "s3cret" {
		t.Errorf("same-host redirect lost the header: %q", got)
	}
}
