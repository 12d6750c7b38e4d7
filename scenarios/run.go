package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/anishathalye/porcupine"

	"github.com/zabsim/zabsim/checker"
	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/registry"
	"github.com/zabsim/zabsim/sim"
)

// Options are the settings of one run that do not come from the scenario.
type Options struct {
	Seed uint64
	// Mutants and Fixes are switched on as if the scenario named them (model.MutantNames,
	// model.FixNames); Run refuses an unknown name.
	Mutants, Fixes []string
	NoTrace        bool // keep only the trace hash (faster, less memory; no JSONL export)
	NoHash         bool // and not even the hash: Result.TraceHash is "" (explored schedules)
	// MaxEvents and MaxVirtual stop a run that goes on too long: at that many events, or
	// at that virtual time (0: DefaultMaxEvents, DefaultMaxVirtual). The run then stops
	// early, and Result.Limit says which limit it met.
	MaxEvents  uint64
	MaxVirtual sim.Time
	// Progress, if set, is called now and then with the virtual time reached.
	Progress func(virtual sim.Time)
	// Attach, if set, is called with the run's World before anything happens in it: to
	// attach an observer of its trace (a sim.JSONLWriter). An error stops the run.
	Attach func(w *sim.World) error
	// Registry, if set, runs the scenario against this registry whatever its `registry`
	// line says (zabsim compare).
	Registry registry.Kind
	// Memory, if set, is where the ensemble makes its values (model.NewEnsembleIn), its
	// World its connections and growing arrays, and the checker its arrays (Memory.World):
	// the caller resets it once nothing reads the Result any more, for the next run to reuse.
	Memory *model.Memory
}

// The default run limits: far beyond any scenario of the library or any explored schedule
// (a few hundred thousand events, minutes of virtual time), and reached in about a minute
// of wall time, so that a runaway scenario stops instead of filling the machine.
const (
	DefaultMaxEvents  uint64   = 50_000_000
	DefaultMaxVirtual sim.Time = 7 * 24 * 3600 * sim.Second
	// MaxEventsLimit bounds MaxEvents: about a day of wall time.
	MaxEventsLimit uint64 = 100_000_000_000
)

// Limit names, in Result.Limit.
const (
	LimitEvents  = "events"
	LimitVirtual = "virtual"
)

// checkLimits refuses run limits out of range.
func (o *Options) checkLimits() error {
	if o.MaxEvents > MaxEventsLimit {
		return fmt.Errorf("max events %d: want at most %d", o.MaxEvents, MaxEventsLimit)
	}
	if o.MaxVirtual < 0 || o.MaxVirtual > MaxDuration {
		return fmt.Errorf("max virtual time %s: want from 1ns to %s", o.MaxVirtual, MaxDuration)
	}
	return nil
}

// Result is what a run produced: the summary fields of `zabsim run --json`, and the
// world and ensemble for reports and tests.
type Result struct {
	Scenario     string        `json:"scenario"`
	Seed         uint64        `json:"seed"`
	OK           bool          `json:"ok"`
	Events       uint64        `json:"events"`
	VirtualNs    int64         `json:"virtual_ns"`
	TraceHash    string        `json:"trace_hash"`
	Leaders      []LeaderInfo  `json:"leaders"`
	Syncs        []SyncInfo    `json:"syncs"`
	Expectations []Expectation `json:"expectations"`
	Violations   []Violation   `json:"violations"`
	Warnings     []string      `json:"warnings"`
	// Linearizability is porcupine's verdict on the clients' history: "ok", "illegal",
	// "unknown" (its timeout was hit: neither a pass nor a failure), or "" without client
	// operations to check.
	Linearizability string `json:"linearizability,omitempty"`
	Stopped         string `json:"stopped,omitempty"` // why the run stopped early, if it did
	// Limit is the run limit that stopped it, if one did: LimitEvents or LimitVirtual.
	Limit string `json:"limit,omitempty"`
	// Header is the scenario's leading comment: what it teaches and its source.
	Header string `json:"-"`
	// Replay is the command that runs this again: the built-in's name or the file's path,
	// the seed, and the mutants and fixes switched on from outside the file.
	Replay string `json:"replay"`

	LinOps   int `json:"-"` // operations and paths checked for linearizability
	LinPaths int `json:"-"`
	// LinWitnessed of them were decided by their zxid order, the rest by porcupine's search.
	LinWitnessed int `json:"-"`
	// Steps say when each command line ran: the records before it and after it, and the
	// virtual times (the run player shows the line running, and forks a run at a moment).
	Steps []Step `json:"-"`
	// Clients name the client nodes as the scenario does (the workload's as "workload N").
	Clients  []ClientName    `json:"-"`
	World    *sim.World      `json:"-"`
	Ensemble *model.Ensemble `json:"-"`
	// Registry is the registry the scenario ran against ("" without a registry line),
	// with its deployment, its clients' sides and the partitions, for registry.Measure.
	Registry   registry.Kind       `json:"registry,omitempty"`
	Deployment registry.Deployment `json:"-"`
	Faults     []registry.Fault    `json:"-"`
}

// Step is one command line as it ran: it began after From records, at FromNs, and ended
// after To records, at ToNs. A line of an `at` command has a second step when it fires.
type Step struct {
	Line         int
	Text         string
	From, To     int
	FromNs, ToNs int64
	Fired        bool // the step of an `at` line's command at its time
}

// ClientName is a client node and its name in the scenario.
type ClientName struct {
	Node int64
	Name string
}

// LeaderInfo is an established leader: a quorum acknowledged its epoch.
type LeaderInfo struct {
	Epoch int64 `json:"epoch"`
	Sid   int64 `json:"sid"`
	AtNs  int64 `json:"at_ns"`
}

// SyncInfo is one sync decision of a leader for a learner.
type SyncInfo struct {
	Leader       int64      `json:"leader"`
	Learner      int64      `json:"learner"`
	Mode         string     `json:"mode"`
	PeerLastZxid model.Zxid `json:"peer_last_zxid"` // in JSON as "0x..." (Zxid.MarshalJSON)
	MinCommitted model.Zxid `json:"min_committed"`
	MaxCommitted model.Zxid `json:"max_committed"`
	AtNs         int64      `json:"at_ns"`
	// TxnLog is set when the leader read its txn log (getProposalsFromTxnLog).
	TxnLog *TxnLogInfo `json:"txnlog,omitempty"`
}

// TxnLogInfo is what getProposalsFromTxnLog found: the bytes of the log files after the
// one the iterator starts in, against snapshotSizeFactor x the latest snapshot's length.
type TxnLogInfo struct {
	Size   int64 `json:"size"`
	Limit  int64 `json:"limit"`
	Above  bool  `json:"above"`   // its first txn is above peerLastZxid: refused, size unchecked
	TooBig bool  `json:"too_big"` // "Txnlog size: {} exceeds sizeLimit: {}"
	Empty  bool  `json:"empty"`   // accepted, but it holds no txn (no log file at all)
}

// Expectation is the outcome of one expect line (or of an await that timed out).
type Expectation struct {
	Line int    `json:"line"`
	Text string `json:"text"`
	OK   bool   `json:"ok"`
	Got  string `json:"got"`
}

// Violation is a failed check of the run.
type Violation struct {
	Check    string `json:"check"`
	Detail   string `json:"detail"`
	AtNs     int64  `json:"at_ns"`
	Expected bool   `json:"expected"` // named by an `expect violation` line
}

// runner is the interpreter's state.
type runner struct {
	s              *Script
	opt            Options
	mcfg           model.Config
	wcfg           sim.Config
	w              *sim.World
	e              *model.Ensemble
	names          map[string]int64
	res            *Result
	chk            *checker.Checker
	clients        map[string]*scenarioClient
	recipes        map[string]*recipe
	clientOrder    []string
	expected       []expectedViolation // expect violation lines, judged at the end
	workload       *model.Workload
	lockWorkload   *model.LockWorkload
	recipeWorkload *model.RecipeWorkload
	// judged are the violations the runner itself finds (RecipeConvergence), beside the
	// checker's
	judged []checker.Violation
	events [][nPoints]int // events[sid][p]: how often server sid reached syncPoints[p] so far
	// started: the servers the script has started and not crashed since. One of them that
	// is down exited on its own (ZooKeeper exits on some errors, or refuses to start).
	started    map[int64]bool
	lastProg   sim.Time
	pc         int    // the index of the command being run
	failedCall string // the last blocking client call that failed on its connection
	// maxEvents and maxVirtual are the run's limits; limit is set once one is met, and
	// from then on nothing more runs.
	maxEvents  uint64
	maxVirtual sim.Time
	limit      *stop
	// registry mode (a `registry` line or Options.Registry): the deployment and its clients
	reg        registry.Deployment
	regKind    registry.Kind
	regClients map[string]registry.Client
	faults     []registry.Fault
	// timed are the `at` commands waiting for their time, earliest first; atErr is the
	// first that failed (bad input, named by its line).
	timed []timedCommand
	atErr error
}

// timedCommand is an `at T CMD` line: CMD runs at virtual time T, whatever line runs then.
type timedCommand struct {
	at sim.Time
	c  Command
}

// expectedViolation is an `expect violation CHECK` line.
type expectedViolation struct {
	line  int
	text  string
	check string
}

// replayCommand is the zabsim command line that runs s with opt again.
func replayCommand(s *Script, opt Options) string {
	src := s.File
	if s.Builtin {
		src = s.Name
	}
	cmd := "zabsim run " + src + " --seed " + strconv.FormatUint(opt.Seed, 10)
	if len(opt.Mutants) > 0 {
		cmd += " --mutant " + strings.Join(opt.Mutants, ",")
	}
	if len(opt.Fixes) > 0 {
		cmd += " --fix " + strings.Join(opt.Fixes, ",")
	}
	return cmd
}

// stop ends the run early after a failed await; the rest of the script is skipped.
type stop struct{ why string }

// Run executes a parsed script. A returned error is bad input (an *Error naming the line);
// failed expectations are in the Result, which is then not OK.
func Run(s *Script, opt Options) (*Result, error) {
	if err := opt.checkLimits(); err != nil {
		return nil, err
	}
	r := &runner{s: s, opt: opt, names: map[string]int64{}, clients: map[string]*scenarioClient{}, recipes: map[string]*recipe{},
		maxEvents: opt.MaxEvents, maxVirtual: opt.MaxVirtual,
		res: &Result{Scenario: s.Name, Seed: opt.Seed, Header: s.Header, Replay: replayCommand(s, opt)}}
	if r.maxEvents == 0 {
		r.maxEvents = DefaultMaxEvents
	}
	r.regKind = s.registry
	if opt.Registry != "" {
		r.regKind = opt.Registry
	}
	if r.regKind != "" {
		if err := checkScriptFor(s, r.regKind); err != nil {
			return nil, err
		}
	}
	if r.maxVirtual == 0 {
		r.maxVirtual = DefaultMaxVirtual
	}
	for i := range s.Commands {
		c := &s.Commands[i]
		r.pc = i
		step := r.stepStart(c)
		err := r.exec(c)
		r.stepEnd(step)
		if r.atErr != nil {
			return nil, r.atErr
		}
		if r.limit != nil {
			// whatever the line made of it (a timed-out await), the limit is why it stopped
			r.res.Stopped = fmt.Sprintf("line %d: %s", c.Line, r.limit.why)
			break
		}
		if err != nil {
			if st, ok := err.(*stop); ok {
				r.res.Stopped = fmt.Sprintf("line %d: %s", c.Line, st.why)
				break
			}
			return nil, &Error{s.File, c.Line, err.Error()}
		}
	}
	if r.w == nil {
		if err := r.build(); err != nil {
			return nil, &Error{s.File, 1, err.Error()}
		}
	}
	for _, t := range r.timed {
		r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("line %d: %s never ran: the run ended at %s", t.c.Line, t.c.Text, fmtTime(r.w.Now())))
	}
	r.finish()
	return r.res, nil
}

// stepStart notes where the run is when command c begins.
func (r *runner) stepStart(c *Command) int {
	st := Step{Line: c.Line, Text: c.Text}
	if r.w != nil {
		st.From, st.FromNs = r.w.Trace().Len(), int64(r.w.Now())
	}
	r.res.Steps = append(r.res.Steps, st)
	return len(r.res.Steps) - 1
}

// stepEnd notes where the run is when the command of step i ends.
func (r *runner) stepEnd(i int) {
	st := &r.res.Steps[i]
	st.To, st.ToNs = st.From, st.FromNs
	if r.w != nil {
		st.To, st.ToNs = r.w.Trace().Len(), int64(r.w.Now())
	}
}

// execAt registers an `at T CMD` line: CMD runs when the virtual time reaches T, while
// whatever line is running then waits; nothing is scheduled in the World, so the run up
// to T is the run without the line.
func (r *runner) execAt(c *Command) error {
	at, _ := sim.ParseTime(c.Args[0])
	if at < r.w.Now() {
		return fmt.Errorf("at %s: the run is already at %s", c.Args[0], fmtTime(r.w.Now()))
	}
	inner := atCommand(c)
	i := len(r.timed)
	for i > 0 && r.timed[i-1].at > at {
		i--
	}
	r.timed = slices.Insert(r.timed, i, timedCommand{at: at, c: inner})
	return nil
}

// atCommand is the command an `at` line runs.
func atCommand(c *Command) Command {
	text := c.Text
	if i := strings.Index(text, c.Args[0]); i >= 0 {
		text = strings.TrimSpace(text[i+len(c.Args[0]):])
	}
	return Command{Line: c.Line, Text: text, Name: c.Args[1], Args: c.Args[2:], KV: c.KV}
}

// fireTimed runs the `at` commands whose time has come.
func (r *runner) fireTimed() {
	for len(r.timed) > 0 && r.timed[0].at <= r.w.Now() && r.atErr == nil {
		t := r.timed[0]
		r.timed = r.timed[1:]
		step := r.stepStart(&t.c)
		r.res.Steps[step].Fired = true
		err := r.exec(&t.c)
		r.stepEnd(step)
		if err != nil {
			if st, ok := err.(*stop); ok {
				err = fmt.Errorf("%s", st.why)
			}
			r.atErr = &Error{r.s.File, t.c.Line, fmt.Sprintf("at %s: %v", fmtTime(t.at), err)}
		}
	}
}

func (r *runner) build() error {
	if r.w != nil {
		return nil
	}
	r.wcfg.Seed = r.opt.Seed
	r.wcfg.NoTrace = r.opt.NoTrace
	r.wcfg.NoHash = r.opt.NoHash
	for _, m := range r.opt.Mutants {
		if err := r.mcfg.Mutants.Set(m); err != nil {
			return err
		}
	}
	for _, f := range r.opt.Fixes {
		if err := r.mcfg.Fixes.Set(f); err != nil {
			return err
		}
	}
	if r.opt.Memory != nil {
		r.wcfg.Memory = r.opt.Memory.World()
	}
	w, err := sim.NewWorld(r.wcfg)
	if err != nil {
		return err
	}
	if r.opt.Attach != nil {
		if err := r.opt.Attach(w); err != nil {
			return err
		}
	}
	if r.regKind != "" && r.regKind != registry.ZooKeeper {
		return r.buildRegistry(w)
	}
	e, err := model.NewEnsembleIn(w, r.mcfg, r.opt.Memory)
	if err != nil {
		return err
	}
	r.w, r.e = w, e
	r.res.World, r.res.Ensemble = w, e
	// The summary and the expectations read these records as they happen, so they work
	// without a kept trace too.
	w.Trace().Observers = append(w.Trace().Observers, func(rec *sim.Record) {
		if rec.Kind != sim.RecModel && rec.Kind != sim.RecDeliver {
			return // what follows reads only these (most records are sends and timers)
		}
		switch d := rec.Data.(type) {
		case *model.LeaderEstablished:
			r.res.Leaders = append(r.res.Leaders, LeaderInfo{Epoch: d.Epoch, Sid: d.Sid, AtNs: int64(rec.At)})
		case *model.Truncated:
			r.reached(d.Sid, ptTruncate)
		case *model.EpochWritten:
			if p := slices.Index(crashPoints, d.File); p >= 0 { // currentEpoch, acceptedEpoch
				r.reached(d.Sid, p)
			}
		case *model.SnapshotTaken:
			r.reached(d.Sid, ptSnapshot)
		case *model.Logged:
			r.reached(d.Sid, ptLog)
		case *model.Proposed:
			r.reached(d.Sid, ptProposal)
		case *model.Loaded:
			if d.From == "snap" {
				r.reached(d.Sid, ptSnap)
			}
		case *model.QuorumPacket:
			if rec.Kind == sim.RecDeliver && d.Type == model.DIFF {
				r.reached(int64(rec.Node), ptDiff) // the learner read a DIFF
			}
			if rec.Kind == sim.RecDeliver && d.Type == model.NEWLEADER {
				r.reached(int64(rec.Node), ptNewleader) // and handled it
			}
		case *model.SyncDecided:
			si := SyncInfo{Leader: d.Sid, Learner: d.Learner, Mode: d.Mode,
				PeerLastZxid: d.PeerLastZxid, MinCommitted: d.MinCommitted,
				MaxCommitted: d.MaxCommitted, AtNs: int64(rec.At)}
			if d.TxnLogRead {
				si.TxnLog = &TxnLogInfo{Size: d.TxnLogSize, Limit: d.TxnLogLimit, Above: d.TxnLogAbove, TooBig: d.TxnLogTooBig,
					Empty: !d.TxnLogAbove && !d.TxnLogTooBig && d.TxnLogFirst == 0}
			}
			r.res.Syncs = append(r.res.Syncs, si)
		}
	})
	r.res.Warnings = append(r.res.Warnings, e.Cfg.Warnings...)
	// The checker judges the run as it happens (it reads only the trace).
	opts := checker.OptionsFor(*e.Cfg)
	opts.Liveness = true
	r.chk = checker.New(opts)
	r.chk.Attach(w.Trace())
	if r.regKind == registry.ZooKeeper {
		r.reg = registry.NewZooKeeper(e, "/services")
		r.res.Registry, r.res.Deployment = r.regKind, r.reg
	}
	return nil
}

func (r *runner) exec(c *Command) error {
	switch c.Name {
	case "ensemble":
		r.mcfg.Servers, _ = strconv.Atoi(c.Args[0])
		if v, ok := c.Opt("voters"); ok {
			r.mcfg.InitialVoters, _ = parseSidSet(v, r.mcfg.Servers)
		}
		if v, ok := c.Opt("observers"); ok {
			r.mcfg.Observers, _ = strconv.Atoi(v)
		}
		return nil
	case "config":
		for _, kv := range c.KV {
			if err := applyConfig(&r.mcfg, &r.wcfg, kv); err != nil {
				return err
			}
		}
		return nil
	case "disk":
		v, _ := c.Opt("policy")
		p, err := sim.ParseDiskPolicy(v)
		r.wcfg.CrashDisk = p
		return err
	case "seed", "registry":
		return nil // the caller chose the seed (Script.Seed is its default); the registry is r.regKind
	case "mutant":
		return checkSwitches(c, append(slices.Clone(model.MutantNames), registry.MutantNames...), func(n string) error {
			if slices.Contains(registry.MutantNames, n) {
				return nil // read by buildRegistry
			}
			return r.mcfg.Mutants.Set(n)
		})
	case "fix":
		return checkSwitches(c, model.FixNames, r.mcfg.Fixes.Set)
	}
	if err := r.build(); err != nil {
		return err
	}
	switch c.Name {
	case "start":
		return r.execStart(c)
	case "crash", "restart", "pause", "resume":
		return r.execProcess(c)
	case "await":
		return r.execAwait(c)
	case "let":
		if len(c.Args) == 4 {
			sid := r.clients[c.Args[3]].c.Server()
			if sid <= 0 {
				return fmt.Errorf("let %s = server %s: the client is not connected", c.Args[0], c.Args[3])
			}
			r.names[c.Args[0]] = sid
			return nil
		}
		sids, err := r.servers(c.Args[2])
		if err != nil {
			return err
		}
		if len(sids) != 1 {
			return fmt.Errorf("let %s = %s: names %d servers, want exactly one", c.Args[0], c.Args[2], len(sids))
		}
		r.names[c.Args[0]] = sids[0]
		return nil
	case "write":
		return r.execWrite(c)
	case "partition", "heal", "clog", "latency":
		return r.execLinks(c)
	case "reconfig":
		v, _ := c.Opt("voters")
		voters, _ := parseSidSet(v, r.mcfg.Servers)
		sids, err := r.argServers(c.Args)
		if err != nil {
			return err
		}
		for _, sid := range sids {
			r.e.Server(sid).Reconfigure(voters)
		}
		return nil
	case "run":
		d, _ := sim.ParseTime(c.Args[0])
		r.runFor(d)
		return nil
	case "at":
		return r.execAt(c)
	case "expect":
		return r.execExpect(c)
	case "client":
		return r.execClient(c)
	case "lock", "elect":
		return r.execLock(c)
	case "unlock", "resign":
		return r.execUnlock(c)
	case "resource":
		r.execResource(c)
		return nil
	case "use":
		return r.execUse(c)
	case "register":
		return r.execRegister(c)
	case "discover":
		r.execDiscover(c)
		return nil
	case "deregister":
		return r.execDeregister(c)
	case "watchconfig":
		r.execWatchConfig(c)
		return nil
	case "workload":
		return r.execWorkload(c)
	}
	if _, ok := r.clients[c.Name]; ok {
		return r.execClientOp(c)
	}
	return fmt.Errorf("unknown command %q", c.Name)
}

// runFor advances virtual time, reporting progress every 10 virtual seconds.
func (r *runner) runFor(d sim.Time) {
	r.runUntil(nil, r.after(d))
}

// after is the virtual time d from now, saturating instead of overflowing.
func (r *runner) after(d sim.Time) sim.Time {
	if d > sim.Never-r.w.Now() {
		return sim.Never
	}
	return r.w.Now() + d
}

// runUntil runs until cond holds (checked before each event; nil: never) or the virtual
// time until, reporting progress every 10 virtual seconds. It stops at a run limit too:
// then r.limit says which, and it (and every later call) returns false at once.
func (r *runner) runUntil(cond func() bool, until sim.Time) bool {
	// Checked before each event, with cond: an event limit stops even a loop of events
	// that takes no virtual time.
	stopHere := func() bool { return r.w.Events() >= r.maxEvents || cond != nil && cond() }
	for r.limit == nil && r.atErr == nil {
		step := min(until, r.maxVirtual, r.w.Now()+10*sim.Second)
		if len(r.timed) > 0 {
			step = min(step, max(r.timed[0].at, r.w.Now()))
		}
		if r.w.RunUntilCond(stopHere, step) && cond != nil && cond() {
			return true
		}
		if r.fireTimed(); r.atErr != nil {
			return false
		}
		r.progress()
		switch {
		case r.w.Events() >= r.maxEvents:
			r.limit = &stop{why: fmt.Sprintf("the event limit (%d events, --max-events) was reached at %s virtual", r.maxEvents, fmtTime(r.w.Now()))}
			r.res.Limit = LimitEvents
		case r.w.Now() >= until:
			return false
		case r.w.Now() >= r.maxVirtual:
			r.limit = &stop{why: fmt.Sprintf("the virtual-time limit (%s, --max-virtual) was reached after %d events", r.maxVirtual, r.w.Events())}
			r.res.Limit = LimitVirtual
		}
	}
	return false
}

func (r *runner) progress() {
	if r.opt.Progress != nil && r.w.Now()-r.lastProg >= 10*sim.Second {
		r.lastProg = r.w.Now()
		r.opt.Progress(r.w.Now())
	}
}

// servers resolves a selector to sids, in order.
func (r *runner) servers(sel string) ([]int64, error) { return r.appendServers(nil, sel) }

// appendServers appends the sids sel selects to out, in order (a set's once each).
func (r *runner) appendServers(out []int64, sel string) ([]int64, error) {
	if strings.HasPrefix(sel, "{") {
		start := len(out)
		for x := range strings.SplitSeq(strings.Trim(sel, "{}"), ",") {
			n := len(out)
			var err error
			if out, err = r.appendServers(out, x); err != nil {
				return nil, err
			}
			kept := n // keep the new ones not in the set yet
			for _, v := range out[n:] {
				if !slices.Contains(out[start:kept], v) {
					out[kept] = v
					kept++
				}
			}
			out = out[:kept]
		}
		return out, nil
	}
	total := int64(r.numServers())
	if r.regClients[sel] != nil {
		return append(out, int64(r.regClients[sel].ID())), nil
	}
	if sc := r.clients[sel]; sc != nil {
		return append(out, int64(sc.c.ID())), nil
	}
	switch sel {
	case "all", "*":
		for i := range total {
			out = append(out, i+1)
		}
		return out, nil
	case "leader":
		l := r.e.Leader()
		if l == nil {
			return nil, fmt.Errorf("'leader': there is no leader now (use 'await leader' first)")
		}
		return append(out, l.Sid()), nil
	case "down", "paused":
		for _, s := range r.e.Servers {
			id := sim.NodeID(s.Sid())
			if (sel == "down" && !r.w.IsUp(id)) || (sel == "paused" && r.w.IsPaused(id)) {
				out = append(out, s.Sid())
			}
		}
		return out, nil
	case "followers":
		l := r.e.Leader()
		if l == nil {
			return nil, fmt.Errorf("'followers': there is no leader now")
		}
		for _, s := range r.e.Servers {
			if s != l && s.Up() {
				out = append(out, s.Sid())
			}
		}
		return out, nil
	}
	if n, err := strconv.ParseInt(sel, 10, 64); err == nil {
		if n < 1 || n > total {
			return nil, fmt.Errorf("server %d: the ensemble has servers 1 to %d", n, total)
		}
		return append(out, n), nil
	}
	if sid, ok := r.names[sel]; ok {
		return append(out, sid), nil
	}
	return nil, fmt.Errorf("%q is not bound", sel)
}

func (r *runner) one(sel string) (int64, error) {
	var buf [1]int64
	sids, err := r.appendServers(buf[:0], sel)
	if err != nil {
		return 0, err
	}
	if len(sids) != 1 {
		return 0, fmt.Errorf("%s names %d servers, want one", sel, len(sids))
	}
	return sids[0], nil
}

func (r *runner) argServers(args []string) ([]int64, error) {
	var out []int64
	for _, a := range args {
		var err error
		if out, err = r.appendServers(out, a); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r *runner) execStart(c *Command) error {
	sids, err := r.argServers(c.Args)
	if err != nil {
		return err
	}
	var stagger sim.Time
	if v, ok := c.Opt("stagger"); ok {
		stagger, _ = sim.ParseTime(v)
	}
	for i, sid := range sids {
		if i > 0 && stagger > 0 {
			r.runFor(stagger)
		}
		if r.w.IsUp(sim.NodeID(sid)) {
			if len(sids) == 1 {
				return fmt.Errorf("start %d: server %d is already running", sid, sid)
			}
			continue
		}
		r.setStarted(sid, true)
		if err := r.w.Start(sim.NodeID(sid)); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) execProcess(c *Command) error {
	if sc, ok := r.clients[c.Args[0]]; ok && len(c.Args) == 1 && (c.Name == "pause" || c.Name == "resume") {
		id := sc.c.ID()
		if c.Name == "pause" {
			if r.w.IsPaused(id) || !r.w.IsUp(id) {
				return fmt.Errorf("pause %s: client %s is not running or already paused", c.Args[0], c.Args[0])
			}
			return r.w.Pause(id)
		}
		if !r.w.IsPaused(id) {
			return fmt.Errorf("resume %s: client %s is not paused", c.Args[0], c.Args[0])
		}
		return r.w.Resume(id)
	}
	args, host := c.Args, false
	if c.Name == "crash" {
		args, host = crashArgs(c)
	}
	sids, err := r.argServers(args)
	if err != nil {
		return err
	}
	if at, ok := c.Opt("at"); ok && c.Name == "crash" {
		sid, err := r.one(c.Args[0])
		if err != nil {
			return err
		}
		return r.crashAt(c, sid, at)
	}
	for _, sid := range sids {
		id := sim.NodeID(sid)
		if c.Name != "restart" && r.exitedOnItsOwn(sid) {
			// What the line asks for (the server stopped) is already so: noted, not refused,
			// so that a schedule written for servers that stay up still runs to its end.
			r.exitedWarning(c, sid)
			if c.Name == "crash" {
				r.setStarted(sid, false)
			}
			continue
		}
		switch c.Name {
		case "crash":
			if !r.w.IsUp(id) {
				return fmt.Errorf("crash %d: server %d is not running", sid, sid)
			}
			r.setStarted(sid, false)
			kind := sim.ProcessKill
			if host {
				kind = sim.HostLoss
			}
			err = r.w.CrashAs(id, kind)
		case "restart":
			if r.w.IsUp(id) {
				return fmt.Errorf("restart %d: server %d is running (crash it first)", sid, sid)
			}
			r.setStarted(sid, true)
			err = r.w.Restart(id)
		case "pause":
			if !r.w.IsUp(id) || r.w.IsPaused(id) {
				return fmt.Errorf("pause %d: server %d is not running or already paused", sid, sid)
			}
			err = r.w.Pause(id)
		case "resume":
			if !r.w.IsPaused(id) {
				return fmt.Errorf("resume %d: server %d is not paused", sid, sid)
			}
			err = r.w.Resume(id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) within(c *Command, def sim.Time) sim.Time {
	if v, ok := c.Opt("within"); ok {
		d, _ := sim.ParseTime(v)
		return d
	}
	return def
}

func (r *runner) execAwait(c *Command) error {
	if r.otherRun(c) {
		return nil
	}
	limit := r.after(r.within(c, 60*sim.Second))
	var ok bool
	switch c.Args[0] {
	case "leader":
		ok = r.runUntil(func() bool { return r.e.Settled() != nil }, limit)
	case "synced":
		sid, err := r.one(c.Args[1])
		if err != nil {
			return err
		}
		s := r.e.Server(sid)
		ok = r.runUntil(func() bool {
			l := r.e.Leader()
			return l != nil && (l == s || s.Synced(l.Sid()))
		}, limit)
	case "state":
		sid, err := r.one(c.Args[1])
		if err != nil {
			return err
		}
		ok = r.runUntil(func() bool { return r.stateOf(sid) == c.Args[2] }, limit)
	case "live":
		// The checker's liveness condition, looked at every 100ms of virtual time (it
		// judges records in batches).
		for !r.chk.LivenessHeld() && r.w.Now() < limit && r.limit == nil {
			r.runUntil(nil, min(limit, r.w.Now()+100*sim.Millisecond))
		}
		ok = r.chk.LivenessHeld()
	case "truncated", "snapped", "diffed":
		sid, err := r.one(c.Args[1])
		if err != nil {
			return err
		}
		p := map[string]int{"truncated": ptTruncate, "snapped": ptSnap, "diffed": ptDiff}[c.Args[0]]
		n := r.times(sid, p)
		ok = r.runUntil(func() bool { return r.times(sid, p) > n }, limit)
	case "held":
		ok = r.runUntil(r.recipes[c.Args[1]].lock.Held, limit)
	case "waiting":
		l := r.recipes[c.Args[1]].lock
		ok = r.runUntil(func() bool { return l.Node() != "" && !l.Held() }, limit)
	case "connected":
		cl := r.clients[c.Args[1]].c
		ok = r.runUntil(func() bool { return cl.ConnectedNow(r.e) }, limit)
	case "converged":
		var why string
		if !r.runUntil(func() (done bool) { done, why = r.recipeWorkload.Converged(); return done }, limit) {
			r.judged = append(r.judged, checker.Violation{Check: CheckRecipeConvergence, At: r.w.Now(),
				Detail: fmt.Sprintf("%s did not converge within %s of line %d: %s", r.recipeWorkload, r.within(c, 60*sim.Second), c.Line, why)})
		}
		return nil
	case "value", "instances", "config", "watched", "result", "notheld":
		var got string
		var err error
		ok = r.runUntil(func() bool {
			var held bool
			held, got, err = r.evalExpect(c)
			return held || err != nil
		}, limit)
		if err != nil {
			return err
		}
		if !ok {
			r.res.Expectations = append(r.res.Expectations, Expectation{Line: c.Line, Text: c.Text, OK: false,
				Got: got + " at " + fmtTime(r.w.Now()) + ", still"})
			return &stop{why: c.Text + ": timed out"}
		}
		r.expect(c, true, got+" at "+fmtTime(r.w.Now()))
	case "epoch":
		sid, err := r.one(c.Args[1])
		if err != nil {
			return err
		}
		s := r.e.Server(sid)
		v, current := c.Opt("current")
		if !current {
			v, _ = c.Opt("accepted")
		}
		want, _ := strconv.ParseInt(v, 10, 64)
		ok = r.runUntil(func() bool {
			if current {
				return s.CurrentEpoch() == want
			}
			return s.AcceptedEpoch() == want
		}, limit)
	}
	if !ok {
		got := "timed out at " + fmtTime(r.w.Now())
		r.res.Expectations = append(r.res.Expectations, Expectation{Line: c.Line, Text: c.Text, OK: false, Got: got})
		return &stop{why: c.Text + " " + got}
	}
	return nil
}

func (r *runner) execWrite(c *Command) error {
	n, _ := strconv.Atoi(c.Args[0])
	nowait := len(c.Args) == 2
	size, _ := writeSize(c) // checked before the run
	var via int64
	if v, ok := c.Opt("via"); ok {
		sid, err := r.one(v)
		if err != nil {
			return err
		}
		via = sid
	} else {
		// the default client is connected to the lowest-numbered serving server (a paused
		// one serves nobody)
		for _, s := range r.e.Servers {
			if s.Serving() && !r.w.IsPaused(sim.NodeID(s.Sid())) {
				via = s.Sid()
				break
			}
		}
		if via == 0 {
			return fmt.Errorf("write: no server is serving (use 'await leader' first)")
		}
	}
	if nowait {
		for i := 0; i < n; i++ {
			r.e.WriteSized(via, size)
		}
		return nil
	}
	for i := 0; i < n; i++ {
		res := r.e.WriteSized(via, size)
		r.runUntil(func() bool { return res.Done }, r.after(30*sim.Second))
		if !res.Done || res.Rc != model.ErrOK {
			got := "no answer within 30s"
			if res.Done {
				got = "error " + strconv.Itoa(int(res.Rc))
			}
			r.res.Expectations = append(r.res.Expectations, Expectation{Line: c.Line, Text: c.Text, OK: false,
				Got: fmt.Sprintf("write %d of %d (%s): %s", i+1, n, res.Path, got)})
			return &stop{why: "write failed: " + got}
		}
	}
	return nil
}

func toNodes(sids []int64) []sim.NodeID {
	out := make([]sim.NodeID, len(sids))
	for i, s := range sids {
		out[i] = sim.NodeID(s)
	}
	return out
}

func (r *runner) execLinks(c *Command) error {
	if c.Name == "heal" && len(c.Args) == 0 {
		r.w.HealAll()
		r.noteHeal()
		return nil
	}
	args, resets := partitionArgs(c)
	fromSel, toSel, oneWay, _ := splitLink(args)
	from, err := r.servers(fromSel)
	if err != nil {
		return err
	}
	to, err := r.servers(toSel)
	if err != nil {
		return err
	}
	f, t := toNodes(from), toNodes(to)
	ports, _ := linkPorts(c)
	switch c.Name {
	case "partition":
		if at, ok := c.Opt("at"); ok {
			// A cut in the middle of a protocol step: once S next reaches the event (or at
			// the deadline, or once S went down), like a crash point.
			if len(from) != 1 {
				return fmt.Errorf("partition %s ... at=%s: %q names %d servers now, not one", fromSel, at, fromSel, len(from))
			}
			id := sim.NodeID(from[0])
			sid, p := from[0], slices.Index(syncPoints, at)
			n := r.times(sid, p)
			r.runUntil(func() bool { return r.times(sid, p) > n || !r.w.IsUp(id) }, r.after(r.within(c, 10*sim.Second)))
			if r.limit != nil {
				return nil // Run stops at the limit
			}
		}
		r.notePartition(f, t)
		return r.w.Cut(sim.Cut{From: f, To: t, OneWay: oneWay, Ports: ports, Resets: resets})
	case "heal":
		r.noteHeal()
		return r.w.Mend(sim.Cut{From: f, To: t, OneWay: oneWay, Ports: ports})
	case "clog":
		v, _ := c.Opt("for")
		d, _ := sim.ParseTime(v)
		return r.w.Clog(f, t, oneWay, r.after(d))
	case "latency":
		v, _ := c.Opt("min")
		lo, _ := sim.ParseTime(v)
		mean := sim.ZeroLatencyMean
		if v, ok := c.Opt("mean"); ok {
			mean, _ = sim.ParseTime(v)
			if mean == 0 {
				mean = sim.ZeroLatencyMean
			}
		}
		for _, a := range f {
			for _, b := range t {
				if a == b {
					continue
				}
				if err := r.w.SetLatency(a, b, lo, mean); err != nil {
					return err
				}
				if !oneWay {
					if err := r.w.SetLatency(b, a, lo, mean); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// otherRun reports whether c's with=FIX or without=FIX says it speaks of a run with (or
// without) a proposed fix that this run does not (does) have: then the line does nothing,
// so that a finding's scenario says what the bug does and what the fix changes.
func (r *runner) otherRun(c *Command) bool {
	if v, ok := c.Opt("with"); ok && !r.mcfg.Fixes.Has(v) {
		return true
	}
	v, ok := c.Opt("without")
	return ok && r.mcfg.Fixes.Has(v)
}

func (r *runner) execExpect(c *Command) error {
	if r.otherRun(c) {
		return nil
	}
	if c.Args[0] == "violation" {
		r.expected = append(r.expected, expectedViolation{line: c.Line, text: c.Text, check: c.Args[1]})
		return nil
	}
	ok, got, err := r.evalExpect(c)
	if err != nil {
		return err
	}
	r.expect(c, ok, got)
	return nil
}

// evalExpect judges the condition of an expect line (or of an await on the same words):
// whether it holds now, and what was seen.
func (r *runner) evalExpect(c *Command) (ok bool, got string, err error) {
	a := c.Args
	switch a[0] {
	case "sync":
		sid, err := r.one(a[1])
		if err != nil {
			return false, "", err
		}
		got = "no sync"
		for _, d := range r.res.Syncs {
			if d.Learner == sid {
				got = d.Mode
			}
		}
		ok = got == a[2]
	case "syncs":
		sid, err := r.one(a[1])
		if err != nil {
			return false, "", err
		}
		n := 0
		for _, d := range r.res.Syncs {
			if d.Learner == sid {
				n++
			}
		}
		got = strconv.Itoa(n)
		ok = got == a[2]
	case "leader":
		sid, err := r.one(a[1])
		if err != nil {
			return false, "", err
		}
		got = "none"
		if l := r.e.Leader(); l != nil {
			got = strconv.FormatInt(l.Sid(), 10)
		}
		ok = got == strconv.FormatInt(sid, 10)
	case "held", "notheld", "instances", "config", "resource":
		ok, got = r.expectRecipe(c)
	case "result":
		ok, got = r.expectResult(c)
	case "watched":
		ok, got = r.expectWatched(c)
	case "value":
		targets := []int64{}
		if v, has := c.Opt("on"); has {
			s, err := r.servers(v)
			if err != nil {
				return false, "", err
			}
			targets = s
		} else {
			for _, s := range r.e.Servers {
				if s.Up() {
					targets = append(targets, s.Sid())
				}
			}
		}
		ok = true
		var parts []string
		for _, sid := range targets {
			s := r.e.Server(sid)
			data, _, exists := s.Tree().GetData(a[1])
			var this string
			if !exists {
				this = "absent"
			} else {
				this = strconv.Quote(data)
			}
			parts = append(parts, fmt.Sprintf("%d:%s", sid, this))
			want := "absent"
			if a[2] == "=" {
				want = strconv.Quote(unquote(a[3]))
			}
			if this != want || !s.Up() {
				ok = false
			}
		}
		got = strings.Join(parts, " ")
	case "state":
		sid, err := r.one(a[1])
		if err != nil {
			return false, "", err
		}
		got = r.stateOf(sid)
		ok = got == a[2]
	case "synced":
		sid, err := r.one(a[1])
		if err != nil {
			return false, "", err
		}
		l := r.e.Leader()
		ok = l != nil && (l.Sid() == sid || r.e.Server(sid).Synced(l.Sid()))
		got = "not synced"
		if ok {
			got = "synced"
		}
	}
	return ok, got, nil
}

// expect records the outcome of an expectation line. One that fails after a client call
// failed on its connection names that call: it is the likelier cause.
func (r *runner) expect(c *Command, ok bool, got string) {
	if !ok && r.failedCall != "" {
		got += "; after " + r.failedCall
	}
	r.res.Expectations = append(r.res.Expectations, Expectation{Line: c.Line, Text: c.Text, OK: ok, Got: got})
}

func (s *stop) Error() string { return s.why }

// finish fills the summary from the trace.
func (r *runner) finish() {
	res := r.res
	w := r.w
	res.Events = w.Events()
	res.VirtualNs = int64(w.Now())
	if !r.opt.NoHash {
		res.TraceHash = w.Trace().HashString()
	}
	// Violations: an expected one is an expectation met, not a failure.
	found := map[string]bool{}
	var checked []checker.Violation
	if r.chk != nil {
		checked = r.chk.Finish(w.Now())
	}
	checked = append(checked, r.judged...)
	r.closeFaults()
	res.Faults = r.faults
	for _, v := range checked {
		found[v.Check] = true
		expected := false
		for _, x := range r.expected {
			if x.check == v.Check {
				expected = true
			}
		}
		res.Violations = append(res.Violations, Violation{Check: v.Check, Detail: v.Detail, AtNs: int64(v.At), Expected: expected})
	}
	if r.chk == nil {
	} else if lin := r.chk.Linearizability(); lin.Operations > 0 {
		switch lin.Outcome {
		case porcupine.Ok:
			res.Linearizability = "ok"
		case porcupine.Illegal:
			res.Linearizability = "illegal"
		case porcupine.Unknown:
			res.Linearizability = "unknown"
		}
		res.LinOps, res.LinPaths, res.LinWitnessed = lin.Operations, lin.Paths, lin.Witnessed
	}
	for _, x := range r.expected {
		got := "no such violation"
		if found[x.check] {
			got = "violated"
		}
		res.Expectations = append(res.Expectations, Expectation{Line: x.line, Text: x.text, OK: found[x.check], Got: got})
	}
	slices.SortStableFunc(res.Expectations, func(a, b Expectation) int { return a.Line - b.Line })
	res.OK = res.Stopped == ""
	for _, x := range res.Expectations {
		if !x.OK {
			res.OK = false
		}
	}
	for _, v := range res.Violations {
		if !v.Expected {
			res.OK = false
		}
	}
	if res.Leaders == nil {
		res.Leaders = []LeaderInfo{}
	}
	if res.Syncs == nil {
		res.Syncs = []SyncInfo{}
	}
	if res.Expectations == nil {
		res.Expectations = []Expectation{}
	}
	if res.Violations == nil {
		res.Violations = []Violation{}
	}
	if res.Warnings == nil {
		res.Warnings = []string{}
	}
}

func fmtTime(ns sim.Time) string { return strconv.FormatFloat(ns.Seconds(), 'f', 3, 64) + "s" }

// Summary is the human summary of a run: leaders per epoch, sync decisions, expectations,
// violations, and the figures that identify the run.
func (res *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s (seed %d)\n", res.Scenario, res.Seed)
	for _, w := range res.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	b.WriteString("leaders:\n")
	if len(res.Leaders) == 0 {
		b.WriteString("  none\n")
	}
	for _, l := range res.Leaders {
		fmt.Fprintf(&b, "  %9s  epoch %d  server %d\n", fmtTime(sim.Time(l.AtNs)), l.Epoch, l.Sid)
	}
	b.WriteString("syncs:\n")
	if len(res.Syncs) == 0 {
		b.WriteString("  none\n")
	}
	for _, s := range res.Syncs {
		fmt.Fprintf(&b, "  %9s  %d -> %d  %-10s peerLastZxid=%s min=%s max=%s", fmtTime(sim.Time(s.AtNs)),
			s.Leader, s.Learner, s.Mode, s.PeerLastZxid, s.MinCommitted, s.MaxCommitted)
		switch t := s.TxnLog; {
		case t == nil:
		case t.Above:
			b.WriteString(" txnlog=starts-above-peer")
		case t.Empty:
			b.WriteString(" txnlog=empty")
		case t.Limit == 0:
			fmt.Fprintf(&b, " txnlog=%d(no-limit)", t.Size)
		case t.TooBig:
			fmt.Fprintf(&b, " txnlog=%d>%d", t.Size, t.Limit)
		default:
			fmt.Fprintf(&b, " txnlog=%d<=%d", t.Size, t.Limit)
		}
		b.WriteByte('\n')
	}
	b.WriteString("expectations:\n")
	if len(res.Expectations) == 0 {
		b.WriteString("  none\n")
	}
	for _, x := range res.Expectations {
		mark := "ok  "
		if !x.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "  %s  line %d: %s  (got %s)\n", mark, x.Line, x.Text, x.Got)
	}
	b.WriteString("violations:\n")
	if len(res.Violations) == 0 {
		b.WriteString("  none\n")
	}
	for _, v := range res.Violations {
		mark := ""
		if v.Expected {
			mark = " (expected)"
		}
		fmt.Fprintf(&b, "  %9s  %s%s: %s\n", fmtTime(sim.Time(v.AtNs)), v.Check, mark, v.Detail)
	}
	if res.Linearizability != "" {
		how := "porcupine"
		switch res.LinWitnessed {
		case res.LinPaths:
			how = "each path by its zxid order"
		case 0:
		default:
			how = fmt.Sprintf("%d by their zxid order, the rest by porcupine", res.LinWitnessed)
		}
		fmt.Fprintf(&b, "linearizability: %s (%d client operations on %d paths, %s)\n", res.Linearizability, res.LinOps, res.LinPaths, how)
	}
	if res.Stopped != "" {
		fmt.Fprintf(&b, "stopped early: %s\n", res.Stopped)
	}
	verdict := "ok"
	if !res.OK {
		verdict = "FAILED"
	}
	fmt.Fprintf(&b, "result: %s  (%d events, %s virtual, trace %s)\n", verdict, res.Events, fmtTime(sim.Time(res.VirtualNs)), res.TraceHash)
	return b.String()
}

// CheckRecipeConvergence: once the faults are over and a discovery or config workload's
// changes have stopped, every watcher whose session lives comes to see what the leader
// holds (`await converged`): the watches, set again after every event and re-registered on
// reconnection (SetWatches), miss nothing for good.
const CheckRecipeConvergence = "RecipeConvergence"

// execWorkload starts the model's random client workload (model.Workload) or stops it
// issuing calls; the calls in flight still finish.
func (r *runner) execWorkload(c *Command) error {
	if len(c.Args) == 1 && (c.Args[0] == "locks" || c.Args[0] == "elections") {
		cfg := model.LockWorkloadConfig{Election: c.Args[0] == "elections"}
		for _, kv := range c.KV {
			switch kv.Key {
			case "clients":
				cfg.Clients, _ = strconv.Atoi(kv.Value)
			case "rw":
				cfg.ReadWrite, _ = strconv.ParseBool(kv.Value)
			case "rule":
				cfg.NotesRule = kv.Value == "notes"
				cfg.ReadWrite = cfg.ReadWrite || cfg.NotesRule
			case "hold":
				cfg.Hold, _ = parseDuration("hold", kv.Value)
			case "think":
				cfg.Think, _ = parseDuration("think", kv.Value)
			}
		}
		lw, err := model.NewLockWorkload(r.e, cfg)
		if err != nil {
			return err
		}
		r.lockWorkload = lw
		return lw.Start()
	}
	if len(c.Args) == 1 && (c.Args[0] == "discovery" || c.Args[0] == "config") {
		cfg := model.RecipeWorkloadConfig{Config: c.Args[0] == "config"}
		for _, kv := range c.KV {
			switch kv.Key {
			case "clients":
				cfg.Clients, _ = strconv.Atoi(kv.Value)
			case "watchers":
				cfg.Watchers, _ = strconv.Atoi(kv.Value)
			case "hold":
				cfg.Hold, _ = parseDuration("hold", kv.Value)
			case "think":
				cfg.Think, _ = parseDuration("think", kv.Value)
			case "naive":
				cfg.Naive, _ = parseDuration("naive", kv.Value)
			}
		}
		rw, err := model.NewRecipeWorkload(r.e, cfg)
		if err != nil {
			return err
		}
		r.recipeWorkload = rw
		return rw.Start()
	}
	if len(c.Args) == 1 { // stop
		if r.workload != nil {
			r.workload.Stop()
		}
		if r.recipeWorkload != nil {
			r.recipeWorkload.Stop()
		}
		if r.lockWorkload != nil {
			r.lockWorkload.Stop()
		}
		return nil
	}
	cfg := model.WorkloadConfig{Clients: 5, Rate: 10}
	for _, kv := range c.KV {
		n, _ := strconv.Atoi(kv.Value)
		f, _ := strconv.ParseFloat(kv.Value, 64)
		switch kv.Key {
		case "clients":
			cfg.Clients = n
		case "rate":
			cfg.Rate = f
		case "reads":
			cfg.ReadFraction = f
			if f == 0 {
				cfg.ReadFraction = -1 // none (0 means the default)
			}
		case "keys":
			cfg.Keys = n
		case "outstanding":
			cfg.MaxOutstanding = n
		case "servers":
			sids, err := r.servers(kv.Value)
			if err != nil {
				return err
			}
			cfg.Client.Servers = sids
		case "timeout":
			cfg.Client.SessionTimeout, _ = parseDuration("timeout", kv.Value)
		}
	}
	wl, err := model.NewWorkload(r.e, cfg)
	if err != nil {
		return err
	}
	r.workload = wl
	for i, cl := range wl.Clients() {
		r.res.Clients = append(r.res.Clients, ClientName{Node: int64(cl.ID()), Name: fmt.Sprintf("workload %d", i+1)})
	}
	return wl.Start()
}

// stateOf is server sid's ServerState, or DOWN when it is not running.
func (r *runner) stateOf(sid int64) string {
	s := r.e.Server(sid)
	if !s.Up() {
		return "DOWN"
	}
	return s.State().String()
}

// The points of syncPoints, in its order: what runner.events counts.
const (
	ptCurrentEpoch = iota
	ptAcceptedEpoch
	ptTruncate
	ptSnapshot
	ptLog
	ptProposal
	ptNewleader
	ptSnap
	ptDiff
	nPoints
)

// reached counts point p (ptLog...) reached by server sid: a slice indexed by sid, since
// every log write of every server passes here.
func (r *runner) reached(sid int64, p int) {
	for int64(len(r.events)) <= sid {
		r.events = append(r.events, [nPoints]int{})
	}
	r.events[sid][p]++
}

// times is how often server sid has reached point p so far.
func (r *runner) times(sid int64, p int) int {
	if sid < 0 || sid >= int64(len(r.events)) {
		return 0
	}
	return r.events[sid][p]
}

// crashPoints are the events `crash S at=EVENT` can wait for: right after S writes its
// currentEpoch or acceptedEpoch file, truncates its log, takes a snapshot or logs a txn,
// proposes a txn (a leader: its PROPOSAL is on the wire) or has handled a NEWLEADER (a
// learner: its snapshot, log writes and fsync started, before the currentEpoch write). Anchored
// to the protocol, not to a time, they stay where they were when other lines are removed.
var crashPoints = []string{"currentEpoch", "acceptedEpoch", "truncate", "snapshot", "log", "proposal", "newleader"}

// syncPoints are the events `partition S B at=EVENT` can wait for: the crash points, and
// right after S loads a SNAP into memory or reads a DIFF (the windows of a sync that a lost
// connection leaves half done).
var syncPoints = append(slices.Clone(crashPoints), "snap", "diff")

// crashAt runs until server sid next reaches event, then crashes it at once, before
// anything else happens: the step that reached the event is done (a message it sent is on
// the wire, an fsync it started is not finished). If the event does not come within the
// limit (default 10s), the server crashes then: either way it is down afterwards.
func (r *runner) setStarted(sid int64, on bool) {
	if r.started == nil {
		r.started = map[int64]bool{}
	}
	r.started[sid] = on
}

// exitedOnItsOwn: the script started sid and has not crashed it, yet it is down.
func (r *runner) exitedOnItsOwn(sid int64) bool {
	return r.started[sid] && r.w != nil && !r.w.IsUp(sim.NodeID(sid))
}

func (r *runner) exitedWarning(c *Command, sid int64) {
	r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("line %d: %s: server %d had exited on its own at %s (its notes in the trace say why)",
		c.Line, c.Text, sid, fmtTime(r.w.Now())))
}

func (r *runner) crashAt(c *Command, sid int64, event string) error {
	id := sim.NodeID(sid)
	if r.exitedOnItsOwn(sid) {
		r.exitedWarning(c, sid)
		r.setStarted(sid, false)
		return nil
	}
	if !r.w.IsUp(id) {
		return fmt.Errorf("crash %d: server %d is not running", sid, sid)
	}
	r.setStarted(sid, false)
	p := slices.Index(syncPoints, event)
	n := r.times(sid, p)
	r.runUntil(func() bool { return r.times(sid, p) > n || !r.w.IsUp(id) }, r.after(r.within(c, 10*sim.Second)))
	if r.limit != nil {
		return nil // Run stops at the limit
	}
	if !r.w.IsUp(id) {
		return nil // it went down on its own meanwhile
	}
	return r.w.CrashAs(id, sim.DiskError)
}
