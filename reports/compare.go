package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/zabsim/zabsim/registry"
)

// Comparison draws the registries' timelines one above the other, on one time axis: for
// each, the instances every direct query returned (a dot per answer, by the querying
// client's side of the partition; a stale answer ringed in red), the live registered
// instances (the line) and the partition (shaded).
func Comparison(w io.Writer, title string, ms []*registry.Metrics, format Format) error {
	sideColor := []color.Color{color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255}, color.Gray{120}}
	end := 0.0
	maxN := 1
	for _, m := range ms {
		end = max(end, m.End.Seconds()/60)
		for _, p := range m.Points {
			maxN = max(maxN, p.Count)
		}
		for _, p := range m.Truth {
			maxN = max(maxN, p.Count)
		}
	}
	var plots [][]*plot.Plot
	for i, m := range ms {
		p := plot.New()
		p.Title.Text = string(m.Kind)
		p.Title.TextStyle = textStyle(11, textColor, true)
		p.X.Min, p.X.Max = 0, end
		p.Y.Min, p.Y.Max = 0, float64(maxN)+1
		p.Y.Label.Text = "instances"
		p.Y.Label.TextStyle = textStyle(9, textColor, false)
		p.X.Tick.Label = textStyle(8, textColor, false)
		p.Y.Tick.Label = textStyle(8, textColor, false)
		if i == len(ms)-1 {
			p.X.Label.Text = "virtual time (min)"
			p.X.Label.TextStyle = textStyle(9, textColor, false)
		}
		if f := m.Fault; f != nil {
			shade, err := plotter.NewPolygon(plotter.XYs{{X: f.Start.Seconds() / 60, Y: 0}, {X: f.End.Seconds() / 60, Y: 0},
				{X: f.End.Seconds() / 60, Y: float64(maxN) + 1}, {X: f.Start.Seconds() / 60, Y: float64(maxN) + 1}})
			if err != nil {
				return err
			}
			shade.Color = color.RGBA{230, 230, 230, 255}
			shade.LineStyle.Width = 0
			p.Add(shade)
		}
		var truth plotter.XYs
		for j, t := range m.Truth {
			if j > 0 {
				truth = append(truth, plotter.XY{X: t.At.Seconds() / 60, Y: float64(m.Truth[j-1].Count)})
			}
			truth = append(truth, plotter.XY{X: t.At.Seconds() / 60, Y: float64(t.Count)})
		}
		if len(truth) > 0 {
			truth = append(truth, plotter.XY{X: end, Y: truth[len(truth)-1].Y})
			l, err := plotter.NewLine(truth)
			if err != nil {
				return err
			}
			l.Color, l.Width = color.Black, vg.Points(1)
			p.Add(l)
		}
		for side := -1; side < 2; side++ {
			var pts, stale plotter.XYs
			for _, q := range m.Points {
				if q.Side != side {
					continue
				}
				xy := plotter.XY{X: q.At.Seconds() / 60, Y: float64(q.Count) + 0.15*float64(side)}
				pts = append(pts, xy)
				if q.Stale {
					stale = append(stale, xy)
				}
			}
			if len(pts) == 0 {
				continue
			}
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return err
			}
			sc.GlyphStyle.Color = sideColor[(side+3)%3]
			sc.GlyphStyle.Radius = vg.Points(1.2)
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			p.Add(sc)
			if len(stale) > 0 {
				st, err := plotter.NewScatter(stale)
				if err != nil {
					return err
				}
				st.GlyphStyle.Color = color.RGBA{214, 39, 40, 255}
				st.GlyphStyle.Radius = vg.Points(2.4)
				st.GlyphStyle.Shape = draw.RingGlyph{}
				p.Add(st)
			}
		}
		plots = append(plots, []*plot.Plot{p})
	}
	width, height := 9*vg.Inch, vg.Length(len(ms))*1.7*vg.Inch+0.5*vg.Inch
	var c vg.CanvasWriterTo
	switch format {
	case PNG:
		c = pngCanvas{vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi))}
	case SVG:
		c = vgsvg.New(width, height)
	default:
		return fmt.Errorf("reports: unknown picture format %q (png or svg)", format)
	}
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	head := textStyle(11, textColor, true)
	head.XAlign, head.YAlign = draw.XLeft, draw.YTop
	dc.FillText(head, vg.Point{X: 0.2 * vg.Inch, Y: height - 0.08*vg.Inch}, title)
	key := textStyle(9, textColor, false)
	key.XAlign, key.YAlign = draw.XLeft, draw.YTop
	dc.FillText(key, vg.Point{X: 0.2 * vg.Inch, Y: height - 0.28*vg.Inch},
		"dots: direct queries' answers (side A blue, side B orange); red ring: stale; line: live registered instances; grey: the partition")
	body := draw.Crop(dc, 0, 0, 0, -0.45*vg.Inch)
	tiles := draw.Tiles{Rows: len(ms), Cols: 1, PadY: vg.Points(6), PadX: vg.Points(6), PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	canv := plot.Align(plots, tiles, body)
	for i := range plots {
		plots[i][0].Draw(canv[i][0])
	}
	if format == SVG {
		var b bytes.Buffer
		if _, err := c.WriteTo(&b); err != nil {
			return err
		}
		_, err := w.Write(bytes.ReplaceAll(b.Bytes(), []byte("font-family:Liberation Sans;"),
			[]byte("font-family:'Liberation Sans',Arimo,Arial,Helvetica,sans-serif;")))
		return err
	}
	_, err := c.WriteTo(w)
	return err
}
