package model

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/zabsim/zabsim/sim"
)

// eventLog is a watcher that keeps the node events it gets.
type eventLog struct {
	events []WatchedEvent
}

func (l *eventLog) Process(e WatchedEvent) {
	if e.Type != EventNone {
		l.events = append(l.events, e)
	}
}

func (l *eventLog) types() []EventType {
	var out []EventType
	for _, e := range l.events {
		out = append(out, e.Type)
	}
	return out
}

// TestWatchFiresOnceAndBeforeTheReadThatShowsTheChange: a client on a follower watches /w
// and keeps reading it; another client changes /w twice through the leader. The watch fires
// once (watches are one-shot), carrying the first change's zxid, and it reaches the client
// before any read that returns a changed value (WatchManager.triggerWatch runs when the
// follower applies the txn, and the event is written to the connection before any later
// reply).
func TestWatchFiresOnceAndBeforeTheReadThatShowsTheChange(t *testing.T) {
	e, l := stableEnsemble(t, 41, Config{Servers: 3})
	a := connect(t, e, only(followerOf(e).Sid()))
	b := connect(t, e, only(l.Sid()))
	mustOK(t, call(t, e, func(cb Callback) { b.Create("/w", "v0", Persistent, cb) }))
	runUntil(t, e, 5*sim.Second, "a sees /w", func() bool {
		r := call(t, e, func(cb Callback) { a.Exists("/w", nil, cb) })
		return r.Err == ErrOK
	})
	log := &eventLog{}
	mustOK(t, call(t, e, func(cb Callback) { a.GetData("/w", log, cb) }))

	// a polls /w every millisecond for two seconds
	stop := e.W.Now() + 2*sim.Second
	var poll func()
	poll = func() {
		if e.W.Now() >= stop {
			return
		}
		a.GetData("/w", nil, nil)
		e.W.At(e.W.Now()+sim.Millisecond, poll)
	}
	poll()
	e.W.RunFor(200 * sim.Millisecond)
	w1 := mustOK(t, call(t, e, func(cb Callback) { b.SetData("/w", "v1", -1, cb) }))
	mustOK(t, call(t, e, func(cb Callback) { b.SetData("/w", "v2", -1, cb) }))
	e.W.RunUntil(stop + sim.Second)

	if got := log.types(); !slices.Equal(got, []EventType{EventNodeDataChanged}) || log.events[0].Path != "/w" {
		t.Fatalf("events %v", log.events)
	}
	eventIdx, firstNew := -1, -1
	for i, r := range e.W.Trace().Records() {
		switch d := r.Data.(type) {
		case *WatchDelivered:
			if d.Client == int64(a.ID()) {
				if d.Zxid != w1.Zxid || d.Type != EventNodeDataChanged {
					t.Errorf("event %+v, want the first write %s", d, w1.Zxid)
				}
				eventIdx = i
			}
		case *ClientReturn:
			if d.Client == int64(a.ID()) && d.Op == OpGetData && d.Data != "v0" && firstNew < 0 {
				firstNew = i
				if d.Zxid < w1.Zxid {
					t.Errorf("read %q at %s, before the write %s", d.Data, d.Zxid, w1.Zxid)
				}
			}
		}
	}
	if eventIdx < 0 || firstNew < 0 || eventIdx > firstNew {
		t.Fatalf("event at record %d, first read of the change at record %d", eventIdx, firstNew)
	}
}

// TestWatchOnOwnWriteArrivesBeforeItsReply: the client that makes the change gets the
// event before the reply to its own write.
func TestWatchOnOwnWriteArrivesBeforeItsReply(t *testing.T) {
	e, _ := stableEnsemble(t, 42, Config{Servers: 3})
	c := connect(t, e, ClientConfig{})
	mustOK(t, call(t, e, func(cb Callback) { c.Create("/x", "0", Persistent, cb) }))
	log := &eventLog{}
	mustOK(t, call(t, e, func(cb Callback) { c.Exists("/x", log, cb) }))
	var seenAtReply int
	mustOK(t, call(t, e, func(cb Callback) {
		c.SetData("/x", "1", -1, func(r *Result) { seenAtReply = len(log.events); cb(r) })
	}))
	if seenAtReply != 1 {
		t.Fatalf("%d events when the setData reply came", seenAtReply)
	}
}

// TestWatchEventTypes: exists on a missing node waits for NodeCreated; data watches see
// NodeDataChanged and NodeDeleted but not child changes; child watches see
// NodeChildrenChanged and NodeDeleted of the watched node; a watcher set twice on a path
// is called once (DataTree.deleteNode suppresses the child watch a data watch already
// told).
func TestWatchEventTypes(t *testing.T) {
	e, _ := stableEnsemble(t, 43, Config{Servers: 3})
	c := connect(t, e, ClientConfig{})
	w := connect(t, e, ClientConfig{}) // the writer
	do := func(f func(cb Callback)) *Result { return call(t, e, f) }

	created := &eventLog{}
	if r := do(func(cb Callback) { c.Exists("/n", created, cb) }); r.Err != ErrNoNode {
		t.Fatalf("exists: %s", ErrName(r.Err))
	}
	mustOK(t, do(func(cb Callback) { w.Create("/n", "", Persistent, cb) }))

	data := &eventLog{}
	mustOK(t, do(func(cb Callback) { c.GetData("/n", data, cb) }))
	mustOK(t, do(func(cb Callback) { c.Exists("/n", data, cb) })) // same watcher again
	mustOK(t, do(func(cb Callback) { w.Create("/n/child", "", Persistent, cb) }))
	mustOK(t, do(func(cb Callback) { w.SetData("/n", "1", -1, cb) }))
	mustOK(t, do(func(cb Callback) { w.SetData("/n", "2", -1, cb) })) // not watched any more

	child := &eventLog{}
	mustOK(t, do(func(cb Callback) { c.GetChildren("/n", child, cb) }))
	mustOK(t, do(func(cb Callback) { w.Delete("/n/child", -1, cb) }))
	mustOK(t, do(func(cb Callback) { c.GetChildren("/n", child, cb) }))
	both := &eventLog{}
	mustOK(t, do(func(cb Callback) { c.GetData("/n", both, cb) }))
	mustOK(t, do(func(cb Callback) { c.GetChildren("/n", both, cb) }))
	mustOK(t, do(func(cb Callback) { w.Delete("/n", -1, cb) }))
	e.W.RunFor(100 * sim.Millisecond)

	for _, tc := range []struct {
		name string
		log  *eventLog
		want []EventType
	}{
		{"exists on a missing node", created, []EventType{EventNodeCreated}},
		{"data watch (twice)", data, []EventType{EventNodeDataChanged}},
		{"child watch", child, []EventType{EventNodeChildrenChanged, EventNodeDeleted}},
		{"data and child watch, node deleted", both, []EventType{EventNodeDeleted}},
	} {
		if got := tc.log.types(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// The writer set no watches and got no events; the server holds no watches now.
	for _, s := range e.Servers {
		if n := s.Tree().WatchCount(); n != 0 {
			t.Errorf("server %d still holds %d watches", s.Sid(), n)
		}
	}
}

// TestWatchesAreSetAgainAfterReconnect: the client's server dies; while the client is
// away, watched nodes change. On reconnecting the client sends SetWatches with its last
// zxid (ClientCnxn.primeConnection) and the new server fires at once the watches whose
// node changed after it (DataTree.setWatches) and keeps the others.
func TestWatchesAreSetAgainAfterReconnect(t *testing.T) {
	e, l := stableEnsemble(t, 44, Config{Servers: 3})
	f := followerOf(e)
	var other int64
	for _, s := range e.Servers {
		if s != f && s != l {
			other = s.Sid()
		}
	}
	c := connect(t, e, only(f.Sid(), other))
	w := connect(t, e, only(l.Sid()))
	do := func(f func(cb Callback)) *Result { return call(t, e, f) }
	for _, p := range []string{"/d1", "/d2", "/c", "/gone"} {
		mustOK(t, do(func(cb Callback) { w.Create(p, "", Persistent, cb) }))
	}
	runUntil(t, e, 5*sim.Second, "c caught up", func() bool { return e.Server(c.Server()).LastProcessedZxid() >= w.LastZxid() })
	logs := map[string]*eventLog{}
	for _, p := range []string{"/d1", "/d2", "/n1", "/c", "/gone"} {
		logs[p] = &eventLog{}
	}
	mustOK(t, do(func(cb Callback) { c.GetData("/d1", logs["/d1"], cb) }))
	mustOK(t, do(func(cb Callback) { c.GetData("/d2", logs["/d2"], cb) }))
	do(func(cb Callback) { c.Exists("/n1", logs["/n1"], cb) })
	mustOK(t, do(func(cb Callback) { c.GetChildren("/c", logs["/c"], cb) }))
	mustOK(t, do(func(cb Callback) { c.GetData("/gone", logs["/gone"], cb) }))

	crash(t, e, c.Server())
	mustOK(t, do(func(cb Callback) { w.SetData("/d1", "changed", -1, cb) }))
	mustOK(t, do(func(cb Callback) { w.Create("/n1", "", Persistent, cb) }))
	mustOK(t, do(func(cb Callback) { w.Create("/c/kid", "", Persistent, cb) }))
	mustOK(t, do(func(cb Callback) { w.Delete("/gone", -1, cb) }))
	for _, p := range []string{"/d1", "/n1", "/c", "/gone"} {
		if n := len(logs[p].events); n != 0 {
			t.Fatalf("%s fired while the client was away", p)
		}
	}
	runUntil(t, e, 5*sim.Second, "disconnected", func() bool { return !c.Connected() })
	runUntil(t, e, 30*sim.Second, "reconnected", c.Connected)
	e.W.RunFor(100 * sim.Millisecond)
	for p, want := range map[string]EventType{"/d1": EventNodeDataChanged, "/n1": EventNodeCreated, "/c": EventNodeChildrenChanged, "/gone": EventNodeDeleted} {
		if got := logs[p].types(); !slices.Equal(got, []EventType{want}) {
			t.Errorf("%s: %v, want %s", p, got, want)
		}
	}
	if len(logs["/d2"].events) != 0 {
		t.Fatalf("/d2 fired without a change")
	}
	mustOK(t, do(func(cb Callback) { w.SetData("/d2", "now", -1, cb) }))
	e.W.RunFor(100 * sim.Millisecond)
	if got := logs["/d2"].types(); !slices.Equal(got, []EventType{EventNodeDataChanged}) {
		t.Errorf("/d2 after reconnect: %v", got)
	}
	sw := 0
	for _, r := range e.W.Trace().Records() {
		if m, ok := r.Data.(*ClientRequest); ok && r.Kind == sim.RecSend && m.Type == OpSetWatches {
			sw++
			if m.RelativeZxid == 0 || len(m.DataWatches) != 3 || len(m.ExistWatches) != 1 || len(m.ChildWatches) != 1 {
				t.Errorf("SetWatches %s", r.String())
			}
		}
	}
	if sw != 1 {
		t.Errorf("%d SetWatches sent", sw)
	}
}

// A SetWatches request carries its record flat in JSON, as before it had a struct of its
// own; other requests carry none of its fields; one read from a trace without its record
// prints as empty lists instead of failing.
func TestSetWatchesRecord(t *testing.T) {
	sw := &ClientRequest{Xid: setWatchesXid, Type: OpSetWatches, SetWatches: &SetWatches{RelativeZxid: 0x100000002,
		DataWatches: []string{"/a"}, ChildWatches: []string{"/b", "/c"}}}
	b, err := json.Marshal(sw)
	if err != nil || !strings.Contains(string(b), `"RelativeZxid":"0x100000002","DataWatches":["/a"],"ExistWatches":null,"ChildWatches":["/b","/c"]`) {
		t.Fatalf("%s, %v", b, err)
	}
	var back ClientRequest
	if err := json.Unmarshal(b, &back); err != nil || back.SetWatches == nil || back.ChildWatches[1] != "/c" {
		t.Fatalf("read back %+v, %v", back, err)
	}
	if b, _ := json.Marshal(&ClientRequest{Xid: 3, Type: OpGetData, Path: "/a"}); strings.Contains(string(b), "Watches") {
		t.Fatalf("a getData carries the SetWatches fields: %s", b)
	}
	bare := &ClientRequest{Xid: setWatchesXid, Type: OpSetWatches}
	if got := string(bare.AppendTo(nil)); got != "REQ xid=-8 setWatches rel=0x0 [] [] []" {
		t.Fatalf("bare SetWatches: %q", got)
	}
}
