package model

import (
	"slices"

	"github.com/zabsim/zabsim/sim"
)

// initializeNextSessionID mirrors SessionTrackerImpl.initializeNextSessionId: the server's
// id in the top byte, the (virtual) elapsed time in milliseconds below it. Every server
// hands out ids from its own range, so a learner can create sessions on its own.
func initializeNextSessionID(sid int64, now sim.Time) int64 {
	ms := uint64(now / sim.Millisecond)
	next := int64((ms << 24) >> 8)
	return next | sid<<56
}

// trackedSession is SessionTrackerImpl.SessionImpl, with the expiry bucket and the last
// touch (the latter only for the trace).
type trackedSession struct {
	id      int64
	timeout sim.Time
	closing bool
	owner   int64 // the sid whose client connection the session's requests come through; 0 none yet
	expiry  sim.Time
	touched sim.Time
}

// sessionTracker mirrors SessionTrackerImpl with its ExpiryQueue, as the leader runs it
// (LeaderSessionTracker without local sessions): sessions expire in buckets of tickTime,
// each touch moves a session to the bucket roundToNextInterval(now + timeout), and every
// tickTime the tracker wakes up and expires the whole due bucket.
type sessionTracker struct {
	interval           sim.Time                    // expirationInterval = tickTime
	nextExpirationTime sim.Time                    // ExpiryQueue.nextExpirationTime
	sessionsByID       map[int64]*trackedSession   // looked up only
	expiryMap          map[sim.Time]map[int64]bool // bucket -> sessions; looked up only
}

func newSessionTracker(tickTime, now sim.Time) *sessionTracker {
	st := &sessionTracker{interval: tickTime, sessionsByID: map[int64]*trackedSession{},
		expiryMap: map[sim.Time]map[int64]bool{}}
	st.nextExpirationTime = st.roundToNextInterval(now)
	return st
}

// roundToNextInterval mirrors ExpiryQueue.roundToNextInterval.
func (st *sessionTracker) roundToNextInterval(t sim.Time) sim.Time {
	return (t/st.interval + 1) * st.interval
}

// update mirrors ExpiryQueue.update: move s to the bucket of now+timeout.
func (st *sessionTracker) update(s *trackedSession, timeout, now sim.Time) {
	s.touched = now
	e := st.roundToNextInterval(now + timeout)
	if e == s.expiry {
		return
	}
	set := st.expiryMap[e]
	if set == nil {
		set = map[int64]bool{}
		st.expiryMap[e] = set
	}
	set[s.id] = true
	if old := st.expiryMap[s.expiry]; old != nil {
		delete(old, s.id)
	}
	s.expiry = e
}

// trackSession mirrors SessionTrackerImpl.trackSession: add (or find) and touch.
func (st *sessionTracker) trackSession(id int64, timeout, now sim.Time) {
	s := st.sessionsByID[id]
	if s == nil {
		s = &trackedSession{id: id, timeout: timeout}
		st.sessionsByID[id] = s
	}
	st.update(s, timeout, now)
}

// touchSession mirrors SessionTrackerImpl.touchSession: false for an unknown or closing
// session (its requests are then dropped, or its revalidation refused).
func (st *sessionTracker) touchSession(id int64, timeout, now sim.Time) bool {
	s := st.sessionsByID[id]
	if s == nil || s.closing {
		return false
	}
	st.update(s, timeout, now)
	return true
}

// setSessionClosing mirrors SessionTrackerImpl.setSessionClosing.
func (st *sessionTracker) setSessionClosing(id int64) {
	if s := st.sessionsByID[id]; s != nil {
		s.closing = true
	}
}

// removeSession mirrors SessionTrackerImpl.removeSession (and ExpiryQueue.remove).
func (st *sessionTracker) removeSession(id int64) {
	s := st.sessionsByID[id]
	if s == nil {
		return
	}
	delete(st.sessionsByID, id)
	if set := st.expiryMap[s.expiry]; set != nil {
		delete(set, id)
	}
}

// checkSession mirrors SessionTrackerImpl.checkSession (and checkGlobalSession when
// global is set, which turns an unknown session into SessionExpired).
func (st *sessionTracker) checkSession(id int64, owner int64, global bool) int32 {
	s := st.sessionsByID[id]
	if s == nil {
		if global {
			return ErrSessionExpired
		}
		return ErrUnknownSession
	}
	if s.closing {
		return ErrSessionExpired
	}
	if s.owner == 0 {
		s.owner = owner
	} else if s.owner != owner {
		return ErrSessionMoved
	}
	return ErrOK
}

// setOwner mirrors SessionTrackerImpl.setOwner.
func (st *sessionTracker) setOwner(id int64, owner int64) bool {
	s := st.sessionsByID[id]
	if s == nil || s.closing {
		return false
	}
	s.owner = owner
	return true
}

// poll mirrors ExpiryQueue.poll: if the next expiration time has come, advance it by one
// interval and return the sessions of its bucket (sorted, so that their closeSession txns
// are proposed in a stable order).
func (st *sessionTracker) poll(now sim.Time) []*trackedSession {
	if now < st.nextExpirationTime {
		return nil
	}
	e := st.nextExpirationTime
	st.nextExpirationTime = e + st.interval
	set := st.expiryMap[e]
	delete(st.expiryMap, e)
	ids := make([]int64, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]*trackedSession, 0, len(ids))
	for _, id := range ids {
		if s := st.sessionsByID[id]; s != nil && s.expiry == e {
			out = append(out, s)
		}
	}
	return out
}

// startSessionTracker is ZooKeeperServer.startSessionTracker on the leader
// (LeaderZooKeeperServer.createSessionTracker): every session of the database is tracked
// anew with a full timeout from now, and the expiry thread starts.
func (s *Server) startSessionTracker() {
	l := s.leader
	now := s.w.Now()
	l.sessions = newSessionTracker(s.cfg.TickTime, now)
	for _, id := range s.db.tree.Sessions() {
		to, _ := s.db.tree.SessionTimeout(id)
		l.sessions.trackSession(id, to, now)
	}
	s.w.SetTimer(s.nid, tmSessionExpiry, l.sessions.nextExpirationTime-now)
}

// sessionExpiryRun is one turn of SessionTrackerImpl.run: expire the due bucket
// (setSessionClosing, then ZooKeeperServer.expire submits a closeSession), then sleep until
// the next expiration time.
func (s *Server) sessionExpiryRun() {
	l := s.leader
	if l == nil || l.sessions == nil || l.stage != stageRunning {
		return
	}
	now := s.w.Now()
	for _, ts := range l.sessions.poll(now) {
		l.sessions.setSessionClosing(ts.id)
		s.record(&SessionExpired{Sid: s.sid, Session: ts.id, Timeout: ts.timeout, Touched: ts.touched})
		// ZooKeeperServer.expire -> close(sessionId): a closeSession request with no
		// connection behind it.
		s.leaderSubmit(&Request{Op: OpCloseSession, SessionID: ts.id}, 0)
	}
	if s.leader != nil && s.leader.sessions != nil {
		s.w.SetTimer(s.nid, tmSessionExpiry, s.leader.sessions.nextExpirationTime-s.w.Now())
	}
}

// touchSession is what a server does when a session shows a sign of life (a request or a
// ping on its connection, ZooKeeperServer.touch): the leader touches its tracker (and may
// find the session gone); a learner notes the touch for its next PING reply
// (LearnerSessionTracker.touchSession, which never fails).
func (s *Server) touchSession(id int64, timeout sim.Time) bool {
	switch {
	case s.state == LEADING && s.leader != nil && s.leader.sessions != nil:
		return s.leader.sessions.touchSession(id, timeout, s.w.Now())
	case s.learner != nil:
		if s.learner.touchTable == nil {
			s.learner.touchTable = map[int64]sim.Time{}
		}
		s.learner.touchTable[id] = timeout
	}
	return true
}

// touchSnapshot mirrors LearnerSessionTracker.snapshot: the touches since the last PING
// reply, sorted by session id (the order is irrelevant to the leader, but reaches the trace).
func (ls *learnerState) touchSnapshot() []SessionTouch {
	if len(ls.touchTable) == 0 {
		return nil
	}
	out := make([]SessionTouch, 0, len(ls.touchTable))
	for id, to := range ls.touchTable {
		out = append(out, SessionTouch{Session: id, Timeout: to})
	}
	slices.SortFunc(out, func(a, b SessionTouch) int {
		switch {
		case a.Session < b.Session:
			return -1
		case a.Session > b.Session:
			return 1
		}
		return 0
	})
	clear(ls.touchTable) // emptied, kept: a learner pings every half tick
	return out
}

// SessionTouch is one (session, timeout) pair of a learner's PING reply.
type SessionTouch struct {
	Session int64
	Timeout sim.Time
}
