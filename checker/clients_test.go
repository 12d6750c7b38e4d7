package checker

import (
	"bytes"
	"slices"
	"testing"

	"github.com/anishathalye/porcupine"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// The client-visible checks: a correct run of each kind passes, and a copy of its trace with
// one client record changed (or removed, or repeated) fails exactly the check it breaks.

// client starts a client with cfg and waits until it has a session.
func (r *run) client(cfg model.ClientConfig) *model.Client {
	r.t.Helper()
	c, err := r.e.StartClient(cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	if !r.w.RunUntilCond(c.Connected, r.w.Now()+30*sim.Second) {
		r.t.Fatalf("client %d did not connect", c.ID())
	}
	return c
}

// do issues one call and runs until it returns.
func (r *run) do(issue func(cb model.Callback)) *model.Result {
	r.t.Helper()
	var got *model.Result
	issue(func(res *model.Result) { got = res })
	if !r.w.RunUntilCond(func() bool { return got != nil }, r.w.Now()+60*sim.Second) {
		r.t.Fatal("the call did not return")
	}
	return got
}

func (r *run) ok(issue func(cb model.Callback)) *model.Result {
	r.t.Helper()
	res := r.do(issue)
	if res.Err != model.ErrOK {
		r.t.Fatalf("%s %s: %s", res.Op, res.Path, model.ErrName(res.Err))
	}
	return res
}

// nopWatcher is a watcher for the checks' sake (the events are in the trace).
type nopWatcher struct{ n int }

func (w *nopWatcher) Process(e model.WatchedEvent) {
	if e.Type != model.EventNone {
		w.n++
	}
}

// consistencyRun is a 3-server ensemble with a writer W on the leader and a reader R on a
// follower (and, once that follower crashes, on the other one). R watches /a (data), /c
// (exists, missing) and /a's children; W changes them; R syncs and reads after each change,
// writes /a itself and reads its write; its follower crashes, W changes /a while R is away,
// and R's watch fires again on reconnecting (SetWatches). Every client check has something
// to judge, and nothing to report.
type consistency struct {
	r       *run
	W, R, P *model.Client
}

func consistencyRun(t *testing.T) *consistency {
	t.Helper()
	r := newRun(t, 21, model.Config{Servers: 3})
	r.e.StartAll()
	l := r.mustStable(30 * sim.Second)
	var fs []int64
	for _, s := range r.e.Servers {
		if s != l {
			fs = append(fs, s.Sid())
		}
	}
	W := r.client(model.ClientConfig{Servers: []int64{l.Sid()}})
	R := r.client(model.ClientConfig{Servers: fs, SessionTimeout: 20 * sim.Second})
	rf := R.Server()
	P := r.client(model.ClientConfig{Servers: []int64{l.Sid()}}) // a reader that only reads
	r.ok(func(cb model.Callback) { W.Create("/a", "a0", model.Persistent, cb) })
	r.ok(func(cb model.Callback) { P.Exists("/a", nil, cb) })
	r.ok(func(cb model.Callback) { R.Sync("/a", cb) })
	w := &nopWatcher{}
	r.ok(func(cb model.Callback) { R.GetData("/a", w, cb) })
	if res := r.do(func(cb model.Callback) { R.Exists("/c", w, cb) }); res.Err != model.ErrNoNode {
		t.Fatalf("exists /c: %s", model.ErrName(res.Err))
	}
	r.ok(func(cb model.Callback) { R.GetChildren("/a", w, cb) })

	r.ok(func(cb model.Callback) { W.SetData("/a", "a1", -1, cb) })
	R.Sync("/a", nil) // pipelined, as the workload does
	if res := r.ok(func(cb model.Callback) { R.GetData("/a", nil, cb) }); res.Data != "a1" {
		t.Fatalf("after sync R read %q", res.Data)
	}
	r.ok(func(cb model.Callback) { W.Create("/c", "c0", model.Persistent, cb) })
	r.ok(func(cb model.Callback) { W.Create("/a/k", "k0", model.Persistent, cb) })
	r.ok(func(cb model.Callback) { R.Sync("/a", cb) })
	r.ok(func(cb model.Callback) { R.GetChildren("/a", nil, cb) })
	r.ok(func(cb model.Callback) { R.Exists("/c", nil, cb) })
	r.ok(func(cb model.Callback) { P.Exists("/zookeeper", nil, cb) })
	cs := &consistency{r: r, W: W, R: R, P: P}
	r.ok(func(cb model.Callback) { R.SetData("/a", "a2", -1, cb) })
	r.ok(func(cb model.Callback) { R.GetData("/a", w, cb) })
	r.ok(func(cb model.Callback) { R.GetData("/a", nil, cb) })
	if w.n != 3 {
		t.Fatalf("%d events before the crash, want 3", w.n)
	}

	// R's follower dies; W changes /a while R is away; R fails over to the other follower,
	// sets its watch again, gets the event, and reads the change.
	r.crash(rf)
	r.ok(func(cb model.Callback) { W.SetData("/a", "a3", -1, cb) })
	if !r.w.RunUntilCond(func() bool { return R.Connected() && R.Server() != rf }, r.w.Now()+30*sim.Second) {
		t.Fatal("R did not fail over")
	}
	if res := r.ok(func(cb model.Callback) { R.GetData("/a", nil, cb) }); res.Data != "a3" {
		t.Fatalf("after failing over R read %q", res.Data)
	}
	if w.n != 4 {
		t.Fatalf("%d events, want 4", w.n)
	}
	r.restart(rf)
	r.settle()
	return cs
}

func TestConsistencyRunPasses(t *testing.T) {
	cs := consistencyRun(t)
	cs.r.mustPass()
	c := cs.r.c
	if c.cl.reads < 8 {
		t.Errorf("only %d reads judged", c.cl.reads)
	}
	lin := c.Linearizability()
	if lin.Outcome != porcupine.Ok || lin.Operations < 10 {
		t.Errorf("linearizability %+v", lin)
	}
}

// --- mutations of the consistency run's trace ---

// find is the index of the first record whose ClientReturn (or other model record of type
// T) satisfies f; the test fails if there is none.
func find[T any](t *testing.T, recs []sim.Record, f func(T) bool) int {
	t.Helper()
	for i := range recs {
		if d, ok := recs[i].Data.(T); ok && f(d) {
			return i
		}
	}
	t.Fatalf("no such %T record", *new(T))
	return -1
}

// withReturn is a copy of recs whose i-th record, a ClientReturn, is changed by f.
func withReturn(recs []sim.Record, i int, f func(*model.ClientReturn)) []sim.Record {
	out := slices.Clone(recs)
	d := *out[i].Data.(*model.ClientReturn)
	f(&d)
	out[i].Data = &d
	return out
}

func without(recs []sim.Record, i int) []sim.Record {
	return slices.Delete(slices.Clone(recs), i, i+1)
}

func twice(recs []sim.Record, i int) []sim.Record {
	return slices.Insert(slices.Clone(recs), i+1, recs[i])
}

// mustOnly checks that vs holds violations of check only, one mentioning every part.
func mustOnly(t *testing.T, vs []Violation, check string, parts ...string) Violation {
	t.Helper()
	if got := checks(vs); !slices.Equal(got, []string{check}) {
		t.Fatalf("checks %v, want only %s:\n%s", got, check, vsText(vs))
	}
	return mustFind(t, vs, check, parts...)
}

type mutations struct {
	t    *testing.T
	cs   *consistency
	recs []sim.Record
	W, R int64
	P    int64
}

func newMutations(t *testing.T) *mutations {
	cs := consistencyRun(t)
	cs.r.mustPass()
	return &mutations{t: t, cs: cs, recs: cs.r.w.Trace().Records(),
		W: int64(cs.W.ID()), R: int64(cs.R.ID()), P: int64(cs.P.ID())}
}

func (m *mutations) check(recs []sim.Record) []Violation { return Check(recs, m.cs.r.opts) }

// ret finds the first ClientReturn of client c with op on path (and data, if not "").
func (m *mutations) ret(c int64, op model.OpCode, path, data string) int {
	return find(m.t, m.recs, func(d *model.ClientReturn) bool {
		return d.Client == c && d.Op == op && d.Path == path && (data == "" || d.Data == data)
	})
}

func TestStaleRead(t *testing.T) {
	m := newMutations(t)
	// R's read of "a1" after the sync shows "a0", overwritten at that zxid.
	i := m.ret(m.R, model.OpGetData, "/a", "a1")
	v := mustOnly(t, m.check(withReturn(m.recs, i, func(d *model.ClientReturn) { d.Data, d.Stat.Version, d.Stat.Mzxid = "a0", 0, d.Stat.Czxid })),
		CheckStaleRead, "read /a", `got "a0"`, `"a1" version 1`, "replaced at")
	if !slices.Contains(v.Records, i) {
		t.Errorf("records %v do not cite the read %d", v.Records, i)
	}
	// getChildren without the child; exists with a wrong number of children.
	j := m.ret(m.R, model.OpGetChildren, "/a", "")
	j = find(t, m.recs[j+1:], func(d *model.ClientReturn) bool { return d.Op == model.OpGetChildren }) + j + 1
	mustOnly(t, m.check(withReturn(m.recs, j, func(d *model.ClientReturn) { d.Children = nil })), CheckStaleRead, "children []")
	k := find(t, m.recs, func(d *model.ClientReturn) bool {
		return d.Client == m.R && d.Op == model.OpExists && d.Path == "/c" && d.Err == model.ErrOK
	})
	mustOnly(t, m.check(withReturn(m.recs, k, func(d *model.ClientReturn) { d.Stat.NumChildren = 2 })), CheckStaleRead, "2 children")
	// A wrong version, or NoNode for a live node, is also beyond any linearization.
	vs := m.check(withReturn(m.recs, k, func(d *model.ClientReturn) { d.Err = model.ErrNoNode }))
	mustFind(t, vs, CheckStaleRead, "got NoNode")
	mustFind(t, vs, CheckLinearizability, "exists() -> NoNode on /c")
}

func TestSessionOrder(t *testing.T) {
	m := newMutations(t)
	// P's second read goes back before its first (the state of /zookeeper is the same at
	// every zxid, so only the order is wrong).
	first := m.ret(m.P, model.OpExists, "/a", "")
	i := m.ret(m.P, model.OpExists, "/zookeeper", "")
	z := m.recs[first].Data.(*model.ClientReturn).Zxid
	v := mustOnly(t, m.check(withReturn(m.recs, i, func(d *model.ClientReturn) { d.Zxid = z - 1 })),
		CheckSessionOrder, "exists /zookeeper", "at zxid "+(z-1).String(), "earlier reply", "at zxid "+z.String())
	if !slices.Equal(v.Records, []int{first, i}) {
		t.Errorf("records %v, want %v", v.Records, []int{first, i})
	}
}

func TestReadYourWrites(t *testing.T) {
	m := newMutations(t)
	w := m.ret(m.R, model.OpSetData, "/a", "a2")
	own := m.recs[w].Data.(*model.ClientReturn).Zxid
	// The reply to R's own write comes from before its txn.
	mustOnly(t, m.check(withReturn(m.recs, w, func(d *model.ClientReturn) { d.Zxid = own - 1 })),
		CheckReadYourWrites, "reply to its setData /a", "before that write's own txn "+own.String())
	// R's last read of /a is served before its write, with the state of then ("a1", and
	// the child /a/k).
	a1 := m.recs[m.ret(m.R, model.OpGetData, "/a", "a1")].Data.(*model.ClientReturn)
	wx := m.recs[w].Data.(*model.ClientReturn).Xid
	i := find(t, m.recs, func(d *model.ClientReturn) bool { return d.Client == m.R && d.Xid == wx+2 })
	v := mustOnly(t, m.check(withReturn(m.recs, i, func(d *model.ClientReturn) {
		d.Zxid, d.Data, d.Stat = own-1, "a1", a1.Stat
		d.Stat.NumChildren = 1
	})), CheckReadYourWrites, "read /a", "before its own write's txn "+own.String())
	if !slices.Contains(v.Records, w) || !slices.Contains(v.Records, i) {
		t.Errorf("records %v do not cite the write %d and the read %d", v.Records, w, i)
	}
}

func TestSyncRead(t *testing.T) {
	m := newMutations(t)
	// The read after the second sync shows "a0", the state before W's "a1", which the
	// leader had committed when it processed the sync.
	i := m.ret(m.R, model.OpGetData, "/a", "a1")
	z := m.recs[i].Data.(*model.ClientReturn).Zxid
	mustOnly(t, m.check(withReturn(m.recs, i, func(d *model.ClientReturn) {
		d.Zxid, d.Data, d.Stat.Version, d.Stat.Mzxid = z-1, "a0", 0, z-1
	})), CheckSyncRead, "read /a", "after a sync that reached "+z.String())
	// The sync itself returns from before that.
	var syncs []int
	for k := range m.recs[:i] {
		if d, ok := m.recs[k].Data.(*model.ClientReturn); ok && d.Client == m.R && d.Op == model.OpSync {
			syncs = append(syncs, k)
		}
	}
	j := syncs[len(syncs)-1]
	mustOnly(t, m.check(withReturn(m.recs, j, func(d *model.ClientReturn) { d.Zxid = z - 1 })),
		CheckSyncRead, "sync (xid", "processed by leader", "when it had "+z.String())
}

func TestWatchOrder(t *testing.T) {
	m := newMutations(t)
	// Without the event of each of R's three watches, R's next read of the path shows the
	// change first.
	for _, tc := range []struct {
		typ  model.EventType
		path string
	}{{model.EventNodeDataChanged, "/a"}, {model.EventNodeCreated, "/c"}, {model.EventNodeChildrenChanged, "/a"}} {
		e := find(t, m.recs, func(d *model.WatchDelivered) bool { return d.Type == tc.typ && d.Path == tc.path })
		z := m.recs[e].Data.(*model.WatchDelivered).Zxid
		mustOnly(t, m.check(without(m.recs, e)), CheckWatchOrder, "read "+tc.path, "shows the change "+z.String())
	}
	// Nor may the event set again on reconnecting come late.
	var last int
	for k := range m.recs {
		if d, ok := m.recs[k].Data.(*model.WatchDelivered); ok && d.Client == m.R {
			last = k
		}
	}
	mustOnly(t, m.check(without(m.recs, last)), CheckWatchOrder, "read /a")
}

func TestWatchOnce(t *testing.T) {
	m := newMutations(t)
	e := find(t, m.recs, func(d *model.WatchDelivered) bool { return d.Type == model.EventNodeCreated })
	v := mustOnly(t, m.check(twice(m.recs, e)), CheckWatchOnce, "NodeCreated event for /c", "already used by an earlier event")
	if !slices.Equal(v.Records, []int{e, e + 1}) {
		t.Errorf("records %v", v.Records)
	}
	// An event for a path the client never watched.
	recs := slices.Clone(m.recs)
	d := *recs[e].Data.(*model.WatchDelivered)
	d.Path = "/elsewhere"
	recs[e].Data = &d
	vs := m.check(recs)
	mustFind(t, vs, CheckWatchOnce, "/elsewhere", "no watch registered")
}

func TestLinearizabilityViolation(t *testing.T) {
	m := newMutations(t)
	// W's setData "a1" returns version 5: no order of the operations on /a explains it.
	i := m.ret(m.W, model.OpSetData, "/a", "a1")
	c := New(m.cs.r.opts)
	recs := withReturn(m.recs, i, func(d *model.ClientReturn) { d.Stat.Version = 5 })
	for k := range recs {
		c.Observe(k, &recs[k])
	}
	vs := c.Finish(recs[len(recs)-1].At)
	v := mustOnly(t, vs, CheckLinearizability, `setData("a1", v=-1) -> v5 on /a`, "operations on /a")
	if !slices.Contains(v.Records, i) || v.At != recs[i].At {
		t.Errorf("violation %s does not point at record %d", v, i)
	}
	lin := c.Linearizability()
	if lin.Outcome != porcupine.Illegal || !slices.Equal(lin.Illegal, []string{"/a"}) {
		t.Fatalf("linearizability %+v", lin)
	}
	res, info, pm := c.LinearizabilityInfo()
	if res != porcupine.Illegal {
		t.Fatalf("verbose check: %s", res)
	}
	var html bytes.Buffer
	if err := porcupine.Visualize(pm, info, &html); err != nil || html.Len() < 1000 {
		t.Fatalf("visualization: %v (%d bytes)", err, html.Len())
	}
	// W's create of /c fails with NodeExists though nobody had created it.
	j := m.ret(m.W, model.OpCreate, "/c", "")
	mustOnly(t, m.check(withReturn(m.recs, j, func(d *model.ClientReturn) { d.Err = model.ErrNodeExists })),
		CheckLinearizability, `create("c0") -> NodeExists on /c`)
}

// The model's workload (10 clients: reads, syncs, writes, multis, ephemeral-sequential
// nodes) on 5 servers through a leader crash, a partition of the ensemble into 2 and 3
// servers, and the crash of a server that hosts clients: every client check passes, and
// the linearizability check reaches its verdict (Ok) on thousands of operations, some of
// them with unknown outcomes.
func TestWorkloadPassesClientChecks(t *testing.T) {
	r := newRun(t, 1, model.Config{Servers: 5})
	r.e.StartAll()
	r.mustStable(30 * sim.Second)
	wl, err := model.NewWorkload(r.e, model.WorkloadConfig{Clients: 10, Client: model.ClientConfig{SessionTimeout: 8 * sim.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if err := wl.Start(); err != nil {
		t.Fatal(err)
	}
	r.w.RunFor(10 * sim.Second)
	l := r.e.Leader().Sid()
	r.crash(l)
	r.w.RunFor(10 * sim.Second)
	r.restart(l)
	r.w.RunFor(5 * sim.Second)
	if err := r.w.Partition(ids(1, 2), ids(3, 4, 5), false); err != nil {
		t.Fatal(err)
	}
	r.w.RunFor(15 * sim.Second)
	r.w.HealAll()
	r.w.RunFor(5 * sim.Second)
	host := r.e.Clients[3].Server()
	r.crash(host)
	r.w.RunFor(10 * sim.Second)
	r.restart(host)
	r.w.RunFor(5 * sim.Second)
	wl.Stop()
	r.settle()
	r.mustPass()

	c := r.c
	lin := c.Linearizability()
	t.Logf("issued %d, completed %d, errors %v; linearizability %s on %d paths, %d operations (%d reads, %d unknown outcomes, %d left out); reads judged %d",
		wl.Issued, wl.Completed, wl.Errors(), lin.Outcome, lin.Paths, lin.Operations, lin.Reads, lin.Pending, lin.Vanished, c.cl.reads)
	if lin.Outcome != porcupine.Ok || lin.Operations < 5000 || lin.Reads < 3000 || lin.Pending == 0 || lin.Vanished == 0 || lin.Paths < 16 {
		t.Errorf("linearizability %+v", lin)
	}
	if c.cl.reads < 5000 || c.cl.unjudged > 0 {
		t.Errorf("%d reads judged, %d not", c.cl.reads, c.cl.unjudged)
	}
	// Sessions moved between servers, and syncs and own writes set floors.
	moved, syncs, own := 0, 0, 0
	first := map[int64]int64{}
	for _, rec := range r.w.Trace().Records() {
		if d, ok := rec.Data.(*model.ClientState); ok && d.State == model.StateSyncConnected {
			if s, ok := first[d.Session]; ok && s != d.Server {
				moved++
			}
			first[d.Session] = d.Server
		}
	}
	c.cl.clients.each(func(_ int64, p *client) {
		if p.s.sync > 0 {
			syncs++
		}
		if p.s.own > 0 {
			own++
		}
	})
	if moved == 0 || syncs < 5 || own < 5 {
		t.Errorf("%d sessions moved, %d with a sync floor, %d with their own writes", moved, syncs, own)
	}
}

// Random faults under the workload: crashes (the leader's among them), partitions that
// isolate one server or split the ensemble, heals, never more than two servers down at a
// time. Every client check passes and porcupine reaches its verdict.
func TestWorkloadRandomFaults(t *testing.T) {
	seeds := 6
	if testing.Short() {
		seeds = 2
	}
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		r := newRun(t, 100+seed, model.Config{Servers: 5})
		r.e.StartAll()
		r.mustStable(30 * sim.Second)
		wl, err := model.NewWorkload(r.e, model.WorkloadConfig{Clients: 10, Client: model.ClientConfig{SessionTimeout: 6 * sim.Second}})
		if err != nil {
			t.Fatal(err)
		}
		if err := wl.Start(); err != nil {
			t.Fatal(err)
		}
		rng := r.w.Stream("test/faults")
		for stop := r.w.Now() + 60*sim.Second; r.w.Now() < stop; {
			sid := int64(1 + rng.IntN(5))
			switch rng.IntN(5) {
			case 0:
				if r.e.Server(sid).Up() {
					r.crash(sid)
				} else {
					r.restart(sid)
				}
			case 1:
				if l := r.e.Leader(); l != nil {
					r.crash(l.Sid())
				}
			case 2:
				var others []int64
				for o := int64(1); o <= 5; o++ {
					if o != sid {
						others = append(others, o)
					}
				}
				r.w.Partition(ids(sid), ids(others...), rng.IntN(2) == 0)
			case 3:
				r.w.Partition(ids(1, 2), ids(3, 4, 5), false)
			default:
				r.w.HealAll()
			}
			r.w.RunFor(sim.Time(rng.IntN(8000)) * sim.Millisecond)
			var down []int64
			for _, s := range r.e.Servers {
				if !s.Up() {
					down = append(down, s.Sid())
				}
			}
			if len(down) > 2 {
				r.restart(down[0])
			}
		}
		r.w.HealAll()
		for _, s := range r.e.Servers {
			if !s.Up() {
				r.restart(s.Sid())
			}
		}
		r.w.RunFor(20 * sim.Second)
		wl.Stop()
		r.settle()
		for _, v := range r.finish() {
			t.Errorf("seed %d: %s", seed, v)
		}
		if lin := r.c.Linearizability(); lin.Outcome != porcupine.Ok {
			t.Errorf("seed %d: linearizability %+v", seed, lin)
		}
	}
}
