package model

import "github.com/zabsim/zabsim/sim"

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
// run. A pointer stays valid as long as anything holds it, and its chunk lives as long as
// any of its values does, unless the slab is part of a Memory: then its chunks come from
// chunks, which keeps them for Memory.Reset to clear and hand out again.
type slab[T any] struct {
	chunk  []T
	size   int           // of the last chunk taken
	chunks sim.Arrays[T] // where a Memory's slab (reuse) takes its chunks
	reuse  bool
}

const slabChunk = 32

func (s *slab[T]) new() *T {
	if len(s.chunk) == 0 {
		s.refill()
	}
	p := &s.chunk[0]
	s.chunk = s.chunk[1:]
	return p
}

// refill makes the next chunk current: in a Memory one of chunks (a cleared one again
// after a reset), else a new one.
func (s *slab[T]) refill() {
	s.size = min(max(2*s.size, 4), slabChunk)
	if s.reuse {
		s.chunk = s.chunks.Get(s.size)
		return
	}
	s.chunk = make([]T, s.size)
}

// of is new holding v.
func (s *slab[T]) of(v T) *T {
	p := s.new()
	*p = v
	return p
}

// big is of for a value that holds much (a tree, a database, a handler): from the slab
// only in a Memory. Outside one a chunk lives as long as any of its values, and would keep
// what its dead values hold alive with it (the trees of every snapshot a long run made).
func (s *slab[T]) big(v T) *T {
	if !s.reuse {
		p := new(T)
		*p = v
		return p
	}
	return s.of(v)
}

// cut is an empty list with room for n values, cut from the current chunk (a new one of
// slabChunk values when it has no room left: the values it leaves are not handed out).
// Lists longer than a chunk are made on their own.
func (s *slab[T]) cut(n int) []T {
	if n > slabChunk {
		return make([]T, 0, n)
	}
	if n > len(s.chunk) {
		s.size = slabChunk // a full chunk
		s.refill()
	}
	r := s.chunk[:0:n]
	s.chunk = s.chunk[n:]
	return r
}

// reset clears every chunk handed out, to be handed out again in the same order of sizes
// (a slab of a Memory only).
func (s *slab[T]) reset() {
	s.chunks.Reset()
	s.chunk, s.size = nil, 0
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
	// the records of loads, elections, syncs, connections and sessions
	loaded      slab[Loaded]
	elected     slab[ElectionDone]
	syncDecided slab[SyncDecided]
	connect     slab[ClientConnect]
	created     slab[SessionCreated]
	// a process's database, a leader's handlers and their syncs' log readers, a learner's state
	dbs        slab[zkDatabase]
	handlers   slab[learnerHandler]
	logReaders slab[txnLogReader]
	learners   slab[learnerState]
	// the arrays of a load (the log's txns, the history recorded, the committedLog), from
	// the pool only in a Memory (inMemory; see array)
	txnLists  sim.Arrays[*Txn]
	histories sim.Arrays[ZxidHash]
	proposals sim.Arrays[Proposal]
	inMemory  bool
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
	state   slab[ClientState]
}

// Memory is where an ensemble's servers and clients make the values of their hot paths
// (records, packets, txns, log entries, znodes, trees, a load's arrays), and where the next
// ensemble makes them again once Reset has cleared them: an explorer runs thousands of
// short schedules one after another, each read only for its summary, and half of each
// one's bytes were these values (NewEnsembleIn). Its World part (World) holds the engine's
// arrays and the checker's (sim.Pool). A Memory keeps every chunk it hands out until Reset,
// so it suits short runs: a long one's memory grows with everything it ever made.
type Memory struct {
	servers serverSlabs
	clients clientSlabs
	world   sim.Memory
	inUse   bool
}

// World is the part of m for the ensemble's World (sim.Config.Memory): its connection
// table, the arrays it grows and those of the checker attached to its trace (sim.Pool).
// Reset resets it too.
func (m *Memory) World() *sim.Memory { return &m.world }

// NewMemory is an empty Memory (the zero value is one too).
func NewMemory() *Memory { return &Memory{} }

// keep makes every slab of m keep the chunks it makes, for Reset.
func (m *Memory) keep() {
	for _, s := range m.slabs() {
		s.setReuse()
	}
	m.servers.inMemory = true
}

// array is an array of n elements (capacity n): from a if the slabs are a Memory's (keep),
// else a new one.
func array[T any](keep bool, a *sim.Arrays[T], n int) []T {
	if !keep || n == 0 {
		return make([]T, n)
	}
	return a.Get(n)[:n:n]
}

// reusable is a slab of any type.
type reusable interface {
	setReuse()
	reset()
}

func (s *slab[T]) setReuse() { s.reuse = true }

// slabs are every slab of m (TestMemoryListsEverySlab checks that none is left out).
func (m *Memory) slabs() []reusable {
	s, c := &m.servers, &m.clients
	return []reusable{&s.tree.znodes, &s.tree.multi, &s.tree.toks, &s.tree.kids, &s.tree.trees,
		&s.entries, &s.logged, &s.committed, &s.proposed, &s.proposal, &s.packet, &s.request,
		&s.reply, &s.vote, &s.why, &s.change, &s.txn, &s.req, &s.result, &s.epoch, &s.state,
		&s.loaded, &s.elected, &s.syncDecided, &s.connect, &s.created,
		&s.dbs, &s.handlers, &s.logReaders, &s.learners,
		&c.request, &c.call, &c.callRec, &c.retRec, &c.state}
}

// Reset clears every value the ensemble made in m, for the next one to make its own in
// the same chunks. Nothing of the ensemble's run may be read afterwards: its servers,
// clients, trees and the trace's payloads are cleared too.
func (m *Memory) Reset() {
	for _, s := range m.slabs() {
		s.reset()
	}
	m.servers.acks, m.servers.nextAck = [8]*QuorumPacket{}, 0
	m.servers.txnLists.Reset()
	m.servers.histories.Reset()
	m.servers.proposals.Reset()
	m.world.Reset()
	m.inUse = false
}
