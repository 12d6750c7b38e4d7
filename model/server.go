package model

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/zabsim/zabsim/sim"
)

// Timer kinds of a server (sim timers are per node and per kind).
const (
	tmLoopback       = iota // deliver notifications sent to self (QuorumCnxManager loopback)
	tmNotTimeout            // lookForLeader's poll timeout
	tmFinalize              // lookForLeader's finalizeWait
	tmLeaderTick            // Leader.lead loop: every tickTime/2
	tmLeaderPhase           // a discovery wait of Leader.lead ran past initLimit*tickTime
	tmLearnerRead           // the learner's socket read timeout
	tmLearnerConnect        // Learner.connectToLeader: retry after leaderConnectDelayDuringRetryMs
	tmObserverDelay         // Observer: random delay before looking again
	tmStartLooking          // QuorumPeer.run: go back to lookForLeader
	tmSessionExpiry         // the leader's SessionTrackerImpl: wake at the next expiration time
	tmElectionCPU           // Mutants.VoteOrderNotTotal: the election thread takes its next notification

	// tmHandlerRead + sid is the socket read timeout of the leader's LearnerHandler for sid.
	tmHandlerRead = 32
)

// Request is a client request as the server pipeline carries it (server/Request.java).
// A Request is never changed once it is submitted: a learner and the leader share it.
type Request struct {
	SessionID int64
	Cxid      int32
	Op        OpCode
	Path      string
	Data      string
	Version   int32 // expected version for setData/delete/check; -1 any
	Ephemeral bool
	Sequence  bool
	Timeout   sim.Time   // createSession
	Ops       []*Request // multi
	// Internal marks a request of the test harness's pseudo-session (Ensemble.Write), which
	// no session tracker knows: PrepRequestProcessor skips checkSession for it. ZooKeeper
	// has no such requests.
	Internal bool
}

// reqKey identifies a request across servers.
type reqKey struct {
	session int64
	cxid    int32
}

// Server is a ZooKeeper server (QuorumPeer with its ZooKeeperServer), as a sim.Node.
type Server struct {
	w        *sim.World
	mem      *serverSlabs // survives a crash; shared in an Ensemble, reused after its Memory's Reset
	cfg      *Config
	sid      int64
	nid      sim.NodeID
	observer bool
	qv       *QuorumMaj // the voters of the configuration this process started with
	// configData is quorumConfigData() for qv, made with it (see useConfig).
	configData string
	// configured is the voter list of the server's configuration file: read at each
	// (re)start, as QuorumPeerConfig reads zoo.cfg (reconfigured: it changed since qv was
	// made from it; an unchanged file gives the same verifier, which is kept).
	configured   []int64
	reconfigured bool
	rng          *rand.Rand

	db            *zkDatabase
	acceptedEpoch int64
	currentEpoch  int64

	state       ServerState
	phase       ZabPhase
	currentVote Vote

	// QuorumCnxManager
	elConn    []sim.ConnID    // per sid: the election connection, -1 none
	elPending []*Notification // per sid: the one queued message (SEND_CAPACITY 1)
	elLast    []*Notification // per sid: the last message sent (QuorumCnxManager.lastMessageSent)
	loopback  []*Notification
	hello     *electionHello // what every election connection it opens starts with
	connKind  connTable      // what each connection of the process is for
	// roleConns are the connections given a role kind (connLearner, connLeader) since the
	// last closeRoleConns, some closed since: what it closes, without a scan of every
	// connection id the process has seen (a learner that rejoins in a loop sees thousands).
	roleConns []sim.ConnID

	fle      election
	leader   *leaderState
	learner  *learnerState
	syncProc syncProcessor

	// pending local requests waiting for their commit (session, cxid) -> who to answer
	waiting map[reqKey]waiter
	// client connections (NIOServerCnxnFactory's cnxns), looked up only
	cnxns map[sim.ConnID]*serverCnxn
	// nextSessionID is the session tracker's nextSessionId (leader or learner).
	nextSessionID int64
	// OnCommit, if set, is told of every txn this server applies as committed.
	OnCommit func(s *Server, txn *Txn, rc int32)
}

type connKind uint8

// connTable maps a connection to its kind: a slice indexed by the connection's id (a World
// numbers its connections from 0), not a map, since every message looks its kind up. An
// entry is the kind plus one; 0 is no entry.
type connTable []connKind

// get is c's kind, and whether c has one.
func (t connTable) get(c sim.ConnID) (connKind, bool) {
	if c < 0 || int(c) >= len(t) || t[c] == 0 {
		return connUnknown, false
	}
	return t[c] - 1, true
}

// kind is c's kind: connUnknown when it has none, as a map's zero value was.
func (t connTable) kind(c sim.ConnID) connKind {
	k, _ := t.get(c)
	return k
}

func (t *connTable) set(c sim.ConnID, k connKind) {
	if n := len(*t); int(c) >= n {
		*t = slices.Grow(*t, int(c)+1-n)[:c+1]
		clear((*t)[n:])
	}
	(*t)[c] = k + 1
}

func (t connTable) del(c sim.ConnID) {
	if c >= 0 && int(c) < len(t) {
		t[c] = 0
	}
}

const (
	connUnknown connKind = iota
	connElection
	connLearner // leader side: a LearnerHandler's connection
	connLeader  // learner side: the connection to the leader
	connClient  // a client connection (after its ConnectRequest)
)

// NewServer builds server sid of the ensemble described by cfg (normalised) and adds it to w.
func NewServer(w *sim.World, cfg *Config, sid int64) (*Server, error) {
	return newServer(w, cfg, sid, new(serverSlabs))
}

// newServer is NewServer making its values from mem.
func newServer(w *sim.World, cfg *Config, sid int64, mem *serverSlabs) (*Server, error) {
	s := &Server{w: w, cfg: cfg, sid: sid, nid: sim.NodeID(sid), observer: cfg.IsObserver(sid),
		configured: cfg.Voters(), mem: mem}
	s.hello = &electionHello{Sid: sid}
	s.useConfig()
	if err := w.Add(s.nid, s); err != nil {
		return nil, err
	}
	s.rng = w.Stream("server/" + strconv.FormatInt(sid, 10))
	s.resetVolatile(newDataTree(&s.mem.tree))
	return s, nil
}

// quorumConfigData is what initConfigInZKDatabase writes to /zookeeper/config for the
// configuration this process runs with: its voters, then the observers.
func (s *Server) quorumConfigData() string {
	var observers []int64
	for sid := s.cfg.Servers + 1; sid <= s.cfg.Servers+s.cfg.Observers; sid++ {
		observers = append(observers, int64(sid))
	}
	return quorumConfigData(s.qv.Voters(), observers)
}

// useConfig makes the quorum verifier of the configured voters, and /zookeeper/config's
// text with it (the same text until a restart with another configuration).
func (s *Server) useConfig() {
	s.qv = NewQuorumMaj(s.configured...)
	s.configData = s.quorumConfigData()
}

// Reconfigure changes the voter list of the server's configuration file. Like an edit of
// zoo.cfg, it takes effect when the server next starts.
func (s *Server) Reconfigure(voters []int64) {
	s.configured, s.reconfigured = slices.Clone(voters), true
}

// Voters is the voter list the running server uses.
func (s *Server) Voters() []int64 { return s.qv.Voters() }

// Sid is the server's id.
func (s *Server) Sid() int64 { return s.sid }

// State is the server's peer state.
func (s *Server) State() ServerState { return s.state }

// Phase is the server's Zab phase.
func (s *Server) Phase() ZabPhase { return s.phase }

// IsObserver reports whether the server is an observer.
func (s *Server) IsObserver() bool { return s.observer }

// CurrentEpoch and AcceptedEpoch are the values of the epoch files.
func (s *Server) CurrentEpoch() int64  { return s.currentEpoch }
func (s *Server) AcceptedEpoch() int64 { return s.acceptedEpoch }

// LastProcessedZxid is the in-memory tree's lastProcessedZxid.
func (s *Server) LastProcessedZxid() Zxid { return s.db.lastProcessedZxid() }

// Tree is the server's in-memory data tree (read-only for callers).
func (s *Server) Tree() *DataTree { return s.db.tree }

// Up reports whether the server process is running.
func (s *Server) Up() bool { return s.w.IsUp(s.nid) }

// Serving reports whether the server is a leader or learner in BROADCAST.
func (s *Server) Serving() bool {
	return s.phase == PhaseBroadcast && (s.state == LEADING || s.state == FOLLOWING || s.state == OBSERVING)
}

// LeaderSid is the leader this server follows or is, or -1.
func (s *Server) LeaderSid() int64 {
	switch s.state {
	case LEADING:
		return s.sid
	case FOLLOWING, OBSERVING:
		return s.currentVote.Leader
	}
	return -1
}

// resetVolatile drops all volatile state, as a process start does; the in-memory tree
// becomes tree (nil at a boot, whose loadDataBase makes it at once).
func (s *Server) resetVolatile(tree *DataTree) {
	n := s.cfg.Servers + s.cfg.Observers + 1
	s.db = newZKDatabase(s.cfg, s.w.Disk(s.nid), tree, s.mem)
	s.db.configData = s.configData
	// A restart reuses the tables of the process before it, emptied: nothing of that
	// process outlives its crash (its timers and connections are gone with it).
	if len(s.elConn) != n {
		s.elConn, s.elPending, s.elLast = make([]sim.ConnID, n), make([]*Notification, n), make([]*Notification, n)
		s.waiting, s.cnxns = map[reqKey]waiter{}, map[sim.ConnID]*serverCnxn{}
	}
	for i := range s.elConn {
		s.elConn[i] = -1
	}
	clear(s.elPending)
	clear(s.elLast)
	clear(s.connKind)
	s.roleConns = s.roleConns[:0]
	clear(s.waiting)
	clear(s.cnxns)
	s.loopback = nil
	s.fle = election{}
	s.leader, s.learner = nil, nil
	s.syncProc = syncProcessor{}
	s.nextSessionID = 0
	s.state, s.phase = LOOKING, PhaseElection
}

func (s *Server) record(r sim.Message) { s.w.Record(s.nid, r) }

func (s *Server) note(text string) { s.record(&Note{Sid: s.sid, Text: text}) }

// --- sim.Node ---

// Start boots the server: QuorumPeer.start (loadDataBase, then the election).
func (s *Server) Start() { s.boot() }

// Restart boots the server again from its disk.
func (s *Server) Restart() { s.boot() }

func (s *Server) boot() {
	if s.reconfigured {
		s.useConfig()
		s.reconfigured = false
	}
	s.resetVolatile(nil)
	if why := s.loadDataBase("disk"); why != "" {
		// QuorumPeer.start: "Unable to run quorum server" (a RuntimeException): it exits.
		s.record(&StartRefused{Sid: s.sid, Reason: why})
		s.w.Crash(s.nid)
		return
	}
	// QuorumPeer.startLeaderElection: the vote a peer reports until it decides.
	s.currentVote = Vote{Leader: s.sid, Zxid: s.lastLoggedZxid(), PeerEpoch: s.currentEpoch}
	s.setState(LOOKING, PhaseElection, "")
	s.lookForLeader()
}

// Crash drops everything volatile; the world has closed the connections and timers.
func (s *Server) Crash() {
	s.resetVolatile(newDataTree(&s.mem.tree))
}

// loadDataBase mirrors QuorumPeer.loadDataBase: the database from disk, then the epoch
// files (derived from the last zxid when missing, as on an upgrade). It returns why the
// server cannot start ("" if it can): a last zxid of an epoch above currentEpoch (a crash
// between a sync's NEWLEADER persistence and its currentEpoch write: ZOOKEEPER-1653, whose
// updatingEpoch fix went into 3.4 only, Fixes.UpdatingEpochMarker), or an acceptedEpoch
// below currentEpoch. 3.8's currentEpoch.tmp escape does not arise: an epoch file is
// written whole or not at all here.
func (s *Server) loadDataBase(from string) string {
	snapZxid := Zxid(0)
	if snap := s.db.latestSnapshot(); snap != nil {
		snapZxid = snap.tree.LastProcessedZxid
	}
	n, log := s.db.loadDataBase()
	s.recordLoaded(from, snapZxid, n, log)
	disk := s.w.Disk(s.nid)
	lastZxid := s.db.lastProcessedZxid()
	lastEpoch := lastZxid.Epoch()
	var ok bool
	if s.currentEpoch, ok = readEpoch(disk, fileCurrentEpoch); !ok {
		s.currentEpoch = lastEpoch
		s.writeEpoch(fileCurrentEpoch, lastEpoch)
	}
	if lastEpoch > s.currentEpoch {
		if _, marked := readEpoch(disk, fileUpdatingEpoch); !marked || !s.cfg.Fixes.UpdatingEpochMarker {
			return fmt.Sprintf("The current epoch, %x, is older than the last zxid, %d", s.currentEpoch, int64(lastZxid))
		}
		// ZOOKEEPER-1653's fix (branch-3.4, c62f2ffa7): terminated between the snapshot
		// and the epoch write, so the epoch is the last zxid's.
		s.note("updatingEpoch found: setting current epoch to " + itoa(lastEpoch))
		s.setCurrentEpoch(lastEpoch)
	}
	if s.acceptedEpoch, ok = readEpoch(disk, fileAcceptedEpoch); !ok {
		s.acceptedEpoch = lastEpoch
		s.writeEpoch(fileAcceptedEpoch, lastEpoch)
	}
	if s.acceptedEpoch < s.currentEpoch {
		return fmt.Sprintf("The accepted epoch, %x is less than the current epoch, %x", s.acceptedEpoch, s.currentEpoch)
	}
	return ""
}

// recordLoaded records a load; log is the txn log as the load just read it (nil: read it).
func (s *Server) recordLoaded(from string, snapZxid Zxid, replayed int, log []*Txn) {
	s.record(s.mem.loaded.of(Loaded{Sid: s.sid, From: from, SnapZxid: snapZxid, Replayed: replayed,
		LastZxid: s.db.lastProcessedZxid(), History: s.history(log)}))
}

// history is the server's txns as the checker tracks them: the committedLog can be
// partial, so it is the log's txns up to lastProcessedZxid. txns is the log if the caller
// has just read it (nil: it is read here).
func (s *Server) history(txns []*Txn) []ZxidHash {
	if txns == nil {
		txns = s.db.readTxns(s.db.logFiles())
	}
	out := array(s.mem.inMemory, &s.mem.histories, len(txns))[:0]
	for _, t := range txns {
		if t.Zxid <= s.db.lastProcessedZxid() {
			out = append(out, ZxidHash{t.Zxid, t.Hash()})
		}
	}
	return out
}

// writeEpoch writes an epoch file (QuorumPeer.writeLongToFile: atomic and synced).
func (s *Server) writeEpoch(file string, epoch int64) {
	s.w.Disk(s.nid).WriteAtomic(file, epoch)
	s.record(s.mem.epoch.of(EpochWritten{Sid: s.sid, File: file, Epoch: epoch}))
}

func (s *Server) setAcceptedEpoch(e int64) {
	s.acceptedEpoch = e
	s.writeEpoch(fileAcceptedEpoch, e)
}

func (s *Server) setCurrentEpoch(e int64) {
	s.currentEpoch = e
	s.writeEpoch(fileCurrentEpoch, e)
	if s.cfg.Fixes.UpdatingEpochMarker {
		s.w.Disk(s.nid).Remove(fileUpdatingEpoch) // the epoch is written: the marker goes
	}
}

func (s *Server) setState(st ServerState, ph ZabPhase, reason string) {
	s.state, s.phase = st, ph
	s.record(s.mem.state.of(StateChange{Sid: s.sid, State: st, Phase: ph, Epoch: s.currentEpoch, Reason: reason}))
}

func (s *Server) setPhase(ph ZabPhase) {
	if s.phase != ph {
		s.setState(s.state, ph, "")
	}
}

// Accept notes a new connection; its first message says what it is for.
func (s *Server) Accept(c sim.ConnID, peer sim.NodeID) {
	s.connKind.set(c, connUnknown)
}

// Receive dispatches a message by the connection it came on.
func (s *Server) Receive(c sim.ConnID, m sim.Message) {
	switch msg := m.(type) {
	case *electionHello:
		s.onElectionHello(c, msg)
	case *Notification:
		s.onNotification(msg)
	case *QuorumPacket:
		switch s.connKind.kind(c) {
		case connLeader:
			s.learnerReceive(c, msg)
		case connLearner:
			s.leaderReceive(c, msg)
		case connUnknown:
			if msg.Type == FOLLOWERINFO || msg.Type == OBSERVERINFO {
				s.setRoleConn(c, connLearner)
				s.leaderAcceptLearner(c, msg)
			} else {
				s.w.Close(c, s.nid)
			}
		case connClient:
			s.clientReceive(c, m)
		}
	default:
		s.receiveOther(c, m)
	}
}

// receiveOther handles the client protocol: a ConnectRequest opens a client connection
// (NIOServerCnxn.readConnectRequest), anything else goes to the connection's session.
func (s *Server) receiveOther(c sim.ConnID, m sim.Message) {
	switch s.connKind.kind(c) {
	case connUnknown:
		if cr, ok := m.(*ConnectRequest); ok {
			s.processConnectRequest(c, cr)
			return
		}
	case connClient:
		s.clientReceive(c, m)
		return
	}
	s.w.Close(c, s.nid)
	s.connKind.del(c)
}

// Closed routes a connection's end to whoever owned it.
func (s *Server) Closed(c sim.ConnID) {
	kind, ok := s.connKind.get(c)
	if !ok {
		return
	}
	s.connKind.del(c)
	switch kind {
	case connElection:
		for i, ec := range s.elConn {
			if ec == c {
				s.elConn[i] = -1
			}
		}
	case connLearner:
		s.leaderLearnerClosed(c)
	case connLeader:
		s.learnerConnClosed(c)
	case connClient:
		s.clientConnClosed(c)
	}
}

// Timer dispatches a server timer.
func (s *Server) Timer(kind int) {
	switch kind {
	case tmLoopback:
		s.drainLoopback()
	case tmNotTimeout:
		s.fleNotTimeout()
	case tmFinalize:
		s.fleFinalize()
	case tmLeaderTick:
		s.leaderTick()
	case tmLeaderPhase:
		s.leaderPhaseTimeout()
	case tmLearnerRead:
		s.learnerReadTimeout()
	case tmLearnerConnect:
		s.learnerConnect()
	case tmObserverDelay, tmStartLooking:
		s.startLooking()
	case tmSessionExpiry:
		s.sessionExpiryRun()
	case tmElectionCPU:
		s.fleNext()
	default:
		if kind >= tmHandlerRead {
			s.handlerReadTimeout(int64(kind - tmHandlerRead))
		}
	}
}

// FsyncDone completes the disk waits that were covered by this fsync.
func (s *Server) FsyncDone(token uint64) {
	if s.learner != nil && s.learner.blockedToken != 0 && token >= s.learner.blockedToken {
		s.learner.blockedToken = 0
		s.learnerNewLeaderPersisted()
	}
	s.syncProc.done(s, token)
}

// startLooking is QuorumPeer.run going round its loop: LOOKING, then lookForLeader.
func (s *Server) startLooking() {
	s.setState(LOOKING, PhaseElection, "")
	s.lookForLeader()
}

// leaveRole ends LEADING/FOLLOWING/OBSERVING: ZooKeeperServer.shutdown(fullyShutDown), which
// fast-forwards the database from the log unless fully shut down, then back to LOOKING.
func (s *Server) leaveRole(reason string, fullyShutDown bool) {
	s.closeAllConnections()
	s.closeRoleConns()
	s.w.CancelTimer(s.nid, tmLeaderTick)
	s.w.CancelTimer(s.nid, tmLeaderPhase)
	s.w.CancelTimer(s.nid, tmLearnerRead)
	s.w.CancelTimer(s.nid, tmLearnerConnect)
	s.w.CancelTimer(s.nid, tmSessionExpiry)
	wasObserver := s.state == OBSERVING
	s.leader, s.learner = nil, nil
	if fullyShutDown {
		s.db.clear()
		s.note("shutdown: database cleared (unfinished SNAP)")
	} else if !s.cfg.Mutants.NoFastForward {
		n, log := s.db.fastForward()
		s.recordLoaded("fastforward", 0, n, log)
	}
	s.failWaiting()
	s.setState(LOOKING, PhaseElection, reason)
	if wasObserver {
		// Observer.waitForObserverElectionDelay: a random pause before looking again.
		d := sim.Time(s.rng.Int64N(int64(s.cfg.ObserverElectionDelayMax)))
		s.w.SetTimer(s.nid, tmObserverDelay, d)
		return
	}
	s.lookForLeader()
}

// setRoleConn gives c role kind k (connLearner or connLeader). Once roleConns is full, the
// ones closed since are dropped first, so it holds about as many as are open.
func (s *Server) setRoleConn(c sim.ConnID, k connKind) {
	s.connKind.set(c, k)
	if len(s.roleConns) == cap(s.roleConns) {
		s.roleConns = slices.DeleteFunc(s.roleConns, func(c sim.ConnID) bool { return !s.isRoleConn(c) })
	}
	s.roleConns = append(s.roleConns, c)
}

func (s *Server) isRoleConn(c sim.ConnID) bool {
	k := s.connKind.kind(c)
	return k == connLearner || k == connLeader
}

// closeRoleConns closes the leader/learner connections in a stable order: by connection id.
func (s *Server) closeRoleConns() {
	cs := s.roleConns
	s.roleConns = nil // a Close that reached back here would start a list of its own
	slices.Sort(cs)
	for _, c := range cs {
		if s.isRoleConn(c) {
			s.connKind.del(c)
			s.w.Close(c, s.nid)
		}
	}
	if s.roleConns == nil {
		s.roleConns = cs[:0]
	}
}

// ensureInitialized mirrors QuorumPeer.getLastLoggedZxid's "load if not initialized".
func (s *Server) ensureInitialized() {
	if !s.db.initialized {
		s.loadDataBase("disk")
	}
}

// lastLoggedZxid is QuorumPeer.getLastLoggedZxid: the in-memory tree's lastProcessedZxid.
func (s *Server) lastLoggedZxid() Zxid {
	s.ensureInitialized()
	return s.db.lastProcessedZxid()
}

// recordCommitted and recordLogged record txn committed (applied) or logged here, from
// the server's slabs: a record each per txn and server.
func (s *Server) recordCommitted(txn *Txn, how string) {
	s.record(s.mem.committed.of(Committed{Sid: s.sid, Zxid: txn.Zxid, Hash: txn.Hash(), How: how}))
}

func (s *Server) recordLogged(txn *Txn) {
	s.record(s.mem.logged.of(Logged{Sid: s.sid, Zxid: txn.Zxid, Hash: txn.Hash()}))
}

// applyCommitted is FinalRequestProcessor: apply a committed txn (ZooKeeperServer.processTxn:
// the session trackers first, then the tree, then the outstanding changes it settles),
// send the watch events it fired, and answer a waiting local request.
func (s *Server) applyCommitted(txn *Txn, how string) {
	s.processTxnForSessionEvents(txn)
	rc := s.db.processTxn(txn)
	s.recordCommitted(txn, how)
	switch txn.Type {
	case OpCreateSession:
		s.record(s.mem.created.of(SessionCreated{Sid: s.sid, Session: txn.SessionID, Timeout: txn.Timeout, Zxid: txn.Zxid}))
	case OpCloseSession:
		s.record(&SessionClosed{Sid: s.sid, Session: txn.SessionID, Zxid: txn.Zxid, Deleted: rc.Deleted})
	}
	if s.leader != nil {
		s.removeOutstandingChanges(txn.Zxid)
	}
	s.sendFired()
	s.afterApply(txn, rc)
}

// processTxnForSessionEvents mirrors ZooKeeperServer.processTxnForSessionEvents: the
// session tracker learns of committed session changes. (A learner's commitSession also
// queues a touch for its next PING reply.)
func (s *Server) processTxnForSessionEvents(txn *Txn) {
	switch txn.Type {
	case OpCreateSession:
		if s.learner != nil {
			s.touchSession(txn.SessionID, txn.Timeout)
		}
	case OpCloseSession:
		if s.leader != nil && s.leader.sessions != nil {
			s.leader.sessions.removeSession(txn.SessionID)
		}
		if s.learner != nil {
			delete(s.learner.touchTable, txn.SessionID)
		}
	}
}

func (s *Server) afterApply(txn *Txn, rc ProcessTxnResult) {
	if s.OnCommit != nil {
		s.OnCommit(s, txn, rc.Err)
	}
	k := reqKey{txn.SessionID, txn.Cxid}
	if wt, ok := s.waiting[k]; ok {
		delete(s.waiting, k)
		s.answer(wt, rc)
		return
	}
	if txn.Type == OpCloseSession {
		// FinalRequestProcessor.applyRequest: a closeSession that no local connection
		// asked for (an expiry, or a close through another server) closes the session's
		// connection here.
		s.closeSessionCnxns(txn.SessionID, nil)
	}
}

// failWaiting answers every waiting local request with ConnectionLoss (the server left
// its role; the outcome of the write is unknown).
func (s *Server) failWaiting() {
	var keys []reqKey
	for k := range s.waiting {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b reqKey) int {
		if a.session != b.session {
			return cmp.Compare(a.session, b.session)
		}
		return cmp.Compare(a.cxid, b.cxid)
	})
	for _, k := range keys {
		wt := s.waiting[k]
		delete(s.waiting, k)
		s.answer(wt, ProcessTxnResult{Err: ErrConnectionLoss})
	}
}

// waiter is who waits for a local write: a client connection's request, or Submit's done.
type waiter struct {
	r    *cnxnRequest
	done func(rc int32, zxid Zxid)
}

// answer gives a waiting local write its result.
func (s *Server) answer(wt waiter, res ProcessTxnResult) {
	if wt.done != nil {
		wt.done(res.Err, res.Zxid)
		return
	}
	r := wt.r
	r.done, r.result = true, s.mem.result.of(res)
	if r.cn.state != cnxnClosed {
		s.processCnxnQueue(r.cn)
	}
}

// Submit hands a write request to this server, as its client connection would: a leader
// proposes it, a learner forwards it to the leader. done is called when this server applies
// the resulting txn (rc is its result), or with ErrConnectionLoss if the server cannot.
func (s *Server) Submit(req *Request, done func(rc int32, zxid Zxid)) {
	if !s.Up() || !s.Serving() {
		done(ErrConnectionLoss, 0)
		return
	}
	s.waiting[reqKey{req.SessionID, req.Cxid}] = waiter{done: done}
	if s.state == LEADING {
		s.leaderSubmit(req, s.sid)
		return
	}
	s.learnerForward(req)
}
