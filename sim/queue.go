package sim

import "math/bits"

// eventKind says what an event does when it fires.
type eventKind uint8

const (
	evTimer   eventKind = iota + 1 // a node's timer of kind arg fires
	evDeliver                      // the head of connection arg's direction gen is due
	evFsync                        // a node's disk finishes an fsync
	evCall                         // run w.calls[arg]
)

// event is a value in the queue: no pointers, so pushing and popping never allocate and
// the garbage collector never scans the heap's backing array. It is 32 bytes, two to a
// cache line.
type event struct {
	at   Time
	key  uint64 // seq<<8 | kind; seq is a global insertion counter, so ties at one instant fire in insertion order
	gen  uint64 // kind-specific: timer serial, fsync token, direction and epoch
	node NodeID
	arg  int32
}

func (e *event) kind() eventKind { return eventKind(e.key) }

// seqShift places the insertion counter above the kind in event.key. 2^56 events is
// more than any run will process.
const seqShift = 8

// less is 1 if a fires before b, else 0: (at, key) compared as one 128-bit number, with a
// subtract-with-borrow instead of branches. Times are never negative.
func less(a, b *event) uint64 {
	_, borrow := bits.Sub64(a.key, b.key, 0)
	_, borrow = bits.Sub64(uint64(a.at), uint64(b.at), borrow)
	return borrow
}

// eventQueue is a binary min-heap of events ordered by (at, seq). It is written out by
// hand rather than with container/heap, which would box every event in an interface. Two
// things keep it fast: it picks the smaller child without a branch (which child is
// smaller is a coin toss the CPU cannot predict), and it moves events field by field,
// never as whole structs: the compiler copies a 32-byte struct with 16-byte vector moves,
// and reading 8-byte fields back from those stalls store-to-load forwarding.
//
// Step takes the earliest event without removing it (spent): most events queue another
// while they are handled, and the first push then takes the spent event's place with one
// sift down from the top, instead of a pop's sift down and a push's sift up. The order
// events come out in does not change: it is fixed by their (at, seq), all distinct.
type eventQueue struct {
	h     []event
	spent bool // h[0] has been taken: the next push replaces it, settle removes it
}

func (q *eventQueue) Len() int {
	q.settle()
	return len(q.h)
}

// peek returns the earliest event; the queue must not be empty.
func (q *eventQueue) peek() *event {
	q.settle()
	return &q.h[0]
}

// settle removes a spent event that no push replaced.
func (q *eventQueue) settle() {
	if q.spent {
		q.spent = false
		q.popFields()
	}
}

// set stores an event's fields in d, one by one (see eventQueue).
func (d *event) set(at Time, key, gen uint64, node NodeID, arg int32) {
	d.at, d.key, d.gen, d.node, d.arg = at, key, gen, node, arg
}

func (q *eventQueue) push(e event) { q.pushFields(e.at, e.key, e.gen, e.node, e.arg) }

func (q *eventQueue) pushFields(at Time, key, gen uint64, node NodeID, arg int32) {
	if q.spent {
		q.spent = false
		q.down(q.h, at, key, gen, node, arg)
		return
	}
	q.h = append(q.h, event{})
	h := q.h
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		pe := &h[p]
		_, borrow := bits.Sub64(key, pe.key, 0)
		_, borrow = bits.Sub64(uint64(at), uint64(pe.at), borrow)
		if borrow == 0 {
			break
		}
		h[i].set(pe.at, pe.key, pe.gen, pe.node, pe.arg)
		i = p
	}
	h[i].set(at, key, gen, node, arg)
}

// pop removes and returns the earliest event; the queue must not be empty.
func (q *eventQueue) pop() event {
	at, key, gen, node, arg := q.popFields()
	return event{at: at, key: key, gen: gen, node: node, arg: arg}
}

// popFields is pop returning the fields one by one, which the compiler keeps in
// registers (a returned struct goes through the stack; see eventQueue).
func (q *eventQueue) popFields() (at Time, key, gen uint64, node NodeID, arg int32) {
	h := q.h
	t := &h[0]
	at, key, gen, node, arg = t.at, t.key, t.gen, t.node, t.arg
	n := len(h) - 1
	l := &h[n]
	q.h = h[:n]
	if n > 0 {
		q.down(h[:n], l.at, l.key, l.gen, l.node, l.arg)
	}
	return
}

// down places an event at the top of h, whose old top is gone, and sifts it down to its
// place.
func (q *eventQueue) down(h []event, at Time, key, gen uint64, node NodeID, arg int32) {
	n := len(h)
	i := 0
	for {
		c := 2*i + 1
		if c+1 < n {
			c += int(less(&h[c+1], &h[c]))
		} else if c >= n {
			break
		}
		ce := &h[c]
		_, borrow := bits.Sub64(ce.key, key, 0)
		_, borrow = bits.Sub64(uint64(ce.at), uint64(at), borrow)
		if borrow == 0 {
			break
		}
		h[i].set(ce.at, ce.key, ce.gen, ce.node, ce.arg)
		i = c
	}
	h[i].set(at, key, gen, node, arg)
}
