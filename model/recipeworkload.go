package model

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/zabsim/zabsim/sim"
)

// RecipeWorkloadConfig describes a RecipeWorkload. Zero fields take the defaults.
type RecipeWorkloadConfig struct {
	// Config follows one configuration znode that an admin keeps changing; otherwise
	// (discovery) instances register and leave a service that watchers follow.
	Config bool
	// Clients: discovery, the instances that come and go (default 3); config, the
	// watchers (default 3).
	Clients int
	// Watchers following the service (discovery only; default 2).
	Watchers int
	Hold     sim.Time // discovery: mean time an instance stays registered (default 1s)
	Think    sim.Time // mean time between changes: an instance's absence, the admin's next write (default 300ms)
	// Naive has the watchers set their watch this long after reading (the window that
	// discovery-window and config-window show), for the convergence check to catch.
	Naive  sim.Time
	Client ClientConfig
}

// The workload's znodes.
const (
	RecipeWorkloadRoot    = "/services"
	RecipeWorkloadService = "wl"
	RecipeWorkloadPath    = "/config/wl"
)

// RecipeWorkload exercises service discovery or the configuration watch under faults:
// the service's instances (or the configuration's value) keep changing, and once the
// faults are over and the changes stop, every watcher whose session survived must come to
// see what the servers hold (Converged; the scenario's `await converged`). Its choices
// come from World.Stream("recipeworkload").
type RecipeWorkload struct {
	e        *Ensemble
	cfg      RecipeWorkloadConfig
	rng      *rand.Rand
	actors   []*Client // instances, or the admin
	watchers []*Client
	regs     []*ServiceRegistration
	discs    []*ServiceDiscovery
	confs    []*ConfigWatch
	running  bool
	writes   int
	Changes  int // registrations, deregistrations and configuration writes acknowledged
}

// NewRecipeWorkload adds the workload's clients to e; Start starts them.
func NewRecipeWorkload(e *Ensemble, cfg RecipeWorkloadConfig) (*RecipeWorkload, error) {
	if cfg.Clients == 0 {
		cfg.Clients = 3
	}
	if cfg.Watchers == 0 {
		cfg.Watchers = 2
	}
	if cfg.Hold == 0 {
		cfg.Hold = sim.Second
	}
	if cfg.Think == 0 {
		cfg.Think = 300 * sim.Millisecond
	}
	rw := &RecipeWorkload{e: e, cfg: cfg, rng: e.W.Stream("recipeworkload")}
	actors, watchers := cfg.Clients, cfg.Watchers
	if cfg.Config {
		actors, watchers = 1, cfg.Clients
	}
	for i := 0; i < actors+watchers; i++ {
		c, err := e.AddClient(cfg.Client)
		if err != nil {
			return nil, err
		}
		if i < actors {
			rw.actors = append(rw.actors, c)
		} else {
			rw.watchers = append(rw.watchers, c)
		}
	}
	return rw, nil
}

// Start connects the clients; each starts its part once connected.
func (rw *RecipeWorkload) Start() error {
	rw.running = true
	for i, c := range rw.actors {
		i := i
		rw.onConnected(c, func() {
			if rw.cfg.Config {
				rw.adminStart(c)
				return
			}
			reg := RegisterService(c, RecipeWorkloadRoot, RecipeWorkloadService, "i"+strconv.Itoa(i+1), "host-"+strconv.Itoa(i+1))
			rw.regs = append(rw.regs, reg)
			rw.instanceLoop(reg)
		})
	}
	for _, c := range rw.watchers {
		rw.onConnected(c, func() {
			if rw.cfg.Config {
				w := WatchConfig(c, RecipeWorkloadPath, nil)
				w.Naive = rw.cfg.Naive
				rw.confs = append(rw.confs, w)
			} else {
				d := WatchService(c, RecipeWorkloadRoot, RecipeWorkloadService, nil)
				d.Naive = rw.cfg.Naive
				rw.discs = append(rw.discs, d)
			}
		})
	}
	for _, c := range append(slices.Clone(rw.actors), rw.watchers...) {
		if err := rw.e.W.Start(c.id); err != nil {
			return err
		}
	}
	return nil
}

// onConnected runs f at c's first SyncConnected.
func (rw *RecipeWorkload) onConnected(c *Client, f func()) {
	started := false
	c.AddSessionWatcher(NewWatcher(func(e WatchedEvent) {
		if e.Type == EventNone && e.State == StateSyncConnected && !started {
			started = true
			f()
		}
	}))
}

// Stop ends the changes: an instance stays as it is, the admin writes no more.
func (rw *RecipeWorkload) Stop() { rw.running = false }

func (rw *RecipeWorkload) exp(mean sim.Time) sim.Time {
	return max(sim.Time(rw.rng.ExpFloat64()*float64(mean)), sim.Millisecond)
}

// instanceLoop: stay registered a while, leave, stay away a while, register again.
func (rw *RecipeWorkload) instanceLoop(reg *ServiceRegistration) {
	w := rw.e.W
	w.At(w.Now()+rw.exp(rw.cfg.Hold), func() {
		if !rw.running || reg.ended {
			return
		}
		reg.Unregister(func() {
			rw.Changes++
			w.At(w.Now()+rw.exp(rw.cfg.Think), func() {
				if !rw.running || reg.ended {
					return
				}
				reg.Register()
				rw.Changes++
				rw.instanceLoop(reg)
			})
		})
	})
}

// adminStart creates the configuration znode (and its parent), then keeps changing it;
// a step that fails is tried again 100ms later.
func (rw *RecipeWorkload) adminStart(c *Client) {
	again := func() {
		if rw.running {
			rw.e.W.At(rw.e.W.Now()+100*sim.Millisecond, func() { rw.adminStart(c) })
		}
	}
	parent, _ := parentOf(RecipeWorkloadPath)
	ensurePath(c, parent, func(err int32) {
		if err != ErrOK {
			again()
			return
		}
		c.Create(RecipeWorkloadPath, "v0", Persistent, func(r *Result) {
			if r.Err == ErrOK || r.Err == ErrNodeExists {
				rw.adminLoop(c)
				return
			}
			again()
		})
	})
}

// adminLoop sets the next value after a pause; a write whose outcome is unknown is not
// retried (the next one supersedes it).
func (rw *RecipeWorkload) adminLoop(c *Client) {
	w := rw.e.W
	w.At(w.Now()+rw.exp(rw.cfg.Think), func() {
		if !rw.running {
			return
		}
		if !c.Connected() {
			rw.adminLoop(c)
			return
		}
		rw.writes++
		c.SetData(RecipeWorkloadPath, "v"+strconv.Itoa(rw.writes), -1, func(r *Result) {
			if r.Err == ErrOK {
				rw.Changes++
			}
		})
		rw.adminLoop(c)
	})
}

// Converged reports whether every watcher whose session lives and is connected sees what
// the leader holds, and if not, the first one that does not, with both views. A watcher
// whose session expired has ended its recipe (an application would make a new handle) and
// is not judged. Without a leader nothing converges.
func (rw *RecipeWorkload) Converged() (bool, string) {
	l := rw.e.Leader()
	if l == nil {
		return false, "no leader"
	}
	t := l.Tree()
	if rw.cfg.Config {
		v, _, exists := t.GetData(RecipeWorkloadPath)
		truth := "absent"
		if exists {
			truth = strconv.Quote(v)
		}
		for _, w := range rw.confs {
			if w.ended {
				continue
			}
			got, _, ok := w.Value()
			seen := "absent"
			if ok {
				seen = strconv.Quote(got)
			}
			if !w.c.Connected() || seen != truth {
				return false, "client " + strconv.Itoa(int(w.c.id)) + " sees " + RecipeWorkloadPath + " = " + seen + ", the leader holds " + truth
			}
		}
		return true, ""
	}
	kids, _, _ := t.GetChildren(RecipeWorkloadRoot + "/" + RecipeWorkloadService)
	kids = slices.Sorted(slices.Values(kids))
	for _, d := range rw.discs {
		if d.ended {
			continue
		}
		seen := slices.Sorted(slices.Values(d.Instances()))
		if !d.c.Connected() || !slices.Equal(seen, kids) {
			return false, "client " + strconv.Itoa(int(d.c.id)) + " sees the instances {" + strings.Join(seen, ",") +
				"}, the leader holds {" + strings.Join(kids, ",") + "}"
		}
	}
	return true, ""
}

// String names the workload as the scenario line that starts it.
func (rw *RecipeWorkload) String() string {
	s := "workload discovery clients=" + strconv.Itoa(rw.cfg.Clients)
	if rw.cfg.Config {
		s = "workload config clients=" + strconv.Itoa(rw.cfg.Clients)
	}
	if rw.cfg.Naive > 0 {
		s += " naive=" + rw.cfg.Naive.String()
	}
	return s
}
