package ingest

import (
	"errors"
	"math"
	"math/bits"
	"strconv"
	"unsafe"
)

// Number parsing for the JSONL readers: the JSON number grammar
// (-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?) scanned and converted
// in one pass, with exactly the float64 strconv.ParseFloat returns (the
// correctly rounded value, the one Python's json gives):
//
//   - a number of up to 19 digits (leading zeros included) is gathered
//     into a uint64 mantissa m and a decimal exponent e (value = m x
//     10^e, exact);
//   - m <= 2^53 and |e| <= 22 (Clinger's fast path): m and 10^|e| are
//     exact float64 values, so one multiplication or division, correctly
//     rounded by IEEE 754, gives the answer;
//   - otherwise the Eisel-Lemire algorithm (as in Go's strconv): m times a
//     128-bit approximation of 10^e, which either proves the correctly
//     rounded result or gives up;
//   - more than 19 digits, an exponent outside [-348, 347], or
//     a case Eisel-Lemire gives up on go to strconv.ParseFloat.
//
// An out-of-range number (1e999, whose float64 is infinite) is an error;
// so is any text that is not a JSON number.

var (
	errBadNumber    = errors.New("bad number")
	errNoFracDigits = errors.New("bad number: no digits after '.'")
	errNoExpDigits  = errors.New("bad number: no digits in the exponent")
	errNumberRange  = errors.New("number is out of range (not finite as a float64)")
)

const powersOfTenMin = -348

// parseNumber scans the JSON number at the start of b. It returns the
// value and the number of bytes the number takes; on a syntax error, n is
// the offset of the offending byte; on a range error, the number's length. A number needs no delimiter after it:
// the caller checks what follows.
func parseNumber(b []byte) (x float64, n int, err error) {
	i := 0
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	if i >= len(b) {
		return 0, i, errBadNumber
	}
	// All digits, integer and fraction, go into mant; it is exact while
	// there are at most 19 of them (leading zeros included).
	var mant uint64
	nd, frac := 0, 0
	switch c := b[i]; {
	case c == '0':
		i++
		nd = 1
	case c >= '1' && c <= '9':
		d := i
		for i < len(b) && b[i]-'0' <= 9 {
			mant = mant*10 + uint64(b[i]-'0')
			i++
		}
		nd = i - d
	default:
		return 0, i, errBadNumber
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i]-'0' <= 9 {
			mant = mant*10 + uint64(b[i]-'0')
			i++
		}
		frac = i - d
		if frac == 0 {
			return 0, i, errNoFracDigits
		}
		nd += frac
	}
	exp := 0
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		d := i
		for i < len(b) && b[i]-'0' <= 9 {
			if exp < 100000 {
				exp = exp*10 + int(b[i]-'0')
			}
			i++
		}
		if i == d {
			return 0, i, errNoExpDigits
		}
		if eneg {
			exp = -exp
		}
	}
	if nd <= 19 {
		e := exp - frac
		if mant == 0 {
			if neg {
				return math.Copysign(0, -1), i, nil
			}
			return 0, i, nil
		}
		if mant <= 1<<53 {
			x := float64(mant)
			ok := true
			switch {
			case e == 0:
			case e > 0 && e <= 22:
				x *= pow10[e]
			case e < 0 && e >= -22:
				x /= pow10[-e]
			default:
				ok = false
			}
			if ok {
				if neg {
					x = -x
				}
				return x, i, nil
			}
		}
		if x, ok := eiselLemire(mant, e, neg); ok {
			return x, i, nil
		}
	}
	tok := b[:i]
	x, err = strconv.ParseFloat(unsafe.String(&tok[0], len(tok)), 64)
	if err != nil || math.IsInf(x, 0) {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrSyntax {
			return 0, 0, errBadNumber // not reached: the grammar was checked
		}
		return 0, i, errNumberRange
	}
	return x, i, nil
}

// eiselLemire returns the float64 nearest to man x 10^exp10 (man != 0),
// or ok=false when the 128-bit product cannot decide it. The algorithm is
// Daniel Lemire's "Number Parsing at a Gigabyte per Second" (2021) in the
// form Go's strconv uses (BSD licence).
func eiselLemire(man uint64, exp10 int, neg bool) (f float64, ok bool) {
	if exp10 < powersOfTenMin || exp10 > powersOfTenMin+len(powersOfTen)-1 {
		return 0, false
	}
	pw := &powersOfTen[exp10-powersOfTenMin]
	// Normalization.
	clz := bits.LeadingZeros64(man)
	man <<= uint(clz)
	const bias = 1023
	retExp2 := uint64(217706*exp10>>16+64+bias) - uint64(clz)
	// Multiplication.
	xHi, xLo := bits.Mul64(man, pw[1])
	// Wider approximation.
	if xHi&0x1FF == 0x1FF && xLo+man < man {
		yHi, yLo := bits.Mul64(man, pw[0])
		mergedHi, mergedLo := xHi, xLo+yHi
		if mergedLo < xLo {
			mergedHi++
		}
		if mergedHi&0x1FF == 0x1FF && mergedLo+1 == 0 && yLo+man < man {
			return 0, false
		}
		xHi, xLo = mergedHi, mergedLo
	}
	// Shifting to 54 bits.
	msb := xHi >> 63
	retMantissa := xHi >> (msb + 9)
	retExp2 -= 1 ^ msb
	// Half-way ambiguity.
	if xLo == 0 && xHi&0x1FF == 0 && retMantissa&3 == 1 {
		return 0, false
	}
	// From 54 to 53 bits.
	retMantissa += retMantissa & 1
	retMantissa >>= 1
	if retMantissa>>53 > 0 {
		retMantissa >>= 1
		retExp2++
	}
	// A zero or wrapped exponent is subnormal, 0x7FF or more infinite:
	// both are left to strconv.
	if retExp2-1 >= 0x7FF-1 {
		return 0, false
	}
	retBits := retExp2<<52 | retMantissa&(1<<52-1)
	if neg {
		retBits |= 1 << 63
	}
	return math.Float64frombits(retBits), true
}
