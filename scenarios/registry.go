package scenarios

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/registry"
	"github.com/zabsim/zabsim/sim"
)

// Registry commands. `registry zookeeper|eureka|nacos-ap|nacos-cp` (before the first
// start; default zookeeper, so every scenario without the line runs as before) chooses the
// service registry that `ensemble N` deploys; the service-discovery commands then speak
// to it:
//
//	client NAME servers=S                                   an application process
//	register CLIENT /root service instance "data" [nowait]  its instance, kept registered
//	deregister CLIENT /root service instance [nowait]       removed on purpose
//	discover NAME CLIENT /root service                      subscribe (watch, push, fetch)
//	expect instances NAME {a,b} / await instances NAME {a,b}
//	crash CLIENT host                                       an instance that dies silently
//
// and the same faults: partition and heal take client names as well as servers (clients
// on both sides of a partition), crash/restart/pause/resume take servers or clients.

func checkRegistry(s *Script, c *Command, _ map[string]bool) error {
	if len(c.Args) != 1 {
		return fmt.Errorf("registry zookeeper|eureka|nacos-ap|nacos-cp")
	}
	k, err := registry.ParseKind(c.Args[0])
	if err != nil {
		return err
	}
	s.registry = k
	return nil
}

func checkDeregister(s *Script, c *Command, _ map[string]bool) error {
	a := c.Args
	if n := len(a); n > 0 && a[n-1] == "nowait" {
		a = a[:n-1]
	}
	if len(a) != 4 || !strings.HasPrefix(a[1], "/") {
		return fmt.Errorf("deregister CLIENT /root service instance [nowait]")
	}
	if err := s.needClient(a[0]); err != nil {
		return err
	}
	return checkWithin(c)
}

// zkOnly are the commands and expectations that speak of ZooKeeper's servers or znodes.
var zkOnly = []string{"write", "reconfig", "lock", "unlock", "watchconfig", "workload", "config", "disk", "fix", "let"}

// checkForRegistry refuses, for a registry other than ZooKeeper, what only ZooKeeper has.
func checkForRegistry(s *Script, c *Command) error {
	if s.registry == "" || s.registry == registry.ZooKeeper {
		return nil
	}
	return commandFor(c, s.registry)
}

func commandFor(c *Command, k registry.Kind) error {
	if k == "" || k == registry.ZooKeeper {
		return nil
	}
	bad := slices.Contains(zkOnly, c.Name)
	switch c.Name {
	case "await":
		bad = c.Args[0] != "instances"
	case "expect":
		bad = c.Args[0] != "instances"
	case "crash":
		_, at := c.Opt("at")
		bad = at
	case "deregister", "register":
		bad = false
	}
	for _, a := range c.Args {
		if a == "leader" || a == "followers" {
			bad = true
		}
	}
	if bad {
		return fmt.Errorf("%s: a ZooKeeper command, not for registry %s", c.Text, k)
	}
	return nil
}

// checkScriptFor checks a script against a registry chosen from outside (compare).
func checkScriptFor(s *Script, k registry.Kind) error {
	for i := range s.Commands {
		c := &s.Commands[i]
		if _, ok := commands[c.Name]; !ok && k != registry.ZooKeeper {
			return &Error{s.File, c.Line, c.Name + ": a client operation, not for registry " + string(k)}
		}
		if c.Name == "mutant" {
			continue // a registry's mutant is ignored by the others
		}
		if err := commandFor(c, k); err != nil {
			return &Error{s.File, c.Line, err.Error()}
		}
	}
	return nil
}

func (r *runner) numServers() int {
	if r.e != nil {
		return len(r.e.Servers)
	}
	return r.mcfg.Servers
}

// buildRegistry deploys Eureka or Nacos servers instead of a ZooKeeper ensemble.
func (r *runner) buildRegistry(w *sim.World) error {
	set := &registry.Settings{}
	for _, c := range r.s.Commands {
		if c.Name == "mutant" {
			for _, m := range c.Args {
				if slices.Contains(registry.MutantNames, m) {
					set.Mutants = append(set.Mutants, m)
				}
			}
		}
	}
	var d registry.Deployment
	var err error
	switch r.regKind {
	case registry.Eureka:
		d, err = registry.NewEureka(w, r.mcfg.Servers, set)
	case registry.NacosAP, registry.NacosCP:
		d, err = registry.NewNacos(w, r.mcfg.Servers, r.regKind == registry.NacosCP, set)
	}
	if err != nil {
		return err
	}
	r.w, r.reg = w, d
	r.res.World, r.res.Registry, r.res.Deployment = w, r.regKind, d
	return nil
}

// regClient adds a client of the registry, node ids from model.FirstClientID as for
// ZooKeeper's clients, and waits until its library has started.
func (r *runner) regClient(c *Command) error {
	name := c.Args[0]
	sel, _ := c.Opt("servers")
	sids, err := r.servers(sel)
	if err != nil {
		return err
	}
	if r.regClients == nil {
		r.regClients = map[string]registry.Client{}
	}
	id := model.FirstClientID + sim.NodeID(len(r.regClients))
	cl, err := r.reg.AddClient(id, sids)
	if err != nil {
		return err
	}
	r.regClients[name] = cl
	if err := r.w.Start(cl.ID()); err != nil {
		return err
	}
	return r.awaitOrStop(c, cl.Ready, 30*sim.Second)
}

func (r *runner) regRegister(c *Command) error {
	a := c.Args
	nowait := a[len(a)-1] == "nowait"
	cl := r.regClients[a[0]]
	cl.Register(a[2], a[3], unquote(a[4]))
	if nowait {
		return nil
	}
	return r.awaitOrStop(c, func() bool { return cl.Registered(a[2], a[3]) }, 30*sim.Second)
}

func (r *runner) execDeregister(c *Command) error {
	a := c.Args
	nowait := a[len(a)-1] == "nowait"
	if r.reg == nil {
		return fmt.Errorf("deregister: needs a registry line (a ZooKeeper registration is deleted with its client: NAME close)")
	}
	cl := r.regClients[a[0]]
	cl.Deregister(a[2], a[3])
	if nowait {
		return nil
	}
	return r.awaitOrStop(c, func() bool { return cl.Deregistered(a[2], a[3]) }, 30*sim.Second)
}

func (r *runner) regDiscover(c *Command) {
	a := c.Args
	cl := r.regClients[a[1]]
	cl.Subscribe(a[3])
	r.recipes[a[0]] = &recipe{regClient: cl, service: a[3]}
}

// notePartition keeps a partition's sides for the measurement (registry mode).
func (r *runner) notePartition(from, to []sim.NodeID) {
	if r.reg == nil {
		return
	}
	r.faults = append(r.faults, registry.Fault{Kind: "partition", Start: r.w.Now(), End: -1, Sides: [][]sim.NodeID{slices.Clone(from), slices.Clone(to)}})
}

func (r *runner) noteHeal() {
	for i := range r.faults {
		if r.faults[i].End < 0 {
			r.faults[i].End = r.w.Now()
		}
	}
}

func (r *runner) closeFaults() {
	if r.w == nil {
		return
	}
	for i := range r.faults {
		if r.faults[i].End < 0 {
			r.faults[i].End = r.w.Now()
			r.faults[i].Open = true
		}
	}
}
