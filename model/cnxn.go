package model

import (
	"slices"

	"github.com/zabsim/zabsim/sim"
)

// The server's side of its client connections: NIOServerCnxn with
// ZooKeeperServer.processConnectRequest / finishSessionInit, and the request pipeline as a
// client sees it. Writes go to the leader (the leader's PrepRequestProcessor, or a
// learner's FollowerRequestProcessor forwarding a REQUEST) and are answered when this server
// applies their txn; reads are answered from this server's tree. CommitProcessor keeps each
// session's requests in order: a read waits behind its session's earlier writes (and syncs),
// and reads of other sessions do not wait. That is the per-connection queue below.

// cnxnState is where a client connection is.
type cnxnState uint8

const (
	cnxnInit   cnxnState = iota // ConnectRequest read; createSession or revalidation in flight
	cnxnOpen                    // ConnectResponse sent: requests are read (enableRecv)
	cnxnClosed                  // closed by either end
)

// serverCnxn is ServerCnxn: one client connection of this server.
type serverCnxn struct {
	c          sim.ConnID
	client     sim.NodeID
	sessionID  int64
	timeout    sim.Time // the negotiated session timeout
	state      cnxnState
	renew      bool             // the ConnectRequest named an existing session
	clientZxid Zxid             // the ConnectRequest's lastZxidSeen
	queue      []*cnxnRequest   // the session's requests in arrival order, not yet answered
	early      []*ClientRequest // arrived before the ConnectResponse (disableRecv)
}

// cnxnRequest is a client request in the pipeline (server/Request with its cnxn).
type cnxnRequest struct {
	cn      *serverCnxn
	m       *ClientRequest // nil for the createSession of a new connection
	op      OpCode
	done    bool              // a write: its txn was applied here; a sync: the leader's SYNC came
	result  *ProcessTxnResult // a write's result (nil for a read: most requests)
	prepErr int32             // the leader's PrepRequestProcessor refused a read (checkSession)
}

// ready reports whether the request can be answered once it is at the head of its queue.
func (r *cnxnRequest) ready() bool {
	return r.done
}

// clampSessionTimeout mirrors processConnectRequest: the requested timeout is raised to
// minSessionTimeout and lowered to maxSessionTimeout.
func (s *Server) clampSessionTimeout(to sim.Time) sim.Time {
	if to < s.cfg.MinSessionTimeout {
		to = s.cfg.MinSessionTimeout
	}
	if to > s.cfg.MaxSessionTimeout {
		to = s.cfg.MaxSessionTimeout
	}
	return to
}

// processConnectRequest mirrors ZooKeeperServer.processConnectRequest (with NIOServerCnxn's
// "ZooKeeperServer not running" check before it).
func (s *Server) processConnectRequest(c sim.ConnID, m *ConnectRequest) {
	client := s.w.Peer(c, s.nid)
	rec := s.mem.connect.of(ClientConnect{Sid: s.sid, Client: int64(client), Session: m.SessionID, ClientZxid: m.LastZxidSeen,
		ServerZxid: s.db.lastProcessedZxid(), Timeout: m.TimeOut})
	if !s.Up() || !s.Serving() {
		rec.Outcome = "refused: not serving"
		s.record(rec)
		s.w.Close(c, s.nid)
		s.connKind.del(c)
		return
	}
	if m.LastZxidSeen > s.db.lastProcessedZxid() {
		s.note("Refusing session request for client " + itoa(int64(client)) + " as it has seen zxid " +
			m.LastZxidSeen.String() + " our last zxid is " + s.db.lastProcessedZxid().String() +
			" client must try another server")
		rec.Outcome = "refused: zxid ahead"
		s.record(rec)
		s.w.Close(c, s.nid)
		s.connKind.del(c)
		return
	}
	cn := &serverCnxn{c: c, client: client, timeout: s.clampSessionTimeout(m.TimeOut), state: cnxnInit,
		clientZxid: m.LastZxidSeen}
	s.connKind.set(c, connClient)
	s.cnxns[c] = cn
	if m.SessionID == 0 {
		s.createSession(cn)
		return
	}
	// A client reconnecting: close its other connections here (DisconnectReason
	// CLIENT_RECONNECT), then reopenSession -> revalidateSession.
	cn.renew = true
	cn.sessionID = m.SessionID
	s.closeSessionCnxns(m.SessionID, cn)
	s.revalidateSession(cn)
}

// createSession mirrors ZooKeeperServer.createSession: a new id from this server's session
// tracker, then a createSession request through the pipeline; the ConnectResponse goes out
// when this server applies the txn (FinalRequestProcessor -> finishSessionInit).
func (s *Server) createSession(cn *serverCnxn) {
	id := s.nextSessionID
	s.nextSessionID++
	cn.sessionID = id
	if s.state == LEADING && s.leader != nil && s.leader.sessions != nil {
		s.leader.sessions.trackSession(id, cn.timeout, s.w.Now()) // SessionTrackerImpl.createSession
	}
	r := &cnxnRequest{cn: cn, op: OpCreateSession}
	cn.queue = append(cn.queue, r)
	s.submitWrite(r, &Request{Op: OpCreateSession, SessionID: id, Timeout: cn.timeout})
}

// revalidateSession mirrors ZooKeeperServer.revalidateSession on the leader (touch the
// session; valid if it is known and not closing; the leader becomes its owner) and
// LearnerZooKeeperServer.revalidateSession on a learner (ask the leader: REVALIDATE).
func (s *Server) revalidateSession(cn *serverCnxn) {
	if s.state == LEADING {
		l := s.leader
		valid := l != nil && l.sessions != nil && l.sessions.touchSession(cn.sessionID, cn.timeout, s.w.Now())
		s.finishSessionInit(cn, valid)
		if valid {
			l.sessions.setOwner(cn.sessionID, s.sid)
		}
		return
	}
	ls := s.learner
	if ls == nil || ls.c < 0 {
		s.finishSessionInit(cn, false)
		return
	}
	// Learner.validateSession
	if ls.pendingRevalidations == nil {
		ls.pendingRevalidations = map[int64]*serverCnxn{}
	}
	ls.pendingRevalidations[cn.sessionID] = cn
	s.w.Send(ls.c, s.nid, s.packet(QuorumPacket{Type: REVALIDATE, Zxid: -1, Session: cn.sessionID, Timeout: cn.timeout}))
}

// revalidate mirrors Learner.revalidate: the leader's answer to a REVALIDATE.
func (s *Server) revalidate(p *QuorumPacket) {
	ls := s.learner
	cn := ls.pendingRevalidations[p.Session]
	if cn == nil {
		s.note("Missing session 0x" + hex(p.Session) + " for validation")
		return
	}
	delete(ls.pendingRevalidations, p.Session)
	s.finishSessionInit(cn, p.Valid)
}

// finishSessionInit mirrors ZooKeeperServer.finishSessionInit: the ConnectResponse, with
// timeout and session 0 when the session is no longer valid; then the connection is
// enabled, or closed after the response.
func (s *Server) finishSessionInit(cn *serverCnxn, valid bool) {
	if cn.state == cnxnClosed {
		return
	}
	rec := s.mem.connect.of(ClientConnect{Sid: s.sid, Client: int64(cn.client), Session: cn.sessionID,
		ClientZxid: cn.clientZxid, ServerZxid: s.db.lastProcessedZxid(), Timeout: cn.timeout})
	resp := &ConnectResponse{}
	switch {
	case !valid:
		rec.Outcome = "expired"
	case cn.renew:
		rec.Outcome = "renewed"
	default:
		rec.Outcome = "established"
	}
	if valid {
		resp.TimeOut, resp.SessionID = cn.timeout, cn.sessionID
	}
	s.record(rec)
	s.w.Send(cn.c, s.nid, resp)
	if !valid {
		s.closeCnxn(cn) // sendBuffer(ServerCnxnFactory.closeConn)
		return
	}
	cn.state = cnxnOpen
	early := cn.early
	cn.early = nil
	for _, m := range early {
		if cn.state != cnxnOpen {
			return
		}
		s.submitClientRequest(cn, m)
	}
}

// clientReceive handles a message on a client connection.
func (s *Server) clientReceive(c sim.ConnID, m sim.Message) {
	cn := s.cnxns[c]
	if cn == nil {
		return
	}
	req, ok := m.(*ClientRequest)
	if !ok {
		s.closeCnxn(cn)
		return
	}
	switch cn.state {
	case cnxnInit:
		cn.early = append(cn.early, req)
	case cnxnOpen:
		s.submitClientRequest(cn, req)
	}
}

// toRequest turns a client request into the pipeline's Request.
func (s *Server) toRequest(session int64, m *ClientRequest) *Request {
	r := s.mem.req.of(Request{SessionID: session, Cxid: m.Xid, Op: m.Type, Path: m.Path, Data: m.Data, Version: m.Version,
		Ephemeral: m.Mode.IsEphemeral(), Sequence: m.Mode.IsSequential()})
	if len(m.Ops) > 0 {
		r.Ops = make([]*Request, 0, len(m.Ops))
	}
	for _, op := range m.Ops {
		r.Ops = append(r.Ops, s.mem.req.of(Request{SessionID: session, Cxid: m.Xid, Op: op.Type, Path: op.Path, Data: op.Data,
			Version: op.Version, Ephemeral: op.Mode.IsEphemeral(), Sequence: op.Mode.IsSequential()}))
	}
	return r
}

// submitClientRequest mirrors ZooKeeperServer.submitRequestNow (touch the session; a
// missing session drops the request) and the first processors: the leader's
// PrepRequestProcessor (checkSession for reads, a txn for writes), a learner's
// FollowerRequestProcessor (forward writes and syncs).
func (s *Server) submitClientRequest(cn *serverCnxn, m *ClientRequest) {
	if !s.touchSession(cn.sessionID, cn.timeout) {
		s.note("Dropping request: no session 0x" + hex(cn.sessionID) + " exists, probably expired and removed")
		return
	}
	r := s.mem.request.new()
	*r = cnxnRequest{cn: cn, m: m, op: m.Type}
	cn.queue = append(cn.queue, r)
	switch {
	case m.Type.isWrite():
		s.submitWrite(r, s.toRequest(cn.sessionID, m))
	case m.Type == OpSync && s.state != LEADING:
		// FollowerRequestProcessor: pendingSyncs, then the request to the leader, which
		// answers with SYNC once everything proposed before it is committed.
		ls := s.learner
		ls.pendingSyncs = append(ls.pendingSyncs, r)
		s.learnerForward(s.mem.req.of(Request{Op: OpSync, SessionID: cn.sessionID, Cxid: m.Xid, Path: m.Path}))
	default:
		// A read (also ping, setWatches, and sync on the leader, where CommitProcessor lets
		// it through like a read). The leader's PrepRequestProcessor checks the session.
		if s.state == LEADING && s.leader != nil && s.leader.sessions != nil {
			r.prepErr = s.leader.sessions.checkSession(cn.sessionID, s.sid, false)
		}
		r.done = true
	}
	s.processCnxnQueue(cn)
}

// submitWrite sends a write of connection r.cn into the pipeline; r is done when this
// server applies the txn with the same (session, cxid).
func (s *Server) submitWrite(r *cnxnRequest, req *Request) {
	s.waiting[reqKey{req.SessionID, req.Cxid}] = waiter{r: r}
	if s.state == LEADING {
		s.leaderSubmit(req, s.sid)
		return
	}
	s.learnerForward(req)
}

// processCnxnQueue answers the connection's requests from the head while they are ready:
// CommitProcessor's per-session order, then FinalRequestProcessor.
func (s *Server) processCnxnQueue(cn *serverCnxn) {
	for len(cn.queue) > 0 && cn.state != cnxnClosed {
		r := cn.queue[0]
		if !r.ready() {
			return
		}
		cn.queue = dropFirst(cn.queue)
		s.finalRequest(r)
	}
}

// finalRequest mirrors FinalRequestProcessor.processRequest for a request of a local
// connection: build the response, with ReplyHeader.zxid = this server's lastProcessedZxid.
func (s *Server) finalRequest(r *cnxnRequest) {
	cn := r.cn
	res := r.result
	if res == nil {
		res = &ProcessTxnResult{}
	}
	if r.op == OpCreateSession {
		s.finishSessionInit(cn, res.Err == ErrOK)
		return
	}
	m := r.m
	t := s.db.tree
	reply := s.mem.reply.new()
	*reply = ClientReply{Xid: m.Xid, Zxid: s.db.lastProcessedZxid()}
	err := r.prepErr
	if m.Type.isWrite() {
		err = res.Err
		if m.Type == OpMulti {
			err = ErrOK // a multi's errors are in its results; the header says OK
			for _, sub := range res.Multi {
				reply.Results = append(reply.Results, OpResult{Type: sub.Type, Err: sub.Err, Path: sub.Path, Stat: sub.Stat})
				if sub.Err == ErrSessionMoved {
					err = ErrSessionMoved
				}
			}
			if res.Type == OpError { // the whole request failed before its ops
				err = res.Err
			}
		}
	}
	if err == ErrSessionMoved {
		s.closeCnxn(cn) // "cnxn.sendCloseSession()": no reply
		return
	}
	if err == ErrOK {
		watcher := sim.ConnID(-1)
		if m.Watch {
			watcher = cn.c
		}
		switch m.Type {
		case OpPing:
			reply.Xid = pingXid
		case OpSetWatches:
			sw := m.Watches()
			t.setWatches(sw.RelativeZxid, sw.DataWatches, sw.ExistWatches, sw.ChildWatches, cn.c)
			s.sendFired()
			reply.Xid = setWatchesXid
		case OpGetData:
			reply.Data, reply.Stat, err = t.getData(m.Path, watcher)
		case OpExists:
			reply.Stat, err = t.statNode(m.Path, watcher)
		case OpGetChildren:
			reply.Children, reply.Stat, err = t.getChildren(m.Path, watcher)
		case OpSync:
			reply.Path = m.Path
		case OpCreate:
			reply.Path = res.Path
		case OpSetData:
			reply.Stat = res.Stat
		}
	}
	reply.Err = err
	s.w.Send(cn.c, s.nid, reply)
	if m.Type == OpCloseSession {
		s.closeCnxn(cn) // cnxn.sendCloseSession()
	}
}

// sendFired sends the watch events the tree triggered to their connections
// (ServerCnxn.process: a notification is written to the connection at once, so it goes
// before any reply written later).
func (s *Server) sendFired() {
	for _, f := range s.db.tree.takeFired() {
		cn := s.cnxns[f.c]
		if cn == nil || cn.state == cnxnClosed {
			continue
		}
		ev := f.ev
		s.w.Send(cn.c, s.nid, &ev)
	}
}

// learnerSync mirrors FollowerZooKeeperServer.sync / ObserverZooKeeperServer.sync: the
// leader's SYNC answers the oldest pending sync, which completes in its session's order.
func (s *Server) learnerSync() {
	ls := s.learner
	if len(ls.pendingSyncs) == 0 {
		s.note("Not expecting a sync.")
		return
	}
	r := ls.pendingSyncs[0]
	ls.pendingSyncs = dropFirst(ls.pendingSyncs)
	r.done = true
	if r.cn.state != cnxnClosed {
		s.processCnxnQueue(r.cn)
	}
}

// closeCnxn closes a client connection from the server's side (NIOServerCnxn.close):
// its watches go (DataTree.removeCnxn); the session lives on until it expires.
func (s *Server) closeCnxn(cn *serverCnxn) {
	if cn.state == cnxnClosed {
		return
	}
	s.w.Close(cn.c, s.nid)
	s.forgetCnxn(cn)
}

func (s *Server) forgetCnxn(cn *serverCnxn) {
	cn.state = cnxnClosed
	cn.queue, cn.early = nil, nil
	delete(s.cnxns, cn.c)
	s.connKind.del(cn.c)
	s.db.tree.removeCnxn(cn.c)
}

// clientConnClosed: the client closed its connection (or it died).
func (s *Server) clientConnClosed(c sim.ConnID) {
	if cn := s.cnxns[c]; cn != nil {
		s.forgetCnxn(cn)
	}
}

// sortedCnxns lists the open client connections by connection id.
func (s *Server) sortedCnxns() []*serverCnxn {
	cs := make([]sim.ConnID, 0, len(s.cnxns))
	for c := range s.cnxns {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	out := make([]*serverCnxn, len(cs))
	for i, c := range cs {
		out[i] = s.cnxns[c]
	}
	return out
}

// closeSessionCnxns mirrors ServerCnxnFactory.closeSession: close this server's
// connections of a session (but not except).
func (s *Server) closeSessionCnxns(session int64, except *serverCnxn) {
	for _, cn := range s.sortedCnxns() {
		if cn != except && cn.sessionID == session {
			s.closeCnxn(cn)
		}
	}
}

// closeAllConnections mirrors QuorumPeer.closeAllConnections, which Leader.shutdown and
// Learner.shutdown call: a server leaving its role drops every client.
func (s *Server) closeAllConnections() {
	for _, cn := range s.sortedCnxns() {
		s.closeCnxn(cn)
	}
}

// ClientCount is the number of client connections this server has open.
func (s *Server) ClientCount() int { return len(s.cnxns) }

func hex(v int64) string {
	const digits = "0123456789abcdef"
	if v == 0 {
		return "0"
	}
	u := uint64(v)
	var b [16]byte
	i := len(b)
	for u > 0 {
		i--
		b[i] = digits[u&15]
		u >>= 4
	}
	return string(b[i:])
}
