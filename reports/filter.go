package reports

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// Filter picks the part of a run that a picture, a diagram or a text timeline shows.
// The zero Filter is the whole run without messages: states, faults and decisions.
type Filter struct {
	// Title heads the picture (and names the diagram).
	Title string
	// From and To bound the time window; To == 0 means the end of the run.
	From, To sim.Time
	// Messages are the classes of messages shown (0: none).
	Messages Class
	// Zxid, if not 0, keeps only the messages about that txn (its forwarded request,
	// PROPOSAL, ACKs, COMMITs, INFORMs) and its log and commit marks.
	Zxid model.Zxid
	// Between, if not empty, keeps only the messages between two of these servers.
	Between []int64
	// Linear draws time linearly. Otherwise a picture with messages compresses the long
	// idle stretches (a finalize wait, a read timeout) into marked breaks, so that
	// messages that take milliseconds stay readable in a window of seconds.
	Linear bool
}

// ElectionOnly is a filter for the election notifications in [from, to].
func ElectionOnly(from, to sim.Time) Filter {
	return Filter{From: from, To: to, Messages: Election}
}

// SyncOnly is a filter for the discovery and sync of learner with leader in [from, to].
func SyncOnly(leader, learner int64, from, to sim.Time) Filter {
	return Filter{From: from, To: to, Messages: Discovery | Sync, Between: []int64{leader, learner}}
}

// BroadcastOf is a filter for the broadcast of one txn in [from, to].
func BroadcastOf(zxid model.Zxid, from, to sim.Time) Filter {
	return Filter{From: from, To: to, Messages: Broadcast | Requests, Zxid: zxid}
}

// window is the filter's time range in s.
func (f *Filter) window(s *story) (sim.Time, sim.Time) {
	from, to := f.From, f.To
	if to == 0 || to > s.end {
		to = s.end
	}
	if from < 0 {
		from = 0
	}
	if to <= from {
		to = from + sim.Millisecond
	}
	return from, to
}

// keeps reports whether message m is shown in the window [from, to].
func (f *Filter) keeps(s *story, m *message, from, to sim.Time) bool {
	if m.class&f.Messages == 0 {
		return false
	}
	if _, ok := s.row[m.from]; !ok {
		return false
	}
	if _, ok := s.row[m.to]; !ok {
		return false
	}
	end := m.done
	if end < 0 {
		end = s.end
	}
	if m.sent > to || end < from {
		return false
	}
	if f.Zxid != 0 && (!m.hasZxid || m.zxid != f.Zxid) {
		return false
	}
	if len(f.Between) > 0 && (!slices.Contains(f.Between, m.from) || !slices.Contains(f.Between, m.to)) {
		return false
	}
	return true
}

// keepsMark reports whether mark k is shown.
func (f *Filter) keepsMark(k *mark, from, to sim.Time) bool {
	if k.at < from || k.at > to {
		return false
	}
	switch k.kind {
	case markLogged, markCommitted:
		return f.Zxid != 0 && k.zxid == f.Zxid
	case markProposed: // a tick per txn where the broadcast is not drawn
		return f.Zxid == 0 && f.Messages&Broadcast == 0
	}
	return true
}

// View is one ready-made picture of a run: the whole run, an election, a sync, a txn's
// broadcast. Write draws every view; the CLI can draw any one.
type View struct {
	Name    string   // file stem: "overview", "election-1", "sync-2", "broadcast-1"
	Kind    string   // "overview", "election", "sync" or "broadcast"
	At      sim.Time // when what it shows happened (for the index)
	Summary string   // one line: what it shows
	Filter  Filter
}

// maxBroadcastViews bounds the broadcast pictures of a run.
const maxBroadcastViews = 4

// Views returns the pictures worth drawing for a run: the whole run, one per election,
// one per sync decision, and the broadcast of a few txns (the first of each epoch and
// every one that lost a message or was never committed), with windows chosen so that
// their messages are readable.
func Views(records []sim.Record) []View {
	return newStory(records, 0).views()
}

func (s *story) views() []View {
	views := []View{{Name: "overview", Kind: "overview", Summary: "the whole run: every server's state, faults and sync decisions",
		Filter: Filter{Title: "Whole run: server states, faults and sync decisions"}}}
	for i, e := range s.episodes {
		n := i + 1
		v := View{Name: fmt.Sprintf("election-%d", n), Kind: "election", At: e.from}
		v.Summary = s.episodeSummary(&e)
		v.Filter = ElectionOnly(pad(e.from, e.to))
		v.Filter.Messages |= Hellos // a LOOKING server's connections are part of its story
		v.Filter.Title = fmt.Sprintf("Election %d: %s", n, v.Summary)
		views = append(views, v)
	}
	for i, sd := range s.syncs {
		n := i + 1
		from, to := s.syncWindow(sd)
		v := View{Name: fmt.Sprintf("sync-%d", n), Kind: "sync", At: sd.at}
		v.Summary = syncSummary(sd.d)
		v.Filter = Filter{From: from, To: to, Messages: Discovery | Sync | Broadcast, Between: []int64{sd.d.Sid, sd.d.Learner}}
		v.Filter.Title = fmt.Sprintf("Sync %d: %s", n, v.Summary)
		views = append(views, v)
	}
	for i, p := range s.interestingProposals() {
		n := i + 1
		from, to := s.broadcastWindow(p)
		v := View{Name: fmt.Sprintf("broadcast-%d", n), Kind: "broadcast", At: p.at}
		v.Summary = s.proposalSummary(p)
		v.Filter = BroadcastOf(p.zxid, from, to)
		v.Filter.Title = fmt.Sprintf("Broadcast %d: %s", n, v.Summary)
		views = append(views, v)
	}
	// in the order things happened; the overview first
	slices.SortStableFunc(views[1:], func(a, b View) int { return cmpTime(a.At, b.At) })
	return views
}

// pad widens [from, to] by a little on each side.
func pad(from, to sim.Time) (sim.Time, sim.Time) {
	p := min(max((to-from)/40, 500*sim.Microsecond), 3*sim.Millisecond)
	return max(0, from-p), to + p
}

func (s *story) episodeSummary(e *episode) string {
	if !e.finished {
		var who []string
		for i, segs := range s.segs {
			for _, sg := range segs {
				if sg.band == bandLooking && sg.from <= s.end && sg.to >= s.end {
					who = append(who, fmt.Sprint(s.servers[i]))
					break
				}
			}
		}
		if len(who) == 0 {
			return "no leader elected"
		}
		return fmt.Sprintf("no leader elected by the end of the run (%s still LOOKING)", strings.Join(who, ", "))
	}
	// each server's last decision in the episode, and the leader of the last one
	last := map[int64]*model.ElectionDone{} // looked up, never ranged over
	var sids []int64
	for _, d := range e.decisions {
		if _, ok := last[d.d.Sid]; !ok {
			sids = append(sids, d.d.Sid)
		}
		last[d.d.Sid] = d.d
	}
	slices.Sort(sids)
	final := e.decisions[len(e.decisions)-1].d
	leader, round := final.Leader, final.ElectionEpoch
	if len(sids) == 1 && final.State != model.LEADING {
		return fmt.Sprintf("%s %d joins leader %d (round %d)", strings.Fields(s.serverName(final.Sid))[0], final.Sid, leader, round)
	}
	var follow, observe, other []string
	for _, sid := range sids {
		d := last[sid]
		switch {
		case d.Leader != leader:
			other = append(other, fmt.Sprintf("%d for %d", sid, d.Leader))
		case d.State == model.FOLLOWING:
			follow = append(follow, fmt.Sprint(sid))
		case d.State == model.OBSERVING:
			observe = append(observe, fmt.Sprint(sid))
		}
	}
	var parts []string
	if len(follow) > 0 {
		parts = append(parts, joinAnd(follow)+" follow"+verbS(len(follow)))
	}
	if len(observe) > 0 {
		parts = append(parts, joinAnd(observe)+" observe"+verbS(len(observe)))
	}
	if len(other) > 0 {
		parts = append(parts, "earlier decisions: "+joinAnd(other))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("server %d elected in round %d", leader, round)
	}
	return fmt.Sprintf("server %d elected in round %d (%s)", leader, round, strings.Join(parts, ", "))
}

func syncSummary(d *model.SyncDecided) string {
	return fmt.Sprintf("leader %d syncs %d with %s (peerLastZxid %s, committedLog %s..%s)",
		d.Sid, d.Learner, d.Mode, d.PeerLastZxid, d.MinCommitted, d.MaxCommitted)
}

// syncWindow is the learner's handshake around a sync decision: from its entering
// DISCOVERY to its leaving SYNCHRONIZATION, and the messages between.
func (s *story) syncWindow(sd syncDecision) (sim.Time, sim.Time) {
	learner, leader := sd.d.Learner, sd.d.Sid
	from, to := sd.at-10*sim.Millisecond, sd.at+10*sim.Millisecond
	if row, ok := s.row[learner]; ok {
		segs := s.segs[row]
		for _, sg := range segs {
			if sg.from <= sd.at && sg.phase == model.PhaseDiscovery && sg.band != bandDown && sg.band != bandLooking {
				from = sg.from
			}
		}
		for _, sg := range segs {
			if sg.from > sd.at && (sg.phase == model.PhaseBroadcast || sg.band == bandDown || sg.band == bandLooking) {
				to = sg.from
				break
			}
		}
	}
	// cover the messages of the handshake that started in the window
	for i := range s.msgs {
		m := &s.msgs[i]
		if m.sent < from || m.sent > to || m.class&(Discovery|Sync) == 0 {
			continue
		}
		if (m.from == learner && m.to == leader) || (m.from == leader && m.to == learner) {
			if m.done > to {
				to = m.done
			}
		}
	}
	return pad(from, to)
}

// interestingProposals picks the txns whose broadcast is drawn: the first of each epoch,
// every txn that nobody committed, and the first two that lost a message on the way.
func (s *story) interestingProposals() []*proposal {
	lost := map[model.Zxid]bool{} // looked up, never ranged over
	for i := range s.msgs {
		m := &s.msgs[i]
		if m.hasZxid && m.dropped && m.class&(Broadcast|Requests) != 0 {
			lost[m.zxid] = true
		}
	}
	var firsts, uncommitted, lossy []*proposal
	var lastEpoch int64 = -1
	for i := range s.proposals {
		p := &s.proposals[i]
		switch {
		case p.zxid.Epoch() != lastEpoch:
			firsts = append(firsts, p)
		case len(p.committed) == 0:
			uncommitted = append(uncommitted, p)
		case lost[p.zxid] && len(lossy) < 2:
			lossy = append(lossy, p)
		}
		lastEpoch = p.zxid.Epoch()
	}
	out := append(append(firsts, uncommitted...), lossy...)
	out = out[:min(len(out), maxBroadcastViews)]
	slices.SortStableFunc(out, func(a, b *proposal) int { return cmpTime(a.at, b.at) })
	return out
}

// broadcastWindow spans a txn's request, proposal, acks and commits.
func (s *story) broadcastWindow(p *proposal) (sim.Time, sim.Time) {
	from, to := p.at, p.at+sim.Millisecond
	for i := range s.msgs {
		m := &s.msgs[i]
		if !m.hasZxid || m.zxid != p.zxid || m.class&(Broadcast|Requests) == 0 || m.sent < p.at-sim.Second {
			continue
		}
		from = min(from, m.sent)
		if m.done > to {
			to = m.done
		}
	}
	for _, k := range s.marks {
		if (k.kind == markLogged || k.kind == markCommitted) && k.zxid == p.zxid && k.at >= p.at && k.at <= to+(to-from)/5 {
			to = max(to, k.at)
		}
	}
	return pad(from, to)
}

func (s *story) proposalSummary(p *proposal) string {
	what := ""
	if p.txn != nil {
		what = p.txn.Type.String()
		if p.txn.Path != "" {
			what += " " + p.txn.Path
		}
		what += ", "
	}
	return fmt.Sprintf("%s (%sproposed by %d, logged on %s, %s)", p.zxid, what, p.leader, plural(len(p.logged), "server"), p.fate())
}

// fate says what became of a proposal.
func (p *proposal) fate() string {
	switch {
	case len(p.committed) > 0:
		return "committed on " + plural(len(p.committed), "server")
	case len(p.recovered) > 0:
		return "never committed by its leader, recovered from the log on " + plural(len(p.recovered), "server")
	}
	return "never committed"
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// joinAnd joins "1", "2", "3" as "1, 2 and 3".
func joinAnd(xs []string) string {
	if len(xs) <= 1 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// verbS is the "s" of a verb after one subject.
func verbS(n int) string {
	if n == 1 {
		return "s"
	}
	return ""
}
