package model

import (
	"strconv"

	"zabsim/sim"
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
	Zxid Zxid
	Txn  *Txn // PROPOSAL, INFORM
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
	Valid   bool
}

// String gives the stable one-line form used in traces and test vectors: "PROPOSAL 0x100000003".
func (p QuorumPacket) String() string { return p.Type.String() + " " + p.Zxid.String() }
