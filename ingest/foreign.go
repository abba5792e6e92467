package ingest

import (
	"math"
	"sort"
)

// foreignPoint is one logged value of a metrics store that keeps values by
// key and step (W&B history, MLflow metric files).
type foreignPoint struct {
	step float64
	key  string
	v    float64
}

// buildForeign turns (step, key, value) points into a step-grain run: one
// row per distinct step, in step order (a later value of the same key and
// step wins). Keys are named by the well-known table as TensorBoard tags
// are (tfCanonical: rollout/ep_rew_mean -> reward, train/rewards/<f>/mean ->
// component.<f>, eval/<m> -> eval.<m>, ...), but a canonical column goes to
// one key only (the only claimant, or the table's first when all claimants
// are in the table; see resolveClaims) and only when no key already has
// that name; everything else is extra.<key>. timeKey, when logged, becomes the
// time column.
func buildForeign(name, format, timeKey string, points []foreignPoint, issues issueList, opt Options) (*Run, error) {
	keys := map[string]bool{}
	stepSet := map[float64]bool{}
	for _, p := range points {
		keys[p.key] = true
		stepSet[p.step] = true
	}
	claim := map[string][]string{}
	for k := range keys {
		if k == timeKey || k == ColStep || isGoodhartColumn(k) {
			continue
		}
		if c := tfCanonical(k); c != "" {
			claim[c] = append(claim[c], k)
		}
	}
	winner := resolveClaims(claim)
	colOf := map[string]string{}
	for k := range keys {
		switch {
		case k == timeKey && !keys[ColTime]:
			colOf[k] = ColTime
		case k == ColStep:
			colOf[k] = ExtraPrefix + k // the row's step is the store's own
		case isGoodhartColumn(k):
			colOf[k] = k
		default:
			colOf[k] = ExtraPrefix + k
			if c := tfCanonical(k); c != "" && winner[c] == k && !keys[c] {
				colOf[k] = c
			}
		}
	}
	steps, rowOf := sortedSteps(stepSet)
	t := newTrainerTable(name, opt)
	t.n = len(steps)
	t.cols[ColStep] = steps
	t.order = append(t.order, ColStep)
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !t.has(colOf[k]) {
			t.set(0, colOf[k], math.NaN())
		}
	}
	for _, p := range points {
		if p.key == timeKey {
			t.set(rowOf[p.step], colOf[p.key], p.v) // not a key to --map
			continue
		}
		t.put(rowOf[p.step], colOf[p.key], p.key, p.v)
	}
	t.issues = issues
	run := t.run(format, GrainStep)
	run.Source = name
	if err := applySourceMap(run, t.origin, opt.Map); err != nil {
		return nil, err
	}
	return run, nil
}

// sortedSteps returns the steps of a set in increasing order and the row
// each one takes.
func sortedSteps(set map[float64]bool) (steps []float64, rowOf map[float64]int) {
	steps = make([]float64, 0, len(set))
	for s := range set {
		steps = append(steps, s)
	}
	sort.Float64s(steps)
	rowOf = make(map[float64]int, len(steps))
	for i, s := range steps {
		rowOf[s] = i
	}
	return steps, rowOf
}
