package checker

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// The client-visible checks, on the client records of model/records.go (ClientCall,
// ClientReturn, WatchDelivered, ClientState), the client's SetWatches on the wire, the
// sync requests a leader receives, and the committed state of every znode rebuilt from G.
//
// The committed state. Every txn a leader broadcasts (Proposed, PROPOSAL, INFORM) is kept
// by (zxid, hash); once G (the global committed log, zab.go) holds it, it is applied to a
// per-path history: for each znode the list of (zxid, state) changes, and for each parent
// the list of (zxid, number of children) changes. (This happens lazily, when a reply needs
// it, so a run without clients pays nothing for it.) The state a reply served at zxid Z
// shows is the last change at or before Z. A reply at a zxid G has not reached yet (a new
// leader's txns committed implicitly, with no Committed record so far) waits until G gets
// there. A txn of G whose body the trace never showed leaves the state unknown from its
// zxid on, and no read at or after it is judged.
//
// The checks, each reported at most once per client session (StaleRead and the watch
// checks once per session and path); of ReadYourWrites, SyncRead and SessionOrder, which
// one late reply may break together, only the first is reported:
//
//	StaleRead       a read (getData, exists, getChildren) answered at zxid Z returns the
//	                committed state of its path at Z: existence, data, version, czxid,
//	                mzxid, number and names of children.
//	SessionOrder    the zxids of one session's replies never go back, across reconnects.
//	ReadYourWrites  a session's write is answered at or after its own txn, and every later
//	                read of the session at or after it.
//	SyncRead        after a sync returns, the session's reads (and the sync's own reply) are
//	                at or after every txn of G that the leader which processed the sync had
//	                when it processed it (Leader.processSync), or had applied when the client
//	                is connected to the leader itself. A deposed leader that still processes
//	                syncs is judged by what it had, not by what a newer leader committed
//	                meanwhile: ZooKeeper's sync is not a quorum operation.
//	WatchOrder      a client gets a watch's event before any read of the path served at or
//	                after the first change that triggers the watch.
//	WatchOnce       a registration (a read with a watch that succeeded) yields at most one
//	                event: an event with no registration left to consume is reported.
//
// Watch registrations follow the client: they are suspended on Disconnected, set again by
// the SetWatches the client sends on reconnecting (those it does not list are gone, as with
// zookeeper.disableAutoWatchReset), and dropped on Expired, Closed or a client crash.

// Check names of the client-visible checks.
const (
	CheckLinearizability = "Linearizability"
	CheckStaleRead       = "StaleRead"
	CheckSessionOrder    = "SessionOrder"
	CheckReadYourWrites  = "ReadYourWrites"
	CheckSyncRead        = "SyncRead"
	CheckWatchOrder      = "WatchOrder"
	CheckWatchOnce       = "WatchOnce"
)

type callKey struct {
	client int64
	xid    int32
}

type reqKey struct {
	session int64
	cxid    int32
}

// nodeVal is a znode's committed state.
type nodeVal struct {
	exists       bool
	data         string
	version      int32
	czxid, mzxid model.Zxid
	owner        int64 // ephemeral owner
}

// pathHist is one path's committed history: its node's changes and its children count's.
type pathHist struct {
	ch []pathChange // the node's changes, in zxid order
	kc []kidsChange // its children count's
	// foreign: a txn of a session that no client record names (the ensemble's own writes)
	// changed it; ephemeral: an ephemeral node lived there. Either keeps the path out of
	// the linearizability check, whose history has only the clients' operations.
	foreign, ephemeral bool
}

// pathChange is one change of a path's node: its zxid, the node after it, and the record
// that brought it into G. (One slice of these, not three parallel ones: a change appends
// once.)
type pathChange struct {
	zx  model.Zxid
	st  nodeVal
	rec int
}

// kidsChange is one change of a node's children count.
type kidsChange struct {
	zx model.Zxid
	n  int32
}

func (h *pathHist) last() nodeVal {
	if n := len(h.ch); n > 0 {
		return h.ch[n-1].st
	}
	return nodeVal{}
}

func (h *pathHist) kids() int32 {
	if n := len(h.kc); n > 0 {
		return h.kc[n-1].n
	}
	return 0
}

// initialNode is a path's state before any txn: the tree holds "/" and "/zookeeper".
func initialNode(path string) nodeVal {
	return nodeVal{exists: path == "/" || path == "/zookeeper"}
}

func initialKids(path string) int32 {
	if path == "/" {
		return 1
	}
	return 0
}

func parentPath(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return "/"
	}
	return path[:i]
}

// Watch registration kinds (the client's three watch tables) and states.
const (
	regData uint8 = iota
	regExist
	regChild
)

const (
	regLive uint8 = iota
	regSuspended
	regAwaiting // reconnected: kept only if the SetWatches that follows lists it
)

type watchReg struct {
	path  string
	kind  uint8
	state uint8
	zxid  model.Zxid // the zxid of the read that registered it (or of the SetWatches)
	rec   int
}

// session is what the checker knows of one client's current session.
type session struct {
	id        int64
	last      model.Zxid // SessionOrder: the highest reply zxid so far
	lastRec   int
	lastSrv   int64
	own       model.Zxid // ReadYourWrites: the highest own txn answered
	ownRec    int
	sync      model.Zxid // SyncRead: the floor set by the syncs answered
	syncRecs  [4]int     // the records of the sync that set sync: its call, the leader's, its zxid's, its return
	regs      []watchReg
	lastEvent map[string]int // path -> the record of its last event
	reported  map[string]bool
}

func (s *session) reset(id int64) {
	*s = session{id: id, lastRec: -1, ownRec: -1, lastSrv: -1}
}

// once reports whether check (on path, "" for the session) was not yet reported.
func (s *session) once(check, path string) bool {
	k := check + " " + path
	if s.reported[k] {
		return false
	}
	if s.reported == nil {
		s.reported = map[string]bool{}
	}
	s.reported[k] = true
	return true
}

// reqTxn is a client request's committed txn: its zxid, its index in G, and whether it
// changed anything.
type reqTxn struct {
	cxid      int32
	zxid      model.Zxid
	k         int
	effective bool
}

// effective reports whether a txn changes znodes (it is not an ErrorTxn or a failed multi).
func effective(t *model.Txn) bool {
	switch t.Type {
	case model.OpCreate, model.OpDelete, model.OpSetData:
		return true
	case model.OpMulti:
		return !slices.ContainsFunc(t.Ops, func(op *model.Txn) bool { return op.Type == model.OpError })
	}
	return false
}

type callInfo struct {
	rec     int
	at      sim.Time
	call    *model.ClientCall
	xid     int32
	session int64 // the session it was (or would have been) sent on, once known
}

// syncPoint is where a leader processed a sync, and the zxid every read after it must reach.
type syncPoint struct {
	rec    int
	leader int64
	zxid   model.Zxid
	zrec   int
}

// readCheck is a read waiting to be judged against the committed state at its zxid.
type readCheck struct {
	session      int64
	callRec, rec int
	at           sim.Time
	ret          *model.ClientReturn
	regs         []watchReg // the client's registrations on the path when it returned
}

// clientSide is the checker's state for the client-visible checks.
type clientSide struct {
	bodies   txnQueue // broadcast txns G has not taken in yet
	applied  int
	blind    model.Zxid
	paths    map[string]*pathHist
	histBuf  []pathHist   // the rest of the chunk new path histories come from
	chBuf    []pathChange // the rest of the chunk paths' first changes come from (cut)
	kcBuf    []kidsChange // and their first changes of children
	eph      map[int64][]string
	reqs     map[int64]*[]reqTxn // session -> its request txns in G (applied so far), in G's order
	sessions map[int64]bool

	clients byID[client]
	dead    []callInfo // calls of crashed clients: they never return
	syncs   map[reqKey]syncPoint
	lsyncs  map[callKey]syncPoint
	pending []readCheck

	ops      [][]linOp       // the history in the making, in chunks (no copying as it grows)
	seqs     []string        // the paths of sequential creates (prefixes of their nodes)
	ephCalls map[string]bool // paths of ephemeral creates
	reads    int             // reads judged against the committed state
	unjudged int             // reads that could not be (blind, or beyond G at the end)

	lin      LinearizabilityResult
	linPaths [][]*linOp // what the porcupine check was given, path by path
	chk      *Checker
}

func (cl *clientSide) init(c *Checker) {
	cl.chk = c
	cl.paths = map[string]*pathHist{}
	cl.eph = map[int64][]string{}
	cl.reqs = map[int64]*[]reqTxn{}
	cl.sessions = map[int64]bool{}
	cl.syncs = map[reqKey]syncPoint{}
	cl.lsyncs = map[callKey]syncPoint{}
	cl.ephCalls = map[string]bool{}
}

// cut is an empty list with room for n, cut from the chunk *buf (a new one of 32n when
// short): one allocation for the first entries of many lists, which append moves out when
// they outgrow it.
func cut[T any](buf *[]T, n int) []T {
	if len(*buf) < n {
		*buf = make([]T, 32*n)
	}
	l := (*buf)[:0:n]
	*buf = (*buf)[n:]
	return l
}

func (cl *clientSide) path(p string) *pathHist {
	h := cl.paths[p]
	if h == nil {
		if len(cl.histBuf) == 0 {
			cl.histBuf = make([]pathHist, 32) // one allocation for many paths
		}
		h, cl.histBuf = &cl.histBuf[0], cl.histBuf[1:]
		cl.paths[p] = h
	}
	return h
}

// nodeAt is p's committed state at zxid z, and the record of the change that set it (-1:
// the initial state).
func (cl *clientSide) nodeAt(p string, z model.Zxid) (nodeVal, int) {
	h := cl.paths[p]
	if h == nil {
		return initialNode(p), -1
	}
	i := sort.Search(len(h.ch), func(i int) bool { return h.ch[i].zx > z })
	if i == 0 {
		return initialNode(p), -1
	}
	return h.ch[i-1].st, h.ch[i-1].rec
}

// existsAt is nodeAt(p, z).exists for a path given as bytes (no allocation).
func (cl *clientSide) existsAt(p []byte, z model.Zxid) bool {
	h := cl.paths[string(p)]
	if h == nil {
		return initialNode(string(p)).exists
	}
	i := sort.Search(len(h.ch), func(i int) bool { return h.ch[i].zx > z })
	if i == 0 {
		return initialNode(string(p)).exists
	}
	return h.ch[i-1].st.exists
}

func (cl *clientSide) kidsAt(p string, z model.Zxid) int32 {
	h := cl.paths[p]
	if h == nil {
		return initialKids(p)
	}
	i := sort.Search(len(h.kc), func(i int) bool { return h.kc[i].zx > z })
	if i == 0 {
		return initialKids(p)
	}
	return h.kc[i-1].n
}

// noteTxn keeps the body of a broadcast txn until G takes it in.
func (c *Checker) noteTxn(t *model.Txn) {
	if t == nil || (c.g.n() > 0 && t.Zxid <= c.g.last()) {
		return
	}
	cl := &c.cl
	if cl.bodies.add(t) && cl.bodies.len() > maxBodies && c.g.n() > cl.applied {
		cl.catchUp(c.g.last()) // a long run without reads: keep the memory bounded
	}
}

// maxBodies is how many txn bodies may wait before G's entries are applied anyway.
const maxBodies = 1 << 16

// advance: G grew. The per-path histories follow G lazily, when a read is judged (and at
// Finish), so a run without client reads pays nothing for them; reads that were waiting
// for G are judged now.
func (c *Checker) advance() {
	cl := &c.cl
	if len(cl.pending) == 0 {
		return
	}
	last := c.g.last()
	keep := cl.pending[:0]
	for _, rc := range cl.pending {
		if rc.ret.Zxid <= last {
			c.judgeRead(rc)
		} else {
			keep = append(keep, rc)
		}
	}
	clear(cl.pending[len(keep):])
	cl.pending = keep
}

// catchUp applies G's entries up to zxid z to the per-path histories.
func (cl *clientSide) catchUp(z model.Zxid) {
	g := &cl.chk.g
	for ; cl.applied < g.n() && g.zx[cl.applied] <= z; cl.applied++ {
		k := cl.applied
		t := cl.bodies.take(g.zx[k], g.hs[k])
		if t == nil {
			if cl.blind == 0 {
				cl.blind = g.zx[k]
			}
			continue
		}
		cl.applyTxn(t, t.SessionID, g.zx[k], g.rec[k])
		if t.Type != model.OpCreateSession {
			l := cl.reqs[t.SessionID]
			if l == nil {
				reqs := make([]reqTxn, 0, 16) // a session's first requests at once
				l = &reqs
				cl.reqs[t.SessionID] = l
			}
			*l = append(*l, reqTxn{cxid: t.Cxid, zxid: g.zx[k], k: k, effective: effective(t)})
		}
	}
}

// reqTxn is the txn in G of request (session, cxid), if G holds one.
func (cl *clientSide) reqTxn(session int64, cxid int32) (reqTxn, bool) {
	if l := cl.reqs[session]; l != nil {
		// From the newest: a reply asks for its txn soon after G takes it in.
		for j := len(*l) - 1; j >= 0; j-- {
			if (*l)[j].cxid == cxid {
				return (*l)[j], true
			}
		}
	}
	return reqTxn{}, false
}

// txnQueue holds the bodies of broadcast txns until G takes them in, sorted by zxid (they
// mostly come in that order): G grows in zxid order, so a body whose zxid G has passed will
// never be taken and is dropped from the front.
type txnQueue struct {
	q    []*model.Txn
	head int
}

func (b *txnQueue) len() int { return len(b.q) - b.head }

// pending are the bodies G has not reached.
func (b *txnQueue) pending() []*model.Txn { return b.q[b.head:] }

// add keeps t unless a body of the same zxid and value is there; it reports whether it did.
func (b *txnQueue) add(t *model.Txn) bool {
	q := b.q[b.head:]
	i := len(q)
	for i > 0 && q[i-1].Zxid > t.Zxid {
		i--
	}
	for j := i - 1; j >= 0 && q[j].Zxid == t.Zxid; j-- {
		if q[j] == t || q[j].Hash() == t.Hash() {
			return false
		}
	}
	if b.head > 0 && b.head >= len(b.q)/2 {
		n := copy(b.q, b.q[b.head:])
		clear(b.q[n:])
		b.q, b.head = b.q[:n], 0
	}
	b.q = slices.Insert(b.q, b.head+i, t)
	return true
}

// take removes the bodies up to zxid z and returns the one of z with value hash v (nil if
// there is none).
func (b *txnQueue) take(z model.Zxid, v uint64) *model.Txn {
	var t *model.Txn
	for b.head < len(b.q) && b.q[b.head].Zxid <= z {
		if u := b.q[b.head]; u.Zxid == z && u.Hash() == v {
			t = u
		}
		b.q[b.head] = nil
		b.head++
	}
	return t
}

// applyTxn applies one committed txn (DataTree.processTxn, as far as znodes go).
func (cl *clientSide) applyTxn(t *model.Txn, sess int64, z model.Zxid, rec int) {
	switch t.Type {
	case model.OpCreate:
		owner := int64(0)
		if t.Ephemeral {
			owner = sess
		}
		cl.create(t.Path, t.Data, owner, sess, z, rec)
	case model.OpDelete:
		cl.remove(t.Path, sess, z, rec)
	case model.OpSetData:
		h := cl.path(t.Path)
		cur := h.last()
		if len(h.ch) == 0 {
			cur = initialNode(t.Path)
		}
		if !cur.exists {
			return
		}
		cur.data, cur.version, cur.mzxid = t.Data, t.Version, z
		cl.change(h, t.Path, sess, z, rec, cur)
	case model.OpCloseSession:
		for _, p := range t.Paths {
			cl.remove(p, sess, z, rec)
		}
		rest := slices.Clone(cl.eph[sess])
		slices.Sort(rest)
		for _, p := range rest {
			cl.remove(p, sess, z, rec)
		}
		delete(cl.eph, sess)
	case model.OpMulti:
		if slices.ContainsFunc(t.Ops, func(op *model.Txn) bool { return op.Type == model.OpError }) {
			return
		}
		for _, op := range t.Ops {
			cl.applyTxn(op, sess, z, rec)
		}
	}
}

func (cl *clientSide) change(h *pathHist, p string, sess int64, z model.Zxid, rec int, v nodeVal) {
	if !cl.sessions[sess] {
		h.foreign = true
	}
	if h.ch == nil {
		h.ch = cut(&cl.chBuf, 4) // a node's first changes at once (a create, a few setData)
	}
	h.ch = appendIn(cl.chk.p.changes, h.ch, pathChange{zx: z, st: v, rec: rec})
}

func (cl *clientSide) kidsChange(p string, d int32, z model.Zxid) {
	h := cl.path(p)
	n := initialKids(p)
	if len(h.kc) > 0 {
		n = h.kids()
	} else if h.kc == nil {
		h.kc = cut(&cl.kcBuf, 4)
	}
	h.kc = append(h.kc, kidsChange{zx: z, n: n + d})
}

func (cl *clientSide) create(p, data string, owner, sess int64, z model.Zxid, rec int) {
	h := cl.path(p)
	cur := initialNode(p)
	if len(h.ch) > 0 {
		cur = h.last()
	}
	if cur.exists {
		return
	}
	cl.change(h, p, sess, z, rec, nodeVal{exists: true, data: data, czxid: z, mzxid: z, owner: owner})
	if owner != 0 {
		h.ephemeral = true
		cl.eph[owner] = append(cl.eph[owner], p)
	}
	cl.kidsChange(parentPath(p), 1, z)
}

func (cl *clientSide) remove(p string, sess int64, z model.Zxid, rec int) {
	h := cl.path(p)
	cur := initialNode(p)
	if len(h.ch) > 0 {
		cur = h.last()
	}
	if !cur.exists {
		return
	}
	cl.change(h, p, sess, z, rec, nodeVal{})
	if o := cur.owner; o != 0 {
		if i := slices.Index(cl.eph[o], p); i >= 0 {
			cl.eph[o] = slices.Delete(cl.eph[o], i, i+1)
		}
	}
	cl.kidsChange(parentPath(p), -1, z)
}

// --- client records ---

// client is one client process: its current session and its calls in flight.
type client struct {
	s    session
	open []callInfo // in call order (a client's replies come in that order)
}

func (cl *clientSide) client(id int64) *session {
	return &cl.proc(id).s
}

func (cl *clientSide) proc(id int64) *client {
	p := cl.clients.get(id)
	if p == nil {
		p = &client{}
		p.s.reset(0)
		cl.clients.put(id, p)
	}
	return p
}

// takeCall removes and returns the client's open call xid.
func (p *client) takeCall(xid int32) (callInfo, bool) {
	for j := range p.open {
		if p.open[j].xid == xid {
			ci := p.open[j]
			p.open = slices.Delete(p.open, j, j+1)
			return ci, true
		}
	}
	return callInfo{}, false
}

// sessionOf returns the client's session state, starting a new one when the client's
// session changed.
func (cl *clientSide) sessionOf(client, sess int64) *session {
	s := cl.client(client)
	if sess != 0 && s.id != sess {
		cl.sessions[sess] = true
		s.reset(sess)
	}
	return s
}

func (c *Checker) onClientCall(i int, r *sim.Record, d *model.ClientCall) {
	cl := &c.cl
	cl.sessionOf(d.Client, d.Session)
	p := cl.proc(d.Client)
	p.open = append(p.open, callInfo{rec: i, at: r.At, call: d, xid: d.Xid, session: d.Session})
	note := func(p string, m model.CreateMode) {
		if m.IsSequential() {
			if !slices.Contains(cl.seqs, p) {
				cl.seqs = append(cl.seqs, p)
			}
		} else if m.IsEphemeral() {
			cl.ephCalls[p] = true
		}
	}
	switch d.Op {
	case model.OpCreate:
		note(d.Path, d.Mode)
	case model.OpMulti:
		for _, op := range d.Ops {
			if op.Type == model.OpCreate {
				note(op.Path, op.Mode)
			}
		}
	}
}

func isRead(op model.OpCode) bool {
	return op == model.OpGetData || op == model.OpExists || op == model.OpGetChildren
}

func isWrite(op model.OpCode) bool {
	switch op {
	case model.OpCreate, model.OpDelete, model.OpSetData, model.OpMulti:
		return true
	}
	return false
}

func (c *Checker) onClientReturn(i int, r *sim.Record, d *model.ClientReturn) {
	cl := &c.cl
	k := callKey{d.Client, d.Xid}
	ci, ok := cl.proc(d.Client).takeCall(d.Xid)
	if !ok {
		ci = callInfo{rec: -1, at: d.CallAt}
	}
	s := cl.sessionOf(d.Client, d.Session)
	if ci.call != nil {
		c.addOp(ci, i, r.At, d)
	}
	if d.Server < 0 {
		return // the client failed the call itself: no reply, no zxid
	}
	c.resolveAwaiting(s)
	who := func() string { return fmt.Sprintf("client %d (session 0x%x)", d.Client, d.Session) }

	// ReadYourWrites for a write: its own reply is at or after its txn (which G holds by
	// then: the server that answered applied it).
	var ownZ model.Zxid
	if isWrite(d.Op) {
		if z, ok := cl.ownTxn(d.Session, d.Xid); ok {
			ownZ = z
			if d.Zxid < z && s.once(CheckReadYourWrites, "") {
				c.report(CheckReadYourWrites, r.At, fmt.Sprintf(
					"%s got the reply to its %s %s (xid %d) from server %d at zxid %s, before that write's own txn %s.",
					who(), d.Op, d.Path, d.Xid, d.Server, d.Zxid, z), ci.rec, i)
			}
		}
	}
	// SyncRead for a sync: its own reply reaches what the leader had.
	if d.Op == model.OpSync {
		sp, ok := cl.syncs[reqKey{d.Session, d.Xid}]
		if !ok {
			sp, ok = cl.lsyncs[k]
		}
		delete(cl.syncs, reqKey{d.Session, d.Xid})
		delete(cl.lsyncs, k)
		if ok && d.Err == model.ErrOK {
			if d.Zxid < sp.zxid && s.once(CheckSyncRead, "") {
				c.report(CheckSyncRead, r.At, fmt.Sprintf(
					"%s's sync (xid %d), processed by leader %d when it had %s, returned from server %d at zxid %s.",
					who(), d.Xid, sp.leader, sp.zxid, d.Server, d.Zxid), ci.rec, sp.rec, sp.zrec, i)
			}
			if sp.zxid > s.sync {
				s.sync, s.syncRecs = sp.zxid, [4]int{ci.rec, sp.rec, sp.zrec, i}
			}
		}
	}

	// The session's floors, most specific first; one report per reply.
	switch {
	case isRead(d.Op) && d.Zxid < s.own:
		if s.once(CheckReadYourWrites, "") {
			c.report(CheckReadYourWrites, r.At, fmt.Sprintf(
				"%s read %s (xid %d) from server %d at zxid %s, before its own write's txn %s.",
				who(), d.Path, d.Xid, d.Server, d.Zxid, s.own), s.ownRec, ci.rec, i)
		}
	case isRead(d.Op) && d.Zxid < s.sync:
		if s.once(CheckSyncRead, "") {
			c.report(CheckSyncRead, r.At, fmt.Sprintf(
				"%s read %s (xid %d) from server %d at zxid %s after a sync that reached %s.",
				who(), d.Path, d.Xid, d.Server, d.Zxid, s.sync), append(s.syncRecs[:], ci.rec, i)...)
		}
	case d.Zxid < s.last:
		if s.once(CheckSessionOrder, "") {
			c.report(CheckSessionOrder, r.At, fmt.Sprintf(
				"%s got the reply to %s %s (xid %d) from server %d at zxid %s, after an earlier reply from server %d at zxid %s.",
				who(), d.Op, d.Path, d.Xid, d.Server, d.Zxid, s.lastSrv, s.last), s.lastRec, i)
		}
	}
	if d.Zxid > s.last || s.lastRec < 0 {
		s.last, s.lastRec, s.lastSrv = max(s.last, d.Zxid), i, d.Server
	}
	if ownZ > s.own {
		s.own, s.ownRec = ownZ, i
	}

	if isRead(d.Op) && (d.Err == model.ErrOK || d.Err == model.ErrNoNode) {
		rc := readCheck{session: d.Session, callRec: ci.rec, rec: i, at: r.At, ret: d}
		for _, w := range s.regs {
			if w.path == d.Path && w.state == regLive {
				rc.regs = append(rc.regs, w)
			}
		}
		if d.Zxid == 0 || (c.g.n() > 0 && d.Zxid <= c.g.last()) {
			c.judgeRead(rc)
		} else {
			cl.pending = append(cl.pending, rc)
		}
		if ci.call != nil && ci.call.Watch {
			c.registerWatch(s, d, i)
		}
	}
}

// ownTxn is the zxid of the txn of request (session, cxid): from G, or else from the
// proposals G has not taken in (a reply that comes before its txn is committed).
func (cl *clientSide) ownTxn(session int64, cxid int32) (model.Zxid, bool) {
	cl.catchUp(cl.chk.g.last())
	if rt, ok := cl.reqTxn(session, cxid); ok {
		return rt.zxid, true
	}
	var z model.Zxid
	for _, t := range cl.bodies.pending() { // only the proposals not in G: a handful
		if t.SessionID == session && t.Cxid == cxid && t.Type != model.OpCreateSession {
			z = max(z, t.Zxid)
		}
	}
	return z, z > 0
}

// registerWatch adds the watch a successful read set (ClientCnxn.finishPacket's registration).
func (c *Checker) registerWatch(s *session, d *model.ClientReturn, i int) {
	kind := regData
	switch {
	case d.Op == model.OpGetChildren && d.Err == model.ErrOK:
		kind = regChild
	case d.Op == model.OpExists && d.Err == model.ErrNoNode:
		kind = regExist
	case d.Err != model.ErrOK:
		return // getData and getChildren on a missing node set nothing
	}
	for _, w := range s.regs {
		if w.path == d.Path && w.kind == kind && w.state == regLive {
			return // the server's watch from the earlier read is the one that fires
		}
	}
	s.regs = append(s.regs, watchReg{path: d.Path, kind: kind, state: regLive, zxid: d.Zxid, rec: i})
}

// judgeRead: StaleRead and WatchOrder for a read whose zxid G has reached.
func (c *Checker) judgeRead(rc readCheck) {
	cl := &c.cl
	d := rc.ret
	cl.catchUp(d.Zxid)
	if cl.blind != 0 && d.Zxid >= cl.blind {
		cl.unjudged++
		return
	}
	cl.reads++
	s := cl.client(d.Client)
	sameSession := s.id == rc.session
	st, srec := cl.nodeAt(d.Path, d.Zxid)
	if what := cl.mismatch(d, st); what != "" && (!sameSession || s.once(CheckStaleRead, d.Path)) {
		c.report(CheckStaleRead, rc.at, fmt.Sprintf(
			"client %d (session 0x%x) read %s (%s, xid %d) from server %d at zxid %s and got %s, but the committed state at %s is %s%s.",
			d.Client, d.Session, d.Path, d.Op, d.Xid, d.Server, d.Zxid, describeRead(d), d.Zxid, describeNode(st),
			cl.whence(d)), rc.callRec, srec, rc.rec)
	}
	for _, w := range rc.regs {
		z, zrec := cl.trigger(w, d.Zxid)
		if zrec == -2 {
			continue
		}
		if sameSession && !s.once(CheckWatchOrder, d.Path) {
			break
		}
		c.report(CheckWatchOrder, rc.at, fmt.Sprintf(
			"client %d (session 0x%x) read %s (%s, xid %d) at zxid %s, which shows the change %s, before getting the event of its watch set at zxid %s.",
			d.Client, d.Session, d.Path, d.Op, d.Xid, d.Zxid, z, w.zxid), w.rec, zrec, rc.rec)
		break
	}
}

// trigger is the first change after the registration, up to zxid upTo, that fires it
// (record -2: none).
func (cl *clientSide) trigger(w watchReg, upTo model.Zxid) (model.Zxid, int) {
	h := cl.paths[w.path]
	if h == nil {
		return 0, -2
	}
	first, frec := model.Zxid(0), -2
	i := sort.Search(len(h.ch), func(i int) bool { return h.ch[i].zx > w.zxid })
	if w.kind != regChild {
		if i < len(h.ch) && h.ch[i].zx <= upTo {
			first, frec = h.ch[i].zx, h.ch[i].rec
		}
	} else {
		// a child watch: a child created or deleted, or the node deleted
		for ; i < len(h.ch) && h.ch[i].zx <= upTo; i++ {
			if !h.ch[i].st.exists {
				first, frec = h.ch[i].zx, h.ch[i].rec
				break
			}
		}
		j := sort.Search(len(h.kc), func(j int) bool { return h.kc[j].zx > w.zxid })
		if j < len(h.kc) && h.kc[j].zx <= upTo && (frec == -2 || h.kc[j].zx < first) {
			first, frec = h.kc[j].zx, cl.kidRec(h.kc[j].zx)
		}
	}
	return first, frec
}

// kidRec is the record that brought zxid z into G.
func (cl *clientSide) kidRec(z model.Zxid) int {
	g := &cl.chk.g
	if k := g.searchZxid(z); k < g.n() && g.zx[k] == z {
		return g.rec[k]
	}
	return -1
}

// mismatch says how reply d differs from the committed state st of its path ("" if not).
func (cl *clientSide) mismatch(d *model.ClientReturn, st nodeVal) string {
	if d.Err == model.ErrNoNode {
		if st.exists {
			return "exists"
		}
		return ""
	}
	if !st.exists {
		return "absent"
	}
	switch d.Op {
	case model.OpGetData:
		if d.Data != st.data {
			return "data"
		}
		fallthrough
	case model.OpExists:
		if d.Stat.Version != st.version || d.Stat.Czxid != st.czxid || d.Stat.Mzxid != st.mzxid {
			return "stat"
		}
		if d.Stat.NumChildren != cl.kidsAt(d.Path, d.Zxid) {
			return "children"
		}
	case model.OpGetChildren:
		if int32(len(d.Children)) != cl.kidsAt(d.Path, d.Zxid) {
			return "children"
		}
		buf := make([]byte, 0, 64)
		for _, k := range d.Children {
			buf = append(buf[:0], d.Path...)
			if d.Path != "/" {
				buf = append(buf, '/')
			}
			buf = append(buf, k...)
			if !cl.existsAt(buf, d.Zxid) {
				return "children"
			}
		}
	}
	return ""
}

// whence explains where a getData's value came from: ", the value of zxid X, replaced at Y".
func (cl *clientSide) whence(d *model.ClientReturn) string {
	h := cl.paths[d.Path]
	if d.Op != model.OpGetData || d.Err != model.ErrOK || h == nil {
		return ""
	}
	for j := len(h.ch) - 1; j >= 0; j-- {
		if h.ch[j].st.exists && h.ch[j].st.data == d.Data {
			switch {
			case h.ch[j].zx > d.Zxid:
				return fmt.Sprintf(" (%q was written later, at %s)", d.Data, h.ch[j].zx)
			case j+1 < len(h.ch):
				return fmt.Sprintf(" (%q was written at %s and replaced at %s)", d.Data, h.ch[j].zx, h.ch[j+1].zx)
			}
			return ""
		}
	}
	return fmt.Sprintf(" (no committed txn wrote %q)", d.Data)
}

func describeNode(v nodeVal) string {
	if !v.exists {
		return "no node"
	}
	return fmt.Sprintf("%q version %d (czxid %s, mzxid %s)", v.data, v.version, v.czxid, v.mzxid)
}

func describeRead(d *model.ClientReturn) string {
	if d.Err != model.ErrOK {
		return model.ErrName(d.Err)
	}
	switch d.Op {
	case model.OpGetData:
		return fmt.Sprintf("%q version %d (czxid %s, mzxid %s, %d children)", d.Data, d.Stat.Version, d.Stat.Czxid, d.Stat.Mzxid, d.Stat.NumChildren)
	case model.OpGetChildren:
		return fmt.Sprintf("children %v", d.Children)
	}
	return fmt.Sprintf("version %d (czxid %s, mzxid %s, %d children)", d.Stat.Version, d.Stat.Czxid, d.Stat.Mzxid, d.Stat.NumChildren)
}

// --- watches ---

func (c *Checker) onWatchDelivered(i int, r *sim.Record, d *model.WatchDelivered) {
	if d.Type == model.EventNone {
		return
	}
	s := c.cl.sessionOf(d.Client, d.Session)
	c.resolveAwaiting(s)
	var kinds []uint8
	switch d.Type {
	case model.EventNodeCreated, model.EventNodeDataChanged:
		kinds = []uint8{regData, regExist}
	case model.EventNodeChildrenChanged:
		kinds = []uint8{regChild}
	default:
		kinds = []uint8{regData, regExist, regChild}
	}
	consumed := -1
	s.regs = slices.DeleteFunc(s.regs, func(w watchReg) bool {
		if w.path == d.Path && slices.Contains(kinds, w.kind) {
			consumed = w.rec
			return true
		}
		return false
	})
	prev, had := s.lastEvent[d.Path]
	if s.lastEvent == nil {
		s.lastEvent = map[string]int{}
	}
	s.lastEvent[d.Path] = i
	if consumed >= 0 || !s.once(CheckWatchOnce, d.Path) {
		return
	}
	detail := fmt.Sprintf("client %d (session 0x%x) got a %s event for %s (zxid %s) from server %d with no watch registered on it",
		d.Client, d.Session, d.Type, d.Path, d.Zxid, d.Server)
	if had {
		detail += ": the registration was already used by an earlier event."
		c.report(CheckWatchOnce, r.At, detail, prev, i)
		return
	}
	c.report(CheckWatchOnce, r.At, detail+".", i)
}

func (c *Checker) onClientState(i int, r *sim.Record, d *model.ClientState) {
	s := c.cl.sessionOf(d.Client, d.Session)
	switch d.State {
	case model.StateDisconnected:
		for k := range s.regs {
			s.regs[k].state = regSuspended
		}
	case model.StateSyncConnected:
		for k := range s.regs {
			if s.regs[k].state == regSuspended {
				s.regs[k].state = regAwaiting
			}
		}
	case model.StateExpired, model.StateClosed:
		s.regs = nil
	}
}

// onSetWatches: the client re-registers its watches on a new connection.
func (c *Checker) onSetWatches(client int64, m *model.ClientRequest) {
	p := c.cl.clients.get(client)
	if p == nil {
		return
	}
	s := &p.s
	s.regs = slices.DeleteFunc(s.regs, func(w watchReg) bool {
		if w.state != regAwaiting {
			return false
		}
		var list []string
		switch sw := m.Watches(); w.kind {
		case regData:
			list = sw.DataWatches
		case regExist:
			list = sw.ExistWatches
		default:
			list = sw.ChildWatches
		}
		return !slices.Contains(list, w.path)
	})
	for k := range s.regs {
		if s.regs[k].state == regAwaiting {
			s.regs[k].state = regLive
		}
	}
}

// resolveAwaiting: something came over the new connection without a SetWatches before it,
// so the client did not set its watches again.
func (c *Checker) resolveAwaiting(s *session) {
	s.regs = slices.DeleteFunc(s.regs, func(w watchReg) bool { return w.state == regAwaiting })
}

// onClientCrash: the client process died with its session's state; its calls in flight
// never return (they belong to the session it had, if any).
func (c *Checker) onClientCrash(client int64) {
	p := c.cl.clients.get(client)
	if p == nil {
		return
	}
	p.settleCalls()
	c.cl.dead = append(c.cl.dead, p.open...)
	p.open = nil
	p.s.reset(0)
}

// settleCalls gives the client's open calls made before it had a session the session they
// would have been sent on.
func (p *client) settleCalls() {
	for j := range p.open {
		if p.open[j].session == 0 {
			p.open[j].session = p.s.id
		}
	}
}

// --- sync ---

// onSyncAtLeader: a leader received a sync, from a learner (REQUEST) or from its own client.
func (c *Checker) onSyncAtLeader(i int, sid int64, forwarded bool, k reqKey, ck callKey) {
	l := c.server(sid)
	if l.state != model.LEADING {
		return
	}
	g := &c.g
	n := commonPrefix(&l.h, &g.history)
	if !forwarded {
		n = min(n, l.a) // answered like a read: what the leader has applied
	}
	sp := syncPoint{rec: i, leader: sid, zrec: -1}
	if n > 0 {
		sp.zxid, sp.zrec = g.zx[n-1], g.rec[n-1]
	}
	if forwarded {
		c.cl.syncs[k] = sp
	} else {
		c.cl.lsyncs[ck] = sp
	}
}
