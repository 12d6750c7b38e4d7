package sim

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// memoryRun dials 70 connections (three chunks of the table) between three nodes, sends a
// message on each and runs until all are delivered, in mem (nil: memory of its own). It
// returns the trace hash and the first chunk of the table.
func memoryRun(t *testing.T, mem *Memory) (string, *conn) {
	cfg := Config{Seed: 3, Memory: mem}
	w, rs := newTestWorld(t, cfg, 1, 2, 3)
	for i := range 70 {
		from, to := NodeID(1+i%3), NodeID(1+(i+1)%3)
		c := w.Dial(from, to)
		w.Send(c, from, msg(i))
	}
	w.RunFor(Second)
	got := 0
	for _, r := range rs {
		got += len(r.got)
	}
	require.Equal(t, 70, got, "messages delivered")
	return w.Trace().HashString(), &w.net.chunks[0][0]
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
