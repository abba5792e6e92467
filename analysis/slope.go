package analysis

// slopeThresholds are the CUSUM decision thresholds h per sensitivity; the
// slack k is slopeDrift for all.
var slopeThresholds = map[Sensitivity]float64{
	SensitivityLow:    8.0,
	SensitivityMedium: 5.0,
	SensitivityHigh:   3.0,
}

const slopeDrift = 0.5

// slopeState is rewardspy's RewardSlopeChangeDetector, a two-sided CUSUM.
//
// Insufficient while fewer than SlopeMin records (20) are kept. At the
// first check the baseline is the rolling mean. Then, for each reward r:
//
//	dev = r - base; pos = max(0, pos+dev-k); neg = max(0, neg-dev-k)
//
// with k = 0.5. When pos > h or neg > h (h = 8/5/3 for low/medium/high) the
// result is WARNING (MEDIUM) "Reward distribution shift detected
// (upward|downward)." (upward when pos > h), both sums reset to 0 and the
// baseline becomes the current rolling mean; otherwise OK. Never ALERT, and
// a WARNING lasts one record.
type slopeState struct {
	started  bool
	base     float64
	pos, neg float64
}

func (s *slopeState) check(e *Engine, reward float64) finding {
	if e.count() < e.win.SlopeMin {
		return fInsufficient
	}
	if !s.started {
		s.base = e.reward.Mean()
		s.started = true
	}
	dev := reward - s.base
	s.pos = max(0.0, s.pos+dev-slopeDrift)
	s.neg = max(0.0, s.neg-dev-slopeDrift)
	h := e.th.slopeH
	if s.pos > h || s.neg > h {
		c := cSlopeDown
		if s.pos > h {
			c = cSlopeUp
		}
		s.pos, s.neg = 0, 0
		s.base = e.reward.Mean()
		return finding{c: c}
	}
	return fOK
}
