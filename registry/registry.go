// Package registry hosts service registries other than ZooKeeper on the same engine, so
// that one service-discovery workload and one fault schedule can be run against each of
// them and the CP/AP trade-off measured: Eureka (AP, peer-to-peer replication and leases
// with self-preservation), Nacos 2.x ephemeral instances (AP, the Distro protocol) and
// persistent instances (CP, Raft through go.etcd.io/raft/v3), and ZooKeeper itself through
// an adapter over model's client and recipes.
//
// Every registry speaks to the scenario through the same Client operations (register,
// deregister, subscribe, a direct query) and writes the same records to the trace (Call,
// Return, View, Holds), from which Measure computes the comparison. Nothing here reads the
// wall clock, starts a goroutine or ranges over a map where the order reaches the trace.
package registry

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/zabsim/zabsim/sim"
)

// Kind names a registry.
type Kind string

const (
	ZooKeeper Kind = "zookeeper"
	Eureka    Kind = "eureka"
	NacosAP   Kind = "nacos-ap" // ephemeral instances: Distro
	NacosCP   Kind = "nacos-cp" // persistent instances: Raft
)

// Kinds are the registries, in the order a comparison shows them.
var Kinds = []Kind{ZooKeeper, Eureka, NacosAP, NacosCP}

// ParseKind reads a registry name.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("registry %q: want zookeeper, eureka, nacos-ap or nacos-cp", s)
}

// CP reports whether the registry promises consistency over availability.
func (k Kind) CP() bool { return k == ZooKeeper || k == NacosCP }

// Mutants switch a registry's safety mechanism off, so that the checks of its promises
// can be seen to fail.
var MutantNames = []string{
	"eureka-no-self-preservation", // enableSelfPreservation=false: expiry is always on
	"nacos-no-verify",             // no DistroVerifyTimedTask: replicas are never renewed nor repaired
	"nacos-cp-local-writes",       // a Nacos server applies a persistent write locally, without Raft
}

// Settings are a deployment's switches.
type Settings struct {
	Mutants []string
}

// Has reports whether mutant m is on.
func (s *Settings) Has(m string) bool { return slices.Contains(s.Mutants, m) }

// Deployment is one registry's servers, sids 1..N as sim nodes, and its clients.
type Deployment interface {
	Kind() Kind
	// AddClient adds a client node (not started) that talks to the given servers.
	AddClient(id sim.NodeID, servers []int64) (Client, error)
	// Hold is what server sid would answer for service now (sorted; nil when down).
	Hold(sid int64, service string) []string
}

// Client is an application process with its registry client library: the instances it
// registers are its own (they die with it), and the services it subscribes to it follows.
type Client interface {
	ID() sim.NodeID
	// Ready reports whether the client library has started (connected, where it connects).
	Ready() bool
	// Register registers instance of service and keeps it registered (heartbeats,
	// re-registration) until Deregister.
	Register(service, instance, data string)
	Registered(service, instance string) bool
	Deregister(service, instance string)
	Deregistered(service, instance string) bool
	// Subscribe follows service (a watch, a push subscription or periodic fetches) and
	// queries it directly every ProbeInterval.
	Subscribe(service string)
	// View is what the application would be given now for service (sorted).
	View(service string) []string
}

// ProbeInterval is how often a subscribed client asks its registry directly: the
// discovery workload every registry gets, whose answers measure availability and
// staleness. It is not part of any registry's own client.
const ProbeInterval = 5 * sim.Second

// ProbeTimeout is how long a probe waits for its answer.
const ProbeTimeout = 5 * sim.Second

// --- trace records ---

// Call: a client asked its registry something (Op: register, deregister, query).
type Call struct {
	Client   int64
	Op       string
	Service  string
	Instance string // empty for a query
	Seq      int64  // pairs the Call with its Return
}

func (r *Call) TypeName() string { return "RegistryCall" }
func (r *Call) AppendTo(b []byte) []byte {
	b = append(b, "call "...)
	b = append(b, r.Op...)
	b = append(b, " c="...)
	b = strconv.AppendInt(b, r.Client, 10)
	b = append(b, " #"...)
	b = strconv.AppendInt(b, r.Seq, 10)
	b = append(b, ' ')
	b = append(b, r.Service...)
	if r.Instance != "" {
		b = append(b, '/')
		b = append(b, r.Instance...)
	}
	return b
}

// Return: the answer to a Call. OK false is an error or no answer within the timeout;
// Answer is a query's instances (sorted), Server the server that answered (0: none).
type Return struct {
	Client   int64
	Op       string
	Service  string
	Instance string
	Seq      int64
	OK       bool
	Server   int64
	Answer   []string
}

func (r *Return) TypeName() string { return "RegistryReturn" }
func (r *Return) AppendTo(b []byte) []byte {
	b = append(b, "return "...)
	b = append(b, r.Op...)
	b = append(b, " c="...)
	b = strconv.AppendInt(b, r.Client, 10)
	b = append(b, " #"...)
	b = strconv.AppendInt(b, r.Seq, 10)
	if r.OK {
		b = append(b, " ok s="...)
		b = strconv.AppendInt(b, r.Server, 10)
	} else {
		b = append(b, " failed"...)
	}
	if r.Op == "query" && r.OK {
		b = appendSet(append(b, ' '), r.Answer)
	}
	return b
}

// View: the instances a client would give its application changed.
type View struct {
	Client    int64
	Service   string
	Instances []string
}

func (r *View) TypeName() string { return "RegistryView" }
func (r *View) AppendTo(b []byte) []byte {
	b = append(b, "view c="...)
	b = strconv.AppendInt(b, r.Client, 10)
	b = append(b, ' ')
	b = append(b, r.Service...)
	return appendSet(append(b, ' '), r.Instances)
}

// Holds: what a server would answer for a service changed (its registry, after its read
// cache for Eureka). Why says what changed it (a replica, an eviction, ...).
type Holds struct {
	Server    int64
	Service   string
	Instances []string
	Why       string
}

func (r *Holds) TypeName() string { return "RegistryHolds" }
func (r *Holds) AppendTo(b []byte) []byte {
	b = append(b, "holds s="...)
	b = strconv.AppendInt(b, r.Server, 10)
	b = append(b, ' ')
	b = append(b, r.Service...)
	b = appendSet(append(b, ' '), r.Instances)
	if r.Why != "" {
		b = append(b, ' ')
		b = append(b, r.Why...)
	}
	return b
}

// Note: a registry mechanism did something worth reading in a trace (self-preservation
// entered or left, a Raft leader, a Distro resync).
type Note struct {
	Node int64
	Text string
}

func (r *Note) TypeName() string { return "RegistryNote" }
func (r *Note) AppendTo(b []byte) []byte {
	b = strconv.AppendInt(append(b, "note n="...), r.Node, 10)
	return append(append(b, ' '), r.Text...)
}

func appendSet(b []byte, s []string) []byte {
	b = append(b, '{')
	b = append(b, strings.Join(s, ",")...)
	return append(b, '}')
}

// msg is a wire message between registry nodes: its text is what the trace shows.
type msg struct {
	kind string
	seq  int64
	body any
	text string
}

func (m *msg) AppendTo(b []byte) []byte {
	b = append(b, m.kind...)
	if m.seq != 0 {
		b = strconv.AppendInt(append(b, " #"...), m.seq, 10)
	}
	if m.text != "" {
		b = append(append(b, ' '), m.text...)
	}
	return b
}

// sortedKeys returns m's keys in order: maps are never ranged over where order matters.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// setOf is the sorted set of keys of m.
func setOf[V any](m map[string]V) []string { return sortedKeys(m) }

// calls is the client side of request/reply over connections: pending calls by sequence
// number, each with its deadline, and one timer for the earliest deadline.
type calls struct {
	w       *sim.World
	id      sim.NodeID
	timer   int
	seq     int64
	pending map[int64]*pendingCall
}

type pendingCall struct {
	deadline sim.Time
	conn     sim.ConnID
	done     func(reply *msg) // nil reply: failed (timeout, connection closed)
}

func (c *calls) init(w *sim.World, id sim.NodeID, timer int) {
	c.w, c.id, c.timer = w, id, timer
	c.pending = map[int64]*pendingCall{}
}

func (c *calls) reset() { c.pending = map[int64]*pendingCall{} }

// send sends m on conn as a call with a fresh sequence number; done gets the reply.
func (c *calls) send(conn sim.ConnID, m *msg, timeout sim.Time, done func(*msg)) {
	c.seq++
	m.seq = c.seq
	c.pending[m.seq] = &pendingCall{deadline: c.w.Now() + timeout, conn: conn, done: done}
	if conn < 0 || !c.w.Send(conn, c.id, m) {
		c.fail(m.seq)
		return
	}
	c.arm()
}

func (c *calls) arm() {
	next := sim.Never
	for _, p := range c.pending {
		next = min(next, p.deadline)
	}
	if next == sim.Never {
		c.w.CancelTimer(c.id, c.timer)
		return
	}
	c.w.SetTimer(c.id, c.timer, next-c.w.Now())
}

func (c *calls) fail(seq int64) {
	p := c.pending[seq]
	if p == nil {
		return
	}
	delete(c.pending, seq)
	p.done(nil)
}

// reply hands a reply to its call (a late one, after its timeout, is dropped).
func (c *calls) reply(m *msg) {
	p := c.pending[m.seq]
	if p == nil {
		return
	}
	delete(c.pending, m.seq)
	p.done(m)
	c.arm()
}

// expire fails every call past its deadline, in sequence order.
func (c *calls) expire() {
	var due []int64
	for s, p := range c.pending {
		if p.deadline <= c.w.Now() {
			due = append(due, s)
		}
	}
	slices.Sort(due)
	for _, s := range due {
		c.fail(s)
	}
	c.arm()
}

// closed fails every call sent on conn, in sequence order.
func (c *calls) closed(conn sim.ConnID) {
	var due []int64
	for s, p := range c.pending {
		if p.conn == conn {
			due = append(due, s)
		}
	}
	slices.Sort(due)
	for _, s := range due {
		c.fail(s)
	}
	c.arm()
}

// probe is the discovery workload of a subscribed client (see ProbeInterval).
type probe struct {
	w       *sim.World
	id      sim.NodeID
	seq     int64
	service []string
}

func (p *probe) call(op, service, instance string) int64 {
	p.seq++
	p.w.Record(p.id, &Call{Client: int64(p.id), Op: op, Service: service, Instance: instance, Seq: p.seq})
	return p.seq
}

func (p *probe) ret(op, service, instance string, seq int64, ok bool, server int64, answer []string) {
	p.w.Record(p.id, &Return{Client: int64(p.id), Op: op, Service: service, Instance: instance, Seq: seq, OK: ok, Server: server, Answer: answer})
}

// viewer records a client's view when it changes.
type viewer struct {
	views map[string][]string
}

func (v *viewer) set(w *sim.World, id sim.NodeID, service string, inst []string) {
	if v.views == nil {
		v.views = map[string][]string{}
	}
	inst = slices.Clone(inst)
	slices.Sort(inst)
	if old, ok := v.views[service]; ok && slices.Equal(old, inst) {
		return
	}
	v.views[service] = inst
	w.Record(id, &View{Client: int64(id), Service: service, Instances: inst})
}

func (v *viewer) get(service string) []string { return slices.Clone(v.views[service]) }

// holder records a server's answer for a service when it changes.
type holder struct {
	last map[string][]string
}

func (h *holder) set(w *sim.World, sid int64, service string, inst []string, why string) {
	if h.last == nil {
		h.last = map[string][]string{}
	}
	if old, ok := h.last[service]; ok && slices.Equal(old, inst) {
		return
	}
	h.last[service] = slices.Clone(inst)
	w.Record(sim.NodeID(sid), &Holds{Server: sid, Service: service, Instances: slices.Clone(inst), Why: why})
}

func (h *holder) reset() { h.last = nil }
