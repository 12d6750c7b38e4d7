package sim

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The network as a real host lives it: partitions drop segments, TCP retransmits them on
// Linux's timer, a process kill is not a host loss. The figures are Linux's defaults
// (TCP_RTO_MIN 200 ms, TCP_RTO_MAX 120 s, tcp_retries2 15, tcp_syn_retries 6,
// tcp_orphan_retries 8).

// A partition that heals before any timeout delivers everything, over the same connection,
// in order, at the sender's next retransmission.
func TestPartitionDelaysAndRetransmitsOverTheSameConnection(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 2) // now 100ms
	require.NoError(t, w.Partition([]NodeID{1}, []NodeID{2}, false))
	for i := 0; i < 3; i++ {
		w.Send(c, 1, msg(i))
	}
	// The first segment is lost at 101ms; the timer expires at 301ms, 701ms, 1501ms, ...
	w.RunUntil(time300 * 4) // 1.2s: still cut
	require.Empty(t, rs[2].got)
	require.Empty(t, records(w, RecDrop), "nothing is dropped: TCP keeps it")
	require.Len(t, records(w, RecLost), 1)
	w.HealAll()
	w.RunFor(Second)
	require.Equal(t, []entry{
		{At: 1502 * Millisecond, What: "recv", Conn: c, M: 0},
		{At: 1502 * Millisecond, What: "recv", Conn: c, M: 1},
		{At: 1502 * Millisecond, What: "recv", Conn: c, M: 2},
	}, rs[2].only("recv"))
	require.Empty(t, rs[1].closed)
	require.Empty(t, rs[2].closed)
	rt := records(w, RecRetransmit)
	require.Len(t, rt, 1)
	require.Equal(t, "1501000000 retransmit 1 2 0 retransmission 3", rt[0].String())
}

// New data on a stalled connection after the heal gets everything going within about one
// round trip (the receiver's duplicate ACKs): the real follower caught up 0.06-0.08 s after a
// heal although its leader's socket was backed off to an RTO of 1.7 s.
func TestNewDataAfterHealRetransmitsAtOnce(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 2)
	require.NoError(t, w.Partition([]NodeID{1}, []NodeID{2}, false))
	w.Send(c, 1, msg(0))
	w.RunFor(5 * Second) // the timer is at 6.4 s by now
	w.HealAll()
	t0 := w.Now()
	w.Send(c, 1, msg(1))
	w.RunFor(Second)
	got := rs[2].only("recv")
	require.Len(t, got, 2)
	require.Equal(t, []msg{0, 1}, rs[2].got)
	require.Equal(t, t0+3*Millisecond, got[0].At, "new segment, duplicate ACK, retransmission: three one-way delays")
	require.Equal(t, got[0].At, got[1].At)
}

// A link cut for good: the sender gives up after tcp_retries2 retransmissions, about
// 924.6 s, and sees the connection reset; the receiver hears nothing.
func TestRetransmissionGivesUpAfterRetries2(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 2)
	require.NoError(t, w.Partition([]NodeID{1}, []NodeID{2}, false))
	w.Send(c, 1, msg(0))
	lost := w.Now() + Millisecond
	w.RunFor(time300 * 4000) // 20 minutes
	require.Equal(t, []entry{{At: lost + 924600*Millisecond, What: "closed", Conn: c}}, rs[1].only("closed"))
	require.True(t, w.WasReset(c, 1), "ETIMEDOUT, not an orderly close")
	require.Empty(t, rs[2].closed)
	require.True(t, w.IsOpen(c, 2))
	require.Len(t, records(w, RecAbort), 1)
	require.Equal(t, []msg{0}, msgs(records(w, RecDrop)))
	require.Zero(t, w.Pending(), "no timer left running")
}

// A SYN across a partition is retransmitted 1 s, 3 s, 7 s, ... after its loss: the
// connection opens after the heal, at the next one; still cut, the dialer gives up at 127 s.
func TestSYNIsRetransmitted(t *testing.T) {
	w, rs := newTestWorld(t, fixed(1, Millisecond), 1, 2, 3)
	require.NoError(t, w.Partition([]NodeID{1}, []NodeID{2, 3}, false))
	c := w.Dial(1, 2)
	c13 := w.Dial(1, 3)
	w.Send(c, 1, msg(7))
	w.RunFor(2 * Second)
	require.NoError(t, w.Heal([]NodeID{1}, []NodeID{2}, false))
	w.RunFor(200 * Second)
	require.Equal(t, []entry{
		{At: 3002 * Millisecond, What: "accept", Conn: c, Peer: 1},
		{At: 3002 * Millisecond, What: "recv", Conn: c, M: 7},
	}, rs[2].log[1:])
	require.Equal(t, []entry{{At: 127001 * Millisecond, What: "closed", Conn: c13}}, rs[1].only("closed"))
	require.Empty(t, rs[3].accepted)
}

// A dialer that gives up on its connect (closes) before the SYN got through: the acceptor
// never hears of the connection, even after the heal.
func TestClosingBeforeTheSYNArrivesAbandonsTheConnection(t *testing.T) {
	w, rs := newTestWorld(t, fixed(1, Millisecond), 1, 2)
	require.NoError(t, w.Partition([]NodeID{1}, []NodeID{2}, false))
	c := w.Dial(1, 2)
	w.Send(c, 1, msg(1))
	w.RunFor(500 * Millisecond)
	w.Close(c, 1)
	w.HealAll()
	w.RunFor(10 * Second)
	require.Empty(t, rs[2].accepted)
	require.Empty(t, rs[2].got)
	require.Zero(t, w.Pending())
}

// A process kill behind a partition: its kernel keeps retransmitting what the process wrote;
// lifted 1.2 s after the kill, the partition lets the last proposal through, then the
// end-of-stream (as in the real dirty-snapshot run). Before the heal the peer hears nothing.
func TestProcessKillStillDeliversWhatWasWrittenAfterTheHeal(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 2)
	require.NoError(t, w.Partition([]NodeID{1}, []NodeID{2}, false))
	w.Send(c, 1, msg(42))
	require.NoError(t, w.Crash(1))
	w.RunFor(1200 * Millisecond)
	require.Empty(t, rs[2].log[2:], "the peer hears nothing across the partition")
	w.HealAll()
	w.RunFor(5 * Second)
	// Lost at 101ms; timer at 301, 701, 1501ms: the heal at 1.3s lets the 1501ms one through.
	require.Equal(t, []entry{
		{At: 1502 * Millisecond, What: "recv", Conn: c, M: 42},
		{At: 1502 * Millisecond, What: "closed", Conn: c},
	}, rs[2].log[2:])
	require.False(t, w.WasReset(c, 2))
}

// An orphaned socket (its process killed) gives up after tcp_orphan_retries (8): 102.2 s.
func TestOrphanGivesUpAfterEightRetries(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 2)
	require.NoError(t, w.Partition([]NodeID{1}, []NodeID{2}, false))
	w.Send(c, 1, msg(42))
	require.NoError(t, w.Crash(1))
	w.RunFor(110 * Second)
	ab := records(w, RecAbort)
	require.Len(t, ab, 1)
	require.Equal(t, 100*Millisecond+Millisecond+102200*Millisecond, ab[0].At)
	w.HealAll()
	w.RunFor(Second)
	require.Empty(t, rs[2].got, "given up: never delivered")
	require.Empty(t, rs[2].closed, "and the peer never hears of the close: its own timeouts must tell it")
}

// A host loss sends nothing more: the peer hears of it only through its own timeouts, or
// when the host is back and answers its retransmission with an RST.
func TestHostLossIsSilentUntilTheHostAnswersWithRST(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 2)
	require.NoError(t, w.CrashAs(1, HostLoss))
	require.Equal(t, "100000000 crash 1 -1 -1 host", records(w, RecCrash)[0].String())
	w.RunFor(10 * Second)
	require.Empty(t, rs[2].closed, "no FIN, no RST from a dead host")
	w.Send(c, 2, msg(1)) // lost: the host is down; retransmitted at 200ms, 600ms, 1.4s, ...
	w.RunFor(time300)
	require.NoError(t, w.Restart(1))
	w.RunFor(5 * Second)
	// Lost at 10.101s; the timer fires at 10.301 (host still down) and 10.701: the
	// rebooted host has no such connection and answers with RST, back at 10.703.
	require.Equal(t, []entry{{At: 10703 * Millisecond, What: "closed", Conn: c}}, rs[2].only("closed"))
	require.True(t, w.WasReset(c, 2))
	require.Empty(t, rs[1].got)
	// A dial to a host that is down is not refused: its SYN is lost.
	require.NoError(t, w.CrashAs(2, HostLoss))
	c2 := w.Dial(1, 2)
	w.RunFor(1500 * Millisecond)
	require.True(t, w.IsOpen(c2, 1), "no RST from a dead host")
	require.NoError(t, w.Restart(2))
	w.RunFor(5 * Second)
	require.Equal(t, []ConnID{c2}, rs[2].accepted[1:], "the retransmitted SYN reaches the rebooted host")
}

// A process kill keeps what reached the kernel (it is flushed later) and loses what the
// process still buffered; an fsync it started completes. A host loss keeps only what was
// fsynced.
func TestProcessKillKeepsThePageCache(t *testing.T) {
	cfg := fixed(1, Millisecond)
	cfg.FsyncLatency = 10 * Millisecond
	w, rs := newTestWorld(t, cfg, 1)
	d := w.Disk(1)
	d.AppendBuffered("log", "a")   // buffered
	w.Fsync(1)                     // flushes "a" to the kernel, durable at 10ms
	d.Append("snap", "s")          // written: in the kernel, never fsynced
	d.AppendBuffered("log", "b")   // buffered, after the fsync started
	w.RunFor(5 * Millisecond)      // the fsync is in progress
	require.NoError(t, w.Crash(1)) // kill
	recs, _ := d.Records("log")
	require.Equal(t, []any{"a"}, recs, "the buffered record is lost, the flushed one kept")
	require.Equal(t, 1, d.Len("snap"))
	require.Equal(t, 0, d.Durable("log"))
	w.RunFor(10 * Millisecond)
	require.Equal(t, 1, d.Durable("log"), "the kernel completed the fsync")
	require.Empty(t, rs[1].fsyncs, "the dead process is not told")
	require.NoError(t, w.Restart(1))
	require.NoError(t, w.CrashAs(1, HostLoss))
	require.Equal(t, 0, d.Len("snap"), "never fsynced: lost with the host")
	require.Equal(t, 1, d.Len("log"))
}

// The old semantics, as an explicit option: a resetting partition (a middlebox that forgets
// the connections) loses data for good and resets the connection at the heal.
func TestResettingPartitionLosesAndResets(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 2)
	require.NoError(t, w.PartitionResetting([]NodeID{1}, []NodeID{2}, false))
	w.Send(c, 1, msg(1))
	w.RunFor(Second)
	require.Equal(t, []msg{1}, msgs(records(w, RecDrop)))
	require.Empty(t, records(w, RecLost))
	w.HealAll()
	w.RunFor(Second)
	require.Empty(t, rs[2].got)
	require.Equal(t, []ConnID{c}, rs[2].closed)
	require.Equal(t, []ConnID{c}, rs[1].closed)
}

// big is a test message of 100 bytes on the wire.
type big int

func (b big) AppendTo(x []byte) []byte { return msg(b).AppendTo(x) }
func (b big) WireSize() int            { return 100 }

// Bounded buffers: a paused receiver's kernel holds RecvBuffer bytes, the sender's
// SendBuffer more; the rest waits in the sending process, which a close throws away. On
// resume the receiver reads what was buffered, then what the sender's kernel held, then the
// end-of-stream.
func TestPausedReceiverReadsOnlyWhatTheBuffersHeld(t *testing.T) {
	cfg := fixed(1, Millisecond)
	cfg.RecvBuffer, cfg.SendBuffer = 1000, 500
	w, rs, c := established(t, cfg, 2)
	require.NoError(t, w.Pause(2))
	for i := 0; i < 30; i++ {
		w.Send(c, 1, big(i))
	}
	w.RunFor(Second)
	w.Close(c, 1) // the sender gives up on its peer, as a LearnerHandler does at its timeout
	drops := records(w, RecDrop)
	require.Len(t, drops, 15, "10 in the receiver's buffer, 5 in the sender's kernel, 15 in its memory")
	require.Equal(t, Message(big(15)), drops[0].Data)
	w.RunFor(Second)
	require.Empty(t, rs[2].got)
	t0 := w.Now()
	require.NoError(t, w.Resume(2))
	w.RunFor(Second)
	got := rs[2].only("recv")
	require.Len(t, got, 15)
	require.Equal(t, t0, got[9].At, "the buffered ten at once")
	require.Equal(t, t0+2*Millisecond, got[10].At, "the rest one round trip later, when the window opens")
	require.Equal(t, []entry{{At: t0 + 2*Millisecond, What: "closed", Conn: c}}, rs[2].only("closed"))
	for i, m := range rs[2].got {
		require.Equal(t, msg(i), m)
	}
}

// Without a close, a paused receiver loses nothing: it reads everything once it resumes.
func TestPausedReceiverGetsEverythingFromALiveSender(t *testing.T) {
	cfg := fixed(1, Millisecond)
	cfg.RecvBuffer, cfg.SendBuffer = 1000, 500
	w, rs, c := established(t, cfg, 2)
	require.NoError(t, w.Pause(2))
	for i := 0; i < 30; i++ {
		w.Send(c, 1, big(i))
	}
	w.RunFor(Second)
	require.NoError(t, w.Resume(2))
	w.RunFor(Second)
	require.Len(t, rs[2].got, 30)
	require.Empty(t, records(w, RecDrop))
}
