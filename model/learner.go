package model

import (
	"github.com/zabsim/zabsim/sim"
)

// learnerStage is where Learner.registerWithLeader / syncWithLeader / followLeader is.
type learnerStage uint8

const (
	lsConnecting     learnerStage = iota // connectToLeader, FOLLOWERINFO sent
	lsWaitSyncPacket                     // ACKEPOCH sent, reading DIFF/TRUNC/SNAP
	lsSyncing                            // syncWithLeader's loop, until UPTODATE
	lsBroadcast                          // followLeader / observeLeader loop
)

// learnerState is Learner (Follower or Observer) with its FollowerZooKeeperServer parts.
type learnerState struct {
	cleanLogUpTo Zxid // Fixes.CleanLogOnSnap: delete the log files up to it after NEWLEADER's fsync
	leader       int64
	c            sim.ConnID
	stage        learnerStage
	heard        bool // any packet from the leader on this connection
	connectStart sim.Time
	attempts     int
	newEpoch     int64
	syncMode     string // QuorumPeer.SyncMode while syncing: "DIFF", "SNAP", "TRUNC", "" (NONE)

	snapshotNeeded      bool
	syncSnapshot        bool
	writeToTxnLog       bool
	packetsNotCommitted []*Txn
	packetsCommitted    []Zxid
	requestsToAck       []*Txn
	blockedToken        uint64          // NEWLEADER waits for this fsync
	ackLdAfter          Zxid            // Mutants ZK-4646+ZK-4685: the NEWLEADER ACK follows the processor's ACK of this txn
	buffered            []*QuorumPacket // arrived while blocked
	pendingTxns         []*Txn          // FollowerZooKeeperServer.pendingTxns
	readTimeout         sim.Time

	// The LearnerZooKeeperServer's client parts: LearnerSessionTracker's touchTable (sent
	// with the next PING reply), the syncs waiting for the leader's SYNC
	// (FollowerZooKeeperServer.pendingSyncs), and Learner.pendingRevalidations.
	touchTable           map[int64]sim.Time // looked up; sorted when sent
	pendingSyncs         []*cnxnRequest
	pendingRevalidations map[int64]*serverCnxn // looked up only
}

// followLeader starts Follower.followLeader / Observer.observeLeader for leader sid.
func (s *Server) followLeader(leader int64) {
	s.learner = s.mem.learners.big(learnerState{leader: leader, c: -1, connectStart: s.w.Now(), snapshotNeeded: true,
		readTimeout: s.cfg.InitLimitTime()})
	s.learnerConnect()
}

// learnerConnect mirrors Learner.connectToLeader and the FOLLOWERINFO of registerWithLeader:
// up to 5 attempts within initLimit*tickTime, each bounded by what is left of that budget,
// leaderConnectDelayDuringRetryMs apart.
func (s *Server) learnerConnect() {
	ls := s.learner
	if ls == nil {
		return
	}
	remaining := ls.connectStart + s.cfg.InitLimitTime() - s.w.Now()
	if remaining <= 0 {
		s.learnerShutdown("connectToLeader exceeded on retries")
		return
	}
	ls.attempts++
	ls.heard = false
	ls.c = s.w.DialPort(s.nid, sim.NodeID(ls.leader), PortQuorum)
	s.setRoleConn(ls.c, connLeader)
	typ := FOLLOWERINFO
	if s.observer {
		typ = OBSERVERINFO
	}
	s.w.Send(ls.c, s.nid, s.packet(QuorumPacket{Type: typ, Zxid: MakeZxid(s.acceptedEpoch, 0), Sid: s.sid}))
	s.w.SetTimer(s.nid, tmLearnerRead, min(ls.readTimeout, remaining))
}

// learnerConnectFailed is the catch of Learner.connectToLeader: try again after
// leaderConnectDelayDuringRetryMs, unless 5 attempts were made or too little time is left.
func (s *Server) learnerConnectFailed() {
	ls := s.learner
	if ls.c >= 0 {
		s.connKind.del(ls.c)
		s.w.Close(ls.c, s.nid)
		ls.c = -1
	}
	remaining := ls.connectStart + s.cfg.InitLimitTime() - s.w.Now()
	if remaining <= s.cfg.LeaderConnectDelay || ls.attempts >= 5 {
		s.learnerShutdown("Failed connect to leader " + itoa(ls.leader))
		return
	}
	s.w.SetTimer(s.nid, tmLearnerConnect, s.cfg.LeaderConnectDelay)
}

// learnerReadTimeout: nothing from the leader for the socket timeout. While connecting,
// that is a connect attempt that timed out; afterwards the learner shuts down.
func (s *Server) learnerReadTimeout() {
	ls := s.learner
	if ls == nil {
		return
	}
	if ls.stage == lsConnecting && !ls.heard {
		s.learnerConnectFailed()
		return
	}
	s.learnerShutdown("read timeout: no packet from the leader")
}

// learnerConnClosed: the leader connection ended. A connect that was refused (reset before
// the leader said anything) is retried; a connection the leader accepted and then closed
// ends the registration, as the end of stream does in registerWithLeader.
func (s *Server) learnerConnClosed(c sim.ConnID) {
	ls := s.learner
	if ls == nil || ls.c != c {
		return
	}
	if !ls.heard && ls.stage == lsConnecting && s.w.WasReset(c, s.nid) {
		ls.c = -1
		s.learnerConnectFailed()
		return
	}
	s.learnerShutdown("connection to the leader closed")
}

// learnerShutdown mirrors Learner.shutdown then QuorumPeer going back to LOOKING.
func (s *Server) learnerShutdown(reason string) {
	ls := s.learner
	if ls == nil {
		return
	}
	s.leaveRole(reason, ls.syncMode == syncModeSNAP && !s.cfg.Mutants.KeepPartialSnap)
}

// learnerForward sends a client request to the leader (FollowerRequestProcessor).
func (s *Server) learnerForward(req *Request) {
	ls := s.learner
	if ls == nil || ls.c < 0 {
		return
	}
	s.w.Send(ls.c, s.nid, s.packet(QuorumPacket{Type: REQUEST, Req: req}))
}

// learnerReceive handles a packet from the leader.
func (s *Server) learnerReceive(c sim.ConnID, p *QuorumPacket) {
	ls := s.learner
	if ls == nil || ls.c != c {
		return
	}
	ls.heard = true
	s.w.SetTimer(s.nid, tmLearnerRead, ls.readTimeout)
	if ls.blockedToken != 0 {
		ls.buffered = append(ls.buffered, p)
		return
	}
	s.learnerProcess(p)
}

func (s *Server) learnerProcess(p *QuorumPacket) {
	ls := s.learner
	switch ls.stage {
	case lsConnecting:
		s.onLeaderInfo(p)
	case lsWaitSyncPacket:
		s.onSyncPacket(p)
	case lsSyncing:
		s.onSyncingPacket(p)
	case lsBroadcast:
		s.onBroadcastPacket(p)
	}
}

// onLeaderInfo mirrors the LEADERINFO part of Learner.registerWithLeader.
func (s *Server) onLeaderInfo(p *QuorumPacket) {
	ls := s.learner
	if p.Type != LEADERINFO {
		s.learnerShutdown("First packet " + p.Type.String() + " from the leader is not LEADERINFO")
		return
	}
	newEpoch := p.Zxid.Epoch()
	epochField := int64(-1)
	switch {
	case s.cfg.Mutants.EpochFromLastZxid:
		// ZK-335 (before Zab 1.0): no acceptedEpoch; Follower.followLeader only refused a
		// leader whose epoch is below that of its own last zxid.
		if last := s.lastLoggedZxid().Epoch(); newEpoch < last {
			s.learnerShutdown("Leader epoch " + itoa(newEpoch) + " is less than our epoch " + itoa(last))
			return
		}
		epochField = s.currentEpoch
		s.setAcceptedEpoch(newEpoch)
	case newEpoch > s.acceptedEpoch:
		epochField = s.currentEpoch
		s.setAcceptedEpoch(newEpoch)
	case newEpoch == s.acceptedEpoch:
		// -1: "we are not going to send an ack for this epoch"
	default:
		s.learnerShutdown("Leaders epoch, " + itoa(newEpoch) + " is less than accepted epoch, " + itoa(s.acceptedEpoch))
		return
	}
	ls.newEpoch = newEpoch
	ls.stage = lsWaitSyncPacket
	s.setPhase(PhaseSynchronization)
	s.w.Send(ls.c, s.nid, s.packet(QuorumPacket{Type: ACKEPOCH, Zxid: s.lastLoggedZxid(), Epoch: epochField}))
}

// onSyncPacket mirrors the first packet of Learner.syncWithLeader.
func (s *Server) onSyncPacket(p *QuorumPacket) {
	ls := s.learner
	db := s.db
	switch p.Type {
	case DIFF:
		ls.syncMode = syncModeDIFF
		ls.snapshotNeeded = false
		if s.cfg.Mutants.DiffSetsLastProcessed {
			// ZK-2355 (before 1789e0d6f): setlastProcessedZxid(qp.getZxid()) ran after the
			// switch for every mode, so a DIFF claims its txns before they arrive.
			db.tree.LastProcessedZxid = p.Zxid
		}
	case SNAP:
		ls.syncMode = syncModeSNAP
		// deserializeSnapshot: clear the database, load the leader's tree (memory only).
		db.clearTo(p.Snap.Clone())
		db.initialized = true
		db.tree.LastProcessedZxid = p.Zxid
		ls.syncSnapshot = true
		s.recordLoaded("snap", p.Zxid, 0, nil)
		if s.cfg.Fixes.CleanLogOnSnap {
			db.rollLog()
			ls.cleanLogUpTo = p.Zxid
		}
	case TRUNC:
		ls.syncMode = syncModeTRUNC
		removed, dropped, ok := db.truncateLog(p.Zxid)
		if !ok {
			if len(dropped) > 0 { // Fixes.DropSnapshotsOnTrunc gave up the data dir
				s.record(&SnapshotsDropped{Sid: s.sid, Above: p.Zxid, Zxids: dropped})
			}
			s.note("Not able to truncate the log " + p.Zxid.String() + ": exit QUORUM_PACKET_ERROR")
			s.w.Crash(s.nid)
			return
		}
		if len(dropped) > 0 {
			s.record(&SnapshotsDropped{Sid: s.sid, Above: p.Zxid, Zxids: dropped})
		}
		s.record(&Truncated{Sid: s.sid, Zxid: p.Zxid, Removed: removed})
		db.tree.LastProcessedZxid = p.Zxid
		s.recordLoaded("trunc", db.lastLoad.snap, db.lastLoad.replayed, nil)
	default:
		s.note("Got unexpected packet from leader: " + p.Type.String() + ", exiting")
		s.w.Crash(s.nid)
		return
	}
	ls.writeToTxnLog = !ls.snapshotNeeded
	ls.stage = lsSyncing
}

// onSyncingPacket mirrors the loop of Learner.syncWithLeader until UPTODATE.
func (s *Server) onSyncingPacket(p *QuorumPacket) {
	ls := s.learner
	switch p.Type {
	case PROPOSAL:
		ls.packetsNotCommitted = append(ls.packetsNotCommitted, p.Txn)
	case COMMIT:
		if !ls.writeToTxnLog {
			if len(ls.packetsNotCommitted) == 0 {
				s.learnerShutdown("COMMIT " + p.Zxid.String() + " with no pending proposal") // NPE in syncWithLeader
				return
			}
			head := ls.packetsNotCommitted[0]
			if head.Zxid != p.Zxid {
				s.note("Committing " + p.Zxid.String() + ", but next proposal is " + head.Zxid.String())
				return
			}
			// zk.processTxn(hdr, txn): in memory, not into the committedLog.
			s.db.tree.ProcessTxn(head)
			s.recordCommitted(head, "sync")
			ls.packetsNotCommitted = ls.packetsNotCommitted[1:]
		} else {
			ls.packetsCommitted = append(ls.packetsCommitted, p.Zxid)
		}
	case INFORM:
		if !ls.writeToTxnLog {
			s.db.tree.ProcessTxn(p.Txn)
			s.recordCommitted(p.Txn, "sync")
		} else {
			ls.packetsNotCommitted = append(ls.packetsNotCommitted, p.Txn)
			ls.packetsCommitted = append(ls.packetsCommitted, p.Txn.Zxid)
		}
	case NEWLEADER:
		s.onNewLeader(p)
	case UPTODATE:
		s.onUptodate()
	}
}

// onNewLeader mirrors the NEWLEADER case of syncWithLeader (3.8.5+, ZOOKEEPER-4785):
// snapshot if needed, persist every pending proposal and fsync, then currentEpoch, then ACK.
// The mutants put back the orders the fixes removed (see Mutants).
func (s *Server) onNewLeader(p *QuorumPacket) {
	ls := s.learner
	m := &s.cfg.Mutants
	if s.cfg.Fixes.UpdatingEpochMarker {
		// ZOOKEEPER-1653's fix: the marker says "the epoch is being updated" until
		// setCurrentEpoch, so that loadDataBase can finish the job after a crash.
		s.w.Disk(s.nid).WriteAtomic(fileUpdatingEpoch, ls.newEpoch)
	}
	if ls.snapshotNeeded {
		s.db.takeSnapshot(ls.syncSnapshot)
		s.record(&SnapshotTaken{Sid: s.sid, Zxid: s.db.lastProcessedZxid(), Why: "NEWLEADER after " + ls.syncMode})
	}
	ls.writeToTxnLog = true
	ls.syncMode = ""
	if m.EpochBeforePersist || m.PersistAfterUptodate {
		// 3.8.0-3.8.4 (ZK-4643) and 3.5.3-3.6.2: setCurrentEpoch right after the snapshot.
		s.setCurrentEpoch(ls.newEpoch)
	}
	if m.PersistAfterUptodate {
		// ZK-3911 (before 31032cf98): the ACK at once; the processors start, the socket
		// timeout drops to syncLimit and the txns are logged only after UPTODATE.
		s.w.Send(ls.c, s.nid, s.packet(QuorumPacket{Type: ACK, Zxid: MakeZxid(ls.newEpoch, 0)}))
		return
	}
	s.syncProc.start(s) // zk.startupWithoutServing(): the request processors
	ls.readTimeout = s.cfg.SyncLimitTime()
	s.w.SetTimer(s.nid, tmLearnerRead, ls.readTimeout)
	if m.AckLdBeforeFlush {
		// ZK-4646 (3.5.9/3.6.3-3.8.4): fzk.logRequest hands the txns to the asynchronous
		// SyncRequestProcessor, which ACKs each after its fsync; the ACK goes at once.
		var last Zxid
		if !s.observer {
			for _, txn := range ls.packetsNotCommitted {
				ls.pendingTxns = append(ls.pendingTxns, txn)
				s.syncProc.log(s, txn)
				last = txn.Zxid
			}
			ls.packetsNotCommitted = nil
		}
		if m.AckProposalBeforeAckLd && last > 0 {
			// ZK-4685 as well: the processor's ACKs win the race with the learner thread.
			ls.ackLdAfter, ls.blockedToken = last, waitProcessorAck
			return
		}
		s.learnerNewLeaderAck()
		return
	}
	if !s.observer {
		for _, txn := range ls.packetsNotCommitted { // fzk.appendRequest
			s.db.append(txn)
			s.recordLogged(txn)
			ls.pendingTxns = append(ls.pendingTxns, txn)
			ls.requestsToAck = append(ls.requestsToAck, txn)
		}
		ls.packetsNotCommitted = nil
	}
	if s.observer && !(ls.snapshotNeeded && ls.syncSnapshot) {
		s.learnerNewLeaderPersisted()
		return
	}
	// getZKDatabase().commit(): the learner thread blocks until the fsync completes.
	s.db.commit()
	ls.blockedToken = s.w.Fsync(s.nid)
}

// waitProcessorAck is the blockedToken of a learner thread that waits for the processor's ACK
// of ackLdAfter (no fsync token is ever this large), so packets wait as they do for an fsync.
const waitProcessorAck = ^uint64(0)

// learnerNewLeaderPersisted: the NEWLEADER fsync completed: currentEpoch, then the ACK.
func (s *Server) learnerNewLeaderPersisted() {
	ls := s.learner
	if ls.cleanLogUpTo > 0 { // Fixes.CleanLogOnSnap: the snapshot is on disk now
		removed := s.db.removeLogsUpTo(ls.cleanLogUpTo)
		s.record(&LogCleaned{Sid: s.sid, UpTo: ls.cleanLogUpTo, Files: removed})
		ls.cleanLogUpTo = 0
	}
	if s.cfg.Mutants.AckProposalBeforeAckLd {
		// ZK-4685 (before 34f292924): the proposals' ACKs go out as they are persisted,
		// ahead of the NEWLEADER ACK, not after the UPTODATE ack.
		for _, txn := range ls.requestsToAck {
			s.w.Send(ls.c, s.nid, s.packet(QuorumPacket{Type: ACK, Zxid: txn.Zxid}))
		}
		ls.requestsToAck = nil
	}
	s.learnerNewLeaderAck()
}

// learnerNewLeaderAck ends the NEWLEADER case: currentEpoch (unless a mutant wrote it
// earlier), the ACK, then the packets that arrived meanwhile.
func (s *Server) learnerNewLeaderAck() {
	ls := s.learner
	if !s.cfg.Mutants.EpochBeforePersist {
		s.setCurrentEpoch(ls.newEpoch)
	}
	s.w.Send(ls.c, s.nid, s.packet(QuorumPacket{Type: ACK, Zxid: MakeZxid(ls.newEpoch, 0)}))
	for len(ls.buffered) > 0 && s.learner == ls && ls.blockedToken == 0 {
		p := ls.buffered[0]
		ls.buffered = ls.buffered[1:]
		s.learnerProcess(p)
	}
}

// onUptodate mirrors the end of syncWithLeader: UPTODATE ack, start serving, then ACK and
// log and commit what was held.
func (s *Server) onUptodate() {
	ls := s.learner
	s.w.Send(ls.c, s.nid, s.packet(QuorumPacket{Type: ACK, Zxid: MakeZxid(ls.newEpoch, 0)}))
	if s.cfg.Mutants.PersistAfterUptodate {
		// ZK-3911: zk.startup() and the syncLimit socket timeout came after UPTODATE.
		s.syncProc.start(s)
		ls.readTimeout = s.cfg.SyncLimitTime()
		s.w.SetTimer(s.nid, tmLearnerRead, ls.readTimeout)
	}
	s.updateElectionVote(ls.newEpoch)
	ls.stage = lsBroadcast
	// zk.startServing(): the LearnerSessionTracker, then the server serves clients.
	s.nextSessionID = initializeNextSessionID(s.sid, s.w.Now())
	s.setPhase(PhaseBroadcast)
	if !s.observer {
		for _, txn := range ls.requestsToAck {
			s.w.Send(ls.c, s.nid, s.packet(QuorumPacket{Type: ACK, Zxid: txn.Zxid}))
		}
		ls.requestsToAck = nil
		for _, txn := range ls.packetsNotCommitted {
			ls.pendingTxns = append(ls.pendingTxns, txn)
			s.syncProc.log(s, txn)
		}
		ls.packetsNotCommitted = nil
		committed := ls.packetsCommitted
		ls.packetsCommitted = nil
		for _, z := range committed {
			if !s.followerCommit(z) {
				return
			}
		}
		return
	}
	for _, txn := range ls.packetsNotCommitted {
		if len(ls.packetsCommitted) == 0 || txn.Zxid != ls.packetsCommitted[0] {
			s.note("Committing " + txn.Zxid.String() + ", but next proposal is not committed")
			continue
		}
		ls.packetsCommitted = ls.packetsCommitted[1:]
		s.observerCommit(txn)
	}
	ls.packetsNotCommitted = nil
}

// onBroadcastPacket mirrors Follower.processPacket / Observer.processPacket.
func (s *Server) onBroadcastPacket(p *QuorumPacket) {
	ls := s.learner
	switch p.Type {
	case PING:
		// Learner.ping: the reply carries the session touches since the last one.
		s.w.Send(ls.c, s.nid, s.packet(QuorumPacket{Type: PING, Zxid: p.Zxid, Touches: ls.touchSnapshot()}))
	case SYNC:
		s.learnerSync()
	case REVALIDATE:
		s.revalidate(p)
	case PROPOSAL:
		if s.observer {
			return // "Ignoring proposal"
		}
		ls.pendingTxns = append(ls.pendingTxns, p.Txn)
		s.syncProc.log(s, p.Txn)
	case COMMIT:
		if s.observer {
			return
		}
		s.followerCommit(p.Zxid)
	case INFORM:
		if s.observer {
			s.observerCommit(p.Txn)
		}
	case UPTODATE:
		s.note("Received an UPTODATE message after Follower started")
	}
}

// followerCommit mirrors FollowerZooKeeperServer.commit. It reports false if the process
// exited.
func (s *Server) followerCommit(zxid Zxid) bool {
	ls := s.learner
	if len(ls.pendingTxns) == 0 {
		s.note("Committing " + zxid.String() + " without seeing txn")
		return true
	}
	head := ls.pendingTxns[0]
	if head.Zxid != zxid {
		s.note("Committing zxid " + zxid.String() + " but next pending txn " + head.Zxid.String() + ": exit UNMATCHED_TXN_COMMIT")
		s.w.Crash(s.nid)
		return false
	}
	ls.pendingTxns = dropFirst(ls.pendingTxns)
	s.applyCommitted(head, "commit")
	return true
}

// observerCommit mirrors ObserverZooKeeperServer.commitRequest: log, then apply.
func (s *Server) observerCommit(txn *Txn) {
	s.syncProc.log(s, txn)
	s.applyCommitted(txn, "inform")
}
