package model

import (
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/zabsim/zabsim/sim"
)

// The client: org.apache.zookeeper.ZooKeeper with its ClientCnxn (SendThread and
// EventThread), ZKWatchManager and StaticHostProvider, as one sim.Node. Every call is
// asynchronous (a callback with a Result), as in ZooKeeper's async API; callbacks and
// watch events run in the order the client receives them, as on the EventThread.

// ClientConfig configures a client. The zero value of a field means its default.
type ClientConfig struct {
	// Servers is the connect string: the sids the client may connect to. StaticHostProvider
	// shuffles them with the client's random stream. Required.
	Servers []int64
	// SessionTimeout is the session timeout the client asks for (default 30s, zkCli's); the
	// server clamps it into [minSessionTimeout, maxSessionTimeout].
	SessionTimeout sim.Time
	// RequestTimeout is zookeeper.request.timeout (default 0: off). A call not answered
	// within it returns RequestTimeout, and the client drops its connection
	// (ClientCnxn.submitRequest -> cleanAndNotifyState). ZooKeeper applies it to
	// synchronous calls only; the model applies it to every call.
	RequestTimeout sim.Time
	// DisableAutoWatchReset is zookeeper.disableAutoWatchReset: no SetWatches on reconnect.
	DisableAutoWatchReset bool
	// CClientTimeouts gives the C client's error when the receive timeout (2/3 of the
	// session timeout) passes: pending calls return OperationTimeout (zookeeper.c,
	// zookeeper_interest -> handle_socket_error_msg(ZOPERATIONTIMEOUT)). The Java
	// ClientCnxn, the default, returns ConnectionLoss.
	CClientTimeouts bool
	// SimulatedSessionExpiry makes the client declare its session expired after being
	// disconnected for the negotiated session timeout, as Curator's ConnectionStateManager
	// does. ZooKeeper's own clients never do: they learn of expiry from a server.
	SimulatedSessionExpiry bool
}

// ClientStates is ZooKeeper.States (the ones the model reaches).
type ClientStates uint8

const (
	ClientNotConnected ClientStates = iota
	ClientConnecting
	ClientConnected
	ClientClosed
)

func (s ClientStates) String() string {
	if names := [...]string{"NOT_CONNECTED", "CONNECTING", "CONNECTED", "CLOSED"}; int(s) < len(names) {
		return names[s]
	}
	return "States(" + strconv.Itoa(int(s)) + ")" // only in a trace made by hand
}

// isAlive mirrors States.isAlive.
func (s ClientStates) isAlive() bool { return s != ClientClosed && s != ClientNotConnected }

// WatchedEvent is what a Watcher is given (org.apache.zookeeper.WatchedEvent).
type WatchedEvent struct {
	Type  EventType
	State KeeperState
	Path  string
}

// Watcher is org.apache.zookeeper.Watcher. Watchers are compared by identity (a watcher
// registered twice on a path is called once), so implementations must be pointers.
type Watcher interface {
	Process(e WatchedEvent)
}

type watchFunc struct{ f func(WatchedEvent) }

func (w *watchFunc) Process(e WatchedEvent) { w.f(e) }

// NewWatcher wraps f as a Watcher; every call returns a distinct watcher.
func NewWatcher(f func(WatchedEvent)) Watcher { return &watchFunc{f} }

// Result is the outcome of a call, as its callback sees it (and its ClientReturn record
// holds it: a callback must not change it).
type Result struct {
	Op   OpCode
	Path string
	Xid  int32
	Err  int32 // ErrOK or a KeeperException code
	// Zxid is ReplyHeader.zxid: the server's lastProcessedZxid when it replied (0 without
	// a reply).
	Zxid   Zxid
	Server int64 // the server whose reply this is, -1 when the client failed the call itself
	// Created is the path created (create, with its sequence suffix).
	Created string
	// Data is the znode's data: read by getData, written by create and setData.
	Data     string
	Stat     Stat       // getData, exists, setData (zero otherwise)
	Children []string   // getChildren
	Results  []OpResult // multi
	CallAt   sim.Time   // when the call was made
	ReturnAt sim.Time
}

// Callback receives a call's Result.
type Callback func(r *Result)

// Client timer kinds.
const (
	ctConnect         = iota // start the next connection attempt (after the reconnect sleeps)
	ctRecv                   // connect timeout while connecting, read timeout while connected
	ctPing                   // send a ping when the connection has been idle
	ctRequestTimeout         // zookeeper.request.timeout
	ctSimulatedExpiry        // SimulatedSessionExpiry
)

// watch registration kinds (ZooKeeper.DataWatchRegistration, ExistsWatchRegistration,
// ChildWatchRegistration).
type watchKind uint8

const (
	watchNone watchKind = iota
	watchData
	watchExists
	watchChild
)

// clientCall is ClientCnxn.Packet: a request, its callback and its watch registration.
type clientCall struct {
	m        *ClientRequest
	cb       Callback
	watcher  Watcher
	wkind    watchKind
	callAt   sim.Time
	internal bool // SetWatches: no record, no callback
}

// Client is a ZooKeeper client handle: a sim.Node with ids 1000 and up.
type Client struct {
	w   *sim.World
	mem *clientSlabs // survives a crash; shared in an Ensemble, reused after its Memory's Reset
	id  sim.NodeID
	cfg ClientConfig
	rng *rand.Rand
	// xid is ClientCnxn.xid. It is not reset by a crash, so that (client, xid) names one
	// call for the whole run (a restarted process would start again at 1).
	xid int32

	// volatile state (a crash loses it)
	state          ClientStates
	hosts          []int64 // StaticHostProvider.serverAddresses, shuffled
	currentIndex   int
	lastIndex      int
	isFirstConnect bool
	nextServer     int64
	conn           sim.ConnID
	server         int64 // the server of conn
	initialized    bool  // the ConnectResponse of conn arrived
	closing        bool
	sessionID      int64
	negotiated     sim.Time
	readTimeout    sim.Time
	connectTimeout sim.Time
	lastZxid       Zxid
	lastSend       sim.Time
	lastHeard      sim.Time
	disconnectedAt sim.Time
	outgoing       []*clientCall // outgoingQueue: not sent yet
	pending        []*clientCall // pendingQueue: sent, waiting for their reply
	dataWatches    map[string][]Watcher
	existWatches   map[string][]Watcher
	childWatches   map[string][]Watcher
	sessionWatch   []Watcher // the default watcher(s): session events only
}

// NewClient adds a client with node id id (1000 and up) to w. It does not start it.
func NewClient(w *sim.World, id sim.NodeID, cfg ClientConfig) (*Client, error) {
	return newClient(w, id, cfg, new(clientSlabs))
}

// newClient is NewClient making its values from mem.
func newClient(w *sim.World, id sim.NodeID, cfg ClientConfig, mem *clientSlabs) (*Client, error) {
	if id < 1000 {
		return nil, &sim.SettingError{Setting: "client id", Value: strconv.Itoa(int(id)), Reason: "client ids start at 1000"}
	}
	if len(cfg.Servers) == 0 {
		return nil, &sim.SettingError{Setting: "client servers", Value: "", Reason: "a client needs at least one server"}
	}
	if cfg.SessionTimeout == 0 {
		cfg.SessionTimeout = 30 * sim.Second
	}
	// It connects within a share of it and pings every third: below 1ms those round to
	// nothing and the client would loop in no time.
	if cfg.SessionTimeout < sim.Millisecond {
		return nil, &sim.SettingError{Setting: "client session timeout", Value: cfg.SessionTimeout.String(), Reason: "want at least 1ms"}
	}
	c := &Client{w: w, id: id, cfg: cfg, xid: 1, mem: mem}
	if err := w.Add(id, c); err != nil {
		return nil, err
	}
	c.rng = w.Stream("client/" + strconv.Itoa(int(id)))
	c.resetVolatile()
	return c, nil
}

func (c *Client) resetVolatile() {
	c.state = ClientNotConnected
	c.hosts = append(c.hosts[:0], c.cfg.Servers...) // shuffled in place later: a copy
	c.currentIndex, c.lastIndex = -1, -1
	c.isFirstConnect = true
	c.conn, c.server = -1, -1
	c.initialized, c.closing = false, false
	c.sessionID, c.negotiated, c.lastZxid = 0, 0, 0
	// ClientCnxn's constructor: before a session is negotiated, from the requested timeout.
	c.readTimeout = c.cfg.SessionTimeout * 2 / 3
	c.connectTimeout = c.cfg.SessionTimeout / sim.Time(len(c.hosts))
	clear(c.outgoing)
	c.outgoing, c.pending = c.outgoing[:0], nil
	for _, m := range []*map[string][]Watcher{&c.dataWatches, &c.existWatches, &c.childWatches} {
		if *m == nil {
			*m = map[string][]Watcher{}
		} else {
			clear(*m)
		}
	}
}

// ID is the client's node id.
func (c *Client) ID() sim.NodeID { return c.id }

// State is the client's ZooKeeper.States.
func (c *Client) State() ClientStates { return c.state }

// Connected reports whether the client has a session on an open connection.
func (c *Client) Connected() bool { return c.state == ClientConnected }

// ConnectedNow reports whether the client is connected and really is: its server is running
// (not paused) and serving, the connection is open at both ends, and no partition cuts it.
// Connected alone can be a client that has not yet noticed its server died.
func (c *Client) ConnectedNow(e *Ensemble) bool {
	if c.state != ClientConnected || c.conn < 0 {
		return false
	}
	s := e.Server(c.server)
	sid := sim.NodeID(c.server)
	return s != nil && s.Up() && !c.w.IsPaused(sid) && s.Serving() &&
		c.w.IsOpen(c.conn, c.id) && c.w.IsOpen(c.conn, sid) &&
		!c.w.Cuts(c.id, sid, PortClient) && !c.w.Cuts(sid, c.id, PortClient)
}

// SessionID is the client's session (0 before the first ConnectResponse).
func (c *Client) SessionID() int64 { return c.sessionID }

// SessionTimeout is the negotiated session timeout (0 before the first ConnectResponse).
func (c *Client) SessionTimeout() sim.Time { return c.negotiated }

// LastZxid is the last zxid the client saw in a reply.
func (c *Client) LastZxid() Zxid { return c.lastZxid }

// Server is the sid the client is connected (or connecting) to, -1 none.
func (c *Client) Server() int64 { return c.server }

// Outstanding is the number of calls not yet returned.
func (c *Client) Outstanding() int { return len(c.outgoing) + len(c.pending) }

// AddSessionWatcher adds a default watcher: it gets every session event (SyncConnected,
// Disconnected, Expired, Closed). Several may be added, as Curator's connection state
// listeners fan out ZooKeeper's single default watcher.
func (c *Client) AddSessionWatcher(w Watcher) { c.sessionWatch = append(c.sessionWatch, w) }

func (c *Client) record(r sim.Message) { c.w.Record(c.id, r) }

func (c *Client) curServer() int64 {
	if c.state == ClientConnected {
		return c.server
	}
	return -1
}

// --- sim.Node ---

// Start creates the handle: shuffle the hosts and connect (ZooKeeper's constructor).
func (c *Client) Start() {
	c.resetVolatile()
	c.shuffleHosts()
	c.state = ClientConnecting
	c.startConnect()
}

// Restart starts a new handle after a crash (a new process: a new session).
func (c *Client) Restart() { c.Start() }

// Crash loses everything: calls in flight never return, and the application's watchers
// (the recipes on this handle) die with the process.
func (c *Client) Crash() {
	c.resetVolatile()
	c.sessionWatch = nil
}

// Accept refuses connections: a client listens on nothing.
func (c *Client) Accept(conn sim.ConnID, peer sim.NodeID) { c.w.Close(conn, c.id) }

// FsyncDone is not used: a client has no disk.
func (c *Client) FsyncDone(uint64) {}

// Receive handles a message from the server (ClientCnxnSocket.doIO -> readConnectResult /
// SendThread.readResponse).
func (c *Client) Receive(conn sim.ConnID, m sim.Message) {
	if conn != c.conn {
		return
	}
	c.lastHeard = c.w.Now()
	switch msg := m.(type) {
	case *ConnectResponse:
		c.onConnected(msg)
	case *WatcherEvent:
		c.onNotification(msg)
	case *ClientReply:
		c.readResponse(msg)
	}
}

// Closed: the server closed the connection, or it was reset ("EndOfStreamException").
func (c *Client) Closed(conn sim.ConnID) {
	if conn != c.conn {
		return
	}
	c.conn = -1 // the world has closed it
	c.connectionLost("connection closed by server "+itoa(c.server), ErrConnectionLoss)
}

// Timer dispatches a client timer.
func (c *Client) Timer(kind int) {
	switch kind {
	case ctConnect:
		c.connectTo(c.nextServer)
	case ctRecv:
		c.recvTimeout()
	case ctPing:
		c.pingTimer()
	case ctRequestTimeout:
		c.requestTimeout()
	case ctSimulatedExpiry:
		c.simulatedExpiry()
	}
}

// --- StaticHostProvider ---

// shuffleHosts mirrors StaticHostProvider's Collections.shuffle(list, sourceOfRandomness).
func (c *Client) shuffleHosts() {
	for i := len(c.hosts) - 1; i > 0; i-- {
		j := c.rng.IntN(i + 1)
		c.hosts[i], c.hosts[j] = c.hosts[j], c.hosts[i]
	}
}

// nextHost mirrors StaticHostProvider.next(spinDelay): the next server in the list, and
// whether to sleep first (it has come back round to the last server it connected to).
func (c *Client) nextHost() (int64, bool) {
	c.currentIndex++
	if c.currentIndex == len(c.hosts) {
		c.currentIndex = 0
	}
	sleep := c.currentIndex == c.lastIndex
	if c.lastIndex == -1 {
		c.lastIndex = 0 // "We don't want to sleep on the first ever connect attempt."
	}
	return c.hosts[c.currentIndex], sleep
}

// --- SendThread ---

// startConnect mirrors the top of SendThread.run's loop: hostProvider.next(1000), then
// startConnect's random sleep of up to 1s on every attempt but the first, then connect.
func (c *Client) startConnect() {
	sid, spin := c.nextHost()
	var delay sim.Time
	if spin {
		delay += sim.Second
	}
	if !c.isFirstConnect {
		delay += sim.Time(c.rng.Int64N(int64(sim.Second)))
	}
	// ClientCnxn clears isFirstConnect in primeConnection, once a TCP connection is up; a
	// simulated dial cannot tell, so the model clears it after the first attempt.
	c.isFirstConnect = false
	c.nextServer = sid
	if delay == 0 {
		c.connectTo(sid)
		return
	}
	c.w.SetTimer(c.id, ctConnect, delay)
}

// connectTo opens a connection and sends the ConnectRequest (ClientCnxnSocket.connect,
// then primeConnection). The other queued packets wait for the ConnectResponse.
func (c *Client) connectTo(sid int64) {
	if c.state != ClientConnecting {
		return
	}
	now := c.w.Now()
	c.conn = c.w.DialPort(c.id, sim.NodeID(sid), PortClient)
	c.server = sid
	c.initialized = false
	c.lastSend, c.lastHeard = now, now
	c.w.Send(c.conn, c.id, &ConnectRequest{LastZxidSeen: c.lastZxid, TimeOut: c.cfg.SessionTimeout, SessionID: c.sessionID})
	c.w.SetTimer(c.id, ctRecv, c.connectTimeout)
}

// onConnected mirrors SendThread.onConnected.
func (c *Client) onConnected(r *ConnectResponse) {
	if c.initialized {
		return
	}
	if r.TimeOut <= 0 {
		// "Unable to reconnect to ZooKeeper service, session 0x... has expired"
		c.state = ClientClosed
		c.initialized = false
		c.w.Close(c.conn, c.id)
		c.conn = -1
		c.stopTimers()
		c.sessionEvent(StateExpired, "session expired (server "+itoa(c.server)+")")
		c.failAll(ErrSessionExpired)
		c.sessionEvent(StateClosed, "")
		return
	}
	c.negotiated = r.TimeOut
	c.readTimeout = r.TimeOut * 2 / 3
	c.connectTimeout = r.TimeOut / sim.Time(len(c.hosts))
	// SendThread.run computes its wait from the read timeout from now on: the timer armed
	// with the connect timeout would fire too late when that is the longer one.
	c.w.SetTimer(c.id, ctRecv, c.lastHeard+c.readTimeout-c.w.Now())
	c.lastIndex = c.currentIndex // hostProvider.onConnected()
	c.sessionID = r.SessionID
	c.state = ClientConnected
	c.initialized = true
	c.w.CancelTimer(c.id, ctSimulatedExpiry)
	c.sessionEvent(StateSyncConnected, "")
	if c.state != ClientConnected || !c.initialized {
		return // a session watcher closed the handle
	}
	// primeConnection: SetWatches first (relative to lastZxid), then what waited.
	if !c.cfg.DisableAutoWatchReset {
		if d, e, ch := sortedKeys(c.dataWatches), sortedKeys(c.existWatches), sortedKeys(c.childWatches); len(d)+len(e)+len(ch) > 0 {
			m := &ClientRequest{Xid: setWatchesXid, Type: OpSetWatches, SetWatches: &SetWatches{RelativeZxid: c.lastZxid,
				DataWatches: d, ExistWatches: e, ChildWatches: ch}}
			c.send(&clientCall{m: m, internal: true, callAt: c.w.Now()})
		}
	}
	out := c.outgoing
	c.outgoing = nil
	for _, call := range out {
		c.send(call)
	}
	if c.outgoing == nil {
		clear(out)
		c.outgoing = out[:0] // the array again for the calls of the next disconnection
	}
	c.w.SetTimer(c.id, ctPing, pingIdle(c.readTimeout))
}

func sortedKeys(m map[string][]Watcher) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// send writes a packet on the connection (ClientCnxnSocketNIO.doIO): it joins pendingQueue.
func (c *Client) send(call *clientCall) {
	c.w.Send(c.conn, c.id, call.m)
	c.lastSend = c.w.Now()
	c.pending = append(c.pending, call)
}

// pingIdle is how long the connection may be idle before SendThread.run pings: when
// readTimeout/2 - idleSend - (idleSend > 1s ? 1s : 0) <= 0, or idleSend > 10s.
func pingIdle(readTimeout sim.Time) sim.Time {
	half := readTimeout / 2
	t := half
	if half > sim.Second {
		t = max(half-sim.Second, sim.Second+sim.Millisecond)
	}
	return min(t, 10*sim.Second+sim.Millisecond)
}

// pingTimer mirrors the ping part of SendThread.run.
func (c *Client) pingTimer() {
	if c.state != ClientConnected || !c.initialized {
		return
	}
	limit := pingIdle(c.readTimeout)
	idle := c.w.Now() - c.lastSend
	if idle >= limit {
		// sendPing: RequestHeader(PING_XID, ping); it does not join pendingQueue.
		c.w.Send(c.conn, c.id, &ClientRequest{Xid: pingXid, Type: OpPing})
		c.lastSend = c.w.Now()
		idle = 0
	}
	c.w.SetTimer(c.id, ctPing, limit-idle)
}

// recvTimeout mirrors SendThread.run's "to <= 0": nothing heard for the connect timeout
// (connecting) or the read timeout (connected): "Client session timed out".
func (c *Client) recvTimeout() {
	if c.conn < 0 {
		return
	}
	to := c.connectTimeout
	if c.state == ClientConnected {
		to = c.readTimeout
	}
	if rest := c.lastHeard + to - c.w.Now(); rest > 0 {
		c.w.SetTimer(c.id, ctRecv, rest)
		return
	}
	code := ErrConnectionLoss
	if c.cfg.CClientTimeouts {
		code = ErrOperationTimeout
	}
	c.connectionLost("Client session timed out, have not heard from server in "+
		itoa(int64((c.w.Now()-c.lastHeard)/sim.Millisecond))+"ms", code)
}

// connectionLost mirrors SendThread.cleanAndNotifyState and the loop going round: close
// the socket, fail every queued and pending call, tell the watchers Disconnected, and
// connect again (unless the handle is closing).
func (c *Client) connectionLost(reason string, code int32) {
	if c.conn >= 0 {
		c.w.Close(c.conn, c.id)
		c.conn = -1
	}
	wasConnected := c.state == ClientConnected
	c.initialized = false
	c.w.CancelTimer(c.id, ctRecv)
	c.w.CancelTimer(c.id, ctPing)
	if c.state == ClientConnected {
		c.state = ClientConnecting
	}
	if wasConnected {
		c.disconnectedAt = c.w.Now()
		if c.cfg.SimulatedSessionExpiry && c.negotiated > 0 {
			c.w.SetTimer(c.id, ctSimulatedExpiry, c.negotiated)
		}
	}
	c.failAll(code)
	if !c.state.isAlive() {
		return
	}
	c.sessionEvent(StateDisconnected, reason)
	if !c.state.isAlive() {
		return
	}
	if c.closing {
		// "don't re-establish connection if we are closing"
		c.finishClose()
		return
	}
	c.startConnect()
}

// failAll mirrors SendThread.cleanup: every pending call, then every queued one, returns
// code (conLossPacket: SessionExpired once the handle is closed).
func (c *Client) failAll(code int32) {
	calls := append(c.pending, c.outgoing...) // in pending's array or a new one, never outgoing's
	clear(c.outgoing)
	c.pending, c.outgoing = nil, c.outgoing[:0]
	if c.state == ClientClosed {
		code = ErrSessionExpired
	}
	for _, call := range calls {
		c.finish(call, &ClientReply{Xid: call.m.Xid, Err: code}, -1)
	}
}

// readResponse mirrors SendThread.readResponse for replies (not notifications).
func (c *Client) readResponse(r *ClientReply) {
	if r.Xid == pingXid {
		return // "Got ping response": lastZxid is not updated from pings
	}
	if len(c.pending) == 0 {
		c.connectionLost("Nothing in the queue, but got "+itoa(int64(r.Xid)), ErrConnectionLoss)
		return
	}
	call := c.pending[0]
	c.pending = dropFirst(c.pending)
	if call.m.Xid != r.Xid {
		c.finish(call, &ClientReply{Xid: call.m.Xid, Err: ErrConnectionLoss}, -1)
		c.connectionLost("Xid out of order. Got Xid "+itoa(int64(r.Xid))+" expected Xid "+itoa(int64(call.m.Xid)), ErrConnectionLoss)
		return
	}
	if r.Zxid > 0 {
		c.lastZxid = r.Zxid
	}
	c.finish(call, r, c.server)
	if c.state == ClientConnected && c.cfg.RequestTimeout > 0 {
		c.armRequestTimeout()
	}
}

// finish mirrors ClientCnxn.finishPacket: register the watch (if the result allows it),
// then the callback. server is -1 for a call the client failed itself.
func (c *Client) finish(call *clientCall, r *ClientReply, server int64) {
	m := call.m
	if call.watcher != nil {
		switch {
		case call.wkind == watchData && r.Err == ErrOK:
			c.addWatch(c.dataWatches, m.Path, call.watcher)
		case call.wkind == watchExists && r.Err == ErrOK:
			c.addWatch(c.dataWatches, m.Path, call.watcher)
		case call.wkind == watchExists && r.Err == ErrNoNode:
			c.addWatch(c.existWatches, m.Path, call.watcher)
		case call.wkind == watchChild && r.Err == ErrOK:
			c.addWatch(c.childWatches, m.Path, call.watcher)
		}
	}
	if call.internal {
		return
	}
	rec := c.mem.retRec.of(ClientReturn{Client: int64(c.id), Session: c.sessionID, Result: Result{Op: m.Type,
		Path: m.Path, Xid: m.Xid, Err: r.Err, Zxid: r.Zxid, Server: server, CallAt: call.callAt, ReturnAt: c.w.Now()}})
	res := &rec.Result
	if r.Err == ErrOK {
		switch m.Type {
		case OpCreate:
			res.Created, res.Data = r.Path, m.Data
		case OpGetData:
			res.Data, res.Stat = r.Data, r.Stat
		case OpExists:
			res.Stat = r.Stat
		case OpSetData:
			res.Stat, res.Data = r.Stat, m.Data
		case OpGetChildren:
			res.Children, res.Stat = r.Children, r.Stat
		case OpMulti:
			// ZooKeeper.multi: the first ErrorResult that is not OK is the call's error.
			res.Results = r.Results
			for _, or := range r.Results {
				if or.Type == OpError && or.Err != ErrOK {
					res.Err = or.Err
					break
				}
			}
		}
	}
	c.record(rec)
	if call.cb != nil {
		call.cb(res)
	}
	if m.Type == OpCloseSession && c.state != ClientClosed {
		// ZooKeeper.close: after the closeSession returns, ClientCnxn.disconnect.
		c.finishClose()
	}
}

// finishClose mirrors ClientCnxn.disconnect: the handle is closed for good.
func (c *Client) finishClose() {
	if c.conn >= 0 {
		c.w.Close(c.conn, c.id)
		c.conn = -1
	}
	c.state = ClientClosed
	c.initialized = false
	c.stopTimers()
	c.failAll(ErrConnectionLoss)
	c.sessionEvent(StateClosed, "")
}

func (c *Client) stopTimers() {
	for _, k := range []int{ctConnect, ctRecv, ctPing, ctRequestTimeout, ctSimulatedExpiry} {
		c.w.CancelTimer(c.id, k)
	}
}

// armRequestTimeout sets the request timer for the oldest call waiting.
func (c *Client) armRequestTimeout() {
	var oldest *clientCall
	for _, q := range [][]*clientCall{c.pending, c.outgoing} {
		for _, call := range q {
			if !call.internal {
				oldest = call
				break
			}
		}
		if oldest != nil {
			break
		}
	}
	if oldest == nil {
		c.w.CancelTimer(c.id, ctRequestTimeout)
		return
	}
	c.w.SetTimer(c.id, ctRequestTimeout, oldest.callAt+c.cfg.RequestTimeout-c.w.Now())
}

// requestTimeout mirrors ClientCnxn.submitRequest with zookeeper.request.timeout: the
// timed-out call returns RequestTimeout, then cleanAndNotifyState.
func (c *Client) requestTimeout() {
	now := c.w.Now()
	var expired *clientCall
	for _, q := range []*[]*clientCall{&c.pending, &c.outgoing} {
		for i, call := range *q {
			if !call.internal && call.callAt+c.cfg.RequestTimeout <= now {
				expired = call
				*q = slices.Delete(*q, i, i+1)
				break
			}
		}
		if expired != nil {
			break
		}
	}
	if expired == nil {
		c.armRequestTimeout()
		return
	}
	c.finish(expired, &ClientReply{Xid: expired.m.Xid, Err: ErrRequestTimeout}, -1)
	if c.state.isAlive() {
		c.connectionLost("request timeout", ErrConnectionLoss)
	}
}

// simulatedExpiry is Curator's simulated session expiration.
func (c *Client) simulatedExpiry() {
	if c.state != ClientConnecting || c.w.Now()-c.disconnectedAt < c.negotiated {
		return
	}
	if c.conn >= 0 {
		c.w.Close(c.conn, c.id)
		c.conn = -1
	}
	c.state = ClientClosed
	c.stopTimers()
	c.sessionEvent(StateExpired, "simulated session expiry (disconnected for the session timeout)")
	c.failAll(ErrSessionExpired)
	c.sessionEvent(StateClosed, "")
}

// --- the EventThread: watch events and session events ---

// onNotification mirrors the NOTIFICATION_XID branch of readResponse and
// ZKWatchManager.materialize: the watchers of the event's path are removed and called.
func (c *Client) onNotification(e *WatcherEvent) {
	ws := c.materialize(e.Type, e.Path)
	c.record(&WatchDelivered{Client: int64(c.id), Session: c.sessionID, Server: c.server, Type: e.Type,
		Path: e.Path, Zxid: e.Zxid, Watchers: len(ws)})
	ev := WatchedEvent{Type: e.Type, State: StateSyncConnected, Path: e.Path}
	for _, w := range ws {
		w.Process(ev)
	}
}

func (c *Client) addWatch(m map[string][]Watcher, path string, w Watcher) {
	if !slices.Contains(m[path], w) {
		m[path] = append(m[path], w)
	}
}

// materialize mirrors ZKWatchManager.materialize for node events.
func (c *Client) materialize(typ EventType, path string) []Watcher {
	var out []Watcher
	take := func(m map[string][]Watcher) {
		for _, w := range m[path] {
			if !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
		delete(m, path)
	}
	switch typ {
	case EventNodeDataChanged, EventNodeCreated:
		take(c.dataWatches)
		take(c.existWatches)
	case EventNodeChildrenChanged:
		take(c.childWatches)
	case EventNodeDeleted:
		take(c.dataWatches)
		take(c.existWatches)
		take(c.childWatches)
	}
	return out
}

// sessionEvent records a session state change and hands the None event to the default
// watchers and to every registered watcher (materialize(None): watches stay registered,
// unless disableAutoWatchReset and the state is not SyncConnected).
func (c *Client) sessionEvent(state KeeperState, reason string) {
	c.record(c.mem.state.of(ClientState{Client: int64(c.id), Session: c.sessionID, Server: c.server, State: state,
		LastZxid: c.lastZxid, Timeout: c.negotiated, Reason: reason}))
	ws := slices.Clone(c.sessionWatch)
	for _, m := range []map[string][]Watcher{c.dataWatches, c.existWatches, c.childWatches} {
		for _, p := range sortedKeys(m) {
			for _, w := range m[p] {
				if !slices.Contains(ws, w) {
					ws = append(ws, w)
				}
			}
		}
		if c.cfg.DisableAutoWatchReset && state != StateSyncConnected {
			clear(m)
		}
	}
	ev := WatchedEvent{Type: EventNone, State: state}
	for _, w := range ws {
		w.Process(ev)
	}
}

// --- the ZooKeeper API ---

// submit mirrors ClientCnxn.queuePacket: the call is recorded, then sent at once if the
// client has a session on an open connection, else queued for the next one; a closed or
// closing handle fails it at once (conLossPacket).
func (c *Client) submit(req ClientRequest, cb Callback, w Watcher, kind watchKind) {
	m := c.mem.request.new()
	*m = req
	m.Xid = c.xid
	c.xid++
	if c.xid <= 0 { // "Skip from MAX to 1"
		c.xid = 1
	}
	call := c.mem.call.new()
	*call = clientCall{m: m, cb: cb, watcher: w, wkind: kind, callAt: c.w.Now()}
	if w == nil {
		call.wkind = watchNone
	}
	rec := c.mem.callRec.new()
	*rec = ClientCall{Client: int64(c.id), Session: c.sessionID, Xid: m.Xid, Server: c.curServer(), Op: m.Type,
		Path: m.Path, Data: m.Data, Version: m.Version, Mode: m.Mode, Watch: w != nil, Ops: m.Ops}
	c.record(rec)
	if !c.state.isAlive() || c.closing {
		code := ErrConnectionLoss
		if c.state == ClientClosed {
			code = ErrSessionExpired
		}
		c.finish(call, &ClientReply{Xid: m.Xid, Err: code}, -1)
		return
	}
	if m.Type == OpCloseSession {
		c.closing = true
	}
	if c.state == ClientConnected && c.initialized {
		c.send(call)
	} else {
		c.outgoing = append(c.outgoing, call)
	}
	if c.cfg.RequestTimeout > 0 && !c.w.TimerArmed(c.id, ctRequestTimeout) {
		c.armRequestTimeout()
	}
}

// Create is ZooKeeper.create(path, data, acl, createMode, cb, ctx).
func (c *Client) Create(path, data string, mode CreateMode, cb Callback) {
	c.submit(ClientRequest{Type: OpCreate, Path: path, Data: data, Mode: mode}, cb, nil, watchNone)
}

// Delete is ZooKeeper.delete(path, version, cb, ctx); version -1 matches any.
func (c *Client) Delete(path string, version int32, cb Callback) {
	c.submit(ClientRequest{Type: OpDelete, Path: path, Version: version}, cb, nil, watchNone)
}

// SetData is ZooKeeper.setData(path, data, version, cb, ctx); version -1 matches any.
func (c *Client) SetData(path, data string, version int32, cb Callback) {
	c.submit(ClientRequest{Type: OpSetData, Path: path, Data: data, Version: version}, cb, nil, watchNone)
}

// GetData is ZooKeeper.getData(path, watcher, cb, ctx); w nil sets no watch.
func (c *Client) GetData(path string, w Watcher, cb Callback) {
	c.submit(ClientRequest{Type: OpGetData, Path: path, Watch: w != nil}, cb, w, watchData)
}

// Exists is ZooKeeper.exists(path, watcher, cb, ctx); the watch is set whether or not the
// node exists.
func (c *Client) Exists(path string, w Watcher, cb Callback) {
	c.submit(ClientRequest{Type: OpExists, Path: path, Watch: w != nil}, cb, w, watchExists)
}

// GetChildren is ZooKeeper.getChildren(path, watcher, cb, ctx).
func (c *Client) GetChildren(path string, w Watcher, cb Callback) {
	c.submit(ClientRequest{Type: OpGetChildren, Path: path, Watch: w != nil}, cb, w, watchChild)
}

// Sync is ZooKeeper.sync(path, cb, ctx): once it returns, a read through this client sees
// every write committed before the sync was issued.
func (c *Client) Sync(path string, cb Callback) {
	c.submit(ClientRequest{Type: OpSync, Path: path}, cb, nil, watchNone)
}

// Multi is ZooKeeper.multi(ops, cb, ctx): all of the ops or none.
func (c *Client) Multi(ops []Op, cb Callback) {
	c.submit(ClientRequest{Type: OpMulti, Ops: slices.Clone(ops)}, cb, nil, watchNone)
}

// Close is ZooKeeper.close(): closeSession, then the handle is closed (its ephemerals go
// with the session).
func (c *Client) Close(cb Callback) {
	if !c.state.isAlive() {
		return
	}
	c.submit(ClientRequest{Type: OpCloseSession}, cb, nil, watchNone)
}
