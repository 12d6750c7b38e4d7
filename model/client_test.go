package model

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/zabsim/zabsim/sim"
)

// --- helpers for client tests ---

// stableEnsemble starts n servers and waits for a leader.
func stableEnsemble(t *testing.T, seed uint64, cfg Config) (*Ensemble, *Server) {
	t.Helper()
	e := newEnsemble(t, seed, cfg)
	e.StartAll()
	return e, mustStable(t, e, 30*sim.Second)
}

// runUntil runs until cond holds, failing t after within.
func runUntil(t *testing.T, e *Ensemble, within sim.Time, what string, cond func() bool) {
	t.Helper()
	if !e.W.RunUntilCond(cond, e.W.Now()+within) {
		dumpStates(t, e)
		t.Fatalf("not within %s: %s", within, what)
	}
}

// connect starts a client (with cfg) and waits until it has a session.
func connect(t *testing.T, e *Ensemble, cfg ClientConfig) *Client {
	t.Helper()
	c, err := e.StartClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runUntil(t, e, 30*sim.Second, fmt.Sprintf("client %d connected", c.ID()), c.Connected)
	return c
}

// call issues one call and runs until it returns.
func call(t *testing.T, e *Ensemble, issue func(cb Callback)) *Result {
	t.Helper()
	var got *Result
	issue(func(r *Result) { got = r })
	runUntil(t, e, 60*sim.Second, "the call returned", func() bool { return got != nil })
	return got
}

// mustOK fails t unless r succeeded.
func mustOK(t *testing.T, r *Result) *Result {
	t.Helper()
	if r.Err != ErrOK {
		t.Fatalf("%s %s: %s", r.Op, r.Path, ErrName(r.Err))
	}
	return r
}

// followerOf returns a running follower of e (the lowest sid).
func followerOf(e *Ensemble) *Server {
	for _, s := range e.Servers {
		if s.Up() && s.State() == FOLLOWING {
			return s
		}
	}
	return nil
}

// only is a connect string of the given sids.
func only(sids ...int64) ClientConfig { return ClientConfig{Servers: sids} }

// clientReturns is every ClientReturn of client c in the trace.
func clientReturns(e *Ensemble, c *Client) []*ClientReturn {
	var out []*ClientReturn
	for _, r := range recordsOf[*ClientReturn](e) {
		if r.Client == int64(c.ID()) {
			out = append(out, r)
		}
	}
	return out
}

// --- operations and error codes ---

// TestClientOperationsAndErrorCodes runs every operation through a follower and through the
// leader and checks results, the full Stat, and each error code in ZooKeeper's order of
// checks (PrepRequestProcessor.pRequest2Txn).
func TestClientOperationsAndErrorCodes(t *testing.T) {
	for _, via := range []string{"follower", "leader"} {
		t.Run(via, func(t *testing.T) {
			e, l := stableEnsemble(t, 11, Config{Servers: 3})
			srv := l
			if via == "follower" {
				srv = followerOf(e)
			}
			c := connect(t, e, only(srv.Sid()))
			do := func(f func(cb Callback)) *Result { return call(t, e, f) }
			expect := func(r *Result, err int32) *Result {
				t.Helper()
				if r.Err != err {
					t.Fatalf("%s %s: got %s, want %s", r.Op, r.Path, ErrName(r.Err), ErrName(err))
				}
				if r.Server != srv.Sid() {
					t.Fatalf("%s %s answered by %d, want %d", r.Op, r.Path, r.Server, srv.Sid())
				}
				if r.Zxid > srv.LastProcessedZxid() || r.Zxid < c.LastZxid() && r.Zxid != 0 {
					t.Fatalf("%s %s: reply zxid %s outside [client last %s, server last %s]", r.Op, r.Path, r.Zxid, c.LastZxid(), srv.LastProcessedZxid())
				}
				return r
			}

			// create: persistent, and the errors in order
			ca := expect(do(func(cb Callback) { c.Create("/a", "1", Persistent, cb) }), ErrOK)
			if ca.Created != "/a" || ca.Zxid == 0 {
				t.Fatalf("create /a: %+v", ca)
			}
			expect(do(func(cb Callback) { c.Create("/a", "x", Persistent, cb) }), ErrNodeExists)
			expect(do(func(cb Callback) { c.Create("/x/y", "", Persistent, cb) }), ErrNoNode)
			expect(do(func(cb Callback) { c.Create("a", "", Persistent, cb) }), ErrBadArguments)
			expect(do(func(cb Callback) { c.Create("/a/", "", Persistent, cb) }), ErrBadArguments)
			// sequential: the suffix is the parent's cversion (count of creates), %010d
			s0 := expect(do(func(cb Callback) { c.Create("/a/s-", "", PersistentSequential, cb) }), ErrOK)
			s1 := expect(do(func(cb Callback) { c.Create("/a/s-", "", PersistentSequential, cb) }), ErrOK)
			if s0.Created != "/a/s-0000000000" || s1.Created != "/a/s-0000000001" {
				t.Fatalf("sequential names %q %q", s0.Created, s1.Created)
			}
			// ephemeral, and its children refused
			expect(do(func(cb Callback) { c.Create("/e", "eph", Ephemeral, cb) }), ErrOK)
			expect(do(func(cb Callback) { c.Create("/e/c", "", Persistent, cb) }), ErrNoChildrenForEphemerals)
			// NodeExists is checked before NoChildrenForEphemerals
			expect(do(func(cb Callback) { c.Create("/e", "", Persistent, cb) }), ErrNodeExists)
			es := expect(do(func(cb Callback) { c.Create("/a/es-", "", EphemeralSequential, cb) }), ErrOK)
			if es.Created != "/a/es-0000000002" {
				t.Fatalf("ephemeral sequential %q", es.Created)
			}

			// setData with expected versions
			expect(do(func(cb Callback) { c.SetData("/a", "2", 5, cb) }), ErrBadVersion)
			sd := expect(do(func(cb Callback) { c.SetData("/a", "22", 0, cb) }), ErrOK)
			if sd.Stat.Version != 1 || sd.Stat.Mzxid != sd.Zxid {
				t.Fatalf("setData stat %+v (zxid %s)", sd.Stat, sd.Zxid)
			}
			sd2 := expect(do(func(cb Callback) { c.SetData("/a", "333", -1, cb) }), ErrOK)
			expect(do(func(cb Callback) { c.SetData("/nope", "", -1, cb) }), ErrNoNode)

			// getData: data and the full Stat
			g := expect(do(func(cb Callback) { c.GetData("/a", nil, cb) }), ErrOK)
			want := Stat{Czxid: ca.Zxid, Mzxid: sd2.Zxid, Pzxid: es.Zxid, Version: 2,
				Cversion:   3*2 - 3, // three creates, three children (v3 cversion semantics)
				DataLength: 3, NumChildren: 3}
			got := g.Stat
			got.Ctime, got.Mtime = 0, 0
			if g.Data != "333" || got != want {
				t.Fatalf("getData /a = %q %+v\nwant %+v", g.Data, got, want)
			}
			if g.Stat.Ctime <= 0 || g.Stat.Mtime <= g.Stat.Ctime || g.Stat.Mtime > e.W.Now() {
				t.Fatalf("ctime %s mtime %s now %s", g.Stat.Ctime, g.Stat.Mtime, e.W.Now())
			}
			ge := expect(do(func(cb Callback) { c.GetData("/e", nil, cb) }), ErrOK)
			if ge.Stat.EphemeralOwner != c.SessionID() || ge.Data != "eph" {
				t.Fatalf("getData /e %+v, want owner 0x%x", ge, c.SessionID())
			}
			expect(do(func(cb Callback) { c.GetData("/nope", nil, cb) }), ErrNoNode)

			// exists and getChildren
			ex := expect(do(func(cb Callback) { c.Exists("/a/s-0000000000", nil, cb) }), ErrOK)
			if ex.Stat.Czxid != s0.Zxid {
				t.Fatalf("exists stat %+v", ex.Stat)
			}
			expect(do(func(cb Callback) { c.Exists("/nope", nil, cb) }), ErrNoNode)
			ch := expect(do(func(cb Callback) { c.GetChildren("/a", nil, cb) }), ErrOK)
			if !slices.Equal(ch.Children, []string{"es-0000000002", "s-0000000000", "s-0000000001"}) {
				t.Fatalf("children %v", ch.Children)
			}
			expect(do(func(cb Callback) { c.GetChildren("/nope", nil, cb) }), ErrNoNode)

			// delete: NoNode, BadVersion before NotEmpty, special paths
			expect(do(func(cb Callback) { c.Delete("/nope", -1, cb) }), ErrNoNode)
			expect(do(func(cb Callback) { c.Delete("/a", 0, cb) }), ErrBadVersion)
			expect(do(func(cb Callback) { c.Delete("/a", 2, cb) }), ErrNotEmpty)
			expect(do(func(cb Callback) { c.Delete("/", -1, cb) }), ErrBadArguments)
			expect(do(func(cb Callback) { c.Delete("/zookeeper", -1, cb) }), ErrBadArguments)
			expect(do(func(cb Callback) { c.Delete("/a/s-0000000000", 3, cb) }), ErrBadVersion)
			del := expect(do(func(cb Callback) { c.Delete("/a/s-0000000000", 0, cb) }), ErrOK)
			g2 := expect(do(func(cb Callback) { c.GetData("/a", nil, cb) }), ErrOK)
			if g2.Stat.NumChildren != 2 || g2.Stat.Cversion != 3*2-2 || g2.Stat.Pzxid != del.Zxid {
				t.Fatalf("after a delete: %+v", g2.Stat)
			}
			// a delete does not reuse sequence numbers
			s3 := expect(do(func(cb Callback) { c.Create("/a/s-", "", PersistentSequential, cb) }), ErrOK)
			if s3.Created != "/a/s-0000000003" {
				t.Fatalf("sequential after a delete %q", s3.Created)
			}

			// multi: all or nothing
			m := expect(do(func(cb Callback) {
				c.Multi([]Op{OpCreateOf("/m", "m0", Persistent), OpSetDataOf("/m", "m1", 0), OpCheckOf("/m", 1)}, cb)
			}), ErrOK)
			if len(m.Results) != 3 || m.Results[0].Path != "/m" || m.Results[1].Stat.Version != 1 {
				t.Fatalf("multi results %+v", m.Results)
			}
			mf := expect(do(func(cb Callback) {
				c.Multi([]Op{OpCreateOf("/m2", "", Persistent), OpDeleteOf("/nope", -1), OpSetDataOf("/m", "zz", -1)}, cb)
			}), ErrNoNode)
			codes := []int32{mf.Results[0].Err, mf.Results[1].Err, mf.Results[2].Err}
			if !slices.Equal(codes, []int32{ErrOK, ErrNoNode, ErrRuntimeInconsistency}) {
				t.Fatalf("failed multi results %v", codes)
			}
			expect(do(func(cb Callback) { c.Exists("/m2", nil, cb) }), ErrNoNode)
			if v := expect(do(func(cb Callback) { c.GetData("/m", nil, cb) }), ErrOK); v.Data != "m1" {
				t.Fatalf("a failed multi changed /m to %q", v.Data)
			}
			expect(do(func(cb Callback) { c.Multi([]Op{OpCheckOf("/m", 7)}, cb) }), ErrBadVersion)

			// sync
			expect(do(func(cb Callback) { c.Sync("/a", cb) }), ErrOK)

			// every change is the same on every server
			e.W.RunFor(sim.Second)
			for _, s := range e.Servers {
				for _, p := range []string{"/a", "/m", "/e", "/a/es-0000000002"} {
					d1, st1, ok1 := srv.Tree().GetData(p)
					d2, st2, ok2 := s.Tree().GetData(p)
					if d1 != d2 || st1 != st2 || ok1 != ok2 || !ok1 {
						t.Errorf("server %d %s: %q %+v %v, server %d: %q %+v %v", s.Sid(), p, d2, st2, ok2, srv.Sid(), d1, st1, ok1)
					}
				}
			}
		})
	}
}

// TestReplyCarriesServerZxid: every reply's zxid is the server's lastProcessedZxid when it
// answered: a read after writes by others reports the server's latest zxid.
func TestReplyCarriesServerZxid(t *testing.T) {
	e, l := stableEnsemble(t, 12, Config{Servers: 3})
	f := followerOf(e)
	a := connect(t, e, only(f.Sid()))
	b := connect(t, e, only(l.Sid()))
	mustOK(t, call(t, e, func(cb Callback) { b.Create("/z", "1", Persistent, cb) }))
	w := mustOK(t, call(t, e, func(cb Callback) { b.SetData("/z", "2", -1, cb) }))
	runUntil(t, e, 5*sim.Second, "follower applied the write", func() bool { return f.LastProcessedZxid() >= w.Zxid })
	r2 := call(t, e, func(cb Callback) { a.GetData("/z", nil, cb) })
	if r2.Zxid != f.LastProcessedZxid() || r2.Data != "2" {
		t.Fatalf("read at zxid %s data %q; follower at %s", r2.Zxid, r2.Data, f.LastProcessedZxid())
	}
	if a.LastZxid() != r2.Zxid {
		t.Fatalf("client lastZxid %s after a reply at %s", a.LastZxid(), r2.Zxid)
	}
}

// TestPipelinedRequestsSeeOutstandingChanges: requests sent without waiting are validated
// against the changes still outstanding (PrepRequestProcessor.getRecordForPath), so a
// create under a node created by the previous, uncommitted request succeeds, and a second
// create of the same path fails with NodeExists.
func TestPipelinedRequestsSeeOutstandingChanges(t *testing.T) {
	e, l := stableEnsemble(t, 13, Config{Servers: 3})
	c := connect(t, e, only(followerOf(e).Sid()))
	var res []*Result
	keep := func(r *Result) { res = append(res, r) }
	c.Create("/p", "", Persistent, keep)
	c.Create("/p/c", "", Persistent, keep)
	c.Create("/p/c/d", "", Persistent, keep)
	c.Create("/q", "", Persistent, keep)
	c.Create("/q", "", Persistent, keep)
	c.Create("/p/s-", "", PersistentSequential, keep)
	c.Create("/p/s-", "", PersistentSequential, keep)
	c.SetData("/q", "a", 0, keep)
	c.SetData("/q", "b", 1, keep)
	c.Delete("/p/c/d", 0, keep)
	c.Delete("/p/c", 0, keep)
	c.GetChildren("/p", nil, keep)
	runUntil(t, e, 10*sim.Second, "all returned", func() bool { return len(res) == 12 })
	want := []int32{ErrOK, ErrOK, ErrOK, ErrOK, ErrNodeExists, ErrOK, ErrOK, ErrOK, ErrOK, ErrOK, ErrOK, ErrOK}
	for i, r := range res {
		if r.Err != want[i] {
			t.Errorf("call %d (%s %s): %s, want %s", i, r.Op, r.Path, ErrName(r.Err), ErrName(want[i]))
		}
		if i > 0 && r.Xid <= res[i-1].Xid {
			t.Errorf("answered out of order: xid %d after %d", r.Xid, res[i-1].Xid)
		}
	}
	if res[5].Created != "/p/s-0000000001" || res[6].Created != "/p/s-0000000002" {
		t.Errorf("pipelined sequential names %q %q", res[5].Created, res[6].Created)
	}
	if !slices.Equal(res[11].Children, []string{"s-0000000001", "s-0000000002"}) {
		t.Errorf("children %v", res[11].Children)
	}
	if n := len(l.leader.outstandingChanges); n != 0 {
		t.Errorf("%d outstanding changes left", n)
	}
}

// TestFailedMultiRollsBackOutstandingChanges: a multi that fails takes its change records
// back (rollbackPendingChanges), so a pipelined create under its would-be node fails.
func TestFailedMultiRollsBackOutstandingChanges(t *testing.T) {
	e, _ := stableEnsemble(t, 14, Config{Servers: 3})
	c := connect(t, e, ClientConfig{})
	var res []*Result
	keep := func(r *Result) { res = append(res, r) }
	c.Multi([]Op{OpCreateOf("/r", "", Persistent), OpCreateOf("/r/x", "", Persistent), OpDeleteOf("/missing", -1)}, keep)
	c.Create("/r/x", "", Persistent, keep)
	c.Create("/r", "", Persistent, keep)
	c.Create("/r/x", "", Persistent, keep)
	runUntil(t, e, 10*sim.Second, "all returned", func() bool { return len(res) == 4 })
	got := []int32{res[0].Err, res[1].Err, res[2].Err, res[3].Err}
	if !slices.Equal(got, []int32{ErrNoNode, ErrNoNode, ErrOK, ErrOK}) {
		t.Fatalf("results %v", got)
	}
}

// TestSessionTimeoutIsClamped: the requested timeout is clamped to [2, 20] x tickTime and
// the client derives its read and connect timeouts from the negotiated one.
func TestSessionTimeoutIsClamped(t *testing.T) {
	e, _ := stableEnsemble(t, 15, Config{Servers: 3, TickTime: 2 * sim.Second})
	for _, tc := range []struct{ ask, want sim.Time }{{sim.Second, 4 * sim.Second}, {10 * sim.Second, 10 * sim.Second}, {10 * sim.Minute, 40 * sim.Second}} {
		c := connect(t, e, ClientConfig{SessionTimeout: tc.ask})
		if c.SessionTimeout() != tc.want || c.readTimeout != tc.want*2/3 || c.connectTimeout != tc.want/3 {
			t.Errorf("asked %s: negotiated %s read %s connect %s", tc.ask, c.SessionTimeout(), c.readTimeout, c.connectTimeout)
		}
	}
}

// TestPingIdle mirrors SendThread.run's ping rule.
func TestPingIdle(t *testing.T) {
	for _, tc := range []struct{ read, want sim.Time }{
		{sim.Second, 500 * sim.Millisecond},                // readTimeout/2 <= 1s
		{3 * sim.Second, sim.Second + sim.Millisecond},     // as soon as idle > 1s
		{20 * sim.Second, 9 * sim.Second},                  // readTimeout/2 - 1s
		{40 * sim.Second, 10*sim.Second + sim.Millisecond}, // MAX_SEND_PING_INTERVAL
	} {
		if got := pingIdle(tc.read); got != tc.want {
			t.Errorf("pingIdle(%s) = %s, want %s", tc.read, got, tc.want)
		}
	}
}

// TestCloseSessionDeletesEphemeralsEverywhere: close() is a closeSession txn; every server
// deletes the session's ephemerals when it applies it, and the handle is closed for good.
func TestCloseSessionDeletesEphemeralsEverywhere(t *testing.T) {
	e, _ := stableEnsemble(t, 16, Config{Servers: 3})
	c := connect(t, e, ClientConfig{})
	mustOK(t, call(t, e, func(cb Callback) { c.Create("/eph", "", Ephemeral, cb) }))
	mustOK(t, call(t, e, func(cb Callback) { c.Create("/dir", "", Persistent, cb) }))
	mustOK(t, call(t, e, func(cb Callback) { c.Create("/dir/x-", "", EphemeralSequential, cb) }))
	session := c.SessionID()
	mustOK(t, call(t, e, func(cb Callback) { c.Close(cb) }))
	if c.State() != ClientClosed {
		t.Fatalf("state %s after close", c.State())
	}
	e.W.RunFor(sim.Second)
	for _, s := range e.Servers {
		if _, _, ok := s.Tree().GetData("/eph"); ok {
			t.Errorf("server %d still has /eph", s.Sid())
		}
		if ch, _, _ := s.Tree().GetChildren("/dir"); len(ch) != 0 {
			t.Errorf("server %d still has /dir/%v", s.Sid(), ch)
		}
		if slices.Contains(s.Tree().Sessions(), session) {
			t.Errorf("server %d still has the session", s.Sid())
		}
	}
	closed := recordsOf[*SessionClosed](e)
	if len(closed) != 3 || len(closed[0].Deleted) != 2 {
		t.Fatalf("SessionClosed records %+v", closed)
	}
	if r := call(t, e, func(cb Callback) { c.GetData("/dir", nil, cb) }); r.Err != ErrSessionExpired {
		t.Fatalf("a call on a closed handle: %s", ErrName(r.Err))
	}
}

// TestServerNotServingRefusesClients: a server that is LOOKING (here: cut off from the
// others) accepts the TCP connection and closes it at the ConnectRequest; the client keeps
// trying and gets ConnectionLoss for what it queued.
func TestServerNotServingRefusesClients(t *testing.T) {
	e := newEnsemble(t, 17, Config{Servers: 3})
	e.StartAll()
	e.W.Partition(ids(1), ids(2, 3), false)
	runUntil(t, e, 30*sim.Second, "2 and 3 elect a leader", func() bool { return e.Leader() != nil })
	c, _ := e.StartClient(only(1))
	var r *Result
	c.GetData("/", nil, func(res *Result) { r = res })
	e.W.RunFor(10 * sim.Second)
	if c.Connected() || r == nil || r.Err != ErrConnectionLoss {
		t.Fatalf("connected=%v result %+v", c.Connected(), r)
	}
	refused := 0
	for _, rec := range recordsOf[*ClientConnect](e) {
		if rec.Sid == 1 && rec.Outcome == "refused: not serving" {
			refused++
		}
	}
	if refused < 3 {
		t.Fatalf("%d refusals by the LOOKING server", refused)
	}
	// Once it can join, it serves.
	e.W.HealAll()
	runUntil(t, e, 30*sim.Second, "the client connected", c.Connected)
}

// TestPendingRequestsGetConnectionLoss: the server dies with requests in flight: they
// return ConnectionLoss when the connection closes; the client fails over to another
// server and keeps its session and ephemerals.
func TestPendingRequestsGetConnectionLoss(t *testing.T) {
	e, _ := stableEnsemble(t, 18, Config{Servers: 3})
	c := connect(t, e, ClientConfig{SessionTimeout: 10 * sim.Second})
	f := e.Server(c.Server())
	mustOK(t, call(t, e, func(cb Callback) { c.Create("/eph", "", Ephemeral, cb) }))
	session := c.SessionID()
	e.W.Pause(f.nid) // the server stops answering; then it crashes
	var res []*Result
	for i := 0; i < 3; i++ {
		c.SetData("/eph", "v"+fmt.Sprint(i), -1, func(r *Result) { res = append(res, r) })
	}
	e.W.RunFor(100 * sim.Millisecond)
	e.W.Crash(f.nid)
	runUntil(t, e, 20*sim.Second, "the calls returned", func() bool { return len(res) == 3 })
	runUntil(t, e, 5*sim.Second, "disconnected", func() bool { return !c.Connected() })
	for _, r := range res {
		if r.Err != ErrConnectionLoss || r.Server != -1 {
			t.Errorf("pending call: %+v", r)
		}
	}
	runUntil(t, e, 20*sim.Second, "reconnected", c.Connected)
	if c.SessionID() != session || c.Server() == f.Sid() {
		t.Fatalf("after failover: session 0x%x server %d", c.SessionID(), c.Server())
	}
	st := recordsOf[*ClientState](e)
	var states []string
	for _, s := range st {
		if s.Client == int64(c.ID()) {
			states = append(states, s.State.String())
		}
	}
	if !slices.Contains(states, "Disconnected") || states[len(states)-1] != "SyncConnected" {
		t.Fatalf("session states %v", states)
	}
	r := mustOK(t, call(t, e, func(cb Callback) { c.Exists("/eph", nil, cb) }))
	if r.Stat.EphemeralOwner != session {
		t.Fatalf("ephemeral owner 0x%x", r.Stat.EphemeralOwner)
	}
}

// TestReadTimeoutErrors: a server that stops answering (paused) makes the client give up
// after its read timeout (2/3 of the session timeout): the Java client reports
// ConnectionLoss, the C client OperationTimeout; with zookeeper.request.timeout the oldest
// call gets RequestTimeout first and the rest ConnectionLoss.
func TestReadTimeoutErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  ClientConfig
		want []int32
		at   sim.Time // when the first call returns, after the pause
	}{
		{"java", ClientConfig{SessionTimeout: 6 * sim.Second}, []int32{ErrConnectionLoss, ErrConnectionLoss}, 4 * sim.Second},
		{"c", ClientConfig{SessionTimeout: 6 * sim.Second, CClientTimeouts: true}, []int32{ErrOperationTimeout, ErrOperationTimeout}, 4 * sim.Second},
		{"request timeout", ClientConfig{SessionTimeout: 6 * sim.Second, RequestTimeout: sim.Second}, []int32{ErrRequestTimeout, ErrConnectionLoss}, sim.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := stableEnsemble(t, 19, Config{Servers: 3})
			c := connect(t, e, tc.cfg)
			srv := e.Server(c.Server())
			mustOK(t, call(t, e, func(cb Callback) { c.Create("/t", "", Persistent, cb) }))
			e.W.Pause(srv.nid)
			paused := e.W.Now()
			var res []*Result
			c.GetData("/t", nil, func(r *Result) { res = append(res, r) })
			c.GetData("/t", nil, func(r *Result) { res = append(res, r) })
			runUntil(t, e, 10*sim.Second, "both returned", func() bool { return len(res) == 2 })
			for i, r := range res {
				if r.Err != tc.want[i] {
					t.Errorf("call %d: %s, want %s", i, ErrName(r.Err), ErrName(tc.want[i]))
				}
			}
			if d := res[0].ReturnAt - paused; d < tc.at-sim.Second || d > tc.at+sim.Second/2 {
				t.Errorf("first call returned %s after the pause, want about %s", d, tc.at)
			}
			e.W.Resume(srv.nid)
			runUntil(t, e, 20*sim.Second, "reconnected", c.Connected)
		})
	}
}

// TestSyncThenReadSeesEarlierWrites: a follower that lags (its link from the leader is
// clogged) serves a stale read at once, but a sync waits for the leader's SYNC, which
// follows every commit before it, so the read after the sync sees the write.
func TestSyncThenReadSeesEarlierWrites(t *testing.T) {
	e, l := stableEnsemble(t, 20, Config{Servers: 3})
	f := followerOf(e)
	a := connect(t, e, only(f.Sid()))
	b := connect(t, e, only(l.Sid()))
	mustOK(t, call(t, e, func(cb Callback) { b.Create("/k", "old", Persistent, cb) }))
	runUntil(t, e, 5*sim.Second, "follower has /k", func() bool { _, _, ok := f.Tree().GetData("/k"); return ok })
	until := e.W.Now() + 2*sim.Second
	e.W.Clog(ids(l.Sid()), ids(f.Sid()), true, until)
	w := mustOK(t, call(t, e, func(cb Callback) { b.SetData("/k", "new", -1, cb) }))
	stale := mustOK(t, call(t, e, func(cb Callback) { a.GetData("/k", nil, cb) }))
	if stale.Data != "old" || stale.Zxid >= w.Zxid {
		t.Fatalf("read on the lagging follower: %q at %s (write at %s)", stale.Data, stale.Zxid, w.Zxid)
	}
	var sync, read *Result
	a.Sync("/k", func(r *Result) { sync = r })
	a.GetData("/k", nil, func(r *Result) { read = r })
	runUntil(t, e, 10*sim.Second, "sync and read returned", func() bool { return read != nil })
	mustOK(t, sync)
	if sync.ReturnAt < until || sync.Zxid < w.Zxid || read.Data != "new" || read.Zxid < w.Zxid {
		t.Fatalf("sync at %s zxid %s; read %q at %s; write %s, clog until %s", sync.ReturnAt, sync.Zxid, read.Data, read.Zxid, w.Zxid, until)
	}
}

// TestClientNeverConnectsToAServerBehindIt: a client that has seen zxid Z is refused by a
// server whose lastProcessedZxid is below Z ("Refusing session request ... client must try
// another server") and connects once a server has caught up.
func TestClientNeverConnectsToAServerBehindIt(t *testing.T) {
	e, l := stableEnsemble(t, 21, Config{Servers: 3})
	var fs []*Server
	for _, s := range e.Servers {
		if s != l {
			fs = append(fs, s)
		}
	}
	f1, f2 := fs[0], fs[1]
	c := connect(t, e, only(f1.Sid(), f2.Sid()))
	first := e.Server(c.Server())
	behind := f2
	if first == f2 {
		behind = f1
	}
	mustOK(t, call(t, e, func(cb Callback) { c.Create("/v", "0", Persistent, cb) }))
	e.W.RunFor(sim.Second)
	// The other follower stops hearing from the leader for 3s (but stays a follower).
	until := e.W.Now() + 3*sim.Second
	e.W.Clog(ids(l.Sid()), ids(behind.Sid()), true, until)
	for i := 1; i <= 3; i++ {
		mustOK(t, call(t, e, func(cb Callback) { c.SetData("/v", fmt.Sprint(i), -1, cb) }))
	}
	seen := c.LastZxid()
	if behind.LastProcessedZxid() >= seen {
		t.Fatalf("the clogged follower is not behind: %s >= %s", behind.LastProcessedZxid(), seen)
	}
	crash(t, e, first.Sid())
	runUntil(t, e, 5*sim.Second, "disconnected", func() bool { return !c.Connected() })
	runUntil(t, e, 30*sim.Second, "reconnected", c.Connected)
	if c.Server() != behind.Sid() || e.W.Now() < until {
		t.Fatalf("connected to %d at %s (clog until %s)", c.Server(), e.W.Now(), until)
	}
	refused := 0
	for _, r := range recordsOf[*ClientConnect](e) {
		if r.Client != int64(c.ID()) {
			continue
		}
		switch r.Outcome {
		case "refused: zxid ahead":
			refused++
			if r.ClientZxid <= r.ServerZxid {
				t.Errorf("refused although the server was not behind: %+v", r)
			}
		case "established", "renewed":
			if r.ServerZxid < r.ClientZxid {
				t.Errorf("accepted by a server behind the client: %+v", r)
			}
		}
	}
	if refused == 0 {
		t.Fatal("the lagging follower never refused the client")
	}
	v := mustOK(t, call(t, e, func(cb Callback) { c.GetData("/v", nil, cb) }))
	if v.Data != "3" {
		t.Fatalf("read %q after reconnecting, want the client's own last write", v.Data)
	}
	// The client's zxids never went back.
	var last Zxid
	for _, r := range clientReturns(e, c) {
		if r.Zxid != 0 && r.Zxid < last {
			t.Fatalf("zxid went back: %s after %s", r.Zxid, last)
		}
		last = max(last, r.Zxid)
	}
}

// TestRecordsPairCallsAndReturns: every ClientCall has exactly one ClientReturn with the same
// (client, xid), after it, with the same op; and their text forms read well.
func TestRecordsPairCallsAndReturns(t *testing.T) {
	e, _ := stableEnsemble(t, 22, Config{Servers: 3})
	c := connect(t, e, ClientConfig{})
	mustOK(t, call(t, e, func(cb Callback) { c.Create("/p", "v1", Persistent, cb) }))
	mustOK(t, call(t, e, func(cb Callback) { c.GetData("/p", nil, cb) }))
	call(t, e, func(cb Callback) { c.Delete("/p/q", -1, cb) })
	type key struct {
		client int64
		xid    int32
	}
	calls := map[key]*ClientCall{}
	var texts []string
	for _, r := range e.W.Trace().Records() {
		switch d := r.Data.(type) {
		case *ClientCall:
			calls[key{d.Client, d.Xid}] = d
			texts = append(texts, r.String())
		case *ClientReturn:
			k := key{d.Client, d.Xid}
			cl := calls[k]
			if cl == nil || cl.Op != d.Op || cl.Path != d.Path {
				t.Fatalf("return without its call: %+v", d)
			}
			delete(calls, k)
			texts = append(texts, r.String())
		}
	}
	if len(calls) != 0 {
		t.Fatalf("calls without a return: %v", calls)
	}
	joined := strings.Join(texts, "\n")
	for _, want := range []string{`create /p ="v1"`, `getData /p OK`, `="v1" ver=0`, `delete /p/q v=-1`, `NoNode`} {
		if !strings.Contains(joined, want) {
			t.Errorf("records lack %q:\n%s", want, joined)
		}
	}
}

// TestClientOnObserver: an observer serves reads itself, forwards writes and syncs to the
// leader (ObserverRequestProcessor), answers after the INFORM, and delivers watches.
func TestClientOnObserver(t *testing.T) {
	e, l := stableEnsemble(t, 23, Config{Servers: 3, Observers: 1})
	obs := e.Server(4)
	c := connect(t, e, only(4))
	w := connect(t, e, only(l.Sid()))
	mustOK(t, call(t, e, func(cb Callback) { c.Create("/o", "1", Persistent, cb) }))
	log := &eventLog{}
	mustOK(t, call(t, e, func(cb Callback) { c.GetData("/o", log, cb) }))
	mustOK(t, call(t, e, func(cb Callback) { w.SetData("/o", "2", -1, cb) }))
	mustOK(t, call(t, e, func(cb Callback) { c.Sync("/o", cb) }))
	r := mustOK(t, call(t, e, func(cb Callback) { c.GetData("/o", nil, cb) }))
	if r.Data != "2" || r.Server != 4 || r.Zxid != obs.LastProcessedZxid() {
		t.Fatalf("read on the observer %+v (observer at %s)", r, obs.LastProcessedZxid())
	}
	if got := log.types(); !slices.Equal(got, []EventType{EventNodeDataChanged}) {
		t.Fatalf("events %v", got)
	}
}
