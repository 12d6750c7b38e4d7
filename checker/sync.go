package checker

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// SyncInputs are the facts LearnerHandler.syncFollower decides on (zookeeper-3.8.md
// section a): the values a SyncDecided record carries, plus what the leader's committedLog
// and on-disk txn log hold around the peer's zxid.
type SyncInputs struct {
	PeerLastZxid      model.Zxid
	LastProcessedZxid model.Zxid
	// MinCommitted and MaxCommitted are the effective ends of the committedLog: both are
	// LastProcessedZxid when the committedLog is empty.
	MinCommitted, MaxCommitted model.Zxid
	ForceSnap                  bool // zookeeper.forceSnapshotSync
	TxnLogEnabled              bool // snapshotSizeFactor >= 0

	// The committedLog around the peer (needed when MinCommitted <= peer <= MaxCommitted):
	// its first zxid >= PeerLastZxid (0 if none), and the last zxid below PeerLastZxid
	// before that one (-1 if none; the TRUNC target of TRUNC+DIFF).
	CommittedFromPeer, CommittedBeforePeer model.Zxid

	// The on-disk txn log, when the peer is below MinCommitted and the fallback is on:
	// whether getProposalsFromTxnLog returned anything (TxnLogOffered), its first zxid >=
	// PeerLastZxid (0 if none) and the last one below the peer before it (-1 if none), and
	// whether it holds MinCommitted (otherwise a gap separates it from the committedLog).
	TxnLogOffered                    bool
	TxnLogFromPeer, TxnLogBeforePeer model.Zxid
	TxnLogHasMin                     bool
}

// SyncExpectation is what syncFollower must decide.
type SyncExpectation struct {
	Mode   string // "DIFF", "TRUNC", "TRUNC+DIFF" or "SNAP"
	Branch string // which test decided, in the words of zab/vectors.json
	Op     string // the first packet: "DIFF 0x..", "TRUNC 0x.." or "SNAP 0x.."
}

// ExpectedSyncMode derives the sync decision from its inputs. It is written from
// zookeeper-3.8.md sections a.3, a.4 and g, independently of model.SyncFollower: the six
// branches of syncFollower in their order, with queueCommittedProposals reduced to what
// decides the mode (the first proposal at or above the peer's zxid, and for the txn-log
// path whether it reaches minCommittedLog).
func ExpectedSyncMode(in SyncInputs) SyncExpectation {
	peer := in.PeerLastZxid
	newEpochPeer := peer.Counter() == 0
	snap := func(branch string) SyncExpectation {
		return SyncExpectation{Mode: "SNAP", Branch: branch, Op: "SNAP " + in.LastProcessedZxid.String()}
	}
	// The first proposal at or above the peer decides DIFF, TRUNC or the cross-epoch snap.
	firstOp := func(from, before model.Zxid, diff model.Zxid) (op string, ok bool) {
		switch {
		case from == peer || newEpochPeer:
			// the peer has this txn, or a new-epoch peer takes everything after it
			return "DIFF " + diff.String(), true
		case from == 0 || from.Epoch() != peer.Epoch():
			return "", false // no TRUNC across epochs: needOpPacket stays set
		}
		return "TRUNC " + before.String(), true
	}
	mode := func(op string) string {
		if strings.HasPrefix(op, "TRUNC") {
			return "TRUNC+DIFF" // the txn above the peer follows the TRUNC
		}
		return "DIFF"
	}
	switch {
	case in.ForceSnap:
		return snap("forceSnapSync -> snap")
	case in.LastProcessedZxid == peer:
		return SyncExpectation{Mode: "DIFF", Branch: "in-sync (lastProcessedZxid == peerLastZxid)", Op: "DIFF " + peer.String()}
	case peer > in.MaxCommitted && !newEpochPeer:
		return SyncExpectation{Mode: "TRUNC", Branch: "peer ahead of maxCommittedLog", Op: "TRUNC " + in.MaxCommitted.String()}
	case in.MinCommitted <= peer && peer <= in.MaxCommitted:
		const branch = "within committedLog"
		op, ok := firstOp(in.CommittedFromPeer, in.CommittedBeforePeer, in.MaxCommitted)
		if !ok {
			return snap(branch + " (needOpPacket fallback -> snap)")
		}
		return SyncExpectation{Mode: mode(op), Branch: branch, Op: op}
	case peer < in.MinCommitted && in.TxnLogEnabled:
		const branch = "txnlog+committedLog"
		if !in.TxnLogOffered {
			return snap(branch + " (txnlog iterator empty -> snap)")
		}
		from := in.TxnLogFromPeer
		if from > in.MinCommitted {
			from = 0 // the txn-log pass stops at minCommittedLog before reaching it
		}
		if from == 0 {
			return snap(branch + " (gap detected -> snap)") // nothing queued: currentZxid stays below min
		}
		op, ok := firstOp(from, in.TxnLogBeforePeer, in.MaxCommitted)
		if !ok || !in.TxnLogHasMin {
			return snap(branch + " (gap detected -> snap)")
		}
		return SyncExpectation{Mode: mode(op), Branch: branch, Op: op}
	}
	return snap("unhandled -> snap")
}

// checkSync re-derives a SyncDecided record's mode and first packet.
//
// The record does not carry what the leader's committedLog and txn log hold around the
// peer's zxid, so the checker derives it from the leader's records: its committedLog as
// modelled in clog, and its txn log (server.txnLog) between TxnLogFirst and TxnLogLast.
// (Not its data: a server that was once synced by SNAP holds part of its data only in a
// snapshot, and its log may still hold txns its data lost.)
// The committedLog bounds it derives must match the recorded MinCommitted/MaxCommitted.
func (c *Checker) checkSync(i int, r *sim.Record, d *model.SyncDecided) {
	l := c.server(d.Sid)
	in := SyncInputs{
		PeerLastZxid: d.PeerLastZxid, LastProcessedZxid: d.LastProcessedZxid,
		MinCommitted: d.MinCommitted, MaxCommitted: d.MaxCommitted,
		ForceSnap: d.ForceSnap, TxnLogEnabled: d.TxnLogEnabled,
	}
	cl := l.cl.entries()
	lo, hi := d.LastProcessedZxid, d.LastProcessedZxid
	if len(cl) > 0 {
		lo, hi = cl[0], cl[len(cl)-1]
	}
	if lo != d.MinCommitted || hi != d.MaxCommitted {
		c.report(CheckSyncDecision, r.At, fmt.Sprintf(
			"leader %d synced learner %d with committedLog bounds [%s, %s], but the txns it committed or loaded give [%s, %s].",
			d.Sid, d.Learner, d.MinCommitted, d.MaxCommitted, lo, hi), l.loadRec, i)
		return
	}
	in.CommittedFromPeer, in.CommittedBeforePeer = fromPeer(cl, d.PeerLastZxid)
	if d.TxnLogFirst != 0 || d.TxnLogLast != 0 {
		in.TxnLogOffered = true
		log := l.txnLog
		a := sort.Search(len(log), func(k int) bool { return log[k] >= d.TxnLogFirst })
		b := sort.Search(len(log), func(k int) bool { return log[k] > d.TxnLogLast })
		offered := log[a:max(a, b)]
		in.TxnLogFromPeer, in.TxnLogBeforePeer = fromPeer(offered, d.PeerLastZxid)
		_, in.TxnLogHasMin = slices.BinarySearch(offered, d.MinCommitted)
	}
	want := ExpectedSyncMode(in)
	if d.Branch == model.FixBranchOwnProposals {
		// Fixes.KeepOwnProposals: ZooKeeper would TRUNC; the fix DIFFs a peer whose zxid is
		// one of this leader's proposals of this epoch.
		own := d.PeerLastZxid.Epoch() == d.Epoch && l.h.n() > 0 && slices.Contains(l.h.zx, d.PeerLastZxid)
		if want.Mode != "TRUNC" || d.Mode != "DIFF" || !own {
			c.report(CheckSyncDecision, r.At, fmt.Sprintf(
				"leader %d synced learner %d (peerLastZxid %s) with %s under the own-proposals fix, but syncFollower decides %s and the peer's zxid is %s one of the leader's own proposals of epoch %d.",
				d.Sid, d.Learner, d.PeerLastZxid, d.Mode, want.Mode, map[bool]string{true: "", false: "not"}[own], d.Epoch), l.loadRec, i)
		}
		return
	}
	got := ""
	if len(d.Packets) > 0 {
		got = d.Packets[0]
	}
	switch {
	case want.Mode != d.Mode:
		c.report(CheckSyncDecision, r.At, fmt.Sprintf(
			"leader %d synced learner %d (peerLastZxid %s, committedLog [%s, %s], lastProcessedZxid %s) with %s, but syncFollower decides %s (%s).",
			d.Sid, d.Learner, d.PeerLastZxid, d.MinCommitted, d.MaxCommitted, d.LastProcessedZxid, d.Mode, want.Mode, want.Branch), l.loadRec, i)
	case got != want.Op:
		c.report(CheckSyncDecision, r.At, fmt.Sprintf(
			"leader %d synced learner %d (peerLastZxid %s) with %s starting %q, but syncFollower starts with %q (%s).",
			d.Sid, d.Learner, d.PeerLastZxid, d.Mode, got, want.Op, want.Branch), l.loadRec, i)
	}
}
