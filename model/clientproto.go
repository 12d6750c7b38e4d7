package model

import (
	"strconv"

	"github.com/zabsim/zabsim/sim"
)

// The client protocol, as ClientCnxn and NIOServerCnxn speak it (zookeeper.jute): a
// ConnectRequest and its ConnectResponse open a session on a connection; then requests
// (RequestHeader + record) and replies (ReplyHeader + record) in order, and watch
// notifications (ReplyHeader with xid -1 + WatcherEvent) in between.

// Special xids (ClientCnxn).
const (
	notificationXid int32 = -1
	pingXid         int32 = -2
	setWatchesXid   int32 = -8
)

// CreateMode is org.apache.zookeeper.CreateMode, with its flag values.
type CreateMode int32

const (
	Persistent           CreateMode = 0
	Ephemeral            CreateMode = 1
	PersistentSequential CreateMode = 2
	EphemeralSequential  CreateMode = 3
)

func (m CreateMode) IsEphemeral() bool  { return m == Ephemeral || m == EphemeralSequential }
func (m CreateMode) IsSequential() bool { return m == PersistentSequential || m == EphemeralSequential }

func (m CreateMode) String() string {
	switch m {
	case Persistent:
		return "PERSISTENT"
	case Ephemeral:
		return "EPHEMERAL"
	case PersistentSequential:
		return "PERSISTENT_SEQUENTIAL"
	case EphemeralSequential:
		return "EPHEMERAL_SEQUENTIAL"
	}
	return "CreateMode(" + itoa(int64(m)) + ")"
}

// Op is one operation of a multi (org.apache.zookeeper.Op): create, delete, setData or
// check, with the same fields as the single request.
type Op struct {
	Type    OpCode
	Path    string
	Data    string
	Version int32 // delete, setData, check: expected version, -1 any
	Mode    CreateMode
}

// OpCreateOf, OpDeleteOf, OpSetDataOf and OpCheckOf build multi ops (Op.create, Op.delete,
// Op.setData, Op.check).
func OpCreateOf(path, data string, mode CreateMode) Op {
	return Op{Type: OpCreate, Path: path, Data: data, Mode: mode}
}
func OpDeleteOf(path string, version int32) Op {
	return Op{Type: OpDelete, Path: path, Version: version}
}
func OpSetDataOf(path, data string, version int32) Op {
	return Op{Type: OpSetData, Path: path, Data: data, Version: version}
}
func OpCheckOf(path string, version int32) Op { return Op{Type: OpCheck, Path: path, Version: version} }

func (o *Op) appendTo(b []byte) []byte {
	b = append(b, o.Type.String()...)
	b = append(b, ' ')
	b = append(b, o.Path...)
	if o.Type == OpCreate || o.Type == OpSetData {
		b = append(b, " ="...)
		b = appendQuoted(b, o.Data)
	}
	if o.Type == OpCreate && o.Mode != Persistent {
		b = append(b, ' ')
		b = append(b, o.Mode.String()...)
	}
	if o.Type != OpCreate {
		b = append(b, " v="...)
		b = strconv.AppendInt(b, int64(o.Version), 10)
	}
	return b
}

// OpResult is one result of a multi (OpResult.CreateResult, DeleteResult, SetDataResult,
// CheckResult or ErrorResult).
type OpResult struct {
	Type OpCode // the op's type, or OpError
	Err  int32
	Path string // CreateResult
	Stat Stat   // SetDataResult
}

// ConnectRequest opens or re-opens a session (ConnectRequest.jute).
type ConnectRequest struct {
	ProtocolVersion int32
	LastZxidSeen    Zxid
	TimeOut         sim.Time // the timeout the client asks for
	SessionID       int64    // 0 for a new session
}

func (m *ConnectRequest) TypeName() string { return "ConnectRequest" }
func (m *ConnectRequest) AppendTo(b []byte) []byte {
	b = append(b, "CONNECT session=0x"...)
	b = appendHexInt(b, m.SessionID)
	b = append(b, " lastZxid="...)
	b = m.LastZxidSeen.AppendTo(b)
	b = append(b, " timeout="...)
	return strconv.AppendInt(b, int64(m.TimeOut/sim.Millisecond), 10)
}

// ConnectResponse answers a ConnectRequest (ZooKeeperServer.finishSessionInit). A timeout
// of 0 and session 0 mean the session is not valid (expired); the server then closes.
type ConnectResponse struct {
	ProtocolVersion int32
	TimeOut         sim.Time // negotiated
	SessionID       int64
}

func (m *ConnectResponse) TypeName() string { return "ConnectResponse" }
func (m *ConnectResponse) AppendTo(b []byte) []byte {
	if m.TimeOut <= 0 {
		return append(b, "CONNECTED invalid session"...)
	}
	b = append(b, "CONNECTED session=0x"...)
	b = appendHexInt(b, m.SessionID)
	b = append(b, " timeout="...)
	return strconv.AppendInt(b, int64(m.TimeOut/sim.Millisecond), 10)
}

// ClientRequest is a RequestHeader (xid, type) with the request's record: CreateRequest,
// DeleteRequest, SetDataRequest, GetDataRequest, ExistsRequest, GetChildrenRequest,
// SyncRequest, MultiOperationRecord, SetWatches, or nothing (ping, closeSession).
type ClientRequest struct {
	Xid     int32
	Type    OpCode
	Path    string
	Data    string
	Version int32
	Mode    CreateMode
	Watch   bool
	Ops     []Op // multi
	// SetWatches is the SetWatches record, nil on every other request: a client sends a
	// request on every call, and a SetWatches only on a reconnect.
	*SetWatches
}

// SetWatches is the record of a SetWatches request: the watches a client re-registers on
// reconnecting, and the last zxid it saw.
type SetWatches struct {
	RelativeZxid                            Zxid
	DataWatches, ExistWatches, ChildWatches []string
}

// Watches is m's SetWatches record, empty if it has none (a request read from a trace
// file may lack it).
func (m *ClientRequest) Watches() SetWatches {
	if m.SetWatches == nil {
		return SetWatches{}
	}
	return *m.SetWatches
}

func (m *ClientRequest) TypeName() string { return "ClientRequest" }
func (m *ClientRequest) AppendTo(b []byte) []byte {
	b = append(b, "REQ xid="...)
	b = strconv.AppendInt(b, int64(m.Xid), 10)
	b = append(b, ' ')
	return m.appendBody(b)
}

// appendBody appends the request without its header: "getData /a watch".
func (m *ClientRequest) appendBody(b []byte) []byte {
	switch m.Type {
	case OpPing, OpCloseSession:
		return append(b, m.Type.String()...)
	case OpSetWatches:
		sw := m.Watches()
		b = append(b, "setWatches rel="...)
		b = sw.RelativeZxid.AppendTo(b)
		for _, l := range [][]string{sw.DataWatches, sw.ExistWatches, sw.ChildWatches} {
			b = append(b, " ["...)
			for i, p := range l {
				if i > 0 {
					b = append(b, ' ')
				}
				b = append(b, p...)
			}
			b = append(b, ']')
		}
		return b
	case OpMulti:
		b = append(b, "multi"...)
		for i := range m.Ops {
			b = append(b, " ["...)
			b = m.Ops[i].appendTo(b)
			b = append(b, ']')
		}
		return b
	case OpCreate, OpDelete, OpSetData, OpCheck:
		op := Op{Type: m.Type, Path: m.Path, Data: m.Data, Version: m.Version, Mode: m.Mode}
		return op.appendTo(b)
	}
	b = append(b, m.Type.String()...)
	b = append(b, ' ')
	b = append(b, m.Path...)
	if m.Watch {
		b = append(b, " watch"...)
	}
	return b
}

// ClientReply is a ReplyHeader (xid, zxid, err) with the response record.
type ClientReply struct {
	Xid      int32
	Zxid     Zxid // ReplyHeader.zxid: the server's lastProcessedZxid when it replied
	Err      int32
	Path     string // CreateResponse
	Data     string // GetDataResponse
	Stat     Stat   // GetData/Exists/SetData responses
	Children []string
	Results  []OpResult // MultiResponse
}

func (m *ClientReply) TypeName() string { return "ClientReply" }
func (m *ClientReply) AppendTo(b []byte) []byte {
	b = append(b, "REPLY xid="...)
	b = strconv.AppendInt(b, int64(m.Xid), 10)
	b = append(b, " zxid="...)
	b = m.Zxid.AppendTo(b)
	if m.Err != ErrOK {
		b = append(b, " err="...)
		b = append(b, ErrName(m.Err)...)
	}
	return b
}

// WatcherEvent is a watch notification (ReplyHeader xid -1 + WatcherEvent). Zxid is the
// txn that triggered it: the model carries it for the trace (the checker relates events to
// reads by it); ZooKeeper 3.8 sends -1 in the ReplyHeader and the client ignores it.
type WatcherEvent struct {
	Type  EventType
	State KeeperState
	Path  string
	Zxid  Zxid
}

func (m *WatcherEvent) TypeName() string { return "WatcherEvent" }
func (m *WatcherEvent) AppendTo(b []byte) []byte {
	b = append(b, "EVENT "...)
	b = append(b, m.Type.String()...)
	b = append(b, ' ')
	b = append(b, m.Path...)
	b = append(b, " zxid="...)
	return m.Zxid.AppendTo(b)
}
