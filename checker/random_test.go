package checker

import (
	"math/rand/v2"
	"testing"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// randomFaults runs a 3- or 5-server ensemble through a random schedule of crashes,
// restarts, partitions and heals with writes in between, then heals everything, restarts
// every server and lets it settle for longer than the liveness bound.
func randomFaults(t *testing.T, seed uint64, steps int) *run {
	rng := rand.New(rand.NewPCG(seed, 99))
	n := 3 + 2*rng.IntN(2)
	cfg := model.Config{Servers: n, SnapCount: 4 + rng.IntN(40)}
	policy := []sim.DiskPolicy{sim.LoseUnsynced, sim.KeepAll, sim.TearLastRecord}[rng.IntN(3)]
	r := newRunWorld(t, sim.Config{Seed: seed, CrashDisk: policy}, cfg)
	r.e.StartAll()
	r.w.RunFor(5 * sim.Second)
	for k := 0; k < steps; k++ {
		sid := int64(1 + rng.IntN(n))
		s := r.e.Server(sid)
		switch rng.IntN(6) {
		case 0:
			if s.Up() {
				r.crash(sid)
			} else {
				r.restart(sid)
			}
		case 1:
			if l := r.e.Leader(); l != nil && rng.IntN(2) == 0 {
				r.crash(l.Sid())
			}
		case 2:
			var others []int64
			for o := int64(1); o <= int64(n); o++ {
				if o != sid {
					others = append(others, o)
				}
			}
			r.w.Partition(ids(sid), ids(others...), rng.IntN(2) == 0)
		case 3:
			r.w.HealAll()
		default:
			for w := rng.IntN(8); w >= 0; w-- {
				via := int64(1 + rng.IntN(n))
				if l := r.e.Leader(); l != nil && rng.IntN(2) == 0 {
					via = l.Sid()
				}
				if r.e.Server(via).Serving() {
					r.e.Write(via)
				}
				r.w.RunFor(sim.Time(rng.IntN(30)) * sim.Millisecond)
			}
		}
		r.w.RunFor(sim.Time(rng.IntN(3000)) * sim.Millisecond)
	}
	r.w.HealAll()
	for sid := int64(1); sid <= int64(n); sid++ {
		if !r.e.Server(sid).Up() {
			r.restart(sid)
		}
	}
	r.w.RunFor(LivenessBound(r.opts) + sim.Second)
	return r
}

// Random fault schedules on a correct model: no check may fire, liveness included (seed 28
// once found a half-open connection after a heal; the sim's heal now resets it).
func TestRandomFaultSchedulesPass(t *testing.T) {
	seeds := 40
	if testing.Short() {
		seeds = 8
	}
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		r := randomFaults(t, seed, 40)
		for _, v := range r.finish() {
			t.Errorf("seed %d: %s", seed, v)
		}
	}
}
