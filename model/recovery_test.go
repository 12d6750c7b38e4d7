package model

import (
	"fmt"
	"strings"
	"testing"

	"github.com/zabsim/zabsim/sim"
)

// recordsOf returns the model records of type T.
func recordsOf[T any](e *Ensemble) []T {
	var out []T
	for _, r := range e.W.Trace().Records() {
		if v, ok := r.Data.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

func logSize(db *zkDatabase, from Zxid) int64 {
	return db.proposalsFromTxnLog(from, 0).StorageSize
}

// txnBytes is what the txns of the log from zxid on take in their files.
func txnBytes(db *zkDatabase, from Zxid) int64 {
	var n int64
	for _, p := range db.proposalsFromTxnLogUnlimited(from) {
		n += logEntrySize(p.Txn)
	}
	return n
}

// followerMisses600 crashes follower 1 after 3 writes, writes 600 more and restarts it: it is
// below the leader's committedLog (the last 501 proposals), so the leader tries its txn log.
func followerMisses600(t *testing.T, seed uint64, cfg Config) (*Ensemble, *Server, *SyncDecided) {
	e := newEnsemble(t, seed, cfg)
	e.StartAll()
	l := mustStable(t, e, 30*sim.Second)
	if err := e.WriteAndWait(l.Sid(), 3, 10*sim.Second); err != nil {
		t.Fatal(err)
	}
	crash(t, e, 1)
	if err := e.WriteAndWait(l.Sid(), 600, 10*sim.Second); err != nil {
		t.Fatal(err)
	}
	restart(t, e, 1)
	mustStable(t, e, 60*sim.Second)
	d := lastSync(e, 1)
	if d == nil || d.PeerLastZxid >= d.MinCommitted {
		t.Fatalf("sync = %+v, want one from below minCommittedLog", d)
	}
	if n := d.MaxCommitted.Counter() - d.MinCommitted.Counter() + 1; n != 501 {
		t.Fatalf("committedLog holds %d proposals, want 501", n)
	}
	e.W.RunFor(sim.Second)
	if got := e.Server(1).LastProcessedZxid(); got != l.LastProcessedZxid() {
		t.Fatalf("follower at %s, leader at %s", got, l.LastProcessedZxid())
	}
	return e, l, d
}

// With the defaults (snapCount 100000) the leader has a single txn-log file, so
// getStorageSize, which counts only the files after the one the iterator reads, is 0: the
// leader syncs from its txn log although the txns after the follower's zxid take far more
// than 0.33 x its only snapshot (taken by Leader.lead on a nearly empty tree). A real 3.8.0
// ensemble does the same: the restarted server got a txn-log DIFF.
func TestFollowerMissing600WritesDefaultsTxnLogDiff(t *testing.T) {
	_, l, d := followerMisses600(t, 21, Config{Servers: 3})
	if d.Mode != "DIFF" || d.Branch != syncBranchTxnLog {
		t.Fatalf("sync = %s (%s), want DIFF through txnlog+committedLog", d.Mode, d.Branch)
	}
	if files := l.db.logFiles(); len(files) != 1 {
		t.Fatalf("leader log files %v, want one", files)
	}
	if !d.TxnLogRead || d.TxnLogSize != 0 || d.TxnLogLimit <= 0 {
		t.Fatalf("txn log read=%v size=%d limit=%d, want size 0 under a positive limit", d.TxnLogRead, d.TxnLogSize, d.TxnLogLimit)
	}
	if b := txnBytes(l.db, d.PeerLastZxid); b <= d.TxnLogLimit {
		t.Fatalf("the txns take %d bytes, not more than the limit %d: the test shows nothing", b, d.TxnLogLimit)
	}
}

// snapCount=100 rolls the log every 51-100 txns, and each file is preallocated: in 64 MiB
// blocks by default, in 16 KiB blocks with preAllocSize=16. The files after the one holding
// the follower's zxid then exceed 0.33 x the latest snapshot, and the leader sends SNAP, as
// a real 3.8.0 leader logs "Txnlog size: 196704 exceeds sizeLimit: 26628" (6 files of
// 16+2*16384 bytes) or "Txnlog size: 67108880 exceeds sizeLimit: 39366".
func TestFollowerMissing600WritesManyFilesSnap(t *testing.T) {
	for _, tc := range []struct {
		prealloc int64 // KiB
		block    int64
	}{{0, 64 << 20}, {16, 16 << 10}} {
		t.Run(fmt.Sprintf("preAllocSize=%d", tc.prealloc), func(t *testing.T) {
			_, l, d := followerMisses600(t, 21, Config{Servers: 3, SnapCount: 100, PreAllocSize: tc.prealloc})
			if d.Mode != "SNAP" || d.Branch != syncBranchTxnLogEmpty || !d.TxnLogTooBig {
				t.Fatalf("sync = %s (%s, too big %v), want SNAP after the size rule", d.Mode, d.Branch, d.TxnLogTooBig)
			}
			if d.TxnLogSize <= d.TxnLogLimit || !wholePaddedFiles(d.TxnLogSize, tc.block) {
				t.Fatalf("txn log size %d, limit %d: want files of 16 + k x %d bytes over the limit", d.TxnLogSize, d.TxnLogLimit, tc.block)
			}
			t.Logf("Txnlog size: %d exceeds sizeLimit: %d", d.TxnLogSize, d.TxnLogLimit)
			if got := logSize(l.db, d.PeerLastZxid); got != d.TxnLogSize {
				t.Fatalf("size now %d, at the sync %d", got, d.TxnLogSize)
			}
		})
	}
}

// wholePaddedFiles reports whether size is the length of some files each 16 + k x block bytes
// long (a header, then whole preallocated blocks).
func wholePaddedFiles(size, block int64) bool {
	for n := int64(1); n*(16+block) <= size; n++ {
		if (size-16*n)%block == 0 {
			return true
		}
	}
	return false
}

// The same absence, but snapshots are recent and large (the tree holds 20 znodes of 10 KB)
// and the files are not preallocated (preAllocSize 0): the log files after the follower's
// fit in 0.33 x the latest snapshot, so the leader replays them from disk and then the
// committedLog: DIFF through the txn-log branch.
func TestFollowerMissing600WritesLargeSnapshotTxnLogDiff(t *testing.T) {
	e := newEnsemble(t, 22, Config{Servers: 3, SnapCount: 100, PreAllocSize: -1})
	e.StartAll()
	l := mustStable(t, e, 30*sim.Second)
	big := strings.Repeat("x", 10000)
	if err := e.WriteAndWait(l.Sid(), 1, 10*sim.Second); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		r := &Request{Op: OpCreate, Path: "/big" + itoa(int64(i)), Data: big}
		done := false
		e.submit(l, r, func(int32, Zxid) { done = true })
		e.W.RunUntilCond(func() bool { return done }, e.W.Now()+10*sim.Second)
	}
	// enough small writes that the log rolls after the big ones: the file holding the
	// follower's zxid then holds no big txn
	if err := e.WriteAndWait(l.Sid(), 150, 10*sim.Second); err != nil {
		t.Fatal(err)
	}
	f := int64(1)
	crash(t, e, f)
	if err := e.WriteAndWait(l.Sid(), 600, 10*sim.Second); err != nil {
		t.Fatal(err)
	}
	restart(t, e, f)
	mustStable(t, e, 60*sim.Second)
	d := lastSync(e, f)
	if d == nil || d.Mode != "DIFF" || d.Branch != syncBranchTxnLog {
		t.Fatalf("sync = %+v, want DIFF through txnlog+committedLog", d)
	}
	if d.TxnLogSize == 0 || d.TxnLogSize > d.TxnLogLimit {
		t.Fatalf("txn log %d bytes, limit %d: want several files within it", d.TxnLogSize, d.TxnLogLimit)
	}
	e.W.RunFor(sim.Second)
	if got := e.Server(f).LastProcessedZxid(); got != l.LastProcessedZxid() {
		t.Fatalf("follower at %s, leader at %s", got, l.LastProcessedZxid())
	}
}

// A restart loads the newest snapshot and replays the log after it; a crash loses the log
// appends that were not fsynced (the default disk policy), and the vote then carries the
// last zxid that survived. snapCount=4 makes every server snapshot every 2-4 txns.
func TestRestartLoadsSnapshotAndLogAndLosesUnsynced(t *testing.T) {
	// A host loss applies the disk policy; a process kill keeps what reached the kernel:
	// the proposal's fsync had started, so it is in the page cache.
	for _, tc := range []struct {
		policy sim.DiskPolicy
		kind   sim.CrashKind
		keeps  bool
	}{{sim.LoseUnsynced, sim.HostLoss, false}, {sim.KeepAll, sim.HostLoss, true}, {sim.LoseUnsynced, sim.ProcessKill, true}} {
		t.Run(tc.policy.String()+"/"+tc.kind.String(), func(t *testing.T) {
			w := sim.MustWorld(sim.Config{Seed: 31, CrashDisk: tc.policy})
			e, err := NewEnsemble(w, Config{Servers: 3, SnapCount: 4})
			if err != nil {
				t.Fatal(err)
			}
			e.StartAll()
			l := mustStable(t, e, 30*sim.Second)
			if err := e.WriteAndWait(l.Sid(), 6, 10*sim.Second); err != nil {
				t.Fatal(err)
			}
			f := e.Server(1)
			e.Write(l.Sid())
			// run until the follower appended the proposal, then crash it before its fsync
			var z Zxid
			w.RunUntilCond(func() bool {
				if recs := recordsOf[*Logged](e); len(recs) > 0 && recs[len(recs)-1].Sid == 1 {
					z = recs[len(recs)-1].Zxid
					return true
				}
				return false
			}, w.Now()+sim.Second)
			if z == 0 {
				t.Fatal("follower never logged the proposal")
			}
			if err := e.W.CrashAs(1, tc.kind); err != nil {
				t.Fatal(err)
			}
			restart(t, e, 1)
			loads := recordsOf[*Loaded](e)
			ld := loads[len(loads)-1]
			if ld.Sid != 1 || ld.From != "disk" {
				t.Fatalf("last load = %+v, want server 1 from disk", ld)
			}
			if got := ld.LastZxid == z; got != tc.keeps {
				t.Fatalf("after restart last zxid %s (proposal %s): kept=%v, want %v", ld.LastZxid, z, got, tc.keeps)
			}
			if f.currentVote.Zxid != ld.LastZxid {
				t.Fatalf("vote zxid %s, want the last logged %s", f.currentVote.Zxid, ld.LastZxid)
			}
			if ld.SnapZxid == 0 || ld.Replayed == 0 {
				t.Fatalf("load %+v: want a snapshot and a replayed log", ld)
			}
		})
	}
}

// Observers learn every write through INFORM, never ACK, and never count for a quorum:
// with two of three voters down the observer alone cannot keep the leader.
func TestObserverLearnsButHasNoVote(t *testing.T) {
	e := newEnsemble(t, 41, Config{Servers: 3, Observers: 1})
	e.StartAll()
	l := mustStable(t, e, 30*sim.Second)
	o := e.Server(4)
	if o.State() != OBSERVING || o.LeaderSid() != l.Sid() {
		t.Fatalf("server 4 %s following %d, want OBSERVING %d", o.State(), o.LeaderSid(), l.Sid())
	}
	if err := e.WriteAndWait(4, 3, 10*sim.Second); err != nil {
		t.Fatalf("write through the observer: %v", err)
	}
	e.W.RunFor(sim.Second)
	if o.LastProcessedZxid() != l.LastProcessedZxid() {
		t.Fatalf("observer at %s, leader at %s", o.LastProcessedZxid(), l.LastProcessedZxid())
	}
	for _, r := range e.W.Trace().Records() {
		if p, ok := r.Data.(*QuorumPacket); ok && r.Kind == sim.RecSend && r.Node == 4 && p.Type == ACK && !p.Zxid.IsNewEpoch() {
			t.Fatalf("observer sent %s", p)
		}
	}
	for _, sid := range []int64{1, 2, 3} {
		if sid != l.Sid() && e.Server(sid).Up() {
			crash(t, e, sid)
			break
		}
	}
	for _, sid := range []int64{1, 2, 3} {
		if sid != l.Sid() && e.Server(sid).Up() {
			crash(t, e, sid)
		}
	}
	e.W.RunFor(30 * sim.Second)
	if l.State() == LEADING {
		t.Fatalf("leader kept leading with only an observer")
	}
}

// A leader cut off from both followers steps down ("Not sufficient followers synced")
// within a few ticks past syncLimit, and the followers, whose reads time out after
// syncLimit*tickTime, elect a new leader among themselves.
func TestPartitionedLeaderStepsDown(t *testing.T) {
	e := newEnsemble(t, 51, Config{Servers: 3})
	e.StartAll()
	l := mustStable(t, e, 30*sim.Second)
	cut := e.W.Now()
	var others []int64
	for _, sid := range []int64{1, 2, 3} {
		if sid != l.Sid() {
			others = append(others, sid)
		}
	}
	if err := e.W.Partition(ids(l.Sid()), ids(others...), false); err != nil {
		t.Fatal(err)
	}
	e.W.RunUntilCond(func() bool { return l.State() == LOOKING }, cut+60*sim.Second)
	stepDown := e.W.Now() - cut
	limit := e.Cfg.SyncLimitTime() + 2*e.Cfg.TickTime
	if l.State() != LOOKING || stepDown > limit {
		t.Fatalf("leader state %s after %s, want LOOKING within %s", l.State(), stepDown, limit)
	}
	changes := recordsOf[*StateChange](e)
	found := false
	for _, c := range changes {
		if c.Sid == l.Sid() && strings.HasPrefix(c.Reason, "Not sufficient followers synced") {
			found = true
		}
	}
	if !found {
		t.Fatal("no step-down with reason 'Not sufficient followers synced'")
	}
	e.W.RunUntilCond(func() bool {
		nl := e.Leader()
		return nl != nil && nl.Sid() != l.Sid()
	}, e.W.Now()+60*sim.Second)
	nl := e.Leader()
	if nl == nil || nl.Sid() == l.Sid() {
		t.Fatal("the majority side elected no new leader")
	}
	if nl.leader.epoch <= 1 {
		t.Fatalf("new leader epoch %d, want > 1", nl.leader.epoch)
	}
}

// The same seed gives the same trace hash; another seed gives another.
func TestModelRunDeterministic(t *testing.T) {
	run := func(seed uint64) *sim.Trace {
		e := newEnsemble(t, seed, Config{Servers: 5})
		e.StartAll()
		mustStable(t, e, 30*sim.Second)
		if err := e.WriteAndWait(2, 20, 10*sim.Second); err != nil {
			t.Fatal(err)
		}
		crash(t, e, e.Leader().Sid())
		mustStable(t, e, 60*sim.Second)
		return e.W.Trace()
	}
	if err := sim.CheckDeterminism(func() *sim.Trace { return run(5) }); err != nil {
		t.Fatal(err)
	}
	if run(5).Hash() == run(6).Hash() {
		t.Fatal("seeds 5 and 6 gave the same trace hash")
	}
}

// A leader's list of role connections (what closeRoleConns closes, in id order) stays about
// as long as its open learner connections when a follower rejoins again and again: the
// ones closed meanwhile are dropped as it fills. Each rejoin is a new connection id, so a
// list that kept them, or a scan of every id, would grow with the run.
func TestRoleConnsFollowOpenConnections(t *testing.T) {
	w := sim.MustWorld(sim.Config{Seed: 5})
	e, err := NewEnsemble(w, Config{Servers: 3})
	if err != nil {
		t.Fatal(err)
	}
	e.StartAll()
	l := mustStable(t, e, 30*sim.Second)
	f := e.Server(l.Sid()%3 + 1)
	for i := 0; i < 40; i++ {
		if err := w.Crash(f.nid); err != nil {
			t.Fatal(err)
		}
		if err := w.Restart(f.nid); err != nil {
			t.Fatal(err)
		}
		if !w.RunUntilCond(func() bool { return f.learner != nil && f.learner.stage == lsBroadcast }, w.Now()+30*sim.Second) {
			t.Fatalf("rejoin %d: follower %d did not rejoin", i, f.sid)
		}
	}
	if e.Leader() != l {
		t.Fatalf("the leader changed: %d, not %d", e.Leader().Sid(), l.Sid())
	}
	if n := len(l.roleConns); n > 8 {
		t.Errorf("leader %d lists %d role connections after 40 rejoins of follower %d (2 open)", l.sid, n, f.sid)
	}
	open := 0
	for _, c := range l.roleConns {
		if l.isRoleConn(c) {
			open++
		}
	}
	if open != 2 {
		t.Errorf("leader %d has %d open learner connections listed, want 2", l.sid, open)
	}
}
