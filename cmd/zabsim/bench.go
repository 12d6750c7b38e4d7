package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zabsim/zabsim/scenarios"
	"github.com/zabsim/zabsim/sim"
)

// cmdBench measures this machine: the built-in library once, then explored schedules
// (generated, run with every check, not shrunk) on every job for --seconds.
func cmdBench(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	seconds := fs.Float64("seconds", 5, "")
	jobs := fs.Int("jobs", runtime.GOMAXPROCS(0), "")
	flags, pos := splitFlags(args, nil)
	if err := fs.Parse(flags); err != nil {
		return &exitError{"bench: " + err.Error()}
	}
	switch {
	case len(pos) > 0:
		return &exitError{fmt.Sprintf("bench takes flags only, not %q", pos[0])}
	case !(*seconds > 0 && *seconds <= 3600): // written so that NaN is refused too
		return &exitError{fmt.Sprintf("--seconds %v: want more than 0 and at most 3600", *seconds)}
	case *jobs < 1 || *jobs > maxJobs:
		return &exitError{fmt.Sprintf("--jobs %d: want 1 to %d", *jobs, maxJobs)}
	}

	start := time.Now()
	var events uint64
	var virtual sim.Time
	list := scenarios.List()
	for _, e := range list {
		s, err := scenarios.Builtin(e.Name)
		if err != nil {
			return err
		}
		res, err := scenarios.Run(s, scenarios.Options{Seed: 1, NoTrace: true})
		if err != nil {
			return err
		}
		events += res.Events
		virtual += sim.Time(res.VirtualNs)
	}
	wall := time.Since(start).Seconds()
	fmt.Fprintf(stdout, "library: %d scenarios, %d events, %.1f s virtual in %.3f s (%.0fx real time), %.0f events/s\n",
		len(list), events, virtual.Seconds(), wall, virtual.Seconds()/wall, float64(events)/wall)

	// Explored schedules until the time is up; each job takes the next seed. Each part runs
	// with the collector setting of the command it stands for (gcPercent): the library at
	// run's, the schedules at explore's.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent([]string{"explore"}))
	}
	var next, done, evs atomic.Uint64
	deadline := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	start = time.Now()
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	for j := 0; j < *jobs; j++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				seed := next.Add(1)
				x, err := scenarios.Explore(seed, scenarios.ExploreConfig{}, 0)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				done.Add(1)
				evs.Add(x.Events)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	wall = time.Since(start).Seconds()
	fmt.Fprintf(stdout, "explore: %d schedules in %.1f s on %d jobs: %.0f schedules/s (%.0f per minute), %.0f events/s\n",
		done.Load(), wall, *jobs, float64(done.Load())/wall, 60*float64(done.Load())/wall, float64(evs.Load())/wall)
	return nil
}
