package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/goodhart-rl/goodhart/ingest"
	"github.com/goodhart-rl/goodhart/probe"
)

func init() {
	register(&command{
		name:    "probe",
		summary: "score a case file with a Python reward function (--py), a command or an endpoint; --hacks fuzzes it for loopholes",
		run:     runProbe,
	})
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

const probeAbout = `Run a reward function on every case of a case file and print the
score summary and the cases that failed. With --hacks, rewrite each
response the ways policies game rewards (padding, repetition, answer
spam, format tokens only, a fake final answer, empty, ...) and report
which rewrites raise the reward without solving the task.

The reward function is one of:
  --py MODULE:FUNCTION or --py path/to/file.py:FUNCTION
      a Python function, imported as rewardspy probe does: MODULE from the
      current directory (a helper module beside it imports as usual),
      FILE from its own directory. Called once per case with the case's
      arguments; it returns a number or {"name": number, ...}. goodhart
      runs python3 (the active virtualenv's python when $VIRTUAL_ENV is
      set, or --python PATH) on an adapter built into reportgen. With
      --trl the function has TRL's GRPOTrainer signature,
      fn(completions, **kwargs) -> list[float]: each case is a batch of
      one, completions=[the case's "completion"], prompts=[its "prompt"],
      every other field as a one-element list (the dataset columns).
      An import error stops the probe (exit 2); an exception or a wrong
      return (None, a string, a list of the wrong length) fails that case.
  --cmd ARG (repeat per argument) or --cmd-json '["python3","r.py"]'
      a program reading one case per line on stdin, {"args":[...],"kwargs":{...}},
      and printing one result per line: a number, {"name": value, ...}
      or {"error": "..."}. No shell is involved.
  --url URL
      an endpoint taking one case per POST (same JSON) and replying with
      one result.
See testdata/probe/README.md for the protocol and examples.

Case file (-p): a JSON array or JSONL; each item is {"args":[...],
"kwargs":{...}}, another object (named arguments), an array (positional)
or a scalar (one argument).

Exit codes: 0 ok, 1 the reward is exploitable (with --hacks),
2 bad flags, an unreadable case file, or a reward function that cannot
score any case.`

func runProbe(args []string, stdout, stderr io.Writer) int {
	var (
		cmdArgs          stringList
		headers          stringList
		cmdJSON, rawURL  string
		cases, out       string
		format           string
		hacks, passErr   bool
		timeout          time.Duration
		concurrency      int
		respField, ansF  string
		correct          string
		minShare         float64
		maxFailuresShown int
		pyTarget, pyExe  string
		trl              bool
	)
	fs := newFlagSet("probe",
		"probe (--py MODULE:FUNCTION [--trl] | --cmd ARG... | --cmd-json JSON | --url URL) -p CASES [--hacks] [--timeout 5s] [--concurrency N] [--format text|json] [-o run.jsonl]",
		probeAbout,
		"reportgen probe --py my_rewards:reward_fn -p cases.json --hacks\n"+
			"  reportgen probe --py rewards.py:accuracy_reward --trl -p cases.json --hacks\n"+
			"  reportgen probe --cmd python3 --cmd reward.py -p cases.json --hacks --correct-component correctness",
		stdout)
	fs.StringVar(&pyTarget, "py", "", "Python reward function: MODULE:FUNCTION (imported from the current directory) or path/to/file.py:FUNCTION")
	fs.BoolVar(&trl, "trl", false, "with --py: the function has TRL's batch signature fn(completions, **kwargs) -> list[float]")
	fs.StringVar(&pyExe, "python", "", "with --py: the Python interpreter (default: $VIRTUAL_ENV/bin/python when a virtualenv is active, else python3)")
	fs.Var(&cmdArgs, "cmd", "one argument of the reward command (repeat: --cmd python3 --cmd reward.py)")
	fs.StringVar(&cmdJSON, "cmd-json", "", `the reward command as a JSON array, e.g. '["python3","reward.py"]'`)
	fs.StringVar(&rawURL, "url", "", "HTTP endpoint: each case is POSTed as JSON")
	fs.Var(&headers, "header", "extra HTTP header 'Name: value' for --url (repeatable)")
	fs.StringVar(&cases, "p", "", "case file (JSON array or JSONL)")
	fs.StringVar(&cases, "cases", "", "same as -p")
	fs.BoolVar(&hacks, "hacks", false, "run the hack probes and report exploitability")
	fs.DurationVar(&timeout, "timeout", 5*time.Second, "per-case timeout (a command's first case also waits for it to start: raise it for rewards that load a model)")
	fs.IntVar(&concurrency, "concurrency", 0, "copies of the command to run, or HTTP requests in flight (default 1 and 8)")
	fs.StringVar(&format, "format", "text", "output format: text|json")
	fs.StringVar(&out, "o", "", "also write the scored cases as a run (.jsonl, .csv or .parquet), atomically")
	fs.StringVar(&respField, "response-field", "", "argument holding the response: a name, or a position like 0 (default: response, completion, output, text, else the first string argument)")
	fs.StringVar(&ansF, "answer-field", "", "argument holding the reference answer (default: answer, solution, ground_truth, target, else the argument after a positional response)")
	fs.StringVar(&correct, "correct-component", "", "component that says the task was solved (default: correctness, when the reward returns it)")
	fs.Float64Var(&minShare, "min-share", 0.10, "share of cases a rewrite must raise to call the reward exploitable")
	fs.BoolVar(&passErr, "stderr", false, "pass the reward command's stderr through (default: only its last line, in failures)")
	fs.IntVar(&maxFailuresShown, "max-failures", 20, "failures to list in text output")

	pos, help, err := parseArgs(fs, args)
	if help {
		return exitOK
	}
	if err != nil {
		return usageError(stderr, "probe", "%v", err)
	}
	if cases == "" && len(pos) == 1 {
		cases, pos = pos[0], nil
	}
	if len(pos) > 0 {
		if len(cmdArgs) > 0 {
			return usageError(stderr, "probe", "unexpected argument %q: give each command argument its own --cmd (--cmd python3 --cmd reward.py), or use --cmd-json", pos[0])
		}
		return usageError(stderr, "probe", "unexpected argument %q", pos[0])
	}
	if cases == "" {
		return usageError(stderr, "probe", "no case file: give -p cases.json")
	}
	if format != "text" && format != "json" {
		return usageError(stderr, "probe", "--format %q: want text or json", format)
	}
	if err := checkDuration("timeout", timeout, time.Millisecond, maxTimeout); err != nil {
		return usageError(stderr, "probe", "%v", err)
	}
	if err := checkInts(intRange{"concurrency", concurrency, 0, maxConcurrency}, intRange{"max-failures", maxFailuresShown, 0, math.MaxInt32}); err != nil {
		return usageError(stderr, "probe", "%v", err)
	}
	if minShare <= 0 || minShare > 1 {
		return usageError(stderr, "probe", "--min-share %g: want a share in (0, 1]", minShare)
	}
	var writer *ingest.Writer
	if out != "" {
		if writer, err = ingest.LookupWriter("", out); err != nil {
			return usageError(stderr, "probe", "-o %s: %v", out, err)
		}
	}

	kinds := 0
	if pyTarget != "" {
		kinds++
	} else if trl || pyExe != "" {
		return usageError(stderr, "probe", "--trl and --python go with --py MODULE:FUNCTION")
	}
	if len(cmdArgs) > 0 {
		kinds++
	}
	if cmdJSON != "" {
		kinds++
	}
	if rawURL != "" {
		kinds++
	}
	if kinds != 1 {
		return usageError(stderr, "probe", "give exactly one reward function: --py MODULE:FUNCTION, --cmd ARG..., --cmd-json or --url")
	}
	if len(headers) > 0 && rawURL == "" {
		return usageError(stderr, "probe", "--header only applies to --url")
	}
	var (
		fn     probe.RewardFunc
		target string
		cmd    *probe.Command
	)
	switch {
	case pyTarget != "":
		popt := probe.PythonOptions{Interpreter: pyExe, TRL: trl,
			ResponseField: respField, Timeout: timeout, Processes: concurrency}
		if passErr {
			popt.Stderr = stderr
		}
		py, err := probe.NewPython(pyTarget, popt)
		if err != nil {
			return usageError(stderr, "probe", "--py %v", err)
		}
		defer py.Close()
		target = pyTarget + " (" + py.Interpreter
		if trl {
			target += ", TRL batch signature"
		}
		fn, target = py, target+")"
	case rawURL != "":
		u, err := url.Parse(rawURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageError(stderr, "probe", "--url %q: want http://host[:port]/path", rawURL)
		}
		h := &probe.HTTP{URL: rawURL, Timeout: timeout, Concurrency: concurrency, Header: http.Header{}}
		for _, hv := range headers {
			k, v, ok := strings.Cut(hv, ":")
			if !ok || strings.TrimSpace(k) == "" {
				return usageError(stderr, "probe", "--header %q: want 'Name: value'", hv)
			}
			h.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
		fn, target = h, rawURL
	default:
		argv := []string(cmdArgs)
		if cmdJSON != "" {
			if err := json.Unmarshal([]byte(cmdJSON), &argv); err != nil || len(argv) == 0 {
				return usageError(stderr, "probe", `--cmd-json: want a non-empty JSON array of strings, e.g. '["python3","reward.py"]'`)
			}
		}
		cmd = &probe.Command{Argv: argv, Timeout: timeout, Processes: concurrency}
		if passErr {
			cmd.Stderr = stderr
		}
		defer cmd.Close()
		fn, target = cmd, strings.Join(argv, " ")
	}

	inputs := []fileArg{{"-p", cases}}
	if cmd != nil {
		inputs = append(inputs, existingFiles("--cmd", cmd.Argv)...)
	}
	if i := strings.LastIndex(pyTarget, ":"); i > 0 && strings.HasSuffix(pyTarget[:i], ".py") {
		inputs = append(inputs, fileArg{"--py", pyTarget[:i]})
	}
	if c := refuseOverwrite(stderr, "probe", inputs, []fileArg{{"-o", out}}); c >= 0 {
		return c
	}
	cs, err := probe.ReadCasesFile(cases)
	if err != nil {
		return inputError(stderr, err)
	}
	if len(cs) == 0 {
		fmt.Fprintf(stderr, "reportgen probe: %s has no cases\n", cases)
		return exitUsage
	}
	if cmd != nil && cmd.Processes > len(cs) {
		cmd.Processes = len(cs) // no more copies than cases
	}

	// SIGINT and SIGTERM end the probe; the deferred Close then stops the
	// reward command's whole process group.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bar := newProbeBar(stderr)
	popt := probe.Options{ResponseField: respField, Progress: bar.update("scoring")}
	res, err := probe.Probe(ctx, fn, cs, popt)
	bar.clear()
	if err != nil {
		return probeFailed(stderr, err)
	}
	res.Source = cases
	rep := &probe.Report{Target: target, Results: res, MaxFailures: maxFailuresShown}
	if hacks {
		popt.Progress = bar.update("hack probes")
		h, err := probe.Hack(ctx, fn, res, probe.HackOptions{ResponseField: respField, AnswerField: ansF,
			CorrectComponent: correct, MinShare: minShare}, popt)
		bar.clear()
		if err != nil {
			return probeFailed(stderr, err)
		}
		if correct != "" && !hasComponent(res, correct) {
			fmt.Fprintf(stderr, "reportgen probe: warning: --correct-component %q: the reward returned no such component (has: %s)\n",
				correct, listOrNone(res.ComponentNames()))
		}
		rep.Hacks = h
	}
	if format == "json" {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "reportgen probe: %v\n", err)
		return exitUsage
	}
	if writer != nil {
		run := res.Run()
		if err := ingest.WriteFileAtomic(out, func(w io.Writer) error { return writer.Write(w, run) }); err != nil {
			fmt.Fprintf(stderr, "reportgen probe: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stderr, "reportgen probe: wrote %d scored cases to %s\n", run.Len(), out)
	}
	if res.Scored() == 0 {
		fmt.Fprintf(stderr, "reportgen probe: the reward function scored none of the %d cases (see the failures above)\n", len(cs))
		return exitUsage
	}
	if rep.Hacks != nil && rep.Hacks.Exploitable {
		return exitFlagged
	}
	return exitOK
}

func probeFailed(stderr io.Writer, err error) int {
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "reportgen probe: interrupted")
		return exitUsage
	}
	fmt.Fprintf(stderr, "reportgen probe: %v\n", err)
	return exitUsage
}

func hasComponent(res *probe.Results, name string) bool {
	for _, n := range res.ComponentNames() {
		if n == name {
			return true
		}
	}
	return false
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// probeBar draws "scoring 1234/10000" on stderr, at most ten times a
// second, only when stderr is a terminal (CI logs stay clean).
type probeBar struct {
	w      io.Writer
	active bool
	mu     sync.Mutex
	last   time.Time
	drawn  bool
}

func newProbeBar(stderr io.Writer) *probeBar {
	b := &probeBar{w: stderr}
	if f, ok := stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			b.active = true
		}
	}
	return b
}

func (b *probeBar) update(what string) func(done, total int) {
	if !b.active {
		return nil
	}
	return func(done, total int) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if now := time.Now(); done == total || now.Sub(b.last) >= 100*time.Millisecond {
			b.last = now
			b.drawn = true
			fmt.Fprintf(b.w, "\r%s %d/%d", what, done, total)
		}
	}
}

func (b *probeBar) clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
		b.drawn = false
	}
}
