package sim

import (
	"fmt"
	"strconv"
	"testing"

	"pgregory.net/rapid"
)

// pmsg is the property test's message: which connection, which end sent it, and its
// sequence number on that (connection, direction).
type pmsg struct {
	conn ConnID
	end  int
	seq  int
}

func (m pmsg) AppendTo(b []byte) []byte {
	b = strconv.AppendInt(append(b, 'c'), int64(m.conn), 10)
	b = strconv.AppendInt(append(b, '/'), int64(m.end), 10)
	return strconv.AppendInt(append(b, '#'), int64(m.seq), 10)
}

const propMaxNodes = 4

// propWorld is the state the property test keeps beside the World.
type propWorld struct {
	w         *World
	n         int
	cut       [propMaxNodes + 1][propMaxNodes + 1]bool // the test's model of partitions
	conns     []ConnID
	next      map[pmsg]int // (conn, end) -> next sequence number to send
	got       map[pmsg][]int
	accepted  map[ConnID]bool
	closedAt  map[pmsg]bool // (conn, end) saw Closed
	resuming  NodeID        // a node reading what its buffers held (it crossed before)
	violation []string
}

func (p *propWorld) fail(format string, args ...any) {
	p.violation = append(p.violation, fmt.Sprintf("%v: ", p.w.Now())+fmt.Sprintf(format, args...))
}

// propNode checks every delivery as it happens.
type propNode struct {
	p  *propWorld
	id NodeID
}

func (n *propNode) end(c ConnID) int {
	if n.p.w.net.conn(c).ends[0] == n.id {
		return 0
	}
	return 1
}

func (n *propNode) Start()   {}
func (n *propNode) Restart() {}
func (n *propNode) Crash()   {}
func (n *propNode) Accept(c ConnID, peer NodeID) {
	if n.p.accepted[c] {
		n.p.fail("connection %d accepted twice", c)
	}
	n.p.accepted[c] = true
}
func (n *propNode) Receive(c ConnID, m Message) {
	p := n.p
	pm := m.(pmsg)
	me := n.end(c)
	peer := p.w.Peer(c, n.id)
	if pm.conn != c || pm.end != 1-me {
		p.fail("node %d got %v on connection %d end %d", n.id, pm, c, me)
	}
	if (p.cut[peer][n.id] || p.w.Partitioned(peer, n.id)) && p.resuming != n.id {
		p.fail("%v delivered to %d across the partition %d -> %d", pm, n.id, peer, n.id)
	}
	if me == 1 && !p.accepted[c] {
		p.fail("%v delivered before the connection was accepted", pm)
	}
	if p.closedAt[pmsg{conn: c, end: me}] {
		p.fail("%v delivered after the end saw Closed", pm)
	}
	k := pmsg{conn: c, end: pm.end}
	p.got[k] = append(p.got[k], pm.seq)
}
func (n *propNode) Closed(c ConnID) {
	k := pmsg{conn: c, end: n.end(c)}
	if n.p.closedAt[k] {
		n.p.fail("connection %d end %d closed twice", c, k.end)
	}
	n.p.closedAt[k] = true
}
func (n *propNode) Timer(kind int)         {}
func (n *propNode) FsyncDone(token uint64) {}

// propOp is one step of a fault schedule.
type propOp struct {
	Kind   string
	A, B   int // node numbers (1-based) or, for send/reset/close, A picks a connection
	OneWay bool
	D      Time
	Count  int
}

func (o propOp) String() string {
	return fmt.Sprintf("%s a=%d b=%d oneWay=%v d=%v n=%d", o.Kind, o.A, o.B, o.OneWay, o.D, o.Count)
}

// "advance" comes first: rapid shrinks towards it, and "advance 0s" does nothing.
var propKinds = []string{"advance", "send", "send", "send", "send", "send", "advance", "advance", "dial", "dial", "reset", "partition", "heal", "healall", "clog", "close", "rpartition", "pause", "resume"}

// tcpKinds leave out everything that loses data on purpose (resets, closes, resetting
// partitions): what remains only delays it.
var tcpKinds = []string{"advance", "send", "send", "send", "send", "send", "advance", "advance", "dial", "dial", "partition", "heal", "healall", "clog", "pause", "resume"}

func drawOp(n int, kinds []string) *rapid.Generator[propOp] {
	return rapid.Custom(func(t *rapid.T) propOp {
		o := propOp{Kind: rapid.SampledFrom(kinds).Draw(t, "kind")}
		o.A = rapid.IntRange(1, n).Draw(t, "a")
		o.B = rapid.IntRange(1, n-1).Draw(t, "b")
		if o.B >= o.A {
			o.B++ // a pair of distinct nodes
		}
		o.OneWay = rapid.Bool().Draw(t, "oneWay")
		o.D = Time(rapid.IntRange(0, 200).Draw(t, "d")) * Millisecond / 4
		o.Count = rapid.IntRange(1, 5).Draw(t, "count")
		return o
	})
}

// TestPropertyConnectionsStayFIFOAndPartitionsAreSilent draws fault schedules over 3-4
// nodes and checks that (a) on every connection, what each end receives is the sequence
// its peer sent, contiguous from the first message and in order, however the schedule
// cuts, clogs and resets; (b) nothing crosses a partitioned link; (c) every message sent
// is, in the end, delivered or recorded as dropped, exactly once.
func TestPropertyConnectionsStayFIFOAndPartitionsAreSilent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { checkConnections(t, propKinds) })
}

// TestPropertyPartitionsDelayButNeverLose: with partitions and clogs only (no resets,
// closes or resetting partitions), and every partition healed well within TCP's give-up
// time, every message sent is delivered, over the connection it was sent on, in order.
func TestPropertyPartitionsDelayButNeverLose(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := checkConnections(t, tcpKinds)
		if d := records(w, RecDrop); len(d) > 0 {
			t.Fatalf("%d messages dropped, the first %v: a healed partition loses nothing", len(d), d[0].String())
		}
	})
}

// checkConnections runs one drawn schedule of kinds and checks (a)-(c); it returns the
// World for further checks.
func checkConnections(t *rapid.T, kinds []string) (w *World) {
	{
		n := rapid.IntRange(3, propMaxNodes).Draw(t, "nodes")
		cfg := Config{
			Seed:        rapid.Uint64().Draw(t, "seed"),
			LatencyMin:  Millisecond,
			LatencyMean: rapid.SampledFrom([]Time{ZeroLatencyMean, Millisecond, 10 * Millisecond}).Draw(t, "mean"),
			// small buffers, so that a paused receiver fills them
			RecvBuffer: int64(rapid.IntRange(8, 200).Draw(t, "recvBuffer")),
			SendBuffer: int64(rapid.IntRange(1, 100).Draw(t, "sendBuffer")),
		}
		ops := rapid.SliceOfN(drawOp(n, kinds), 16, 200).Draw(t, "ops")

		w = MustWorld(cfg)
		p := &propWorld{w: w, n: n, next: map[pmsg]int{}, got: map[pmsg][]int{}, accepted: map[ConnID]bool{}, closedAt: map[pmsg]bool{}}
		for id := 1; id <= n; id++ {
			if err := w.Add(NodeID(id), &propNode{p: p, id: NodeID(id)}); err != nil {
				t.Fatal(err)
			}
			if err := w.Start(NodeID(id)); err != nil {
				t.Fatal(err)
			}
		}
		// A connection to start with, so that early sends have somewhere to go.
		p.conns = append(p.conns, w.Dial(1, 2))
		one := func(id int) []NodeID { return []NodeID{NodeID(id)} }
		for _, o := range ops {
			switch o.Kind {
			case "send":
				c := p.conns[o.A%len(p.conns)]
				end := 0
				if o.OneWay {
					end = 1
				}
				from := w.net.conn(c).ends[end]
				if end == 1 && !p.accepted[c] {
					break // the acceptor does not know of the connection yet
				}
				for i := 0; i < o.Count; i++ {
					k := pmsg{conn: c, end: end}
					m := pmsg{conn: c, end: end, seq: p.next[k]}
					if !w.IsOpen(c, from) {
						if w.Send(c, from, m) {
							p.fail("Send on a closed end succeeded")
						}
						break
					}
					if !w.Send(c, from, m) {
						p.fail("Send on an open end failed")
					}
					p.next[k]++
				}
			case "advance":
				w.RunFor(o.D)
			case "dial":
				p.conns = append(p.conns, w.Dial(NodeID(o.A), NodeID(o.B)))
			case "reset":
				if err := w.ResetConn(p.conns[o.A%len(p.conns)]); err != nil {
					t.Fatal(err)
				}
			case "close":
				c := p.conns[o.A%len(p.conns)]
				w.Close(c, w.net.conn(c).ends[o.B%2])
			case "partition", "rpartition":
				cut := w.Partition
				if o.Kind == "rpartition" {
					cut = w.PartitionResetting
				}
				if err := cut(one(o.A), one(o.B), o.OneWay); err != nil {
					t.Fatal(err)
				}
				p.cut[o.A][o.B] = true
				if !o.OneWay {
					p.cut[o.B][o.A] = true
				}
			case "heal":
				if err := w.Heal(one(o.A), one(o.B), o.OneWay); err != nil {
					t.Fatal(err)
				}
				p.cut[o.A][o.B] = false
				if !o.OneWay {
					p.cut[o.B][o.A] = false
				}
			case "pause":
				if !w.IsPaused(NodeID(o.A)) {
					if err := w.Pause(NodeID(o.A)); err != nil {
						t.Fatal(err)
					}
				}
			case "resume":
				if w.IsPaused(NodeID(o.A)) {
					p.resuming = NodeID(o.A)
					if err := w.Resume(NodeID(o.A)); err != nil {
						t.Fatal(err)
					}
					p.resuming = 0
				}
			case "healall":
				w.HealAll()
				p.cut = [propMaxNodes + 1][propMaxNodes + 1]bool{}
			case "clog":
				if err := w.Clog(one(o.A), one(o.B), o.OneWay, w.Now()+o.D); err != nil {
					t.Fatal(err)
				}
			}
			for a := 1; a <= n; a++ {
				for b := 1; b <= n; b++ {
					if w.Partitioned(NodeID(a), NodeID(b)) != p.cut[a][b] {
						t.Fatalf("after %v: Partitioned(%d, %d) = %v, the model says %v", o, a, b, !p.cut[a][b], p.cut[a][b])
					}
				}
			}
		}
		// Every clog (at most 50ms) has ended; after the heal, every stalled connection
		// retransmits within its backed-off timeout: everything in flight resolves.
		w.HealAll()
		p.cut = [propMaxNodes + 1][propMaxNodes + 1]bool{}
		for id := 1; id <= n; id++ {
			if w.IsPaused(NodeID(id)) {
				if err := w.Resume(NodeID(id)); err != nil {
					t.Fatal(err)
				}
			}
		}
		w.RunFor(20 * Minute)
		if w.Pending() != 0 {
			t.Fatalf("%d events still pending after the run", w.Pending())
		}
		for _, v := range p.violation {
			t.Error(v)
		}

		// (a) from the nodes: contiguous from 0, in order, never more than was sent.
		for k, seqs := range p.got {
			for i, s := range seqs {
				if s != i {
					t.Fatalf("connection %d from end %d delivered %v: want 0, 1, 2, ...", k.conn, k.end, seqs)
				}
			}
			if len(seqs) > p.next[pmsg{conn: k.conn, end: k.end}] {
				t.Fatalf("connection %d from end %d delivered %d of %d sent", k.conn, k.end, len(seqs), p.next[k])
			}
		}
		// (a) and (c) from the trace.
		sent := map[pmsg]bool{}
		resolved := map[pmsg]RecordKind{}
		last := map[pmsg]int{}
		for _, r := range w.Trace().Records() {
			switch r.Kind {
			case RecSend:
				m := r.Data.(pmsg)
				if sent[m] {
					t.Fatalf("%v sent twice", m)
				}
				sent[m] = true
			case RecDeliver, RecDrop:
				m := r.Data.(pmsg)
				if !sent[m] {
					t.Fatalf("%v %v before it was sent", r.Kind, m)
				}
				if k, dup := resolved[m]; dup {
					t.Fatalf("%v both %v and %v", m, k, r.Kind)
				}
				resolved[m] = r.Kind
				if r.Kind == RecDeliver {
					k := pmsg{conn: m.conn, end: m.end}
					want := 0
					if l, ok := last[k]; ok {
						want = l + 1
					}
					if m.seq != want {
						t.Fatalf("trace: %v delivered, want sequence number %d", m, want)
					}
					last[k] = m.seq
				}
			}
		}
		for m := range sent {
			if _, ok := resolved[m]; !ok {
				t.Fatalf("%v was sent but neither delivered nor dropped", m)
			}
		}
	}
	return w
}
