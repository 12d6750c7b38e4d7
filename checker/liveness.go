package checker

import (
	"fmt"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// LivenessBound is how long after the last fault a correct ensemble, with a quorum of voters
// up and every link healed, may take until a leader is active and every running server
// follows it in BROADCAST with the whole committed log delivered:
//
//	bound = detect + elect + establish + elect + catchUp
//
//	detect    = max(initLimit, syncLimit+1) * tickTime + observerElectionDelay
//	elect     = maxNotificationInterval + cnxTimeout + (servers+1) * finalizeWait + 1s
//	establish = 3 * initLimit * tickTime
//	catchUp   = (initLimit + syncLimit) * tickTime
//
// Each term, in the order a worst case goes through them:
//
//   - detect: when the faults stop, a server may still be attached to a leader that is gone
//     or has lost its quorum. A follower notices within its read timeout: initLimit*tickTime
//     until NEWLEADER, syncLimit*tickTime after (the leader pings every tickTime/2). A
//     leader notices on its first tick past syncLimit ticks without a quorum of acks, so
//     within (syncLimit+1)*tickTime; a leader still in discovery gives up a wait after
//     initLimit*tickTime. An observer then waits up to observerElectionDelay before looking.
//   - elect: once the live voters are LOOKING, FastLeaderElection needs only a few message
//     delays, except that a voter isolated during the faults may have backed its poll
//     timeout off to maxNotificationInterval, so its next resend can be that far away, and a
//     connection attempt to a peer that is still down costs up to cnxTimeout. Each better
//     vote that arrives during finalizeWait restarts that wait, and votes only improve, so
//     at most once per server and once more for the final wait. 1s covers the message
//     delays (a few milliseconds each).
//   - establish: an elected leader that cannot gather a quorum (a voter was still attached
//     elsewhere when it was elected) gives up after its three discovery waits (epoch, epoch
//     ack, NEWLEADER ack), each bounded by initLimit*tickTime; the learners' connect
//     attempts fit in the same budget.
//   - elect again, after such a failed attempt: this time every voter is LOOKING with a
//     fresh poll timeout, so the term above is generous.
//   - catchUp: the learners of the active leader finish their sync within
//     initLimit*tickTime (the leader drops one that does not ACK NEWLEADER by then), and a
//     txn in flight is acknowledged within syncLimit*tickTime (SyncLimitCheck closes a
//     learner that does not) and committed at once after.
//
// With the sample configuration (tickTime 2s, initLimit 10, syncLimit 5) and three voters
// this is 20.2s + 66.8s + 60s + 66.8s + 30s = 243.8s.
//
// Options.LivenessBound, when set, replaces the formula.
func LivenessBound(o Options) sim.Time {
	o.normalize()
	if o.LivenessBound > 0 {
		return o.LivenessBound
	}
	tick := o.TickTime
	detect := sim.Time(max(o.InitLimit, o.SyncLimit+1))*tick + o.ObserverElectionDelay
	servers := max(o.Voters+o.Observers, 1)
	elect := o.MaxNotificationInterval + o.CnxTimeout + sim.Time(servers+1)*o.FinalizeWait + sim.Second
	establish := 3 * sim.Time(o.InitLimit) * tick
	catchUp := sim.Time(o.InitLimit+o.SyncLimit) * tick
	return detect + elect + establish + elect + catchUp
}

// liveness is the bounded-liveness check: from the quiet moment on, find the first instant
// at which a leader is active and every running server follows it in BROADCAST with all of
// G delivered. It is evaluated at the end of each instant (a run of records with the same
// time), O(servers), and only until it holds; a fault record starts the wait again.
type liveness struct {
	c         *Checker
	on        bool
	start     sim.Time // time of the last fault record
	startRec  int
	satisfied bool
	at        sim.Time // when it held
	vacuous   int8     // 0 unknown, 1 fewer than a quorum of voters up, -1 a quorum up
	cut       bool     // a partition or clog is in force (no HealAll since)
	fail      liveFail // why it did not hold at the last instant evaluated
	bound     sim.Time
}

type liveFail struct {
	kind     int8 // 0 none evaluated, 1 no leader, 2 not following, 3 behind
	at       sim.Time
	sid      int64
	leader   int64
	state    model.ServerState
	phase    model.ZabPhase
	last     model.Zxid
	diverged bool // it has as many txns as G, but not G's
}

func (l *liveness) init(c *Checker) {
	l.c, l.on, l.startRec = c, c.opts.Liveness, -1
	l.bound = LivenessBound(c.opts)
}

// fault restarts the quiet period. Partitions and clogs count as in force until a heal of
// every link (HealAll: a heal record without groups); a run that ends with a link still
// cut, or only partly healed, gets no liveness verdict.
func (l *liveness) fault(i int, r *sim.Record) {
	l.start, l.startRec, l.satisfied, l.vacuous = r.At, i, false, 0
	switch r.Kind {
	case sim.RecPartition, sim.RecClog:
		l.cut = true
	case sim.RecHeal:
		if r.Data == nil {
			l.cut = false
		}
	}
}

func (l *liveness) quietStart() sim.Time { return max(l.start, l.c.opts.QuietFrom) }

// quietEnough reports whether a run that ended at end stayed quiet (every link whole, no
// fault) for the whole liveness bound: what a recipe's liveness is judged after.
func (l *liveness) quietEnough(end sim.Time) bool {
	return l.on && !l.cut && end >= l.quietStart()+l.bound
}

// instantEnd: every record of instant c.curAt has been seen.
func (c *Checker) instantEnd() {
	l := &c.live
	if !l.on || l.satisfied || l.cut || c.curAt < l.quietStart() || c.curAt > l.quietStart()+l.bound {
		return
	}
	l.evaluate(c.curAt)
}

// relevant lists the servers whose progress liveness requires.
func (l *liveness) relevant(s *server) bool {
	if s == nil {
		return false
	}
	if n := l.c.opts.Voters + l.c.opts.Observers; l.c.opts.Voters > 0 {
		return s.sid >= 1 && s.sid <= int64(n)
	}
	return s.seen
}

func (l *liveness) running(s *server) bool { return s.up && !s.paused }

func (l *liveness) evaluate(t sim.Time) {
	c := l.c
	if l.vacuous == 0 {
		l.vacuous = 1
		voters, up := 0, 0
		for _, s := range c.srv {
			if !l.relevant(s) || (c.opts.Voters > 0 && s.sid > int64(c.opts.Voters)) {
				continue
			}
			voters++
			if l.running(s) {
				up++
			}
		}
		if c.opts.Voters > 0 {
			voters = c.opts.Voters
		}
		if 2*up > voters {
			l.vacuous = -1
		}
	}
	if l.vacuous > 0 {
		return
	}
	var leader *server
	for _, s := range c.srv {
		if l.relevant(s) && l.running(s) && s.state == model.LEADING && s.phase == model.PhaseBroadcast {
			if leader == nil || s.epoch > leader.epoch {
				leader = s
			}
		}
	}
	if leader == nil {
		l.fail = liveFail{kind: 1, at: t}
		return
	}
	g := &c.g
	for _, s := range c.srv {
		if !l.relevant(s) || !l.running(s) {
			continue
		}
		if s != leader && (s.following != leader.sid || s.phase != model.PhaseBroadcast ||
			(s.state != model.FOLLOWING && s.state != model.OBSERVING)) {
			l.fail = liveFail{kind: 2, at: t, sid: s.sid, leader: leader.sid, state: s.state, phase: s.phase}
			return
		}
		if s.a < g.n() || !agree(&s.h, &g.history, g.n()) {
			last := model.Zxid(0)
			if s.a > 0 {
				last = s.h.zx[s.a-1]
			}
			l.fail = liveFail{kind: 3, at: t, sid: s.sid, leader: leader.sid, last: last, diverged: s.a >= g.n()}
			return
		}
	}
	l.satisfied, l.at = true, t
}

// LivenessHeld reports whether, since the last fault, a leader has been active with every
// running server following it and holding the whole committed log (the liveness check's
// condition; false without Options.Liveness). It checks the records held back first.
func (c *Checker) LivenessHeld() bool {
	c.flush()
	return c.live.on && c.live.satisfied
}

// finish judges the last quiet period of a run that ended at end.
func (l *liveness) finish(end sim.Time) {
	if !l.on {
		return
	}
	start := l.quietStart()
	deadline := start + l.bound
	if l.satisfied || l.cut || end < deadline {
		return // it held in time, a link is still cut, or the run is too short to tell
	}
	if l.fail.kind == 0 && l.vacuous == 0 {
		l.evaluate(l.c.curAt) // nothing happened after the quiet moment
		if l.satisfied {
			return
		}
	}
	if l.vacuous > 0 {
		return // no quorum of voters up: Zab promises nothing
	}
	since := fmt.Sprintf("the liveness deadline %s (%s after the quiet moment at %s)", deadline, l.bound, start)
	var detail string
	f := l.fail
	switch f.kind {
	case 2:
		detail = fmt.Sprintf("at %s server %d was %s in %s instead of following leader %d in BROADCAST.", since, f.sid, f.state, f.phase, f.leader)
	case 3:
		g := &l.c.g
		detail = fmt.Sprintf("at %s server %d had delivered only up to %s of a committed log ending at %s (leader %d).", since, f.sid, f.last, g.last(), f.leader)
		if f.diverged {
			detail = fmt.Sprintf("at %s server %d's delivered sequence (up to %s) differs from the committed log (up to %s, leader %d).", since, f.sid, f.last, g.last(), f.leader)
		}
	default:
		detail = fmt.Sprintf("no leader was active at %s.", since)
	}
	l.c.report(CheckLiveness, deadline, detail, l.startRec)
}
