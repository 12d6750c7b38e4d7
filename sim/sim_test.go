package sim

import (
	"fmt"
	"strconv"
	"testing"
)

// msg is a test message: a sequence number.
type msg int

func (m msg) AppendTo(b []byte) []byte { return strconv.AppendInt(append(b, "m"...), int64(m), 10) }
func (m msg) String() string           { return string(m.AppendTo(nil)) }

// entry is one thing that happened to a recorder, stamped with the virtual time.
type entry struct {
	At   Time
	What string // "recv", "accept", "closed", "timer", "fsync", "start", "restart", "crash"
	Conn ConnID
	Peer NodeID
	M    msg
	N    uint64 // timer kind or fsync token
}

func (e entry) String() string {
	return fmt.Sprintf("%v %s c%d p%d m%d n%d", e.At, e.What, e.Conn, e.Peer, e.M, e.N)
}

// recorder is a test node that remembers what happened to it.
type recorder struct {
	w        *World
	id       NodeID
	got      []msg
	accepted []ConnID
	closed   []ConnID
	timers   []int
	fsyncs   []uint64
	starts   int
	restarts int
	crashes  int
	log      []entry
	// onTimer, if set, runs after a timer is logged.
	onTimer func(kind int)
}

func (r *recorder) add(e entry) { e.At = r.w.Now(); r.log = append(r.log, e) }

func (r *recorder) Start()   { r.starts++; r.add(entry{What: "start"}) }
func (r *recorder) Restart() { r.starts++; r.restarts++; r.add(entry{What: "restart"}) }
func (r *recorder) Crash()   { r.crashes++; r.got = nil; r.add(entry{What: "crash"}) }
func (r *recorder) Accept(c ConnID, peer NodeID) {
	r.accepted = append(r.accepted, c)
	r.add(entry{What: "accept", Conn: c, Peer: peer})
}
func (r *recorder) Receive(c ConnID, m Message) {
	var v msg
	switch m := m.(type) {
	case msg:
		v = m
	case big:
		v = msg(m)
	}
	r.got = append(r.got, v)
	r.add(entry{What: "recv", Conn: c, M: v})
}
func (r *recorder) Closed(c ConnID) {
	r.closed = append(r.closed, c)
	r.add(entry{What: "closed", Conn: c})
}
func (r *recorder) Timer(kind int) {
	r.timers = append(r.timers, kind)
	r.add(entry{What: "timer", N: uint64(kind)})
	if r.onTimer != nil {
		r.onTimer(kind)
	}
}
func (r *recorder) FsyncDone(token uint64) {
	r.fsyncs = append(r.fsyncs, token)
	r.add(entry{What: "fsync", N: token})
}

// only returns the entries of r's log of the given kind.
func (r *recorder) only(what string) []entry {
	var out []entry
	for _, e := range r.log {
		if e.What == what {
			out = append(out, e)
		}
	}
	return out
}

func newTestWorld(t testing.TB, cfg Config, ids ...NodeID) (*World, map[NodeID]*recorder) {
	t.Helper()
	w, err := NewWorld(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rs := map[NodeID]*recorder{}
	for _, id := range ids {
		r := &recorder{w: w, id: id}
		rs[id] = r
		if err := w.Add(id, r); err != nil {
			t.Fatal(err)
		}
		if err := w.Start(id); err != nil {
			t.Fatal(err)
		}
	}
	return w, rs
}

// fixed is a Config with a constant one-way latency and no random part.
func fixed(seed uint64, latency Time) Config {
	return Config{Seed: seed, LatencyMin: latency, LatencyMean: ZeroLatencyMean}
}

// records returns the kept trace records of the given kind.
func records(w *World, kind RecordKind) []Record {
	var out []Record
	for _, r := range w.Trace().Records() {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

func TestSmokeSendDeliverFIFO(t *testing.T) {
	w, rs := newTestWorld(t, Config{Seed: 1}, 1, 2)
	c := w.Dial(1, 2)
	for i := 0; i < 100; i++ {
		w.Send(c, 1, msg(i))
	}
	w.RunFor(Second)
	if len(rs[2].accepted) != 1 || rs[2].accepted[0] != c {
		t.Fatalf("accepted = %v, want [%d]", rs[2].accepted, c)
	}
	if len(rs[2].got) != 100 {
		t.Fatalf("got %d messages, want 100", len(rs[2].got))
	}
	for i, m := range rs[2].got {
		if int(m) != i {
			t.Fatalf("message %d is %d: FIFO broken", i, m)
		}
	}
}
