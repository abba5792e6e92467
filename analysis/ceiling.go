package analysis

// ceilingThresholds are the alert-above rates per sensitivity.
var ceilingThresholds = map[Sensitivity]float64{
	SensitivityLow:    0.9,
	SensitivityMedium: 0.8,
	SensitivityHigh:   0.7,
}

// ceilingState is rewardspy's CeilingRateDetector.
//
// Insufficient while fewer than CeilingMin records (50) are kept. The
// ceiling is Config.MaxReward when set, else the lifetime maximum reward so
// far; a ceiling <= 0 is OK. rate = (rewards in the window >= 0.99*ceiling)
// / (rewards in the window); ALERT (HIGH) when rate > 0.9/0.8/0.7
// (low/medium/high): "{rate:.0%} of rollouts hit the reward ceiling." There
// is no WARNING level.
//
// The count at the threshold is kept incrementally and recounted only when
// the threshold changes (a new lifetime maximum).
type ceilingState struct {
	valid bool
	thr   float64
	at    int
}

// update keeps the at-threshold count in step with the window after a push.
func (c *ceilingState) update(old float64, dropped bool, x float64) {
	if !c.valid {
		return
	}
	if dropped && old >= c.thr {
		c.at--
	}
	if x >= c.thr {
		c.at++
	}
}

func (c *ceilingState) check(e *Engine) finding {
	if e.count() < e.win.CeilingMin {
		return fInsufficient
	}
	ceiling := e.lifeMax
	if e.cfg.HasMaxReward {
		ceiling = e.cfg.MaxReward
	}
	if ceiling <= 0 {
		return fOK
	}
	thr := ceiling * 0.99
	if !c.valid || thr != c.thr {
		c.thr, c.valid, c.at = thr, true, 0
		for i := 0; i < e.window.len(); i++ {
			if e.window.at(i) >= thr {
				c.at++
			}
		}
	}
	rate := float64(c.at) / float64(e.window.len())
	if rate > e.th.ceiling {
		return finding{c: cCeilingAlert, v: rate}
	}
	return fOK
}
