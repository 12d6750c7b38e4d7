package model

// dropFirst removes q[0] and returns the rest. A short queue (requests of one connection,
// txns awaiting their COMMIT, proposals awaiting their quorum) is moved down to the start
// of its array: a queue popped this way and appended to at its back reuses its array
// instead of sliding along it and allocating a new one each time it reaches the end, and
// the move costs less than the allocation it saves. A long one (a follower's txns
// awaiting their COMMIT under ten thousand clients) slides: moving it would cost O(len)
// per pop, and an append at its end that outgrows the array copies it into one a quarter
// larger (the committedLog, a long window of its own, keeps its array: zkDatabase.commitArr).
func dropFirst[T any](q []T) []T {
	var zero T
	if len(q) > dropMove {
		q[0] = zero // the array no longer holds on to what was dropped
		return q[1:]
	}
	n := copy(q, q[1:])
	q[n] = zero
	return q[:n]
}

// dropMove is the longest queue dropFirst moves down.
const dropMove = 32

// slab hands out pointers to new zero values of T, allocated a chunk at a time (4, 8, 16,
// then slabChunk): one allocation instead of many for the small objects made on every
// request, proposal and commit (records, packets, log entries), and little waste in a short
// run. Nothing is ever reused: a pointer stays valid as long as anything holds it, and its
// chunk lives as long as any of its values does.
type slab[T any] struct {
	chunk []T
	size  int // of the last chunk
}

const slabChunk = 32

func (s *slab[T]) new() *T {
	if len(s.chunk) == 0 {
		s.size = min(max(2*s.size, 4), slabChunk)
		s.chunk = make([]T, s.size)
	}
	p := &s.chunk[0]
	s.chunk = s.chunk[1:]
	return p
}

// of is new holding v.
func (s *slab[T]) of(v T) *T {
	p := s.new()
	*p = v
	return p
}

// serverSlabs are the slabs of the servers of an ensemble, for what they make on their hot
// paths: shared, so that a chunk fills up with whichever server's values come next, and
// the ramp of small first chunks happens once, not once per server and type (the model is
// one thread, and a value's chunk lives as long as any of its values, as before).
type serverSlabs struct {
	tree      treeMem        // the servers' trees' nodes and multi results (DataTree.mem)
	entries   slab[logEntry] // their logs' entries (zkDatabase.entries)
	logged    slab[Logged]
	committed slab[Committed]
	proposed  slab[Proposed]
	proposal  slab[proposal]
	packet    slab[QuorumPacket]
	request   slab[cnxnRequest]
	reply     slab[ClientReply]
	vote      slab[Notification]
	why       slab[VoteWhy]
	change    slab[changeRecord]
	txn       slab[Txn]
	req       slab[Request]
	result    slab[ProcessTxnResult]
	epoch     slab[EpochWritten]
	state     slab[StateChange]
	// acks are the ACKs of txns made last, for the followers' ACKs of the same txn to share
	// (a packet is never changed once sent; see ack)
	acks    [8]*QuorumPacket
	nextAck int
}

// ack is an ACK of zxid: one the ensemble's servers made lately, or a new one. Every
// follower ACKs every txn, so most ACKs need no packet of their own.
func (m *serverSlabs) ack(zxid Zxid) *QuorumPacket {
	for _, p := range m.acks {
		if p != nil && p.Zxid == zxid {
			return p
		}
	}
	p := m.packet.of(QuorumPacket{Type: ACK, Zxid: zxid})
	m.acks[m.nextAck] = p
	m.nextAck = (m.nextAck + 1) % len(m.acks)
	return p
}

// packet is a copy of p from the server's packet slab: what it sends is made on its hot path.
func (s *Server) packet(p QuorumPacket) *QuorumPacket { return s.mem.packet.of(p) }

// clientSlabs are the slabs of the clients of an ensemble, for their calls and the calls'
// records: shared, as serverSlabs are (with 10,000 clients, one each made 40,000 chunks of
// four, each cold when first written).
type clientSlabs struct {
	request slab[ClientRequest]
	call    slab[clientCall]
	callRec slab[ClientCall]
	retRec  slab[ClientReturn]
}
