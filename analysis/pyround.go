package analysis

import (
	"math"
	"strconv"
)

// pow10tab holds the exactly representable powers of ten used by the fast
// path of PyRound.
var pow10tab = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// PyRound returns x rounded to n decimal places exactly as Python's
// round(x, n) does for a float: the exact binary value of x is rounded to
// the nearest multiple of 10^-n, ties to even, and the result is the float
// nearest to that decimal. This is what strconv.FormatFloat(x, 'f', n, 64)
// parsed back gives; PyRound takes a fast exact path when x*10^n is not
// close to a tie and falls back to strconv otherwise.
//
// Edge cases: NaN and ±Inf are returned unchanged; n < 0 is treated as 0;
// -0.0 and values that round to zero keep their sign, as in Python.
//
//	PyRound(2.675, 2) == 2.67  // 2.675 is stored as 2.67499999...
//	PyRound(0.125, 2) == 0.12  // an exact tie goes to even
func PyRound(x float64, n int) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	if n < 0 {
		n = 0
	}
	if n < len(pow10tab) {
		p := pow10tab[n]
		y := x * p
		ay := math.Abs(y)
		if ay < 1<<52 {
			fl := math.Floor(ay)
			frac := ay - fl
			// y carries at most half an ulp of error from the product; stay
			// well clear of the tie at .5 before trusting it.
			if d := math.Abs(frac - 0.5); d > 1e-9*(ay+1) {
				k := fl
				if frac > 0.5 {
					k++
				}
				// k and p are exact, so k/p is the float nearest k*10^-n.
				r := k / p
				if x < 0 {
					r = -r
				}
				return r
			}
		}
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(x, 'f', n, 64), 64)
	if err != nil {
		return x
	}
	return r
}

// pyRoundSlow is the reference definition of PyRound (used by tests).
func pyRoundSlow(x float64, n int) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(x, 'f', n, 64), 64)
	if err != nil {
		return x
	}
	return r
}

// pyFormat formats x with n decimals the way Python's format(x, '.nf')
// does (exact binary value, ties to even).
func pyFormat(x float64, n int) string {
	return strconv.FormatFloat(x, 'f', n, 64)
}
