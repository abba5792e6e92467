package analysis

import "math"

// lengthThresholds are the |z| above which length drift is flagged.
var lengthThresholds = map[Sensitivity]float64{
	SensitivityLow:    4.0,
	SensitivityMedium: 3.0,
	SensitivityHigh:   2.0,
}

// lengthState is rewardspy's LengthDriftDetector over the records that
// carry a length (in rewardspy every record does).
//
// Insufficient while fewer than 2W lengths are kept (at most HistoryCap, so
// a window above HistoryCap/2 never leaves it). At the first check it
// freezes base mean = fmean and base std = pstdev (exact, Python's
// statistics) of the first W lengths; base std < 1.0 is OK forever. Then
// z = (fmean of the last W lengths - base mean)/base std, and WARNING
// (MEDIUM) when |z| > 4/3/2 (low/medium/high): "Response length drifted
// {longer|shorter} by {|z|:.1f} sigma." When 2W records have passed without
// a single length the result is NOT_APPLICABLE.
//
// The last-W mean is kept as an exact integer sum while every length in the
// window is an integer (the usual case), so a check is O(1); otherwise it
// is an exact Fsum over the window.
type lengthState struct {
	w      int
	seen   int       // lengths seen (uncapped)
	first  []float64 // the first W lengths
	last   *ring     // the last W lengths
	isum   int64     // sum of the integer lengths in last
	nonInt int       // non-integer lengths in last
	frozen bool
	bMean  float64
	bStd   float64
	buf    []float64
}

func (l *lengthState) init(w int) {
	l.w = w
	l.last = newRing(w)
}

// exactInt reports whether x is an integer small enough for the int64 sum.
func exactInt(x float64) bool { return x == math.Trunc(x) && math.Abs(x) < 1<<40 }

func (l *lengthState) add(x float64) {
	l.seen++
	if len(l.first) < l.w {
		l.first = append(l.first, x)
	}
	old, dropped := l.last.push(x)
	if dropped {
		if exactInt(old) {
			l.isum -= int64(old)
		} else {
			l.nonInt--
		}
	}
	if exactInt(x) {
		l.isum += int64(x)
	} else {
		l.nonInt++
	}
}

// recentMean is fmean of the last W lengths.
func (l *lengthState) recentMean() float64 {
	n := l.last.len()
	if l.nonInt == 0 {
		// The exact sum rounded once, as fsum does.
		return float64(l.isum) / float64(n)
	}
	l.buf = l.last.appendTo(l.buf[:0], 0, n)
	return Fsum(l.buf) / float64(n)
}

func (l *lengthState) check(e *Engine) finding {
	if min(l.seen, HistoryCap) < 2*l.w {
		if l.seen == 0 && e.steps >= 2*l.w {
			return fNotApplicable
		}
		return fInsufficient
	}
	if !l.frozen {
		l.bMean = Fmean(l.first)
		l.bStd = Pstdev(l.first)
		l.frozen = true
	}
	if l.bStd < 1.0 {
		return fOK
	}
	z := (l.recentMean() - l.bMean) / l.bStd
	if math.Abs(z) > e.th.lengthZ {
		if z > 0 {
			return finding{c: cLengthLonger, v: math.Abs(z)}
		}
		return finding{c: cLengthShorter, v: math.Abs(z)}
	}
	return fOK
}
