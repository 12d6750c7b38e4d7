package registry

import (
	"slices"
	"strconv"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// ZooKeeper as a registry: model's servers and clients, with the registration and
// discovery recipes of model/recipes.go (an ephemeral znode per instance, a child watch),
// and a new session after an expiry, re-registering and re-watching, as Curator's
// ServiceDiscovery does on RECONNECTED.
type zkDeployment struct {
	w       *sim.World
	e       *model.Ensemble
	root    string
	clients map[sim.NodeID]*ZKClient
	holds   []holder
	svcs    []string
}

// NewZooKeeper wraps an ensemble; root is the registry's parent znode ("/services").
func NewZooKeeper(e *model.Ensemble, root string) Deployment {
	d := &zkDeployment{w: e.W, e: e, root: root, clients: map[sim.NodeID]*ZKClient{}, holds: make([]holder, len(e.Servers))}
	e.W.Trace().Observers = append(e.W.Trace().Observers, d.observe)
	return d
}

func (d *zkDeployment) Kind() Kind { return ZooKeeper }

func (d *zkDeployment) path(service string) string { return d.root + "/" + service }

func (d *zkDeployment) AddClient(id sim.NodeID, servers []int64) (Client, error) {
	cl, err := d.e.AddClient(model.ClientConfig{Servers: servers})
	if err != nil {
		return nil, err
	}
	c := &ZKClient{d: d, c: cl, regs: map[string]*zkReg{}, probe: probe{w: d.w, id: cl.ID()}}
	d.clients[cl.ID()] = c
	return c, nil
}

func (d *zkDeployment) Hold(sid int64, service string) []string {
	s := d.e.Server(sid)
	if s == nil || !s.Up() {
		return nil
	}
	ch, _, _ := s.Tree().GetChildren(d.path(service))
	ch = slices.Clone(ch)
	slices.Sort(ch)
	return ch
}

func (d *zkDeployment) follow(service string) {
	if !slices.Contains(d.svcs, service) {
		d.svcs = append(d.svcs, service)
	}
}

// observe turns model records into registry records: a server's children after it applied
// a txn (or loaded a snapshot), and the recipes' registrations.
func (d *zkDeployment) observe(r *sim.Record) {
	switch x := r.Data.(type) {
	case *model.Committed:
		d.noteServer(x.Sid, "commit")
	case *model.Loaded:
		d.noteServer(x.Sid, "load")
	case *model.Truncated:
		d.noteServer(x.Sid, "truncate")
	case *model.RecipeEvent:
		if c := d.clients[sim.NodeID(x.Client)]; c != nil {
			c.recipeEvent(x)
		}
	}
	if r.Kind == sim.RecCrash && int(r.Node) >= 1 && int(r.Node) <= len(d.e.Servers) {
		for _, svc := range d.svcs {
			d.holds[r.Node-1].set(d.w, int64(r.Node), svc, nil, "down")
		}
		d.holds[r.Node-1].reset()
	}
}

func (d *zkDeployment) noteServer(sid int64, why string) {
	for _, svc := range d.svcs {
		d.holds[sid-1].set(d.w, sid, svc, d.Hold(sid, svc), why)
	}
}

// ZKClient is an application with a ZooKeeper handle.
type ZKClient struct {
	d     *zkDeployment
	c     *model.Client
	regs  map[string]*zkReg
	subs  []string
	discs map[string]*model.ServiceDiscovery
	probe probe
	view  viewer
	gen   int // handle generation: a new session after an expiry
	armed bool
}

type zkReg struct {
	service, instance, data string
	r                       *model.ServiceRegistration
	seq                     int64
	done, gone, cancelled   bool
}

func (c *ZKClient) ID() sim.NodeID { return c.c.ID() }
func (c *ZKClient) Ready() bool    { return c.c.Connected() }

func (c *ZKClient) Register(service, instance, data string) {
	c.d.follow(service)
	g := &zkReg{service: service, instance: instance, data: data}
	c.regs[service+"/"+instance] = g
	c.startReg(g)
	c.watchSession()
}

func (c *ZKClient) startReg(g *zkReg) {
	g.seq = c.probe.call("register", g.service, g.instance)
	g.r = model.RegisterService(c.c, c.d.root, g.service, g.instance, g.data)
}

// recipeEvent: the registration recipe's "registered" answers the register call.
func (c *ZKClient) recipeEvent(x *model.RecipeEvent) {
	if x.Recipe != "registration" || x.Event != "registered" {
		return
	}
	for _, k := range sortedKeys(c.regs) {
		g := c.regs[k]
		if c.d.path(g.service)+"/"+g.instance == x.Name && g.seq != 0 {
			g.done = true
			c.probe.ret("register", g.service, g.instance, g.seq, true, c.c.Server(), nil)
			g.seq = 0
		}
	}
}

// watchSession starts a new handle when the session expires (Curator's
// ConnectionStateManager and ServiceDiscoveryImpl.reRegisterServices).
func (c *ZKClient) watchSession() {
	if c.armed {
		return
	}
	c.armed = true
	gen := c.gen
	c.c.AddSessionWatcher(model.NewWatcher(func(e model.WatchedEvent) {
		if e.Type != model.EventNone || e.State != model.StateExpired || gen != c.gen {
			return
		}
		c.gen++
		c.d.w.At(c.d.w.Now(), func() {
			if !c.d.w.IsUp(c.c.ID()) {
				return
			}
			c.armed = false
			c.c.Start()
			for _, k := range sortedKeys(c.regs) {
				if g := c.regs[k]; !g.gone {
					c.startReg(g)
				}
			}
			for _, svc := range c.subs {
				c.watch(svc)
			}
			c.watchSession()
		})
	}))
}

func (c *ZKClient) Registered(service, instance string) bool {
	g := c.regs[service+"/"+instance]
	return g != nil && g.done
}

func (c *ZKClient) Deregister(service, instance string) {
	g := c.regs[service+"/"+instance]
	if g == nil {
		return
	}
	g.gone = true
	seq := c.probe.call("deregister", service, instance)
	g.r.Unregister(func() {
		g.cancelled = true
		c.probe.ret("deregister", service, instance, seq, true, c.c.Server(), nil)
	})
}

func (c *ZKClient) Deregistered(service, instance string) bool {
	g := c.regs[service+"/"+instance]
	return g != nil && g.cancelled
}

func (c *ZKClient) Subscribe(service string) {
	c.d.follow(service)
	if !slices.Contains(c.subs, service) {
		c.subs = append(c.subs, service)
	}
	c.watch(service)
	c.watchSession()
	c.d.w.At(c.d.w.Now()+ProbeInterval, c.probeAll)
}

func (c *ZKClient) watch(service string) {
	if c.discs == nil {
		c.discs = map[string]*model.ServiceDiscovery{}
	}
	c.discs[service] = model.WatchService(c.c, c.d.root, service, func(inst []string) {
		c.view.set(c.d.w, c.c.ID(), service, inst)
	})
}

// probeAll asks getChildren without a watch: answered, failed (ConnectionLoss, a closed
// handle) or not answered within ProbeTimeout.
func (c *ZKClient) probeAll() {
	w := c.d.w
	if !w.IsUp(c.c.ID()) {
		return
	}
	w.At(w.Now()+ProbeInterval, c.probeAll)
	for _, svc := range c.subs {
		seq := c.probe.call("query", svc, "")
		answered := false
		w.At(w.Now()+ProbeTimeout, func() {
			if !answered {
				answered = true
				c.probe.ret("query", svc, "", seq, false, 0, nil)
			}
		})
		c.c.GetChildren(c.d.path(svc), nil, func(r *model.Result) {
			if answered {
				return
			}
			answered = true
			ok := r.Err == model.ErrOK || r.Err == model.ErrNoNode
			ch := slices.Clone(r.Children)
			slices.Sort(ch)
			c.probe.ret("query", svc, "", seq, ok, c.c.Server(), ch)
		})
	}
}

func (c *ZKClient) View(service string) []string { return c.view.get(service) }

var _ = strconv.Itoa
