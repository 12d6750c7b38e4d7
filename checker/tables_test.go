package checker

import (
	"testing"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// propTable must answer like a map whatever the zxids: dense counters, a counter far past
// the highest (kept aside), then the array growing over it (moved in), other epochs, and
// epochs or counters never seen.
func TestPropTableIsAMap(t *testing.T) {
	var tab propTable
	ref := map[model.Zxid]uint64{}
	put := func(z model.Zxid) {
		p := tab.at(z, true)
		if !p.seen {
			*p = propEntry{hash: uint64(z) * 7, seen: true}
			ref[z] = uint64(z) * 7
		}
	}
	far := model.MakeZxid(2, 3*denseGap)
	for _, z := range []model.Zxid{
		model.MakeZxid(1, 1), model.MakeZxid(1, 2), far, model.MakeZxid(2, 1),
		model.MakeZxid(1, 5), model.MakeZxid(3, 0xffffffff), model.MakeZxid(-1, 4),
	} {
		put(z)
	}
	if len(tab.far) != 2 {
		t.Fatalf("%d entries kept aside, want 2 (the far counters)", len(tab.far))
	}
	for n := int64(2); n <= 3*denseGap+5; n += denseGap / 2 { // epoch 2 grows over far
		put(model.MakeZxid(2, n))
	}
	if tab.far[far] != nil {
		t.Errorf("%s still kept aside after the array grew over it", far)
	}
	for z, h := range ref {
		if e, ok := tab.get(z); !ok || e.hash != h {
			t.Errorf("get(%s) = %v %v, want hash %d", z, e, ok, h)
		}
	}
	for _, z := range []model.Zxid{model.MakeZxid(1, 3), model.MakeZxid(9, 1), model.MakeZxid(1, 1<<30), model.MakeZxid(2, 4*denseGap)} {
		if e, ok := tab.get(z); ok {
			t.Errorf("get(%s) = %v, never put", z, e)
		}
	}
}

// txnQueue keeps one body per (zxid, value), in zxid order, and take drops what G passed.
func TestTxnQueue(t *testing.T) {
	txn := func(z int64, data string) *model.Txn {
		return &model.Txn{Zxid: model.MakeZxid(1, z), Type: model.OpSetData, Path: "/a", Data: data}
	}
	var q txnQueue
	a1, a2, b2, a3, a5 := txn(1, "a"), txn(2, "a"), txn(2, "b"), txn(3, "a"), txn(5, "a")
	for _, tx := range []*model.Txn{a1, a3, a2, b2, a5, txn(2, "a")} {
		q.add(tx)
	}
	if q.add(a3) || q.add(txn(1, "a")) {
		t.Error("a body already held was added again")
	}
	var got []model.Zxid
	for _, tx := range q.pending() {
		got = append(got, tx.Zxid)
	}
	if want := []model.Zxid{a1.Zxid, a2.Zxid, a2.Zxid, a3.Zxid, a5.Zxid}; len(got) != len(want) {
		t.Fatalf("pending %v, want %v", got, want)
	} else {
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("pending %v, want %v", got, want)
			}
		}
	}
	if tx := q.take(b2.Zxid, b2.Hash()); tx != b2 {
		t.Errorf("take(2, b) = %v, want %v", tx, b2)
	}
	if q.len() != 2 {
		t.Errorf("%d left after taking zxid 2, want 2 (zxids 3 and 5)", q.len())
	}
	if tx := q.take(model.MakeZxid(1, 4), 1); tx != nil || q.len() != 1 {
		t.Errorf("take(4) = %v with %d left, want nil and 1", tx, q.len())
	}
}

// byID is a table by node id: near ids in a slice, negative or huge ones in a map, and each
// visits them all in ascending id order.
func TestByID(t *testing.T) {
	var b byID[int]
	vals := map[int64]int{3: 30, 1000: 100, -2: -20, sim.MaxNodeID + 5: 50, 0: 1}
	for _, id := range []int64{3, 1000, -2, sim.MaxNodeID + 5, 0} {
		v := vals[id]
		b.put(id, &v)
	}
	for id, v := range vals {
		if got := b.get(id); got == nil || *got != v {
			t.Errorf("get(%d) = %v, want %d", id, got, v)
		}
	}
	for _, id := range []int64{2, 999, -1, sim.MaxNodeID + 6, sim.MaxNodeID - 1} {
		if got := b.get(id); got != nil {
			t.Errorf("get(%d) = %d, never put", id, *got)
		}
	}
	var order []int64
	b.each(func(id int64, _ *int) { order = append(order, id) })
	want := []int64{-2, 0, 3, 1000, sim.MaxNodeID + 5}
	if len(order) != len(want) {
		t.Fatalf("each visited %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("each visited %v, want %v", order, want)
		}
	}
}
