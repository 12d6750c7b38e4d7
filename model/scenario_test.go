package model

import (
	"testing"

	"github.com/zabsim/zabsim/sim"
)

// The server-model scenarios of the issue, as Go tests. Each states what ZooKeeper 3.8 does
// and why; they become scenario files once the language exists.

func mustStable(t *testing.T, e *Ensemble, within sim.Time) *Server {
	t.Helper()
	if !e.AwaitStable(within) {
		dumpStates(t, e)
		t.Fatalf("no stable leader within %s", within)
	}
	return e.Leader()
}

// lastSync returns the last sync decision a leader made for learner, or nil.
func lastSync(e *Ensemble, learner int64) *SyncDecided {
	var out *SyncDecided
	for _, r := range e.W.Trace().Records() {
		if d, ok := r.Data.(*SyncDecided); ok && d.Learner == learner {
			out = d
		}
	}
	return out
}

func crash(t *testing.T, e *Ensemble, sid int64) {
	t.Helper()
	if err := e.W.Crash(sim.NodeID(sid)); err != nil {
		t.Fatal(err)
	}
}

func restart(t *testing.T, e *Ensemble, sid int64) {
	t.Helper()
	if err := e.W.Restart(sim.NodeID(sid)); err != nil {
		t.Fatal(err)
	}
}

func ids(sids ...int64) []sim.NodeID {
	out := make([]sim.NodeID, len(sids))
	for i, s := range sids {
		out[i] = sim.NodeID(s)
	}
	return out
}

// FLE-S-06: started one at a time, 3 leads (the first to have a quorum of votes), and 4
// and 5 follow it through FOLLOWING/LEADING replies although their sids are higher.
func TestFiveServersStartedOneAtATimeServerThreeLeads(t *testing.T) {
	e := newEnsemble(t, 7, Config{Servers: 5})
	for sid := int64(1); sid <= 5; sid++ {
		if err := e.W.Start(sim.NodeID(sid)); err != nil {
			t.Fatal(err)
		}
		e.W.RunFor(3 * sim.Second)
	}
	l := mustStable(t, e, 30*sim.Second)
	if l.Sid() != 3 {
		t.Fatalf("leader = %d, want 3", l.Sid())
	}
	for _, sid := range []int64{4, 5} {
		if s := e.Server(sid); s.State() != FOLLOWING || s.LeaderSid() != 3 {
			t.Errorf("server %d: state %s following %d, want FOLLOWING 3", sid, s.State(), s.LeaderSid())
		}
	}
	// and started together, 5 wins
	e2 := newEnsemble(t, 7, Config{Servers: 5})
	e2.StartAll()
	if l := mustStable(t, e2, 30*sim.Second); l.Sid() != 5 {
		t.Fatalf("started together: leader = %d, want 5", l.Sid())
	}
}

// After the leader crashes, the survivor with the greatest (currentEpoch, lastZxid, sid)
// leads: with equal histories the higher sid; a server that missed writes loses to one
// with a higher zxid even when its sid is higher.
func TestLeaderCrashReelection(t *testing.T) {
	t.Run("equal zxids: highest sid", func(t *testing.T) {
		e := newEnsemble(t, 3, Config{Servers: 3})
		e.StartAll()
		l := mustStable(t, e, 30*sim.Second)
		if err := e.WriteAndWait(1, 3, 10*sim.Second); err != nil {
			t.Fatal(err)
		}
		crash(t, e, l.Sid())
		l2 := mustStable(t, e, 60*sim.Second)
		if l2.Sid() != 2 {
			t.Fatalf("new leader = %d, want 2 (equal zxids, highest surviving sid)", l2.Sid())
		}
	})
	t.Run("lagging higher sid loses", func(t *testing.T) {
		e := newEnsemble(t, 4, Config{Servers: 3})
		e.StartAll()
		l := mustStable(t, e, 30*sim.Second)
		if l.Sid() != 3 {
			t.Fatalf("leader = %d, want 3", l.Sid())
		}
		// Everyone has two writes; 2 is down while 3 more commit on {1,3}; then 3 crashes
		// and 2 comes back.
		if err := e.WriteAndWait(1, 2, 10*sim.Second); err != nil {
			t.Fatal(err)
		}
		crash(t, e, 2)
		if err := e.WriteAndWait(1, 3, 10*sim.Second); err != nil {
			t.Fatal(err)
		}
		crash(t, e, 3)
		restart(t, e, 2)
		l2 := mustStable(t, e, 60*sim.Second)
		if l2.Sid() != 1 {
			t.Fatalf("new leader = %d, want 1 (its zxid %s beats 2's)", l2.Sid(), e.Server(1).LastProcessedZxid())
		}
		if d := lastSync(e, 2); d == nil || d.Mode != "DIFF" {
			t.Fatalf("sync of 2 = %+v, want DIFF", d)
		}
	})
}

// A server with an empty history that joins after the first write gets SNAP, not DIFF:
// its zxid 0 is below minCommittedLog, and the txn-log fallback finds a first logged txn
// above 0 ("Unable to find proposals from txnlog"), so syncFollower falls back to SNAP.
func TestEmptyServerJoiningLateGetsSnap(t *testing.T) {
	e := newEnsemble(t, 4, Config{Servers: 3})
	for _, sid := range []int64{1, 3} {
		e.W.Start(sim.NodeID(sid))
	}
	l := mustStable(t, e, 30*sim.Second)
	if err := e.WriteAndWait(l.Sid(), 1, 10*sim.Second); err != nil {
		t.Fatal(err)
	}
	e.W.Start(2)
	mustStable(t, e, 30*sim.Second)
	d := lastSync(e, 2)
	if d == nil || d.Mode != "SNAP" || d.Branch != syncBranchTxnLogEmpty || d.PeerLastZxid != 0 {
		t.Fatalf("sync of 2 = %+v, want SNAP from an empty txn-log iterator at peer 0x0", d)
	}
}

// A follower down while 20 writes commit gets DIFF from the leader's committedLog: its
// zxid is inside [minCommittedLog, maxCommittedLog].
func TestFollowerRestartGetsDiffFromCommittedLog(t *testing.T) {
	e := newEnsemble(t, 5, Config{Servers: 3})
	e.StartAll()
	l := mustStable(t, e, 30*sim.Second)
	if err := e.WriteAndWait(l.Sid(), 2, 10*sim.Second); err != nil {
		t.Fatal(err)
	}
	f := int64(1)
	if l.Sid() == 1 {
		f = 2
	}
	crash(t, e, f)
	if err := e.WriteAndWait(l.Sid(), 20, 10*sim.Second); err != nil {
		t.Fatal(err)
	}
	restart(t, e, f)
	mustStable(t, e, 60*sim.Second)
	d := lastSync(e, f)
	if d == nil {
		t.Fatal("no sync decision for the restarted follower")
	}
	if d.Mode != "DIFF" || d.Branch != syncBranchCommittedLog {
		t.Fatalf("sync = %s (%s), want DIFF within committedLog", d.Mode, d.Branch)
	}
	if d.PeerLastZxid < d.MinCommitted || d.PeerLastZxid > d.MaxCommitted {
		t.Fatalf("peerLastZxid %s outside [%s, %s]", d.PeerLastZxid, d.MinCommitted, d.MaxCommitted)
	}
	e.W.RunFor(sim.Second)
	if got, want := e.Server(f).LastProcessedZxid(), l.LastProcessedZxid(); got != want {
		t.Fatalf("follower at %s, leader at %s", got, want)
	}
}

// hasTxn reports whether server s holds zxid in memory or in its log.
func hasTxn(e *Ensemble, s *Server, z Zxid) bool {
	if s.Up() && s.LastProcessedZxid() >= z {
		for _, p := range s.db.committedLog {
			if p.Zxid == z {
				return true
			}
		}
	}
	for _, t := range s.db.readTxns(s.db.logFiles()) {
		if t.Zxid == z {
			return true
		}
	}
	return false
}

// lostProposal runs the common start of the TRUNC and SNAP scenarios: leader 3 logs a
// proposal that nobody receives (its outbound links cut), then crashes; 1 and 2 elect 2.
// It returns the lost proposal's zxid.
func lostProposal(t *testing.T, e *Ensemble) Zxid {
	t.Helper()
	e.StartAll()
	l := mustStable(t, e, 30*sim.Second)
	if l.Sid() != 3 {
		t.Fatalf("leader = %d, want 3", l.Sid())
	}
	if err := e.WriteAndWait(1, 2, 10*sim.Second); err != nil {
		t.Fatal(err)
	}
	if err := e.W.Partition(ids(3), ids(1, 2), true); err != nil {
		t.Fatal(err)
	}
	e.Write(3) // nowait: the leader logs it, nobody receives it
	e.W.RunFor(100 * sim.Millisecond)
	lost := l.leader.lastProposed
	if !hasTxn(e, l, lost) {
		t.Fatalf("leader did not log %s", lost)
	}
	crash(t, e, 3)
	l2 := mustStable(t, e, 60*sim.Second)
	if l2.Sid() != 2 {
		t.Fatalf("new leader = %d, want 2", l2.Sid())
	}
	e.W.HealAll()
	return lost
}

// The new leader has committed nothing in its epoch: the old leader's zxid is above
// maxCommittedLog, so it gets TRUNC(maxCommittedLog) (branch 3) and the proposal is gone.
func TestOldLeaderProposalReachedNobodyTrunc(t *testing.T) {
	e := newEnsemble(t, 11, Config{Servers: 3})
	lost := lostProposal(t, e)
	restart(t, e, 3)
	mustStable(t, e, 60*sim.Second)
	d := lastSync(e, 3)
	if d == nil || d.Mode != "TRUNC" || d.Branch != syncBranchPeerAhead {
		t.Fatalf("sync of 3 = %+v, want TRUNC (peer ahead of maxCommittedLog)", d)
	}
	if d.PeerLastZxid != lost || d.Packets[0] != "TRUNC "+d.MaxCommitted.String() {
		t.Fatalf("sync of 3: peer %s packets %v, want peer %s and TRUNC %s", d.PeerLastZxid, d.Packets, lost, d.MaxCommitted)
	}
	for _, s := range e.Servers {
		if hasTxn(e, s, lost) {
			t.Errorf("server %d still holds the lost proposal %s", s.Sid(), lost)
		}
	}
}

// The new leader commits two writes before the old one returns. The seeds call this
// TRUNC+DIFF; in 3.8 the old leader's zxid is inside the committedLog but the leader's next
// txn after it is in another epoch, so queueCommittedProposals cannot send TRUNC ("Cannot
// send TRUNC to peer sid ... peer zxid is from different epoch") and the result is SNAP.
func TestOldLeaderProposalNewEpochCommittedSnap(t *testing.T) {
	e := newEnsemble(t, 11, Config{Servers: 3})
	lost := lostProposal(t, e)
	if err := e.WriteAndWait(2, 2, 10*sim.Second); err != nil {
		t.Fatal(err)
	}
	restart(t, e, 3)
	mustStable(t, e, 60*sim.Second)
	d := lastSync(e, 3)
	if d == nil || d.Mode != "SNAP" {
		t.Fatalf("sync of 3 = %+v, want SNAP", d)
	}
	if !(d.PeerLastZxid >= d.MinCommitted && d.PeerLastZxid <= d.MaxCommitted) {
		t.Fatalf("peer %s not inside [%s, %s]: not the cross-epoch case", d.PeerLastZxid, d.MinCommitted, d.MaxCommitted)
	}
	e.W.RunFor(sim.Second)
	for _, s := range e.Servers {
		if s.LastProcessedZxid() != MakeZxid(2, 2) {
			t.Errorf("server %d at %s, want 0x200000002", s.Sid(), s.LastProcessedZxid())
		}
		if _, _, ok := s.Tree().GetData("/zabsim/w3"); ok {
			t.Errorf("server %d shows the lost write /zabsim/w3", s.Sid())
		}
	}
	_ = lost
}

// TRUNC+DIFF happens only when the leader's next txn after the peer's zxid is in the
// same epoch: the peer holds (1,3), which the leader never had, and the leader's history
// goes (1,2), (1,4). Then the peer gets TRUNC(1,2) followed by (1,4) and the rest.
func TestTruncDiffNeedsSameEpoch(t *testing.T) {
	log := []Proposal{}
	for _, z := range []Zxid{MakeZxid(1, 1), MakeZxid(1, 2), MakeZxid(1, 4), MakeZxid(2, 1)} {
		log = append(log, Proposal{Zxid: z, Txn: &Txn{Zxid: z}})
	}
	d := SyncFollower(SyncInput{PeerLastZxid: MakeZxid(1, 3), LastProcessedZxid: MakeZxid(2, 1), CommittedLog: log})
	if d.Mode != "TRUNC+DIFF" {
		t.Fatalf("mode = %s, want TRUNC+DIFF", d.Mode)
	}
	want := []string{"TRUNC 0x100000002", "PROPOSAL 0x100000004", "COMMIT 0x100000004", "PROPOSAL 0x200000001", "COMMIT 0x200000001"}
	got := d.PacketStrings()
	if len(got) != len(want) {
		t.Fatalf("packets = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("packets = %v, want %v", got, want)
		}
	}
	// The same peer, but the leader's next txn is in a new epoch: SNAP.
	d = SyncFollower(SyncInput{PeerLastZxid: MakeZxid(1, 3), LastProcessedZxid: MakeZxid(2, 1), CommittedLog: []Proposal{log[0], log[1], log[3]}})
	if d.Mode != "SNAP" {
		t.Fatalf("cross-epoch mode = %s, want SNAP", d.Mode)
	}
}

// The leader crashes after a quorum logged its proposal but before any COMMIT went out
// (the followers' ACKs never reach it): the new leader has the txn in its history and
// commits it in the new epoch, so the write survives.
func TestProposalLoggedByQuorumSurvivesLeaderCrash(t *testing.T) {
	e := newEnsemble(t, 13, Config{Servers: 3})
	e.StartAll()
	l := mustStable(t, e, 30*sim.Second)
	if err := e.WriteAndWait(1, 2, 10*sim.Second); err != nil {
		t.Fatal(err)
	}
	if err := e.W.Partition(ids(1, 2), ids(l.Sid()), true); err != nil {
		t.Fatal(err)
	}
	r := e.Write(l.Sid())
	e.W.RunFor(100 * sim.Millisecond)
	z := l.leader.lastProposed
	if l.leader.lastCommitted >= z {
		t.Fatalf("leader committed %s: the ACKs should not have reached it", z)
	}
	for _, sid := range []int64{1, 2} {
		if !hasTxn(e, e.Server(sid), z) {
			t.Fatalf("follower %d did not log %s", sid, z)
		}
	}
	crash(t, e, l.Sid())
	e.W.HealAll()
	mustStable(t, e, 60*sim.Second)
	restart(t, e, l.Sid())
	mustStable(t, e, 60*sim.Second)
	e.W.RunFor(sim.Second)
	for _, s := range e.Servers {
		data, st, ok := s.Tree().GetData(r.Path)
		if !ok || st.Czxid != z || data == "" {
			t.Errorf("server %d: %s ok=%v czxid=%s, want the write at %s", s.Sid(), r.Path, ok, st.Czxid, z)
		}
	}
}
