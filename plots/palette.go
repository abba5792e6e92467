package plots

import (
	"image/color"

	"github.com/goodhart-rl/goodhart/analysis"
)

// The Okabe-Ito palette (Okabe & Ito 2008), safe for the common forms of
// colour blindness.
var (
	Black         = color.NRGBA{0x00, 0x00, 0x00, 0xff}
	Orange        = color.NRGBA{0xE6, 0x9F, 0x00, 0xff}
	SkyBlue       = color.NRGBA{0x56, 0xB4, 0xE9, 0xff}
	BluishGreen   = color.NRGBA{0x00, 0x9E, 0x73, 0xff}
	Yellow        = color.NRGBA{0xF0, 0xE4, 0x42, 0xff}
	Blue          = color.NRGBA{0x00, 0x72, 0xB2, 0xff}
	Vermillion    = color.NRGBA{0xD5, 0x5E, 0x00, 0xff}
	ReddishPurple = color.NRGBA{0xCC, 0x79, 0xA7, 0xff}
	Grey          = color.NRGBA{0x77, 0x77, 0x77, 0xff}
	White         = color.NRGBA{0xff, 0xff, 0xff, 0xff}
)

// Series is the order in which series colours are handed out. Yellow is
// left out: it is unreadable as a thin line on white.
var Series = []color.NRGBA{Blue, Orange, BluishGreen, Vermillion, ReddishPurple, SkyBlue, Black, Grey}

// SeriesColor returns the i-th series colour, cycling.
func SeriesColor(i int) color.NRGBA {
	if i < 0 {
		i = -i
	}
	return Series[i%len(Series)]
}

// Fade returns c with alpha a (0..1), for bands and shaded ranges.
func Fade(c color.NRGBA, a float64) color.NRGBA {
	if a < 0 {
		a = 0
	}
	if a > 1 {
		a = 1
	}
	c.A = uint8(a*255 + 0.5)
	return c
}

// StatusColor is the colour of a detector status: OK green, WARNING orange,
// ALERT vermillion, anything else grey.
func StatusColor(s analysis.Status) color.NRGBA {
	switch s {
	case analysis.StatusOK:
		return BluishGreen
	case analysis.StatusWarning:
		return Orange
	case analysis.StatusAlert:
		return Vermillion
	}
	return Grey
}

// SeverityColor is the colour of a balance severity or alignment flag:
// "ok" green, "warning" orange, "critical" vermillion (case-insensitive),
// anything else grey.
func SeverityColor(sev string) color.NRGBA {
	switch lower(sev) {
	case "ok", "healthy":
		return BluishGreen
	case "warning":
		return Orange
	case "critical", "alert", "hacking":
		return Vermillion
	}
	return Grey
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
