package model

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/zabsim/zabsim/sim"
)

// chaos crashes and restarts servers at random (from the "test/chaos" stream), keeping at
// most maxDown servers down at once, until stop. A victim is the leader a third of the
// time, and a server some client of e is connected to another third.
func chaos(e *Ensemble, maxDown int, stop sim.Time) {
	rng := e.W.Stream("test/chaos")
	var step func()
	step = func() {
		now := e.W.Now()
		if now >= stop {
			return
		}
		var up, down []*Server
		for _, s := range e.Servers {
			if s.Up() {
				up = append(up, s)
			} else {
				down = append(down, s)
			}
		}
		if len(down) > 0 && (len(down) >= maxDown || rng.IntN(2) == 0) {
			e.W.Restart(down[rng.IntN(len(down))].nid)
		} else if len(up) > 0 {
			victim := up[rng.IntN(len(up))]
			switch rng.IntN(3) {
			case 0:
				if l := e.Leader(); l != nil {
					victim = l
				}
			case 1:
				var hosting []*Server
				for _, c := range e.Clients {
					if s := e.Server(c.Server()); s != nil && s.Up() && c.Connected() {
						hosting = append(hosting, s)
					}
				}
				if len(hosting) > 0 {
					victim = hosting[rng.IntN(len(hosting))]
				}
			}
			e.W.Crash(victim.nid)
		}
		e.W.At(now+sim.Time(3+rng.IntN(6))*sim.Second, step)
	}
	e.W.At(e.W.Now()+2*sim.Second, step)
}

// restartAll restarts every crashed server.
func restartAll(e *Ensemble) {
	for _, s := range e.Servers {
		if !s.Up() {
			e.W.Restart(s.nid)
		}
	}
}

// holding is a lock contender's holding intervals.
type holding struct {
	from, to []sim.Time
}

// lockHoldings rebuilds every client's holding intervals of the lock at dir from the trace:
// from "acquired" or "resumed" to "suspended", "releasing" or "lost".
func lockHoldings(e *Ensemble, recipe, dir string) map[int64]*holding {
	out := map[int64]*holding{}
	open := map[int64]bool{}
	for _, r := range recordsAt[*RecipeEvent](e) {
		ev := r.R
		if ev.Recipe != recipe || ev.Name != dir {
			continue
		}
		h := out[ev.Client]
		if h == nil {
			h = &holding{}
			out[ev.Client] = h
		}
		switch ev.Event {
		case "acquired", "resumed":
			h.from = append(h.from, r.At)
			open[ev.Client] = true
		case "suspended", "releasing", "lost":
			if open[ev.Client] {
				h.to = append(h.to, r.At)
				open[ev.Client] = false
			}
		}
	}
	for c, h := range out {
		if open[c] {
			h.to = append(h.to, e.W.Now())
		}
	}
	return out
}

// contender acquires a lock, holds it a while, releases it, waits, and again; when its
// session expires it starts over with a new client (a new ZooKeeper handle).
type contender struct {
	e        *Ensemble
	rng      *rand.Rand
	dir      string
	mk       func(c *Client, dir string) *Lock
	lock     *Lock
	client   *Client
	acquired int
	sessions int
	check    func(me *contender)
	stop     sim.Time
}

func (k *contender) start(t *testing.T) {
	c, err := k.e.StartClient(ClientConfig{SessionTimeout: 6 * sim.Second})
	if err != nil {
		t.Fatal(err)
	}
	k.client, k.sessions = c, k.sessions+1
	k.lock = k.mk(c, k.dir)
	lock := k.lock
	lock.OnLost(func() {
		if k.lock != lock {
			return
		}
		if c.State() == ClientClosed {
			k.e.W.At(k.e.W.Now()+sim.Second, func() { k.start(t) })
			return
		}
		k.e.W.At(k.e.W.Now()+100*sim.Millisecond, func() { k.acquire(lock) })
	})
	k.acquire(lock)
}

func (k *contender) acquire(lock *Lock) {
	if k.lock != lock || k.e.W.Now() >= k.stop {
		return
	}
	lock.Acquire(func() {
		k.acquired++
		if k.check != nil {
			k.check(k)
		}
		hold := sim.Time(50+k.rng.IntN(1000)) * sim.Millisecond
		if k.rng.IntN(5) == 0 {
			hold = sim.Time(3000+k.rng.IntN(3000)) * sim.Millisecond // long enough to ride out a failover
		}
		k.e.W.At(k.e.W.Now()+hold, func() {
			lock.Release(func() {
				pause := sim.Time(k.rng.IntN(300)) * sim.Millisecond
				k.e.W.At(k.e.W.Now()+pause, func() { k.acquire(lock) })
			})
		})
	})
}

// TestExclusiveLockNeverHeldTwiceWhileServersCrash: two clients contend for one lock for
// three minutes while servers (leaders too) crash and restart. Their holding intervals,
// from the trace, never overlap, and both get the lock many times.
func TestExclusiveLockNeverHeldTwiceWhileServersCrash(t *testing.T) {
	e, _ := stableEnsemble(t, 51, Config{Servers: 5})
	stop := e.W.Now() + 3*sim.Minute
	var ks []*contender
	for i := 0; i < 2; i++ {
		k := &contender{e: e, rng: e.W.Stream(fmt.Sprintf("test/contender/%d", i)), dir: "/locks/x", mk: NewLock, stop: stop}
		ks = append(ks, k)
	}
	for _, k := range ks {
		k.check = func(me *contender) {
			for _, o := range ks {
				if o != me && o.lock.Held() {
					t.Errorf("at %s both clients hold the lock", e.W.Now())
				}
			}
		}
		k.start(t)
	}
	chaos(e, 2, stop-20*sim.Second)
	e.W.RunUntil(stop)
	restartAll(e)
	e.W.RunFor(20 * sim.Second)

	hs := lockHoldings(e, "lock", "/locks/x")
	var all [][2]sim.Time
	for _, h := range hs {
		for i := range h.from {
			all = append(all, [2]sim.Time{h.from[i], h.to[i]})
		}
	}
	slices.SortFunc(all, func(a, b [2]sim.Time) int { return int(a[0] - b[0]) })
	for i := 1; i < len(all); i++ {
		if all[i][0] < all[i-1][1] {
			t.Errorf("holding intervals overlap: [%s, %s] and [%s, %s]", all[i-1][0], all[i-1][1], all[i][0], all[i][1])
		}
	}
	crashes := 0
	for _, r := range e.W.Trace().Records() {
		if r.Kind == sim.RecCrash {
			crashes++
		}
	}
	events := map[string]int{}
	for _, r := range recordsOf[*RecipeEvent](e) {
		events[r.Event]++
	}
	t.Logf("lock events %v, %d crashes", events, crashes)
	if events["suspended"] == 0 || events["resumed"] == 0 {
		t.Errorf("no holder was ever suspended and resumed: %v", events)
	}
	for i, k := range ks {
		if k.acquired < 20 {
			t.Errorf("contender %d acquired the lock only %d times", i, k.acquired)
		}
		t.Logf("contender %d: %d acquisitions, %d sessions", i, k.acquired, k.sessions)
	}
	if crashes < 10 {
		t.Errorf("only %d crashes", crashes)
	}
}

// TestReadWriteLock: readers share the lock, a writer holds it alone; each waits only for
// the node just before it that it conflicts with.
func TestReadWriteLock(t *testing.T) {
	e, _ := stableEnsemble(t, 52, Config{Servers: 3})
	stop := e.W.Now() + 90*sim.Second
	var readers, writers []*contender
	mk := func(i int, f func(*Client, string) *Lock) *contender {
		return &contender{e: e, rng: e.W.Stream(fmt.Sprintf("test/rw/%d", i)), dir: "/rw", mk: f, stop: stop}
	}
	for i := 0; i < 3; i++ {
		readers = append(readers, mk(i, NewReadLock))
	}
	for i := 3; i < 5; i++ {
		writers = append(writers, mk(i, NewWriteLock))
	}
	maxReaders := 0
	check := func(me *contender) {
		r, w := 0, 0
		for _, k := range readers {
			if k.lock.Held() {
				r++
			}
		}
		for _, k := range writers {
			if k.lock.Held() {
				w++
			}
		}
		maxReaders = max(maxReaders, r)
		if w > 1 || w == 1 && r > 0 {
			t.Errorf("at %s: %d writers and %d readers hold the lock", e.W.Now(), w, r)
		}
	}
	for _, k := range append(slices.Clone(readers), writers...) {
		k.check = check
		k.start(t)
	}
	chaos(e, 1, stop-20*sim.Second)
	e.W.RunUntil(stop)
	restartAll(e)
	e.W.RunFor(20 * sim.Second)
	if maxReaders < 2 {
		t.Errorf("readers never shared the lock (at most %d at once)", maxReaders)
	}
	for i, k := range append(slices.Clone(readers), writers...) {
		if k.acquired < 10 {
			t.Errorf("contender %d acquired only %d times", i, k.acquired)
		}
	}
	// Waiting contenders watch one node each: no herd. Every exists watch of the recipe
	// names the node just before the contender's (or the last write before a reader's).
	for _, r := range recordsOf[*ClientCall](e) {
		if r.Op == OpExists && r.Watch && strings.HasPrefix(r.Path, "/rw/") {
			if _, ok := parseLockChild(r.Path[len("/rw/"):]); !ok {
				t.Errorf("watch on %s", r.Path)
			}
		}
	}
}

// TestServiceRegistryConvergesAfterLeaderCrash: four instances register (ephemeral nodes),
// a discovery client follows them with child watches. The leader crashes; one instance
// leaves and another joins during the new election's aftermath. The discovery client ends
// with exactly the registered instances, the same list every server has.
func TestServiceRegistryConvergesAfterLeaderCrash(t *testing.T) {
	e, l := stableEnsemble(t, 53, Config{Servers: 5})
	var regs []*ServiceRegistration
	for i := 0; i < 4; i++ {
		c := connect(t, e, ClientConfig{SessionTimeout: 10 * sim.Second})
		regs = append(regs, RegisterService(c, "/services", "web", fmt.Sprintf("i%d", i), fmt.Sprintf("10.0.0.%d:80", i)))
	}
	watcher := connect(t, e, ClientConfig{SessionTimeout: 10 * sim.Second})
	var changes int
	d := WatchService(watcher, "/services", "web", func([]string) { changes++ })
	want := []string{"i0", "i1", "i2", "i3"}
	runUntil(t, e, 20*sim.Second, "discovery sees the four", func() bool { return slices.Equal(d.Instances(), want) })

	crashAt := e.W.Now()
	crash(t, e, l.Sid())
	e.W.RunFor(100 * sim.Millisecond)
	regs[1].Unregister(nil) // fails over, retried once connected
	nc := connect(t, e, ClientConfig{SessionTimeout: 10 * sim.Second})
	RegisterService(nc, "/services", "web", "i4", "10.0.0.4:80")
	want = []string{"i0", "i2", "i3", "i4"}
	runUntil(t, e, 60*sim.Second, "discovery converges", func() bool { return slices.Equal(d.Instances(), want) })
	e.W.RunFor(10 * sim.Second)
	if got := d.Instances(); !slices.Equal(got, want) {
		t.Fatalf("discovery %v, want %v", got, want)
	}
	for _, s := range e.Servers {
		if !s.Up() {
			continue
		}
		if ch, _, _ := s.Tree().GetChildren("/services/web"); !slices.Equal(ch, want) {
			t.Errorf("server %d has %v", s.Sid(), ch)
		}
	}
	for _, r := range []*ServiceRegistration{regs[0], regs[2], regs[3]} {
		if !r.Registered() {
			t.Errorf("%s lost its registration", r.path)
		}
	}
	after := 0
	for _, r := range recordsAt[*RecipeEvent](e) {
		if r.R.Recipe == "discovery" && r.At > crashAt {
			after++
		}
	}
	if after == 0 || changes < 3 {
		t.Errorf("discovery updates after the crash: %d (changes %d)", after, changes)
	}
	if n := len(recordsOf[*SessionExpired](e)); n != 0 {
		t.Errorf("%d sessions expired", n)
	}
}

// TestConfigWatchFollowsEveryChange: a configuration node is rewritten twenty times while
// the watcher's server crashes once; the watcher's values come in version order and end
// at the last one (reads after each event, watch set again each time).
func TestConfigWatchFollowsEveryChange(t *testing.T) {
	e, l := stableEnsemble(t, 54, Config{Servers: 3})
	var fs []int64
	for _, s := range e.Servers {
		if s != l {
			fs = append(fs, s.Sid())
		}
	}
	w := connect(t, e, only(fs...))
	var versions []int32
	cw := WatchConfig(w, "/config/app", func(v string, ver int32, ok bool) {
		if ok {
			versions = append(versions, ver)
		}
	})
	writer := connect(t, e, only(l.Sid()))
	runUntil(t, e, 5*sim.Second, "watcher read the missing node", func() bool { return cw.known })
	mustOK(t, call(t, e, func(cb Callback) { writer.Create("/config", "", Persistent, cb) }))
	mustOK(t, call(t, e, func(cb Callback) { writer.Create("/config/app", "c0", Persistent, cb) }))
	for i := 1; i <= 20; i++ {
		if i == 8 {
			crash(t, e, w.Server())
		}
		mustOK(t, call(t, e, func(cb Callback) { writer.SetData("/config/app", fmt.Sprintf("c%d", i), -1, cb) }))
		e.W.RunFor(300 * sim.Millisecond)
	}
	runUntil(t, e, 30*sim.Second, "the watcher has the last value", func() bool { v, _, _ := cw.Value(); return v == "c20" })
	if !slices.IsSorted(versions) || versions[len(versions)-1] != 20 {
		t.Fatalf("versions seen %v", versions)
	}
	if len(versions) < 10 {
		t.Errorf("only %d of 21 values seen", len(versions))
	}
}
