package sim

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// established returns a world of nodes 1..n with a connection 1 -> 2 already accepted.
func established(t *testing.T, cfg Config, n int) (*World, map[NodeID]*recorder, ConnID) {
	t.Helper()
	var ids []NodeID
	for i := 1; i <= n; i++ {
		ids = append(ids, NodeID(i))
	}
	w, rs := newTestWorld(t, cfg, ids...)
	c := w.Dial(1, 2)
	w.RunFor(100 * Millisecond)
	require.Equal(t, []ConnID{c}, rs[2].accepted)
	return w, rs, c
}

func msgs(rs []Record) []msg {
	var out []msg
	for _, r := range rs {
		out = append(out, r.Data.(msg))
	}
	return out
}

func TestFIFOUnderRandomLatency(t *testing.T) {
	w, rs, c := established(t, Config{Seed: 5, LatencyMin: Microsecond, LatencyMean: 30 * Millisecond}, 2)
	rng := w.Stream("workload")
	for i := 0; i < 1000; i++ {
		w.Send(c, 1, msg(i))
		w.Send(c, 2, msg(i))
		w.RunFor(Time(rng.IntN(3000)) * Microsecond)
	}
	w.RunFor(Minute)
	for _, id := range []NodeID{1, 2} {
		got := rs[id].only("recv")
		require.Len(t, got, 1000)
		held := 0
		for i, e := range got {
			require.Equal(t, msg(i), e.M, "node %d: message %d out of order", id, i)
			if i > 0 && e.At == got[i-1].At {
				held++ // its own delay would have let it overtake: FIFO held it back
			}
		}
		require.Greater(t, held, 10, "the latency was never random enough to test FIFO")
	}
}

func TestSetLatencyPerLink(t *testing.T) {
	w, rs := newTestWorld(t, fixed(1, Millisecond), 1, 2, 3)
	require.NoError(t, w.SetLatency(1, 2, 50*Millisecond, ZeroLatencyMean))
	lat := records(w, RecLatency)
	require.Len(t, lat, 1)
	require.Equal(t, "0 latency 1 2 -1 min=50000000 mean=0", lat[0].String())

	c := w.Dial(1, 2)
	c13 := w.Dial(1, 3)
	w.RunFor(Second)
	require.Equal(t, Time(50*Millisecond), rs[2].only("accept")[0].At, "1->2 uses the override")
	require.Equal(t, Time(Millisecond), rs[3].only("accept")[0].At, "1->3 keeps the default")
	w.Send(c, 2, msg(1)) // 2->1 is not overridden
	w.Send(c13, 1, msg(2))
	w.RunFor(Second)
	require.Equal(t, []entry{{At: Second + Millisecond, What: "recv", Conn: c, M: 1}}, rs[1].only("recv"))
	require.Equal(t, []entry{{At: Second + Millisecond, What: "recv", Conn: c13, M: 2}}, rs[3].only("recv"))

	// Latency drops mid-stream: the faster message waits for the slower one before it.
	t0 := w.Now()
	require.NoError(t, w.SetLatency(1, 2, 100*Millisecond, ZeroLatencyMean))
	w.Send(c, 1, msg(10))
	require.NoError(t, w.SetLatency(1, 2, Millisecond, ZeroLatencyMean))
	w.Send(c, 1, msg(11))
	w.RunFor(200 * Millisecond)
	w.Send(c, 1, msg(12))
	w.RunFor(Second)
	require.Equal(t, []entry{
		{At: t0 + 100*Millisecond, What: "recv", Conn: c, M: 10},
		{At: t0 + 100*Millisecond, What: "recv", Conn: c, M: 11},
		{At: t0 + 201*Millisecond, What: "recv", Conn: c, M: 12},
	}, rs[2].only("recv"))

	// A random part: delays vary, never below the minimum.
	require.NoError(t, w.SetLatency(1, 3, 10*Millisecond, 10*Millisecond))
	var sent []Time
	for i := 0; i < 50; i++ {
		sent = append(sent, w.Now())
		w.Send(c13, 1, msg(100+i))
		w.RunFor(Second)
	}
	got := rs[3].only("recv")[1:]
	require.Len(t, got, 50)
	distinct := map[Time]bool{}
	for i, e := range got {
		d := e.At - sent[i]
		require.GreaterOrEqual(t, d, 10*Millisecond)
		distinct[d] = true
	}
	require.Greater(t, len(distinct), 40)
}

func TestOneWayResettingPartition(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 2)
	w.Send(c, 1, msg(0)) // sent before the partition, due after it starts: lost
	w.RunFor(Millisecond / 2)
	require.NoError(t, w.PartitionResetting([]NodeID{1}, []NodeID{2}, true))
	require.True(t, w.Partitioned(1, 2))
	require.False(t, w.Partitioned(2, 1))
	w.Send(c, 1, msg(1))
	w.Send(c, 2, msg(2))
	w.RunFor(Second)
	require.Empty(t, rs[2].only("recv"))
	require.Equal(t, []msg{2}, rs[1].got, "the other direction still works")
	drops := records(w, RecDrop)
	require.Equal(t, []msg{0, 1}, msgs(drops))
	require.Equal(t, NodeID(1), drops[0].Node)
	require.Equal(t, NodeID(2), drops[0].Peer)
	require.Equal(t, c, drops[0].Conn)

	require.Empty(t, rs[1].closed, "a partition is silent")
	require.Empty(t, rs[2].closed, "a partition is silent")
	require.True(t, w.IsOpen(c, 1))
	require.True(t, w.IsOpen(c, 2))

	// The heal resets the connection that lost messages: both ends see it close, and what
	// is sent on it meanwhile is lost behind the RST.
	require.NoError(t, w.Heal([]NodeID{1}, []NodeID{2}, true))
	require.False(t, w.Partitioned(1, 2))
	require.True(t, w.Send(c, 1, msg(3)), "the ends are open until the RST arrives")
	w.Send(c, 2, msg(4))
	w.RunFor(Second)
	require.Empty(t, rs[2].only("recv"), "nothing past the hole")
	require.Equal(t, []msg{2}, rs[1].got)
	require.Equal(t, []msg{0, 1, 3, 4}, msgs(records(w, RecDrop)))
	require.Equal(t, []ConnID{c}, rs[1].closed)
	require.Equal(t, []ConnID{c}, rs[2].closed)

	c2 := w.Dial(1, 2)
	w.Send(c2, 1, msg(5))
	w.RunFor(Second)
	require.Equal(t, []msg{5}, rs[2].got, "a new connection after heal works")
	require.Len(t, records(w, RecPartition), 1)
	require.Equal(t, "100500000 partition -1 -1 -1 {1} -> {2} resetting", records(w, RecPartition)[0].String())
	require.Equal(t, "1100500000 heal -1 -1 -1 {1} -> {2}", records(w, RecHeal)[0].String())
}

func TestSymmetricResettingPartition(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 3)
	c23 := w.Dial(2, 3)
	w.RunFor(Second)
	require.NoError(t, w.PartitionResetting([]NodeID{1}, []NodeID{2, 3}, false))
	for _, p := range [][2]NodeID{{1, 2}, {2, 1}, {1, 3}, {3, 1}} {
		require.True(t, w.Partitioned(p[0], p[1]), "%v", p)
	}
	require.False(t, w.Partitioned(2, 3))
	require.False(t, w.Partitioned(1, 1))
	w.Send(c, 1, msg(1))
	w.Send(c, 2, msg(2))
	w.Send(c23, 2, msg(3))
	c13 := w.Dial(1, 3) // across the partition: nothing arrives, nothing is refused
	w.RunFor(Second)
	require.Empty(t, rs[1].got)
	require.Empty(t, rs[2].got)
	require.Equal(t, []msg{3}, rs[3].got)
	require.Equal(t, []ConnID{c23}, rs[3].accepted)
	require.Equal(t, []msg{1, 2}, msgs(records(w, RecDrop)))

	for id := NodeID(1); id <= 3; id++ {
		require.Empty(t, rs[id].closed, "a partition is silent")
	}
	w.HealAll()
	require.False(t, w.Partitioned(1, 2))
	require.False(t, w.Partitioned(3, 1))
	w.Send(c, 1, msg(4))
	w.Send(c, 2, msg(5))
	w.Send(c13, 1, msg(6))
	w.RunFor(Second)
	require.Empty(t, rs[1].got, "old connections deliver nothing past their hole")
	require.Empty(t, rs[2].got, "old connections deliver nothing past their hole")
	require.Equal(t, []msg{3}, rs[3].got)
	// the heal reset both: c (lost 1 and 2) and c13 (lost its open)
	require.Equal(t, []ConnID{c, c13}, rs[1].closed)
	require.Equal(t, []ConnID{c}, rs[2].closed)
	c2 := w.Dial(2, 1)
	w.Send(c2, 2, msg(7))
	w.RunFor(Second)
	require.Equal(t, []msg{7}, rs[1].got)
	// Partitioning a node from itself cuts nothing.
	require.NoError(t, w.PartitionResetting([]NodeID{1, 2}, []NodeID{1, 2}, false))
	require.False(t, w.Partitioned(1, 1))
	require.True(t, w.Partitioned(1, 2))
	require.True(t, w.Partitioned(2, 1))
}

func TestClogHoldsThenReleasesInOrder(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 2)
	t0 := w.Now()
	require.NoError(t, w.Clog([]NodeID{1}, []NodeID{2}, true, t0+100*Millisecond))
	for i := 0; i < 5; i++ {
		w.Send(c, 1, msg(i))
		w.Send(c, 2, msg(100+i))
		w.RunFor(Millisecond)
	}
	w.RunUntil(t0 + 99*Millisecond + Millisecond/2)
	w.Send(c, 1, msg(5)) // due after the clog ends: normal latency
	w.RunUntil(t0 + 100*Millisecond - 1)
	require.Empty(t, rs[2].got, "delivered through a clog")
	require.Equal(t, []msg{100, 101, 102, 103, 104}, rs[1].got, "a one-way clog holds one direction only")
	w.RunFor(Second)
	var want []entry
	for i := 0; i < 5; i++ {
		want = append(want, entry{At: t0 + 100*Millisecond, What: "recv", Conn: c, M: msg(i)})
	}
	want = append(want, entry{At: t0 + 100*Millisecond + Millisecond/2, What: "recv", Conn: c, M: 5})
	require.Equal(t, want, rs[2].only("recv"))
	require.Empty(t, records(w, RecDrop))
	require.Len(t, records(w, RecClog), 1)
}

func TestHealAllLiftsClog(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 2)
	t0 := w.Now()
	require.NoError(t, w.Clog([]NodeID{1}, []NodeID{2}, false, t0+Minute))
	w.Send(c, 1, msg(1))
	w.Send(c, 2, msg(2))
	w.RunFor(10 * Millisecond)
	require.Empty(t, rs[2].got)
	require.Empty(t, rs[1].got)
	w.HealAll()
	w.Send(c, 1, msg(3))
	w.RunFor(Second)
	require.Equal(t, []entry{
		{At: t0 + 10*Millisecond, What: "recv", Conn: c, M: 1},
		{At: t0 + 11*Millisecond, What: "recv", Conn: c, M: 3},
	}, rs[2].only("recv"))
	require.Equal(t, []entry{{At: t0 + 10*Millisecond, What: "recv", Conn: c, M: 2}}, rs[1].only("recv"))
	// Re-clogging with an earlier end releases at that end.
	require.NoError(t, w.Clog([]NodeID{1}, []NodeID{2}, true, w.Now()+Minute))
	w.Send(c, 1, msg(4))
	w.RunFor(10 * Millisecond)
	require.NoError(t, w.Clog([]NodeID{1}, []NodeID{2}, true, w.Now()+5*Millisecond))
	t1 := w.Now()
	w.RunFor(Second)
	require.Equal(t, entry{At: t1 + 5*Millisecond, What: "recv", Conn: c, M: 4}, rs[2].only("recv")[2])
}

func TestResetConn(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 2)
	w.Send(c, 1, msg(1))
	w.Send(c, 2, msg(2))
	t0 := w.Now()
	require.NoError(t, w.ResetConn(c))
	require.Equal(t, []msg{1, 2}, msgs(records(w, RecDrop)), "what was in flight is lost")
	w.RunFor(Second)
	require.Empty(t, rs[1].got)
	require.Empty(t, rs[2].got)
	require.Equal(t, []entry{{At: t0 + Millisecond, What: "closed", Conn: c}}, rs[1].only("closed"))
	require.Equal(t, []entry{{At: t0 + Millisecond, What: "closed", Conn: c}}, rs[2].only("closed"))
	require.False(t, w.IsOpen(c, 1))
	require.False(t, w.IsOpen(c, 2))
	require.False(t, w.Send(c, 1, msg(3)))
	require.Len(t, records(w, RecReset), 1)
	require.Len(t, records(w, RecClosed), 2)
	// Resetting a closed connection tells nobody anything new.
	require.NoError(t, w.ResetConn(c))
	w.RunFor(Second)
	require.Len(t, rs[1].closed, 1)
	require.Len(t, rs[2].closed, 1)
}

func TestResetConnDropsWhatWasSentBeforeTheRSTArrived(t *testing.T) {
	w, rs, c := established(t, fixed(1, 10*Millisecond), 2)
	require.NoError(t, w.ResetConn(c))
	w.RunFor(Millisecond)
	require.True(t, w.Send(c, 1, msg(1)), "the end has not heard of the reset yet")
	w.RunFor(Second)
	require.Empty(t, rs[2].got)
	require.Equal(t, []msg{1}, msgs(records(w, RecDrop)))
	require.Len(t, rs[1].closed, 1)
	require.Len(t, rs[2].closed, 1)
}

func TestResetAll(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 3)
	c31 := w.Dial(3, 1)
	c23 := w.Dial(2, 3)
	w.RunFor(Second)
	require.NoError(t, w.ResetAll(1))
	w.RunFor(Second)
	require.ElementsMatch(t, []ConnID{c, c31}, rs[1].closed)
	require.Equal(t, []ConnID{c}, rs[2].closed)
	require.Equal(t, []ConnID{c31}, rs[3].closed)
	require.True(t, w.IsOpen(c23, 2))
	require.Len(t, records(w, RecReset), 2)
}

func TestCloseIsAHalfClose(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 2)
	w.Send(c, 1, msg(1))
	w.Send(c, 1, msg(2))
	w.Close(c, 1)
	require.False(t, w.IsOpen(c, 1))
	require.True(t, w.IsOpen(c, 2))
	require.False(t, w.Send(c, 1, msg(3)))
	require.True(t, w.Send(c, 2, msg(4)), "the peer has not seen the close yet")
	w.RunFor(Second)
	require.Equal(t, []msg{1, 2}, rs[2].got, "what was sent before close still arrives")
	require.Equal(t, []entry{
		{At: 101 * Millisecond, What: "recv", Conn: c, M: 1},
		{At: 101 * Millisecond, What: "recv", Conn: c, M: 2},
		{At: 101 * Millisecond, What: "closed", Conn: c},
	}, rs[2].log[2:])
	require.Empty(t, rs[1].got, "nothing reaches a closed end")
	require.Empty(t, rs[1].closed, "the end that closed is not told")
	require.Equal(t, []msg{4}, msgs(records(w, RecDrop)))
	require.False(t, w.IsOpen(c, 2))
	require.Equal(t, NodeID(2), w.Peer(c, 1))
	require.Equal(t, NodeID(1), w.Peer(c, 2))
}

func TestDialToDownNodeIsRefused(t *testing.T) {
	w, rs := newTestWorld(t, fixed(1, Millisecond), 1, 2)
	r3 := &recorder{w: w, id: 3}
	require.NoError(t, w.Add(3, r3)) // never started
	require.NoError(t, w.Crash(2))
	c2 := w.Dial(1, 2)
	c3 := w.Dial(1, 3)
	c9 := w.Dial(1, 9) // no such node: refused too
	w.Send(c2, 1, msg(1))
	w.RunFor(Second)
	require.Equal(t, []entry{
		{At: 2 * Millisecond, What: "closed", Conn: c2},
		{At: 2 * Millisecond, What: "closed", Conn: c3},
		{At: 2 * Millisecond, What: "closed", Conn: c9},
	}, rs[1].only("closed"))
	require.Equal(t, []msg{1}, msgs(records(w, RecDrop)))
	require.NoError(t, w.Restart(2))
	require.NoError(t, w.Start(3))
	w.RunFor(Second)
	require.Empty(t, rs[2].accepted)
	require.Empty(t, rs[2].got)
	require.Empty(t, r3.accepted)
	require.Equal(t, 1, r3.starts)
	require.False(t, w.IsOpen(c2, 1))
}

func TestUnsafeDrop(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 2)
	require.NoError(t, w.SetUnsafe(Unsafe{Drop: 1}))
	for i := 0; i < 5; i++ {
		require.True(t, w.Send(c, 1, msg(i)))
	}
	w.RunFor(Second)
	require.Empty(t, rs[2].got)
	require.Equal(t, []msg{0, 1, 2, 3, 4}, msgs(records(w, RecDrop)))
	require.True(t, w.IsOpen(c, 1), "the connection carries on")
	require.True(t, w.IsOpen(c, 2))
	require.NoError(t, w.SetUnsafe(Unsafe{}))
	w.Send(c, 1, msg(5))
	w.RunFor(Second)
	require.Equal(t, []msg{5}, rs[2].got, "the same connection delivers once the unsafe mode is off")
	require.Empty(t, rs[2].closed)
}

func TestUnsafeDropHalf(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 2)
	require.NoError(t, w.SetUnsafe(Unsafe{Drop: 0.5}))
	for i := 0; i < 1000; i++ {
		w.Send(c, 1, msg(i))
	}
	w.RunFor(Second)
	n := len(rs[2].got)
	require.InDelta(t, 500, n, 80)
	require.Equal(t, 1000-n, len(records(w, RecDrop)))
	for i := 1; i < n; i++ {
		require.Less(t, rs[2].got[i-1], rs[2].got[i], "drop alone never reorders")
	}
}

func TestUnsafeDuplicate(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 2)
	require.NoError(t, w.SetUnsafe(Unsafe{Duplicate: 1}))
	for i := 0; i < 3; i++ {
		w.Send(c, 1, msg(i))
	}
	w.RunFor(Second)
	require.Equal(t, []msg{0, 0, 1, 1, 2, 2}, rs[2].got)
	require.Len(t, records(w, RecSend), 3)
	require.Len(t, records(w, RecDeliver), 6)
}

func TestUnsafeReorder(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 2)
	require.NoError(t, w.SetUnsafe(Unsafe{Reorder: 1}))
	for i := 0; i < 3; i++ {
		w.Send(c, 1, msg(i))
	}
	w.RunFor(Second)
	require.Equal(t, []msg{0, 2, 1}, rs[2].got, "message 2 overtakes message 1")
	require.Empty(t, records(w, RecDrop))
}

func TestResetConnAfterAResettingPartition(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 2)
	require.NoError(t, w.PartitionResetting([]NodeID{1}, []NodeID{2}, false))
	w.Send(c, 1, msg(1)) // lost: the connection goes silent
	w.RunFor(10 * Millisecond)
	// While the link is cut, the RST is lost too: nobody hears of the reset.
	require.NoError(t, w.ResetConn(c))
	w.RunFor(Second)
	require.Empty(t, rs[1].closed)
	require.Empty(t, rs[2].closed)

	c2 := w.Dial(1, 2)
	require.NoError(t, w.PartitionResetting([]NodeID{2}, []NodeID{1}, true))
	w.RunFor(10 * Millisecond)
	w.Send(c2, 2, msg(2)) // 2 -> 1 loses a message; 1 -> 2 is cut too
	w.RunFor(10 * Millisecond)
	// The heal makes both links whole: the connection with a hole is reset, and both
	// ends see it close one link delay later; nothing more is delivered on it.
	t0 := w.Now()
	w.HealAll()
	w.Send(c2, 2, msg(3))
	w.RunFor(Second)
	require.Empty(t, rs[1].got, "nothing delivered past the hole")
	// both silent connections, c (whose earlier RST was lost) and c2, are reset
	want := []entry{{At: t0 + Millisecond, What: "closed", Conn: c}, {At: t0 + Millisecond, What: "closed", Conn: c2}}
	require.Equal(t, want, rs[1].only("closed"))
	require.Equal(t, want, rs[2].only("closed"))
}

// A one-way heal that leaves the other direction cut does not reset: the RST could not
// reach both ends. The full heal does.
func TestHealResetsBrokenConnectionsOnlyWhenWhole(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 2)
	require.NoError(t, w.PartitionResetting([]NodeID{1}, []NodeID{2}, false))
	w.Send(c, 1, msg(1))
	w.RunFor(10 * Millisecond)
	require.NoError(t, w.Heal([]NodeID{1}, []NodeID{2}, true)) // 1 -> 2 whole, 2 -> 1 still cut
	w.RunFor(Second)
	require.Empty(t, rs[1].only("closed"))
	require.Empty(t, rs[2].only("closed"))
	t0 := w.Now()
	require.NoError(t, w.Heal([]NodeID{2}, []NodeID{1}, true))
	w.RunFor(Second)
	require.Equal(t, []entry{{At: t0 + Millisecond, What: "closed", Conn: c}}, rs[1].only("closed"))
	require.Equal(t, []entry{{At: t0 + Millisecond, What: "closed", Conn: c}}, rs[2].only("closed"))
}

// A node that crashed while its link to a peer was cut never got its end-of-stream
// through; the heal resets the connection and the survivor sees it close.
func TestHealResetsConnectionOfNodeCrashedDuringResettingPartition(t *testing.T) {
	w, rs, c := established(t, fixed(1, Millisecond), 2)
	require.NoError(t, w.PartitionResetting([]NodeID{2}, []NodeID{1}, true))
	require.NoError(t, w.Crash(2))
	w.RunFor(5 * Second)
	require.Empty(t, rs[1].only("closed"), "the EOF was lost in the partition")
	t0 := w.Now()
	w.HealAll()
	w.RunFor(Second)
	require.Equal(t, []entry{{At: t0 + Millisecond, What: "closed", Conn: c}}, rs[1].only("closed"))
}
