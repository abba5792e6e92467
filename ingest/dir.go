package ingest

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Directories as input. ResolvePath finds the runs at a path; ReadSource
// reads one; ReadPath does both for a path that must hold exactly one run.
//
// A file is one run (read by content, as ReadFile does), except the side
// files of a W&B run folder (output.log, config.yaml, wandb-summary.json,
// wandb-metadata.json, requirements.txt, conda-environment.yaml,
// debug.log, debug-internal.log) and the files of an MLflow run folder
// (metrics/, params/, tags/), which are an ErrNotARun error that says
// which folder to read.
//
// A directory is looked at in this order; the first rule that matches
// decides:
//
//  1. a W&B run folder (run-*.wandb inside, or files/wandb-history.jsonl):
//     one run, from files/wandb-history.jsonl when present, else the
//     .wandb record file;
//  2. an MLflow run folder (meta.yaml and metrics/): one run;
//  3. an HF Trainer output folder: trainer_state.json at the top, else the
//     newest checkpoint-<N>/trainer_state.json (largest N);
//  4. otherwise every run below it, at most 4 folders deep: W&B runs
//     (wandb/run-*, offline-run-*), MLflow runs (mlruns/<exp>/<run>), HF
//     checkpoint folders, TensorBoard runs (all event files of one folder
//     are one run, merged in step order), SB3 runs (all *monitor.csv of one
//     folder are one vectorised run, merged by wall time; TensorBoard files
//     under an SB3 run's folder are the same run and are not listed again),
//     and any other file whose content is a known format (verl console
//     logs, JSONL, ...; not single *.json documents, and CSV only by a .csv
//     name). Hidden folders, artifacts/ and node_modules/ are skipped, and
//     at most 2000 files are opened to sniff their format.
//
// No run at all is an ErrNotARun error that says what was looked for.

// Source is one run found at a path: the name it goes by and the files it
// is read from.
type Source struct {
	Name  string   // the run's path as the user would type it (a file or a folder)
	Kind  string   // "file", "hf-checkpoint", "tensorboard", "sb3-monitor", "mlflow", "wandb"
	Files []string // the files read, in reading order (for mlflow: the run's metrics folder)
	Note  string   // what was chosen, e.g. "newest of 3 checkpoints"
	dir   string   // the folder the user named, for Describe
}

// Describe says which files were read, relative to the folder the user
// named: "read checkpoint-400/trainer_state.json (newest of 3 checkpoints)".
func (s Source) Describe() string {
	var fs []string
	for _, f := range s.Files {
		if s.dir != "" {
			if r, err := filepath.Rel(s.dir, f); err == nil && !strings.HasPrefix(r, "..") {
				f = r
			}
		}
		fs = append(fs, f)
	}
	if len(fs) > 4 {
		fs = append(fs[:3:3], fmt.Sprintf("... (%d files)", len(s.Files)))
	}
	d := "read " + strings.Join(fs, ", ")
	if s.Note != "" {
		d += " (" + s.Note + ")"
	}
	return d
}

// ErrSeveralRuns: ReadPath was given a folder that holds more than one run.
var ErrSeveralRuns = errors.New("holds several runs")

// wandbSideFiles are the files of a W&B run folder that are not the run's
// metrics.
var wandbSideFiles = map[string]bool{
	"output.log": true, "config.yaml": true, "wandb-summary.json": true, "wandb-metadata.json": true,
	"requirements.txt": true, "conda-environment.yaml": true, "debug.log": true, "debug-internal.log": true,
	"diff.patch": true, "wandb-events.jsonl": true,
}

var wandbRunDirRE = regexp.MustCompile(`(^|[/_])(offline-)?run-\d{8}_\d{6}-[0-9a-z]+$`)

// wandbRunOf returns the W&B run folder a side file belongs to, or "".
func wandbRunOf(path string) string {
	if !wandbSideFiles[filepath.Base(path)] {
		return ""
	}
	dir := filepath.Dir(path)
	for i := 0; i < 2; i++ {
		if isWandbRun(dir) {
			return dir
		}
		dir = filepath.Dir(dir)
	}
	return ""
}

// partOfFolderRun returns an ErrNotARun error when path is a file inside a
// run that is read as a folder (a W&B run's side files, an MLflow run's
// metric, param or tag files), naming the folder to read instead.
func partOfFolderRun(path string) error {
	if d := wandbRunOf(path); d != "" {
		return fmt.Errorf("%s: %w: this is a side file of the W&B run folder %s; read the folder: reportgen audit %s",
			path, ErrNotARun, d, d)
	}
	dir := filepath.Dir(path)
	for i := 0; i < 8 && dir != filepath.Dir(dir); i++ {
		switch filepath.Base(dir) {
		case "metrics", "params", "tags":
			if run := filepath.Dir(dir); isMLflowRun(run) {
				return fmt.Errorf("%s: %w: this is one file of the MLflow run %s; read the run folder: reportgen audit %s",
					path, ErrNotARun, run, run)
			}
		}
		dir = filepath.Dir(dir)
	}
	return nil
}

// wandbHistoryFile returns the run's wandb-history.jsonl: files/ in wandb
// 0.10 and later, the run folder itself before that; "" when there is none.
func wandbHistoryFile(dir string) string {
	for _, h := range []string{filepath.Join(dir, "files", "wandb-history.jsonl"), filepath.Join(dir, "wandb-history.jsonl")} {
		if fi, err := os.Stat(h); err == nil && !fi.IsDir() {
			return h
		}
	}
	return ""
}

// isWandbRun reports whether dir is a W&B run folder.
func isWandbRun(dir string) bool {
	if wandbHistoryFile(dir) != "" {
		return true
	}
	m, _ := filepath.Glob(filepath.Join(dir, "run-*.wandb"))
	return len(m) > 0
}

// monitorGroupRE strips the env index of a vectorised SB3 run's monitor
// files (0.monitor.csv, 1.monitor.csv, ... are one run).
var monitorGroupRE = regexp.MustCompile(`\d+\.monitor\.csv(\.gz)?$`)

var checkpointRE = regexp.MustCompile(`^checkpoint-(\d+)$`)

// ResolvePath returns the runs at path (the rules above).
func ResolvePath(path string) ([]Source, error) {
	if path == StdinName {
		return []Source{{Name: StdinLabel, Kind: "file", Files: []string{StdinName}}}, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		if err := partOfFolderRun(path); err != nil {
			return nil, err
		}
		return []Source{{Name: path, Kind: "file", Files: []string{path}}}, nil
	}
	if s, ok := folderRun(path); ok {
		s.dir = path
		return []Source{s}, nil
	}
	srcs, _, _ := scanDir(path, maxScanFiles, 4, false)
	for i := range srcs {
		srcs[i].dir = path
	}
	if len(srcs) == 0 {
		return nil, fmt.Errorf("%s: %w: no run found in this folder (looked for trainer_state.json, checkpoint-*/, TensorBoard event files, *monitor.csv, MLflow and W&B run folders, and log files of a known format, 4 folders deep)", path, ErrNotARun)
	}
	return srcs, nil
}

// folderRun applies rules 1-3 to dir itself.
func folderRun(dir string) (Source, bool) {
	if isWandbRun(dir) {
		if h := wandbHistoryFile(dir); h != "" {
			return Source{Name: dir, Kind: "wandb", Files: []string{h}}, true
		}
		m, _ := filepath.Glob(filepath.Join(dir, "run-*.wandb"))
		sort.Strings(m)
		note := ""
		if len(m) > 1 {
			note = fmt.Sprintf("last of %d record files", len(m))
		}
		return Source{Name: dir, Kind: "wandb", Files: []string{m[len(m)-1]}, Note: note}, true
	}
	if isMLflowRun(dir) {
		return Source{Name: dir, Kind: "mlflow", Files: []string{filepath.Join(dir, "metrics")}}, true
	}
	top := filepath.Join(dir, "trainer_state.json")
	if fi, err := os.Stat(top); err == nil && !fi.IsDir() {
		return Source{Name: dir, Kind: "hf-checkpoint", Files: []string{top}}, true
	}
	ents, _ := os.ReadDir(dir)
	best, bestN, n := "", -1, 0
	for _, e := range ents {
		m := checkpointRE.FindStringSubmatch(e.Name())
		if m == nil || !e.IsDir() {
			continue
		}
		f := filepath.Join(dir, e.Name(), "trainer_state.json")
		if _, err := os.Stat(f); err != nil {
			continue
		}
		n++
		if k, err := strconv.Atoi(m[1]); err == nil && k > bestN {
			best, bestN = f, k
		}
	}
	if best != "" {
		note := "the only checkpoint"
		if n > 1 {
			note = fmt.Sprintf("newest of %d checkpoints", n)
		}
		return Source{Name: dir, Kind: "hf-checkpoint", Files: []string{best}, Note: note}, true
	}
	return Source{}, false
}

// maxScanFiles caps how many files scanDir opens to sniff their format, so
// that pointing at a home folder ends quickly.
const maxScanFiles = 2000

// ResolveSweep is ResolvePath for a folder of many runs (a sweep): the same
// rules, but it opens every file it needs to (no 2000-file cap) and looks
// 8 folders deep. It also returns how many files it opened that are not
// runs of any known format. A path that is a file or a folder run is that
// one run.
func ResolveSweep(path string) (srcs []Source, notRuns int, err error) {
	fi, err := os.Stat(path)
	if err != nil || !fi.IsDir() {
		srcs, err := ResolvePath(path)
		return srcs, 0, err
	}
	if s, ok := folderRun(path); ok {
		s.dir = path
		return []Source{s}, 0, nil
	}
	srcs, notRuns, _ = scanDir(path, -1, 8, true)
	for i := range srcs {
		srcs[i].dir = path
	}
	return srcs, notRuns, nil
}

// scanDir applies rule 4, opening at most budget files to sniff their
// format (budget < 0: no cap) and descending at most maxDepth folders. It
// returns the runs found, how many sniffed files are not runs, and whether
// the budget ran out. In a sweep, a folder whose top-level
// trainer_state.json makes it an HF output folder may hold other logs
// beside it (a second run saved under another name): those are runs too.
func scanDir(root string, budget, maxDepth int, sweep bool) (out []Source, notRuns int, truncated bool) {
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		if budget == 0 {
			truncated = true
			return
		}
		hfTop := ""
		if dir != root {
			if s, ok := folderRun(dir); ok {
				out = append(out, s)
				if !sweep || s.Kind != "hf-checkpoint" || filepath.Dir(s.Files[0]) != dir {
					return
				}
				hfTop = s.Files[0] // read; look at the other files beside it
			}
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		var events, monitors, others, subdirs []string
		for _, e := range ents {
			name := e.Name()
			p := filepath.Join(dir, name)
			if strings.HasPrefix(name, ".") {
				continue
			}
			if p == hfTop {
				continue
			}
			if e.IsDir() {
				if hfTop != "" && checkpointRE.MatchString(name) {
					continue // checkpoints of the HF run already read
				}
				if name != "artifacts" && name != "node_modules" && name != "__pycache__" {
					subdirs = append(subdirs, p)
				}
				continue
			}
			if !e.Type().IsRegular() {
				continue
			}
			switch {
			case strings.Contains(name, "tfevents"):
				events = append(events, p)
			case strings.HasSuffix(name, "monitor.csv") || strings.HasSuffix(name, "monitor.csv.gz"):
				monitors = append(monitors, p)
			case wandbSideFiles[name] || strings.HasSuffix(name, ".md") || name == "SOURCES.md":
			default:
				others = append(others, p)
			}
		}
		sb3 := len(monitors) > 0
		groups := map[string][]string{}
		var keys []string
		for _, m := range monitors {
			k := monitorGroupRE.ReplaceAllString(filepath.Base(m), "")
			if _, ok := groups[k]; !ok {
				keys = append(keys, k)
			}
			groups[k] = append(groups[k], m)
		}
		for _, k := range keys {
			name := dir
			if len(keys) > 1 {
				name = groups[k][0]
			}
			note := mergedNote(len(groups[k]), "monitor file")
			if len(events) > 0 {
				note = strings.TrimPrefix(note+"; TensorBoard files beside it not read", "; ")
			}
			out = append(out, Source{Name: name, Kind: "sb3-monitor", Files: groups[k], Note: note})
		}
		if len(events) > 0 && !sb3 {
			out = append(out, Source{Name: dir, Kind: "tensorboard", Files: events, Note: mergedNote(len(events), "event file")})
		}
		for _, p := range others {
			if budget == 0 {
				truncated = true
				return
			}
			budget--
			if looksLikeRun(p) {
				out = append(out, Source{Name: p, Kind: "file", Files: []string{p}})
			} else {
				notRuns++
			}
		}
		if depth >= maxDepth {
			return
		}
		for _, d := range subdirs {
			if sb3 && !hasRunOwnFolder(d) {
				continue // SB3's tensorboard_log beside its monitor files: the same run
			}
			walk(d, depth+1)
		}
	}
	walk(root, 0)
	return out, notRuns, truncated
}

// hasRunOwnFolder reports whether a subfolder of an SB3 run folder is a
// run of its own kind (a W&B, MLflow or HF run), which is still listed.
func hasRunOwnFolder(dir string) bool {
	_, ok := folderRun(dir)
	return ok
}

func mergedNote(n int, noun string) string {
	if n == 1 {
		return ""
	}
	return fmt.Sprintf("%d %ss merged", n, noun)
}

// looksLikeRun reports whether a file's content is a known run format.
// Empty files, text that only the generic CSV reader would take (unless the
// name ends in .csv) and single JSON documents (*.json, unless they are a
// trainer_state.json) are not runs: folders are full of config files.
func looksLikeRun(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, SniffSize)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if compressionOf(head) != "" {
		return true // gzip or zstd: let the reader decide
	}
	name, err := Detect(head, path)
	lower := strings.ToLower(path)
	switch {
	case err != nil || len(strings.TrimSpace(string(head))) == 0:
		return false
	case name == "csv":
		return strings.HasSuffix(lower, ".csv") || strings.HasSuffix(lower, ".csv.gz")
	case name == "jsonl" || name == "rewardspy-jsonl":
		return !strings.HasSuffix(lower, ".json")
	}
	return true
}

// ReadSource reads one run that ResolvePath found: Run.Source is the
// source's name, and runs of several files are merged (TensorBoard: rows
// by step, a later file winning on the same step and tag; SB3: episodes by
// wall time, t_start + t).
func ReadSource(src Source, opt Options) (*Run, error) {
	var run *Run
	var err error
	switch src.Kind {
	case "mlflow":
		run, err = ReadMLflowRun(filepath.Dir(src.Files[0]), opt)
	case "tensorboard", "sb3-monitor":
		var runs []*Run
		for _, f := range src.Files {
			r, err := readOneFile(f, opt)
			if err != nil {
				return nil, err
			}
			runs = append(runs, r)
		}
		if src.Kind == "sb3-monitor" {
			run = mergeMonitors(runs)
		} else {
			run = mergeByStep(runs)
		}
	default:
		if len(src.Files) != 1 {
			return nil, fmt.Errorf("%s: a %s source reads one file, got %d", src.Name, src.Kind, len(src.Files))
		}
		if src.Files[0] == StdinName {
			run, err = Read(os.Stdin, StdinLabel, opt)
		} else {
			run, err = readOneFile(src.Files[0], opt)
		}
	}
	if err != nil {
		return nil, err
	}
	if src.Kind != "file" {
		run.Source = src.Name
	}
	return run, nil
}

// ReadPath reads the one run at path (a file or a folder; see
// ResolvePath) and returns it with the source it came from. A folder with
// several runs is an error wrapping ErrSeveralRuns that lists them.
func ReadPath(path string, opt Options) (*Run, Source, error) {
	srcs, err := ResolvePath(path)
	if err != nil {
		return nil, Source{}, err
	}
	if len(srcs) > 1 {
		var b strings.Builder
		for i, s := range srcs {
			if i == 10 {
				fmt.Fprintf(&b, "\n  ... %d more", len(srcs)-10)
				break
			}
			fmt.Fprintf(&b, "\n  %s (%s)", s.Name, s.Kind)
		}
		return nil, Source{}, fmt.Errorf("%s %w (%d); give one of them:%s", path, ErrSeveralRuns, len(srcs), b.String())
	}
	run, err := ReadSource(srcs[0], opt)
	return run, srcs[0], err
}

// mergeByStep merges step-grain runs into one: one row per distinct step,
// sorted; for a step and column present in several runs the later run wins.
func mergeByStep(runs []*Run) *Run {
	if len(runs) == 1 {
		return runs[0]
	}
	stepSet := map[float64]bool{}
	for _, r := range runs {
		for _, s := range r.Steps() {
			stepSet[s] = true
		}
	}
	steps, rowOf := sortedSteps(stepSet)
	out := NewRun(len(steps))
	out.Format, out.Grain, out.Meta = runs[0].Format, runs[0].Grain, map[string]string{}
	out.SetColumn(ColStep, steps)
	for _, r := range runs {
		for k, v := range r.Meta {
			out.Meta[k] = v
		}
		out.Issues = append(out.Issues, r.Issues...)
		out.Skipped += r.Skipped
		st := r.Steps()
		for _, c := range r.Columns() {
			if c == ColStep || r.IsString(c) {
				continue
			}
			src, _ := r.Column(c)
			dst, ok := out.Column(c)
			if !ok {
				dst = make([]float64, len(steps))
				for i := range dst {
					dst[i] = math.NaN()
				}
			} else {
				dst = append([]float64(nil), dst...)
			}
			for i, v := range src {
				if !math.IsNaN(v) {
					dst[rowOf[st[i]]] = v
				}
			}
			out.SetColumn(c, dst)
		}
	}
	return out
}

// mergeMonitors merges the monitor files of one vectorised SB3 run: every
// episode in order of its end time (t_start + t), the time column then
// counting seconds from the earliest t_start. Files without a t_start
// header are taken as starting together.
func mergeMonitors(runs []*Run) *Run {
	if len(runs) == 1 {
		return runs[0]
	}
	type ep struct {
		at   float64
		run  int
		row  int
		file int
	}
	var eps []ep
	t0 := math.Inf(1)
	starts := make([]float64, len(runs))
	for i, r := range runs {
		starts[i], _ = strconv.ParseFloat(r.Meta["t_start"], 64)
		if starts[i] < t0 {
			t0 = starts[i]
		}
	}
	for i, r := range runs {
		tc, ok := r.Column(ColTime)
		for j := 0; j < r.Len(); j++ {
			t := float64(j)
			if ok {
				t = tc[j]
			}
			eps = append(eps, ep{at: starts[i] + t, run: i, row: j})
		}
	}
	sort.SliceStable(eps, func(a, b int) bool { return eps[a].at < eps[b].at })
	out := NewRun(len(eps))
	out.Format, out.Grain, out.Meta = runs[0].Format, runs[0].Grain, map[string]string{}
	for k, v := range runs[0].Meta {
		out.Meta[k] = v
	}
	out.Meta["monitor_files"] = strconv.Itoa(len(runs))
	cols := map[string]bool{}
	var order []string
	for _, r := range runs {
		out.Issues = append(out.Issues, r.Issues...)
		out.Skipped += r.Skipped
		for _, c := range r.Columns() {
			if !cols[c] && !r.IsString(c) {
				cols[c] = true
				order = append(order, c)
			}
		}
	}
	for _, c := range order {
		dst := make([]float64, len(eps))
		for i, e := range eps {
			dst[i] = math.NaN()
			if src, ok := runs[e.run].Column(c); ok {
				dst[i] = src[e.row]
			}
			if c == ColTime {
				dst[i] = e.at - t0
			}
		}
		out.SetColumn(c, dst)
	}
	return out
}
