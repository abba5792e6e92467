// Command reportgen-beam audits a whole sweep of training runs as an Apache
// Beam pipeline: the same reading (ingest) and audit (analysis) as
// 'reportgen audit', one run per element, so fleets of runs in object
// storage can be audited on a cluster runner (Flink, Spark, Dataflow), and
// on one machine with Beam's local prism runner.
//
//	reportgen-beam --input 'sweep/*/trainer_state.json' --findings findings.parquet --table sweep.txt
//	reportgen-beam --input 'gs://bucket/sweep/*/*.jsonl' --findings gs://bucket/out/findings.parquet \
//	    --runner universal --endpoint localhost:8099 --environment_type LOOPBACK
//
// It exits 0 when no run is flagged, 1 when any is, 2 on bad usage, a
// failed pipeline or a run that could not be read (the table says which).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

// listFlag collects a repeatable flag; each value may also be a comma list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

var (
	inputs     listFlag
	findings   = flag.String("findings", "", "write the findings table (one row per run and per alert) to FILE.parquet or FILE.jsonl (local, gs://, s3://)")
	table      = flag.String("table", "", "write the sweep table to FILE: .json, .csv, anything else text (local, gs://, s3://)")
	runKeyFlag = flag.String("run_key", "dir", "what one run is: dir (the files of one directory are one run, e.g. shards) or file")
	inFormat   = flag.String("input_format", "", "force the input format (default: detect from content)")
	mapping    = flag.String("map", "", "map source keys to columns, e.g. reward=train_reward,length=len")
	grain      = flag.String("grain", "", "what one row is: call|sample|episode|step (default: inferred)")
	strict     = flag.Bool("strict", false, "treat any malformed record as a failed run")
	last       = flag.Int("last", 0, "use only the last N records of each run (0 = all)")
	window     = flag.Int("window", 0, "rolling window in records (default 100; step-grain logs get a scaled window)")
	sens       = flag.String("sensitivity", "medium", "low|medium|high")
	maxReward  = flag.Float64("max_reward", 0, "the reward ceiling (default: the highest reward seen so far)")
	detectors  = flag.String("detectors", "all", "all | rewardspy | a comma list of names")
	kind       = flag.String("kind", "", "rewardspy|policy|preference|episodes (default: detected per run)")
	gold       = flag.String("gold", "", "the true-objective metric(s), comma list (default: the run's held-out eval.* metrics)")
	lowerBest  = flag.String("eval_lower_better", "", "comma list of eval metrics where lower is better")
)

func init() {
	flag.Var(&inputs, "input", "file pattern of the runs (repeatable or comma list): local glob, gs://bucket/..., s3://bucket/...")
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// options turns the flags into pipeline Options; explicit reports whether
// --max_reward was given.
func options(explicitMax bool) (Options, error) {
	opt := Options{InputFormat: *inFormat, Grain: *grain, Strict: *strict, Last: *last, Window: *window,
		Sensitivity: *sens, MaxReward: *maxReward, HasMaxReward: explicitMax, Detectors: splitList(*detectors),
		Kind: *kind, Gold: splitList(*gold), EvalLowerBetter: splitList(*lowerBest), RunKey: *runKeyFlag,
		Findings: *findings, Table: *table}
	if *mapping != "" {
		opt.Map = map[string]string{}
		for _, kv := range splitList(*mapping) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
				return opt, fmt.Errorf("--map: %q is not name=value", kv)
			}
			opt.Map[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if opt.RunKey != "dir" && opt.RunKey != "file" {
		return opt, fmt.Errorf("--run_key %q: want dir or file", opt.RunKey)
	}
	if len(inputs) == 0 {
		return opt, errors.New("give the runs with --input PATTERN (e.g. --input 'sweep/*/trainer_state.json')")
	}
	for _, p := range inputs {
		// Local patterns are checked here for a clear message; remote ones
		// fail in the pipeline's match step.
		if isLocal(p) {
			if m, err := filepath.Glob(p); err != nil || len(m) == 0 {
				return opt, fmt.Errorf("--input %s: no file matches (quote the pattern, and check the path)", p)
			}
		}
	}
	if opt.Findings == "" && opt.Table == "" {
		return opt, errors.New("nothing to write: give --findings FILE.parquet|.jsonl and/or --table FILE")
	}
	if opt.Findings != "" && !strings.HasSuffix(strings.ToLower(opt.Findings), ".parquet") &&
		!strings.HasSuffix(strings.ToLower(opt.Findings), ".jsonl") {
		return opt, fmt.Errorf("--findings %q: name it .parquet or .jsonl", opt.Findings)
	}
	_, err := opt.config()
	return opt, err
}

func main() {
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage: reportgen-beam --input PATTERN... [--findings F.parquet|.jsonl] [--table F.txt|.csv|.json] [--runner prism|direct|universal --endpoint host:port] [audit flags]\n\n"+
			"Audit every run the patterns match as an Apache Beam pipeline (one run per\n"+
			"element) and write the findings and the sweep table, as 'reportgen audit'\n"+
			"does for several runs. Runner: prism (local, default), direct, or a job\n"+
			"server (--runner universal --endpoint host:port; Flink, Spark, Dataflow).\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	beam.Init()
	explicitMax := false
	flag.Visit(func(f *flag.Flag) { explicitMax = explicitMax || f.Name == "max_reward" })
	opt, err := options(explicitMax)
	if err != nil {
		fmt.Fprintf(os.Stderr, "reportgen-beam: %v\nRun 'reportgen-beam --help' for usage.\n", err)
		os.Exit(2)
	}
	if *runners.Runner == "" {
		*runners.Runner = "prism"
	}
	p, s := beam.NewPipelineWithRoot()
	Build(s, inputs, opt)
	ctx := context.Background()
	if err := beamx.Run(ctx, p); err != nil {
		fmt.Fprintf(os.Stderr, "reportgen-beam: pipeline failed: %v\n", err)
		os.Exit(2)
	}
	code, err := exitCode(ctx, opt)
	if err != nil {
		fmt.Fprintf(os.Stderr, "reportgen-beam: %v\n", err)
		os.Exit(2)
	}
	os.Exit(code)
}

// exitCode reads back what the pipeline wrote (the JSON table, else the
// JSONL findings) for the sweep's exit code: 2 when any run failed, 1 when
// any is flagged, 0 otherwise. With only Parquet or text outputs it is 0
// and the table or the Parquet exit_code column says more.
func exitCode(ctx context.Context, opt Options) (int, error) {
	var src string
	switch {
	case strings.HasSuffix(strings.ToLower(opt.Table), ".json"):
		src = opt.Table
	case strings.HasSuffix(strings.ToLower(opt.Findings), ".jsonl"):
		src = opt.Findings
	default:
		return 0, nil
	}
	b, err := readAll(ctx, src)
	if err != nil {
		return 0, err
	}
	return exitFromOutput(b)
}

func readAll(ctx context.Context, p string) ([]byte, error) {
	if isLocal(p) {
		return os.ReadFile(p)
	}
	fs, err := filesystemFor(ctx, p)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	rc, err := fs.OpenRead(ctx, p)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
