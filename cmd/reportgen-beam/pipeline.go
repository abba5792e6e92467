package main

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/fileio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/goodhart-rl/goodhart/analysis"
	"github.com/goodhart-rl/goodhart/ingest"
)

// Options are what every worker needs to read and audit a run, and where
// the results go. They travel with the DoFns (exported fields are
// serialised by Beam), so remote workers see the same settings.
type Options struct {
	// Input options (reportgen's --input-format, --map k=v,..., --grain, --strict, --last).
	InputFormat string
	Map         map[string]string
	Grain       string
	Strict      bool
	Last        int
	// Audit options (reportgen's --window, --sensitivity, --max-reward,
	// --detectors, --kind, --gold, --eval-lower-better).
	Window          int
	Sensitivity     string
	MaxReward       float64
	HasMaxReward    bool
	Detectors       []string
	Kind            string
	Gold            []string
	EvalLowerBetter []string
	// RunKey is "dir" (the files of one directory are one run, sharded) or
	// "file" (every file is a run).
	RunKey string
	// Findings and Table are the output paths (local, gs://, s3://); "" = not written.
	Findings string
	Table    string
}

// config is the audit configuration Options describe.
func (o Options) config() (analysis.Config, error) {
	cfg := analysis.Config{Window: o.Window, Sensitivity: analysis.Sensitivity(o.Sensitivity),
		MaxReward: o.MaxReward, HasMaxReward: o.HasMaxReward, Detectors: o.Detectors,
		Gold: o.Gold, EvalLowerBetter: o.EvalLowerBetter}
	if cfg.Sensitivity == "" {
		cfg.Sensitivity = analysis.SensitivityMedium
	}
	k, err := analysis.ParseKind(o.Kind)
	if err != nil {
		return cfg, err
	}
	cfg.Kind = k
	return cfg, cfg.Validate()
}

func (o Options) ingestOptions() ingest.Options {
	return ingest.Options{Format: o.InputFormat, Map: o.Map, Grain: ingest.Grain(o.Grain), Strict: o.Strict}
}

func init() {
	register.DoFn2x0[fileio.FileMetadata, func(string, string)](&keyFn{})
	register.DoFn3x2[context.Context, string, func(*string) bool, []byte, error](&auditFn{})
	register.DoFn3x1[context.Context, int, func(*[]byte) bool, error](&finishFn{})
	register.Emitter2[string, string]()
	register.Iter1[string]()
	register.Iter1[[]byte]()
}

// runResult is one run's audit as it travels from auditFn to finishFn
// (gob-encoded: gob keeps NaN numbers exactly).
type runResult struct {
	Row      analysis.SweepRow
	Findings []analysis.FindingRow
	Skipped  bool // a group with no file any format reads
}

// keyFn keys each matched file by its run: its directory (RunKey "dir")
// or the file itself (RunKey "file"). Matched local directories are
// dropped: unlike 'reportgen audit', the pipeline does not walk them.
type keyFn struct{ RunKey string }

func (f *keyFn) ProcessElement(md fileio.FileMetadata, emit func(string, string)) {
	if isLocal(md.Path) {
		// A local pattern such as sweep/*/* also matches directories;
		// object stores have none. Patterns match files, never walk.
		if st, err := os.Stat(md.Path); err == nil && st.IsDir() {
			return
		}
	}
	emit(runKey(md.Path, f.RunKey), md.Path)
}

// runKey is the directory of p ("gs://b/sweep/a/x.log" -> "gs://b/sweep/a"),
// or p itself when by is "file".
func runKey(p, by string) string {
	if by == "file" {
		return p
	}
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[:i]
	}
	return "."
}

// auditFn reads the files of one run (in path order), audits the run and
// emits its sweep row and findings. A run of one file is that file (its
// path names the run, as in 'reportgen audit'); a run of several files is
// the concatenation of those of them that ingest reads as runs, named by
// the directory.
type auditFn struct{ Opt Options }

func (f *auditFn) ProcessElement(ctx context.Context, key string, files func(*string) bool) ([]byte, error) {
	var paths []string
	var p string
	for files(&p) {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	res := auditGroup(ctx, key, paths, f.Opt)
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(res); err != nil {
		return nil, fmt.Errorf("%s: encode: %w", key, err)
	}
	return b.Bytes(), nil
}

// auditGroup does auditFn's work (also called directly by tests).
func auditGroup(ctx context.Context, key string, paths []string, opt Options) runResult {
	name := key
	if len(paths) == 1 {
		name = paths[0]
	}
	fail := func(err error) runResult {
		row := analysis.SweepErrorRow(name, err)
		return runResult{Row: row, Findings: analysis.FindingsOf(row, nil)}
	}
	cfg, err := opt.config()
	if err != nil {
		return fail(err)
	}
	var run *ingest.Run
	if len(paths) == 1 {
		if run, err = readRun(ctx, paths[0], opt.ingestOptions()); err != nil {
			return fail(err)
		}
	} else {
		var shards []*ingest.Run
		for _, p := range paths {
			r, err := readRun(ctx, p, opt.ingestOptions())
			if errors.Is(err, ingest.ErrNotARun) {
				continue // a README or a config file beside the shards
			}
			if err != nil {
				return fail(err)
			}
			shards = append(shards, r)
		}
		if len(shards) == 0 {
			return runResult{Row: analysis.SweepErrorRow(name, errors.New("no file is a run")), Skipped: true}
		}
		run = concatRuns(key, shards)
	}
	if opt.Last < 0 {
		return fail(fmt.Errorf("--last %d: must be >= 0", opt.Last))
	}
	run = run.Last(opt.Last)
	rep, err := analysis.Audit(run, cfg)
	if err != nil {
		return fail(err)
	}
	if rep.Records == 0 && !analysis.RewardspyMode(cfg.Detectors) {
		if run.Len() == 0 {
			return fail(fmt.Errorf("%s: no records to audit: the file holds no records (an empty or header-only log cannot pass an audit)", name))
		}
		return fail(fmt.Errorf("%s: no records to audit: none of its %d rows has a reward value (map the reward with --map reward=<key>)", name, run.Len()))
	}
	row := analysis.SweepRowOf(name, run, rep, cfg)
	return runResult{Row: row, Findings: analysis.FindingsOf(row, rep)}
}

// isLocal reports whether p is a plain local path (no scheme).
func isLocal(p string) bool { return !strings.Contains(p, "://") }

// readRun reads one file with ingest: a local path with ingest.ReadFile
// (exactly what 'reportgen audit' does), anything else (gs://, s3://)
// through Beam's filesystem for its scheme.
func readRun(ctx context.Context, p string, opt ingest.Options) (*ingest.Run, error) {
	if isLocal(p) {
		return ingest.ReadFile(p, opt)
	}
	fs, err := filesystem.New(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	defer fs.Close()
	rc, err := fs.OpenRead(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	defer rc.Close()
	return ingest.Read(rc, p, opt)
}

// concatRuns joins the shards of one run, in the order given, into one Run
// named source: every column any shard has, missing values NaN (numbers)
// or "" (text); a column that is text in one shard and numbers in another
// keeps the first shard's type and the other shard's values are missing.
// Format, grain and metadata come from the first shard; skipped counts add
// up and issues are concatenated (at most 100).
func concatRuns(source string, shards []*ingest.Run) *ingest.Run {
	n := 0
	var order []string
	seen := map[string]bool{}
	isStr := map[string]bool{}
	for _, s := range shards {
		n += s.Len()
		for _, c := range s.Columns() {
			if !seen[c] {
				seen[c] = true
				order = append(order, c)
				isStr[c] = s.IsString(c)
			}
		}
	}
	out := ingest.NewRun(n)
	first := shards[0]
	out.Source, out.Format, out.Grain = source, first.Format, first.Grain
	out.Meta = first.Meta
	for _, c := range order {
		if isStr[c] {
			col := make([]string, 0, n)
			for _, s := range shards {
				if v, ok := s.StringColumn(c); ok {
					col = append(col, v...)
				} else {
					col = append(col, make([]string, s.Len())...)
				}
			}
			out.SetStringColumn(c, col)
			continue
		}
		col := make([]float64, 0, n)
		for _, s := range shards {
			if v, ok := s.Column(c); ok && !s.IsString(c) {
				col = append(col, v...)
			} else {
				for range s.Len() {
					col = append(col, math.NaN())
				}
			}
		}
		out.SetColumn(c, col)
	}
	for _, s := range shards {
		out.Skipped += s.Skipped
		for _, is := range s.Issues {
			if len(out.Issues) < 100 {
				out.Issues = append(out.Issues, is)
			}
		}
	}
	return out
}

// finishFn gathers every run's result (one element: all of them under one
// key), names and sorts them like 'reportgen audit' and writes the
// findings and the sweep table.
type finishFn struct{ Opt Options }

func (f *finishFn) ProcessElement(ctx context.Context, _ int, vals func(*[]byte) bool) error {
	var results []runResult
	var b []byte
	for vals(&b) {
		var r runResult
		if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&r); err != nil {
			return fmt.Errorf("decode a run's result: %w", err)
		}
		results = append(results, r)
	}
	rows, findings := finish(results)
	if f.Opt.Findings != "" {
		if err := writeOut(ctx, f.Opt.Findings, func(w io.Writer) error {
			return analysis.WriteFindings(w, f.Opt.Findings, findings)
		}); err != nil {
			return err
		}
	}
	if f.Opt.Table != "" {
		return writeOut(ctx, f.Opt.Table, func(w io.Writer) error { return writeTable(w, f.Opt.Table, rows) })
	}
	return nil
}

// finish orders results as 'reportgen audit' does: skipped groups left
// out, rows named relative to their common directory and sorted worst
// first, findings in the same order.
func finish(results []runResult) ([]analysis.SweepRow, []analysis.FindingRow) {
	var rows []analysis.SweepRow
	var findings []analysis.FindingRow
	for _, r := range results {
		if r.Skipped {
			continue
		}
		rows = append(rows, r.Row)
		findings = append(findings, r.Findings...)
	}
	names := analysis.FinishSweep(rows)
	analysis.FinishFindings(findings, names)
	return rows, findings
}

// writeTable writes the sweep table as JSON (.json), CSV (.csv) or text.
func writeTable(w io.Writer, p string, rows []analysis.SweepRow) error {
	switch strings.ToLower(path.Ext(p)) {
	case ".json":
		return analysis.WriteSweepJSON(w, rows)
	case ".csv":
		return analysis.WriteSweepCSV(w, rows)
	}
	return analysis.WriteSweepText(w, rows)
}

// writeOut writes a file: local paths atomically (ingest.WriteFileAtomic),
// other schemes through Beam's filesystem (the object appears on Close).
func writeOut(ctx context.Context, p string, write func(io.Writer) error) error {
	if isLocal(p) {
		return ingest.WriteFileAtomic(p, write)
	}
	fs, err := filesystem.New(ctx, p)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	defer fs.Close()
	wc, err := fs.OpenWrite(ctx, p)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if err := write(wc); err != nil {
		wc.Close()
		return fmt.Errorf("%s: %w", p, err)
	}
	return wc.Close()
}

// Build adds the sweep audit to the pipeline: match every pattern, key each
// file by its run, group, audit each run on its own worker, gather all
// results on one worker and write the outputs.
func Build(s beam.Scope, patterns []string, opt Options) {
	var matched []beam.PCollection
	for _, p := range patterns {
		matched = append(matched, fileio.MatchFiles(s.Scope("match"), p, fileio.MatchEmptyDisallow()))
	}
	files := beam.Flatten(s, matched...)
	keyed := beam.ParDo(s.Scope("key by run"), &keyFn{RunKey: opt.RunKey}, files)
	groups := beam.GroupByKey(s, keyed)
	audited := beam.ParDo(s.Scope("audit"), &auditFn{Opt: opt}, groups)
	all := beam.GroupByKey(s, beam.AddFixedKey(s, audited))
	beam.ParDo0(s.Scope("write"), &finishFn{Opt: opt}, all)
}
