package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// Format is a picture format.
type Format string

const (
	PNG Format = "png"
	SVG Format = "svg"
)

// Timeline draws the part of the run that f selects as a picture: one lifeline per
// server, its state as a coloured band, messages as arrows from the send on the
// sender's lifeline to the delivery on the receiver's (a lost one dashed, with an X
// where it left), crashes and restarts as glyphs, partitions as shaded spans, epochs
// and sync modes as labels, and a key below.
func Timeline(w io.Writer, records []sim.Record, f Filter, format Format) error {
	return newStory(records, 0).timeline(w, f, format)
}

// Sizes and colours.
const (
	dpi       = 100
	bandHalf  = 0.2 // of the distance between lifelines
	rowHeight = 0.62 * vg.Inch
	picWidth  = 11 * vg.Inch // wider when there are many messages: see frame.width
)

var (
	sansFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
	boldFont = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}

	bandColors = [...]color.RGBA{
		bandLooking:   rgb(0xfd, 0xd8, 0x76),
		bandFollowing: rgb(0x9e, 0xc9, 0xe8),
		bandLeading:   rgb(0x9c, 0xd6, 0x8c),
		bandObserving: rgb(0xc8, 0xb4, 0xdc),
		bandDown:      rgb(0xd0, 0xd0, 0xd0),
		bandPaused:    rgb(0x8c, 0x8c, 0x8c),
	}
	classColors = map[Class]color.RGBA{ // looked up, never ranged over
		Election:  rgb(0xd9, 0x5f, 0x0e),
		Discovery: rgb(0x6a, 0x3d, 0x9a),
		Sync:      rgb(0x1f, 0x5f, 0xb4),
		Broadcast: rgb(0x1b, 0x7a, 0x3a),
		Requests:  rgb(0x55, 0x55, 0x55),
		Pings:     rgb(0xaa, 0xaa, 0xaa),
		Hellos:    rgb(0xaa, 0xaa, 0xaa),
		Other:     rgb(0x88, 0x66, 0x44),
	}
	crashColor     = rgb(0xc6, 0x1a, 0x1a)
	proposeColor   = rgb(0x1b, 0x5e, 0x20)
	partitionColor = color.NRGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0x30}
	textColor      = rgb(0x20, 0x20, 0x20)
	gridColor      = rgb(0xe4, 0xe4, 0xe4)
)

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{R: r, G: g, B: b, A: 0xff} }

// pale mixes c with white: the colour of a band in discovery or synchronization.
func pale(c color.RGBA) color.RGBA {
	return color.RGBA{R: c.R/2 + 0x80, G: c.G/2 + 0x80, B: c.B/2 + 0x80, A: 0xff}
}

func textStyle(size vg.Length, c color.Color, bold bool) text.Style {
	f := sansFont
	if bold {
		f = boldFont
	}
	return text.Style{Color: c, Font: font.From(f, size), XAlign: draw.XCenter, YAlign: draw.YCenter,
		Handler: plot.DefaultTextHandler}
}

// frame is what one picture shows, computed before drawing.
type frame struct {
	s        *story
	f        Filter
	from, to sim.Time
	msgs     []int // indexes into s.msgs
	marks    []int // indexes into s.marks
	syncs    []int // indexes into s.syncs
	spans    []int // indexes into s.spans
	// quorums (decided, in an election picture) and violations, indexes into s's
	quorums, violations []int
	scale               *timeScale
}

func (s *story) frame(f Filter) *frame {
	fr := &frame{s: s, f: f}
	fr.from, fr.to = f.window(s)
	var busy []sim.Time
	var lat []sim.Time
	for i := range s.msgs {
		m := &s.msgs[i]
		if f.keeps(s, m, fr.from, fr.to) {
			fr.msgs = append(fr.msgs, i)
			busy = append(busy, m.sent)
			if m.done >= 0 {
				busy = append(busy, m.done)
				lat = append(lat, m.done-m.sent)
			}
		}
	}
	for i := range s.marks {
		k := &s.marks[i]
		if f.keepsMark(k, fr.from, fr.to) {
			fr.marks = append(fr.marks, i)
			busy = append(busy, k.at)
		}
	}
	for i, sd := range s.syncs {
		if sd.at >= fr.from && sd.at <= fr.to {
			if len(f.Between) > 0 && !slices.Contains(f.Between, sd.d.Learner) {
				continue
			}
			fr.syncs = append(fr.syncs, i)
			busy = append(busy, sd.at)
		}
	}
	for i, sp := range s.spans {
		if sp.from <= fr.to && sp.to >= fr.from {
			fr.spans = append(fr.spans, i)
			busy = append(busy, sp.from, sp.to)
		}
	}
	for _, segs := range s.segs {
		for _, sg := range segs {
			if sg.from > fr.from && sg.from < fr.to {
				busy = append(busy, sg.from)
			}
		}
	}
	for i, q := range s.quorums {
		if f.Messages&Election != 0 && q.decided && q.at >= fr.from && q.at <= fr.to {
			fr.quorums = append(fr.quorums, i)
			busy = append(busy, q.at)
		}
	}
	for i, v := range s.violations {
		if v.at >= fr.from && v.at <= fr.to {
			fr.violations = append(fr.violations, i)
			busy = append(busy, v.at)
		}
	}
	var minGap sim.Time
	if len(lat) > 0 {
		slices.Sort(lat)
		minGap = max(20*lat[len(lat)/2], 2*sim.Millisecond)
	} else {
		minGap = (fr.to - fr.from) / 10 // no messages: only the long quiet stretches
	}
	fr.scale = newTimeScale(fr.from, fr.to, busy, minGap, f.Linear)
	return fr
}

// width is the picture's width: wider for a crowd of messages, up to 16 inches.
func (fr *frame) width() vg.Length {
	extra := vg.Length(max(0, len(fr.msgs)-40)) * 0.08 * vg.Inch
	return min(picWidth+extra, 16*vg.Inch)
}

// y is the vertical coordinate of a server's lifeline: the first server on top.
func (fr *frame) y(sid int64) float64 {
	return float64(len(fr.s.servers) - 1 - fr.s.row[sid])
}

func (s *story) timeline(w io.Writer, f Filter, format Format) error {
	fr := s.frame(f)
	legend := fr.legend()

	p := plot.New()
	p.Title.TextStyle = textStyle(12, textColor, true)
	width := fr.width()
	p.Title.Text = wrap(p.Title.TextStyle, f.Title, width-40)
	p.Title.TextStyle.YAlign = draw.YTop
	p.Title.Padding = 6
	p.X.Min, p.X.Max = fr.from.Seconds(), fr.to.Seconds()
	p.X.Scale = fr.scale
	p.X.Tick.Marker = fr.scale
	p.X.Tick.Label = textStyle(9, textColor, false)
	p.X.Tick.Label.YAlign = draw.YTop
	p.X.Label.Text = "virtual time (s)"
	p.X.Label.TextStyle = textStyle(10, textColor, false)
	p.X.Label.TextStyle.YAlign = draw.YBottom
	p.X.Padding = 0
	n := len(s.servers)
	p.Y.Min, p.Y.Max = -0.55, float64(n-1)+0.75
	var ticks []plot.Tick
	for _, sid := range s.servers {
		ticks = append(ticks, plot.Tick{Value: fr.y(sid), Label: s.serverName(sid)})
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Tick.Label = textStyle(10, textColor, true)
	p.Y.Tick.Label.XAlign = draw.XRight
	p.Y.Tick.Length = 0
	p.Y.Padding = 0
	p.Y.LineStyle.Width = 0
	p.Add(fr)

	legendH := legend.height(width)
	titleExtra := vg.Length(strings.Count(p.Title.Text, "\n")) * p.Title.TextStyle.Height("X")
	height := vg.Length(max(n, 2))*rowHeight + 1.1*vg.Inch + legendH + titleExtra

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
	p.Draw(draw.Crop(dc, 4, -14, legendH, -6))
	legend.draw(draw.Crop(dc, 0, 0, 0, -(height - legendH)))
	if format == SVG {
		// Name fonts with the same metrics after the one the layout was measured with,
		// for viewers that do not have it.
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

// labels keeps the rectangles of the text already placed, so that no two overlap.
type labels struct {
	placed []vg.Rectangle
}

func (l *labels) free(r vg.Rectangle) bool {
	for _, q := range l.placed {
		if r.Min.X < q.Max.X && q.Min.X < r.Max.X && r.Min.Y < q.Max.Y && q.Min.Y < r.Max.Y {
			return false
		}
	}
	return true
}

// textRect is the box of txt drawn centred at pt, with a little air around it.
func textRect(sty text.Style, pt vg.Point, txt string) vg.Rectangle {
	w, h := sty.Width(txt), sty.Height(txt)
	return vg.Rectangle{Min: vg.Point{X: pt.X - w/2 - 1.5, Y: pt.Y - h/2 - 1}, Max: vg.Point{X: pt.X + w/2 + 1.5, Y: pt.Y + h/2 + 1}}
}

// put draws txt centred at the first of pts where it overlaps nothing placed, on a
// white ground if ground; it reports whether it found room.
func (l *labels) put(c *draw.Canvas, sty text.Style, txt string, ground bool, pts ...vg.Point) bool {
	for _, pt := range pts {
		r := textRect(sty, pt, txt)
		if r.Min.X < c.Min.X || r.Max.X > c.Max.X || !l.free(r) {
			continue
		}
		if ground {
			c.FillPolygon(color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xd8}, rectPts(r))
		}
		c.FillText(sty, pt, txt)
		l.placed = append(l.placed, r)
		return true
	}
	return false
}

func rectPts(r vg.Rectangle) []vg.Point {
	return []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}}
}

// Plot implements plot.Plotter: it draws the whole picture in the data area.
func (fr *frame) Plot(c draw.Canvas, p *plot.Plot) {
	s := fr.s
	tx, ty := p.Transforms(&c)
	x := func(t sim.Time) vg.Length { return tx(t.Seconds()) }
	unit := ty(1) - ty(0) // the distance between two lifelines
	var lab labels

	// grid at the ticks, under everything
	for _, tk := range fr.scale.Ticks(0, 0) {
		xx := tx(tk.Value)
		c.StrokeLine2(draw.LineStyle{Color: gridColor, Width: 0.5}, xx, c.Min.Y, xx, c.Max.Y)
	}

	// lifelines and their bands
	type bandText struct {
		sg     segment
		x0, x1 vg.Length
		y      vg.Length
	}
	var bandTexts []bandText
	for row, sid := range s.servers {
		yy := ty(fr.y(sid))
		c.StrokeLine2(draw.LineStyle{Color: rgb(0xb0, 0xb0, 0xb0), Width: 0.6}, c.Min.X, yy, c.Max.X, yy)
		for _, sg := range s.segs[row] {
			if sg.to < fr.from || sg.from > fr.to {
				continue
			}
			x0, x1 := x(max(sg.from, fr.from)), x(min(sg.to, fr.to))
			if x1-x0 < 0.3 {
				x1 = x0 + 0.3
			}
			col := bandColors[sg.band]
			if sg.phase != model.PhaseBroadcast && (sg.band == bandFollowing || sg.band == bandLeading || sg.band == bandObserving) {
				col = pale(col)
			}
			r := vg.Rectangle{Min: vg.Point{X: x0, Y: yy - unit*bandHalf}, Max: vg.Point{X: x1, Y: yy + unit*bandHalf}}
			c.FillPolygon(col, rectPts(r))
			bandTexts = append(bandTexts, bandText{sg, x0, x1, yy})
		}
	}

	// compressed stretches of time
	var gapX [][2]vg.Length
	for _, g := range fr.scale.gaps() {
		x0, x1 := tx(g.a), tx(g.b)
		gapX = append(gapX, [2]vg.Length{x0, x1})
		c.FillPolygon(color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xc0}, rectPts(vg.Rectangle{Min: vg.Point{X: x0, Y: c.Min.Y}, Max: vg.Point{X: x1, Y: c.Max.Y}}))
		zig := draw.LineStyle{Color: rgb(0x99, 0x99, 0x99), Width: 0.7}
		for _, xx := range []vg.Length{x0, x1} {
			c.StrokeLine2(zig, xx, c.Min.Y, xx, c.Max.Y)
		}
		d := sim.Time(math.Round((g.b - g.a) * float64(sim.Second)))
		sty := textStyle(7.5, rgb(0x66, 0x66, 0x66), false)
		txt := "+" + fmtDur(d)
		if why := fr.s.waitedFor(sim.Time(math.Round(g.a*float64(sim.Second))), sim.Time(math.Round(g.b*float64(sim.Second)))); why != "" {
			// what the quiet stretch was: a finalizeWait, or the timer that ended it
			if !lab.put(&c, sty, why+" "+txt, false, vg.Point{X: (x0 + x1) / 2, Y: c.Max.Y - 6}, vg.Point{X: (x0 + x1) / 2, Y: c.Max.Y - 16}) {
				lab.put(&c, sty, txt, false, vg.Point{X: (x0 + x1) / 2, Y: c.Max.Y - 6})
				lab.put(&c, sty, why, false, vg.Point{X: (x0 + x1) / 2, Y: c.Min.Y + 8}, vg.Point{X: (x0 + x1) / 2, Y: c.Max.Y - 16})
			}
		} else {
			lab.put(&c, sty, txt, false, vg.Point{X: (x0 + x1) / 2, Y: c.Max.Y - 6})
		}
	}

	// band labels, in the widest stretch of the band that is not a break
	bandLabel := textStyle(7.5, textColor, false)
	for _, bt := range bandTexts {
		a, b := widestOutside(bt.x0, bt.x1, gapX)
		for _, txt := range bandLabels(bt.sg) {
			if bandLabel.Width(txt)+6 <= b-a {
				lab.put(&c, bandLabel, txt, false, vg.Point{X: (a + b) / 2, Y: bt.y})
				break
			}
		}
	}

	// partitions
	for _, i := range fr.spans {
		sp := &s.spans[i]
		x0, x1 := x(max(sp.from, fr.from)), x(min(sp.to, fr.to))
		top := math.Inf(-1)
		for _, sid := range sp.nodes {
			if _, ok := s.row[sid]; !ok {
				continue
			}
			yy := ty(fr.y(sid))
			r := vg.Rectangle{Min: vg.Point{X: x0, Y: yy - unit*0.42}, Max: vg.Point{X: x1, Y: yy + unit*0.42}}
			// a red halo around the band, which keeps its colour
			c.FillPolygon(partitionColor, rectPts(vg.Rectangle{Min: r.Min, Max: vg.Point{X: x1, Y: yy - unit*bandHalf}}))
			c.FillPolygon(partitionColor, rectPts(vg.Rectangle{Min: vg.Point{X: x0, Y: yy + unit*bandHalf}, Max: r.Max}))
			c.StrokeLines(draw.LineStyle{Color: rgb(0xd6, 0x27, 0x28), Width: 0.6, Dashes: []vg.Length{3, 2}}, rectPts(r), []vg.Point{r.Min, {X: r.Min.X, Y: r.Max.Y}})
			top = max(top, float64(yy+unit*0.42))
		}
		if !math.IsInf(top, -1) {
			sty := textStyle(7.5, rgb(0xa0, 0x10, 0x10), false)
			sty.XAlign = draw.XCenter
			txt := "partition " + sp.text
			w := sty.Width(txt)
			lx := max(x0+w/2+3, c.Min.X+w/2+2)
			lab.put(&c, sty, txt, true, vg.Point{X: lx, Y: vg.Length(top) - 6}, vg.Point{X: lx, Y: vg.Length(top) + 6})
		}
	}

	// messages
	type arrowLabel struct {
		m      *message
		p0, p1 vg.Point
	}
	var pending []arrowLabel
	var lostAt []vg.Point
	var lostWhy, saidWhy []string
	quorumMsg := fr.quorumMessages()
	for _, i := range fr.msgs {
		m := &s.msgs[i]
		if m.done < 0 {
			continue // still in flight when the run ended
		}
		col := classColors[m.class]
		p0 := vg.Point{X: x(m.sent), Y: ty(fr.y(m.from))}
		p1 := vg.Point{X: x(m.done), Y: ty(fr.y(m.to))}
		if m.dropped {
			c.StrokeLine2(draw.LineStyle{Color: col, Width: 0.9, Dashes: []vg.Length{3, 2.5}}, p0.X, p0.Y, p1.X, p1.Y)
			if m.class != Hellos { // a hello to a server that is down: the connection is refused
				lostAt = append(lostAt, p0)
				why := ""
				if e := s.msgEnd[i]; e >= 0 {
					_, why = s.loss(e)
				}
				// each reason once per sender: the connection churn of a start is one story
				key := fmt.Sprint(m.from, why)
				if slices.Contains(saidWhy, key) {
					why = ""
				} else {
					saidWhy = append(saidWhy, key)
				}
				lostWhy = append(lostWhy, why)
				lab.placed = append(lab.placed, glyphRect(p0, 3.5))
			}
		} else {
			width := vg.Length(0.9)
			if m.class&(Hellos|Pings) != 0 {
				width = 0.6
			}
			if quorumMsg[i] {
				width = 2.4 // one of the votes that made the deciding quorum
			}
			c.StrokeLine2(draw.LineStyle{Color: col, Width: width}, p0.X, p0.Y, p1.X, p1.Y)
			arrowHead(&c, p0, p1, col)
			lab.placed = append(lab.placed, glyphRect(p1, 3))
		}
		pending = append(pending, arrowLabel{m, p0, p1})
	}

	// marks on the lifelines
	markLabel := textStyle(7.5, textColor, false)
	for _, i := range fr.marks {
		k := &s.marks[i]
		if _, ok := s.row[k.node]; !ok {
			continue
		}
		pt := vg.Point{X: x(k.at), Y: ty(fr.y(k.node))}
		above := []vg.Point{{X: pt.X, Y: pt.Y + unit*bandHalf + 6}, {X: pt.X, Y: pt.Y - unit*bandHalf - 6}}
		switch k.kind {
		case markCrash:
			c.DrawGlyph(draw.GlyphStyle{Color: crashColor, Radius: 5, Shape: thickCross{}}, pt)
			lab.placed = append(lab.placed, glyphRect(pt, 5))
			lab.put(&c, textStyle(7.5, crashColor, true), "crash", false, above...)
		case markRestart:
			c.DrawGlyph(draw.GlyphStyle{Color: textColor, Radius: 4, Shape: draw.TriangleGlyph{}}, pt)
			lab.placed = append(lab.placed, glyphRect(pt, 4))
			lab.put(&c, markLabel, "restart", false, above...)
		case markStart:
			if k.at > fr.from {
				c.DrawGlyph(draw.GlyphStyle{Color: textColor, Radius: 3.5, Shape: draw.TriangleGlyph{}}, pt)
				lab.placed = append(lab.placed, glyphRect(pt, 3.5))
				lab.put(&c, markLabel, "start", false, above...)
			}
		case markLogged:
			c.DrawGlyph(draw.GlyphStyle{Color: rgb(0x1b, 0x7a, 0x3a), Radius: 2.8, Shape: draw.BoxGlyph{}}, pt)
			lab.placed = append(lab.placed, glyphRect(pt, 2.8))
		case markCommitted:
			c.DrawGlyph(draw.GlyphStyle{Color: rgb(0x0b, 0x3d, 0x1a), Radius: 3.2, Shape: draw.CircleGlyph{}}, pt)
			lab.placed = append(lab.placed, glyphRect(pt, 3.2))
		case markTruncated:
			c.DrawGlyph(draw.GlyphStyle{Color: rgb(0x8b, 0x00, 0x00), Radius: 3.5, Shape: draw.SquareGlyph{}}, pt)
			lab.put(&c, textStyle(7.5, rgb(0x8b, 0x00, 0x00), false), "truncated to "+k.zxid.String(), true, above...)
		case markSnapLoaded:
			c.DrawGlyph(draw.GlyphStyle{Color: classColors[Sync], Radius: 3, Shape: draw.RingGlyph{}}, pt)
		case markProposed:
			top := vg.Point{X: pt.X, Y: pt.Y + unit*bandHalf + 1.5}
			c.DrawGlyph(draw.GlyphStyle{Color: proposeColor, Radius: 3.5, Shape: tickGlyph{}}, top)
		case markClog:
			c.DrawGlyph(draw.GlyphStyle{Color: rgb(0xa0, 0x10, 0x10), Radius: 3, Shape: draw.RingGlyph{}}, pt)
			lab.put(&c, textStyle(7.5, rgb(0xa0, 0x10, 0x10), false), "clog", true, above...)
		}
	}

	for i, pt := range lostAt {
		c.DrawGlyph(draw.GlyphStyle{Color: crashColor, Radius: 3.5, Shape: draw.CrossGlyph{}}, pt)
		if lostWhy[i] != "" {
			// why it was lost, beside the X, where there is room
			sty := textStyle(7, crashColor, false)
			w := sty.Width(lostWhy[i])/2 + 6
			lab.put(&c, sty, lostWhy[i], true, vg.Point{X: pt.X + w, Y: pt.Y + 7}, vg.Point{X: pt.X + w, Y: pt.Y - 7},
				vg.Point{X: pt.X - w, Y: pt.Y + 7}, vg.Point{X: pt.X - w, Y: pt.Y - 7}, vg.Point{X: pt.X + w, Y: pt.Y + 16})
		}
	}

	// the quorums that decided: on the deciding server's lifeline, when its finalizeWait began
	for _, qi := range fr.quorums {
		q := &s.quorums[qi]
		if _, ok := s.row[q.sid]; !ok {
			continue
		}
		pt := vg.Point{X: x(q.at), Y: ty(fr.y(q.sid))}
		green := rgb(0x1b, 0x7a, 0x3a)
		c.DrawGlyph(draw.GlyphStyle{Color: green, Radius: 4.5, Shape: draw.RingGlyph{}}, pt)
		lab.placed = append(lab.placed, glyphRect(pt, 4.5))
		txt := fmt.Sprintf("quorum %s for %d", sidSet(q.sids), q.leader)
		sty := textStyle(7.5, green, true)
		w := sty.Width(txt)/2 + 6
		lab.put(&c, sty, txt, true, vg.Point{X: pt.X + w, Y: pt.Y + unit*bandHalf + 7}, vg.Point{X: pt.X + w, Y: pt.Y - unit*bandHalf - 7},
			vg.Point{X: pt.X - w, Y: pt.Y + unit*bandHalf + 7}, vg.Point{X: pt.X - w, Y: pt.Y - unit*bandHalf - 7})
	}

	// violations, at their time, across the picture
	for _, vi := range fr.violations {
		v := &s.violations[vi]
		xx := x(v.at)
		col := crashColor
		c.StrokeLine2(draw.LineStyle{Color: col, Width: 1.4, Dashes: []vg.Length{4, 2}}, xx, c.Min.Y, xx, c.Max.Y)
		txt := "violation: " + v.check
		if v.expected {
			txt += " (expected)"
		}
		sty := textStyle(8, col, true)
		w := sty.Width(txt)/2 + 4
		var pts []vg.Point
		for yy := c.Max.Y - 26; yy > c.Min.Y+8; yy -= 9 { // left of the line first, then right
			pts = append(pts, vg.Point{X: xx - w, Y: yy}, vg.Point{X: xx + w, Y: yy})
		}
		lab.put(&c, sty, txt, true, pts...)
	}

	// sync decisions: the mode, on the learner's lifeline
	for _, i := range fr.syncs {
		sd := s.syncs[i]
		if _, ok := s.row[sd.d.Learner]; !ok {
			continue
		}
		pt := vg.Point{X: x(sd.at), Y: ty(fr.y(sd.d.Learner))}
		col := classColors[Sync]
		c.DrawGlyph(draw.GlyphStyle{Color: col, Radius: 3.5, Shape: diamondGlyph{}}, pt)
		lab.placed = append(lab.placed, glyphRect(pt, 3.5))
		sty := textStyle(8.5, col, true)
		txt := sd.d.Mode
		w := sty.Width(txt)
		up, down := pt.Y+unit*bandHalf+7, pt.Y-unit*bandHalf-7
		lab.put(&c, sty, txt, true,
			vg.Point{X: pt.X, Y: up}, vg.Point{X: pt.X + w/2 + 4, Y: up}, vg.Point{X: pt.X - w/2 - 4, Y: up},
			vg.Point{X: pt.X, Y: down}, vg.Point{X: pt.X + w/2 + 4, Y: down}, vg.Point{X: pt.X - w/2 - 4, Y: down})
	}

	// message labels last, wherever there is room along the arrow; a message sent to
	// several servers at once (a vote, a PROPOSAL, a COMMIT) is labelled once
	type group struct {
		from int64
		sent sim.Time
		txt  string
	}
	var labelled []group
	for _, a := range pending {
		txt := fr.msgLabel(a.m)
		if txt == "" {
			continue
		}
		g := group{a.m.from, a.m.sent, txt}
		if a.m.class == Election {
			g.sent = 0 // a vote is labelled once per sender: what it votes for, not every copy
		}
		if slices.Contains(labelled, g) {
			continue
		}
		sty := textStyle(7, classColors[a.m.class], false)
		var pts []vg.Point
		for _, t := range []float64{0.5, 0.35, 0.65, 0.2, 0.8} {
			pts = append(pts, vg.Point{X: a.p0.X + (a.p1.X-a.p0.X)*vg.Length(t), Y: a.p0.Y + (a.p1.Y-a.p0.Y)*vg.Length(t)})
		}
		for _, t := range []float64{0.5, 0.35, 0.65} {
			mx, my := a.p0.X+(a.p1.X-a.p0.X)*vg.Length(t), a.p0.Y+(a.p1.Y-a.p0.Y)*vg.Length(t)
			w := sty.Width(txt)/2 + 3
			pts = append(pts, vg.Point{X: mx + w, Y: my}, vg.Point{X: mx - w, Y: my})
		}
		if lab.put(&c, sty, txt, true, pts...) {
			labelled = append(labelled, g)
		}
	}
}

// bandLabels are the labels a band may carry, longest first: the first that fits is used.
func bandLabels(sg segment) []string {
	switch sg.band {
	case bandFollowing, bandLeading, bandObserving:
		st := sg.band.String()
		switch sg.phase {
		case model.PhaseDiscovery:
			return []string{st + " (discovery)", st[:1] + " disc"}
		case model.PhaseSynchronization:
			return []string{st + " (sync)", st[:1] + " sync"}
		}
		e := fmt.Sprint(sg.epoch)
		return []string{st + " epoch " + e, st + " e" + e, st[:1] + " e" + e}
	case bandLooking:
		return []string{"LOOKING"}
	case bandDown:
		return []string{"down"}
	case bandPaused:
		return []string{"paused"}
	}
	return nil
}

// voteLabel is a notification's short text: the vote it carries while its sender looks,
// the leader it follows after.
func voteLabel(d *model.Notification, looking bool) string {
	if d.Leader == math.MinInt64 { // an observer's vote: for nobody
		return "no vote"
	}
	if looking {
		return fmt.Sprintf("vote %d", d.Leader)
	}
	return fmt.Sprintf("leader %d", d.Leader)
}

// msgLabel is the short text of an arrow.
func (fr *frame) msgLabel(m *message) string {
	switch d := m.data.(type) {
	case *model.Notification:
		return voteLabel(d, m.looking)
	case *model.QuorumPacket:
		switch d.Type {
		case model.PROPOSAL, model.COMMIT, model.INFORM, model.TRUNC:
			if fr.f.Zxid == 0 {
				return d.Type.String() + " " + d.Zxid.String()
			}
		case model.ACK:
			if fr.f.Zxid == 0 && d.Zxid.Counter() != 0 {
				return "ACK " + d.Zxid.String()
			}
		}
		return d.Type.String()
	}
	return "" // hellos and pings: the key says what grey arrows are
}

func glyphRect(pt vg.Point, r vg.Length) vg.Rectangle {
	return vg.Rectangle{Min: vg.Point{X: pt.X - r, Y: pt.Y - r}, Max: vg.Point{X: pt.X + r, Y: pt.Y + r}}
}

// arrowHead draws a filled head at p1 pointing away from p0.
func arrowHead(c *draw.Canvas, p0, p1 vg.Point, col color.Color) {
	dx, dy := float64(p1.X-p0.X), float64(p1.Y-p0.Y)
	l := math.Hypot(dx, dy)
	if l == 0 {
		return
	}
	ux, uy := dx/l, dy/l
	const size, half = 6.0, 2.6
	bx, by := float64(p1.X)-ux*size, float64(p1.Y)-uy*size
	c.FillPolygon(col, []vg.Point{
		p1,
		{X: vg.Length(bx - uy*half), Y: vg.Length(by + ux*half)},
		{X: vg.Length(bx + uy*half), Y: vg.Length(by - ux*half)},
	})
}

// diamondGlyph is a filled diamond.
type diamondGlyph struct{}

func (diamondGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius
	c.FillPolygon(sty.Color, []vg.Point{{X: pt.X, Y: pt.Y + r}, {X: pt.X + r, Y: pt.Y}, {X: pt.X, Y: pt.Y - r}, {X: pt.X - r, Y: pt.Y}})
}

// thickCross is a bold X, for crashes.
type thickCross struct{}

func (thickCross) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius
	ls := draw.LineStyle{Color: sty.Color, Width: 2}
	c.StrokeLine2(ls, pt.X-r, pt.Y-r, pt.X+r, pt.Y+r)
	c.StrokeLine2(ls, pt.X-r, pt.Y+r, pt.X+r, pt.Y-r)
}

// widestOutside is the widest part of [x0, x1] outside the breaks.
func widestOutside(x0, x1 vg.Length, gaps [][2]vg.Length) (vg.Length, vg.Length) {
	ba, bb := x0, x0
	a := x0
	for _, g := range gaps {
		if g[1] <= a || g[0] >= x1 {
			continue
		}
		if g[0]-a > bb-ba {
			ba, bb = a, g[0]
		}
		a = max(a, g[1])
	}
	if x1-a > bb-ba {
		ba, bb = a, x1
	}
	return ba, bb
}

// tickGlyph is a short vertical stroke across the band, for a proposal.
type tickGlyph struct{}

func (tickGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.StrokeLine2(draw.LineStyle{Color: sty.Color, Width: 0.5}, pt.X, pt.Y-sty.Radius, pt.X, pt.Y+sty.Radius)
}

// wrap breaks txt into lines no wider than width.
func wrap(sty text.Style, txt string, width vg.Length) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(txt) {
		try := w
		if line != "" {
			try = line + " " + w
		}
		if line != "" && sty.Width(try) > width {
			lines = append(lines, line)
			line = w
			continue
		}
		line = try
	}
	if line != "" {
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// quorumMessages are the notifications that made the quorums drawn: for each, the last
// vote each member of the quorum had delivered to the deciding server by then.
func (fr *frame) quorumMessages() map[int]bool {
	out := map[int]bool{} // looked up, never ranged over
	for _, qi := range fr.quorums {
		q := &fr.s.quorums[qi]
		for _, member := range q.sids {
			best := -1
			for _, i := range fr.msgs {
				m := &fr.s.msgs[i]
				if m.class == Election && m.to == q.sid && m.from == member && !m.dropped && m.done >= 0 && m.done <= q.at {
					if best < 0 || m.done >= fr.s.msgs[best].done {
						best = i
					}
				}
			}
			if best >= 0 {
				out[best] = true
			}
		}
	}
	return out
}

// waitedFor names a quiet stretch [a, t]: a finalizeWait when some server waited for a
// better vote all through it, else the timer that ended it (notTimeout when it resent
// votes, a read timeout...), or "".
func (s *story) waitedFor(a, t sim.Time) string {
	var waiting []string
	for _, q := range s.quorums {
		if !q.decided || q.at > a {
			continue
		}
		for _, d := range s.decisions {
			if d.d.Sid == q.sid && d.at >= t && d.at-q.at < 10*sim.Second {
				if !slices.Contains(waiting, strconv.FormatInt(q.sid, 10)) {
					waiting = append(waiting, strconv.FormatInt(q.sid, 10))
				}
				break
			}
		}
	}
	if len(waiting) > 0 {
		return "finalizeWait (" + strings.Join(waiting, ",") + ")"
	}
	i := s.recordAt(t - sim.Microsecond)
	for ; i < len(s.recs) && s.recs[i].At <= t+2*sim.Millisecond; i++ {
		r := &s.recs[i]
		if r.Kind == sim.RecTimer && r.Data != nil {
			k, err := strconv.Atoi(strings.TrimPrefix(string(r.Data.AppendTo(nil)), "timer "))
			if err != nil {
				continue
			}
			name, _ := model.TimerName(int64(r.Node), k)
			if name == "loopback" || name == "notTimeout" && !s.explainedAt(i, r.Node) {
				continue // a timer whose handler did nothing (a notTimeout while finalizing)
			}
			if name == "notTimeout" {
				name = "notTimeout back-off"
			}
			return name + " of " + s.nodeName(int64(r.Node))
		}
	}
	return ""
}

// explainedAt reports whether the records right after timer record i, of its node at its
// time, include a NotTimeout explanation: the timer did something.
func (s *story) explainedAt(i int, node sim.NodeID) bool {
	for j := i + 1; j < len(s.recs) && s.recs[j].At == s.recs[i].At; j++ {
		if _, ok := s.recs[j].Data.(*model.NotTimeout); ok && s.recs[j].Node == node {
			return true
		}
	}
	return false
}

// pngCanvas is vgimg.PngCanvas with zlib's fastest level: the timelines of long runs are
// large, and the default compression took half of a report's time for a few percent of
// size.
type pngCanvas struct{ *vgimg.Canvas }

func (c pngCanvas) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(cw, c.Image())
	return cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
