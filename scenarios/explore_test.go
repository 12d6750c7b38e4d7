package scenarios

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/zabsim/zabsim/sim"
)

// Generate is a function of the seed and the config: the same text every time, another
// schedule for another seed, and every schedule runs (the generator tracks which servers
// are up and paused, so no line is refused at run time).
func TestGenerateIsDeterministicAndRuns(t *testing.T) {
	cfg := ExploreConfig{Servers: 3, Duration: 10 * sim.Second}
	if Generate(7, cfg) != Generate(7, cfg) {
		t.Fatal("two schedules of seed 7 differ")
	}
	if Generate(7, cfg) == Generate(8, cfg) {
		t.Fatal("seeds 7 and 8 gave the same schedule")
	}
	kinds := map[string]bool{}
	for seed := uint64(1); seed <= 30; seed++ {
		src := Generate(seed, cfg)
		for _, l := range strings.Split(src, "\n") {
			if removable(l) {
				kinds[strings.Fields(l)[0]] = true
			}
		}
		res, err := RunSource("g.zab", src)
		if err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, src)
		}
		if c, d := Failure(res); c != "" {
			t.Errorf("seed %d fails %s on a correct model: %s\n%s", seed, c, d, src)
		}
	}
	// With observers: they are in the ensemble line and take faults like the voters.
	obs := ExploreConfig{Servers: 3, Observers: 2, Duration: 10 * sim.Second}
	hitObserver := false
	for seed := uint64(1); seed <= 5; seed++ {
		src := Generate(seed, obs)
		if !strings.Contains(src, "ensemble 3 observers=2\n") {
			t.Fatalf("seed %d with observers:\n%s", seed, src)
		}
		hitObserver = hitObserver || strings.Contains(src, "crash 4\n") || strings.Contains(src, "crash 5\n")
		res, err := RunSource("o.zab", src)
		if err != nil {
			t.Fatalf("seed %d with observers: %v", seed, err)
		}
		if c, d := Failure(res); c != "" {
			t.Errorf("seed %d with observers fails %s: %s", seed, c, d)
		}
	}
	if !hitObserver {
		t.Error("no observer crashed in 5 schedules")
	}
	for _, k := range []string{"crash", "restart", "pause", "resume", "partition", "clog", "heal", "write", "workload"} {
		if !kinds[k] {
			t.Errorf("no %s line in 30 schedules", k)
		}
	}
}

// With ZOOKEEPER-2845 switched back on, exploration finds ProcessConsistency failures, and
// the shrinker cuts one to half its lines or fewer. The shrunk file, as written, still
// fails the same check when run on its own, and passes once the mutant line is removed.
func TestExploreFindsAndShrinksAMutant(t *testing.T) {
	cfg := ExploreConfig{Mutants: []string{"ZK-2845"}}
	var f *Finding
	for seed := uint64(1); seed <= 10 && f == nil; seed++ {
		var err error
		x, err := Explore(seed, cfg, 300)
		if err != nil {
			t.Fatal(err)
		}
		f = x.Finding
	}
	if f == nil {
		t.Fatal("no failure in 10 schedules with ZK-2845")
	}
	if f.Check != "ProcessConsistency" || 2*f.Faults[1] > f.Faults[0] || f.ShrinkRuns == 0 {
		t.Fatalf("seed %d: %s, %d fault lines shrunk to %d in %d runs:\n%s", f.Seed, f.Check, f.Faults[0], f.Faults[1], f.ShrinkRuns, f.Shrunk)
	}
	text := f.Annotated("found.zab")
	if !strings.HasPrefix(text, "# ProcessConsistency, found by zabsim explore (seed ") || !strings.Contains(text, "# Replay: zabsim run found.zab\n") {
		t.Errorf("header:\n%s", text)
	}
	res, err := RunSource("found.zab", text)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := Failure(res); c != f.Check {
		t.Fatalf("the shrunk scenario fails %q, want %s:\n%s", c, f.Check, res.Summary())
	}
	res, err = RunSource("found.zab", strings.Replace(text, "mutant ZK-2845\n", "", 1))
	if err != nil {
		t.Fatal(err)
	}
	if c, d := Failure(res); c != "" {
		t.Fatalf("without the mutant it still fails %s: %s", c, d)
	}
}

// A passing schedule is no Finding; bad configs name the field and the value.
func TestExploreConfig(t *testing.T) {
	x, err := Explore(3, ExploreConfig{Servers: 3, Duration: 5 * sim.Second}, 100)
	if err != nil || x.Finding != nil || x.Events == 0 || x.Virtual < 5*sim.Second || x.Leaders == 0 || x.Syncs[0] == 0 {
		t.Fatalf("explored %+v, err %v", x, err)
	}
	for _, tc := range []struct {
		cfg  ExploreConfig
		want string
	}{
		{ExploreConfig{Servers: 12}, "servers=12: explore supports 1 to 9 servers"},
		{ExploreConfig{Clients: 101}, "clients=101: at most 100"},
		{ExploreConfig{Observers: 6}, "observers=6: explore supports 0 to 5 observers"},
		{ExploreConfig{Mutants: []string{"ZK-1"}}, `unknown mutant "ZK-1"`},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %s", tc.cfg, err, tc.want)
		}
	}
}

// BenchmarkExplore: one explored schedule per op (generate, run with every check, no
// shrinking), on the default config: 5 servers, 3 clients, 20s of faults, then the quiet
// period past the liveness bound. Seeds cycle so that the op is an average schedule.
// Every 20 schedules the timer stops for 20,000 events of sim.BareLoop (4,096 pending):
// bare-ns/event is the engine alone in the same run, x-bare-loop what a schedule's event
// costs against it (the two share the machine's weather, which a separate run does not).
func BenchmarkExplore(b *testing.B) {
	var events uint64
	var m0, m1 runtime.MemStats
	var bareTime time.Duration
	var bareEvents int
	var bareMallocs uint64
	runtime.ReadMemStats(&m0)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		x, err := Explore(uint64(i%200)+1, ExploreConfig{}, 0)
		if err != nil {
			b.Fatal(err)
		}
		events += x.Events
		if i%20 == 19 || i == b.N-1 {
			b.StopTimer()
			var b0, b1 runtime.MemStats
			runtime.ReadMemStats(&b0)
			bare := sim.BareLoop(4096) // made here and dropped: kept, it would add to the heap the schedules' collections mark
			start := time.Now()
			for k := 0; k < 20000; k++ {
				bare.Step()
			}
			bareTime += time.Since(start)
			bareEvents += 20000
			runtime.ReadMemStats(&b1)
			bareMallocs += b1.Mallocs - b0.Mallocs
			b.StartTimer()
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	perEvent := float64(b.Elapsed().Nanoseconds()) / float64(events)
	bareNs := float64(bareTime.Nanoseconds()) / float64(bareEvents)
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(perEvent, "ns/event")
	b.ReportMetric(bareNs, "bare-ns/event")
	b.ReportMetric(perEvent/bareNs, "x-bare-loop")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs-bareMallocs)/float64(events), "allocs/event")
	b.ReportMetric(60/(b.Elapsed().Seconds()/float64(b.N)), "schedules/min/core")
}

// Explore, shrink and Classify run a schedule without its trace hash (runChecked): the
// same run, judged the same, only without the hash.
func TestExploreRunsWithoutTheHash(t *testing.T) {
	src := Generate(7, ExploreConfig{})
	a, errA := RunSource("a.zab", src)
	b, errB := runChecked("b.zab", src)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if a.TraceHash == "" || b.TraceHash != "" || a.Events != b.Events || len(a.Violations) != len(b.Violations) {
		t.Fatalf("with the hash: %s, %d events, %d violations; without: %q, %d events, %d violations",
			a.TraceHash, a.Events, len(a.Violations), b.TraceHash, b.Events, len(b.Violations))
	}
}

// Explored schedules are deterministic too: two runs of each give the same trace, record by
// record (explore itself runs them without the hash).
func TestExploredSchedulesDeterministic(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		s, err := Parse("d.zab", Generate(seed, ExploreConfig{Servers: 3 + 2*int(seed%2), Observers: int(seed % 3 / 2)}))
		if err != nil {
			t.Fatal(err)
		}
		run := func() *sim.Trace {
			res, err := Run(s, Options{Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			return res.World.Trace()
		}
		if err := sim.CheckDeterminism(run); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

// A schedule whose line is refused at run time (a server went down on its own) is a
// finding of its own, reported unshrunk, not the end of the exploration.
func TestExploreRunError(t *testing.T) {
	x, err := exploreSource(9, "ensemble 3\nseed 9\nstart all\nawait leader\ncrash 1\ncrash 1\n", 10)
	f := x.Finding
	if err != nil || f == nil || f.Check != CheckRunError || f.Shrunk != f.Original ||
		!strings.Contains(f.Detail, "seed-9.zab:6: crash 1: server 1 is not running") {
		t.Fatalf("finding %+v, err %v", f, err)
	}
}

// With every proposed fix no explored schedule fails (README, Findings: 0 in a million): a
// regression guard for the model and the checker together, 150 schedules of three shapes.
func TestExploreWithFixesPasses(t *testing.T) {
	fixes := []string{"all"}
	for _, cfg := range []ExploreConfig{{Servers: 3, Fixes: fixes}, {Servers: 5, Fixes: fixes}, {Servers: 3, Observers: 1, Fixes: fixes}} {
		for seed := uint64(1); seed <= 50; seed++ {
			x, err := Explore(seed, cfg, 0)
			if err != nil {
				t.Fatal(err)
			}
			if f := x.Finding; f != nil {
				t.Errorf("%+v seed %d: %s: %s\n%s", cfg, seed, f.Check, f.Detail, f.Original)
			}
		}
	}
}

// Exploring is deterministic too: the same seed finds the same failure and shrinks it the
// same way, run after run.
func TestExploreIsDeterministic(t *testing.T) {
	cfg := ExploreConfig{Servers: 3, Mutants: []string{"ZK-2845"}}
	var first *Finding
	for seed := uint64(1); seed <= 20 && first == nil; seed++ {
		x, err := Explore(seed, cfg, 60)
		if err != nil {
			t.Fatal(err)
		}
		first = x.Finding
	}
	if first == nil {
		t.Fatal("no failure in 20 schedules with ZK-2845")
	}
	x, err := Explore(first.Seed, cfg, 60)
	again := x.Finding
	if err != nil || again == nil || *again != *first {
		t.Fatalf("seed %d explored twice differs:\n%+v\n%+v (err %v)", first.Seed, first, again, err)
	}
}

// Every failure gets the documented class that explains it: the proposed fix that removes
// it, the mutant without which it passes, or "unclassified".
func TestClassify(t *testing.T) {
	for name, want := range map[string]string{
		"dirty-snapshot-trunc":  "dirty snapshot",
		"stale-ack-trunc":       "stale ACK",
		"zk-2846-paused-leader": "log hole",
		"zk-1653":               "epoch behind the data",
		"zk-1154-mutant":        "mutant ZK-1154",
	} {
		src, err := library.ReadFile("library/" + name + ".zab")
		if err != nil {
			t.Fatal(err)
		}
		// without its expect violation lines, the finding's scenario is a failing schedule
		var lines []string
		for _, l := range strings.Split(string(src), "\n") {
			if !strings.HasPrefix(l, "expect ") {
				lines = append(lines, l)
			}
		}
		if got := Classify(strings.Join(lines, "\n")); !strings.HasPrefix(got, want) {
			t.Errorf("%s: class %q, want %q", name, got, want)
		}
	}
	if got := Classify("ensemble 3\nstart all\nawait leader\n"); got != "" {
		t.Errorf("a passing schedule: %q", got)
	}
	// the built-in stops before the liveness bound; its explored form runs past it
	epochAhead, err := os.ReadFile(filepath.Join("testdata", "repro", "liveness-epoch-ahead.zab"))
	if err != nil {
		t.Fatal(err)
	}
	if got := Classify(string(epochAhead)); !strings.HasPrefix(got, "epoch ahead") {
		t.Errorf("liveness-epoch-ahead: class %q", got)
	}
	// two findings in one schedule: no fix alone, the pair of them together
	two, err := os.ReadFile(filepath.Join("testdata", "repro", "two-findings-1549-1653.zab"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Classify(string(two)), "two findings: dirty snapshot and epoch behind the data (fix ZK-1549 + ZK-1653)"; got != want {
		t.Errorf("two-findings-1549-1653: class %q, want %q", got, want)
	}
}

// Shrinking ends 1-minimal: in every shrunk schedule, removing any one fault, setting or
// wait line no longer fails the same check.
func TestShrunkSchedulesAreOneMinimal(t *testing.T) {
	found := 0
	for seed := uint64(1); seed <= 20 && found < 3; seed++ {
		x, err := Explore(seed, ExploreConfig{Mutants: []string{"ZK-2845"}}, 300)
		if err != nil {
			t.Fatal(err)
		}
		f := x.Finding
		if f == nil {
			continue
		}
		found++
		if ok, line := OneMinimal(f.Shrunk, f.Check); !ok {
			t.Errorf("seed %d: %q can go and it still fails %s:\n%s", seed, line, f.Check, f.Shrunk)
		}
	}
	if found == 0 {
		t.Fatal("no failing schedule to shrink")
	}
}

// Exploration of lock workloads: the recipe checker finds the notes' unsafe read-lock rule
// (and shrinks it to the workload alone), and ZooKeeper's recipe holds the same schedules.
func TestExploreLockWorkloads(t *testing.T) {
	notes := 0
	for seed := uint64(1); seed <= 6; seed++ {
		x, err := Explore(seed, ExploreConfig{Servers: 3, Duration: 8 * sim.Second, Workload: "rwlocks-notes"}, 50)
		if err != nil {
			t.Fatal(err)
		}
		if f := x.Finding; f != nil {
			if f.Check != "LockExclusion" || !strings.HasPrefix(f.Class, "the notes' unsafe read-lock rule") {
				t.Errorf("seed %d: %s [%s]: %s", seed, f.Check, f.Class, f.Detail)
			}
			notes++
		}
		y, err := Explore(seed, ExploreConfig{Servers: 3, Duration: 8 * sim.Second, Workload: "rwlocks"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if f := y.Finding; f != nil {
			t.Errorf("seed %d, ZooKeeper's rule: %s: %s", seed, f.Check, f.Detail)
		}
	}
	if notes == 0 {
		t.Error("the notes' rule held on every seed")
	}
}

// A finding's signature: its check, the sync branches of its run and the kinds of fault in
// its schedule, before the recovery epilogue.
func TestSignature(t *testing.T) {
	res := &Result{Syncs: []SyncInfo{{Mode: "SNAP"}, {Mode: "DIFF"}, {Mode: "SNAP"}}}
	src := "ensemble 5\nmutant ZK-2845\nstart all\ncrash 2 host\npartition {1} {2,3} resets\ncrash 3\npause 4\ncrash 1 at=truncate\n" +
		recoveryMark + "\ncrash 5\n"
	want := "Liveness · DIFF,SNAP · crash+crash at=truncate+crash host+mutant ZK-2845+partition resets+pause"
	if got := signature("Liveness", res, src); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := signature("Liveness", &Result{}, "ensemble 3\nstart all\n"); got != "Liveness · no sync · no fault" {
		t.Errorf("got %s", got)
	}
}

// Explored schedules run one after another in a reused model.Memory: each gives what it
// gives in memory of its own whatever ran before it (seeds forward, then backward: the
// same counts, failures and shrunk schedules; and the same events and virtual time as a
// run in memory of its own), in far fewer bytes.
func TestExploreReusesMemory(t *testing.T) {
	cfg := ExploreConfig{Servers: 3, Mutants: []string{"ZK-2845"}}
	const n = 16
	var fwd, bwd [n + 1]Explored
	for i := uint64(1); i <= n; i++ {
		var err error
		if fwd[i], err = Explore(i, cfg, 20); err != nil {
			t.Fatal(err)
		}
	}
	failing := 0
	for i := uint64(n); i >= 1; i-- {
		x, err := Explore(i, cfg, 20)
		if err != nil {
			t.Fatal(err)
		}
		bwd[i] = x
		a, b := fwd[i], bwd[i]
		if (a.Finding == nil) != (b.Finding == nil) || a.Finding != nil && *a.Finding != *b.Finding {
			t.Fatalf("seed %d: found %+v, then %+v", i, a.Finding, b.Finding)
		}
		a.Finding, b.Finding = nil, nil
		if a != b {
			t.Fatalf("seed %d: %+v, then %+v", i, a, b)
		}
		if x.Finding != nil {
			failing++
		}
		res, err := runChecked("fresh.zab", Generate(i, cfg))
		if err != nil {
			t.Fatalf("seed %d in fresh memory: %v", i, err)
		}
		if res.Events != x.Events || int64(x.Virtual) != res.VirtualNs {
			t.Fatalf("seed %d: in fresh memory %d events at %d ns, explored %d at %d", i, res.Events, res.VirtualNs, x.Events, x.Virtual)
		}
	}
	if failing == 0 {
		t.Fatal("no schedule failed: the findings were not compared")
	}
	bytes := func(f func()) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	src := Generate(2, ExploreConfig{})
	fresh := bytes(func() { runChecked("fresh.zab", src) })
	exploreSource(2, src, 0) // a Memory that has held this schedule
	reused := bytes(func() { exploreSource(2, src, 0) })
	if reused > fresh*3/4 {
		t.Errorf("an explored schedule allocated %d bytes, %d in memory of its own", reused, fresh)
	}
}
