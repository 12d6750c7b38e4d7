package model

import (
	"math/rand/v2"
	"strconv"

	"github.com/zabsim/zabsim/sim"
)

// LockWorkloadConfig describes a LockWorkload. Zero fields take the defaults.
type LockWorkloadConfig struct {
	Clients   int      // contenders (default 3)
	Dir       string   // the lock's directory (default "/locks/wl")
	Hold      sim.Time // mean time a holder keeps the lock (default 200ms)
	Think     sim.Time // mean time between a release and the next request (default 100ms)
	ReadWrite bool     // each round takes the read or the write side of a read/write lock
	// NotesRule takes the read side with the notes' unsafe rule (NewReadLockNotesRule).
	NotesRule bool
	// Election has the clients run for leadership (NewElection) instead: lead a while,
	// resign, run again.
	Election bool
	Client   ClientConfig
}

// LockWorkload has clients contend for one lock in a loop: acquire, hold it a while,
// release, think, again. Exploration runs it under faults so that the lock recipe meets
// crashes, partitions and expiring sessions, and the recipe checker (LockExclusion,
// LockLiveness) judges what each client was told. Its choices come from
// World.Stream("lockworkload").
type LockWorkload struct {
	e       *Ensemble
	cfg     LockWorkloadConfig
	rng     *rand.Rand
	clients []*Client
	locks   [][2]*Lock // per client: exclusive (or read) and write
	running bool
	Rounds  int // locks acquired
}

// NewLockWorkload adds the workload's clients to e; Start starts them.
func NewLockWorkload(e *Ensemble, cfg LockWorkloadConfig) (*LockWorkload, error) {
	if cfg.Clients == 0 {
		cfg.Clients = 3
	}
	if cfg.Dir == "" {
		cfg.Dir = "/locks/wl"
		if cfg.Election {
			cfg.Dir = "/election/wl"
		}
	}
	if cfg.Hold == 0 {
		cfg.Hold = 200 * sim.Millisecond
	}
	if cfg.Think == 0 {
		cfg.Think = 100 * sim.Millisecond
	}
	lw := &LockWorkload{e: e, cfg: cfg, rng: e.W.Stream("lockworkload")}
	for i := 0; i < cfg.Clients; i++ {
		c, err := e.AddClient(cfg.Client)
		if err != nil {
			return nil, err
		}
		lw.clients = append(lw.clients, c)
		if cfg.ReadWrite {
			read := NewReadLock(c, cfg.Dir)
			if cfg.NotesRule {
				read = NewReadLockNotesRule(c, cfg.Dir)
			}
			lw.locks = append(lw.locks, [2]*Lock{read, NewWriteLock(c, cfg.Dir)})
		} else if cfg.Election {
			lw.locks = append(lw.locks, [2]*Lock{NewElection(c, cfg.Dir)})
		} else {
			lw.locks = append(lw.locks, [2]*Lock{NewLock(c, cfg.Dir)})
		}
	}
	return lw, nil
}

// Start connects the clients and starts each one's loop once it is connected.
func (lw *LockWorkload) Start() error {
	lw.running = true
	for i, c := range lw.clients {
		if err := lw.e.W.Start(c.id); err != nil {
			return err
		}
		i, started := i, false
		c.AddSessionWatcher(NewWatcher(func(e WatchedEvent) {
			if e.Type == EventNone && e.State == StateSyncConnected && !started {
				started = true
				lw.round(i)
			}
		}))
	}
	return nil
}

// Stop ends the loops: a holder releases at the end of its hold, nobody asks again.
func (lw *LockWorkload) Stop() { lw.running = false }

// exp is a duration drawn from an exponential of the given mean, at least 1ms.
func (lw *LockWorkload) exp(mean sim.Time) sim.Time {
	return max(sim.Time(lw.rng.ExpFloat64()*float64(mean)), sim.Millisecond)
}

// round is one turn of client i: take a lock, hold it, release it, think, again.
func (lw *LockWorkload) round(i int) {
	if !lw.running {
		return
	}
	w := lw.e.W
	l := lw.locks[i][0]
	if lw.cfg.ReadWrite && lw.rng.IntN(2) == 0 {
		l = lw.locks[i][1]
	}
	if l.ended {
		return // the session expired or the handle closed: this client is done
	}
	l.Acquire(func() {
		lw.Rounds++
		w.At(w.Now()+lw.exp(lw.cfg.Hold), func() {
			l.Release(func() {
				w.At(w.Now()+lw.exp(lw.cfg.Think), func() { lw.round(i) })
			})
		})
	})
}

// String names the workload as the scenario line that starts it.
func (lw *LockWorkload) String() string {
	s := "workload locks clients=" + strconv.Itoa(lw.cfg.Clients)
	if lw.cfg.ReadWrite {
		s += " rw=true"
	}
	if lw.cfg.NotesRule {
		s += " rule=notes"
	}
	if lw.cfg.Election {
		s += " election=true"
	}
	return s
}
