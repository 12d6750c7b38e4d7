// Package zabsim runs ZooKeeper 3.8's replication protocol (Zab) in a deterministic
// simulator, for property-based regression tests in Go: parse a scenario or draw a random
// fault schedule, run it with a seed, and read the verdict of every check (Zab's safety
// properties, the sync decisions, linearizable writes, session order, liveness).
//
// A run is reproduced exactly from (scenario, seed, code version). The command `zabsim`
// (cmd/zabsim) is built on the same functions; the scenario language is in the README.
//
// Zero values mean the defaults: Options{} runs a scenario with its own `seed` line (else
// seed 1), with no mutant and no fix; ExploreConfig{} is `zabsim explore`'s default
// generator (5 servers, 20 s of faults, 3 clients).
package zabsim

import (
	"fmt"
	"strings"

	"pgregory.net/rapid"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/scenarios"
)

// Scenario is a parsed scenario: checked line by line, ready to run with any seed.
type Scenario struct {
	s *scenarios.Script
}

// Parse reads a scenario's text; name names it in error messages ("file:line: reason").
func Parse(name, text string) (*Scenario, error) {
	s, err := scenarios.Parse(name, text)
	if err != nil {
		return nil, err
	}
	return &Scenario{s}, nil
}

// Builtin is a scenario of the built-in library (`zabsim list`).
func Builtin(name string) (*Scenario, error) {
	s, err := scenarios.Builtin(name)
	if err != nil {
		return nil, err
	}
	return &Scenario{s}, nil
}

// Name is the scenario's name.
func (s *Scenario) Name() string { return s.s.Name }

// Text is the scenario's text.
func (s *Scenario) Text() string { return s.s.Source }

// Options says how to run a scenario. The zero value runs it as its file says.
type Options struct {
	// Seed seeds every random stream of the run; 0 means the scenario's own `seed` line,
	// else 1.
	Seed uint64
	// Mutants switches known ZooKeeper bugs back on ("ZK-2845", ...; see the README).
	Mutants []string
	// Fixes switches proposed fixes on ("ZK-1549", "stale-ack", "ZK-2846", "ZK-1653", "epoch-ahead", or "all").
	Fixes []string
	// KeepTrace keeps every record of the run in Result.World.Trace() (for reports and
	// your own checks); without it only the trace hash and count are kept.
	KeepTrace bool
}

// Result is the verdict of a run: OK (every expectation and check held), the violations,
// the expectations, the leaders and sync decisions, the trace hash, and the World.
type Result = scenarios.Result

// Run runs the scenario once.
func (s *Scenario) Run(opt Options) (*Result, error) { return s.run(opt, nil) }

// run is Run in mem (nil: memory of the run's own).
func (s *Scenario) run(opt Options, mem *model.Memory) (*Result, error) {
	seed := opt.Seed
	if seed == 0 {
		seed = 1
		if s.s.HasSeed {
			seed = s.s.Seed
		}
	}
	return scenarios.Run(s.s, scenarios.Options{Seed: seed, Mutants: opt.Mutants, Fixes: opt.Fixes, NoTrace: !opt.KeepTrace, Memory: mem})
}

// SweepResult is a seed sweep's outcome.
type SweepResult struct {
	Runs    int
	Failed  []uint64       // the seeds that failed, in order
	ByCheck map[string]int // failures by the check that failed first ("expectation" for a failed line)
	First   *Result        // the first failing run, or nil
}

// Sweep runs the scenario with seeds first .. first+n-1 (opt.Seed is ignored), as
// TigerBeetle's VOPR and FoundationDB's simulator are used: a scenario that holds on one
// seed and fails on another waits on time where it should wait on a condition, or found
// something.
func (s *Scenario) Sweep(first, n uint64, opt Options) (*SweepResult, error) {
	sw := &SweepResult{ByCheck: map[string]int{}}
	// Each run is read before the next one reuses its memory, but the first failing one,
	// which is kept (First): the runs after it get a Memory of their own.
	mem := model.NewMemory()
	for seed := first; seed < first+n; seed++ {
		opt.Seed = seed
		res, err := s.run(opt, mem)
		if err != nil {
			return nil, err
		}
		sw.Runs++
		if check, _ := scenarios.Failure(res); check != "" {
			sw.Failed = append(sw.Failed, seed)
			sw.ByCheck[check]++
			if sw.First == nil {
				sw.First = res
				mem = model.NewMemory()
				continue
			}
		}
		mem.Reset()
	}
	return sw, nil
}

// ExploreConfig describes the random fault schedules (zero fields: explore's defaults).
type ExploreConfig = scenarios.ExploreConfig

// Finding is a failing schedule: the check it fails, its class (the documented finding or
// mutant that explains it, or "unclassified"), and the shrunk scenario that replays it.
type Finding = scenarios.Finding

// Explore writes the fault schedule of seed, runs it with every check and, if it fails,
// shrinks it with at most shrinkRuns more runs. It returns nil when every check held.
func Explore(cfg ExploreConfig, seed uint64, shrinkRuns int) (*Finding, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	out, err := scenarios.Explore(seed, cfg, shrinkRuns)
	return out.Finding, err
}

// Shrink cuts a failing scenario down to the lines that still fail the same check (see
// Failure), with at most maxRuns runs, and returns the smaller text.
func Shrink(text, check string, maxRuns int) string {
	small, _ := scenarios.Shrink(text, check, maxRuns)
	return small
}

// Failure is the check a run failed first ("" if it held): a violation's check,
// "expectation" for a failed line, "stopped" for a run cut short; and what it says.
func Failure(res *Result) (check, detail string) { return scenarios.Failure(res) }

// Schedules draws random fault schedules as scenario text, from the generator `zabsim
// explore` uses, for a property test of your own: rapid's shrinking works on the drawn
// choices (the faults, their kinds and the gaps between them), so a failing schedule comes
// back small.
func Schedules(cfg ExploreConfig) *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		seed := rapid.Uint64Range(1, 1<<32).Draw(t, "seed")
		return scenarios.GenerateWith(&draws{t: t}, seed, cfg)
	})
}

// draws makes the generator's choices with rapid draws.
type draws struct{ t *rapid.T }

func (d *draws) IntN(n int) int { return rapid.IntRange(0, n-1).Draw(d.t, "choice") }

// ExpFloat64 draws a gap factor from 0 to 5 in hundredths: shrinking brings it to 0, the
// shortest gap.
func (d *draws) ExpFloat64() float64 {
	return float64(rapid.IntRange(0, 500).Draw(d.t, "gap")) / 100
}

// CheckSchedules is a rapid property: a drawn schedule passes every check. Use it as
// rapid.Check(t, zabsim.CheckSchedules(cfg)), and with rapid.MakeFuzz for `go test -fuzz`.
// A failure names the check and prints the (shrunk) schedule, ready to save as a .zab file
// and replay with `zabsim run`.
func CheckSchedules(cfg ExploreConfig) func(*rapid.T) {
	return func(t *rapid.T) {
		text := Schedules(cfg).Draw(t, "schedule")
		s, err := Parse("drawn.zab", text)
		if err != nil {
			t.Fatalf("the generator wrote a bad scenario: %v\n%s", err, text)
		}
		// as explore runs a schedule: no trace hash, in memory the next draw reuses
		check, detail, err := scenarios.Check(s.s)
		if err != nil {
			// a line refused at run time: a server exited on its own (see explore's run-error)
			t.Fatalf("run-error: %v\n%s", err, text)
		}
		if check != "" {
			t.Fatalf("%s: %s\n%s", check, detail, strings.TrimSpace(text))
		}
	}
}

// String is a one-line verdict.
func (sw *SweepResult) String() string {
	if len(sw.Failed) == 0 {
		return fmt.Sprintf("%d runs: every one held", sw.Runs)
	}
	return fmt.Sprintf("%d runs: %d failed (seeds %v), by check %v", sw.Runs, len(sw.Failed), sw.Failed, sw.ByCheck)
}
