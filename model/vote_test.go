package model

import (
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const voteVectorsPath = "../testdata/zab/vectors.json"

type fleVoteJSON struct {
	Version       int32  `json:"version"`
	Leader        int64  `json:"leader"`
	Zxid          string `json:"zxid"`
	ElectionEpoch int64  `json:"electionEpoch"`
	PeerEpoch     int64  `json:"peerEpoch"`
	State         string `json:"state"`
}

type fleVectorsFile struct {
	Counts    map[string]int `json:"counts"`
	Predicate struct {
		Config  string `json:"config"`
		Vectors []struct {
			ID       string `json:"id"`
			Comment  string `json:"comment"`
			NewID    int64  `json:"newId"`
			NewZxid  string `json:"newZxid"`
			NewEpoch int64  `json:"newEpoch"`
			CurID    int64  `json:"curId"`
			CurZxid  string `json:"curZxid"`
			CurEpoch int64  `json:"curEpoch"`
			Expected *bool  `json:"expected"`
		} `json:"vectors"`
	} `json:"fle_predicate_vectors"`
	Tracker struct {
		Config  string `json:"config"`
		Vectors []struct {
			ID                string                 `json:"id"`
			Test              string                 `json:"test"`
			Logicalclock      *int64                 `json:"logicalclock"`
			Votes             map[string]fleVoteJSON `json:"votes"`
			Target            *fleVoteJSON           `json:"target"`
			ExpectedHasQuorum *bool                  `json:"expectedHasQuorum"`
			CheckLeader       *struct {
				Leader        int64 `json:"leader"`
				ElectionEpoch int64 `json:"electionEpoch"`
				Expected      *bool `json:"expected"`
			} `json:"checkLeader"`
			Note string `json:"note"`
		} `json:"vectors"`
	} `json:"fle_vote_tracker_vectors"`
}

func loadFLEVectors(t *testing.T) *fleVectorsFile {
	t.Helper()
	data, err := os.ReadFile(voteVectorsPath)
	if err != nil {
		t.Fatalf("cannot read %s: %v", voteVectorsPath, err)
	}
	var f fleVectorsFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("cannot parse %s: %v", voteVectorsPath, err)
	}
	return &f
}

func mustZxid(t *testing.T, s string) Zxid {
	t.Helper()
	z, err := ParseZxid(s)
	if err != nil {
		t.Fatalf("bad zxid %q: %v", s, err)
	}
	return z
}

func parseVoteTestState(t *testing.T, s string) ServerState {
	t.Helper()
	for _, st := range []ServerState{LOOKING, FOLLOWING, LEADING, OBSERVING} {
		if st.String() == s {
			return st
		}
	}
	t.Fatalf("unknown server state %q", s)
	return 0
}

func (j fleVoteJSON) toVote(t *testing.T) Vote {
	t.Helper()
	return Vote{
		Version:       j.Version,
		Leader:        j.Leader,
		Zxid:          mustZxid(t, j.Zxid),
		ElectionEpoch: j.ElectionEpoch,
		PeerEpoch:     j.PeerEpoch,
		State:         parseVoteTestState(t, j.State),
	}
}

func TestTotalOrderPredicateVectors(t *testing.T) {
	f := loadFLEVectors(t)
	vs := f.Predicate.Vectors
	if len(vs) != 4 || f.Counts["fle_predicate_vectors"] != 4 {
		t.Fatalf("fle_predicate_vectors: got %d vectors, counts says %d, want 4",
			len(vs), f.Counts["fle_predicate_vectors"])
	}
	if !strings.Contains(f.Predicate.Config, "QuorumMaj over sids {0,1,2}") {
		t.Fatalf("unexpected predicate config %q", f.Predicate.Config)
	}
	qv := NewQuorumMaj(0, 1, 2)
	for _, v := range vs {
		t.Run(v.ID, func(t *testing.T) {
			if v.Expected == nil {
				t.Fatalf("%s: no expected value", v.ID)
			}
			got := TotalOrderPredicate(qv, v.NewID, mustZxid(t, v.NewZxid), v.NewEpoch,
				v.CurID, mustZxid(t, v.CurZxid), v.CurEpoch)
			if got != *v.Expected {
				t.Errorf("%s (%s): totalOrderPredicate(%d,%s,%d, %d,%s,%d) = %v, want %v", v.ID, v.Comment,
					v.NewID, v.NewZxid, v.NewEpoch, v.CurID, v.CurZxid, v.CurEpoch, got, *v.Expected)
			}
		})
	}
}

func TestVoteTrackerVectors(t *testing.T) {
	f := loadFLEVectors(t)
	vs := f.Tracker.Vectors
	if len(vs) != 5 || f.Counts["fle_vote_tracker_vectors"] != 5 {
		t.Fatalf("fle_vote_tracker_vectors: got %d vectors, counts says %d, want 5",
			len(vs), f.Counts["fle_vote_tracker_vectors"])
	}
	if !strings.Contains(f.Tracker.Config, "QuorumMaj over sids {0,1,2,3,4}") ||
		!strings.Contains(f.Tracker.Config, "local myid = 3") {
		t.Fatalf("unexpected tracker config %q", f.Tracker.Config)
	}
	qv := NewQuorumMaj(0, 1, 2, 3, 4)
	const myID = 3
	checkedLeader := 0
	for _, v := range vs {
		t.Run(v.ID, func(t *testing.T) {
			if v.Target == nil || v.ExpectedHasQuorum == nil || len(v.Votes) == 0 {
				t.Fatalf("%s: incomplete vector", v.ID)
			}
			// Insert in sorted sid order (the JSON object is decoded into a map).
			sids := make([]int64, 0, len(v.Votes))
			byID := make(map[int64]fleVoteJSON, len(v.Votes))
			for k, jv := range v.Votes {
				sid, err := strconv.ParseInt(k, 10, 64)
				if err != nil {
					t.Fatalf("%s: bad sid %q", v.ID, k)
				}
				sids = append(sids, sid)
				byID[sid] = jv
			}
			slices.Sort(sids)
			var set VoteSet
			for _, sid := range sids {
				set.Put(sid, byID[sid].toVote(t))
			}
			if set.Len() != len(sids) {
				t.Fatalf("%s: VoteSet.Len = %d, want %d", v.ID, set.Len(), len(sids))
			}
			target := v.Target.toVote(t)
			if got := set.HasQuorumFor(qv, target); got != *v.ExpectedHasQuorum {
				t.Errorf("%s (%s): HasQuorumFor(%v) = %v, want %v; note: %s",
					v.ID, v.Test, target, got, *v.ExpectedHasQuorum, v.Note)
			}
			if cl := v.CheckLeader; cl != nil {
				if cl.Expected == nil || v.Logicalclock == nil {
					t.Fatalf("%s: checkLeader without expected value or logicalclock", v.ID)
				}
				checkedLeader++
				got := CheckLeader(&set, cl.Leader, cl.ElectionEpoch, myID, *v.Logicalclock)
				if got != *cl.Expected {
					t.Errorf("%s: CheckLeader(leader %d, electionEpoch %d, myid %d, logicalclock %d) = %v, want %v",
						v.ID, cl.Leader, cl.ElectionEpoch, myID, *v.Logicalclock, got, *cl.Expected)
				}
			}
		})
	}
	if checkedLeader == 0 {
		t.Errorf("no fle_vote_tracker_vectors entry exercised checkLeader")
	}
}

// fleS05Config is the FLE-S-05 (FLEZeroWeightTest) configuration.
func fleS05Config(t *testing.T) *QuorumHierarchical {
	t.Helper()
	qh, err := NewQuorumHierarchical(
		[][]int64{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}},
		map[int64]int64{0: 1, 1: 1, 2: 1, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0})
	if err != nil {
		t.Fatalf("NewQuorumHierarchical: %v", err)
	}
	return qh
}

func TestTotalOrderPredicateZeroWeightHierarchical(t *testing.T) {
	qh := fleS05Config(t)
	// Current vote: server 0's own initial vote (epoch 0, zxid 0).
	for cand := int64(3); cand <= 8; cand++ {
		if w := qh.Weight(cand); w != 0 {
			t.Fatalf("Weight(%d) = %d, want 0", cand, w)
		}
		cases := []struct {
			zxid  Zxid
			epoch int64
		}{{0, 0}, {MakeZxid(0, 5), 0}, {MakeZxid(3, 1), 3}, {MakeZxid(100, 100), 100}}
		for _, c := range cases {
			if TotalOrderPredicate(qh, cand, c.zxid, c.epoch, 0, 0, 0) {
				t.Errorf("zero-weight candidate %d (zxid %s, epoch %d) beat (0, 0x0, 0)", cand, c.zxid, c.epoch)
			}
			if TotalOrderPredicate(qh, cand, c.zxid, c.epoch, 2, 0, 0) {
				t.Errorf("zero-weight candidate %d (zxid %s, epoch %d) beat (2, 0x0, 0)", cand, c.zxid, c.epoch)
			}
		}
	}
	// Weighted candidates still follow the ordinary order.
	tests := []struct {
		newID, curID int64
		want         bool
	}{{1, 0, true}, {2, 1, true}, {0, 1, false}, {2, 8, false}}
	for _, tc := range tests {
		if got := TotalOrderPredicate(qh, tc.newID, 0, 0, tc.curID, 0, 0); got != tc.want {
			t.Errorf("TotalOrderPredicate(new %d, cur %d) = %v, want %v", tc.newID, tc.curID, got, tc.want)
		}
	}
	if TotalOrderPredicate(qh, 1, 0, 1, 2, 0, 0) != true {
		t.Errorf("weighted candidate with higher epoch must win")
	}
	// QuorumMaj gives every id weight 1, even a non-member (FLE-P-01 uses sid 4 with voters {0,1,2}).
	qm := NewQuorumMaj(0, 1, 2)
	if qm.Weight(4) != 1 || qm.IsVoter(4) {
		t.Errorf("QuorumMaj{0,1,2}: Weight(4) = %d, IsVoter(4) = %v; want 1, false", qm.Weight(4), qm.IsVoter(4))
	}
	if !TotalOrderPredicate(qm, 4, 0, 3, 3, 0, 2) {
		t.Errorf("QuorumMaj: non-member 4 with higher epoch must win (weight 1)")
	}
}

func TestQuorumHierarchicalContainsQuorum(t *testing.T) {
	qh := fleS05Config(t)
	tests := []struct {
		sids []int64
		want bool
	}{
		{[]int64{0, 1}, true},
		{[]int64{3, 4, 5, 6, 7, 8}, false},
		{[]int64{0}, false},
		{[]int64{0, 0}, false}, // a set: duplicates count once
		{[]int64{0, 3, 4, 5, 6, 7, 8}, false},
		{[]int64{1, 2, 5}, true},
		{[]int64{0, 1, 2, 3, 4, 5, 6, 7, 8}, true},
		{[]int64{0, 99}, false}, // 99 is in no group: skipped
		{nil, false},
	}
	for _, tc := range tests {
		if got := qh.ContainsQuorum(tc.sids); got != tc.want {
			t.Errorf("FLE-S-05 hierarchical ContainsQuorum(%v) = %v, want %v", tc.sids, got, tc.want)
		}
	}
	for sid := int64(0); sid <= 8; sid++ {
		if !qh.IsVoter(sid) {
			t.Errorf("IsVoter(%d) = false: zero-weight servers are still participants", sid)
		}
	}
	if qh.IsVoter(9) {
		t.Errorf("IsVoter(9) = true")
	}

	// All weights 1 (no weight lines): a majority in 2 of the 3 groups.
	all1, err := NewQuorumHierarchical([][]int64{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	more := []struct {
		sids []int64
		want bool
	}{
		{[]int64{0, 1, 3, 4}, true},
		{[]int64{0, 1, 2, 3, 6}, false}, // 5 of 9 servers but only one group majority
		{[]int64{0, 1, 2}, false},
	}
	for _, tc := range more {
		if got := all1.ContainsQuorum(tc.sids); got != tc.want {
			t.Errorf("weight-1 hierarchical ContainsQuorum(%v) = %v, want %v", tc.sids, got, tc.want)
		}
	}

	if _, err := NewQuorumHierarchical([][]int64{{0, 1}, {1, 2}}, nil); err == nil {
		t.Errorf("a sid in two groups must be a config error")
	}
}

func TestVoteEquals(t *testing.T) {
	base := Vote{Version: 0, Leader: 4, Zxid: MakeZxid(2, 1), ElectionEpoch: 2, PeerEpoch: 2, State: FOLLOWING}
	with := func(f func(*Vote)) Vote { v := base; f(&v); return v }
	tests := []struct {
		name string
		a, b Vote
		want bool
	}{
		// Rule 1: either LOOKING -> id, zxid, electionEpoch, peerEpoch.
		{"looking/identical", with(func(v *Vote) { v.State = LOOKING }), with(func(v *Vote) { v.State = LOOKING }), true},
		{"looking/one side, all four equal", with(func(v *Vote) { v.State = LOOKING }), with(func(v *Vote) { v.State = LEADING }), true},
		{"looking/zxid differs", with(func(v *Vote) { v.State = LOOKING }), with(func(v *Vote) { v.Zxid++ }), false},
		{"looking/electionEpoch differs", base, with(func(v *Vote) { v.State = LOOKING; v.ElectionEpoch = 3 }), false},
		{"looking/peerEpoch differs", with(func(v *Vote) { v.State = LOOKING }), with(func(v *Vote) { v.PeerEpoch = 3 }), false},
		{"looking/versions differ, id rule not used", with(func(v *Vote) { v.State = LOOKING; v.Version = 2 }), with(func(v *Vote) { v.Zxid++ }), false},
		{"looking/version and state ignored when all four equal", with(func(v *Vote) { v.State = LOOKING; v.Version = 2 }), with(func(v *Vote) { v.State = OBSERVING }), true},
		// Rule 2: neither LOOKING, exactly one version > 0 -> id only.
		{"version xor/id only", with(func(v *Vote) { v.Version = 2 }), with(func(v *Vote) { v.PeerEpoch = 9; v.Zxid = 7; v.ElectionEpoch = 9 }), true},
		{"version xor/id differs", with(func(v *Vote) { v.Version = 1 }), with(func(v *Vote) { v.Leader = 3 }), false},
		{"version xor/negative version counts as 0", with(func(v *Vote) { v.Version = -1; v.PeerEpoch = 1 }), with(func(v *Vote) { v.Version = 2 }), true},
		// Rule 3: neither LOOKING, both versions 0 or both > 0 -> id and peerEpoch.
		{"both v0/zxid and electionEpoch ignored", base, with(func(v *Vote) { v.Zxid += 100; v.ElectionEpoch += 100; v.State = LEADING }), true},
		{"both v>0/zxid and electionEpoch ignored", with(func(v *Vote) { v.Version = 2 }), with(func(v *Vote) { v.Version = 1; v.Zxid = 0; v.ElectionEpoch = 0 }), true},
		{"both v0/peerEpoch differs", base, with(func(v *Vote) { v.PeerEpoch = 3 }), false},
		{"both v>0/peerEpoch differs", with(func(v *Vote) { v.Version = 2 }), with(func(v *Vote) { v.Version = 2; v.PeerEpoch = 3 }), false},
		{"both v0/id differs", base, with(func(v *Vote) { v.Leader = 1 }), false},
	}
	for _, tc := range tests {
		if got := tc.a.Equals(tc.b); got != tc.want {
			t.Errorf("%s: %+v.Equals(%+v) = %v, want %v", tc.name, tc.a, tc.b, got, tc.want)
		}
		// Java's Vote.equals is symmetric (LOOKING "or", version "xor").
		if got := tc.b.Equals(tc.a); got != tc.want {
			t.Errorf("%s (reversed): %+v.Equals(%+v) = %v, want %v", tc.name, tc.b, tc.a, got, tc.want)
		}
	}
}

func TestVoteSetSortedAndClear(t *testing.T) {
	var s VoteSet
	for _, sid := range []int64{4, 1, 3, 1, 0} {
		s.Put(sid, Vote{Leader: sid * 10})
	}
	if s.Len() != 4 {
		t.Fatalf("Len = %d, want 4", s.Len())
	}
	var order []int64
	for _, e := range s.entries {
		order = append(order, e.sid)
	}
	if !slices.Equal(order, []int64{0, 1, 3, 4}) {
		t.Errorf("entries not sorted by sid: %v", order)
	}
	if v, ok := s.Get(3); !ok || v.Leader != 30 {
		t.Errorf("Get(3) = %v, %v", v, ok)
	}
	if _, ok := s.Get(2); ok {
		t.Errorf("Get(2) found a vote")
	}
	s.Clear()
	if s.Len() != 0 {
		t.Errorf("Len after Clear = %d", s.Len())
	}
	if _, ok := s.Get(3); ok {
		t.Errorf("Get(3) after Clear found a vote")
	}
	if ServerState(2).String() != "LEADING" || ServerState(9).String() != "ServerState(9)" {
		t.Errorf("ServerState.String: %q %q", ServerState(2), ServerState(9))
	}
}

func TestCheckLeader(t *testing.T) {
	// FLE-S-01 (FLEBackwardElectionRoundTest): peer 0 of {0,1,2}; mocks 1 and 2 send
	// FOLLOWING(leader 0, zxid 0x0, electionEpoch 1, peerEpoch 1).
	qv := NewQuorumMaj(0, 1, 2)
	n := Vote{Version: 2, Leader: 0, Zxid: 0, ElectionEpoch: 1, PeerEpoch: 1, State: FOLLOWING}
	var recvset, outofelection VoteSet
	for _, sid := range []int64{1, 2} {
		stored := n
		stored.Version = 0 // recvset stores version 0 (d.5)
		recvset.Put(sid, stored)
		outofelection.Put(sid, n) // outofelection stores n.version
	}
	if !recvset.HasQuorumFor(qv, n) || !outofelection.HasQuorumFor(qv, n) {
		t.Fatalf("FLE-S-01: {1,2} must be a quorum for leader 0")
	}
	for _, tc := range []struct {
		logicalclock int64
		want         bool
	}{{1, true}, {2, false}, {0, false}} {
		for _, vs := range []*VoteSet{&recvset, &outofelection, {}} {
			if got := CheckLeader(vs, 0, 1, 0, tc.logicalclock); got != tc.want {
				t.Errorf("FLE-S-01: CheckLeader(leader 0 == myid, electionEpoch 1, logicalclock %d) = %v, want %v",
					tc.logicalclock, got, tc.want)
			}
		}
	}

	// leader != myid: votes[leader] must exist and be LEADING; logicalclock plays no part.
	const myID = 2
	follow := Vote{Leader: 1, Zxid: 0, ElectionEpoch: 1, PeerEpoch: 0, State: FOLLOWING}
	lead := follow
	lead.State = LEADING
	var noLeader, leaderFollowing, leaderLooking, leaderLeading VoteSet
	noLeader.Put(0, follow)
	noLeader.Put(2, follow)
	leaderFollowing.Put(0, follow)
	leaderFollowing.Put(1, follow)
	leaderLooking.Put(0, follow)
	leaderLooking.Put(1, Vote{Leader: 1, ElectionEpoch: 1, State: LOOKING})
	leaderLeading.Put(0, follow)
	leaderLeading.Put(1, lead)
	tests := []struct {
		name  string
		votes *VoteSet
		lc    int64
		want  bool
	}{
		{"no vote from leader", &noLeader, 1, false},
		{"nil set", nil, 1, false},
		{"leader's vote FOLLOWING", &leaderFollowing, 1, false},
		{"leader's vote LOOKING", &leaderLooking, 1, false},
		{"leader's vote LEADING", &leaderLeading, 1, true},
		{"leader's vote LEADING, logicalclock differs", &leaderLeading, 7, true},
	}
	for _, tc := range tests {
		if got := CheckLeader(tc.votes, 1, 1, myID, tc.lc); got != tc.want {
			t.Errorf("%s: CheckLeader(leader 1, myid %d) = %v, want %v", tc.name, myID, got, tc.want)
		}
	}
}

// ZOOKEEPER-1419's predicate (the mutant) is not a total order: FLEPredicateTest's case,
// (id 4, zxid 0, epoch 0) against (id 3, zxid 0, epoch 2), beats in both directions, while
// 3.8's lets only the higher epoch win.
func TestTotalOrderPredicate1419HasCycles(t *testing.T) {
	qm := NewQuorumMaj(1, 2, 3, 4, 5)
	if TotalOrderPredicate(qm, 4, 0, 0, 3, 0, 2) || !TotalOrderPredicate(qm, 3, 0, 2, 4, 0, 0) {
		t.Errorf("3.8's predicate: (3, epoch 2) must beat (4, epoch 0), not the other way")
	}
	if !TotalOrderPredicate1419(qm, 4, 0, 0, 3, 0, 2) || !TotalOrderPredicate1419(qm, 3, 0, 2, 4, 0, 0) {
		t.Errorf("the ZK-1419 predicate: each of (4, epoch 0) and (3, epoch 2) must beat the other")
	}
}

// QuorumMaj counts distinct voters however large the set: the bitset of a large ack set,
// the sort beyond its range, and the small set's scan agree.
func TestQuorumMajLargeSets(t *testing.T) {
	var voters []int64
	for sid := int64(1); sid <= 99; sid++ {
		voters = append(voters, sid)
	}
	voters = append(voters, 5000) // a sid beyond the bitset
	q := NewQuorumMaj(voters...)  // 100 voters: a quorum is 51
	seq := func(from, to int64) []int64 {
		var s []int64
		for sid := from; sid <= to; sid++ {
			s = append(s, sid)
		}
		return s
	}
	for _, tc := range []struct {
		name string
		sids []int64
		want bool
	}{
		{"50 voters", seq(1, 50), false},
		{"51 voters", seq(1, 51), true},
		{"50 voters, each twice", append(seq(1, 50), seq(1, 50)...), false},
		{"50 voters and non-voters", append(seq(1, 50), 100, 101, 102, 0, -1), false},
		{"50 voters and the far one", append(seq(1, 50), 5000), true},
		{"the far one twice and 49", append(seq(1, 49), 5000, 5000), false},
		{"a negative sid and 51", append(seq(1, 51), -7), true},
	} {
		if got := q.ContainsQuorum(tc.sids); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	small := NewQuorumMaj(1, 2, 3, 4, 5)
	if small.ContainsQuorum([]int64{1, 1, 2, 2}) || !small.ContainsQuorum([]int64{1, 2, 2, 3}) {
		t.Error("small sets: repeats must count once")
	}
}

// An election's vote set counts its acks in one scratch array from the first vote on: a
// server counts after every notification, and growing the array from one entry made three
// more allocations per election round (1% of an explored schedule's).
func TestHasQuorumForCountsInOneArray(t *testing.T) {
	qv := NewQuorumMaj(1, 2, 3, 4, 5)
	v := Vote{Leader: 5, Zxid: MakeZxid(1, 3), ElectionEpoch: 2, PeerEpoch: 1}
	var quorum []bool
	allocs := testing.AllocsPerRun(10, func() {
		var set VoteSet
		quorum = quorum[:0]
		for sid := int64(1); sid <= 5; sid++ {
			set.Put(sid, v)
			quorum = append(quorum, set.HasQuorumFor(qv, v))
		}
	})
	if want := []bool{false, false, true, true, true}; !slices.Equal(quorum, want) {
		t.Fatalf("quorum after each vote %v, want %v", quorum, want)
	}
	if allocs > 2 { // the entries, the acks
		t.Errorf("%v allocations for five votes and five counts, want 2", allocs)
	}
}

// IsVoter answers from a bitmask for sids below 64 and from the sorted list above: both
// agree with plain membership, at the mask's edges (0, 63, 64) and beyond it.
func TestQuorumMajIsVoter(t *testing.T) {
	for _, voters := range [][]int64{{1, 2, 3}, {0, 63, 64, 65}, {-3, 5, 62, 200, 5000}, {7}} {
		q := NewQuorumMaj(voters...)
		for sid := int64(-5); sid <= 210; sid++ {
			if got, want := q.IsVoter(sid), slices.Contains(voters, sid); got != want {
				t.Errorf("voters %v: IsVoter(%d) = %v", voters, sid, got)
			}
		}
		if !q.IsVoter(voters[len(voters)-1]) || q.IsVoter(1<<40) {
			t.Errorf("voters %v: the last voter or a far sid answered wrongly", voters)
		}
	}
}
