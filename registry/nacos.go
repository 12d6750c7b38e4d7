package registry

import (
	"slices"
	"strconv"
	"strings"

	"github.com/zabsim/zabsim/sim"
)

// Nacos 2.x naming, as its server and Java client behave by default. Ephemeral instances
// (nacos-ap) belong to the gRPC connection that registered them (ConnectionBasedClient):
// the server holding that connection is responsible for them and replicates them with
// Distro; persistent instances (nacos-cp) are written through Raft (JRaft in Nacos, here
// go.etcd.io/raft/v3, nacosraft.go) and checked by the server DistroMapper makes
// responsible for their service.
const (
	// DistroConstants.DEFAULT_DATA_SYNC_DELAY_MILLISECONDS: a change is pushed after it.
	distroSyncDelay = 1000 * sim.Millisecond
	// DEFAULT_DATA_SYNC_TIMEOUT_MILLISECONDS and DEFAULT_DATA_SYNC_RETRY_DELAY_MILLISECONDS:
	// a push not acknowledged in time is retried (DistroClientTaskFailedHandler.retry).
	distroSyncTimeout = 3000 * sim.Millisecond
	distroRetryDelay  = 3000 * sim.Millisecond
	// DEFAULT_DATA_VERIFY_INTERVAL_MILLISECONDS: DistroVerifyTimedTask's period.
	distroVerifyInterval = 5000 * sim.Millisecond
	distroVerifyTimeout  = 3000 * sim.Millisecond
	// DEFAULT_DATA_LOAD_RETRY_DELAY_MILLISECONDS / _TIMEOUT_: DistroLoadDataTask.
	distroLoadRetry   = 30 * sim.Second
	distroLoadTimeout = 30 * sim.Second
	// ClientConstants.DEFAULT_CLIENT_EXPIRED_TIME: a replica (non-native client) not
	// renewed by a verify for this long is removed (ConnectionBasedClient.isExpire), checked
	// every Constants.DEFAULT_HEART_BEAT_INTERVAL by ExpiredClientCleaner.
	nacosClientExpired = 3 * 60 * sim.Second
	nacosCleanInterval = 5 * sim.Second
	// RuntimeConnectionEjector.KEEP_ALIVE_TIME, ConnectionManager's eject period (3s after
	// 1s), and the ClientDetectionRequest's 5s timeout (NacosRuntimeConnectionEjector).
	nacosKeepAlive     = 20 * sim.Second
	nacosEjectInterval = 3 * sim.Second
	nacosDetectTimeout = 5 * sim.Second
	// PushConfig: a service change is pushed to its subscribers after a short delay.
	nacosPushDelay = 500 * sim.Millisecond
	// DefaultGrpcClientConfig: connectionKeepAlive 5000, healthCheckTimeOut 3000,
	// healthCheckRetryTimes 3; the request timeout (3000).
	nacosClientKeepAlive  = 5 * sim.Second
	nacosHealthTimeout    = 3 * sim.Second
	nacosHealthRetries    = 3
	nacosRequestTimeout   = 3 * sim.Second
	nacosRedoDelay        = 3 * sim.Second // NamingGrpcRedoService's redo task period
	nacosHTTPTimeout      = 5 * sim.Second // NamingHttpClientProxy, one server's share
	nacosRaftWriteTimeout = 5 * sim.Second // raft rpc_request_timeout_ms
	// ServerMemberManager.MemberInfoReportTask: every 2s; a member failing 3 reports is DOWN.
	nacosMemberReport = 2 * sim.Second
	nacosMemberFails  = 3
	// TcpHealthCheckProcessor.CONNECT_TIMEOUT_MS, SwitchDomain.checkTimes (3), and
	// HealthCheckTaskV2's interval (2s plus a random share of 5s).
	nacosTCPCheckTimeout = 500 * sim.Millisecond
	nacosCheckTimes      = 3
)

// nacosClientData is a Nacos Client (ConnectionBasedClient): the instances one connection
// published, with its revision. native: this server holds the connection.
type nacosClientData struct {
	id         string
	native     bool
	conn       sim.ConnID
	revision   int64
	lastRenew  sim.Time                     // replicas: renewed by verify
	lastActive sim.Time                     // native: the connection's last request
	inst       map[string]map[string]string // service -> instance -> data
	subs       []string
	probing    bool
}

func (c *nacosClientData) clone() *nacosClientData {
	n := &nacosClientData{id: c.id, revision: c.revision, inst: map[string]map[string]string{}}
	for svc, m := range c.inst {
		n.inst[svc] = map[string]string{}
		for k, v := range m {
			n.inst[svc][k] = v
		}
	}
	return n
}

type distroTask struct {
	op  string // CHANGE, DELETE
	due sim.Time
}

// persistent instance state (the Raft state machine, PersistentClientOperationServiceImpl).
type pInstance struct {
	data    string
	healthy bool
	fails   int
	oks     int
}

// NacosServer is one Nacos server node.
type NacosServer struct {
	w     *sim.World
	sid   int64
	n     int
	cp    bool
	set   *Settings
	calls calls
	hold  holder

	clients map[string]*nacosClientData
	byConn  map[sim.ConnID]string
	peers   map[int64]sim.ConnID
	// DistroDelayTaskExecuteEngine: tasks by "clientId>target", merged.
	tasks    map[string]*distroTask
	pushes   map[string]sim.Time // service -> push due
	loaded   bool
	memberOK map[int64]int // consecutive failed reports
	raft     *nacosRaft    // persistent instances (nil in AP)
	pinst    map[string]map[string]*pInstance
	checking map[string]bool
	nodes    map[string]sim.NodeID // instance -> node (shared by the deployment)
}

const (
	ntCalls = iota
	ntDistro
	ntVerify
	ntClean
	ntEject
	ntPush
	ntLoad
	ntReport
	ntRaftTick
	ntRaftElection
	ntHealth
)

func newNacosServer(w *sim.World, sid int64, n int, cp bool, set *Settings, nodes map[string]sim.NodeID) *NacosServer {
	s := &NacosServer{w: w, sid: sid, n: n, cp: cp, set: set, nodes: nodes}
	s.calls.init(w, sim.NodeID(sid), ntCalls)
	if cp {
		s.raft = newNacosRaft(s)
	}
	return s
}

func (s *NacosServer) id() sim.NodeID { return sim.NodeID(s.sid) }

func (s *NacosServer) Start() {
	s.clients = map[string]*nacosClientData{}
	s.byConn = map[sim.ConnID]string{}
	s.peers = map[int64]sim.ConnID{}
	s.tasks = map[string]*distroTask{}
	s.pushes = map[string]sim.Time{}
	s.memberOK = map[int64]int{}
	s.pinst = map[string]map[string]*pInstance{}
	s.checking = map[string]bool{}
	s.calls.reset()
	s.hold.reset()
	s.loaded = false
	if !s.set.Has("nacos-no-verify") {
		s.w.SetTimer(s.id(), ntVerify, distroVerifyInterval)
	}
	s.w.SetTimer(s.id(), ntClean, nacosCleanInterval)
	s.w.SetTimer(s.id(), ntEject, sim.Second)
	s.w.SetTimer(s.id(), ntReport, nacosMemberReport)
	if s.cp {
		s.raft.start()
		s.w.SetTimer(s.id(), ntHealth, 2*sim.Second)
	} else {
		s.load()
	}
}

func (s *NacosServer) Restart() { s.Start() }

func (s *NacosServer) Crash() {
	for _, svc := range s.services() {
		s.w.Record(s.id(), &Holds{Server: s.sid, Service: svc, Why: "down"})
	}
	s.hold.reset()
	s.clients = nil
	if s.raft != nil {
		s.raft.crash()
	}
}

func (s *NacosServer) FsyncDone(uint64) {}

func (s *NacosServer) Accept(c sim.ConnID, peer sim.NodeID) {
	if int64(peer) <= int64(s.n) {
		return // a peer server's connection
	}
	// ConnectionManager.register -> ClientConnectionEventListener.clientConnected.
	id := "s" + strconv.FormatInt(s.sid, 10) + "c" + strconv.Itoa(int(c))
	s.clients[id] = &nacosClientData{id: id, native: true, conn: c, lastActive: s.w.Now(), inst: map[string]map[string]string{}}
	s.byConn[c] = id
}

func (s *NacosServer) Closed(c sim.ConnID) {
	s.calls.closed(c)
	for p, pc := range s.peers {
		if pc == c {
			delete(s.peers, p)
		}
	}
	if id, ok := s.byConn[c]; ok {
		s.clientDisconnected(id, "connection closed")
	}
}

// clientDisconnected is ConnectionBasedClientManager.clientDisconnected: the client and
// its instances go; the responsible server tells the others (DistroClientDataProcessor
// on ClientDisconnectEvent).
func (s *NacosServer) clientDisconnected(id, why string) {
	c := s.clients[id]
	if c == nil {
		return
	}
	delete(s.clients, id)
	if c.native {
		delete(s.byConn, c.conn)
		s.w.Close(c.conn, s.id())
		s.sync(id, "DELETE", distroSyncDelay)
	}
	s.changed(why + " " + id)
}

// services lists every service this server knows, sorted.
func (s *NacosServer) services() []string {
	set := map[string]bool{}
	for _, c := range s.clients {
		for svc := range c.inst {
			set[svc] = true
		}
	}
	for svc := range s.pinst {
		set[svc] = true
	}
	return sortedKeys(set)
}

// view is what the server answers for service: the ephemeral instances of every client it
// knows (ServiceStorage), or the healthy persistent ones.
func (s *NacosServer) view(service string) []string {
	set := map[string]bool{}
	for _, c := range s.clients {
		for inst := range c.inst[service] {
			set[inst] = true
		}
	}
	for inst, p := range s.pinst[service] {
		if p.healthy {
			set[inst] = true
		}
	}
	return sortedKeys(set)
}

// changed records the new answers and schedules the pushes to subscribers.
func (s *NacosServer) changed(why string) {
	for _, svc := range s.services() {
		old := s.hold.last[svc]
		v := s.view(svc)
		s.hold.set(s.w, s.sid, svc, v, why)
		if !slices.Equal(old, v) {
			if _, ok := s.pushes[svc]; !ok {
				s.pushes[svc] = s.w.Now() + nacosPushDelay
			}
		}
	}
	s.armPush()
}

func (s *NacosServer) armPush() {
	next := sim.Never
	for _, t := range s.pushes {
		next = min(next, t)
	}
	if next != sim.Never {
		s.w.SetTimer(s.id(), ntPush, next-s.w.Now())
	}
}

// sync is DistroProtocol.sync: a delayed task per other member, merged by key.
func (s *NacosServer) sync(clientID, op string, delay sim.Time) {
	for p := int64(1); p <= int64(s.n); p++ {
		if p != s.sid {
			s.syncTo(clientID, op, p, delay)
		}
	}
}

func (s *NacosServer) syncTo(clientID, op string, target int64, delay sim.Time) {
	key := clientID + ">" + strconv.FormatInt(target, 10)
	due := s.w.Now() + delay
	if t, ok := s.tasks[key]; ok {
		t.op = op // DistroDelayTask.merge keeps the newer action
		t.due = min(t.due, due)
	} else {
		s.tasks[key] = &distroTask{op: op, due: due}
	}
	s.armDistro()
}

func (s *NacosServer) armDistro() {
	next := sim.Never
	for _, t := range s.tasks {
		next = min(next, t.due)
	}
	if next != sim.Never {
		s.w.SetTimer(s.id(), ntDistro, next-s.w.Now())
	}
}

// peerConn is the cluster RPC connection to a peer (ClusterRpcClientProxy).
func (s *NacosServer) peerConn(p int64) sim.ConnID {
	if c, ok := s.peers[p]; ok && s.w.IsOpen(c, s.id()) {
		return c
	}
	c := s.w.Dial(s.id(), sim.NodeID(p))
	s.peers[p] = c
	return c
}

type distroData struct {
	op     string
	client *nacosClientData
	id     string
}

// runDistro runs the due tasks: DistroSyncChangeTask / DistroSyncDeleteTask.
func (s *NacosServer) runDistro() {
	var due []string
	for k, t := range s.tasks {
		if t.due <= s.w.Now() {
			due = append(due, k)
		}
	}
	slices.Sort(due)
	for _, k := range due {
		t := s.tasks[k]
		delete(s.tasks, k)
		clientID, tgt, _ := strings.Cut(k, ">")
		target, _ := strconv.ParseInt(tgt, 10, 64)
		d := &distroData{op: t.op, id: clientID}
		if t.op != "DELETE" {
			c := s.clients[clientID]
			if c == nil {
				continue // "null == distroData: return true"
			}
			d.client = c.clone()
		}
		text := t.op + " " + clientID
		if d.client != nil {
			text += " rev=" + strconv.FormatInt(d.client.revision, 10)
		}
		op := t.op
		s.calls.send(s.peerConn(target), &msg{kind: "distro-data", body: d, text: text}, distroSyncTimeout, func(r *msg) {
			if r == nil {
				if _, pending := s.tasks[k]; !pending {
					s.syncTo(clientID, op, target, distroRetryDelay)
				}
			}
		})
	}
	s.armDistro()
}

// load is DistroLoadDataTask: a full snapshot from the first member that gives one.
func (s *NacosServer) load() { s.loadFrom(1) }

func (s *NacosServer) loadFrom(p int64) {
	for p == s.sid {
		p++
	}
	if p > int64(s.n) {
		s.w.SetTimer(s.id(), ntLoad, distroLoadRetry)
		return
	}
	s.calls.send(s.peerConn(p), &msg{kind: "distro-snapshot"}, distroLoadTimeout, func(r *msg) {
		if r == nil {
			s.loadFrom(p + 1)
			return
		}
		for _, c := range r.body.([]*nacosClientData) {
			s.applySync(c)
		}
		s.loaded = true
		s.w.Record(s.id(), &Note{Node: s.sid, Text: "distro snapshot loaded from " + strconv.FormatInt(p, 10)})
		s.changed("snapshot")
	})
}

// applySync is DistroClientDataProcessor.handlerClientSyncData: a replica of another
// server's client.
func (s *NacosServer) applySync(c *nacosClientData) {
	cur := s.clients[c.id]
	if cur != nil && cur.native {
		return
	}
	n := c.clone()
	n.native, n.conn = false, -1
	n.lastRenew = s.w.Now()
	if cur != nil {
		n.lastRenew = cur.lastRenew
	}
	s.clients[c.id] = n
}

func (s *NacosServer) Timer(kind int) {
	switch kind {
	case ntCalls:
		s.calls.expire()
	case ntDistro:
		s.runDistro()
	case ntVerify:
		s.verify()
		s.w.SetTimer(s.id(), ntVerify, distroVerifyInterval)
	case ntClean:
		for _, id := range sortedKeys(s.clients) {
			if c := s.clients[id]; !c.native && s.w.Now()-c.lastRenew > nacosClientExpired {
				s.clientDisconnected(id, "expired")
			}
		}
		s.w.SetTimer(s.id(), ntClean, nacosCleanInterval)
	case ntEject:
		s.eject()
		s.w.SetTimer(s.id(), ntEject, nacosEjectInterval)
	case ntPush:
		for _, svc := range sortedKeys(s.pushes) {
			if s.pushes[svc] > s.w.Now() {
				continue
			}
			delete(s.pushes, svc)
			v := s.view(svc)
			for _, id := range sortedKeys(s.clients) {
				if c := s.clients[id]; c.native && slices.Contains(c.subs, svc) {
					s.w.Send(c.conn, s.id(), &msg{kind: "nacos-push", body: &nacosPush{service: svc, inst: v}, text: svc + " " + string(appendSet(nil, v))})
				}
			}
		}
		s.armPush()
	case ntLoad:
		s.load()
	case ntReport:
		s.report()
		s.w.SetTimer(s.id(), ntReport, nacosMemberReport)
	case ntRaftTick:
		s.raft.tick()
	case ntRaftElection:
		s.raft.electionTimeout()
	case ntHealth:
		s.healthChecks()
	}
}

// verify is DistroVerifyTimedTask: the revision of every client this server is
// responsible for, to every other member.
func (s *NacosServer) verify() {
	var ids []string
	var revs []int64
	for _, id := range sortedKeys(s.clients) {
		if c := s.clients[id]; c.native {
			ids = append(ids, id)
			revs = append(revs, c.revision)
		}
	}
	if len(ids) == 0 {
		return
	}
	for p := int64(1); p <= int64(s.n); p++ {
		if p == s.sid {
			continue
		}
		target := p
		s.calls.send(s.peerConn(p), &msg{kind: "distro-verify", body: &verifyData{ids: ids, revs: revs}, text: strconv.Itoa(len(ids)) + " clients"}, distroVerifyTimeout, func(r *msg) {
			if r == nil {
				return
			}
			// ClientVerifyFailedEvent -> syncToVerifyFailedServer: at once.
			for _, id := range r.body.([]string) {
				s.w.Record(s.id(), &Note{Node: s.sid, Text: "verify failed at " + strconv.FormatInt(target, 10) + " for " + id + ": resync"})
				s.syncTo(id, "CHANGE", target, 0)
			}
		})
	}
}

type verifyData struct {
	ids  []string
	revs []int64
}

type nacosPush struct {
	service string
	inst    []string
}

// eject is NacosRuntimeConnectionEjector.ejectOutdatedConnection.
func (s *NacosServer) eject() {
	for _, id := range sortedKeys(s.clients) {
		c := s.clients[id]
		if !c.native || c.probing || s.w.Now()-c.lastActive < nacosKeepAlive {
			continue
		}
		c.probing = true
		s.calls.send(c.conn, &msg{kind: "nacos-detect"}, nacosDetectTimeout, func(r *msg) {
			c.probing = false
			if r != nil {
				c.lastActive = s.w.Now()
				return
			}
			if s.clients[id] == c {
				s.clientDisconnected(id, "ejected")
			}
		})
	}
}

// report is MemberInfoReportTask: a member failing nacosMemberFails reports is DOWN, and
// drops out of DistroMapper's healthy list.
func (s *NacosServer) report() {
	for p := int64(1); p <= int64(s.n); p++ {
		if p == s.sid {
			continue
		}
		target := p
		s.calls.send(s.peerConn(p), &msg{kind: "member-report"}, nacosMemberReport, func(r *msg) {
			if r == nil {
				s.memberOK[target]++
			} else {
				s.memberOK[target] = 0
			}
		})
	}
}

// healthyMembers is ServerMemberManager's healthy list, in order.
func (s *NacosServer) healthyMembers() []int64 {
	var out []int64
	for p := int64(1); p <= int64(s.n); p++ {
		if p == s.sid || s.memberOK[p] < nacosMemberFails {
			out = append(out, p)
		}
	}
	return out
}

// responsible is DistroMapper.responsible(serviceName): distroHash over the healthy list.
func (s *NacosServer) responsible(service string) bool {
	h := s.healthyMembers()
	var hash int32
	for _, r := range service { // Java's String.hashCode
		hash = 31*hash + int32(r)
	}
	i := int64(hash) % (1<<31 - 1)
	if i < 0 {
		i = -i
	}
	return h[i%int64(len(h))] == s.sid
}

func (s *NacosServer) Receive(c sim.ConnID, m sim.Message) {
	mm := m.(*msg)
	reply := func(body any, text string) {
		s.w.Send(c, s.id(), &msg{kind: "reply", seq: mm.seq, body: body, text: text})
	}
	switch mm.kind {
	case "reply":
		s.calls.reply(mm)
	case "member-report":
		reply(nil, "")
	case "distro-data":
		d := mm.body.(*distroData)
		if d.op == "DELETE" {
			if cur := s.clients[d.id]; cur != nil && !cur.native {
				s.clientDisconnected(d.id, "distro delete")
			}
		} else {
			s.applySync(d.client)
			s.changed("distro " + d.id)
		}
		reply(true, "ok")
	case "distro-verify":
		// ConnectionBasedClientManager.verifyClient: a known client of the same revision is
		// renewed; any other fails, and its owner sends it again.
		v := mm.body.(*verifyData)
		var failed []string
		for i, id := range v.ids {
			if cur := s.clients[id]; cur != nil && cur.revision == v.revs[i] {
				cur.lastRenew = s.w.Now()
			} else {
				failed = append(failed, id)
			}
		}
		reply(failed, strings.Join(failed, ","))
	case "distro-snapshot":
		var all []*nacosClientData
		for _, id := range sortedKeys(s.clients) {
			all = append(all, s.clients[id].clone())
		}
		reply(all, strconv.Itoa(len(all))+" clients")
	case "raft":
		s.raft.receive(mm)
	case "nacos":
		s.request(c, mm, reply)
	}
}

type nacosReq struct {
	op, service, instance, data string
}

// request handles a client's request on its connection.
func (s *NacosServer) request(c sim.ConnID, mm *msg, reply func(any, string)) {
	r := mm.body.(*nacosReq)
	cl := s.clients[s.byConn[c]]
	if cl != nil {
		cl.lastActive = s.w.Now()
	}
	switch r.op {
	case "health", "connect":
		reply(true, "ok")
	case "register", "deregister":
		// EphemeralClientOperationServiceImpl.registerInstance / deregisterInstance.
		if cl == nil {
			reply(false, "no client")
			return
		}
		if r.op == "register" {
			if cl.inst[r.service] == nil {
				cl.inst[r.service] = map[string]string{}
			}
			cl.inst[r.service][r.instance] = r.data
		} else {
			delete(cl.inst[r.service], r.instance)
		}
		cl.revision++ // AbstractClient.recalculateRevision
		s.changed(r.op + " " + r.instance)
		s.sync(cl.id, "CHANGE", distroSyncDelay)
		reply(true, "ok")
	case "subscribe":
		if cl != nil && !slices.Contains(cl.subs, r.service) {
			cl.subs = append(cl.subs, r.service)
		}
		v := s.view(r.service)
		reply(v, string(appendSet(nil, v)))
	case "query":
		v := s.view(r.service)
		reply(v, string(appendSet(nil, v)))
	case "pregister", "pderegister":
		s.raft.write(r, reply)
	}
}

// apply is the persistent state machine (PersistentClientOperationServiceImpl.onApply).
func (s *NacosServer) apply(op, service, instance, data string) {
	m := s.pinst[service]
	if m == nil {
		m = map[string]*pInstance{}
		s.pinst[service] = m
	}
	switch op {
	case "pregister":
		m[instance] = &pInstance{data: data, healthy: true}
	case "pderegister":
		delete(m, instance)
	case "unhealthy", "healthy":
		if p := m[instance]; p != nil {
			p.healthy = op == "healthy"
		}
	}
	s.changed(op + " " + instance)
}

// healthChecks is HealthCheckTaskV2 for the persistent instances of the services this
// server is responsible for: a TCP connect to each (TcpHealthCheckProcessor); after
// checkTimes failures in a row the instance is marked unhealthy, through Raft.
func (s *NacosServer) healthChecks() {
	rnd := s.w.Stream("nacos-health/" + strconv.FormatInt(s.sid, 10))
	s.w.SetTimer(s.id(), ntHealth, 2*sim.Second+sim.Time(rnd.Int64N(int64(5*sim.Second))))
	for _, svc := range sortedKeys(s.pinst) {
		if !s.responsible(svc) {
			continue
		}
		for _, inst := range sortedKeys(s.pinst[svc]) {
			key := svc + "/" + inst
			if s.checking[key] {
				continue
			}
			node, ok := s.instanceNode(inst)
			if !ok {
				continue
			}
			s.checking[key] = true
			conn := s.w.Dial(s.id(), node)
			s.calls.send(conn, &msg{kind: "ping"}, nacosTCPCheckTimeout, func(r *msg) {
				delete(s.checking, key)
				s.w.Close(conn, s.id())
				p := s.pinst[svc][inst]
				if p == nil {
					return
				}
				if r == nil {
					p.oks = 0
					if p.fails++; p.fails > nacosCheckTimes && p.healthy {
						s.raft.write(&nacosReq{op: "unhealthy", service: svc, instance: inst}, func(any, string) {})
					}
				} else {
					p.fails = 0
					if p.oks++; p.oks > nacosCheckTimes && !p.healthy {
						s.raft.write(&nacosReq{op: "healthy", service: svc, instance: inst}, func(any, string) {})
					}
				}
			})
		}
	}
}

// instanceNode is the node an instance runs on: its ip:port, for the TCP health check.
func (s *NacosServer) instanceNode(inst string) (sim.NodeID, bool) {
	n, ok := s.nodes[inst]
	return n, ok
}

// --- the client ---

// NacosClient is an application with NacosNamingService: a gRPC connection to one server
// (RpcClient), kept alive by health checks and moved to the next server when they fail;
// ephemeral instances registered on it and re-registered after a reconnect
// (NamingGrpcRedoService); subscriptions answered by pushes. Persistent instances go over
// HTTP (NamingHttpClientProxy.reqApi: one server after another).
type NacosClient struct {
	w          *sim.World
	id         sim.NodeID
	servers    []int64
	cp         bool
	cur        int
	conn       sim.ConnID
	connected  bool
	lastActive sim.Time
	fails      int
	calls      calls
	probe      probe
	view       viewer
	regs       map[string]*nacosReg
	subs       []string
	started    bool
	nodes      map[string]sim.NodeID
}

type nacosReg struct {
	service, instance, data string
	registered, gone, done  bool
	inFlight                bool
}

const (
	ncCalls = iota
	ncHealth
	ncRedo
	ncProbe
)

func newNacosClient(w *sim.World, id sim.NodeID, servers []int64, cp bool, nodes map[string]sim.NodeID) *NacosClient {
	c := &NacosClient{w: w, id: id, servers: servers, cp: cp, conn: -1, nodes: nodes}
	c.calls.init(w, id, ncCalls)
	c.probe = probe{w: w, id: id}
	return c
}

func (c *NacosClient) ID() sim.NodeID { return c.id }
func (c *NacosClient) Ready() bool    { return c.connected }

func (c *NacosClient) Start() {
	c.started, c.connected, c.conn = true, false, -1
	c.calls.reset()
	// ServerListManager starts at a random server.
	c.cur = c.w.Stream("nacos-client/" + strconv.Itoa(int(c.id))).IntN(len(c.servers))
	c.connect()
	c.w.SetTimer(c.id, ncHealth, nacosClientKeepAlive)
	c.w.SetTimer(c.id, ncProbe, ProbeInterval)
	c.w.SetTimer(c.id, ncRedo, nacosRedoDelay)
}

func (c *NacosClient) Restart() {
	for _, k := range sortedKeys(c.regs) {
		c.regs[k].registered = false
	}
	c.Start()
}
func (c *NacosClient) Crash()                        { c.started, c.connected = false, false }
func (c *NacosClient) FsyncDone(uint64)              {}
func (c *NacosClient) Accept(sim.ConnID, sim.NodeID) {}

func (c *NacosClient) Closed(conn sim.ConnID) {
	c.calls.closed(conn)
	if conn == c.conn && c.started {
		// RpcClient: the connection broke; switch server.
		c.conn, c.connected = -1, false
		c.cur++
		c.connect()
	}
}

// connect is RpcClient.connectToServer on the current server, then the redo of every
// registration and subscription.
func (c *NacosClient) connect() {
	sid := c.servers[c.cur%len(c.servers)]
	conn := c.w.Dial(c.id, sim.NodeID(sid))
	c.conn = conn
	c.calls.send(conn, &msg{kind: "nacos", body: &nacosReq{op: "connect"}, text: "connect"}, nacosRequestTimeout, func(r *msg) {
		if conn != c.conn || !c.started {
			return
		}
		if r == nil {
			c.w.Close(conn, c.id)
			c.cur++
			c.connect()
			return
		}
		c.connected, c.fails, c.lastActive = true, 0, c.w.Now()
		for _, k := range sortedKeys(c.regs) {
			if g := c.regs[k]; !c.cp {
				g.registered = false
				c.redo(g)
			}
		}
		for _, svc := range c.subs {
			c.subscribe(svc)
		}
	})
}

func (c *NacosClient) rpc(req *nacosReq, done func(ok bool, body any, sid int64)) {
	if !c.connected {
		done(false, nil, 0)
		return
	}
	sid := c.servers[c.cur%len(c.servers)]
	c.calls.send(c.conn, &msg{kind: "nacos", body: req, text: req.op + " " + req.service + "/" + req.instance}, nacosRequestTimeout, func(r *msg) {
		if r == nil {
			done(false, nil, 0)
			return
		}
		c.lastActive = c.w.Now()
		ok, isBool := r.body.(bool)
		done(!isBool || ok, r.body, sid)
	})
}

// http is NamingHttpClientProxy.reqApi: from a random server, each in turn until one answers.
func (c *NacosClient) http(req *nacosReq, done func(ok bool, sid int64)) {
	start := c.w.Stream("nacos-http/" + strconv.Itoa(int(c.id))).IntN(len(c.servers))
	var try func(i int)
	try = func(i int) {
		if i >= len(c.servers) || !c.started {
			done(false, 0)
			return
		}
		sid := c.servers[(start+i)%len(c.servers)]
		conn := c.w.Dial(c.id, sim.NodeID(sid))
		c.calls.send(conn, &msg{kind: "nacos", body: req, text: req.op + " " + req.service + "/" + req.instance}, nacosHTTPTimeout, func(r *msg) {
			c.w.Close(conn, c.id)
			if r == nil || r.body != true {
				try(i + 1)
				return
			}
			done(true, sid)
		})
	}
	try(0)
}

func (c *NacosClient) Receive(conn sim.ConnID, m sim.Message) {
	mm := m.(*msg)
	switch mm.kind {
	case "reply":
		c.calls.reply(mm)
	case "ping", "nacos-detect":
		c.w.Send(conn, c.id, &msg{kind: "reply", seq: mm.seq})
	case "nacos-push":
		// NamingPushRequestHandler -> ServiceInfoHolder.processServiceInfo.
		p := mm.body.(*nacosPush)
		if slices.Contains(c.subs, p.service) {
			c.view.set(c.w, c.id, p.service, p.inst)
		}
	}
}

func (c *NacosClient) Timer(kind int) {
	switch kind {
	case ncCalls:
		c.calls.expire()
	case ncHealth:
		c.w.SetTimer(c.id, ncHealth, nacosClientKeepAlive)
		if !c.connected || c.w.Now()-c.lastActive < nacosClientKeepAlive {
			return
		}
		conn := c.conn
		c.rpc(&nacosReq{op: "health"}, func(ok bool, _ any, _ int64) {
			if conn != c.conn {
				return
			}
			if ok {
				c.fails = 0
				return
			}
			if c.fails++; c.fails >= nacosHealthRetries {
				// "Server healthy check fail": reconnect to the next server.
				c.w.Close(conn, c.id)
				c.connected, c.conn = false, -1
				c.cur++
				c.connect()
			}
		})
	case ncRedo:
		for _, k := range sortedKeys(c.regs) {
			// A persistent registration that failed is tried again here too: Nacos's
			// client only reports the error; the application (this model) retries.
			if g := c.regs[k]; !g.registered && !g.gone {
				c.redo(g)
			}
		}
		c.w.SetTimer(c.id, ncRedo, nacosRedoDelay)
	case ncProbe:
		for _, svc := range c.subs {
			seq := c.probe.call("query", svc, "")
			c.rpc(&nacosReq{op: "query", service: svc}, func(ok bool, body any, sid int64) {
				inst, _ := body.([]string)
				c.probe.ret("query", svc, "", seq, ok, sid, inst)
			})
		}
		c.w.SetTimer(c.id, ncProbe, ProbeInterval)
	}
}

func (c *NacosClient) redo(g *nacosReg) {
	if g.inFlight || g.gone {
		return
	}
	g.inFlight = true
	seq := c.probe.call("register", g.service, g.instance)
	if c.cp {
		c.http(&nacosReq{op: "pregister", service: g.service, instance: g.instance, data: g.data}, func(ok bool, sid int64) {
			g.inFlight = false
			if ok && !g.gone {
				g.registered, g.done = true, true
			}
			c.probe.ret("register", g.service, g.instance, seq, ok, sid, nil)
		})
		return
	}
	c.rpc(&nacosReq{op: "register", service: g.service, instance: g.instance, data: g.data}, func(ok bool, _ any, sid int64) {
		g.inFlight = false
		if ok && !g.gone {
			g.registered, g.done = true, true
		}
		c.probe.ret("register", g.service, g.instance, seq, ok, sid, nil)
	})
}

func (c *NacosClient) Register(service, instance, data string) {
	if c.regs == nil {
		c.regs = map[string]*nacosReg{}
	}
	c.nodes[instance] = c.id
	g := &nacosReg{service: service, instance: instance, data: data}
	c.regs[service+"/"+instance] = g
	c.redo(g)
}

func (c *NacosClient) Registered(service, instance string) bool {
	g := c.regs[service+"/"+instance]
	return g != nil && g.done
}

func (c *NacosClient) Deregister(service, instance string) {
	g := c.regs[service+"/"+instance]
	if g == nil {
		return
	}
	g.gone = true
	seq := c.probe.call("deregister", service, instance)
	finish := func(ok bool, sid int64) {
		if ok {
			g.registered = false
		}
		c.probe.ret("deregister", service, instance, seq, ok, sid, nil)
	}
	if c.cp {
		c.http(&nacosReq{op: "pderegister", service: service, instance: instance}, finish)
		return
	}
	c.rpc(&nacosReq{op: "deregister", service: service, instance: instance}, func(ok bool, _ any, sid int64) { finish(ok, sid) })
}

func (c *NacosClient) Deregistered(service, instance string) bool {
	g := c.regs[service+"/"+instance]
	return g != nil && g.gone && !g.registered
}

func (c *NacosClient) Subscribe(service string) {
	if !slices.Contains(c.subs, service) {
		c.subs = append(c.subs, service)
	}
	c.subscribe(service)
}

func (c *NacosClient) subscribe(svc string) {
	c.rpc(&nacosReq{op: "subscribe", service: svc}, func(ok bool, body any, _ int64) {
		if inst, isList := body.([]string); ok && (isList || body == nil) {
			c.view.set(c.w, c.id, svc, inst)
		}
	})
}

func (c *NacosClient) View(service string) []string { return c.view.get(service) }

// --- the deployment ---

type nacosDeployment struct {
	w       *sim.World
	cp      bool
	servers []*NacosServer
	nodes   map[string]sim.NodeID
}

// NewNacos adds n Nacos servers (sids 1..n) to w; cp selects persistent instances.
func NewNacos(w *sim.World, n int, cp bool, set *Settings) (Deployment, error) {
	d := &nacosDeployment{w: w, cp: cp, nodes: map[string]sim.NodeID{}}
	for sid := int64(1); sid <= int64(n); sid++ {
		s := newNacosServer(w, sid, n, cp, set, d.nodes)
		if err := w.Add(sim.NodeID(sid), s); err != nil {
			return nil, err
		}
		d.servers = append(d.servers, s)
	}
	return d, nil
}

func (d *nacosDeployment) Kind() Kind {
	if d.cp {
		return NacosCP
	}
	return NacosAP
}

func (d *nacosDeployment) AddClient(id sim.NodeID, servers []int64) (Client, error) {
	c := newNacosClient(d.w, id, servers, d.cp, d.nodes)
	return c, d.w.Add(id, c)
}

func (d *nacosDeployment) Hold(sid int64, service string) []string {
	s := d.servers[sid-1]
	if !d.w.IsUp(sim.NodeID(sid)) || s.clients == nil {
		return nil
	}
	return s.view(service)
}
