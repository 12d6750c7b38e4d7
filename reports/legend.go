package reports

import (
	"image/color"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/zabsim/zabsim/model"
)

// key is the legend under a picture: only what the picture shows.
type key struct {
	entries []keyEntry
}

type swatch uint8

const (
	swBand swatch = iota
	swArrow
	swLost
	swGlyph
	swSpan
	swGap
)

type keyEntry struct {
	sw    swatch
	color color.Color
	glyph draw.GlyphDrawer
	label string
}

const (
	keyRow    = 14
	keySwatch = 20
	keyGap    = 14
	keyMargin = 40
)

var keyText = textStyle(8.5, textColor, false)

func (fr *frame) legend() *key {
	s := fr.s
	k := &key{}
	var seen [len(bandNames)]bool
	paleSeen := false
	for _, segs := range s.segs {
		for _, sg := range segs {
			if sg.to < fr.from || sg.from > fr.to {
				continue
			}
			seen[sg.band] = true
			if sg.phase != model.PhaseBroadcast && (sg.band == bandFollowing || sg.band == bandLeading || sg.band == bandObserving) {
				paleSeen = true
			}
		}
	}
	for b := bandLooking; b <= bandPaused; b++ {
		if seen[b] {
			k.entries = append(k.entries, keyEntry{sw: swBand, color: bandColors[b], label: b.String()})
		}
	}
	if paleSeen {
		k.entries = append(k.entries, keyEntry{sw: swBand, color: pale(bandColors[bandFollowing]), label: "pale: in discovery or sync"})
	}
	var classes Class
	lost := false
	for _, i := range fr.msgs {
		m := &s.msgs[i]
		classes |= m.class
		lost = lost || m.dropped
	}
	for _, cn := range classNames {
		if classes&cn.c != 0 {
			label := cn.name
			switch cn.c {
			case Election:
				label = "election notification (vote N: LOOKING for N, leader N: N leads)"
			case Sync:
				label = "sync (with the txns it carries)"
			case Hellos:
				label = "hello (opens an election connection)"
			}
			k.entries = append(k.entries, keyEntry{sw: swArrow, color: classColors[cn.c], label: label})
		}
	}
	if lost {
		k.entries = append(k.entries, keyEntry{sw: swLost, color: textColor, label: "lost (X where it was sent)"})
	}
	var marks [markProposed + 1]bool
	for _, i := range fr.marks {
		mk := &s.marks[i]
		if mk.kind == markStart && mk.at <= fr.from {
			continue
		}
		marks[mk.kind] = true
	}
	glyphs := []struct {
		kind  markKind
		color color.Color
		glyph draw.GlyphDrawer
		label string
	}{
		{markCrash, crashColor, thickCross{}, "crash"},
		{markStart, textColor, draw.TriangleGlyph{}, "start"},
		{markRestart, textColor, draw.TriangleGlyph{}, "restart"},
		{markLogged, rgb(0x1b, 0x7a, 0x3a), draw.BoxGlyph{}, "logged"},
		{markCommitted, rgb(0x0b, 0x3d, 0x1a), draw.CircleGlyph{}, "committed"},
		{markTruncated, rgb(0x8b, 0x00, 0x00), draw.SquareGlyph{}, "log truncated"},
		{markSnapLoaded, classColors[Sync], draw.RingGlyph{}, "snapshot loaded"},
		{markClog, rgb(0xa0, 0x10, 0x10), draw.RingGlyph{}, "links clogged"},
		{markProposed, proposeColor, tickGlyph{}, "txn proposed (one tick each)"},
	}
	for _, g := range glyphs {
		if marks[g.kind] {
			k.entries = append(k.entries, keyEntry{sw: swGlyph, color: g.color, glyph: g.glyph, label: g.label})
		}
	}
	if len(fr.syncs) > 0 {
		k.entries = append(k.entries, keyEntry{sw: swGlyph, color: classColors[Sync], glyph: diamondGlyph{}, label: "sync decision (mode)"})
	}
	if len(fr.spans) > 0 {
		k.entries = append(k.entries, keyEntry{sw: swSpan, color: partitionColor, label: "partition (cut links)"})
	}
	if len(fr.scale.gaps()) > 0 {
		k.entries = append(k.entries, keyEntry{sw: swGap, color: rgb(0x99, 0x99, 0x99), label: "idle time compressed"})
	}
	return k
}

// rows lays the entries out left to right, wrapping at width.
func (k *key) rows(width vg.Length) [][]keyEntry {
	var rows [][]keyEntry
	var cur []keyEntry
	x := vg.Length(keyMargin)
	for _, e := range k.entries {
		w := keySwatch + 4 + keyText.Width(e.label) + keyGap
		if len(cur) > 0 && x+w > width-keyMargin {
			rows = append(rows, cur)
			cur, x = nil, keyMargin
		}
		cur = append(cur, e)
		x += w
	}
	if len(cur) > 0 {
		rows = append(rows, cur)
	}
	return rows
}

func (k *key) height(width vg.Length) vg.Length {
	n := len(k.rows(width))
	if n == 0 {
		return 4
	}
	return vg.Length(n*keyRow) + 10
}

func (k *key) draw(c draw.Canvas) {
	width := c.Max.X - c.Min.X
	y := c.Max.Y - keyRow/2 - 2
	for _, row := range k.rows(width) {
		x := c.Min.X + keyMargin
		for _, e := range row {
			mid := vg.Point{X: x + keySwatch/2, Y: y}
			switch e.sw {
			case swBand:
				c.FillPolygon(e.color, rectPts(vg.Rectangle{Min: vg.Point{X: x, Y: y - 4}, Max: vg.Point{X: x + keySwatch, Y: y + 4}}))
			case swArrow:
				c.StrokeLine2(draw.LineStyle{Color: e.color, Width: 1.2}, x, y, x+keySwatch, y)
				arrowHead(&c, vg.Point{X: x, Y: y}, vg.Point{X: x + keySwatch, Y: y}, e.color)
			case swLost:
				c.StrokeLine2(draw.LineStyle{Color: e.color, Width: 1, Dashes: []vg.Length{3, 2.5}}, x, y, x+keySwatch, y)
				c.DrawGlyph(draw.GlyphStyle{Color: crashColor, Radius: 3.5, Shape: draw.CrossGlyph{}}, vg.Point{X: x, Y: y})
			case swGlyph:
				c.DrawGlyph(draw.GlyphStyle{Color: e.color, Radius: 3.5, Shape: e.glyph}, mid)
			case swSpan:
				r := vg.Rectangle{Min: vg.Point{X: x, Y: y - 5}, Max: vg.Point{X: x + keySwatch, Y: y + 5}}
				c.FillPolygon(e.color, rectPts(r))
				c.StrokeLines(draw.LineStyle{Color: rgb(0xd6, 0x27, 0x28), Width: 0.6, Dashes: []vg.Length{3, 2}}, append(rectPts(r), r.Min))
			case swGap:
				ls := draw.LineStyle{Color: e.color, Width: 0.7}
				c.StrokeLine2(ls, x+4, y-5, x+4, y+5)
				c.StrokeLine2(ls, x+keySwatch-4, y-5, x+keySwatch-4, y+5)
			}
			sty := keyText
			sty.XAlign = draw.XLeft
			c.FillText(sty, vg.Point{X: x + keySwatch + 4, Y: y}, e.label)
			x += keySwatch + 4 + keyText.Width(e.label) + keyGap
		}
		y -= keyRow
	}
}
