package model

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// syncVectorsPath is zab/vectors.json seen from the model/ directory, where go test runs.
const syncVectorsPath = "../testdata/zab/vectors.json"

// syncVectorFile is the part of vectors.json these tests read.
type syncVectorFile struct {
	SyncVectors []syncVector `json:"sync_vectors"`
}

// syncVector is one entry of sync_vectors: one syncFollower call of LearnerHandlerTest.
type syncVector struct {
	ID     string `json:"id"`
	Test   string `json:"test"`
	Case   string `json:"case"`
	Leader struct {
		LastProcessedZxid        string   `json:"lastProcessedZxid"`
		CommittedLog             []string `json:"committedLog"`
		MinCommittedLog          string   `json:"minCommittedLog"`
		MaxCommittedLog          string   `json:"maxCommittedLog"`
		EffectiveMinCommittedLog string   `json:"effectiveMinCommittedLog"`
		EffectiveMaxCommittedLog string   `json:"effectiveMaxCommittedLog"`
		TxnLog                   []string `json:"txnLog"`
		SnapshotSizeFactor       *float64 `json:"snapshotSizeFactor"`
		TxnLogSyncEnabled        *bool    `json:"txnLogSyncEnabled"`
		TxnLogIterator           string   `json:"txnLogIterator"` // a test-specific override of the mock
	} `json:"leader"`
	PeerLastZxid       string `json:"peerLastZxid"`
	IsPeerNewEpochZxid bool   `json:"isPeerNewEpochZxid"`
	Expected           struct {
		NeedSnap      *bool    `json:"needSnap"`
		Outcome       string   `json:"outcome"`
		SyncPackets   []string `json:"syncPackets"`
		QueuedPackets []string `json:"queuedPackets"`
		OpPacket      *struct {
			Type string `json:"type"`
			Zxid string `json:"zxid"`
		} `json:"opPacket"`
		SnapZxid            *string `json:"snapZxid"`
		StartForwardingZxid string  `json:"startForwardingZxid"`
		Branch              string  `json:"branch"`
	} `json:"expected"`
	// AssertedByTest is what the Java test itself asserts (the rest of "expected" was derived).
	AssertedByTest struct {
		SyncFollowerReturns  *bool    `json:"syncFollowerReturns"`
		FirstQueuedPacket    *string  `json:"firstQueuedPacket"`
		StartForwardingZxid  *string  `json:"startForwardingZxid"`
		QueuedPacketCount    *int     `json:"queuedPacketCount"`
		ProposalZxidsInOrder []string `json:"proposalZxidsInOrder"`
	} `json:"assertedByTest"`
}

func loadSyncVectors(t *testing.T) []syncVector {
	t.Helper()
	data, err := os.ReadFile(syncVectorsPath)
	if err != nil {
		t.Fatalf("cannot read %s: %v", syncVectorsPath, err)
	}
	var f syncVectorFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("cannot parse %s: %v", syncVectorsPath, err)
	}
	return f.SyncVectors
}

func sfZxid(t *testing.T, s string) Zxid {
	t.Helper()
	z, err := ParseZxid(s)
	if err != nil {
		t.Fatalf("bad zxid %q: %v", s, err)
	}
	return z
}

// sfProposals builds proposals from zxid strings, each with its own Txn whose Data is the
// zxid string, and records every Txn pointer in txns.
func sfProposals(t *testing.T, zxids []string, txns map[*Txn]bool) []Proposal {
	t.Helper()
	var out []Proposal
	for _, s := range zxids {
		z := sfZxid(t, s)
		txn := &Txn{Zxid: z, Data: s}
		txns[txn] = true
		out = append(out, Proposal{Zxid: z, Txn: txn})
	}
	return out
}

// sfMockTxnLog is LearnerHandlerTest.MockZKDatabase.getProposalsFromTxnLog: the whole txnLog
// when peerZxid >= txnLog[0], else an empty iterator. It records the zxids it was asked for.
func sfMockTxnLog(txnLog []Proposal, calls *[]Zxid) func(Zxid) []Proposal {
	return func(peerZxid Zxid) []Proposal {
		*calls = append(*calls, peerZxid)
		if len(txnLog) > 0 && peerZxid >= txnLog[0].Zxid {
			return txnLog
		}
		return nil
	}
}

func sfEqualStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// sfCheckPayloads checks that every PROPOSAL carries one of the input proposals' Txn
// pointers for its zxid, and that op and COMMIT packets carry none.
func sfCheckPayloads(t *testing.T, queued []QuorumPacket, txns map[*Txn]bool) {
	t.Helper()
	for i, p := range queued {
		if p.Type != PROPOSAL {
			if p.Txn != nil {
				t.Errorf("queued[%d] %v carries a txn", i, p)
			}
			continue
		}
		switch {
		case p.Txn == nil:
			t.Errorf("queued[%d] %v has no txn", i, p)
		case !txns[p.Txn]:
			t.Errorf("queued[%d] %v carries a txn that is not one of the input proposals'", i, p)
		case p.Txn.Zxid != p.Zxid || p.Txn.Data != p.Zxid.String():
			t.Errorf("queued[%d] %v carries txn %+v", i, p, *p.Txn)
		}
	}
}

// TestSyncFollowerVectors replays every syncFollower call of LearnerHandlerTest (vectors.json,
// sync_vectors) and compares the whole decision.
func TestSyncFollowerVectors(t *testing.T) {
	vectors := loadSyncVectors(t)
	if len(vectors) != 20 {
		t.Fatalf("sync_vectors has %d entries, want 20", len(vectors))
	}
	for _, v := range vectors {
		t.Run(v.ID, func(t *testing.T) {
			if v.Expected.NeedSnap == nil || v.Leader.TxnLogSyncEnabled == nil || v.Leader.SnapshotSizeFactor == nil {
				t.Fatalf("vector lacks expected.needSnap, leader.txnLogSyncEnabled or leader.snapshotSizeFactor")
			}
			// The vector's own consistency: txnLogSyncEnabled is snapshotSizeFactor >= 0, the raw
			// min/max are the ends of the committedLog (0 when empty), isPeerNewEpochZxid is counter 0.
			if got := *v.Leader.SnapshotSizeFactor >= 0; got != *v.Leader.TxnLogSyncEnabled {
				t.Errorf("vector: snapshotSizeFactor %v but txnLogSyncEnabled %v", *v.Leader.SnapshotSizeFactor, *v.Leader.TxnLogSyncEnabled)
			}
			rawMin, rawMax := "0x0", "0x0"
			if n := len(v.Leader.CommittedLog); n > 0 {
				rawMin, rawMax = v.Leader.CommittedLog[0], v.Leader.CommittedLog[n-1]
			}
			if sfZxid(t, rawMin) != sfZxid(t, v.Leader.MinCommittedLog) || sfZxid(t, rawMax) != sfZxid(t, v.Leader.MaxCommittedLog) {
				t.Errorf("vector: min/maxCommittedLog %s/%s are not the ends of committedLog %v", v.Leader.MinCommittedLog, v.Leader.MaxCommittedLog, v.Leader.CommittedLog)
			}
			peer := sfZxid(t, v.PeerLastZxid)
			if peer.IsNewEpoch() != v.IsPeerNewEpochZxid {
				t.Errorf("vector: isPeerNewEpochZxid %v for peer %v", v.IsPeerNewEpochZxid, peer)
			}

			txns := map[*Txn]bool{}
			txnLog := sfProposals(t, v.Leader.TxnLog, txns)
			var txnLogCalls []Zxid
			in := SyncInput{
				PeerLastZxid:      peer,
				LastProcessedZxid: sfZxid(t, v.Leader.LastProcessedZxid),
				CommittedLog:      sfProposals(t, v.Leader.CommittedLog, txns),
				TxnLogSyncEnabled: *v.Leader.TxnLogSyncEnabled,
				TxnLog:            sfMockTxnLog(txnLog, &txnLogCalls),
			}
			switch {
			case v.Leader.TxnLogIterator == "":
			case strings.HasPrefix(v.Leader.TxnLogIterator, "always empty"):
				// testTxnLogProposalIteratorClosure overrides getProposalsFromTxnLog to return
				// TxnLogProposalIterator.EMPTY_ITERATOR.
				in.TxnLog = func(peerZxid Zxid) []Proposal {
					txnLogCalls = append(txnLogCalls, peerZxid)
					return nil
				}
			default:
				t.Fatalf("unknown leader.txnLogIterator %q", v.Leader.TxnLogIterator)
			}

			d := SyncFollower(in)

			if d.NeedSnap != *v.Expected.NeedSnap {
				t.Errorf("NeedSnap = %v, want %v", d.NeedSnap, *v.Expected.NeedSnap)
			}
			if d.Mode != v.Expected.Outcome {
				t.Errorf("Mode = %q, want %q", d.Mode, v.Expected.Outcome)
			}
			got := d.PacketStrings()
			if !sfEqualStrings(got, v.Expected.QueuedPackets) {
				t.Errorf("Queued = %q, want %q", got, v.Expected.QueuedPackets)
			}
			if want := sfZxid(t, v.Expected.StartForwardingZxid); d.CurrentZxid != want {
				t.Errorf("CurrentZxid = %v, want %v", d.CurrentZxid, want)
			}
			if want := sfZxid(t, v.Leader.EffectiveMinCommittedLog); d.MinCommitted != want {
				t.Errorf("MinCommitted = %v, want %v", d.MinCommitted, want)
			}
			if want := sfZxid(t, v.Leader.EffectiveMaxCommittedLog); d.MaxCommitted != want {
				t.Errorf("MaxCommitted = %v, want %v", d.MaxCommitted, want)
			}
			if d.Branch != v.Expected.Branch {
				t.Errorf("Branch = %q, want %q", d.Branch, v.Expected.Branch)
			}
			sfCheckPayloads(t, d.Queued, txns)
			for _, z := range txnLogCalls {
				if z != peer {
					t.Errorf("getProposalsFromTxnLog called with %v, want peerLastZxid %v", z, peer)
				}
			}

			// The op packet and what the learner receives first (SNAP is written directly).
			if op := v.Expected.OpPacket; op != nil {
				if want := op.Type + " " + sfZxid(t, op.Zxid).String(); len(got) == 0 || got[0] != want {
					t.Errorf("op packet = %q, want %q", got, want)
				}
			} else if len(got) != 0 {
				t.Errorf("op packet queued %q, want none", got)
			}
			wantSync := got
			if d.NeedSnap {
				wantSync = []string{"SNAP " + in.LastProcessedZxid.String()}
				if v.Expected.SnapZxid == nil || sfZxid(t, *v.Expected.SnapZxid) != in.LastProcessedZxid {
					t.Errorf("expected.snapZxid = %v, want %v", v.Expected.SnapZxid, in.LastProcessedZxid)
				}
			}
			if !sfEqualStrings(wantSync, v.Expected.SyncPackets) {
				t.Errorf("sync packets = %q, want %q", wantSync, v.Expected.SyncPackets)
			}

			// What the Java test itself asserts.
			a := v.AssertedByTest
			if a.SyncFollowerReturns != nil && d.NeedSnap != *a.SyncFollowerReturns {
				t.Errorf("Java asserts syncFollower returns %v, got %v", *a.SyncFollowerReturns, d.NeedSnap)
			}
			if a.FirstQueuedPacket != nil && (len(got) == 0 || got[0] != *a.FirstQueuedPacket) {
				t.Errorf("Java asserts first queued packet %q, got %q", *a.FirstQueuedPacket, got)
			}
			if a.StartForwardingZxid != nil && d.CurrentZxid != sfZxid(t, *a.StartForwardingZxid) {
				t.Errorf("Java asserts startForwarding(%s), got %v", *a.StartForwardingZxid, d.CurrentZxid)
			}
			if a.QueuedPacketCount != nil && len(d.Queued) != *a.QueuedPacketCount {
				t.Errorf("Java asserts %d queued packets, got %d", *a.QueuedPacketCount, len(d.Queued))
			}
			if a.ProposalZxidsInOrder != nil {
				var proposals []string
				for _, p := range d.Queued {
					if p.Type == PROPOSAL {
						proposals = append(proposals, p.Zxid.String())
					}
				}
				var want []string
				for _, s := range a.ProposalZxidsInOrder {
					want = append(want, sfZxid(t, s).String())
				}
				if !sfEqualStrings(proposals, want) {
					t.Errorf("Java asserts proposals %q, got %q", want, proposals)
				}
			}
		})
	}
}

// TestSyncFollowerProseCases covers behaviour that zookeeper-3.8.md states but that
// LearnerHandlerTest does not reach (the derived DRV vectors are not in vectors.json).
func TestSyncFollowerProseCases(t *testing.T) {
	z := MakeZxid
	log := func(zxids ...Zxid) []Proposal {
		var out []Proposal
		for _, x := range zxids {
			out = append(out, Proposal{Zxid: x, Txn: &Txn{Zxid: x, Data: x.String()}})
		}
		return out
	}
	pk := func(typ string, x Zxid) string { return typ + " " + x.String() }

	tests := []struct {
		name         string
		in           SyncInput
		needSnap     bool
		mode         string
		queued       []string
		currentZxid  Zxid
		min, max     Zxid
		branch       string
		txnLogCalled bool
	}{
		{
			// g.10 / DRV-13: forceSnapSync overrides everything, even a peer already in sync.
			name: "forceSnapSync overrides in-sync peer",
			in: SyncInput{
				PeerLastZxid: z(1, 3), LastProcessedZxid: z(1, 3),
				CommittedLog: log(z(1, 1), z(1, 2), z(1, 3)), TxnLogSyncEnabled: true, ForceSnapSync: true,
			},
			needSnap: true, mode: "SNAP", queued: nil,
			currentZxid: z(1, 3), min: z(1, 1), max: z(1, 3), branch: "forceSnapSync -> snap",
		},
		{
			// g.10: forceSnapSync also beats the TRUNC of a peer ahead of maxCommittedLog.
			name: "forceSnapSync overrides peer ahead",
			in: SyncInput{
				PeerLastZxid: z(1, 5), LastProcessedZxid: z(1, 3),
				CommittedLog: log(z(1, 1), z(1, 2), z(1, 3)), TxnLogSyncEnabled: true, ForceSnapSync: true,
			},
			needSnap: true, mode: "SNAP", queued: nil,
			currentZxid: z(1, 3), min: z(1, 1), max: z(1, 3), branch: "forceSnapSync -> snap",
		},
		{
			// a.4 / g.6 / DRV-01: the old leader holds an uncommitted (1,3); the new leader has
			// already committed (2,1). The next leader txn after the peer's zxid is in another
			// epoch, so no TRUNC: needOpPacket stays true and syncFollower falls back to SNAP,
			// after calling startForwarding with peerLastZxid (quirk).
			name: "cross-epoch uncommitted txn, new leader committed (e+1,1)",
			in: SyncInput{
				PeerLastZxid: z(1, 3), LastProcessedZxid: z(2, 1),
				CommittedLog: log(z(1, 1), z(1, 2), z(2, 1)), TxnLogSyncEnabled: true,
			},
			needSnap: true, mode: "SNAP", queued: nil,
			currentZxid: z(1, 3), min: z(1, 1), max: z(2, 1),
			branch: "within committedLog (needOpPacket fallback -> snap)",
		},
		{
			// a.4 / g.6 / DRV-02..03: same, before the new leader committed anything of epoch 2
			// (its lastProcessedZxid is 2<<32): the peer is above maxCommittedLog, plain TRUNC.
			name: "cross-epoch uncommitted txn, new leader committed nothing yet",
			in: SyncInput{
				PeerLastZxid: z(1, 3), LastProcessedZxid: z(2, 0),
				CommittedLog: log(z(1, 1), z(1, 2)), TxnLogSyncEnabled: true,
			},
			needSnap: false, mode: "TRUNC", queued: []string{pk("TRUNC", z(1, 2))},
			currentZxid: z(1, 2), min: z(1, 1), max: z(1, 2), branch: "peer ahead of maxCommittedLog",
		},
		{
			// g.9 / DRV-05: a peer at exactly maxCommittedLog (lastProcessedZxid is higher) gets
			// DIFF(maxCommittedLog) with no proposals.
			name: "peer at exactly maxCommittedLog",
			in: SyncInput{
				PeerLastZxid: z(1, 3), LastProcessedZxid: z(2, 0),
				CommittedLog: log(z(1, 1), z(1, 2), z(1, 3)), TxnLogSyncEnabled: true,
			},
			needSnap: false, mode: "DIFF", queued: []string{pk("DIFF", z(1, 3))},
			currentZxid: z(1, 3), min: z(1, 1), max: z(1, 3), branch: "within committedLog",
		},
		{
			// g.5 / a.4 / DRV-07: a new-epoch peer zxid above maxCommittedLog is never TRUNCed:
			// "Unhandled scenario" -> SNAP.
			name: "new-epoch peer zxid above maxCommittedLog",
			in: SyncInput{
				PeerLastZxid: z(3, 0), LastProcessedZxid: z(2, 0),
				CommittedLog: log(z(1, 1), z(1, 2)), TxnLogSyncEnabled: true,
			},
			needSnap: true, mode: "SNAP", queued: nil,
			currentZxid: z(2, 0), min: z(1, 1), max: z(1, 2), branch: "unhandled -> snap",
		},
		{
			// a.3: comparisons are on signed longs. A zxid of epoch 0x80000000 is negative, so a
			// peer in epoch 0x7fffffff is "above" it: TRUNC(maxCommittedLog), not the txnlog path
			// an unsigned comparison would take.
			name: "signed comparison: peer above a negative maxCommittedLog",
			in: SyncInput{
				PeerLastZxid: z(0x7fffffff, 5), LastProcessedZxid: z(0x80000000, 2),
				CommittedLog: log(z(0x80000000, 1), z(0x80000000, 2)), TxnLogSyncEnabled: true,
			},
			needSnap: false, mode: "TRUNC", queued: []string{pk("TRUNC", z(0x80000000, 2))},
			currentZxid: z(0x80000000, 2), min: z(0x80000000, 1), max: z(0x80000000, 2),
			branch: "peer ahead of maxCommittedLog",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			tt.in.TxnLog = func(Zxid) []Proposal { called = true; return nil }
			d := SyncFollower(tt.in)
			if d.NeedSnap != tt.needSnap {
				t.Errorf("NeedSnap = %v, want %v", d.NeedSnap, tt.needSnap)
			}
			if d.Mode != tt.mode {
				t.Errorf("Mode = %q, want %q", d.Mode, tt.mode)
			}
			if got := d.PacketStrings(); !sfEqualStrings(got, tt.queued) {
				t.Errorf("Queued = %q, want %q", got, tt.queued)
			}
			if d.CurrentZxid != tt.currentZxid {
				t.Errorf("CurrentZxid = %v, want %v", d.CurrentZxid, tt.currentZxid)
			}
			if d.MinCommitted != tt.min || d.MaxCommitted != tt.max {
				t.Errorf("Min/MaxCommitted = %v/%v, want %v/%v", d.MinCommitted, d.MaxCommitted, tt.min, tt.max)
			}
			if d.Branch != tt.branch {
				t.Errorf("Branch = %q, want %q", d.Branch, tt.branch)
			}
			if called != tt.txnLogCalled {
				t.Errorf("txn log read = %v, want %v", called, tt.txnLogCalled)
			}
		})
	}
}

// The seeds' textbook rule, next to ZooKeeper's on the cases where they differ.
func TestSeedsSyncRuleDiffersFromZooKeeper(t *testing.T) {
	z := func(e, c int64) Zxid { return MakeZxid(e, c) }
	log := func(zs ...Zxid) []Proposal {
		var out []Proposal
		for _, x := range zs {
			out = append(out, Proposal{Zxid: x, Txn: &Txn{Zxid: x}})
		}
		return out
	}
	for _, tc := range []struct {
		name        string
		in          SyncInput
		seeds, zk38 string
	}{
		{"old leader's txn, new epoch committed", SyncInput{PeerLastZxid: z(1, 4), LastProcessedZxid: z(2, 2),
			CommittedLog: log(z(1, 1), z(1, 2), z(1, 3), z(2, 1), z(2, 2))}, "TRUNC+DIFF", "SNAP"},
		{"no committedLog, peer behind", SyncInput{PeerLastZxid: z(1, 1), LastProcessedZxid: z(1, 3)}, "SNAP", "SNAP"},
		{"no committedLog, peer ahead", SyncInput{PeerLastZxid: z(1, 5), LastProcessedZxid: z(1, 3)}, "SNAP", "TRUNC"},
		{"peer in the log", SyncInput{PeerLastZxid: z(1, 2), LastProcessedZxid: z(1, 3),
			CommittedLog: log(z(1, 1), z(1, 2), z(1, 3))}, "DIFF", "DIFF"},
		{"peer above max", SyncInput{PeerLastZxid: z(1, 5), LastProcessedZxid: z(1, 3),
			CommittedLog: log(z(1, 1), z(1, 2), z(1, 3))}, "TRUNC", "TRUNC"},
	} {
		if got := SeedsSyncFollower(tc.in).Mode; got != tc.seeds {
			t.Errorf("%s: seeds rule %s, want %s", tc.name, got, tc.seeds)
		}
		if got := SyncFollower(tc.in).Mode; got != tc.zk38 {
			t.Errorf("%s: syncFollower %s, want %s", tc.name, got, tc.zk38)
		}
	}
	d := SeedsSyncFollower(SyncInput{PeerLastZxid: z(1, 4), LastProcessedZxid: z(2, 2),
		CommittedLog: log(z(1, 1), z(1, 2), z(1, 3), z(2, 1), z(2, 2))})
	if got := d.PacketStrings(); len(got) != 5 || got[0] != "TRUNC 0x100000003" || got[1] != "PROPOSAL 0x200000001" {
		t.Fatalf("seeds TRUNC+DIFF packets = %v", got)
	}
}

// The repository's copy of the reference vectors is the reference's: where the project's
// shared notes are checked out beside it, the two must not drift apart.
func TestVectorsCopyMatchesTheReference(t *testing.T) {
	ref, err := os.ReadFile("../../shared/zab/vectors.json")
	if err != nil {
		t.Skip("the shared reference is not checked out beside the repository")
	}
	got, err := os.ReadFile(syncVectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ref, got) {
		t.Fatalf("%s differs from ../../shared/zab/vectors.json: copy it again (testdata/zab/README.md)", syncVectorsPath)
	}
}
