package sim

import (
	"math/rand/v2"
	"strconv"
)

// ConnID names a connection. IDs are handed out in order from 0 and never reused.
type ConnID int32

// Port is the class of a connection, as the port it was opened to: a partition can cut
// some classes only, as a firewall rule on one port does. The sim gives no meaning to the
// numbers (the model names its ports); 0 is a connection of no particular port.
type Port uint8

// Ports is a set of Ports; AllPorts holds every one.
type Ports uint8

// AllPorts is every port: what a partition cuts unless told otherwise.
const AllPorts Ports = 0xFF

// Has reports whether p is in the set.
func (ps Ports) Has(p Port) bool { return ps&(1<<p) != 0 }

// PortSet makes the set of the given ports.
func PortSet(ports ...Port) Ports {
	var ps Ports
	for _, p := range ports {
		ps |= 1 << p
	}
	return ps
}

// Sized is a Message that knows how many bytes it takes on the wire; for one that does not,
// its trace text's length stands in. Sizes fill the bounded socket buffers.
type Sized interface {
	WireSize() int
}

// size is the wire size of data item it, worked out the first time it is needed (only a
// paused receiver or a close looks at sizes).
func (n *network) size(it *inflight) int64 {
	if it.kind != itemData {
		return 0
	}
	if it.size < 0 {
		if s, ok := it.msg.(Sized); ok {
			it.size = int32(s.WireSize())
		} else {
			n.sizeBuf = it.msg.AppendTo(n.sizeBuf[:0])
			it.size = int32(len(n.sizeBuf))
		}
	}
	return int64(it.size)
}

// itemKind is what travels in a connection's stream: data, or the markers TCP sends.
type itemKind uint8

const (
	itemData  itemKind = iota
	itemOpen           // SYN: the receiver learns of the connection (Accept)
	itemClose          // FIN or EOF after a crash: the receiver sees Closed
	itemReset          // RST: the receiver sees Closed; no data may follow
)

// inflight is one item on its way through one direction of a connection.
type inflight struct {
	msg  Message
	at   Time  // when it is due at the receiver
	size int32 // bytes on the wire (data only; -1 until asked, see network.size)
	kind itemKind
}

// direction is one half of a connection: a FIFO of items in flight.
//
// It is TCP's send queue as well: when the head is lost (a cut link, or a receiver whose
// host is down) it stays at the head and the direction stalls; the evDeliver in the queue is
// then the retransmission timer. Each expiry sends it again (with everything behind it) if
// the way is clear, or doubles the timeout; after too many the sender gives up (see due).
type direction struct {
	q       []inflight
	head    int
	floor   Time  // delivery times never go below this, which keeps the stream FIFO
	schedAt Time  // when the evDeliver for the head is due (if scheduled)
	rto     Time  // the retransmission timeout in force while stalled
	retries int   // retransmissions of the head so far
	link    *link // the link this direction travels (links are never removed)
	// Flow control: unread is what reached the receiver's kernel while its process was
	// paused (its receive buffer); when the next item does not fit in the buffer, the
	// direction waits for the receiver to read (windowWait) and is due again one round trip
	// after it resumes.
	unread     int64
	epoch      uint32 // evDeliver events of an older epoch are stale (see reschedule)
	scheduled  bool   // an evDeliver for the head is in the queue
	stalled    bool   // the head was lost: the evDeliver is the retransmission timer
	broken     bool   // an item was lost in a resetting partition: nothing passes the hole
	windowWait bool
	// (the small fields last: 88 bytes, not 112 in declaration order)
}

// TCP's retransmission timer as Linux runs it (net/ipv4/tcp_timer.c): the first RTO is
// TCP_RTO_MIN (a LAN's round trip is far below it), 1 s for a SYN (TCP_TIMEOUT_INIT); each
// expiry doubles it up to TCP_RTO_MAX. A connection gives up after tcp_retries2 (15)
// retransmissions, about 924.6 s; a SYN after tcp_syn_retries (6), 127 s; a socket its
// process already closed after tcp_orphan_retries (0, which means 8), about 102 s.
const (
	rtoMin        = 200 * Millisecond
	rtoSYN        = Second
	rtoMax        = 120 * Second
	retries2      = 15
	synRetries    = 6
	orphanRetries = 8
)

// dirStart is the capacity of a new connection's direction.
const dirStart = 4

func (d *direction) empty() bool { return d.head == len(d.q) }

func (d *direction) popItem() inflight {
	it := d.q[d.head]
	d.q[d.head] = inflight{}
	d.head++
	return it
}

func (d *direction) clear() int {
	n := len(d.q) - d.head
	for i := d.head; i < len(d.q); i++ {
		d.q[i] = inflight{}
	}
	d.q, d.head = d.q[:0], 0
	return n
}

// conn is a connection between a dialer (end 0) and an acceptor (end 1). dirs[0] carries
// what end 0 sends.
type conn struct {
	ends  [2]NodeID
	open  [2]bool // whether each end can still send and receive
	reset [2]bool // whether each end was closed by a reset (RST or refused dial)
	dead  bool    // reset by ResetConn: only its RSTs still travel
	port  Port
	dirs  [2]direction
}

// link holds the settings of one ordered pair of nodes.
type link struct {
	min, mean Time
	cut       Ports // the ports a partition cuts on this link
	resets    bool  // the cut forgets connections (see PartitionResetting)
	clogUntil Time
	// The link's delays come from the stream "net/from->to" (see World.Stream), held here
	// rather than in the World's table of streams: a schedule makes about sixty links.
	seeded bool
	pcg    rand.PCG
	rng    rand.Rand
}

// cuts reports whether the link drops the segments of a connection to port p.
func (l *link) cuts(p Port) bool { return l.cut.Has(p) }

// network is the World's set of connections and links.
type network struct {
	w       *World
	sizeBuf []byte // scratch for network.size
	// conns in chunks of connChunk: a connection never moves, and the table never copies
	// itself as it grows (it did: 4% of an explored schedule's bytes)
	chunks [][]conn
	nconns int
	qbuf   []inflight          // the rest of the array new connections' first queues come from
	links  map[[2]NodeID]*link // looked up by pair, never ranged over
	// linkBuf is the rest of the chunk new links come from (links are never removed)
	linkBuf []link
}

func (n *network) init(w *World) {
	n.w = w
}

// connChunk is how many connections a chunk of the table holds.
const connChunk = 32

// conn is connection c.
func (n *network) conn(c ConnID) *conn { return &n.chunks[c/connChunk][c%connChunk] }

func (n *network) link(from, to NodeID) *link {
	k := [2]NodeID{from, to}
	l := n.links[k]
	if l == nil {
		if n.links == nil {
			// made at the first link, when the nodes are known: one per ordered pair that
			// talks, and most pairs do (a map grown one doubling at a time was 1% of an
			// explored schedule's allocations)
			n.links = make(map[[2]NodeID]*link, min(len(n.w.order)*len(n.w.order), 4096))
		}
		if len(n.linkBuf) == 0 {
			n.linkBuf = make([]link, 16)
		}
		l = &n.linkBuf[0]
		n.linkBuf = n.linkBuf[1:]
		l.min, l.mean = n.w.cfg.LatencyMin, n.w.cfg.LatencyMean
		n.links[k] = l
	}
	return l
}

func (l *link) delay(w *World, from, to NodeID) Time {
	d := l.min
	if l.mean > 0 {
		if !l.seeded {
			var buf [32]byte
			name := strconv.AppendInt(append(buf[:0], "net/"...), int64(from), 10)
			name = strconv.AppendInt(append(name, "->"...), int64(to), 10)
			l.pcg.Seed(w.seed, streamKey(name))
			l.rng, l.seeded = *rand.New(&l.pcg), true
		}
		d += Time(l.rng.ExpFloat64() * float64(l.mean))
	}
	return d
}

// Unsafe makes the network break TCP's promises, to show what Zab assumes of it. Each
// probability applies to every data message independently.
type Unsafe struct {
	Drop      float64 // the message vanishes, and the connection carries on
	Duplicate float64 // the message is delivered twice
	Reorder   float64 // the message overtakes the one sent before it
}

// SetUnsafe switches the unsafe network on (all zero switches it off).
func (w *World) SetUnsafe(u Unsafe) error {
	for _, p := range []struct {
		name string
		v    float64
	}{{"unsafe drop probability", u.Drop}, {"unsafe duplicate probability", u.Duplicate}, {"unsafe reorder probability", u.Reorder}} {
		if !(p.v >= 0 && p.v <= 1) {
			return &SettingError{Setting: p.name, Value: strconv.FormatFloat(p.v, 'g', -1, 64), Reason: "must be in [0,1]"}
		}
	}
	w.unsafe = u
	return nil
}

// Dial opens a connection from node from to node to. The acceptor hears of it (Accept)
// after one link delay, if it is up and reachable. If its process is down but its host is
// up, its kernel refuses: the dialer sees the connection close (reset). Across a partition,
// or to a host that is down, the SYN is lost and retransmitted (1 s, then doubling): the
// connection opens late if the way clears within 127 s, else the dialer sees it reset;
// ZooKeeper's own connect timeouts usually close it first.
func (w *World) Dial(from, to NodeID) ConnID { return w.DialPort(from, to, 0) }

// DialPort is Dial to a given port of to (a partition may cut that port only).
func (w *World) DialPort(from, to NodeID, port Port) ConnID {
	n := &w.net
	id := ConnID(n.nconns)
	if n.nconns%connChunk == 0 {
		n.chunks = append(n.chunks, n.w.mem.connChunk())
	}
	n.nconns++
	cn := n.conn(id)
	*cn = conn{ends: [2]NodeID{from, to}, open: [2]bool{true, true}, port: port}
	cn.dirs[0].link = n.link(from, to)
	cn.dirs[1].link = n.link(to, from)
	// Both directions' first items in a piece of a shared array (a direction that outgrows
	// its four gets an array of its own), not one per direction and per doubling.
	if len(n.qbuf) < 2*dirStart {
		n.qbuf = n.w.mem.queueChunk()
	}
	q := n.qbuf[: 2*dirStart : 2*dirStart]
	n.qbuf = n.qbuf[2*dirStart:]
	cn.dirs[0].q, cn.dirs[1].q = q[:0:dirStart], q[dirStart:dirStart:2*dirStart]
	s := w.nodes[from]
	s.conns = append(grow(w.mem, &w.mem.connIDs, s.conns, len(s.conns)+1), id)
	w.record(RecDial, from, to, id, nil)
	n.enqueue(id, 0, inflight{kind: itemOpen}, 0)
	return id
}

// Send queues m on connection c from node from. It returns false if from's end is closed.
func (w *World) Send(c ConnID, from NodeID, m Message) bool {
	n := &w.net
	cn := n.conn(c)
	e := 0
	if cn.ends[1] == from {
		e = 1
	}
	if !cn.open[e] || cn.ends[e] != from {
		return false
	}
	if s := w.nodes[from]; s.paused {
		// A stopped process sends nothing: what it was made to send goes at its resume.
		s.held = append(s.held, heldItem{kind: evCall, call: func() { w.Send(c, from, m) }})
		return true
	}
	w.record(RecSend, from, cn.ends[1-e], c, m)
	if u := &w.unsafe; u.Drop > 0 || u.Duplicate > 0 || u.Reorder > 0 {
		return n.sendUnsafe(c, e, m)
	}
	n.enqueue(c, e, inflight{msg: m, size: -1}, 0)
	return true
}

// Peer returns the other end of connection c, seen from node self.
func (w *World) Peer(c ConnID, self NodeID) NodeID {
	cn := w.net.conn(c)
	if cn.ends[0] == self {
		return cn.ends[1]
	}
	return cn.ends[0]
}

// IsOpen reports whether self's end of connection c is open.
func (w *World) IsOpen(c ConnID, self NodeID) bool {
	if c < 0 || int(c) >= w.net.nconns {
		return false
	}
	cn := w.net.conn(c)
	for e := 0; e < 2; e++ {
		if cn.ends[e] == self {
			return cn.open[e]
		}
	}
	return false
}

// WasReset reports whether self's end of connection c was closed by a reset (an RST, a
// dial refused because the other node was down or refused it, or its kernel giving up on
// retransmissions) rather than by the peer's orderly close or exit. A node may ask from its
// Closed callback: a connect that was refused can be retried, a connection the peer
// accepted and then closed cannot.
func (w *World) WasReset(c ConnID, self NodeID) bool {
	if c < 0 || int(c) >= w.net.nconns {
		return false
	}
	cn := w.net.conn(c)
	for e := 0; e < 2; e++ {
		if cn.ends[e] == self {
			return cn.reset[e]
		}
	}
	return false
}

// Close closes self's end of connection c, as a node does with close(2): nothing more is
// delivered to it; what it sent before still arrives (retransmitted as needed), followed
// by an end-of-stream. A dialer that closes before its SYN got through abandons the
// connection: the acceptor never hears of it.
func (w *World) Close(c ConnID, self NodeID) {
	w.net.closeEnd(c, self)
}

// ResetConn resets connection c as an RST does: everything in flight both ways is lost and
// both ends see the connection close after one link delay. Across a link that is cut when
// the RST arrives, the RST is lost like anything else (RSTs are not retransmitted).
func (w *World) ResetConn(c ConnID) error {
	n := &w.net
	if c < 0 || int(c) >= n.nconns {
		return &SettingError{Setting: "connection", Value: strconv.Itoa(int(c)), Reason: "no such connection"}
	}
	cn := n.conn(c)
	w.record(RecReset, cn.ends[0], cn.ends[1], c, nil)
	cn.dead = true
	for e := 0; e < 2; e++ {
		n.clearDir(c, e)
		if cn.open[1-e] { // every end still open hears of it, even if the other is gone
			n.enqueue(c, e, inflight{kind: itemReset}, 0)
		}
	}
	return nil
}

// ResetAll resets every open connection that has node id at one end.
func (w *World) ResetAll(id NodeID) error {
	s, err := w.slot(id)
	if err != nil {
		return err
	}
	for _, c := range s.conns {
		if w.IsOpen(c, id) {
			w.ResetConn(c)
		}
	}
	return nil
}

// end is the index of node self's end of c, or -1.
func (cn *conn) end(self NodeID) int {
	for e := 0; e < 2; e++ {
		if cn.ends[e] == self {
			return e
		}
	}
	return -1
}

// closeEnd closes end self of c (close(2), or the kernel closing the sockets of a process
// that died). The peer sees end-of-stream after what was sent.
func (n *network) closeEnd(c ConnID, self NodeID) {
	cn := n.conn(c)
	e := cn.end(self)
	if e < 0 || !cn.open[e] {
		return
	}
	cn.open[e] = false
	n.w.record(RecClose, self, cn.ends[1-e], c, nil)
	n.dropPending(c, e) // nothing more reaches the closed end; what it sent still goes
	if d := &cn.dirs[0]; e == 0 && !d.empty() && d.q[d.head].kind == itemOpen {
		n.clearDir(c, 0) // SYN_SENT: the connection never was
		return
	}
	n.dropUnsent(c, e)
	if cn.open[1-e] {
		n.enqueue(c, e, inflight{kind: itemClose}, 0)
	}
}

// abortEnd closes end self of c with an RST, as Linux's tcp_close does when the process
// left data unread: what it had queued is thrown away and the peer sees a reset.
func (n *network) abortEnd(c ConnID, self NodeID) {
	cn := n.conn(c)
	e := cn.end(self)
	if e < 0 || !cn.open[e] {
		return
	}
	cn.open[e] = false
	n.w.record(RecClose, self, cn.ends[1-e], c, nil)
	n.dropPending(c, e)
	n.clearDir(c, e)
	if cn.open[1-e] {
		n.enqueue(c, e, inflight{kind: itemReset}, 0)
	}
}

// vanishEnd is what a host loss does to end self of c: the end is gone without a word, and
// what its kernel still held for retransmission never leaves. Segments already on the wire
// arrive; what the peer sends is lost until the host is back, and then answered with RST.
func (n *network) vanishEnd(c ConnID, self NodeID) {
	cn := n.conn(c)
	e := cn.end(self)
	if e < 0 || !cn.open[e] {
		return
	}
	cn.open[e] = false
	if cn.dirs[e].stalled {
		n.clearDir(c, e)
	} else {
		n.dropUnsent(c, e)
	}
}

// clearDir throws away everything queued on direction e of c and stops its timer. If that
// takes a SYN that never arrived, the acceptor never hears of the connection: its end is
// closed (what reaches it later is answered with RST).
func (n *network) clearDir(c ConnID, e int) {
	cn := n.conn(c)
	d := &cn.dirs[e]
	if e == 0 && !d.empty() && d.q[d.head].kind == itemOpen {
		cn.open[1] = false
	}
	for i := d.head; i < len(d.q); i++ {
		if d.q[i].kind == itemData {
			n.w.record(RecDrop, cn.ends[e], cn.ends[1-e], c, d.q[i].msg)
		}
	}
	d.clear()
	if d.scheduled {
		d.epoch++ // the evDeliver in the queue is stale
		d.scheduled = false
	}
	d.stalled, d.retries = false, 0
	d.broken = false // the stream is gone: an RST does not wait behind a hole
	d.unread, d.windowWait = 0, false
}

// dropUnsent throws away what direction e of c holds beyond what the kernels hold: the
// receiver's buffer (less what already waits in it) and the sender's. That part was still in
// the sending process's memory, which a close or a crash of that process discards.
func (n *network) dropUnsent(c ConnID, e int) {
	w := n.w
	cn := n.conn(c)
	d := &cn.dirs[e]
	room := w.cfg.RecvBuffer - d.unread + w.cfg.SendBuffer
	var used int64
	keep := d.head
	for ; keep < len(d.q); keep++ {
		if used += n.size(&d.q[keep]); used > room {
			break
		}
	}
	for i := keep; i < len(d.q); i++ {
		if d.q[i].kind == itemData {
			w.record(RecDrop, cn.ends[e], cn.ends[1-e], c, d.q[i].msg)
		}
		d.q[i] = inflight{}
	}
	d.q = d.q[:keep]
	if d.empty() && d.scheduled && !d.stalled {
		d.epoch++
		d.scheduled = false
	}
}

// dropPending throws away what is in flight towards end e (which closed).
func (n *network) dropPending(c ConnID, e int) {
	n.clearDir(c, 1-e)
}

// enqueue puts it on direction e of c (sent by end e), due after one link delay, and never
// before what was queued earlier.
func (n *network) enqueue(c ConnID, e int, it inflight, extra Time) {
	w := n.w
	cn := n.conn(c)
	from, to := cn.ends[e], cn.ends[1-e]
	d := &cn.dirs[e]
	at := w.now.add(d.link.delay(w, from, to))
	if min := w.now.add(extra); at < min {
		at = min
	}
	if at < d.floor {
		at = d.floor
	}
	d.floor = at
	it.at = at
	// d.q gets it (here, not in a method of direction, which the compiler would not inline:
	// this runs at every send)
	if d.head > 0 && (d.head == len(d.q) || len(d.q) == cap(d.q)) {
		// Empty, or full with popped slots before the head: move what is still in
		// flight to the front rather than slide along the array and grow a new one.
		k := copy(d.q, d.q[d.head:])
		clear(d.q[k:])
		d.q, d.head = d.q[:k], 0
	}
	if len(d.q) == cap(d.q) {
		d.q = grow(w.mem, &w.mem.inflights, d.q, len(d.q)+1)
	}
	d.q = append(d.q, it)
	switch {
	case !d.scheduled:
		n.schedule(c, e, at)
	case d.stalled && it.kind != itemReset && !n.blocked(c, e):
		// A new segment on a stalled connection gets through now: the receiver answers with
		// duplicate ACKs that show the hole, and the sender retransmits at once (fast
		// retransmit) instead of waiting out its backed-off timer: about one round trip.
		back := cn.dirs[1-e].link.delay(w, to, from)
		if rt := at.add(back); rt < d.schedAt {
			d.epoch++
			n.schedule(c, e, rt)
		}
	}
}

// schedule puts an evDeliver for the head of direction e of c in the queue at at.
func (n *network) schedule(c ConnID, e int, at Time) {
	d := &n.conn(c).dirs[e]
	d.scheduled = true
	d.schedAt = at
	n.w.push(at, evDeliver, 0, int32(c), uint64(e)|uint64(d.epoch)<<1)
}

// reschedule brings forward the evDeliver of every direction whose head waits for a clog
// that was lifted or shortened: the event already in the queue becomes stale. A stalled
// direction keeps its retransmission timer.
func (n *network) reschedule() {
	now := n.w.now
	for c := range ConnID(n.nconns) {
		cn := n.conn(c)
		for e := 0; e < 2; e++ {
			d := &cn.dirs[e]
			if !d.scheduled || d.stalled || d.empty() || d.schedAt <= now {
				continue
			}
			at := max(now, d.q[d.head].at)
			if d.link.clogUntil > at {
				at = d.link.clogUntil
			}
			if at < d.schedAt {
				d.epoch++
				n.schedule(ConnID(c), e, at)
			}
		}
	}
}

func (n *network) sendUnsafe(c ConnID, e int, m Message) bool {
	w := n.w
	cn := n.conn(c)
	rng := w.Stream("net/unsafe")
	if rng.Float64() < w.unsafe.Drop {
		w.record(RecDrop, cn.ends[e], cn.ends[1-e], c, m)
		return true
	}
	n.enqueue(c, e, inflight{msg: m, size: -1}, 0)
	d := &cn.dirs[e]
	if rng.Float64() < w.unsafe.Reorder && len(d.q)-d.head >= 2 {
		i := len(d.q) - 1
		if d.q[i-1].kind == itemData && (i-1 > d.head || !d.scheduled) {
			// swap payloads, keep due times: the later message overtakes the earlier one
			d.q[i].msg, d.q[i-1].msg = d.q[i-1].msg, d.q[i].msg
		}
	}
	if rng.Float64() < w.unsafe.Duplicate {
		n.enqueue(c, e, inflight{msg: m, size: -1}, 0)
	}
	return true
}

// receiver is the slot of node id, or nil if there is none.
func (n *network) receiver(id NodeID) *slot {
	if int(id) < len(n.w.nodes) {
		return n.w.nodes[id]
	}
	return nil
}

// blocked reports whether a segment on direction e of c would be lost now: its link is
// cut, or the receiver's host is down.
func (n *network) blocked(c ConnID, e int) bool {
	cn := n.conn(c)
	if cn.dirs[e].link.cuts(cn.port) {
		return true
	}
	s := n.receiver(cn.ends[1-e])
	return s != nil && s.hostDown
}

// due handles the evDeliver event gen of connection c: the head of its direction
// reaching the receiver, or its retransmission timer expiring.
func (n *network) due(c ConnID, gen uint64) {
	w := n.w
	cn := n.conn(c)
	e := int(gen & 1)
	d := &cn.dirs[e]
	if uint32(gen>>1) != d.epoch {
		return // replaced by an earlier event (see reschedule)
	}
	d.scheduled = false
	if d.empty() {
		d.stalled = false
		return
	}
	if d.stalled {
		n.retransmit(c, e)
		return
	}
	from, to := cn.ends[e], cn.ends[1-e]
	it := d.q[d.head]
	if it.at > w.now { // the queue was cleared and refilled: wait for the new head
		n.schedule(c, e, it.at)
		return
	}
	l := d.link
	rs := n.receiver(to)
	switch {
	case cn.dead && it.kind != itemReset:
		d.popItem() // sent on a reset connection before its end heard of it
		if it.kind == itemData {
			w.record(RecDrop, from, to, c, it.msg)
		}
	case l.cuts(cn.port) && l.resets || d.broken:
		// Lost in a partition that forgets connections: nothing passes the hole; the ends
		// find out through their timeouts, or by the reset when the links heal.
		d.popItem()
		d.broken = true
		if it.kind == itemData {
			w.record(RecDrop, from, to, c, it.msg)
		}
	case n.blocked(c, e):
		n.lose(c, e)
		return
	case l.clogUntil > w.now:
		n.schedule(c, e, l.clogUntil)
		return
	case !cn.open[1-e]:
		// The receiving end is closed: its kernel answers with an RST (never to an RST).
		d.popItem()
		if it.kind == itemData {
			w.record(RecDrop, from, to, c, it.msg)
		}
		if it.kind != itemReset && cn.open[e] && rs != nil {
			n.enqueue(c, 1-e, inflight{kind: itemReset}, 0)
		}
	case rs != nil && rs.up && rs.paused && d.unread > 0 && d.unread+n.size(&d.q[d.head]) > w.cfg.RecvBuffer:
		// The paused receiver's buffer is full: the sender waits for it to read.
		d.windowWait = true
		return
	default:
		d.popItem()
		if rs == nil || !rs.up && it.kind == itemOpen {
			n.refuse(c) // down, or no such node: connection refused
		} else if rs.paused {
			d.unread += n.size(&it)
			rs.held = append(rs.held, heldItem{kind: evDeliver, conn: c, item: it})
		} else {
			n.hand(rs, c, it)
		}
	}
	if !d.empty() && !d.scheduled {
		n.schedule(c, e, max(d.q[d.head].at, w.now))
	}
}

// lose handles the loss of the head of direction e of c: TCP keeps it and retransmits it
// when its timer expires. An RST is not retransmitted: it is simply gone.
func (n *network) lose(c ConnID, e int) {
	w := n.w
	cn := n.conn(c)
	d := &cn.dirs[e]
	it := d.q[d.head]
	if it.kind == itemReset {
		d.popItem()
		if !d.empty() {
			n.schedule(c, e, max(d.q[d.head].at, w.now))
		}
		return
	}
	d.stalled, d.retries, d.rto = true, 0, rtoMin
	if it.kind == itemOpen {
		d.rto = rtoSYN
	}
	w.record(RecLost, cn.ends[e], cn.ends[1-e], c, it.msg)
	n.schedule(c, e, w.now.add(d.rto))
}

// retransmit handles the expiry of the retransmission timer of direction e of c: if the
// way is clear, everything queued goes again, in order; if not, the timeout doubles, and
// after too many expiries the sender gives up.
func (n *network) retransmit(c ConnID, e int) {
	w := n.w
	cn := n.conn(c)
	d := &cn.dirs[e]
	from, to := cn.ends[e], cn.ends[1-e]
	if n.blocked(c, e) {
		d.retries++
		limit := retries2
		if d.q[d.head].kind == itemOpen {
			limit = synRetries
		} else if !cn.open[e] {
			limit = orphanRetries
		}
		if d.retries > limit {
			n.giveUp(c, e)
			return
		}
		d.rto = min(2*d.rto, rtoMax)
		n.schedule(c, e, w.now.add(d.rto))
		return
	}
	d.stalled = false
	w.record(RecRetransmit, from, to, c, retransmitText(d.retries+1))
	at := w.now
	for i := d.head; i < len(d.q); i++ {
		at = max(at, w.now.add(d.link.delay(w, from, to)))
		d.q[i].at = at
	}
	d.floor = at
	d.retries = 0
	n.schedule(c, e, d.q[d.head].at)
}

// giveUp is the sender's kernel abandoning direction e of c after its last retransmission
// (ETIMEDOUT): the queue is thrown away, and the sender's end, if still open, sees the
// connection reset. The receiver is not told.
func (n *network) giveUp(c ConnID, e int) {
	w := n.w
	cn := n.conn(c)
	w.record(RecAbort, cn.ends[e], cn.ends[1-e], c, nil)
	n.clearDir(c, e)
	if !cn.open[e] {
		return
	}
	s := n.receiver(cn.ends[e])
	switch {
	case s == nil || !s.up:
		cn.open[e] = false
	case s.paused:
		s.held = append(s.held, heldItem{kind: evDeliver, conn: c, item: inflight{kind: itemReset}})
	default:
		n.hand(s, c, inflight{kind: itemReset})
	}
}

// retransmitText is the trace payload of a retransmission: how many it was.
type retransmitText int

func (t retransmitText) AppendTo(b []byte) []byte {
	return strconv.AppendInt(append(b, "retransmission "...), int64(t), 10)
}

// refuse answers a dial to a node that is down: the dialer sees the connection close.
func (n *network) refuse(c ConnID) {
	cn := n.conn(c)
	cn.open[1] = false
	n.enqueue(c, 1, inflight{kind: itemReset}, 0)
}

// read hands item it of connection c, which waited in s's receive buffer, to s.
func (n *network) read(s *slot, c ConnID, it inflight) {
	cn := n.conn(c)
	if e := cn.end(s.id); e >= 0 {
		d := &cn.dirs[1-e]
		d.unread = max(d.unread-n.size(&it), 0)
	}
	n.hand(s, c, it)
}

// reopenWindows lets every sender that waited for s to read go on: its next segment is
// due one round trip from now (the window update, then the data).
func (n *network) reopenWindows(s *slot) {
	w := n.w
	for _, c := range s.conns {
		cn := n.conn(c)
		e := cn.end(s.id)
		if e < 0 {
			continue
		}
		d := &cn.dirs[1-e]
		if !d.windowWait {
			continue
		}
		d.windowWait = false
		if !d.empty() && !d.scheduled {
			rtt := cn.dirs[e].link.delay(w, s.id, cn.ends[1-e]) + d.link.delay(w, cn.ends[1-e], s.id)
			for i := d.head; i < len(d.q); i++ {
				d.q[i].at = max(d.q[i].at, w.now.add(rtt))
			}
			d.floor = max(d.floor, d.q[len(d.q)-1].at)
			n.schedule(c, 1-e, d.q[d.head].at)
		}
	}
}

// releaseWindows forgets what waited in s's receive buffers (s's process is gone): every
// sender that waited for it to read is due now, to meet whatever s's end has become.
func (n *network) releaseWindows(s *slot) {
	for _, c := range s.conns {
		cn := n.conn(c)
		e := cn.end(s.id)
		if e < 0 {
			continue
		}
		d := &cn.dirs[1-e]
		d.unread = 0
		if d.windowWait {
			d.windowWait = false
			if !d.empty() && !d.scheduled {
				n.schedule(c, 1-e, max(d.q[d.head].at, n.w.now))
			}
		}
	}
}

// hand gives item it of connection c to the node in slot s.
func (n *network) hand(s *slot, c ConnID, it inflight) {
	w := n.w
	cn := n.conn(c)
	e := 1
	if cn.ends[0] == s.id {
		e = 0
	}
	if !cn.open[e] {
		if it.kind == itemData {
			w.record(RecDrop, cn.ends[1-e], s.id, c, it.msg)
		}
		return
	}
	peer := cn.ends[1-e]
	switch it.kind {
	case itemData:
		w.record(RecDeliver, s.id, peer, c, it.msg)
		s.node.Receive(c, it.msg)
	case itemOpen:
		s.conns = append(grow(w.mem, &w.mem.connIDs, s.conns, len(s.conns)+1), c)
		w.record(RecAccept, s.id, peer, c, nil)
		s.node.Accept(c, peer)
	case itemClose, itemReset:
		cn.open[e] = false
		cn.reset[e] = it.kind == itemReset
		n.dropPending(c, e)
		w.record(RecClosed, s.id, peer, c, nil)
		s.node.Closed(c)
	}
}

// SetLatency sets the delay of the link from -> to: min plus an exponential with the
// given mean (ZeroLatencyMean for none). Messages already queued keep their times, and
// FIFO order is kept.
func (w *World) SetLatency(from, to NodeID, min, mean Time) error {
	for _, id := range []NodeID{from, to} {
		if _, err := w.slot(id); err != nil {
			return &SettingError{Setting: "latency node", Value: strconv.Itoa(int(id)), Reason: "no such node"}
		}
	}
	if min < 0 {
		return &SettingError{Setting: "latency min", Value: min.String(), Reason: "must not be negative"}
	}
	if mean == ZeroLatencyMean {
		mean = 0
	} else if mean < 0 {
		return &SettingError{Setting: "latency mean", Value: mean.String(), Reason: "must not be negative"}
	}
	l := w.net.link(from, to)
	l.min, l.mean = min, mean
	w.record(RecLatency, from, to, -1, latencyText{min, mean})
	return nil
}

type latencyText struct{ min, mean Time }

func (t latencyText) AppendTo(b []byte) []byte {
	b = strconv.AppendInt(append(b, "min="...), int64(t.min), 10)
	return strconv.AppendInt(append(b, " mean="...), int64(t.mean), 10)
}

// Partition cuts every link from a node of from to a node of to; with oneWay false, the
// links back too, as a firewall rule that drops packets does. Segments on a cut link are
// lost, not the connections: TCP retransmits them on its backoff timer (see due), so after
// a heal what was queued arrives over the same connection, in order, unless an application
// timeout closed it first. Nodes may appear on both sides: links from a node to itself are
// never cut.
func (w *World) Partition(from, to []NodeID, oneWay bool) error {
	return w.Cut(Cut{From: from, To: to, OneWay: oneWay})
}

// PartitionResetting is Partition through a middlebox that forgets the connections it
// carries (a NAT or stateful firewall losing its state): a connection that loses a segment
// in it goes silent for good, and is reset once its links heal (its ends see it close).
func (w *World) PartitionResetting(from, to []NodeID, oneWay bool) error {
	return w.Cut(Cut{From: from, To: to, OneWay: oneWay, Resets: true})
}

// Heal restores the links that Partition cut. Stalled connections resume at their next
// retransmission (or at once, when their sender has something new to send); those that
// lost data in a resetting partition are reset when both of their links are whole.
func (w *World) Heal(from, to []NodeID, oneWay bool) error {
	return w.Mend(Cut{From: from, To: to, OneWay: oneWay})
}

// Cut is a partition: the links from a node of From to a node of To (and back, unless
// OneWay), for the connections to the given Ports only (0: every port), optionally one that
// forgets the connections it carries (see PartitionResetting).
type Cut struct {
	From, To []NodeID
	OneWay   bool
	Ports    Ports
	Resets   bool
}

// Cut applies a partition (see Partition).
func (w *World) Cut(c Cut) error { return w.setPartition(c, true) }

// Mend heals what a Cut of the same links and ports cut (see Heal).
func (w *World) Mend(c Cut) error { return w.setPartition(c, false) }

// HealAll restores every link and lifts every clog.
func (w *World) HealAll() {
	for _, a := range w.order {
		for _, b := range w.order {
			if l, ok := w.net.links[[2]NodeID{a, b}]; ok {
				l.cut, l.resets = 0, false
				l.clogUntil = 0
			}
		}
	}
	w.record(RecHeal, -1, -1, -1, nil)
	w.net.reschedule() // what a clog held is due now
	w.net.resetBroken()
}

// resetBroken resets every open connection that lost data in a resetting partition and
// whose links are now whole again: the middlebox no longer knows it, so once segments flow
// again the ends get an RST and see the connection close.
func (n *network) resetBroken() {
	for c := range ConnID(n.nconns) {
		cn := n.conn(c)
		if !cn.open[0] && !cn.open[1] {
			continue
		}
		broken := false
		for e := 0; e < 2; e++ {
			if cn.dirs[e].broken {
				broken = true
			}
			if cn.dirs[e].link.cuts(cn.port) {
				broken = false
				break
			}
		}
		if broken {
			n.w.ResetConn(ConnID(c))
		}
	}
}

// checkGroups validates the two sides of a partition, heal or clog.
func (w *World) checkGroups(setting string, from, to []NodeID, oneWay bool) error {
	if len(from) == 0 || len(to) == 0 {
		return &SettingError{Setting: setting, Value: groupsText{from: from, to: to, oneWay: oneWay}.String(), Reason: "each side must name at least one node"}
	}
	for _, side := range [][]NodeID{from, to} {
		for _, id := range side {
			if _, err := w.slot(id); err != nil {
				return &SettingError{Setting: setting + " node", Value: strconv.Itoa(int(id)), Reason: "no such node"}
			}
		}
	}
	return nil
}

func (w *World) setPartition(c Cut, cut bool) error {
	setting := "partition"
	if !cut {
		setting = "heal"
	}
	if err := w.checkGroups(setting, c.From, c.To, c.OneWay); err != nil {
		return err
	}
	ports := c.Ports
	if ports == 0 {
		ports = AllPorts
	}
	for _, a := range c.From {
		for _, b := range c.To {
			if a == b {
				continue
			}
			for _, l := range []*link{w.net.link(a, b), w.net.link(b, a)} {
				if cut {
					l.cut |= ports
					l.resets = c.Resets
				} else if l.cut &^= ports; l.cut == 0 {
					l.resets = false
				}
				if c.OneWay {
					break
				}
			}
		}
	}
	kind := RecPartition
	if !cut {
		kind = RecHeal
	}
	w.record(kind, -1, -1, -1, groupsText{from: c.From, to: c.To, oneWay: c.OneWay, resets: c.Resets, ports: c.Ports})
	if !cut {
		w.net.resetBroken()
	}
	return nil
}

// Clog holds every message on the links from -> to (and back, unless oneWay) until the
// virtual time until; then they are delivered, in order. A new Clog of a link replaces its
// end time (earlier or later); until = Now() lifts it.
func (w *World) Clog(from, to []NodeID, oneWay bool, until Time) error {
	if err := w.checkGroups("clog", from, to, oneWay); err != nil {
		return err
	}
	if until < w.now {
		return &SettingError{Setting: "clog until", Value: until.String(), Reason: "is in the past (now " + w.now.String() + ")"}
	}
	for _, a := range from {
		for _, b := range to {
			if a == b {
				continue
			}
			w.net.link(a, b).clogUntil = until
			if !oneWay {
				w.net.link(b, a).clogUntil = until
			}
		}
	}
	w.record(RecClog, -1, -1, -1, groupsText{from: from, to: to, oneWay: oneWay})
	w.net.reschedule() // a shorter clog releases sooner
	return nil
}

// Cuts reports whether the link from -> to drops the segments of connections to port.
func (w *World) Cuts(from, to NodeID, port Port) bool {
	l, ok := w.net.links[[2]NodeID{from, to}]
	return ok && l.cuts(port)
}

// Partitioned reports whether the link from -> to is cut.
func (w *World) Partitioned(from, to NodeID) bool {
	l, ok := w.net.links[[2]NodeID{from, to}]
	return ok && l.cut != 0
}

type groupsText struct {
	from, to []NodeID
	oneWay   bool
	resets   bool
	ports    Ports // 0: every port
}

func (g groupsText) AppendTo(b []byte) []byte {
	b = appendGroup(b, g.from)
	if g.oneWay {
		b = append(b, " -> "...)
	} else {
		b = append(b, " | "...)
	}
	b = appendGroup(b, g.to)
	if g.ports != 0 && g.ports != AllPorts {
		b = append(b, " ports="...)
		var ids []NodeID
		for p := 0; p < 8; p++ {
			if g.ports.Has(Port(p)) {
				ids = append(ids, NodeID(p))
			}
		}
		b = appendGroup(b, ids)
	}
	if g.resets {
		b = append(b, " resetting"...)
	}
	return b
}

func (g groupsText) String() string { return string(g.AppendTo(nil)) }

func appendGroup(b []byte, ids []NodeID) []byte {
	b = append(b, '{')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(id), 10)
	}
	return append(b, '}')
}
