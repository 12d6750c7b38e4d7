package reports

import (
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"

	"github.com/zabsim/zabsim/sim"
)

// timeScale maps virtual time (in seconds) to the picture's horizontal axis. It is
// linear, except that a few long idle stretches may be compressed into breaks of a
// fixed width: a picture of an election shows milliseconds of notifications, a 200 ms
// finalize wait, then milliseconds of discovery, and all three must be readable.
type timeScale struct {
	pieces []piece
}

// piece is a stretch of the axis: times [a, b] drawn on [va, vb] of [0, 1].
type piece struct {
	a, b   float64
	va, vb float64
	gap    bool
}

const (
	gapWidth    = 0.055 // of the axis, per break, when there are few
	maxGapShare = 0.35  // of the axis, for all breaks together
	maxGaps     = 12
)

// newTimeScale builds the scale of [from, to]. busy are the moments something is drawn;
// a stretch with nothing in it longer than minGap (and than a tenth of the window)
// becomes a break, the longest ones first.
func newTimeScale(from, to sim.Time, busy []sim.Time, minGap sim.Time, linear bool) *timeScale {
	a, b := from.Seconds(), to.Seconds()
	if linear || minGap <= 0 {
		return &timeScale{pieces: []piece{{a: a, b: b, va: 0, vb: 1}}}
	}
	times := []sim.Time{from}
	for _, t := range busy {
		if t > from && t < to {
			times = append(times, t)
		}
	}
	times = append(times, to)
	slices.Sort(times)
	type gap struct{ a, b sim.Time }
	var gaps []gap
	for i := 1; i < len(times); i++ {
		d := times[i] - times[i-1]
		if d > minGap && d > (to-from)/50 {
			// leave a margin of quiet time on both sides of the break
			m := minGap / 20
			gaps = append(gaps, gap{times[i-1] + m, times[i] - m})
		}
	}
	slices.SortStableFunc(gaps, func(x, y gap) int { return cmpTime(y.b-y.a, x.b-x.a) })
	gaps = gaps[:min(len(gaps), maxGaps)]
	slices.SortFunc(gaps, func(x, y gap) int { return cmpTime(x.a, y.a) })
	if len(gaps) == 0 {
		return &timeScale{pieces: []piece{{a: a, b: b, va: 0, vb: 1}}}
	}
	var linearLen float64 = b - a
	for _, g := range gaps {
		linearLen -= g.b.Seconds() - g.a.Seconds()
	}
	gw := min(gapWidth, maxGapShare/float64(len(gaps)))
	k := (1 - gw*float64(len(gaps))) / linearLen
	ts := &timeScale{}
	t, v := a, 0.0
	for _, g := range gaps {
		ga, gb := g.a.Seconds(), g.b.Seconds()
		ts.pieces = append(ts.pieces, piece{a: t, b: ga, va: v, vb: v + (ga-t)*k})
		v += (ga - t) * k
		ts.pieces = append(ts.pieces, piece{a: ga, b: gb, va: v, vb: v + gw, gap: true})
		v += gw
		t = gb
	}
	ts.pieces = append(ts.pieces, piece{a: t, b: b, va: v, vb: 1})
	return ts
}

// Normalize implements plot.Normalizer. The axis range is the scale's own.
func (ts *timeScale) Normalize(_, _, x float64) float64 {
	ps := ts.pieces
	p := ps[0]
	for _, q := range ps {
		if x >= q.a {
			p = q
		}
	}
	if p.b == p.a {
		return p.va
	}
	return p.va + (x-p.a)*(p.vb-p.va)/(p.b-p.a)
}

// gaps returns the breaks.
func (ts *timeScale) gaps() []piece {
	var out []piece
	for _, p := range ts.pieces {
		if p.gap {
			out = append(out, p)
		}
	}
	return out
}

// Ticks implements plot.Ticker: round times in every linear piece, labelled in seconds
// with as many decimals as the step needs.
func (ts *timeScale) Ticks(_, _ float64) []plot.Tick {
	var out []plot.Tick
	for i, p := range ts.pieces {
		if p.gap {
			continue
		}
		w := p.vb - p.va
		if w < 0.03 {
			continue
		}
		n := max(2, int(math.Round(w*12)))
		step := niceStep((p.b - p.a) / float64(n))
		dec := max(0, int(math.Ceil(-math.Log10(step)-1e-9)))
		// keep tick labels clear of the breaks on either side
		lo, hi := p.a, p.b
		margin := 0.02 * (p.b - p.a) / w
		if i > 0 {
			lo += margin
		}
		if i < len(ts.pieces)-1 {
			hi -= margin
		}
		for t := math.Ceil(lo/step-1e-9) * step; t <= hi+step*1e-9; t += step {
			v := math.Round(t/step) * step
			if v == 0 {
				v = 0 // not -0
			}
			out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', dec, 64)})
		}
	}
	return out
}

// niceStep rounds x up to 1, 2 or 5 times a power of ten.
func niceStep(x float64) float64 {
	if x <= 0 {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(x)))
	switch f := x / e; {
	case f <= 1:
		return e
	case f <= 2:
		return 2 * e
	case f <= 5:
		return 5 * e
	}
	return 10 * e
}

// fmtDur prints a duration for a picture: "0.35 ms", "196 ms", "9.4 s".
func fmtDur(d sim.Time) string {
	switch {
	case d < sim.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(sim.Millisecond), 'f', 2, 64) + " ms"
	case d < 10*sim.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(sim.Millisecond), 'f', 1, 64) + " ms"
	case d < sim.Second:
		return strconv.FormatFloat(float64(d)/float64(sim.Millisecond), 'f', 0, 64) + " ms"
	case d < 10*sim.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
}

// fmtAt prints a moment of the run in seconds with millisecond precision.
func fmtAt(t sim.Time) string {
	return strconv.FormatFloat(t.Seconds(), 'f', 3, 64) + "s"
}
