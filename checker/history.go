package checker

import (
	"slices"
	"sort"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// A history is a sequence of txns, as zxid and value-hash arrays with a rolling prefix hash:
// ph[k] identifies the first k txns, so two histories agree on their first k txns exactly
// when their ph[k] are equal (barring a 64-bit collision). Every prefix comparison the
// checks make is then O(1), and finding where two histories part is a binary search.
//
// Sharing: a history is only ever appended to, or cut back in place to a length that no
// saved view (histView) extends past; a server's history that is replaced (a load, a SNAP)
// gets new arrays. A histView taken earlier therefore stays valid for ever.
type history struct {
	zx []model.Zxid
	hs []uint64
	ph []uint64 // len(zx)+1 entries; ph[0] = phSeed
	p  *pools   // where its arrays grow
}

const (
	phSeed = 0x243f6a8885a308d3 // pi in hex
	phMul  = 0x9e3779b97f4a7c15
)

// phNext extends a prefix hash by one txn.
func phNext(h uint64, z model.Zxid, v uint64) uint64 {
	h = (h ^ uint64(z)) * phMul
	h ^= h >> 31
	h = (h ^ v) * phMul
	return h ^ h>>29
}

func newHistory(p *pools, capacity int) history {
	h := history{
		zx: p.zx.Grow(nil, capacity),
		hs: p.words.Grow(nil, capacity),
		ph: append(p.words.Grow(nil, capacity+1), phSeed),
		p:  p,
	}
	return h
}

func (h *history) n() int { return len(h.zx) }

func (h *history) last() model.Zxid {
	if len(h.zx) == 0 {
		return 0
	}
	return h.zx[len(h.zx)-1]
}

func (h *history) push(z model.Zxid, v uint64) {
	h.zx = appendIn(h.p.zx, h.zx, z)
	h.hs = appendIn(h.p.words, h.hs, v)
	h.ph = appendIn(h.p.words, h.ph, phNext(h.ph[len(h.ph)-1], z, v))
}

// pools are the arrays the checker grows: from its World's Memory if the World has one
// (sim.Pool), for the next run's checker to grow its own in once it is Reset; else (nil
// pools) plain arrays, as append grows them.
type pools struct {
	zx      *sim.Arrays[model.Zxid]
	words   *sim.Arrays[uint64]
	times   *sim.Arrays[sim.Time]
	ints    *sim.Arrays[int]
	epochs  *sim.Arrays[int64]
	ops     *sim.Arrays[linOp]
	changes *sim.Arrays[pathChange]
	props   *sim.Arrays[propEntry]
}

func poolsIn(m *sim.Memory) pools {
	return pools{zx: sim.Pool[model.Zxid](m), words: sim.Pool[uint64](m), times: sim.Pool[sim.Time](m),
		ints: sim.Pool[int](m), epochs: sim.Pool[int64](m), ops: sim.Pool[linOp](m),
		changes: sim.Pool[pathChange](m), props: sim.Pool[propEntry](m)}
}

// appendIn appends v to s, growing it in a's arrays (nil: as append does).
func appendIn[T any](a *sim.Arrays[T], s []T, v T) []T {
	if len(s) == cap(s) {
		s = a.Grow(s, len(s)+1)
	}
	return append(s, v)
}

// cut shortens h to n txns in place (only past every saved view, see history).
func (h *history) cut(n int) {
	h.zx, h.hs, h.ph = h.zx[:n], h.hs[:n], h.ph[:n+1]
}

// view is the first n txns of h.
func (h *history) view(n int) histView {
	return histView{zx: h.zx[:n], hs: h.hs[:n], ok: true}
}

// histView is a frozen prefix of some history: a snapshot's content, or what a SNAP shipped.
type histView struct {
	zx []model.Zxid
	hs []uint64
	ok bool
}

// agree reports whether a and b have the same first k txns (both must have at least k).
func agree(a, b *history, k int) bool { return a.ph[k] == b.ph[k] }

// commonPrefix is the length of the longest common prefix of a and b.
func commonPrefix(a, b *history) int {
	m := min(a.n(), b.n())
	if agree(a, b, m) {
		return m
	}
	// ph[0] always agrees; find the largest k <= m with agreement.
	return sort.Search(m+1, func(k int) bool { return !agree(a, b, k) }) - 1
}

// searchZxid is the first index i of h with h.zx[i] >= z (h.n() if none). Histories of a
// correct run are zxid-sorted; on one that is not, the answer is only approximate.
func (h *history) searchZxid(z model.Zxid) int {
	return sort.Search(len(h.zx), func(i int) bool { return h.zx[i] >= z })
}

// global is G, the global committed log, with where and when each entry became committed,
// and in which epoch: the highest epoch established by then (never decreasing along G).
type global struct {
	history
	at  []sim.Time
	rec []int
	ep  []int64
}

func (g *global) push(z model.Zxid, v uint64, at sim.Time, rec int, epoch int64) {
	g.history.push(z, v)
	g.at = appendIn(g.p.times, g.at, at)
	g.rec = appendIn(g.p.ints, g.rec, rec)
	if n := len(g.ep); n > 0 {
		epoch = max(epoch, g.ep[n-1])
	}
	g.ep = appendIn(g.p.epochs, g.ep, epoch)
}

// committedBefore is the number of G's first entries committed in epochs before e.
func (g *global) committedBefore(e int64) int {
	return sort.Search(len(g.ep), func(i int) bool { return g.ep[i] >= e })
}

// clog is a model of the leader's in-memory committedLog (ZKDatabase.committedLog) as the
// trace shows it: fed by every commit applied through processTxn (Committed records except
// the in-memory "sync" applies of a SNAP/TRUNC sync) and by the txns a load replays, cleared
// by every load and by a SNAP, and trimmed before each append to commitLogCount+1 entries.
type clog struct {
	zx   []model.Zxid
	head int
}

func (c *clog) clear() { c.zx, c.head = c.zx[:0], 0 }

func (c *clog) add(p *pools, z model.Zxid, count int) {
	if len(c.zx)-c.head > count {
		c.head++
		if c.head > 1024 && c.head > len(c.zx)/2 {
			n := copy(c.zx, c.zx[c.head:])
			c.zx, c.head = c.zx[:n], 0
		}
	}
	if c.zx == nil {
		c.zx = p.zx.Grow(nil, 64) // as a history's
	}
	c.zx = appendIn(p.zx, c.zx, z)
}

func (c *clog) entries() []model.Zxid { return c.zx[c.head:] }

// fromPeer returns the first entry >= peer (0 if none) and the last entry before it that is
// below peer (-1 if none): what queueCommittedProposals meets first, and its
// prevProposalZxid.
func fromPeer(zx []model.Zxid, peer model.Zxid) (next, prev model.Zxid) {
	i := sort.Search(len(zx), func(i int) bool { return zx[i] >= peer })
	next, prev = 0, -1
	if i < len(zx) {
		next = zx[i]
	}
	if i > 0 {
		prev = zx[i-1]
	}
	return next, prev
}

// byID is a table of T by node id (servers and clients): a slice for the ids a run uses,
// which are small, and a map for any other id a hand-made trace may carry.
type byID[T any] struct {
	near []*T
	far  map[int64]*T
}

func (b *byID[T]) get(id int64) *T {
	if id >= 0 && id < int64(len(b.near)) {
		return b.near[id]
	}
	if id >= 0 && id < sim.MaxNodeID {
		return nil
	}
	return b.far[id]
}

func (b *byID[T]) put(id int64, v *T) {
	if id >= 0 && id < sim.MaxNodeID {
		if int64(len(b.near)) <= id {
			b.near = slices.Grow(b.near, int(id)+1-len(b.near))[:id+1] // once for a client's id of 1000
		}
		b.near[id] = v
		return
	}
	if b.far == nil {
		b.far = map[int64]*T{}
	}
	b.far[id] = v
}

// each calls f on every entry in ascending id order.
func (b *byID[T]) each(f func(int64, *T)) {
	var ids []int64
	for id := range b.far {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	i := 0
	for ; i < len(ids) && ids[i] < 0; i++ {
		f(ids[i], b.far[ids[i]])
	}
	for id, v := range b.near {
		if v != nil {
			f(int64(id), v)
		}
	}
	for ; i < len(ids); i++ {
		f(ids[i], b.far[ids[i]])
	}
}
