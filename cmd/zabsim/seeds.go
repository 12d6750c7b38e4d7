package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/scenarios"
)

// sweepReport is `zabsim run FILE --seeds A-B --json`.
type sweepReport struct {
	Scenario string         `json:"scenario"`
	First    uint64         `json:"first"`
	Last     uint64         `json:"last"`
	Runs     int            `json:"runs"`
	Failed   []uint64       `json:"failed"`
	ByCheck  map[string]int `json:"by_check"`
	Replay   string         `json:"replay,omitempty"` // the first failing seed's command
}

// parseSeedRange reads A-B (or a single seed N).
func parseSeedRange(v string) (first, last uint64, err error) {
	a, b, isRange := strings.Cut(v, "-")
	if !isRange {
		b = a
	}
	first, e1 := strconv.ParseUint(a, 10, 64)
	last, e2 := strconv.ParseUint(b, 10, 64)
	if e1 != nil || e2 != nil || first < 1 || last < first || last-first >= 100_000_000 {
		return 0, 0, &exitError{fmt.Sprintf("--seeds %q: want A-B with 1 <= A <= B (at most 100000000 seeds), like 1-1000", v)}
	}
	return first, last, nil
}

// runSeeds runs one scenario on every seed of a range, on jobs workers (each run is its own
// deterministic world), and sums up: the failing seeds, failures by check, the command that
// replays the first. Exit 1 if any failed.
func runSeeds(src, seedRange string, jobs int, mutants, fixes []string, asJSON bool, stdout, stderr io.Writer) (int, error) {
	first, last, err := parseSeedRange(seedRange)
	if err != nil {
		return 2, err
	}
	if jobs < 1 || jobs > maxJobs {
		return 2, &exitError{fmt.Sprintf("--jobs %d: want 1 to %d", jobs, maxJobs)}
	}
	script, err := scenarios.Load(src)
	if err != nil {
		return 2, err
	}
	n := last - first + 1
	rep := sweepReport{Scenario: script.Name, First: first, Last: last, ByCheck: map[string]int{}}
	type outcome struct {
		seed  uint64
		check string
		err   error
	}
	seeds := make(chan uint64)
	outs := make(chan outcome)
	var wg sync.WaitGroup
	for range min(uint64(jobs), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mem := model.NewMemory() // each run is read only for its check, then reused
			for seed := range seeds {
				res, err := scenarios.Run(script, scenarios.Options{Seed: seed, NoTrace: true, Mutants: mutants, Fixes: fixes, Memory: mem})
				o := outcome{seed: seed, err: err}
				if err == nil {
					o.check, _ = scenarios.Failure(res)
				}
				mem.Reset()
				outs <- o
			}
		}()
	}
	go func() {
		for s := first; s <= last; s++ {
			seeds <- s
		}
		close(seeds)
		wg.Wait()
		close(outs)
	}()
	var firstErr error
	failed := map[uint64]bool{}
	start, lastProgress := time.Now(), time.Now()
	for o := range outs {
		rep.Runs++
		switch {
		case o.err != nil && firstErr == nil:
			firstErr = fmt.Errorf("seed %d: %w", o.seed, o.err)
		case o.check != "":
			failed[o.seed] = true
			rep.ByCheck[o.check]++
		}
		if now := time.Now(); now.Sub(lastProgress) >= time.Second {
			lastProgress = now
			fmt.Fprintf(stderr, "zabsim run --seeds: %d/%d runs, %d failing, %.0f/s\n", rep.Runs, n, len(failed), float64(rep.Runs)/now.Sub(start).Seconds())
		}
	}
	if firstErr != nil {
		return 2, firstErr
	}
	for s := first; s <= last; s++ { // in seed order, whatever order the workers finished
		if failed[s] {
			rep.Failed = append(rep.Failed, s)
		}
	}
	if rep.Failed == nil {
		rep.Failed = []uint64{}
	}
	if len(rep.Failed) > 0 {
		rep.Replay = fmt.Sprintf("zabsim run %s --seed %d", src, rep.Failed[0])
		if len(mutants) > 0 {
			rep.Replay += " --mutant " + strings.Join(mutants, ",")
		}
		if len(fixes) > 0 {
			rep.Replay += " --fix " + strings.Join(fixes, ",")
		}
	}
	if asJSON {
		if err := json.NewEncoder(stdout).Encode(rep); err != nil {
			return 2, err
		}
	} else {
		fmt.Fprintf(stdout, "%s, seeds %d-%d: %d runs, %d failed\n", script.Name, first, last, rep.Runs, len(rep.Failed))
		if len(rep.Failed) > 0 {
			var fs []exploreFailure
			for c, k := range rep.ByCheck {
				for range k {
					fs = append(fs, exploreFailure{Check: c})
				}
			}
			fmt.Fprintf(stdout, "by check: %s\n", byCheck(fs, func(f exploreFailure) string { return f.Check }))
			seedsText := make([]string, len(rep.Failed))
			for i, s := range rep.Failed {
				seedsText[i] = strconv.FormatUint(s, 10)
			}
			fmt.Fprintf(stdout, "failing seeds: %s\nreplay the first: %s\n", strings.Join(seedsText, " "), rep.Replay)
		}
	}
	if len(rep.Failed) > 0 {
		return 1, nil
	}
	return 0, nil
}
