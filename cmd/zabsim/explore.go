package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zabsim/zabsim/reports"
	"github.com/zabsim/zabsim/scenarios"
	"github.com/zabsim/zabsim/sim"
)

// exploreReport is the --json output of zabsim explore.
type exploreReport struct {
	First     uint64  `json:"first_seed"`
	Seeds     int     `json:"seeds"`  // the range's size, every shard together
	Shard     string  `json:"shard"`  // "i/n"; "merged" for zabsim merge's sum of all n
	Config    string  `json:"config"` // what shapes the schedules: shards of one run agree on it
	Schedules int     `json:"schedules"`
	Failing   int     `json:"failing"`
	Events    uint64  `json:"events"`
	VirtualNs int64   `json:"virtual_ns"`
	Seconds   float64 `json:"wall_seconds"`
	// Interrupted: Ctrl-C stopped the exploration; Schedules counts those that ran.
	Interrupted bool `json:"interrupted,omitempty"`
	// Leaders and Syncs say what the schedules exercised: epochs established, and sync
	// decisions by mode.
	Leaders int            `json:"leaders"`
	Syncs   map[string]int `json:"syncs"`
	// FirstSeed and FirstWall: the first failing seed (in seed order) and the wall time from
	// the start to the end of its run; absent without a failure.
	FirstSeed uint64           `json:"first_failure_seed,omitempty"`
	FirstWall float64          `json:"first_failure_wall_seconds,omitempty"`
	Classes   []exploreClass   `json:"classes"`
	Failures  []exploreFailure `json:"failures"`
}

// exploreClass is what the schedules of one failure class showed: how many failed, the first
// of them (seed, wall time to the end of its run) and how far its schedule shrank.
type exploreClass struct {
	Class     string  `json:"class"`
	Failing   int     `json:"failing"`
	FirstSeed uint64  `json:"first_seed"`
	FirstWall float64 `json:"first_wall_seconds"`
	// The first failure's shrunk scenario: its command lines, and its fault and setting
	// lines before and after shrinking.
	ShrunkLines  int `json:"shrunk_lines"`
	FaultsBefore int `json:"faults_before"`
	FaultsAfter  int `json:"faults_after"`
}

type exploreFailure struct {
	Seed         uint64 `json:"seed"`
	Check        string `json:"check"`
	Class        string `json:"class"`
	Signature    string `json:"signature,omitempty"`
	Detail       string `json:"detail"`
	File         string `json:"file,omitempty"`
	FaultsBefore int    `json:"faults_before"`
	FaultsAfter  int    `json:"faults_after"`
	ShrinkRuns   int    `json:"shrink_runs"`
	ShrunkLines  int    `json:"shrunk_lines"` // command lines of the shrunk scenario
	// WallSeconds is the wall time from the start of the exploration to the end of this
	// schedule's run (before any shrinking).
	WallSeconds float64 `json:"wall_seconds"`
	Report      string  `json:"report,omitempty"` // with --report: the directory of its index.md
}

// outcome is one seed's result, handed from a worker to the printer.
type outcome struct {
	scenarios.Explored
	err      error
	detected time.Duration // since the start, when the schedule's run ended
}

// exploreSeed explores one seed; a test replaces it to measure the exploration itself.
var exploreSeed = scenarios.Explore

// Bounds of explore's flags: beyond them a run only exhausts the machine.
const (
	maxJobs       = 1024
	maxShrinkRuns = 100000
)

// interrupts delivers the process's interrupts (Ctrl-C) until release is called; a test
// replaces it.
var interrupts = func() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	return ch, func() { signal.Stop(ch); close(ch) }
}

func cmdExplore(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("explore", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	seeds := fs.Int("seeds", 1000, "")
	first := fs.Uint64("first", 1, "")
	duration := fs.String("duration", "20s", "")
	servers := fs.Int("servers", 5, "")
	observers := fs.Int("observers", 0, "")
	clients := fs.Int("clients", 3, "")
	rate := fs.Float64("rate", 10, "")
	workload := fs.String("workload", "ops", "")
	mutant := fs.String("mutant", "", "")
	fix := fs.String("fix", "", "")
	jobs := fs.Int("jobs", runtime.GOMAXPROCS(0), "")
	shard := fs.String("shard", "1/1", "")
	out := fs.String("out", "explore-failures", "")
	shrinkRuns := fs.Int("shrink-runs", 500, "")
	shrinkFirst := fs.Int("shrink-first", 0, "")
	asJSON := fs.Bool("json", false, "")
	withReport := fs.Bool("report", false, "")
	flags, pos := splitFlags(args, map[string]bool{"json": true, "report": true})
	if err := fs.Parse(flags); err != nil {
		return 2, &exitError{"explore: " + err.Error()}
	}
	if len(pos) > 0 {
		return 2, &exitError{fmt.Sprintf("explore takes flags only, not %q", pos[0])}
	}
	d, err := sim.ParseTime(*duration)
	if err != nil || d <= 0 {
		return 2, &exitError{fmt.Sprintf("--duration %q: want a positive duration like 20s", *duration)}
	}
	cfg := scenarios.ExploreConfig{Servers: *servers, Observers: *observers, Duration: d, Clients: *clients, Rate: *rate, Workload: *workload}
	if *clients == 0 {
		cfg.Clients = -1 // no workload
	}
	cfg.Mutants, cfg.Fixes = splitList(*mutant), splitList(*fix)
	switch {
	case *seeds < 1:
		return 2, &exitError{fmt.Sprintf("--seeds %d: want at least 1", *seeds)}
	case *first > math.MaxUint64-uint64(*seeds-1):
		// the seeds would wrap around to 0
		return 2, &exitError{fmt.Sprintf("--first %d --seeds %d: the last seed would be beyond %d", *first, *seeds, uint64(math.MaxUint64))}
	case *servers < 1:
		return 2, &exitError{fmt.Sprintf("--servers %d: want at least 1", *servers)}
	case *clients < 0:
		return 2, &exitError{fmt.Sprintf("--clients %d: want 0 (no workload) or more", *clients)}
	case scenarios.CheckRate(strconv.FormatFloat(*rate, 'g', -1, 64)) != nil:
		// the workload line's rate= (a bad rate used to fail every schedule as a run-error)
		return 2, &exitError{strings.Replace(scenarios.CheckRate(strconv.FormatFloat(*rate, 'g', -1, 64)).Error(), "rate=", "--rate ", 1)}
	case *jobs < 1 || *jobs > maxJobs:
		return 2, &exitError{fmt.Sprintf("--jobs %d: want 1 to %d", *jobs, maxJobs)}
	case *shrinkRuns < 0 || *shrinkRuns > maxShrinkRuns:
		return 2, &exitError{fmt.Sprintf("--shrink-runs %d: want 0 (no shrinking) to %d", *shrinkRuns, maxShrinkRuns)}
	case *shrinkFirst < 0:
		return 2, &exitError{fmt.Sprintf("--shrink-first %d: want 0 (shrink every failure) or more", *shrinkFirst)}
	}
	if err := cfg.Validate(); err != nil {
		return 2, &exitError{"explore: " + err.Error()}
	}
	shardI, shardN, err := parseShard(*shard)
	if err != nil {
		return 2, err
	}
	// This shard's seeds are first+shardI-1, then every shardN-th: count of them.
	count := 0
	if *seeds >= shardI {
		count = (*seeds-shardI)/shardN + 1
	}
	seedOf := func(j int) uint64 { return *first + uint64(shardI-1) + uint64(j)*uint64(shardN) }

	// Workers take seeds in order; the printer reports them in seed order as they complete.
	// The results wait in a window, so memory does not grow with --seeds: a worker that is
	// that far ahead of the printer waits. The window is a few seeds per job, plus room for
	// the others to go on while one shrinks a failure (up to --shrink-runs runs, each about
	// a schedule), at some 100 bytes a seed. An interrupt (Ctrl-C) stops the workers taking
	// new seeds: the summary covers the schedules that ran.
	win := min(4**jobs+2**shrinkRuns, 1<<16)
	ring := make([]outcome, win)
	ready := make([]bool, win)
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	next, printed := 0, 0 // the next index to hand out, and the results the printer took
	var stop atomic.Bool
	halt := func() {
		stop.Store(true)
		mu.Lock()
		cond.Broadcast()
		mu.Unlock()
	}
	sigs, release := interrupts()
	defer release()
	go func() {
		if _, ok := <-sigs; ok {
			halt()
		}
	}()
	var wg sync.WaitGroup
	// On an early return, let the workers finish the schedules they hold, and no more.
	defer wg.Wait()
	defer halt()
	// Workers shrink every failure, unless --shrink-first asks for the first few of each
	// class only: the printer shrinks those, in seed order, so the choice is the same on
	// every machine.
	start := time.Now()
	for range min(*jobs, count) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				for next-printed >= win && !stop.Load() {
					cond.Wait()
				}
				if stop.Load() || next >= count {
					mu.Unlock()
					return
				}
				j := next
				next++
				mu.Unlock()
				x, err := exploreSeed(seedOf(j), cfg, 0)
				detected := time.Since(start)
				if x.Finding != nil && *shrinkFirst == 0 {
					x.Finding.Shrink(*shrinkRuns)
				}
				mu.Lock()
				ring[j%win], ready[j%win] = outcome{Explored: x, err: err, detected: detected}, true
				cond.Broadcast()
				mu.Unlock()
			}
		}()
	}

	lastProgress := start
	rep := exploreReport{First: *first, Seeds: *seeds, Shard: *shard, Failures: []exploreFailure{}, Syncs: map[string]int{}, Classes: []exploreClass{},
		Config: fmt.Sprintf("servers=%d observers=%d duration=%s clients=%d rate=%g workload=%s mutants=%s fixes=%s",
			*servers, *observers, d, *clients, *rate, *workload, strings.Join(cfg.Mutants, ","), strings.Join(cfg.Fixes, ","))}
	classIndex := map[string]int{} // looked up only: rep.Classes keeps the order
	var firstErr error
	for j := 0; j < count; j++ {
		mu.Lock()
		// a seed handed out (j < next) always comes; one never handed out does not after a stop
		for !ready[j%win] && !(stop.Load() && j >= next) {
			cond.Wait()
		}
		if !ready[j%win] {
			mu.Unlock()
			rep.Interrupted = true
			break
		}
		o := ring[j%win]
		ring[j%win], ready[j%win] = outcome{}, false
		printed++
		cond.Broadcast()
		mu.Unlock()
		if o.err != nil && firstErr == nil {
			firstErr = o.err
		}
		rep.Schedules++
		rep.Events += o.Events
		rep.VirtualNs += int64(o.Virtual)
		rep.Leaders += o.Leaders
		for m, n := range o.Syncs {
			rep.Syncs[scenarios.SyncModes[m]] += n
		}
		if o.Finding != nil {
			rep.Failing++
			k, seen := classIndex[o.Finding.Class]
			if !seen {
				k = len(rep.Classes)
				classIndex[o.Finding.Class] = k
				rep.Classes = append(rep.Classes, exploreClass{Class: o.Finding.Class})
			}
			cl := &rep.Classes[k]
			cl.Failing++
			if *shrinkFirst > 0 && cl.Failing <= *shrinkFirst {
				o.Finding.Shrink(*shrinkRuns)
			}
			ef, err := writeFinding(o.Finding, *out, *withReport)
			if err != nil {
				return 2, err
			}
			ef.WallSeconds = o.detected.Seconds()
			if cl.Failing == 1 {
				cl.FirstSeed, cl.FirstWall = ef.Seed, ef.WallSeconds
				cl.ShrunkLines, cl.FaultsBefore, cl.FaultsAfter = ef.ShrunkLines, ef.FaultsBefore, ef.FaultsAfter
			}
			if rep.Failing == 1 {
				rep.FirstSeed, rep.FirstWall = ef.Seed, ef.WallSeconds
			}
			rep.Failures = append(rep.Failures, ef)
			if !*asJSON {
				fmt.Fprintf(stdout, "seed %d: %s: %s\n  class: %s\n  shrunk from %d fault and setting lines to %d (%d runs): %s\n",
					ef.Seed, ef.Check, ef.Detail, ef.Class, ef.FaultsBefore, ef.FaultsAfter, ef.ShrinkRuns, ef.File)
				if ef.Report != "" {
					fmt.Fprintf(stdout, "  report: %s\n", filepath.Join(ef.Report, "index.md"))
				}
			}
		}
		if now := time.Now(); now.Sub(lastProgress) >= time.Second {
			lastProgress = now
			fmt.Fprintf(stderr, "zabsim explore: %d/%d schedules, %d failing, %.0f/s\n",
				rep.Schedules, count, rep.Failing, float64(rep.Schedules)/now.Sub(start).Seconds())
		}
	}
	if firstErr != nil {
		return 2, firstErr
	}
	rep.Seconds = time.Since(start).Seconds()
	code := 0
	switch {
	case rep.Failing > 0:
		code = 1
	case rep.Interrupted:
		code = 130 // the shell's code for a command stopped by SIGINT
	}
	if *asJSON {
		return code, json.NewEncoder(stdout).Encode(rep)
	}
	noun := "schedules"
	if rep.Schedules == 1 {
		noun = "schedule"
	}
	fmt.Fprintf(stdout, "explored %d %s (seeds %d-%d, shard %s) in %.1fs, %.0f/s, %s virtual, %d events: %d failing\n",
		rep.Schedules, noun, *first, *first+uint64(*seeds)-1, *shard, rep.Seconds, float64(rep.Schedules)/max(rep.Seconds, 1e-9),
		time.Duration(rep.VirtualNs).Round(time.Second), rep.Events, rep.Failing)
	fmt.Fprintf(stdout, "exercised: %d epochs established; syncs", rep.Leaders)
	for _, m := range scenarios.SyncModes {
		fmt.Fprintf(stdout, " %s %d", m, rep.Syncs[m])
	}
	fmt.Fprintln(stdout)
	if rep.Failing > 1 {
		fmt.Fprintf(stdout, "by check: %s\n", byCheck(rep.Failures, func(f exploreFailure) string { return f.Check }))
		fmt.Fprintf(stdout, "by class: %s\n", byCheck(rep.Failures, func(f exploreFailure) string { return f.Class }))
		fmt.Fprint(stdout, bySignature(rep.Failures))
	}
	for _, cl := range rep.Classes {
		fmt.Fprintf(stdout, "class %s: %d of %d schedules; the first, seed %d, after %.1fs, shrunk to %d lines (%d of its %d fault and setting lines)\n",
			cl.Class, cl.Failing, rep.Schedules, cl.FirstSeed, cl.FirstWall, cl.ShrunkLines, cl.FaultsAfter, cl.FaultsBefore)
	}
	if rep.Interrupted {
		fmt.Fprintf(stdout, "interrupted: %d of %d schedules ran\n", rep.Schedules, count)
	}
	return code, nil
}

// writeFinding writes the shrunk scenario to dir/seed-N.zab and, with report, the pictures
// and summary of its run to dir/seed-N/.
func writeFinding(f *scenarios.Finding, dir string, report bool) (exploreFailure, error) {
	ef := exploreFailure{Seed: f.Seed, Check: f.Check, Class: f.Class, Signature: f.Signature, Detail: f.Detail,
		FaultsBefore: f.Faults[0], FaultsAfter: f.Faults[1], ShrinkRuns: f.ShrinkRuns, ShrunkLines: f.Lines()}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ef, &exitError{"--out: " + err.Error()}
	}
	ef.File = filepath.Join(dir, fmt.Sprintf("seed-%d.zab", f.Seed))
	text := f.Annotated(ef.File)
	if err := os.WriteFile(ef.File, []byte(text), 0o644); err != nil {
		return ef, &exitError{"--out: " + err.Error()}
	}
	if report && f.Check != scenarios.CheckRunError { // a run that stops on an error draws nothing
		script, err := scenarios.Parse(ef.File, text)
		if err != nil {
			return ef, err
		}
		res, err := scenarios.Run(script, scenarios.Options{Seed: f.Seed})
		if err != nil {
			return ef, err
		}
		ef.Report = filepath.Join(dir, fmt.Sprintf("seed-%d", f.Seed))
		if err := reports.Write(res, ef.Report); err != nil {
			return ef, &exitError{"--report: " + err.Error()}
		}
	}
	return ef, nil
}

// parseShard reads --shard i/n (1 <= i <= n).
func parseShard(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return 0, 0, &exitError{fmt.Sprintf("--shard %q: want i/n with 1 <= i <= n, like 2/4", s)}
	}
	return i, n, nil
}

// cmdShrink shrinks a failing scenario file to the smallest one that fails the same check.
func cmdShrink(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("shrink", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("out", "", "")
	maxRuns := fs.Int("runs", 500, "")
	flags, pos := splitFlags(args, nil)
	if err := fs.Parse(flags); err != nil {
		return 2, &exitError{"shrink: " + err.Error()}
	}
	if len(pos) != 1 {
		return 2, &exitError{"shrink takes one scenario file"}
	}
	if *maxRuns < 1 || *maxRuns > maxShrinkRuns {
		return 2, &exitError{fmt.Sprintf("--runs %d: want 1 to %d", *maxRuns, maxShrinkRuns)}
	}
	src, err := os.ReadFile(pos[0])
	if err != nil {
		return 2, &exitError{err.Error()}
	}
	res, err := scenarios.RunSource(pos[0], string(src))
	if err != nil {
		return 2, err
	}
	check, detail := scenarios.Failure(res)
	if check == "" {
		fmt.Fprintf(stdout, "%s passes every check: nothing to shrink\n", pos[0])
		return 0, nil
	}
	fmt.Fprintf(stderr, "zabsim shrink: %s fails %s; shrinking...\n", pos[0], check)
	small, runs := scenarios.Shrink(string(src), check, *maxRuns)
	dest := *out
	if dest == "" {
		dest = strings.TrimSuffix(pos[0], ".zab") + ".min.zab"
	}
	small = withReplayLine(small, dest)
	if err := os.WriteFile(dest, []byte(small), 0o644); err != nil {
		return 2, &exitError{"--out: " + err.Error()}
	}
	before, after := countLines(string(src)), countLines(small)
	fmt.Fprintf(stdout, "%s: %s: %s\nshrunk from %d lines to %d in %d runs: %s\n", pos[0], check, detail,
		before, after, runs, dest)
	if after < before {
		return 0, nil // a smaller scenario that still fails: what was asked for
	}
	fmt.Fprintf(stdout, "no line could go: the scenario is as small as the shrinker gets it\n")
	return 1, nil
}

// withReplayLine makes the scenario's "# Replay:" comment name the file it is written to
// (adding one after the leading comments if there is none) and ends it with a newline.
func withReplayLine(src, file string) string {
	replay := "# Replay: zabsim run " + file
	lines := strings.Split(strings.TrimRight(src, "\n"), "\n")
	at := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "# Replay:") {
			lines[i] = replay
			return strings.Join(lines, "\n") + "\n"
		}
		if at < 0 && !strings.HasPrefix(l, "#") {
			at = i
		}
	}
	if at < 0 {
		at = len(lines)
	}
	lines = append(lines[:at], append([]string{replay}, lines[at:]...)...)
	return strings.Join(lines, "\n") + "\n"
}

// countLines counts the command lines (not comments, not blank).
func countLines(src string) int {
	n := 0
	for _, l := range strings.Split(src, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			n++
		}
	}
	return n
}

// byCheck counts the failures per check, most frequent first: "ProcessConsistency 9, Liveness 1".
// bySignature lists the failures' signatures, one a line with its count, its class and its
// first seed: the unclassified ones (nobody has explained them yet) first, then by count.
func bySignature(fs []exploreFailure) string {
	type group struct {
		sig, class string
		n          int
		seed       uint64
	}
	var gs []*group
	for _, f := range fs {
		k := f.Signature + "\x00" + f.Class
		i := slices.IndexFunc(gs, func(g *group) bool { return g.sig+"\x00"+g.class == k })
		if i < 0 {
			gs = append(gs, &group{sig: f.Signature, class: f.Class, seed: f.Seed})
			i = len(gs) - 1
		}
		gs[i].n++
	}
	slices.SortStableFunc(gs, func(a, b *group) int {
		if ua, ub := a.class == "unclassified", b.class == "unclassified"; ua != ub {
			if ua {
				return -1
			}
			return 1
		}
		return b.n - a.n
	})
	var b strings.Builder
	b.WriteString("by signature:\n")
	for _, g := range gs {
		fmt.Fprintf(&b, "  %5d  %s  [%s]  e.g. seed %d\n", g.n, g.sig, g.class, g.seed)
	}
	return b.String()
}

func byCheck(fs []exploreFailure, key func(exploreFailure) string) string {
	n := map[string]int{}
	var checks []string
	for _, f := range fs {
		k := key(f)
		if n[k] == 0 {
			checks = append(checks, k)
		}
		n[k]++
	}
	slices.SortStableFunc(checks, func(a, b string) int { return n[b] - n[a] })
	var parts []string
	for _, c := range checks {
		parts = append(parts, fmt.Sprintf("%s %d", c, n[c]))
	}
	return strings.Join(parts, ", ")
}
