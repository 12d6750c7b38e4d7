package checker

import (
	"math"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// The znode model, step by step: ZooKeeper's order of checks and its versions.
func TestZnodeStep(t *testing.T) {
	absent := ZnodeState{Resolved: true}
	v0 := ZnodeState{Resolved: true, Exists: true, Data: "x"}
	v3 := ZnodeState{Resolved: true, Exists: true, Data: "y", Version: 3}
	in := func(op model.OpCode, data string, version int32) ZnodeInput {
		return ZnodeInput{Op: op, Path: "/p", Data: data, Version: version}
	}
	ok := func(version int32) ZnodeOutput { return ZnodeOutput{Version: version} }
	fail := func(code int32) ZnodeOutput { return ZnodeOutput{Err: code} }
	unknown := ZnodeOutput{Unknown: true}
	for _, tc := range []struct {
		name  string
		st    ZnodeState
		in    ZnodeInput
		out   ZnodeOutput
		legal bool
		next  ZnodeState
	}{
		{"create on a missing node", absent, in(model.OpCreate, "x", 0), ok(0), true, v0},
		{"create on a node that exists", v0, in(model.OpCreate, "z", 0), ok(0), false, v0},
		{"NodeExists", v0, in(model.OpCreate, "z", 0), fail(model.ErrNodeExists), true, v0},
		{"NodeExists on a missing node", absent, in(model.OpCreate, "z", 0), fail(model.ErrNodeExists), false, absent},
		{"create without a parent", absent, in(model.OpCreate, "z", 0), fail(model.ErrNoNode), true, absent},
		{"initial / exists", ZnodeState{}, ZnodeInput{Op: model.OpExists, Path: "/"}, ok(0), true, ZnodeState{Resolved: true, Exists: true}},
		{"initial /p does not", ZnodeState{}, in(model.OpExists, "", 0), fail(model.ErrNoNode), true, absent},
		{"setData any version", v3, in(model.OpSetData, "z", -1), ok(4), true, ZnodeState{Resolved: true, Exists: true, Data: "z", Version: 4}},
		{"setData skips a version", v3, in(model.OpSetData, "z", -1), ok(5), false, v3},
		{"setData matching version", v3, in(model.OpSetData, "z", 3), ok(4), true, ZnodeState{Resolved: true, Exists: true, Data: "z", Version: 4}},
		{"setData BadVersion", v3, in(model.OpSetData, "z", 2), fail(model.ErrBadVersion), true, v3},
		{"setData BadVersion on a match", v3, in(model.OpSetData, "z", 3), fail(model.ErrBadVersion), false, v3},
		{"setData NoNode", absent, in(model.OpSetData, "z", -1), fail(model.ErrNoNode), true, absent},
		{"setData NoNode on a live node", v3, in(model.OpSetData, "z", -1), fail(model.ErrNoNode), false, v3},
		{"delete", v3, in(model.OpDelete, "", 3), ok(0), true, absent},
		{"delete NoNode first", absent, in(model.OpDelete, "", 7), fail(model.ErrNoNode), true, absent},
		{"delete NotEmpty", v3, in(model.OpDelete, "", -1), fail(model.ErrNotEmpty), true, v3},
		{"getData", v3, in(model.OpGetData, "", 0), ZnodeOutput{Data: "y", Version: 3}, true, v3},
		{"getData of another value", v3, in(model.OpGetData, "", 0), ZnodeOutput{Data: "x", Version: 3}, false, v3},
		{"getData of another version", v3, in(model.OpGetData, "", 0), ZnodeOutput{Data: "y", Version: 2}, false, v3},
		{"exists", v3, in(model.OpExists, "", 0), ok(3), true, v3},
		{"check", v3, in(model.OpCheck, "", 3), ok(0), true, v3},
		{"check BadVersion", v3, in(model.OpCheck, "", 1), fail(model.ErrBadVersion), true, v3},
		{"unmodelled error", v3, in(model.OpSetData, "z", -1), fail(model.ErrSessionExpired), true, v3},
		{"unknown setData takes effect", v3, in(model.OpSetData, "z", -1), unknown, true, ZnodeState{Resolved: true, Exists: true, Data: "z", Version: 4}},
		{"unknown setData that would fail", v3, in(model.OpSetData, "z", 1), unknown, true, v3},
		{"unknown create", absent, in(model.OpCreate, "x", 0), unknown, true, v0},
		{"unknown delete", v0, in(model.OpDelete, "", -1), unknown, true, absent},
	} {
		legal, next := ZnodeStep(tc.st, tc.in, tc.out)
		if legal != tc.legal || (legal && next != tc.next) {
			t.Errorf("%s: got %v %+v, want %v %+v", tc.name, legal, next, tc.legal, tc.next)
		}
	}
}

// op builds a porcupine operation on path p; ret < 0 is an unknown outcome (no return).
func op(client int, p string, in ZnodeInput, out ZnodeOutput, call, ret int64) porcupine.Operation {
	in.Path = p
	if ret < 0 {
		ret, out = math.MaxInt64, ZnodeOutput{Unknown: true}
	}
	return porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret}
}

func set(data string) ZnodeInput    { return ZnodeInput{Op: model.OpSetData, Data: data, Version: -1} }
func get() ZnodeInput               { return ZnodeInput{Op: model.OpGetData} }
func create(data string) ZnodeInput { return ZnodeInput{Op: model.OpCreate, Data: data} }
func read(data string, version int32) ZnodeOutput {
	return ZnodeOutput{Data: data, Version: version}
}
func version(v int32) ZnodeOutput { return ZnodeOutput{Version: v} }

// The model with porcupine, on linearizable and non-linearizable histories.
func TestZnodeModelHistories(t *testing.T) {
	m := ZnodeModel()
	for _, tc := range []struct {
		name string
		want porcupine.CheckResult
		ops  []porcupine.Operation
	}{
		{"sequential", porcupine.Ok, []porcupine.Operation{
			op(0, "/p", create("a"), ZnodeOutput{}, 0, 10),
			op(1, "/p", get(), read("a", 0), 20, 30),
			op(0, "/p", set("b"), version(1), 40, 50),
			op(1, "/p", get(), read("b", 1), 60, 70),
		}},
		{"a read concurrent with a write sees either value", porcupine.Ok, []porcupine.Operation{
			op(0, "/p", create("a"), ZnodeOutput{}, 0, 10),
			op(0, "/p", set("b"), version(1), 20, 50),
			op(1, "/p", get(), read("a", 0), 30, 40),
			op(2, "/p", get(), read("b", 1), 30, 40),
		}},
		{"a stale read after the write returned", porcupine.Illegal, []porcupine.Operation{
			op(0, "/p", create("a"), ZnodeOutput{}, 0, 10),
			op(0, "/p", set("b"), version(1), 20, 30),
			op(1, "/p", get(), read("a", 0), 40, 50),
		}},
		{"reads that go back", porcupine.Illegal, []porcupine.Operation{
			op(0, "/p", create("a"), ZnodeOutput{}, 0, 10),
			op(0, "/p", set("b"), version(1), 20, 100),
			op(1, "/p", get(), read("b", 1), 30, 40),
			op(1, "/p", get(), read("a", 0), 50, 60),
		}},
		{"two creates succeed", porcupine.Illegal, []porcupine.Operation{
			op(0, "/p", create("a"), ZnodeOutput{}, 0, 10),
			op(1, "/p", create("b"), ZnodeOutput{}, 20, 30),
		}},
		{"a lost write that happened", porcupine.Ok, []porcupine.Operation{
			op(0, "/p", create("a"), ZnodeOutput{}, 0, 10),
			op(0, "/p", set("b"), ZnodeOutput{}, 20, -1),
			op(1, "/p", get(), read("b", 1), 30, 40),
			op(1, "/p", get(), read("b", 1), 50, 60),
		}},
		{"a lost write that did not", porcupine.Ok, []porcupine.Operation{
			op(0, "/p", create("a"), ZnodeOutput{}, 0, 10),
			op(0, "/p", set("b"), ZnodeOutput{}, 20, -1),
			op(1, "/p", get(), read("a", 0), 30, 40),
			op(1, "/p", set("c"), version(1), 50, 60),
		}},
		{"a lost write cannot happen before its call", porcupine.Illegal, []porcupine.Operation{
			op(0, "/p", create("a"), ZnodeOutput{}, 0, 10),
			op(1, "/p", get(), read("b", 1), 20, 30),
			op(0, "/p", set("b"), ZnodeOutput{}, 40, -1),
		}},
		{"paths are independent", porcupine.Ok, []porcupine.Operation{
			op(0, "/p", create("a"), ZnodeOutput{}, 0, 10),
			op(1, "/q", create("a"), ZnodeOutput{}, 0, 10),
			op(1, "/q", get(), read("a", 0), 20, 30),
			op(0, "/p", get(), read("a", 0), 20, 30),
		}},
		{"one bad path", porcupine.Illegal, []porcupine.Operation{
			op(0, "/p", create("a"), ZnodeOutput{}, 0, 10),
			op(1, "/q", get(), read("a", 0), 20, 30),
		}},
	} {
		if got := porcupine.CheckOperations(m, tc.ops) == (tc.want == porcupine.Ok); !got {
			t.Errorf("%s: want %s", tc.name, tc.want)
		}
	}
}

// hard is a hand-built trace whose linearizability porcupine cannot settle quickly: /h is
// created (its txn committed by leader 1), n clients read it concurrently, and then a
// create of /h succeeds again. The reads change nothing, so before it can call the create
// illegal porcupine tries every subset of them as the prefix of a linearization: 2^n.
func hard(n int) []sim.Record {
	b := &trace{}
	b.start(1)
	b.state(1, model.LEADING, model.PhaseBroadcast, 1)
	b.tick()
	call := func(c int64, xid int32, op model.OpCode, data string) {
		b.model(c, &model.ClientCall{Client: c, Session: c, Xid: xid, Server: 1, Op: op, Path: "/h", Data: data, Version: -1})
	}
	ret := func(c int64, xid int32, op model.OpCode, rd *model.ClientReturn) {
		rd.Client, rd.Session, rd.Xid, rd.Server, rd.Op, rd.Path = c, c, xid, 1, op, "/h"
		b.model(c, rd)
	}
	z := model.MakeZxid(1, 1)
	txn := &model.Txn{Zxid: z, Type: model.OpCreate, SessionID: 1000, Cxid: 1, Path: "/h", Data: "init"}
	call(1000, 1, model.OpCreate, "init")
	b.tick()
	b.propose(1, txn)
	b.logged(1, txn)
	b.commit(1, txn)
	ret(1000, 1, model.OpCreate, &model.ClientReturn{Result: model.Result{Zxid: z, Created: "/h"}})
	b.tick()
	for k := 0; k < n; k++ {
		call(int64(1001+k), 1, model.OpGetData, "")
	}
	b.tick()
	for k := 0; k < n; k++ {
		ret(int64(1001+k), 1, model.OpGetData, &model.ClientReturn{Result: model.Result{Zxid: z, Data: "init", Stat: model.Stat{Czxid: z, Mzxid: z}}})
	}
	b.tick()
	call(999, 1, model.OpCreate, "again")
	b.tick()
	ret(999, 1, model.OpCreate, &model.ClientReturn{Result: model.Result{Zxid: z, Created: "/h"}})
	return b.recs
}

// A verdict porcupine cannot reach in time is Unknown: not a violation, and not a pass.
func TestLinearizabilityUnknown(t *testing.T) {
	opts := Options{LinearizabilityTimeout: 20 * time.Millisecond, LinearizabilityReads: true}
	c := New(opts)
	recs := hard(40)
	for i := range recs {
		c.Observe(i, &recs[i])
	}
	if vs := c.Finish(recs[len(recs)-1].At); len(vs) > 0 {
		t.Fatalf("violations:\n%s", vsText(vs))
	}
	lin := c.Linearizability()
	if lin.Outcome != porcupine.Unknown || lin.Operations != 42 || len(lin.Illegal) > 0 {
		t.Fatalf("linearizability %+v", lin)
	}
	// A small enough history gets its verdict: illegal, at the second create.
	vs := Check(hard(3), opts)
	mustOnly(t, vs, CheckLinearizability, `client 999's create("again") -> OK on /h`, "of the 5 operations on /h",
		`client 1000's create("init") -> OK`)
}

// A path whose zxid order is a linearization needs no search; one without, illegal here, goes
// to porcupine and is reported as any other.
func TestWitnessedPaths(t *testing.T) {
	recs := hard(0) // create /h, then create /h again (OK both times), one after the other
	c := New(Options{})
	for i := range recs[:len(recs)-2] { // up to the first create's return
		c.Observe(i, &recs[i])
	}
	if vs := c.Finish(recs[len(recs)-1].At); len(vs) > 0 {
		t.Fatalf("violations:\n%s", vsText(vs))
	}
	if lin := c.Linearizability(); lin.Outcome != porcupine.Ok || lin.Paths != 1 || lin.Witnessed != 1 {
		t.Fatalf("one create: linearizability %+v, want Ok with its path witnessed", lin)
	}
	c = New(Options{})
	for i := range recs {
		c.Observe(i, &recs[i])
	}
	vs := c.Finish(recs[len(recs)-1].At)
	mustOnly(t, vs, CheckLinearizability, `client 999's create("again") -> OK on /h`, "of the 2 operations on /h")
	if lin := c.Linearizability(); lin.Outcome != porcupine.Illegal || lin.Witnessed != 0 {
		t.Fatalf("two creates: linearizability %+v, want Illegal, searched", lin)
	}
}

// When the zxid order is not a linearization but another order is, porcupine finds it: two
// deletes of a missing node answered NoNode commute, so the later-zxid one may come first.
func TestWitnessFallsBackToPorcupine(t *testing.T) {
	b := &trace{}
	b.start(1)
	b.state(1, model.LEADING, model.PhaseBroadcast, 1)
	b.tick()
	call := func(c int64) {
		b.model(c, &model.ClientCall{Client: c, Session: c, Xid: 1, Server: 1, Op: model.OpDelete, Path: "/x", Version: -1})
	}
	ret := func(c int64, z model.Zxid) {
		b.model(c, &model.ClientReturn{Client: c, Session: c, Result: model.Result{Xid: 1, Server: 1, Op: model.OpDelete, Path: "/x", Err: model.ErrNoNode, Zxid: z}})
	}
	z1, z2 := model.MakeZxid(1, 1), model.MakeZxid(1, 2)
	for k, z := range []model.Zxid{z1, z2} {
		txn := &model.Txn{Zxid: z, Type: model.OpError, SessionID: int64(1000 + k), Cxid: 1, Err: model.ErrNoNode}
		b.propose(1, txn)
		b.logged(1, txn)
		b.commit(1, txn)
	}
	b.tick()
	call(1000)
	b.tick()
	ret(1000, z2) // answered first, at the later zxid
	b.tick()
	call(1001)
	b.tick()
	ret(1001, z1)
	c := New(Options{})
	for i := range b.recs {
		c.Observe(i, &b.recs[i])
	}
	c.Finish(b.at)
	if lin := c.Linearizability(); lin.Outcome != porcupine.Ok || lin.Paths != 1 || lin.Witnessed != 0 {
		t.Fatalf("linearizability %+v, want Ok from porcupine (no witness)", lin)
	}
}
