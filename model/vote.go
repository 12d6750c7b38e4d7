package model

import (
	"fmt"
	"slices"
	"strconv"
)

// This file holds the pure decision pieces of ZooKeeper 3.8's FastLeaderElection: Vote.equals,
// the quorum verifiers FLE consults (QuorumMaj, QuorumHierarchical), totalOrderPredicate,
// getVoteTracker(...).hasAllQuorums() and checkLeader. Nothing here ranges over a Go map.

// ServerState is QuorumPeer.ServerState with the wire codes of FLE notifications
// (FastLeaderElection.Messenger.WorkerReceiver.run: 0 LOOKING, 1 FOLLOWING, 2 LEADING, 3 OBSERVING).
type ServerState uint8

const (
	LOOKING   ServerState = 0
	FOLLOWING ServerState = 1
	LEADING   ServerState = 2
	OBSERVING ServerState = 3
)

var serverStateNames = [...]string{
	LOOKING: "LOOKING", FOLLOWING: "FOLLOWING", LEADING: "LEADING", OBSERVING: "OBSERVING",
}

// String returns the Java enum constant name ("LOOKING", ...).
func (s ServerState) String() string {
	if int(s) < len(serverStateNames) {
		return serverStateNames[s]
	}
	return "ServerState(" + strconv.Itoa(int(s)) + ")"
}

// Vote mirrors quorum/Vote.java.
type Vote struct {
	Version       int32
	Leader        int64 // proposed leader sid (Long.MIN_VALUE for an observer's initial vote)
	Zxid          Zxid
	ElectionEpoch int64
	PeerEpoch     int64
	State         ServerState
}

// String mirrors Vote.toString: "(id, Long.toHexString(zxid), Long.toHexString(peerEpoch))".
func (v Vote) String() string {
	return fmt.Sprintf("(%d, %x, %x)", v.Leader, uint64(v.Zxid), uint64(v.PeerEpoch))
}

// Equals mirrors Vote.equals exactly:
//  1. if either vote is LOOKING: id, zxid, electionEpoch and peerEpoch must all match;
//  2. else if exactly one of the two has version > 0 (ZOOKEEPER-1732 mixed ensemble): only id must match;
//  3. else id and peerEpoch must match; zxid and electionEpoch are ignored (ZOOKEEPER-1805).
//
// Every rule is symmetric in Java (the LOOKING test is an "or", the version test an "xor"), so
// Equals is symmetric too and the receiver/argument order of getVoteTracker's
// vote.equals(entry.getValue()) does not change any result.
func (v Vote) Equals(o Vote) bool {
	if v.State == LOOKING || o.State == LOOKING {
		return v.Leader == o.Leader && v.Zxid == o.Zxid &&
			v.ElectionEpoch == o.ElectionEpoch && v.PeerEpoch == o.PeerEpoch
	}
	if (v.Version > 0) != (o.Version > 0) {
		return v.Leader == o.Leader
	}
	return v.Leader == o.Leader && v.PeerEpoch == o.PeerEpoch
}

// QuorumVerifier mirrors quorum/flexible/QuorumVerifier for what FLE needs.
type QuorumVerifier interface {
	// Weight mirrors QuorumVerifier.getWeight (totalOrderPredicate rejects weight 0).
	Weight(sid int64) int64
	// IsVoter mirrors getVotingMembers().containsKey(sid) (SyncedLearnerTracker.addAck,
	// FastLeaderElection.validVoter).
	IsVoter(sid int64) bool
	// ContainsQuorum mirrors QuorumVerifier.containsQuorum over the set of sids (duplicates count once).
	ContainsQuorum(sids []int64) bool
}

// sortedUniqueSids returns a sorted copy of sids without duplicates (a Java Set<Long>).
func sortedUniqueSids(sids []int64) []int64 {
	out := slices.Clone(sids)
	slices.Sort(out)
	return slices.Compact(out)
}

// QuorumMaj mirrors quorum/flexible/QuorumMaj: a simple majority of the voting members.
type QuorumMaj struct {
	voters []int64 // sorted, unique
	half   int     // len(voters)/2, QuorumMaj.half
	low    uint64  // the voters below 64, one bit each: IsVoter is asked for every vote and ACK
}

// NewQuorumMaj builds a majority verifier over the given voting members (duplicates ignored).
func NewQuorumMaj(voters ...int64) *QuorumMaj {
	vs := sortedUniqueSids(voters)
	q := &QuorumMaj{voters: vs, half: len(vs) / 2}
	for _, sid := range vs {
		if sid >= 0 && sid < 64 {
			q.low |= 1 << sid
		}
	}
	return q
}

// Weight mirrors QuorumMaj.getWeight: 1 for any id, member or not.
func (q *QuorumMaj) Weight(sid int64) int64 { return 1 }

// IsVoter reports whether sid is a voting member.
func (q *QuorumMaj) IsVoter(sid int64) bool {
	if sid >= 0 && sid < 64 {
		return q.low>>sid&1 != 0
	}
	_, ok := slices.BinarySearch(q.voters, sid)
	return ok
}

// Voters returns a copy of the voting members, sorted by sid.
func (q *QuorumMaj) Voters() []int64 { return slices.Clone(q.voters) }

// ContainsQuorum mirrors QuorumMaj.containsQuorum (ackSet.size() > half) applied to the ack set
// SyncedLearnerTracker.addAck builds: only distinct voting members are counted.
func (q *QuorumMaj) ContainsQuorum(sids []int64) bool {
	if len(sids) > 16 {
		// A large ensemble's ack set, checked at every ACK: count each voter once in a
		// bitset on the stack rather than sort a copy.
		var seen [16]uint64
		n := 0
		for _, sid := range sids {
			if sid < 0 || sid >= int64(64*len(seen)) {
				return q.containsQuorumSorted(sids)
			}
			if w, b := sid/64, uint64(1)<<(sid%64); seen[w]&b == 0 && q.IsVoter(sid) {
				seen[w] |= b
				n++
			}
		}
		return n > q.half
	}
	n := 0
	for i, sid := range sids {
		// a few sids (an ack set of a small ensemble): skip repeats without a copy
		if q.IsVoter(sid) && !slices.Contains(sids[:i], sid) {
			n++
		}
	}
	return n > q.half
}

// containsQuorumSorted is ContainsQuorum for sids beyond the bitset's range.
func (q *QuorumMaj) containsQuorumSorted(sids []int64) bool {
	n := 0
	for _, sid := range sortedUniqueSids(sids) {
		if q.IsVoter(sid) {
			n++
		}
	}
	return n > q.half
}

// hierServer is one participant of a QuorumHierarchical config.
type hierServer struct {
	sid    int64
	group  int // index into QuorumHierarchical.groupWeight
	weight int64
}

// QuorumHierarchical mirrors quorum/flexible/QuorumHierarchical: servers in groups with
// per-server weights; a quorum is a majority (by weight) in more than half of the groups
// whose total weight is not zero.
type QuorumHierarchical struct {
	servers     []hierServer // sorted by sid
	groupWeight []int64      // total weight per group (computeGroupWeight), in constructor order
	numGroups   int          // groups with non-zero weight
}

// NewQuorumHierarchical builds the config "group.i=<groups[i]...>" with "weight.<sid>=<weights[sid]>".
// As QuorumHierarchical's parser does, a participant without a weight line gets weight 1, and a
// sid listed in two groups is a config error. Weights of sids in no group are ignored. The map is
// only read by key, never ranged over.
func NewQuorumHierarchical(groups [][]int64, weights map[int64]int64) (*QuorumHierarchical, error) {
	q := &QuorumHierarchical{groupWeight: make([]int64, len(groups))}
	for gi, members := range groups {
		for _, sid := range members {
			if _, dup := q.find(sid); dup {
				return nil, fmt.Errorf("QuorumHierarchical: server %d is in more than one group", sid)
			}
			w, ok := weights[sid]
			if !ok {
				w = 1
			}
			i, _ := q.find(sid)
			q.servers = slices.Insert(q.servers, i, hierServer{sid: sid, group: gi, weight: w})
			q.groupWeight[gi] += w
		}
	}
	// computeGroupWeight: "Do not consider groups with weight zero".
	for _, gw := range q.groupWeight {
		if gw != 0 {
			q.numGroups++
		}
	}
	return q, nil
}

func (q *QuorumHierarchical) find(sid int64) (int, bool) {
	return slices.BinarySearchFunc(q.servers, sid, func(s hierServer, t int64) int {
		switch {
		case s.sid < t:
			return -1
		case s.sid > t:
			return 1
		}
		return 0
	})
}

// Weight mirrors QuorumHierarchical.getWeight (serverWeight.get(id)). Java would throw on an
// unknown id (unboxing null); here an unknown id has weight 0, so it can never win
// totalOrderPredicate.
func (q *QuorumHierarchical) Weight(sid int64) int64 {
	if i, ok := q.find(sid); ok {
		return q.servers[i].weight
	}
	return 0
}

// IsVoter reports whether sid is a participant (every participant is in exactly one group,
// including zero-weight ones).
func (q *QuorumHierarchical) IsVoter(sid int64) bool {
	_, ok := q.find(sid)
	return ok
}

// ContainsQuorum mirrors QuorumHierarchical.containsQuorum: sum the weights of the set per group
// (ids in no group are skipped), count the groups whose sum > groupWeight/2 (integer division,
// so a zero-weight group never counts), and require that count > numGroups/2.
func (q *QuorumHierarchical) ContainsQuorum(sids []int64) bool {
	set := sortedUniqueSids(sids)
	if len(set) == 0 {
		return false
	}
	expansion := make([]int64, len(q.groupWeight))
	for _, sid := range set {
		i, ok := q.find(sid)
		if !ok {
			continue
		}
		expansion[q.servers[i].group] += q.servers[i].weight
	}
	majGroupCounter := 0
	for gi, w := range expansion {
		if w > q.groupWeight[gi]/2 {
			majGroupCounter++
		}
	}
	return majGroupCounter > q.numGroups/2
}

// TotalOrderPredicate mirrors FastLeaderElection.totalOrderPredicate: false if the new candidate
// has weight 0; otherwise true iff (newEpoch, newZxid, newID) is lexicographically greater than
// (curEpoch, curZxid, curID). Epochs are peerEpochs; all comparisons are on signed longs.
func TotalOrderPredicate(qv QuorumVerifier, newID int64, newZxid Zxid, newEpoch int64, curID int64, curZxid Zxid, curEpoch int64) bool {
	if qv.Weight(newID) == 0 {
		return false
	}
	return newEpoch > curEpoch ||
		(newEpoch == curEpoch && (newZxid > curZxid || (newZxid == curZxid && newID > curID)))
}

// TotalOrderPredicate1419 is totalOrderPredicate before ZOOKEEPER-1419 (6125ab947): its last
// clause compares the sids of equal zxids whatever the peerEpochs, so (pe 1, z, 5) beats
// (pe 2, z, 3) and (pe 2, z, 3) beats (pe 1, z, 5): the order has cycles.
func TotalOrderPredicate1419(qv QuorumVerifier, newID int64, newZxid Zxid, newEpoch int64, curID int64, curZxid Zxid, curEpoch int64) bool {
	if qv.Weight(newID) == 0 {
		return false
	}
	return newEpoch > curEpoch ||
		(newEpoch == curEpoch && newZxid > curZxid) ||
		(newZxid == curZxid && newID > curID)
}

// voteSetEntry is one sid -> Vote mapping of a VoteSet.
type voteSetEntry struct {
	sid  int64
	vote Vote
}

// VoteSet is a map sid -> Vote (FastLeaderElection's recvset / outofelection) kept as a slice
// sorted by sid, so iteration is deterministic. The zero value is an empty set.
type VoteSet struct {
	entries []voteSetEntry
	acks    []int64 // HasQuorumFor's scratch array
}

func (s *VoteSet) find(sid int64) (int, bool) {
	return slices.BinarySearchFunc(s.entries, sid, func(e voteSetEntry, t int64) int {
		switch {
		case e.sid < t:
			return -1
		case e.sid > t:
			return 1
		}
		return 0
	})
}

// Put sets the vote of sid, replacing any previous one (Map.put).
func (s *VoteSet) Put(sid int64, v Vote) {
	i, ok := s.find(sid)
	if ok {
		s.entries[i].vote = v
		return
	}
	if s.entries == nil {
		s.entries = make([]voteSetEntry, 0, 8) // a small ensemble's votes at once
	}
	s.entries = slices.Insert(s.entries, i, voteSetEntry{sid: sid, vote: v})
}

// Get returns the vote of sid (Map.get).
func (s *VoteSet) Get(sid int64) (Vote, bool) {
	if s == nil {
		return Vote{}, false
	}
	if i, ok := s.find(sid); ok {
		return s.entries[i].vote, true
	}
	return Vote{}, false
}

// Clear removes every vote (Map.clear).
func (s *VoteSet) Clear() { s.entries = s.entries[:0] }

// Len is the number of sids with a vote.
func (s *VoteSet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.entries)
}

// HasQuorumFor mirrors getVoteTracker(votes, vote).hasAllQuorums(): every sid whose stored vote
// satisfies vote.equals(stored) is acked (SyncedLearnerTracker.addAck keeps only voting members),
// and the acks must contain a quorum of qv. Only one verifier is modelled: the tracker's extra
// last-seen verifier (pending reconfig) is out of scope.
func (s *VoteSet) HasQuorumFor(qv QuorumVerifier, vote Vote) bool {
	if s == nil {
		return qv.ContainsQuorum(nil)
	}
	acks := s.acks[:0]
	if acks == nil {
		acks = make([]int64, 0, max(len(s.entries), 8)) // a small ensemble's acks at once, as entries
	}
	for _, e := range s.entries {
		if vote.Equals(e.vote) && qv.IsVoter(e.sid) {
			acks = append(acks, e.sid)
		}
	}
	s.acks = acks
	return qv.ContainsQuorum(acks)
}

// SidsFor lists the voters whose vote equals vote, in sid order: the quorum that
// HasQuorumFor counted (for the trace's explanation of a decision).
func (s *VoteSet) SidsFor(qv QuorumVerifier, vote Vote) []int64 {
	var sids []int64
	for _, e := range s.entries {
		if vote.Equals(e.vote) && qv.IsVoter(e.sid) {
			sids = append(sids, e.sid)
		}
	}
	return sids
}

// CheckLeader mirrors FastLeaderElection.checkLeader: if leader != myID, votes must hold a vote
// from leader in LEADING state; if leader == myID, logicalclock must equal electionEpoch.
func CheckLeader(votes *VoteSet, leader int64, electionEpoch int64, myID int64, logicalclock int64) bool {
	if leader != myID {
		v, ok := votes.Get(leader)
		return ok && v.State == LEADING
	}
	return logicalclock == electionEpoch
}
