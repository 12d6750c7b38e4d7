// Package reports renders a run for people: timeline pictures (PNG and SVG, drawn with
// gonum.org/v1/plot), Mermaid sequence diagrams, a fixed-width text timeline for
// terminals, and a Markdown index that tells what happened, in order, with the verdict.
//
// Everything here reads the trace only (the records of sim and model); nothing reaches
// into live server state. Every output is a pure function of the records: no wall clock,
// no map iteration that could reach the output, so pictures are byte-stable.
package reports

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/scenarios"
	"github.com/zabsim/zabsim/sim"
)

// Class is a set of message classes, for filtering what a picture, diagram or text
// timeline shows.
type Class uint16

const (
	Election  Class = 1 << iota // FLE notifications
	Discovery                   // FOLLOWERINFO, OBSERVERINFO, LEADERINFO, ACKEPOCH
	Sync                        // DIFF, TRUNC, SNAP, NEWLEADER, UPTODATE, and what travels between them
	Broadcast                   // PROPOSAL, ACK, COMMIT, INFORM once the learner is up to date
	Requests                    // REQUEST (a write forwarded to the leader), REVALIDATE, SYNC
	Pings                       // PING
	Hellos                      // the sid a server sends first on an election connection
	Other                       // anything else (client traffic, unknown payloads)

	// Protocol is every Zab message but pings: the default of the text timeline.
	Protocol = Election | Discovery | Sync | Broadcast | Requests
	// AllMessages is every class.
	AllMessages = Protocol | Pings | Hellos | Other
)

var classNames = []struct {
	c    Class
	name string
}{
	{Election, "election notification"}, {Discovery, "discovery"}, {Sync, "sync"},
	{Broadcast, "broadcast"}, {Requests, "forwarded request"}, {Pings, "ping"},
	{Hellos, "connection hello"}, {Other, "other message"},
}

func (c Class) String() string {
	var parts []string
	for _, cn := range classNames {
		if c&cn.c != 0 {
			parts = append(parts, cn.name)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}

// message is one send, matched with its delivery or loss.
type message struct {
	from, to int64
	conn     sim.ConnID
	sent     sim.Time
	done     sim.Time // delivered or dropped at; -1 while still in flight at the end
	dropped  bool
	data     sim.Message
	text     string
	class    Class
	ptype    model.PacketType // 0 when not a QuorumPacket
	zxid     model.Zxid       // the txn a broadcast message (or a forwarded request) is about
	hasZxid  bool
	looking  bool // Notification: the sender was LOOKING
	reqKey   [2]int64
	hasReq   bool
}

// band is what a lifeline shows at a moment.
type band uint8

const (
	bandNone band = iota // not started yet
	bandLooking
	bandFollowing
	bandLeading
	bandObserving
	bandDown
	bandPaused
)

var bandNames = [...]string{"", "LOOKING", "FOLLOWING", "LEADING", "OBSERVING", "down", "paused"}

func (b band) String() string { return bandNames[b] }

// segment is a stretch of a lifeline in one band, phase and epoch.
type segment struct {
	from, to sim.Time
	band     band
	phase    model.ZabPhase
	epoch    int64
}

// mark is a point on a lifeline: a crash, a restart, a log append, a commit...
type markKind uint8

const (
	markStart markKind = iota
	markRestart
	markCrash
	markPause
	markResume
	markLogged
	markCommitted
	markTruncated
	markSnapLoaded
	markClog
	markProposed
)

type mark struct {
	at   sim.Time
	node int64
	kind markKind
	zxid model.Zxid
	text string
}

// span is a partition, from the cut to the heal.
type span struct {
	from, to sim.Time
	text     string
	nodes    []int64 // the nodes whose links it cut
	links    [][2]int64
	open     bool
}

// violationMark is a failed check at its time.
type violationMark struct {
	at       sim.Time
	check    string
	expected bool
}

// quorumMark is a quorum a LOOKING server saw for its vote (a QuorumAgreed explanation);
// decided: the finalizeWait it started ran out and the server decided on that vote.
type quorumMark struct {
	at      sim.Time
	rec     int
	sid     int64
	sids    []int64
	leader  int64
	decided bool
}

// withResult takes what the run's result knows and the trace does not: the clients'
// names and the checker's violations.
func (s *story) withResult(res *scenarios.Result) *story {
	if res == nil {
		return s
	}
	s.clientNames = map[int64]string{}
	for _, c := range res.Clients {
		s.clientNames[c.Node] = c.Name
	}
	for _, v := range res.Violations {
		s.violations = append(s.violations, violationMark{at: sim.Time(v.AtNs), check: v.Check, expected: v.Expected})
	}
	return s
}

// decision is an ElectionDone.
type decision struct {
	at sim.Time
	d  *model.ElectionDone
}

// syncDecision is a SyncDecided with its time.
type syncDecision struct {
	at sim.Time
	d  *model.SyncDecided
}

// proposal is a Proposed, with who logged and committed it.
type proposal struct {
	at        sim.Time
	leader    int64
	zxid      model.Zxid
	txn       *model.Txn
	logged    []int64 // the servers that logged it
	committed []int64 // the servers that applied it as committed (COMMIT, INFORM, sync)
	recovered []int64 // the servers that applied it from their log when they left a leader (fastforward)
}

// leaderEvent is a LeaderEstablished or LeaderActive.
type leaderEvent struct {
	at     sim.Time
	sid    int64
	epoch  int64
	active bool
}

// episode is an election: a maximal stretch of time in which some server is LOOKING.
type episode struct {
	from, to  sim.Time
	finished  bool
	decisions []decision
}

// story is a run as the reports see it: lifelines, messages, marks and decisions.
type story struct {
	recs      []sim.Record
	end       sim.Time
	servers   []int64 // sorted sids: the nodes that record their state
	row       map[int64]int
	observers map[int64]bool
	segs      [][]segment // per row
	msgs      []message
	msgOf     []int32 // per record: the message it sends, delivers or drops, or -1
	marks     []mark
	spans     []span
	decisions []decision
	syncs     []syncDecision
	proposals []proposal
	leaders   []leaderEvent
	episodes  []episode
	// clientNames name client nodes as the scenario does (from the run's result).
	clientNames map[int64]string
	// violations are the checker's, when the run's verdict is known (drawn at their time).
	violations []violationMark
	quorums    []quorumMark
	msgEnd     []int                // per message, its deliver or drop record (-1 in flight)
	byConn     map[sim.ConnID][]int // records per connection (connRecs)
	// linTimeout, if set, bounds porcupine's search in history (a fuzz test sets it: a
	// made-up history can take porcupine its whole default budget).
	linTimeout time.Duration
}

// nodeState is what a lifeline shows now.
type nodeState struct {
	started, up, paused bool
	st                  model.ServerState
	ph                  model.ZabPhase
	epoch               int64
	known               bool // a StateChange was seen since the last (re)start
}

func (n *nodeState) band() band {
	switch {
	case !n.started:
		return bandNone
	case !n.up:
		return bandDown
	case n.paused:
		return bandPaused
	case !n.known:
		return bandLooking
	}
	switch n.st {
	case model.FOLLOWING:
		return bandFollowing
	case model.LEADING:
		return bandLeading
	case model.OBSERVING:
		return bandObserving
	}
	return bandLooking
}

// apply updates n with record r (of its node).
func (n *nodeState) apply(r *sim.Record) {
	switch r.Kind {
	case sim.RecStart, sim.RecRestart:
		n.started, n.up, n.paused, n.known = true, true, false, false
	case sim.RecCrash:
		n.up, n.paused, n.known = false, false, false
	case sim.RecPause:
		n.paused = true
	case sim.RecResume:
		n.paused = false
	case sim.RecModel:
		if d, ok := r.Data.(*model.StateChange); ok {
			n.st, n.ph, n.epoch, n.known = d.State, d.Phase, d.Epoch, true
			if !n.started { // a trace that starts mid-run
				n.started, n.up = true, true
			}
		}
	}
}

// connState remembers where a leader/learner connection is in the sync.
type connState struct {
	leaderSyncing  bool // the leader sent DIFF/TRUNC/SNAP and not yet UPTODATE
	learnerSyncing bool // the learner received DIFF/TRUNC/SNAP and not yet UPTODATE
}

// newStory reads a trace. end is the end of the run (at least the last record's time).
func newStory(recs []sim.Record, end sim.Time) *story {
	s := &story{recs: recs, row: map[int64]int{}, observers: map[int64]bool{}}
	for i := range recs {
		r := &recs[i]
		if r.At > end {
			end = r.At
		}
		if sc, ok := r.Data.(*model.StateChange); ok && r.Kind == sim.RecModel {
			if _, seen := s.row[int64(r.Node)]; !seen {
				s.row[int64(r.Node)] = 0
				s.servers = append(s.servers, int64(r.Node))
			}
			if sc.State == model.OBSERVING {
				s.observers[int64(r.Node)] = true
			}
		}
	}
	s.end = end
	slices.Sort(s.servers)
	for i, sid := range s.servers {
		s.row[sid] = i
	}
	s.segs = make([][]segment, len(s.servers))
	states := make([]nodeState, len(s.servers))
	open := make([]bool, len(s.servers))

	// flush closes the open segment of row i if what it shows changed.
	flush := func(i int, at sim.Time) {
		n := &states[i]
		b := n.band()
		segs := s.segs[i]
		if open[i] {
			last := &segs[len(segs)-1]
			if last.band == b && last.phase == n.ph && last.epoch == n.epoch {
				return
			}
			last.to = at
			if last.from == at { // a zero-length segment: replace it
				segs = segs[:len(segs)-1]
			}
			open[i] = false
		}
		if b != bandNone {
			segs = append(segs, segment{from: at, to: end, band: b, phase: n.ph, epoch: n.epoch})
			open[i] = true
		}
		s.segs[i] = segs
	}

	type qkey struct {
		conn     sim.ConnID
		from, to int64
	}
	queues := map[qkey][]int32{} // looked up, never ranged over
	conns := map[sim.ConnID]*connState{}
	connOf := func(c sim.ConnID) *connState {
		cs := conns[c]
		if cs == nil {
			cs = &connState{}
			conns[c] = cs
		}
		return cs
	}
	reqZxid := map[[2]int64]model.Zxid{}
	s.msgOf = make([]int32, len(recs))
	var buf []byte

	// match pops the message a delivery or drop completes: the head of its FIFO, or, if
	// the head's text differs (an unsafe network reorders), the first with the same text.
	match := func(k qkey, r *sim.Record) int32 {
		q := queues[k]
		if len(q) == 0 {
			return -1
		}
		pick := 0
		if r.Data != nil {
			buf = r.Data.AppendTo(buf[:0])
			if s.msgs[q[0]].text != string(buf) {
				for j := range q {
					if s.msgs[q[j]].text == string(buf) {
						pick = j
						break
					}
				}
			}
		}
		id := q[pick]
		queues[k] = slices.Delete(q, pick, pick+1)
		return id
	}

	for i := range recs {
		r := &recs[i]
		s.msgOf[i] = -1
		node := int64(r.Node)
		row, isServer := s.row[node]
		switch r.Kind {
		case sim.RecStart, sim.RecRestart, sim.RecCrash, sim.RecPause, sim.RecResume:
			if isServer {
				states[row].apply(r)
				flush(row, r.At)
				s.marks = append(s.marks, mark{at: r.At, node: node, kind: processMark(r.Kind)})
			}
		case sim.RecSend:
			m := message{from: node, to: int64(r.Peer), conn: r.Conn, sent: r.At, done: -1, data: r.Data}
			if r.Data != nil {
				buf = r.Data.AppendTo(buf[:0])
				m.text = string(buf)
			}
			classify(&m, connOf(r.Conn))
			if m.hasReq {
				if z, ok := reqZxid[m.reqKey]; ok { // (a retried request: the same txn)
					m.zxid, m.hasZxid = z, true
				}
			}
			id := int32(len(s.msgs))
			s.msgs = append(s.msgs, m)
			k := qkey{r.Conn, m.from, m.to}
			queues[k] = append(queues[k], id)
			s.msgOf[i] = id
		case sim.RecDeliver, sim.RecDrop:
			k := qkey{r.Conn, node, int64(r.Peer)}
			if r.Kind == sim.RecDeliver {
				k.from, k.to = int64(r.Peer), node
			}
			id := match(k, r)
			if id < 0 {
				continue
			}
			m := &s.msgs[id]
			m.done = r.At
			m.dropped = r.Kind == sim.RecDrop
			s.msgOf[i] = id
			if p, ok := m.data.(*model.QuorumPacket); ok && !m.dropped {
				cs := connOf(r.Conn)
				switch p.Type {
				case model.DIFF, model.TRUNC, model.SNAP:
					cs.learnerSyncing = true
				case model.UPTODATE:
					cs.learnerSyncing = false
				}
			}
		case sim.RecPartition:
			sp := span{from: r.At, to: end, open: true}
			if r.Data != nil {
				sp.text = string(r.Data.AppendTo(nil))
			}
			sp.links, sp.nodes = parseGroups(sp.text)
			s.spans = append(s.spans, sp)
		case sim.RecHeal:
			text := ""
			if r.Data != nil {
				text = string(r.Data.AppendTo(nil))
			}
			s.heal(text, r.At)
		case sim.RecClog:
			text := ""
			if r.Data != nil {
				text = string(r.Data.AppendTo(nil))
			}
			_, nodes := parseGroups(text)
			for _, n := range nodes {
				s.marks = append(s.marks, mark{at: r.At, node: n, kind: markClog, text: text})
			}
		case sim.RecExplain:
			switch d := r.Data.(type) {
			case *model.QuorumAgreed:
				s.quorums = append(s.quorums, quorumMark{at: r.At, rec: i, sid: d.Sid, sids: d.Sids, leader: d.Leader})
			}
		case sim.RecModel:
			switch d := r.Data.(type) {
			case *model.StateChange:
				if isServer {
					states[row].apply(r)
					flush(row, r.At)
				}
			case *model.ElectionDone:
				s.decisions = append(s.decisions, decision{r.At, d})
				// the last quorum this server saw decided, if no better vote ended its wait
				if q := len(d.Quorums); q > 0 && d.Quorums[q-1].EndedBy == 0 {
					for j := len(s.quorums) - 1; j >= 0; j-- {
						if s.quorums[j].sid == d.Sid {
							s.quorums[j].decided = true
							break
						}
					}
				}
			case *model.SyncDecided:
				s.syncs = append(s.syncs, syncDecision{r.At, d})
			case *model.LeaderEstablished:
				s.leaders = append(s.leaders, leaderEvent{at: r.At, sid: d.Sid, epoch: d.Epoch})
			case *model.LeaderActive:
				s.leaders = append(s.leaders, leaderEvent{at: r.At, sid: d.Sid, epoch: d.Epoch, active: true})
			case *model.Proposed:
				if d.Txn != nil {
					s.proposals = append(s.proposals, proposal{at: r.At, leader: node, zxid: d.Txn.Zxid, txn: d.Txn})
					s.marks = append(s.marks, mark{at: r.At, node: node, kind: markProposed, zxid: d.Txn.Zxid})
					reqZxid[[2]int64{d.Txn.SessionID, int64(d.Txn.Cxid)}] = d.Txn.Zxid
				}
			case *model.Logged:
				s.marks = append(s.marks, mark{at: r.At, node: node, kind: markLogged, zxid: d.Zxid})
				if p := s.proposal(d.Zxid); p != nil {
					p.logged = addSid(p.logged, node)
				}
			case *model.Committed:
				s.marks = append(s.marks, mark{at: r.At, node: node, kind: markCommitted, zxid: d.Zxid, text: d.How})
				if p := s.proposal(d.Zxid); p != nil {
					p.committed = addSid(p.committed, node)
				}
			case *model.Truncated:
				s.marks = append(s.marks, mark{at: r.At, node: node, kind: markTruncated, zxid: d.Zxid})
			case *model.Loaded:
				if d.From == "fastforward" {
					for _, h := range d.History {
						if p := s.proposal(h.Zxid); p != nil && !slices.Contains(p.committed, node) {
							p.recovered = addSid(p.recovered, node)
						}
					}
				}
				if d.From == "snap" {
					s.marks = append(s.marks, mark{at: r.At, node: node, kind: markSnapLoaded, zxid: d.LastZxid})
				}
			}
		}
	}
	s.msgEnd = make([]int, len(s.msgs))
	for i := range s.msgEnd {
		s.msgEnd[i] = -1
	}
	for i, id := range s.msgOf {
		if id >= 0 && recs[i].Kind != sim.RecSend {
			s.msgEnd[id] = i
		}
	}
	// A forwarded request is sent before its txn is proposed: tie them up now.
	for i := range s.msgs {
		m := &s.msgs[i]
		if m.hasReq && !m.hasZxid {
			if z, ok := reqZxid[m.reqKey]; ok {
				m.zxid, m.hasZxid = z, true
			}
		}
	}
	s.episodes = s.findEpisodes()
	return s
}

func processMark(k sim.RecordKind) markKind {
	switch k {
	case sim.RecStart:
		return markStart
	case sim.RecRestart:
		return markRestart
	case sim.RecCrash:
		return markCrash
	case sim.RecPause:
		return markPause
	}
	return markResume
}

// addSid adds sid to a set kept as a slice.
func addSid(set []int64, sid int64) []int64 {
	if slices.Contains(set, sid) {
		return set
	}
	return append(set, sid)
}

// classify sets the class (and the txn) of a message at the moment it is sent.
func classify(m *message, cs *connState) {
	switch d := m.data.(type) {
	case *model.Notification:
		m.class = Election
		m.looking = d.State == model.LOOKING
		return
	case *model.QuorumPacket:
		m.ptype = d.Type
		switch d.Type {
		case model.FOLLOWERINFO, model.OBSERVERINFO, model.LEADERINFO, model.ACKEPOCH:
			m.class = Discovery
		case model.DIFF, model.TRUNC, model.SNAP:
			m.class = Sync
			cs.leaderSyncing = true
		case model.NEWLEADER:
			m.class = Sync
		case model.UPTODATE:
			m.class = Sync
			cs.leaderSyncing = false
		case model.PROPOSAL, model.COMMIT, model.INFORM, model.COMMITANDACTIVATE:
			m.class = Broadcast
			if cs.leaderSyncing {
				m.class = Sync
			}
			m.zxid, m.hasZxid = d.Zxid, true
		case model.ACK:
			m.class = Broadcast
			if d.Zxid.Counter() == 0 || cs.learnerSyncing {
				m.class = Sync
			}
			m.zxid, m.hasZxid = d.Zxid, d.Zxid.Counter() != 0
		case model.REQUEST, model.REVALIDATE, model.SYNC:
			m.class = Requests
			if d.Req != nil {
				m.reqKey, m.hasReq = [2]int64{d.Req.SessionID, int64(d.Req.Cxid)}, true
			}
		case model.PING:
			m.class = Pings
		default:
			m.class = Other
		}
		return
	}
	if strings.HasPrefix(m.text, "HELLO ") {
		m.class = Hellos
		return
	}
	m.class = Other
}

// proposal returns the latest proposal of zxid, or nil.
func (s *story) proposal(z model.Zxid) *proposal {
	for i := len(s.proposals) - 1; i >= 0; i-- {
		if s.proposals[i].zxid == z {
			return &s.proposals[i]
		}
	}
	return nil
}

// parseGroups reads the text of a partition, heal or clog ("{3} -> {1,2,3}",
// "{1,2} | {3}") into the directed links it names and the nodes on the cut side(s).
func parseGroups(text string) (links [][2]int64, nodes []int64) {
	oneWay := true
	a, b, ok := strings.Cut(text, " -> ")
	if !ok {
		a, b, ok = strings.Cut(text, " | ")
		oneWay = false
		if !ok {
			return nil, nil
		}
	}
	from, to := parseGroup(a), parseGroup(b)
	for _, x := range from {
		for _, y := range to {
			if x == y {
				continue
			}
			links = append(links, [2]int64{x, y})
			if !oneWay {
				links = append(links, [2]int64{y, x})
			}
		}
	}
	nodes = append(nodes, from...)
	if !oneWay {
		for _, y := range to {
			if !slices.Contains(nodes, y) {
				nodes = append(nodes, y)
			}
		}
	}
	slices.Sort(nodes)
	return links, nodes
}

func parseGroup(g string) []int64 {
	g = strings.Trim(strings.TrimSpace(g), "{}")
	var out []int64
	for _, f := range strings.Split(g, ",") {
		var v int64
		ok := f != ""
		for _, c := range f {
			if c < '0' || c > '9' {
				ok = false
				break
			}
			v = v*10 + int64(c-'0')
		}
		if ok {
			out = append(out, v)
		}
	}
	return out
}

// heal closes the partition spans whose links are all restored. An empty text heals
// everything (HealAll).
func (s *story) heal(text string, at sim.Time) {
	if text == "" {
		for i := range s.spans {
			if s.spans[i].open {
				s.spans[i].open = false
				s.spans[i].to = at
			}
		}
		return
	}
	healed, _ := parseGroups(text)
	for i := range s.spans {
		sp := &s.spans[i]
		if !sp.open {
			continue
		}
		var left [][2]int64
		for _, l := range sp.links {
			if !slices.Contains(healed, l) {
				left = append(left, l)
			}
		}
		sp.links = left
		if len(left) == 0 {
			sp.open = false
			sp.to = at
		}
	}
}

// findEpisodes merges the LOOKING stretches of all servers into elections.
func (s *story) findEpisodes() []episode {
	type iv struct{ from, to sim.Time }
	var ivs []iv
	for _, segs := range s.segs {
		for _, sg := range segs {
			if sg.band == bandLooking {
				ivs = append(ivs, iv{sg.from, sg.to})
			}
		}
	}
	slices.SortStableFunc(ivs, func(a, b iv) int {
		if a.from != b.from {
			return cmpTime(a.from, b.from)
		}
		return cmpTime(a.to, b.to)
	})
	var eps []episode
	for _, v := range ivs {
		if n := len(eps); n > 0 && v.from <= eps[n-1].to {
			eps[n-1].to = max(eps[n-1].to, v.to)
			continue
		}
		eps = append(eps, episode{from: v.from, to: v.to})
	}
	for i := range eps {
		e := &eps[i]
		e.finished = e.to < s.end
		for _, d := range s.decisions {
			if d.at >= e.from && d.at <= e.to {
				e.decisions = append(e.decisions, d)
			}
		}
		if len(e.decisions) == 0 {
			e.finished = false
		}
	}
	return eps
}

func cmpTime(a, b sim.Time) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// serverName is how pictures and diagrams name a server.
func (s *story) serverName(sid int64) string {
	if s.observers[sid] {
		return "observer " + strconv.FormatInt(sid, 10)
	}
	return "server " + strconv.FormatInt(sid, 10)
}
