package checker

import (
	"testing"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// The checker's ghost state must follow the run: after every kind of load (boot from
// snapshot and log, fast-forward, TRUNC, SNAP) each server's rebuilt data ends where the
// server's own lastProcessedZxid is, and with the ensemble settled every server's data is G.
func TestGhostStateFollowsTheModel(t *testing.T) {
	r := newRunWorld(t, sim.Config{Seed: 11}, model.Config{Servers: 3, SnapCount: 6})
	lostProposal(t, r) // 3 holds a txn nobody else has...
	r.write(2, 7)      // ...and the new epoch has commits: 3 will get a cross-epoch SNAP
	r.restart(3)
	r.settle()
	r.write(3, 9)
	for sid := int64(1); sid <= 3; sid++ { // everyone reboots from snapshot + log
		r.crash(sid)
		r.restart(sid)
		r.mustStable(60 * sim.Second)
		r.write(1, 3)
	}
	r.w.RunFor(sim.Second)
	r.mustPass()

	c := r.c
	l := r.e.Leader()
	if c.g.n() < 20 {
		t.Fatalf("G holds %d txns, want at least 20", c.g.n())
	}
	if got, want := c.g.last(), l.LastProcessedZxid(); got != want {
		t.Fatalf("G ends at %s, the leader's data at %s", got, want)
	}
	for _, s := range r.e.Servers {
		gs := c.srv[s.Sid()]
		if gs.a != c.g.n() || !agree(&gs.h, &c.g.history, c.g.n()) {
			t.Errorf("server %d: ghost data %d txns ending %s, G %d txns", s.Sid(), gs.a, gs.h.zx[gs.a-1], c.g.n())
		}
		if got := gs.h.zx[gs.a-1]; got != s.LastProcessedZxid() {
			t.Errorf("server %d: ghost data ends at %s, the server's at %s", s.Sid(), got, s.LastProcessedZxid())
		}
	}
	// the SNAP-synced server's loads after it did not take its log at its word
	loads, snaps, syncs := 0, 0, 0
	for _, rec := range r.w.Trace().Records() {
		switch d := rec.Data.(type) {
		case *model.Loaded:
			loads++
			if d.From == "snap" {
				snaps++
			}
		case *model.SyncDecided:
			syncs++
		}
	}
	if snaps == 0 || syncs < 6 || loads < 10 {
		t.Fatalf("run too tame: %d loads, %d SNAP loads, %d syncs", loads, snaps, syncs)
	}
}
