package checker

import (
	"fmt"
	"sort"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// The Zab safety checks of zab/invariants.md section 6, on the ghost state kept in Checker:
// G (c.g) with prefix hashes, every server's history (server.h, its first server.a txns
// applied), the proposals seen (c.props), and the established leader of every epoch.
//
// What a server's delivered sequence is. The specs define it as history[1..lastCommitted].
// In the trace a server's data is rebuilt by Loaded records (boot, TRUNC, SNAP,
// fast-forward) and then grows by one txn per Committed record. A Committed record at
// position p of the server's data therefore says that its first p+1 txns are committed: the
// new one, and everything it loaded before it, which includes txns a new leader commits
// implicitly when it starts its epoch (ZooKeeper never sends a COMMIT for those). So on
// every Committed record the server's first p+1 txns must equal G's (PrefixConsistency), and
// G grows by whatever of them it did not have yet.

// onCommitted: a server applied a committed txn.
func (c *Checker) onCommitted(i int, r *sim.Record, d *model.Committed) {
	s := c.server(d.Sid)
	s.seen = true
	z, v := d.Zxid, d.Hash
	c.checkOrder(i, r.At, s, z)

	if s.a < s.h.n() && (s.h.zx[s.a] != z || s.h.hs[s.a] != v) {
		s.h.cut(s.a) // it applied something other than what it had logged next: the rest goes
	}
	if s.a == s.h.n() {
		s.h.push(z, v)
	}
	s.a++
	if d.How != "sync" {
		s.cl.add(c.p, z, c.opts.CommitLogCount)
	}

	g := &c.g
	if s.reported&bitPrefix != 0 {
		c.checkIntegrity(i, r.At, s, z, v, "delivered")
		return
	}
	m := min(s.a, g.n())
	if !agree(&s.h, &g.history, m) {
		k := firstDiff(&s.h, &g.history, m)
		c.once(s, bitPrefix)
		c.report(CheckPrefixConsistency, r.At, fmt.Sprintf(
			"server %d delivered %s as txn %d of its sequence, but its txn %d is %s (hash %x) where the committed log has %s (hash %x).",
			s.sid, z, s.a, k+1, s.h.zx[k], s.h.hs[k], g.zx[k], g.hs[k]), g.rec[k], i, s.loadRec)
		c.checkIntegrity(i, r.At, s, z, v, "delivered")
		return
	}
	// G grows by the txns it did not have; the ones before z are committed implicitly.
	for k := g.n(); k < s.a; k++ {
		zk, vk := s.h.zx[k], s.h.hs[k]
		if k < s.a-1 {
			c.checkIntegrity(i, r.At, s, zk, vk, "delivered (implicitly, under "+z.String()+")")
			if k > 0 {
				c.checkPair(i, r.At, s, true, g.zx[k-1], zk, "committed log", g.rec[k-1])
			} else {
				c.checkPair(i, r.At, s, false, 0, zk, "committed log", -1)
			}
		} else {
			c.checkIntegrity(i, r.At, s, zk, vk, "delivered")
		}
		g.push(zk, vk, r.At, i, max(c.estMax, s.epoch))
	}
}

// firstDiff is the first index below m where a and b differ (they must differ below m).
func firstDiff(a, b *history, m int) int {
	return sort.Search(m+1, func(k int) bool { return !agree(a, b, k) }) - 1
}

// checkOrder is GlobalPrimaryOrder and LocalPrimaryOrder on delivery: z must follow the
// server's previous delivered txn as IsNextZxid says (the previous txn is re-seeded by every
// load, invariants.md section 6 note 2).
func (c *Checker) checkOrder(i int, at sim.Time, s *server, z model.Zxid) {
	if s.a > 0 {
		c.checkPair(i, at, s, true, s.h.zx[s.a-1], z, "delivered sequence", -1)
	} else {
		c.checkPair(i, at, s, false, 0, z, "delivered sequence", -1)
	}
}

// checkPair checks that z may follow prev; the report cites record i, the server's last
// load, and rec (-1: none).
func (c *Checker) checkPair(i int, at sim.Time, s *server, hasPrev bool, prev, z model.Zxid, where string, rec int) {
	if hasPrev && z.Epoch() >= prev.Epoch() && isNextZxid(true, prev, z) || !hasPrev && isNextZxid(false, 0, z) {
		return
	}
	recs := []int{rec, s.loadRec, i}
	switch {
	case hasPrev && z.Epoch() < prev.Epoch():
		if c.once(s, bitGlobalOrder) {
			c.report(CheckGlobalPrimaryOrder, at, fmt.Sprintf(
				"server %d's %s has %s of epoch %d after %s of the later epoch %d.", s.sid, where, z, z.Epoch(), prev, prev.Epoch()), recs...)
		}
	case !isNextZxid(hasPrev, prev, z):
		if c.once(s, bitLocalOrder) {
			after := "as its first txn"
			if hasPrev {
				after = "right after " + prev.String()
			}
			c.report(CheckLocalPrimaryOrder, at, fmt.Sprintf(
				"server %d's %s has %s %s, which skips or repeats a txn of its primary.", s.sid, where, z, after), recs...)
		}
	}
}

// isNextZxid is the specs' IsNextZxid: (e, c+1) after (e, c), or (e', 1) after any zxid of
// an earlier epoch (or first of all).
func isNextZxid(hasPrev bool, prev, z model.Zxid) bool {
	if !hasPrev {
		return z.Counter() == 1
	}
	if z.Epoch() == prev.Epoch() {
		return z.Counter() == prev.Counter()+1
	}
	return z.Epoch() > prev.Epoch() && z.Counter() == 1
}

// onLogged: the server appended a txn to its log, ahead of applying it.
func (c *Checker) onLogged(i int, r *sim.Record, d *model.Logged) {
	s := c.server(d.Sid)
	s.seen = true
	c.register(i, r.At, d.Zxid, d.Hash, false)
	if s.txnLog == nil {
		s.txnLog = c.p.zx.Grow(nil, 64) // as its history's
	}
	s.txnLog = appendIn(c.p.zx, s.txnLog, d.Zxid)
	if s.h.n() == 0 || d.Zxid > s.h.last() {
		s.h.push(d.Zxid, d.Hash)
	}
	if s.following >= 0 {
		c.checkProcess(i, r, s)
	}
}

// onProposed: a leader created a txn. PrimaryIntegrity at its first txn of an epoch: it must
// have delivered every committed txn of the earlier epochs.
func (c *Checker) onProposed(i int, r *sim.Record, d *model.Proposed) {
	s := c.server(d.Sid)
	s.seen = true
	if d.Txn == nil {
		return
	}
	z := d.Txn.Zxid
	c.lastTxn = d.Txn
	c.noteTxn(d.Txn)
	c.register(i, r.At, z, d.Txn.Hash(), true)
	e := z.Epoch()
	if s.propEpoch == e {
		return
	}
	s.propEpoch = e
	g := &c.g
	j := g.searchZxid(model.MakeZxid(e, 0)) // G's txns of earlier epochs
	if s.a >= j && agree(&s.h, &g.history, j) {
		return
	}
	if !c.once(s, bitPrimaryIntegrity) {
		return
	}
	k := firstDiff(&s.h, &g.history, min(j, s.a))
	if s.a >= j || k < s.a {
		// it has a different txn where G has g.zx[k]
		c.report(CheckPrimaryIntegrity, r.At, fmt.Sprintf(
			"leader %d proposed %s, its first txn of epoch %d, while its txn %d is %s where the committed log of earlier epochs has %s.",
			s.sid, z, e, k+1, otherTxn(s.h.zx[k], s.h.hs[k], g.zx[k]), g.zx[k]), g.rec[k], s.loadRec, i)
		return
	}
	c.report(CheckPrimaryIntegrity, r.At, fmt.Sprintf(
		"leader %d proposed %s, its first txn of epoch %d, without having delivered the committed %s of an earlier epoch.",
		s.sid, z, e, g.zx[k]), g.rec[k], s.loadRec, i)
}

// onStateChange: Leadership1, no two servers LEADING in SYNCHRONIZATION or BROADCAST with
// the same epoch at the same time.
func (c *Checker) onStateChange(i int, r *sim.Record, d *model.StateChange) {
	s := c.server(d.Sid)
	s.seen = true
	if d.State == model.LEADING && s.state != model.LEADING {
		s.term++ // Leader.lead starts with no learners
	}
	s.state, s.phase, s.epoch = d.State, d.Phase, d.Epoch
	if d.Phase == model.PhaseElection || (d.State != model.FOLLOWING && d.State != model.OBSERVING) {
		s.following = -1
	}
	if !leadingInEpoch(s) || c.l1done[s.epoch] {
		return
	}
	for _, o := range c.srv {
		if o != nil && o != s && o.up && leadingInEpoch(o) && o.epoch == s.epoch {
			c.l1done[s.epoch] = true
			c.report(CheckLeadership1, r.At, fmt.Sprintf(
				"servers %d and %d are both LEADING in epoch %d (server %d in %s, server %d in %s).",
				min(o.sid, s.sid), max(o.sid, s.sid), s.epoch, o.sid, o.phase, s.sid, s.phase), i)
			return
		}
	}
}

func leadingInEpoch(s *server) bool {
	return s.state == model.LEADING && (s.phase == model.PhaseSynchronization || s.phase == model.PhaseBroadcast)
}

// onEstablished: Leadership2 (one established leader per epoch) and LeaderLogCompleteness
// (the new leader's history holds all of G's txns of the epochs before its own).
//
// Only those: Zab promises epoch e's initial history every txn committed before e, by
// quorum intersection with the ACKEPOCH quorum, and G holds nothing else unless a later
// epoch already committed, whether its own txns (llc-284378) or older ones its NEWLEADER
// committed (seed 595862 of 600,000). That happens in 3.8: Leader.waitForEpochAck never
// forgets an ACKEPOCH (electingFollowers), so a learner that acked epoch e, died or was cut
// off and then joined epoch e+1 still counts for e, whose quorum a late ACKEPOCH completes
// after e+1 committed. Such a leader can never get a NEWLEADER quorum (every server of
// e+1's quorum refuses LEADERINFO(e) below its acceptedEpoch), so it commits nothing (were
// it to, PrefixConsistency would see it). The specs do not see it: their RemoveLearner
// forgets a learner's ACKEPOCH the moment its connection breaks
// (testdata/repro/llc-stale-ackepoch-older-txn).
func (c *Checker) onEstablished(i int, r *sim.Record, d *model.LeaderEstablished) {
	s := c.server(d.Sid)
	s.seen = true
	if prev, ok := c.epochLdr[d.Epoch]; ok && prev.sid != d.Sid {
		c.report(CheckLeadership2, r.At, fmt.Sprintf(
			"server %d was established as leader of epoch %d, which server %d had already led.", d.Sid, d.Epoch, prev.sid), prev.rec, i)
	} else if !ok {
		c.epochLdr[d.Epoch] = leaderEntry{sid: d.Sid, rec: i}
	}
	c.estMax = max(c.estMax, d.Epoch)
	g := &c.g
	j := g.committedBefore(d.Epoch) // G's txns committed in earlier epochs
	if s.h.n() >= j && agree(&s.h, &g.history, j) {
		return
	}
	if !c.once(s, bitCompleteness) {
		return
	}
	k := commonPrefix(&s.h, &g.history)
	has := "its history ends before it"
	if k < s.h.n() {
		has = "it has " + otherTxn(s.h.zx[k], s.h.hs[k], g.zx[k]) + " in its place"
	}
	c.report(CheckLeaderLogCompleteness, r.At, fmt.Sprintf(
		"server %d became established leader of epoch %d without the committed %s (committed at %s): %s.",
		s.sid, d.Epoch, g.zx[k], g.at[k], has), g.rec[k], s.loadRec, i)
}

// checkProcess is ProcessConsistency: a learner that processed NEWLEADER of leader L (and
// is still attached to L in that epoch) has a history that is a prefix of L's.
//
// Attached means j ∈ learners[L] in the spec: to the same term of L. A leader that crashed
// and was re-elected (out-of-election votes of followers that have not noticed yet) leads
// again with no learners and its own disk's history, which lacks what the dead one had
// only proposed; a follower still reading the dead one's socket may log that (pc-17605).
func (c *Checker) checkProcess(i int, r *sim.Record, f *server) {
	if f.following < 0 || f.following >= int64(len(c.srv)) {
		return
	}
	l := c.srv[f.following]
	if l == nil || l == f || !l.up || l.state != model.LEADING || l.epoch != f.followEpoch || l.term != f.followTerm {
		return
	}
	n := f.h.n()
	if n <= l.h.n() && agree(&f.h, &l.h, n) {
		return
	}
	key := [2]int64{f.sid, f.followEpoch}
	if c.pcDone[key] {
		return
	}
	c.pcDone[key] = true
	k := firstDiff(&f.h, &l.h, min(n, l.h.n()))
	where := "the leader's history ends before it"
	if k < l.h.n() {
		where = fmt.Sprintf("the leader has %s", l.h.zx[k])
	}
	c.report(CheckProcessConsistency, r.At, fmt.Sprintf(
		"server %d, synced with leader %d in epoch %d, has a history that is not a prefix of the leader's: its txn %d is %s where %s.",
		f.sid, l.sid, f.followEpoch, k+1, otherTxn(f.h.zx[k], f.h.hs[k], l.zxAt(k)), where), f.loadRec, l.loadRec, i)
}

// onTruncated is CommittedLogDurability for TRUNC: cutting the log after Zxid must not
// remove a txn of G that the server held.
func (c *Checker) onTruncated(i int, r *sim.Record, d *model.Truncated) {
	s := c.server(d.Sid)
	s.seen = true
	s.truncDone = false
	if k := sort.Search(len(s.txnLog), func(k int) bool { return s.txnLog[k] > d.Zxid }); k < len(s.txnLog) {
		s.txnLog = s.txnLog[:k]
	}
	g := &c.g
	held := commonPrefix(&s.h, &g.history)
	j := g.searchZxid(d.Zxid + 1) // first G txn above the cut
	if j >= held {
		return
	}
	s.truncDone = true
	c.report(CheckCommittedLogDurability, r.At, fmt.Sprintf(
		"server %d truncated its log after %s, removing the committed %s (committed at %s) that it held.",
		s.sid, d.Zxid, g.zx[j], g.at[j]), g.rec[j], s.loadRec, i)
}

// onLoaded rebuilds the server's history from what it loaded, and checks
// CommittedLogDurability for the loads a sync causes (SNAP, TRUNC).
//
// Loaded.History is not used as the data itself: it lists the txns of the server's log up
// to its lastProcessedZxid, and a server that was once synced by SNAP or TRUNC holds part of
// its data only in a snapshot (those txns are missing from its log) while its log may still
// hold txns that are not in its data (what a SNAP replaced). So the checker rebuilds the data
// the way ZooKeeper does: the snapshot the load started from (its content is the server's
// data when it took it, from SnapshotTaken), then the txns of the log after it (the tail of
// History). A SNAP load is the leader's data at the moment it sent the SNAP.
func (c *Checker) onLoaded(i int, r *sim.Record, d *model.Loaded) {
	s := c.server(d.Sid)
	s.seen = true
	old := s.h
	held := 0
	if d.From == "snap" || d.From == "trunc" {
		held = commonPrefix(&old, &c.g.history)
	}
	switch d.From {
	case "fastforward":
		// The txns it logged and had not applied, replayed on top of its data.
		rep := d.History[max(0, len(d.History)-d.Replayed):]
		q := s.h.n() - s.a
		same := q == len(rep)
		for k := 0; same && k < q; k++ {
			same = s.h.zx[s.a+k] == rep[k].Zxid && s.h.hs[s.a+k] == rep[k].Hash
		}
		if !same {
			s.h.cut(s.a)
			for _, t := range rep {
				s.h.push(t.Zxid, t.Hash)
			}
		}
		s.a = s.h.n()
		for _, t := range rep {
			s.cl.add(c.p, t.Zxid, c.opts.CommitLogCount)
		}
	case "snap":
		base := s.pendingSnap
		s.pendingSnap = histView{}
		if !base.ok { // a hand-built trace: take History at its word
			base = viewOf(d.History)
		}
		s.h = copyHistory(c.p, base, nil, 0)
		s.a = s.h.n()
		s.cl.clear()
	default: // "disk", "trunc"
		sz := d.SnapZxid
		if d.From == "trunc" && sz == 0 && d.Replayed == 0 {
			// a record that does not say: truncateLog reloads from the newest snapshot on
			// disk (the model names it, and 0 with txns replayed means no snapshot at all)
			sz = s.snapMax
		}
		if d.From == "disk" {
			s.snapMax = d.SnapZxid
		}
		base := s.snapshotAt(sz)
		if !base.ok {
			base = viewOf(d.History)
			n := sort.Search(len(base.zx), func(k int) bool { return base.zx[k] > sz })
			base.zx, base.hs = base.zx[:n], base.hs[:n]
		}
		if !s.h.reloadInPlace(base, d.History, sz, s.a) {
			s.h = copyHistory(c.p, base, d.History, sz)
		}
		s.a = s.h.n()
		s.cl.clear()
		for _, t := range d.History {
			if t.Zxid > sz {
				s.cl.add(c.p, t.Zxid, c.opts.CommitLogCount)
			}
		}
	}
	if d.From != "snap" {
		// History is the log's txns up to lastProcessedZxid, which is all of the log after
		// a boot, a TRUNC or a fast-forward (each replays the log to its end).
		s.txnLog = s.txnLog[:0]
		for _, t := range d.History {
			s.txnLog = append(s.txnLog, t.Zxid)
		}
	}
	s.loadRec, s.reported = i, 0
	truncDone := s.truncDone
	s.truncDone = false
	if held == 0 || truncDone {
		return
	}
	g := &c.g
	if s.h.n() >= held && agree(&s.h, &g.history, held) {
		return
	}
	k := firstDiff(&s.h, &g.history, min(held, s.h.n()))
	c.report(CheckCommittedLogDurability, r.At, fmt.Sprintf(
		"server %d's %s sync replaced its data without the committed %s (committed at %s) that it held.",
		s.sid, d.From, g.zx[k], g.at[k]), g.rec[k], i)
}

// otherTxn names txn (z, v) that stands where a history has zxid want: by its zxid, and by
// its value too when the zxids are the same.
func otherTxn(z model.Zxid, v uint64, want model.Zxid) string {
	if z == want {
		return fmt.Sprintf("another value of %s (hash %x)", z, v)
	}
	return z.String()
}

// zxAt is the zxid of txn k of the server's history, or -1 past its end.
func (s *server) zxAt(k int) model.Zxid {
	if k < s.h.n() {
		return s.h.zx[k]
	}
	return -1
}

// snapshotAt is the content of the server's newest snapshot taken at zxid z.
func (s *server) snapshotAt(z model.Zxid) histView {
	for k := len(s.snaps) - 1; k >= 0; k-- {
		if s.snaps[k].zxid == z {
			return s.snaps[k].v
		}
	}
	if z == 0 {
		return histView{ok: true} // no snapshot, or the empty one of a fresh ensemble
	}
	return histView{}
}

func viewOf(h []model.ZxidHash) histView {
	v := histView{zx: make([]model.Zxid, len(h)), hs: make([]uint64, len(h)), ok: true}
	for k, t := range h {
		v.zx[k], v.hs[k] = t.Zxid, t.Hash
	}
	return v
}

// reloadInPlace cuts h to the history a load rebuilds (base, then the txns of tail above
// after) if that is the first txns of h, down to no fewer than applied: the views taken of
// h (snapshots, SNAPs sent) end at most at the server's applied count, so a cut there
// leaves them whole (see history). It reports whether it did; if not, the caller copies.
// A restart that lost nothing reloads what it had: no copy, and the arrays keep their room.
func (h *history) reloadInPlace(base histView, tail []model.ZxidHash, after model.Zxid, applied int) bool {
	nb := len(base.zx)
	if nb > h.n() {
		return false
	}
	// A view of h itself (a snapshot this server took) is h's prefix by construction.
	if nb > 0 && &base.zx[0] != &h.zx[0] {
		for k := range nb {
			if base.zx[k] != h.zx[k] || base.hs[k] != h.hs[k] {
				return false
			}
		}
	}
	m := nb
	for _, t := range tail {
		if t.Zxid <= after {
			continue
		}
		if m >= h.n() || h.zx[m] != t.Zxid || h.hs[m] != t.Hash {
			return false
		}
		m++
	}
	if m < applied {
		return false
	}
	h.cut(m)
	return true
}

// copyHistory is a new history: base, then the txns of tail above zxid after.
func copyHistory(p *pools, base histView, tail []model.ZxidHash, after model.Zxid) history {
	h := newHistory(p, len(base.zx)+len(tail)+16)
	for k := range base.zx {
		h.push(base.zx[k], base.hs[k])
	}
	for _, t := range tail {
		if t.Zxid > after {
			h.push(t.Zxid, t.Hash)
		}
	}
	return h
}
