package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// Client commands. A client is declared with `client NAME servers=S` and then used as a
// command of its own: `NAME create /path "data"`, `NAME get /path watch`, ... Each call waits
// for its answer (within=30s by default) unless it ends in nowait; `expect result NAME ...`
// judges the last answer. Recipes: `lock NAME CLIENT /dir [read|write]` acquires a lock (a
// waiting lock is fine: `await held NAME`), `unlock NAME`; `register CLIENT /root service
// instance "data"`; `discover NAME CLIENT /root service`; `watchconfig NAME CLIENT /path`.

// clientOps are the operations a client command can name.
var clientOps = []string{"create", "set", "get", "exists", "children", "delete", "sync", "close"}

func checkClient(s *Script, c *Command, names map[string]bool) error {
	if len(c.Args) != 1 || !isIdent(c.Args[0]) {
		return fmt.Errorf("client takes a name and servers=S: client A servers=2")
	}
	name := c.Args[0]
	if _, isCmd := commands[name]; isCmd || names[name] || s.clients[name] {
		return fmt.Errorf("client %s: the name is taken", name)
	}
	v, ok := c.Opt("servers")
	if !ok {
		return fmt.Errorf("client %s needs servers=S (a server or a set {1,2,3}) to connect to", name)
	}
	if err := checkSelector(s, v, names); err != nil {
		return err
	}
	if err := checkWithin(c); err != nil {
		return err
	}
	if v, ok := c.Opt("timeout"); ok {
		// the session timeout the client asks for: an int of milliseconds in ZooKeeper's
		// client, which connects within a share of it
		if _, err := checkDuration("timeout", v, sim.Millisecond, maxMillis, sessionWhy); err != nil {
			return err
		}
	}
	if s.clients == nil {
		s.clients = map[string]bool{}
	}
	s.clients[name] = true
	return nil
}

// checkClientOp checks `NAME op args`: c.Name is a declared client.
func checkClientOp(s *Script, c *Command) error {
	if len(c.Args) == 0 || !contains(clientOps, c.Args[0]) {
		return fmt.Errorf("%s: want an operation: %s", c.Name, strings.Join(clientOps, " "))
	}
	op, a := c.Args[0], c.Args[1:]
	if n := len(a); n > 0 && a[n-1] == "nowait" {
		a = a[:n-1]
	}
	if op == "close" {
		if len(a) != 0 {
			return fmt.Errorf("%s close takes nothing more", c.Name)
		}
		return nil
	}
	if len(a) == 0 || !strings.HasPrefix(a[0], "/") {
		return fmt.Errorf("%s %s: want a path starting with /", c.Name, op)
	}
	rest := a[1:]
	switch op {
	case "create", "set":
		if len(rest) == 0 || !strings.HasPrefix(rest[0], `"`) {
			return fmt.Errorf(`%s %s %s: want the data as a quoted string: "value"`, c.Name, op, a[0])
		}
		for _, w := range rest[1:] {
			if op == "set" || (w != "ephemeral" && w != "sequential") {
				return fmt.Errorf("%s %s: unexpected %q", c.Name, op, w)
			}
		}
	case "get", "exists", "children":
		if len(rest) > 1 || len(rest) == 1 && rest[0] != "watch" {
			return fmt.Errorf("%s %s: only 'watch' may follow the path", c.Name, op)
		}
	default:
		if len(rest) > 0 {
			return fmt.Errorf("%s %s: unexpected %q", c.Name, op, rest[0])
		}
	}
	if v, ok := c.Opt("version"); ok {
		// a znode's version is a Java int; -1 matches any
		if n, err := strconv.Atoi(v); err != nil || n < -1 || n > maxJavaInt {
			return fmt.Errorf("version=%s: want a number from -1 (any) to %d", v, maxJavaInt)
		}
	}
	return checkWithin(c)
}

// scenarioClient is a declared client and what the scenario saw of it.
type scenarioClient struct {
	c      *model.Client
	last   *model.Result
	events []model.WatchedEvent
}

func (r *runner) execClient(c *Command) error {
	if r.reg != nil {
		return r.regClient(c)
	}
	name := c.Args[0]
	sel, _ := c.Opt("servers")
	sids, err := r.servers(sel)
	if err != nil {
		return err
	}
	cfg := model.ClientConfig{Servers: sids}
	if v, ok := c.Opt("timeout"); ok {
		cfg.SessionTimeout, _ = parseDuration("timeout", v)
	}
	cl, err := r.e.AddClient(cfg) // node ids from 1000, shared with the workload's clients
	if err != nil {
		return err
	}
	id := cl.ID()
	sc := &scenarioClient{c: cl}
	r.clients[name] = sc
	r.clientOrder = append(r.clientOrder, name)
	r.res.Clients = append(r.res.Clients, ClientName{Node: int64(id), Name: name})
	if err := r.w.Start(id); err != nil {
		return err
	}
	if !r.runUntil(cl.Connected, r.after(r.within(c, 30*sim.Second))) {
		got := "not connected at " + fmtTime(r.w.Now())
		r.res.Expectations = append(r.res.Expectations, Expectation{Line: c.Line, Text: c.Text, OK: false, Got: got})
		return &stop{why: c.Text + ": " + got}
	}
	return nil
}

func (r *runner) execClientOp(c *Command) error {
	sc := r.clients[c.Name]
	cl := sc.c
	op, a := c.Args[0], c.Args[1:]
	nowait := false
	if n := len(a); n > 0 && a[n-1] == "nowait" {
		a, nowait = a[:n-1], true
	}
	done := false
	cb := func(res *model.Result) {
		sc.last = res
		done = true
	}
	var watcher model.Watcher
	if len(a) > 1 && a[len(a)-1] == "watch" {
		watcher = model.NewWatcher(func(e model.WatchedEvent) { sc.events = append(sc.events, e) })
	}
	version := int32(-1)
	if v, ok := c.Opt("version"); ok {
		n, _ := strconv.Atoi(v)
		version = int32(n)
	}
	switch op {
	case "create":
		mode := model.Persistent
		ephemeral, sequential := slices.Contains(a[2:], "ephemeral"), slices.Contains(a[2:], "sequential")
		switch {
		case ephemeral && sequential:
			mode = model.EphemeralSequential
		case ephemeral:
			mode = model.Ephemeral
		case sequential:
			mode = model.PersistentSequential
		}
		cl.Create(a[0], unquote(a[1]), mode, cb)
	case "set":
		cl.SetData(a[0], unquote(a[1]), version, cb)
	case "get":
		cl.GetData(a[0], watcher, cb)
	case "exists":
		cl.Exists(a[0], watcher, cb)
	case "children":
		cl.GetChildren(a[0], watcher, cb)
	case "delete":
		cl.Delete(a[0], version, cb)
	case "sync":
		cl.Sync(a[0], cb)
	case "close":
		cl.Close(cb)
	}
	if nowait {
		return nil
	}
	if !r.runUntil(func() bool { return done }, r.after(r.within(c, 30*sim.Second))) {
		got := "no answer at " + fmtTime(r.w.Now())
		r.res.Expectations = append(r.res.Expectations, Expectation{Line: c.Line, Text: c.Text, OK: false, Got: got})
		return &stop{why: c.Text + ": " + got}
	}
	r.judgeCall(c, sc.last)
	return nil
}

// connectionErrors are the answers that say a call may not have taken effect as written:
// the client lost its connection or session, or gave up waiting.
var connectionErrors = []int32{model.ErrConnectionLoss, model.ErrSessionExpired, model.ErrOperationTimeout,
	model.ErrRequestTimeout, model.ErrSessionMoved}

// judgeCall fails the line of a blocking call that failed on its connection, unless the next
// line expects that result: a scenario that goes on as if the call had worked would blame
// whatever fails next.
func (r *runner) judgeCall(c *Command, res *model.Result) {
	if res == nil || !slices.Contains(connectionErrors, res.Err) {
		return
	}
	if r.pc+1 < len(r.s.Commands) {
		if n := r.s.Commands[r.pc+1]; n.Name == "expect" && len(n.Args) >= 2 && n.Args[0] == "result" && n.Args[1] == c.Name {
			return
		}
	}
	name := model.ErrName(res.Err)
	r.res.Expectations = append(r.res.Expectations, Expectation{Line: c.Line, Text: c.Text, OK: false,
		Got: name + " (the call may not have taken effect: wait with 'await connected " + c.Name + "' first, or expect it with 'expect result " + c.Name + " " + name + "')"})
	r.failedCall = fmt.Sprintf("line %d's %s failed: %s", c.Line, c.Text, name)
}

// resultText describes a client's last result: its error name, and the data it read.
func resultText(res *model.Result) string {
	if res == nil {
		return "no call"
	}
	if res.Err != model.ErrOK {
		return model.ErrName(res.Err)
	}
	switch res.Op {
	case model.OpGetData:
		return strconv.Quote(res.Data)
	case model.OpGetChildren:
		return "{" + strings.Join(res.Children, ",") + "}"
	case model.OpCreate:
		return "created " + res.Created
	}
	return "OK"
}

// checkExpectResult checks `expect result NAME OK|ERROR|= "data"|= {a,b}`.
func checkExpectResult(s *Script, c *Command) error {
	a := c.Args
	if len(a) < 3 || !s.clients[a[1]] {
		return fmt.Errorf(`expect result CLIENT OK | ERROR | = "data" | = {child,child} (CLIENT declared with 'client')`)
	}
	if a[2] == "=" {
		if len(a) != 4 {
			return fmt.Errorf(`expect result %s = "data"`, a[1])
		}
		return nil
	}
	if len(a) != 3 {
		return fmt.Errorf("expect result %s: unexpected %q", a[1], a[3])
	}
	return nil
}

func (r *runner) expectResult(c *Command) (bool, string) {
	a := c.Args
	sc := r.clients[a[1]]
	got := resultText(sc.last)
	if a[2] == "=" {
		want := a[3]
		if strings.HasPrefix(want, `"`) {
			want = strconv.Quote(unquote(want))
		}
		return got == want, got
	}
	if a[2] == "OK" {
		return sc.last != nil && sc.last.Err == model.ErrOK, got
	}
	return got == a[2], got
}

// checkExpectWatched checks `expect watched CLIENT /path EVENT` (EVENT as ZooKeeper names it:
// NodeCreated, NodeDeleted, NodeDataChanged, NodeChildrenChanged) or `expect watched CLIENT none`.
func checkExpectWatched(s *Script, c *Command) error {
	a := c.Args
	if len(a) == 3 && a[2] == "none" && s.clients[a[1]] {
		return nil
	}
	if len(a) != 4 || !s.clients[a[1]] || !strings.HasPrefix(a[2], "/") {
		return fmt.Errorf("expect watched CLIENT /path EVENT | expect watched CLIENT none")
	}
	return nil
}

func (r *runner) expectWatched(c *Command) (bool, string) {
	a := c.Args
	sc := r.clients[a[1]]
	var seen []string
	for _, e := range sc.events {
		seen = append(seen, e.Path+" "+e.Type.String())
	}
	got := "none"
	if len(seen) > 0 {
		got = strings.Join(seen, ", ")
	}
	if a[2] == "none" {
		return len(seen) == 0, got
	}
	return slices.Contains(seen, a[2]+" "+a[3]), got
}
