package ingest

import (
	"math"
	"math/big"
	"math/rand"
	"regexp"
	"strconv"
	"testing"
)

var jsonNumberRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// checkNumber compares parseNumber on s with strconv.ParseFloat: a JSON
// number must parse to the same bits (or be a range error exactly when
// strconv's value is not finite or out of range); anything else must be
// refused or only partly consumed.
func checkNumber(t *testing.T, s string) {
	t.Helper()
	x, n, err := parseNumber([]byte(s))
	if !jsonNumberRE.MatchString(s) {
		if err == nil && n == len(s) {
			t.Fatalf("%q is not a JSON number but parsed as %v", s, x)
		}
		return
	}
	want, werr := strconv.ParseFloat(s, 64)
	if werr != nil || math.IsInf(want, 0) {
		if err != errNumberRange {
			t.Fatalf("%q: got %v, %v; strconv says %v, %v", s, x, err, want, werr)
		}
		return
	}
	if err != nil || n != len(s) {
		t.Fatalf("%q: error %v after %d bytes; strconv says %v", s, err, n, want)
	}
	if math.Float64bits(x) != math.Float64bits(want) {
		t.Fatalf("%q: got %v (%#x), strconv %v (%#x)", s, x, math.Float64bits(x), want, math.Float64bits(want))
	}
}

func TestParseNumberTable(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		n    int
		err  error
	}{
		{"0", 0, 1, nil},
		{"-0", math.Copysign(0, -1), 2, nil},
		{"-0.0", math.Copysign(0, -1), 4, nil},
		{"0e-999999", 0, 9, nil},
		{"1", 1, 1, nil},
		{"0.1", 0.1, 3, nil},
		{"0.2157", 0.2157, 6, nil},
		{"1790000000.731", 1790000000.731, 14, nil},
		{"1.0388000000000002", 1.0388000000000002, 18, nil},
		{"9007199254740993", 9007199254740992, 16, nil}, // 2^53+1: ties to even
		{"12345678901234567890123", 1.2345678901234568e22, 23, nil},
		{"1e22", 1e22, 4, nil},
		{"1e23", 1e23, 4, nil},
		{"2.2250738585072014e-308", 2.2250738585072014e-308, 23, nil},
		{"4.9e-324", 5e-324, 8, nil},
		{"1.7976931348623157e308", math.MaxFloat64, 22, nil},
		{"-1.5E+3", -1500, 7, nil},
		{"12,", 12, 2, nil},
		{"3}", 3, 1, nil},
		{"1e999", 0, 5, errNumberRange},
		{"-1e400", 0, 6, errNumberRange},
		{"-", 0, 1, errBadNumber},
		{"+1", 0, 0, errBadNumber},
		{".5", 0, 0, errBadNumber},
		{"1.", 0, 2, errNoFracDigits},
		{"1.e5", 0, 2, errNoFracDigits},
		{"1e", 0, 2, errNoExpDigits},
		{"1e+", 0, 3, errNoExpDigits},
		{"01", 0, 1, nil}, // "0", then the caller meets '1'
	} {
		x, n, err := parseNumber([]byte(c.in))
		if err != c.err || n != c.n || (err == nil && math.Float64bits(x) != math.Float64bits(c.want)) {
			t.Errorf("parseNumber(%q) = %v, %d, %v; want %v, %d, %v", c.in, x, n, err, c.want, c.n, c.err)
		}
	}
}

// Many numbers of the forms logs hold, and the hard ones: shortest
// repr of random floats, 17 to 25 digits, halfway cases, subnormals, the
// edges of the fast paths.
func TestParseNumberRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var cases []string
	for i := 0; i < 200000; i++ {
		f := math.Float64frombits(rng.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		cases = append(cases,
			strconv.FormatFloat(f, 'g', -1, 64),
			strconv.FormatFloat(f, 'e', 16, 64),
			strconv.FormatFloat(f, 'e', 20, 64),
			strconv.FormatFloat(rng.Float64()*100, 'f', rng.Intn(20), 64),
			strconv.FormatFloat(rng.NormFloat64(), 'g', -1, 64),
			strconv.FormatInt(rng.Int63()>>uint(rng.Intn(63)), 10),
		)
	}
	for i := 0; i < 20000; i++ {
		// halfway between two floats: the shortest repr plus a 5 at the end
		f := rng.Float64() * math.Pow(10, float64(rng.Intn(40)-20))
		cases = append(cases, strconv.FormatFloat(f, 'e', 17, 64)[:18]+"5e"+strconv.Itoa(rng.Intn(40)-20))
	}
	for e := -330; e <= 310; e++ {
		cases = append(cases, "1e"+strconv.Itoa(e), "9007199254740993e"+strconv.Itoa(e), "123456789012345678e"+strconv.Itoa(e))
	}
	for _, s := range cases {
		checkNumber(t, s)
	}
}

// The powers-of-ten table is 10^q rounded down to 128 bits, normalized.
func TestPowersOfTenTable(t *testing.T) {
	for i, pw := range powersOfTen {
		q := powersOfTenMin + i
		exact := new(big.Rat)
		ten := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(q))), nil)
		if q >= 0 {
			exact.SetInt(ten)
		} else {
			exact.SetFrac(big.NewInt(1), ten)
		}
		m := new(big.Int).Lsh(new(big.Int).SetUint64(pw[1]), 64)
		m.Or(m, new(big.Int).SetUint64(pw[0]))
		if m.BitLen() != 128 {
			t.Fatalf("1e%d: not normalized", q)
		}
		// m x 2^k <= 10^q < (m+1) x 2^k for the k that normalizes 10^q.
		// 2^(e-1) <= 10^q < 2^e, and the entry is 10^q x 2^(128-e).
		e := ten.BitLen()
		if q < 0 {
			e = 1 - ten.BitLen() // 10^|q| is no power of two
		}
		k := e - 128
		lo := new(big.Rat).SetInt(m)
		hi := new(big.Rat).SetInt(new(big.Int).Add(m, big.NewInt(1)))
		scale := new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), uint(abs(k))))
		if k < 0 {
			scale.Inv(scale)
		}
		lo.Mul(lo, scale)
		hi.Mul(hi, scale)
		if lo.Cmp(exact) > 0 || hi.Cmp(exact) <= 0 {
			t.Fatalf("1e%d: table entry is not 10^q rounded down", q)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"0", "-0", "0.1", "1.0388000000000002", "1e22", "1e23", "9007199254740993",
		"4.9e-324", "2.4703282292062328e-324", "1.7976931348623159e308", "1e-400", "123456789012345678901",
		"0.000001", "1790000000.731", "-12.5e-3", "1.", "1e", "-", "01", "1e+308"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkNumber(t, s)
	})
}
