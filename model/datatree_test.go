package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// A clone and its source share their nodes until one changes: every kind of change on
// either side (setData, create, delete, a delete of a missing child, a replayed create of
// a node that exists) leaves the other as it was, however often the two are cloned again.
func TestCloneIsCopyOnWrite(t *testing.T) {
	txn := func(z Zxid, typ OpCode, path, data string) *Txn {
		return &Txn{Zxid: z, Type: typ, Path: path, Data: data, Version: int32(z), Time: 1}
	}
	live := NewDataTree()
	for _, x := range []*Txn{txn(1, OpCreate, "/a", "a0"), txn(2, OpCreate, "/a/x", "x0"), txn(3, OpCreate, "/b", "b0")} {
		if rc := live.ProcessTxn(x); rc != ErrOK {
			t.Fatalf("%v: %d", x, rc)
		}
	}
	type view struct {
		a, x     string
		kids     []string
		aStat    Stat
		hasB, ok bool
		root     []string
		rootStat Stat
	}
	look := func(tr *DataTree) view {
		a, aStat, _ := tr.GetData("/a")
		x, _, _ := tr.GetData("/x")
		if d, _, ok := tr.GetData("/a/x"); ok {
			x = d
		}
		kids, _, ok := tr.GetChildren("/a")
		_, _, hasB := tr.GetData("/b")
		root, rootStat, _ := tr.GetChildren("/")
		return view{a: a, x: x, kids: kids, aStat: aStat, hasB: hasB, ok: ok, root: root, rootStat: rootStat}
	}
	same := func(what string, got, want view) {
		t.Helper()
		if got.a != want.a || got.x != want.x || !slices.Equal(got.kids, want.kids) || got.aStat != want.aStat || got.hasB != want.hasB ||
			!slices.Equal(got.root, want.root) || got.rootStat != want.rootStat {
			t.Fatalf("%s: %+v, want %+v", what, got, want)
		}
	}
	snap := live.Clone()
	before := look(snap)
	// The live tree changes every way it can; the snapshot does not.
	for _, x := range []*Txn{txn(4, OpSetData, "/a", "a1"), txn(5, OpCreate, "/a/y", "y0"), txn(6, OpDelete, "/a/x", ""),
		txn(7, OpDelete, "/a/gone", ""), txn(8, OpDelete, "/b", ""), {Zxid: 9, Type: OpCreate, Path: "/a/y", ParentCVersion: 40}} {
		live.ProcessTxn(x)
	}
	same("snapshot after the live tree changed", look(snap), before)
	after := look(live)
	if after.a != "a1" || !slices.Equal(after.kids, []string{"y"}) || after.hasB || after.aStat.Pzxid != 9 || after.aStat.Cversion != 2*40-1 {
		t.Fatalf("live tree: %+v", after)
	}
	// A clone of the snapshot (a restart loading it) changes without touching either.
	loaded := snap.Clone()
	// First the changes that touch a parent only in its stat: a delete of a missing child,
	// a replayed create of a node that exists.
	loaded.ProcessTxn(txn(10, OpDelete, "/a/missing", ""))
	loaded.ProcessTxn(&Txn{Zxid: 10, Type: OpCreate, Path: "/a", ParentCVersion: 60})
	same("snapshot after its clone's stat-only changes", look(snap), before)
	loaded.ProcessTxn(txn(10, OpSetData, "/a/x", "x1"))
	loaded.ProcessTxn(txn(11, OpCreate, "/a/z", "z0"))
	same("snapshot after its clone changed", look(snap), before)
	same("live tree after the loaded clone changed", look(live), after)
	if got := look(loaded); got.x != "x1" || !slices.Equal(got.kids, []string{"x", "z"}) {
		t.Fatalf("loaded clone: %+v", got)
	}
	// The source of a clone copies what it changes after the clone too (snapshots of a
	// snapshot's source, again and again).
	snap2 := live.Clone()
	live.ProcessTxn(txn(12, OpSetData, "/a", "a2"))
	if got, _, _ := snap2.GetData("/a"); got != "a1" {
		t.Fatalf("second snapshot sees %q", got)
	}
}

// A txn keeps its canonical text once it is final (its Hash taken): the same text as
// formatting it afresh. A multi whose sub-txn has its hash and text still applies the
// sub-txn at the multi's own zxid (apply copies the sub-txn; nothing formats the copy).
func TestTxnTextCache(t *testing.T) {
	txn := &Txn{Zxid: 0x100000007, Type: OpSetData, SessionID: 0x42, Cxid: 3, Path: "/a", Data: "v\n1", Version: 2}
	fresh := string(txn.AppendTo([]byte("x ")))
	if txn.text != "" {
		t.Fatal("text kept before the txn is final")
	}
	h := txn.Hash()
	if got := string(txn.AppendTo([]byte("x "))); got != fresh || txn.text != fresh[2:] || txn.Hash() != h {
		t.Fatalf("cached %q, fresh %q", got, fresh)
	}
	sub := &Txn{Type: OpCreate, Path: "/m", Data: "d"}
	sub.Hash()
	sub.AppendTo(nil)
	multi := &Txn{Zxid: 0x100000008, Type: OpMulti, SessionID: 0x42, Cxid: 4, Ops: []*Txn{sub}}
	tree := NewDataTree()
	rc := tree.processTxn(multi)
	if rc.Err != ErrOK {
		t.Fatalf("multi: %d", rc.Err)
	}
	if _, st, ok := tree.GetData("/m"); !ok || st.Czxid != 0x100000008 {
		t.Fatalf("the sub-txn applied with %v, %v", st.Czxid, ok)
	}
}

// Zxid.AppendTo writes what strconv does: hex with 0x, decimal below zero.
func TestZxidText(t *testing.T) {
	for _, z := range []Zxid{0, 1, 9, 10, 15, 16, 0xff, 0x100000000, 0x100000003, 0x7fffffffffffffff, -1, -12} {
		want := "0x" + strconv.FormatInt(int64(z), 16)
		if z < 0 {
			want = strconv.FormatInt(int64(z), 10)
		}
		if got := string(z.AppendTo([]byte("a"))); got != "a"+want {
			t.Errorf("%d: %q, want %q", int64(z), got, "a"+want)
		}
	}
}

// appendHex and appendHexInt write what strconv does in base 16, at every length (odd and
// even numbers of digits, each power of 16 and its neighbours) and for random values.
func TestAppendHexIsStrconv(t *testing.T) {
	vals := []uint64{0, math.MaxUint64, math.MaxInt64, 1 << 63}
	for k := 0; k < 64; k += 4 {
		p := uint64(1) << k
		vals = append(vals, p-1, p, p+1, p*15, p*0xab)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		vals = append(vals, r.Uint64()>>r.IntN(64))
	}
	for _, v := range vals {
		if got, want := string(appendHex([]byte("a"), v)), "a"+strconv.FormatUint(v, 16); got != want {
			t.Fatalf("appendHex(%d) = %q, want %q", v, got, want)
		}
		for _, i := range []int64{int64(v), -int64(v >> 1)} {
			if got, want := string(appendHexInt(nil, i)), strconv.FormatInt(i, 16); got != want {
				t.Fatalf("appendHexInt(%d) = %q, want %q", i, got, want)
			}
		}
	}
}

// appendQuoted is strconv.AppendQuote: every byte value alone and around plain text (the
// quote, the backslash, control bytes, DEL, invalid UTF-8), multi-byte runes, and random
// strings.
func TestAppendQuotedIsStrconv(t *testing.T) {
	vals := []string{"", "plain", "lost quorum", "v17", "a b", "\u00e9t\u00e9", "\u2028", "\U0001F600"}
	for c := 0; c < 256; c++ {
		vals = append(vals, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"y")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.IntN(256) >> r.IntN(2))
		}
		vals = append(vals, string(b))
	}
	for _, v := range vals {
		if got, want := string(appendQuoted([]byte("a"), v)), string(strconv.AppendQuote([]byte("a"), v)); got != want {
			t.Fatalf("appendQuoted(%q) = %s, want %s", v, got, want)
		}
	}
}

// A read's children are the node's own array (no copy per read): a later change must not
// show through it, whether the next change is an insert in the middle (which moves names
// within the array's spare room) or a delete.
func TestChildrenReadIsStable(t *testing.T) {
	for _, insertFirst := range []bool{true, false} {
		tr := NewDataTree()
		for i, p := range []string{"/a", "/a/b", "/a/d", "/a/f"} {
			if rc := tr.ProcessTxn(&Txn{Zxid: Zxid(i + 1), Type: OpCreate, Path: p}); rc != ErrOK {
				t.Fatalf("create %s: %d", p, rc)
			}
		}
		read, _, _ := tr.GetChildren("/a")
		changes := []*Txn{{Zxid: 5, Type: OpCreate, Path: "/a/c"}, {Zxid: 6, Type: OpDelete, Path: "/a/b"}}
		if !insertFirst {
			changes[0], changes[1] = changes[1], changes[0]
		}
		for _, x := range changes {
			tr.ProcessTxn(x)
		}
		if want := []string{"b", "d", "f"}; !slices.Equal(read, want) {
			t.Fatalf("insert first %v: the read before the changes is now %q, want %q", insertFirst, read, want)
		}
		now, st, _ := tr.GetChildren("/a")
		if want := []string{"c", "d", "f"}; !slices.Equal(now, want) || st.NumChildren != 3 {
			t.Fatalf("insert first %v: children now %q (%d), want %q", insertFirst, now, st.NumChildren, want)
		}
		// A set: a second create of a name is refused and the name stays once.
		if rc := tr.ProcessTxn(&Txn{Zxid: 7, Type: OpCreate, Path: "/a/c"}); rc != ErrNodeExists {
			t.Fatalf("second create: %d", rc)
		}
		if got, _, _ := tr.GetChildren("/a"); !slices.Equal(got, []string{"c", "d", "f"}) {
			t.Fatalf("after a second create: %q", got)
		}
		// Empty children read as an empty list, not nil (a reply's JSON shows []).
		if got, _, _ := tr.GetChildren("/a/c"); got == nil || len(got) != 0 {
			t.Fatalf("a leaf's children: %#v", got)
		}
	}
}

// A wide node (more than wideKids children) keeps them in a set: it reads the same as a
// small node (sorted, stable once read, empty as []), counts the same, and a snapshot
// taken before a change keeps what it had.
func TestWideChildren(t *testing.T) {
	tr := NewDataTree()
	z := Zxid(1)
	apply := func(typ OpCode, path string) int32 {
		z++
		return tr.ProcessTxn(&Txn{Zxid: z, Type: typ, Path: path})
	}
	if rc := apply(OpCreate, "/w"); rc != ErrOK {
		t.Fatal(rc)
	}
	var want []string
	for i := wideKids + 40; i > 0; i-- { // in reverse, so that every create inserts in front
		name := fmt.Sprintf("c%04d", i)
		if rc := apply(OpCreate, "/w/"+name); rc != ErrOK {
			t.Fatalf("create %s: %d", name, rc)
		}
		want = append(want, name)
	}
	slices.Sort(want)
	if tr.nodes["/w"].kidSet == nil {
		t.Fatalf("/w has %d children and is not wide", len(want))
	}
	read, st, _ := tr.GetChildren("/w")
	if !slices.Equal(read, want) || int(st.NumChildren) != len(want) {
		t.Fatalf("read %d children (stat %d), want %d sorted", len(read), st.NumChildren, len(want))
	}
	if rc := apply(OpCreate, "/w/c0001"); rc != ErrNodeExists {
		t.Fatalf("a second create of c0001: %d", rc)
	}
	readBefore := want
	// a change after the read, so that the sorted view is stale when the snapshot is taken
	if rc := apply(OpCreate, "/w/a"); rc != ErrOK {
		t.Fatal(rc)
	}
	want = append([]string{"a"}, want...)
	snap := tr.Clone()
	z++
	if rc := snap.ProcessTxn(&Txn{Zxid: z, Type: OpCreate, Path: "/w/zz"}); rc != ErrOK { // the snapshot's side changes first
		t.Fatal(rc)
	}
	if got, st, _ := tr.GetChildren("/w"); !slices.Equal(got, want) || int(st.NumChildren) != len(want) {
		t.Fatalf("a create on the snapshot reached the tree: %d children (stat %d), want %d", len(got), st.NumChildren, len(want))
	}
	wantSnap := append(slices.Clone(want), "zz")
	for _, p := range []string{"/w/c0002", "/w/c0004"} {
		if rc := apply(OpDelete, p); rc != ErrOK {
			t.Fatal(rc)
		}
	}
	if rc := apply(OpCreate, "/w/b"); rc != ErrOK {
		t.Fatal(rc)
	}
	if !slices.Equal(read, readBefore) {
		t.Fatal("the read before the changes changed")
	}
	now, st, _ := tr.GetChildren("/w")
	want2 := append([]string{"a", "b", "c0001", "c0003"}, want[5:]...)
	if !slices.Equal(now, want2) || int(st.NumChildren) != len(want2) {
		t.Fatalf("after the changes: %d children (stat %d), first %q; want %d, first %q", len(now), st.NumChildren, now[:3], len(want2), want2[:3])
	}
	if old, st, _ := snap.GetChildren("/w"); !slices.Equal(old, wantSnap) || int(st.NumChildren) != len(wantSnap) {
		t.Fatalf("the snapshot has %d children (stat %d), want its %d", len(old), st.NumChildren, len(wantSnap))
	}
	// Changed on the snapshot's side too, each side keeps its own.
	snap.ProcessTxn(&Txn{Zxid: z + 1, Type: OpDelete, Path: "/w/c0003"}) // z is the tree's own zxid by now
	if now2, st, _ := tr.GetChildren("/w"); !slices.Equal(now2, want2) || int(st.NumChildren) != len(want2) {
		t.Fatalf("a change to the snapshot reached the tree: %d children (stat %d), want %d", len(now2), st.NumChildren, len(want2))
	}
	if old, st, _ := snap.GetChildren("/w"); len(old) != len(wantSnap)-1 || int(st.NumChildren) != len(wantSnap)-1 || slices.Contains(old, "c0003") {
		t.Fatalf("the snapshot after its own delete: %d children (stat %d), want %d", len(old), st.NumChildren, len(wantSnap)-1)
	}
	// A delete first after a snapshot leaves the snapshot's children as they were.
	snap2 := tr.Clone()
	if rc := apply(OpDelete, "/w/c0005"); rc != ErrOK {
		t.Fatal(rc)
	}
	if got, st, _ := snap2.GetChildren("/w"); !slices.Equal(got, want2) || int(st.NumChildren) != len(want2) {
		t.Fatalf("a delete on the tree reached the snapshot: %d children (stat %d), want %d", len(got), st.NumChildren, len(want2))
	}
	want2 = slices.DeleteFunc(want2, func(s string) bool { return s == "c0005" })
	for _, name := range want2 {
		if rc := apply(OpDelete, "/w/"+name); rc != ErrOK {
			t.Fatalf("delete %s: %d", name, rc)
		}
	}
	if got, st, _ := tr.GetChildren("/w"); got == nil || len(got) != 0 || st.NumChildren != 0 {
		t.Fatalf("emptied: %#v (stat %d)", got, st.NumChildren)
	}
	if rc := apply(OpDelete, "/w"); rc != ErrOK {
		t.Fatalf("delete the emptied /w: %d", rc)
	}
}
