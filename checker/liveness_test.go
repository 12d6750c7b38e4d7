package checker

import (
	"slices"
	"testing"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

func TestLivenessBoundFormula(t *testing.T) {
	if got, want := LivenessBound(Options{Voters: 3}), 243800*sim.Millisecond; got != want {
		t.Fatalf("sample config, 3 voters: %s, want %s", got, want)
	}
	o := Options{Voters: 5, Observers: 1, TickTime: sim.Second, InitLimit: 4, SyncLimit: 2, MaxNotificationInterval: 10 * sim.Second}
	// detect 4s+0.2s, elect 10s+5s+7*0.2s+1s = 17.4s (twice), establish 12s, catch-up 6s
	if got, want := LivenessBound(o), 57*sim.Second; got != want {
		t.Fatalf("small config: %s, want %s", got, want)
	}
	o.LivenessBound = 3 * sim.Second
	if got := LivenessBound(o); got != 3*sim.Second {
		t.Fatalf("override: %s", got)
	}
}

func liveOpts() Options { return Options{Voters: 3, Liveness: true} }

// settled: 1 leads epoch 1 and has committed t11, 2 and 3 follow it with t11 delivered.
func settled(b *trace) {
	leaderOneCommits(b, t11)
	for _, f := range []int64{2, 3} {
		b.add(sim.RecSend, f, 1, &model.QuorumPacket{Type: model.ACK, Zxid: model.MakeZxid(1, 0)})
		b.state(f, model.FOLLOWING, model.PhaseBroadcast, 1)
		b.commit(f, t11)
	}
}

func (b *trace) until(at sim.Time) {
	b.at = at
	b.model(1, &model.Note{Sid: 1, Text: "still here"})
}

func TestLivenessHandBuilt(t *testing.T) {
	late := LivenessBound(liveOpts()) + sim.Minute
	t.Run("no leader ever", func(t *testing.T) {
		b := &trace{}
		b.start(1, 2, 3)
		b.until(late)
		v := mustFind(t, b.check(liveOpts()), CheckLiveness, "no leader was active")
		if v.At != LivenessBound(liveOpts()) || !slices.Equal(v.Records, []int{4}) {
			t.Fatalf("violation at %s with records %v, want at the bound and the last start", v.At, v.Records)
		}
	})
	t.Run("a follower never delivers", func(t *testing.T) {
		b := &trace{}
		b.start(1, 2, 3)
		settled(b)
		b.propose(1, t12)
		b.commit(1, t12)
		b.commit(2, t12)
		b.until(late)
		mustFind(t, b.check(liveOpts()), CheckLiveness, "server 3", "only up to 0x100000001", "ending at 0x100000002")
	})
	t.Run("a server stays LOOKING", func(t *testing.T) {
		b := &trace{}
		b.start(1, 2, 3)
		settled(b)
		b.state(3, model.LOOKING, model.PhaseElection, 1)
		b.until(late)
		mustFind(t, b.check(liveOpts()), CheckLiveness, "server 3 was LOOKING in ELECTION")
	})
	t.Run("a server refuses to start, once reported", func(t *testing.T) {
		b := &trace{}
		b.start(1, 2, 3)
		settled(b)
		b.model(3, &model.StartRefused{Sid: 3, Reason: "The current epoch, 0, is older than the last zxid, 4294967300"})
		b.model(3, &model.StartRefused{Sid: 3, Reason: "The current epoch, 0, is older than the last zxid, 4294967300"})
		vs := b.check(liveOpts())
		mustFind(t, vs, CheckLiveness, "server 3 cannot start", "older than the last zxid")
		if len(vs) != 1 {
			t.Fatalf("want one violation, got %v", vs)
		}
	})
	t.Run("settled in time", func(t *testing.T) {
		b := &trace{}
		b.start(1, 2, 3)
		settled(b)
		b.until(late)
		if vs := b.check(liveOpts()); len(vs) > 0 {
			t.Fatalf("want none:\n%s", vsText(vs))
		}
	})
	t.Run("settled, but too late", func(t *testing.T) {
		b := &trace{}
		b.start(1, 2, 3)
		b.at = LivenessBound(liveOpts()) + sim.Second
		settled(b)
		b.until(late)
		mustFind(t, b.check(liveOpts()), CheckLiveness, "no leader was active")
	})
	t.Run("no quorum up: no verdict", func(t *testing.T) {
		b := &trace{}
		b.start(1, 2, 3)
		b.add(sim.RecCrash, 2, -1, nil)
		b.add(sim.RecCrash, 3, -1, nil)
		b.until(late)
		if vs := b.check(liveOpts()); len(vs) > 0 {
			t.Fatalf("want none:\n%s", vsText(vs))
		}
	})
	t.Run("a partition still in force: no verdict", func(t *testing.T) {
		b := &trace{}
		b.start(1, 2, 3)
		b.add(sim.RecPartition, -1, -1, nil)
		b.until(late)
		if vs := b.check(liveOpts()); len(vs) > 0 {
			t.Fatalf("want none:\n%s", vsText(vs))
		}
		b.add(sim.RecHeal, -1, -1, nil)
		b.until(2 * late)
		mustFind(t, b.check(liveOpts()), CheckLiveness)
	})
	t.Run("the run ends before the deadline: no verdict", func(t *testing.T) {
		b := &trace{}
		b.start(1, 2, 3)
		b.until(sim.Minute)
		if vs := b.check(liveOpts()); len(vs) > 0 {
			t.Fatalf("want none:\n%s", vsText(vs))
		}
	})
	t.Run("QuietFrom later than the last fault", func(t *testing.T) {
		b := &trace{}
		b.start(1, 2, 3)
		b.until(late)
		o := liveOpts()
		o.QuietFrom = sim.Minute
		v := mustFind(t, b.check(o), CheckLiveness)
		if v.At != sim.Minute+LivenessBound(o) {
			t.Fatalf("deadline %s, want QuietFrom + bound", v.At)
		}
	})
}

// A real run: the old leader restarts after a crash and rejoins well within the bound. With
// the bound overridden to 10ms the same run fails, and so do mutations of its trace in which
// the restarted server never follows or never catches up.
func TestLivenessRealRun(t *testing.T) {
	r := newRun(t, 3, model.Config{Servers: 3})
	r.e.StartAll()
	l := r.mustStable(30 * sim.Second)
	r.write(1, 3)
	old := l.Sid()
	r.crash(old)
	r.mustStable(60 * sim.Second)
	r.write(1, 3)
	r.restart(old)
	restartAt := r.w.Now()
	r.w.RunFor(LivenessBound(r.opts) + 10*sim.Second)
	r.mustPass()
	if !r.c.live.satisfied || r.c.live.at-restartAt > 5*sim.Second {
		t.Fatalf("liveness held at %s, restart at %s", r.c.live.at, restartAt)
	}
	recs := r.w.Trace().Records()

	o := r.opts
	o.LivenessBound = 10 * sim.Millisecond
	mustFind(t, Check(recs, o), CheckLiveness)

	drop := func(keep func(i int, rec *sim.Record) bool) []sim.Record {
		var out []sim.Record
		for i := range recs {
			if keep(i, &recs[i]) {
				out = append(out, recs[i])
			}
		}
		return out
	}
	afterRestart := func(rec *sim.Record) bool { return rec.At > restartAt }
	noStates := drop(func(i int, rec *sim.Record) bool {
		sc, ok := rec.Data.(*model.StateChange)
		return !(ok && sc.Sid == old && afterRestart(rec) && sc.State != model.LOOKING)
	})
	mustFind(t, Check(noStates, r.opts), CheckLiveness, "was LOOKING in ELECTION")

	noCommits := drop(func(i int, rec *sim.Record) bool {
		c, ok := rec.Data.(*model.Committed)
		ld, ok2 := rec.Data.(*model.Loaded)
		return !(ok && c.Sid == old && afterRestart(rec)) && !(ok2 && ld.Sid == old && ld.From != "disk" && afterRestart(rec))
	})
	// The restarted server loaded 3 txns from disk and got 3 more by DIFF: without those
	// commits it stays at the first 3.
	mustFind(t, Check(noCommits, r.opts), CheckLiveness, "server", "delivered only up to 0x100000004")
}
