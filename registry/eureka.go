package registry

import (
	"slices"
	"strconv"
	"strings"

	"github.com/zabsim/zabsim/sim"
)

// Eureka as Spring Cloud Netflix runs it by default: Netflix's eureka-core classes with
// the settings of EurekaServerConfigBean / EurekaClientConfigBean / EurekaInstanceConfigBean
// and Spring's InstanceRegistry. Each mechanism cites the class and setting it mirrors.
const (
	// Lease.DEFAULT_DURATION_IN_SECS, leaseExpirationDurationInSeconds.
	eurekaLeaseDuration = 90 * sim.Second
	// LeaseInfo renewalIntervalInSecs (the client's heartbeat), and
	// expectedClientRenewalIntervalSeconds (the server's assumption of it).
	eurekaRenewInterval = 30 * sim.Second
	// evictionIntervalTimerInMs: AbstractInstanceRegistry.EvictionTask's period.
	eurekaEvictionInterval = 60 * sim.Second
	// renewalPercentThreshold.
	eurekaRenewalPercent = 0.85
	// renewalThresholdUpdateIntervalMs: PeerAwareInstanceRegistryImpl.updateRenewalThreshold.
	eurekaThresholdUpdate = 15 * 60 * sim.Second
	// MeasuredRate(1000 * 60): renewsLastMin's bucket.
	eurekaRateBucket = 60 * sim.Second
	// responseCacheUpdateIntervalMs: ResponseCacheImpl's readOnlyCacheMap refresh.
	eurekaCacheRefresh = 30 * sim.Second
	// registryFetchIntervalSeconds: DiscoveryClient's CacheRefreshThread.
	eurekaFetchInterval = 30 * sim.Second
	// PeerEurekaNode.MAX_BATCHING_DELAY_MS and BATCH_SIZE (AcceptorExecutor).
	eurekaBatchDelay = 500 * sim.Millisecond
	eurekaBatchSize  = 250
	// PeerEurekaNode.RETRY_SLEEP_TIME_MS (TransientError) and SERVER_UNAVAILABLE_SLEEP_TIME_MS
	// (Congestion, which a read timeout is), TaskExecutors' back-off before a retry.
	eurekaRetrySleep       = 100 * sim.Millisecond
	eurekaUnavailableSleep = 1000 * sim.Millisecond
	// EurekaServerConfigBean peerNodeReadTimeoutMs (Spring's default; Netflix's is 5000).
	eurekaPeerTimeout = 200 * sim.Millisecond
	// maxTimeForReplication: a cancel's task expires after it (register and heartbeat
	// tasks after the lease renewal interval, PeerEurekaNode.getLeaseRenewalOf).
	eurekaMaxReplication = 30 * sim.Second
	// EurekaClientConfigBean eurekaServerReadTimeoutSeconds (8) + connect (5): one
	// endpoint's share of a call; RetryableEurekaHttpClient tries up to 3 endpoints.
	eurekaClientTimeout = 8 * sim.Second
	eurekaClientRetries = 3
)

// --- the server ---

type eurekaLease struct {
	id, data    string
	lastUpdate  sim.Time // Lease.lastUpdateTimestamp (renew() sets it to now + duration)
	registered  sim.Time
	dirty       sim.Time // InstanceInfo.lastDirtyTimestamp
	evicted     bool
	fromReplica bool
}

// isExpired is Lease.isExpired(additionalLeaseMs): because renew() adds the duration to
// lastUpdateTimestamp, a renewed lease expires 2 x 90s after its last renewal ("a minor
// bug ... will not be fixed", Lease.java).
func (l *eurekaLease) isExpired(now, additional sim.Time) bool {
	return l.evicted || now > l.lastUpdate+eurekaLeaseDuration+additional
}

type eurekaTask struct {
	key    string // PeerEurekaNode.taskId: "register#app/id"
	action string // register, heartbeat, cancel
	app    string
	lease  eurekaLease
	submit sim.Time
	expiry sim.Time
}

// eurekaPeer is PeerEurekaNode: its batching dispatcher (AcceptorExecutor's pendingTasks
// and processingOrder) and the one batch in flight.
type eurekaPeer struct {
	sid      int64
	pending  map[string]*eurekaTask
	order    []string
	inFlight []*eurekaTask
	conn     sim.ConnID
	answered bool // the connection has carried a reply: a timeout is Congestion, not a connect failure
	retryAt  sim.Time
}

// EurekaServer is one Eureka server: PeerAwareInstanceRegistryImpl over
// AbstractInstanceRegistry, with ResponseCacheImpl and one PeerEurekaNode per peer.
type EurekaServer struct {
	w     *sim.World
	sid   int64
	n     int
	set   *Settings
	calls calls
	hold  holder

	registry map[string]map[string]*eurekaLease
	// renewsLastMin (MeasuredRate): the current bucket and the last full one.
	renewsCur, renewsLast int
	expected              int // expectedNumberOfClientsSendingRenews
	threshold             int // numberOfRenewsPerMinThreshold
	preserving            bool
	lastEvict             sim.Time
	// ResponseCacheImpl: readWriteCacheMap (nil: invalidated) and readOnlyCacheMap.
	rw, ro map[string][]string
	peers  []*eurekaPeer
}

const (
	etCalls = iota
	etEvict
	etRate
	etThreshold
	etCache
	etPeer // + peer index
)

func newEurekaServer(w *sim.World, sid int64, n int, set *Settings) *EurekaServer {
	s := &EurekaServer{w: w, sid: sid, n: n, set: set}
	s.calls.init(w, sim.NodeID(sid), etCalls)
	return s
}

func (s *EurekaServer) id() sim.NodeID { return sim.NodeID(s.sid) }

func (s *EurekaServer) Start() {
	s.registry = map[string]map[string]*eurekaLease{}
	s.rw, s.ro = map[string][]string{}, map[string][]string{}
	s.calls.reset()
	s.hold.reset()
	s.renewsCur, s.renewsLast, s.lastEvict, s.preserving = 0, 0, 0, false
	s.peers = nil
	for p := int64(1); p <= int64(s.n); p++ {
		if p != s.sid {
			s.peers = append(s.peers, &eurekaPeer{sid: p, pending: map[string]*eurekaTask{}, conn: -1})
		}
	}
	// EurekaServerBootstrap: registry.syncUp() copies nothing with Spring's
	// registrySyncRetries=0, and InstanceRegistry.openForTraffic turns the count 0 into
	// defaultOpenForTrafficCount (1), so that registrations raise the threshold.
	s.expected = 1
	s.updateThreshold()
	// openForTraffic -> postInit: renewsLastMin.start() and the EvictionTask.
	s.w.SetTimer(s.id(), etRate, eurekaRateBucket)
	s.w.SetTimer(s.id(), etEvict, eurekaEvictionInterval)
	s.w.SetTimer(s.id(), etThreshold, eurekaThresholdUpdate)
	// ResponseCacheImpl schedules its refresh at the next multiple of the interval.
	s.w.SetTimer(s.id(), etCache, (s.w.Now()/eurekaCacheRefresh+1)*eurekaCacheRefresh-s.w.Now())
}

func (s *EurekaServer) Restart() { s.Start() }

func (s *EurekaServer) Crash() {
	s.hold.reset()
	for _, app := range sortedKeys(s.registry) {
		s.w.Record(s.id(), &Holds{Server: s.sid, Service: app, Why: "down"})
	}
	s.registry = nil
}

func (s *EurekaServer) Accept(sim.ConnID, sim.NodeID) {}
func (s *EurekaServer) FsyncDone(uint64)              {}

func (s *EurekaServer) Closed(c sim.ConnID) {
	s.calls.closed(c)
	for _, p := range s.peers {
		if p.conn == c {
			p.conn = -1
		}
	}
}

// updateThreshold is AbstractInstanceRegistry.updateRenewsPerMinThreshold.
func (s *EurekaServer) updateThreshold() {
	s.threshold = int(float64(s.expected) * (60.0 / eurekaRenewInterval.Seconds()) * eurekaRenewalPercent)
}

// leaseExpirationEnabled is PeerAwareInstanceRegistryImpl.isLeaseExpirationEnabled:
// self-preservation keeps every lease while the renewals of the last minute are not above
// the threshold.
func (s *EurekaServer) leaseExpirationEnabled() bool {
	if s.set.Has("eureka-no-self-preservation") {
		return true
	}
	return s.threshold > 0 && s.renewsLast > s.threshold
}

func (s *EurekaServer) Timer(kind int) {
	switch {
	case kind == etCalls:
		s.calls.expire()
	case kind == etRate:
		s.renewsLast, s.renewsCur = s.renewsCur, 0
		s.w.SetTimer(s.id(), etRate, eurekaRateBucket)
	case kind == etEvict:
		s.evictionTask()
		s.w.SetTimer(s.id(), etEvict, eurekaEvictionInterval)
	case kind == etThreshold:
		// updateRenewalThreshold: counted from the server's own registry here (Eureka
		// counts eurekaClient.getApplications(), its embedded client's copy of it).
		count := 0
		for _, app := range s.registry {
			count += len(app)
		}
		if float64(count) > eurekaRenewalPercent*float64(s.expected) || s.set.Has("eureka-no-self-preservation") {
			s.expected = count
			s.updateThreshold()
		}
		s.w.SetTimer(s.id(), etThreshold, eurekaThresholdUpdate)
	case kind == etCache:
		// ResponseCacheImpl.getCacheUpdateTask: every cached key takes readWriteCacheMap's value.
		for _, app := range sortedKeys(s.ro) {
			s.ro[app] = s.readWrite(app)
			s.noteHold(app, "cache refresh")
		}
		s.w.SetTimer(s.id(), etCache, eurekaCacheRefresh)
	case kind >= etPeer:
		s.dispatch(s.peers[kind-etPeer])
	}
}

// evictionTask is EvictionTask.run -> evict(compensationTimeMs).
func (s *EurekaServer) evictionTask() {
	comp := sim.Time(0)
	if s.lastEvict > 0 {
		comp = max(0, s.w.Now()-s.lastEvict-eurekaEvictionInterval)
	}
	s.lastEvict = s.w.Now()
	enabled := s.leaseExpirationEnabled()
	if enabled == s.preserving {
		s.preserving = !enabled
		what := "self-preservation on"
		if enabled {
			what = "self-preservation off"
		}
		s.w.Record(s.id(), &Note{Node: s.sid, Text: what + " (renews last min " + strconv.Itoa(s.renewsLast) + ", threshold " + strconv.Itoa(s.threshold) + ")"})
	}
	if !enabled {
		return
	}
	type ref struct{ app, id string }
	var expired []ref
	size := 0
	for _, app := range sortedKeys(s.registry) {
		for _, id := range sortedKeys(s.registry[app]) {
			size++
			if s.registry[app][id].isExpired(s.w.Now(), comp) {
				expired = append(expired, ref{app, id})
			}
		}
	}
	// "To compensate for GC pauses or drifting local time": at most size - size*0.85 at
	// once, picked at random (a Knuth shuffle, from the server's seeded stream).
	limit := size - int(float64(size)*eurekaRenewalPercent)
	toEvict := min(len(expired), limit)
	rnd := s.w.Stream("eureka/evict/" + strconv.FormatInt(s.sid, 10))
	for i := 0; i < toEvict; i++ {
		j := i + rnd.IntN(len(expired)-i)
		expired[i], expired[j] = expired[j], expired[i]
		s.internalCancel(expired[i].app, expired[i].id, "evicted")
	}
}

// readWrite is readWriteCacheMap.get: generatePayload from the registry when invalidated.
// (Its 180s expireAfterWrite changes nothing here: the payload depends only on the registry,
// and every change invalidates it.)
func (s *EurekaServer) readWrite(app string) []string {
	if v, ok := s.rw[app]; ok {
		return v
	}
	v := setOf(s.registry[app])
	s.rw[app] = v
	return v
}

// answer is ResponseCacheImpl.getValue with shouldUseReadOnlyResponseCache (true).
func (s *EurekaServer) answer(app string) []string {
	if v, ok := s.ro[app]; ok {
		return v
	}
	v := s.readWrite(app)
	s.ro[app] = v
	s.noteHold(app, "cache load")
	return v
}

func (s *EurekaServer) noteHold(app, why string) {
	v, ok := s.ro[app]
	if !ok {
		v = setOf(s.registry[app])
	}
	s.hold.set(s.w, s.sid, app, v, why)
}

// invalidate is ResponseCacheImpl.invalidate: readWriteCacheMap only; readers of the
// read-only map see the change at its next refresh.
func (s *EurekaServer) invalidate(app, why string) {
	delete(s.rw, app)
	s.noteHold(app, why)
}

// register is AbstractInstanceRegistry.register.
func (s *EurekaServer) register(app string, l eurekaLease, replication bool) {
	m := s.registry[app]
	if m == nil {
		m = map[string]*eurekaLease{}
		s.registry[app] = m
	}
	if old := m[l.id]; old != nil && !old.evicted {
		if old.dirty > l.dirty {
			l.data, l.dirty = old.data, old.dirty // the existing lease's info is newer
		}
	} else if s.expected > 0 {
		s.expected++
		s.updateThreshold()
	}
	nl := &eurekaLease{id: l.id, data: l.data, dirty: l.dirty, lastUpdate: s.w.Now(), registered: s.w.Now(), fromReplica: replication}
	m[l.id] = nl
	s.invalidate(app, "register "+l.id)
	if !replication {
		s.replicate("register", app, *nl)
	}
}

// renew is AbstractInstanceRegistry.renew: renewsLastMin counts replicated renewals too.
func (s *EurekaServer) renew(app, id string, replication bool) bool {
	l := s.registry[app][id]
	if l == nil {
		return false
	}
	s.renewsCur++
	l.lastUpdate = s.w.Now() + eurekaLeaseDuration // Lease.renew()
	if !replication {
		s.replicate("heartbeat", app, *l)
	}
	return true
}

// internalCancel removes a lease; a cancel is replicated, an eviction is not (the peers
// evict on their own: "not desired for expires", AbstractInstanceRegistry.internalCancel).
func (s *EurekaServer) internalCancel(app, id, why string) bool {
	l := s.registry[app][id]
	if l == nil {
		return false
	}
	delete(s.registry[app], id)
	if s.expected > 0 {
		s.expected--
		s.updateThreshold()
	}
	s.invalidate(app, why+" "+id)
	return true
}

func (s *EurekaServer) cancel(app, id string, replication bool) bool {
	l := s.registry[app][id]
	if !s.internalCancel(app, id, "cancel") {
		return false
	}
	if !replication {
		s.replicate("cancel", app, *l)
	}
	return true
}

// replicate is PeerAwareInstanceRegistryImpl.replicateToPeers -> PeerEurekaNode.register /
// heartbeat / cancel: a task per peer in its batching dispatcher.
func (s *EurekaServer) replicate(action, app string, l eurekaLease) {
	exp := eurekaRenewInterval
	if action == "cancel" {
		exp = eurekaMaxReplication
	}
	for i, p := range s.peers {
		s.enqueue(i, p, &eurekaTask{key: action + "#" + app + "/" + l.id, action: action, app: app, lease: l,
			submit: s.w.Now(), expiry: s.w.Now() + exp})
	}
}

// enqueue is AcceptorExecutor.appendTaskHolder: a task replaces the pending one of the
// same id (overriddenTasks) and keeps its place.
func (s *EurekaServer) enqueue(i int, p *eurekaPeer, t *eurekaTask) {
	if _, ok := p.pending[t.key]; !ok {
		p.order = append(p.order, t.key)
	}
	p.pending[t.key] = t
	s.schedule(i, p)
}

// schedule arms the peer's dispatch at the first moment a batch is due: the oldest task
// has waited maxBatchingDelay, and a retry's back-off has passed.
func (s *EurekaServer) schedule(i int, p *eurekaPeer) {
	if p.inFlight != nil || len(p.order) == 0 {
		return
	}
	at := max(p.pending[p.order[0]].submit+eurekaBatchDelay, p.retryAt)
	if len(p.order) >= eurekaBatchSize {
		at = max(s.w.Now(), p.retryAt)
	}
	s.w.SetTimer(s.id(), etPeer+i, at-s.w.Now())
}

// dispatch is AcceptorExecutor.assignBatchWork and ReplicationTaskProcessor.process: up to
// BATCH_SIZE unexpired tasks in one POST to the peer.
func (s *EurekaServer) dispatch(p *eurekaPeer) {
	i := slices.Index(s.peers, p)
	var batch []*eurekaTask
	for len(p.order) > 0 && len(batch) < eurekaBatchSize {
		k := p.order[0]
		p.order = p.order[1:]
		t := p.pending[k]
		delete(p.pending, k)
		if t.expiry > s.w.Now() {
			batch = append(batch, t)
		}
	}
	if len(batch) == 0 {
		return
	}
	if p.conn < 0 || !s.w.IsOpen(p.conn, s.id()) {
		p.conn = s.w.Dial(s.id(), sim.NodeID(p.sid))
		p.answered = false
	}
	p.inFlight = batch
	var text []string
	for _, t := range batch {
		text = append(text, t.action+":"+t.lease.id)
	}
	conn := p.conn
	s.calls.send(conn, &msg{kind: "eureka-batch", body: batch, text: strings.Join(text, ",")}, eurekaPeerTimeout, func(r *msg) {
		p.inFlight = nil
		if r == nil {
			// A read timeout is Congestion, a failed connect a TransientError: both put the
			// batch back (AcceptorExecutor.reprocess) after the executor's sleep.
			sleep := eurekaRetrySleep
			if p.answered {
				sleep = eurekaUnavailableSleep
			}
			if p.conn == conn {
				s.w.Close(conn, s.id())
				p.conn = -1
			}
			p.retryAt = s.w.Now() + sleep
			s.reprocess(p, batch)
			s.schedule(i, p)
			return
		}
		p.answered = true
		statuses := r.body.([]int)
		for j, t := range batch {
			// InstanceReplicationTask.handleFailure: a heartbeat the peer does not know
			// (404) is followed by a register of the instance.
			if t.action == "heartbeat" && statuses[j] == 404 {
				s.enqueue(i, p, &eurekaTask{key: "register#" + t.app + "/" + t.lease.id, action: "register", app: t.app,
					lease: t.lease, submit: s.w.Now(), expiry: s.w.Now() + eurekaRenewInterval})
			}
		}
		s.schedule(i, p)
	})
}

// reprocess is AcceptorExecutor.drainReprocessQueue: failed tasks go back in front unless
// expired or overridden by a newer task of the same id.
func (s *EurekaServer) reprocess(p *eurekaPeer, batch []*eurekaTask) {
	var front []string
	for _, t := range batch {
		if t.expiry <= s.w.Now() {
			continue
		}
		if _, ok := p.pending[t.key]; ok {
			continue
		}
		p.pending[t.key] = t
		front = append(front, t.key)
	}
	p.order = append(front, p.order...)
}

type eurekaReq struct {
	op, app string
	lease   eurekaLease
}

func (s *EurekaServer) Receive(c sim.ConnID, m sim.Message) {
	mm := m.(*msg)
	from := s.w.Peer(c, s.id())
	switch mm.kind {
	case "reply":
		s.calls.reply(mm)
	case "eureka-batch":
		// PeerReplicationResource.batchReplication, each task with isReplication=true.
		batch := mm.body.([]*eurekaTask)
		statuses := make([]int, len(batch))
		var text []string
		for i, t := range batch {
			statuses[i] = 200
			switch t.action {
			case "register":
				s.register(t.app, t.lease, true)
				statuses[i] = 204
			case "heartbeat":
				if !s.renew(t.app, t.lease.id, true) {
					statuses[i] = 404
				}
			case "cancel":
				if !s.cancel(t.app, t.lease.id, true) {
					statuses[i] = 404
				}
			}
			text = append(text, strconv.Itoa(statuses[i]))
		}
		s.w.Send(c, s.id(), &msg{kind: "reply", seq: mm.seq, body: statuses, text: strings.Join(text, ",")})
	case "eureka":
		r := mm.body.(*eurekaReq)
		status := 200
		var inst []string
		switch r.op {
		case "register": // ApplicationResource.addInstance: 204
			s.register(r.app, r.lease, false)
			status = 204
		case "renew": // InstanceResource.renewLease: 404 makes the client register again
			if !s.renew(r.app, r.lease.id, false) {
				status = 404
			}
		case "cancel":
			if !s.cancel(r.app, r.lease.id, false) {
				status = 404
			}
		case "get": // ApplicationResource.getApplication, through the response cache
			inst = s.answer(r.app)
		}
		s.w.Send(c, s.id(), &msg{kind: "reply", seq: mm.seq, body: &eurekaReply{status: status, inst: inst}, text: strconv.Itoa(status)})
	}
	_ = from
}

type eurekaReply struct {
	status int
	inst   []string
}

// --- the client ---

// EurekaClient is an application with DiscoveryClient: it registers its instances, renews
// them every 30s (HeartbeatThread), fetches the registry every 30s (CacheRefreshThread)
// into the cache its application reads, and talks to one server at a time, moving to the
// next on a failure (RetryableEurekaHttpClient).
type EurekaClient struct {
	w       *sim.World
	id      sim.NodeID
	servers []int64
	cur     int
	conn    sim.ConnID
	calls   calls
	probe   probe
	view    viewer
	regs    map[string]*eurekaReg // by service/instance
	subs    []string
	started bool
}

type eurekaReg struct {
	service, instance, data string
	dirty                   sim.Time
	registered, cancelled   bool
	gone                    bool // deregister asked
	seq                     int64
}

const (
	ecCalls = iota
	ecHeartbeat
	ecFetch
	ecProbe
)

func newEurekaClient(w *sim.World, id sim.NodeID, servers []int64) *EurekaClient {
	c := &EurekaClient{w: w, id: id, servers: servers, conn: -1}
	c.calls.init(w, id, ecCalls)
	c.probe = probe{w: w, id: id}
	return c
}

func (c *EurekaClient) ID() sim.NodeID { return c.id }
func (c *EurekaClient) Ready() bool    { return c.started }

func (c *EurekaClient) Start() {
	c.started = true
	c.calls.reset()
	c.conn = -1
	// ZoneAffinityClusterResolver randomizes the endpoints of a zone.
	c.cur = c.w.Stream("eureka-client/" + strconv.Itoa(int(c.id))).IntN(len(c.servers))
	c.w.SetTimer(c.id, ecHeartbeat, eurekaRenewInterval)
	c.w.SetTimer(c.id, ecFetch, eurekaFetchInterval)
	c.w.SetTimer(c.id, ecProbe, ProbeInterval)
	for _, k := range sortedKeys(c.regs) {
		c.register(c.regs[k])
	}
}

// Restart is a new process: it registers its instances again.
func (c *EurekaClient) Restart() { c.Start() }
func (c *EurekaClient) Crash()   { c.started = false }

func (c *EurekaClient) Accept(conn sim.ConnID, _ sim.NodeID) {}
func (c *EurekaClient) FsyncDone(uint64)                     {}
func (c *EurekaClient) Closed(conn sim.ConnID) {
	c.calls.closed(conn)
	if conn == c.conn {
		c.conn = -1
	}
}

func (c *EurekaClient) Receive(conn sim.ConnID, m sim.Message) {
	if mm := m.(*msg); mm.kind == "reply" {
		c.calls.reply(mm)
	} else if mm.kind == "ping" {
		c.w.Send(conn, c.id, &msg{kind: "pong", seq: mm.seq})
	}
}

// request sends r to the current endpoint, moving to the next on a failure, up to
// eurekaClientRetries endpoints; done gets the reply and the server, or nil.
func (c *EurekaClient) request(r *eurekaReq, done func(*eurekaReply, int64)) {
	c.try(r, 0, done)
}

func (c *EurekaClient) try(r *eurekaReq, attempt int, done func(*eurekaReply, int64)) {
	if attempt >= eurekaClientRetries {
		done(nil, 0)
		return
	}
	sid := c.servers[c.cur%len(c.servers)]
	if c.conn < 0 || !c.w.IsOpen(c.conn, c.id) {
		c.conn = c.w.Dial(c.id, sim.NodeID(sid))
	}
	conn := c.conn
	c.calls.send(conn, &msg{kind: "eureka", body: r, text: r.op + " " + r.app + "/" + r.lease.id}, eurekaClientTimeout, func(m *msg) {
		if m == nil {
			// The endpoint is quarantined: the next call goes to the next one.
			if c.conn == conn {
				c.w.Close(conn, c.id)
				c.conn = -1
			}
			c.cur = (c.cur + 1) % len(c.servers)
			if c.started {
				c.try(r, attempt+1, done)
			}
			return
		}
		done(m.body.(*eurekaReply), sid)
	})
}

func (c *EurekaClient) Timer(kind int) {
	switch kind {
	case ecCalls:
		c.calls.expire()
	case ecHeartbeat:
		for _, k := range sortedKeys(c.regs) {
			if g := c.regs[k]; g.registered && !g.gone {
				c.renew(g)
			}
		}
		c.w.SetTimer(c.id, ecHeartbeat, eurekaRenewInterval)
	case ecFetch:
		c.fetch()
		c.w.SetTimer(c.id, ecFetch, eurekaFetchInterval)
	case ecProbe:
		for _, svc := range c.subs {
			seq := c.probe.call("query", svc, "")
			c.request(&eurekaReq{op: "get", app: svc}, func(r *eurekaReply, sid int64) {
				c.probe.ret("query", svc, "", seq, r != nil, sid, answerOf(r))
			})
		}
		c.w.SetTimer(c.id, ecProbe, ProbeInterval)
	}
}

func answerOf(r *eurekaReply) []string {
	if r == nil {
		return nil
	}
	return r.inst
}

// fetch is DiscoveryClient.fetchRegistry (a full fetch stands in for the delta, which the
// client reconciles to the same applications by their hash code).
func (c *EurekaClient) fetch() {
	for _, svc := range c.subs {
		c.request(&eurekaReq{op: "get", app: svc}, func(r *eurekaReply, _ int64) {
			if r != nil {
				c.view.set(c.w, c.id, svc, r.inst)
			}
		})
	}
}

func (c *EurekaClient) register(g *eurekaReg) {
	if g.gone {
		return
	}
	seq := c.probe.call("register", g.service, g.instance)
	c.request(&eurekaReq{op: "register", app: g.service, lease: eurekaLease{id: g.instance, data: g.data, dirty: g.dirty}},
		func(r *eurekaReply, sid int64) {
			ok := r != nil && r.status == 204
			if ok {
				g.registered = true
			}
			c.probe.ret("register", g.service, g.instance, seq, ok, sid, nil)
		})
}

// renew is DiscoveryClient.renew: a 404 registers again.
func (c *EurekaClient) renew(g *eurekaReg) {
	c.request(&eurekaReq{op: "renew", app: g.service, lease: eurekaLease{id: g.instance}}, func(r *eurekaReply, _ int64) {
		if r != nil && r.status == 404 && !g.gone {
			g.dirty = c.w.Now() // instanceInfo.setIsDirtyWithTime()
			c.register(g)
		}
	})
}

func (c *EurekaClient) Register(service, instance, data string) {
	if c.regs == nil {
		c.regs = map[string]*eurekaReg{}
	}
	g := &eurekaReg{service: service, instance: instance, data: data, dirty: c.w.Now()}
	c.regs[service+"/"+instance] = g
	c.register(g)
}

func (c *EurekaClient) Registered(service, instance string) bool {
	g := c.regs[service+"/"+instance]
	return g != nil && g.registered
}

// Deregister is DiscoveryClient.unregister (shutdown's cancel).
func (c *EurekaClient) Deregister(service, instance string) {
	g := c.regs[service+"/"+instance]
	if g == nil {
		return
	}
	g.gone = true
	seq := c.probe.call("deregister", service, instance)
	c.request(&eurekaReq{op: "cancel", app: service, lease: eurekaLease{id: instance}}, func(r *eurekaReply, sid int64) {
		ok := r != nil
		g.cancelled = ok
		c.probe.ret("deregister", service, instance, seq, ok, sid, nil)
	})
}

func (c *EurekaClient) Deregistered(service, instance string) bool {
	g := c.regs[service+"/"+instance]
	return g != nil && g.cancelled
}

func (c *EurekaClient) Subscribe(service string) {
	if !slices.Contains(c.subs, service) {
		c.subs = append(c.subs, service)
	}
	c.fetch()
}

func (c *EurekaClient) View(service string) []string { return c.view.get(service) }

// --- the deployment ---

type eurekaDeployment struct {
	w       *sim.World
	servers []*EurekaServer
}

// NewEureka adds n Eureka servers (sids 1..n) to w.
func NewEureka(w *sim.World, n int, set *Settings) (Deployment, error) {
	d := &eurekaDeployment{w: w}
	for sid := int64(1); sid <= int64(n); sid++ {
		s := newEurekaServer(w, sid, n, set)
		if err := w.Add(sim.NodeID(sid), s); err != nil {
			return nil, err
		}
		d.servers = append(d.servers, s)
	}
	return d, nil
}

func (d *eurekaDeployment) Kind() Kind { return Eureka }

func (d *eurekaDeployment) AddClient(id sim.NodeID, servers []int64) (Client, error) {
	c := newEurekaClient(d.w, id, servers)
	return c, d.w.Add(id, c)
}

func (d *eurekaDeployment) Hold(sid int64, service string) []string {
	s := d.servers[sid-1]
	if !d.w.IsUp(sim.NodeID(sid)) || s.registry == nil {
		return nil
	}
	if v, ok := s.ro[service]; ok {
		return slices.Clone(v)
	}
	return setOf(s.registry[service])
}
