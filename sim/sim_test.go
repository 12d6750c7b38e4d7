package sim

import (
	"strconv"
	"testing"
)

// msg is a test message: a sequence number.
type msg int

func (m msg) AppendTo(b []byte) []byte { return strconv.AppendInt(append(b, "m"...), int64(m), 10) }

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
	crashes  int
}

func (r *recorder) Start()                       { r.starts++ }
func (r *recorder) Restart()                     { r.starts++ }
func (r *recorder) Crash()                       { r.crashes++; r.got = nil }
func (r *recorder) Accept(c ConnID, peer NodeID) { r.accepted = append(r.accepted, c) }
func (r *recorder) Receive(c ConnID, m Message)  { r.got = append(r.got, m.(msg)) }
func (r *recorder) Closed(c ConnID)              { r.closed = append(r.closed, c) }
func (r *recorder) Timer(kind int)               { r.timers = append(r.timers, kind) }
func (r *recorder) FsyncDone(token uint64)       { r.fsyncs = append(r.fsyncs, token) }

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
