package model

import (
	"slices"
	"strconv"

	"github.com/zabsim/zabsim/sim"
)

// leaderStage is where Leader.lead is.
type leaderStage uint8

const (
	stageWaitEpoch        leaderStage = iota // getEpochToPropose: waiting for a quorum of FOLLOWERINFO
	stageWaitEpochAck                        // waitForEpochAck
	stageWaitNewLeaderAck                    // waitForNewLeaderAck
	stageRunning                             // startZkServer done: the tick loop
)

// proposal is Leader.Proposal: a txn and the voters that acked it.
type proposal struct {
	txn    *Txn
	acks   []int64
	ackBuf [5]int64 // acks' first array: a five-server ensemble's acks need no other
}

// leaderState is Leader: what Leader.lead and the LearnerHandlers share.
type leaderState struct {
	stage              leaderStage
	epoch              int64 // the new epoch; -1 until a quorum of learners arrived
	waitingForNewEpoch bool
	connecting         []int64 // connectingFollowers
	electing           []int64 // electingFollowers
	electionFinished   bool
	newLeaderAcks      []int64
	quorumFormed       bool
	summaryEpoch       int64 // leaderStateSummary
	summaryZxid        Zxid
	handlers           []*learnerHandler
	lastProposed       Zxid
	lastCommitted      Zxid
	outstanding        []*proposal // outstandingProposals, in zxid order
	tick               int64
	tickSkip           bool
	tickHandlers       []*learnerHandler // leaderTick's copy of handlers, kept for the next tick
	synced             []int64           // leaderTick's synced sids, kept likewise

	// The LeaderZooKeeperServer's parts: the session tracker (from startZkServer on), the
	// PrepRequestProcessor's outstanding changes, and Leader.pendingSyncs.
	sessions                  *sessionTracker
	outstandingChanges        []*changeRecord
	outstandingChangesForPath map[string]*changeRecord // looked up only
	pendingSyncs              map[Zxid][]*learnerHandler
}

// handlerStage is where a LearnerHandler thread is.
type handlerStage uint8

const (
	lhWaitEpoch        handlerStage = iota // in getEpochToPropose
	lhWaitAckEpoch                         // LEADERINFO sent, reading ACKEPOCH
	lhWaitEpochQuorum                      // in waitForEpochAck
	lhWaitNewLeaderAck                     // sync and NEWLEADER sent, reading the ACK
	lhWaitNLQuorum                         // in waitForNewLeaderAck
	lhWaitStartup                          // in waitForStartup
	lhRunning                              // UPTODATE sent: the main loop
)

// learnerHandler is LearnerHandler: the leader's side of one learner connection.
type learnerHandler struct {
	// appliedUpTo (Fixes.KeepOwnProposals): the learner already applied this leader's
	// proposals up to here (its restart replayed its log), so it gets no COMMIT for them.
	appliedUpTo           Zxid
	c                     sim.ConnID
	sid                   int64
	observer              bool
	stage                 handlerStage
	acceptedEpoch         int64
	ackEpoch              int64 // ACKEPOCH's epoch field
	peerLastZxid          Zxid
	tickOfNextAckDeadline int64
	lastHeard             sim.Time
	readTimeout           sim.Time
	sending               bool            // sendingThreadStarted
	buffered              []*QuorumPacket // read once the handler thread reads again
	forwarding            bool            // in forwardingFollowers / observingLearners
	// SyncLimitCheck
	limitStarted              bool
	currentZxid, nextZxid     Zxid
	currentTime, nextTime     sim.Time
	currentTimeSet, nextIsSet bool
}

// lead mirrors the start of Leader.lead.
func (s *Server) lead() {
	l := &leaderState{epoch: -1, waitingForNewEpoch: true}
	s.leader = l
	// zk.loadData(): the database is already in memory; it takes a snapshot.
	s.ensureInitialized()
	s.db.takeSnapshot(false)
	s.w.Fsync(s.nid)
	s.record(&SnapshotTaken{Sid: s.sid, Zxid: s.db.lastProcessedZxid(), Why: "Leader.lead loadData"})
	l.summaryEpoch, l.summaryZxid = s.currentEpoch, s.db.lastProcessedZxid()
	if s.cfg.Mutants.EpochFromLastZxid {
		// ZK-335 (before Zab 1.0, 776db7808): "long epoch = self.getLastLoggedZxid() >> 32L;
		// epoch++;" - nobody's acceptedEpoch counts.
		l.epoch = s.db.lastProcessedZxid().Epoch() + 1
	}
	s.w.SetTimer(s.nid, tmLeaderPhase, s.cfg.InitLimitTime())
	s.getEpochToPropose(s.sid, s.acceptedEpoch)
}

func (l *leaderState) handler(c sim.ConnID) *learnerHandler {
	for _, h := range l.handlers {
		if h.c == c {
			return h
		}
	}
	return nil
}

// getEpochToPropose mirrors Leader.getEpochToPropose for learner (or leader) sid.
func (s *Server) getEpochToPropose(sid int64, lastAcceptedEpoch int64) {
	l := s.leader
	if !l.waitingForNewEpoch {
		if s.cfg.Fixes.StepDownForNewerEpoch && lastAcceptedEpoch >= l.epoch && s.qv.IsVoter(sid) {
			// The learner will refuse LEADERINFO(epoch) below its acceptedEpoch, again and
			// again while this leader lasts: step down, so that the next election proposes
			// an epoch above every acceptedEpoch (Fixes.StepDownForNewerEpoch).
			s.leaveRole("learner "+itoa(sid)+" has accepted epoch "+itoa(lastAcceptedEpoch)+", not below this leader's "+itoa(l.epoch), false)
			return
		}
		s.epochDecided(sid)
		return
	}
	if lastAcceptedEpoch >= l.epoch && !s.cfg.Mutants.EpochFromLastZxid {
		l.epoch = lastAcceptedEpoch + 1
	}
	if s.qv.IsVoter(sid) && !slices.Contains(l.connecting, sid) {
		l.connecting = append(l.connecting, sid)
	}
	if slices.Contains(l.connecting, s.sid) && s.qv.ContainsQuorum(l.connecting) {
		l.waitingForNewEpoch = false
		s.setAcceptedEpoch(l.epoch)
		// connectingFollowers.notifyAll(): the leader and every waiting handler go on.
		s.leaderEpochDecided()
		for _, h := range slices.Clone(l.handlers) {
			if h.stage == lhWaitEpoch {
				s.epochDecided(h.sid)
			}
		}
	}
}

// epochDecided: getEpochToPropose returned for sid.
func (s *Server) epochDecided(sid int64) {
	l := s.leader
	if sid == s.sid {
		return
	}
	for _, h := range l.handlers {
		if h.sid == sid && h.stage == lhWaitEpoch {
			h.stage = lhWaitAckEpoch
			s.sendToLearner(h, s.packet(QuorumPacket{Type: LEADERINFO, Zxid: MakeZxid(l.epoch, 0), Epoch: 0x10000}))
		}
	}
}

// leaderEpochDecided: the leader's own getEpochToPropose returned. Leader.lead goes on:
// zk.setZxid(makeZxid(epoch, 0)), then waitForEpochAck for itself.
func (s *Server) leaderEpochDecided() {
	l := s.leader
	l.lastProposed = MakeZxid(l.epoch, 0)
	l.stage = stageWaitEpochAck
	s.w.SetTimer(s.nid, tmLeaderPhase, s.cfg.InitLimitTime())
	s.waitForEpochAck(s.sid, l.summaryEpoch, l.summaryZxid)
}

// waitForEpochAck mirrors Leader.waitForEpochAck. It returns false if the learner is
// ahead of the leader (the handler then dies).
func (s *Server) waitForEpochAck(sid int64, epoch int64, lastZxid Zxid) bool {
	l := s.leader
	if l.electionFinished {
		return true
	}
	if epoch != -1 {
		// StateSummary.isMoreRecentThan (Zab 1.0: the ZK-335 mutant has no such check)
		ahead := epoch > l.summaryEpoch || (epoch == l.summaryEpoch && lastZxid > l.summaryZxid)
		if ahead && !s.cfg.Mutants.EpochFromLastZxid {
			s.note("Follower is ahead of the leader, leader summary: " + sumText(l.summaryEpoch, l.summaryZxid))
			return false
		}
		if lastZxid != -1 && s.qv.IsVoter(sid) && !slices.Contains(l.electing, sid) {
			l.electing = append(l.electing, sid)
		}
	}
	if slices.Contains(l.electing, s.sid) && s.qv.ContainsQuorum(l.electing) {
		l.electionFinished = true
		s.leaderEstablished()
	}
	return true
}

func sumText(e int64, z Zxid) string {
	return "(" + itoa(e) + ", " + z.String() + ")"
}

// leaderEstablished: waitForEpochAck returned for everyone. The leader writes currentEpoch
// and waits for NEWLEADER acks; the handlers that waited sync their learners.
func (s *Server) leaderEstablished() {
	l := s.leader
	s.record(&LeaderEstablished{Sid: s.sid, Epoch: l.epoch, LastZxid: s.db.lastProcessedZxid()})
	s.setCurrentEpoch(l.epoch)
	s.setPhase(PhaseSynchronization)
	l.stage = stageWaitNewLeaderAck
	s.w.SetTimer(s.nid, tmLeaderPhase, s.cfg.InitLimitTime())
	s.waitForNewLeaderAck(s.sid, MakeZxid(l.epoch, 0))
	for _, h := range slices.Clone(l.handlers) {
		if h.stage == lhWaitEpochQuorum {
			s.syncLearner(h)
		}
	}
}

// waitForNewLeaderAck mirrors Leader.waitForNewLeaderAck.
func (s *Server) waitForNewLeaderAck(sid int64, zxid Zxid) {
	l := s.leader
	if l.quorumFormed {
		return
	}
	if zxid != MakeZxid(l.epoch, 0) {
		s.note("NEWLEADER ACK from sid " + itoa(sid) + " is from a different epoch")
		return
	}
	if s.qv.IsVoter(sid) && !slices.Contains(l.newLeaderAcks, sid) {
		l.newLeaderAcks = append(l.newLeaderAcks, sid)
	}
	if s.qv.ContainsQuorum(l.newLeaderAcks) && slices.Contains(l.newLeaderAcks, s.sid) {
		l.quorumFormed = true
		s.startZkServer()
	}
}

// startZkServer mirrors Leader.startZkServer and the rest of Leader.lead before its loop.
func (s *Server) startZkServer() {
	l := s.leader
	l.lastCommitted = MakeZxid(l.epoch, 0)
	s.updateElectionVote(l.epoch)
	s.db.tree.LastProcessedZxid = MakeZxid(l.epoch, 0) // zk.getZKDatabase().setlastProcessedZxid
	l.stage = stageRunning
	s.w.CancelTimer(s.nid, tmLeaderPhase)
	s.record(&LeaderActive{Sid: s.sid, Epoch: l.epoch})
	// zk.startup(): the request processors, the session tracker, then the server serves clients.
	s.syncProc.start(s)
	s.nextSessionID = initializeNextSessionID(s.sid, s.w.Now())
	s.startSessionTracker()
	s.setPhase(PhaseBroadcast)
	for _, h := range slices.Clone(l.handlers) {
		if h.stage == lhWaitStartup || h.stage == lhWaitNLQuorum {
			s.sendUptodate(h)
		}
	}
	s.w.SetTimer(s.nid, tmLeaderTick, s.cfg.TickTime/2)
}

// leaderPhaseTimeout: one of lead()'s waits ran past initLimit*tickTime.
func (s *Server) leaderPhaseTimeout() {
	l := s.leader
	if l == nil {
		return
	}
	var reason string
	switch l.stage {
	case stageWaitEpoch:
		reason = "Timeout while waiting for epoch from quorum"
	case stageWaitEpochAck:
		reason = "Timeout while waiting for epoch to be acked by quorum"
	default:
		reason = "Waiting for a quorum of followers, only synced with sids: " + sidsText(l.newLeaderAcks)
	}
	s.leaveRole(reason, false)
}

func sidsText(sids []int64) string {
	b := []byte{'['}
	for i, x := range sids {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, itoa(x)...)
	}
	return string(append(b, ']'))
}

// leaderTick mirrors one turn of Leader.lead's loop: every tickTime/2, on every other turn
// a tick and the synced-quorum check, then a ping to every learner.
func (s *Server) leaderTick() {
	l := s.leader
	if l == nil || l.stage != stageRunning {
		return
	}
	if !l.tickSkip {
		l.tick++
		synced := append(l.synced[:0], s.sid) // the array of the last tick again
		for _, h := range l.handlers {
			if l.tick <= h.tickOfNextAckDeadline && s.qv.IsVoter(h.sid) {
				synced = append(synced, h.sid)
			}
		}
		l.synced = synced
		if !s.qv.ContainsQuorum(synced) {
			s.leaveRole("Not sufficient followers synced, only synced with sids: "+sidsText(synced), false)
			return
		}
	}
	l.tickSkip = !l.tickSkip
	hs := append(l.tickHandlers[:0], l.handlers...) // ping may drop a handler from l.handlers
	for _, h := range hs {
		s.ping(h)
	}
	clear(hs)
	l.tickHandlers = hs[:0]
	s.w.SetTimer(s.nid, tmLeaderTick, s.cfg.TickTime/2)
}

// armHandlerRead sets h's socket read timeout to expire readTimeout after the last packet
// it read (LearnerHandler's sock.setSoTimeout). The timer is looked at when it fires, not
// re-armed on every packet.
func (s *Server) armHandlerRead(h *learnerHandler) {
	s.w.SetTimer(s.nid, tmHandlerRead+int(h.sid), h.lastHeard+h.readTimeout-s.w.Now())
}

// handlerReadTimeout: the read timeout of the handler for sid expired, or was moved by a
// packet read since it was armed. A socket that read nothing for its timeout throws
// SocketTimeoutException, and the LearnerHandler shuts down (at that very moment, not at
// the leader's next tick).
func (s *Server) handlerReadTimeout(sid int64) {
	l := s.leader
	if l == nil {
		return
	}
	h := l.handlerBySid(sid)
	if h == nil {
		return
	}
	if s.w.Now() < h.lastHeard+h.readTimeout {
		s.armHandlerRead(h)
		return
	}
	s.handlerShutdown(h, "read timeout: SocketTimeoutException")
}

// ping mirrors LearnerHandler.ping with its SyncLimitCheck.
func (s *Server) ping(h *learnerHandler) {
	if !h.sending {
		return
	}
	if h.currentTimeSet && s.w.Now()-h.currentTime >= s.cfg.SyncLimitTime() {
		s.handlerShutdown(h, "Closing connection to peer due to transaction timeout.")
		return
	}
	s.sendToLearner(h, s.packet(QuorumPacket{Type: PING, Zxid: s.leader.lastProposed}))
}

// leaderAcceptLearner mirrors the start of LearnerHandler.run: FOLLOWERINFO/OBSERVERINFO.
func (s *Server) leaderAcceptLearner(c sim.ConnID, p *QuorumPacket) {
	l := s.leader
	if l == nil || s.state != LEADING {
		// Only a leader listens on the quorum port (LearnerCnxAcceptor): the learner's
		// connect is refused.
		s.connKind.del(c)
		s.w.ResetConn(c)
		return
	}
	h := s.mem.handlers.big(learnerHandler{c: c, sid: p.Sid, observer: p.Type == OBSERVERINFO, lastHeard: s.w.Now(),
		readTimeout: s.cfg.InitLimitTime(), acceptedEpoch: p.Zxid.Epoch()})
	h.tickOfNextAckDeadline = l.tick + int64(s.cfg.InitLimit+s.cfg.SyncLimit) // getTickOfInitialAckDeadline
	if old := l.handlerBySid(h.sid); old != nil {
		s.handlerShutdown(old, "replaced by a new connection")
	}
	l.handlers = append(l.handlers, h)
	s.armHandlerRead(h)
	h.stage = lhWaitEpoch
	s.getEpochToPropose(h.sid, h.acceptedEpoch)
}

func (l *leaderState) handlerBySid(sid int64) *learnerHandler {
	for _, h := range l.handlers {
		if h.sid == sid {
			return h
		}
	}
	return nil
}

// leaderReceive handles a packet on a LearnerHandler's connection.
func (s *Server) leaderReceive(c sim.ConnID, p *QuorumPacket) {
	l := s.leader
	if l == nil {
		return
	}
	h := l.handler(c)
	if h == nil {
		return
	}
	h.lastHeard = s.w.Now()
	h.tickOfNextAckDeadline = l.tick + int64(s.cfg.SyncLimit) // getTickOfNextAckDeadline
	switch h.stage {
	case lhWaitEpoch, lhWaitEpochQuorum, lhWaitNLQuorum, lhWaitStartup:
		// The handler thread is blocked in a wait: the packet stays in the socket buffer
		// until the thread reads again (in the main loop, after UPTODATE).
		h.buffered = append(h.buffered, p)
	case lhWaitAckEpoch:
		if p.Type != ACKEPOCH {
			s.handlerShutdown(h, "First packet "+p.Type.String()+" is not ACKEPOCH")
			return
		}
		h.ackEpoch, h.peerLastZxid = p.Epoch, p.Zxid
		h.stage = lhWaitEpochQuorum
		if !s.waitForEpochAck(h.sid, p.Epoch, p.Zxid) {
			s.handlerShutdown(h, "Follower is ahead of the leader")
			return
		}
		if l.electionFinished && h.stage == lhWaitEpochQuorum {
			s.syncLearner(h)
		}
	case lhWaitNewLeaderAck:
		if p.Type != ACK {
			s.handlerShutdown(h, "Next packet "+p.Type.String()+" was supposed to be an ACK")
			return
		}
		h.stage = lhWaitNLQuorum
		s.waitForNewLeaderAck(h.sid, p.Zxid)
		if l.quorumFormed && h.stage == lhWaitNLQuorum {
			h.limitStarted = true // syncLimitCheck.start()
			h.readTimeout = s.cfg.SyncLimitTime()
			s.armHandlerRead(h)
			h.stage = lhWaitStartup
			if l.stage == stageRunning {
				s.sendUptodate(h)
			}
		}
	case lhRunning:
		switch p.Type {
		case ACK:
			s.updateAck(h, p.Zxid)
			if !h.observer {
				s.processAck(h.sid, p.Zxid)
			}
		case PING:
			// "Process the touches": LearnerMaster.touch -> SessionTrackerImpl.touchSession.
			if l.sessions != nil {
				for _, t := range p.Touches {
					l.sessions.touchSession(t.Session, t.Timeout, s.w.Now())
				}
			}
		case REVALIDATE:
			s.leaderRevalidateSession(h, p)
		case REQUEST:
			switch {
			case p.Req == nil:
			case p.Req.Op == OpSync:
				s.processSync(h) // a LearnerSyncRequest
			default:
				s.leaderSubmit(p.Req, h.sid) // request.setOwner(this LearnerHandler)
			}
		}
	}
}

// sendUptodate: waitForStartup returned; queue UPTODATE.
func (s *Server) sendUptodate(h *learnerHandler) {
	h.stage = lhRunning
	h.limitStarted = true
	h.readTimeout = s.cfg.SyncLimitTime()
	s.armHandlerRead(h)
	s.sendToLearner(h, s.packet(QuorumPacket{Type: UPTODATE, Zxid: -1}))
	for len(h.buffered) > 0 && s.leader != nil && h.stage == lhRunning {
		p := h.buffered[0]
		h.buffered = h.buffered[1:]
		s.leaderReceive(h.c, p)
	}
}

// syncLearner runs syncFollower for h and sends what it queued, then NEWLEADER
// (LearnerHandler.run after waitForEpochAck).
func (s *Server) syncLearner(h *learnerHandler) {
	l := s.leader
	db := s.db
	in := SyncInput{
		PeerLastZxid:      h.peerLastZxid,
		LastProcessedZxid: db.lastProcessedZxid(),
		CommittedLog:      db.committedLog,
		TxnLogSyncEnabled: s.cfg.SnapshotSizeFactor >= 0,
		ForceSnapSync:     s.cfg.ForceSnapshotSync,

		NoTruncInsideCacheRange: s.cfg.Mutants.NoTruncInsideCacheRange,
	}
	lr := s.mem.logReaders.big(txnLogReader{db: db})
	in.TxnLog = lr.proposals
	d := SyncFollower(in)
	if s.cfg.SeedsSyncRule {
		d = SeedsSyncFollower(in)
	}
	if s.cfg.Fixes.KeepOwnProposals && d.Mode == syncModeTRUNC && h.peerLastZxid.Epoch() == l.epoch &&
		h.peerLastZxid <= l.lastProposed {
		d = SyncDecision{Mode: syncModeDIFF, Queued: []QuorumPacket{{Type: DIFF, Zxid: d.MaxCommitted}},
			CurrentZxid: h.peerLastZxid, MinCommitted: d.MinCommitted, MaxCommitted: d.MaxCommitted,
			Branch: FixBranchOwnProposals}
		h.appliedUpTo = h.peerLastZxid
	}
	rec := s.mem.syncDecided.of(SyncDecided{Sid: s.sid, Learner: h.sid, Epoch: l.epoch, PeerLastZxid: h.peerLastZxid,
		LastProcessedZxid: in.LastProcessedZxid, MinCommitted: d.MinCommitted, MaxCommitted: d.MaxCommitted,
		Mode: d.Mode, Branch: d.Branch, CurrentZxid: d.CurrentZxid, ForceSnap: in.ForceSnapSync,
		TxnLogEnabled: in.TxnLogSyncEnabled})
	if offered := lr.read.Proposals; len(offered) > 0 {
		rec.TxnLogFirst, rec.TxnLogLast = offered[0].Zxid, offered[len(offered)-1].Zxid
	}
	if read := lr.read; read.Read {
		rec.TxnLogRead, rec.TxnLogSize, rec.TxnLogLimit = true, read.StorageSize, lr.limit
		rec.TxnLogAbove, rec.TxnLogTooBig = read.Above, read.TooBig
	}
	if d.NeedSnap {
		rec.Packets = []string{"SNAP " + in.LastProcessedZxid.String()}
	} else {
		rec.Packets = d.PacketStrings()
	}
	s.record(rec)
	h.sending = true
	if d.NeedSnap {
		s.sendToLearner(h, s.packet(QuorumPacket{Type: SNAP, Zxid: db.lastProcessedZxid(), Snap: db.tree.Clone()}))
	} else {
		for i := range d.Queued {
			s.sendToLearner(h, s.packet(d.Queued[i]))
		}
	}
	s.startForwarding(h, d.CurrentZxid)
	s.sendToLearner(h, s.packet(QuorumPacket{Type: NEWLEADER, Zxid: MakeZxid(l.epoch, 0)}))
	h.stage = lhWaitNewLeaderAck
}

// txnLogReader is syncFollower's db.getProposalsFromTxnLog(peerLastZxid,
// calculateTxnLogSizeLimit()), remembering what it read for the SyncDecided record: one
// object where a closure over three variables made four.
type txnLogReader struct {
	db    *zkDatabase
	limit int64
	read  txnLogRead
}

func (r *txnLogReader) proposals(start Zxid) []Proposal {
	r.limit = r.db.txnLogSizeLimit()
	r.read = r.db.proposalsFromTxnLog(start, r.limit)
	return r.read.Proposals
}

// startForwarding mirrors Leader.startForwarding. toBeApplied is always empty here: the
// model applies a txn in the same step that commits it.
func (s *Server) startForwarding(h *learnerHandler, lastSeenZxid Zxid) {
	l := s.leader
	if l.lastProposed > lastSeenZxid && !h.observer {
		for _, p := range l.outstanding {
			if p.txn.Zxid > lastSeenZxid {
				s.sendToLearner(h, s.packet(QuorumPacket{Type: PROPOSAL, Zxid: p.txn.Zxid, Txn: p.txn}))
			}
		}
	}
	h.forwarding = true
}

// sendToLearner is LearnerHandler.queuePacket (the sender thread writes in order).
func (s *Server) sendToLearner(h *learnerHandler, p *QuorumPacket) {
	if p.Type == PROPOSAL && h.limitStarted { // SyncLimitCheck.updateProposal
		if !h.currentTimeSet {
			h.currentTimeSet, h.currentTime, h.currentZxid = true, s.w.Now(), p.Zxid
		} else {
			h.nextIsSet, h.nextTime, h.nextZxid = true, s.w.Now(), p.Zxid
		}
	}
	s.w.Send(h.c, s.nid, p)
}

// updateAck mirrors SyncLimitCheck.updateAck.
func (s *Server) updateAck(h *learnerHandler, zxid Zxid) {
	if h.currentTimeSet && h.currentZxid == zxid {
		h.currentTime, h.currentZxid, h.currentTimeSet = h.nextTime, h.nextZxid, h.nextIsSet
		h.nextIsSet, h.nextTime, h.nextZxid = false, 0, 0
	} else if h.nextIsSet && h.nextZxid == zxid {
		h.nextIsSet, h.nextTime, h.nextZxid = false, 0, 0
	}
}

// handlerShutdown mirrors LearnerHandler.shutdown: close the socket, leave the learner sets.
func (s *Server) handlerShutdown(h *learnerHandler, why string) {
	s.handlerGone(h)
	s.note("learner handler for " + itoa(h.sid) + " shut down: " + why)
	s.connKind.del(h.c)
	s.w.Close(h.c, s.nid)
}

// handlerGone: LearnerHandler.run's finally (removeLearnerHandler). 3.8 leaves the sid in
// electingFollowers (and connectingFollowers), so Leader.waitForEpochAck can still count
// the ACKEPOCH of a learner that has since gone on to a newer epoch (built-in
// stale-ackepoch; the checker's onEstablished says why that is harmless).
func (s *Server) handlerGone(h *learnerHandler) {
	l := s.leader
	if i := slices.Index(l.handlers, h); i >= 0 {
		l.handlers = slices.Delete(l.handlers, i, i+1)
	}
}

func (s *Server) leaderLearnerClosed(c sim.ConnID) {
	if s.leader == nil {
		return
	}
	if h := s.leader.handler(c); h != nil {
		s.handlerGone(h)
		s.note("learner " + itoa(h.sid) + " closed its connection")
	}
}

// leaderRevalidateSession mirrors Leader.revalidateSession: a learner asks whether a
// reconnecting client's session is still valid (checkIfValidGlobalSession touches it); if
// so the learner's handler becomes the session's owner.
func (s *Server) leaderRevalidateSession(h *learnerHandler, p *QuorumPacket) {
	l := s.leader
	valid := l.sessions != nil && l.sessions.touchSession(p.Session, p.Timeout, s.w.Now())
	if valid {
		l.sessions.setOwner(p.Session, h.sid)
	}
	s.sendToLearner(h, s.packet(QuorumPacket{Type: REVALIDATE, Zxid: p.Zxid, Session: p.Session, Valid: valid}))
}

// processSync mirrors Leader.processSync: with nothing outstanding the learner gets SYNC at
// once; otherwise when the last proposal so far commits (tryToCommit -> sendSync).
func (s *Server) processSync(h *learnerHandler) {
	l := s.leader
	if len(l.outstanding) == 0 {
		s.sendToLearner(h, s.packet(QuorumPacket{Type: SYNC}))
		return
	}
	if l.pendingSyncs == nil {
		l.pendingSyncs = map[Zxid][]*learnerHandler{}
	}
	l.pendingSyncs[l.lastProposed] = append(l.pendingSyncs[l.lastProposed], h)
}

// leaderSubmit is the leader's request pipeline: PrepRequestProcessor turns a request into
// a txn with the next zxid, ProposalRequestProcessor proposes it and logs it. owner is the
// sid whose client connection the request came through (0: none, a session expiry).
func (s *Server) leaderSubmit(req *Request, owner int64) {
	l := s.leader
	if l == nil || l.stage != stageRunning {
		return
	}
	txn := s.prepRequest(req, l.lastProposed+1, owner)
	l.lastProposed = txn.Zxid
	p := s.mem.proposal.new()
	p.txn, p.acks = txn, p.ackBuf[:0]
	l.outstanding = append(l.outstanding, p)
	proposed := s.mem.proposed.new()
	*proposed = Proposed{Sid: s.sid, Txn: txn}
	s.record(proposed)
	// One packet for every follower: a packet is never changed once sent.
	var proposal *QuorumPacket
	for _, h := range l.handlers {
		if h.forwarding && !h.observer {
			if proposal == nil {
				proposal = s.mem.packet.new()
				*proposal = QuorumPacket{Type: PROPOSAL, Zxid: txn.Zxid, Txn: txn}
			}
			s.sendToLearner(h, proposal)
		}
	}
	s.syncProc.log(s, txn)
}

// processAck mirrors Leader.processAck for a voter's ACK of zxid.
func (s *Server) processAck(sid int64, zxid Zxid) {
	l := s.leader
	if l == nil || l.stage != stageRunning {
		return
	}
	if zxid.IsNewEpoch() || len(l.outstanding) == 0 || l.lastCommitted >= zxid {
		return
	}
	i := slices.IndexFunc(l.outstanding, func(p *proposal) bool { return p.txn.Zxid == zxid })
	if i < 0 {
		s.note("Trying to commit future proposal " + zxid.String())
		return
	}
	p := l.outstanding[i]
	if s.qv.IsVoter(sid) && !slices.Contains(p.acks, sid) {
		p.acks = append(p.acks, sid)
	}
	// tryToCommit in zxid order, then the ones after it that are ready.
	for len(l.outstanding) > 0 {
		head := l.outstanding[0]
		if !s.qv.ContainsQuorum(head.acks) {
			return
		}
		l.outstanding = dropFirst(l.outstanding)
		s.leaderCommit(head)
	}
}

// leaderCommit mirrors Leader.tryToCommit's commit: COMMIT to followers, INFORM to
// observers, and the leader's own apply.
func (s *Server) leaderCommit(p *proposal) {
	l := s.leader
	l.lastCommitted = p.txn.Zxid
	// One COMMIT and one INFORM for all the learners: a packet is never changed once sent.
	var commit, inform *QuorumPacket
	for _, h := range l.handlers {
		if !h.forwarding || p.txn.Zxid <= h.appliedUpTo {
			continue
		}
		if h.observer {
			if inform == nil {
				inform = s.packet(QuorumPacket{Type: INFORM, Zxid: p.txn.Zxid, Txn: p.txn})
			}
			s.sendToLearner(h, inform)
		} else {
			if commit == nil {
				commit = s.mem.packet.new()
				*commit = QuorumPacket{Type: COMMIT, Zxid: p.txn.Zxid}
			}
			s.sendToLearner(h, commit)
		}
	}
	s.applyCommitted(p.txn, "commit")
	if hs, ok := l.pendingSyncs[p.txn.Zxid]; ok && s.leader == l {
		delete(l.pendingSyncs, p.txn.Zxid)
		for _, h := range hs {
			if slices.Contains(l.handlers, h) {
				s.sendToLearner(h, s.packet(QuorumPacket{Type: SYNC}))
			}
		}
	}
}

// syncProcessor is SyncRequestProcessor: append to the log, fsync in groups, then ACK.
type syncProcessor struct {
	toFlush  []loggedTxn
	inFlight []loggedTxn // covered by the fsync in progress
	spare    []loggedTxn // an emptied inFlight, for the next toFlush
	token    uint64
	started  bool
	randRoll int   // [0, snapCount/2): varies the snapshot count between servers
	randSize int64 // [0, snapSizeInBytes/2): the same for the log size
}

// loggedTxn is a txn waiting for its fsync, with the role (*leaderState or *learnerState)
// that logged it: a ZooKeeperServer's SendAckRequestProcessor writes to its own Follower's
// socket, so an ACK never outlives the role. A new connection to a leader is a new
// Follower with a new pipeline: it never carries the old one's ACKs.
type loggedTxn struct {
	txn  *Txn
	role any
}

// start mirrors the start of SyncRequestProcessor.run, when zk.startup (the leader) or
// startupWithoutServing (a learner, at NEWLEADER) starts the processor thread:
// resetSnapshotStats, "so that not all of the servers in the ensemble take a snapshot at
// the same time".
func (sp *syncProcessor) start(s *Server) {
	sp.started = true
	sp.resetSnapshotStats(s)
}

// resetSnapshotStats mirrors SyncRequestProcessor.resetSnapshotStats, with the server's
// random stream for ThreadLocalRandom.
func (sp *syncProcessor) resetSnapshotStats(s *Server) {
	sp.randRoll = s.rng.IntN(s.cfg.SnapCount / 2)
	sp.randSize = int64(s.rng.Uint64()) % (snapSizeInBytes / 2) // Math.abs(nextLong() % ...)
	if sp.randSize < 0 {
		sp.randSize = -sp.randSize
	}
}

// shouldSnapshot mirrors SyncRequestProcessor.shouldSnapshot: more txns since the last
// roll than snapCount/2 + randRoll, or a log larger than snapSizeInBytes/2 + randSize.
func (sp *syncProcessor) shouldSnapshot(s *Server) bool {
	logCount, logSize := s.db.txnCount, s.db.txnSize()
	return logCount > s.cfg.SnapCount/2+sp.randRoll ||
		(snapSizeInBytes > 0 && logSize > snapSizeInBytes/2+sp.randSize)
}

// log mirrors SyncRequestProcessor.run for a txn: append, then roll the log and snapshot if
// shouldSnapshot, then queue it for the next flush.
func (sp *syncProcessor) log(s *Server, txn *Txn) {
	if !sp.started { // not reached: a role starts the processor before it logs
		sp.start(s)
	}
	s.db.append(txn)
	s.recordLogged(txn)
	var role any
	if s.leader != nil {
		role = s.leader
	} else if s.learner != nil {
		role = s.learner
	}
	sp.toFlush = append(sp.toFlush, loggedTxn{txn, role})
	if sp.shouldSnapshot(s) {
		sp.resetSnapshotStats(s)
		s.db.rollLog()
		// zks.takeSnapshot() on the "Snapshot Thread": here at once, so never "Too busy to snap".
		// FileSnap.serialize opens snapshot.<lastProcessedZxid> afresh: a learner whose
		// NEWLEADER txns are not applied yet rewrites its SNAP's snapshot in place, and a
		// crash before the next fsync can lose it (fix ZK-2846 keeps the durable one).
		if !(s.cfg.Fixes.CleanLogOnSnap && s.db.hasSnapshot(s.db.lastProcessedZxid())) {
			s.db.takeSnapshot(false)
			s.record(&SnapshotTaken{Sid: s.sid, Zxid: s.db.lastProcessedZxid(), Why: "snapCount"})
		}
	}
	if sp.token == 0 {
		sp.flush(s)
	}
}

// flush mirrors SyncRequestProcessor.flush: zks.getZKDatabase().commit() (flush the stream,
// then fsync).
func (sp *syncProcessor) flush(s *Server) {
	sp.inFlight, sp.toFlush, sp.spare = sp.toFlush, sp.spare, nil
	s.db.commit()
	sp.token = s.w.Fsync(s.nid)
}

// done: the fsync with this token completed: ACK what it covered, flush what queued since.
func (sp *syncProcessor) done(s *Server, token uint64) {
	if sp.token == 0 || token < sp.token {
		return
	}
	sp.token = 0
	acked := sp.inFlight
	sp.inFlight = nil
	for _, lt := range acked {
		s.ackLogged(lt)
	}
	// Only now may acked's array serve again: an ACK above may log (and flush) a txn.
	clear(acked)
	if sp.spare == nil {
		sp.spare = acked[:0]
	}
	if len(sp.toFlush) > 0 {
		sp.flush(s)
	}
}

// ackLogged is the processor after SyncRequestProcessor: the leader's AckRequestProcessor
// or a follower's SendAckRequestProcessor, if the role that logged the txn is still the one
// in force.
func (s *Server) ackLogged(lt loggedTxn) {
	switch {
	case s.state == LEADING && s.leader != nil && lt.role == any(s.leader):
		s.processAck(s.sid, lt.txn.Zxid)
	case s.state == FOLLOWING && s.learner != nil && s.learner.c >= 0 && lt.role == any(s.learner):
		ls := s.learner
		s.w.Send(ls.c, s.nid, s.mem.ack(lt.txn.Zxid))
		if ls.ackLdAfter != 0 && lt.txn.Zxid == ls.ackLdAfter {
			ls.ackLdAfter, ls.blockedToken = 0, 0 // Mutants ZK-4646+ZK-4685: the ACK-LD comes last
			s.learnerNewLeaderAck()
		}
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
