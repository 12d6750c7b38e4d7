package model

import (
	"slices"
	"testing"

	"github.com/zabsim/zabsim/sim"
)

// at is a model record with its time.
type at[T any] struct {
	At sim.Time
	R  T
}

// recordsAt returns the model records of type T with their times.
func recordsAt[T any](e *Ensemble) []at[T] {
	var out []at[T]
	for _, r := range e.W.Trace().Records() {
		if v, ok := r.Data.(T); ok {
			out = append(out, at[T]{r.At, v})
		}
	}
	return out
}

func serverIDs(e *Ensemble) []sim.NodeID {
	var out []sim.NodeID
	for _, s := range e.Servers {
		out = append(out, s.nid)
	}
	return out
}

// TestEphemeralsVanishExactlyWhenTheSessionExpires: a client cut off from every server.
// The leader's session tracker expires its session in the bucket roundToNextInterval(last
// touch + timeout) (SessionTrackerImpl / ExpiryQueue) and proposes a closeSession; on every
// server the session's ephemerals exist up to that txn and not after it, and nobody else's
// go. When the partition heals the client learns that its session expired.
func TestEphemeralsVanishExactlyWhenTheSessionExpires(t *testing.T) {
	e, l := stableEnsemble(t, 31, Config{Servers: 5, TickTime: 2 * sim.Second})
	c := connect(t, e, ClientConfig{SessionTimeout: 6 * sim.Second})
	other := connect(t, e, ClientConfig{})
	mustOK(t, call(t, e, func(cb Callback) { other.Create("/live", "", Ephemeral, cb) }))
	mustOK(t, call(t, e, func(cb Callback) { c.Create("/e1", "", Ephemeral, cb) }))
	mustOK(t, call(t, e, func(cb Callback) { c.Create("/dir", "", Persistent, cb) }))
	e2 := mustOK(t, call(t, e, func(cb Callback) { c.Create("/dir/e2-", "", EphemeralSequential, cb) })).Created
	session := c.SessionID()
	e.W.RunFor(sim.Second)

	closedAt := map[int64]Zxid{}
	for _, s := range e.Servers {
		s.OnCommit = func(s *Server, txn *Txn, rc int32) {
			_, _, has1 := s.Tree().GetData("/e1")
			_, _, has2 := s.Tree().GetData(e2)
			_, _, live := s.Tree().GetData("/live")
			if !live {
				t.Errorf("server %d lost another session's ephemeral at %s", s.Sid(), txn.Zxid)
			}
			if txn.Type == OpCloseSession && txn.SessionID == session {
				if has1 || has2 {
					t.Errorf("server %d still has the ephemerals after the closeSession %s", s.Sid(), txn.Zxid)
				}
				closedAt[s.Sid()] = txn.Zxid
				return
			}
			if _, closed := closedAt[s.Sid()]; !closed && (!has1 || !has2) {
				t.Errorf("server %d lost an ephemeral at %s (%s) before the session closed", s.Sid(), txn.Zxid, txn.Type)
			}
		}
	}

	cut := e.W.Now()
	e.W.Partition([]sim.NodeID{c.ID()}, serverIDs(e), false)
	runUntil(t, e, 30*sim.Second, "every server applied the closeSession", func() bool { return len(closedAt) == 5 })

	var exp *at[*SessionExpired]
	for _, r := range recordsAt[*SessionExpired](e) {
		if r.R.Session == session {
			exp = &r
		}
	}
	if exp == nil || exp.R.Sid != l.Sid() {
		t.Fatalf("no expiry of 0x%x by the leader: %+v", session, exp)
	}
	tick := e.Cfg.TickTime
	deadline := exp.R.Touched + exp.R.Timeout
	if exp.At <= deadline-tick || exp.At > deadline+tick || exp.At%tick != 0 {
		t.Errorf("expired at %s; last touch %s + timeout %s: want the next tickTime multiple after %s", exp.At, exp.R.Touched, exp.R.Timeout, deadline)
	}
	if exp.R.Touched < cut-2*sim.Second || exp.R.Touched > cut+sim.Second+100*sim.Millisecond {
		t.Errorf("last touch %s, partition at %s", exp.R.Touched, cut)
	}
	var proposedAt sim.Time = -1
	for _, p := range recordsAt[*Proposed](e) {
		if p.R.Txn.Type == OpCloseSession && p.R.Txn.SessionID == session {
			proposedAt = p.At
			if !slices.Equal(p.R.Txn.Paths, []string{e2, "/e1"}) {
				t.Errorf("closeSession paths %v", p.R.Txn.Paths)
			}
		}
	}
	if proposedAt != exp.At {
		t.Errorf("closeSession proposed at %s, expiry at %s", proposedAt, exp.At)
	}
	for _, s := range e.Servers {
		if slices.Contains(s.Tree().Sessions(), session) || len(s.Tree().Ephemerals(session)) != 0 {
			t.Errorf("server %d still knows the session", s.Sid())
		}
	}

	// The client: disconnected after its read timeout; once healed, told Expired.
	e.W.HealAll()
	runUntil(t, e, 30*sim.Second, "the client learned of the expiry", func() bool { return c.State() == ClientClosed })
	var states []KeeperState
	for _, r := range recordsAt[*ClientState](e) {
		if r.R.Client == int64(c.ID()) && r.At > cut {
			states = append(states, r.R.State)
		}
	}
	if states[0] != StateDisconnected || states[len(states)-2] != StateExpired || states[len(states)-1] != StateClosed {
		t.Errorf("client states after the cut: %v", states)
	}
	if r := call(t, e, func(cb Callback) { c.GetData("/", nil, cb) }); r.Err != ErrSessionExpired {
		t.Errorf("a call after the expiry: %s", ErrName(r.Err))
	}
	if r := call(t, e, func(cb Callback) { other.Exists("/live", nil, cb) }); r.Err != ErrOK {
		t.Errorf("the other session's ephemeral: %s", ErrName(r.Err))
	}
}

// TestIdleSessionIsKeptAliveByPings: an idle client on a follower pings it; the follower
// forwards the touches in its PING replies (Learner.ping), so a 4s session lives a minute.
func TestIdleSessionIsKeptAliveByPings(t *testing.T) {
	e, _ := stableEnsemble(t, 32, Config{Servers: 3})
	c := connect(t, e, ClientConfig{SessionTimeout: 4 * sim.Second, Servers: []int64{followerOf(e).Sid()}})
	mustOK(t, call(t, e, func(cb Callback) { c.Create("/idle", "", Ephemeral, cb) }))
	e.W.RunFor(60 * sim.Second)
	if n := len(recordsOf[*SessionExpired](e)); n != 0 || !c.Connected() {
		t.Fatalf("%d expiries, connected=%v", n, c.Connected())
	}
	touches := 0
	for _, r := range e.W.Trace().Records() {
		if p, ok := r.Data.(*QuorumPacket); ok && r.Kind == sim.RecSend && p.Type == PING && len(p.Touches) > 0 {
			touches++
		}
	}
	if touches < 30 {
		t.Fatalf("only %d PING replies carried touches", touches)
	}
}

// TestSessionSurvivesLeaderChange: the leader crashes; followers drop their clients
// (QuorumPeer.closeAllConnections); the new leader tracks every session of its database
// with a fresh timeout, and the client revalidates its session (REVALIDATE) on reconnect.
func TestSessionSurvivesLeaderChange(t *testing.T) {
	e, l := stableEnsemble(t, 33, Config{Servers: 3})
	c := connect(t, e, ClientConfig{SessionTimeout: 6 * sim.Second, Servers: []int64{followerOf(e).Sid()}})
	mustOK(t, call(t, e, func(cb Callback) { c.Create("/keep", "", Ephemeral, cb) }))
	session := c.SessionID()
	crash(t, e, l.Sid())
	runUntil(t, e, 10*sim.Second, "disconnected", func() bool { return !c.Connected() })
	runUntil(t, e, 30*sim.Second, "reconnected", c.Connected)
	if c.SessionID() != session {
		t.Fatalf("new session 0x%x", c.SessionID())
	}
	e.W.RunFor(20 * sim.Second)
	r := mustOK(t, call(t, e, func(cb Callback) { c.Exists("/keep", nil, cb) }))
	if r.Stat.EphemeralOwner != session || len(recordsOf[*SessionExpired](e)) != 0 {
		t.Fatalf("ephemeral %+v; expiries %d", r.Stat, len(recordsOf[*SessionExpired](e)))
	}
	renewed := false
	for _, r := range recordsOf[*ClientConnect](e) {
		renewed = renewed || r.Session == session && r.Outcome == "renewed"
	}
	if !renewed {
		t.Fatal("no renewed session")
	}
}

// TestSessionTrackerBuckets unit-tests the expiry queue's arithmetic.
func TestSessionTrackerBuckets(t *testing.T) {
	st := newSessionTracker(2*sim.Second, 500*sim.Millisecond)
	if st.nextExpirationTime != 2*sim.Second {
		t.Fatalf("first expiration time %s", st.nextExpirationTime)
	}
	st.trackSession(7, 4*sim.Second, 500*sim.Millisecond)  // 4.5s -> bucket 6s
	st.trackSession(8, 4*sim.Second, 1900*sim.Millisecond) // 5.9s -> bucket 6s
	st.trackSession(9, 4*sim.Second, 2*sim.Second)         // 6s -> bucket 8s
	for now := 2 * sim.Second; now < 6*sim.Second; now += 2 * sim.Second {
		if got := st.poll(now); len(got) != 0 {
			t.Fatalf("poll at %s: %d sessions", now, len(got))
		}
	}
	got := st.poll(6 * sim.Second)
	if len(got) != 2 || got[0].id != 7 || got[1].id != 8 {
		t.Fatalf("bucket 6s: %+v", got)
	}
	if !st.touchSession(9, 4*sim.Second, 6*sim.Second) { // -> bucket 12s
		t.Fatal("touch failed")
	}
	if got := st.poll(8 * sim.Second); len(got) != 0 {
		t.Fatalf("a touched session expired: %+v", got)
	}
	st.setSessionClosing(9)
	if st.touchSession(9, 4*sim.Second, 9*sim.Second) || st.checkSession(9, 1, false) != ErrSessionExpired {
		t.Fatal("a closing session was touched or checked ok")
	}
	if st.checkSession(99, 1, false) != ErrUnknownSession || st.checkSession(99, 1, true) != ErrSessionExpired {
		t.Fatal("unknown session codes")
	}
	st.trackSession(10, 4*sim.Second, 9*sim.Second)
	if st.checkSession(10, 1, false) != ErrOK || st.checkSession(10, 2, false) != ErrSessionMoved {
		t.Fatal("session owner")
	}
}

// TestSimulatedSessionExpiry: ZooKeeper's client never expires its own session, but with
// SimulatedSessionExpiry (Curator's behaviour) a client disconnected for its negotiated
// timeout reports Expired by itself, before any server could tell it.
func TestSimulatedSessionExpiry(t *testing.T) {
	for _, simulated := range []bool{false, true} {
		e, _ := stableEnsemble(t, 34, Config{Servers: 3})
		c := connect(t, e, ClientConfig{SessionTimeout: 4 * sim.Second, SimulatedSessionExpiry: simulated})
		e.W.Partition([]sim.NodeID{c.ID()}, serverIDs(e), false)
		cut := e.W.Now()
		e.W.RunFor(20 * sim.Second)
		if closed := c.State() == ClientClosed; closed != simulated {
			t.Fatalf("simulated=%v: state %s after 20s cut off", simulated, c.State())
		}
		if simulated {
			var disconnected sim.Time = -1
			for _, r := range recordsAt[*ClientState](e) {
				switch {
				case r.R.State == StateDisconnected && disconnected < 0 && r.At > cut:
					disconnected = r.At
				case r.R.State == StateExpired && r.At != disconnected+4*sim.Second:
					t.Errorf("expired at %s, disconnected at %s (cut at %s)", r.At, disconnected, cut)
				}
			}
		}
	}
}
