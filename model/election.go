package model

import (
	"math"

	"github.com/zabsim/zabsim/sim"
)

// election is the state of FastLeaderElection.lookForLeader between two inputs. The Java
// method is a loop that blocks on its queue; here each notification and each poll timeout
// is one step of that loop.
type election struct {
	active         bool // inside lookForLeader
	logicalclock   int64
	proposedLeader int64
	proposedZxid   Zxid
	proposedEpoch  int64
	recvset        VoteSet
	outofelection  VoteSet
	notTimeout     sim.Time
	finalizing     bool // a quorum agreed: waiting finalizeWait for a better vote
	// quorums are the quorums seen in this call of lookForLeader, for ElectionDone: the
	// explanation of the decision (not part of the algorithm).
	quorums []QuorumSeen

	// queue[qhead:] are the notifications the election thread has yet to take, under the
	// ZK-1419 mutant only (see fleQueue). The array is made once, twice recvCapacity long:
	// the storm that mutant makes fills it again and again.
	queue []*Notification
	qhead int
}

// Under the ZK-1419 mutant the vote order has cycles and the servers flip their votes at
// every notification, each flip a notification to every voter: a storm that keeps the
// election threads busy. The model gives the election no CPU time, which is harmless while
// the order is total (elections quiesce) but lets a storm grow without bound at no cost. So
// under that mutant the election thread takes one notification per electionCPU, from a
// queue that keeps the newest recvCapacity (QuorumCnxManager.RECV_CAPACITY drops the
// oldest), as a saturated server would. The value bounds only the storm's cost in events:
// at 1ms the election does not settle either, in ten times the events.
const (
	electionCPU  = 10 * sim.Millisecond
	recvCapacity = 100
)

// fleQueue hands n to the election thread: at once, or, under the ZK-1419 mutant, through
// its queue.
func (s *Server) fleQueue(n *Notification) {
	if !s.cfg.Mutants.VoteOrderNotTotal {
		s.fleHandle(n)
		return
	}
	f := &s.fle
	if len(f.queue)-f.qhead == recvCapacity { // full: the oldest goes
		f.queue[f.qhead] = nil
		f.qhead++
	}
	if f.queue == nil {
		f.queue = make([]*Notification, 0, 2*recvCapacity)
	} else if len(f.queue) == cap(f.queue) { // the waiting ones to the front
		k := copy(f.queue, f.queue[f.qhead:])
		clear(f.queue[k:])
		f.queue, f.qhead = f.queue[:k], 0
	}
	f.queue = append(f.queue, n)
	if !s.w.TimerArmed(s.nid, tmElectionCPU) {
		s.w.SetTimer(s.nid, tmElectionCPU, electionCPU)
	}
}

// fleNext: the election thread takes its next notification (ZK-1419 mutant).
func (s *Server) fleNext() {
	f := &s.fle
	if f.qhead == len(f.queue) {
		return
	}
	n := f.queue[f.qhead]
	f.queue[f.qhead] = nil
	f.qhead++
	if f.qhead == len(f.queue) {
		f.queue, f.qhead = f.queue[:0], 0
	}
	if s.state == LOOKING && f.active {
		s.fleHandle(n)
	}
	if f.qhead < len(f.queue) && !s.w.TimerArmed(s.nid, tmElectionCPU) {
		s.w.SetTimer(s.nid, tmElectionCPU, electionCPU)
	}
}

// initial vote: getInitId, getInitLastLoggedZxid, getPeerEpoch (observers: Long.MIN_VALUE).
func (s *Server) initVote() (int64, Zxid, int64) {
	if s.observer {
		return math.MinInt64, math.MinInt64, math.MinInt64
	}
	return s.sid, s.lastLoggedZxid(), s.currentEpoch
}

// lookForLeader mirrors the start of FastLeaderElection.lookForLeader.
func (s *Server) lookForLeader() {
	s.ensureInitialized()
	f := &s.fle
	f.active = true
	f.finalizing = false
	f.recvset.Clear()
	f.outofelection.Clear()
	f.quorums = nil
	f.logicalclock++
	f.proposedLeader, f.proposedZxid, f.proposedEpoch = s.initVote()
	f.notTimeout = s.cfg.FinalizeWait // minNotificationInterval defaults to finalizeWait
	s.currentVote.State = LOOKING
	why := s.why(VoteWhy{Reason: WhyStart})
	s.explainVote(why)
	s.sendNotifications(why)
	s.w.SetTimer(s.nid, tmNotTimeout, f.notTimeout)
}

// explainVote records the proposal that why explains (a trace explanation).
func (s *Server) explainVote(why *VoteWhy) {
	f := &s.fle
	s.explain(func() sim.Message {
		return &VoteChanged{Sid: s.sid, Leader: f.proposedLeader, Zxid: f.proposedZxid,
			PeerEpoch: f.proposedEpoch, Round: f.logicalclock, Why: why}
	})
}

// explain adds the explanation mk makes to the trace (sim.World.Explain), or only its place
// when nothing will read it (sim.World.Explaining).
func (s *Server) explain(mk func() sim.Message) {
	var m sim.Message
	if s.w.Explaining() {
		m = mk()
	}
	s.w.Explain(s.nid, m)
}

// why is w from the server's slab, to explain a notification, or nil when nothing will read
// it (sim.World.Explaining): Notification.Why is neither on the wire nor in the trace hash.
func (s *Server) why(w VoteWhy) *VoteWhy {
	if !s.w.Explaining() {
		return nil
	}
	return s.mem.why.of(w)
}

// sendNotifications mirrors FastLeaderElection.sendNotifications: my proposal to every
// voter, myself included (observers do not send to themselves: they are not voters).
// why explains it in the trace (VoteWhy).
func (s *Server) sendNotifications(why *VoteWhy) {
	f := &s.fle
	// One notification for every voter, as one ToSend per sid carries the same vote: a
	// notification is never changed once sent (flushPending sends a copy).
	n := s.mem.vote.new()
	*n = Notification{State: LOOKING, Leader: f.proposedLeader, Zxid: f.proposedZxid,
		ElectionEpoch: f.logicalclock, PeerEpoch: f.proposedEpoch, Sid: s.sid, Version: 2, Why: why}
	for _, sid := range s.qv.voters {
		s.toSend(sid, n)
	}
}

// changedWhy explains a new proposal that notification n caused, against the old one (nil
// when nothing will read it: see why).
func (s *Server) changedWhy(reason string, n *Notification, oldLeader int64, oldZxid Zxid, oldEpoch int64) *VoteWhy {
	if !s.w.Explaining() {
		return nil
	}
	f := &s.fle
	w := &VoteWhy{Reason: reason, From: n.Sid}
	if f.proposedLeader != oldLeader || f.proposedZxid != oldZxid || f.proposedEpoch != oldEpoch {
		w.Changed, w.OldLeader, w.OldZxid, w.OldEpoch = true, oldLeader, oldZxid, oldEpoch
	}
	if f.proposedLeader == n.Leader && f.proposedZxid == n.Zxid && f.proposedEpoch == n.PeerEpoch {
		// n's vote won: say over which field of the vote it replaced
		w.Field = decidingField(n.Leader, n.Zxid, n.PeerEpoch, oldLeader, oldZxid, oldEpoch)
	}
	return w
}

// toSend mirrors QuorumCnxManager.toSend: to self through the loopback queue, to a peer
// over its election connection, dialled on demand. Without a connection the message waits
// in a queue of capacity one (SEND_CAPACITY), replacing an older one.
func (s *Server) toSend(sid int64, n *Notification) {
	if sid == s.sid {
		s.loopback = append(s.loopback, n)
		if !s.w.TimerArmed(s.nid, tmLoopback) {
			s.w.SetTimer(s.nid, tmLoopback, 0)
		}
		return
	}
	if c := s.elConn[sid]; c >= 0 && s.w.IsOpen(c, s.nid) {
		s.w.Send(c, s.nid, n)
		s.elLast[sid] = n
		return
	}
	s.elPending[sid] = n
	s.connectOne(sid)
}

// connectOne mirrors QuorumCnxManager.connectOne: dial, introduce myself, send what waits.
// If my sid is lower, the peer will close this connection and dial me back
// (QuorumCnxManager.handleConnection), and the queued message goes out on that one.
func (s *Server) connectOne(sid int64) {
	if c := s.elConn[sid]; c >= 0 && s.w.IsOpen(c, s.nid) {
		return
	}
	c := s.w.DialPort(s.nid, sim.NodeID(sid), PortElection)
	s.connKind.set(c, connElection)
	s.elConn[sid] = c
	s.w.Send(c, s.nid, s.hello) // the same every time: one per server
	if sid < s.sid {
		s.flushPending(sid)
	}
}

// flushPending starts a SendWorker on a new connection: the queued message goes out, or,
// with nothing queued, the last message sent to that peer again ("to ensure that the last
// message was received by the peer", SendWorker.run), since the old connection may have
// lost it.
func (s *Server) flushPending(sid int64) {
	n, queued := s.elPending[sid], true
	if n == nil {
		n, queued = s.elLast[sid], false
	}
	if n != nil {
		why := s.why(VoteWhy{Reason: WhyAgain})
		if why != nil && queued && n.Why != nil {
			*why = *n.Why
			why.Queued = true
		}
		s.elPending[sid] = nil
		s.elLast[sid] = n
		// the same notification on the wire; in the trace, why it leaves now
		sent := s.mem.vote.of(*n)
		sent.Why = why
		s.w.Send(s.elConn[sid], s.nid, sent)
	}
}

// onElectionHello mirrors QuorumCnxManager.handleConnection on the accepting side.
func (s *Server) onElectionHello(c sim.ConnID, h *electionHello) {
	peer := h.Sid
	if peer < 0 || int(peer) >= len(s.elConn) {
		s.w.Close(c, s.nid)
		return
	}
	if peer < s.sid {
		// "This replica might still believe that the connection to sid is up, so we have
		// to shut down the workers before trying to open a new connection": drop the old
		// connection and this one, and dial back.
		if old := s.elConn[peer]; old >= 0 {
			s.w.Close(old, s.nid)
			s.connKind.del(old)
			s.elConn[peer] = -1
		}
		s.w.Close(c, s.nid)
		s.connKind.del(c)
		s.connectOne(peer)
		s.flushPending(peer)
		return
	}
	if old := s.elConn[peer]; old >= 0 && old != c {
		s.w.Close(old, s.nid)
		s.connKind.del(old)
	}
	s.connKind.set(c, connElection)
	s.elConn[peer] = c
	s.flushPending(peer)
}

func (s *Server) drainLoopback() {
	for len(s.loopback) > 0 && s.Up() {
		n := s.loopback[0]
		s.loopback = dropFirst(s.loopback)
		s.onNotification(n)
	}
}

// onNotification mirrors Messenger.WorkerReceiver.run, then (when LOOKING) one iteration
// of lookForLeader's loop for the notification it queued.
func (s *Server) onNotification(n *Notification) {
	if !s.qv.IsVoter(n.Sid) {
		// From an observer: answer at once with my current vote, not queued.
		v := s.currentVote
		s.toSend(n.Sid, s.mem.vote.of(Notification{State: s.state, Leader: v.Leader, Zxid: v.Zxid,
			ElectionEpoch: s.fle.logicalclock, PeerEpoch: v.PeerEpoch, Sid: s.sid, Version: 2,
			Why: s.why(VoteWhy{Reason: WhyReply, From: n.Sid})}))
		return
	}
	if s.state == LOOKING {
		if n.State == LOOKING && n.ElectionEpoch < s.fle.logicalclock {
			f := &s.fle
			s.toSend(n.Sid, s.mem.vote.of(Notification{State: LOOKING, Leader: f.proposedLeader, Zxid: f.proposedZxid,
				ElectionEpoch: f.logicalclock, PeerEpoch: f.proposedEpoch, Sid: s.sid, Version: 2,
				Why: s.why(VoteWhy{Reason: WhyReply, From: n.Sid})}))
		}
		if s.fle.active {
			s.fleQueue(n)
		}
		return
	}
	if n.State == LOOKING {
		// Not LOOKING: tell a LOOKING sender who leads (my current vote, its electionEpoch).
		v := s.currentVote
		s.toSend(n.Sid, s.mem.vote.of(Notification{State: s.state, Leader: v.Leader, Zxid: v.Zxid,
			ElectionEpoch: v.ElectionEpoch, PeerEpoch: v.PeerEpoch, Sid: s.sid, Version: 2,
			Why: s.why(VoteWhy{Reason: WhyLeader, From: n.Sid})}))
	}
}

// fleHandle is one pass of lookForLeader's loop for notification n.
func (s *Server) fleHandle(n *Notification) {
	f := &s.fle
	if f.finalizing {
		// The finalizeWait poll: a better vote goes back to the queue and the main loop
		// continues; anything else is discarded and the wait starts again.
		if s.totalOrder(n.Leader, n.Zxid, n.PeerEpoch, f.proposedLeader, f.proposedZxid, f.proposedEpoch) {
			f.finalizing = false
			s.w.CancelTimer(s.nid, tmFinalize)
			if q := len(f.quorums); q > 0 {
				f.quorums[q-1].EndedBy, f.quorums[q-1].EndedAt = n.Sid, s.w.Now()
			}
			s.explain(func() sim.Message { return &FinalizeInterrupted{Sid: s.sid, From: n.Sid} })
		} else {
			s.w.SetTimer(s.nid, tmFinalize, s.cfg.FinalizeWait)
			return
		}
	}
	s.w.SetTimer(s.nid, tmNotTimeout, f.notTimeout) // the poll that returned n restarts
	if !s.qv.IsVoter(n.Sid) || !s.qv.IsVoter(n.Leader) {
		return // validVoter
	}
	switch n.State {
	case LOOKING:
		if _, initZxid, _ := s.initVote(); initZxid == -1 || n.Zxid == -1 {
			return
		}
		oldLeader, oldZxid, oldEpoch := f.proposedLeader, f.proposedZxid, f.proposedEpoch
		if n.ElectionEpoch > f.logicalclock {
			f.logicalclock = n.ElectionEpoch
			f.recvset.Clear()
			id, zxid, epoch := s.initVote()
			if s.totalOrder(n.Leader, n.Zxid, n.PeerEpoch, id, zxid, epoch) {
				f.proposedLeader, f.proposedZxid, f.proposedEpoch = n.Leader, n.Zxid, n.PeerEpoch
			} else {
				f.proposedLeader, f.proposedZxid, f.proposedEpoch = id, zxid, epoch
			}
			why := s.changedWhy(WhyRound, n, oldLeader, oldZxid, oldEpoch)
			if why != nil {
				// the vote was chosen between the notification's and the server's initial one
				why.Field = ""
				if f.proposedLeader == n.Leader && f.proposedZxid == n.Zxid && f.proposedEpoch == n.PeerEpoch {
					why.Field = decidingField(n.Leader, n.Zxid, n.PeerEpoch, id, zxid, epoch)
				}
			}
			s.explainVote(why)
			s.sendNotifications(why)
		} else if n.ElectionEpoch < f.logicalclock {
			return
		} else if s.totalOrder(n.Leader, n.Zxid, n.PeerEpoch, f.proposedLeader, f.proposedZxid, f.proposedEpoch) {
			f.proposedLeader, f.proposedZxid, f.proposedEpoch = n.Leader, n.Zxid, n.PeerEpoch
			why := s.changedWhy(WhyBetter, n, oldLeader, oldZxid, oldEpoch)
			s.explainVote(why)
			s.sendNotifications(why)
		}
		f.recvset.Put(n.Sid, Vote{Leader: n.Leader, Zxid: n.Zxid, ElectionEpoch: n.ElectionEpoch, PeerEpoch: n.PeerEpoch})
		proposal := Vote{Leader: f.proposedLeader, Zxid: f.proposedZxid, ElectionEpoch: f.logicalclock, PeerEpoch: f.proposedEpoch}
		if f.recvset.HasQuorumFor(s.qv, proposal) {
			f.finalizing = true
			s.w.SetTimer(s.nid, tmFinalize, s.cfg.FinalizeWait)
			if s.w.Explaining() {
				// the quorums an election saw are explanations too (ElectionDone.Quorums)
				sids := f.recvset.SidsFor(s.qv, proposal)
				f.quorums = append(f.quorums, QuorumSeen{At: s.w.Now(), Sids: sids,
					Leader: f.proposedLeader, Zxid: f.proposedZxid, PeerEpoch: f.proposedEpoch, EndedAt: -1})
				s.w.Explain(s.nid, &QuorumAgreed{Sid: s.sid, Sids: sids, Leader: f.proposedLeader, Zxid: f.proposedZxid,
					PeerEpoch: f.proposedEpoch, Round: f.logicalclock, FinalizeWaitMs: int64(s.cfg.FinalizeWait / sim.Millisecond)})
			} else {
				s.w.Explain(s.nid, nil) // its place (see explain)
			}
		}
	case OBSERVING:
		// ignored
	case FOLLOWING, LEADING:
		s.receivedFollowingNotification(n)
	}
}

// receivedFollowingNotification mirrors the FOLLOWING/LEADING case of lookForLeader.
func (s *Server) receivedFollowingNotification(n *Notification) {
	f := &s.fle
	if n.ElectionEpoch == f.logicalclock {
		// recvset stores the vote with version 0 (new Vote(leader, zxid, electionEpoch, peerEpoch, state)).
		f.recvset.Put(n.Sid, Vote{Leader: n.Leader, Zxid: n.Zxid, ElectionEpoch: n.ElectionEpoch, PeerEpoch: n.PeerEpoch, State: n.State})
		if f.recvset.HasQuorumFor(s.qv, n.vote()) && CheckLeader(&f.recvset, n.Leader, n.ElectionEpoch, s.sid, f.logicalclock) {
			s.decide(n.Leader, n.Zxid, n.ElectionEpoch, n.PeerEpoch, false)
			return
		}
	}
	// "Before joining an established ensemble, verify that a majority are following the
	// same leader": outofelection keeps the notification's own version.
	f.outofelection.Put(n.Sid, n.vote())
	if f.outofelection.HasQuorumFor(s.qv, n.vote()) && CheckLeader(&f.outofelection, n.Leader, n.ElectionEpoch, s.sid, f.logicalclock) {
		f.logicalclock = n.ElectionEpoch
		s.decide(n.Leader, n.Zxid, n.ElectionEpoch, n.PeerEpoch, true)
	}
}

// fleFinalize: finalizeWait passed with no better vote: decide on the proposal.
func (s *Server) fleFinalize() {
	f := &s.fle
	if !f.active || !f.finalizing {
		return
	}
	s.decide(f.proposedLeader, f.proposedZxid, f.logicalclock, f.proposedEpoch, false)
}

// fleNotTimeout mirrors the poll timeout: resend (haveDelivered) and back off.
func (s *Server) fleNotTimeout() {
	f := &s.fle
	if !f.active || f.finalizing {
		return
	}
	next := min(2*f.notTimeout, s.cfg.MaxNotificationInterval)
	s.explain(func() sim.Message {
		return &NotTimeout{Sid: s.sid, WaitedMs: int64(f.notTimeout / sim.Millisecond), NextMs: int64(next / sim.Millisecond)}
	})
	s.sendNotifications(s.why(VoteWhy{Reason: WhyResend, NotTimeoutMs: int64(next / sim.Millisecond)}))
	f.notTimeout = next
	s.w.SetTimer(s.nid, tmNotTimeout, f.notTimeout)
}

// decide ends lookForLeader with a vote and starts the role it implies
// (setPeerState / learningState, then QuorumPeer.run's lead/followLeader/observeLeader).
func (s *Server) decide(leader int64, zxid Zxid, electionEpoch, peerEpoch int64, viaOOE bool) {
	f := &s.fle
	f.active, f.finalizing = false, false
	clear(f.queue)
	f.queue, f.qhead = f.queue[:0], 0
	s.w.CancelTimer(s.nid, tmNotTimeout)
	s.w.CancelTimer(s.nid, tmFinalize)
	s.currentVote = Vote{Leader: leader, Zxid: zxid, ElectionEpoch: electionEpoch, PeerEpoch: peerEpoch}
	st := FOLLOWING
	switch {
	case leader == s.sid:
		st = LEADING
	case s.observer:
		st = OBSERVING
	}
	s.currentVote.State = st
	if q := len(f.quorums); q > 0 && f.quorums[q-1].EndedBy == 0 {
		f.quorums[q-1].EndedAt = s.w.Now()
	}
	s.record(s.mem.elected.of(ElectionDone{Sid: s.sid, Leader: leader, Zxid: zxid, ElectionEpoch: electionEpoch, PeerEpoch: peerEpoch,
		State: st, ViaOutOfElection: viaOOE, NotificationTimeout: int64(f.notTimeout / sim.Millisecond),
		Quorums: f.quorums, FinalizeWaitMs: int64(s.cfg.FinalizeWait / sim.Millisecond)}))
	f.quorums = nil
	s.setState(st, PhaseDiscovery, "")
	switch st {
	case LEADING:
		s.lead()
	default:
		s.followLeader(leader)
	}
}

// updateElectionVote mirrors QuorumPeer.updateElectionVote (ZOOKEEPER-1732).
func (s *Server) updateElectionVote(newEpoch int64) {
	if s.cfg.Mutants.StaleElectionVote {
		return // ZK-1732 (before 42dea0dcf): the vote keeps the election's peerEpoch
	}
	s.currentVote.PeerEpoch = newEpoch
}

// totalOrder is totalOrderPredicate as this server runs it (the ZK-1419 mutant's before
// 6125ab947).
func (s *Server) totalOrder(newID int64, newZxid Zxid, newEpoch int64, curID int64, curZxid Zxid, curEpoch int64) bool {
	if s.cfg.Mutants.VoteOrderNotTotal {
		return TotalOrderPredicate1419(s.qv, newID, newZxid, newEpoch, curID, curZxid, curEpoch)
	}
	return TotalOrderPredicate(s.qv, newID, newZxid, newEpoch, curID, curZxid, curEpoch)
}
