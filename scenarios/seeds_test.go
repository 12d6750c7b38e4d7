package scenarios

import (
	"flag"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

var seeds = flag.Int("seeds", 20, "run every built-in scenario on seeds 1..N (go test ./scenarios -run Seeds -seeds 1000)")

// seedFrom moves the sweep on: seeds seedFrom..seedFrom+N-1, so that a long sweep need not
// run again the seeds an earlier one covered.
var seedFrom = flag.Uint64("seedfrom", 1, "the first seed of -seeds (go test ./scenarios -run Seeds -seeds 5000 -seedfrom 5001)")

// findingFix names the proposed fix of each built-in that shows a finding: those also run
// with it, where their with=/without= expectations say what it changes, and must then have
// no violation at all.
var findingFix = map[string]string{
	"stale-ack-trunc": "stale-ack", "dirty-snapshot-trunc": "ZK-1549", "zk-2846": "ZK-2846",
	"zk-2846-paused-leader": "ZK-2846", "zk-1653": "ZK-1653", "zk-1653-diff": "ZK-1653",
	"epoch-ahead": "epoch-ahead",
}

var expectViolation = regexp.MustCompile(`(?m)^expect violation `)

// Every built-in scenario holds on every seed: its expectations and every check, on -seeds
// seeds from -seedfrom (1..20 by default; a sweep of thousands runs behind the flags). A
// scenario that holds on seed 1 and fails on seed 7 waits on time where it should wait on
// a condition. The failures are listed, each with the command that replays it.
func TestSeeds(t *testing.T) {
	for _, e := range List() {
		variants := []string{""}
		if fix, ok := findingFix[e.Name]; ok {
			variants = append(variants, fix)
		}
		for _, fix := range variants {
			name := e.Name
			if fix != "" {
				name += "+fix-" + fix
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				s, err := Builtin(e.Name)
				if err != nil {
					t.Fatal(err)
				}
				var fixes []string
				if fix != "" {
					fixes = []string{fix}
				}
				var failed []string
				mem := model.NewMemory() // each run is read before the next one reuses it
				for seed := *seedFrom; seed < *seedFrom+uint64(*seeds); seed++ {
					res, err := Run(s, Options{Seed: seed, NoTrace: true, Fixes: fixes, Memory: mem})
					if err != nil {
						t.Fatalf("seed %d: %v", seed, err)
					}
					bad := !res.OK
					if fix != "" && len(res.Violations) > 0 {
						bad = true // the fix must leave no violation, expected or not
					}
					if bad {
						failed = append(failed, fmt.Sprint(seed))
						if len(failed) == 1 {
							t.Logf("seed %d:\n%s", seed, res.Summary())
						}
					}
					mem.Reset()
				}
				if len(failed) > 0 {
					flags := ""
					if fix != "" {
						flags = " --fix " + fix
					}
					t.Errorf("fails on %d of %d seeds (%d..%d): %s (replay: zabsim run %s%s --seed %s)",
						len(failed), *seeds, *seedFrom, *seedFrom+uint64(*seeds)-1, strings.Join(failed, " "), e.Name, flags, failed[0])
				}
			})
		}
	}
}

// The findings' scenarios say what the fix changes: each has at least one expectation for
// the run with it and one for the run without it.
func TestFindingsSayWhatTheFixChanges(t *testing.T) {
	for name, fix := range findingFix {
		src, err := library.ReadFile("library/" + name + ".zab")
		if err != nil {
			t.Fatal(err)
		}
		text := string(src)
		if !strings.Contains(text, " with="+fix) || !strings.Contains(text, " without="+fix) {
			t.Errorf("%s: want expectations with=%s and without=%s", name, fix, fix)
		}
		for _, line := range strings.Split(text, "\n") {
			if expectViolation.MatchString(line) && !strings.Contains(line, "without="+fix) {
				t.Errorf("%s: %q must say without=%s: the fix removes it", name, line, fix)
			}
		}
	}
}

// ZooKeeper's own millisecond settings take a bare number as milliseconds, as zoo.cfg and
// the client's sessionTimeout do; every other duration needs its unit.
func TestZooKeeperMillisecondSettings(t *testing.T) {
	res := runText(t, "ensemble 3\nconfig tickTime=2000 minSessionTimeout=4000 maxSessionTimeout=40000\nstart all\nawait leader\nclient A servers={1} timeout=10000\n", 1)
	if !res.OK {
		t.Fatal(res.Summary())
	}
	cfg := res.Ensemble.Cfg
	if cfg.TickTime != 2*sim.Second || cfg.MinSessionTimeout != 4*sim.Second || cfg.MaxSessionTimeout != 40*sim.Second {
		t.Errorf("tickTime %v, session timeouts %v..%v", cfg.TickTime, cfg.MinSessionTimeout, cfg.MaxSessionTimeout)
	}
	for _, r := range res.World.Trace().Records() {
		if cs, ok := r.Data.(*model.ClientState); ok && cs.Timeout != 0 && cs.Timeout != 10*sim.Second {
			t.Errorf("the client's session timeout %v, want 10s", cs.Timeout)
		}
	}
}

// The read lock's rule: the notes' rule lets a writer hold beside a reader (the recipe
// checker's LockExclusion); ZooKeeper's makes the reader wait for the nearest lower write
// node, and the same schedule holds on every seed.
func TestReadLockRules(t *testing.T) {
	src, err := library.ReadFile("library/rwlock-notes-rule.zab")
	if err != nil {
		t.Fatal(err)
	}
	zk := strings.NewReplacer("lock R3 C /rw read rule=notes\n", "lock R3 C /rw read nowait\nawait waiting R3\n",
		"expect held R3\n", "expect notheld R3\nunlock W\nawait held R3\n",
		"expect violation LockExclusion\n", "").Replace(string(src))
	for seed := uint64(1); seed <= 10; seed++ {
		notes := runText(t, string(src), seed)
		if !notes.OK || len(notes.Violations) != 1 || notes.Violations[0].Check != "LockExclusion" {
			t.Errorf("seed %d, the notes' rule:\n%s", seed, notes.Summary())
		}
		res := runText(t, zk, seed)
		if !res.OK || len(res.Violations) != 0 {
			t.Errorf("seed %d, ZooKeeper's rule:\n%s", seed, res.Summary())
		}
	}
}

// The discovery window: the naive re-registration misses an instance that the recipe (the
// watch set by the read that returns the list) sees, on every seed.
func TestDiscoveryWindow(t *testing.T) {
	src, err := library.ReadFile("library/discovery-window.zab")
	if err != nil {
		t.Fatal(err)
	}
	recipe := strings.NewReplacer(" naive=100ms", "", "expect instances WEB {i1,i2}\n", "expect instances WEB {i1,i2,i3}\n").Replace(string(src))
	for seed := uint64(1); seed <= 10; seed++ {
		if res := runText(t, recipe, seed); !res.OK {
			t.Errorf("seed %d, the recipe:\n%s", seed, res.Summary())
		}
	}
}

// The configuration watch's window: the naive re-watch misses a change that the recipe
// (getData with the watch) sees, on every seed.
func TestConfigWindow(t *testing.T) {
	src, err := library.ReadFile("library/config-window.zab")
	if err != nil {
		t.Fatal(err)
	}
	recipe := strings.NewReplacer(" naive=100ms", "", `expect config CFG = "v2"`, `expect config CFG = "v3"`).Replace(string(src))
	for seed := uint64(1); seed <= 10; seed++ {
		if res := runText(t, string(src), seed); !res.OK {
			t.Errorf("seed %d, naive:\n%s", seed, res.Summary())
		}
		if res := runText(t, recipe, seed); !res.OK {
			t.Errorf("seed %d, the recipe:\n%s", seed, res.Summary())
		}
	}
}

// The fencing cure: without the token the late holder's write lands last; the fenced store
// refuses it, on every seed. Without the pause, nobody's write is refused.
func TestFencingToken(t *testing.T) {
	src, err := library.ReadFile("library/lock-fencing.zab")
	if err != nil {
		t.Fatal(err)
	}
	for seed := uint64(1); seed <= 10; seed++ {
		if res := runText(t, string(src), seed); !res.OK {
			t.Errorf("seed %d:\n%s", seed, res.Summary())
		}
	}
	calm := `ensemble 3
start all
await leader
client A servers={1,2,3} timeout=4s
client B servers={1,2,3} timeout=4s
resource store
resource fstore fenced
lock LA A /res
lock LB B /res nowait
await waiting LB
use LA store
use LA fstore
unlock LA
await held LB
use LB store
use LB fstore
expect resource store last=LB refused=0
expect resource fstore last=LB refused=0
`
	for seed := uint64(1); seed <= 5; seed++ {
		if res := runText(t, calm, seed); !res.OK || len(res.Violations) != 0 {
			t.Errorf("seed %d, no pause:\n%s\n%s", seed, calm, res.Summary())
		}
	}
}

// The leader-election recipe: a leader survives a restart of the whole ensemble under it,
// resigning hands over to the next in line, and a paused leader past its session timeout
// makes two leaders by the recipe's own definition (RecipeOneLeader), on every seed; an
// election workload explored under faults never has two leaders and does elect.
func TestElectionRecipe(t *testing.T) {
	src, err := library.ReadFile("library/election-recipe.zab")
	if err != nil {
		t.Fatal(err)
	}
	for seed := uint64(1); seed <= 10; seed++ {
		res := runText(t, string(src), seed)
		if !res.OK || len(res.Violations) != 1 || res.Violations[0].Check != "RecipeOneLeader" {
			t.Errorf("seed %d:\n%s", seed, res.Summary())
		}
	}
	led := 0
	for seed := uint64(1); seed <= 20; seed++ {
		src := Generate(seed, ExploreConfig{Servers: 3, Duration: 8 * sim.Second, Workload: "elections"})
		if !strings.Contains(src, "workload elections clients=") {
			t.Fatalf("seed %d: no election workload in\n%s", seed, src)
		}
		res := runText(t, src, seed)
		if check, detail := Failure(res); check != "" {
			t.Errorf("seed %d: %s: %s", seed, check, detail)
		}
		for _, r := range res.World.Trace().Records() {
			if d, ok := r.Data.(*model.RecipeEvent); ok && d.Recipe == "election" && d.Event == "acquired" {
				led++
			}
		}
	}
	if led < 20 {
		t.Errorf("the election workload elected %d leaders over 20 schedules", led)
	}
}

// Discovery and configuration workloads explored under faults: every watcher whose session
// lives converges on what the leader holds (RecipeConvergence), and the check catches the
// naive re-watch's window on the same schedules.
func TestRecipeWorkloadsConverge(t *testing.T) {
	for _, w := range []string{"discovery", "config"} {
		caught, changes := 0, 0
		for seed := uint64(1); seed <= 12; seed++ {
			src := Generate(seed, ExploreConfig{Servers: 3, Duration: 8 * sim.Second, Workload: w, Fixes: []string{"all"}})
			if !strings.Contains(src, "workload "+w+" clients=") || !strings.Contains(src, "await converged\n") {
				t.Fatalf("%s, seed %d: no %s workload or no await converged in\n%s", w, seed, w, src)
			}
			res := runText(t, src, seed)
			if check, detail := Failure(res); check != "" {
				t.Errorf("%s, seed %d: %s: %s", w, seed, check, detail)
			}
			for _, r := range res.World.Trace().Records() {
				if d, ok := r.Data.(*model.RecipeEvent); ok && (d.Event == "instances" || d.Event == "value") {
					changes++
				}
			}
			naive := strings.Replace(src, "workload "+w+" clients=3", "workload "+w+" clients=3 naive=200ms", 1)
			if res := runText(t, naive, seed); slices.ContainsFunc(res.Violations, func(v Violation) bool { return v.Check == CheckRecipeConvergence }) {
				caught++
			}
		}
		if changes < 12*5 {
			t.Errorf("%s: the watchers saw %d changes over 12 schedules", w, changes)
		}
		if caught == 0 {
			t.Errorf("%s: the naive re-watch converged on every schedule", w)
		}
		t.Logf("%s: %d changes seen; the naive re-watch failed to converge on %d of 12 schedules", w, changes, caught)
	}
}
