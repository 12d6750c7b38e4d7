package sim

import (
	"strconv"
	"testing"
)

// BenchmarkEventLoop measures one pop and one push of the event queue through the World
// (Step -> timer -> Timer -> SetTimer, with the trace hash of every record), with 16, 4096
// and 65536 events pending.
func BenchmarkEventLoop(b *testing.B) {
	for _, pending := range []int{16, 4096, 65536} {
		b.Run(strconv.Itoa(pending), func(b *testing.B) {
			w := BareLoop(pending)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w.Step()
			}
			b.StopTimer()
			if w.Pending() != pending {
				b.Fatalf("%d events pending, want %d", w.Pending(), pending)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
		})
	}
}

// BenchmarkEventQueue is BenchmarkEventLoop without the World: the heap alone, one pop
// and one push per iteration, to tell the queue's share from the rest of an event's cost.
func BenchmarkEventQueue(b *testing.B) {
	for _, pending := range []int{16, 4096, 65536} {
		b.Run(strconv.Itoa(pending), func(b *testing.B) {
			rng := NewStream(1, "bench")
			delays := make([]Time, 1<<12)
			for i := range delays {
				delays[i] = Microsecond + Time(rng.Int64N(int64(Millisecond)))
			}
			var q eventQueue
			var seq uint64
			for k := 0; k < pending; k++ {
				seq++
				q.pushFields(delays[k&(len(delays)-1)], seq<<seqShift|uint64(evTimer), seq, 0, int32(k))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				at, _, gen, node, arg := q.popFields()
				seq++
				q.pushFields(at+delays[i&(len(delays)-1)], seq<<seqShift|uint64(evTimer), gen, node, arg)
			}
			b.StopTimer()
			if q.Len() != pending {
				b.Fatalf("%d events pending, want %d", q.Len(), pending)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
		})
	}
}

// benchMsg is a message that does not allocate: the values sent are boxed once, up front.
type benchMsg int

func (m benchMsg) AppendTo(b []byte) []byte { return strconv.AppendInt(append(b, 'b'), int64(m), 10) }

// sink is a node that counts what it receives.
type sink struct{ n int }

func (s *sink) Start()                       {}
func (s *sink) Restart()                     {}
func (s *sink) Crash()                       {}
func (s *sink) Accept(c ConnID, peer NodeID) {}
func (s *sink) Receive(c ConnID, m Message)  { s.n++ }
func (s *sink) Closed(c ConnID)              {}
func (s *sink) Timer(kind int)               {}
func (s *sink) FsyncDone(token uint64)       {}

// BenchmarkConnectionDeliver measures the send and the delivery of one message over a
// live connection with the default random latency (Send -> enqueue -> push; Step -> due
// -> hand -> Receive, two trace records). Messages go in batches of 64, each run until
// delivered.
func BenchmarkConnectionDeliver(b *testing.B) {
	const batch = 64
	w := MustWorld(Config{Seed: 1, NoTrace: true})
	src, dst := &sink{}, &sink{}
	for id, n := range []Node{src, dst} {
		if err := w.Add(NodeID(id), n); err != nil {
			b.Fatal(err)
		}
		if err := w.Start(NodeID(id)); err != nil {
			b.Fatal(err)
		}
	}
	var msgs [batch]Message
	for i := range msgs {
		msgs[i] = benchMsg(1000 + i)
	}
	c := w.Dial(0, 1)
	for i := 0; i < 4*batch; i++ { // warm up: slices grown, the link's stream made
		w.Send(c, 0, msgs[i%batch])
	}
	for w.Step() {
	}
	dst.n = 0
	b.ReportAllocs()
	b.ResetTimer()
	for sent := 0; sent < b.N; {
		n := min(batch, b.N-sent)
		for i := 0; i < n; i++ {
			w.Send(c, 0, msgs[i])
		}
		sent += n
		for w.Step() {
		}
	}
	b.StopTimer()
	if dst.n != b.N {
		b.Fatalf("delivered %d of %d", dst.n, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/msg")
}
