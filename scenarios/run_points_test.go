package scenarios

import "testing"

// runner.events counts the points by their index in syncPoints: the constants must name
// them in that order, crashPoints first.
func TestPointIndexes(t *testing.T) {
	want := map[int]string{ptCurrentEpoch: "currentEpoch", ptAcceptedEpoch: "acceptedEpoch", ptTruncate: "truncate",
		ptSnapshot: "snapshot", ptLog: "log", ptProposal: "proposal", ptNewleader: "newleader", ptSnap: "snap", ptDiff: "diff"}
	if len(syncPoints) != nPoints || len(want) != nPoints {
		t.Fatalf("%d sync points, %d constants, want %d", len(syncPoints), len(want), nPoints)
	}
	for p, name := range want {
		if syncPoints[p] != name {
			t.Errorf("point %d is %q, want %q", p, syncPoints[p], name)
		}
	}
}
