package analysis

import (
	"math"

	"github.com/goodhart-rl/goodhart/ingest"
)

// componentThresholds are (alert above, warn above) for the share of one
// component, per sensitivity.
var componentThresholds = map[Sensitivity][2]float64{
	SensitivityLow:    {0.95, 0.85},
	SensitivityMedium: {0.90, 0.75},
	SensitivityHigh:   {0.85, 0.70},
}

// componentState is rewardspy's ComponentDominanceDetector.
//
// Insufficient while fewer than ComponentMin records (30) are kept; not
// applicable while fewer than 2 components other than "total" have ever
// been seen. Over the rolling means m_c of the components (each over the
// records of the window that carry it), total = Σ|m_j| summed in
// first-seen order; total < 1e-6 is OK. The top component is the first
// with the largest share |m_c|/total: ALERT (MEDIUM) above 0.95/0.90/0.85
// (low/medium/high) "Component '{c}' dominates reward ({share:.0%})."
// and WARNING (LOW) above 0.85/0.75/0.70 "Component '{c}' contributes
// {share:.0%} of reward."
type componentState struct{}

func (componentState) check(e *Engine) finding {
	if e.count() < e.win.ComponentMin {
		return fInsufficient
	}
	top, share, ok := e.dominantShare()
	if !ok {
		if e.componentCount() < 2 {
			return fNotApplicable
		}
		return fOK
	}
	if share > e.th.compAlert {
		return finding{c: cComponentAlert, comp: int32(top), v: share}
	}
	if share > e.th.compWarn {
		return finding{c: cComponentWarn, comp: int32(top), v: share}
	}
	return fOK
}

// componentCount is the number of components ever seen, without "total".
func (e *Engine) componentCount() int {
	if e.hasTotal {
		return len(e.compNames) - 1
	}
	return len(e.compNames)
}

// dominantShare returns the component with the largest share |m_c|/Σ|m_j|
// of the rolling component means (the first one on ties, in first-seen
// order, as Python's max), or ok=false with fewer than two components or a
// total below 1e-6.
func (e *Engine) dominantShare() (top int, share float64, ok bool) {
	if e.componentCount() < 2 {
		return -1, 0, false
	}
	var total float64
	for i, n := range e.compNames {
		if n != ingest.TotalComponent {
			total += math.Abs(e.compStats[i].Mean())
		}
	}
	if total < 1e-6 {
		return -1, 0, false
	}
	best := -1.0
	for i, n := range e.compNames {
		if n == ingest.TotalComponent {
			continue
		}
		s := math.Abs(e.compStats[i].Mean()) / total
		if s > best {
			best, top = s, i
		}
	}
	return top, best, true
}
