package checker

import (
	"testing"

	"github.com/zabsim/zabsim/model"
)

// The checker's per-server arrays start with room for a short run's first entries (the
// txn log's zxids, the committedLog model; a node's changes and a session's requests do
// too, which this trace, without clients, does not reach): grown from empty, each cost an
// allocation per doubling, about three percent of an explored schedule's allocations.
func TestCheckerArraysStartWithRoom(t *testing.T) {
	var b trace
	b.start(1)
	ts := make([]*model.Txn, 40)
	for i := range ts {
		ts[i] = txn(1, int64(i+1), "v")
		ts[i].SessionID = 7
		ts[i].Path = "/k" // one node, forty changes
	}
	leaderOneCommits(&b, ts...)
	opts := opts3()
	var c *Checker
	allocs := testing.AllocsPerRun(3, func() {
		c = New(opts)
		for i := range b.recs {
			c.Observe(i, &b.recs[i])
		}
	})
	if vs := c.Finish(b.at); len(vs) != 0 {
		t.Fatalf("violations on a correct trace: %v", vs)
	}
	if s := c.server(1); len(s.txnLog) != 40 || s.cl.entries()[39] != ts[39].Zxid {
		t.Fatalf("txn log %d zxids, committedLog model %v", len(c.server(1).txnLog), c.server(1).cl.entries())
	}
	t.Logf("%v allocations", allocs)
	if allocs > budgetArraysStartWithRoom {
		t.Errorf("%v allocations to check 40 txns of one server, want at most %d", allocs, budgetArraysStartWithRoom)
	}
}

// budgetArraysStartWithRoom is 64 allocations, and a little room: 76 when the txn log and
// the committedLog model grew from empty (every other allocation of the checker's is in
// the 64 as well, so a new one per txn shows here too).
const budgetArraysStartWithRoom = 66
