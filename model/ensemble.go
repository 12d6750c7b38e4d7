package model

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/zabsim/zabsim/sim"
)

// Ensemble is a set of servers in one World, with the helpers tests and scenarios use to
// drive and observe them.
type Ensemble struct {
	W       *sim.World
	Cfg     *Config
	Servers []*Server // index sid-1
	Clients []*Client // in the order added: node ids 1000, 1001, ...
	writes  int       // writes issued through Write, for naming /zabsim/wN
	cxid    int32
	// clientMem: the slabs its clients share (its servers share theirs, see serverSlabs)
	clientMem *clientSlabs
	quorum    []int64 // Established's list of the last call, for the next
}

// NewEnsemble normalises cfg and adds its servers (voters, then observers) to w.
func NewEnsemble(w *sim.World, cfg Config) (*Ensemble, error) {
	return NewEnsembleIn(w, cfg, nil)
}

// NewEnsembleIn is NewEnsemble making its servers' and clients' values in mem (nil: memory
// of its own), which no other ensemble may use until mem.Reset.
func NewEnsembleIn(w *sim.World, cfg Config, mem *Memory) (*Ensemble, error) {
	if err := cfg.Normalize(); err != nil {
		return nil, err
	}
	if mem == nil {
		mem = &Memory{} // its slabs keep nothing: a chunk dies with its last value
	} else if mem.inUse {
		return nil, errors.New("model: the memory is in use by another ensemble (Reset it once that run is done)")
	} else {
		mem.keep()
	}
	mem.inUse = true
	e := &Ensemble{W: w, Cfg: &cfg, clientMem: &mem.clients}
	for sid := int64(1); sid <= int64(cfg.Servers+cfg.Observers); sid++ {
		s, err := newServer(w, e.Cfg, sid, &mem.servers)
		if err != nil {
			return nil, err
		}
		e.Servers = append(e.Servers, s)
	}
	return e, nil
}

// Server returns server sid, or nil.
func (e *Ensemble) Server(sid int64) *Server {
	if sid < 1 || int(sid) > len(e.Servers) {
		return nil
	}
	return e.Servers[sid-1]
}

// FirstClientID is the node id of the first client; client i has FirstClientID+i.
const FirstClientID sim.NodeID = 1000

// AddClient adds a client (not started) with the next client id. Without Servers in cfg,
// its connect string names every server.
func (e *Ensemble) AddClient(cfg ClientConfig) (*Client, error) {
	if len(cfg.Servers) == 0 {
		for _, s := range e.Servers {
			cfg.Servers = append(cfg.Servers, s.sid)
		}
	}
	c, err := newClient(e.W, FirstClientID+sim.NodeID(len(e.Clients)), cfg, e.clientMem)
	if err != nil {
		return nil, err
	}
	e.Clients = append(e.Clients, c)
	return c, nil
}

// StartClient adds a client and starts it (it connects at once).
func (e *Ensemble) StartClient(cfg ClientConfig) (*Client, error) {
	c, err := e.AddClient(cfg)
	if err != nil {
		return nil, err
	}
	return c, e.W.Start(c.id)
}

// StartAll starts every server now.
func (e *Ensemble) StartAll() {
	for _, s := range e.Servers {
		if !s.Up() {
			e.W.Start(s.nid)
		}
	}
}

// Leader returns the active leader (LEADING in BROADCAST) with the highest epoch, or nil.
func (e *Ensemble) Leader() *Server {
	var best *Server
	for _, s := range e.Servers {
		if s.Up() && s.state == LEADING && s.phase == PhaseBroadcast && s.leader != nil {
			if best == nil || s.leader.epoch > best.leader.epoch {
				best = s
			}
		}
	}
	return best
}

// Stable reports whether a leader is active, every running voter and observer is synced
// with it (FOLLOWING/OBSERVING it in BROADCAST), and those voters form a quorum — what
// `await leader` waits for.
func (e *Ensemble) Stable() bool {
	l := e.Leader()
	if l == nil {
		return false
	}
	synced := []int64{l.sid}
	for _, s := range e.Servers {
		if !s.Up() || s == l {
			continue
		}
		if !s.Synced(l.sid) {
			return false
		}
		if !s.observer {
			synced = append(synced, s.sid)
		}
	}
	return l.qv.ContainsQuorum(synced)
}

// Established is the leader a quorum follows, or nil: a running (not paused) leader in
// BROADCAST, and voters that follow it in BROADCAST over quorum connections no partition
// cuts, a quorum with it. A leader cut off from its followers stops counting at once, before
// anybody's timeout notices; a server cut off from the leader does not hold it up.
func (e *Ensemble) Established() *Server {
	l := e.Leader()
	if l == nil || e.W.IsPaused(l.nid) {
		return nil
	}
	quorum := append(e.quorum[:0], l.sid) // the array of the last call again
	for _, s := range e.Servers {
		if s != l && !s.observer && s.Synced(l.sid) && e.reaches(s, l) {
			quorum = append(quorum, s.sid)
		}
	}
	e.quorum = quorum
	if !l.qv.ContainsQuorum(quorum) {
		return nil
	}
	return l
}

// reaches reports whether no partition cuts the quorum connections between s and l.
func (e *Ensemble) reaches(s, l *Server) bool {
	return !e.W.Cuts(s.nid, l.nid, PortQuorum) && !e.W.Cuts(l.nid, s.nid, PortQuorum)
}

// Settled is an Established leader that every running, unpaused server it can reach
// follows (or observes) in BROADCAST: what `await leader` waits for.
func (e *Ensemble) Settled() *Server {
	l := e.Established()
	if l == nil {
		return nil
	}
	for _, s := range e.Servers {
		if s == l || !s.Up() || e.W.IsPaused(s.nid) || !e.reaches(s, l) {
			continue
		}
		if !s.Synced(l.sid) {
			return nil
		}
	}
	return l
}

// Synced reports whether s follows (or observes) leader in BROADCAST.
func (s *Server) Synced(leader int64) bool {
	return s.Up() && !s.w.IsPaused(s.nid) && (s.state == FOLLOWING || s.state == OBSERVING) &&
		s.phase == PhaseBroadcast && s.learner != nil && s.learner.leader == leader
}

// AwaitStable runs until Stable or until within passes; it reports whether it got there.
func (e *Ensemble) AwaitStable(within sim.Time) bool {
	return e.W.RunUntilCond(e.Stable, e.W.Now()+within)
}

// WriteResult is the outcome of one write.
type WriteResult struct {
	Path string
	Rc   int32
	Zxid Zxid
	Done bool
}

// Write issues a create of /zabsim/w<N> with a unique value through server via, as a client
// connected to it would. The result fills in when via applies the txn (or fails).
func (e *Ensemble) Write(via int64) *WriteResult { return e.WriteSized(via, -1) }

// WriteSized is Write with a value of size bytes: "vK" cut or padded with '.' to that
// length (size < 0: "vK" as it is).
func (e *Ensemble) WriteSized(via int64, size int) *WriteResult {
	s := e.Server(via)
	e.writes++
	wr := &ensembleWrite{res: WriteResult{Path: "/zabsim/w" + strconv.Itoa(e.writes)}}
	res := &wr.res
	value := "v" + strconv.Itoa(e.writes)
	if size >= 0 && size <= len(value) {
		value = value[:size]
	} else if size > len(value) {
		value += strings.Repeat(".", size-len(value))
	}
	if _, _, ok := s.Tree().GetData("/zabsim"); !ok && s.Serving() {
		// The parent first, and the write once it has been applied. (prepRequest now sees
		// outstanding changes, so pipelining would do; the order is kept so that the zxids
		// of existing scenarios do not change.)
		e.submit(s, &Request{Op: OpCreate, Path: "/zabsim"}, func(rc int32, _ Zxid) {
			if rc == ErrOK || rc == ErrNodeExists {
				e.writeKey(s, wr, value)
				return
			}
			res.Rc, res.Done = rc, true
		})
		return res
	}
	e.writeKey(s, wr, value)
	return res
}

// ensembleWrite is a Write's result and its request, made at once.
type ensembleWrite struct {
	res WriteResult
	req Request
}

// writeKey creates wr.res.Path with value through s and fills wr.res in when it is done.
func (e *Ensemble) writeKey(s *Server, wr *ensembleWrite, value string) {
	wr.req = Request{Op: OpCreate, Path: wr.res.Path, Data: value}
	e.submit(s, &wr.req, func(rc int32, z Zxid) {
		wr.res.Rc, wr.res.Zxid, wr.res.Done = rc, z, true
	})
}

func (e *Ensemble) submit(s *Server, req *Request, done func(int32, Zxid)) {
	e.cxid++
	req.SessionID = 0x5a00 + s.sid // one pseudo-session per server, known to no tracker
	req.Cxid = e.cxid
	req.Internal = true
	// As a client's request would, it reaches a paused server only when it resumes
	// (WhenRunning; a running one takes it now, without the closure).
	if !e.W.IsPaused(s.nid) {
		s.Submit(req, done)
		return
	}
	e.W.WhenRunning(s.nid, func() { s.Submit(req, done) })
}

// WriteAndWait issues n writes through via one after another, each waiting for its result
// (up to within each). It returns an error naming the first that failed.
func (e *Ensemble) WriteAndWait(via int64, n int, within sim.Time) error {
	for i := 0; i < n; i++ {
		r := e.Write(via)
		e.W.RunUntilCond(func() bool { return r.Done }, e.W.Now()+within)
		if !r.Done {
			return fmt.Errorf("write %s via %d: no answer within %s", r.Path, via, within)
		}
		if r.Rc != ErrOK {
			return fmt.Errorf("write %s via %d: error %d", r.Path, via, r.Rc)
		}
	}
	return nil
}
