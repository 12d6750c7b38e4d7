package checker

import (
	"slices"
	"testing"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// Every safety check shown both ways on hand-built traces: a trace that breaks exactly that
// property, and the nearest trace that does not. The mutant runs below show the checks on
// the model's own traces.

var (
	t11  = txn(1, 1, "a")
	t12  = txn(1, 2, "b")
	t13  = txn(1, 3, "c")
	t12x = txn(1, 2, "other b")
	t21  = txn(2, 1, "d")
	t31  = txn(3, 1, "g")
)

func opts3() Options { return Options{Voters: 3} }

// leaderOneCommits: server 1 leads epoch 1 and commits ts on itself.
func leaderOneCommits(b *trace, ts ...*model.Txn) {
	b.state(1, model.LEADING, model.PhaseBroadcast, 1)
	for _, t := range ts {
		b.tick()
		b.propose(1, t)
		b.logged(1, t)
		b.commit(1, t)
	}
}

// leaderThreeEpochTwo: server 3, with t11 and t12, leads epoch 2 and proposes t21.
func leaderThreeEpochTwo(b *trace) {
	b.tick()
	b.model(3, &model.Loaded{Sid: 3, From: "disk", History: hist(t11, t12)})
	b.propose(3, t21)
}

func TestHandBuiltChecksBothWays(t *testing.T) {
	cases := []struct {
		name  string
		check string // "" = must pass
		build func(b *trace)
	}{
		{"Leadership2 two leaders of epoch 1", CheckLeadership2, func(b *trace) {
			b.model(1, &model.LeaderEstablished{Sid: 1, Epoch: 1})
			b.tick()
			b.model(2, &model.LeaderEstablished{Sid: 2, Epoch: 1})
		}},
		{"Leadership2 one leader per epoch", "", func(b *trace) {
			b.model(1, &model.LeaderEstablished{Sid: 1, Epoch: 1})
			b.tick()
			b.model(2, &model.LeaderEstablished{Sid: 2, Epoch: 2})
		}},
		{"Leadership1 two LEADING in epoch 1 at once", CheckLeadership1, func(b *trace) {
			b.state(1, model.LEADING, model.PhaseSynchronization, 1)
			b.tick()
			b.state(2, model.LEADING, model.PhaseBroadcast, 1)
		}},
		{"Leadership1 the first crashed before the second led", "", func(b *trace) {
			b.state(1, model.LEADING, model.PhaseBroadcast, 1)
			b.tick()
			b.add(sim.RecCrash, 1, -1, nil)
			b.state(2, model.LEADING, model.PhaseBroadcast, 1)
		}},
		{"Leadership1 LEADING in DISCOVERY does not count", "", func(b *trace) {
			b.state(1, model.LEADING, model.PhaseDiscovery, 1)
			b.state(2, model.LEADING, model.PhaseBroadcast, 1)
		}},
		{"ZxidUniqueness a PROPOSAL with another value", CheckZxidUniqueness, func(b *trace) {
			b.propose(1, t12)
			b.add(sim.RecSend, 1, 2, &model.QuorumPacket{Type: model.PROPOSAL, Zxid: t12.Zxid, Txn: t12x})
		}},
		{"ZxidUniqueness a log with another value", CheckZxidUniqueness, func(b *trace) {
			b.propose(1, t12)
			b.logged(2, t12x)
		}},
		{"ZxidUniqueness the same txn resent", "", func(b *trace) {
			b.propose(1, t12)
			b.add(sim.RecSend, 1, 2, &model.QuorumPacket{Type: model.PROPOSAL, Zxid: t12.Zxid, Txn: txn(1, 2, "b")})
			b.logged(2, t12)
		}},
		{"Integrity a commit nobody proposed", CheckIntegrity, func(b *trace) {
			b.commit(2, t11)
		}},
		{"Integrity a commit with another value than proposed", CheckIntegrity, func(b *trace) {
			b.propose(1, t11)
			b.model(2, &model.Committed{Sid: 2, Zxid: t11.Zxid, Hash: t12x.Hash(), How: "commit"})
		}},
		{"Integrity proposed then committed", "", func(b *trace) {
			b.propose(1, t11)
			b.commit(2, t11)
		}},
		{"PrefixConsistency two servers disagree at txn 2", CheckPrefixConsistency, func(b *trace) {
			leaderOneCommits(b, t11, t12)
			leaderThreeEpochTwo(b)
			b.commit(2, t11)
			b.commit(2, t21)
		}},
		{"PrefixConsistency a loaded txn committed implicitly differs", CheckPrefixConsistency, func(b *trace) {
			leaderOneCommits(b, t11, t12)
			b.propose(1, t13) // proposed, never committed, and logged by 2 without 0x100000002
			leaderThreeEpochTwo(b)
			b.model(2, &model.Loaded{Sid: 2, From: "disk", History: hist(t11, t13)})
			b.commit(2, t21) // committed on top of it: 0x100000003 would be committed at txn 2
		}},
		{"PrefixConsistency the same sequence", "", func(b *trace) {
			leaderOneCommits(b, t11, t12)
			leaderThreeEpochTwo(b)
			b.commit(2, t11)
			b.commit(2, t12)
			b.commit(2, t21)
			b.commit(1, t21)
		}},
		{"GlobalPrimaryOrder an epoch-1 txn after an epoch-2 one", CheckGlobalPrimaryOrder, func(b *trace) {
			b.propose(1, t11)
			b.propose(1, t12)
			b.propose(2, t21)
			b.commit(3, t11)
			b.commit(3, t21)
			b.commit(3, t12)
		}},
		{"GlobalPrimaryOrder epochs in order", "", func(b *trace) {
			b.propose(1, t11)
			b.propose(1, t12)
			b.propose(2, t21)
			b.commit(3, t11)
			b.commit(3, t12)
			b.commit(3, t21)
		}},
		{"LocalPrimaryOrder a skipped txn", CheckLocalPrimaryOrder, func(b *trace) {
			b.propose(1, t11)
			b.propose(1, t13)
			b.commit(1, t11)
			b.commit(1, t13)
		}},
		{"LocalPrimaryOrder the first txn is not counter 1", CheckLocalPrimaryOrder, func(b *trace) {
			b.propose(1, t12)
			b.commit(1, t12)
		}},
		{"LocalPrimaryOrder consecutive txns", "", func(b *trace) {
			b.propose(1, t11)
			b.propose(1, t12)
			b.propose(1, t13)
			b.commit(1, t11)
			b.commit(1, t12)
			b.commit(1, t13)
		}},
		{"PrimaryIntegrity the new leader lacks a committed txn", CheckPrimaryIntegrity, func(b *trace) {
			leaderOneCommits(b, t11, t12)
			b.model(2, &model.Loaded{Sid: 2, From: "disk", History: hist(t11)})
			b.propose(2, t21)
		}},
		{"PrimaryIntegrity the new leader has everything", "", func(b *trace) {
			leaderOneCommits(b, t11, t12)
			b.model(2, &model.Loaded{Sid: 2, From: "disk", History: hist(t11, t12)})
			b.propose(2, t21)
		}},
		{"LeaderLogCompleteness established without a committed txn", CheckLeaderLogCompleteness, func(b *trace) {
			leaderOneCommits(b, t11, t12)
			b.model(2, &model.Loaded{Sid: 2, From: "disk", History: hist(t11)})
			b.model(2, &model.LeaderEstablished{Sid: 2, Epoch: 2})
		}},
		{"LeaderLogCompleteness established with a different txn", CheckLeaderLogCompleteness, func(b *trace) {
			leaderOneCommits(b, t11, t12)
			b.model(2, &model.Loaded{Sid: 2, From: "disk", History: hist(t11, t12x)})
			b.model(2, &model.LeaderEstablished{Sid: 2, Epoch: 2})
		}},
		{"LeaderLogCompleteness an older epoch established after a newer one committed", "", func(b *trace) {
			// llc-284378: a stale ACKEPOCH completes 2's quorum for epoch 2 after 3 (leader of
			// epoch 3) committed t31; 2 holds everything of the epochs before its own.
			leaderOneCommits(b, t11, t12)
			b.state(1, model.LEADING, model.PhaseBroadcast, 3)
			b.tick().propose(1, t31)
			b.logged(1, t31)
			b.commit(1, t31)
			b.model(2, &model.Loaded{Sid: 2, From: "disk", History: hist(t11, t12)})
			b.model(2, &model.LeaderEstablished{Sid: 2, Epoch: 2})
		}},
		{"LeaderLogCompleteness an older epoch established after a newer one committed an older txn", "", func(b *trace) {
			// stale-ackepoch (seed 595862): t12, proposed in epoch 1, is committed only by
			// epoch 3's NEWLEADER; 2, established in epoch 2 on a stale ACKEPOCH, lacks it.
			leaderOneCommits(b, t11)
			b.tick().propose(1, t12)
			b.logged(1, t12)
			b.state(1, model.LEADING, model.PhaseBroadcast, 3)
			b.tick().commit(1, t12)
			b.model(2, &model.Loaded{Sid: 2, From: "disk", History: hist(t11)})
			b.model(2, &model.LeaderEstablished{Sid: 2, Epoch: 2})
		}},
		{"LeaderLogCompleteness an older epoch established without an older committed txn", CheckLeaderLogCompleteness, func(b *trace) {
			leaderOneCommits(b, t11, t12)
			b.state(1, model.LEADING, model.PhaseBroadcast, 3)
			b.tick().propose(1, t31)
			b.logged(1, t31)
			b.commit(1, t31)
			b.model(2, &model.Loaded{Sid: 2, From: "disk", History: hist(t11)})
			b.model(2, &model.LeaderEstablished{Sid: 2, Epoch: 2})
		}},
		{"LeaderLogCompleteness established with everything, and more", "", func(b *trace) {
			leaderOneCommits(b, t11, t12)
			b.propose(1, t13)
			b.model(2, &model.Loaded{Sid: 2, From: "disk", History: hist(t11, t12, t13)})
			b.model(2, &model.LeaderEstablished{Sid: 2, Epoch: 2})
		}},
		{"CommittedLogDurability TRUNC below a committed txn it held", CheckCommittedLogDurability, func(b *trace) {
			leaderOneCommits(b, t11, t12)
			b.model(2, &model.Loaded{Sid: 2, From: "disk", History: hist(t11, t12)})
			b.model(2, &model.Truncated{Sid: 2, Zxid: t11.Zxid, Removed: 1})
			b.model(2, &model.Loaded{Sid: 2, From: "trunc", History: hist(t11)})
		}},
		{"CommittedLogDurability TRUNC of an uncommitted txn", "", func(b *trace) {
			leaderOneCommits(b, t11, t12)
			b.propose(1, t13)
			b.model(2, &model.Loaded{Sid: 2, From: "disk", History: hist(t11, t12, t13)})
			b.model(2, &model.Truncated{Sid: 2, Zxid: t12.Zxid, Removed: 1})
			b.model(2, &model.Loaded{Sid: 2, From: "trunc", History: hist(t11, t12)})
		}},
		{"CommittedLogDurability TRUNC of a committed txn it did not hold", "", func(b *trace) {
			leaderOneCommits(b, t11, t12)
			b.model(2, &model.Loaded{Sid: 2, From: "disk", History: hist(t11, t12x)})
			b.model(2, &model.Truncated{Sid: 2, Zxid: t11.Zxid, Removed: 1})
			b.model(2, &model.Loaded{Sid: 2, From: "trunc", History: hist(t11)})
		}},
		{"CommittedLogDurability a SNAP that drops a committed txn", CheckCommittedLogDurability, func(b *trace) {
			leaderOneCommits(b, t11, t12)
			b.model(2, &model.Loaded{Sid: 2, From: "disk", History: hist(t11, t12)})
			b.model(2, &model.Loaded{Sid: 2, From: "snap", SnapZxid: t11.Zxid, History: hist(t11)})
		}},
		{"CommittedLogDurability a SNAP that keeps them", "", func(b *trace) {
			leaderOneCommits(b, t11, t12)
			b.propose(1, t13)
			b.model(2, &model.Loaded{Sid: 2, From: "disk", History: hist(t11, t12)})
			b.model(2, &model.Loaded{Sid: 2, From: "snap", SnapZxid: t13.Zxid, History: hist(t11, t12, t13)})
		}},
		{"ProcessConsistency a synced follower holds a txn the leader lacks", CheckProcessConsistency, func(b *trace) {
			leaderOneCommits(b, t11, t12)
			b.propose(3, t13)
			b.state(1, model.LEADING, model.PhaseSynchronization, 2)
			b.model(2, &model.Loaded{Sid: 2, From: "disk", History: hist(t11, t12, t13)})
			b.add(sim.RecSend, 2, 1, &model.QuorumPacket{Type: model.ACK, Zxid: model.MakeZxid(2, 0)})
		}},
		{"ProcessConsistency a later log breaks the prefix", CheckProcessConsistency, func(b *trace) {
			leaderOneCommits(b, t11)
			b.state(1, model.LEADING, model.PhaseBroadcast, 2)
			b.model(2, &model.Loaded{Sid: 2, From: "disk", History: hist(t11)})
			b.add(sim.RecSend, 2, 1, &model.QuorumPacket{Type: model.ACK, Zxid: model.MakeZxid(2, 0)})
			b.propose(3, t12x)
			b.logged(2, t12x)
		}},
		{"ProcessConsistency a follower of a dead leader logs what its restarted self lacks", "", func(b *trace) {
			// pc-17605: 1 dies before logging t13, is re-elected at once; 2 still reads the
			// dead one's socket and logs t13.
			leaderOneCommits(b, t11, t12)
			b.model(2, &model.Loaded{Sid: 2, From: "disk", History: hist(t11, t12)})
			b.add(sim.RecSend, 2, 1, &model.QuorumPacket{Type: model.ACK, Zxid: model.MakeZxid(1, 0)})
			b.propose(1, t13)
			b.add(sim.RecCrash, 1, -1, nil)
			b.add(sim.RecRestart, 1, -1, nil)
			b.model(1, &model.Loaded{Sid: 1, From: "disk", History: hist(t11, t12)})
			b.state(1, model.LEADING, model.PhaseDiscovery, 1)
			b.logged(2, t13)
		}},
		{"ProcessConsistency a synced follower behind the leader", "", func(b *trace) {
			leaderOneCommits(b, t11, t12)
			b.state(1, model.LEADING, model.PhaseSynchronization, 2)
			b.model(2, &model.Loaded{Sid: 2, From: "disk", History: hist(t11)})
			b.add(sim.RecSend, 2, 1, &model.QuorumPacket{Type: model.ACK, Zxid: model.MakeZxid(2, 0)})
			b.logged(2, t12)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := &trace{}
			b.start(1, 2, 3)
			tc.build(b)
			vs := b.check(opts3())
			if tc.check == "" {
				if len(vs) > 0 {
					t.Fatalf("want no violation, got:\n%s", vsText(vs))
				}
				return
			}
			if got := checks(vs); !slices.Equal(got, []string{tc.check}) {
				t.Fatalf("want exactly %s, got:\n%s", tc.check, vsText(vs))
			}
			v := vs[0]
			if v.Detail == "" || len(v.Records) == 0 {
				t.Fatalf("violation without detail or records: %v", v)
			}
			for _, i := range v.Records {
				if i < 0 || i >= len(b.recs) {
					t.Fatalf("record index %d out of range", i)
				}
			}
			t.Log(v)
		})
	}
}

// A report names the record that shows the violation: the offending Committed record for
// PrefixConsistency, and the record that first committed the txn it contradicts.
func TestViolationRecordsProveIt(t *testing.T) {
	b := &trace{}
	b.start(1, 2, 3)
	leaderOneCommits(b, t11, t12)
	first := len(b.recs) - 1 // 1 committing t12
	leaderThreeEpochTwo(b)
	b.commit(2, t11)
	bad := b.commit(2, t21)
	vs := b.check(opts3())
	v := mustFind(t, vs, CheckPrefixConsistency, "server 2", "0x200000001", "0x100000002")
	if !slices.Contains(v.Records, bad) || !slices.Contains(v.Records, first) {
		t.Fatalf("records %v, want %d (the commit of 0x100000002) and %d (the bad commit)", v.Records, first, bad)
	}
}

// ZK-4643 (bugs.md 3.1), the model's EpochBeforePersist mutant: a follower writes
// currentEpoch at NEWLEADER before the synced txn is on disk, crashes, loses it, then wins
// an election with its newer epoch and truncates the committed txn on the other server.
func TestMutantZK4643(t *testing.T) {
	runIt := func(mutant bool) *run {
		r := newRun(t, 3, model.Config{Servers: 3, Mutants: model.Mutants{EpochBeforePersist: mutant}})
		r.e.StartAll()
		if l := r.mustStable(30 * sim.Second); l.Sid() != 3 {
			t.Fatalf("leader %d, want 3", l.Sid())
		}
		r.write(3, 2) // (1,1)..(1,3) everywhere
		r.crash(1)
		r.write(3, 1) // (1,4) committed on {2,3}
		r.crash(2)
		l := r.e.Server(3)
		r.w.RunUntilCond(func() bool { return l.State() == model.LOOKING }, r.w.Now()+60*sim.Second)
		r.restart(1) // 1 and 3 elect 3 for epoch 2; 1 gets DIFF (1,4)
		if !runUntilRecord(r.w, 60*sim.Second, func(rec *sim.Record) bool {
			ew, ok := rec.Data.(*model.EpochWritten)
			return ok && ew.Sid == 1 && ew.File == "currentEpoch" && ew.Epoch == 2
		}) {
			t.Fatal("server 1 never wrote currentEpoch 2")
		}
		r.crashHost(1) // @NEWLEADER:after-cE-write; a power loss: the unsynced txn is gone
		r.crash(3)
		r.restart(1)
		r.restart(2)
		r.settle()
		return r
	}
	vs := runIt(true).finish()
	mustFind(t, vs, CheckLeaderLogCompleteness, "server 1", "epoch 3", "0x100000004")
	mustFind(t, vs, CheckCommittedLogDurability, "server 2", "0x100000004")
	t.Logf("with the mutant:\n%s", vsText(vs))
	runIt(false).mustPass()
}

// ZK-4685 (bugs.md 3.10), the model's AckProposalBeforeAckLd mutant: a follower DIFF-synced
// with a txn ACKs it before NEWLEADER; MessageLegal names the ACK and the NEWLEADER it
// overtook, and the leader, which read it as the NEWLEADER ACK, gives up after initLimit.
func TestMutantZK4685(t *testing.T) {
	runIt := func(mutant bool) *run {
		r := newRun(t, 3, model.Config{Servers: 3, Mutants: model.Mutants{AckProposalBeforeAckLd: mutant}})
		r.e.StartAll()
		if l := r.mustStable(30 * sim.Second); l.Sid() != 3 {
			t.Fatalf("leader %d, want 3", l.Sid())
		}
		r.write(3, 2)
		r.crash(1)
		r.write(3, 1) // (1,4) committed on {2,3}
		r.crash(2)
		r.restart(1) // 1 and 3 elect 3 for epoch 2; 1 gets DIFF (1,4)
		r.mustStable(60 * sim.Second)
		return r
	}
	vs := runIt(true).finish()
	v := mustFind(t, vs, CheckMessageLegal, "server 1", "0x100000004", "0x200000000")
	if len(v.Records) != 2 {
		t.Errorf("records %v, want the NEWLEADER delivery and the ACK", v.Records)
	}
	runIt(false).mustPass()
}

// ZK-2845 (bugs.md 3.4), the model's NoFastForward mutant, follower variant: a follower logs
// a proposal that never commits, keeps its in-memory data when the leader dies, advertises
// the older zxid, and is DIFF-synced past the txn that is still in its log.
func TestMutantZK2845(t *testing.T) {
	runIt := func(mutant bool) *run {
		r := newRun(t, 3, model.Config{Servers: 3, Mutants: model.Mutants{NoFastForward: mutant}})
		r.e.StartAll()
		if l := r.mustStable(30 * sim.Second); l.Sid() != 3 {
			t.Fatalf("leader %d, want 3", l.Sid())
		}
		r.write(3, 2)
		r.w.RunFor(100 * sim.Millisecond) // nothing in flight
		// (1,4) reaches 1 only, and 1's ACK is lost
		if err := r.w.Partition(ids(3), ids(2), true); err != nil {
			t.Fatal(err)
		}
		if err := r.w.Partition(ids(1), ids(3), true); err != nil {
			t.Fatal(err)
		}
		r.e.Write(3)
		if !runUntilRecord(r.w, sim.Second, func(rec *sim.Record) bool {
			lg, ok := rec.Data.(*model.Logged)
			return ok && lg.Sid == 1 && lg.Zxid == model.MakeZxid(1, 4)
		}) {
			t.Fatal("server 1 never logged 0x100000004")
		}
		r.crashHost(3)                    // a host loss: its kernel does not retransmit (1,4) after the heal
		r.w.RunFor(100 * sim.Millisecond) // (1,4) to 2 is lost in the partition
		r.w.HealAll()
		r.mustStable(60 * sim.Second)
		r.write(2, 2)
		r.crash(1) // its log replays (1,4) under the new epoch's txns
		r.restart(1)
		r.restart(3)
		r.settle()
		r.write(1, 2)
		return r
	}
	vs := runIt(true).finish()
	mustFind(t, vs, CheckProcessConsistency, "0x200000001", "0x100000004")
	mustFind(t, vs, CheckPrefixConsistency, "server 1", "0x100000004")
	mustFind(t, vs, CheckLeaderLogCompleteness, "server 1", "0x100000004")
	t.Logf("with the mutant:\n%s", vsText(vs))
	runIt(false).mustPass()
}

// Mutations of a correct run's trace: the checks fire on model records too.
func TestMutatedRunTraces(t *testing.T) {
	r := newRun(t, 5, model.Config{Servers: 3})
	r.e.StartAll()
	l := r.mustStable(30 * sim.Second)
	r.write(l.Sid(), 4)
	r.crash(l.Sid())
	r.mustStable(60 * sim.Second)
	r.write(1, 3)
	r.restart(l.Sid())
	r.settle()
	r.mustPass()
	recs := r.w.Trace().Records()
	opts := r.opts

	mutate := func(f func(i int, rec *sim.Record) bool) []sim.Record {
		out := slices.Clone(recs)
		for i := range out {
			if f(i, &out[i]) {
				return out
			}
		}
		t.Fatal("nothing to mutate")
		return nil
	}
	nth := func(n int, keep func(*sim.Record) bool) func(int, *sim.Record) bool {
		seen := 0
		return func(i int, rec *sim.Record) bool {
			if !keep(rec) {
				return false
			}
			seen++
			return seen == n
		}
	}
	t.Run("Integrity: a follower commits a value nobody proposed", func(t *testing.T) {
		out := mutate(nth(3, func(rec *sim.Record) bool {
			c, ok := rec.Data.(*model.Committed)
			if ok && c.Sid != l.Sid() {
				c2 := *c
				c2.Hash ^= 1
				rec.Data = &c2
			}
			return ok && c.Sid != l.Sid()
		}))
		vs := Check(out, opts)
		mustFind(t, vs, CheckIntegrity)
		mustFind(t, vs, CheckPrefixConsistency)
	})
	t.Run("Leadership2: the second leader reuses epoch 1", func(t *testing.T) {
		out := mutate(nth(2, func(rec *sim.Record) bool {
			e, ok := rec.Data.(*model.LeaderEstablished)
			if ok {
				e2 := *e
				e2.Epoch = 1
				rec.Data = &e2
			}
			return ok
		}))
		mustFind(t, Check(out, opts), CheckLeadership2, "epoch 1")
	})
	t.Run("LeaderLogCompleteness: the new leader loaded too little", func(t *testing.T) {
		// The re-elected leader's load after the crash is cut to its first txn.
		var lastLoad int
		for i, rec := range recs {
			if ld, ok := rec.Data.(*model.Loaded); ok && ld.Sid == r.e.Leader().Sid() && !isAfterEstablished(recs, i) {
				lastLoad = i
			}
		}
		out := slices.Clone(recs)
		ld := *out[lastLoad].Data.(*model.Loaded)
		ld.From, ld.History, ld.Replayed, ld.SnapZxid = "disk", ld.History[:1], 1, 0
		out[lastLoad].Data = &ld
		mustFind(t, Check(out, opts), CheckLeaderLogCompleteness)
	})
}

// isAfterEstablished reports whether record i comes after the last LeaderEstablished.
func isAfterEstablished(recs []sim.Record, i int) bool {
	for j := len(recs) - 1; j >= 0; j-- {
		if _, ok := recs[j].Data.(*model.LeaderEstablished); ok {
			return i > j
		}
	}
	return false
}

// The same run twice gives the same verdict, and the verdict is sorted.
func TestVerdictDeterministic(t *testing.T) {
	verdict := func() []Violation {
		r := newRun(t, 3, model.Config{Servers: 3, Mutants: model.Mutants{NoFastForward: true}})
		r.e.StartAll()
		r.mustStable(30 * sim.Second)
		r.write(3, 2)
		r.w.RunFor(100 * sim.Millisecond)
		r.w.Partition(ids(3), ids(2), true)
		r.w.Partition(ids(1), ids(3), true)
		r.e.Write(3)
		r.w.RunFor(100 * sim.Millisecond)
		r.crash(3)
		r.w.RunFor(100 * sim.Millisecond)
		r.w.HealAll()
		r.mustStable(60 * sim.Second)
		r.write(2, 2)
		r.crash(1)
		r.restart(1)
		r.settle()
		r.write(1, 2)
		return r.finish()
	}
	a, b := verdict(), verdict()
	if len(a) == 0 || vsText(a) != vsText(b) {
		t.Fatalf("verdicts differ or are empty:\n%s\n%s", vsText(a), vsText(b))
	}
	if !slices.IsSortedFunc(a, func(x, y Violation) int {
		if x.At != y.At {
			return int(x.At - y.At)
		}
		if x.Check < y.Check {
			return -1
		}
		if x.Check > y.Check {
			return 1
		}
		return 0
	}) {
		t.Fatalf("not sorted:\n%s", vsText(a))
	}
}
