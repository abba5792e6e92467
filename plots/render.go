package plots

import (
	"bytes"
	"fmt"
	"image/png"
	"io"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/goodhart-rl/goodhart/ingest"
)

// PNGDPI is the resolution of PNG output: 144 dpi makes a default figure
// 1152 px wide, sharp on high-density screens and in CI artifact viewers.
const PNGDPI = 144

// Size returns the figure's width and height.
func (f *Figure) Size() (w, h vg.Length) {
	w, ph := f.Width, f.PanelHeight
	if w <= 0 {
		w = DefaultWidth
	}
	if ph <= 0 {
		ph = DefaultPanelHeight
	}
	h = ph * vg.Length(max(1, len(f.Panels)))
	if f.Title != "" {
		h += titleHeight
	}
	return w, h
}

// Draw draws the figure onto c: the title on top, then each panel with its
// legend in a strip on the right.
func (f *Figure) Draw(c draw.Canvas) {
	c.SetColor(White)
	c.Fill(c.Rectangle.Path())
	if f.Title != "" {
		sty := text.Style{Font: font.From(boldFont, 13), Color: Black, XAlign: draw.XLeft,
			YAlign: draw.YCenter, Handler: text.Plain{Fonts: font.DefaultCache}}
		c.FillText(sty, vg.Point{X: c.Min.X + vg.Points(8), Y: c.Max.Y - titleHeight/2}, f.Title)
		c.Max.Y -= titleHeight
	} else {
		c.Max.Y -= vg.Points(6)
	}
	if len(f.Panels) == 0 {
		return
	}
	tiles := draw.Tiles{Rows: len(f.Panels), Cols: 1, PadX: 0, PadY: vg.Points(6),
		PadLeft: vg.Points(4), PadRight: vg.Points(8), PadBottom: vg.Points(4)}
	// One legend width for all panels, so their data areas line up.
	lw := vg.Length(0)
	for _, pa := range f.Panels {
		if len(pa.Series) == 0 {
			continue
		}
		lw = max(lw, pa.legendWidth()+vg.Points(10))
	}
	lw = min(lw, maxLegendWidth)
	// plot.Align lays the panels out so that their data areas have the same
	// left and right edges (and heights) whatever their tick labels: stacked
	// panels then share one x position per step.
	area := c
	if lw > 0 {
		area = draw.Crop(c, 0, -lw, 0, 0)
	}
	col := make([][]*plot.Plot, len(f.Panels))
	for i, pa := range f.Panels {
		col[i] = []*plot.Plot{pa.Plot}
	}
	cells := plot.Align(col, tiles, area)
	for i, pa := range f.Panels {
		if lw > 0 {
			tc := tiles.At(c, 0, i)
			lc := draw.Crop(tc, tc.Max.X-tc.Min.X-lw+vg.Points(8), 0, 0, 0)
			if pa.Plot.Title.Text != "" {
				lc.Max.Y -= pa.Plot.Title.TextStyle.Rectangle(pa.Plot.Title.Text).Size().Y + pa.Plot.Title.Padding
			}
			pa.drawLegend(lc)
		}
		pa.Plot.Draw(cells[i][0])
	}
}

// SVG returns the figure as a standalone SVG document with its fonts
// embedded, so it looks the same on machines without Liberation fonts.
func (f *Figure) SVG() ([]byte, error) { return f.svg(true) }

// SVGNoFonts returns the figure as SVG without embedded fonts: the page's
// own sans-serif font is used, so it is small (a few tens of kB instead of
// about 1 MB) but looks slightly different on each machine. For notebooks.
func (f *Figure) SVGNoFonts() ([]byte, error) { return f.svg(false) }

func (f *Figure) svg(embed bool) (out []byte, err error) {
	defer recoverDraw(f, &err)
	w, h := f.Size()
	c := vgsvg.NewWith(vgsvg.UseWH(w, h), vgsvg.EmbedFonts(embed))
	f.Draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// PNG returns the figure as a PNG image at PNGDPI.
func (f *Figure) PNG() ([]byte, error) { return f.png(PNGDPI, png.BestSpeed) }

// NotebookDPI is the resolution of figures shown in notebooks: 96 dpi is
// 768 px wide, sharp at 100% zoom and small enough (~50 kB) to commit
// notebooks with their outputs.
const NotebookDPI = 96

// NotebookPNG returns the figure as a PNG at NotebookDPI with the best
// compression: small enough to commit notebooks with their outputs.
func (f *Figure) NotebookPNG() ([]byte, error) { return f.png(NotebookDPI, png.BestCompression) }

func (f *Figure) png(dpi int, level png.CompressionLevel) (out []byte, err error) {
	defer recoverDraw(f, &err)
	w, h := f.Size()
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
	f.Draw(draw.New(c))
	var b bytes.Buffer
	// PNG() uses fast compression: at the default level encoding takes
	// longer than drawing, and the files are only ~20% smaller.
	enc := png.Encoder{CompressionLevel: level}
	if err := enc.Encode(&b, c.Image()); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteFormat writes the figure to w as SVG (format "svg") or PNG ("png").
func (f *Figure) WriteFormat(w io.Writer, format string) error {
	var b []byte
	var err error
	switch strings.ToLower(format) {
	case "svg":
		b, err = f.SVG()
	case "png":
		b, err = f.PNG()
	default:
		return fmt.Errorf("unknown image format %q (want svg or png)", format)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Save writes the figure to path, as SVG or PNG by its extension (.svg,
// .png), atomically: a reader never sees a half-written file.
func (f *Figure) Save(path string) error {
	format, err := ImageFormat(path)
	if err != nil {
		return err
	}
	return ingest.WriteFileAtomic(path, func(w io.Writer) error { return f.WriteFormat(w, format) })
}

// ImageFormat returns "svg" or "png" from a file name's extension.
func ImageFormat(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".svg":
		return "svg", nil
	case ".png":
		return "png", nil
	}
	return "", fmt.Errorf("%s: cannot tell the image format: name it .png or .svg", path)
}

// recoverDraw turns a panic inside gonum/plot (it panics on a few
// degenerate inputs) into an error naming the figure.
func recoverDraw(f *Figure, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("drawing the %s figure failed: %v", f.Kind, r)
	}
}

// Legend layout: swatch width, gap to the text, row spacing and font.
var (
	legendThumb = vg.Points(18)
	legendGap   = vg.Points(5)
	legendPad   = vg.Points(3)
	legendStyle = text.Style{Font: font.From(sansFont, 9.5), Color: Black, XAlign: draw.XLeft,
		YAlign: draw.YTop, Handler: text.Plain{Fonts: font.DefaultCache}}
)

// legendWidth is the width the panel's legend needs.
func (pa *Panel) legendWidth() vg.Length {
	w := vg.Length(0)
	for _, e := range pa.entries {
		for _, l := range e.lines {
			w = max(w, legendStyle.Width(l))
		}
	}
	if w == 0 {
		return 0
	}
	return legendThumb + legendGap + w
}

// drawLegend draws the legend top-down in c: one row per entry, its
// swatches beside the first line of its text, wrapped lines below.
func (pa *Panel) drawLegend(c draw.Canvas) {
	lh := legendStyle.Height("Ag")
	y := c.Max.Y
	for _, e := range pa.entries {
		if y-lh < c.Min.Y {
			break
		}
		icon := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: c.Min.X, Y: y - lh}, Max: vg.Point{X: c.Min.X + legendThumb, Y: y}}}
		for _, t := range e.thumbs {
			t.Thumbnail(&icon)
		}
		for _, l := range e.lines {
			c.FillText(legendStyle, vg.Point{X: c.Min.X + legendThumb + legendGap, Y: y}, l)
			y -= lh
		}
		y -= legendPad
	}
}
