package model

import (
	"strconv"
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

func (p ZabPhase) String() string { return phaseNames[p] }

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
		b = strconv.AppendQuote(b, r.Reason)
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
	b = strconv.AppendUint(b, r.Hash, 16)
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
	return strconv.AppendUint(b, r.Hash, 16)
}

// Truncated: TRUNC cut the server's log after Zxid (Removed txns gone).
type Truncated struct {
	Sid     int64
	Zxid    Zxid
	Removed int
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

// Note is a free-form remark at a point ZooKeeper logs one (a warning, an exit).
type Note struct {
	Sid  int64
	Text string
}

func (r *Note) TypeName() string         { return "Note" }
func (r *Note) AppendTo(b []byte) []byte { return append(b, r.Text...) }
