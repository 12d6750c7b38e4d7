package model

import (
	"slices"
	"strconv"
	"strings"

	"github.com/zabsim/zabsim/sim"
)

// changeRecord is ZooKeeperServer.ChangeRecord: what a znode will look like once the
// proposals before it are applied. deleted is ZooKeeper's "stat == null": the node is being
// deleted.
type changeRecord struct {
	zxid       Zxid
	path       string
	stat       Stat // persisted stat (cversion counts creates)
	deleted    bool
	childCount int32
	data       string
}

// duplicate is a copy of c for the txn zxid (ChangeRecord.duplicate).
func (c *changeRecord) duplicate(zxid Zxid) changeRecord {
	d := *c
	d.zxid = zxid
	return d
}

// newChange is c on the heap, from the server's slab: a write makes one or two.
func (s *Server) newChange(c changeRecord) *changeRecord { return s.mem.change.of(c) }

// getRecordForPath mirrors PrepRequestProcessor.getRecordForPath: the newest outstanding
// change of path, else the node as the leader's tree has it.
func (s *Server) getRecordForPath(path string) (*changeRecord, int32) {
	l := s.leader
	c := l.outstandingChangesForPath[path]
	if c == nil {
		p := path
		if p == "" { // DataTree keeps the root under "" too
			p = "/"
		}
		if n := s.db.tree.nodes[p]; n != nil {
			c = s.newChange(changeRecord{zxid: -1, path: path, stat: n.stat, childCount: int32(n.numChildren()), data: n.data})
		}
	}
	if c == nil || c.deleted {
		return nil, ErrNoNode
	}
	return c, ErrOK
}

// addChangeRecord mirrors PrepRequestProcessor.addChangeRecord.
func (s *Server) addChangeRecord(c *changeRecord) {
	l := s.leader
	l.outstandingChanges = append(l.outstandingChanges, c)
	if l.outstandingChangesForPath == nil {
		l.outstandingChangesForPath = map[string]*changeRecord{}
	}
	l.outstandingChangesForPath[c.path] = c
}

// removeOutstandingChanges mirrors the part of ZooKeeperServer.processTxn that drops the
// change records a txn applied.
func (s *Server) removeOutstandingChanges(zxid Zxid) {
	l := s.leader
	for len(l.outstandingChanges) > 0 && l.outstandingChanges[0].zxid <= zxid {
		c := l.outstandingChanges[0]
		l.outstandingChanges = dropFirst(l.outstandingChanges)
		if l.outstandingChangesForPath[c.path] == c {
			delete(l.outstandingChangesForPath, c.path)
		}
	}
}

// pendingChange is one entry of PrepRequestProcessor.getPendingChanges' map.
type pendingChange struct {
	path string
	rec  *changeRecord
}

// getPendingChanges mirrors PrepRequestProcessor.getPendingChanges: the outstanding
// changes of a multi's paths and of their parents, to restore if the multi fails.
func (s *Server) getPendingChanges(ops []*Request) []pendingChange {
	l := s.leader
	var out []pendingChange
	add := func(p string) {
		if c := l.outstandingChangesForPath[p]; c != nil && !slices.ContainsFunc(out, func(pc pendingChange) bool { return pc.path == p }) {
			out = append(out, pendingChange{p, c})
		}
	}
	for _, op := range ops {
		add(op.Path)
		if i := strings.LastIndexByte(op.Path, '/'); i >= 0 {
			add(op.Path[:i])
		}
	}
	return out
}

// rollbackPendingChanges mirrors PrepRequestProcessor.rollbackPendingChanges: drop the
// failed multi's records and put back the ones they hid.
func (s *Server) rollbackPendingChanges(zxid Zxid, pending []pendingChange) {
	l := s.leader
	for len(l.outstandingChanges) > 0 {
		c := l.outstandingChanges[len(l.outstandingChanges)-1]
		if c.zxid != zxid {
			break
		}
		l.outstandingChanges = l.outstandingChanges[:len(l.outstandingChanges)-1]
		delete(l.outstandingChangesForPath, c.path)
	}
	if len(l.outstandingChanges) == 0 {
		return
	}
	first := l.outstandingChanges[0].zxid
	for _, pc := range pending {
		if pc.rec.zxid < first {
			continue
		}
		l.outstandingChangesForPath[pc.path] = pc.rec
	}
}

// checkSession is the leader's SessionTracker.checkSession for a request of owner (skipped
// for the harness's Internal requests).
func (s *Server) checkSession(req *Request, owner int64, global bool) int32 {
	if req.Internal || s.leader.sessions == nil {
		return ErrOK
	}
	return s.leader.sessions.checkSession(req.SessionID, owner, global)
}

// checkAndIncVersion mirrors PrepRequestProcessor.checkAndIncVersion.
func checkAndIncVersion(current, expected int32) (int32, int32) {
	if expected != -1 && expected != current {
		return 0, ErrBadVersion
	}
	return current + 1, ErrOK
}

// sequenceSuffix is String.format("%010d", parentCVersion).
func sequenceSuffix(cversion int32) string {
	v := strconv.FormatInt(int64(cversion), 10)
	if len(v) >= 10 {
		return v
	}
	return strings.Repeat("0", 10-len(v)) + v
}

// prepRequest mirrors PrepRequestProcessor.pRequest for a write: the txn for req with the
// given zxid, checked against the leader's tree and the changes still outstanding (so a
// pipelined request sees the effect of the ones before it). A request that fails becomes
// an ErrorTxn, which is proposed and committed like any txn.
func (s *Server) prepRequest(req *Request, zxid Zxid, owner int64) *Txn {
	now := s.w.Now()
	if req.Op == OpMulti {
		// "Each op in a multi-op must have the same zxid!"
		txn := s.mem.txn.of(Txn{Zxid: zxid, Type: OpMulti, SessionID: req.SessionID, Cxid: req.Cxid, Time: now})
		if len(req.Ops) > 0 {
			txn.Ops = make([]*Txn, 0, len(req.Ops))
		}
		pending := s.getPendingChanges(req.Ops)
		failed := false
		for _, op := range req.Ops {
			if failed {
				txn.Ops = append(txn.Ops, s.mem.txn.of(Txn{Type: OpError, Err: ErrRuntimeInconsistency}))
				continue
			}
			sub, err := s.pRequest2Txn(op, zxid, now, owner, true)
			if err != ErrOK {
				failed = true
				sub = s.mem.txn.of(Txn{Type: OpError, Err: err})
				s.rollbackPendingChanges(zxid, pending)
			}
			txn.Ops = append(txn.Ops, sub)
		}
		return txn
	}
	txn, err := s.pRequest2Txn(req, zxid, now, owner, false)
	if err != ErrOK {
		return s.mem.txn.of(Txn{Zxid: zxid, Type: OpError, SessionID: req.SessionID, Cxid: req.Cxid, Time: now, Err: err})
	}
	return txn
}

// pRequest2Txn mirrors PrepRequestProcessor.pRequest2Txn for one request or multi op. A
// multi's ops get bare txns (Txn(type, record) in a MultiTxn has no header of its own).
func (s *Server) pRequest2Txn(req *Request, zxid Zxid, now sim.Time, owner int64, sub bool) (*Txn, int32) {
	txn := s.mem.txn.new()
	txn.Type = req.Op
	if !sub {
		txn.Zxid, txn.SessionID, txn.Cxid, txn.Time = zxid, req.SessionID, req.Cxid, now
	}
	switch req.Op {
	case OpCreate:
		return s.pRequest2TxnCreate(req, txn, zxid, now, owner)
	case OpDelete:
		if err := s.checkSession(req, owner, false); err != ErrOK {
			return nil, err
		}
		// getParentPathAndValidate
		i := strings.LastIndexByte(req.Path, '/')
		if i < 0 || strings.IndexByte(req.Path, 0) >= 0 || isSpecialPath(req.Path) {
			return nil, ErrBadArguments
		}
		parent, err := s.getRecordForPath(req.Path[:i])
		if err != ErrOK {
			return nil, err
		}
		node, err := s.getRecordForPath(req.Path)
		if err != ErrOK {
			return nil, err
		}
		if _, err := checkAndIncVersion(node.stat.Version, req.Version); err != ErrOK {
			return nil, err
		}
		if node.childCount > 0 {
			return nil, ErrNotEmpty
		}
		txn.Path = req.Path
		parent = s.newChange(parent.duplicate(zxid))
		parent.childCount--
		parent.stat.Pzxid = zxid
		s.addChangeRecord(parent)
		s.addChangeRecord(s.newChange(changeRecord{zxid: zxid, path: req.Path, deleted: true, childCount: -1}))
	case OpSetData:
		node, v, err := s.versionedRecord(req, owner)
		if err != ErrOK {
			return nil, err
		}
		txn.Path, txn.Data, txn.Version = req.Path, req.Data, v
		node = s.newChange(node.duplicate(zxid))
		node.stat.Version, node.stat.Mtime, node.stat.Mzxid = v, now, zxid
		node.data = req.Data
		s.addChangeRecord(node)
	case OpCheck:
		_, v, err := s.versionedRecord(req, owner)
		if err != ErrOK {
			return nil, err
		}
		txn.Path, txn.Version = req.Path, v
	case OpCreateSession:
		// "only add the global session tracker but not to ZKDb"
		txn.Timeout = req.Timeout
		if l := s.leader; l.sessions != nil {
			l.sessions.trackSession(req.SessionID, req.Timeout, now)
			l.sessions.setOwner(req.SessionID, owner)
		}
	case OpCloseSession:
		// No checkSession: the expiry thread closes sessions it does not own. The paths to
		// delete are the session's ephemerals as they will be once the outstanding
		// changes are applied.
		es := s.db.tree.Ephemerals(req.SessionID)
		for _, c := range s.leader.outstandingChanges {
			if c.deleted {
				if i := slices.Index(es, c.path); i >= 0 {
					es = slices.Delete(es, i, i+1)
				}
			} else if c.stat.EphemeralOwner == req.SessionID && !slices.Contains(es, c.path) {
				es = append(es, c.path)
			}
		}
		slices.Sort(es)
		for _, p := range es {
			parentPath, _ := parentOf(p)
			parent, err := s.getRecordForPath(parentPath)
			if err != ErrOK {
				return nil, err
			}
			parent = s.newChange(parent.duplicate(zxid))
			parent.stat.Pzxid = zxid
			s.addChangeRecord(parent)
			s.addChangeRecord(s.newChange(changeRecord{zxid: zxid, path: p, deleted: true}))
		}
		txn.Paths = es // CloseSessionTxn (zookeeper.closeSessionTxn.enabled, the default)
		if l := s.leader; l.sessions != nil {
			l.sessions.setSessionClosing(req.SessionID)
		}
	default:
		return nil, ErrBadArguments
	}
	return txn, ErrOK
}

// pRequest2TxnCreate mirrors PrepRequestProcessor.pRequest2TxnCreate: the checks in
// ZooKeeper's order (session, path, parent NoNode, sequence suffix, NodeExists,
// NoChildrenForEphemerals), then the CreateTxn with the parent's new cversion.
func (s *Server) pRequest2TxnCreate(req *Request, txn *Txn, zxid Zxid, now sim.Time, owner int64) (*Txn, int32) {
	// validateCreateRequest: an ephemeral needs a global session (unknown -> expired).
	if err := s.checkSession(req, owner, req.Ephemeral); err != ErrOK {
		return nil, err
	}
	path := req.Path
	i := strings.LastIndexByte(path, '/')
	if i < 0 || strings.IndexByte(path, 0) >= 0 { // validatePathForCreate
		return nil, ErrBadArguments
	}
	parent, err := s.getRecordForPath(path[:i])
	if err != ErrOK {
		return nil, err
	}
	parentCVersion := parent.stat.Cversion
	if req.Sequence {
		path += sequenceSuffix(parentCVersion)
	}
	if !validatePath(path) {
		return nil, ErrBadArguments
	}
	if _, err := s.getRecordForPath(path); err == ErrOK {
		return nil, ErrNodeExists
	}
	if parent.stat.EphemeralOwner != 0 {
		return nil, ErrNoChildrenForEphemerals
	}
	newCversion := parent.stat.Cversion + 1
	txn.Path, txn.Data, txn.Ephemeral, txn.ParentCVersion = path, req.Data, req.Ephemeral, newCversion
	ephemeralOwner := int64(0)
	if req.Ephemeral {
		ephemeralOwner = req.SessionID
	}
	parent = s.newChange(parent.duplicate(zxid))
	parent.childCount++
	parent.stat.Cversion = newCversion
	parent.stat.Pzxid = zxid
	s.addChangeRecord(parent)
	s.addChangeRecord(s.newChange(changeRecord{zxid: zxid, path: path, data: req.Data,
		stat: Stat{Czxid: zxid, Mzxid: zxid, Pzxid: zxid, Ctime: now, Mtime: now, EphemeralOwner: ephemeralOwner}}))
	return txn, ErrOK
}

// versionedRecord is the common start of setData and check in pRequest2Txn: the session,
// the path, the node's change record, and the expected version against it (the next
// version is returned).
func (s *Server) versionedRecord(req *Request, owner int64) (*changeRecord, int32, int32) {
	if err := s.checkSession(req, owner, false); err != ErrOK {
		return nil, 0, err
	}
	if !validatePath(req.Path) {
		return nil, 0, ErrBadArguments
	}
	node, err := s.getRecordForPath(req.Path)
	if err != ErrOK {
		return nil, 0, err
	}
	v, err := checkAndIncVersion(node.stat.Version, req.Version)
	if err != ErrOK {
		return nil, 0, err
	}
	return node, v, ErrOK
}
