package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
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
//
// Redirects are followed only to the same scheme and host (host:port) as
// URL, at most 10 in a row, so that Header values (tokens) are never sent
// to another server; a redirect elsewhere is ErrUnusable naming the target
// (point URL at the final address). This applies to a custom Client too,
// after its own CheckRedirect.
type HTTP struct {
	URL         string
	Header      http.Header   // extra request headers (e.g. Authorization)
	Timeout     time.Duration // per request (0 = 5s)
	Concurrency int           // requests in flight (0 = 8)
	Client      *http.Client  // nil = http.DefaultClient

	reached atomic.Bool // some request got a response
	once    sync.Once
	cl      *http.Client // Client with the redirect rule
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
	resp, err := h.client().Do(req)
	if err != nil {
		var cross *crossHostRedirect
		if errors.As(err, &cross) {
			return Score{}, fmt.Errorf("%w: %s", ErrUnusable, cross.Error())
		}
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

// crossHostRedirect is the error of a redirect to another scheme or host.
type crossHostRedirect struct{ from, to *url.URL }

func (e *crossHostRedirect) Error() string {
	return fmt.Sprintf("%s redirects to %s://%s, another server; not followed, so the request headers are not sent there "+
		"(use the final address as the URL)", e.from.Redacted(), e.to.Scheme, e.to.Host)
}

// client returns Client (or http.DefaultClient) with the redirect rule
// added: same scheme and host as the first request, at most 10 redirects.
func (h *HTTP) client() *http.Client {
	h.once.Do(func() {
		base := h.Client
		if base == nil {
			base = http.DefaultClient
		}
		c := *base
		prev := base.CheckRedirect
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			first := via[0].URL
			if !strings.EqualFold(req.URL.Scheme, first.Scheme) || !strings.EqualFold(req.URL.Host, first.Host) {
				return &crossHostRedirect{from: first, to: req.URL}
			}
			if prev != nil {
				return prev(req, via)
			}
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			return nil
		}
		h.cl = &c
	})
	return h.cl
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
