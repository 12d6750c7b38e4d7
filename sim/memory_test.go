package sim

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// memoryRun dials 70 connections (three chunks of the table) between three nodes, sends a
// message on each and runs until all are delivered, in mem (nil: memory of its own). It
// also grows each array a World grows as it runs: a node 1000 (the node table), forty
// messages on one connection (its queue), a timer of kind 40, a log file of 20 records (the
// file and its records), the record batches and the nodes' lists of connections. It
// returns the trace hash and the first chunk of the table.
func memoryRun(t *testing.T, mem *Memory) (string, *conn) {
	cfg := Config{Seed: 3, Memory: mem}
	w, rs := newTestWorld(t, cfg, 1, 2, 3, 1000)
	batched := w.Trace().Len() // the records before the observer
	w.Trace().AddBatchObserver(func(_ int, recs []Record) { batched += len(recs) })
	for i := range 70 {
		from, to := NodeID(1+i%3), NodeID(1+(i+1)%3)
		c := w.Dial(from, to)
		w.Send(c, from, msg(i))
	}
	c := w.Dial(1, 1000)
	for i := range 40 {
		w.Send(c, 1, msg(i))
	}
	w.SetTimer(1000, 40, Second/2)
	for i := range 20 {
		w.Disk(2).AppendBuffered("log.1", i)
	}
	w.RunFor(Second)
	w.Trace().Flush()
	got := 0
	for _, r := range rs {
		got += len(r.got)
	}
	require.Equal(t, 110, got, "messages delivered")
	require.Equal(t, w.Trace().Len(), batched, "records batched")
	return w.Trace().HashString(), &w.net.chunks[0][0]
}

// grown counts the arrays a handed out, and checks that those reset are zero.
func grown[T comparable](t *testing.T, a *Arrays[T]) (made, next int) {
	var zero T
	for k := range a.sizes {
		for _, arr := range a.sizes[k].made[a.sizes[k].next:] {
			for i := range arr {
				require.Equal(t, zero, arr[i], "a value left in a reset array")
			}
		}
	}
	return a.Made()
}

// The arrays a World grows as it runs come from its Memory, and the next World in it takes
// the same ones again, cleared.
func TestWorldGrowsInMemory(t *testing.T) {
	want, _ := memoryRun(t, nil)
	m := &Memory{}
	hash, _ := memoryRun(t, m)
	require.Equal(t, want, hash)
	counts := func() [7][2]int {
		var c [7][2]int
		c[0][0], c[0][1] = grown(t, &m.inflights)
		c[1][0], c[1][1] = grown(t, &m.recs)
		c[2][0], c[2][1] = grown(t, &m.records)
		c[3][0], c[3][1] = grown(t, &m.slots)
		c[4][0], c[4][1] = grown(t, &m.timers)
		c[5][0], c[5][1] = grown(t, &m.connIDs)
		c[6][0], c[6][1] = len(m.files.made), m.files.next
		return c
	}
	first := counts()
	for i, c := range first {
		require.Positive(t, c[0], "arrays of kind %d made outside the memory", i)
	}
	m.Reset()
	for _, c := range counts() {
		require.Zero(t, c[1], "arrays still handed out after a reset")
	}
	hash, _ = memoryRun(t, m)
	require.Equal(t, want, hash)
	require.Equal(t, first, counts(), "the second World made new arrays, or took fewer")
}

// A World in a reset Memory runs as one in memory of its own, in the same arrays; a
// Memory serves one World at a time.
func TestWorldInMemory(t *testing.T) {
	want, _ := memoryRun(t, nil)
	m := &Memory{}
	hash, first := memoryRun(t, m)
	require.Equal(t, want, hash)
	_, err := NewWorld(Config{Memory: m})
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "in use"), err.Error())
	m.Reset()
	require.Zero(t, m.conns.made[0][5], "a connection left in a reset chunk")
	hash, again := memoryRun(t, m)
	require.Equal(t, want, hash)
	require.Same(t, first, again, "the second World made a new table")
	require.Equal(t, 3, m.conns.next)
}

// Pool hands a run's other parts (the checker) arrays of their own types from the World's
// Memory: one pool per type, none outside a Memory (Grow then grows as append does), and
// after a Reset the same arrays again, cleared.
func TestPool(t *testing.T) {
	require.Nil(t, Pool[int](nil))
	require.Nil(t, Pool[int](ownMemory))
	w := MustWorld(Config{})
	require.Nil(t, w.Trace().Memory(), "a World of its own has no Memory to lend")
	var nilPool *Arrays[int]
	s := nilPool.Grow([]int{1, 2}, 3)
	require.Equal(t, []int{1, 2}, s)
	require.GreaterOrEqual(t, cap(s), 3)

	m := &Memory{}
	w = MustWorld(Config{Memory: m})
	require.Same(t, m, w.Trace().Memory())
	p := Pool[int](m)
	require.Same(t, p, Pool[int](m), "one pool per type")
	require.NotSame(t, any(p), any(Pool[int64](m)))
	var first *int
	grown := func() {
		var s []int
		for i := range 100 {
			s = append(p.Grow(s, len(s)+1), i)
		}
		require.Len(t, s, 100)
		for i, v := range s {
			require.Equal(t, i, v)
		}
		first = &s[0]
	}
	grown()
	made, out := p.Made()
	require.Positive(t, made)
	require.Equal(t, made, out)
	last := first
	m.Reset()
	_, out = p.Made()
	require.Zero(t, out)
	grown()
	again, _ := p.Made()
	require.Equal(t, made, again, "the second run made new arrays")
	require.Same(t, last, first, "the second run's list is not in the first one's array")
}
