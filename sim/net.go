package sim

import (
	"math/rand/v2"
	"strconv"
)

// ConnID names a connection. IDs are handed out in order from 0 and never reused.
type ConnID int32

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
	at   Time // when it is due at the receiver
	kind itemKind
}

// direction is one half of a connection: a FIFO of items in flight.
type direction struct {
	q         []inflight
	head      int
	floor     Time   // delivery times never go below this, which keeps the stream FIFO
	scheduled bool   // an evDeliver for the head is in the queue
	schedAt   Time   // when that evDeliver is due
	epoch     uint32 // evDeliver events of an older epoch are stale (see reschedule)
	broken    bool   // an item was lost in a partition: TCP cannot deliver past the hole
	link      *link  // the link this direction travels (links are never removed)
}

func (d *direction) empty() bool { return d.head == len(d.q) }

func (d *direction) pushItem(it inflight) {
	if d.head > 0 && d.head == len(d.q) {
		d.q, d.head = d.q[:0], 0
	}
	d.q = append(d.q, it)
}

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
	dirs  [2]direction
}

// link holds the settings of one ordered pair of nodes.
type link struct {
	min, mean   Time
	partitioned bool
	clogUntil   Time
	rng         *rand.Rand
}

// network is the World's set of connections and links.
type network struct {
	w     *World
	conns []conn
	links map[[2]NodeID]*link // looked up by pair, never ranged over
}

func (n *network) init(w *World) {
	n.w = w
	n.links = map[[2]NodeID]*link{}
}

func (n *network) link(from, to NodeID) *link {
	k := [2]NodeID{from, to}
	l := n.links[k]
	if l == nil {
		l = &link{min: n.w.cfg.LatencyMin, mean: n.w.cfg.LatencyMean}
		n.links[k] = l
	}
	return l
}

func (l *link) delay(w *World, from, to NodeID) Time {
	d := l.min
	if l.mean > 0 {
		if l.rng == nil {
			l.rng = w.Stream("net/" + strconv.Itoa(int(from)) + "->" + strconv.Itoa(int(to)))
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
// after one link delay, if it is up and reachable; if it is down, the dialer sees the
// connection close instead (connection refused). Across a partition nothing arrives:
// the dialer must time out.
func (w *World) Dial(from, to NodeID) ConnID {
	n := &w.net
	id := ConnID(len(n.conns))
	n.conns = append(n.conns, conn{ends: [2]NodeID{from, to}, open: [2]bool{true, true}})
	cn := &n.conns[id]
	cn.dirs[0].link = n.link(from, to)
	cn.dirs[1].link = n.link(to, from)
	s := w.nodes[from]
	s.conns = append(s.conns, id)
	w.record(RecDial, from, to, id, nil)
	n.enqueue(id, 0, inflight{kind: itemOpen}, 0)
	return id
}

// Send queues m on connection c from node from. It returns false if from's end is closed.
func (w *World) Send(c ConnID, from NodeID, m Message) bool {
	n := &w.net
	cn := &n.conns[c]
	e := 0
	if cn.ends[1] == from {
		e = 1
	}
	if !cn.open[e] || cn.ends[e] != from {
		return false
	}
	w.record(RecSend, from, cn.ends[1-e], c, m)
	if u := &w.unsafe; u.Drop > 0 || u.Duplicate > 0 || u.Reorder > 0 {
		return n.sendUnsafe(c, e, m)
	}
	n.enqueue(c, e, inflight{msg: m}, 0)
	return true
}

// Peer returns the other end of connection c, seen from node self.
func (w *World) Peer(c ConnID, self NodeID) NodeID {
	cn := &w.net.conns[c]
	if cn.ends[0] == self {
		return cn.ends[1]
	}
	return cn.ends[0]
}

// IsOpen reports whether self's end of connection c is open.
func (w *World) IsOpen(c ConnID, self NodeID) bool {
	if c < 0 || int(c) >= len(w.net.conns) {
		return false
	}
	cn := &w.net.conns[c]
	for e := 0; e < 2; e++ {
		if cn.ends[e] == self {
			return cn.open[e]
		}
	}
	return false
}

// WasReset reports whether self's end of connection c was closed by a reset (an RST, or a
// dial refused because the other node was down or refused it) rather than by the peer's
// orderly close or crash. A node may ask from its Closed callback: a connect that was
// refused can be retried, a connection the peer accepted and then closed cannot.
func (w *World) WasReset(c ConnID, self NodeID) bool {
	if c < 0 || int(c) >= len(w.net.conns) {
		return false
	}
	cn := &w.net.conns[c]
	for e := 0; e < 2; e++ {
		if cn.ends[e] == self {
			return cn.reset[e]
		}
	}
	return false
}

// Close closes self's end of connection c, as a node does with close(2): nothing more is
// delivered to it; what it sent before still arrives, followed by an end-of-stream.
func (w *World) Close(c ConnID, self NodeID) {
	w.net.closeEnd(c, self, 0)
}

// ResetConn resets connection c as an RST does: everything in flight both ways is lost and
// both ends see the connection close after one link delay. That holds for a connection
// that went silent after losing a message in a partition since healed; across a link
// that is cut when the RST arrives, the RST is lost like anything else.
func (w *World) ResetConn(c ConnID) error {
	n := &w.net
	if c < 0 || int(c) >= len(n.conns) {
		return &SettingError{Setting: "connection", Value: strconv.Itoa(int(c)), Reason: "no such connection"}
	}
	cn := &n.conns[c]
	w.record(RecReset, cn.ends[0], cn.ends[1], c, nil)
	for e := 0; e < 2; e++ {
		d := &cn.dirs[e]
		for i := d.head; i < len(d.q); i++ {
			if d.q[i].kind == itemData {
				w.record(RecDrop, cn.ends[e], cn.ends[1-e], c, d.q[i].msg)
			}
		}
		d.clear()
		d.broken = false  // the stream is gone: the RST does not wait behind a hole
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

// closeEnd closes end self of c. The peer sees end-of-stream after what was sent, no
// sooner than extra from now.
func (n *network) closeEnd(c ConnID, self NodeID, extra Time) {
	cn := &n.conns[c]
	e := 0
	if cn.ends[1] == self {
		e = 1
	}
	if cn.ends[e] != self || !cn.open[e] {
		return
	}
	cn.open[e] = false
	n.w.record(RecClose, self, cn.ends[1-e], c, nil)
	n.dropPending(c, e) // nothing more reaches the closed end; what it sent still goes
	if cn.open[1-e] {
		n.enqueue(c, e, inflight{kind: itemClose}, extra)
	}
}

// dropPending throws away what is in flight towards end e (which closed).
func (n *network) dropPending(c ConnID, e int) {
	cn := &n.conns[c]
	d := &cn.dirs[1-e]
	for i := d.head; i < len(d.q); i++ {
		if d.q[i].kind == itemData {
			n.w.record(RecDrop, cn.ends[1-e], cn.ends[e], c, d.q[i].msg)
		}
	}
	d.clear()
}

// enqueue puts it on direction e of c (sent by end e), due after one link delay and no
// sooner than extra from now, and never before what was queued earlier.
func (n *network) enqueue(c ConnID, e int, it inflight, extra Time) {
	w := n.w
	cn := &n.conns[c]
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
	d.pushItem(it)
	if !d.scheduled {
		n.schedule(c, e, at)
	}
}

// schedule puts an evDeliver for the head of direction e of c in the queue at at.
func (n *network) schedule(c ConnID, e int, at Time) {
	d := &n.conns[c].dirs[e]
	d.scheduled = true
	d.schedAt = at
	n.w.push(at, evDeliver, 0, int32(c), uint64(e)|uint64(d.epoch)<<1)
}

// reschedule brings forward the evDeliver of every direction whose head waits for a clog
// that was lifted or shortened: the event already in the queue becomes stale.
func (n *network) reschedule() {
	now := n.w.now
	for c := range n.conns {
		cn := &n.conns[c]
		for e := 0; e < 2; e++ {
			d := &cn.dirs[e]
			if !d.scheduled || d.empty() || d.schedAt <= now {
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
	cn := &n.conns[c]
	rng := w.Stream("net/unsafe")
	if rng.Float64() < w.unsafe.Drop {
		w.record(RecDrop, cn.ends[e], cn.ends[1-e], c, m)
		return true
	}
	n.enqueue(c, e, inflight{msg: m}, 0)
	d := &cn.dirs[e]
	if rng.Float64() < w.unsafe.Reorder && len(d.q)-d.head >= 2 {
		i := len(d.q) - 1
		if d.q[i-1].kind == itemData && (i-1 > d.head || !d.scheduled) {
			// swap payloads, keep due times: the later message overtakes the earlier one
			d.q[i].msg, d.q[i-1].msg = d.q[i-1].msg, d.q[i].msg
		}
	}
	if rng.Float64() < w.unsafe.Duplicate {
		n.enqueue(c, e, inflight{msg: m}, 0)
	}
	return true
}

// due handles the evDeliver event gen of connection c: the head of its direction
// reaching the receiver.
func (n *network) due(c ConnID, gen uint64) {
	w := n.w
	cn := &n.conns[c]
	e := int(gen & 1)
	d := &cn.dirs[e]
	if uint32(gen>>1) != d.epoch {
		return // replaced by an earlier event (see reschedule)
	}
	d.scheduled = false
	if d.empty() {
		return
	}
	from, to := cn.ends[e], cn.ends[1-e]
	it := d.q[d.head]
	if it.at > w.now { // the queue was cleared and refilled: wait for the new head
		n.schedule(c, e, it.at)
		return
	}
	l := d.link
	switch {
	case !cn.open[1-e]:
		d.popItem()
		if it.kind == itemData {
			w.record(RecDrop, from, to, c, it.msg)
		}
	case l.partitioned || d.broken:
		// Lost in the partition. TCP cannot deliver anything after a hole, so the
		// connection stays silent for good; the peers find out through their timeouts.
		d.popItem()
		d.broken = true
		if it.kind == itemData {
			w.record(RecDrop, from, to, c, it.msg)
		}
	case l.clogUntil > w.now:
		n.schedule(c, e, l.clogUntil)
		return
	default:
		d.popItem()
		var s *slot
		if int(to) < len(w.nodes) {
			s = w.nodes[to]
		}
		if s == nil || !s.up && it.kind == itemOpen {
			n.refuse(c) // down, or no such node: connection refused
		} else if s.paused {
			s.held = append(s.held, heldItem{kind: evDeliver, conn: c, item: it})
		} else {
			n.hand(s, c, it)
		}
	}
	if !d.empty() && !d.scheduled {
		n.schedule(c, e, max(d.q[d.head].at, w.now))
	}
}

// refuse answers a dial to a node that is down: the dialer sees the connection close.
func (n *network) refuse(c ConnID) {
	cn := &n.conns[c]
	cn.open[1] = false
	n.enqueue(c, 1, inflight{kind: itemReset}, 0)
}

// hand gives item it of connection c to the node in slot s.
func (n *network) hand(s *slot, c ConnID, it inflight) {
	w := n.w
	cn := &n.conns[c]
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
		s.conns = append(s.conns, c)
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
// links back too. Messages on a cut link are lost silently, and the connection they were
// on stays silent afterwards (see due). Nodes may appear on both sides: links from a node
// to itself are never cut.
func (w *World) Partition(from, to []NodeID, oneWay bool) error {
	return w.setPartition(from, to, oneWay, true)
}

// Heal restores the links that Partition cut. A connection that lost a message while they
// were cut stays silent until then (its ends notice only through their own timeouts), and
// is reset when the heal makes both of its links whole (see resetBroken).
func (w *World) Heal(from, to []NodeID, oneWay bool) error {
	return w.setPartition(from, to, oneWay, false)
}

// HealAll restores every link and lifts every clog.
func (w *World) HealAll() {
	for _, a := range w.order {
		for _, b := range w.order {
			if l, ok := w.net.links[[2]NodeID{a, b}]; ok {
				l.partitioned = false
				l.clogUntil = 0
			}
		}
	}
	w.record(RecHeal, -1, -1, -1, nil)
	w.net.reschedule() // what a clog held is due now
	w.net.resetBroken()
}

// resetBroken resets every open connection that lost data in a partition and whose links
// are now whole again: its stream has a hole that TCP can never fill, so once segments flow
// again the ends find the stream broken (an RST) and see the connection close. Without
// this, such a connection would stay silent forever.
func (n *network) resetBroken() {
	for c := range n.conns {
		cn := &n.conns[c]
		if !cn.open[0] && !cn.open[1] {
			continue
		}
		broken := false
		for e := 0; e < 2; e++ {
			if cn.dirs[e].broken {
				broken = true
			}
			if cn.dirs[e].link.partitioned {
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
		return &SettingError{Setting: setting, Value: groupsText{from, to, oneWay}.String(), Reason: "each side must name at least one node"}
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

func (w *World) setPartition(from, to []NodeID, oneWay, cut bool) error {
	setting := "partition"
	if !cut {
		setting = "heal"
	}
	if err := w.checkGroups(setting, from, to, oneWay); err != nil {
		return err
	}
	for _, a := range from {
		for _, b := range to {
			if a == b {
				continue
			}
			w.net.link(a, b).partitioned = cut
			if !oneWay {
				w.net.link(b, a).partitioned = cut
			}
		}
	}
	kind := RecPartition
	if !cut {
		kind = RecHeal
	}
	w.record(kind, -1, -1, -1, groupsText{from, to, oneWay})
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
	w.record(RecClog, -1, -1, -1, groupsText{from, to, oneWay})
	w.net.reschedule() // a shorter clog releases sooner
	return nil
}

// Partitioned reports whether the link from -> to is cut.
func (w *World) Partitioned(from, to NodeID) bool {
	l, ok := w.net.links[[2]NodeID{from, to}]
	return ok && l.partitioned
}

type groupsText struct {
	from, to []NodeID
	oneWay   bool
}

func (g groupsText) AppendTo(b []byte) []byte {
	b = appendGroup(b, g.from)
	if g.oneWay {
		b = append(b, " -> "...)
	} else {
		b = append(b, " | "...)
	}
	return appendGroup(b, g.to)
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
