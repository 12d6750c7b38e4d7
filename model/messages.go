package model

import (
	"strconv"

	"github.com/zabsim/zabsim/sim"
)

// Notification is an FLE message (FastLeaderElection.Notification / ToSend, version 0x2).
type Notification struct {
	State         ServerState // sender's state
	Leader        int64       // proposed leader
	Zxid          Zxid        // proposed leader's last zxid
	ElectionEpoch int64       // sender's logicalclock (or its vote's electionEpoch when not LOOKING)
	PeerEpoch     int64       // proposed leader's epoch
	Sid           int64       // sender
	Version       int32
	// Why says why the sender sends this vote now. It is not on the wire and not in the
	// canonical text (so the trace hash does not cover it): the run player and the
	// pictures read it to explain an election as it happens.
	Why *VoteWhy `json:",omitempty"`
}

func (n *Notification) AppendTo(b []byte) []byte {
	b = append(b, "NOTIFICATION "...)
	b = append(b, n.State.String()...)
	b = append(b, " leader="...)
	b = strconv.AppendInt(b, n.Leader, 10)
	b = append(b, " zxid="...)
	b = n.Zxid.AppendTo(b)
	b = append(b, " round="...)
	b = strconv.AppendInt(b, n.ElectionEpoch, 10)
	b = append(b, " peerEpoch="...)
	b = strconv.AppendInt(b, n.PeerEpoch, 10)
	return b
}

func (n *Notification) TypeName() string { return "Notification" }

// WireSize is a 3.8 notification on the election connection: its length, then state,
// leader, zxid, electionEpoch, peerEpoch, version and an empty config.
func (n *Notification) WireSize() int { return 4 + 4 + 8 + 8 + 8 + 8 + 4 + 4 }

// vote is the Vote this notification carries.
func (n *Notification) vote() Vote {
	return Vote{Version: n.Version, Leader: n.Leader, Zxid: n.Zxid, ElectionEpoch: n.ElectionEpoch, PeerEpoch: n.PeerEpoch, State: n.State}
}

// electionHello opens an election connection: QuorumCnxManager sends its sid first.
type electionHello struct{ Sid int64 }

func (h *electionHello) AppendTo(b []byte) []byte {
	return strconv.AppendInt(append(b, "HELLO sid="...), h.Sid, 10)
}

// AppendTo gives packets their trace form: "PROPOSAL 0x100000003", with the epoch field of
// ACKEPOCH and the sid of FOLLOWERINFO.
func (p *QuorumPacket) AppendTo(b []byte) []byte {
	b = append(b, p.Type.String()...)
	b = append(b, ' ')
	b = p.Zxid.AppendTo(b)
	switch p.Type {
	case ACKEPOCH:
		b = append(b, " epoch="...)
		b = strconv.AppendInt(b, p.Epoch, 10)
	case FOLLOWERINFO, OBSERVERINFO:
		b = append(b, " sid="...)
		b = strconv.AppendInt(b, p.Sid, 10)
	case PING:
		for i, t := range p.Touches {
			if i == 0 {
				b = append(b, " touch="...)
			} else {
				b = append(b, ',')
			}
			b = append(b, "0x"...)
			b = appendHexInt(b, t.Session)
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(t.Timeout/sim.Millisecond), 10)
		}
	case REVALIDATE:
		b = append(b, " session=0x"...)
		b = appendHexInt(b, p.Session)
		if p.Timeout > 0 {
			b = append(b, " timeout="...)
			b = strconv.AppendInt(b, int64(p.Timeout/sim.Millisecond), 10)
		} else {
			b = append(b, " valid="...)
			b = strconv.AppendBool(b, p.Valid)
		}
	case REQUEST:
		if r := p.Req; r != nil {
			b = append(b, " s=0x"...)
			b = appendHexInt(b, r.SessionID)
			b = append(b, " c="...)
			b = strconv.AppendInt(b, int64(r.Cxid), 10)
			b = append(b, ' ')
			b = append(b, r.Op.String()...)
			if r.Path != "" {
				b = append(b, ' ')
				b = append(b, r.Path...)
			}
		}
	}
	return b
}

func (p *QuorumPacket) TypeName() string { return "QuorumPacket" }
