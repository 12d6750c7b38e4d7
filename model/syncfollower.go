package model

import (
	"slices"
	"sort"
)

// The leader's sync decision: a transcription of ZooKeeper 3.8's LearnerHandler.syncFollower and
// LearnerHandler.queueCommittedProposals (quorum/LearnerHandler.java, unchanged from 3.8.0 to
// 3.8.6), branch for branch and in the same order. Zxid is a signed int64, so every comparison
// below is the comparison Java makes on longs. See zab/zookeeper-3.8.md, section a.

// SyncInput is what LearnerHandler.syncFollower reads from the leader's ZKDatabase.
type SyncInput struct {
	PeerLastZxid      Zxid
	LastProcessedZxid Zxid       // db.getDataTreeLastProcessedZxid()
	CommittedLog      []Proposal // ZKDatabase.committedLog, oldest first
	TxnLogSyncEnabled bool       // snapshotSizeFactor >= 0 (ZKDatabase.isTxnLogSyncEnabled)
	// TxnLog stands for db.getProposalsFromTxnLog(peerLastZxid, calculateTxnLogSizeLimit()):
	// the proposals of the on-disk log from the start of the file that may hold startZxid, or
	// nil for an empty iterator. May be nil when TxnLogSyncEnabled is false.
	TxnLog        func(startZxid Zxid) []Proposal
	ForceSnapSync bool // zookeeper.forceSnapshotSync
	// NoTruncInsideCacheRange is the ZK-1154 mutant (Mutants.NoTruncInsideCacheRange).
	NoTruncInsideCacheRange bool
}

// SyncDecision is what syncFollower decided, with the values it decided on.
type SyncDecision struct {
	NeedSnap     bool
	Mode         string         // "DIFF", "TRUNC", "TRUNC+DIFF" or "SNAP"
	Queued       []QuorumPacket // queuedPackets after syncFollower: op packet and PROPOSAL/COMMIT pairs (empty when NeedSnap)
	CurrentZxid  Zxid           // the zxid passed to Leader.startForwarding
	MinCommitted Zxid           // effective minCommittedLog (lastProcessedZxid when the committedLog is empty)
	MaxCommitted Zxid           // effective maxCommittedLog
	Branch       string         // which branch decided, same wording as the vectors' "branch" field
}

// FixBranchOwnProposals is the branch of a decision that Fixes.KeepOwnProposals changed
// from TRUNC to DIFF (not ZooKeeper).
const FixBranchOwnProposals = "fix: the peer holds this leader's own proposals -> DIFF, not TRUNC"

// Sync modes, as SyncDecision.Mode and the vectors' "outcome" spell them.
const (
	syncModeDIFF      = "DIFF"
	syncModeTRUNC     = "TRUNC"
	syncModeTRUNCDIFF = "TRUNC+DIFF"
	syncModeSNAP      = "SNAP"
)

// Branch names, in the order syncFollower tests them. The wording of the ones that
// LearnerHandlerTest reaches is the vectors' "branch" field; forceSnapSync and the needOpPacket
// fallback are not reached by that test and are named here.
const (
	syncBranchForceSnap      = "forceSnapSync -> snap"                               // 1
	syncBranchInSync         = "in-sync (lastProcessedZxid == peerLastZxid)"         // 2
	syncBranchPeerAhead      = "peer ahead of maxCommittedLog"                       // 3
	syncBranchCommittedLog   = "within committedLog"                                 // 4
	syncBranchTxnLog         = "txnlog+committedLog"                                 // 5
	syncBranchTxnLogGap      = "txnlog+committedLog (gap detected -> snap)"          // 5, currentZxid < minCommittedLog
	syncBranchTxnLogEmpty    = "txnlog+committedLog (txnlog iterator empty -> snap)" // 5, !txnLogItr.hasNext()
	syncBranchUnhandled      = "unhandled -> snap"                                   // 6
	syncBranchNeedOpFallback = " (needOpPacket fallback -> snap)"                    // suffix: needOpPacket && !needSnap
)

// learnerHandlerSync is the part of a LearnerHandler that syncFollower touches: the
// needOpPacket instance field ("no DIFF/TRUNC queued yet", initially true) and queuedPackets.
type learnerHandlerSync struct {
	needOpPacket       bool
	queuedPackets      []QuorumPacket
	noTruncInsideRange bool // the ZK-1154 mutant
}

// SyncFollower runs LearnerHandler.syncFollower(peerLastZxid, learnerMaster) on a fresh
// LearnerHandler (needOpPacket = true, empty queue) against the database state in in.
func SyncFollower(in SyncInput) SyncDecision {
	lh := &learnerHandlerSync{needOpPacket: true, noTruncInsideRange: in.NoTruncInsideCacheRange}
	return lh.syncFollower(in)
}

// syncFollower mirrors LearnerHandler.syncFollower. It returns needSnap with the values the
// decision used; Leader.startForwarding is not modelled here, its argument is reported as
// CurrentZxid.
func (lh *learnerHandlerSync) syncFollower(in SyncInput) SyncDecision {
	peerLastZxid := in.PeerLastZxid
	// isPeerNewEpochZxid = (peerLastZxid & 0xffffffffL) == 0
	isPeerNewEpochZxid := peerLastZxid.IsNewEpoch()
	// Keep track of the latest zxid which already queued
	currentZxid := peerLastZxid
	needSnap := true
	txnLogSyncEnabled := in.TxnLogSyncEnabled
	var branch string

	// Under db.getLogLock().readLock() from here to startForwarding.
	maxCommittedLog := getmaxCommittedLog(in.CommittedLog)
	minCommittedLog := getminCommittedLog(in.CommittedLog)
	lastProcessedZxid := in.LastProcessedZxid

	if len(in.CommittedLog) == 0 {
		// db.getCommittedLog().isEmpty(): use the latest txn of the db as both ends.
		minCommittedLog = lastProcessedZxid
		maxCommittedLog = lastProcessedZxid
	}

	if in.ForceSnapSync {
		// 1. Force learnerMaster to use snapshot to sync with follower.
		branch = syncBranchForceSnap
	} else if lastProcessedZxid == peerLastZxid {
		// 2. Follower is already sync with us, send empty diff.
		branch = syncBranchInSync
		lh.queueOpPacket(DIFF, peerLastZxid)
		lh.needOpPacket = false
		needSnap = false
	} else if peerLastZxid > maxCommittedLog && !isPeerNewEpochZxid {
		// 3. Newer than committedLog, send trunc and done.
		branch = syncBranchPeerAhead
		lh.queueOpPacket(TRUNC, maxCommittedLog)
		currentZxid = maxCommittedLog
		lh.needOpPacket = false
		needSnap = false
	} else if maxCommittedLog >= peerLastZxid && minCommittedLog <= peerLastZxid {
		// 4. Follower is within commitLog range.
		branch = syncBranchCommittedLog
		currentZxid = lh.queueCommittedProposals(in.CommittedLog, peerLastZxid, nil, maxCommittedLog)
		needSnap = false
	} else if peerLastZxid < minCommittedLog && txnLogSyncEnabled {
		// 5. Use txnlog and committedLog to sync. getProposalsFromTxnLog(peerLastZxid,
		// calculateTxnLogSizeLimit()) may return an empty iterator if the requested zxid is
		// older than the on-disk txnlog (or the files are too big).
		var txnLogItr []Proposal
		if in.TxnLog != nil {
			txnLogItr = in.TxnLog(peerLastZxid)
		}
		if len(txnLogItr) > 0 { // txnLogItr.hasNext()
			branch = syncBranchTxnLog
			currentZxid = lh.queueCommittedProposals(txnLogItr, peerLastZxid, &minCommittedLog, maxCommittedLog)

			if currentZxid < minCommittedLog {
				// "Detected gap between end of txnlog and start of committedLog": clear out
				// currently queued requests and revert to sending a snapshot.
				branch = syncBranchTxnLogGap
				currentZxid = peerLastZxid
				lh.queuedPackets = lh.queuedPackets[:0]
				lh.needOpPacket = true
			} else {
				// "Queueing committedLog"
				currentZxid = lh.queueCommittedProposals(in.CommittedLog, currentZxid, nil, maxCommittedLog)
				needSnap = false
			}
		} else {
			branch = syncBranchTxnLogEmpty
		}
		// txnProposalItr.close(): nothing to release here.
	} else {
		// 6. "Unhandled scenario for peer sid": below minCommittedLog with the txnlog fallback
		// disabled, or a new-epoch peer zxid above maxCommittedLog.
		branch = syncBranchUnhandled
	}
	if needSnap {
		currentZxid = lastProcessedZxid // db.getDataTreeLastProcessedZxid()
	}

	// leaderLastZxid = learnerMaster.startForwarding(this, currentZxid), still under the read
	// lock. Recorded as CurrentZxid; the read lock is released after it.
	startForwardingZxid := currentZxid

	if lh.needOpPacket && !needSnap {
		// "Unhandled scenario for peer sid: {} fall back to use snapshot". Reached when
		// queueCommittedProposals refused a cross-epoch TRUNC in branch 4: it returned before
		// queueing anything, so the queue is already empty. startForwarding has been called
		// with peerLastZxid, not lastProcessedZxid (a quirk of the real code, kept).
		needSnap = true
		branch += syncBranchNeedOpFallback
	}

	return SyncDecision{
		NeedSnap:     needSnap,
		Mode:         syncMode(needSnap, lh.queuedPackets),
		Queued:       lh.queuedPackets,
		CurrentZxid:  startForwardingZxid,
		MinCommitted: minCommittedLog,
		MaxCommitted: maxCommittedLog,
		Branch:       branch,
	}
}

// queueCommittedProposals mirrors LearnerHandler.queueCommittedProposals(itr, peerLastZxid,
// maxZxid, lastCommittedZxid): it queues the range (peerLastZxid, maxZxid] as PROPOSAL+COMMIT
// pairs, the first time deciding between DIFF and TRUNC, and returns the last queued zxid.
// maxZxid nil is Java's null Long (no limit).
func (lh *learnerHandlerSync) queueCommittedProposals(itr []Proposal, peerLastZxid Zxid, maxZxid *Zxid, lastCommittedZxid Zxid) Zxid {
	isPeerNewEpochZxid := peerLastZxid.IsNewEpoch()
	queuedZxid := peerLastZxid
	// Room at once for what it may queue: an op packet and a PROPOSAL+COMMIT pair per
	// proposal above peerLastZxid (itr is in zxid order).
	above := len(itr) - sort.Search(len(itr), func(i int) bool { return itr[i].Zxid > peerLastZxid })
	lh.queuedPackets = slices.Grow(lh.queuedPackets, 2*above+1)
	// as we look through proposals, this variable keeps track of previous proposal Id.
	prevProposalZxid := Zxid(-1)
	for _, propose := range itr {
		packetZxid := propose.Zxid
		// abort if we hit the limit
		if maxZxid != nil && packetZxid > *maxZxid {
			break
		}

		// skip the proposals the peer already has
		if packetZxid < peerLastZxid {
			prevProposalZxid = packetZxid
			continue
		}

		// If we are sending the first packet, figure out whether to trunc or diff
		if lh.needOpPacket {
			// Send diff when we see the follower's zxid in our history
			if packetZxid == peerLastZxid {
				lh.queueOpPacket(DIFF, lastCommittedZxid)
				lh.needOpPacket = false
				continue
			}

			if isPeerNewEpochZxid || lh.noTruncInsideRange {
				// Send diff and fall through if zxid is of a new-epoch (the ZK-1154 mutant: for
				// any zxid, as before 3.3.4)
				lh.queueOpPacket(DIFF, lastCommittedZxid)
				lh.needOpPacket = false
			} else if packetZxid > peerLastZxid {
				// Peer have some proposals that the learnerMaster hasn't seen yet;
				// it may used to be a leader.
				if packetZxid.Epoch() != peerLastZxid.Epoch() {
					// "Cannot send TRUNC to peer sid: ... peer zxid is from different epoch":
					// we cannot send TRUNC that cross epoch boundary; needOpPacket stays true
					// and syncFollower falls back to a snapshot.
					return queuedZxid
				}
				// "Sending TRUNC zxid=0x.. for peer sid"
				lh.queueOpPacket(TRUNC, prevProposalZxid)
				lh.needOpPacket = false
			}
		}

		if packetZxid <= queuedZxid {
			// We can get here, if we don't have op packet to queue or there is a duplicate
			// txn in a given iterator.
			continue
		}

		// Since this is already a committed proposal, we need to follow it by a commit packet.
		lh.queuePacket(QuorumPacket{Type: PROPOSAL, Zxid: packetZxid, Txn: propose.Txn})
		lh.queueOpPacket(COMMIT, packetZxid)
		queuedZxid = packetZxid
	}

	if lh.needOpPacket && isPeerNewEpochZxid {
		// We will send DIFF for this kind of zxid in any case: our history is older than the
		// learner and there is no new txn since then, so we need an empty diff. (The Java log
		// line says "Sending TRUNC" here.)
		lh.queueOpPacket(DIFF, lastCommittedZxid)
		lh.needOpPacket = false
	}

	return queuedZxid
}

// queueOpPacket mirrors LearnerHandler.queueOpPacket: a packet with a type and a zxid only.
func (lh *learnerHandlerSync) queueOpPacket(typ PacketType, zxid Zxid) {
	lh.queuePacket(QuorumPacket{Type: typ, Zxid: zxid})
}

// queuePacket mirrors LearnerHandler.queuePacket, without the logging marker packets.
func (lh *learnerHandlerSync) queuePacket(p QuorumPacket) {
	lh.queuedPackets = append(lh.queuedPackets, p)
}

// getminCommittedLog mirrors ZKDatabase.getminCommittedLog: addCommittedProposal keeps it at
// the head of the committedLog (0 after clear(), when the log is empty).
func getminCommittedLog(committedLog []Proposal) Zxid {
	if len(committedLog) == 0 {
		return 0
	}
	return committedLog[0].Zxid
}

// getmaxCommittedLog mirrors ZKDatabase.getmaxCommittedLog: the last appended zxid (0 when the
// log is empty).
func getmaxCommittedLog(committedLog []Proposal) Zxid {
	if len(committedLog) == 0 {
		return 0
	}
	return committedLog[len(committedLog)-1].Zxid
}

// syncMode names the outcome from needSnap and the op packet at the head of the queue.
func syncMode(needSnap bool, queued []QuorumPacket) string {
	switch {
	case needSnap:
		return syncModeSNAP
	case len(queued) > 1 && queued[0].Type == TRUNC && queued[1].Type == PROPOSAL:
		return syncModeTRUNCDIFF
	case len(queued) > 0 && queued[0].Type == TRUNC:
		return syncModeTRUNC
	case len(queued) > 0 && queued[0].Type == DIFF:
		return syncModeDIFF
	}
	// Not reachable: needSnap is false only with a DIFF or TRUNC queued first.
	return ""
}

// PacketStrings gives the String() of every queued packet, in queue order:
// "DIFF 0x5", "PROPOSAL 0x3", "COMMIT 0x3", ...
func (d SyncDecision) PacketStrings() []string {
	// One text for them all, cut into the strings: a DIFF of a thousand txns queues two
	// thousand packets, and a string each was a good part of a sync's allocations.
	b := make([]byte, 0, 24*len(d.Queued)) // "PROPOSAL 0x100000003" and its like
	ends := make([]int, len(d.Queued))
	for i := range d.Queued {
		p := &d.Queued[i]
		b = p.Zxid.AppendTo(append(append(b, p.Type.String()...), ' '))
		ends[i] = len(b)
	}
	all := string(b)
	out := make([]string, len(d.Queued))
	from := 0
	for i, end := range ends {
		out[i] = all[from:end]
		from = end
	}
	return out
}

// SeedsSyncFollower is the textbook rule of the project's seed notes, for teaching: DIFF when
// the peer's zxid is in the committedLog, TRUNC+DIFF when it lies inside the committedLog's
// range but the leader never had it (TRUNC to the leader's last zxid below it, then the
// proposals after), TRUNC when it is above maxCommittedLog, SNAP below minCommittedLog or
// with no committedLog. ZooKeeper 3.8 does not decide this way (see SyncFollower); the
// simulator uses it only with Config.SeedsSyncRule, so that a scenario can show the
// difference.
func SeedsSyncFollower(in SyncInput) SyncDecision {
	d := SyncDecision{CurrentZxid: in.LastProcessedZxid, Branch: "seeds rule"}
	log := in.CommittedLog
	if len(log) == 0 { // "no proposal cache, and the peer is not at the leader's last zxid"
		d.MinCommitted, d.MaxCommitted = in.LastProcessedZxid, in.LastProcessedZxid
		if in.PeerLastZxid == in.LastProcessedZxid {
			d.Mode, d.Queued = syncModeDIFF, []QuorumPacket{{Type: DIFF, Zxid: in.PeerLastZxid}}
			return d
		}
		d.NeedSnap, d.Mode = true, syncModeSNAP
		return d
	}
	d.MinCommitted, d.MaxCommitted = log[0].Zxid, log[len(log)-1].Zxid
	peer := in.PeerLastZxid
	switch {
	case peer > d.MaxCommitted:
		d.Mode = syncModeTRUNC
		d.Queued = []QuorumPacket{{Type: TRUNC, Zxid: d.MaxCommitted}}
		d.CurrentZxid = d.MaxCommitted
	case peer < d.MinCommitted:
		d.NeedSnap, d.Mode = true, syncModeSNAP
	default:
		prev, has := Zxid(-1), false
		for _, p := range log {
			if p.Zxid == peer {
				has = true
			} else if p.Zxid < peer {
				prev = p.Zxid
			}
		}
		if has {
			d.Mode = syncModeDIFF
			d.Queued = []QuorumPacket{{Type: DIFF, Zxid: d.MaxCommitted}}
		} else {
			d.Mode = syncModeTRUNCDIFF
			d.Queued = []QuorumPacket{{Type: TRUNC, Zxid: prev}}
		}
		for _, p := range log {
			if p.Zxid > peer {
				d.Queued = append(d.Queued, QuorumPacket{Type: PROPOSAL, Zxid: p.Zxid, Txn: p.Txn}, QuorumPacket{Type: COMMIT, Zxid: p.Zxid})
			}
		}
		d.CurrentZxid = d.MaxCommitted
	}
	return d
}
