package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/registry"
	"github.com/zabsim/zabsim/sim"
)

// Recipe commands, built only on client operations (model/recipes.go):
//
//	lock NAME CLIENT /dir [exclusive|read|write] [nowait]   acquire; waits until held
//	unlock NAME                                             release; waits until released
//	elect NAME CLIENT /dir [nowait]                         run for leadership; waits until
//	                                                        it leads (held = leads)
//	resign NAME                                             give leadership (or the run) up
//	resource NAME [fenced]                                  a store outside ZooKeeper
//	use LOCK RESOURCE                                       the holder writes to it
//	register CLIENT /root service instance "data"           an ephemeral service instance
//	discover NAME CLIENT /root service                      watch the service's instances
//	watchconfig NAME CLIENT /path [naive=D]                 watch a configuration znode
//
// and their expectations: `expect held NAME`, `expect notheld NAME`, `expect instances
// NAME {a,b}`, `expect config NAME = "v"`, `expect resource NAME last=LOCK [refused=N]`,
// plus `await held NAME`.

// recipe is a named recipe instance of a scenario.
type recipe struct {
	lock     *model.Lock
	released bool
	disc     *model.ServiceDiscovery
	conf     *model.ConfigWatch
	res      *resource
	// a registry's subscription (registry mode)
	regClient registry.Client
	service   string
}

func (s *Script) recipeName(name string, names map[string]bool) error {
	if !isIdent(name) {
		return fmt.Errorf("%q is not a name", name)
	}
	if _, isCmd := commands[name]; isCmd || names[name] || s.clients[name] || s.recipes[name] != "" {
		return fmt.Errorf("the name %s is taken", name)
	}
	return nil
}

func (s *Script) declareRecipe(name, kind string) {
	if s.recipes == nil {
		s.recipes = map[string]string{}
	}
	s.recipes[name] = kind
}

func (s *Script) needClient(name string) error {
	if !s.clients[name] {
		return fmt.Errorf("%q is not a client: declare it with 'client %s servers=S'", name, name)
	}
	return nil
}

func checkLock(s *Script, c *Command, names map[string]bool) error {
	a := c.Args
	if n := len(a); n > 0 && a[n-1] == "nowait" {
		a = a[:n-1]
	}
	if c.Name == "elect" {
		if len(a) != 3 || !strings.HasPrefix(a[2], "/") {
			return fmt.Errorf("elect NAME CLIENT /dir [nowait]")
		}
		if err := s.recipeName(a[0], names); err != nil {
			return err
		}
		if err := s.needClient(a[1]); err != nil {
			return err
		}
		s.declareRecipe(a[0], "lock") // a lock under another name: held = leads
		return checkWithin(c)
	}
	if len(a) < 3 || len(a) > 4 || !strings.HasPrefix(a[2], "/") {
		return fmt.Errorf("lock NAME CLIENT /dir [exclusive|read|write] [nowait]")
	}
	if len(a) == 4 && !contains([]string{"exclusive", "read", "write"}, a[3]) {
		return fmt.Errorf("lock kind %q: want exclusive, read or write", a[3])
	}
	if v, ok := c.Opt("rule"); ok && (v != "zookeeper" && v != "notes" || len(a) != 4 || a[3] != "read") {
		return fmt.Errorf("lock ... read rule=%s: a read lock's rule is zookeeper (wait for the nearest lower write node, the default) or notes (granted when the smallest node is a read lock: unsafe)", v)
	}
	if err := s.recipeName(a[0], names); err != nil {
		return err
	}
	if err := s.needClient(a[1]); err != nil {
		return err
	}
	s.declareRecipe(a[0], "lock")
	return checkWithin(c)
}

func checkUnlock(s *Script, c *Command, _ map[string]bool) error {
	if len(c.Args) != 1 || s.recipes[c.Args[0]] != "lock" {
		if c.Name == "resign" {
			return fmt.Errorf("resign takes the name of a candidate: resign E (E bound by elect)")
		}
		return fmt.Errorf("unlock takes the name of a lock: unlock L")
	}
	return checkWithin(c)
}

func checkRegister(s *Script, c *Command, _ map[string]bool) error {
	a := c.Args
	if n := len(a); n > 0 && a[n-1] == "nowait" {
		a = a[:n-1]
	}
	if len(a) != 5 || !strings.HasPrefix(a[1], "/") || !strings.HasPrefix(a[4], `"`) {
		return fmt.Errorf(`register CLIENT /root service instance "data" [nowait]`)
	}
	if err := s.needClient(a[0]); err != nil {
		return err
	}
	return checkWithin(c)
}

func checkDiscover(s *Script, c *Command, names map[string]bool) error {
	a := c.Args
	if len(a) != 4 || !strings.HasPrefix(a[2], "/") {
		return fmt.Errorf("discover NAME CLIENT /root service")
	}
	if err := s.recipeName(a[0], names); err != nil {
		return err
	}
	if err := s.needClient(a[1]); err != nil {
		return err
	}
	if v, ok := c.Opt("naive"); ok {
		if _, err := checkDuration("naive", v, sim.Millisecond, 3600*sim.Second, ""); err != nil {
			return err
		}
	}
	s.declareRecipe(a[0], "discover")
	return nil
}

func checkWatchConfig(s *Script, c *Command, names map[string]bool) error {
	a := c.Args
	if len(a) != 3 || !strings.HasPrefix(a[2], "/") {
		return fmt.Errorf("watchconfig NAME CLIENT /path [naive=D]")
	}
	if v, ok := c.Opt("naive"); ok {
		if _, err := checkDuration("naive", v, sim.Millisecond, 3600*sim.Second, ""); err != nil {
			return err
		}
	}
	if err := s.recipeName(a[0], names); err != nil {
		return err
	}
	if err := s.needClient(a[1]); err != nil {
		return err
	}
	s.declareRecipe(a[0], "config")
	return nil
}

// checkExpectRecipe checks expect held/notheld/instances/config.
func checkExpectRecipe(s *Script, c *Command) error {
	a := c.Args
	switch a[0] {
	case "held", "notheld":
		if len(a) != 2 || s.recipes[a[1]] != "lock" {
			return fmt.Errorf("expect %s LOCK (a name bound by lock)", a[0])
		}
	case "instances":
		if len(a) != 3 || s.recipes[a[1]] != "discover" || !strings.HasPrefix(a[2], "{") {
			return fmt.Errorf("expect instances NAME {a,b} (NAME bound by discover)")
		}
	case "config":
		if len(a) != 4 || s.recipes[a[1]] != "config" || a[2] != "=" {
			return fmt.Errorf(`expect config NAME = "value" | absent (NAME bound by watchconfig)`)
		}
	case "resource":
		if len(a) != 2 || s.recipes[a[1]] != "resource" {
			return fmt.Errorf("expect resource NAME last=LOCK [refused=N] (NAME bound by resource)")
		}
		last, ok := c.Opt("last")
		if !ok || s.recipes[last] != "lock" {
			return fmt.Errorf("expect resource %s last=LOCK: last= names the lock whose holder wrote last (got %q)", a[1], last)
		}
		if v, ok := c.Opt("refused"); ok {
			if n, err := strconv.Atoi(v); err != nil || n < 0 {
				return fmt.Errorf("refused=%s: want a count of refused writes, 0 or more", v)
			}
		}
	}
	return nil
}

// checkResource: `resource NAME [fenced]` is a store outside ZooKeeper that lock holders
// write to (use); a fenced one remembers the largest fencing token it has seen and
// refuses a write with a smaller one.
func checkResource(s *Script, c *Command, names map[string]bool) error {
	a := c.Args
	if len(a) < 1 || len(a) > 2 || len(a) == 2 && a[1] != "fenced" {
		return fmt.Errorf("resource NAME [fenced]")
	}
	if err := s.recipeName(a[0], names); err != nil {
		return err
	}
	s.declareRecipe(a[0], "resource")
	return nil
}

// checkUse: `use LOCK RESOURCE`: the lock's client, believing it holds the lock, writes to
// the resource with the lock's fencing token.
func checkUse(s *Script, c *Command, _ map[string]bool) error {
	a := c.Args
	if len(a) != 2 || s.recipes[a[0]] != "lock" || s.recipes[a[1]] != "resource" {
		return fmt.Errorf("use LOCK RESOURCE (LOCK bound by lock or elect, RESOURCE by resource)")
	}
	return nil
}

func (r *runner) execLock(c *Command) error {
	a := c.Args
	nowait := a[len(a)-1] == "nowait"
	if nowait {
		a = a[:len(a)-1]
	}
	cl := r.clients[a[1]].c
	kind := "exclusive"
	if len(a) == 4 {
		kind = a[3]
	}
	var l *model.Lock
	if c.Name == "elect" {
		kind = "election"
	}
	switch kind {
	case "election":
		l = model.NewElection(cl, a[2])
	case "read":
		l = model.NewReadLock(cl, a[2])
		if v, _ := c.Opt("rule"); v == "notes" {
			l = model.NewReadLockNotesRule(cl, a[2])
		}
	case "write":
		l = model.NewWriteLock(cl, a[2])
	default:
		l = model.NewLock(cl, a[2])
	}
	r.recipes[a[0]] = &recipe{lock: l}
	l.Acquire(func() {})
	if nowait {
		return nil
	}
	return r.awaitOrStop(c, l.Held, 60*sim.Second)
}

// awaitOrStop runs until cond or the bound; a timeout fails the run as a failed await.
func (r *runner) awaitOrStop(c *Command, cond func() bool, def sim.Time) error {
	if r.runUntil(cond, r.after(r.within(c, def))) {
		return nil
	}
	got := "timed out at " + fmtTime(r.w.Now())
	r.res.Expectations = append(r.res.Expectations, Expectation{Line: c.Line, Text: c.Text, OK: false, Got: got})
	return &stop{why: c.Text + " " + got}
}

func (r *runner) execUnlock(c *Command) error {
	rc := r.recipes[c.Args[0]]
	rc.released = false
	rc.lock.Release(func() { rc.released = true })
	return r.awaitOrStop(c, func() bool { return rc.released }, 30*sim.Second)
}

func (r *runner) execRegister(c *Command) error {
	if r.reg != nil {
		return r.regRegister(c)
	}
	a := c.Args
	reg := model.RegisterService(r.clients[a[0]].c, a[1], a[2], a[3], unquote(a[4]))
	return r.awaitOrStop(c, reg.Registered, 30*sim.Second)
}

func (r *runner) execDiscover(c *Command) {
	if r.reg != nil {
		r.regDiscover(c)
		return
	}
	a := c.Args
	d := model.WatchService(r.clients[a[1]].c, a[2], a[3], func([]string) {})
	if v, ok := c.Opt("naive"); ok {
		d.Naive, _ = parseDuration("naive", v)
	}
	r.recipes[a[0]] = &recipe{disc: d}
}

func (r *runner) execWatchConfig(c *Command) {
	a := c.Args
	w := model.WatchConfig(r.clients[a[1]].c, a[2], func(string, int32, bool) {})
	if v, ok := c.Opt("naive"); ok {
		w.Naive, _ = parseDuration("naive", v)
	}
	r.recipes[a[0]] = &recipe{conf: w}
}

// resource is a store outside ZooKeeper that lock holders write to, the classic fencing
// example (M. Kleppmann, "How to do distributed locking"): its writers are judged only by
// the token they present, the zxid that created their lock node (model.Lock.Token).
type resource struct {
	name    string
	fenced  bool
	max     model.Zxid // the largest token seen
	last    string     // the lock whose holder wrote last
	refused int
}

func (r *runner) execResource(c *Command) {
	r.recipes[c.Args[0]] = &recipe{res: &resource{name: c.Args[0], fenced: len(c.Args) == 2}}
}

// execUse: the holder decides to write now; the write leaves when its client's process
// runs (a paused client's write leaves when it resumes, the token it took before the
// pause still in hand) and reaches the resource at once.
func (r *runner) execUse(c *Command) error {
	lockName, lk, res := c.Args[0], r.recipes[c.Args[0]].lock, r.recipes[c.Args[1]].res
	if !lk.Held() {
		return fmt.Errorf("use %s %s: %s is not held (its client must believe it holds the lock to use it)", lockName, res.name, lockName)
	}
	token := lk.Token()
	if token == 0 {
		return fmt.Errorf("use %s %s: %s's fencing token is not known (its node was found again after a lost create reply, without its czxid)", lockName, res.name, lockName)
	}
	r.w.WhenRunning(lk.ClientID(), func() {
		ev := "write accepted"
		if res.fenced && token < res.max {
			ev = "write refused"
			res.refused++
		} else {
			res.max = max(res.max, token)
			res.last = lockName
		}
		lk.RecordUse(res.name, ev, token)
	})
	return nil
}

func (r *runner) expectRecipe(c *Command) (bool, string) {
	a := c.Args
	rc := r.recipes[a[1]]
	switch a[0] {
	case "resource":
		got := fmt.Sprintf("last=%s refused=%d", rc.res.last, rc.res.refused)
		last, _ := c.Opt("last")
		ok := rc.res.last == last
		if v, has := c.Opt("refused"); has {
			n, _ := strconv.Atoi(v)
			ok = ok && rc.res.refused == n
		}
		return ok, got
	case "held", "notheld":
		got := "notheld"
		if rc.lock.Held() {
			got = "held"
		}
		return got == a[0], got
	case "instances":
		var inst []string
		if rc.regClient != nil {
			inst = rc.regClient.View(rc.service)
		} else {
			inst = rc.disc.Instances()
		}
		slices.Sort(inst)
		got := "{" + strings.Join(inst, ",") + "}"
		want := strings.Split(strings.Trim(a[2], "{}"), ",")
		if a[2] == "{}" {
			want = nil
		}
		slices.Sort(want)
		return got == "{"+strings.Join(want, ",")+"}", got
	case "config":
		v, version, exists := rc.conf.Value()
		got := "absent"
		if exists {
			got = strconv.Quote(v) + " (version " + strconv.Itoa(int(version)) + ")"
		}
		if a[3] == "absent" {
			return !exists, got
		}
		return exists && v == unquote(a[3]), got
	}
	return false, fmt.Sprintf("unknown %s", a[0])
}
