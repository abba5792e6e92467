package plots

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Plotters in gonum/plot's style. Unlike plotter.Line they accept NaN
// (drawn as a gap) so that missing values in a Run need no cleaning.

// Line draws y against x as a polyline, breaking it at NaN values.
type Line struct {
	X, Y []float64
	draw.LineStyle
}

// NewLine returns a line of width 1.5pt in colour c.
func NewLine(x, y []float64, c color.Color) *Line {
	return &Line{X: x, Y: y, LineStyle: draw.LineStyle{Color: c, Width: vg.Points(1.5)}}
}

// Dashed returns l with a dash pattern, for reference series.
func (l *Line) Dashed() *Line {
	l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	return l
}

// Plot implements plot.Plotter.
func (l *Line) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	var segs [][]vg.Point
	var cur []vg.Point
	for i := range min(len(l.X), len(l.Y)) {
		x, y := l.X[i], l.Y[i]
		if !finite(x) || !finite(y) {
			if len(cur) > 0 {
				segs = append(segs, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, vg.Point{X: trX(x), Y: trY(y)})
	}
	if len(cur) > 0 {
		segs = append(segs, cur)
	}
	for _, s := range segs {
		if len(s) == 1 { // an isolated point: draw a dot so it is not lost
			c.DrawGlyph(draw.GlyphStyle{Color: l.Color, Radius: l.Width, Shape: draw.CircleGlyph{}}, s[0])
		}
	}
	c.StrokeLines(l.LineStyle, chunk(c.ClipLinesXY(segs...), strokeChunk)...)
}

// strokeChunk is the longest polyline handed to the rasterizer at once.
// The PNG rasterizer's cost grows faster than linearly with path length
// (a 1,000-point line takes ~20x longer than 20 lines of 50 points), so
// long lines are stroked in overlapping pieces; the seams are invisible.
const strokeChunk = 48

// chunk splits each line into pieces of at most n points that share their
// end points.
func chunk(lines [][]vg.Point, n int) [][]vg.Point {
	var out [][]vg.Point
	for _, l := range lines {
		for len(l) > n {
			out = append(out, l[:n])
			l = l[n-1:]
		}
		if len(l) > 0 {
			out = append(out, l)
		}
	}
	return out
}

// DataRange implements plot.DataRanger over the finite points.
func (l *Line) DataRange() (xmin, xmax, ymin, ymax float64) {
	return xyRange(l.X, l.Y, l.Y)
}

// Thumbnail implements plot.Thumbnailer.
func (l *Line) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(l.LineStyle, c.Min.X, y, c.Max.X, y)
}

// Band fills the area between Lo and Hi over X, breaking at NaN. With Edge
// set, Lo and Hi are also stroked as thin lines in that colour, and the
// legend swatch is a narrow edged strip instead of a plain block (so two
// bands in one legend look different).
type Band struct {
	X, Lo, Hi []float64
	Color     color.Color
	Edge      color.Color
}

// Plot implements plot.Plotter.
func (b *Band) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	n := min(len(b.X), len(b.Lo), len(b.Hi))
	flush := func(from, to int) {
		if to-from < 1 {
			return
		}
		pts := make([]vg.Point, 0, 2*(to-from)+2)
		for i := from; i < to; i++ {
			pts = append(pts, vg.Point{X: trX(b.X[i]), Y: trY(b.Hi[i])})
		}
		for i := to - 1; i >= from; i-- {
			pts = append(pts, vg.Point{X: trX(b.X[i]), Y: trY(b.Lo[i])})
		}
		if to-from == 1 { // one point: a thin vertical bar
			pts[0].X -= 0.5
			pts[1].X += 0.5
			pts = []vg.Point{pts[0], {X: pts[1].X, Y: pts[0].Y}, pts[1], {X: pts[0].X, Y: pts[1].Y}}
		}
		c.FillPolygon(b.Color, c.ClipPolygonXY(pts))
	}
	start := -1
	for i := 0; i < n; i++ {
		ok := finite(b.X[i]) && finite(b.Lo[i]) && finite(b.Hi[i])
		switch {
		case ok && start < 0:
			start = i
		case !ok && start >= 0:
			flush(start, i)
			start = -1
		}
	}
	if start >= 0 {
		flush(start, n)
	}
	if b.Edge != nil {
		ls := draw.LineStyle{Color: b.Edge, Width: vg.Points(0.6)}
		for _, ys := range [][]float64{b.Lo, b.Hi} {
			(&Line{X: b.X, Y: ys, LineStyle: ls}).Plot(c, p)
		}
	}
}

// DataRange implements plot.DataRanger.
func (b *Band) DataRange() (xmin, xmax, ymin, ymax float64) {
	return xyRange(b.X, b.Lo, b.Hi)
}

// Thumbnail implements plot.Thumbnailer.
func (b *Band) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	mid := (r.Min.Y + r.Max.Y) / 2
	h := (r.Max.Y - r.Min.Y) / 4
	if b.Edge == nil {
		h = (r.Max.Y - r.Min.Y) / 2.2
	}
	c.FillPolygon(b.Color, []vg.Point{{X: r.Min.X, Y: mid - h}, {X: r.Max.X, Y: mid - h},
		{X: r.Max.X, Y: mid + h}, {X: r.Min.X, Y: mid + h}})
	if b.Edge != nil {
		ls := draw.LineStyle{Color: b.Edge, Width: vg.Points(0.8)}
		c.StrokeLine2(ls, r.Min.X, mid-h, r.Max.X, mid-h)
		c.StrokeLine2(ls, r.Min.X, mid+h, r.Max.X, mid+h)
	}
}

// Spans shades vertical x ranges over the whole height of the data area
// (flagged step ranges). It does not change the axis ranges.
type Spans struct {
	Ranges [][2]float64
	Color  color.Color
}

// Plot implements plot.Plotter.
func (s *Spans) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, r := range s.Ranges {
		if !finite(r[0]) || !finite(r[1]) {
			continue
		}
		x0, x1 := trX(r[0]), trX(r[1])
		if x1-x0 < 2 { // keep a one-step range visible
			mid := (x0 + x1) / 2
			x0, x1 = mid-1, mid+1
		}
		pts := []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}}
		c.FillPolygon(s.Color, c.ClipPolygonX(pts))
	}
}

// Thumbnail implements plot.Thumbnailer.
func (s *Spans) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	c.FillPolygon(s.Color, []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}})
}

// HLine draws a horizontal reference line at Y across the data area. Its
// DataRange includes Y so the line is always in view, unless OffRange is
// set: then it leaves the axes alone and is drawn only when Y is in view.
type HLine struct {
	Y float64
	draw.LineStyle
	OffRange bool
}

// NewHLine returns a dashed grey reference line at y.
func NewHLine(y float64, c color.Color) *HLine {
	return &HLine{Y: y, LineStyle: draw.LineStyle{Color: c, Width: vg.Points(1),
		Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}}
}

// Plot implements plot.Plotter.
func (h *HLine) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	y := trY(h.Y)
	if !c.ContainsY(y) {
		return
	}
	c.StrokeLine2(h.LineStyle, c.Min.X, y, c.Max.X, y)
}

// DataRange implements plot.DataRanger: only the y value counts.
func (h *HLine) DataRange() (xmin, xmax, ymin, ymax float64) {
	if h.OffRange {
		return math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	}
	return math.Inf(1), math.Inf(-1), h.Y, h.Y
}

// Thumbnail implements plot.Thumbnailer.
func (h *HLine) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(h.LineStyle, c.Min.X, y, c.Max.X, y)
}

// Markers draws one glyph per point, each with its own colour (alert
// markers coloured by status, flags coloured by severity).
type Markers struct {
	X, Y   []float64
	Colors []color.Color // per point; a missing entry uses Color
	Color  color.Color
	Radius vg.Length
	Shape  draw.GlyphDrawer
}

// NewMarkers returns triangle markers of radius 4pt.
func NewMarkers(x, y []float64, c color.Color) *Markers {
	return &Markers{X: x, Y: y, Color: c, Radius: vg.Points(4), Shape: draw.PyramidGlyph{}}
}

// Plot implements plot.Plotter.
func (m *Markers) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i := range min(len(m.X), len(m.Y)) {
		if !finite(m.X[i]) || !finite(m.Y[i]) {
			continue
		}
		col := m.Color
		if i < len(m.Colors) && m.Colors[i] != nil {
			col = m.Colors[i]
		}
		pt := vg.Point{X: trX(m.X[i]), Y: trY(m.Y[i])}
		if !c.Contains(pt) {
			continue
		}
		c.DrawGlyph(draw.GlyphStyle{Color: Black, Radius: m.Radius + 0.8, Shape: m.Shape}, pt)
		c.DrawGlyph(draw.GlyphStyle{Color: col, Radius: m.Radius, Shape: m.Shape}, pt)
	}
}

// DataRange implements plot.DataRanger.
func (m *Markers) DataRange() (xmin, xmax, ymin, ymax float64) {
	return xyRange(m.X, m.Y, m.Y)
}

// GlyphBoxes implements plot.GlyphBoxer so markers at the edge are not cut.
func (m *Markers) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	var bs []plot.GlyphBox
	for i := range min(len(m.X), len(m.Y)) {
		if !finite(m.X[i]) || !finite(m.Y[i]) {
			continue
		}
		r := m.Radius + 1
		bs = append(bs, plot.GlyphBox{X: p.X.Norm(m.X[i]), Y: p.Y.Norm(m.Y[i]),
			Rectangle: vg.Rectangle{Min: vg.Point{X: -r, Y: -r}, Max: vg.Point{X: r, Y: r}}})
	}
	return bs
}

// Thumbnail implements plot.Thumbnailer.
func (m *Markers) Thumbnail(c *draw.Canvas) {
	c.DrawGlyph(draw.GlyphStyle{Color: m.Color, Radius: m.Radius, Shape: m.Shape}, c.Center())
}

// Bars draws one bar per category at x = Pos[i] + Offset, from 0 to
// Values[i], each with its own colour, optionally with its value printed
// above (or below, for negative values) the bar.
type Bars struct {
	Pos, Values []float64
	Colors      []color.Color
	Color       color.Color // thumbnail and default colour
	Width       float64     // in x units (categories are 1 apart)
	Offset      float64
	Hatch       bool     // draw the bar as an outline (e.g. "expected")
	Labels      []string // printed at the end of each bar when non-empty
	LabelStyle  text.Style
}

func (b *Bars) colour(i int) color.Color {
	if i < len(b.Colors) && b.Colors[i] != nil {
		return b.Colors[i]
	}
	return b.Color
}

// Plot implements plot.Plotter.
func (b *Bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i := range min(len(b.Pos), len(b.Values)) {
		v := b.Values[i]
		if !finite(v) {
			continue
		}
		x0, x1 := trX(b.Pos[i]+b.Offset-b.Width/2), trX(b.Pos[i]+b.Offset+b.Width/2)
		y0, y1 := trY(0), trY(v)
		pts := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
		col := b.colour(i)
		if b.Hatch {
			c.FillPolygon(Fade(toNRGBA(col), 0.18), c.ClipPolygonXY(pts))
			ls := draw.LineStyle{Color: col, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}
			c.StrokeLines(ls, c.ClipLinesXY(append(pts, pts[0]))...)
		} else {
			c.FillPolygon(col, c.ClipPolygonXY(pts))
		}
		if i < len(b.Labels) && b.Labels[i] != "" {
			sty := b.LabelStyle
			sty.XAlign = draw.XCenter
			pt := vg.Point{X: (x0 + x1) / 2, Y: y1 + 2}
			if v < 0 {
				sty.YAlign = draw.YTop
				pt.Y = y1 - 2
			}
			// A white box behind the label keeps it readable over
			// reference lines.
			r := sty.Rectangle(b.Labels[i])
			box := vg.Rectangle{Min: vg.Point{X: pt.X + r.Min.X - 1, Y: pt.Y + r.Min.Y}, Max: vg.Point{X: pt.X + r.Max.X + 1, Y: pt.Y + r.Max.Y}}
			c.FillPolygon(White, []vg.Point{box.Min, {X: box.Max.X, Y: box.Min.Y}, box.Max, {X: box.Min.X, Y: box.Max.Y}})
			c.FillText(sty, pt, b.Labels[i])
		}
	}
}

// DataRange implements plot.DataRanger; it always includes 0.
func (b *Bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	ymin, ymax = 0, 0
	for i := range min(len(b.Pos), len(b.Values)) {
		xmin = math.Min(xmin, b.Pos[i]+b.Offset-b.Width/2)
		xmax = math.Max(xmax, b.Pos[i]+b.Offset+b.Width/2)
		if finite(b.Values[i]) {
			ymin = math.Min(ymin, b.Values[i])
			ymax = math.Max(ymax, b.Values[i])
		}
	}
	return
}

// Thumbnail implements plot.Thumbnailer.
func (b *Bars) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	pts := []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}}
	if b.Hatch {
		c.FillPolygon(Fade(toNRGBA(b.Color), 0.18), pts)
		c.StrokeLines(draw.LineStyle{Color: b.Color, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}, append(pts, pts[0]))
		return
	}
	c.FillPolygon(b.Color, pts)
}

func toNRGBA(c color.Color) color.NRGBA {
	if n, ok := c.(color.NRGBA); ok {
		return n
	}
	return color.NRGBAModel.Convert(c).(color.NRGBA)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// xyRange is the range of the finite points (x[i], lo[i]) and (x[i], hi[i]).
// With no finite point it returns an empty range (+Inf, -Inf) so that
// plot.Add leaves the axes alone.
func xyRange(x, lo, hi []float64) (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for i := range min(len(x), len(lo), len(hi)) {
		if !finite(x[i]) {
			continue
		}
		any := false
		for _, y := range [2]float64{lo[i], hi[i]} {
			if finite(y) {
				ymin, ymax = math.Min(ymin, y), math.Max(ymax, y)
				any = true
			}
		}
		if any {
			xmin, xmax = math.Min(xmin, x[i]), math.Max(xmax, x[i])
		}
	}
	return
}
