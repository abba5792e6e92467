package probe

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Command is a reward function in an external program speaking JSONL (the
// protocol is in the package documentation). The program is started on the
// first Score, kept alive for all cases, and fed cases back to back without
// waiting for each result (pipelined), so a Python reward function scores
// thousands of cases a second.
//
// A case whose result does not arrive within Timeout of becoming the oldest
// unanswered case is ErrTimeout; the program is killed and restarted. If
// the program exits (or closes stdout) the oldest unanswered case is
// ErrCrashed, with the last line of its stderr, and the program is
// restarted; the other cases in flight are sent again. A line that is not
// JSON is ErrNotAReward for the oldest case and the program is restarted
// too, because after a stray line its answers can no longer be matched to
// cases. No output is ever taken for a reward unless it parses as one.
//
// Each copy of the program runs in its own process group. When a copy
// exits, is killed (timeout, garbage) or is stopped, the whole group is
// killed, so a child it started that still holds stdout open cannot keep
// the probe waiting; every wait for a process is bounded (a few seconds
// after SIGKILL, then the process is reported and left behind).
//
// A program that prints more lines than it was given cases (two results
// for one case, a log line after the last result) has lost the pairing of
// results to cases. The surplus shows when a line arrives with no case
// pending, at the latest when Probe ends and stdin is closed: every case
// that copy of the program answered is then ErrNotAReward in Probe's
// results, never a silently shifted reward.
//
// The zero value is not usable: set Argv (NewCommand does). Command is safe
// for concurrent use; Close stops the programs.
type Command struct {
	Argv []string // program and arguments; run directly, never through a shell
	Dir  string   // working directory ("" = current)
	Env  []string // extra environment (KEY=value), added to this process's
	// Timeout per case (0 = 5s).
	Timeout time.Duration
	// Processes is how many copies of the program score in parallel (0 = 1).
	Processes int
	// Depth is how many cases each copy may have in flight (0 = 64).
	Depth int
	// Stderr, when set, also receives everything the programs write to stderr.
	Stderr io.Writer

	mu       sync.Mutex
	procs    []*proc
	next     int
	fatal    error
	deadRun  int // processes in a row that died without answering anything
	restarts int
	closed   bool
}

// maxLine is the longest output line taken (a variable for tests).
var maxLine = 16 << 20

// NewCommand returns a Command running argv with default settings.
func NewCommand(argv ...string) *Command { return &Command{Argv: argv} }

const (
	defaultTimeout = 5 * time.Second
	defaultDepth   = 64
	// deadLimit: after this many processes in a row exit or hang before
	// answering a single case, the command is ErrUnusable.
	deadLimit = 3
)

func (c *Command) timeout() time.Duration {
	if c.Timeout <= 0 {
		return defaultTimeout
	}
	return c.Timeout
}

func (c *Command) nprocs() int {
	if c.Processes <= 0 {
		return 1
	}
	return c.Processes
}

func (c *Command) depth() int {
	if c.Depth <= 0 {
		return defaultDepth
	}
	return c.Depth
}

// MaxInFlight is Processes × Depth.
func (c *Command) MaxInFlight() int { return c.nprocs() * c.depth() }

// Restarts returns how many times a program was restarted after a crash,
// a hang or garbage output.
func (c *Command) Restarts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.restarts
}

// Close stops the programs: it closes their stdin, waits up to 2 s for
// each to exit, then kills its process group and waits up to 3 s more. It
// returns an error naming a program that was still not gone by then.
func (c *Command) Close() error {
	return c.stopAll(true)
}

// stopAll stops every running copy; closing also refuses later Scores. The
// copies are forgotten, so the next Score starts fresh ones (not counted
// as restarts).
func (c *Command) stopAll(closing bool) error {
	c.mu.Lock()
	if closing {
		c.closed = true
	}
	procs := c.procs
	c.procs = nil
	c.mu.Unlock()
	var errs []error
	for _, p := range procs {
		if p != nil {
			if err := p.stop(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// finish is called by Probe when every case has its outcome: it stops the
// copies (closing stdin lets a program print any surplus lines it still
// had) so that surplus output is known before the results are used.
func (c *Command) finish() { _ = c.stopAll(false) }

// surplusErr returns the error for a case answered by p when p printed
// more lines than it was given cases, else nil.
func (p *proc) surplusErr() error {
	if p == nil {
		return nil
	}
	p.qmu.Lock()
	defer p.qmu.Unlock()
	if p.surplus == "" {
		return nil
	}
	return wrapMsg(ErrNotAReward, fmt.Sprintf("%s: the program printed more result lines than it was sent cases (%s); "+
		"its results can no longer be matched to cases, so none of them is used (print exactly one line per case; logs go to stderr)",
		ErrNotAReward.Error(), p.surplus))
}

type callResult struct {
	s     Score
	err   error
	retry bool
	from  *proc // the copy that answered (nil when none did)
}

type call struct {
	line []byte
	res  chan callResult
}

// Score sends the case to a program and waits for its result.
func (c *Command) Score(ctx context.Context, cs Case) (Score, error) {
	s, err, _ := c.scoreFrom(ctx, cs)
	return s, err
}

// scoreFrom is Score that also returns the copy of the program whose
// output was taken as the result.
func (c *Command) scoreFrom(ctx context.Context, cs Case) (Score, error, *proc) {
	b, err := cs.MarshalJSON()
	if err != nil {
		return Score{}, fmt.Errorf("%w: cannot encode the case: %v", ErrArity, err), nil
	}
	line := append(b, '\n')
	for attempt := 0; ; attempt++ {
		p, err := c.proc()
		if err != nil {
			return Score{}, err, nil
		}
		cl := &call{line: line, res: make(chan callResult, 1)}
		if !p.submit(cl) {
			continue // it died meanwhile; take another
		}
		select {
		case r := <-cl.res:
			if r.retry {
				if attempt > 1000 {
					return Score{}, fmt.Errorf("%w: the program keeps restarting", ErrCrashed), nil
				}
				continue
			}
			return r.s, r.err, r.from
		case <-ctx.Done():
			return Score{}, ctx.Err(), nil
		}
	}
}

// proc returns a live process with the fewest cases in flight, starting
// or restarting programs as needed.
func (c *Command) proc() (*proc, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fatal != nil {
		return nil, c.fatal
	}
	if c.closed {
		return nil, fmt.Errorf("%w: command closed", ErrUnusable)
	}
	if len(c.Argv) == 0 {
		c.fatal = fmt.Errorf("%w: no command given", ErrUnusable)
		return nil, c.fatal
	}
	n := c.nprocs()
	if len(c.procs) < n {
		c.procs = append(c.procs, make([]*proc, n-len(c.procs))...)
	}
	var best *proc
	bestLoad := 0
	for i := 0; i < n; i++ {
		j := (c.next + i) % n
		p := c.procs[j]
		if p == nil || p.isDead() {
			if p != nil {
				c.restarts++
			}
			np, err := c.start()
			if err != nil {
				c.fatal = err
				return nil, err
			}
			c.procs[j] = np
			p = np
		}
		if l := p.load(); best == nil || l < bestLoad {
			best, bestLoad = p, l
		}
	}
	c.next = (c.next + 1) % n
	return best, nil
}

// start launches one program in its own process group. Called with c.mu
// held.
func (c *Command) start() (*proc, error) {
	cmd := exec.Command(c.Argv[0], c.Argv[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = append(append(os.Environ(), "PYTHONUNBUFFERED=1"), c.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnusable, err)
	}
	// Our own pipes (not StdoutPipe): Wait must not close the read ends
	// while output is still buffered in them, and must not wait for
	// children that inherited them.
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnusable, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("%w: %v", ErrUnusable, err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	p := &proc{owner: c, cmd: cmd, stdin: stdin, timeout: c.timeout(),
		tail: &tailBuffer{max: 4096}, done: make(chan struct{}), waited: make(chan struct{}),
		outR: outR, errR: errR, readDone: make(chan struct{}), errDone: make(chan struct{})}
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("%w: cannot run %s: %v", ErrUnusable, strings.Join(c.Argv, " "), err)
	}
	var errDst io.Writer = p.tail
	if c.Stderr != nil {
		errDst = io.MultiWriter(p.tail, c.Stderr)
	}
	go p.read(outR)
	go func() {
		defer close(p.errDone)
		_, _ = io.Copy(errDst, errR)
	}()
	go p.wait()
	go p.watch()
	return p, nil
}

// died is called once per process after it is gone; answered is how many
// results it gave.
func (c *Command) died(answered int, why, stderr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if answered > 0 {
		c.deadRun = 0
		return
	}
	c.deadRun++
	if c.deadRun >= deadLimit && c.fatal == nil && !c.closed {
		msg := fmt.Sprintf("%s: %d starts in a row %s before answering any case", strings.Join(c.Argv, " "), c.deadRun, why)
		if strings.HasPrefix(why, "hung") {
			msg += " (it must answer each line as it arrives and flush stdout, not read all of stdin first)"
		}
		if stderr != "" {
			msg += "; stderr: " + stderr
		}
		c.fatal = fmt.Errorf("%w: %s", ErrUnusable, msg)
	}
}

func (c *Command) answered() {
	c.mu.Lock()
	c.deadRun = 0
	c.mu.Unlock()
}

// proc is one running copy of the program.
type proc struct {
	owner   *Command
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	timeout time.Duration
	tail    *tailBuffer
	done    chan struct{} // closed when exit has settled everything

	// waited is closed when the program itself has exited (and been
	// reaped); waitErr is Wait's result.
	waited  chan struct{}
	waitErr error
	// outR and errR are our ends of its stdout and stderr; readDone and
	// errDone are closed when their readers stop.
	outR, errR        *os.File
	readDone, errDone chan struct{}

	wmu sync.Mutex // serialises writes (and so the order of pending)

	qmu       sync.Mutex
	pending   []*call
	headSince time.Time
	dead      bool
	answers   int
	killedFor string // why we killed it ("" = it exited by itself)
	stopping  bool
	surplus   string // the first line printed with no case pending ("" = none)
}

func (p *proc) isDead() bool {
	p.qmu.Lock()
	defer p.qmu.Unlock()
	return p.dead
}

func (p *proc) load() int {
	p.qmu.Lock()
	defer p.qmu.Unlock()
	return len(p.pending)
}

// submit queues cl and writes its line; false when the process is dead.
func (p *proc) submit(cl *call) bool {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.qmu.Lock()
	if p.dead {
		p.qmu.Unlock()
		return false
	}
	if len(p.pending) == 0 {
		p.headSince = time.Now()
	}
	p.pending = append(p.pending, cl)
	p.qmu.Unlock()
	// A write error means the program is gone; read() sees EOF and
	// settles every pending call, this one included.
	_, _ = p.stdin.Write(cl.line)
	return true
}

// read matches output lines to pending calls, in order.
func (p *proc) read(stdout io.Reader) {
	defer close(p.readDone)
	br := bufio.NewReaderSize(stdout, 64<<10)
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			buf = append(buf, chunk...)
			if len(buf) > maxLine {
				p.garbage(fmt.Errorf("%w: output line longer than %d bytes", ErrNotAReward, maxLine))
				return
			}
			continue
		}
		line := chunk
		if len(buf) > 0 {
			buf = append(buf, chunk...)
			line = buf
		}
		if err != nil {
			// EOF (or a read error): a last unterminated line still counts.
			if len(bytes.TrimSpace(line)) > 0 {
				p.deliver(line)
			}
			p.exit()
			return
		}
		if len(bytes.TrimSpace(line)) > 0 {
			if !p.deliver(line) {
				return
			}
		}
		buf = buf[:0]
	}
}

// deliver hands one output line to the oldest pending call. It returns
// false when the line was garbage and the process was killed.
func (p *proc) deliver(line []byte) bool {
	s, err := ParseResult(line)
	garbage := err != nil && errors.Is(err, ErrNotAReward) && strings.Contains(err.Error(), "output is not JSON")
	p.qmu.Lock()
	if p.killedFor != "" {
		// Being killed (timeout): answers can no longer be matched.
		p.qmu.Unlock()
		return false
	}
	if len(p.pending) == 0 {
		// Output nobody asked for: the pairing is lost, for the cases
		// already answered too.
		what := fmt.Sprintf("printed %s with no case pending", quoteShort(bytes.TrimSpace(line)))
		if p.surplus == "" {
			p.surplus = what
		}
		p.qmu.Unlock()
		p.kill(what)
		return false
	}
	head := p.pending[0]
	p.pending = p.pending[1:]
	p.headSince = time.Now()
	if !garbage {
		p.answers++
	}
	first := p.answers == 1
	p.qmu.Unlock()
	if first {
		p.owner.answered()
	}
	if garbage {
		head.res <- callResult{err: fmt.Errorf("%w (stdout is for results only; print logs to stderr)", err)}
		p.kill("printed a line that is not JSON")
		return false
	}
	head.res <- callResult{s: s, err: err, from: p}
	return true
}

func (p *proc) garbage(err error) {
	p.qmu.Lock()
	var head *call
	if len(p.pending) > 0 {
		head = p.pending[0]
		p.pending = p.pending[1:]
	}
	p.qmu.Unlock()
	if head != nil {
		head.res <- callResult{err: err}
	}
	p.kill("printed a line that is too long")
}

// kill stops the process for a reason; exit() then settles the rest.
func (p *proc) kill(why string) {
	p.qmu.Lock()
	if p.killedFor == "" {
		p.killedFor = why
	}
	p.qmu.Unlock()
	p.killGroup()
	go p.exit()
}

// killGroup sends SIGKILL to the program's process group: the program and
// every child it started that did not leave the group.
func (p *proc) killGroup() {
	if p.cmd.Process == nil {
		return
	}
	if pid := p.cmd.Process.Pid; pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
	_ = p.cmd.Process.Kill()
}

// Bounds of the waits for a program (variables for tests).
var (
	// pipeGrace: after the program exited and its group was killed, how
	// long its output may take to reach EOF before our pipe ends are
	// closed (a child that left the group may still hold them).
	pipeGrace = time.Second
	// exitGrace: how long a program whose stdin was closed (or whose
	// stdout reached EOF) may take to exit before its group is killed,
	// and then how long a killed program may take to be reaped.
	exitGrace = 2 * time.Second
)

// wait reaps the program, kills what is left of its group and makes sure
// the readers of its output stop within pipeGrace.
func (p *proc) wait() {
	p.waitErr = p.cmd.Wait()
	p.killGroup()
	close(p.waited)
	t := time.NewTimer(pipeGrace)
	defer t.Stop()
	select {
	case <-p.readDone:
	case <-t.C:
		_ = p.outR.Close() // read gets an error and settles
	}
	select {
	case <-p.errDone:
	case <-t.C:
		_ = p.errR.Close()
	case <-time.After(pipeGrace):
		_ = p.errR.Close()
	}
}

// exit runs once when the process is gone: the oldest pending call is
// blamed (unless a timeout or garbage already blamed one), the others are
// sent again.
func (p *proc) exit() {
	p.qmu.Lock()
	if p.dead {
		p.qmu.Unlock()
		return
	}
	p.dead = true
	pending := p.pending
	p.pending = nil
	killedFor := p.killedFor
	stopping := p.stopping
	answers := p.answers
	p.qmu.Unlock()
	_ = p.stdin.Close()

	var err error
	select {
	case <-p.waited:
		err = p.waitErr
	case <-time.After(exitGrace):
		p.killGroup()
		select {
		case <-p.waited:
			err = p.waitErr
		case <-time.After(exitGrace):
			err = fmt.Errorf("pid %d did not exit after SIGKILL", p.cmd.Process.Pid)
		}
	}
	close(p.done)
	// The last stderr line says why it died: let the stderr reader drain
	// what the process wrote before it exited (bounded).
	select {
	case <-p.errDone:
	case <-time.After(pipeGrace):
	}

	why := "exited"
	if killedFor != "" {
		why = killedFor
	}
	if !stopping {
		p.owner.died(answers, why, p.tail.lastLine())
	}
	if len(pending) == 0 {
		return
	}
	if stopping {
		for _, cl := range pending {
			cl.res <- callResult{err: fmt.Errorf("%w: command closed", ErrUnusable)}
		}
		return
	}
	if killedFor == "" {
		status := "closed its output"
		if err != nil {
			status = err.Error()
		} else if p.cmd.ProcessState != nil {
			status = p.cmd.ProcessState.String()
		}
		msg := fmt.Sprintf("%s while scoring this case (%s)", ErrCrashed.Error(), status)
		if last := p.tail.lastLine(); last != "" {
			msg += "; stderr: " + last
		}
		pending[0].res <- callResult{err: wrapMsg(ErrCrashed, msg)}
		pending = pending[1:]
	}
	for _, cl := range pending {
		cl.res <- callResult{retry: true}
	}
}

// watch enforces the per-case timeout on the oldest pending call.
func (p *proc) watch() {
	tick := p.timeout / 20
	if tick < 5*time.Millisecond {
		tick = 5 * time.Millisecond
	}
	if tick > 100*time.Millisecond {
		tick = 100 * time.Millisecond
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case now := <-t.C:
			p.qmu.Lock()
			if p.dead || len(p.pending) == 0 || now.Sub(p.headSince) < p.timeout {
				p.qmu.Unlock()
				continue
			}
			head := p.pending[0]
			p.pending = p.pending[1:]
			// Mark it killed before unlocking, so that a late answer to
			// the hung case is never handed to the next one.
			p.killedFor = fmt.Sprintf("hung (no result within %s)", p.timeout)
			p.qmu.Unlock()
			msg := fmt.Sprintf("%s: no result within %s; the program was restarted", ErrTimeout.Error(), p.timeout)
			head.res <- callResult{err: wrapMsg(ErrTimeout, msg)}
			p.kill(fmt.Sprintf("hung (no result within %s)", p.timeout))
			return
		}
	}
}

// stop closes stdin, gives the program exitGrace to exit, then kills its
// group and waits at most exitGrace+pipeGrace more.
func (p *proc) stop() error {
	p.qmu.Lock()
	p.stopping = true
	p.qmu.Unlock()
	p.wmu.Lock()
	_ = p.stdin.Close()
	p.wmu.Unlock()
	select {
	case <-p.done:
		return nil
	case <-time.After(exitGrace):
	}
	p.killGroup()
	select {
	case <-p.done:
		return nil
	case <-time.After(exitGrace + pipeGrace):
		return fmt.Errorf("%s (pid %d) is still running after SIGKILL", strings.Join(p.owner.Argv, " "), p.cmd.Process.Pid)
	}
}

type msgError struct {
	sentinel error
	msg      string
}

func (e *msgError) Error() string { return e.msg }
func (e *msgError) Unwrap() error { return e.sentinel }

func wrapMsg(sentinel error, msg string) error { return &msgError{sentinel, msg} }

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

// lastLine returns the last non-blank line written, trimmed to 200 bytes.
func (t *tailBuffer) lastLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.b)), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if len(last) > 200 {
		last = last[:200] + "..."
	}
	return last
}
