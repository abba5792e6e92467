package analysis

// varianceThresholds are (alert below, warn below) as a fraction of the
// baseline std, per sensitivity.
var varianceThresholds = map[Sensitivity][2]float64{
	SensitivityLow:    {0.02, 0.10},
	SensitivityMedium: {0.05, 0.20},
	SensitivityHigh:   {0.10, 0.35},
}

// varianceState is rewardspy's VarianceCollapseDetector.
//
// Insufficient until the window holds W rewards. At the first full-window
// check the baseline is frozen: base = the population std of the first
// max(2, int(0.2*n)) kept records (n <= HistoryCap). If base < 1e-6 the
// result is OK forever. Otherwise ratio = rolling std / base:
// ALERT (HIGH) when ratio < a, WARNING (LOW) when ratio < w, with (a, w) =
// low (0.02, 0.10), medium (0.05, 0.20), high (0.10, 0.35).
type varianceState struct {
	frozen bool
	base   float64
}

func (v *varianceState) check(e *Engine) finding {
	if !e.window.full() {
		return fInsufficient
	}
	if !v.frozen {
		v.base = e.baselineStd()
		v.frozen = true
	}
	if v.base < 1e-6 {
		return fOK
	}
	ratio := e.reward.Std() / v.base
	if ratio < e.th.varAlert {
		return finding{c: cVarianceAlert, v: ratio}
	}
	if ratio < e.th.varWarn {
		return finding{c: cVarianceWarn, v: ratio}
	}
	return fOK
}
