package checker

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// vectorsPath is zab/vectors.json seen from checker/, where go test runs.
const vectorsPath = "../testdata/zab/vectors.json"

type syncVector struct {
	ID     string `json:"id"`
	Case   string `json:"case"`
	Leader struct {
		LastProcessedZxid        string   `json:"lastProcessedZxid"`
		CommittedLog             []string `json:"committedLog"`
		EffectiveMinCommittedLog string   `json:"effectiveMinCommittedLog"`
		EffectiveMaxCommittedLog string   `json:"effectiveMaxCommittedLog"`
		TxnLog                   []string `json:"txnLog"`
		TxnLogSyncEnabled        *bool    `json:"txnLogSyncEnabled"`
		TxnLogIterator           string   `json:"txnLogIterator"`
	} `json:"leader"`
	PeerLastZxid string `json:"peerLastZxid"`
	Expected     struct {
		Outcome     string   `json:"outcome"`
		SyncPackets []string `json:"syncPackets"`
		Branch      string   `json:"branch"`
	} `json:"expected"`
}

func zx(t *testing.T, s string) model.Zxid {
	t.Helper()
	z, err := model.ParseZxid(s)
	if err != nil {
		t.Fatalf("bad zxid %q: %v", s, err)
	}
	return z
}

// scan is what queueCommittedProposals meets walking a list in its order: the first zxid
// at or above peer (0 if none) and the last one below peer before it (-1 if none).
func scan(t *testing.T, list []string, peer model.Zxid) (from, before model.Zxid) {
	from, before = 0, -1
	for _, s := range list {
		z := zx(t, s)
		if z >= peer {
			return z, before
		}
		before = z
	}
	return from, before
}

// Every syncFollower call of LearnerHandlerTest (vectors.json): ExpectedSyncMode, given the
// facts each vector's committedLog and txnLog give, must agree on the outcome, the branch and
// the first packet.
func TestExpectedSyncModeVectors(t *testing.T) {
	data, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatalf("cannot read %s: %v", vectorsPath, err)
	}
	var f struct {
		SyncVectors []syncVector `json:"sync_vectors"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.SyncVectors) != 20 {
		t.Fatalf("%d sync vectors, want 20", len(f.SyncVectors))
	}
	for _, v := range f.SyncVectors {
		t.Run(v.ID, func(t *testing.T) {
			peer := zx(t, v.PeerLastZxid)
			in := SyncInputs{
				PeerLastZxid:      peer,
				LastProcessedZxid: zx(t, v.Leader.LastProcessedZxid),
				MinCommitted:      zx(t, v.Leader.EffectiveMinCommittedLog),
				MaxCommitted:      zx(t, v.Leader.EffectiveMaxCommittedLog),
				TxnLogEnabled:     v.Leader.TxnLogSyncEnabled == nil || *v.Leader.TxnLogSyncEnabled,
			}
			in.CommittedFromPeer, in.CommittedBeforePeer = scan(t, v.Leader.CommittedLog, peer)
			// LearnerHandlerTest's mock: the whole txnLog when peer >= its first zxid.
			txnLog := v.Leader.TxnLog
			if v.Leader.TxnLogIterator != "" || len(txnLog) == 0 || peer < zx(t, txnLog[0]) {
				txnLog = nil
			}
			in.TxnLogOffered = len(txnLog) > 0
			in.TxnLogFromPeer, in.TxnLogBeforePeer = scan(t, txnLog, peer)
			in.TxnLogHasMin = slices.ContainsFunc(txnLog, func(s string) bool { return zx(t, s) == in.MinCommitted })

			got := ExpectedSyncMode(in)
			want := SyncExpectation{Mode: v.Expected.Outcome, Branch: v.Expected.Branch, Op: v.Expected.SyncPackets[0]}
			if got != want {
				t.Fatalf("%s (%s): got %+v, want %+v", v.ID, v.Case, got, want)
			}
		})
	}
}

// The cases LearnerHandlerTest does not reach (zookeeper-3.8.md a.4 and g).
func TestExpectedSyncModeUntestedBranches(t *testing.T) {
	z := model.MakeZxid
	cases := []struct {
		name string
		in   SyncInputs
		want SyncExpectation
	}{
		{"forceSnapSync beats an in-sync peer",
			SyncInputs{PeerLastZxid: z(1, 5), LastProcessedZxid: z(1, 5), MinCommitted: z(1, 1), MaxCommitted: z(1, 5), ForceSnap: true},
			SyncExpectation{"SNAP", "forceSnapSync -> snap", "SNAP 0x100000005"}},
		{"a new-epoch peer above maxCommittedLog is not truncated",
			SyncInputs{PeerLastZxid: z(3, 0), LastProcessedZxid: z(2, 4), MinCommitted: z(2, 1), MaxCommitted: z(2, 4)},
			SyncExpectation{"SNAP", "unhandled -> snap", "SNAP 0x200000004"}},
		{"the old leader's txn, the next one in a new epoch: no TRUNC across epochs",
			SyncInputs{PeerLastZxid: z(1, 3), LastProcessedZxid: z(2, 1), MinCommitted: z(1, 1), MaxCommitted: z(2, 1),
				CommittedFromPeer: z(2, 1), CommittedBeforePeer: z(1, 2)},
			SyncExpectation{"SNAP", "within committedLog (needOpPacket fallback -> snap)", "SNAP 0x200000001"}},
		{"the old leader's txn, the next one in the same epoch: TRUNC+DIFF",
			SyncInputs{PeerLastZxid: z(1, 3), LastProcessedZxid: z(2, 1), MinCommitted: z(1, 1), MaxCommitted: z(2, 1),
				CommittedFromPeer: z(1, 4), CommittedBeforePeer: z(1, 2)},
			SyncExpectation{"TRUNC+DIFF", "within committedLog", "TRUNC 0x100000002"}},
		{"the old leader's txn, nothing committed in the new epoch: TRUNC",
			SyncInputs{PeerLastZxid: z(1, 3), LastProcessedZxid: z(2, 0), MinCommitted: z(1, 1), MaxCommitted: z(1, 2)},
			SyncExpectation{"TRUNC", "peer ahead of maxCommittedLog", "TRUNC 0x100000002"}},
		{"a peer at exactly maxCommittedLog",
			SyncInputs{PeerLastZxid: z(1, 5), LastProcessedZxid: z(2, 0), MinCommitted: z(1, 1), MaxCommitted: z(1, 5), CommittedFromPeer: z(1, 5)},
			SyncExpectation{"DIFF", "within committedLog", "DIFF 0x100000005"}},
		{"the txn log ends before minCommittedLog",
			SyncInputs{PeerLastZxid: z(1, 2), LastProcessedZxid: z(1, 900), MinCommitted: z(1, 400), MaxCommitted: z(1, 900), TxnLogEnabled: true,
				TxnLogOffered: true, TxnLogFromPeer: z(1, 2), TxnLogBeforePeer: z(1, 1)},
			SyncExpectation{"SNAP", "txnlog+committedLog (gap detected -> snap)", "SNAP 0x100000384"}},
		{"below minCommittedLog with the txn log off",
			SyncInputs{PeerLastZxid: z(1, 2), LastProcessedZxid: z(1, 900), MinCommitted: z(1, 400), MaxCommitted: z(1, 900)},
			SyncExpectation{"SNAP", "unhandled -> snap", "SNAP 0x100000384"}},
	}
	for _, tc := range cases {
		if got := ExpectedSyncMode(tc.in); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// A leader whose committedLog is [0x100000001, 0x100000002] syncs a peer at 0x100000003.
func syncTrace(mode string, min model.Zxid, packets ...string) *trace {
	b := &trace{}
	b.start(1, 2, 3)
	leaderOneCommits(b, t11, t12)
	b.tick()
	b.model(1, &model.SyncDecided{Sid: 1, Learner: 3, Epoch: 2, PeerLastZxid: t13.Zxid, LastProcessedZxid: t12.Zxid,
		MinCommitted: min, MaxCommitted: t12.Zxid, Mode: mode, TxnLogEnabled: true, Packets: packets})
	return b
}

func TestSyncDecisionCheckBothWays(t *testing.T) {
	if vs := syncTrace("TRUNC", t11.Zxid, "TRUNC 0x100000002").check(opts3()); len(vs) > 0 {
		t.Fatalf("correct TRUNC flagged:\n%s", vsText(vs))
	}
	vs := syncTrace("DIFF", t11.Zxid, "DIFF 0x100000002").check(opts3())
	mustFind(t, vs, CheckSyncDecision, "leader 1", "learner 3", "with DIFF", "decides TRUNC")
	vs = syncTrace("TRUNC", t11.Zxid, "TRUNC 0x100000001").check(opts3())
	mustFind(t, vs, CheckSyncDecision, `"TRUNC 0x100000001"`, `"TRUNC 0x100000002"`)
	vs = syncTrace("TRUNC", t12.Zxid, "TRUNC 0x100000002").check(opts3())
	mustFind(t, vs, CheckSyncDecision, "bounds [0x100000002, 0x100000002]", "give [0x100000001, 0x100000002]")
}

// The sync decisions of a real run, mutated: the record of a DIFF claims SNAP, and one claims
// a minCommittedLog the leader's commits do not give.
func TestSyncDecisionMutatedRun(t *testing.T) {
	r := newRun(t, 5, model.Config{Servers: 3})
	r.e.StartAll()
	l := r.mustStable(30 * sim.Second)
	r.write(l.Sid(), 2)
	f := int64(1)
	r.crash(f)
	r.write(l.Sid(), 20)
	r.restart(f)
	r.settle()
	r.mustPass()
	d, i := lastOf(r.w, func(d *model.SyncDecided) bool { return d.Learner == f })
	if d == nil || d.Mode != "DIFF" {
		t.Fatalf("sync of %d = %+v, want DIFF", f, d)
	}
	recs := slices.Clone(r.w.Trace().Records())
	m := *d
	m.Mode, m.Packets = "SNAP", []string{"SNAP " + d.LastProcessedZxid.String()}
	recs[i].Data = &m
	mustFind(t, Check(recs, r.opts), CheckSyncDecision, "with SNAP", "decides DIFF")
	m = *d
	m.MinCommitted++
	recs[i].Data = &m
	mustFind(t, Check(recs, r.opts), CheckSyncDecision, "committedLog bounds")
}
