package model

import (
	"slices"
	"strconv"
	"strings"

	"github.com/zabsim/zabsim/sim"
)

// Recipes built only on client operations, as ZooKeeper's recipes page describes them
// (zookeeper.apache.org/doc/current/recipes.html) and Curator implements them: locks and
// read/write locks from ephemeral-sequential children, service registration and discovery
// from ephemeral nodes and child watches, and a configuration watch. Each records its
// state changes as RecipeEvent records.
//
// Failure handling, the part the seeds leave out:
//   - ConnectionLoss (or OperationTimeout, RequestTimeout) means "unknown outcome, not
//     connected now": the step is retried once the client is connected again (the
//     session's SyncConnected event). Creates carry a per-attempt prefix (Curator's
//     "protected" mode: _c_<client>-<attempt>-) so that a retry finds a node an earlier,
//     apparently failed, create made.
//   - A lock holder that gets Disconnected no longer counts as holding (Curator's advice:
//     treat SUSPENDED as lost); once reconnected it checks that its node is still there
//     (the session survived) before it counts as holding again.
//   - SessionExpired ends the recipe: its ephemerals are gone.

// recipeBase is what every recipe shares: the client, a retry to run on reconnect, and
// the trace.
type recipeBase struct {
	c      *Client
	kind   string
	name   string
	retry  func() // run at the next SyncConnected (at most one pending)
	ended  bool   // the session expired or the handle closed
	onLost func()
}

func (b *recipeBase) event(ev, detail string) {
	b.c.record(&RecipeEvent{Client: int64(b.c.id), Session: b.c.sessionID, Recipe: b.kind, Name: b.name, Event: ev, Detail: detail})
}

// retryable reports whether err means "try again once connected".
func retryable(err int32) bool {
	return err == ErrConnectionLoss || err == ErrOperationTimeout || err == ErrRequestTimeout
}

// later runs f now if the client is connected, else at its next SyncConnected. A handle
// being closed is still connected, but fails every new call at once (ConnectionLoss): f
// waits, and the close ends the recipe, rather than retrying in a loop that takes no time
// (found by FuzzScript: a lock acquiring while its client closed overflowed the stack).
func (b *recipeBase) later(f func()) {
	if b.c.Connected() && !b.c.closing {
		f()
		return
	}
	b.retry = f
}

// sessionEvent is the recipe's session watcher: retries on SyncConnected, the end on
// Expired or Closed. extra handles recipe-specific states.
func (b *recipeBase) sessionEvent(e WatchedEvent, extra func(KeeperState)) {
	if e.Type != EventNone || b.ended {
		return
	}
	if extra != nil {
		extra(e.State)
	}
	switch e.State {
	case StateSyncConnected:
		if f := b.retry; f != nil {
			b.retry = nil
			f()
		}
	case StateExpired, StateClosed:
		b.ended = true
		b.retry = nil
	}
}

// protectedPrefix is Curator's protected-mode prefix for a create attempt.
func protectedPrefix(c *Client, attempt int) string {
	return "_c_" + strconv.Itoa(int(c.id)) + "-" + strconv.Itoa(attempt) + "-"
}

// ensurePath creates path and its missing ancestors as persistent nodes (NodeExists is
// fine; ZKUtil.createPath / Curator's creatingParentsIfNeeded), then calls done with the
// last error (ErrOK when the path exists).
func ensurePath(c *Client, path string, done func(err int32)) {
	var parts []string
	for p := path; p != "/" && p != ""; p, _ = parentOf(p) {
		parts = append(parts, p)
	}
	slices.Reverse(parts)
	var step func(i int)
	step = func(i int) {
		if i == len(parts) {
			done(ErrOK)
			return
		}
		c.Create(parts[i], "", Persistent, func(r *Result) {
			if r.Err != ErrOK && r.Err != ErrNodeExists {
				done(r.Err)
				return
			}
			step(i + 1)
		})
	}
	step(0)
}

// --- locks ---

// lockKind says which lock nodes a lock waits for.
type lockKind uint8

const (
	lockExclusive lockKind = iota
	lockRead
	lockWrite
	// lockReadNotes is the read lock as the project's notes describe it (seeds 001, the
	// read/write lock): granted when the smallest child is a read lock. Unsafe: with
	// [read-1, write-2, read-3], read-3 holds while write-2 waits, and when read-1 goes,
	// write-2 holds beside read-3. ZooKeeper's recipe has a reader wait for the nearest
	// lower write node instead (lockRead).
	lockReadNotes
)

type lockState uint8

const (
	lockIdle lockState = iota
	lockAcquiring
	lockHeld
	lockSuspended
	lockReleasing
)

// Lock is the recipe's exclusive lock, and with NewReadLock / NewWriteLock the shared
// read/write lock: each contender creates an ephemeral-sequential child of the lock's
// directory, and holds the lock when no child it must wait for has a lower sequence
// number. Otherwise it watches (exists) only the one node just before it that it waits
// for, so a release wakes one contender, not all (no herd effect):
//   - exclusive and write locks wait for every lower child and watch the next lower one;
//   - read locks wait only for lower write children and watch the highest of those.
type Lock struct {
	recipeBase
	dir      string
	lk       lockKind
	prefix   string // "lock-", "read-" or "write-"
	attempt  int
	guid     string // the protected prefix of the current attempt
	node     string // our child's name, "" while we have none
	state    lockState
	onAcq    func()
	watcher  Watcher
	released func()
	czxid    Zxid // the zxid that created our node (its czxid), 0 when unknown
	// Herd makes a waiter watch the lock directory's children instead of the one node
	// before it: every release wakes every waiter (the herd effect the recipe avoids), for
	// measuring it.
	Herd bool
}

func newLock(c *Client, dir string, lk lockKind, kind, prefix string) *Lock {
	l := &Lock{recipeBase: recipeBase{c: c, kind: kind, name: dir}, dir: dir, lk: lk, prefix: prefix}
	l.watcher = NewWatcher(func(e WatchedEvent) {
		if e.Type != EventNone && l.state == lockAcquiring {
			l.checkChildren()
		}
	})
	c.AddSessionWatcher(NewWatcher(func(e WatchedEvent) { l.sessionEvent(e, l.stateChanged) }))
	return l
}

// NewLock is the exclusive lock recipe on dir (children "..lock-<seq>").
func NewLock(c *Client, dir string) *Lock { return newLock(c, dir, lockExclusive, "lock", "lock-") }

// NewElection is the recipe's leader election on dir (recipes.html, "Leader Election";
// Curator's LeaderLatch): each candidate creates an ephemeral-sequential child "n_<seq>",
// and the candidate whose child is the smallest leads; the others each watch the child
// just before theirs. It is the exclusive lock under another name: Acquire runs for
// leadership (acquired = leading), Release resigns. Its records are recipe "election".
func NewElection(c *Client, dir string) *Lock {
	return newLock(c, dir, lockExclusive, "election", "n_")
}

// NewReadLock is the shared (read) side of the read/write lock on dir.
func NewReadLock(c *Client, dir string) *Lock { return newLock(c, dir, lockRead, "rwlock", "read-") }

// NewReadLockNotesRule is the read side with the notes' unsafe rule (lockReadNotes), for
// teaching: the recipe checker catches it.
func NewReadLockNotesRule(c *Client, dir string) *Lock {
	return newLock(c, dir, lockReadNotes, "rwlock", "read-")
}

// NewWriteLock is the exclusive (write) side of the read/write lock on dir.
func NewWriteLock(c *Client, dir string) *Lock { return newLock(c, dir, lockWrite, "rwlock", "write-") }

// Held reports whether the lock is held now: acquired, connected, and not released.
func (l *Lock) Held() bool { return l.state == lockHeld }

// Node is the lock's child path ("" when it has none).
func (l *Lock) Node() string {
	if l.node == "" {
		return ""
	}
	return l.dir + "/" + l.node
}

// Token is the lock's fencing token: the zxid that created its node (the node's czxid).
// Every later grant's node is created later, so tokens grow with every grant; a resource
// that remembers the largest token it has seen can refuse a late holder's write. 0 when
// there is no node, or when the node was adopted after a lost create reply (its czxid
// was not seen).
func (l *Lock) Token() Zxid { return l.czxid }

// ClientID is the node id of the lock's client.
func (l *Lock) ClientID() sim.NodeID { return l.c.id }

// RecordUse records, as the lock's client, a write to a resource outside ZooKeeper with
// the given fencing token (recipe "resource"; event "write accepted" or "write refused").
func (l *Lock) RecordUse(resource, event string, token Zxid) {
	l.c.record(&RecipeEvent{Client: int64(l.c.id), Session: l.c.sessionID, Recipe: "resource", Name: resource,
		Event: event, Detail: "token " + token.String() + " of " + l.dir + "/" + l.node})
}

// OnLost sets what to call when a held or wanted lock is lost (session expired, or the
// node vanished while suspended).
func (l *Lock) OnLost(f func()) { l.onLost = f }

// Acquire asks for the lock; acquired is called once it is held.
func (l *Lock) Acquire(acquired func()) {
	if l.ended || l.state != lockIdle {
		return
	}
	l.state, l.onAcq = lockAcquiring, acquired
	l.event("acquiring", "")
	l.createNode()
}

// createNode creates our ephemeral-sequential child with a fresh protected prefix.
func (l *Lock) createNode() {
	l.attempt++
	l.guid = protectedPrefix(l.c, l.attempt)
	l.c.Create(l.dir+"/"+l.guid+l.prefix, "", EphemeralSequential, func(r *Result) {
		if l.state != lockAcquiring {
			return // released meanwhile: the release finds the node by its prefix
		}
		switch {
		case r.Err == ErrOK:
			l.node = r.Created[len(l.dir)+1:]
			l.czxid = r.Zxid // a create's reply carries its own txn's zxid
			l.checkChildren()
		case r.Err == ErrNoNode:
			ensurePath(l.c, l.dir, func(err int32) {
				if err == ErrOK {
					l.createNode()
				} else if retryable(err) {
					l.later(l.findOurNode)
				}
			})
		case retryable(r.Err):
			l.later(l.findOurNode)
		default:
			l.lost(ErrName(r.Err))
		}
	})
}

// findOurNode looks for the child an uncertain create may have made (by its protected
// prefix), then carries on from there.
func (l *Lock) findOurNode() {
	l.c.GetChildren(l.dir, nil, func(r *Result) {
		if l.state != lockAcquiring {
			return
		}
		switch {
		case r.Err == ErrOK:
			if l.adoptOurNode(r.Children) {
				l.checkChildren()
				return
			}
			l.createNode()
		case r.Err == ErrNoNode:
			l.createNode()
		case retryable(r.Err):
			l.later(l.findOurNode)
		default:
			l.lost(ErrName(r.Err))
		}
	})
}

// adoptOurNode takes as ours the child that carries this attempt's protected prefix, if
// one of children does (a create whose answer was lost may still have happened).
func (l *Lock) adoptOurNode(children []string) bool {
	for _, ch := range children {
		if strings.HasPrefix(ch, l.guid) {
			l.node, l.czxid = ch, 0
			return true
		}
	}
	return false
}

// lockChild is a lock child parsed: its name, its kind prefix and its sequence number.
type lockChild struct {
	name  string
	write bool // a write- or lock- child (what read locks wait for)
	seq   int64
}

func parseLockChild(name string) (lockChild, bool) {
	if len(name) < 10 {
		return lockChild{}, false
	}
	seq, err := strconv.ParseInt(name[len(name)-10:], 10, 64)
	if err != nil {
		return lockChild{}, false
	}
	body := name[:len(name)-10]
	switch {
	case strings.HasSuffix(body, "read-"):
		return lockChild{name: name, seq: seq}, true
	case strings.HasSuffix(body, "write-"), strings.HasSuffix(body, "lock-"), strings.HasSuffix(body, "n_"):
		return lockChild{name: name, write: true, seq: seq}, true
	}
	return lockChild{}, false
}

// checkChildren is the recipe's loop: list the children, hold the lock if nothing we wait
// for is below us, else watch the node we wait for.
func (l *Lock) checkChildren() {
	var w Watcher
	if l.Herd {
		w = l.watcher
	}
	l.c.GetChildren(l.dir, w, func(r *Result) {
		if l.state != lockAcquiring {
			return
		}
		switch {
		case r.Err == ErrOK:
		case retryable(r.Err):
			l.later(l.checkChildren)
			return
		default:
			l.lost(ErrName(r.Err))
			return
		}
		var kids []lockChild
		for _, name := range r.Children {
			if k, ok := parseLockChild(name); ok {
				kids = append(kids, k)
			}
		}
		slices.SortFunc(kids, func(a, b lockChild) int { return int(a.seq - b.seq) })
		me := slices.IndexFunc(kids, func(k lockChild) bool { return k.name == l.node })
		if me < 0 {
			// Our node is gone (our session expired and came back? someone deleted it):
			// start again with a new node.
			l.event("node vanished", l.node)
			l.node, l.czxid = "", 0
			l.createNode()
			return
		}
		wait := ""
		for i := me - 1; i >= 0; i-- {
			if l.lk != lockRead || kids[i].write {
				wait = kids[i].name
				break
			}
		}
		if l.lk == lockReadNotes {
			wait = "" // "the smallest node is a read lock": then so must the rest be (it is not)
			if kids[0].write {
				wait = kids[me-1].name
			}
		}
		if wait == "" {
			l.state = lockHeld
			l.event("acquired", l.Node())
			if l.onAcq != nil {
				l.onAcq()
			}
			return
		}
		if l.Herd {
			return // the listing above set a watch on the whole directory
		}
		l.c.Exists(l.dir+"/"+wait, l.watcher, func(r *Result) {
			if l.state != lockAcquiring {
				return
			}
			switch {
			case r.Err == ErrNoNode:
				l.checkChildren() // gone already: look again
			case r.Err == ErrOK:
				// wait for the watch
			case retryable(r.Err):
				l.later(l.checkChildren)
			default:
				l.lost(ErrName(r.Err))
			}
		})
	})
}

// stateChanged reacts to the session: a holder is suspended while disconnected, and
// resumes once it has checked that its node survived.
func (l *Lock) stateChanged(s KeeperState) {
	switch s {
	case StateDisconnected:
		if l.state == lockHeld {
			l.state = lockSuspended
			l.event("suspended", l.Node())
		}
	case StateSyncConnected:
		if l.state == lockSuspended {
			l.verifyHeld()
		}
	case StateExpired, StateClosed:
		if l.state == lockHeld || l.state == lockSuspended || l.state == lockAcquiring {
			l.lost("session " + s.String())
		} else if l.state == lockReleasing {
			l.releasedNow()
		}
	}
}

// verifyHeld checks, after a reconnect, that our node is still ours.
func (l *Lock) verifyHeld() {
	l.c.Exists(l.Node(), nil, func(r *Result) {
		if l.state != lockSuspended {
			return
		}
		switch {
		case r.Err == ErrOK && r.Stat.EphemeralOwner == l.c.sessionID:
			l.state = lockHeld
			l.event("resumed", l.Node())
		case retryable(r.Err):
			l.later(l.verifyHeld)
		default:
			l.lost("node gone: " + ErrName(r.Err))
		}
	})
}

func (l *Lock) lost(why string) {
	l.state = lockIdle
	l.node, l.czxid = "", 0
	l.retry = nil
	l.event("lost", why)
	if l.onLost != nil {
		l.onLost()
	}
}

// Release gives the lock up (or stops waiting for it): the holder stops counting as
// holding at once, then deletes its node (retrying across connection losses); released
// is called when the node is gone.
func (l *Lock) Release(released func()) {
	switch l.state {
	case lockIdle, lockReleasing:
		return
	}
	l.state = lockReleasing
	l.released = released
	l.event("releasing", l.Node())
	l.retry = nil
	l.deleteNode()
}

func (l *Lock) deleteNode() {
	if l.node == "" {
		// A create may be in flight or may have happened unseen: look for it.
		l.c.GetChildren(l.dir, nil, func(r *Result) {
			if l.state != lockReleasing {
				return
			}
			switch {
			case r.Err == ErrOK:
				if l.adoptOurNode(r.Children) {
					l.deleteNode()
					return
				}
				l.releasedNow()
			case retryable(r.Err):
				l.later(l.deleteNode)
			default:
				l.releasedNow()
			}
		})
		return
	}
	l.c.Delete(l.Node(), -1, func(r *Result) {
		if l.state != lockReleasing {
			return
		}
		if retryable(r.Err) {
			l.later(l.deleteNode)
			return
		}
		l.releasedNow()
	})
}

func (l *Lock) releasedNow() {
	l.state = lockIdle
	l.event("released", l.Node())
	l.node, l.czxid = "", 0
	if f := l.released; f != nil {
		l.released = nil
		f()
	}
}

// --- service registration and discovery ---

// ServiceRegistration keeps a service instance registered as an ephemeral node
// root/service/instance holding its data, for as long as the session lives.
type ServiceRegistration struct {
	recipeBase
	path       string
	data       string
	registered bool
	watcher    Watcher
}

// RegisterService registers instance of service under root.
func RegisterService(c *Client, root, service, instance, data string) *ServiceRegistration {
	path := root + "/" + service + "/" + instance
	r := &ServiceRegistration{recipeBase: recipeBase{c: c, kind: "registration", name: path}, path: path, data: data}
	r.watcher = NewWatcher(func(e WatchedEvent) {
		if e.Type == EventNodeDeleted && !r.registered && !r.ended {
			r.register()
		}
	})
	c.AddSessionWatcher(NewWatcher(func(e WatchedEvent) {
		r.sessionEvent(e, func(s KeeperState) {
			if (s == StateExpired || s == StateClosed) && r.registered {
				r.registered = false
				r.event("lost", s.String())
			}
		})
	}))
	r.register()
	return r
}

// Registered reports whether the instance's node exists as this session's.
func (r *ServiceRegistration) Registered() bool { return r.registered }

func (r *ServiceRegistration) register() {
	r.c.Create(r.path, r.data, Ephemeral, func(res *Result) {
		switch {
		case res.Err == ErrOK:
			r.registered = true
			r.event("registered", r.data)
		case res.Err == ErrNoNode:
			parent, _ := parentOf(r.path)
			ensurePath(r.c, parent, func(err int32) {
				if err == ErrOK {
					r.register()
				} else if retryable(err) {
					r.later(r.register)
				}
			})
		case res.Err == ErrNodeExists:
			r.checkExisting()
		case retryable(res.Err):
			r.later(r.register)
		}
	})
}

// checkExisting: the node exists. If it is ours (a create whose reply was lost) we are
// registered; if it is an earlier session's, wait for it to go (its session expires).
func (r *ServiceRegistration) checkExisting() {
	r.c.Exists(r.path, r.watcher, func(res *Result) {
		switch {
		case res.Err == ErrOK && res.Stat.EphemeralOwner == r.c.sessionID:
			r.registered = true
			r.event("registered", r.data)
		case res.Err == ErrOK:
			r.event("waiting", "node owned by session 0x"+hex(res.Stat.EphemeralOwner))
		case res.Err == ErrNoNode:
			r.register()
		case retryable(res.Err):
			r.later(r.checkExisting)
		}
	})
}

// Register registers the instance again after Unregister (nothing once the session ended).
func (r *ServiceRegistration) Register() {
	if r.ended || r.registered {
		return
	}
	r.later(r.register)
}

// Unregister deletes the instance's node.
func (r *ServiceRegistration) Unregister(done func()) {
	r.registered = false
	r.retry = nil
	r.c.Delete(r.path, -1, func(res *Result) {
		if retryable(res.Err) {
			r.later(func() { r.Unregister(done) })
			return
		}
		r.event("unregistered", "")
		if done != nil {
			done()
		}
	})
}

// ServiceDiscovery keeps the list of a service's instances: getChildren with a watch,
// read again (and the watch set again) after every event.
type ServiceDiscovery struct {
	recipeBase
	path      string
	instances []string
	known     bool // the list has been read at least once
	watcher   Watcher
	onChange  func([]string)
	// Naive, when set, is the notes' way after an event: read the children (no watch),
	// handle them for this long, then set the watch again without reading the list it
	// returns. A registration in between is missed until the next event: the window the
	// recipe closes by using the list that the watch-setting read returns.
	Naive sim.Time
}

// WatchService follows the instances of service under root.
func WatchService(c *Client, root, service string, onChange func([]string)) *ServiceDiscovery {
	path := root + "/" + service
	d := &ServiceDiscovery{recipeBase: recipeBase{c: c, kind: "discovery", name: path}, path: path, onChange: onChange}
	d.watcher = NewWatcher(func(e WatchedEvent) {
		if e.Type != EventNone && !d.ended {
			if d.Naive > 0 {
				d.naiveRefresh()
				return
			}
			d.refresh()
		}
	})
	c.AddSessionWatcher(NewWatcher(func(e WatchedEvent) { d.sessionEvent(e, nil) }))
	d.refresh()
	return d
}

// Instances is the last list read (sorted).
func (d *ServiceDiscovery) Instances() []string { return slices.Clone(d.instances) }

func (d *ServiceDiscovery) refresh() {
	d.c.GetChildren(d.path, d.watcher, func(r *Result) {
		switch {
		case r.Err == ErrOK:
			d.set(r.Children)
		case r.Err == ErrNoNode:
			// No service node yet: wait for its creation.
			d.set(nil)
			d.c.Exists(d.path, d.watcher, func(r *Result) {
				if r.Err == ErrOK {
					d.refresh()
				} else if retryable(r.Err) {
					d.later(d.refresh)
				}
			})
		case retryable(r.Err):
			d.later(d.refresh)
		}
	})
}

// naiveRefresh reads the list without a watch, and sets the watch only after handling it
// (see Naive).
func (d *ServiceDiscovery) naiveRefresh() {
	d.c.GetChildren(d.path, nil, func(r *Result) {
		if r.Err == ErrOK {
			d.set(r.Children)
		}
		d.c.w.At(d.c.w.Now()+d.Naive, func() {
			if !d.ended {
				d.c.GetChildren(d.path, d.watcher, func(*Result) {}) // the list it returns is not read
			}
		})
	})
}

func (d *ServiceDiscovery) set(children []string) {
	if d.known && slices.Equal(children, d.instances) {
		return
	}
	d.known = true
	d.instances = slices.Clone(children)
	d.event("instances", strings.Join(children, ","))
	if d.onChange != nil {
		d.onChange(d.Instances())
	}
}

// --- configuration watch ---

// ConfigWatch follows the value of one znode: getData with a watch, read again after
// every event (exists with a watch while the node is missing).
type ConfigWatch struct {
	recipeBase
	path     string
	value    string
	stat     Stat
	exists   bool
	known    bool // read (or found missing) at least once
	watcher  Watcher
	onChange func(value string, version int32, exists bool)
	// Naive, when set, is the same two-step way after an event as ServiceDiscovery's: read
	// the value (no watch), handle it for this long, then set the watch with exists without
	// looking at what it says. A change in between is missed until the next change.
	Naive sim.Time
}

// WatchConfig follows the znode at path.
func WatchConfig(c *Client, path string, onChange func(value string, version int32, exists bool)) *ConfigWatch {
	w := &ConfigWatch{recipeBase: recipeBase{c: c, kind: "config", name: path}, path: path, onChange: onChange}
	w.watcher = NewWatcher(func(e WatchedEvent) {
		if e.Type != EventNone && !w.ended {
			if w.Naive > 0 {
				w.naiveRefresh()
				return
			}
			w.refresh()
		}
	})
	c.AddSessionWatcher(NewWatcher(func(e WatchedEvent) { w.sessionEvent(e, nil) }))
	w.refresh()
	return w
}

// Value is the last value read, its version, and whether the node existed.
func (w *ConfigWatch) Value() (string, int32, bool) { return w.value, w.stat.Version, w.exists }

func (w *ConfigWatch) refresh() {
	w.c.GetData(w.path, w.watcher, func(r *Result) {
		switch {
		case r.Err == ErrOK:
			w.set(r.Data, r.Stat, true)
		case r.Err == ErrNoNode:
			w.set("", Stat{}, false)
			w.c.Exists(w.path, w.watcher, func(r *Result) {
				if r.Err == ErrOK {
					w.refresh()
				} else if retryable(r.Err) {
					w.later(w.refresh)
				}
			})
		case retryable(r.Err):
			w.later(w.refresh)
		}
	})
}

// naiveRefresh reads the value without a watch and sets the watch only after handling it
// (see Naive).
func (w *ConfigWatch) naiveRefresh() {
	w.c.GetData(w.path, nil, func(r *Result) {
		switch r.Err {
		case ErrOK:
			w.set(r.Data, r.Stat, true)
		case ErrNoNode:
			w.set("", Stat{}, false)
		}
		w.c.w.At(w.c.w.Now()+w.Naive, func() {
			if !w.ended {
				w.c.Exists(w.path, w.watcher, func(*Result) {}) // what it says is not read
			}
		})
	})
}

func (w *ConfigWatch) set(value string, st Stat, exists bool) {
	if w.known && exists == w.exists && st.Mzxid == w.stat.Mzxid && value == w.value {
		return
	}
	w.known = true
	w.value, w.stat, w.exists = value, st, exists
	w.event("value", strconv.Quote(value)+" version="+strconv.Itoa(int(st.Version)))
	if w.onChange != nil {
		w.onChange(value, st.Version, exists)
	}
}
