package sim

import (
	"errors"
	"math/bits"
	"reflect"
	"slices"
)

// Memory is where a World makes its connection table and the arrays it grows as its run
// goes, for the next World to make its own in the same arrays once Reset has cleared them:
// an explorer runs thousands of short schedules one after another, each read only for its
// summary, and each one's connections (elections and reconnections dial a few hundred) were
// a tenth of its bytes, the arrays it grew (queues in flight, files' records, the record
// batches, the node table, timers) another seventh. A World in a Memory keeps every array
// it takes until Reset (Config.Memory).
type Memory struct {
	conns  chunks[conn]     // the table's chunks of connChunk connections
	queues chunks[inflight] // the arrays new connections' first queues are cut from

	inflights Arrays[inflight] // directions' queues past their first array (direction.q)
	recs      Arrays[any]      // files' records (File.recs)
	records   Arrays[Record]   // the record batches (Trace.batch)
	slots     Arrays[*slot]    // the node table (World.nodes)
	timers    Arrays[timer]    // nodes' timers (slot.timers)
	connIDs   Arrays[ConnID]   // nodes' lists of their connections (slot.conns)
	files     chunks[File]     // the chunks disks' files are cut from (newFile)
	fileBuf   []File           // the rest of the current one

	// pools are the arrays of the run's other parts (Pool), by their element type; poolList
	// lists them in the order made, for Reset
	pools    map[reflect.Type]any
	poolList []interface{ Reset() }

	// own: the World's own memory (no Config.Memory), which keeps nothing: an array
	// outgrown is garbage at once, as a long run needs.
	own   bool
	inUse bool
}

// Reset clears every array the World and the run's other parts (Pool) made in m, for the
// next World to take. Nothing of the run may be read afterwards: its connections, files
// and the checker's histories are cleared too.
func (m *Memory) Reset() {
	m.conns.reset()
	m.queues.reset()
	m.inflights.Reset()
	m.recs.Reset()
	m.records.Reset()
	m.slots.Reset()
	m.timers.Reset()
	m.connIDs.Reset()
	m.files.reset()
	m.fileBuf = nil
	for _, p := range m.poolList {
		p.Reset()
	}
	m.inUse = false
}

// ownMemory is the memory of every World without a Config.Memory: it keeps nothing, so
// it is never written and the Worlds can share it.
var ownMemory = &Memory{own: true}

// take marks m used by a new World, and returns it (nil: ownMemory).
func (m *Memory) take() (*Memory, error) {
	if m == nil {
		return ownMemory, nil
	}
	if m.inUse {
		return nil, errors.New("sim: the memory is in use by another World (Reset it once that run is done)")
	}
	m.inUse = true
	return m, nil
}

// connChunk is a chunk of the connection table: m's next, or a new one.
func (m *Memory) connChunk() []conn {
	if m.own {
		return make([]conn, connChunk)
	}
	return m.conns.get(connChunk)
}

// queueChunk is an array to cut new connections' first queues from (see DialPort).
func (m *Memory) queueChunk() []inflight {
	if m.own {
		return make([]inflight, connChunk*2*dirStart)
	}
	return m.queues.get(connChunk * 2 * dirStart)
}

// newFile is a new empty file.
func (m *Memory) newFile() *File {
	if m.own {
		return &File{}
	}
	if len(m.fileBuf) == 0 {
		m.fileBuf = m.files.get(64)
	}
	f := &m.fileBuf[0]
	m.fileBuf = m.fileBuf[1:]
	return f
}

// grow returns s with room for n elements: s itself if it has the room, else a copy of it
// in a's arrays if m keeps what it makes (see Arrays.Grow), else as append would grow it
// (the World's own memory).
func grow[T any](m *Memory, a *Arrays[T], s []T, n int) []T {
	if m.own {
		a = nil
	}
	return a.Grow(s, n)
}

// Pool is m's arrays of T for a part of the run outside the engine (the checker) to grow
// its own arrays in (Arrays.Grow), reused by the next run once m is Reset; nil if m keeps
// nothing (a World without a Config.Memory), which Grow takes as plain arrays.
func Pool[T any](m *Memory) *Arrays[T] {
	if m == nil || m.own {
		return nil
	}
	t := reflect.TypeFor[T]()
	if p, ok := m.pools[t]; ok {
		return p.(*Arrays[T])
	}
	p := new(Arrays[T])
	if m.pools == nil {
		m.pools = map[reflect.Type]any{}
	}
	m.pools[t] = p
	m.poolList = append(m.poolList, p)
	return p
}

// Grow returns s with room for n elements: s itself if it has the room, else a copy of it
// in an array from a with at least twice its room, or as append would grow it if a is nil.
func (a *Arrays[T]) Grow(s []T, n int) []T {
	if n <= cap(s) {
		return s
	}
	if a == nil {
		return slices.Grow(s, n-len(s))
	}
	g := a.Get(max(n, 2*cap(s)))[:len(s)]
	copy(g, s)
	return g
}

// Arrays hands out arrays by powers of two of their length, each from the chunks of its
// size: those handed out before the last Reset, cleared, then new ones. A World's Memory
// grows its arrays in them, and the model's Memory hands out its own from them.
type Arrays[T any] struct {
	sizes []chunks[T] // sizes[k] holds arrays of 1<<k (as many sizes as asked for so far)
}

// Get is an array of at least n elements (n > 0), all zero.
func (a *Arrays[T]) Get(n int) []T {
	k := bits.Len(uint(n - 1))
	if k >= len(a.sizes) {
		a.sizes = append(a.sizes, make([]chunks[T], k+1-len(a.sizes))...)
	}
	return a.sizes[k].get(1 << k)
}

// Made is how many arrays a has made, and how many of them are handed out now.
func (a *Arrays[T]) Made() (made, out int) {
	for k := range a.sizes {
		made, out = made+len(a.sizes[k].made), out+a.sizes[k].next
	}
	return made, out
}

// Reset makes every array handed out so far, cleared, free for Get again.
func (a *Arrays[T]) Reset() {
	for k := range a.sizes {
		a.sizes[k].reset()
	}
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
