package scenarios

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/zabsim/zabsim/checker"
	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// Exploration: random fault schedules, each written as a scenario, run with every check on,
// and every failing one shrunk to the few lines that still fail the same check.
//
// A schedule is a plain scenario (so that `zabsim run` replays it exactly): an ensemble, its
// seed, sometimes a small snapCount or another disk policy, a client workload, then fault
// lines (crash - a process kill, a host loss or a disk-error exit at a crash point -,
// restart, a bounce - restart and crash again within 40ms, inside the sync -, a restart cut
// off at a step of its sync, pause, resume,
// partition - now and then one that forgets its connections -, clog, heal, write bursts)
// each after a random `run`, and an
// epilogue that heals every link, restarts and resumes every server, stops the workload,
// waits until the ensemble is live (at most past the liveness bound, so that the liveness
// check judges every schedule), then restarts every server in turn, waiting again. The
// generator tracks which servers are up and paused, so every line is valid when it runs
// (unless a server exits on its own: see CheckRunError).
//
// Shrinking keeps the failing check (the first unexpected violation's): delta debugging over
// the fault and setting lines, each crash, pause, partition or clog with the line that undoes
// it, then fewer workload clients and halved waits. Every candidate is a full run.

// ExploreConfig describes the schedules Generate writes. Zero fields take the defaults.
type ExploreConfig struct {
	Servers   int      // voting servers (default 5)
	Observers int      // observers after them (default 0)
	Duration  sim.Time // the fault window (default 20s)
	Gap       sim.Time // mean time between faults (default 800ms)
	Clients   int      // workload clients (default 3; negative: no workload)
	// Workload is what the clients do: "ops" (the default: random reads, writes, multis,
	// syncs, ephemerals), "locks" (contend for one lock), "rwlocks" (a read/write lock), or
	// "rwlocks-notes" (the read side with the notes' unsafe rule), "elections" (the
	// leader-election recipe), "discovery" (instances come and go, watchers follow) or
	// "config" (a znode keeps changing, watchers follow), judged by RecipeConvergence.
	Workload string
	Rate     float64  // operations per second per client (default 10)
	Mutants  []string // ZooKeeper bugs switched back on (model.MutantNames)
	Fixes    []string // proposed fixes switched on (model.FixNames)
}

func (c *ExploreConfig) normalize() {
	if c.Servers <= 0 {
		c.Servers = 5
	}
	if c.Duration <= 0 {
		c.Duration = 20 * sim.Second
	}
	if c.Gap <= 0 {
		c.Gap = 800 * sim.Millisecond
	}
	if c.Clients == 0 {
		c.Clients = 3
	}
	if c.Rate <= 0 {
		c.Rate = 10
	}
}

// Validate reports a config that Generate cannot use, naming the field and the value.
func (c ExploreConfig) Validate() error {
	c.normalize()
	if c.Servers > 9 {
		return fmt.Errorf("servers=%d: explore supports 1 to 9 servers", c.Servers)
	}
	if c.Observers < 0 || c.Observers > 5 {
		return fmt.Errorf("observers=%d: explore supports 0 to 5 observers", c.Observers)
	}
	if c.Duration > 3600*sim.Second {
		return fmt.Errorf("duration=%s: at most 1h of faults", c.Duration)
	}
	if c.Gap > c.Duration {
		// the gaps are drawn from an exponential of this mean: they must fit the clock
		return fmt.Errorf("gap=%s: at most the duration, %s", c.Gap, c.Duration)
	}
	if c.Clients > 100 {
		return fmt.Errorf("clients=%d: at most 100", c.Clients)
	}
	if !slices.Contains([]string{"", "ops", "locks", "rwlocks", "rwlocks-notes", "elections", "discovery", "config"}, c.Workload) {
		return fmt.Errorf("workload=%s: want ops, locks, rwlocks, rwlocks-notes, elections, discovery or config", c.Workload)
	}
	// the workload line's own range (NaN is not <= 0, so normalize keeps it for here)
	if err := CheckRate(strconv.FormatFloat(c.Rate, 'g', -1, 64)); err != nil {
		return err
	}
	var m model.Mutants
	for _, name := range c.Mutants {
		if err := m.Set(name); err != nil {
			return err
		}
	}
	var f model.Fixes
	for _, name := range c.Fixes {
		if err := f.Set(name); err != nil {
			return err
		}
	}
	return nil
}

// exploreStream is the generator's random stream for a seed: its own, so that the schedule
// does not depend on the run's streams (nor they on it).
func exploreStream(seed uint64) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte("explore"))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// Chooser makes the generator's random choices: a seeded stream for explore, or a property
// test's draws (the root package's rapid generator), so that both write the same kind of
// schedule and a test framework's shrinking works on the choices.
type Chooser interface {
	IntN(n int) int      // in [0, n)
	ExpFloat64() float64 // exponentially distributed, mean 1
}

// Generate writes the random fault schedule of seed as a scenario.
func Generate(seed uint64, cfg ExploreConfig) string {
	return GenerateWith(exploreStream(seed), seed, cfg)
}

// GenerateWith writes a fault schedule from rng's choices, run with seed.
func GenerateWith(rng Chooser, seed uint64, cfg ExploreConfig) string {
	cfg.normalize()
	n := cfg.Servers + cfg.Observers // faults hit observers too
	var b strings.Builder
	fmt.Fprintf(&b, "# zabsim explore: the random fault schedule of seed %d.\n", seed)
	if cfg.Observers > 0 {
		fmt.Fprintf(&b, "ensemble %d observers=%d\nseed %d\n", cfg.Servers, cfg.Observers, seed)
	} else {
		fmt.Fprintf(&b, "ensemble %d\nseed %d\n", cfg.Servers, seed)
	}
	for _, m := range cfg.Mutants {
		fmt.Fprintf(&b, "mutant %s\n", m)
	}
	for _, f := range cfg.Fixes {
		fmt.Fprintf(&b, "fix %s\n", f)
	}
	// Half the schedules snapshot and roll their logs often (SNAP and txn-log syncs, log
	// files with holes); a quarter keep or tear what was not synced when a server crashes.
	if rng.IntN(2) == 0 {
		fmt.Fprintf(&b, "config snapCount=%d\n", 10+rng.IntN(190))
	}
	switch rng.IntN(8) {
	case 0:
		b.WriteString("disk policy=keep-all\n")
	case 1:
		b.WriteString("disk policy=tear-last\n")
	}
	b.WriteString("start all\nawait leader\n")
	if cfg.Clients > 0 {
		switch cfg.Workload {
		case "locks":
			fmt.Fprintf(&b, "workload locks clients=%d\n", cfg.Clients)
		case "rwlocks":
			fmt.Fprintf(&b, "workload locks clients=%d rw=true\n", cfg.Clients)
		case "rwlocks-notes":
			fmt.Fprintf(&b, "workload locks clients=%d rw=true rule=notes\n", cfg.Clients)
		case "elections":
			fmt.Fprintf(&b, "workload elections clients=%d\n", cfg.Clients)
		case "discovery", "config":
			fmt.Fprintf(&b, "workload %s clients=%d\n", cfg.Workload, cfg.Clients)
		default:
			fmt.Fprintf(&b, "workload clients=%d rate=%s\n", cfg.Clients, strconv.FormatFloat(cfg.Rate, 'g', -1, 64))
		}
	}

	cut := false // a partition or clog may be in force
	up := make([]bool, n+1)
	paused := make([]bool, n+1)
	for s := 1; s <= n; s++ {
		up[s] = true
	}
	pick := func(want func(s int) bool) int { // one of the servers wanted, at random
		k := 0
		for s := 1; s <= n; s++ {
			if want(s) {
				k++
			}
		}
		if k == 0 {
			return 0
		}
		k = rng.IntN(k)
		for s := 1; ; s++ {
			if want(s) {
				if k == 0 {
					return s
				}
				k--
			}
		}
	}
	others := func(s int) string {
		var o []string
		for t := 1; t <= n; t++ {
			if t != s {
				o = append(o, strconv.Itoa(t))
			}
		}
		return "{" + strings.Join(o, ",") + "}"
	}
	for t := sim.Time(0); t < cfg.Duration; {
		gap := max(sim.Time(rng.ExpFloat64()*float64(cfg.Gap))/sim.Millisecond*sim.Millisecond, 10*sim.Millisecond)
		t += gap
		fmt.Fprintf(&b, "run %s\n", gap)
		switch k := rng.IntN(100); {
		case k < 18:
			if s := pick(func(s int) bool { return up[s] }); s > 0 {
				if !paused[s] && rng.IntN(4) == 0 {
					// at a crash point: right after its next log append or snapshot
					fmt.Fprintf(&b, "crash %d at=%s within=2s\n", s, []string{"log", "snapshot"}[rng.IntN(2)])
				} else {
					fmt.Fprintf(&b, "crash %d%s\n", s, crashKind(rng))
				}
				up[s], paused[s] = false, false
				continue
			}
		case k < 36:
			if s := pick(func(s int) bool { return !up[s] }); s > 0 {
				fmt.Fprintf(&b, "restart %d\n", s)
				up[s] = true
				switch rng.IntN(6) {
				case 0, 1:
					// a bounce: down again while it may still be syncing with the leader
					fmt.Fprintf(&b, "run %s\ncrash %d%s\n", sim.Time(1+rng.IntN(40))*sim.Millisecond, s, crashKind(rng))
					up[s] = false
				case 2:
					// down again at a crash point of its sync
					at := []string{"acceptedEpoch", "currentEpoch", "truncate", "snapshot", "log"}[rng.IntN(5)]
					fmt.Fprintf(&b, "crash %d at=%s within=2s\n", s, at)
					up[s] = false
				case 3:
					// its connections lost in the middle of its sync: right after it loads a
					// SNAP, reads a DIFF, truncates its log or writes its currentEpoch (the
					// windows a lost connection leaves half done, which a random cut almost
					// never hits), reset when the links heal a moment later
					b.WriteString(syncWindowCut(rng, s, others(s), "2s"))
					cut = false
				}
				continue
			}
		case k < 42:
			if s := pick(func(s int) bool { return up[s] && !paused[s] }); s > 0 {
				fmt.Fprintf(&b, "pause %d\n", s)
				paused[s] = true
				continue
			}
		case k < 50:
			if s := pick(func(s int) bool { return paused[s] }); s > 0 {
				fmt.Fprintf(&b, "resume %d\n", s)
				paused[s] = false
				continue
			}
		case k < 56:
			s := 1 + rng.IntN(n)
			resets := ""
			if rng.IntN(8) == 0 {
				resets = " resets" // a middlebox that forgets the connections it cuts
			}
			if rng.IntN(2) == 0 {
				fmt.Fprintf(&b, "partition %d %s%s\n", s, others(s), resets)
			} else {
				fmt.Fprintf(&b, "partition %d -> *%s\n", s, resets)
			}
			cut = true
			continue
		case k < 60:
			// a server's connections lost at a step of its next sync (or at the deadline):
			// the windows that a random cut almost never hits
			if s := pick(func(s int) bool { return up[s] && !paused[s] }); s > 0 {
				fmt.Fprintf(&b, "%s", syncWindowCut(rng, s, others(s), "5s"))
				cut = false
				continue
			}
		case k < 66:
			// split the ensemble in two groups
			perm := permutation(rng, n)
			split := 1 + rng.IntN(max(n-1, 1))
			var a, c []string
			for i, p := range perm {
				if i < split {
					a = append(a, strconv.Itoa(p+1))
				} else {
					c = append(c, strconv.Itoa(p+1))
				}
			}
			if len(c) > 0 {
				slices.Sort(a)
				slices.Sort(c)
				fmt.Fprintf(&b, "partition {%s} {%s}\n", strings.Join(a, ","), strings.Join(c, ","))
				cut = true
				continue
			}
		case k < 70:
			s := 1 + rng.IntN(n)
			fmt.Fprintf(&b, "clog %d %s for=%s\n", s, others(s), sim.Time(50+rng.IntN(2000))*sim.Millisecond)
			cut = true
			continue
		case k < 84:
			if cut {
				b.WriteString("heal\n")
				cut = false
				continue
			}
		}
		// a burst of writes through some running server (the fallback of every fault that
		// found no server to act on)
		if s := pick(func(s int) bool { return up[s] && !paused[s] }); s > 0 {
			fmt.Fprintf(&b, "write %d via=%d nowait\n", 1+rng.IntN(5), s)
		}
	}
	mcfg := model.Config{Servers: cfg.Servers, Observers: cfg.Observers}
	mcfg.Normalize()
	bound := checker.LivenessBound(checker.OptionsFor(mcfg))
	quiet := (bound/sim.Second + 10) * sim.Second
	b.WriteString(recoveryMark + "\nrun 500ms\nheal\nrestart down\nresume paused\n")
	if cfg.Clients > 0 {
		b.WriteString("workload stop\n")
	}
	// Until the liveness check's condition holds (a leader active, every running server
	// following it with the whole committed log), at the latest past its bound: then the
	// await fails and the check has its verdict. Then a rolling restart, each server killed
	// and restarted once the ensemble is live again: what a server holds only in memory
	// (a half-finished sync kept, a hole in its log) must be on its disk too.
	fmt.Fprintf(&b, "await live within=%s\n", quiet)
	for s := 1; s <= n; s++ {
		fmt.Fprintf(&b, "crash %d\nrestart %d\nawait live within=%s\n", s, s, quiet)
	}
	if cfg.Clients > 0 && (cfg.Workload == "discovery" || cfg.Workload == "config") {
		// then every watcher whose session lives sees what the leader holds
		b.WriteString("await converged\n")
	}
	b.WriteString("run 1s\n")
	return b.String()
}

// syncWindowCut loses server s's connections right after it next loads a SNAP, reads a
// DIFF, truncates its log or writes its currentEpoch (or at the deadline), and heals the
// links a moment later: the connections are reset then, as a middlebox that lost their
// state resets them. It heals every link.
func syncWindowCut(rng Chooser, s int, others, within string) string {
	at := []string{"snap", "diff", "truncate", "currentEpoch"}[rng.IntN(4)]
	return fmt.Sprintf("partition %d %s resets at=%s within=%s\nrun %s\nheal\n", s, others, at, within,
		sim.Time(1+rng.IntN(200))*sim.Millisecond)
}

// crashKind is the tail of a crash line: a process kill (SIGKILL) or, as often, a host loss.
// permutation is rand.Rand.Perm made of IntN draws, in the same order (a Fisher-Yates
// shuffle from the top): for explore's stream it gives the very same permutation.
func permutation(rng Chooser, n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := rng.IntN(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

func crashKind(rng Chooser) string {
	if rng.IntN(2) == 0 {
		return " host"
	}
	return ""
}

// recoveryMark starts a schedule's epilogue, which the shrinker leaves alone.
const recoveryMark = "# recovery: heal every link, restart and resume every server, then stay quiet past the liveness bound"

// Failure is what makes a run of an explored schedule fail: the first unexpected violation's
// check (by time), or "stopped" for a run cut short.
func Failure(res *Result) (check, detail string) {
	for _, v := range res.Violations {
		if !v.Expected {
			return v.Check, v.Detail
		}
	}
	if res.Stopped != "" {
		return "stopped", res.Stopped
	}
	for _, x := range res.Expectations {
		if !x.OK {
			return "expectation", fmt.Sprintf("line %d: %s: got %s", x.Line, x.Text, x.Got)
		}
	}
	return "", ""
}

// RunSource parses and runs a scenario text with the seed its seed line names (1 without).
func RunSource(name, src string) (*Result, error) { return runSource(name, src, false, nil) }

// runChecked is RunSource for explore, shrink and Classify, which judge a run by its checks
// alone: no trace hash (the seed reproduces the run).
func runChecked(name, src string) (*Result, error) { return runSource(name, src, true, nil) }

func runSource(name, src string, noHash bool, mem *model.Memory) (*Result, error) {
	s, err := Parse(name, src)
	if err != nil {
		return nil, err
	}
	return Run(s, Options{Seed: seedOf(s), NoTrace: true, NoHash: noHash, Memory: mem})
}

// Check runs a parsed scenario as explore runs a schedule (with its seed line's seed, no
// trace, no hash, in a reused Memory) and returns the check it failed first ("" if every
// check held) and what it says; err is a line refused at run time. For property tests that
// want a verdict, not a Result.
func Check(s *Script) (check, detail string, err error) {
	err = judge(s, nil, func(res *Result) { check, detail = Failure(res) })
	return check, detail, err
}

// judge runs s as explore runs a schedule (its seed line's seed, no trace, no hash), with
// fixes switched on, in a Memory of the pool, and hands read the Result before the memory
// goes back for the next run; err is a line refused at run time (read is not called).
func judge(s *Script, fixes []string, read func(*Result)) error {
	mem := getMemory()
	defer putMemory(mem)
	res, err := Run(s, Options{Seed: seedOf(s), NoTrace: true, NoHash: true, Fixes: fixes, Memory: mem})
	if err == nil {
		read(res)
	}
	return err
}

// fails reports whether src still fails check (a run that cannot be run does not).
func fails(src, check string) bool {
	s, err := Parse("shrink.zab", src)
	if err != nil {
		return false
	}
	failed := false
	judge(s, nil, func(res *Result) {
		c, _ := Failure(res)
		failed = c == check || slices.ContainsFunc(res.Violations, func(v Violation) bool { return !v.Expected && v.Check == check })
	})
	return failed
}

// removable are the lines the shrinker may drop, before the recovery: the faults, the
// write bursts, the settings and the workload (its stop goes with it). The mutant stays: it
// is the point.
func removable(line string) bool {
	for _, p := range []string{"crash ", "restart ", "pause ", "resume ", "partition ", "clog ", "heal", "write ", "config ", "disk "} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return strings.HasPrefix(line, "workload ") && line != "workload stop"
}

// Shrink finds a smaller scenario than src that still fails check, by delta debugging
// (ddmin) over its fault lines, then by merging the runs between them and shortening them.
// It runs the scenario at most maxRuns times and returns the smallest failing text found
// and the runs it took.
func Shrink(src, check string, maxRuns int) (string, int) {
	lines := strings.Split(strings.TrimRight(src, "\n"), "\n")
	runs := 0
	try := func(cand []string) bool {
		if runs >= maxRuns {
			return false
		}
		runs++
		return fails(strings.Join(cand, "\n")+"\n", check)
	}
	// The candidates: indexes of removable lines; the epilogue (after the last fault) stays.
	var idx []int
	for i, l := range lines {
		if l == recoveryMark {
			break
		}
		if removable(l) {
			idx = append(idx, i)
		}
	}
	// with is the script keeping only the candidates in keep (and the workload's stop only
	// with its start).
	wl := workloadStart(lines)
	with := func(keep []int) []string {
		var out []string
		for i, l := range lines {
			if slices.Contains(idx, i) && !slices.Contains(keep, i) {
				continue
			}
			if l == "workload stop" && wl >= 0 && !slices.Contains(keep, wl) {
				continue
			}
			out = append(out, l)
		}
		return out
	}
	// ddmin: try removing chunks of the remaining candidates, halving the chunk size.
	keep := idx
	for chunk := max(len(keep)/2, 1); len(keep) > 0 && runs < maxRuns; {
		removed := false
		for start := 0; start < len(keep) && !removed; start += chunk {
			cand := slices.Delete(slices.Clone(keep), start, min(start+chunk, len(keep)))
			if try(with(cand)) {
				keep, removed = cand, true
			}
		}
		if removed {
			chunk = min(chunk, max(len(keep)/2, 1))
			continue
		}
		if chunk == 1 {
			break // no single line can go
		}
		chunk = max(chunk/2, 1)
	}
	// Faults come in pairs that only go together (a restart needs the crash before it):
	// try each crash or pause with the restart or resume that undoes it, then ddmin's last
	// pass again, once per pair removed.
	for again := true; again && runs < maxRuns; {
		again = false
		for _, i := range keep {
			j := undoOf(lines, keep, i)
			if j < 0 {
				continue
			}
			cand := slices.DeleteFunc(slices.Clone(keep), func(k int) bool { return k == i || k == j })
			if try(with(cand)) {
				keep, again = cand, true
				break
			}
		}
	}
	best := mergeRuns(with(keep))
	// Fewer workload clients, then shorter runs between the faults (each halved while it
	// still fails); the recovery stays as it is.
	for i, l := range best {
		if strings.HasPrefix(l, "workload ") && l != "workload stop" {
			for _, n := range []string{"1", "2"} {
				cand := slices.Clone(best)
				cand[i] = replaceOpt(l, "clients", n)
				if cand[i] != l && try(cand) {
					best = cand
					break
				}
			}
		}
	}
	end := slices.Index(best, recoveryMark)
	if end < 0 {
		end = len(best) - 1 // a scenario of its own: keep its last run
	}
	for i := range best[:end] {
		d, ok := runDuration(best[i])
		if !ok {
			continue
		}
		for d > 10*sim.Millisecond && runs < maxRuns {
			h := (d / 2) / sim.Millisecond * sim.Millisecond
			cand := slices.Clone(best)
			cand[i] = "run " + h.String()
			if !try(cand) {
				break
			}
			best, d = cand, h
		}
	}
	// Last, one line at a time until none can go: the result is 1-minimal (every fault,
	// setting and wait left is needed to fail the same check), as far as the budget allows.
	for changed := true; changed && runs < maxRuns; {
		changed = false
		for _, i := range minimalCandidates(best) {
			if try(withoutLine(best, i)) {
				best, changed = withoutLine(best, i), true
				break
			}
		}
	}
	return strings.Join(best, "\n") + "\n", runs
}

// minimalCandidates are the lines of a shrunk scenario that 1-minimality is about: its
// fault, setting and run lines before the recovery (which stays as it is).
func minimalCandidates(lines []string) []int {
	var out []int
	for i, l := range lines {
		if l == recoveryMark {
			break
		}
		if removable(l) || strings.HasPrefix(l, "run ") {
			out = append(out, i)
		}
	}
	return out
}

// withoutLine is lines without line i (a workload's start goes with its stop).
func withoutLine(lines []string, i int) []string {
	out := slices.Delete(slices.Clone(lines), i, i+1)
	if strings.HasPrefix(lines[i], "workload ") {
		out = slices.DeleteFunc(out, func(l string) bool { return l == "workload stop" })
	}
	return out
}

// OneMinimal reports whether every candidate line of src is needed to fail check: removing
// any one of them makes the run fail it no more. It names the first line that is not.
func OneMinimal(src, check string) (bool, string) {
	lines := strings.Split(strings.TrimRight(src, "\n"), "\n")
	for _, i := range minimalCandidates(lines) {
		if fails(strings.Join(withoutLine(lines, i), "\n")+"\n", check) {
			return false, lines[i]
		}
	}
	return true, ""
}

// undoOf is the kept line after line i that undoes it (the restart of a crash, the resume
// of a pause, the heal after a partition or clog), or -1.
func undoOf(lines []string, keep []int, i int) int {
	f := strings.Fields(lines[i])
	if len(f) < 2 {
		return -1
	}
	var undo string
	switch f[0] {
	case "crash":
		undo = "restart " + f[1]
	case "pause":
		undo = "resume " + f[1]
	case "partition", "clog":
		undo = "heal"
	default:
		return -1
	}
	for _, j := range keep {
		if j > i && lines[j] == undo {
			return j
		}
	}
	return -1
}

// replaceOpt sets option key=value in a command line (adding it if absent).
func replaceOpt(line, key, value string) string {
	f := strings.Fields(line)
	for i, w := range f {
		if strings.HasPrefix(w, key+"=") {
			f[i] = key + "=" + value
			return strings.Join(f, " ")
		}
	}
	return line + " " + key + "=" + value
}

func workloadStart(lines []string) int {
	for i, l := range lines {
		if strings.HasPrefix(l, "workload ") && l != "workload stop" {
			return i
		}
	}
	return -1
}

func runDuration(line string) (sim.Time, bool) {
	if !strings.HasPrefix(line, "run ") {
		return 0, false
	}
	d, err := sim.ParseTime(strings.TrimPrefix(line, "run "))
	return d, err == nil
}

// mergeRuns joins consecutive run lines into one (the same virtual time passes).
func mergeRuns(lines []string) []string {
	var out []string
	for _, l := range lines {
		d, ok := runDuration(l)
		if n := len(out); ok && n > 0 {
			if prev, pok := runDuration(out[n-1]); pok {
				out[n-1] = "run " + (prev + d).String()
				continue
			}
		}
		out = append(out, l)
	}
	return out
}

// CheckRunError is the Finding.Check of a schedule that stopped on a line refused at run time.
const CheckRunError = "run-error"

// Finding is an explored schedule that failed, and its shrunk form.
type Finding struct {
	Seed  uint64
	Check string // the check it fails (see Failure)
	Class string // the documented class it belongs to (see Classify), or "unclassified"
	// Signature groups failures that look alike: the check, the sync branches of the run,
	// and the kinds of fault left in the (shrunk) schedule (see signature).
	Signature  string
	Detail     string // the first such violation, in the shrunk run
	Original   string // the generated scenario
	Shrunk     string // the smallest scenario found that still fails Check
	Faults     [2]int // fault and setting lines (the removable ones) before and after shrinking
	ShrinkRuns int
}

// Explored is what exploring one seed showed.
type Explored struct {
	Finding *Finding // nil: every check held
	Events  uint64   // of the schedule's run
	Virtual sim.Time
	Leaders int    // epochs established
	Syncs   [4]int // sync decisions by mode, in SyncModes order
}

// SyncModes orders Explored.Syncs.
var SyncModes = [4]string{"DIFF", "TRUNC", "TRUNC+DIFF", "SNAP"}

// Explore runs the schedule of seed and, if it fails, shrinks it with at most shrinkRuns
// more runs (0: no shrinking). The counts are those of the schedule's own run.
func Explore(seed uint64, cfg ExploreConfig, shrinkRuns int) (Explored, error) {
	return exploreSource(seed, Generate(seed, cfg), shrinkRuns)
}

// memories are the model.Memory explored schedules run in, one after another, and the runs
// that shrink and classify a failing one: each run is read only for its summary (Explored,
// a Finding's strings, whether a check failed) before its memory is reset for the next.
// Explore --jobs runs several at once, each in a Memory of its own. Not a sync.Pool, which
// drops what it holds at every other collection (a few schedules here) and misses a Memory
// put back on another processor: the list keeps as many as ever ran at once, each the size
// of the largest schedule it ran.
var memories struct {
	sync.Mutex
	free []*model.Memory
}

func getMemory() *model.Memory {
	memories.Lock()
	defer memories.Unlock()
	if n := len(memories.free); n > 0 {
		m := memories.free[n-1]
		memories.free = memories.free[:n-1]
		return m
	}
	return model.NewMemory()
}

func putMemory(m *model.Memory) {
	m.Reset()
	memories.Lock()
	defer memories.Unlock()
	memories.free = append(memories.free, m)
}

func exploreSource(seed uint64, src string, shrinkRuns int) (Explored, error) {
	mem := getMemory()
	defer putMemory(mem)
	res, err := runSource(fmt.Sprintf("seed-%d.zab", seed), src, true, mem)
	if err != nil {
		// The generator keeps every line valid for the servers it stopped itself, so a line
		// refused at run time means a server went down on its own: ZooKeeper exits on some
		// errors (UNMATCHED_TXN_COMMIT, QUORUM_PACKET_ERROR). Worth a look, not a crash of
		// the exploration: reported as it is, unshrunk.
		f := &Finding{Seed: seed, Check: CheckRunError, Original: src, Shrunk: src,
			Detail: err.Error() + " (did a server exit on its own? the trace's notes say why)"}
		f.Faults = [2]int{countFaults(src), countFaults(src)}
		return Explored{Finding: f}, nil
	}
	out := Explored{Events: res.Events, Virtual: sim.Time(res.VirtualNs), Leaders: len(res.Leaders)}
	for _, sy := range res.Syncs {
		if k := slices.Index(SyncModes[:], sy.Mode); k >= 0 {
			out.Syncs[k]++
		}
	}
	check, detail := Failure(res)
	if check == "" {
		return out, nil
	}
	f := &Finding{Seed: seed, Check: check, Detail: detail, Original: src, Shrunk: src, Class: classify(src, true)}
	f.Signature = signature(check, res, src)
	f.Faults = [2]int{countFaults(src), countFaults(src)}
	f.Shrink(shrinkRuns)
	out.Finding = f
	return out, nil
}

// Shrink shrinks the finding's schedule with at most maxRuns runs (0: none), keeping the
// check it fails; the detail becomes that of the shrunk run. A run-error is left as it is.
func (f *Finding) Shrink(maxRuns int) {
	if maxRuns <= 0 || f.Check == CheckRunError {
		return
	}
	f.Shrunk, f.ShrinkRuns = Shrink(f.Original, f.Check, maxRuns)
	if r, err := runChecked("shrunk.zab", f.Shrunk); err == nil {
		if c, d := Failure(r); c == f.Check {
			f.Detail = d
			f.Signature = signature(f.Check, r, f.Shrunk)
		}
	}
	f.Faults[1] = countFaults(f.Shrunk)
}

// Lines counts the command lines of the shrunk scenario (not comments, not blank).
func (f *Finding) Lines() int {
	n := 0
	for _, l := range strings.Split(f.Shrunk, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			n++
		}
	}
	return n
}

// FindingClasses are the documented classes of failure, each named with the built-in
// scenario that shows it and the proposed fix that removes it (README, Findings).
var FindingClasses = []struct{ Fix, Class string }{
	{"ZK-1549", "dirty snapshot (dirty-snapshot-trunc; fix ZK-1549)"},
	{"stale-ack", "stale ACK (stale-ack-trunc; fix stale-ack)"},
	{"ZK-2846", "log hole (zk-2846, zk-2846-paused-leader; fix ZK-2846)"},
	{"ZK-1653", "epoch behind the data (zk-1653, zk-1653-diff; fix ZK-1653)"},
	{"epoch-ahead", "epoch ahead (epoch-ahead; fix epoch-ahead)"},
}

// Classify says which documented class a failing schedule belongs to: the one whose proposed
// fix alone makes it pass (two classes whose fixes together do: two findings; all of them
// together: several), else "unclassified" - a failure nobody has explained yet.
func Classify(src string) string { return classify(src, false) }

// classify is Classify; failing says src is known to fail (explore has just run it), which
// spares the run that finds out.
func classify(src string, failing bool) string {
	s, err := Parse("classify.zab", src)
	if err != nil {
		return "unclassified"
	}
	passes := func(fixes ...string) bool {
		held := false
		judge(s, fixes, func(res *Result) { check, _ := Failure(res); held = check == "" })
		return held
	}
	if !failing && passes() {
		return "" // it does not fail: nothing to explain
	}
	// A known bug switched back on explains a failure that goes away without it.
	var mutants []string
	var kept []string
	for _, l := range strings.Split(src, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "mutant" {
			mutants = append(mutants, f[1])
			continue
		}
		kept = append(kept, l)
	}
	if len(mutants) > 0 {
		if res, err := runChecked("classify.zab", strings.Join(kept, "\n")); err == nil {
			if check, _ := Failure(res); check == "" {
				return "mutant " + strings.Join(mutants, ", ") + " (a known ZooKeeper bug switched back on)"
			}
		}
	}
	// So does the notes' read-lock rule, which ZooKeeper's recipe does not follow.
	if strings.Contains(src, " rule=notes") {
		if res, err := runChecked("classify.zab", strings.ReplaceAll(src, " rule=notes", "")); err == nil {
			if check, _ := Failure(res); check == "" {
				return "the notes' unsafe read-lock rule (rwlock-notes-rule; ZooKeeper's recipe holds)"
			}
		}
	}
	var on model.Fixes
	for _, c := range s.Commands {
		if c.Name == "fix" && len(c.Args) == 1 {
			on.Set(c.Args[0])
		}
	}
	var off []int // the classes whose fix the schedule does not already have
	for i, fc := range FindingClasses {
		if on.Has(fc.Fix) {
			continue
		}
		off = append(off, i)
		if passes(fc.Fix) {
			return fc.Class
		}
	}
	// Two findings in one schedule (a dirty snapshot, then a server that cannot start):
	// the first pair of fixes that together make it pass.
	for x, i := range off {
		for _, j := range off[x+1:] {
			a, b := FindingClasses[i], FindingClasses[j]
			if passes(a.Fix, b.Fix) {
				return "two findings: " + shortClass(a.Class) + " and " + shortClass(b.Class) + " (fix " + a.Fix + " + " + b.Fix + ")"
			}
		}
	}
	if len(off) > 2 {
		var fixes []string
		for _, i := range off {
			fixes = append(fixes, FindingClasses[i].Fix)
		}
		if passes(fixes...) {
			return "several of: " + strings.Join(fixes, ", ")
		}
	}
	return "unclassified"
}

// shortClass is a class's name without its scenarios and fix: "dirty snapshot".
func shortClass(c string) string {
	if i := strings.Index(c, " ("); i >= 0 {
		return c[:i]
	}
	return c
}

// seedOf is the seed a scenario runs with by itself: its seed line's, or 1.
func seedOf(s *Script) uint64 {
	if s.HasSeed {
		return s.Seed
	}
	return 1
}

// countFaults counts the removable lines before the recovery.
func countFaults(src string) int {
	n := 0
	for _, l := range strings.Split(src, "\n") {
		if l == recoveryMark {
			break
		}
		if removable(l) {
			n++
		}
	}
	return n
}

// signature is a failure's shape: its check, the sync branches its run took (in SyncModes
// order) and the kinds of fault its schedule holds, e.g. "ProcessConsistency · TRUNC,SNAP ·
// crash host+partition". Two failures with one signature are likely one cause; the class
// (Classify) says which documented one, if any.
func signature(check string, res *Result, src string) string {
	var syncs []string
	for _, m := range SyncModes {
		if slices.ContainsFunc(res.Syncs, func(s SyncInfo) bool { return s.Mode == m }) {
			syncs = append(syncs, m)
		}
	}
	var faults []string
	for _, l := range strings.Split(src, "\n") {
		if l == recoveryMark {
			break
		}
		if k := faultKind(l); k != "" && !slices.Contains(faults, k) {
			faults = append(faults, k)
		}
	}
	slices.Sort(faults)
	if len(syncs) == 0 {
		syncs = []string{"no sync"}
	}
	if len(faults) == 0 {
		faults = []string{"no fault"}
	}
	return check + " · " + strings.Join(syncs, ",") + " · " + strings.Join(faults, "+")
}

// faultKind names the kind of fault a schedule line injects ("" for any other line).
func faultKind(line string) string {
	f := strings.Fields(line)
	if len(f) == 0 {
		return ""
	}
	switch f[0] {
	case "crash":
		for _, w := range f[1:] {
			if w == "host" {
				return "crash host"
			}
			if strings.HasPrefix(w, "at=") {
				return "crash " + w
			}
		}
		return "crash"
	case "partition":
		if f[len(f)-1] == "resets" {
			return "partition resets"
		}
		return "partition"
	case "pause", "clog", "latency":
		return f[0]
	case "mutant":
		return "mutant " + f[len(f)-1]
	}
	return ""
}

// Annotated is the shrunk scenario with a header that says what it shows and how to replay it.
func (f *Finding) Annotated(file string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s, found by zabsim explore (seed %d) and shrunk from %d fault and setting lines to %d.\n", f.Check, f.Seed, f.Faults[0], f.Faults[1])
	if f.Class != "" {
		fmt.Fprintf(&b, "# Class: %s\n", f.Class)
	}
	if f.Signature != "" {
		fmt.Fprintf(&b, "# Signature: %s\n", f.Signature)
	}
	fmt.Fprintf(&b, "# %s\n", f.Detail)
	fmt.Fprintf(&b, "# Replay: zabsim run %s\n", file)
	for _, l := range strings.Split(f.Shrunk, "\n") {
		if strings.HasPrefix(l, "# zabsim explore:") {
			continue
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}
