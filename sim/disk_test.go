package sim

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAppendIsVolatileUntilFsyncCompletes(t *testing.T) {
	cfg := fixed(1, Millisecond)
	cfg.FsyncLatency = 5 * Millisecond
	w, rs := newTestWorld(t, cfg, 1)
	d := w.Disk(1)
	d.Append("log", 1)
	d.Append("log", 2)
	require.Equal(t, 2, d.Len("log"))
	require.Equal(t, 0, d.Durable("log"))
	tok := w.Fsync(1)
	d.Append("log", 3) // after the fsync was asked for: not covered by it
	w.RunFor(5*Millisecond - 1)
	require.Equal(t, 0, d.Durable("log"))
	require.Empty(t, rs[1].fsyncs)
	w.RunFor(1)
	require.Equal(t, []entry{{At: 5 * Millisecond, What: "fsync", N: tok}}, rs[1].only("fsync"))
	require.Equal(t, 2, d.Durable("log"))
	require.Equal(t, 3, d.Len("log"))
	require.Equal(t, 0, d.Durable("nosuchfile"))
	require.Equal(t, 0, d.Len("nosuchfile"))
	recs, torn := d.Records("nosuchfile")
	require.Nil(t, recs)
	require.False(t, torn)
}

func TestFsyncsQueue(t *testing.T) {
	cfg := fixed(1, Millisecond)
	cfg.FsyncLatency = 5 * Millisecond
	w, rs := newTestWorld(t, cfg, 1)
	d := w.Disk(1)
	d.Append("log", "a")
	t1 := w.Fsync(1)
	d.Append("log", "b")
	d.Append("epoch", "e")
	t2 := w.Fsync(1)
	w.RunFor(2 * Millisecond)
	d.Append("log", "c")
	t3 := w.Fsync(1)
	require.Equal(t, []uint64{1, 2, 3}, []uint64{t1, t2, t3})
	w.RunUntil(5 * Millisecond)
	require.Equal(t, 1, d.Durable("log"))
	require.Equal(t, 0, d.Durable("epoch"))
	w.RunUntil(10 * Millisecond)
	require.Equal(t, 2, d.Durable("log"))
	require.Equal(t, 1, d.Durable("epoch"))
	w.RunFor(Second)
	require.Equal(t, 3, d.Durable("log"))
	require.Equal(t, []entry{
		{At: 5 * Millisecond, What: "fsync", N: t1},
		{At: 10 * Millisecond, What: "fsync", N: t2},
		{At: 15 * Millisecond, What: "fsync", N: t3},
	}, rs[1].only("fsync"))
	// An idle disk starts the next fsync at once.
	w.Fsync(1)
	t4 := w.Now()
	w.RunFor(Second)
	require.Equal(t, t4+5*Millisecond, rs[1].only("fsync")[3].At)
	require.Equal(t, []string{"epoch", "log"}, d.Names())
}

func crashWith(t *testing.T, policy DiskPolicy) (*Disk, []any, bool) {
	cfg := fixed(1, Millisecond)
	cfg.CrashDisk = policy
	w, _ := newTestWorld(t, cfg, 1)
	d := w.Disk(1)
	d.Append("log", "a")
	d.Append("log", "b")
	w.Fsync(1)
	w.RunFor(Second)
	d.Append("log", "c")
	d.Append("log", "d")
	d.Append("other", "x")
	require.NoError(t, w.CrashAs(1, HostLoss))
	recs, torn := d.Records("log")
	return d, recs, torn
}

func TestCrashPolicies(t *testing.T) {
	t.Run("lose-unsynced", func(t *testing.T) {
		d, recs, torn := crashWith(t, LoseUnsynced)
		require.Equal(t, []any{"a", "b"}, recs)
		require.False(t, torn)
		require.Equal(t, 0, d.Len("other"))
		require.Equal(t, 2, d.Durable("log"))
	})
	t.Run("keep-all", func(t *testing.T) {
		d, recs, torn := crashWith(t, KeepAll)
		require.Equal(t, []any{"a", "b", "c", "d"}, recs)
		require.False(t, torn)
		require.Equal(t, 4, d.Durable("log"))
		require.Equal(t, 1, d.Len("other"))
	})
	t.Run("tear-last", func(t *testing.T) {
		d, recs, torn := crashWith(t, TearLastRecord)
		require.Equal(t, []any{"a", "b", "c"}, recs, "the first unsynced record survives, torn")
		require.True(t, torn)
		require.Equal(t, 3, d.Durable("log"))
		require.True(t, d.RemoveTorn("log"))
		recs, torn = d.Records("log")
		require.Equal(t, []any{"a", "b"}, recs)
		require.False(t, torn)
		require.Equal(t, 2, d.Durable("log"))
		require.False(t, d.RemoveTorn("log"), "only once")
		require.False(t, d.RemoveTorn("nosuchfile"))
		other, otherTorn := d.Records("other")
		require.Equal(t, []any{"x"}, other)
		require.True(t, otherTorn)
	})
	t.Run("tear-last with nothing unsynced", func(t *testing.T) {
		cfg := fixed(1, Millisecond)
		cfg.CrashDisk = TearLastRecord
		w, _ := newTestWorld(t, cfg, 1)
		d := w.Disk(1)
		d.WriteAtomic("epoch", 3)
		require.NoError(t, w.CrashAs(1, HostLoss))
		recs, torn := d.Records("epoch")
		require.Equal(t, []any{3}, recs)
		require.False(t, torn)
	})
}

func TestTruncateAndWriteAtomicAreDurableAtOnce(t *testing.T) {
	w, rs := newTestWorld(t, fixed(1, Millisecond), 1)
	d := w.Disk(1)
	for i := 0; i < 5; i++ {
		d.Append("log", i)
	}
	w.Fsync(1)
	w.RunFor(Second)
	require.Equal(t, 5, d.Durable("log"))
	d.Truncate("log", 3)
	require.Equal(t, 3, d.Len("log"))
	require.Equal(t, 3, d.Durable("log"))
	d.Append("log", 30) // volatile
	d.WriteAtomic("currentEpoch", 7)
	d.WriteAtomic("currentEpoch", 8)
	require.Equal(t, 1, d.Durable("currentEpoch"))
	require.NoError(t, w.CrashAs(1, HostLoss))
	recs, _ := d.Records("log")
	require.Equal(t, []any{0, 1, 2}, recs, "the truncation survives; the unsynced append does not")
	recs, _ = d.Records("currentEpoch")
	require.Equal(t, []any{8}, recs)
	require.NoError(t, w.Restart(1))
	require.Equal(t, 1, rs[1].restarts)

	// Truncate while an fsync is in flight: the fsync cannot make the cut records (or
	// records appended after it was asked for) durable.
	for i := 3; i < 6; i++ {
		d.Append("log", i)
	}
	w.Fsync(1)
	d.Truncate("log", 4)
	d.Append("log", 40)
	d.Append("log", 41)
	w.RunFor(Second)
	require.Equal(t, 4, d.Durable("log"))
	require.Equal(t, 6, d.Len("log"))
	// Truncate beyond the end changes nothing.
	d.Truncate("log", 100)
	require.Equal(t, 6, d.Len("log"))
	require.Equal(t, 4, d.Durable("log"))
}

func TestWriteAtomicAndRemoveWithAnFsyncInFlight(t *testing.T) {
	w, _ := newTestWorld(t, fixed(1, Millisecond), 1)
	d := w.Disk(1)
	for i := 0; i < 3; i++ {
		d.Append("snap", i)
		d.Append("log", i)
	}
	w.Fsync(1) // marks snap and log at 3 records
	d.WriteAtomic("snap", "s")
	d.Append("snap", "volatile") // appended after the fsync was asked for
	d.Remove("log")
	d.Append("log", "new") // a new file after the remove: not covered either
	w.RunFor(Second)
	require.Equal(t, 1, d.Durable("snap"))
	require.Equal(t, 0, d.Durable("log"))
	require.NoError(t, w.CrashAs(1, HostLoss))
	recs, _ := d.Records("snap")
	require.Equal(t, []any{"s"}, recs)
	require.Equal(t, 0, d.Len("log"))
}

func TestCrashCancelsFsyncInProgress(t *testing.T) {
	cfg := fixed(1, Millisecond)
	cfg.FsyncLatency = 10 * Millisecond
	w, rs := newTestWorld(t, cfg, 1)
	d := w.Disk(1)
	d.Append("log", "a")
	w.Fsync(1) // due at 10ms
	w.Fsync(1) // due at 20ms
	w.RunFor(5 * Millisecond)
	require.NoError(t, w.CrashAs(1, HostLoss))
	require.Equal(t, 0, d.Len("log"))
	w.RunFor(Millisecond)
	require.NoError(t, w.Restart(1))
	d.Append("log", "b")
	// The cancelled fsyncs neither complete nor hold the disk: a new one takes
	// FsyncLatency from now, and the old ones (still in the queue at 10ms and 20ms) must
	// not make "b" durable early.
	tok := w.Fsync(1)
	w.RunUntil(16*Millisecond - 1)
	require.Empty(t, rs[1].fsyncs)
	require.Equal(t, 0, d.Durable("log"))
	w.RunFor(Second)
	require.Equal(t, []entry{{At: 16 * Millisecond, What: "fsync", N: tok}}, rs[1].only("fsync"))
	require.Equal(t, 1, d.Durable("log"))
}

func TestFsyncDoneWaitsForAPausedNode(t *testing.T) {
	w, rs := newTestWorld(t, fixed(1, Millisecond), 1)
	d := w.Disk(1)
	d.Append("log", "a")
	require.NoError(t, w.Pause(1))
	tok := w.Fsync(1)
	w.RunFor(10 * Millisecond)
	require.Equal(t, 1, d.Durable("log"), "the kernel completes the fsync of a stopped process")
	require.Empty(t, rs[1].fsyncs)
	require.NoError(t, w.Resume(1))
	require.Equal(t, []entry{{At: 10 * Millisecond, What: "fsync", N: tok}}, rs[1].only("fsync"))
}

// Names is kept between calls: a file made or removed shows in the next list, a list
// returned before stays as it was, and NamesWithPrefix is the sorted run of one prefix.
func TestNamesFollowMakeAndRemove(t *testing.T) {
	d := newDisk(ownMemory)
	d.Append("snap.2", 1)
	d.Append("log.1", 1)
	d.AppendBuffered("log.3", 1)
	d.WriteAtomic("acceptedEpoch", 1)
	before := d.Names()
	require.Equal(t, []string{"acceptedEpoch", "log.1", "log.3", "snap.2"}, before)
	require.Equal(t, []string{"log.1", "log.3"}, d.NamesWithPrefix("log."))
	d.Append("log.2", 1)
	d.Remove("snap.2")
	d.Remove("missing")
	require.Equal(t, []string{"acceptedEpoch", "log.1", "log.2", "log.3"}, d.Names())
	require.Equal(t, []string{"acceptedEpoch", "log.1", "log.3", "snap.2"}, before)
	require.Empty(t, d.NamesWithPrefix("snap."))
	d.Append("snap.5", 1)
	logs := d.NamesWithPrefix("log.")
	require.Equal(t, []string{"log.1", "log.2", "log.3"}, logs)
	// The piece has no room past its end: appending to it leaves the shared list alone.
	require.Len(t, append(logs, "x"), 4)
	require.Equal(t, []string{"acceptedEpoch", "log.1", "log.2", "log.3", "snap.5"}, d.Names())
	d.Remove("log.2")
	require.Equal(t, []string{"log.1", "log.3"}, d.NamesWithPrefix("log."))
}

// An fsync marks the files appended to since the last one, not every file of the disk (a
// long run keeps hundreds of log and snapshot files), and what it makes durable is the
// same: every file's records appended before it, buffered ones too.
func TestFsyncMarksOnlyFilesAppendedTo(t *testing.T) {
	cfg := fixed(1, Millisecond)
	cfg.FsyncLatency = 5 * Millisecond
	w, _ := newTestWorld(t, cfg, 1)
	d := w.Disk(1)
	for i := 0; i < 50; i++ {
		d.Append(fmt.Sprintf("old.%02d", i), i)
	}
	w.Fsync(1)
	require.Len(t, d.pending[0].marks, 50)
	w.RunFor(5 * Millisecond)
	d.AppendBuffered("log", "a")
	d.AppendBuffered("log", "b")
	d.Append("snap", "s")
	w.Fsync(1)
	require.Len(t, d.pending[0].marks, 2, "only log and snap were appended to")
	d.Append("old.07", "again")
	w.Fsync(1)
	require.Len(t, d.pending[1].marks, 1)
	w.RunFor(10 * Millisecond)
	require.Empty(t, d.pending)
	for name, n := range map[string]int{"log": 2, "snap": 1, "old.07": 2, "old.08": 1} {
		require.Equal(t, n, d.Durable(name), name)
	}
	// A crash loses nothing an fsync covered; the next fsync still covers what comes after.
	require.NoError(t, w.Crash(1))
	require.NoError(t, w.Restart(1))
	d.AppendBuffered("log", "c")
	w.Fsync(1)
	w.RunFor(5 * Millisecond)
	require.Equal(t, 3, d.Durable("log"))
}

// A long file grows by doubling: 100,000 appends (a log file of snapCount txns) make at
// most 14 arrays, not the forty-odd of append's quarter steps for a long slice, and keep
// every record in order.
func TestLongFileGrowsByDoubling(t *testing.T) {
	d := newDisk(ownMemory)
	arrays, last := 0, -1
	for i := 0; i < 100_000; i++ {
		d.AppendBuffered("log.1", i)
		if c := cap(d.files["log.1"].recs); c != last {
			arrays, last = arrays+1, c
		}
	}
	require.LessOrEqual(t, arrays, 14)
	recs, _ := d.Records("log.1")
	require.Len(t, recs, 100_000)
	for i, r := range recs {
		if r != i {
			t.Fatalf("record %d is %v", i, r)
		}
	}
	d.Append("snap.1", "s")
	require.Equal(t, 1, cap(d.files["snap.1"].recs), "a snapshot file holds one record")
}
