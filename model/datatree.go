package model

import (
	"maps"
	"slices"
	"strings"

	"github.com/zabsim/zabsim/sim"
)

// Error codes, with the values of KeeperException.Code.
const (
	ErrOK                      int32 = 0
	ErrRuntimeInconsistency    int32 = -2
	ErrConnectionLoss          int32 = -4
	ErrOperationTimeout        int32 = -7
	ErrBadArguments            int32 = -8
	ErrNoNode                  int32 = -101
	ErrBadVersion              int32 = -103
	ErrNoChildrenForEphemerals int32 = -108
	ErrNodeExists              int32 = -110
	ErrNotEmpty                int32 = -111
	ErrSessionExpired          int32 = -112
	ErrSessionMoved            int32 = -118
	ErrUnknownSession          int32 = -119
	ErrRequestTimeout          int32 = -122
)

var errNames = map[int32]string{
	ErrOK: "OK", ErrRuntimeInconsistency: "RuntimeInconsistency", ErrConnectionLoss: "ConnectionLoss",
	ErrOperationTimeout: "OperationTimeout", ErrBadArguments: "BadArguments", ErrNoNode: "NoNode",
	ErrBadVersion: "BadVersion", ErrNoChildrenForEphemerals: "NoChildrenForEphemerals",
	ErrNodeExists: "NodeExists", ErrNotEmpty: "NotEmpty", ErrSessionExpired: "SessionExpired",
	ErrSessionMoved: "SessionMoved", ErrUnknownSession: "UnknownSession", ErrRequestTimeout: "RequestTimeout",
}

// ErrName is KeeperException.Code's name for an error code ("NoNode"), or the number.
func ErrName(code int32) string {
	if n, ok := errNames[code]; ok {
		return n
	}
	return itoa(int64(code))
}

// Stat mirrors data/Stat.java, as a client sees it. The tree stores the persisted part
// (StatPersisted); DataLength and NumChildren are filled in and Cversion translated when it
// is read (DataNode.copyStat).
type Stat struct {
	Czxid, Mzxid, Pzxid Zxid
	Ctime, Mtime        sim.Time
	Version, Cversion   int32
	EphemeralOwner      int64
	DataLength          int32
	NumChildren         int32
}

// znode is a DataNode: data, the persisted stat and the names of its children (DataNode's
// HashSet). Most nodes have a few children: they are a sorted slice, which a read returns
// as it is, in the sorted order the model replies with, and which costs one array instead
// of a map. A wide node (more than wideKids children: a registry's instances, ten thousand
// clients' ephemeral nodes) keeps them in a set, as ZooKeeper does, so that a create or
// delete costs O(1) instead of moving the array; a read after a change sorts them once.
// stat.Cversion counts the creates of children (StatPersisted.cversion), which is what the
// sequence suffix of a sequential child is made from.
type znode struct {
	data string
	stat Stat
	// children are the sorted names (no duplicates); of a wide node, the sorted view of
	// kidSet, nil until read after a change, and never changed in place.
	children []string
	kidSet   map[string]struct{} // a wide node's children; nil while it has at most wideKids
	// owner is the token of the tree that may change this node in place. A clone (a
	// snapshot) shares its source's nodes: both then hold other tokens, and the first to
	// change a shared node copies it (DataTree.own); ownKids says the children array (of a
	// wide node, the set) is the node's own too, not shared with the node it was copied
	// from or with a reader.
	owner   *cowToken
	ownKids bool
}

// wideKids is how many children a node keeps in a sorted slice; one more makes it wide.
const wideKids = 256

// treeMem is where trees make their nodes and their multis' result lists: one per tree and
// its clones, or one for all the trees of an ensemble's servers (serverSlabs.tree).
type treeMem struct {
	znodes slab[znode]
	multi  slab[ProcessTxnResult] // result lists are cut from its chunks
	toks   slab[cowToken]         // new trees' tokens: each an address no other token has
	kids   slab[string]           // the arrays of nodes' first children are cut from its chunks
	trees  slab[DataTree]         // the trees themselves
}

// results is an empty list with room for n results, cut from a shared chunk (every server
// applies every multi; only the one that replies reads the list).
func (m *treeMem) results(n int) []ProcessTxnResult { return m.multi.cut(n) }

// cowToken marks the nodes a tree may change in place: a pointer compared by identity (not
// empty: zero-size values may share an address).
type cowToken struct{ _ byte }

// own returns n, the node at path, as one t may change: n itself, or a copy of it put in
// its place if t shares n with a clone.
func (t *DataTree) own(path string, n *znode) *znode {
	if n.owner == t.tok {
		return n
	}
	c := t.mem.znodes.of(znode{data: n.data, stat: n.stat, children: n.children, kidSet: n.kidSet, owner: t.tok})
	t.nodes[path] = c
	return c
}

// addChild adds name to n's children (a set: a name already there stays once), copying
// the array (or set) first if it is shared. A first child's array is cut from m.
func (n *znode) addChild(m *treeMem, name string) {
	if n.kidSet != nil {
		if _, found := n.kidSet[name]; found {
			return
		}
		n.ownSet()[name] = struct{}{}
		n.children = nil
		return
	}
	i, found := slices.BinarySearch(n.children, name)
	if found {
		return
	}
	if len(n.children) == wideKids {
		n.kidSet = make(map[string]struct{}, 2*wideKids)
		for _, c := range n.children {
			n.kidSet[c] = struct{}{}
		}
		n.kidSet[name] = struct{}{}
		n.children, n.ownKids = nil, true
		return
	}
	if !n.ownKids || n.children == nil {
		// room for half as many again, and at least four (cut from m): a parent's first
		// children come in a row (a workload's keys, a lock's sequence)
		var c []string
		if len(n.children) < 3 {
			c = m.kids.cut(4)[:len(n.children)+1]
		} else {
			c = make([]string, len(n.children)+1, len(n.children)+1+len(n.children)/2)
		}
		copy(c, n.children[:i])
		c[i] = name
		copy(c[i+1:], n.children[i:])
		n.children, n.ownKids = c, true
		return
	}
	n.children = slices.Insert(n.children, i, name)
}

// ownSet is a wide node's set, ready to change: copied first if shared.
func (n *znode) ownSet() map[string]struct{} {
	if !n.ownKids {
		n.kidSet, n.ownKids = maps.Clone(n.kidSet), true
	}
	return n.kidSet
}

// removeChild removes name from n's children, copying the array (or set) first if it is
// shared. A wide node stays wide.
func (n *znode) removeChild(name string) {
	if n.kidSet != nil {
		if _, found := n.kidSet[name]; found {
			delete(n.ownSet(), name)
			n.children = nil
		}
		return
	}
	i, found := slices.BinarySearch(n.children, name)
	if !found {
		return
	}
	if !n.ownKids {
		n.children, n.ownKids = slices.Concat(n.children[:i], n.children[i+1:]), true
		return
	}
	n.children = slices.Delete(n.children, i, i+1)
}

// sortedChildren is n's children in order. The array is shared with the caller, who must
// not change it: n copies it before its next change (a wide node makes a new one).
func (n *znode) sortedChildren() []string {
	if n.kidSet != nil {
		if n.children == nil {
			n.children = slices.Sorted(maps.Keys(n.kidSet))
			if n.children == nil {
				n.children = []string{} // none left: an empty list, as a small node reads
			}
		}
		return n.children
	}
	if n.children == nil {
		return []string{}
	}
	n.ownKids = false
	return n.children
}

// numChildren is how many children n has.
func (n *znode) numChildren() int {
	if n.kidSet != nil {
		return len(n.kidSet)
	}
	return len(n.children)
}

// copyStat mirrors DataNode.copyStat: dataLength and numChildren from the node, and the
// cversion translated "from the count of the creates to the count of the changes (v3
// semantics)": 2*creates - numChildren. (So a fresh root, whose child /zookeeper was added
// without a create, reports cversion -1, as ZooKeeper does.)
func (n *znode) copyStat() Stat {
	s := n.stat
	s.DataLength = int32(len(n.data))
	s.NumChildren = int32(n.numChildren())
	s.Cversion = n.stat.Cversion*2 - s.NumChildren
	return s
}

// DataTree mirrors server/DataTree.java: the znodes, the sessions with their ephemerals,
// lastProcessedZxid, and the server's data and child watches. It changes only through
// ProcessTxn, so every server that applies the same txns holds the same tree.
type DataTree struct {
	nodes             map[string]*znode // looked up by path; never ranged over for output
	mem               *treeMem          // where its nodes and its multis' results come from; shared with its clones
	tok               *cowToken         // the nodes this tree may change in place (znode.owner)
	sessions          map[int64]sim.Time
	ephemerals        map[int64][]string
	LastProcessedZxid Zxid
	// lastTxn is the zxid of the newest txn applied to the tree, which a snapshot of it
	// holds: its name (LastProcessedZxid) can be above it, after Leader.startZkServer's
	// setlastProcessedZxid((e, 0)) or a SNAP of such a leader. Fixes.DropSnapshotsOnTrunc
	// reads it; ZooKeeper has no such field.
	lastTxn Zxid

	// dataWatches and childWatches are DataTree's WatchManagers. They belong to this
	// server's client connections and are never copied into a snapshot.
	dataWatches, childWatches watchManager
	// fired holds the watch events triggered by the txns applied since the server last
	// took them (triggerWatch calls ServerCnxn.process; the server sends them).
	fired []firedWatch
}

// NewDataTree is an empty tree with "/" and "/zookeeper", as DataTree's constructor makes.
// (ZooKeeper also makes /zookeeper/quota and /zookeeper/config; the model leaves them out,
// and snapshotSize counts them.)
func NewDataTree() *DataTree {
	// sessions and ephemerals are made by their first entry: most trees are replaced by a
	// snapshot or a replay before they hold any.
	return newDataTree(new(treeMem))
}

// rootChildren are a new tree's root's children, shared by every new tree.
var rootChildren = []string{"zookeeper"}

// newDataTree is NewDataTree making its nodes from mem.
func newDataTree(mem *treeMem) *DataTree {
	t := mem.trees.big(DataTree{nodes: make(map[string]*znode, 2), tok: mem.toks.new(), mem: mem})
	root, zk := mem.znodes.new(), mem.znodes.new()
	root.owner, zk.owner = t.tok, t.tok
	root.children = rootChildren // shared (ownKids false): the first change copies it
	t.nodes["/"], t.nodes["/zookeeper"] = root, zk
	return t
}

// Clone copies the tree: what a snapshot serialises (nodes, sessions, ephemerals and
// lastProcessedZxid; not the watches, which live only in a running server). The copy and
// t share their nodes until either changes one (copy on write: a snapshot copies only the
// path table, and each node at most once after it). So Clone writes to t (its token), and
// is not to be called on one tree from two goroutines at once.
func (t *DataTree) Clone() *DataTree {
	t.tok = t.mem.toks.new() // t's nodes are shared from now on
	c := t.mem.trees.big(DataTree{nodes: maps.Clone(t.nodes), tok: t.mem.toks.new(), mem: t.mem, LastProcessedZxid: t.LastProcessedZxid, lastTxn: t.lastTxn})
	if len(t.sessions) > 0 {
		c.sessions = make(map[int64]sim.Time, len(t.sessions))
	}
	if len(t.ephemerals) > 0 {
		c.ephemerals = make(map[int64][]string, len(t.ephemerals))
	}
	for s, to := range t.sessions {
		c.sessions[s] = to
	}
	for s, ps := range t.ephemerals {
		c.ephemerals[s] = slices.Clone(ps)
	}
	return c
}

// roomFor makes room in the path table for n more nodes at once (a replay's creates),
// instead of growing it step by step as they come.
func (t *DataTree) roomFor(n int) {
	if n < 8 {
		return
	}
	nodes := make(map[string]*znode, len(t.nodes)+n)
	for p, z := range t.nodes {
		nodes[p] = z
	}
	t.nodes = nodes
}

// NodeCount is the number of znodes.
func (t *DataTree) NodeCount() int { return len(t.nodes) }

// GetData returns the data and stat of path.
func (t *DataTree) GetData(path string) (string, Stat, bool) {
	n := t.nodes[path]
	if n == nil {
		return "", Stat{}, false
	}
	return n.data, n.copyStat(), true
}

// GetChildren returns the sorted child names of path.
func (t *DataTree) GetChildren(path string) ([]string, Stat, bool) {
	n := t.nodes[path]
	if n == nil {
		return nil, Stat{}, false
	}
	return n.sortedChildren(), n.copyStat(), true
}

// Sessions returns the open session ids, sorted.
func (t *DataTree) Sessions() []int64 {
	ids := make([]int64, 0, len(t.sessions))
	for id := range t.sessions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// SessionTimeout returns the timeout of an open session.
func (t *DataTree) SessionTimeout(session int64) (sim.Time, bool) {
	to, ok := t.sessions[session]
	return to, ok
}

// Ephemerals returns the ephemeral paths owned by session, sorted.
func (t *DataTree) Ephemerals(session int64) []string {
	return slices.Sorted(slices.Values(t.ephemerals[session]))
}

func parentOf(path string) (parent, name string) {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return "/", path[1:]
	}
	return path[:i], path[i+1:]
}

// isSpecialPath mirrors DataTree.isSpecialPath: nodes ZooKeeper will not delete.
func isSpecialPath(path string) bool {
	return path == "/" || path == "/zookeeper" || path == "/zookeeper/quota" || path == "/zookeeper/config"
}

// validatePath mirrors PathUtils.validatePath: absolute, no empty, "." or ".." segments, no
// trailing slash (except "/"), no NUL.
func validatePath(path string) bool {
	if path == "" || path[0] != '/' || strings.IndexByte(path, 0) >= 0 {
		return false
	}
	if path == "/" {
		return true
	}
	if path[len(path)-1] == '/' {
		return false
	}
	for rest := path[1:]; ; {
		seg, after, more := strings.Cut(rest, "/")
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		if !more {
			return true
		}
		rest = after
	}
}

// ProcessTxnResult mirrors DataTree.ProcessTxnResult: what applying a txn produced, which
// FinalRequestProcessor turns into the reply.
type ProcessTxnResult struct {
	Type  OpCode
	Zxid  Zxid
	Err   int32
	Path  string // create: the path created (with its sequence suffix)
	Stat  Stat   // setData: the node's stat afterwards
	Multi []ProcessTxnResult
	// Deleted lists the ephemerals a closeSession removed from this tree.
	Deleted []string
}

// ProcessTxn mirrors DataTree.processTxn: apply txn and return its result code. It sets
// LastProcessedZxid to the txn's zxid if that is higher.
func (t *DataTree) ProcessTxn(txn *Txn) int32 { return t.processTxn(txn).Err }

func (t *DataTree) processTxn(txn *Txn) ProcessTxnResult {
	rc := t.apply(txn)
	// "Things we can only update after the whole txn is applied to data tree."
	if txn.Zxid > t.LastProcessedZxid {
		t.LastProcessedZxid = txn.Zxid
	}
	t.lastTxn = max(t.lastTxn, txn.Zxid)
	return rc
}

// apply mirrors the switch of DataTree.processTxn(header, txn, isSubTxn).
func (t *DataTree) apply(txn *Txn) ProcessTxnResult {
	rc := ProcessTxnResult{Type: txn.Type, Zxid: txn.Zxid, Path: txn.Path}
	switch txn.Type {
	case OpCreate:
		owner := int64(0)
		if txn.Ephemeral {
			owner = txn.SessionID
		}
		rc.Err = t.createNode(txn.Path, txn.Data, owner, txn.ParentCVersion, txn.Zxid, txn.Time)
		if rc.Err == ErrNodeExists {
			// Replaying a create whose node survived in a fuzzy snapshot: bring the
			// parent's cversion and pzxid forward anyway (setCversionPzxid).
			parent, _ := parentOf(txn.Path)
			if p := t.nodes[parent]; p == nil {
				rc.Err = ErrNoNode
			} else if cv := parentCVersion(txn.ParentCVersion, p); cv > p.stat.Cversion {
				p = t.own(parent, p)
				p.stat.Cversion, p.stat.Pzxid = cv, txn.Zxid
			}
		}
	case OpDelete:
		rc.Err = t.deleteNode(txn.Path, txn.Zxid)
	case OpSetData:
		rc.Stat, rc.Err = t.setData(txn.Path, txn.Data, txn.Version, txn.Zxid, txn.Time)
	case OpCheck:
		// CheckVersionTxn: nothing to change.
	case OpCreateSession:
		// ZooKeeperServer.processTxnForSessionEvents: sessionTracker.commitSession, which
		// adds the session to the database's sessionsWithTimeouts.
		if t.sessions == nil {
			t.sessions = map[int64]sim.Time{}
		}
		t.sessions[txn.SessionID] = txn.Timeout
	case OpCloseSession:
		rc.Deleted = t.killSession(txn.SessionID, txn.Zxid, txn.Paths)
	case OpError:
		rc.Err = txn.Err
	case OpMulti:
		// A multi fails as a whole: if any sub-txn is an ErrorTxn, the ones before it become
		// ErrorTxn(OK) and the ones after it ErrorTxn(RUNTIMEINCONSISTENCY).
		failed := slices.ContainsFunc(txn.Ops, func(op *Txn) bool { return op.Type == OpError })
		postFailed := false
		rc.Multi = t.mem.results(len(txn.Ops))
		var buf [4]Txn // most multis have a few ops: their copies stay off the heap
		subs := buf[:0]
		if len(txn.Ops) > len(buf) {
			subs = make([]Txn, 0, len(txn.Ops))
		}
		subs = subs[:len(txn.Ops)]
		for i, op := range txn.Ops {
			sub := &subs[i]
			*sub = *op
			sub.Zxid, sub.Time, sub.SessionID, sub.Cxid = txn.Zxid, txn.Time, txn.SessionID, txn.Cxid
			if op.Type == OpError {
				postFailed = true
			} else if failed {
				code := ErrOK
				if postFailed {
					code = ErrRuntimeInconsistency
				}
				*sub = Txn{Zxid: txn.Zxid, Type: OpError, SessionID: txn.SessionID, Cxid: txn.Cxid, Err: code}
			}
			subRc := t.apply(sub)
			rc.Multi = append(rc.Multi, subRc)
			if subRc.Err != ErrOK && rc.Err == ErrOK {
				rc.Err = subRc.Err
			}
		}
	}
	return rc
}

func parentCVersion(fromTxn int32, parent *znode) int32 {
	if fromTxn <= 0 {
		return parent.stat.Cversion + 1
	}
	return fromTxn
}

// createNode mirrors DataTree.createNode, with its watch triggers.
func (t *DataTree) createNode(path, data string, ephemeralOwner int64, parentCV int32, zxid Zxid, time sim.Time) int32 {
	parentPath, name := parentOf(path)
	parent := t.nodes[parentPath]
	if parent == nil {
		return ErrNoNode
	}
	if t.nodes[path] != nil {
		return ErrNodeExists
	}
	parent = t.own(parentPath, parent)
	// "Only update when it's larger" (a replay in a fuzzy snapshot range).
	if cv := parentCVersion(parentCV, parent); cv > parent.stat.Cversion {
		parent.stat.Cversion = cv
		parent.stat.Pzxid = zxid
	}
	n := t.mem.znodes.new()
	*n = znode{data: data, stat: Stat{Czxid: zxid, Mzxid: zxid, Pzxid: zxid, Ctime: time, Mtime: time,
		EphemeralOwner: ephemeralOwner}, owner: t.tok, ownKids: true}
	parent.addChild(t.mem, name)
	t.nodes[path] = n
	if ephemeralOwner != 0 {
		if t.ephemerals == nil {
			t.ephemerals = map[int64][]string{}
		}
		ps := t.ephemerals[ephemeralOwner]
		if ps == nil {
			ps = make([]string, 0, 4) // a session's first ephemerals at once (a lock, a registration)
		}
		t.ephemerals[ephemeralOwner] = append(ps, path)
	}
	t.dataWatches.triggerWatch(t, path, EventNodeCreated, zxid, nil)
	t.childWatches.triggerWatch(t, parentPath, EventNodeChildrenChanged, zxid, nil)
	return ErrOK
}

// deleteNode mirrors DataTree.deleteNode, with its watch triggers. Like ZooKeeper it does
// not touch the parent's (persisted) cversion, which counts creates; the cversion a client
// reads still goes up by one (copyStat).
func (t *DataTree) deleteNode(path string, zxid Zxid) int32 {
	parentPath, name := parentOf(path)
	parent := t.nodes[parentPath]
	if parent == nil || path == "/" {
		return ErrNoNode
	}
	n := t.nodes[path]
	if n == nil {
		if zxid > parent.stat.Pzxid { // "we still need to update the pzxid"
			t.own(parentPath, parent).stat.Pzxid = zxid
		}
		return ErrNoNode
	}
	parent = t.own(parentPath, parent)
	parent.removeChild(name)
	if zxid > parent.stat.Pzxid {
		parent.stat.Pzxid = zxid
	}
	delete(t.nodes, path)
	if owner := n.stat.EphemeralOwner; owner != 0 {
		ps := t.ephemerals[owner]
		if i := slices.Index(ps, path); i >= 0 {
			t.ephemerals[owner] = slices.Delete(ps, i, i+1)
		}
	}
	processed := t.dataWatches.triggerWatch(t, path, EventNodeDeleted, zxid, nil)
	t.childWatches.triggerWatch(t, path, EventNodeDeleted, zxid, processed)
	t.childWatches.triggerWatch(t, parentPath, EventNodeChildrenChanged, zxid, nil)
	return ErrOK
}

// setData mirrors DataTree.setData: the version comes from the txn (PrepRequestProcessor
// checked and incremented it).
func (t *DataTree) setData(path, data string, version int32, zxid Zxid, time sim.Time) (Stat, int32) {
	n := t.nodes[path]
	if n == nil {
		return Stat{}, ErrNoNode
	}
	n = t.own(path, n)
	n.data = data
	n.stat.Mtime = time
	n.stat.Mzxid = zxid
	n.stat.Version = version
	s := n.copyStat()
	t.dataWatches.triggerWatch(t, path, EventNodeDataChanged, zxid, nil)
	return s, ErrOK
}

// killSession mirrors DataTree.killSession(session, zxid, paths2DeleteLocal,
// paths2DeleteInTxn): delete the paths the CloseSessionTxn names, then any other ephemeral
// of the session this tree still has, and forget the session. It returns what it deleted.
func (t *DataTree) killSession(session int64, zxid Zxid, inTxn []string) []string {
	local := t.Ephemerals(session) // sorted: the order of deletes reaches the watchers
	delete(t.ephemerals, session)
	delete(t.sessions, session)
	var deleted []string
	for _, p := range inTxn {
		if t.deleteNode(p, zxid) == ErrOK {
			deleted = append(deleted, p)
		}
	}
	for _, p := range local {
		if slices.Contains(inTxn, p) {
			continue
		}
		if t.deleteNode(p, zxid) == ErrOK {
			deleted = append(deleted, p)
		}
	}
	return deleted
}

// --- reads, as FinalRequestProcessor does them, with watch registration ---

// statNode mirrors DataTree.statNode: the watch is added whether or not the node exists
// (an exists watch on a missing node waits for its creation).
func (t *DataTree) statNode(path string, watcher sim.ConnID) (Stat, int32) {
	if watcher >= 0 {
		t.dataWatches.addWatch(path, watcher)
	}
	n := t.nodes[path]
	if n == nil {
		return Stat{}, ErrNoNode
	}
	return n.copyStat(), ErrOK
}

// getData mirrors DataTree.getData: the watch only if the node exists.
func (t *DataTree) getData(path string, watcher sim.ConnID) (string, Stat, int32) {
	n := t.nodes[path]
	if n == nil {
		return "", Stat{}, ErrNoNode
	}
	if watcher >= 0 {
		t.dataWatches.addWatch(path, watcher)
	}
	return n.data, n.copyStat(), ErrOK
}

// getChildren mirrors DataTree.getChildren: the watch only if the node exists.
func (t *DataTree) getChildren(path string, watcher sim.ConnID) ([]string, Stat, int32) {
	n := t.nodes[path]
	if n == nil {
		return nil, Stat{}, ErrNoNode
	}
	if watcher >= 0 {
		t.childWatches.addWatch(path, watcher)
	}
	return n.sortedChildren(), n.copyStat(), ErrOK
}

// setWatches mirrors DataTree.setWatches: a reconnecting client's watches are set again,
// and a watch whose node changed after relativeZxid (the client's last zxid) fires at once.
func (t *DataTree) setWatches(relativeZxid Zxid, data, exist, child []string, watcher sim.ConnID) {
	for _, p := range data {
		if n := t.nodes[p]; n == nil {
			t.fire(watcher, EventNodeDeleted, p, -1)
		} else if n.stat.Mzxid > relativeZxid {
			t.fire(watcher, EventNodeDataChanged, p, n.stat.Mzxid)
		} else {
			t.dataWatches.addWatch(p, watcher)
		}
	}
	for _, p := range exist {
		if n := t.nodes[p]; n != nil {
			t.fire(watcher, EventNodeCreated, p, n.stat.Czxid)
		} else {
			t.dataWatches.addWatch(p, watcher)
		}
	}
	for _, p := range child {
		if n := t.nodes[p]; n == nil {
			t.fire(watcher, EventNodeDeleted, p, -1)
		} else if n.stat.Pzxid > relativeZxid {
			t.fire(watcher, EventNodeChildrenChanged, p, n.stat.Pzxid)
		} else {
			t.childWatches.addWatch(p, watcher)
		}
	}
}

// removeCnxn mirrors DataTree.removeCnxn: a closed connection's watches go.
func (t *DataTree) removeCnxn(watcher sim.ConnID) {
	t.dataWatches.removeWatcher(watcher)
	t.childWatches.removeWatcher(watcher)
}

func (t *DataTree) fire(c sim.ConnID, typ EventType, path string, zxid Zxid) {
	t.fired = append(t.fired, firedWatch{c: c, ev: WatcherEvent{Type: typ, State: StateSyncConnected, Path: path, Zxid: zxid}})
}

// takeFired returns and forgets the watch events triggered since the last call.
func (t *DataTree) takeFired() []firedWatch {
	f := t.fired
	t.fired = nil
	return f
}

// WatchCount is the number of (path, connection) watches this server holds (data+child).
func (t *DataTree) WatchCount() int { return t.dataWatches.size() + t.childWatches.size() }
