package sim

import "errors"

// Memory is where a World makes its connection table, for the next World to make its own
// in the same arrays once Reset has cleared them: an explorer runs thousands of short
// schedules one after another, each read only for its summary, and each one's connections
// (elections and reconnections dial a few hundred) were a tenth of its bytes. A World in a
// Memory keeps every array it takes until Reset (Config.Memory).
type Memory struct {
	conns  chunks[conn]     // the table's chunks of connChunk connections
	queues chunks[inflight] // the arrays new connections' first queues are cut from
	inUse  bool
}

// Reset clears every array the World made in m, for the next World to take. Nothing of the
// World's run may be read afterwards: its connections are cleared too.
func (m *Memory) Reset() {
	m.conns.reset()
	m.queues.reset()
	m.inUse = false
}

// take marks m used by a new World (nil: memory of the World's own).
func (m *Memory) take() error {
	if m == nil {
		return nil
	}
	if m.inUse {
		return errors.New("sim: the memory is in use by another World (Reset it once that run is done)")
	}
	m.inUse = true
	return nil
}

// connChunk is a chunk of the connection table: m's next, or a new one.
func (m *Memory) connChunk() []conn {
	if m == nil {
		return make([]conn, connChunk)
	}
	return m.conns.get(connChunk)
}

// queueChunk is an array to cut new connections' first queues from (see DialPort).
func (m *Memory) queueChunk() []inflight {
	if m == nil {
		return make([]inflight, connChunk*2*dirStart)
	}
	return m.queues.get(connChunk * 2 * dirStart)
}

// chunks hands out arrays of one length: the ones handed out before the last reset,
// cleared, then new ones.
type chunks[T any] struct {
	made [][]T
	next int // made[:next] are handed out
}

func (c *chunks[T]) get(n int) []T {
	if c.next == len(c.made) {
		c.made = append(c.made, make([]T, n))
	}
	c.next++
	return c.made[c.next-1]
}

func (c *chunks[T]) reset() {
	for _, a := range c.made[:c.next] {
		clear(a)
	}
	c.next = 0
}
