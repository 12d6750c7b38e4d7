package model

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/zabsim/zabsim/sim"
)

// Config is an ensemble's configuration, with ZooKeeper's option names and defaults.
// Timing defaults are those of conf/zoo_sample.cfg (tickTime 2000, initLimit 10, syncLimit 5).
type Config struct {
	Servers   int // voting members, sids 1..Servers
	Observers int // observers, sids Servers+1..Servers+Observers
	// InitialVoters, if set, is the voter list every server's configuration starts with
	// (default: 1..Servers). Servers outside it exist but are not voters until a server's
	// configuration is changed with Server.Reconfigure and the server restarted, as an
	// operator grows an ensemble by rolling restarts.
	InitialVoters []int64

	TickTime  sim.Time // tickTime
	InitLimit int      // initLimit, in ticks
	SyncLimit int      // syncLimit, in ticks

	// CommitLogCount is zookeeper.commitLogCount: the committedLog keeps CommitLogCount+1
	// proposals (ZKDatabase trims before it appends). ZooKeeper raises anything below 500 to
	// 500; SmallCommitLog is the teaching opt-out that keeps a smaller value.
	CommitLogCount int
	SmallCommitLog bool
	// SnapshotSizeFactor is zookeeper.snapshotSizeFactor: the on-disk txn log is used for a
	// sync when its files total at most this fraction of the latest snapshot's size. Negative
	// disables it; above 1 is reset to 0.33.
	SnapshotSizeFactor float64
	// SnapCount is zookeeper.snapCount: a snapshot (and a new log file) once more than
	// SnapCount/2 + randRoll txns were logged since the last one, randRoll drawn from
	// [0, SnapCount/2) when the processor starts and after each snapshot
	// (SyncRequestProcessor.shouldSnapshot).
	SnapCount int
	// PreAllocSize is zookeeper.preAllocSize in KiB: FilePadding grows a txn log file in
	// blocks of this size, and the files' lengths are what snapshotSizeFactor compares.
	// 0 is the default, 65536 (64 MiB); negative is ZooKeeper's 0: no padding.
	PreAllocSize int64
	// ForceSnapshotSync is zookeeper.forceSnapshotSync.
	ForceSnapshotSync bool
	// SeedsSyncRule is a teaching opt-out: the leader decides syncs by the seed notes'
	// textbook rule (SeedsSyncFollower) instead of ZooKeeper's syncFollower.
	SeedsSyncRule bool

	FinalizeWait              sim.Time // FastLeaderElection.finalizeWait, 200ms
	MaxNotificationInterval   sim.Time // zookeeper.fastleader.maxNotificationInterval, 60s
	ObserverElectionDelayMax  sim.Time // zookeeper.observer.election.DelayMs, 200ms
	LeaderConnectDelay        sim.Time // zookeeper.leaderConnectDelayDuringRetryMs, 100ms
	CnxTimeout                sim.Time // zookeeper.cnxTimeout: election connect timeout, 5s
	MinSessionTimeout         sim.Time // minSessionTimeout, default 2*tickTime
	MaxSessionTimeout         sim.Time // maxSessionTimeout, default 20*tickTime
	GlobalOutstandingRequests int      // not modelled yet; reserved

	// Mutants switch known ZooKeeper bugs back on (see mutants.go).
	Mutants Mutants
	// Fixes switch on proposed fixes for the problems of README "Findings" (not ZooKeeper:
	// each is a hypothesis to test with explore).
	Fixes Fixes

	// Warnings lists what Normalize clamped, in ZooKeeper's words.
	Warnings []string
}

// MaxMillis is the longest time ZooKeeper can hold: a Java int of milliseconds (24.8 days).
// Its settings, and the timeouts it derives from them, are never above it.
const MaxMillis = sim.Time(1<<31-1) * sim.Millisecond

// DefaultConfig is a 3-server ensemble with the sample configuration.
func DefaultConfig() Config {
	return Config{Servers: 3}
}

// Normalize fills defaults and clamps values exactly where ZooKeeper does, recording a
// warning for each clamp. It returns an error for values ZooKeeper refuses.
func (c *Config) Normalize() error {
	if c.Servers < 1 {
		return fmt.Errorf("servers=%d: an ensemble needs at least one voting server", c.Servers)
	}
	if c.Observers < 0 {
		return fmt.Errorf("observers=%d: must not be negative", c.Observers)
	}
	for _, v := range c.InitialVoters {
		if v < 1 || v > int64(c.Servers) {
			return fmt.Errorf("voters: %d is not one of the voting servers 1..%d", v, c.Servers)
		}
	}
	if c.Servers+c.Observers >= 1000 {
		return fmt.Errorf("servers+observers=%d: zabsim supports at most 999 servers", c.Servers+c.Observers)
	}
	if c.TickTime == 0 {
		c.TickTime = 2 * sim.Second
	}
	if c.TickTime < sim.Millisecond || c.TickTime > MaxMillis {
		return fmt.Errorf("tickTime=%s: must be from 1ms to %s (ZooKeeper's int milliseconds)", c.TickTime, MaxMillis)
	}
	if c.InitLimit == 0 {
		c.InitLimit = 10
	}
	if c.SyncLimit == 0 {
		c.SyncLimit = 5
	}
	if c.InitLimit < 0 || c.SyncLimit < 0 {
		return fmt.Errorf("initLimit=%d syncLimit=%d: must be positive", c.InitLimit, c.SyncLimit)
	}
	// ZooKeeper multiplies them by tickTime in int milliseconds (Leader, Learner): a product
	// beyond that would overflow there, and every timer the model derives from them here.
	for _, l := range []struct {
		name string
		n    int
	}{{"initLimit", c.InitLimit}, {"syncLimit", c.SyncLimit}} {
		if sim.Time(l.n) > MaxMillis/c.TickTime {
			return fmt.Errorf("%s=%d x tickTime=%s: the product must be at most %s (ZooKeeper's int milliseconds)", l.name, l.n, c.TickTime, MaxMillis)
		}
	}
	// ZKDatabase: "commitLogCount is less than 500, using default 500" (it can only be raised).
	if c.CommitLogCount == 0 {
		c.CommitLogCount = 500
	} else if c.CommitLogCount < 500 && !c.SmallCommitLog {
		c.Warnings = append(c.Warnings, "commitLogCount="+strconv.Itoa(c.CommitLogCount)+" is less than 500, using default 500 (name smallCommitLog=true to keep it, for teaching)")
		c.CommitLogCount = 500
	}
	if c.CommitLogCount < 1 {
		return fmt.Errorf("commitLogCount=%d: must be at least 1", c.CommitLogCount)
	}
	// ZKDatabase: a factor above 1 is reset to the default 0.33.
	if math.IsNaN(c.SnapshotSizeFactor) || math.IsInf(c.SnapshotSizeFactor, 0) {
		return fmt.Errorf("snapshotSizeFactor=%v: must be a finite number", c.SnapshotSizeFactor)
	}
	if c.SnapshotSizeFactor == 0 {
		c.SnapshotSizeFactor = 0.33
	} else if c.SnapshotSizeFactor > 1 {
		c.Warnings = append(c.Warnings, "snapshotSizeFactor="+strconv.FormatFloat(c.SnapshotSizeFactor, 'g', -1, 64)+" is bigger than 1, using default 0.33")
		c.SnapshotSizeFactor = 0.33
	}
	if c.SnapCount == 0 {
		c.SnapCount = 100000
	}
	if c.SnapCount < 2 {
		// SyncRequestProcessor.setSnapCount: values below 2 are raised to 2.
		c.Warnings = append(c.Warnings, "snapCount="+strconv.Itoa(c.SnapCount)+" is less than 2, using 2")
		c.SnapCount = 2
	}
	if c.PreAllocSize == 0 {
		c.PreAllocSize = DefaultPreAllocSize
	}
	if c.PreAllocSize > 1<<40 {
		return fmt.Errorf("preAllocSize=%d: at most %d KiB", c.PreAllocSize, int64(1)<<40)
	}
	if c.FinalizeWait == 0 {
		c.FinalizeWait = 200 * sim.Millisecond
	}
	if c.MaxNotificationInterval == 0 {
		c.MaxNotificationInterval = 60 * sim.Second
	}
	if c.ObserverElectionDelayMax == 0 {
		c.ObserverElectionDelayMax = 200 * sim.Millisecond
	}
	if c.LeaderConnectDelay == 0 {
		c.LeaderConnectDelay = 100 * sim.Millisecond
	}
	if c.CnxTimeout == 0 {
		c.CnxTimeout = 5 * sim.Second
	}
	minDefault, maxDefault := "", ""
	if c.MinSessionTimeout == 0 {
		c.MinSessionTimeout = 2 * c.TickTime
		minDefault = " (2 x tickTime, the default)"
	}
	if c.MaxSessionTimeout == 0 {
		c.MaxSessionTimeout = 20 * c.TickTime
		maxDefault = " (20 x tickTime, the default)"
	}
	// Below 1ms a client's ping interval (a third of the timeout) rounds to nothing.
	for _, t := range []struct {
		name string
		v    sim.Time
	}{{"minSessionTimeout", c.MinSessionTimeout}, {"maxSessionTimeout", c.MaxSessionTimeout}} {
		if t.v < sim.Millisecond {
			return fmt.Errorf("%s=%s: must be at least 1ms", t.name, t.v)
		}
	}
	// QuorumPeerConfig: "minSessionTimeout must not be larger than maxSessionTimeout".
	if c.MinSessionTimeout > c.MaxSessionTimeout {
		return fmt.Errorf("minSessionTimeout=%s%s is larger than maxSessionTimeout=%s%s: ZooKeeper refuses that",
			c.MinSessionTimeout, minDefault, c.MaxSessionTimeout, maxDefault)
	}
	return nil
}

// Voters are the sids of the voting members in the initial configuration.
func (c *Config) Voters() []int64 {
	if len(c.InitialVoters) > 0 {
		return slices.Clone(c.InitialVoters)
	}
	v := make([]int64, c.Servers)
	for i := range v {
		v[i] = int64(i + 1)
	}
	return v
}

// IsObserver reports whether sid is an observer.
func (c *Config) IsObserver(sid int64) bool {
	return sid > int64(c.Servers) && sid <= int64(c.Servers+c.Observers)
}

// SyncLimitTime is syncLimit*tickTime; InitLimitTime is initLimit*tickTime.
func (c *Config) SyncLimitTime() sim.Time { return sim.Time(c.SyncLimit) * c.TickTime }
func (c *Config) InitLimitTime() sim.Time { return sim.Time(c.InitLimit) * c.TickTime }

// Mutants are switches that put known ZooKeeper bugs back (zab/bugs.md), each as the fix
// diff in ZooKeeper's history shows the code before it. All off is 3.8.6.
type Mutants struct {
	// EpochBeforePersist (ZK-4643, 3.8.0-3.8.4): at NEWLEADER the follower writes
	// currentEpoch before the synced txns are on disk (ZOOKEEPER-4785's fix, 34f292924, moved
	// setCurrentEpoch after getZKDatabase().commit()).
	EpochBeforePersist bool
	// AckLdBeforeFlush (ZK-4646, 3.5.9/3.6.3-3.8.4): at NEWLEADER the follower hands the synced
	// txns to the asynchronous SyncRequestProcessor (fzk.logRequest) and ACKs NEWLEADER without
	// waiting for their fsync (the fix: appendRequest, then commit(), then the ACK).
	AckLdBeforeFlush bool
	// AckProposalBeforeAckLd (ZK-4685, 3.5.9/3.6.3-3.8.4): the follower's ACKs of the txns
	// synced before NEWLEADER reach the leader before its NEWLEADER ACK, as when the
	// SyncRequestProcessor's fsync won the race with the learner thread; the leader reads the
	// first as the NEWLEADER ACK "from a different epoch" and gives up after initLimit (the
	// fix sends them after the UPTODATE ack, from requestsToAck).
	AckProposalBeforeAckLd bool
	// PersistAfterUptodate (ZK-3911, 3.4.10/3.5.3-3.5.8/3.6.2): a DIFF-synced follower logs
	// the synced txns only after UPTODATE, yet ACKs NEWLEADER at once (the fix, 31032cf98, logs
	// them at NEWLEADER, before the ACK).
	PersistAfterUptodate bool
	// NoFastForward (ZK-2845): a server that leaves LEADING/FOLLOWING keeps its in-memory
	// database as it was instead of replaying its txn log into it.
	NoFastForward bool
	// NoTruncInsideCacheRange (ZK-1154, before 3.3.4): a peer whose zxid the leader never had
	// but that lies inside the leader's history gets DIFF, not TRUNC to the txn before it.
	NoTruncInsideCacheRange bool
	// TruncOffByOne (ZK-1156, before 3.3.4): FileTxnLog.truncate(z) cuts one txn too many,
	// z itself (a byte count that skipped 0x00 bytes).
	TruncOffByOne bool
	// KeepPartialSnap (ZK-3642, before 3.5.10/3.6.3): a learner that loses its leader in the
	// middle of a SNAP sync keeps the snapshot it has only in memory (no full shutdown).
	KeepPartialSnap bool
	// EpochFromLastZxid (ZK-335, before 3.4.0): the leader takes its new epoch as the epoch of
	// its own last zxid plus one, and nobody keeps an acceptedEpoch: two leaders in a row
	// that never committed in their epoch reuse it (Zab 1.0, 776db7808 in 3.4.0, added getEpochToPropose
	// over the learners' acceptedEpoch files).
	EpochFromLastZxid bool
	// VoteOrderNotTotal (ZK-1419, before 3.4.4): totalOrderPredicate compares the sids of two
	// votes with equal zxids whatever their peerEpochs, so the order has cycles (6125ab947 in 3.4.4).
	VoteOrderNotTotal bool
	// DiffSetsLastProcessed (ZK-2355, before 3.4.11/3.5.4): a learner sets lastProcessedZxid to
	// the DIFF packet's zxid before it has the txns of the DIFF (1789e0d6f in 3.4.11 set it for SNAP and
	// TRUNC only).
	DiffSetsLastProcessed bool
	// StaleElectionVote (ZK-1732, before 3.4.6/3.5.0): a server that starts leading or
	// following keeps the peerEpoch of the election in its vote instead of the epoch it joined
	// (QuorumPeer.updateElectionVote, 42dea0dcf in 3.4.6), so the votes an established ensemble reports
	// to a newcomer can disagree.
	StaleElectionVote bool
}

// MutantNames lists the mutants by the ZooKeeper issue that fixed them.
var MutantNames = []string{"ZK-4643", "ZK-2845", "ZK-1154", "ZK-1156", "ZK-3642",
	"ZK-4646", "ZK-4685", "ZK-3911", "ZK-335", "ZK-1419", "ZK-2355", "ZK-1732"}

// Set switches the mutant called name (a ZooKeeper issue, "ZK-4643") on.
func (m *Mutants) Set(name string) error {
	switch name {
	case "ZK-4643", "EpochBeforePersist":
		m.EpochBeforePersist = true
	case "ZK-4785": // 3.8.0-3.8.4's NEWLEADER as the model runs it: 4643 and 4646 together
		m.EpochBeforePersist, m.AckLdBeforeFlush = true, true
	case "ZK-4646", "AckLdBeforeFlush":
		m.AckLdBeforeFlush = true
	case "ZK-4685", "AckProposalBeforeAckLd":
		m.AckProposalBeforeAckLd = true
	case "ZK-3911", "PersistAfterUptodate":
		m.PersistAfterUptodate = true
	case "ZK-2845", "NoFastForward":
		m.NoFastForward = true
	case "ZK-1154", "NoTruncInsideCacheRange":
		m.NoTruncInsideCacheRange = true
	case "ZK-1156", "TruncOffByOne":
		m.TruncOffByOne = true
	case "ZK-3642", "KeepPartialSnap":
		m.KeepPartialSnap = true
	case "ZK-335", "EpochFromLastZxid":
		m.EpochFromLastZxid = true
	case "ZK-1419", "VoteOrderNotTotal":
		m.VoteOrderNotTotal = true
	case "ZK-2355", "DiffSetsLastProcessed":
		m.DiffSetsLastProcessed = true
	case "ZK-1732", "StaleElectionVote":
		m.StaleElectionVote = true
	default:
		return fmt.Errorf("unknown mutant %q (known: %v)", name, MutantNames)
	}
	return nil
}

// Fixes are proposed fixes for 3.8.6 behaviours that lose or invent data (README
// "Findings"). All off is 3.8.6. None is ZooKeeper's code: each is the smallest change that
// removes the cause the simulator points at, so that `zabsim explore --fix` can test it.
type Fixes struct {
	// DropSnapshotsOnTrunc (dirty-snapshot-trunc, ZOOKEEPER-1549): truncateLog also deletes
	// the snapshots above the truncation point, so the reload cannot bring a txn back.
	DropSnapshotsOnTrunc bool
	// KeepOwnProposals (stale-ack-trunc): a learner whose zxid is above maxCommittedLog but
	// is one of this leader's own proposals of this epoch holds a prefix of the leader's log,
	// so syncFollower sends DIFF from it instead of TRUNC to maxCommittedLog; the ACK it gave
	// stays true.
	KeepOwnProposals bool
	// CleanLogOnSnap (zk-2846, ZOOKEEPER-2846): a learner synced by SNAP starts a new log file
	// and, once the snapshot is on disk (the NEWLEADER fsync), deletes the older files, so its
	// log never has a hole; and a snapCount snapshot never rewrites a snapshot of the same
	// name in place (a learner whose NEWLEADER txns are not applied yet would rewrite its
	// SNAP's snapshot, and a crash before the fsync lose it: pc-63147-fixes).
	CleanLogOnSnap bool
	// UpdatingEpochMarker (zk-1653, ZOOKEEPER-1653): branch-3.4's fix, never in 3.5+. A
	// learner writes an updatingEpoch marker before NEWLEADER's snapshot and removes it
	// once currentEpoch is written; loadDataBase, finding the marker and a last zxid of a
	// newer epoch, takes that epoch instead of refusing to start.
	UpdatingEpochMarker bool
	// StepDownForNewerEpoch (liveness-epoch-ahead): a leader whose epoch is decided steps
	// down when a voter's FOLLOWERINFO carries an acceptedEpoch at or above it. 3.8 answers
	// LEADERINFO(epoch) and the learner refuses it ("Leaders epoch, N is less than accepted
	// epoch, M") on every try for as long as the leader lasts; after the step-down the next
	// election proposes an epoch above every acceptedEpoch, as Raft's leaders step down on
	// a higher term.
	StepDownForNewerEpoch bool
}

// FixNames lists the fixes by the finding they address.
var FixNames = []string{"ZK-1549", "stale-ack", "ZK-2846", "ZK-1653", "epoch-ahead"}

// Has reports whether the fix called name is on (false for an unknown name).
func (f Fixes) Has(name string) bool {
	var one Fixes
	if one.Set(name) != nil {
		return false
	}
	return one.DropSnapshotsOnTrunc && f.DropSnapshotsOnTrunc || one.KeepOwnProposals && f.KeepOwnProposals ||
		one.CleanLogOnSnap && f.CleanLogOnSnap || one.UpdatingEpochMarker && f.UpdatingEpochMarker ||
		one.StepDownForNewerEpoch && f.StepDownForNewerEpoch
}

// Set switches the fix called name on ("all": every one).
func (f *Fixes) Set(name string) error {
	switch name {
	case "all":
		f.DropSnapshotsOnTrunc, f.KeepOwnProposals, f.CleanLogOnSnap, f.UpdatingEpochMarker = true, true, true, true
		f.StepDownForNewerEpoch = true
	case "ZK-1549", "dirty-snapshot", "DropSnapshotsOnTrunc":
		f.DropSnapshotsOnTrunc = true
	case "stale-ack", "KeepOwnProposals":
		f.KeepOwnProposals = true
	case "ZK-2846", "CleanLogOnSnap":
		f.CleanLogOnSnap = true
	case "ZK-1653", "UpdatingEpochMarker":
		f.UpdatingEpochMarker = true
	case "epoch-ahead", "StepDownForNewerEpoch":
		f.StepDownForNewerEpoch = true
	default:
		return fmt.Errorf("unknown fix %q (known: %v, or all)", name, FixNames)
	}
	return nil
}
