package model

import (
	"testing"

	"github.com/zabsim/zabsim/sim"
)

// The fle_scenarios of vectors.json (FLE-S-01..06), replayed with simulated servers. Java's
// sids 0..n-1 are the model's 1..n unless said otherwise. Each id has a dedicated subtest;
// an id without one fails the test.

type fleCase = func(t *testing.T, sc hsFLEScenario)

func TestFLEScenarios(t *testing.T) {
	f := hsLoadVectors(t)
	if n := len(f.FLEScenarios); n != 6 {
		t.Fatalf("fle_scenarios has %d entries, want 6", n)
	}
	if f.Counts["fle_scenarios"] != 6 {
		t.Errorf("counts.fle_scenarios = %d, want 6", f.Counts["fle_scenarios"])
	}
	table := map[string]fleCase{
		"FLE-S-01": fleS01,
		"FLE-S-02": fleS02,
		"FLE-S-03": fleS03,
		"FLE-S-04": fleS04,
		"FLE-S-05": fleS05,
		"FLE-S-06": fleS06,
	}
	hsRunTable(t, "fle_scenarios", f.FLEScenarios, func(sc hsFLEScenario) string { return sc.ID }, table)
}

// fleMock is a mock election peer, as the Java tests build with a bare QuorumCnxManager: a
// sim node that keeps every election connection the real server opens to it and answers on
// it with hand-made notifications. It never runs FLE itself.
type fleMock struct {
	w        *sim.World
	id       sim.NodeID
	conns    []sim.ConnID
	got      []*Notification
	onAccept func(m *fleMock, c sim.ConnID)
	onNote   func(m *fleMock, c sim.ConnID, n *Notification)
}

func (m *fleMock) Start()   {}
func (m *fleMock) Restart() {}
func (m *fleMock) Crash()   {}
func (m *fleMock) Accept(c sim.ConnID, peer sim.NodeID) {
	m.conns = append(m.conns, c)
	if m.onAccept != nil {
		m.onAccept(m, c)
	}
}
func (m *fleMock) Receive(c sim.ConnID, msg sim.Message) {
	if n, ok := msg.(*Notification); ok {
		m.got = append(m.got, n)
		if m.onNote != nil {
			m.onNote(m, c, n)
		}
	}
}
func (m *fleMock) Closed(c sim.ConnID)    {}
func (m *fleMock) Timer(kind int)         {}
func (m *fleMock) FsyncDone(token uint64) {}
func (m *fleMock) send(c sim.ConnID, n *Notification) {
	cp := *n
	m.w.Send(c, m.id, &cp)
}

// fleMockWorld is a 3-voter configuration where only server real runs; the other sids are
// the given mocks (a sid without a mock is a server that is down).
func fleMockWorld(t *testing.T, seed uint64, real int64, mocks map[int64]*fleMock) (*sim.World, *Server) {
	t.Helper()
	w, err := sim.NewWorld(sim.Config{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	cfg := zab1Config(3)
	if err := cfg.Normalize(); err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(w, &cfg, real)
	if err != nil {
		t.Fatal(err)
	}
	for sid := int64(1); sid <= 3; sid++ {
		m := mocks[sid]
		if m == nil {
			continue
		}
		m.w, m.id = w, sim.NodeID(sid)
		if err := w.Add(m.id, m); err != nil {
			t.Fatal(err)
		}
		if err := w.Start(m.id); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Start(sim.NodeID(real)); err != nil {
		t.Fatal(err)
	}
	return w, s
}

// fleDecisions returns the ElectionDone records of sid from trace index from on.
func fleDecisions(w *sim.World, sid int64, from int) []*ElectionDone {
	var out []*ElectionDone
	recs := w.Trace().Records()
	for _, r := range recs[min(from, len(recs)):] {
		if d, ok := r.Data.(*ElectionDone); ok && r.Kind == sim.RecModel && r.Node == sim.NodeID(sid) {
			out = append(out, d)
		}
	}
	return out
}

// FLE-S-01 (FLEBackwardElectionRoundTest): real peer 1 (Java 0) in round 1 gets
// FOLLOWING(leader 1, zxid 0, electionEpoch 1, peerEpoch 1) from mocks 2 and 3 and decides
// LEADING (recvset quorum, checkLeader: leader == myid and logicalclock == electionEpoch).
// Its leadership then ends (no learner connects: Leader.lead times out), its next
// lookForLeader is round 2, and the same two messages must not make it decide within 5 s:
// electionEpoch 1 != logicalclock 2 keeps them out of recvset, and in outofelection
// checkLeader fails (leader == myid but logicalclock 2 != 1).
func fleS01(t *testing.T, sc hsFLEScenario) {
	canned := func(from int64) *Notification {
		return &Notification{State: FOLLOWING, Leader: 1, Zxid: 0, ElectionEpoch: 1, PeerEpoch: 1, Sid: from, Version: 2}
	}
	mocks := map[int64]*fleMock{}
	for _, sid := range []int64{2, 3} {
		n := canned(sid)
		mocks[sid] = &fleMock{
			onAccept: func(m *fleMock, c sim.ConnID) { m.send(c, n) },
			onNote: func(m *fleMock, c sim.ConnID, got *Notification) {
				if got.State == LOOKING {
					m.send(c, n)
				}
			},
		}
	}
	w, s := fleMockWorld(t, 201, 1, mocks)
	if !w.RunUntilCond(func() bool { return s.State() == LEADING }, w.Now()+5*sim.Second) {
		t.Fatalf("round 1: peer 1 did not decide within 5s (state %s)", s.State())
	}
	d := fleDecisions(w, 1, 0)
	if len(d) != 1 || d[0].State != LEADING || d[0].ElectionEpoch != 1 || d[0].ViaOutOfElection {
		t.Fatalf("round 1 decisions %+v, want one LEADING in round 1 from recvset", d)
	}

	// Round 2: the leadership ends, lookForLeader starts again.
	if !w.RunUntilCond(func() bool { return s.State() == LOOKING }, w.Now()+30*sim.Second) {
		t.Fatalf("peer 1 stayed %s", s.State())
	}
	if s.fle.logicalclock != 2 || !s.fle.active {
		t.Fatalf("second lookForLeader: logicalclock %d active %v, want 2", s.fle.logicalclock, s.fle.active)
	}
	mark := len(w.Trace().Records())
	gotBefore := len(mocks[2].got) + len(mocks[3].got)
	w.RunFor(5 * sim.Second)
	if len(mocks[2].got)+len(mocks[3].got) == gotBefore {
		t.Fatalf("the mocks were not asked again in round 2")
	}
	if d := fleDecisions(w, 1, mark); len(d) != 0 || s.State() != LOOKING {
		t.Errorf("round 2: peer 1 decided %+v (state %s), want no decision", d, s.State())
	}
	vote := canned(2).vote()
	for _, sid := range []int64{2, 3} {
		if _, ok := s.fle.recvset.Get(sid); ok {
			t.Errorf("round 2: recvset holds the round-1 vote of %d", sid)
		}
	}
	if !s.fle.outofelection.HasQuorumFor(s.qv, vote) {
		t.Errorf("round 2: outofelection has no quorum for the mocks' vote: the check below is vacuous")
	}
	if CheckLeader(&s.fle.outofelection, 1, 1, 1, s.fle.logicalclock) {
		t.Errorf("round 2: checkLeader passes with logicalclock %d", s.fle.logicalclock)
	}
}

// FLE-S-02 (FLELostMessageTest): real peer 2 (Java 1) in round 1; mock 1 (Java 0) sends
// LOOKING(leader 1, zxid 0, electionEpoch 1, peerEpoch 0), waits for any message from 2,
// then FOLLOWING(leader 2, zxid 0, electionEpoch 1, peerEpoch 0). Server 3 is down. Peer 2
// decides LEADING within 5 s: its own LOOKING vote (2, 0, 1, 0) and 1's FOLLOWING vote for 2
// in the same round are a quorum, and checkLeader holds (leader == myid, logicalclock 1).
func fleS02(t *testing.T, sc hsFLEScenario) {
	sentLooking, sentFollowing := false, false
	mock := &fleMock{
		onAccept: func(m *fleMock, c sim.ConnID) {
			if !sentLooking {
				sentLooking = true
				m.send(c, &Notification{State: LOOKING, Leader: 1, Zxid: 0, ElectionEpoch: 1, PeerEpoch: 0, Sid: 1, Version: 2})
			}
		},
		onNote: func(m *fleMock, c sim.ConnID, n *Notification) {
			if sentLooking && !sentFollowing { // cnxManager.recvQueue.take(): any message
				sentFollowing = true
				m.send(c, &Notification{State: FOLLOWING, Leader: 2, Zxid: 0, ElectionEpoch: 1, PeerEpoch: 0, Sid: 1, Version: 2})
			}
		},
	}
	w, s := fleMockWorld(t, 202, 2, map[int64]*fleMock{1: mock})
	if !w.RunUntilCond(func() bool { return s.State() != LOOKING }, w.Now()+5*sim.Second) {
		t.Fatalf("peer 2 did not decide within 5s (mock sent LOOKING %v FOLLOWING %v)", sentLooking, sentFollowing)
	}
	d := fleDecisions(w, 2, 0)
	if len(d) != 1 || d[0].State != LEADING || d[0].Leader != 2 || d[0].ElectionEpoch != 1 || !sentFollowing {
		t.Errorf("decisions %+v, want LEADING in round 1 after the FOLLOWING vote", d)
	}
}

// FLE-S-03 (FLETest.testJoin): 1 and 2 (Java 0 and 1) elect 2 (equal zxid and epoch, higher
// id); then 3 starts and ends FOLLOWING 2, never LEADING, although its id is the highest.
func fleS03(t *testing.T, sc hsFLEScenario) {
	e := hsEnsemble(t, sim.Config{Seed: 203}, Config{Servers: 3})
	hsStart(t, e, 1, 2)
	hsRunUntil(t, e, 30*sim.Second, "1 FOLLOWING", func() bool { return e.Server(1).Synced(2) })
	if l := e.Leader(); l == nil || l.Sid() != 2 {
		t.Fatalf("leader %v, want 2", l)
	}
	mark := len(e.W.Trace().Records())
	hsStart(t, e, 3)
	fleJoins(t, e, mark, 10*sim.Second)
}

// fleJoins checks that 3, started at trace index mark, follows 2 within d and never leads.
func fleJoins(t *testing.T, e *Ensemble, mark int, d sim.Time) *ElectionDone {
	t.Helper()
	s := e.Server(3)
	hsRunUntil(t, e, d, "3 follows 2", func() bool { return s.Synced(2) })
	if l := e.Leader(); l == nil || l.Sid() != 2 {
		t.Fatalf("leader %v, want 2", l)
	}
	dec := fleDecisions(e.W, 3, mark)
	if len(dec) != 1 || dec[0].State != FOLLOWING || dec[0].Leader != 2 {
		t.Fatalf("3's decisions %+v, want one: FOLLOWING 2", dec)
	}
	for _, r := range e.W.Trace().Records()[mark:] {
		if c, ok := r.Data.(*StateChange); ok && r.Node == 3 && c.State == LEADING {
			t.Errorf("3 was LEADING: %s", r.String())
		}
	}
	return dec[0]
}

// FLE-S-04 (FLETest.testJoinInconsistentEnsemble): as FLE-S-03, but before 3 starts the
// current vote of 1 (Java 0) gets zxid+100 and electionEpoch+100. 3 still joins within 10 s:
// for non-LOOKING votes Vote.equals ignores zxid and electionEpoch, so the outofelection
// quorum of 1 and 2 (2 LEADING) forms.
func fleS04(t *testing.T, sc hsFLEScenario) {
	e := hsEnsemble(t, sim.Config{Seed: 204}, Config{Servers: 3})
	hsStart(t, e, 1, 2)
	hsRunUntil(t, e, 30*sim.Second, "1 FOLLOWING", func() bool { return e.Server(1).Synced(2) })
	v := &e.Server(1).currentVote
	v.Zxid += 100
	v.ElectionEpoch += 100
	mark := len(e.W.Trace().Records())
	hsStart(t, e, 3)
	dec := fleJoins(t, e, mark, 10*sim.Second)
	if !dec.ViaOutOfElection {
		t.Errorf("3 decided %+v, want through outofelection (1's electionEpoch differs from 3's round)", dec)
	}
	// The inconsistent vote is what 1 told 3.
	seen := false
	for _, r := range e.W.Trace().Records()[mark:] {
		if n, ok := r.Data.(*Notification); ok && r.Kind == sim.RecDeliver && r.Node == 3 && n.Sid == 1 && n.State == FOLLOWING {
			seen = seen || (n.Zxid == v.Zxid && n.ElectionEpoch == v.ElectionEpoch)
		}
	}
	if !seen {
		t.Errorf("3 never received 1's rewritten vote")
	}
}

// FLE-S-05 (FLEZeroWeightTest): 9 servers, hierarchical quorums group.1=0:1:2,
// group.2=3:4:5, group.3=6:7:8, weight 1 for 0..2 and 0 for 3..8: no server with id > 2 is
// ever elected. Not modelled at the server level: the Server and Ensemble only support
// majority quorums (QuorumMaj), so the election is played at the level of the FLE
// decisions on model.NewQuorumHierarchical (Java sids kept): every server proposes itself,
// adopts what TotalOrderPredicate prefers, counts its recvset with HasQuorumFor, and the
// servers left LOOKING join through outofelection with CheckLeader.
func fleS05(t *testing.T, sc hsFLEScenario) {
	qh, err := NewQuorumHierarchical([][]int64{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}},
		map[int64]int64{0: 1, 1: 1, 2: 1, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0})
	if err != nil {
		t.Fatal(err)
	}
	for _, setup := range []struct {
		name string
		zxid func(sid int64) Zxid
	}{
		{"equal histories", func(int64) Zxid { return MakeZxid(1, 5) }},
		{"zero-weight servers ahead", func(sid int64) Zxid { return MakeZxid(1, 1+sid) }},
	} {
		t.Run(setup.name, func(t *testing.T) {
			const n = 9
			type peer struct {
				prop Vote
				recv VoteSet
			}
			peers := make([]*peer, n)
			for i := range peers {
				peers[i] = &peer{prop: Vote{Leader: int64(i), Zxid: setup.zxid(int64(i)), ElectionEpoch: 1, PeerEpoch: 1, State: LOOKING}}
			}
			// Every server sends its proposal to every server (itself included), and each
			// receiver runs the LOOKING branch of lookForLeader, until no proposal changes.
			for round, changed := 0, true; changed; round++ {
				if round > 20 {
					t.Fatal("proposals do not settle")
				}
				changed = false
				sent := make([]Vote, n)
				for j, p := range peers {
					sent[j] = p.prop
				}
				for j, v := range sent {
					for _, p := range peers {
						if TotalOrderPredicate(qh, v.Leader, v.Zxid, v.PeerEpoch, p.prop.Leader, p.prop.Zxid, p.prop.PeerEpoch) {
							p.prop = v
							changed = true
						}
						p.recv.Put(int64(j), v)
					}
				}
			}
			var leading, following []int64
			for i, p := range peers {
				for c := int64(3); c < n; c++ {
					cv := Vote{Leader: c, Zxid: setup.zxid(c), ElectionEpoch: 1, PeerEpoch: 1, State: LOOKING}
					if p.recv.HasQuorumFor(qh, cv) {
						t.Errorf("server %d counts a quorum for zero-weight %d", i, c)
					}
				}
				if !p.recv.HasQuorumFor(qh, p.prop) {
					if p.prop.Leader < 3 {
						t.Errorf("server %d proposes %d without a quorum", i, p.prop.Leader)
					}
					continue
				}
				if p.prop.Leader > 2 {
					t.Errorf("server %d decides for zero-weight %d", i, p.prop.Leader)
				}
				if p.prop.Leader == int64(i) {
					leading = append(leading, int64(i))
				} else {
					following = append(following, int64(i))
				}
			}
			if len(leading) != 1 || leading[0] != 2 || len(following) != 2 {
				t.Fatalf("leading %v following %v, want 2 leading with 0 and 1", leading, following)
			}
			// The zero-weight servers hear FOLLOWING/LEADING votes for 2 and join.
			for i := 3; i < n; i++ {
				var ooe VoteSet
				for _, j := range []int64{0, 1, 2} {
					st := FOLLOWING
					if j == 2 {
						st = LEADING
					}
					nv := Vote{Version: 2, Leader: 2, Zxid: setup.zxid(2), ElectionEpoch: 1, PeerEpoch: 1, State: st}
					ooe.Put(j, nv)
					if ooe.HasQuorumFor(qh, nv) && CheckLeader(&ooe, 2, 1, int64(i), 1) {
						break
					}
					if j == 2 {
						t.Errorf("zero-weight server %d cannot join leader 2", i)
					}
				}
			}
		})
	}
}

// FLE-S-06 (derived from lookForLeader): five servers started one at a time in id order,
// 2 s apart (ten finalizeWaits): {1} and {1, 2} have no quorum; when 3 starts, 1 and 2 switch
// to it in round 1, and 3 leads after finalizeWait; 4 and 5 start in round 1 and follow 3 on
// the FOLLOWING/LEADING replies, 3's LEADING one among them. Started together, 5 wins.
func fleS06(t *testing.T, sc hsFLEScenario) {
	e := hsEnsemble(t, sim.Config{Seed: 206}, Config{Servers: 5})
	started := map[int64]sim.Time{}
	startMark := map[int64]int{}
	for sid := int64(1); sid <= 5; sid++ {
		startMark[sid] = len(e.W.Trace().Records())
		started[sid] = e.W.Now()
		hsStart(t, e, sid)
		e.W.RunFor(2 * sim.Second)
		var decided []int64
		for s := int64(1); s <= sid; s++ {
			if len(fleDecisions(e.W, s, 0)) > 0 {
				decided = append(decided, s)
			}
		}
		if sid <= 2 && len(decided) != 0 {
			t.Fatalf("with %d servers up, %v decided: no quorum of 3 yet", sid, decided)
		}
		if sid >= 3 && len(decided) != int(sid) {
			t.Fatalf("with %d servers up, only %v decided", sid, decided)
		}
	}
	l := mustStable(t, e, 30*sim.Second)
	if l.Sid() != 3 {
		t.Fatalf("leader %d, want 3", l.Sid())
	}
	recs := e.W.Trace().Records()
	for sid := int64(1); sid <= 5; sid++ {
		d := fleDecisions(e.W, sid, 0)
		want := FOLLOWING
		if sid == 3 {
			want = LEADING
		}
		if len(d) != 1 || d[0].Leader != 3 || d[0].State != want || d[0].ElectionEpoch != 1 {
			t.Errorf("server %d decisions %+v, want one: %s 3 in round 1", sid, d, want)
		}
	}
	// 3 waited finalizeWait after its quorum formed.
	i3 := hsFirst(recs, 0, hsModel(3, func(*ElectionDone) bool { return true }))
	if recs[i3].At < started[3]+e.Cfg.FinalizeWait {
		t.Errorf("3 decided %s after it started, want at least finalizeWait", recs[i3].At-started[3])
	}
	// 1 and 2 switched to 3 (LOOKING notifications for leader 3 in round 1).
	for _, sid := range []int64{1, 2} {
		if hsFirst(recs, startMark[3], func(r sim.Record) bool {
			n, ok := r.Data.(*Notification)
			return ok && r.Kind == sim.RecSend && r.Node == sim.NodeID(sid) && n.State == LOOKING && n.Leader == 3 && n.ElectionEpoch == 1
		}) < 0 {
			t.Errorf("%d never proposed 3", sid)
		}
	}
	// 4 and 5 decided only once 3's LEADING vote had reached them (checkLeader).
	for _, sid := range []int64{4, 5} {
		dec := hsFirst(recs, startMark[sid], hsModel(sid, func(*ElectionDone) bool { return true }))
		lead := hsFirst(recs, startMark[sid], func(r sim.Record) bool {
			n, ok := r.Data.(*Notification)
			return ok && r.Kind == sim.RecDeliver && r.Node == sim.NodeID(sid) && n.Sid == 3 && n.State == LEADING
		})
		if lead < 0 || dec < lead {
			t.Errorf("%d decided at %d, 3's LEADING vote arrived at %d: want the vote first", sid, dec, lead)
		}
		// totalOrderPredicate is not consulted for FOLLOWING/LEADING votes: the newcomer
		// never proposed 3 in a LOOKING notification of its own.
		if hsFirst(recs, startMark[sid], func(r sim.Record) bool {
			n, ok := r.Data.(*Notification)
			return ok && r.Kind == sim.RecSend && r.Node == sim.NodeID(sid) && n.State == LOOKING && n.Leader == 3
		}) >= 0 {
			t.Errorf("%d adopted 3 in a LOOKING vote: it should follow on the FOLLOWING/LEADING replies", sid)
		}
	}

	e2 := hsEnsemble(t, sim.Config{Seed: 206}, Config{Servers: 5})
	e2.StartAll()
	if l := mustStable(t, e2, 30*sim.Second); l.Sid() != 5 {
		t.Errorf("started together: leader %d, want 5", l.Sid())
	}
}

// Regression (election.go, onElectionHello): when a lower sid connects while this server
// still holds an election connection to it that looks open, QuorumCnxManager.handleConnection
// first shuts that connection down (senderWorkerMap.get(sid).finish(): "This replica might
// still believe that the connection to sid is up") and then dials back (connectOne). The
// model returns early instead, so a restarted lower sid gets no connection from the higher
// ones until their stale connections close (here CrashCloseDelay, 1 s, plus its notification
// backoff) and rejoins about 1.4 s after its restart instead of at once.
func TestLowerSidConnectionReplacesStaleElectionConnection(t *testing.T) {
	e := hsEnsemble(t, sim.Config{Seed: 210}, Config{Servers: 3})
	e.StartAll()
	if l := mustStable(t, e, 30*sim.Second); l.Sid() != 3 {
		t.Fatalf("leader %d, want 3", l.Sid())
	}
	crash(t, e, 1)
	mark := len(e.W.Trace().Records())
	restart(t, e, 1)
	e.W.RunFor(100 * sim.Millisecond)
	recs := e.W.Trace().Records()
	for _, peer := range []int64{2, 3} {
		hello := hsFirst(recs, mark, func(r sim.Record) bool {
			h, ok := r.Data.(*electionHello)
			return ok && r.Kind == sim.RecDeliver && r.Node == sim.NodeID(peer) && h.Sid == 1
		})
		if hello < 0 {
			t.Fatalf("1's HELLO never reached %d", peer)
		}
		back := hsFirst(recs, hello, func(r sim.Record) bool {
			return r.Kind == sim.RecDial && r.Node == sim.NodeID(peer) && r.Peer == 1 && r.At == recs[hello].At
		})
		if back < 0 {
			t.Errorf("%d got 1's HELLO at %s but kept its stale connection and did not dial back", peer, recs[hello].At)
		}
	}
	start := e.W.Now() - 100*sim.Millisecond
	if !e.W.RunUntilCond(func() bool { return e.Server(1).Synced(3) }, start+500*sim.Millisecond) {
		e.W.RunUntilCond(func() bool { return e.Server(1).Synced(3) }, start+30*sim.Second)
		t.Errorf("restarted server 1 followed 3 again only %s after its restart, want within 500ms", e.W.Now()-start)
	}
}

// Regression (election.go with sim's TCP): ZooKeeper's election
// connections have no timeout: a partition shorter than TCP's retransmission limit delays
// the notifications, and they arrive once it heals. In the sim a connection that lost a
// message stays silent for good ("the peers find out through their timeouts"), and the
// model's QuorumCnxManager has no such timeout and never replaces a connection that looks
// open: toSend keeps writing into the dead one, and the higher sids ignore a new HELLO (see
// above). So a follower cut off for 20 s never rejoins after the partition heals.
func TestElectionRecoversAfterPartition(t *testing.T) {
	e := hsEnsemble(t, sim.Config{Seed: 211}, Config{Servers: 3})
	e.StartAll()
	if l := mustStable(t, e, 30*sim.Second); l.Sid() != 3 {
		t.Fatalf("leader %d, want 3", l.Sid())
	}
	if err := e.W.Partition(ids(1), ids(2, 3), false); err != nil {
		t.Fatal(err)
	}
	e.W.RunFor(20 * sim.Second)
	if e.Server(1).State() != LOOKING {
		t.Fatalf("isolated server 1 is %s, want LOOKING", e.Server(1).State())
	}
	e.W.HealAll()
	// TCP retransmits with a backoff below 13 s after a 20 s outage, and 1 resends at its
	// notification interval: a minute is ample.
	if !e.AwaitStable(60 * sim.Second) {
		t.Errorf("60s after the partition healed, server 1 is still %s (never rejoins)", e.Server(1).State())
	}
}
