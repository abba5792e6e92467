package probe

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

//go:embed pyadapter.py
var pyAdapter string

// PythonOptions configure NewPython.
type PythonOptions struct {
	// Interpreter is the Python to run; "" = DefaultPython().
	Interpreter string
	// TRL calls the function with TRL's batch signature (see Python).
	TRL bool
	// ResponseField names the argument holding the completion for TRL
	// ("" = the first of completion, completions, response, output, text).
	ResponseField string
	// Dir is the working directory the module is imported from ("" = the
	// current directory).
	Dir string
	// Timeout per case (0 = 5s); the first case also waits for the import.
	Timeout time.Duration
	// Processes is how many Python processes score in parallel (0 = 1).
	Processes int
	// Stderr, when set, receives everything Python writes to stderr.
	Stderr io.Writer
}

// Python is a reward function written in Python, imported by name: the
// way `rewardspy probe module:function` runs one, without a wrapper
// script. A small adapter embedded in goodhart (run with `python -c`)
// imports the target and serves it over the command protocol, so
// pipelining, timeouts and restarts are those of Command.
//
// Target is "module:function" (imported from Dir, like `python -c "import
// module"` run there; dotted packages work), or "path/to/file.py:function"
// (the file's directory goes first on sys.path, so modules beside it import
// as usual). The function may be dotted ("module:obj.method").
//
// Calls. Plain: fn(*args, **kwargs) with the case's arguments; the result
// must be a number (bool counts as 0/1; numpy and torch scalars work) or a
// dict whose numeric entries are components (non-numeric entries are
// ignored, as rewardspy does). TRL (PythonOptions.TRL): the function has
// TRL's GRPOTrainer signature and is called with a batch of one:
// completions=[c] where c is the case's completion field (a string, or a
// list of chat messages), prompts=[p] when the case has a "prompt", every
// other case field as a one-element list (the dataset columns), and
// trainer_state (the case's "trainer_state" object, else global_step 0),
// log_extra and log_metric (no-ops); only the names the function accepts
// are passed unless it takes **kwargs. It must return a list of one number.
// completion_ids cannot be made without the tokenizer and is not passed.
// Coroutine functions (async def) are awaited.
//
// Failures. A module that cannot be imported, a missing attribute or a
// target that is not callable is reported once, as ErrUnusable naming the
// exception, its file and line (Score returns it for every case and the
// probe stops). Per case: an exception is ErrFunction "Type: message
// (file.py:line)"; None, a string, a list from a plain function, a list of
// the wrong length or [None] from a TRL function, NaN or ±Inf are
// ErrFunction saying what was returned. Anything the code prints (even
// from C extensions) goes to stderr, never into the protocol.
type Python struct {
	Target      string
	Interpreter string // resolved interpreter path
	TRL         bool

	cmd       *Command
	watch     *loadWatcher
	closeOnce sync.Once
}

// DefaultPython returns the interpreter NewPython uses when none is given:
// $VIRTUAL_ENV/bin/python when a virtualenv is active and has one, else
// python3 on PATH (Debian's /usr/bin/python3), else python. The second
// result says where it came from ("$VIRTUAL_ENV", "PATH").
func DefaultPython() (string, string, error) {
	if venv := os.Getenv("VIRTUAL_ENV"); venv != "" {
		for _, name := range []string{"bin/python", "bin/python3", "Scripts/python.exe"} {
			p := filepath.Join(venv, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p, "$VIRTUAL_ENV", nil
			}
		}
	}
	for _, name := range []string{"python3", "python"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, "PATH", nil
		}
	}
	return "", "", errors.New("no python3 on PATH: install it (apt-get install python3) or give --python PATH")
}

// SplitPythonTarget splits "module:function" or "path/file.py:function"
// at its last colon and checks both parts, so that a typo is a usage error
// before any Python starts. For a path target the file must exist
// (relative to dir when not absolute).
func SplitPythonTarget(target, dir string) (module, function string, err error) {
	i := strings.LastIndexByte(target, ':')
	if i <= 0 || i == len(target)-1 {
		return "", "", fmt.Errorf("%q: want MODULE:FUNCTION (e.g. my_rewards:reward_fn) or path/to/file.py:FUNCTION", target)
	}
	module, function = target[:i], target[i+1:]
	if strings.HasSuffix(module, ".py") || strings.ContainsAny(module, `/\`) {
		p := module
		if !filepath.IsAbs(p) && dir != "" {
			p = filepath.Join(dir, p)
		}
		st, err := os.Stat(p)
		if err != nil {
			return "", "", fmt.Errorf("%q: no such file %s", target, module)
		}
		if st.IsDir() {
			return "", "", fmt.Errorf("%q: %s is a directory; give the .py file", target, module)
		}
	}
	return module, function, nil
}

// NewPython checks target and the interpreter and returns the reward
// function; Python starts on the first Score. Errors are usage errors
// (a malformed target, a missing file, no interpreter).
func NewPython(target string, opt PythonOptions) (*Python, error) {
	if _, _, err := SplitPythonTarget(target, opt.Dir); err != nil {
		return nil, err
	}
	interp := opt.Interpreter
	if interp == "" {
		p, _, err := DefaultPython()
		if err != nil {
			return nil, err
		}
		interp = p
	} else {
		p, err := exec.LookPath(interp)
		if err != nil {
			return nil, fmt.Errorf("--python %s: not found or not executable", interp)
		}
		interp = p
	}
	mode := "plain"
	if opt.TRL {
		mode = "trl"
	}
	fields := []string{"completion", "completions", "response", "output", "text"}
	if opt.ResponseField != "" {
		fields = []string{opt.ResponseField}
	}
	fj, _ := json.Marshal(fields)
	w := &loadWatcher{out: opt.Stderr}
	cmd := &Command{
		Argv:      []string{interp, "-c", pyAdapter, target, mode, string(fj)},
		Dir:       opt.Dir,
		Env:       []string{"PYTHONDONTWRITEBYTECODE=1"},
		Timeout:   opt.Timeout,
		Processes: opt.Processes,
		Stderr:    w,
	}
	return &Python{Target: target, Interpreter: interp, TRL: opt.TRL, cmd: cmd, watch: w}, nil
}

// MaxInFlight is the cases the Python processes take at once.
func (p *Python) MaxInFlight() int { return p.cmd.MaxInFlight() }

// Restarts returns how many times Python was restarted after a crash, a
// hang or stray output.
func (p *Python) Restarts() int { return p.cmd.Restarts() }

// Close stops the Python processes.
func (p *Python) Close() error { return p.cmd.Close() }

// Score sends the case to the adapter. Once the target failed to load,
// every call returns that error (ErrUnusable).
func (p *Python) Score(ctx context.Context, c Case) (Score, error) {
	if err := p.loadErr(); err != nil {
		return Score{}, err
	}
	s, err := p.cmd.Score(ctx, c)
	if err != nil {
		if lerr := p.loadErr(); lerr != nil {
			p.closeOnce.Do(func() { _ = p.cmd.Close() })
			return Score{}, lerr
		}
		if errors.Is(err, ErrUnusable) {
			return Score{}, p.unusable(err)
		}
	}
	return s, err
}

// unusable rewrites the command's ErrUnusable message for Python: the
// target instead of the adapter's source, and the import-time hint.
func (p *Python) unusable(err error) error {
	msg := strings.ReplaceAll(err.Error(), strings.Join(p.cmd.Argv, " "), p.Target+" ("+p.Interpreter+")")
	if i := strings.Index(msg, " (it must answer each line"); i >= 0 {
		if j := strings.IndexByte(msg[i+2:], ')'); j >= 0 {
			msg = msg[:i] + msg[i+2+j+1:]
		}
	}
	if strings.Contains(msg, "hung") {
		msg += "; importing the module counts toward the first case's timeout: raise --timeout if it loads a model"
	}
	return wrapMsg(ErrUnusable, msg)
}

func (p *Python) loadErr() error {
	msg := p.watch.failure()
	if msg == "" {
		return nil
	}
	return wrapMsg(ErrUnusable, fmt.Sprintf("cannot load %s (python: %s)", msg, p.Interpreter))
}

// loadMark starts the adapter's one-line report of a failed load.
const loadMark = "goodhart-python: cannot load "

// loadWatcher passes Python's stderr on and remembers the adapter's
// load-failure line.
type loadWatcher struct {
	out  io.Writer
	mu   sync.Mutex
	line []byte
	msg  string
}

func (w *loadWatcher) Write(b []byte) (int, error) {
	w.mu.Lock()
	w.line = append(w.line, b...)
	for {
		i := bytes.IndexByte(w.line, '\n')
		if i < 0 {
			break
		}
		l := string(bytes.TrimRight(w.line[:i], "\r"))
		if rest, ok := strings.CutPrefix(l, loadMark); ok && w.msg == "" {
			w.msg = rest
		}
		w.line = w.line[i+1:]
	}
	if len(w.line) > 64<<10 {
		w.line = w.line[len(w.line)-(64<<10):]
	}
	w.mu.Unlock()
	if w.out != nil {
		_, _ = w.out.Write(b)
	}
	return len(b), nil
}

func (w *loadWatcher) failure() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.msg
}
