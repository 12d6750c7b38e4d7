package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
)

// NodeID names a node: a ZooKeeper server's sid, or a client's id. IDs are small
// non-negative numbers (below MaxNodeID) so that the World can index them directly.
type NodeID int32

// MaxNodeID bounds node ids.
const MaxNodeID = 1 << 16

// Node is a state machine hosted by a World. The World calls it; it answers by calling the
// World back (Send, Dial, SetTimer, Disk, Fsync, Record). A node never sees the wall clock.
type Node interface {
	// Start boots the node for the first time.
	Start()
	// Restart boots the node again after a crash, from what its disk kept.
	Restart()
	// Crash tells the node that its process died: it must drop all volatile state. By the
	// time it is called its timers are cancelled and its connections closed.
	Crash()
	// Accept reports a connection that peer opened to this node.
	Accept(c ConnID, peer NodeID)
	// Receive delivers the next message of connection c.
	Receive(c ConnID, m Message)
	// Closed reports that connection c ended: the peer closed it, reset it or crashed.
	Closed(c ConnID)
	// Timer reports that the timer of this kind, armed with SetTimer, fired.
	Timer(kind int)
	// FsyncDone reports that the fsync that returned token is durable.
	FsyncDone(token uint64)
}

// Message is anything sent over a connection or recorded in the trace. AppendTo appends
// its canonical one-line text form; that text is what the trace hash covers, so it must
// depend only on the value (no pointers, no map order).
type Message interface {
	AppendTo(b []byte) []byte
}

// Config holds a World's settings. The zero value of a field means its default.
type Config struct {
	// Seed derives every random stream of the run.
	Seed uint64
	// LatencyMin is the minimum one-way delay of every link (default 1ms).
	LatencyMin Time
	// LatencyMean is the mean of the exponential delay added to LatencyMin (default 1ms).
	// Use ZeroLatencyMean for none.
	LatencyMean Time
	// FsyncLatency is how long one fsync takes (default 2ms). Fsyncs on one disk queue.
	FsyncLatency Time
	// CrashDisk says what a crash does to writes that were not fsynced (default LoseUnsynced).
	CrashDisk DiskPolicy
	// RecvBuffer is how many bytes a connection's receiving kernel holds while its process
	// does not read (default 131072, Linux's tcp_rmem default); SendBuffer how many more
	// the sending kernel holds (default 16384, tcp_wmem's). Beyond both, the sender's writes
	// wait in its own memory, which a close or a crash of the sender throws away.
	RecvBuffer, SendBuffer int64
	// NoTrace keeps only the trace hash and count, not the records (for long explorations).
	NoTrace bool
	// NoHash also skips the trace hash and the payload text it is computed from (Hash is
	// then 0): for explored schedules, which their seed reproduces and nothing hashes.
	NoHash bool
	// Memory, if set, is where the World makes its connection table and the arrays it
	// grows, reused by the next World once Reset (see Memory); no other World may use it
	// until then.
	Memory *Memory
}

// ZeroLatencyMean in Config.LatencyMean or SetLatency means no random part.
const ZeroLatencyMean Time = -1

// World hosts the nodes, the network, the disks, the clock and the trace of one run.
type World struct {
	cfg     Config
	seed    uint64
	now     Time
	seq     uint64
	queue   eventQueue
	nodes   []*slot // indexed by NodeID
	order   []NodeID
	streams map[string]*rand.Rand // looked up by name, never ranged over
	calls   []func()
	free    []int32
	net     network
	unsafe  Unsafe
	trace   Trace
	events  uint64
	mem     *Memory // cfg.Memory, or ownMemory
	// bigTimers[k-256] is timerText(k) boxed once, for kinds of 256 and more: boxing a
	// smaller one does not allocate.
	bigTimers []Message
}

// slot is the World's view of one node.
type slot struct {
	id          NodeID
	node        Node
	up          bool
	started     bool
	paused      bool
	hostDown    bool // a host loss: its kernel is gone too, until Restart
	incarnation uint64
	timers      []timer // per kind
	timerSerial uint64
	disk        *Disk
	conns       []ConnID // connections this node has an open end of (may hold closed ones)
	held        []heldItem
}

// heldItem is something that reached a paused node and waits for it to resume.
type heldItem struct {
	kind  eventKind // evTimer, evDeliver (a message or an open/close marker), evFsync, evCall
	timer int
	token uint64
	conn  ConnID
	item  inflight
	call  func() // evCall: a driver's action on the node (WhenRunning), or a deferred Send
}

// NewWorld checks cfg and returns an empty World at time 0.
func NewWorld(cfg Config) (*World, error) {
	if cfg.LatencyMin == 0 {
		cfg.LatencyMin = Millisecond
	}
	if cfg.LatencyMean == 0 {
		cfg.LatencyMean = Millisecond
	} else if cfg.LatencyMean == ZeroLatencyMean {
		cfg.LatencyMean = 0
	}
	if cfg.FsyncLatency == 0 {
		cfg.FsyncLatency = 2 * Millisecond
	}
	if cfg.RecvBuffer == 0 {
		cfg.RecvBuffer = 131072
	}
	if cfg.SendBuffer == 0 {
		cfg.SendBuffer = 16384
	}
	if cfg.RecvBuffer < 0 || cfg.SendBuffer < 0 {
		return nil, &SettingError{Setting: "socket buffer", Value: strconv.FormatInt(min(cfg.RecvBuffer, cfg.SendBuffer), 10), Reason: "must not be negative"}
	}
	for _, c := range []struct {
		name string
		v    Time
	}{{"LatencyMin", cfg.LatencyMin}, {"LatencyMean", cfg.LatencyMean}, {"FsyncLatency", cfg.FsyncLatency}} {
		if c.v < 0 {
			return nil, &SettingError{Setting: c.name, Value: c.v.String(), Reason: "must not be negative"}
		}
	}
	if cfg.CrashDisk > TearLastRecord {
		return nil, &SettingError{Setting: "CrashDisk", Value: strconv.Itoa(int(cfg.CrashDisk)), Reason: "unknown disk policy"}
	}
	mem, err := cfg.Memory.take()
	if err != nil {
		return nil, err
	}
	w := &World{cfg: cfg, seed: cfg.Seed, streams: map[string]*rand.Rand{}, mem: mem}
	w.net.init(w)
	w.trace.keep = !cfg.NoTrace
	w.trace.noHash = cfg.NoHash
	w.trace.init()
	w.trace.mem = mem
	return w, nil
}

// MustWorld is NewWorld for tests and benchmarks with known-good settings.
func MustWorld(cfg Config) *World {
	w, err := NewWorld(cfg)
	if err != nil {
		panic(err)
	}
	return w
}

// Now is the current virtual time.
func (w *World) Now() Time { return w.now }

// Seed is the run's seed.
func (w *World) Seed() uint64 { return w.seed }

// Config returns the settings in force (defaults filled in).
func (w *World) Config() Config { return w.cfg }

// Events is the number of events processed so far: timers that fired, deliveries, fsyncs
// and calls (a timer cancelled or re-armed before it fires is not one).
func (w *World) Events() uint64 { return w.events }

// Trace is the run's trace.
func (w *World) Trace() *Trace { return &w.trace }

// Add registers node n under id. It does not start it.
func (w *World) Add(id NodeID, n Node) error {
	if id < 0 || id >= MaxNodeID {
		return &SettingError{Setting: "node id", Value: strconv.Itoa(int(id)), Reason: fmt.Sprintf("must be in [0, %d)", MaxNodeID)}
	}
	if int(id) >= len(w.nodes) {
		w.nodes = grow(w.mem, &w.mem.slots, w.nodes, int(id)+1)
		w.nodes = w.nodes[:id+1]
	}
	if w.nodes[id] != nil {
		return &SettingError{Setting: "node id", Value: strconv.Itoa(int(id)), Reason: "already added"}
	}
	w.nodes[id] = &slot{id: id, node: n, disk: newDisk(w.mem)}
	w.order = append(w.order, id)
	return nil
}

// Nodes lists the node ids in the order they were added.
func (w *World) Nodes() []NodeID { return w.order }

func (w *World) slot(id NodeID) (*slot, error) {
	if id < 0 || int(id) >= len(w.nodes) || w.nodes[id] == nil {
		return nil, &SettingError{Setting: "node", Value: strconv.Itoa(int(id)), Reason: "no such node"}
	}
	return w.nodes[id], nil
}

// Node returns the node registered under id, or nil.
func (w *World) Node(id NodeID) Node {
	if s, err := w.slot(id); err == nil {
		return s.node
	}
	return nil
}

// IsUp reports whether node id is running (started and not crashed; paused counts as up).
func (w *World) IsUp(id NodeID) bool {
	s, err := w.slot(id)
	return err == nil && s.up
}

// IsPaused reports whether node id is paused.
func (w *World) IsPaused(id NodeID) bool {
	s, err := w.slot(id)
	return err == nil && s.paused
}

// Start boots node id for the first time.
func (w *World) Start(id NodeID) error {
	s, err := w.slot(id)
	if err != nil {
		return err
	}
	if s.up {
		return &SettingError{Setting: "start", Value: strconv.Itoa(int(id)), Reason: "node is already running"}
	}
	first := !s.started
	s.up, s.started, s.hostDown = true, true, false
	s.incarnation++
	if first {
		w.record(RecStart, id, -1, -1, nil)
		s.node.Start()
	} else {
		w.record(RecRestart, id, -1, -1, nil)
		s.node.Restart()
	}
	return nil
}

// Restart boots a crashed node from its disk. Restarting a node that never ran starts it.
func (w *World) Restart(id NodeID) error { return w.Start(id) }

// CrashKind is what ends a node's process.
type CrashKind uint8

const (
	// ProcessKill is SIGKILL, or a process that exits: its host's kernel lives on. What the
	// process wrote to its sockets is still delivered (retransmitted across a partition)
	// and followed by an end-of-stream, so its peers notice at once; a socket with data it
	// never read is reset instead, as Linux's tcp_close does. What it wrote to files reached
	// the kernel and survives, except what it still buffered itself; fsyncs in progress
	// complete.
	ProcessKill CrashKind = iota
	// HostLoss is a machine that stops (power, kernel panic): nothing more leaves it, not
	// even what its kernel was retransmitting; its peers notice only through their own
	// timeouts, or by an RST to what they send once it is back. Its disk keeps what the
	// crash policy (Config.CrashDisk) says.
	HostLoss
	// DiskError is a process that exits because a write failed: the network sees a process
	// exit, the disk keeps what the crash policy says (the failing fsync never completes).
	DiskError
)

var crashKindNames = [...]string{ProcessKill: "kill", HostLoss: "host", DiskError: "disk-error"}

func (k CrashKind) String() string {
	if int(k) < len(crashKindNames) {
		return crashKindNames[k]
	}
	return "CrashKind(" + strconv.Itoa(int(k)) + ")"
}

// AppendTo is the trace payload of a crash that is not a plain process kill.
func (k CrashKind) AppendTo(b []byte) []byte { return append(b, k.String()...) }

// Crash kills node id's process (ProcessKill).
func (w *World) Crash(id NodeID) error { return w.CrashAs(id, ProcessKill) }

// CrashAs ends node id's process as kind says: timers cancelled, volatile state gone,
// connections and disk as the kind says.
func (w *World) CrashAs(id NodeID, kind CrashKind) error {
	s, err := w.slot(id)
	if err != nil {
		return err
	}
	if !s.up {
		return &SettingError{Setting: "crash", Value: strconv.Itoa(int(id)), Reason: "node is not running"}
	}
	if kind > DiskError {
		return &SettingError{Setting: "crash kind", Value: kind.String(), Reason: "unknown"}
	}
	s.up, s.paused = false, false
	s.hostDown = kind == HostLoss
	s.incarnation++
	for i := range s.timers {
		s.timers[i].serial = 0
	}
	held := s.held
	s.held = nil
	var data Message
	if kind != ProcessKill {
		data = kind
	}
	w.record(RecCrash, id, -1, -1, data)
	var unread []ConnID // connections it had data waiting on (it was paused)
	for _, h := range held {
		if h.kind != evDeliver {
			continue
		}
		switch h.item.kind {
		case itemOpen:
			if kind == HostLoss {
				w.net.conn(h.conn).open[1] = false // a half-open connection the peer must time out
			} else {
				w.net.refuse(h.conn) // a connection it never accepted is refused
			}
		case itemData:
			w.record(RecDrop, w.Peer(h.conn, id), id, h.conn, h.item.msg) // it never read it
			unread = append(unread, h.conn)
		}
	}
	w.net.releaseWindows(s)
	conns := s.conns
	s.conns = nil
	for _, c := range conns {
		switch {
		case kind == HostLoss:
			w.net.vanishEnd(c, id)
		case slices.Contains(unread, c):
			w.net.abortEnd(c, id)
		default:
			w.net.closeEnd(c, id)
		}
	}
	if kind == ProcessKill {
		s.disk.kill()
	} else {
		s.disk.crash(w.cfg.CrashDisk)
	}
	s.node.Crash()
	return nil
}

// Pause freezes node id as SIGSTOP does: messages that reach it and timers that fire wait
// until Resume, then all are processed in the order they arrived.
func (w *World) Pause(id NodeID) error {
	s, err := w.slot(id)
	if err != nil {
		return err
	}
	if !s.up || s.paused {
		return &SettingError{Setting: "pause", Value: strconv.Itoa(int(id)), Reason: "node is not running or already paused"}
	}
	s.paused = true
	w.record(RecPause, id, -1, -1, nil)
	return nil
}

// Resume unfreezes node id and hands it everything that waited, in arrival order.
func (w *World) Resume(id NodeID) error {
	s, err := w.slot(id)
	if err != nil {
		return err
	}
	if !s.paused {
		return &SettingError{Setting: "resume", Value: strconv.Itoa(int(id)), Reason: "node is not paused"}
	}
	s.paused = false
	w.record(RecResume, id, -1, -1, nil)
	// Every thread wakes at once: a socket read with data waiting returns it before a timer
	// thread's deadline is looked at, so what the sockets and the disk hold goes first, then
	// the timers that expired, each in the order it came.
	held := s.held
	s.held = nil
	inc := s.incarnation
	alive := func() bool { return s.up && !s.paused && s.incarnation == inc }
	for _, h := range held {
		if h.kind == evTimer {
			continue
		}
		if !alive() {
			s.held = append(s.held, h)
			continue
		}
		switch h.kind {
		case evFsync:
			w.fireFsync(s, h.token)
		case evCall:
			h.call()
		default:
			w.net.read(s, h.conn, h.item)
		}
	}
	for _, h := range held {
		if h.kind != evTimer {
			continue
		}
		if !alive() {
			s.held = append(s.held, h)
			continue
		}
		w.fireTimer(s, h.timer)
	}
	if alive() {
		w.net.reopenWindows(s)
	}
	return nil
}

// WhenRunning runs f, a driver's action on node id (a request handed to it, as if it came
// from a client), now if the node is running, or when it resumes if it is paused: a
// stopped process takes nothing in. A crash while it waits drops it.
func (w *World) WhenRunning(id NodeID, f func()) {
	s, err := w.slot(id)
	if err == nil && s.paused {
		s.held = append(s.held, heldItem{kind: evCall, call: f})
		return
	}
	f()
}

// SetTimer arms node id's timer of this kind to fire after d (a negative d counts as 0),
// replacing any armed one. Kinds are small non-negative numbers chosen by the node.
func (w *World) SetTimer(id NodeID, kind int, d Time) {
	if d < 0 {
		d = 0 // a delay in the past fires now: the clock never goes back
	}
	s := w.nodes[id]
	if kind >= len(s.timers) {
		s.timers = grow(w.mem, &w.mem.timers, s.timers, kind+1)
		s.timers = s.timers[:kind+1]
	}
	s.timerSerial++
	w.seq++
	t := &s.timers[kind]
	t.serial, t.due, t.key = s.timerSerial, w.now.add(d), w.seq<<seqShift|uint64(evTimer)
	if t.carrier != 0 && t.carrierAt <= t.due {
		return // the queued entry comes first and carries the timer on (see timer)
	}
	t.carrier, t.carrierAt = t.serial, t.due
	w.queue.pushFields(t.due, t.key, t.serial, id, int32(kind))
}

// timer is one kind of a node's timers. A node re-arms some timers on every message (a
// learner's read timeout, syncLimit ticks), and one queue entry per arming left tens of
// thousands of dead entries in the queue of a steady run. Instead the earliest entry
// still queued for the timer (its carrier) stands for it: a later re-arm queues nothing,
// and when the carrier comes due it queues the timer at its real deadline, under the
// sequence number of the arming, so timers fire at the same instants and in the same
// order as with an entry per arming. Carriers that do not fire are not events.
type timer struct {
	serial    uint64 // of the current arming; 0: not armed
	due       Time   // its deadline
	key       uint64 // its place among the events of one instant (seq<<seqShift | evTimer)
	carrier   uint64 // the serial under which the carrier was queued (0: none queued)
	carrierAt Time
}

// CancelTimer disarms node id's timer of this kind (a no-op if it is not armed).
func (w *World) CancelTimer(id NodeID, kind int) {
	s := w.nodes[id]
	if kind < len(s.timers) {
		s.timers[kind].serial = 0
	}
}

// TimerArmed reports whether node id's timer of this kind is armed.
func (w *World) TimerArmed(id NodeID, kind int) bool {
	s := w.nodes[id]
	return kind < len(s.timers) && s.timers[kind].serial != 0
}

// At runs f at virtual time t (or now, if t has passed). It is for drivers such as
// scenarios and workloads, not for nodes, which use timers.
func (w *World) At(t Time, f func()) {
	if t < w.now {
		t = w.now
	}
	var i int32
	if n := len(w.free); n > 0 {
		i = w.free[n-1]
		w.free = w.free[:n-1]
		w.calls[i] = f
	} else {
		i = int32(len(w.calls))
		w.calls = append(w.calls, f)
	}
	w.push(t, evCall, 0, i, 0)
}

func (w *World) push(at Time, kind eventKind, node NodeID, arg int32, gen uint64) {
	w.seq++
	w.queue.pushFields(at, w.seq<<seqShift|uint64(kind), gen, node, arg)
}

// Pending is the number of events in the queue (including stale, cancelled ones).
func (w *World) Pending() int { return w.queue.Len() }

// NextAt is the time of the next event, or Never.
func (w *World) NextAt() Time {
	if w.queue.Len() == 0 {
		return Never
	}
	return w.queue.peek().at
}

// Step processes the next event. It returns false when nothing is pending.
func (w *World) Step() bool {
	q := &w.queue
	if q.Len() == 0 {
		return false
	}
	e := &q.h[0]
	at, key, gen, node, arg := e.at, e.key, e.gen, e.node, e.arg
	w.now = at
	q.spent = true // taken: the first event queued while it is handled takes its place
	w.handle(eventKind(key), gen, node, arg)
	q.settle()
	return true
}

// handle handles an event Step took from the queue.
func (w *World) handle(kind eventKind, gen uint64, node NodeID, arg int32) {
	switch kind {
	case evTimer:
		s := w.nodes[node]
		t := &s.timers[arg]
		if gen != t.carrier {
			return // a carrier a re-arm to an earlier deadline replaced
		}
		t.carrier = 0
		if t.serial == 0 {
			return // cancelled
		}
		if t.serial != gen { // re-armed later: on to its deadline
			t.carrier, t.carrierAt = t.serial, t.due
			w.queue.pushFields(t.due, t.key, t.serial, node, arg)
			return
		}
		t.serial = 0
		w.events++
		if s.paused {
			s.held = append(s.held, heldItem{kind: evTimer, timer: int(arg)})
			return
		}
		w.fireTimer(s, int(arg))
	case evDeliver:
		w.events++
		w.net.due(ConnID(arg), gen)
	case evFsync:
		w.events++
		s := w.nodes[node]
		if !s.disk.fsyncDue(gen, s.incarnation) {
			return
		}
		if s.paused {
			s.held = append(s.held, heldItem{kind: evFsync, token: gen})
			return
		}
		w.fireFsync(s, gen)
	case evCall:
		w.events++
		f := w.calls[arg]
		w.calls[arg] = nil
		w.free = append(w.free, arg)
		f()
	}
}

func (w *World) fireTimer(s *slot, kind int) {
	var m Message
	if kind < 256 {
		m = timerText(kind) // boxing a value below 256 does not allocate
	} else {
		for kind-256 >= len(w.bigTimers) {
			w.bigTimers = append(w.bigTimers, timerText(256+len(w.bigTimers)))
		}
		m = w.bigTimers[kind-256]
	}
	var data []byte
	if !w.trace.noHash {
		w.trace.buf = timerText(kind).AppendTo(w.trace.buf[:0]) // no dynamic call
		data = w.trace.buf
	}
	w.trace.add(w.now, RecTimer, s.id, -1, -1, m, data)
	s.node.Timer(kind)
}

func (w *World) fireFsync(s *slot, token uint64) {
	s.node.FsyncDone(token)
}

// RunUntil processes every event due at or before t, then sets the clock to t.
func (w *World) RunUntil(t Time) {
	for w.queue.Len() > 0 && w.queue.peek().at <= t {
		w.Step()
	}
	if t > w.now {
		w.now = t
	}
}

// RunFor runs for d of virtual time.
func (w *World) RunFor(d Time) { w.RunUntil(w.now + d) }

// RunUntilCond processes events until cond holds (checked before each event) or the next
// event is later than limit. It reports whether cond held.
func (w *World) RunUntilCond(cond func() bool, limit Time) bool {
	for {
		if cond() {
			return true
		}
		if w.queue.Len() == 0 || w.queue.peek().at > limit {
			if limit != Never && limit > w.now {
				w.now = limit
			}
			return cond()
		}
		w.Step()
	}
}

// RunUntilIdle processes events until none is pending or the next is later than limit.
// It reports whether the queue drained.
func (w *World) RunUntilIdle(limit Time) bool {
	for w.queue.Len() > 0 {
		if w.queue.peek().at > limit {
			return false
		}
		w.Step()
	}
	return true
}

// timerText is the trace payload of a timer record.
type timerText int

func (t timerText) AppendTo(b []byte) []byte {
	return strconv.AppendInt(append(b, "timer "...), int64(t), 10)
}
