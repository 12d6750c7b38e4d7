package checker

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// What the recipes promise, judged from what each client was told (the RecipeEvent
// records the recipes write: "acquired", "suspended", "resumed", "released", "lost"), not
// from the servers: a client that believes it holds a lock acts on it.
const (
	// CheckLockExclusion: never two holders of an exclusive lock, never a writer of a
	// read/write lock together with any other holder.
	CheckLockExclusion = "LockExclusion"
	// CheckLockLiveness: at the end of a run that stayed quiet past the liveness bound, no
	// lock has a waiter and no holder.
	CheckLockLiveness = "LockLiveness"
	// CheckRecipeLeader: the leader-election recipe (model.NewElection) never has two
	// candidates that each believe they lead.
	CheckRecipeLeader = "RecipeOneLeader"
)

// lockHolder is one client holding a lock, in its own view.
type lockHolder struct {
	client  int64
	node    string // its lock node
	write   bool   // an exclusive lock or the write side
	since   int    // the record that made it a holder
	sinceAt sim.Time
}

// waiter is a client waiting for a lock, since its "acquiring" record.
type waiter struct {
	rec int
	at  sim.Time
}

// lockView is one lock directory as the clients see it.
type lockView struct {
	holders  []lockHolder
	waiting  map[int64]waiter // client -> since when, until acquired or given up (looked up only)
	election bool             // a leader election's directory
}

// recipes are the recipes' states.
type recipes struct {
	locks map[string]*lockView // by directory, looked up only
}

func (c *Checker) lock(dir string) *lockView {
	if c.rc.locks == nil {
		c.rc.locks = map[string]*lockView{}
	}
	l := c.rc.locks[dir]
	if l == nil {
		l = &lockView{waiting: map[int64]waiter{}}
		c.rc.locks[dir] = l
	}
	return l
}

// onRecipe follows a lock's holders as their clients were told.
func (c *Checker) onRecipe(i int, r *sim.Record, d *model.RecipeEvent) {
	if d.Recipe != "lock" && d.Recipe != "rwlock" && d.Recipe != "election" {
		return
	}
	l := c.lock(d.Name)
	l.election = d.Recipe == "election"
	drop := func() {
		l.holders = slices.DeleteFunc(l.holders, func(h lockHolder) bool { return h.client == d.Client })
	}
	switch d.Event {
	case "acquiring":
		l.waiting[d.Client] = waiter{i, r.At}
	case "acquired", "resumed":
		delete(l.waiting, d.Client)
		drop()
		h := lockHolder{client: d.Client, node: d.Detail, since: i, sinceAt: r.At,
			write: d.Recipe != "rwlock" || strings.Contains(d.Detail[strings.LastIndexByte(d.Detail, '/')+1:], "write-")}
		for _, o := range l.holders {
			if d.Recipe == "election" {
				c.report(CheckRecipeLeader, r.At, fmt.Sprintf("client %d leads the election on %s (node %s) while client %d still leads it (node %s, since %s): two leaders",
					h.client, d.Name, h.node, o.client, o.node, o.sinceAt), o.since, i)
				break
			}
			if h.write || o.write {
				c.report(CheckLockExclusion, r.At, fmt.Sprintf("client %d holds the %s lock on %s (node %s) while client %d still holds it (node %s, since %s): %s",
					h.client, lockKindName(d.Recipe, h.write), d.Name, h.node, o.client, o.node, o.sinceAt, exclusionWhy(h, o)), o.since, i)
				break
			}
		}
		l.holders = append(l.holders, h)
	case "suspended", "releasing", "released", "lost":
		drop()
		if d.Event == "lost" || d.Event == "released" {
			delete(l.waiting, d.Client)
		}
	}
}

func lockKindName(recipe string, write bool) string {
	switch {
	case recipe == "lock":
		return "exclusive"
	case write:
		return "write"
	}
	return "read"
}

func exclusionWhy(h, o lockHolder) string {
	if h.write && o.write {
		return "two writers"
	}
	return "a writer and a reader"
}

// finishRecipes: a lock that nobody holds (an election nobody leads) while a live client
// still waits for it, at the end of a run quiet past the liveness bound, is stuck.
func (c *Checker) finishRecipes(end sim.Time) {
	if !c.live.quietEnough(end) {
		return
	}
	dirs := make([]string, 0, len(c.rc.locks))
	for d := range c.rc.locks {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	for _, dir := range dirs {
		l := c.rc.locks[dir]
		if len(l.holders) > 0 || len(l.waiting) == 0 {
			continue
		}
		var ws []int64
		for w := range l.waiting {
			ws = append(ws, w)
		}
		slices.Sort(ws)
		what := "the lock on %s has no holder at the end, yet client %d still waits for it (since %s)"
		if l.election {
			what = "the election on %s has no leader at the end, yet client %d still runs for it (since %s)"
		}
		c.report(CheckLockLiveness, end, fmt.Sprintf(what, dir, ws[0], l.waiting[ws[0]].at), l.waiting[ws[0]].rec)
	}
}
