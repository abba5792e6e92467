package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// HTTP is a reward function behind an HTTP endpoint: each case is POSTed
// to URL as its JSON ({"args": [...], "kwargs": {...}}, Content-Type
// application/json) and the response body is read with ParseResult. A
// non-2xx status is ErrFunction with the status and the start of the body;
// no response within Timeout is ErrTimeout. When the endpoint cannot be
// reached before any request has succeeded (nothing listening), Score
// returns ErrUnusable so that Probe stops at once. The zero value needs URL; it is
// safe for concurrent use, at most Concurrency requests at a time.
type HTTP struct {
	URL         string
	Header      http.Header   // extra request headers (e.g. Authorization)
	Timeout     time.Duration // per request (0 = 5s)
	Concurrency int           // requests in flight (0 = 8)
	Client      *http.Client  // nil = http.DefaultClient

	reached atomic.Bool // some request got a response
}

// NewHTTP returns an HTTP reward function for url with default settings.
func NewHTTP(url string) *HTTP { return &HTTP{URL: url} }

// MaxInFlight is Concurrency (default 8).
func (h *HTTP) MaxInFlight() int {
	if h.Concurrency <= 0 {
		return 8
	}
	return h.Concurrency
}

const maxBody = 16 << 20

// Score POSTs one case and parses the reply.
func (h *HTTP) Score(ctx context.Context, c Case) (Score, error) {
	body, err := c.MarshalJSON()
	if err != nil {
		return Score{}, fmt.Errorf("%w: cannot encode the case: %v", ErrArity, err)
	}
	to := h.Timeout
	if to <= 0 {
		to = defaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, to)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return Score{}, fmt.Errorf("%w: %v", ErrUnusable, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	for k, vs := range h.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return Score{}, wrapMsg(ErrTimeout, fmt.Sprintf("%s: no response within %s", ErrTimeout.Error(), to))
		}
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" && !h.reached.Load() {
			return Score{}, fmt.Errorf("%w: cannot reach %s: %v", ErrUnusable, h.URL, unwrapURLError(err))
		}
		return Score{}, fmt.Errorf("%w: POST %s: %v", ErrFunction, h.URL, unwrapURLError(err))
	}
	h.reached.Store(true)
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		if ctx.Err() != nil {
			return Score{}, wrapMsg(ErrTimeout, fmt.Sprintf("%s: response not finished within %s", ErrTimeout.Error(), to))
		}
		return Score{}, fmt.Errorf("%w: reading the response: %v", ErrFunction, err)
	}
	if len(data) > maxBody {
		return Score{}, fmt.Errorf("%w: response body larger than %d MB", ErrNotAReward, maxBody>>20)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := strings.TrimSpace(string(data))
		if _, err := ParseResult(data); errors.Is(err, ErrFunction) {
			msg = strings.TrimPrefix(err.Error(), ErrFunction.Error()+": ")
		}
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		if msg == "" {
			msg = "(empty body)"
		}
		return Score{}, fmt.Errorf("%w: HTTP %s: %s", ErrFunction, resp.Status, msg)
	}
	return ParseResult(data)
}

func unwrapURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}
