package ingest

import (
	"bufio"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The MLflow reader: a run folder of MLflow's file store,
// mlruns/<experiment id>/<run id>/, which holds meta.yaml, params/, tags/
// and metrics/. Each metric is one file under metrics/ named by its key (a
// key with "/" is a subfolder: metrics/rollout/ep_rew_mean), one line per
// logged value, as FileStore writes it:
//
//	<timestamp ms> <value> <step>
//
// (older MLflow wrote "<timestamp> <value>" with step 0; newer versions may
// append the dataset name and digest, which are ignored). Values are
// Python floats (nan, inf, -inf included). One row per distinct step; when
// every line of every metric has step 0 but some metric was logged more
// than once (the run never passed step=), the 0-based line number within
// each metric file is the step instead. The time column is the latest
// timestamp of each step in seconds. Keys are named by the well-known
// table (rollout/ep_rew_mean -> reward, eval/<m> -> eval.<m>, ...; see
// buildForeign). A malformed line is an issue naming the metric file, line
// and key, and is skipped. meta.yaml's run_id, run_name and experiment_id
// go to Run.Meta as mlflow_run_id, mlflow_run_name, mlflow_experiment_id.
// Grain: step.

// isMLflowRun reports whether dir is an MLflow run folder.
func isMLflowRun(dir string) bool {
	if fi, err := os.Stat(filepath.Join(dir, "meta.yaml")); err != nil || fi.IsDir() {
		return false
	}
	fi, err := os.Stat(filepath.Join(dir, "metrics"))
	return err == nil && fi.IsDir()
}

// ReadMLflowRun reads an MLflow run folder (see the rules above).
func ReadMLflowRun(dir string, opt Options) (*Run, error) {
	if !isMLflowRun(dir) {
		return nil, fmt.Errorf("%s: %w: not an MLflow run folder (no meta.yaml and metrics/)", dir, ErrNotARun)
	}
	mdir := filepath.Join(dir, "metrics")
	var files []string
	err := filepath.WalkDir(mdir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	sort.Strings(files)
	type line struct {
		ts, v float64
		step  float64
		n     int
	}
	issues := issueList{name: dir, opt: opt}
	perKey := map[string][]line{}
	var keys []string
	allZero, repeated := true, false
	for _, f := range files {
		rel, _ := filepath.Rel(mdir, f)
		key := filepath.ToSlash(rel)
		fh, err := os.Open(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		n := 0
		var ls []line
		for sc.Scan() {
			n++
			text := strings.TrimSpace(sc.Text())
			if text == "" {
				continue
			}
			parts := strings.Fields(text)
			bad := ""
			var l line
			if len(parts) < 2 || len(parts) > 5 {
				bad = fmt.Sprintf("want 'timestamp value step', got %d fields", len(parts))
			} else {
				ts, err1 := strconv.ParseFloat(parts[0], 64)
				v, ok := pyNumber(parts[1])
				step := 0.0
				var err3 error
				if len(parts) >= 3 {
					step, err3 = strconv.ParseFloat(parts[2], 64)
				}
				switch {
				case err1 != nil:
					bad = fmt.Sprintf("timestamp %q is not a number", clip(parts[0], 30))
				case !ok:
					bad = fmt.Sprintf("value %q is not a number", clip(parts[1], 30))
				case err3 != nil || math.IsNaN(step) || math.IsInf(step, 0):
					bad = fmt.Sprintf("step %q is not an integer", clip(parts[2], 30))
				}
				l = line{ts: ts, v: v, step: step, n: len(ls)}
			}
			if bad != "" {
				issues.name = f
				if e := issues.add(n, key, bad, true); e != nil {
					fh.Close()
					return nil, e
				}
				continue
			}
			if l.step != 0 {
				allZero = false
			}
			ls = append(ls, l)
		}
		err = sc.Err()
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if len(ls) > 1 {
			repeated = true
		}
		if _, seen := perKey[key]; !seen {
			keys = append(keys, key)
		}
		perKey[key] = ls
	}
	issues.name = dir
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: %w: the MLflow run logged no metrics (metrics/ is empty)", dir, ErrNotARun)
	}
	byIndex := allZero && repeated
	const timeKey = "\x00time"
	var points []foreignPoint
	lastTS := map[float64]float64{}
	for _, k := range keys {
		for _, l := range perKey[k] {
			step := l.step
			if byIndex {
				step = float64(l.n)
			}
			points = append(points, foreignPoint{step, k, l.v})
			if l.ts/1000 > lastTS[step] {
				lastTS[step] = l.ts / 1000
			}
		}
	}
	for s, ts := range lastTS {
		points = append(points, foreignPoint{s, timeKey, ts})
	}
	run, err := buildForeign(dir, "mlflow", timeKey, points, issues, opt)
	if err != nil {
		return nil, err
	}
	meta := map[string]string{}
	if b, err := os.ReadFile(filepath.Join(dir, "meta.yaml")); err == nil {
		for _, ln := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(ln, ":")
			if !ok || strings.HasPrefix(ln, " ") {
				continue
			}
			v = strings.Trim(strings.TrimSpace(v), `'"`)
			switch strings.TrimSpace(k) {
			case "run_id":
				meta["mlflow_run_id"] = v
			case "run_name":
				meta["mlflow_run_name"] = v
			case "experiment_id":
				meta["mlflow_experiment_id"] = v
			}
		}
	}
	if byIndex {
		meta["step_from"] = "line number (no step was logged)"
	}
	if len(meta) > 0 {
		if run.Meta == nil {
			run.Meta = map[string]string{}
		}
		for k, v := range meta {
			run.Meta[k] = v
		}
	}
	WellKnown(run, opt)
	if opt.Grain != "" {
		run.Grain = opt.Grain
	}
	return run, nil
}
