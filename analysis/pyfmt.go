package analysis

import (
	"github.com/goodhart-rl/goodhart/ingest"
	"math"
	"math/big"
	"strconv"
)

// This file reproduces the few pieces of Python float behaviour that
// rewardspy's output depends on, so that messages and thresholds agree with
// it to the last digit.

// PyFixed formats x like Python's format(x, ".{prec}f"): the exact binary
// value of x rounded half to even to prec decimals. Infinities and NaN are
// "inf", "-inf" and "nan"; negative zero keeps its sign ("-0.0").
func PyFixed(x float64, prec int) string {
	switch {
	case math.IsNaN(x):
		return "nan"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	// strconv's 'f' conversion is exact and rounds exact ties to even, which
	// is what CPython's dtoa does.
	return strconv.FormatFloat(x, 'f', prec, 64)
}

// PyPercent formats x like Python's format(x, ".{prec}%"): x*100, computed
// in float64 (one rounding, as CPython does), then PyFixed, then "%".
// For example PyPercent(0.125, 0) is "12%" and PyPercent(0.015, 0) is "2%"
// (0.015*100 rounds to exactly 1.5, a tie, rounded to even).
func PyPercent(x float64, prec int) string {
	return PyFixed(x*100, prec) + "%"
}

// PyRepr formats x like Python's repr(float): the shortest decimal that
// reads back as x, in fixed notation when the decimal exponent e satisfies
// -4 <= e < 16 (always with a fractional part, "1.0") and in scientific
// notation with at least two exponent digits otherwise ("1e-05",
// "2.2204460492503132e-17", "1e+16"). NaN and infinities are "nan", "inf"
// and "-inf".
func PyRepr(x float64) string { return string(ingest.AppendPyFloat(nil, x)) }

// Fsum returns the correctly rounded sum of xs, like Python's math.fsum:
// the exact sum of the float64 values, rounded once (half to even). It uses
// Shewchuk's exact partials. If any value is NaN or infinite, or the sum
// overflows, the result is the plain left-to-right sum (NaN or ±Inf).
func Fsum(xs []float64) float64 {
	var partials []float64
	var plain float64
	for _, x := range xs {
		plain += x
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		i := 0
		for _, y := range partials {
			if math.Abs(x) < math.Abs(y) {
				x, y = y, x
			}
			hi := x + y
			lo := y - (hi - x)
			if lo != 0 {
				partials[i] = lo
				i++
			}
			x = hi
		}
		partials = append(partials[:i], x)
	}
	if math.IsNaN(plain) || math.IsInf(plain, 0) {
		return plain
	}
	n := len(partials)
	if n == 0 {
		return 0
	}
	n--
	hi := partials[n]
	var lo float64
	for n > 0 {
		x := hi
		n--
		y := partials[n]
		hi = x + y
		yr := hi - x
		lo = y - yr
		if lo != 0 {
			break
		}
	}
	// Round half to even correctly when the remaining partials push the
	// exact value off a tie.
	if n > 0 && ((lo < 0 && partials[n-1] < 0) || (lo > 0 && partials[n-1] > 0)) {
		y := lo * 2
		x := hi + y
		yr := x - hi
		if y == yr {
			hi = x
		}
	}
	return hi
}

// Fmean is Python's statistics.fmean: Fsum(xs)/len(xs). It returns NaN for
// an empty slice (Python raises).
func Fmean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return Fsum(xs) / float64(len(xs))
}

// Pstdev is Python's statistics.pstdev (3.11+): the population standard
// deviation sqrt(Σ(x-mean)²/n), computed exactly in rational arithmetic and
// rounded once. It returns NaN for an empty slice (Python raises) and NaN
// when any value is not finite.
func Pstdev(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return math.NaN()
	}
	sx := new(big.Rat)
	sxx := new(big.Rat)
	v := new(big.Rat)
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return math.NaN()
		}
		v.SetFloat64(x)
		sx.Add(sx, v)
		v.Mul(v, v)
		sxx.Add(sxx, v)
	}
	cnt := new(big.Rat).SetInt64(int64(n))
	// ssd = (n*sxx - sx*sx)/n ; mss = ssd/n
	ssd := new(big.Rat).Mul(cnt, sxx)
	ssd.Sub(ssd, new(big.Rat).Mul(sx, sx))
	ssd.Quo(ssd, cnt)
	mss := ssd.Quo(ssd, cnt)
	return sqrtRat(mss)
}

// sqrtRat returns sqrt(r) correctly rounded to float64 (r >= 0), by an
// integer square root with round-to-odd, as Python's _float_sqrt_of_frac.
func sqrtRat(r *big.Rat) float64 {
	if r.Sign() <= 0 {
		return 0
	}
	num, den := r.Num(), r.Denom()
	// q chosen so that the integer root has at least 109 bits.
	q := (num.BitLen() - den.BitLen() - 109) / 2
	if num.BitLen()-den.BitLen()-109 < 0 && (num.BitLen()-den.BitLen()-109)%2 != 0 {
		q-- // floor division, as Python's //
	}
	var a *big.Int
	var shift int
	if q >= 0 {
		a = isqrtFracRTO(num, new(big.Int).Lsh(den, uint(2*q)))
		a.Lsh(a, uint(q))
	} else {
		a = isqrtFracRTO(new(big.Int).Lsh(num, uint(-2*q)), den)
		shift = -q
	}
	f := new(big.Float).SetPrec(53).SetMode(big.ToNearestEven).SetInt(a)
	f.SetMantExp(f, -shift)
	x, _ := f.Float64()
	return x
}

// isqrtFracRTO is isqrt(n // m), with the last bit set when inexact.
func isqrtFracRTO(n, m *big.Int) *big.Int {
	a := new(big.Int).Sqrt(new(big.Int).Quo(n, m))
	chk := new(big.Int).Mul(a, a)
	chk.Mul(chk, m)
	if chk.Cmp(n) != 0 {
		a.SetBit(a, 0, 1)
	}
	return a
}
