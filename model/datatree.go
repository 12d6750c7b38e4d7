package model

import (
	"maps"
	"slices"
	"strings"

	"zabsim/sim"
)

// Error codes, with the values of KeeperException.Code.
const (
	ErrOK                      int32 = 0
	ErrConnectionLoss          int32 = -4
	ErrOperationTimeout        int32 = -7
	ErrNoNode                  int32 = -101
	ErrBadVersion              int32 = -103
	ErrNoChildrenForEphemerals int32 = -108
	ErrNodeExists              int32 = -110
	ErrNotEmpty                int32 = -111
	ErrSessionExpired          int32 = -112
	ErrSessionMoved            int32 = -118
)

// Stat mirrors data/Stat.java.
type Stat struct {
	Czxid, Mzxid, Pzxid Zxid
	Ctime, Mtime        sim.Time
	Version, Cversion   int32
	EphemeralOwner      int64
	DataLength          int32
	NumChildren         int32
}

// znode is a DataNode: data, stat and the names of its children (a set, as DataNode's
// HashSet: sorted only when read, so creating the n-th child costs O(1), not O(n)).
type znode struct {
	data     string
	stat     Stat
	children map[string]struct{}
}

func (n *znode) sortedChildren() []string {
	out := make([]string, 0, len(n.children))
	for c := range n.children {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// DataTree mirrors server/DataTree.java: the znodes, the sessions with their ephemerals,
// and lastProcessedZxid. It changes only through ProcessTxn, so every server that applies
// the same txns holds the same tree.
type DataTree struct {
	nodes             map[string]*znode // looked up by path; never ranged over for output
	sessions          map[int64]sim.Time
	ephemerals        map[int64][]string
	LastProcessedZxid Zxid
}

// NewDataTree is an empty tree with "/" and "/zookeeper", as DataTree's constructor makes.
func NewDataTree() *DataTree {
	t := &DataTree{nodes: map[string]*znode{}, sessions: map[int64]sim.Time{}, ephemerals: map[int64][]string{}}
	t.nodes["/"] = &znode{children: map[string]struct{}{"zookeeper": {}}, stat: Stat{NumChildren: 1}}
	t.nodes["/zookeeper"] = &znode{}
	return t
}

// Clone deep-copies the tree: what a snapshot serialises.
func (t *DataTree) Clone() *DataTree {
	c := &DataTree{nodes: make(map[string]*znode, len(t.nodes)), sessions: make(map[int64]sim.Time, len(t.sessions)),
		ephemerals: make(map[int64][]string, len(t.ephemerals)), LastProcessedZxid: t.LastProcessedZxid}
	for p, n := range t.nodes {
		c.nodes[p] = &znode{data: n.data, stat: n.stat, children: maps.Clone(n.children)}
	}
	for s, to := range t.sessions {
		c.sessions[s] = to
	}
	for s, ps := range t.ephemerals {
		c.ephemerals[s] = slices.Clone(ps)
	}
	return c
}

// NodeCount is the number of znodes.
func (t *DataTree) NodeCount() int { return len(t.nodes) }

// size estimates the bytes a snapshot of the tree takes: per znode its path, data and a
// serialised Stat (~60 bytes), plus the sessions. Only the snapshotSizeFactor rule reads it.
func (t *DataTree) size() int64 {
	n := int64(16 + 12*len(t.sessions))
	for p, z := range t.nodes {
		n += int64(len(p)+len(z.data)) + 60
	}
	return n
}

// GetData returns the data and stat of path.
func (t *DataTree) GetData(path string) (string, Stat, bool) {
	n := t.nodes[path]
	if n == nil {
		return "", Stat{}, false
	}
	return n.data, n.stat, true
}

// GetChildren returns the sorted child names of path.
func (t *DataTree) GetChildren(path string) ([]string, Stat, bool) {
	n := t.nodes[path]
	if n == nil {
		return nil, Stat{}, false
	}
	return n.sortedChildren(), n.stat, true
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

// ProcessTxn mirrors DataTree.processTxn: apply txn and return its result code. It sets
// LastProcessedZxid to the txn's zxid if that is higher.
func (t *DataTree) ProcessTxn(txn *Txn) int32 {
	rc := t.apply(txn)
	if txn.Zxid > t.LastProcessedZxid {
		t.LastProcessedZxid = txn.Zxid
	}
	return rc
}

func (t *DataTree) apply(txn *Txn) int32 {
	switch txn.Type {
	case OpCreate:
		return t.createNode(txn)
	case OpDelete:
		return t.deleteNode(txn.Path, txn.Zxid)
	case OpSetData:
		n := t.nodes[txn.Path]
		if n == nil {
			return ErrNoNode
		}
		n.data = txn.Data
		n.stat.Version = txn.Version
		n.stat.Mzxid = txn.Zxid
		n.stat.Mtime = txn.Time
		n.stat.DataLength = int32(len(txn.Data))
		return ErrOK
	case OpCreateSession:
		t.sessions[txn.SessionID] = txn.Timeout
		return ErrOK
	case OpCloseSession:
		// DataTree.killSession: remove every ephemeral of the session.
		for _, p := range t.Ephemerals(txn.SessionID) {
			t.deleteNode(p, txn.Zxid)
		}
		delete(t.ephemerals, txn.SessionID)
		delete(t.sessions, txn.SessionID)
		return ErrOK
	case OpError:
		return txn.Err
	case OpMulti:
		// The leader only proposes a multi whose ops all succeed (else an error multi).
		for _, op := range txn.Ops {
			sub := *op
			sub.Zxid, sub.Time, sub.SessionID = txn.Zxid, txn.Time, txn.SessionID
			if rc := t.apply(&sub); rc != ErrOK {
				return rc
			}
		}
		return ErrOK
	}
	return ErrOK
}

func (t *DataTree) createNode(txn *Txn) int32 {
	parentPath, name := parentOf(txn.Path)
	parent := t.nodes[parentPath]
	if parent == nil {
		return ErrNoNode
	}
	if parent.stat.EphemeralOwner != 0 {
		return ErrNoChildrenForEphemerals
	}
	if t.nodes[txn.Path] != nil {
		return ErrNodeExists
	}
	n := &znode{data: txn.Data, stat: Stat{Czxid: txn.Zxid, Mzxid: txn.Zxid, Pzxid: txn.Zxid,
		Ctime: txn.Time, Mtime: txn.Time, DataLength: int32(len(txn.Data))}}
	if txn.Ephemeral {
		n.stat.EphemeralOwner = txn.SessionID
		t.ephemerals[txn.SessionID] = append(t.ephemerals[txn.SessionID], txn.Path)
	}
	t.nodes[txn.Path] = n
	if parent.children == nil {
		parent.children = map[string]struct{}{}
	}
	parent.children[name] = struct{}{}
	parent.stat.Cversion++
	parent.stat.NumChildren++
	parent.stat.Pzxid = txn.Zxid
	return ErrOK
}

func (t *DataTree) deleteNode(path string, zxid Zxid) int32 {
	n := t.nodes[path]
	if n == nil {
		return ErrNoNode
	}
	if len(n.children) > 0 {
		return ErrNotEmpty
	}
	parentPath, name := parentOf(path)
	if parent := t.nodes[parentPath]; parent != nil {
		delete(parent.children, name)
		parent.stat.Cversion++
		parent.stat.NumChildren--
		parent.stat.Pzxid = zxid
	}
	if owner := n.stat.EphemeralOwner; owner != 0 {
		ps := t.ephemerals[owner]
		if i := slices.Index(ps, path); i >= 0 {
			t.ephemerals[owner] = slices.Delete(ps, i, i+1)
		}
	}
	delete(t.nodes, path)
	return ErrOK
}
