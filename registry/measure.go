package registry

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zabsim/zabsim/sim"
)

// Fault is a partition of a run, for the per-side figures.
type Fault struct {
	Kind       string
	Start, End sim.Time
	Open       bool // still cut at the end of the run
	Sides      [][]sim.NodeID
}

// Side is what the clients on one side of a partition got while it lasted.
type Side struct {
	Nodes            []sim.NodeID
	RegOK, RegCalls  int // register and deregister calls answered OK before the heal
	QryOK, QryCalls  int // direct queries answered
	StaleOK, Answers int
}

// Dead is an instance whose process died (a host loss, no deregistration).
type Dead struct {
	Instance   string
	DiedAt     sim.Time
	LastServed sim.Time // the last answer or view that still held it (DiedAt: none)
	StillAtEnd bool
}

// Point is one answered query, for the picture.
type Point struct {
	At    sim.Time
	Side  int // index into Metrics.Sides, -1 outside any
	Count int
	Stale bool
}

// Metrics are one registry's figures for one run: what the comparison table shows.
type Metrics struct {
	Kind     Kind
	End      sim.Time
	Fault    *Fault
	Sides    []Side
	Stale    int // query answers that miss an acknowledged live registration or hold an acknowledged deregistration
	Answers  int
	HealAt   sim.Time
	Converge sim.Time // after the heal, until every running server holds the same set with every live instance; -1: never
	Dead     []Dead
	Removed  []string // live, registered instances some server removed on its own
	Points   []Point
	Truth    []Point // live registered instances over time
}

type instState struct {
	owner     int64
	acked     bool
	gone      bool // deregister called
	goneAcked bool
	diedAt    sim.Time
	dead      bool
	served    sim.Time
}

// Measure computes the figures from a run's records: the registry's own records (Call,
// Return, View, Holds) and the engine's crashes and restarts. servers is the number of
// registry servers (node ids 1..servers).
func Measure(kind Kind, recs []sim.Record, faults []Fault, servers int, end sim.Time) *Metrics {
	m := &Metrics{Kind: kind, End: end, Converge: -1, HealAt: -1}
	for i := range faults {
		if faults[i].Kind == "partition" {
			m.Fault = &faults[i]
			m.HealAt = faults[i].End
			if faults[i].Open {
				m.HealAt = -1
			}
			for _, s := range faults[i].Sides {
				m.Sides = append(m.Sides, Side{Nodes: s})
			}
			break
		}
	}
	sideOf := func(n int64) int {
		for i, s := range m.Sides {
			if slices.Contains(s.Nodes, sim.NodeID(n)) {
				return i
			}
		}
		return -1
	}
	inWindow := func(t sim.Time) bool { return m.Fault != nil && t >= m.Fault.Start && t < m.Fault.End }
	inst := map[string]*instState{}
	alive := map[int64]bool{}    // client processes
	upServer := map[int64]bool{} // registry servers
	holds := map[int64][]string{}
	views := map[int64][]string{}
	callAt := map[[2]int64]sim.Time{}
	removed := map[string]bool{}
	live := func(i string) bool {
		s := inst[i]
		return s != nil && s.acked && !s.gone && alive[s.owner]
	}
	liveSet := func() []string {
		var out []string
		for _, k := range sortedKeys(inst) {
			if live(k) {
				out = append(out, k)
			}
		}
		return out
	}
	converged := func() bool {
		want := liveSet()
		var first []string
		seen := false
		for sid := int64(1); sid <= int64(servers); sid++ {
			if !upServer[sid] {
				continue
			}
			h := holds[sid]
			if !seen {
				first, seen = h, true
			} else if !slices.Equal(h, first) {
				return false
			}
			for _, w := range want {
				if !slices.Contains(h, w) {
					return false
				}
			}
		}
		return seen
	}
	markServed := func(list []string, t sim.Time) {
		for _, i := range list {
			if s := inst[i]; s != nil && s.dead && t > s.served {
				s.served = t
			}
		}
	}
	var since sim.Time = -1 // converged since (after the heal)
	lastTruth := -1
	for ri := range recs {
		r := &recs[ri]
		t := r.At
		node := int64(r.Node)
		// a view holds its instances until it changes: served up to now
		for _, c := range sortedIntKeys(views) {
			markServed(views[c], t)
		}
		switch r.Kind {
		case sim.RecStart, sim.RecRestart:
			if node <= int64(servers) {
				upServer[node] = true
			} else {
				alive[node] = true
				for _, k := range sortedKeys(inst) {
					if inst[k].owner == node {
						inst[k].dead = false
					}
				}
			}
		case sim.RecCrash:
			if node <= int64(servers) {
				upServer[node] = false
			} else {
				alive[node] = false
				delete(views, node)
				for _, k := range sortedKeys(inst) {
					if s := inst[k]; s.owner == node && !s.gone {
						s.dead, s.diedAt, s.served = true, t, t
					}
				}
			}
		}
		switch x := r.Data.(type) {
		case *Call:
			callAt[[2]int64{x.Client, x.Seq}] = t
			if x.Op == "register" {
				if inst[x.Instance] == nil {
					inst[x.Instance] = &instState{}
				}
				inst[x.Instance].owner = x.Client
			}
			if x.Op == "deregister" && inst[x.Instance] != nil {
				inst[x.Instance].gone = true
			}
			if inWindow(t) && x.Op != "query" {
				if s := sideOf(x.Client); s >= 0 {
					m.Sides[s].RegCalls++
				}
			}
			if inWindow(t) && x.Op == "query" {
				if s := sideOf(x.Client); s >= 0 {
					m.Sides[s].QryCalls++
				}
			}
		case *Return:
			called := callAt[[2]int64{x.Client, x.Seq}]
			if x.OK && inWindow(called) && t < m.Fault.End {
				if s := sideOf(x.Client); s >= 0 {
					if x.Op == "query" {
						m.Sides[s].QryOK++
					} else {
						m.Sides[s].RegOK++
					}
				}
			}
			switch x.Op {
			case "register":
				if s := inst[x.Instance]; s != nil && x.OK && !s.gone {
					s.acked = true
				}
			case "deregister":
				if s := inst[x.Instance]; s != nil && x.OK {
					s.goneAcked = true
				}
			case "query":
				if !x.OK {
					break
				}
				m.Answers++
				stale := false
				for _, i := range x.Answer {
					if s := inst[i]; s != nil && s.goneAcked {
						stale = true
					}
				}
				for _, k := range sortedKeys(inst) {
					if s := inst[k]; live(k) && s.acked && !slices.Contains(x.Answer, k) && s.acked {
						stale = true
					}
				}
				markServed(x.Answer, t)
				side := sideOf(x.Client)
				if stale {
					m.Stale++
					if inWindow(called) && side >= 0 {
						m.Sides[side].StaleOK++
					}
				}
				if inWindow(called) && side >= 0 {
					m.Sides[side].Answers++
				}
				m.Points = append(m.Points, Point{At: t, Side: side, Count: len(x.Answer), Stale: stale})
			}
		case *View:
			views[x.Client] = x.Instances
		case *Holds:
			old := holds[x.Server]
			if x.Why != "down" {
				for _, i := range old {
					if !slices.Contains(x.Instances, i) && live(i) {
						removed[i] = true
					}
				}
			}
			holds[x.Server] = x.Instances
		}
		if n := len(liveSet()); n != lastTruth {
			m.Truth = append(m.Truth, Point{At: t, Count: n})
			lastTruth = n
		}
		if m.HealAt >= 0 && t >= m.HealAt {
			if converged() {
				if since < 0 {
					since = t
				}
			} else {
				since = -1
			}
		}
	}
	for _, c := range sortedIntKeys(views) {
		markServed(views[c], end)
	}
	if m.HealAt >= 0 && since >= 0 {
		m.Converge = since - m.HealAt
	}
	for _, k := range sortedKeys(inst) {
		if s := inst[k]; s.dead {
			m.Dead = append(m.Dead, Dead{Instance: k, DiedAt: s.diedAt, LastServed: s.served, StillAtEnd: s.served >= end})
		}
	}
	m.Removed = sortedKeys(removed)
	return m
}

func sortedIntKeys[V any](m map[int64]V) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Header is the comparison table's header (Markdown).
const Header = "| registry | register A | register B | discover A | discover B | stale answers | converged after heal | dead instance served | live wrongly removed |\n|---|---|---|---|---|---|---|---|---|\n"

func frac(ok, all int) string {
	if all == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", ok, all)
}

// Row is the metrics as a row of the comparison table.
func (m *Metrics) Row() string {
	cell := make([]string, 4)
	for i := range cell {
		cell[i] = "-"
	}
	for i, s := range m.Sides {
		if i < 2 {
			cell[i] = frac(s.RegOK, s.RegCalls)
			cell[2+i] = frac(s.QryOK, s.QryCalls)
		}
	}
	conv := "never"
	switch {
	case m.HealAt < 0:
		conv = "no heal"
	case m.Converge >= 0:
		conv = fmtSecs(m.Converge)
	}
	dead := "-"
	if len(m.Dead) > 0 {
		var parts []string
		for _, d := range m.Dead {
			s := fmtSecs(d.LastServed - d.DiedAt)
			if d.StillAtEnd {
				s = ">=" + s + " (to the end)"
			}
			parts = append(parts, d.Instance+" "+s)
		}
		dead = strings.Join(parts, ", ")
	}
	rem := fmt.Sprint(len(m.Removed))
	if len(m.Removed) > 0 {
		rem += " (" + strings.Join(m.Removed, ",") + ")"
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", m.Kind, cell[0], cell[1], cell[2], cell[3],
		frac(m.Stale, m.Answers), conv, dead, rem)
}

func fmtSecs(t sim.Time) string { return fmt.Sprintf("%.1fs", t.Seconds()) }
