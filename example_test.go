package zabsim_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/zabsim/zabsim"
)

// A scenario from text, run with its own seed: the verdict, the leader, the sync decisions.
func ExampleParse() {
	s, err := zabsim.Parse("crash.zab", `
ensemble 3
start all
await leader
let L = leader
write 2
crash L
await leader
expect value /zabsim/w2 = "v2"
`)
	if err != nil {
		panic(err)
	}
	res, err := s.Run(zabsim.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println("ok:", res.OK, "violations:", len(res.Violations))
	fmt.Println("leaders:", len(res.Leaders), "first:", res.Leaders[0].Sid)
	fmt.Println("sync modes:", res.Syncs[0].Mode, res.Syncs[len(res.Syncs)-1].Mode)
	// Output:
	// ok: true violations: 0
	// leaders: 2 first: 3
	// sync modes: DIFF DIFF
}

// A known ZooKeeper bug switched back on: the built-in scenario that shows it passes
// because it expects the violation; the same schedule without its expect lines fails.
func ExampleBuiltin() {
	s, err := zabsim.Builtin("zk-4643-mutant")
	if err != nil {
		panic(err)
	}
	res, _ := s.Run(zabsim.Options{})
	for _, v := range res.Violations {
		fmt.Println(v.Check, "expected:", v.Expected)
	}
	fmt.Println("ok:", res.OK)
	// Output:
	// LeaderLogCompleteness expected: true
	// CommittedLogDurability expected: true
	// ok: true
}

// A seed sweep: the same scenario on seeds 1-20.
func ExampleScenario_Sweep() {
	s, _ := zabsim.Builtin("leader-crash-trunc")
	sw, err := s.Sweep(1, 20, zabsim.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println(sw)
	// Output:
	// 20 runs: every one held
}

// One random fault schedule, as `zabsim explore` writes it, with a mutant on: the finding
// names the check, the class that explains it, and the shrunk scenario.
func ExampleExplore() {
	f, err := zabsim.Explore(zabsim.ExploreConfig{Mutants: []string{"ZK-2845"}}, 9, 100)
	if err != nil {
		panic(err)
	}
	fmt.Println(f.Check)
	fmt.Println(f.Class)
	fmt.Println(strings.Contains(f.Shrunk, "mutant ZK-2845"))
	// Output:
	// ProcessConsistency
	// mutant ZK-2845 (a known ZooKeeper bug switched back on)
	// true
}

// A drawn schedule from the rapid generator: scenario text that `zabsim run` accepts.
func ExampleSchedules() {
	text := zabsim.Schedules(zabsim.ExploreConfig{Servers: 3}).Example(1)
	_, err := zabsim.Parse("drawn.zab", text)
	fmt.Println(strings.HasPrefix(text, "# zabsim explore"), err)
	// Output:
	// true <nil>
}

// The property a user's own test runs: drawn schedules pass every check on the unmodified
// model (a handful here; `go test -rapid.checks=1000` for more).
func TestCheckSchedules(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		zabsim.CheckSchedules(zabsim.ExploreConfig{Servers: 3, Duration: 5e9, Fixes: []string{"all"}})(rt)
	})
}

// A property test in a module of its own (testdata/proptest, with a replace line): with the
// ZK-2845 mutant on, rapid finds a failing schedule, shrinks it, and prints it.
func TestPropertyTestInAnotherModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a second module")
	}
	fail := "testdata/proptest/testdata" // rapid keeps the failing draws there: start afresh
	os.RemoveAll(fail)
	defer os.RemoveAll(fail)
	// rapid's seed pinned: the same draws on every machine, the test as deterministic as the rest
	cmd := exec.Command("go", "test", "-count=1", "-run", "TestZabHoldsUnderFaults", "./...", "-rapid.seed=1")
	cmd.Dir = "testdata/proptest"
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the property held with the mutant on:\n%s", out)
	}
	text := string(out)
	if !strings.Contains(text, "[rapid] failed") || !strings.Contains(text, "mutant ZK-2845") ||
		!strings.Contains(text, "Consistency") && !strings.Contains(text, "Completeness") && !strings.Contains(text, "Durability") {
		t.Fatalf("want rapid's failure, a Zab check and the drawn schedule:\n%s", text)
	}
}

// A sweep reuses one run's memory for the next, but keeps the first failing run whole: its
// trace, read after the sweep, is record for record the one of that seed run alone.
func TestSweepKeepsTheFirstFailure(t *testing.T) {
	b, err := zabsim.Builtin("zk-4643-mutant")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(b.Text(), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "expect") {
			lines = append(lines, l)
		}
	}
	s, err := zabsim.Parse("fails.zab", strings.Join(lines, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	sw, err := s.Sweep(1, 4, zabsim.Options{KeepTrace: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(sw.Failed) < 2 || sw.First == nil {
		t.Fatalf("the mutant without its expectations: %v", sw)
	}
	alone, err := s.Run(zabsim.Options{Seed: sw.Failed[0], KeepTrace: true})
	if err != nil {
		t.Fatal(err)
	}
	got, want := sw.First.World.Trace().Records(), alone.World.Trace().Records()
	if len(got) != len(want) {
		t.Fatalf("the kept first failure has %d records, the seed alone %d", len(got), len(want))
	}
	for i := range got {
		if g, w := got[i].String(), want[i].String(); g != w {
			t.Fatalf("record %d of the kept first failure: %s\nthe seed alone: %s", i, g, w)
		}
	}
}
