package sim

// eventKind says what an event does when it fires.
type eventKind uint8

const (
	evTimer   eventKind = iota + 1 // a node's timer of kind arg fires
	evDeliver                      // the head of connection arg's direction gen is due
	evFsync                        // a node's disk finishes an fsync
	evCall                         // run w.calls[arg]
)

// event is a value in the queue: no pointers, so pushing and popping never allocate and
// the garbage collector never scans the heap's backing array.
type event struct {
	at   Time
	seq  uint64 // global insertion counter: ties at one instant fire in insertion order
	gen  uint64 // kind-specific: timer serial, fsync token, direction index
	node NodeID
	arg  int32
	kind eventKind
}

func (e *event) before(o *event) bool {
	return e.at < o.at || (e.at == o.at && e.seq < o.seq)
}

// eventQueue is a binary min-heap of events ordered by (at, seq). It is written out by
// hand rather than with container/heap, which would box every event in an interface.
type eventQueue struct {
	h []event
}

func (q *eventQueue) Len() int { return len(q.h) }

// peek returns the earliest event; the queue must not be empty.
func (q *eventQueue) peek() *event { return &q.h[0] }

func (q *eventQueue) push(e event) {
	q.h = append(q.h, e)
	h := q.h
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !e.before(&h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = e
}

// pop removes and returns the earliest event; the queue must not be empty.
func (q *eventQueue) pop() event {
	h := q.h
	top := h[0]
	n := len(h) - 1
	last := h[n]
	q.h = h[:n]
	if n == 0 {
		return top
	}
	h = h[:n]
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && h[r].before(&h[c]) {
			c = r
		}
		if !h[c].before(&last) {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = last
	return top
}
