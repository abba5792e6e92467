package probe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/goodhart-rl/goodhart/ingest"
)

// Options control Probe. The zero value runs as many calls at once as the
// function asks for (Concurrent), else one, with no extra timeout.
type Options struct {
	// Workers is how many calls run at once; 0 = fn.MaxInFlight() when fn
	// is Concurrent, else 1.
	Workers int
	// Timeout bounds each call of a function that has no timeout of its
	// own (Go functions; Command, Python and HTTP enforce theirs). 0 = none. A Go
	// function that ignores its context keeps running in the background
	// after its case is reported as ErrTimeout.
	Timeout time.Duration
	// ResponseField names the argument holding the response (see
	// Case.ResponseField); it sets the length column.
	ResponseField string
	// Progress, when set, is called after each case with the number done.
	Progress func(done, total int)
}

// Outcome is the result of one case.
type Outcome struct {
	Score    Score
	Err      error // nil when scored
	Duration time.Duration
}

// Results are the scores of a case file, Outcomes[i] for Cases[i].
type Results struct {
	Source        string // case file name, for messages and Run.Source
	ResponseField string
	Cases         []Case
	Outcomes      []Outcome
}

// Probe scores every case with fn and returns the outcomes in case order.
// Per-case failures are kept in Outcome.Err; Probe itself fails only when
// ctx ends or fn is ErrUnusable (it cannot score anything), in which case
// the remaining cases are not tried. For a *Command, Probe stops its
// programs once every case has an outcome (the next use starts them
// again), and a case answered by a copy that printed more result lines
// than cases is ErrNotAReward (see Command).
func Probe(ctx context.Context, fn RewardFunc, cases []Case, opt Options) (*Results, error) {
	res := &Results{ResponseField: opt.ResponseField, Cases: cases, Outcomes: make([]Outcome, len(cases))}
	workers := opt.Workers
	if workers <= 0 {
		workers = 1
		if c, ok := fn.(Concurrent); ok && c.MaxInFlight() > 0 {
			workers = c.MaxInFlight()
		}
	}
	if workers > len(cases) {
		workers = len(cases)
	}
	parent := ctx
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	timed := opt.Timeout > 0
	switch fn.(type) {
	case *Command, *HTTP, *Python:
		timed = false
	}
	cmd, _ := fn.(*Command)
	var from []*proc // for a Command: the copy that answered each case
	if cmd != nil {
		from = make([]*proc, len(cases))
	}

	var (
		mu    sync.Mutex
		fatal error
		done  int
		wg    sync.WaitGroup
	)
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				start := time.Now()
				var s Score
				var err error
				if cmd != nil {
					s, err, from[i] = cmd.scoreFrom(ctx, cases[i])
				} else if timed {
					s, err = callWithTimeout(ctx, fn, cases[i], opt.Timeout)
				} else {
					s, err = safeScore(ctx, fn, cases[i])
				}
				res.Outcomes[i] = Outcome{Score: s, Err: err, Duration: time.Since(start)}
				mu.Lock()
				if errors.Is(err, ErrUnusable) && fatal == nil {
					fatal = err
					cancel()
				}
				done++
				d := done
				mu.Unlock()
				if opt.Progress != nil {
					opt.Progress(d, len(cases))
				}
			}
		}()
	}
feed:
	for i := range cases {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if cmd != nil && fatal == nil && parent.Err() == nil {
		// Stop the programs so that any surplus output shows, then fail
		// every case answered by a copy that printed more lines than cases.
		cmd.finish()
		for i, p := range from {
			if err := p.surplusErr(); err != nil && res.Outcomes[i].Err == nil {
				res.Outcomes[i].Score, res.Outcomes[i].Err = Score{}, err
			}
		}
	}
	if fatal != nil {
		return res, fatal
	}
	if err := parent.Err(); err != nil {
		return res, err
	}
	return res, nil
}

// safeScore calls fn, turning a panic into an ErrFunction.
func safeScore(ctx context.Context, fn RewardFunc, c Case) (s Score, err error) {
	defer func() {
		if p := recover(); p != nil {
			s, err = Score{}, fmt.Errorf("%w: panic: %v", ErrFunction, p)
		}
	}()
	return fn.Score(ctx, c)
}

func callWithTimeout(ctx context.Context, fn RewardFunc, c Case, d time.Duration) (Score, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	type out struct {
		s   Score
		err error
	}
	ch := make(chan out, 1)
	go func() {
		s, err := safeScore(ctx, fn, c)
		ch <- out{s, err}
	}()
	select {
	case o := <-ch:
		return o.s, o.err
	case <-ctx.Done():
		return Score{}, wrapMsg(ErrTimeout, fmt.Sprintf("%s: no result within %s", ErrTimeout.Error(), d))
	}
}

// Scored returns how many cases have a reward.
func (r *Results) Scored() int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Err == nil {
			n++
		}
	}
	return n
}

// Rewards returns the rewards of the scored cases, in case order.
func (r *Results) Rewards() []float64 {
	out := make([]float64, 0, len(r.Outcomes))
	for _, o := range r.Outcomes {
		if o.Err == nil {
			out = append(out, o.Score.Reward)
		}
	}
	return out
}

// ComponentNames returns every component name any scored case has, sorted.
func (r *Results) ComponentNames() []string {
	seen := map[string]bool{}
	for _, o := range r.Outcomes {
		if o.Err == nil {
			for k := range o.Score.Components {
				seen[k] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ResponseLength is the length in characters of case c's response, or -1
// when the case has no string response.
func ResponseLength(c Case, field string) int {
	f, ok := c.ResponseField(field)
	if !ok {
		return -1
	}
	v, _ := c.Lookup(f)
	s, ok := v.(string)
	if !ok {
		return -1
	}
	return utf8.RuneCountInString(s)
}

// Run turns the results into an ingest.Run of grain sample, one row per
// scored case in case order: step (the case index), call_id ("case-N"),
// reward, component.<name> (NaN where a case lacks it), length (response
// characters; NaN when a case has no string response), input_length,
// duration_ms and extra.line (the case's line in the file). Failed cases
// are not rows: each is an ingest.Issue (file, line, message) and counts
// in Run.Skipped, so every reader of a run sees them the same way.
func (r *Results) Run() *ingest.Run {
	var rows []int
	run := &ingest.Run{Source: r.Source, Format: "probe", Grain: ingest.GrainSample}
	for i, o := range r.Outcomes {
		if o.Err == nil {
			rows = append(rows, i)
			continue
		}
		run.Skipped++
		if len(run.Issues) < 100 {
			run.Issues = append(run.Issues, ingest.Issue{File: r.Source, Line: r.Cases[i].Line,
				Msg: fmt.Sprintf("case %d: %s", r.Cases[i].Index, oneLine(o.Err.Error()))})
		}
	}
	n := len(rows)
	run.SetLen(n)
	step := make([]float64, n)
	ids := make([]string, n)
	reward := make([]float64, n)
	length := make([]float64, n)
	inLen := make([]float64, n)
	dur := make([]float64, n)
	line := make([]float64, n)
	hasLen, hasLine := false, false
	for j, i := range rows {
		c, o := r.Cases[i], r.Outcomes[i]
		step[j] = float64(c.Index)
		ids[j] = fmt.Sprintf("case-%d", c.Index)
		reward[j] = o.Score.Reward
		if l := ResponseLength(c, r.ResponseField); l >= 0 {
			length[j] = float64(l)
			hasLen = true
		} else {
			length[j] = math.NaN()
		}
		inLen[j] = float64(c.InputLength())
		dur[j] = float64(o.Duration) / float64(time.Millisecond)
		if c.Line > 0 {
			hasLine = true
		}
		line[j] = float64(c.Line)
	}
	run.SetColumn(ingest.ColStep, step)
	run.SetStringColumn(ingest.ColCallID, ids)
	run.SetColumn(ingest.ColReward, reward)
	for _, name := range r.ComponentNames() {
		col := make([]float64, n)
		for j, i := range rows {
			if v, ok := r.Outcomes[i].Score.Components[name]; ok {
				col[j] = v
			} else {
				col[j] = math.NaN()
			}
		}
		run.SetColumn(ingest.ComponentPrefix+name, col)
	}
	if hasLen {
		run.SetColumn(ingest.ColLength, length)
	}
	run.SetColumn(ingest.ColInputLength, inLen)
	run.SetColumn(ingest.ColDurationMS, dur)
	if hasLine {
		run.SetColumn(ingest.ExtraPrefix+"line", line)
	}
	return run
}

func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
