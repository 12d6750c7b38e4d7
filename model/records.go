package model

import (
	"strconv"

	"github.com/zabsim/zabsim/sim"
)

// The observations a server adds to the trace. The checker and the reports read nothing
// else, so every fact they need about a server's state is recorded here, with the sid.

// ZabPhase is zabState in the specs: which part of Zab a server is in.
type ZabPhase uint8

const (
	PhaseElection ZabPhase = iota
	PhaseDiscovery
	PhaseSynchronization
	PhaseBroadcast
)

var phaseNames = [...]string{"ELECTION", "DISCOVERY", "SYNCHRONIZATION", "BROADCAST"}

func (p ZabPhase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "PHASE(" + strconv.Itoa(int(p)) + ")" // only in a trace made by hand
}

// StateChange: the server's state or phase changed.
type StateChange struct {
	Sid    int64
	State  ServerState
	Phase  ZabPhase
	Epoch  int64  // currentEpoch
	Reason string // why it left its previous role, if it did
}

func (r *StateChange) TypeName() string { return "StateChange" }
func (r *StateChange) AppendTo(b []byte) []byte {
	b = append(b, "state "...)
	b = append(b, r.State.String()...)
	b = append(b, ' ')
	b = append(b, r.Phase.String()...)
	b = append(b, " epoch="...)
	b = strconv.AppendInt(b, r.Epoch, 10)
	if r.Reason != "" {
		b = append(b, " reason="...)
		b = appendQuoted(b, r.Reason)
	}
	return b
}

// ElectionDone: lookForLeader returned this vote.
type ElectionDone struct {
	Sid                 int64
	Leader              int64
	Zxid                Zxid
	ElectionEpoch       int64
	PeerEpoch           int64
	State               ServerState // the state it decided on
	ViaOutOfElection    bool        // decided from FOLLOWING/LEADING notifications
	NotificationTimeout int64       // ms, the notTimeout it had reached
	// Quorums are the quorums this election saw for its proposal, each starting a
	// finalizeWait (FinalizeWaitMs) that a better vote may have ended; the last one, not
	// ended, is the one that decided (none when it decided from FOLLOWING/LEADING
	// notifications). Like the fields above, not in the canonical text.
	Quorums        []QuorumSeen `json:",omitempty"`
	FinalizeWaitMs int64        `json:",omitempty"`
}

func (r *ElectionDone) TypeName() string { return "ElectionDone" }
func (r *ElectionDone) AppendTo(b []byte) []byte {
	b = append(b, "elected leader="...)
	b = strconv.AppendInt(b, r.Leader, 10)
	b = append(b, " zxid="...)
	b = r.Zxid.AppendTo(b)
	b = append(b, " round="...)
	b = strconv.AppendInt(b, r.ElectionEpoch, 10)
	b = append(b, " peerEpoch="...)
	b = strconv.AppendInt(b, r.PeerEpoch, 10)
	b = append(b, " as "...)
	return append(b, r.State.String()...)
}

// EpochWritten: the acceptedEpoch or currentEpoch file was written.
type EpochWritten struct {
	Sid   int64
	File  string // "acceptedEpoch" or "currentEpoch"
	Epoch int64
}

func (r *EpochWritten) TypeName() string { return "EpochWritten" }
func (r *EpochWritten) AppendTo(b []byte) []byte {
	b = append(b, r.File...)
	b = append(b, '=')
	return strconv.AppendInt(b, r.Epoch, 10)
}

// LeaderEstablished: a quorum acknowledged the leader's epoch (waitForEpochAck returned):
// epochLeader[e] in the specs. LastZxid is the leader's history at that moment.
type LeaderEstablished struct {
	Sid      int64
	Epoch    int64
	LastZxid Zxid
}

func (r *LeaderEstablished) TypeName() string { return "LeaderEstablished" }
func (r *LeaderEstablished) AppendTo(b []byte) []byte {
	b = append(b, "established epoch="...)
	b = strconv.AppendInt(b, r.Epoch, 10)
	b = append(b, " lastZxid="...)
	return r.LastZxid.AppendTo(b)
}

// LeaderActive: a quorum acked NEWLEADER and the leader started serving (startZkServer).
type LeaderActive struct {
	Sid   int64
	Epoch int64
}

func (r *LeaderActive) TypeName() string { return "LeaderActive" }
func (r *LeaderActive) AppendTo(b []byte) []byte {
	return strconv.AppendInt(append(b, "active epoch="...), r.Epoch, 10)
}

// SyncDecided: the leader's syncFollower for one learner, with every input it read, so
// that the checker can re-derive the decision.
type SyncDecided struct {
	Sid               int64 // leader
	Learner           int64
	Epoch             int64
	PeerLastZxid      Zxid
	LastProcessedZxid Zxid
	MinCommitted      Zxid
	MaxCommitted      Zxid
	Mode              string
	Branch            string
	CurrentZxid       Zxid
	// TxnLogFirst and TxnLogLast bound what the txn-log fallback offered (0 when unused).
	TxnLogFirst, TxnLogLast Zxid
	ForceSnap               bool
	TxnLogEnabled           bool
	// TxnLogRead: getProposalsFromTxnLog opened the log, whose files after the one it reads
	// first total TxnLogSize bytes (getStorageSize) against calculateTxnLogSizeLimit's
	// TxnLogLimit (0: no limit). It refused the log when its first txn is above the peer's
	// zxid (TxnLogAbove, checked first) or for the size (TxnLogTooBig).
	TxnLogRead              bool
	TxnLogSize, TxnLogLimit int64
	TxnLogAbove             bool
	TxnLogTooBig            bool
	Packets                 []string // the queued packets, or "SNAP <zxid>"
}

func (r *SyncDecided) TypeName() string { return "SyncDecided" }
func (r *SyncDecided) AppendTo(b []byte) []byte {
	b = append(b, "sync learner="...)
	b = strconv.AppendInt(b, r.Learner, 10)
	b = append(b, ' ')
	b = append(b, r.Mode...)
	b = append(b, " peerLastZxid="...)
	b = r.PeerLastZxid.AppendTo(b)
	b = append(b, " min="...)
	b = r.MinCommitted.AppendTo(b)
	b = append(b, " max="...)
	b = r.MaxCommitted.AppendTo(b)
	b = append(b, " lastProcessed="...)
	b = r.LastProcessedZxid.AppendTo(b)
	if r.TxnLogRead {
		b = append(b, " txnlog="...)
		b = strconv.AppendInt(b, r.TxnLogSize, 10)
		b = append(b, "/limit="...)
		b = strconv.AppendInt(b, r.TxnLogLimit, 10)
		if r.TxnLogAbove {
			b = append(b, " above"...)
		}
	}
	b = append(b, " packets="...)
	return strconv.AppendInt(b, int64(len(r.Packets)), 10)
}

// Proposed: the leader created a txn and proposed it.
type Proposed struct {
	Sid int64
	Txn *Txn
}

func (r *Proposed) TypeName() string { return "Proposed" }
func (r *Proposed) AppendTo(b []byte) []byte {
	return r.Txn.AppendTo(append(b, "propose "...))
}

// Committed: the server applied a txn to its data tree as committed (FinalRequestProcessor,
// or the in-memory apply of a SNAP/TRUNC sync). Index is the position of the txn in the
// server's delivered sequence since its last restart.
type Committed struct {
	Sid  int64
	Zxid Zxid
	Hash uint64
	How  string // "commit", "sync", "inform"
}

func (r *Committed) TypeName() string { return "Committed" }
func (r *Committed) AppendTo(b []byte) []byte {
	b = append(b, "commit "...)
	b = r.Zxid.AppendTo(b)
	b = append(b, " h="...)
	b = appendHex(b, r.Hash)
	b = append(b, ' ')
	return append(b, r.How...)
}

// Logged: the server appended a txn to its txn log (volatile until fsynced).
type Logged struct {
	Sid  int64
	Zxid Zxid
	Hash uint64
}

func (r *Logged) TypeName() string { return "Logged" }
func (r *Logged) AppendTo(b []byte) []byte {
	b = append(b, "log "...)
	b = r.Zxid.AppendTo(b)
	b = append(b, " h="...)
	return appendHex(b, r.Hash)
}

// Truncated: TRUNC cut the server's log after Zxid (Removed txns gone).
type Truncated struct {
	Sid     int64
	Zxid    Zxid
	Removed int
}

// LogCleaned: a learner synced by SNAP deleted its log files up to UpTo (Fixes.CleanLogOnSnap).
type LogCleaned struct {
	Sid   int64
	UpTo  Zxid
	Files int
}

func (r *LogCleaned) TypeName() string { return "LogCleaned" }
func (r *LogCleaned) AppendTo(b []byte) []byte {
	b = append(b, "log files up to "...)
	b = r.UpTo.AppendTo(b)
	b = append(b, " deleted: "...)
	return strconv.AppendInt(b, int64(r.Files), 10)
}

// SnapshotsDropped: a TRUNC deleted the snapshots holding a txn above its zxid
// (Fixes.DropSnapshotsOnTrunc), named by their zxids.
type SnapshotsDropped struct {
	Sid   int64
	Above Zxid
	Zxids []Zxid
}

func (r *SnapshotsDropped) TypeName() string { return "SnapshotsDropped" }
func (r *SnapshotsDropped) AppendTo(b []byte) []byte {
	b = append(b, "snapshots holding txns above "...)
	b = r.Above.AppendTo(b)
	b = append(b, " deleted:"...)
	for _, z := range r.Zxids {
		b = append(b, ' ')
		b = z.AppendTo(b)
	}
	return b
}

func (r *Truncated) TypeName() string { return "Truncated" }
func (r *Truncated) AppendTo(b []byte) []byte {
	b = append(b, "truncate to "...)
	b = r.Zxid.AppendTo(b)
	b = append(b, " removed="...)
	return strconv.AppendInt(b, int64(r.Removed), 10)
}

// Loaded: the server (re)built its database from disk (restart, TRUNC) or from a SNAP.
type Loaded struct {
	Sid      int64
	From     string // "disk", "trunc", "snap", "fastforward"
	SnapZxid Zxid   // zxid of the snapshot it started from (0 = none)
	Replayed int    // txns replayed from the log
	LastZxid Zxid   // lastProcessedZxid afterwards
	// History is the zxid/hash list of the server's data after loading, for the checker's
	// durability and completeness checks.
	History []ZxidHash
}

// ZxidHash is a txn as the checker sees it.
type ZxidHash struct {
	Zxid Zxid
	Hash uint64
}

func (r *Loaded) TypeName() string { return "Loaded" }
func (r *Loaded) AppendTo(b []byte) []byte {
	b = append(b, "load from="...)
	b = append(b, r.From...)
	b = append(b, " snap="...)
	b = r.SnapZxid.AppendTo(b)
	b = append(b, " replayed="...)
	b = strconv.AppendInt(b, int64(r.Replayed), 10)
	b = append(b, " last="...)
	return r.LastZxid.AppendTo(b)
}

// SnapshotTaken: the server wrote a snapshot file.
type SnapshotTaken struct {
	Sid  int64
	Zxid Zxid
	Why  string
}

func (r *SnapshotTaken) TypeName() string { return "SnapshotTaken" }
func (r *SnapshotTaken) AppendTo(b []byte) []byte {
	b = append(b, "snapshot "...)
	b = r.Zxid.AppendTo(b)
	b = append(b, ' ')
	return append(b, r.Why...)
}

// StartRefused: QuorumPeer.loadDataBase threw ("Unable to run quorum server"), so the
// process exited at start: the data dir is inconsistent and only an operator can help.
type StartRefused struct {
	Sid    int64
	Reason string
}

func (r *StartRefused) TypeName() string         { return "StartRefused" }
func (r *StartRefused) AppendTo(b []byte) []byte { return append(b, "cannot start: "+r.Reason...) }

// Note is a free-form remark at a point ZooKeeper logs one (a warning, an exit).
type Note struct {
	Sid  int64
	Text string
}

func (r *Note) TypeName() string         { return "Note" }
func (r *Note) AppendTo(b []byte) []byte { return append(b, r.Text...) }

// --- clients, sessions and watches ---
//
// The checker judges linearizability and session order from these records alone. A call is
// named by (Client, Xid): a client numbers its calls 1, 2, 3... for its whole life (its
// ClientCnxn xid), so every ClientCall has at most one ClientReturn with the same pair.
// A call without a return never completed (the run ended or the client process died); a
// return with ConnectionLoss, OperationTimeout or RequestTimeout may or may not have
// taken effect. Times are the records' own (virtual) times; ClientReturn repeats CallAt.

// ClientCall: the application called an operation on its ZooKeeper handle.
type ClientCall struct {
	Client  int64  // the client's node id (1000 and up)
	Session int64  // the session at call time (0 before the first ConnectResponse)
	Xid     int32  // the request's xid on the wire
	Server  int64  // the server the client is connected to, -1 when it is not
	Op      OpCode // create, delete, setData, getData, exists, getChildren, sync, multi, closeSession
	Path    string
	Data    string     // create, setData: the value written
	Version int32      // delete, setData: the expected version (-1 any)
	Mode    CreateMode // create
	Watch   bool       // getData, exists, getChildren: a watch is set
	Ops     []Op       // multi
}

func (r *ClientCall) TypeName() string { return "ClientCall" }
func (r *ClientCall) AppendTo(b []byte) []byte {
	b = appendCallHead(append(b, "call "...), r.Client, r.Session, r.Xid, r.Server)
	req := ClientRequest{Type: r.Op, Path: r.Path, Data: r.Data, Version: r.Version, Mode: r.Mode, Watch: r.Watch, Ops: r.Ops}
	return req.appendBody(b)
}

// appendCallHead appends "c=1000 s=0x... xid=7 srv=2 " (no xid when it is 0).
func appendCallHead(b []byte, client, session int64, xid int32, server int64) []byte {
	b = append(b, "c="...)
	b = strconv.AppendInt(b, client, 10)
	b = append(b, " s=0x"...)
	b = appendHexInt(b, session)
	if xid != 0 {
		b = append(b, " xid="...)
		b = strconv.AppendInt(b, int64(xid), 10)
	}
	b = append(b, " srv="...)
	b = strconv.AppendInt(b, server, 10)
	return append(b, ' ')
}

// ClientReturn: the call's result reached the application. The record holds the Result
// its callback got (one object for both: a client makes one on every call).
type ClientReturn struct {
	Client  int64
	Session int64
	Result
}

func (r *ClientReturn) TypeName() string { return "ClientReturn" }
func (r *ClientReturn) AppendTo(b []byte) []byte {
	b = appendCallHead(append(b, "return "...), r.Client, r.Session, r.Xid, r.Server)
	b = append(b, r.Op.String()...)
	b = append(b, ' ')
	b = append(b, r.Path...)
	b = append(b, ' ')
	b = append(b, ErrName(r.Err)...)
	b = append(b, " zxid="...)
	b = r.Zxid.AppendTo(b)
	if r.Err != ErrOK {
		return b
	}
	switch r.Op {
	case OpCreate:
		b = append(b, " path="...)
		b = append(b, r.Created...)
	case OpGetData:
		b = append(b, " ="...)
		b = appendQuoted(b, r.Data)
		b = append(b, " ver="...)
		b = strconv.AppendInt(b, int64(r.Stat.Version), 10)
	case OpSetData, OpExists:
		b = append(b, " ver="...)
		b = strconv.AppendInt(b, int64(r.Stat.Version), 10)
	case OpGetChildren:
		b = append(b, " ["...)
		for i, c := range r.Children {
			if i > 0 {
				b = append(b, ' ')
			}
			b = append(b, c...)
		}
		b = append(b, ']')
	}
	return b
}

// WatchDelivered: a watch notification reached the client (ClientCnxn's NOTIFICATION_XID
// path). Zxid is the txn that fired it on the server (-1 when unknown: a SetWatches on a
// deleted node). Watchers are the number of the client's watchers it was handed to.
type WatchDelivered struct {
	Client   int64
	Session  int64
	Server   int64
	Type     EventType
	Path     string
	Zxid     Zxid
	Watchers int
}

func (r *WatchDelivered) TypeName() string { return "WatchDelivered" }
func (r *WatchDelivered) AppendTo(b []byte) []byte {
	b = appendCallHead(append(b, "event "...), r.Client, r.Session, 0, r.Server)
	b = append(b, r.Type.String()...)
	b = append(b, ' ')
	b = append(b, r.Path...)
	b = append(b, " zxid="...)
	b = r.Zxid.AppendTo(b)
	b = append(b, " watchers="...)
	return strconv.AppendInt(b, int64(r.Watchers), 10)
}

// ClientState: the client's session state changed (the None events of its default
// watcher: SyncConnected, Disconnected, Expired, Closed). LastZxid is the client's last
// seen zxid; Timeout the negotiated session timeout (SyncConnected).
type ClientState struct {
	Client   int64
	Session  int64
	Server   int64
	State    KeeperState
	LastZxid Zxid
	Timeout  sim.Time
	Reason   string
}

func (r *ClientState) TypeName() string { return "ClientState" }
func (r *ClientState) AppendTo(b []byte) []byte {
	b = appendCallHead(append(b, "session "...), r.Client, r.Session, 0, r.Server)
	b = append(b, r.State.String()...)
	b = append(b, " lastZxid="...)
	b = r.LastZxid.AppendTo(b)
	if r.Reason != "" {
		b = append(b, " reason="...)
		b = appendQuoted(b, r.Reason)
	}
	return b
}

// ClientConnect: a server's answer to a ConnectRequest (ZooKeeperServer.processConnectRequest
// and finishSessionInit). Outcome is "established", "renewed", "expired" (the session is no
// longer valid), "refused: zxid ahead" (the client has seen a later zxid than this server:
// "Refusing session request for client ... as it has seen zxid ...") or "refused: not
// serving" (NIOServerCnxn: "ZooKeeperServer not running").
type ClientConnect struct {
	Sid        int64
	Client     int64
	Session    int64
	ClientZxid Zxid // ConnectRequest.lastZxidSeen
	ServerZxid Zxid // this server's lastProcessedZxid
	Timeout    sim.Time
	Outcome    string
}

func (r *ClientConnect) TypeName() string { return "ClientConnect" }
func (r *ClientConnect) AppendTo(b []byte) []byte {
	b = append(b, "connect client="...)
	b = strconv.AppendInt(b, r.Client, 10)
	b = append(b, " s=0x"...)
	b = appendHexInt(b, r.Session)
	b = append(b, " clientZxid="...)
	b = r.ClientZxid.AppendTo(b)
	b = append(b, " ourZxid="...)
	b = r.ServerZxid.AppendTo(b)
	b = append(b, ' ')
	return append(b, r.Outcome...)
}

// SessionExpired: the leader's session tracker expired a session (its bucket came due):
// the closeSession txn follows. Touched is the tracker's last touch of the session; the
// expiry happens at roundToNextInterval(Touched + Timeout).
type SessionExpired struct {
	Sid     int64
	Session int64
	Timeout sim.Time
	Touched sim.Time
}

func (r *SessionExpired) TypeName() string { return "SessionExpired" }
func (r *SessionExpired) AppendTo(b []byte) []byte {
	b = append(b, "expire session=0x"...)
	b = appendHexInt(b, r.Session)
	b = append(b, " timeout="...)
	b = strconv.AppendInt(b, int64(r.Timeout/sim.Millisecond), 10)
	b = append(b, " touched="...)
	return strconv.AppendInt(b, int64(r.Touched), 10)
}

// SessionCreated: the server applied a createSession txn.
type SessionCreated struct {
	Sid     int64
	Session int64
	Timeout sim.Time
	Zxid    Zxid
}

func (r *SessionCreated) TypeName() string { return "SessionCreated" }
func (r *SessionCreated) AppendTo(b []byte) []byte {
	b = append(b, "session created 0x"...)
	b = appendHexInt(b, r.Session)
	b = append(b, " timeout="...)
	b = strconv.AppendInt(b, int64(r.Timeout/sim.Millisecond), 10)
	b = append(b, " zxid="...)
	return r.Zxid.AppendTo(b)
}

// SessionClosed: the server applied a closeSession txn (the client's close, or the leader's
// expiry) and deleted the session's ephemerals.
type SessionClosed struct {
	Sid     int64
	Session int64
	Zxid    Zxid
	Deleted []string
}

func (r *SessionClosed) TypeName() string { return "SessionClosed" }
func (r *SessionClosed) AppendTo(b []byte) []byte {
	b = append(b, "session closed 0x"...)
	b = appendHexInt(b, r.Session)
	b = append(b, " zxid="...)
	b = r.Zxid.AppendTo(b)
	b = append(b, " deleted="...)
	return strconv.AppendInt(b, int64(len(r.Deleted)), 10)
}

// RecipeEvent: a recipe (lock, registry, configuration watch) changed state, e.g. a lock
// "acquired", "suspended", "resumed", "released" or "lost".
type RecipeEvent struct {
	Client  int64
	Session int64
	Recipe  string // "lock", "rwlock", "election", "registration", "discovery", "config", "resource"
	Name    string // the lock or service path
	Event   string
	Detail  string
}

func (r *RecipeEvent) TypeName() string { return "RecipeEvent" }
func (r *RecipeEvent) AppendTo(b []byte) []byte {
	b = append(b, r.Recipe...)
	b = append(b, " c="...)
	b = strconv.AppendInt(b, r.Client, 10)
	b = append(b, ' ')
	b = append(b, r.Name...)
	b = append(b, ' ')
	b = append(b, r.Event...)
	if r.Detail != "" {
		b = append(b, ' ')
		b = append(b, r.Detail...)
	}
	return b
}

// Why a notification is sent (VoteWhy.Reason).
const (
	WhyStart  = "start"     // lookForLeader began: the server's own initial vote
	WhyRound  = "new round" // a notification of a later round: recvset cleared, the vote chosen again
	WhyBetter = "better"    // totalOrderPredicate preferred the vote a notification carried
	WhyResend = "resend"    // the poll timed out (notTimeout): the same vote again, and back off
	WhyReply  = "reply"     // an answer to a LOOKING server of an older round, or to an observer
	WhyLeader = "leader"    // not LOOKING: tell a LOOKING server whom this server follows
	WhyAgain  = "again"     // a new election connection: SendWorker sends the last message again
)

// VoteWhy explains a notification: why its sender sends it, and when the vote changed,
// what it was before and which field of totalOrderPredicate decided (epoch, zxid or sid:
// the first of (peerEpoch, zxid, sid) in which the two votes differ). It travels with the
// notification in the trace's data only: it is not in the canonical text, so traces hash
// as they did before it existed.
type VoteWhy struct {
	Reason string
	From   int64  `json:",omitempty"` // the sid whose notification caused it
	Field  string `json:",omitempty"` // "epoch", "zxid" or "sid"; "" when the vote did not change
	// Changed: the vote differs from the one sent before, which Old* hold.
	Changed             bool  `json:",omitempty"`
	OldLeader, OldEpoch int64 `json:",omitempty"`
	OldZxid             Zxid  `json:",omitempty"`
	NotTimeoutMs        int64 `json:",omitempty"` // resend: the poll's timeout from now on
	// Queued: it waited in the send queue for a connection, so it leaves later than the
	// vote was chosen.
	Queued bool `json:",omitempty"`
}

// The explanations of an election (trace records of kind explain, outside the trace hash):
// what lookForLeader decided at each step, so that the run player and the pictures can
// say it at the moment it happened, whatever the network did with the notifications.

// VoteChanged: lookForLeader set its proposal (its first vote, or a change).
type VoteChanged struct {
	Sid              int64
	Leader           int64
	Zxid             Zxid
	PeerEpoch, Round int64
	Why              *VoteWhy
}

func (r *VoteChanged) TypeName() string { return "VoteChanged" }
func (r *VoteChanged) AppendTo(b []byte) []byte {
	b = append(b, "vote leader="...)
	b = strconv.AppendInt(b, r.Leader, 10)
	b = append(b, " zxid="...)
	b = r.Zxid.AppendTo(b)
	b = append(b, " peerEpoch="...)
	b = strconv.AppendInt(b, r.PeerEpoch, 10)
	b = append(b, " round="...)
	b = strconv.AppendInt(b, r.Round, 10)
	if w := r.Why; w != nil {
		b = append(b, ' ')
		b = append(b, w.Reason...)
		if w.From != 0 {
			b = append(b, " from="...)
			b = strconv.AppendInt(b, w.From, 10)
		}
		if w.Field != "" {
			b = append(b, " by="...)
			b = append(b, w.Field...)
		}
	}
	return b
}

// QuorumAgreed: the recvset holds a quorum for the proposal (Sids agree): lookForLeader
// waits finalizeWait for a better vote.
type QuorumAgreed struct {
	Sid              int64
	Sids             []int64
	Leader           int64
	Zxid             Zxid
	PeerEpoch, Round int64
	FinalizeWaitMs   int64
}

func (r *QuorumAgreed) TypeName() string { return "QuorumAgreed" }
func (r *QuorumAgreed) AppendTo(b []byte) []byte {
	b = append(b, "quorum {"...)
	for i, s := range r.Sids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, s, 10)
	}
	b = append(b, "} for leader="...)
	b = strconv.AppendInt(b, r.Leader, 10)
	b = append(b, " round="...)
	b = strconv.AppendInt(b, r.Round, 10)
	b = append(b, " finalizeWait="...)
	b = strconv.AppendInt(b, r.FinalizeWaitMs, 10)
	return append(b, "ms"...)
}

// FinalizeInterrupted: during finalizeWait a notification From carried a better vote: the
// wait ends and the election goes on.
type FinalizeInterrupted struct {
	Sid, From int64
}

func (r *FinalizeInterrupted) TypeName() string { return "FinalizeInterrupted" }
func (r *FinalizeInterrupted) AppendTo(b []byte) []byte {
	return strconv.AppendInt(append(b, "finalizeWait interrupted by a better vote from "...), r.From, 10)
}

// NotTimeout: lookForLeader's poll returned nothing within notTimeout: it sends its vote
// again and doubles the timeout (up to maxNotificationInterval).
type NotTimeout struct {
	Sid      int64
	WaitedMs int64
	NextMs   int64
}

func (r *NotTimeout) TypeName() string { return "NotTimeout" }
func (r *NotTimeout) AppendTo(b []byte) []byte {
	b = append(b, "no notification within "...)
	b = strconv.AppendInt(b, r.WaitedMs, 10)
	b = append(b, "ms: resend, next wait "...)
	b = strconv.AppendInt(b, r.NextMs, 10)
	return append(b, "ms"...)
}

// decidingField names the first field of totalOrderPredicate's (epoch, zxid, sid) in which
// two votes differ.
func decidingField(newID int64, newZxid Zxid, newEpoch int64, curID int64, curZxid Zxid, curEpoch int64) string {
	switch {
	case newEpoch != curEpoch:
		return "epoch"
	case newZxid != curZxid:
		return "zxid"
	case newID != curID:
		return "sid"
	}
	return ""
}

// QuorumSeen is a moment of lookForLeader at which its recvset held a quorum for its
// proposal, so that it started waiting finalizeWait for a better vote; EndedBy is the sid
// whose better vote ended the wait (0: the wait ran out and the server decided).
type QuorumSeen struct {
	At                sim.Time
	Sids              []int64 // the voters whose latest notification matches the proposal
	Leader, PeerEpoch int64
	Zxid              Zxid
	EndedBy           int64 `json:",omitempty"`
	EndedAt           sim.Time
}

// TimerName names a timer of a trace's "timer N" records, with the 3.8 code that waits on
// it: server timers for sids, client timers for clients (ids from 1000).
func TimerName(node int64, kind int) (name, method string) {
	if node >= 1000 {
		switch kind {
		case ctConnect:
			return "reconnect", "ClientCnxn.SendThread.startConnect (after its random sleep)"
		case ctRecv:
			return "client read timeout", "ClientCnxn.SendThread.run (readTimeout / connectTimeout)"
		case ctPing:
			return "client ping", "ClientCnxn.SendThread.sendPing"
		case ctRequestTimeout:
			return "request timeout", "ClientCnxn (zookeeper.request.timeout)"
		case ctSimulatedExpiry:
			return "session expiry (client)", "ClientCnxn.SendThread (SimulatedSessionExpiry)"
		}
		return "timer " + strconv.Itoa(kind), ""
	}
	switch {
	case kind == tmLoopback:
		return "loopback", "QuorumCnxManager (a notification to itself)"
	case kind == tmNotTimeout:
		return "notTimeout", "FastLeaderElection.lookForLeader: recvqueue.poll(notTimeout) returned nothing"
	case kind == tmFinalize:
		return "finalizeWait", "FastLeaderElection.lookForLeader: no better vote within finalizeWait"
	case kind == tmLeaderTick:
		return "leader tick", "Leader.lead: the loop every tickTime/2 (pings, syncLimit check)"
	case kind == tmLeaderPhase:
		return "initLimit", "Leader.getEpochToPropose / waitForEpochAck / waitForNewLeaderAck: initLimit*tickTime"
	case kind == tmLearnerRead:
		return "read timeout", "Learner: the socket's soTimeout (syncLimit*tickTime, initLimit while syncing)"
	case kind == tmLearnerConnect:
		return "connect retry", "Learner.connectToLeader"
	case kind == tmObserverDelay:
		return "observer delay", "Observer.observeLeader: random delay before looking again"
	case kind == tmStartLooking:
		return "look again", "QuorumPeer.run: back to lookForLeader"
	case kind == tmSessionExpiry:
		return "session expiry", "SessionTrackerImpl.run"
	case kind >= tmHandlerRead:
		return "handler read timeout (" + strconv.Itoa(kind-tmHandlerRead) + ")", "LearnerHandler.run: the socket's soTimeout for learner " + strconv.Itoa(kind-tmHandlerRead)
	}
	return "timer " + strconv.Itoa(kind), ""
}
