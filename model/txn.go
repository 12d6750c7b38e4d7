package model

import (
	"strconv"

	"github.com/zabsim/zabsim/sim"
)

// OpCode is a request or txn type, with the values of ZooDefs.OpCode.
type OpCode int32

const (
	OpNotification  OpCode = 0
	OpCreate        OpCode = 1
	OpDelete        OpCode = 2
	OpExists        OpCode = 3
	OpGetData       OpCode = 4
	OpSetData       OpCode = 5
	OpGetChildren   OpCode = 8
	OpSync          OpCode = 9
	OpPing          OpCode = 11
	OpCheck         OpCode = 13
	OpMulti         OpCode = 14
	OpSetWatches    OpCode = 101
	OpCreateSession OpCode = -10
	OpCloseSession  OpCode = -11
	OpError         OpCode = -1
)

var opNames = map[OpCode]string{
	OpNotification: "notification", OpCreate: "create", OpDelete: "delete", OpExists: "exists",
	OpGetData: "getData", OpSetData: "setData", OpGetChildren: "getChildren", OpSync: "sync",
	OpPing: "ping", OpCheck: "check", OpMulti: "multi", OpSetWatches: "setWatches",
	OpCreateSession: "createSession", OpCloseSession: "closeSession", OpError: "error",
}

// isWrite reports whether requests of this type become txns (CommitProcessor.needCommit
// for global sessions, without sync).
func (o OpCode) isWrite() bool {
	switch o {
	case OpCreate, OpDelete, OpSetData, OpCheck, OpMulti, OpCreateSession, OpCloseSession:
		return true
	}
	return false
}

func (o OpCode) String() string {
	if n, ok := opNames[o]; ok {
		return n
	}
	return "op" + strconv.Itoa(int(o))
}

// Txn is one transaction of the replicated state machine: TxnHeader plus its record
// (CreateTxn, DeleteTxn, SetDataTxn, CheckVersionTxn, CreateSessionTxn, CloseSessionTxn,
// ErrorTxn, MultiTxn).
type Txn struct {
	Zxid      Zxid
	Type      OpCode
	SessionID int64
	Cxid      int32
	Time      sim.Time // TxnHeader.time: the leader's clock when it proposed
	Path      string
	Data      string
	Version   int32    // SetDataTxn: the new version; CheckVersionTxn: the version checked + 1
	Ephemeral bool     // CreateTxn: ephemeralOwner = SessionID
	Timeout   sim.Time // CreateSessionTxn
	Err       int32    // ErrorTxn: the error code
	Ops       []*Txn   // MultiTxn
	// ParentCVersion is CreateTxn.parentCVersion: the parent's cversion after the create, as
	// PrepRequestProcessor computed it. 0 (a txn built by hand) means "parent's + 1", as -1
	// does in DataTree.createNode.
	ParentCVersion int32
	// Paths is CloseSessionTxn.paths2Delete: the ephemerals the leader saw for the session.
	Paths []string

	hash uint64 // cached Hash; a txn never changes once proposed
	// text is the canonical text, kept by the first AppendTo after Hash (so after the txn
	// was proposed): a leader's PROPOSAL is one txn that every follower's send, delivery
	// and trace hash would format again.
	text string
}

// AppendTo appends the canonical text of t. Two txns are the same txn exactly when their
// texts are equal; the checker compares them this way.
func (t *Txn) AppendTo(b []byte) []byte {
	if t.text != "" {
		return append(b, t.text...)
	}
	n := len(b)
	b = t.appendText(b)
	if t.hash != 0 { // final: see text
		t.text = string(b[n:])
	}
	return b
}

func (t *Txn) appendText(b []byte) []byte {
	b = t.Zxid.AppendTo(b)
	b = append(b, ' ')
	b = append(b, t.Type.String()...)
	b = append(b, " s="...)
	b = appendHexInt(b, t.SessionID)
	b = append(b, " c="...)
	b = strconv.AppendInt(b, int64(t.Cxid), 10)
	if t.Path != "" {
		b = append(b, ' ')
		b = append(b, t.Path...)
	}
	if t.Data != "" {
		b = append(b, " ="...)
		b = appendQuoted(b, t.Data)
	}
	if t.Type == OpSetData || t.Type == OpCheck {
		b = append(b, " v="...)
		b = strconv.AppendInt(b, int64(t.Version), 10)
	}
	if t.ParentCVersion != 0 {
		b = append(b, " pcv="...)
		b = strconv.AppendInt(b, int64(t.ParentCVersion), 10)
	}
	for i, p := range t.Paths {
		if i == 0 {
			b = append(b, " del="...)
		} else {
			b = append(b, ',')
		}
		b = append(b, p...)
	}
	if t.Ephemeral {
		b = append(b, " ephemeral"...)
	}
	if t.Timeout != 0 {
		b = append(b, " timeout="...)
		b = strconv.AppendInt(b, int64(t.Timeout/sim.Millisecond), 10)
	}
	if t.Err != 0 {
		b = append(b, " err="...)
		b = strconv.AppendInt(b, int64(t.Err), 10)
	}
	for _, op := range t.Ops {
		b = append(b, " ["...)
		b = op.appendText(b) // not AppendTo: mutual recursion puts callers' buffers on the heap
		b = append(b, ']')
	}
	return b
}

func (t *Txn) String() string { return string(t.AppendTo(nil)) }

// Hash is a 64-bit FNV-1a of the canonical text: the "value" of the txn for the checker.
func (t *Txn) Hash() uint64 {
	if t.hash != 0 {
		return t.hash
	}
	var buf [128]byte
	b := t.appendText(buf[:0])
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	t.hash = h
	return h
}
