package model

import (
	"strconv"

	"github.com/zabsim/zabsim/sim"
)

// PacketType is a QuorumPacket type, with the codes of Leader.java's static fields.
type PacketType uint8

const (
	REQUEST           PacketType = 1
	PROPOSAL          PacketType = 2
	ACK               PacketType = 3
	COMMIT            PacketType = 4
	PING              PacketType = 5
	REVALIDATE        PacketType = 6
	SYNC              PacketType = 7
	INFORM            PacketType = 8
	COMMITANDACTIVATE PacketType = 9
	NEWLEADER         PacketType = 10
	FOLLOWERINFO      PacketType = 11
	UPTODATE          PacketType = 12
	DIFF              PacketType = 13
	TRUNC             PacketType = 14
	SNAP              PacketType = 15
	OBSERVERINFO      PacketType = 16
	LEADERINFO        PacketType = 17
	ACKEPOCH          PacketType = 18
)

var packetNames = [...]string{
	REQUEST: "REQUEST", PROPOSAL: "PROPOSAL", ACK: "ACK", COMMIT: "COMMIT", PING: "PING",
	REVALIDATE: "REVALIDATE", SYNC: "SYNC", INFORM: "INFORM", COMMITANDACTIVATE: "COMMITANDACTIVATE",
	NEWLEADER: "NEWLEADER", FOLLOWERINFO: "FOLLOWERINFO", UPTODATE: "UPTODATE", DIFF: "DIFF",
	TRUNC: "TRUNC", SNAP: "SNAP", OBSERVERINFO: "OBSERVERINFO", LEADERINFO: "LEADERINFO",
	ACKEPOCH: "ACKEPOCH",
}

func (t PacketType) String() string {
	if int(t) < len(packetNames) && packetNames[t] != "" {
		return packetNames[t]
	}
	return "PACKET(" + strconv.Itoa(int(t)) + ")"
}

// Proposal is a txn as the committedLog and the txn log hold it (Leader.Proposal).
type Proposal struct {
	Zxid Zxid
	Txn  *Txn
}

// QuorumPacket is the unit of the leader/learner protocol (QuorumPacket.jute): a type, a zxid,
// and for PROPOSAL and INFORM the txn. Other payloads get their own fields as they are modelled.
type QuorumPacket struct {
	Type PacketType
	// Valid is REVALIDATE's answer (with Session below); next to Type, where it costs no
	// padding: a run makes thousands of packets.
	Valid bool
	Zxid  Zxid
	Txn   *Txn // PROPOSAL, INFORM
	// Epoch is the int in ACKEPOCH's data (currentEpoch, or -1).
	Epoch int64
	// Sid is the LearnerInfo sid of FOLLOWERINFO/OBSERVERINFO.
	Sid int64
	// Snap is the serialised tree that follows SNAP on the wire.
	Snap *DataTree
	// Req is the forwarded client request of REQUEST.
	Req *Request
	// Touches are the session touches a learner's PING reply carries (Learner.ping).
	Touches []SessionTouch
	// Session, Timeout and Valid are REVALIDATE's data: (sessionId, timeout) from the
	// learner, (sessionId, valid) back from the leader.
	Session int64
	Timeout sim.Time
}

// The ports a server listens on, as zoo.cfg names them (server.N=host:2888:3888;2181): a
// partition can cut one class of connection only, as a firewall rule on that port does.
const (
	PortClient   sim.Port = 1 // clientPort (2181)
	PortQuorum   sim.Port = 2 // the quorum port (2888): learners to their leader
	PortElection sim.Port = 3 // the election port (3888): QuorumCnxManager
)

// PortNames maps the scenario names of the ports to them.
var PortNames = map[string]sim.Port{"client": PortClient, "quorum": PortQuorum, "election": PortElection}

// WireSize is the packet's size as LearnerHandler writes it (jute QuorumPacket: int type,
// long zxid, buffer data, vector authinfo), with its data serialised as ZooKeeper does.
func (p *QuorumPacket) WireSize() int {
	n := 4 + 8 + 4 + 4
	switch {
	case p.Txn != nil:
		n += int(marshalledTxnSize(p.Txn))
	case p.Snap != nil:
		n += int(snapshotSize(p.Snap, "")) // the snapshot follows SNAP on the stream
	case p.Req != nil:
		n += 8 + 4 + 4 + len(p.Req.Path) + len(p.Req.Data) + 16
	case p.Type == FOLLOWERINFO || p.Type == OBSERVERINFO:
		n += 8 + 4 + 8 // LearnerInfo: serverid, protocolVersion, configVersion
	case p.Type == ACKEPOCH:
		n += 4
	case p.Type == REVALIDATE:
		n += 8 + 4
	}
	return n + 12*len(p.Touches)
}

// String gives the stable one-line form used in traces and test vectors: "PROPOSAL 0x100000003".
func (p QuorumPacket) String() string {
	var buf [40]byte // one allocation: the string
	return string(p.Zxid.AppendTo(append(append(buf[:0], p.Type.String()...), ' ')))
}
