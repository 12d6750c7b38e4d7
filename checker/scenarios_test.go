package checker

import (
	"strconv"
	"strings"
	"testing"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// The model's scenario set (model/scenario_test.go, model/recovery_test.go), rebuilt with the
// exported API, each checked online (and offline, by finish) with liveness on: a correct
// ZooKeeper 3.8 must give no violation in any of them.

// settle runs long enough past the last fault that liveness is judged, not just begun.
func (r *run) settle() {
	r.t.Helper()
	r.mustStable(120 * sim.Second)
	r.w.RunFor(2 * sim.Second)
}

func TestScenarioFiveServersStartedOneAtATime(t *testing.T) {
	r := newRun(t, 7, model.Config{Servers: 5})
	for sid := int64(1); sid <= 5; sid++ {
		if err := r.w.Start(sim.NodeID(sid)); err != nil {
			t.Fatal(err)
		}
		r.w.RunFor(3 * sim.Second)
	}
	r.mustStable(30 * sim.Second)
	r.write(4, 5)
	r.settle()
	r.mustPass()

	r2 := newRun(t, 7, model.Config{Servers: 5})
	r2.e.StartAll()
	r2.mustStable(30 * sim.Second)
	r2.write(1, 3)
	r2.settle()
	r2.mustPass()
}

func TestScenarioLeaderCrashReelection(t *testing.T) {
	t.Run("equal zxids", func(t *testing.T) {
		r := newRun(t, 3, model.Config{Servers: 3})
		r.e.StartAll()
		l := r.mustStable(30 * sim.Second)
		r.write(1, 3)
		r.crash(l.Sid())
		r.mustStable(60 * sim.Second)
		r.write(1, 2)
		r.restart(l.Sid())
		r.settle()
		r.mustPass()
	})
	t.Run("lagging higher sid loses", func(t *testing.T) {
		r := newRun(t, 4, model.Config{Servers: 3})
		r.e.StartAll()
		r.mustStable(30 * sim.Second)
		r.write(1, 2)
		r.crash(2)
		r.write(1, 3)
		r.crash(3)
		r.restart(2)
		r.mustStable(60 * sim.Second)
		r.write(1, 2)
		r.restart(3)
		r.settle()
		r.mustPass()
	})
}

func TestScenarioEmptyServerJoiningLateGetsSnap(t *testing.T) {
	r := newRun(t, 4, model.Config{Servers: 3})
	r.w.Start(1)
	r.w.Start(3)
	l := r.mustStable(30 * sim.Second)
	r.write(l.Sid(), 1)
	r.w.Start(2)
	r.settle()
	if d, _ := lastOf(r.w, func(d *model.SyncDecided) bool { return d.Learner == 2 }); d == nil || d.Mode != "SNAP" {
		t.Fatalf("sync of 2 = %+v, want SNAP", d)
	}
	r.mustPass()
}

func TestScenarioFollowerRestartGetsDiff(t *testing.T) {
	r := newRun(t, 5, model.Config{Servers: 3})
	r.e.StartAll()
	l := r.mustStable(30 * sim.Second)
	r.write(l.Sid(), 2)
	f := int64(1)
	if l.Sid() == 1 {
		f = 2
	}
	r.crash(f)
	r.write(l.Sid(), 20)
	r.restart(f)
	r.settle()
	if d, _ := lastOf(r.w, func(d *model.SyncDecided) bool { return d.Learner == f }); d == nil || d.Mode != "DIFF" {
		t.Fatalf("sync of %d = %+v, want DIFF", f, d)
	}
	r.mustPass()
}

// lostProposal: leader 3 logs a proposal nobody receives, then crashes; 1 and 2 elect 2.
func lostProposal(t *testing.T, r *run) model.Zxid {
	t.Helper()
	r.e.StartAll()
	if l := r.mustStable(30 * sim.Second); l.Sid() != 3 {
		t.Fatalf("leader = %d, want 3", l.Sid())
	}
	r.write(1, 2)
	if err := r.w.Partition(ids(3), ids(1, 2), true); err != nil {
		t.Fatal(err)
	}
	r.e.Write(3)
	r.w.RunFor(100 * sim.Millisecond)
	p, _ := lastOf(r.w, func(p *model.Proposed) bool { return p.Sid == 3 })
	if p == nil {
		t.Fatal("leader 3 proposed nothing")
	}
	r.crash(3)
	if l := r.mustStable(60 * sim.Second); l.Sid() != 2 {
		t.Fatalf("new leader = %d, want 2", l.Sid())
	}
	r.w.HealAll()
	return p.Txn.Zxid
}

func TestScenarioOldLeaderProposalTrunc(t *testing.T) {
	r := newRun(t, 11, model.Config{Servers: 3})
	lost := lostProposal(t, r)
	r.restart(3)
	r.settle()
	d, _ := lastOf(r.w, func(d *model.SyncDecided) bool { return d.Learner == 3 })
	if d == nil || d.Mode != "TRUNC" || d.PeerLastZxid != lost {
		t.Fatalf("sync of 3 = %+v, want TRUNC of %s", d, lost)
	}
	if tr, _ := lastOf(r.w, func(tr *model.Truncated) bool { return tr.Sid == 3 }); tr == nil || tr.Removed == 0 {
		t.Fatalf("server 3 truncated nothing: %+v", tr)
	}
	r.mustPass()
}

func TestScenarioOldLeaderProposalCrossEpochSnap(t *testing.T) {
	r := newRun(t, 11, model.Config{Servers: 3})
	lostProposal(t, r)
	r.write(2, 2)
	r.restart(3)
	r.settle()
	if d, _ := lastOf(r.w, func(d *model.SyncDecided) bool { return d.Learner == 3 }); d == nil || d.Mode != "SNAP" {
		t.Fatalf("sync of 3 = %+v, want SNAP", d)
	}
	// and the SNAP-synced server restarts from its NEWLEADER snapshot, its old log still
	// holding the lost proposal below the snapshot
	r.write(2, 3)
	r.crash(3)
	r.restart(3)
	r.settle()
	r.write(3, 2)
	r.w.RunFor(sim.Second)
	r.mustPass()
}

func TestScenarioProposalLoggedByQuorumSurvives(t *testing.T) {
	r := newRun(t, 13, model.Config{Servers: 3})
	r.e.StartAll()
	l := r.mustStable(30 * sim.Second)
	r.write(1, 2)
	if err := r.w.Partition(ids(1, 2), ids(l.Sid()), true); err != nil {
		t.Fatal(err)
	}
	r.e.Write(l.Sid())
	r.w.RunFor(100 * sim.Millisecond)
	r.crash(l.Sid())
	r.w.HealAll()
	r.mustStable(60 * sim.Second)
	r.restart(l.Sid())
	r.settle()
	r.mustPass()
}

func TestScenarioFollowerMissing600Writes(t *testing.T) {
	// With the defaults the leader has one log file, whose size the rule does not count.
	t.Run("defaults: txn-log DIFF", func(t *testing.T) {
		r := newRun(t, 21, model.Config{Servers: 3})
		r.e.StartAll()
		l := r.mustStable(30 * sim.Second)
		r.write(l.Sid(), 3)
		r.crash(1)
		r.write(l.Sid(), 600)
		r.restart(1)
		r.settle()
		if d, _ := lastOf(r.w, func(d *model.SyncDecided) bool { return d.Learner == 1 }); d == nil || d.Mode != "DIFF" || d.TxnLogFirst == 0 || d.TxnLogSize != 0 || d.PeerLastZxid >= d.MinCommitted {
			t.Fatalf("sync of 1 = %+v, want DIFF through the txn log from below minCommittedLog", d)
		}
		r.mustPass()
	})
	// snapCount=100: several files preallocated to 64 MiB each, far over the limit.
	t.Run("snapCount=100: SNAP", func(t *testing.T) {
		r := newRun(t, 21, model.Config{Servers: 3, SnapCount: 100})
		r.e.StartAll()
		l := r.mustStable(30 * sim.Second)
		r.write(l.Sid(), 3)
		r.crash(1)
		r.write(l.Sid(), 600)
		r.restart(1)
		r.settle()
		if d, _ := lastOf(r.w, func(d *model.SyncDecided) bool { return d.Learner == 1 }); d == nil || d.Mode != "SNAP" || !d.TxnLogTooBig || d.PeerLastZxid >= d.MinCommitted {
			t.Fatalf("sync of 1 = %+v, want SNAP from below minCommittedLog, the log too big", d)
		}
		r.mustPass()
	})
	t.Run("large snapshots, no preallocation: txn-log DIFF", func(t *testing.T) {
		r := newRun(t, 22, model.Config{Servers: 3, SnapCount: 100, PreAllocSize: -1})
		r.e.StartAll()
		l := r.mustStable(30 * sim.Second)
		r.write(l.Sid(), 1)
		big := strings.Repeat("x", 10000)
		for i := 0; i < 20; i++ {
			done, rc := false, int32(0)
			l.Submit(&model.Request{SessionID: 0x77, Cxid: int32(1000 + i), Op: model.OpCreate, Path: "/big" + strconv.Itoa(i), Data: big, Internal: true},
				func(c int32, _ model.Zxid) { done, rc = true, c })
			r.w.RunUntilCond(func() bool { return done }, r.w.Now()+10*sim.Second)
			if !done || rc != model.ErrOK {
				t.Fatalf("create /big%d: done=%v rc=%d", i, done, rc)
			}
		}
		r.write(l.Sid(), 150)
		r.crash(1)
		r.write(l.Sid(), 600)
		r.restart(1)
		r.settle()
		if d, _ := lastOf(r.w, func(d *model.SyncDecided) bool { return d.Learner == 1 }); d == nil || d.Mode != "DIFF" || d.TxnLogFirst == 0 {
			t.Fatalf("sync of 1 = %+v, want DIFF through the txn log", d)
		}
		r.mustPass()
	})
}

func TestScenarioRestartLoadsSnapshotAndLog(t *testing.T) {
	for _, policy := range []sim.DiskPolicy{sim.LoseUnsynced, sim.KeepAll} {
		t.Run(policy.String(), func(t *testing.T) {
			r := newRunWorld(t, sim.Config{Seed: 31, CrashDisk: policy}, model.Config{Servers: 3, SnapCount: 4})
			r.e.StartAll()
			l := r.mustStable(30 * sim.Second)
			r.write(l.Sid(), 6)
			r.e.Write(l.Sid())
			runUntilRecord(r.w, sim.Second, func(rec *sim.Record) bool {
				lg, ok := rec.Data.(*model.Logged)
				return ok && lg.Sid == 1
			})
			r.crash(1)
			r.restart(1)
			r.settle()
			r.write(1, 5)
			if ld, _ := lastOf(r.w, func(ld *model.Loaded) bool { return ld.Sid == 1 && ld.From == "disk" }); ld == nil || ld.SnapZxid == 0 {
				t.Fatalf("server 1 loaded %+v, want a snapshot", ld)
			}
			// and everyone restarts from snapshots
			for sid := int64(1); sid <= 3; sid++ {
				r.crash(sid)
			}
			for sid := int64(1); sid <= 3; sid++ {
				r.restart(sid)
			}
			r.settle()
			r.write(2, 3)
			r.w.RunFor(sim.Second)
			r.mustPass()
		})
	}
}

func TestScenarioObserver(t *testing.T) {
	r := newRun(t, 41, model.Config{Servers: 3, Observers: 1})
	r.e.StartAll()
	l := r.mustStable(30 * sim.Second)
	r.write(4, 3)
	r.crash(4)
	r.write(l.Sid(), 3)
	r.restart(4)
	r.settle()
	r.write(4, 2)
	r.w.RunFor(sim.Second)
	r.mustPass()
}

// The leader is cut off from both followers and steps down; the majority elects a new
// leader and commits; the partition heals and the old leader, which proposed a txn on its
// own, rejoins (TRUNC or SNAP).
func TestScenarioPartitionedLeaderStepsDown(t *testing.T) {
	r := newRun(t, 51, model.Config{Servers: 3})
	r.e.StartAll()
	l := r.mustStable(30 * sim.Second)
	r.write(l.Sid(), 2)
	var others []int64
	for sid := int64(1); sid <= 3; sid++ {
		if sid != l.Sid() {
			others = append(others, sid)
		}
	}
	if err := r.w.Partition(ids(l.Sid()), ids(others...), false); err != nil {
		t.Fatal(err)
	}
	r.e.Write(l.Sid()) // proposed on the minority side, never committed
	r.w.RunUntilCond(func() bool { nl := r.e.Leader(); return nl != nil && nl.Sid() != l.Sid() }, r.w.Now()+60*sim.Second)
	r.write(others[0], 3)
	r.w.HealAll()
	r.settle()
	r.mustPass()
}

// A 5-server run with crashes of leaders and followers, a partition and restarts, writes
// throughout: nothing may fire.
func TestScenarioMixedFaults(t *testing.T) {
	r := newRun(t, 61, model.Config{Servers: 5, SnapCount: 20})
	r.e.StartAll()
	l := r.mustStable(30 * sim.Second)
	r.write(l.Sid(), 10)
	r.crash(l.Sid())
	l2 := r.mustStable(60 * sim.Second)
	r.write(l2.Sid(), 10)
	f := int64(1)
	if l2.Sid() == 1 {
		f = 2
	}
	// f's ACKs are lost: it logs what the others commit, and falls behind
	if err := r.w.Partition(ids(f), ids(1, 2, 3, 4, 5), true); err != nil {
		t.Fatal(err)
	}
	r.write(l2.Sid(), 30)
	r.restart(l.Sid())
	r.w.HealAll()
	r.mustStable(60 * sim.Second)
	r.write(f, 5)
	// and once more, this time f is restarted while cut off
	if err := r.w.Partition(ids(f), ids(1, 2, 3, 4, 5), false); err != nil {
		t.Fatal(err)
	}
	r.write(l2.Sid(), 10)
	r.crash(f)
	r.w.HealAll()
	r.restart(f)
	r.mustStable(60 * sim.Second)
	r.write(f, 10)
	r.crash(r.e.Leader().Sid())
	r.settle()
	r.write(f, 5)
	r.w.RunFor(sim.Second)
	r.mustPass()
}

// A finding of the checker on the model (see the doc of this test's report): a server that
// was synced by SNAP keeps its old txn log, which lacks every txn the snapshot brought. When
// it later leads, syncFollower's txn-log branch reads that log for a peer below its
// minCommittedLog, meets the peer's zxid missing, and sends TRUNC to the last txn before the
// hole: the peer loses committed txns. ZooKeeper 3.8's getProposalsFromTxnLog reads the same
// files, so this may be ZooKeeper's behaviour too. The test holds whichever way the model
// goes: if it sends that TRUNC, the checker must report it; if not, nothing may fire.
// snapCount=100 and 16 KiB preallocation make leader 3 refuse its txn log for 1 (SNAP) and
// leader 1 accept its own for 2 (with the defaults 3 would DIFF 1 from its single log file).
func TestScenarioSnapSyncedLeaderSyncsFromItsTxnLog(t *testing.T) {
	r := newRun(t, 21, model.Config{Servers: 3, SnapCount: 100, PreAllocSize: 16})
	r.e.StartAll()
	if l := r.mustStable(30 * sim.Second); l.Sid() != 3 {
		t.Fatalf("leader %d, want 3", l.Sid())
	}
	r.write(3, 2) // 0x100000001..3 everywhere
	r.crash(1)
	r.write(3, 600) // more than the committedLog holds: 1 will need a SNAP
	r.restart(1)
	r.mustStable(60 * sim.Second)
	if d, _ := lastOf(r.w, func(d *model.SyncDecided) bool { return d.Learner == 1 }); d == nil || d.Mode != "SNAP" {
		t.Fatalf("sync of 1 = %+v, want SNAP", d)
	}
	r.crash(2)
	r.write(3, 3) // 1 logs these after its snapshot; 2 misses them
	r.crash(3)
	r.restart(2) // 1 (more recent) leads and syncs 2, which is below its minCommittedLog
	r.settle()
	d, _ := lastOf(r.w, func(d *model.SyncDecided) bool { return d.Learner == 2 })
	if d == nil || d.Sid != 1 {
		t.Fatalf("sync of 2 = %+v, want one by leader 1", d)
	}
	vs := r.finish()
	t.Logf("leader 1 synced 2 with %s %v (%s); verdict:\n%s", d.Mode, d.Packets[:min(3, len(d.Packets))], d.Branch, vsText(vs))
	if d.Mode == "TRUNC+DIFF" && d.Packets[0] == "TRUNC 0x100000003" {
		mustFind(t, vs, CheckCommittedLogDurability, "server 2", "truncated its log after 0x100000003")
		return
	}
	if len(vs) > 0 {
		t.Fatalf("violations:\n%s", vsText(vs))
	}
}
