package scenarios

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// The reproductions in testdata/repro: the five that explore shrank under the old fault
// model (their headers say what each was diagnosed as), which no longer reach their
// situation, and the hand-written ones that reach the same situations under the current
// fault model. Each runs with its own seed and must give the verdict its diagnosis says:
// no violation where the checker or a proposed fix was wrong, the violation where
// ZooKeeper 3.8 really does it.
var repros = []struct {
	file string
	want string // the one check that must fail, "" none
	// reached says whether the run got into the situation the file is about ("" yes).
	reached func(res *Result) string
}{
	{file: "cld-165527-zk1549fix.zab"},
	{file: "cld-170063-zk1549fix.zab"},
	{file: "pc-17605-fixes.zab"},
	{file: "liveness-173692.zab"},
	{file: "llc-284378.zab"},
	{file: "pc-restarted-leader.zab", reached: followerLogsPastRestartedLeader(1, 5)},
	{file: "llc-stale-ackepoch.zab", reached: establishedBelowCommittedEpoch},
	{file: "llc-595862-fixes.zab", reached: establishedWithoutLaterCommit},
	{file: "llc-stale-ackepoch-older-txn.zab", reached: establishedWithoutLaterCommit},
	{file: "cld-snap-named-above.zab", reached: truncBelowSnapshotName(1)},
	{file: "trunc-below-dirty-snap-both-fixes.zab", reached: cannotTruncate(1, 1)},
	{file: "cld-141726-fixes.zab", reached: cannotTruncate(2, 1)},
	{file: "pc-63147-fixes.zab", reached: restartedOnMarker(7)},
	{file: "liveness-epoch-ahead.zab", want: "Liveness", reached: epochBelowAccepted(3, 4)},
	{file: "two-findings-1549-1653.zab", want: "Liveness"},
}

func TestRepro(t *testing.T) {
	for _, tc := range repros {
		t.Run(strings.TrimSuffix(tc.file, ".zab"), func(t *testing.T) {
			t.Parallel()
			s, err := Load(filepath.Join("testdata", "repro", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(s, Options{Seed: s.Seed})
			if err != nil {
				t.Fatal(err)
			}
			if tc.reached != nil {
				if why := tc.reached(res); why != "" {
					t.Fatalf("the run no longer reaches its situation: %s\n%s", why, res.Summary())
				}
			}
			var got []string
			for _, v := range res.Violations {
				got = append(got, v.Check)
			}
			switch {
			case tc.want == "" && !res.OK:
				t.Fatalf("want no violation:\n%s", res.Summary())
			case tc.want != "" && strings.Join(got, ",") != tc.want:
				t.Fatalf("want exactly %s, got %v:\n%s", tc.want, got, res.Summary())
			}
		})
	}
}

// followerLogsPastRestartedLeader: follower f logs a txn while leader l, restarted, is
// LEADING again with a history that ends before it.
func followerLogsPastRestartedLeader(f, l int64) func(res *Result) string {
	return func(res *Result) string {
		var leaderLast model.Zxid
		restarted, leading := false, false
		for _, r := range res.World.Trace().Records() {
			switch d := r.Data.(type) {
			case *model.Loaded:
				if d.Sid == l && restarted {
					leaderLast = d.LastZxid
				}
			case *model.StateChange:
				if d.Sid == l && restarted {
					leading = d.State == model.LEADING
				}
			case *model.Logged:
				if d.Sid == f && leading && d.Zxid > leaderLast {
					return ""
				}
			}
			if r.Kind == sim.RecRestart && r.Node == sim.NodeID(l) {
				restarted = true
			}
		}
		return fmt.Sprintf("server %d logged nothing past the restarted leader %d's history while it led", f, l)
	}
}

// establishedBelowCommittedEpoch: a leader is established for an epoch below that of a txn
// already committed.
func establishedBelowCommittedEpoch(res *Result) string {
	var top int64
	for _, r := range res.World.Trace().Records() {
		switch d := r.Data.(type) {
		case *model.Committed:
			top = max(top, d.Zxid.Epoch())
		case *model.LeaderEstablished:
			if d.Epoch < top {
				return ""
			}
		}
	}
	return "no leader was established below a committed epoch"
}

// establishedWithoutLaterCommit: a leader is established in epoch e without a txn of an
// epoch before e that was first applied in a later epoch.
func establishedWithoutLaterCommit(res *Result) string {
	epoch := map[int64]int64{}          // sid -> epoch it leads
	committed := map[model.Zxid]int64{} // txn -> epoch of the leader that committed it
	var order []model.Zxid
	for _, r := range res.World.Trace().Records() {
		switch d := r.Data.(type) {
		case *model.StateChange:
			epoch[d.Sid] = d.Epoch
		case *model.Committed:
			if _, seen := committed[d.Zxid]; !seen {
				committed[d.Zxid] = epoch[d.Sid]
				order = append(order, d.Zxid)
			}
		case *model.LeaderEstablished:
			for _, z := range order {
				if committed[z] > d.Epoch && z.Epoch() < d.Epoch && d.LastZxid < z {
					return ""
				}
			}
		}
	}
	return "no leader was established without an older txn a later epoch committed"
}

// truncBelowSnapshotName: server sid, holding a snapshot named (e, 0) (taken after a SNAP of
// a leader that had applied nothing of epoch e), is truncated below that name.
func truncBelowSnapshotName(sid int64) func(res *Result) string {
	return func(res *Result) string {
		var named model.Zxid
		for _, r := range res.World.Trace().Records() {
			switch d := r.Data.(type) {
			case *model.SnapshotTaken:
				if d.Sid == sid && d.Zxid.IsNewEpoch() && d.Zxid > 0 {
					named = d.Zxid
				}
			case *model.Truncated:
				if d.Sid == sid && named > 0 && d.Zxid < named {
					return ""
				}
			}
		}
		return fmt.Sprintf("server %d was not truncated below a snapshot named (e, 0)", sid)
	}
}

// cannotTruncate: server sid exits times times on "Not able to truncate the log".
func cannotTruncate(sid int64, times int) func(res *Result) string {
	return func(res *Result) string {
		n := 0
		for _, r := range res.World.Trace().Records() {
			if d, ok := r.Data.(*model.Note); ok && d.Sid == sid && strings.HasPrefix(d.Text, "Not able to truncate the log") {
				n++
			}
		}
		if n != times {
			return fmt.Sprintf("server %d failed to truncate %d times, want %d", sid, n, times)
		}
		return ""
	}
}

// restartedOnMarker: server sid started again on fix ZK-1653's updatingEpoch marker.
func restartedOnMarker(sid int64) func(res *Result) string {
	return func(res *Result) string {
		for _, r := range res.World.Trace().Records() {
			if d, ok := r.Data.(*model.Note); ok && d.Sid == sid && strings.HasPrefix(d.Text, "updatingEpoch found") {
				return ""
			}
		}
		return fmt.Sprintf("server %d never started on the updatingEpoch marker", sid)
	}
}

// epochBelowAccepted: each of the servers refused LEADERINFO below its acceptedEpoch many
// times over (the loop, not one refusal).
func epochBelowAccepted(sids ...int64) func(res *Result) string {
	return func(res *Result) string {
		n := map[int64]int{}
		for _, r := range res.World.Trace().Records() {
			if d, ok := r.Data.(*model.StateChange); ok && strings.HasPrefix(d.Reason, "Leaders epoch, ") {
				n[d.Sid]++
			}
		}
		for _, sid := range sids {
			if n[sid] < 1000 {
				return fmt.Sprintf("server %d refused a lower LEADERINFO %d times, want a loop", sid, n[sid])
			}
		}
		return ""
	}
}
