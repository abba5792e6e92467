package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// inputFlags are the flags every command that reads a run accepts.
type inputFlags struct {
	format  string
	mapping string
	grain   string
	strict  bool
	last    int
	// skip names columns the command does not use (ingest.Options.SkipColumn).
	skip func(string) bool
	// tee, when not nil, also gets every chunk stream reads (before --last).
	tee func(*ingest.Run)
}

func (f *inputFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.format, "input-format", "", "force the input format (default: detect from content). RUN may also be a folder: an HF output or checkpoint folder,\na TensorBoard log dir, an SB3 log folder, an MLflow run (mlruns/<exp>/<run>) or a W&B run (wandb/run-*)")
	fs.StringVar(&f.mapping, "map", "", "map source keys to columns, e.g. reward=train_reward,length=len")
	fs.StringVar(&f.grain, "grain", "", "what one row is: call|sample|episode|step (default: inferred)")
	fs.BoolVar(&f.strict, "strict", false, "treat any malformed record as an error (exit 2)")
	fs.IntVar(&f.last, "last", 0, "use only the last N records (0 = all)")
}

func (f *inputFlags) options() (ingest.Options, error) {
	opt := ingest.Options{Format: f.format, Strict: f.strict, SkipColumn: f.skip}
	if err := checkInts(intRange{"last", f.last, 0, math.MaxInt}); err != nil {
		return opt, err
	}
	if f.mapping != "" {
		m, err := parseKV(f.mapping)
		if err != nil {
			return opt, fmt.Errorf("--map: %v", err)
		}
		opt.Map = m
	}
	switch ingest.Grain(f.grain) {
	case "", ingest.GrainCall, ingest.GrainSample, ingest.GrainEpisode, ingest.GrainStep:
		opt.Grain = ingest.Grain(f.grain)
	default:
		return opt, fmt.Errorf("--grain %q: want call, sample, episode or step", f.grain)
	}
	return opt, nil
}

// load reads path (a file, or a folder holding one run: see
// ingest.ResolvePath) with the input flags, says on stderr which files a
// folder gave and which key became the reward when it was picked from the
// well-known keys, reports skipped records in one line and applies --last. It returns an error only for input that cannot
// be read as a run (the caller exits 2).
func (f *inputFlags) load(path string, stderr io.Writer) (*ingest.Run, error) {
	opt, err := f.options()
	if err != nil {
		return nil, err
	}
	run, src, err := ingest.ReadPath(path, opt)
	if err != nil {
		return nil, err
	}
	return f.loaded(run, src, opt, stderr), nil
}

// loadSource reads one run a folder resolved to (a sweep's), as load does.
func (f *inputFlags) loadSource(src ingest.Source, stderr io.Writer) (*ingest.Run, error) {
	opt, err := f.options()
	if err != nil {
		return nil, err
	}
	run, err := ingest.ReadSource(src, opt)
	if err != nil {
		return nil, err
	}
	return f.loaded(run, src, opt, stderr), nil
}

// loaded says on stderr which files were read, which key became the reward
// and what was skipped, and applies --last.
func (f *inputFlags) loaded(run *ingest.Run, src ingest.Source, opt ingest.Options, stderr io.Writer) *ingest.Run {
	if src.Kind != "file" {
		fmt.Fprintf(stderr, "goodhart: %s\n", src.Describe())
	}
	if k := ingest.AutoRewardKey(run, opt); k != "" {
		fmt.Fprintf(stderr, "goodhart: reward = %s (another key: --map reward=<key>)\n", k)
	}
	reportSkipped(stderr, run)
	return run.Last(f.last)
}

// reportSkipped prints one line about the run's bad input ("goodhart:
// skipped 3 malformed records: run.jsonl:17, :204, :9120") and the first
// issue's reason, and a line when rarely present columns were dropped to
// bound memory; nothing when the run was clean.
func reportSkipped(w io.Writer, run *ingest.Run) {
	if s := ingest.IssueSummary(run); s != "" {
		fmt.Fprintf(w, "goodhart: %s\n", s)
		if len(run.Issues) > 0 {
			fmt.Fprintf(w, "  first: %s\n", run.Issues[0].Error())
		}
	}
	if s := ingest.DroppedNote(run); s != "" {
		fmt.Fprintf(w, "goodhart: %s\n", s)
	}
}

// inputError prints err for a run that could not be read and returns 2.
func inputError(stderr io.Writer, err error) int {
	msg := err.Error()
	if errors.Is(err, ingest.ErrStrict) {
		msg += " (drop --strict to skip bad records)"
	}
	fmt.Fprintf(stderr, "reportgen: %s\n", msg)
	return exitUsage
}

// usageError prints a usage problem and returns 2.
func usageError(stderr io.Writer, cmd, format string, args ...any) int {
	fmt.Fprintf(stderr, "reportgen %s: %s\nRun 'reportgen %s --help' for usage.\n", cmd, fmt.Sprintf(format, args...), cmd)
	return exitUsage
}

// parseKV parses "a=1,b=x" into a map, rejecting empty keys and duplicates.
func parseKV(s string) (map[string]string, error) { return parsePairs(s, false) }

// parsePairs splits a comma list of name=value entries into a map. With
// colon, name:value is accepted too (rewardguard's "food:60"): the first
// '=' wins; without one, the last ':' splits, so a name may hold a colon.
// Empty entries are skipped; an empty name or value, or a name given twice,
// is an error.
func parsePairs(s string, colon bool) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok && colon {
			if i := strings.LastIndexByte(part, ':'); i >= 0 {
				k, v, ok = part[:i], part[i+1:], true
			}
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			if colon {
				return nil, fmt.Errorf("%q is not name=weight or name:pct (e.g. task=0.7,safety=0.3 or food:60,survival:40)", part)
			}
			return nil, fmt.Errorf("%q is not name=value", part)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%q given twice", k)
		}
		out[k] = v
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}

// parseWeights parses "task=0.7,safety=0.3" (or rewardguard's
// "food:60,survival:40") into numbers.
func parseWeights(s string) (map[string]float64, error) {
	kv, err := parseWeightKV(s)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(kv))
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		x, err := strconv.ParseFloat(kv[k], 64)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: not a number", k, kv[k])
		}
		out[k] = x
	}
	return out, nil
}

// auditFlags are the detector flags shared by audit, summary, report and show.
type auditFlags struct {
	window      int
	sensitivity string
	maxReward   float64
	detectors   string
	lowerBetter string
	kind        string
	gold        string
}

func (a *auditFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&a.window, "window", 0, "rolling window in records (default 100; step-grain logs get a window scaled to their length)")
	fs.StringVar(&a.sensitivity, "sensitivity", "medium", "low|medium|high")
	fs.Float64Var(&a.maxReward, "max-reward", 0, "the reward ceiling (default: the highest reward seen so far)")
	fs.StringVar(&a.detectors, "detectors", "all", "all | rewardspy (exactly rewardspy's five) | a comma list of names")
	fs.StringVar(&a.lowerBetter, "eval-lower-better", "", "comma list of eval metrics where lower is better (loss, perplexity are known)")
	fs.StringVar(&a.kind, "kind", "", "what the run is: rewardspy|policy|preference|episodes (default: detected from format and columns)")
	fs.StringVar(&a.gold, "gold", "", "the true-objective metric(s) to judge the reward against, comma list of column names\n(default: the run's held-out eval.* metrics, well-known names first)")
}

func (a *auditFlags) config(fs *flag.FlagSet) (analysis.Config, error) {
	cfg := analysis.Config{Window: a.window, Sensitivity: analysis.Sensitivity(a.sensitivity)}
	switch cfg.Sensitivity {
	case analysis.SensitivityLow, analysis.SensitivityMedium, analysis.SensitivityHigh:
	default:
		return cfg, fmt.Errorf("--sensitivity %q: want low, medium or high", a.sensitivity)
	}
	if a.window < 0 {
		return cfg, fmt.Errorf("--window %d: must be > 0 (or 0 for the default)", a.window)
	}
	if err := checkInts(intRange{"window", a.window, 0, maxWindow}); err != nil {
		return cfg, err
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "max-reward" {
			cfg.HasMaxReward = true
			cfg.MaxReward = a.maxReward
		}
	})
	for _, d := range strings.Split(a.detectors, ",") {
		if d = strings.TrimSpace(d); d != "" {
			cfg.Detectors = append(cfg.Detectors, d)
		}
	}
	for _, d := range strings.Split(a.lowerBetter, ",") {
		if d = strings.TrimSpace(d); d != "" {
			cfg.EvalLowerBetter = append(cfg.EvalLowerBetter, d)
		}
	}
	k, err := analysis.ParseKind(a.kind)
	if err != nil {
		return cfg, fmt.Errorf("--kind %q: want rewardspy, policy, preference or episodes", a.kind)
	}
	cfg.Kind = k
	for _, g := range strings.Split(a.gold, ",") {
		if g = strings.TrimSpace(g); g != "" {
			cfg.Gold = append(cfg.Gold, g)
		}
	}
	return cfg, nil
}

// newFlagSet returns a flag set whose --help prints the usage line, what the
// command does, an example and the flags, to stdout.
func newFlagSet(name, usageLine, about, example string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: reportgen %s\n\n%s\n\nExample:\n  %s\n\nFlags:\n", usageLine, about, example)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parseArgs parses flags that may come before or after positional arguments
// ("audit run.jsonl --window 50" and "audit --window 50 run.jsonl"). It
// returns the positional arguments; help is true when --help was asked for
// (usage already printed; exit 0).
func parseArgs(fs *flag.FlagSet, args []string) (pos []string, help bool, err error) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				// flag already printed fs.Usage.
				return nil, true, nil
			}
			return nil, false, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, false, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), false, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// auditOne finishes a one-RUN command that takes the input flags, the audit
// flags and --format text|json (audit, summary): it parses args, reads the
// run and audits it. When ok is false the command returns code at once
// (--help, a usage error or an input error, already reported).
func auditOne(cmd string, fs *flag.FlagSet, in *inputFlags, af *auditFlags, format *string, args []string, stderr io.Writer) (a audited, code int, ok bool) {
	pos, help, err := parseArgs(fs, args)
	if help {
		return a, exitOK, false
	}
	if err != nil {
		return a, usageError(stderr, cmd, "%v", err), false
	}
	if len(pos) != 1 {
		return a, usageError(stderr, cmd, "want exactly one RUN file or run folder, got %d", len(pos)), false
	}
	if *format != "text" && *format != "json" {
		return a, usageError(stderr, cmd, "--format %q: want text or json", *format), false
	}
	a.path = pos[0]
	if a.cfg, err = af.config(fs); err == nil {
		err = a.cfg.Validate()
	}
	if err != nil {
		return a, usageError(stderr, cmd, "%v", err), false
	}
	// No detector uses call_id: a Parquet run is read without it.
	in.skip = func(name string) bool { return name == ingest.ColCallID }
	sr, err := in.stream(a.path, nil, a.cfg, stderr)
	if err != nil {
		return a, inputError(stderr, err), false
	}
	if err := sr.check(a.cfg.Gold, stderr); err != nil {
		return a, usageError(stderr, cmd, "%v", err), false
	}
	if a.rep, err = sr.report(a.path, a.cfg); err != nil {
		return a, inputError(stderr, err), false
	}
	a.run = sr.header
	return a, exitOK, true
}

// auditRun audits run (read from path). An empty log must not pass a CI
// gate, so a run with no record to audit is an error (exit 2), except in
// rewardspy mode (--detectors rewardspy), where rewardspy's own audit says
// "No records found" and exits 0.
func auditRun(path string, run *ingest.Run, cfg analysis.Config) (*analysis.Report, error) {
	rep, err := analysis.Audit(run, cfg)
	if err != nil {
		return nil, err
	}
	if rep.Records == 0 && !analysis.RewardspyMode(cfg.Detectors) {
		return nil, fmt.Errorf("%s: %w", path, errNoRecords(run.Len()))
	}
	return rep, nil
}

// errEmptyRun: the run has no record with a reward.
var errEmptyRun = errors.New("no records to audit")

// errNoRecords says why a run of rows rows has nothing to audit: an empty
// file (rows 0), or rows that all lack a reward value.
func errNoRecords(rows int) error {
	if rows == 0 {
		return fmt.Errorf("%w: the file holds no records (an empty or header-only log cannot pass an audit)", errEmptyRun)
	}
	return fmt.Errorf("%w: none of its %d rows has a reward value (map the reward with --map reward=<key>)", errEmptyRun, rows)
}

// checkGold refuses --gold names that match no column of the run, listing
// the held-out metrics it has.
func checkGold(run *ingest.Run, gold []string) error {
	var evals []string
	for _, c := range run.Columns() {
		if strings.HasPrefix(c, ingest.EvalPrefix) {
			evals = append(evals, c)
		}
	}
	for _, g := range gold {
		n := strings.TrimPrefix(g, ingest.EvalPrefix)
		if run.Has(n) || run.Has(ingest.EvalPrefix+n) || run.Has(ingest.ExtraPrefix+n) || run.Has(ingest.ComponentPrefix+n) {
			continue
		}
		if len(evals) == 0 {
			return fmt.Errorf("--gold %s: the run has no column of that name and no held-out (eval.*) metric", g)
		}
		return fmt.Errorf("--gold %s: no such column; held-out metrics in this run: %s", g, strings.Join(evals, ", "))
	}
	return nil
}

// audited is what auditOne read and found.
type audited struct {
	run  *ingest.Run // the reader's header (Source, Format, Grain; no columns)
	path string
	cfg  analysis.Config
	rep  *analysis.Report
}
