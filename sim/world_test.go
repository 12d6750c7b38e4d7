package sim

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---- timers ----

func TestTimerFiresOnceAtItsTime(t *testing.T) {
	w, rs := newTestWorld(t, fixed(1, Millisecond), 1)
	r := rs[1]
	w.SetTimer(1, 3, 5*Millisecond)
	require.True(t, w.TimerArmed(1, 3))
	w.RunUntil(5*Millisecond - 1)
	require.Empty(t, r.timers, "fired early")
	w.RunFor(1)
	require.Equal(t, []int{3}, r.timers)
	require.Equal(t, Time(5*Millisecond), r.only("timer")[0].At)
	require.False(t, w.TimerArmed(1, 3), "a timer that fired is no longer armed")
	w.RunFor(Minute)
	require.Equal(t, []int{3}, r.timers, "fired more than once")
	// The trace names the timer.
	tr := records(w, RecTimer)
	require.Len(t, tr, 1)
	require.Equal(t, "5000000 timer 1 -1 -1 timer 3", tr[0].String())
}

func TestCancelTimer(t *testing.T) {
	w, rs := newTestWorld(t, fixed(1, Millisecond), 1)
	w.SetTimer(1, 0, 5*Millisecond)
	w.SetTimer(1, 1, 6*Millisecond)
	w.RunFor(Millisecond)
	w.CancelTimer(1, 0)
	w.CancelTimer(1, 7) // never armed: a no-op
	require.False(t, w.TimerArmed(1, 0))
	require.True(t, w.TimerArmed(1, 1))
	w.RunFor(Second)
	require.Equal(t, []int{1}, rs[1].timers)
}

func TestRearmReplaces(t *testing.T) {
	w, rs := newTestWorld(t, fixed(1, Millisecond), 1)
	r := rs[1]
	// Later replaces earlier.
	w.SetTimer(1, 0, 5*Millisecond)
	w.SetTimer(1, 0, 10*Millisecond)
	// Earlier replaces later.
	w.SetTimer(1, 1, 10*Millisecond)
	w.SetTimer(1, 1, 3*Millisecond)
	w.RunFor(Second)
	fired := r.only("timer")
	require.Len(t, fired, 2)
	assert.Equal(t, entry{At: 3 * Millisecond, What: "timer", N: 1}, fired[0])
	assert.Equal(t, entry{At: 10 * Millisecond, What: "timer", N: 0}, fired[1])
}

func TestTimerRearmedFromItsOwnCallback(t *testing.T) {
	w, rs := newTestWorld(t, fixed(1, Millisecond), 1)
	r := rs[1]
	r.onTimer = func(kind int) {
		if len(r.timers) < 4 {
			w.SetTimer(1, kind, 10*Millisecond)
		}
	}
	w.SetTimer(1, 2, 10*Millisecond)
	w.RunFor(Second)
	var at []Time
	for _, e := range r.only("timer") {
		at = append(at, e.At)
	}
	require.Equal(t, []Time{10 * Millisecond, 20 * Millisecond, 30 * Millisecond, 40 * Millisecond}, at)
}

func TestNegativeTimerDelayFiresNowAndTimeNeverGoesBack(t *testing.T) {
	w, rs := newTestWorld(t, fixed(1, Millisecond), 1)
	w.RunFor(10 * Millisecond)
	w.SetTimer(1, 0, -5*Millisecond)
	w.RunFor(Millisecond)
	require.Equal(t, []entry{{At: 10 * Millisecond, What: "timer"}}, rs[1].only("timer"))
	require.Equal(t, 11*Millisecond, w.Now())
}

func TestTimerFarAwayDoesNotOverflow(t *testing.T) {
	w, rs := newTestWorld(t, fixed(1, Millisecond), 1)
	w.RunFor(Second)
	w.SetTimer(1, 0, Never)
	w.SetTimer(1, 1, Never-2*Second) // due at Never-1s
	w.SetTimer(1, 2, Millisecond)
	w.RunFor(Minute)
	require.Equal(t, []int{2}, rs[1].timers, "a timer at the end of time fired early")
	require.Equal(t, Never-Second, w.NextAt())
	require.True(t, w.RunUntilIdle(Never))
	require.Equal(t, []int{2, 1, 0}, rs[1].timers)
	require.Equal(t, Never, w.Now())
}

func TestRunUntil(t *testing.T) {
	w, rs := newTestWorld(t, fixed(1, Millisecond), 1)
	w.SetTimer(1, 0, 10*Millisecond)
	w.SetTimer(1, 1, 20*Millisecond)
	w.RunUntil(10 * Millisecond) // an event exactly at t runs
	require.Equal(t, []int{0}, rs[1].timers)
	require.Equal(t, 10*Millisecond, w.Now())
	w.RunUntil(15 * Millisecond) // nothing due: the clock still moves to t
	require.Equal(t, 15*Millisecond, w.Now())
	require.Equal(t, Time(20*Millisecond), w.NextAt())
	w.RunUntil(5 * Millisecond) // the past: the clock does not go back
	require.Equal(t, 15*Millisecond, w.Now())
	w.RunFor(5*Millisecond - 1)
	require.Equal(t, []int{0}, rs[1].timers)
	require.Equal(t, 20*Millisecond-1, w.Now())
	w.RunFor(1)
	require.Equal(t, []int{0, 1}, rs[1].timers)
	require.Equal(t, Never, w.NextAt())
}

func TestRunUntilCond(t *testing.T) {
	w, rs := newTestWorld(t, fixed(1, Millisecond), 1)
	for k := 0; k < 5; k++ {
		w.SetTimer(1, k, Time(k+1)*10*Millisecond)
	}
	ok := w.RunUntilCond(func() bool { return len(rs[1].timers) == 3 }, Second)
	require.True(t, ok)
	require.Equal(t, 30*Millisecond, w.Now(), "stops at the event that made cond true")
	require.Equal(t, []int{0, 1, 2}, rs[1].timers)

	ok = w.RunUntilCond(func() bool { return len(rs[1].timers) == 10 }, 45*Millisecond)
	require.False(t, ok)
	require.Equal(t, 45*Millisecond, w.Now(), "the clock moves to the limit when cond never holds")
	require.Equal(t, []int{0, 1, 2, 3}, rs[1].timers)

	// cond already true: nothing runs.
	ok = w.RunUntilCond(func() bool { return true }, Second)
	require.True(t, ok)
	require.Equal(t, 45*Millisecond, w.Now())
	require.Equal(t, 1, w.Pending())
}

func TestRunUntilIdle(t *testing.T) {
	w, rs := newTestWorld(t, fixed(1, Millisecond), 1)
	w.SetTimer(1, 0, 10*Millisecond)
	w.SetTimer(1, 1, 50*Millisecond)
	require.False(t, w.RunUntilIdle(20*Millisecond))
	require.Equal(t, []int{0}, rs[1].timers)
	require.Equal(t, 1, w.Pending())
	require.True(t, w.RunUntilIdle(Never))
	require.Equal(t, []int{0, 1}, rs[1].timers)
	require.Equal(t, 0, w.Pending())
	require.Equal(t, 50*Millisecond, w.Now())
	require.False(t, w.Step(), "Step on an empty queue")
}

func TestAt(t *testing.T) {
	w, _ := newTestWorld(t, fixed(1, Millisecond), 1)
	var got []string
	note := func(s string) func() {
		return func() { got = append(got, w.Now().String()+" "+s) }
	}
	w.At(20*Millisecond, note("c"))
	w.At(10*Millisecond, note("a"))
	w.At(10*Millisecond, note("b")) // same instant: after a
	w.At(15*Millisecond, func() {
		note("nested-start")()
		w.At(15*Millisecond, note("nested")) // now: after everything already at 15ms
		w.At(Millisecond, note("past"))      // in the past: runs now
	})
	w.At(15*Millisecond, note("d"))
	w.RunFor(Second)
	require.Equal(t, []string{"10ms a", "10ms b", "15ms nested-start", "15ms d", "15ms nested", "15ms past", "20ms c"}, got)
	// Slots of calls that ran are reused and still run in order.
	got = nil
	for i := 0; i < 3; i++ {
		w.At(2*Second, note(string(rune('x'+i))))
	}
	w.RunFor(Second)
	require.Equal(t, []string{"2s x", "2s y", "2s z"}, got)
}

// TestRunNestedInAHandler: a call that runs the world itself (as Ensemble.Write does)
// finishes the event being handled first, then runs the ones due, each once and in order,
// and the outer run goes on after them.
func TestRunNestedInAHandler(t *testing.T) {
	w, _ := newTestWorld(t, fixed(1, Millisecond), 1)
	var got []string
	note := func(s string) func() {
		return func() { got = append(got, w.Now().String()+" "+s) }
	}
	w.At(10*Millisecond, func() {
		note("outer")()
		w.RunUntil(11 * Millisecond) // before anything is queued: the outer event still on top
		w.At(12*Millisecond, note("queued by outer"))
		w.RunUntil(13 * Millisecond)
		note("outer again")()
	})
	w.At(11*Millisecond, note("a"))
	w.At(14*Millisecond, note("b"))
	w.RunUntilIdle(Never)
	require.Equal(t, []string{"10ms outer", "11ms a", "12ms queued by outer", "13ms outer again", "14ms b"}, got)
	require.Equal(t, 0, w.Pending())
}

// ---- random streams ----

func TestStreamsDependOnSeedAndNameOnly(t *testing.T) {
	draw := func(seed uint64, name string) []uint64 {
		r := NewStream(seed, name)
		out := make([]uint64, 8)
		for i := range out {
			out[i] = r.Uint64()
		}
		return out
	}
	require.Equal(t, draw(7, "server/3"), draw(7, "server/3"))
	require.NotEqual(t, draw(7, "server/3"), draw(7, "server/4"))
	require.NotEqual(t, draw(7, "server/3"), draw(8, "server/3"))

	// A World's stream is NewStream, whatever other streams were created and used first.
	w := MustWorld(Config{Seed: 7})
	for i := 0; i < 100; i++ {
		w.Stream("workload").Uint64()
	}
	w.Stream("client/1")
	s := w.Stream("server/3")
	require.Same(t, s, w.Stream("server/3"), "one stream per name")
	got := make([]uint64, 8)
	for i := range got {
		got[i] = s.Uint64()
	}
	require.Equal(t, draw(7, "server/3"), got)
}

// TestAddingANodeLeavesOtherLinksUnchanged runs the same traffic 1 -> 2 in a 2-node world
// and in a 3-node world where node 3 also talks to both: link 1->2's delivery times must
// be identical, because each link direction has its own stream "net/a->b".
func TestAddingANodeLeavesOtherLinksUnchanged(t *testing.T) {
	run := func(three bool) []entry {
		ids := []NodeID{1, 2}
		if three {
			ids = append(ids, 3)
		}
		w, rs := newTestWorld(t, Config{Seed: 42, LatencyMean: 5 * Millisecond}, ids...)
		var c13, c32 ConnID
		if three {
			c13 = w.Dial(1, 3)
			c32 = w.Dial(3, 2)
		}
		c12 := w.Dial(1, 2)
		for i := 0; i < 200; i++ {
			w.Send(c12, 1, msg(i))
			if three {
				w.Send(c13, 1, msg(1000+i))
				w.Send(c32, 3, msg(2000+i))
				w.Stream("workload").Uint64()
			}
			w.RunFor(Time(i%7) * Millisecond)
		}
		w.RunFor(Second)
		var out []entry
		for _, e := range rs[2].only("recv") {
			if e.Conn == c12 {
				e.Conn = 0
				out = append(out, e)
			}
		}
		if three {
			require.Len(t, rs[3].only("recv"), 200)
			require.Len(t, rs[2].only("recv"), 400)
		}
		return out
	}
	two, three := run(false), run(true)
	require.Len(t, two, 200)
	require.Equal(t, two, three)
	// The latency really is random: delivery times are not whole milliseconds as the
	// send times are.
	distinct := map[Time]bool{}
	for _, e := range two {
		distinct[e.At%Millisecond] = true
	}
	require.Greater(t, len(distinct), 10)
}

// ---- nodes: crash, restart, pause ----

func TestCrashCancelsTimersAndClosesConnections(t *testing.T) {
	w, rs := newTestWorld(t, fixed(1, 2*Millisecond), 1, 2)
	c := w.Dial(1, 2)
	w.RunFor(10 * Millisecond)
	require.Equal(t, []ConnID{c}, rs[2].accepted)
	w.SetTimer(1, 0, 100*Millisecond)
	w.Send(c, 1, msg(1))
	w.Send(c, 2, msg(100)) // towards the node about to crash: lost
	w.RunFor(Millisecond)
	w.Send(c, 1, msg(2))
	require.NoError(t, w.Crash(1)) // at 11ms, with m1 and m2 in flight towards 2
	require.False(t, w.IsUp(1))
	require.False(t, w.TimerArmed(1, 0))
	require.False(t, w.IsOpen(c, 1))
	require.Equal(t, 1, rs[1].crashes)
	require.False(t, w.Send(c, 1, msg(3)), "a crashed node's end is closed")
	w.RunFor(Second)

	require.Empty(t, rs[1].timers, "a crashed node's timer fired")
	require.Empty(t, rs[1].only("recv"))
	// A process kill: the peer gets what was in flight, then the end-of-stream at once.
	require.Equal(t, []entry{
		{At: 12 * Millisecond, What: "recv", Conn: c, M: 1},
		{At: 13 * Millisecond, What: "recv", Conn: c, M: 2},
		{At: 13 * Millisecond, What: "closed", Conn: c},
	}, rs[2].log[2:])
	require.False(t, w.WasReset(c, 2), "an orderly end-of-stream (FIN)")
	require.False(t, w.IsOpen(c, 2))
	drops := records(w, RecDrop)
	require.Len(t, drops, 1)
	require.Equal(t, Message(msg(100)), drops[0].Data)
}

func TestCrashCloseComesAfterSlowData(t *testing.T) {
	// Data in flight still arrives before the end of stream.
	w, rs := newTestWorld(t, fixed(1, 300*Millisecond), 1, 2)
	c := w.Dial(1, 2)
	w.RunFor(time300)
	w.Send(c, 1, msg(1))
	require.NoError(t, w.Crash(1))
	w.RunFor(Second)
	require.Equal(t, []entry{
		{At: 600 * Millisecond, What: "recv", Conn: c, M: 1},
		{At: 600 * Millisecond, What: "closed", Conn: c},
	}, rs[2].log[2:])
}

const time300 = 300 * Millisecond

func TestRestartKeepsOnlyDurableRecords(t *testing.T) {
	w, rs := newTestWorld(t, fixed(1, Millisecond), 1, 2)
	d := w.Disk(1)
	d.Append("log", "a")
	d.Append("log", "b")
	tok := w.Fsync(1)
	w.RunFor(10 * Millisecond)
	require.Equal(t, []uint64{tok}, rs[1].fsyncs)
	d.Append("log", "c")
	require.NoError(t, w.CrashAs(1, HostLoss))
	recs, torn := d.Records("log")
	require.Equal(t, []any{"a", "b"}, recs)
	require.False(t, torn)

	// A crashed node can be restarted; it is not crashed twice.
	err := w.Crash(1)
	require.EqualError(t, err, `invalid crash "1": node is not running`)
	require.NoError(t, w.Restart(1))
	require.True(t, w.IsUp(1))
	require.Equal(t, 1, rs[1].restarts)
	require.Equal(t, 2, rs[1].starts)
	require.Same(t, d, w.Disk(1), "the disk survives the crash")
	recs, _ = d.Records("log")
	require.Equal(t, []any{"a", "b"}, recs)
	require.Len(t, records(w, RecRestart), 1)

	// Connections work again after the restart: node 2 dials the new incarnation.
	c := w.Dial(2, 1)
	w.Send(c, 2, msg(5))
	w.RunFor(Second)
	require.Equal(t, []msg{5}, rs[1].got)
	err = w.Start(1)
	require.EqualError(t, err, `invalid start "1": node is already running`)
}

// Resuming hands over what the sockets and the disk held, in arrival order, then the timers
// that expired: every thread wakes at once, and a read with data waiting returns it.
func TestPauseHoldsAndResumeHandsOverInArrivalOrder(t *testing.T) {
	w, rs := newTestWorld(t, fixed(1, 2*Millisecond), 1, 2)
	r := rs[2]
	c := w.Dial(1, 2)
	w.RunFor(10 * Millisecond) // accepted at 2ms
	require.NoError(t, w.Pause(2))
	require.True(t, w.IsPaused(2))
	require.True(t, w.IsUp(2))
	w.Send(c, 1, msg(1))               // arrives at 12ms
	w.SetTimer(2, 4, 2500*Microsecond) // fires at 12.5ms
	w.RunFor(Millisecond)
	w.Send(c, 1, msg(2)) // arrives at 13ms
	w.RunFor(3 * Millisecond)
	w.Send(c, 1, msg(3)) // arrives at 16ms
	w.RunFor(6 * Millisecond)
	require.Len(t, r.log, 2, "a paused node saw something: %v", r.log)
	require.Error(t, w.Pause(2), "pausing twice")

	w.Send(c, 1, msg(4)) // sent before the resume, arrives after it: FIFO behind the held ones
	w.RunFor(Millisecond)
	require.NoError(t, w.Resume(2)) // at 21ms
	require.False(t, w.IsPaused(2))
	resume := 21 * Millisecond
	require.Equal(t, []entry{
		{At: resume, What: "recv", Conn: c, M: 1},
		{At: resume, What: "recv", Conn: c, M: 2},
		{At: resume, What: "recv", Conn: c, M: 3},
		{At: resume, What: "timer", N: 4},
	}, r.log[2:])
	w.RunFor(Second)
	require.Equal(t, entry{At: 22 * Millisecond, What: "recv", Conn: c, M: 4}, r.log[6])
	require.Equal(t, []msg{1, 2, 3, 4}, r.got)
	require.EqualError(t, w.Resume(2), `invalid resume "2": node is not paused`)
}

func TestPausedNodeKeepsFIFOUnderRandomLatency(t *testing.T) {
	w, rs := newTestWorld(t, Config{Seed: 3, LatencyMean: 20 * Millisecond}, 1, 2)
	c := w.Dial(1, 2)
	w.RunFor(Second)
	rng := w.Stream("workload")
	n := 0
	for round := 0; round < 10; round++ {
		require.NoError(t, w.Pause(2))
		for i := 0; i < 30; i++ {
			w.Send(c, 1, msg(n))
			n++
			w.RunFor(Time(rng.IntN(5)) * Millisecond)
		}
		require.NoError(t, w.Resume(2))
		for i := 0; i < 30; i++ {
			w.Send(c, 1, msg(n))
			n++
			w.RunFor(Time(rng.IntN(5)) * Millisecond)
		}
	}
	w.RunFor(Second)
	require.Len(t, rs[2].got, n)
	for i, m := range rs[2].got {
		require.Equal(t, msg(i), m)
	}
}

func TestCrashWhilePausedDropsWhatWaited(t *testing.T) {
	w, rs := newTestWorld(t, fixed(1, Millisecond), 1, 2)
	c := w.Dial(1, 2)
	w.RunFor(5 * Millisecond)
	require.NoError(t, w.Pause(2))
	w.Send(c, 1, msg(1))
	w.SetTimer(2, 0, Millisecond)
	c2 := w.Dial(1, 2) // its SYN waits at the paused node
	w.RunFor(5 * Millisecond)
	require.NoError(t, w.Crash(2))
	require.False(t, w.IsPaused(2))
	require.EqualError(t, w.Resume(2), `invalid resume "2": node is not paused`)
	w.RunFor(Second)
	require.NoError(t, w.Restart(2))
	w.RunFor(Second)
	require.Empty(t, rs[2].only("recv"))
	require.Empty(t, rs[2].only("timer"))
	require.Equal(t, []ConnID{c}, rs[2].accepted)
	// The dialer of the connection that was never accepted is refused; the accepted one
	// sees the crash.
	require.ElementsMatch(t, []ConnID{c, c2}, rs[1].closed)
	// The message that waited in the paused node is recorded as lost.
	drops := records(w, RecDrop)
	require.Len(t, drops, 1)
	require.Equal(t, Message(msg(1)), drops[0].Data)
}

// ---- bad input ----

func TestBadInputIsRefusedWithANamedError(t *testing.T) {
	w, _ := newTestWorld(t, Config{Seed: 1}, 1, 2)
	require.NoError(t, w.Add(3, &recorder{w: w, id: 3})) // added, never started
	cases := []struct {
		name string
		err  func() error
		want string
	}{
		{"LatencyMin", func() error { _, err := NewWorld(Config{LatencyMin: -5 * Millisecond}); return err },
			`invalid LatencyMin "-5ms": must not be negative`},
		{"LatencyMean", func() error { _, err := NewWorld(Config{LatencyMean: -2}); return err },
			`invalid LatencyMean "-2ns": must not be negative`},
		{"FsyncLatency", func() error { _, err := NewWorld(Config{FsyncLatency: -Millisecond}); return err },
			`invalid FsyncLatency "-1ms": must not be negative`},
		{"CrashDisk", func() error { _, err := NewWorld(Config{CrashDisk: 9}); return err },
			`invalid CrashDisk "9": unknown disk policy`},
		{"SetLatency min", func() error { return w.SetLatency(1, 2, -Millisecond, 0) },
			`invalid latency min "-1ms": must not be negative`},
		{"SetLatency mean", func() error { return w.SetLatency(1, 2, Millisecond, -3*Millisecond) },
			`invalid latency mean "-3ms": must not be negative`},
		{"SetLatency node", func() error { return w.SetLatency(1, 9, Millisecond, 0) },
			`invalid latency node "9": no such node`},
		{"SetUnsafe drop", func() error { return w.SetUnsafe(Unsafe{Drop: 1.5}) },
			`invalid unsafe drop probability "1.5": must be in [0,1]`},
		{"SetUnsafe duplicate", func() error { return w.SetUnsafe(Unsafe{Duplicate: -0.1}) },
			`invalid unsafe duplicate probability "-0.1": must be in [0,1]`},
		{"SetUnsafe reorder NaN", func() error { return w.SetUnsafe(Unsafe{Reorder: math.NaN()}) },
			`invalid unsafe reorder probability "NaN": must be in [0,1]`},
		{"SetUnsafe Inf", func() error { return w.SetUnsafe(Unsafe{Drop: math.Inf(1)}) },
			`invalid unsafe drop probability "+Inf": must be in [0,1]`},
		{"Partition unknown", func() error { return w.Partition([]NodeID{1}, []NodeID{2, 7}, false) },
			`invalid partition node "7": no such node`},
		{"Partition empty", func() error { return w.Partition([]NodeID{1, 2}, nil, false) },
			`invalid partition "{1,2} | {}": each side must name at least one node`},
		{"Partition empty one-way", func() error { return w.Partition(nil, []NodeID{1}, true) },
			`invalid partition "{} -> {1}": each side must name at least one node`},
		{"Heal unknown", func() error { return w.Heal([]NodeID{-1}, []NodeID{2}, true) },
			`invalid heal node "-1": no such node`},
		{"Heal empty", func() error { return w.Heal([]NodeID{1}, []NodeID{}, true) },
			`invalid heal "{1} -> {}": each side must name at least one node`},
		{"Clog unknown", func() error { return w.Clog([]NodeID{8}, []NodeID{2}, true, Second) },
			`invalid clog node "8": no such node`},
		{"Clog empty", func() error { return w.Clog(nil, nil, false, Second) },
			`invalid clog "{} | {}": each side must name at least one node`},
		{"Clog past", func() error { w.RunUntil(Second); return w.Clog([]NodeID{1}, []NodeID{2}, true, Millisecond) },
			`invalid clog until "1ms": is in the past (now 1s)`},
		{"Add duplicate", func() error { return w.Add(1, &recorder{}) },
			`invalid node id "1": already added`},
		{"Add negative", func() error { return w.Add(-1, &recorder{}) },
			`invalid node id "-1": must be in [0, 65536)`},
		{"Add too large", func() error { return w.Add(MaxNodeID, &recorder{}) },
			`invalid node id "65536": must be in [0, 65536)`},
		{"Crash never started", func() error { return w.Crash(3) },
			`invalid crash "3": node is not running`},
		{"Crash unknown", func() error { return w.Crash(12) },
			`invalid node "12": no such node`},
		{"Pause never started", func() error { return w.Pause(3) },
			`invalid pause "3": node is not running or already paused`},
		{"Start unknown", func() error { return w.Start(40000) },
			`invalid node "40000": no such node`},
		{"ResetConn unknown", func() error { return w.ResetConn(99) },
			`invalid connection "99": no such connection`},
		{"ResetAll unknown", func() error { return w.ResetAll(99) },
			`invalid node "99": no such node`},
		{"ParseTime negative", func() error { _, err := ParseTime("-3s"); return err },
			`invalid duration "-3s": must not be negative`},
		{"ParseTime garbage", func() error { _, err := ParseTime("soon"); return err },
			`invalid duration "soon": not a duration like 2s or 150ms`},
		{"ParseDiskPolicy", func() error { _, err := ParseDiskPolicy("fast"); return err },
			`invalid disk policy "fast": want lose-unsynced, keep-all or tear-last`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = tc.err() })
			require.EqualError(t, err, tc.want)
			var se *SettingError
			require.ErrorAs(t, err, &se)
		})
	}
	// Nothing of the refused settings took effect.
	require.False(t, w.Partitioned(1, 2))
	require.False(t, w.Partitioned(2, 1))
	require.Equal(t, []NodeID{1, 2, 3}, w.Nodes())
	require.False(t, w.IsUp(3))
}

func TestParseTimeAndPolicies(t *testing.T) {
	for in, want := range map[string]Time{"2s": 2 * Second, "150ms": 150 * Millisecond, "1m30s": 90 * Second, " 42ns ": 42, "0": 0} {
		got, err := ParseTime(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	// A bare number is refused: it silently meant nanoseconds.
	_, err := ParseTime("5")
	require.EqualError(t, err, `invalid duration "5": a duration needs its unit: ns, us, ms, s, m or h (like 5s or 150ms)`)
	for _, p := range []DiskPolicy{LoseUnsynced, KeepAll, TearLastRecord} {
		got, err := ParseDiskPolicy(p.String())
		require.NoError(t, err)
		require.Equal(t, p, got)
	}
	require.Equal(t, "DiskPolicy(7)", DiskPolicy(7).String())
	require.Equal(t, "1.5s", (1500 * Millisecond).String())
	require.Equal(t, "never", Never.String())
	require.Equal(t, 1.5, (1500 * Millisecond).Seconds())
}

func TestConfigDefaults(t *testing.T) {
	w := MustWorld(Config{Seed: 9})
	cfg := w.Config()
	require.Equal(t, Millisecond, cfg.LatencyMin)
	require.Equal(t, Millisecond, cfg.LatencyMean)
	require.Equal(t, 2*Millisecond, cfg.FsyncLatency)
	require.Equal(t, LoseUnsynced, cfg.CrashDisk)
	require.Equal(t, uint64(9), w.Seed())
	require.Equal(t, Time(0), MustWorld(Config{LatencyMean: ZeroLatencyMean}).Config().LatencyMean)
	require.Panics(t, func() { MustWorld(Config{LatencyMin: -1}) })
}

// A timer re-armed on every message (a learner's read timeout) leaves one entry in the
// queue, not one per arming, and still fires at its last deadline, in the place its last
// arming gives it among the timers of that instant; an earlier re-arm fires early; only
// the timers that fire are events.
func TestReArmedTimerKeepsItsPlace(t *testing.T) {
	w, _ := newTestWorld(t, Config{Seed: 1}, 1, 2)
	var fired []string
	w.Trace().Observers = append(w.Trace().Observers, func(r *Record) {
		if r.Kind == RecTimer {
			fired = append(fired, fmt.Sprintf("%v node %d kind %v", r.At, r.Node, r.Data))
		}
	})
	w.SetTimer(1, 0, 10*Millisecond)
	w.SetTimer(2, 0, 10*Millisecond)
	w.RunUntil(5 * Millisecond)
	w.SetTimer(1, 0, 5*Millisecond) // the same instant as 2's, armed after it: fires after it
	for i := range 1000 {
		w.SetTimer(2, 1, Time(20+i)*Millisecond)
	}
	w.SetTimer(1, 2, 50*Millisecond)
	w.SetTimer(1, 2, 7*Millisecond)
	w.SetTimer(1, 3, 8*Millisecond)
	w.CancelTimer(1, 3)
	require.LessOrEqual(t, w.Pending(), 6, "one entry per timer, plus the one replaced by an earlier deadline")
	events := w.Events()
	w.RunUntil(2 * Second)
	require.Equal(t, []string{"10ms node 2 kind 0", "10ms node 1 kind 0", "12ms node 1 kind 2", "1.024s node 2 kind 1"}, fired)
	require.Equal(t, events+4, w.Events(), "only the timers that fired are events")
	require.Zero(t, w.Pending())
}
