// Package checker judges a zabsim trace: the Zab safety properties of zab/invariants.md
// (checked online, O(1) amortised per record), the leader's sync decisions (re-derived from
// their recorded inputs by an independent transcription of syncFollower), and bounded
// liveness after the last fault.
//
// It reads only the trace: the model's observation records (model/records.go), the
// QuorumPackets in send and deliver records, and the engine's process and network records.
// It never looks at live server state.
//
// Use it online, attached to a running World's trace:
//
//	c := checker.New(checker.OptionsFor(cfg))
//	c.Attach(w.Trace())
//	... run ...
//	violations := c.Finish(w.Now())
//
// or on a finished trace with Check(records, opts). Both give the same violations, sorted by
// time, then check name, then the order they were found in.
//
// The checks, and the records that trigger them (zab/invariants.md section 6):
//
//	Leadership2             LeaderEstablished: one established leader per epoch
//	Leadership1             StateChange: no two LEADING servers in SYNCHRONIZATION/BROADCAST with one epoch
//	ZxidUniqueness          Proposed, Logged, PROPOSAL/INFORM sent or delivered: one value per zxid
//	Integrity               Committed: the (zxid, value) was broadcast by some leader
//	PrefixConsistency       Committed: the server's delivered sequence is a prefix of G or extends it
//	GlobalPrimaryOrder      Committed: epochs never go back in a delivered sequence
//	LocalPrimaryOrder       Committed: each delivered zxid is IsNextZxid of the one before
//	PrimaryIntegrity        Proposed, first of an epoch: the leader delivered all of G's earlier epochs
//	LeaderLogCompleteness   LeaderEstablished: the leader's history holds all of G
//	CommittedLogDurability  Truncated, and Loaded by TRUNC or SNAP: no txn of G the server held is lost
//	ProcessConsistency      the learner's NEWLEADER ack, and its later Logged: its history is a prefix of its leader's
//	sync-decision           SyncDecided: the mode and first packet follow from the inputs (ExpectedSyncMode)
//	MessageLegal            ACK sent: a learner's first ACK after NEWLEADER is the NEWLEADER ACK (the MX spec's messageLegal)
//	Liveness                at the end: within LivenessBound of the last fault, a leader serves everyone everything;
//	                        and StartRefused: a server's data dir must let it start
//
// and the client-visible checks (clients.go, linearizability.go), on the client records:
//
//	StaleRead               ClientReturn of a read: it shows the committed state of its path at its zxid
//	SessionOrder            ClientReturn: a session's reply zxids never go back, across reconnects
//	ReadYourWrites          ClientReturn: a session's reads are at or after its own answered writes
//	SyncRead                ClientReturn after a sync: at or after what the leader had when it processed the sync
//	WatchOrder              ClientReturn of a read: the watch's event came before a read showing the change
//	WatchOnce               WatchDelivered: one event per registration
//	Linearizability         at the end: per path, the zxid order as a witness, else porcupine (Checker.Linearizability)
package checker

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// Violation is one property that does not hold, with the records that show it.
type Violation struct {
	Check   string   // the property, named as in zab/invariants.md (see the Check* constants)
	Detail  string   // one sentence: what went wrong, with the zxids and sids involved
	At      sim.Time // when it became visible
	Records []int    // indexes into the trace of the records that prove it, ascending
}

func (v Violation) String() string {
	return fmt.Sprintf("%s at %s: %s (records %v)", v.Check, v.At, v.Detail, v.Records)
}

// The checks, by the names Violation.Check carries.
const (
	CheckLeadership1            = "Leadership1"
	CheckLeadership2            = "Leadership2"
	CheckZxidUniqueness         = "ZxidUniqueness"
	CheckIntegrity              = "Integrity"
	CheckPrefixConsistency      = "PrefixConsistency"
	CheckGlobalPrimaryOrder     = "GlobalPrimaryOrder"
	CheckLocalPrimaryOrder      = "LocalPrimaryOrder"
	CheckPrimaryIntegrity       = "PrimaryIntegrity"
	CheckLeaderLogCompleteness  = "LeaderLogCompleteness"
	CheckCommittedLogDurability = "CommittedLogDurability"
	CheckProcessConsistency     = "ProcessConsistency"
	CheckSyncDecision           = "sync-decision"
	CheckMessageLegal           = "MessageLegal"
	CheckLiveness               = "Liveness"
)

// Per-server checks are reported once per server until its next load (bits of server.reported).
const (
	bitIntegrity = 1 << iota
	bitPrefix
	bitGlobalOrder
	bitLocalOrder
	bitPrimaryIntegrity
	bitCompleteness
)

// Options describe the run to the checker. OptionsFor fills them from a model.Config; zero
// fields get ZooKeeper's defaults (those of model.Config.Normalize).
type Options struct {
	Voters    int // voting servers, sids 1..Voters
	Observers int // observers, sids Voters+1..Voters+Observers

	TickTime                sim.Time
	InitLimit, SyncLimit    int // in ticks
	FinalizeWait            sim.Time
	MaxNotificationInterval sim.Time
	CnxTimeout              sim.Time
	ObserverElectionDelay   sim.Time
	// CommitLogCount is the committedLog's size parameter (it holds CommitLogCount+1 txns).
	CommitLogCount int

	// Liveness turns the liveness check on. The quiet period starts at the later of QuietFrom
	// and the last fault record of the trace (start, restart, crash, pause, resume,
	// partition, heal, clog, reset, latency change); see LivenessBound for the deadline.
	Liveness  bool
	QuietFrom sim.Time
	// LivenessBound overrides the bound derived from the configuration (0: derived).
	LivenessBound sim.Time

	// NoLinearizability skips the porcupine check (the other client checks still run).
	NoLinearizability bool
	// LinearizabilityReads adds the reads to the linearizability history, each placed where
	// the state it was served from was current. ZooKeeper promises linearizable writes; its
	// reads, sequentially consistent, are judged by StaleRead and SessionOrder either way,
	// so by default the check takes the writes alone (a third of the operations of a typical
	// workload; with the zxid-order witness the reads cost little more, see
	// BenchmarkCheckedRun).
	LinearizabilityReads bool
	// LinearizabilityTimeout is the wall-clock time porcupine may take (default 30s). It is
	// there only so that a pathological history cannot hang a run: a verdict reached before
	// it is the same on every machine, and one cut short is the outcome Unknown
	// (LinearizabilityResult), never a pass and never a violation.
	LinearizabilityTimeout time.Duration
}

// OptionsFor describes a run of an ensemble configured by cfg (normalised here).
func OptionsFor(cfg model.Config) Options {
	cfg.Normalize() // an invalid config gets the zero-field defaults below
	return Options{
		Voters: cfg.Servers, Observers: cfg.Observers,
		TickTime: cfg.TickTime, InitLimit: cfg.InitLimit, SyncLimit: cfg.SyncLimit,
		FinalizeWait: cfg.FinalizeWait, MaxNotificationInterval: cfg.MaxNotificationInterval,
		CnxTimeout: cfg.CnxTimeout, ObserverElectionDelay: cfg.ObserverElectionDelayMax,
		CommitLogCount: cfg.CommitLogCount,
	}
}

func (o *Options) normalize() {
	def := func(v *sim.Time, d sim.Time) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.TickTime, 2*sim.Second)
	def(&o.FinalizeWait, 200*sim.Millisecond)
	def(&o.MaxNotificationInterval, 60*sim.Second)
	def(&o.CnxTimeout, 5*sim.Second)
	def(&o.ObserverElectionDelay, 200*sim.Millisecond)
	if o.InitLimit <= 0 {
		o.InitLimit = 10
	}
	if o.SyncLimit <= 0 {
		o.SyncLimit = 5
	}
	if o.CommitLogCount <= 0 {
		o.CommitLogCount = 500
	}
}

// server is what the checker knows about one server, rebuilt from the trace.
type server struct {
	sid    int64
	seen   bool // it emitted a model record or a quorum packet
	up     bool
	paused bool
	state  model.ServerState
	phase  model.ZabPhase
	epoch  int64 // currentEpoch, from StateChange

	// h is the server's history: its data as a txn sequence (snapshot + replayed log +
	// applied commits: the first a txns) followed by what it logged and has not applied.
	h        history
	a        int
	loadRec  int    // the record that last rebuilt h, -1 none
	reported uint32 // per-server checks already reported since that record
	refused  bool   // a refusal to start was reported (it refuses again on every restart)

	// txnLog is the server's on-disk txn log as the trace shows it: what a load found in it
	// (Loaded.History, except for a SNAP, which leaves the log alone), then every Logged txn,
	// cut by Truncated. Only the sync check reads it (getProposalsFromTxnLog).
	txnLog []model.Zxid

	snaps       []snapshot // recent snapshots, oldest first
	snapMax     model.Zxid // the newest snapshot on its disk
	pendingSnap histView   // what the SNAP it is receiving holds
	cl          clog

	following   int64 // the leader it acked NEWLEADER to, -1 none
	followEpoch int64
	followTerm  int64 // that leader's term when it sent the NEWLEADER (learners[i] of the spec)
	term        int64 // how many times it became LEADING: a restarted leader has no learners
	propEpoch   int64 // epoch of the last txn it proposed
	truncDone   bool  // a durability violation was reported at the Truncated just before
}

type snapshot struct {
	zxid model.Zxid
	v    histView
}

const keepSnaps = 8

// propEntry is what the checker knows of a zxid: its first value, where it was first seen,
// and whether some leader broadcast it (Proposed, PROPOSAL, INFORM) rather than only logged it.
type propEntry struct {
	hash     uint64
	rec      int
	seen     bool
	proposed bool
}

// propTable is propEntry by zxid: an array per epoch indexed by the counter, since a run's
// zxids count up from 1 in every epoch, and a map for counters far beyond the highest seen
// (a hand-made trace's), moved into the array if it grows over them.
type propTable struct {
	epochs map[int64]*[]propEntry
	lastE  int64
	last   *[]propEntry
	far    map[model.Zxid]*propEntry
	p      *pools // where the epochs' arrays grow
}

// denseGap is how far past its highest counter an epoch's array may grow in one step.
const denseGap = 1 << 16

// at returns z's entry, creating an empty one (seen false) if add; nil if there is none.
func (t *propTable) at(z model.Zxid, add bool) *propEntry {
	e, n := z.Epoch(), z.Counter()
	l := t.last
	if l == nil || t.lastE != e {
		l = t.epochs[e]
		if l == nil {
			if !add {
				return t.far[z]
			}
			if t.epochs == nil {
				t.epochs = map[int64]*[]propEntry{}
			}
			l = new([]propEntry)
			t.epochs[e] = l
		}
		t.lastE, t.last = e, l
	}
	if n < int64(len(*l)) {
		return &(*l)[n]
	}
	if p := t.far[z]; p != nil || !add {
		return p
	}
	if n >= int64(len(*l))+denseGap {
		if t.far == nil {
			t.far = map[model.Zxid]*propEntry{}
		}
		p := &propEntry{}
		t.far[z] = p
		return p
	}
	from := int64(len(*l))
	var pool *sim.Arrays[propEntry] // none in a table of its own (a zero propTable)
	if t.p != nil {
		pool = t.p.props
	}
	*l = pool.Grow(*l, int(n+1))[:n+1]
	clear((*l)[from:])
	for fz, p := range t.far { // only in hand-made traces; each entry has its own slot
		if fz.Epoch() == e && fz.Counter() >= from && fz.Counter() <= n {
			(*l)[fz.Counter()] = *p
			delete(t.far, fz)
		}
	}
	return &(*l)[n]
}

// get is z's entry, if z was seen.
func (t *propTable) get(z model.Zxid) (propEntry, bool) {
	if p := t.at(z, false); p != nil && p.seen {
		return *p, true
	}
	return propEntry{}, false
}

type zh struct {
	z model.Zxid
	v uint64
}

// Checker checks one run, record by record.
type Checker struct {
	opts Options
	srv  []*server // by sid
	g    global

	props    propTable
	alt      map[zh]bool // second values of a zxid (value: broadcast)
	dups     map[zh]bool // uniqueness violations reported
	lastTxn  *model.Txn
	epochLdr map[int64]leaderEntry
	estMax   int64 // the highest epoch established so far: what G's new entries are committed in
	l1done   map[int64]bool
	pcDone   map[[2]int64]bool
	snapSent map[sim.ConnID]histView
	nlTerm   map[sim.ConnID]int64  // the sending leader's term, per connection that carried a NEWLEADER
	nlAwait  map[sim.ConnID]nlWait // a NEWLEADER delivered to a learner that has not ACKed it yet

	started bool
	curAt   sim.Time
	live    liveness
	rc      recipes
	cl      clientSide

	trace    *sim.Trace // attached to
	p        *pools     // where its arrays grow (every history shares it)
	vs       []Violation
	finished []Violation // Finish's answer, once given
	done     bool
}

// nlWait is a NEWLEADER a learner read, and the record that delivered it.
type nlWait struct {
	zxid model.Zxid
	rec  int
}

type leaderEntry struct {
	sid int64
	rec int
}

// New returns a checker for a run described by opts.
func New(opts Options) *Checker {
	opts.normalize()
	c := &Checker{
		opts:     opts,
		p:        &pools{},
		alt:      map[zh]bool{},
		dups:     map[zh]bool{},
		epochLdr: map[int64]leaderEntry{},
		l1done:   map[int64]bool{},
		pcDone:   map[[2]int64]bool{},
		snapSent: map[sim.ConnID]histView{},
		nlTerm:   map[sim.ConnID]int64{},
		nlAwait:  map[sim.ConnID]nlWait{},
	}
	c.g = global{history: newHistory(c.p, 64)}
	c.props.p = c.p
	c.live.init(c)
	c.cl.init(c)
	return c
}

// Attach makes c observe every record appended to t from now on. It checks them in
// batches (sim.Trace.AddBatchObserver); Finish and Violations flush t first.
func (c *Checker) Attach(t *sim.Trace) {
	c.trace = t
	*c.p = poolsIn(t.Memory())
	t.AddBatchObserver(func(first int, recs []sim.Record) {
		for k := range recs {
			c.Observe(first+k, &recs[k])
		}
	})
}

// flush checks the records t still holds back.
func (c *Checker) flush() {
	if c.trace != nil {
		c.trace.Flush()
	}
}

// Check runs a checker over a finished trace.
func Check(records []sim.Record, opts Options) []Violation {
	c := New(opts)
	for i := range records {
		c.Observe(i, &records[i])
	}
	end := sim.Time(0)
	if n := len(records); n > 0 {
		end = records[n-1].At
	}
	return c.Finish(end)
}

// Finish ends the run at virtual time end (at or after the last record) and returns every
// violation found, sorted.
func (c *Checker) Finish(end sim.Time) []Violation {
	c.flush()
	if c.done {
		return slices.Clone(c.finished)
	}
	c.done = true
	if c.started {
		c.instantEnd()
	}
	c.live.finish(end)
	c.finishRecipes(end)
	c.cl.unjudged += len(c.cl.pending)
	c.checkLinearizability()
	out := slices.Clone(c.vs)
	slices.SortStableFunc(out, func(a, b Violation) int {
		if a.At != b.At {
			if a.At < b.At {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Check, b.Check)
	})
	c.finished = out
	return slices.Clone(out)
}

// Violations are the violations found so far, in the order they were found.
func (c *Checker) Violations() []Violation {
	c.flush()
	return c.vs
}

func (c *Checker) report(check string, at sim.Time, detail string, recs ...int) {
	var rs []int
	for _, r := range recs {
		if r >= 0 && !slices.Contains(rs, r) {
			rs = append(rs, r)
		}
	}
	slices.Sort(rs)
	c.vs = append(c.vs, Violation{Check: check, Detail: detail, At: at, Records: rs})
}

// once reports a per-server check at most once until the server's next load.
func (c *Checker) once(s *server, bit uint32) bool {
	if s.reported&bit != 0 {
		return false
	}
	s.reported |= bit
	return true
}

func (c *Checker) server(sid int64) *server {
	if sid < 0 || sid >= sim.MaxNodeID {
		sid = 0
	}
	for int64(len(c.srv)) <= sid {
		c.srv = append(c.srv, nil)
	}
	s := c.srv[sid]
	if s == nil {
		s = &server{sid: sid, h: newHistory(c.p, 64), loadRec: -1, following: -1}
		c.srv[sid] = s
	}
	return s
}

// serverNode reports whether node n is a server: sids 1..Voters+Observers when the options
// say how many, else any id below 1000 (where model clients start).
func (c *Checker) serverNode(n sim.NodeID) bool {
	if c.opts.Voters > 0 {
		return n >= 1 && int(n) <= c.opts.Voters+c.opts.Observers
	}
	return n >= 0 && n < 1000
}

// Observe checks record r, the i-th of the trace. r is only read during the call.
func (c *Checker) Observe(i int, r *sim.Record) {
	if c.started && r.At != c.curAt {
		c.instantEnd()
	}
	c.started, c.curAt = true, r.At
	switch r.Kind {
	case sim.RecModel:
		c.onModel(i, r)
	case sim.RecSend:
		switch p := r.Data.(type) {
		case *model.QuorumPacket:
			c.onSend(i, r, p)
		case *model.ClientRequest:
			if p.Type == model.OpSetWatches {
				c.onSetWatches(int64(r.Node), p)
			}
		}
	case sim.RecDeliver:
		switch p := r.Data.(type) {
		case *model.QuorumPacket:
			c.onDeliver(i, r, p)
		case *model.ClientRequest:
			if p.Type == model.OpSync && c.serverNode(r.Node) {
				c.onSyncAtLeader(i, int64(r.Node), false, reqKey{}, callKey{int64(r.Peer), p.Xid})
			}
		}
	case sim.RecStart, sim.RecRestart:
		if !c.serverNode(r.Node) {
			return
		}
		s := c.server(int64(r.Node))
		s.up, s.paused = true, false
		s.state, s.phase, s.following = model.LOOKING, model.PhaseElection, -1
		c.live.fault(i, r)
	case sim.RecCrash:
		if !c.serverNode(r.Node) {
			c.onClientCrash(int64(r.Node))
			return
		}
		s := c.server(int64(r.Node))
		s.up, s.paused = false, false
		s.state, s.phase, s.following = model.LOOKING, model.PhaseElection, -1
		s.pendingSnap = histView{}
		c.live.fault(i, r)
	case sim.RecPause, sim.RecResume:
		if c.serverNode(r.Node) {
			c.server(int64(r.Node)).paused = r.Kind == sim.RecPause
			c.live.fault(i, r)
		}
	case sim.RecPartition, sim.RecHeal, sim.RecClog, sim.RecReset, sim.RecLatency:
		c.live.fault(i, r)
	}
}

func (c *Checker) onModel(i int, r *sim.Record) {
	switch d := r.Data.(type) {
	case *model.Committed:
		c.onCommitted(i, r, d)
		c.advance()
	case *model.Logged:
		c.onLogged(i, r, d)
	case *model.Proposed:
		c.onProposed(i, r, d)
	case *model.StateChange:
		c.onStateChange(i, r, d)
	case *model.LeaderEstablished:
		c.onEstablished(i, r, d)
	case *model.SyncDecided:
		c.server(d.Sid).seen = true
		c.checkSync(i, r, d)
	case *model.Truncated:
		c.onTruncated(i, r, d)
	case *model.SnapshotsDropped:
		s := c.server(d.Sid)
		s.snaps = slices.DeleteFunc(s.snaps, func(sn snapshot) bool { return slices.Contains(d.Zxids, sn.zxid) })
		s.snapMax = 0
		for _, sn := range s.snaps {
			s.snapMax = max(s.snapMax, sn.zxid)
		}
	case *model.LogCleaned:
		s := c.server(d.Sid)
		s.txnLog = slices.DeleteFunc(s.txnLog, func(z model.Zxid) bool { return z <= d.UpTo })
	case *model.Loaded:
		c.onLoaded(i, r, d)
	case *model.SnapshotTaken:
		s := c.server(d.Sid)
		s.seen = true
		s.snaps = append(s.snaps, snapshot{zxid: d.Zxid, v: s.h.view(s.a)})
		if len(s.snaps) > keepSnaps {
			s.snaps = slices.Delete(s.snaps, 0, 1)
		}
		s.snapMax = max(s.snapMax, d.Zxid)
	case *model.ClientCall:
		c.onClientCall(i, r, d)
	case *model.ClientReturn:
		c.onClientReturn(i, r, d)
	case *model.WatchDelivered:
		c.onWatchDelivered(i, r, d)
	case *model.ClientState:
		c.onClientState(i, r, d)
	case *model.RecipeEvent:
		c.onRecipe(i, r, d)
	case *model.StartRefused:
		// ZOOKEEPER-1653 in 3.5+: a data dir that QuorumPeer.loadDataBase refuses stays
		// refused on every restart; the ensemble has lost a server until an operator acts.
		if s := c.server(d.Sid); !s.refused {
			s.refused = true
			c.report(CheckLiveness, r.At, fmt.Sprintf("server %d cannot start, its data dir refused by QuorumPeer.loadDataBase: %s.", d.Sid, d.Reason), i)
		}
	case *model.LeaderActive, *model.ElectionDone, *model.EpochWritten, *model.Note:
		// nothing to check: LeaderActive shows as the BROADCAST StateChange that follows
	}
}

func (c *Checker) onSend(i int, r *sim.Record, p *model.QuorumPacket) {
	switch p.Type {
	case model.PROPOSAL, model.INFORM:
		c.broadcastTxn(i, r, p.Txn)
	case model.SNAP:
		l := c.server(int64(r.Node))
		c.snapSent[r.Conn] = l.h.view(l.a)
	case model.NEWLEADER:
		c.nlTerm[r.Conn] = c.server(int64(r.Node)).term
	case model.ACK:
		if w, ok := c.nlAwait[r.Conn]; ok {
			delete(c.nlAwait, r.Conn)
			if p.Zxid != w.zxid {
				c.report(CheckMessageLegal, r.At, fmt.Sprintf(
					"server %d ACKed %s to leader %d before it ACKed NEWLEADER %s: the leader reads the first ACK after NEWLEADER as the NEWLEADER ACK and drops this one as from a different epoch.",
					r.Node, p.Zxid, r.Peer, w.zxid), w.rec, i)
			}
		}
		if p.Zxid.IsNewEpoch() && p.Zxid > 0 {
			// The learner's NEWLEADER ack (and later its UPTODATE ack): it has processed
			// NEWLEADER of the leader at the other end (currentEpoch = acceptedEpoch), of
			// the leader's term that sent it (a hand-built trace has no NEWLEADER: its
			// current one).
			f := c.server(int64(r.Node))
			f.following, f.followEpoch = int64(r.Peer), p.Zxid.Epoch()
			term, ok := c.nlTerm[r.Conn]
			if !ok || r.Conn < 0 {
				term = c.server(int64(r.Peer)).term
			}
			f.followTerm = term
			c.checkProcess(i, r, f)
		}
	}
}

func (c *Checker) onDeliver(i int, r *sim.Record, p *model.QuorumPacket) {
	switch p.Type {
	case model.PROPOSAL, model.INFORM:
		c.broadcastTxn(i, r, p.Txn)
	case model.REQUEST:
		if p.Req != nil && p.Req.Op == model.OpSync {
			c.onSyncAtLeader(i, int64(r.Node), true, reqKey{p.Req.SessionID, p.Req.Cxid}, callKey{})
		}
	case model.NEWLEADER:
		if c.serverNode(r.Node) {
			c.nlAwait[r.Conn] = nlWait{zxid: p.Zxid, rec: i}
		}
	case model.SNAP:
		if v, ok := c.snapSent[r.Conn]; ok {
			c.server(int64(r.Node)).pendingSnap = v
			delete(c.snapSent, r.Conn)
		}
	}
}

// broadcastTxn registers a txn a leader broadcast (the same *Txn usually goes to several
// learners in a row).
func (c *Checker) broadcastTxn(i int, r *sim.Record, t *model.Txn) {
	if t == nil || t == c.lastTxn {
		return
	}
	c.lastTxn = t
	c.noteTxn(t)
	c.register(i, r.At, t.Zxid, t.Hash(), true)
}

// register is zxid uniqueness: z must never carry two values, whoever proposed or logged it.
func (c *Checker) register(i int, at sim.Time, z model.Zxid, v uint64, proposed bool) {
	p := c.props.at(z, true)
	if !p.seen {
		*p = propEntry{hash: v, rec: i, seen: true}
	}
	if p.hash == v {
		p.proposed = p.proposed || proposed
		return
	}
	e := *p
	k := zh{z, v}
	c.alt[k] = c.alt[k] || proposed
	if !c.dups[k] {
		c.dups[k] = true
		c.report(CheckZxidUniqueness, at, fmt.Sprintf("zxid %s was given a second value (hash %x) after it was first seen with hash %x.", z, v, e.hash), e.rec, i)
	}
}

// proposedValue reports whether (z, v) was broadcast by some leader.
func (c *Checker) proposedValue(z model.Zxid, v uint64) bool {
	if e, ok := c.props.get(z); ok && e.hash == v && e.proposed {
		return true
	}
	return c.alt[zh{z, v}]
}

func (c *Checker) checkIntegrity(i int, at sim.Time, s *server, z model.Zxid, v uint64, how string) {
	if c.proposedValue(z, v) || !c.once(s, bitIntegrity) {
		return
	}
	var detail string
	if e, ok := c.props.get(z); ok && e.proposed {
		detail = fmt.Sprintf("server %d %s %s with a value (hash %x) that no leader proposed: the proposal had hash %x.", s.sid, how, z, v, e.hash)
		c.report(CheckIntegrity, at, detail, e.rec, i, s.loadRec)
		return
	}
	detail = fmt.Sprintf("server %d %s %s (hash %x), which no leader ever proposed.", s.sid, how, z, v)
	c.report(CheckIntegrity, at, detail, i, s.loadRec)
}
