package scenarios

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zabsim/zabsim/checker"
	"github.com/zabsim/zabsim/model"

	"github.com/zabsim/zabsim/sim"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata/ (only commit if you understand the diff)")

// Every built-in scenario runs with all its expectations holding, and its summary matches
// the golden file. If this fails after a deliberate change, run
// `go test ./scenarios -run Golden -rewrite` and read the diff before committing it.
func TestBuiltinScenariosGolden(t *testing.T) {
	entries := List()
	if len(entries) < 10 {
		t.Fatalf("only %d built-in scenarios", len(entries))
	}
	for _, e := range entries {
		t.Run(e.Name, func(t *testing.T) {
			s, err := Builtin(e.Name)
			if err != nil {
				t.Fatal(err)
			}
			if s.Header == "" || !strings.Contains(s.Header, "Source:") {
				t.Errorf("header must say what the scenario teaches and its Source:, got %q", s.Header)
			}
			res, err := Run(s, Options{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			got := res.Summary()
			if !res.OK {
				t.Errorf("scenario failed:\n%s", got)
			}
			if len(res.Expectations) == 0 {
				t.Errorf("scenario has no expectation")
			}
			path := filepath.Join("testdata", e.Name+".golden")
			if *rewrite {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -rewrite to create it)", err)
			}
			if got != string(want) {
				t.Errorf("summary differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
			}
		})
	}
}

// Two runs of every built-in scenario with the same seed give identical traces; another
// seed gives another trace.
func TestBuiltinScenariosDeterministic(t *testing.T) {
	for _, e := range List() {
		t.Run(e.Name, func(t *testing.T) {
			s, _ := Builtin(e.Name)
			run := func(seed uint64) *sim.Trace {
				res, err := Run(s, Options{Seed: seed})
				if err != nil {
					t.Fatal(err)
				}
				return res.World.Trace()
			}
			if err := sim.CheckDeterminism(func() *sim.Trace { return run(7) }); err != nil {
				t.Fatal(err)
			}
			if run(7).Hash() == run(8).Hash() {
				t.Fatal("seeds 7 and 8 gave the same trace")
			}
		})
	}
}

// Every kind of bad line is refused before anything runs, naming the file and line.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		src, want string
	}{
		{"start all", "x.zab:1: start before ensemble: the first command must be 'ensemble N'"},
		{"ensemble 3\nfrobnicate 2", `x.zab:2: unknown command "frobnicate"`},
		{"ensemble 0", `x.zab:1: ensemble "0": want a number of servers from 1 to 99`},
		{"ensemble three", `x.zab:1: ensemble "three": want a number of servers from 1 to 99`},
		{"ensemble 3 observers=x", `x.zab:1: observers="x": want a number from 0 to 99`},
		{"ensemble 3\nensemble 5", "x.zab:2: ensemble given twice"},
		{"ensemble 3\nconfig tickTime=fast", "x.zab:2: tickTime=fast: not a duration like 2s or 150ms"},
		{"ensemble 3\nconfig initLimit=0", "x.zab:2: initLimit=0: want a whole number from 1 to 2147483647"},
		{"ensemble 3\nconfig bogus=1", `x.zab:2: unknown config option "bogus"`},
		{"ensemble 3\nstart all\nawait synced 1 with=bogus", `x.zab:3: await ... with=bogus`},
		{"ensemble 3\nstart all\nexpect synced 1 without=bogus", `x.zab:3: expect ... without=bogus`},
		{"ensemble 3\nconfig leaderConnectDelayDuringRetryMs=0", "x.zab:2: leaderConnectDelayDuringRetryMs=0: want a duration from 1ms to"},
		{"ensemble 3\nconfig leaderConnectDelayDuringRetryMs=soon", "x.zab:2: leaderConnectDelayDuringRetryMs=soon: not a duration like 2s or 150ms"},
		{"ensemble 3\nstart all\nconfig tickTime=1s", "x.zab:3: config must come before the first start"},
		{"ensemble 3\nmutant ZK-0000", `x.zab:2: unknown mutant "ZK-0000"`},
		{"ensemble 3\ndisk policy=sometimes", `x.zab:2: invalid disk policy "sometimes"`},
		{"ensemble 3\nstart 4", "x.zab:2: server 4: the ensemble has servers 1 to 3"},
		{"ensemble 3\ncrash L", `x.zab:2: "L" is not bound: use 'let L = leader' first`},
		{"ensemble 3\ncrash", "x.zab:2: crash needs a server: crash 2"},
		{"ensemble 3\nawait", "x.zab:2: await what?"},
		{"ensemble 3\nawait leader within=soon", "x.zab:2: within=soon: not a duration like 2s or 150ms"},
		{"ensemble 3\nawait dawn", `x.zab:2: await "dawn": want leader, live, synced, state, truncated, snapped, diffed, epoch, held, notheld, connected, converged, value, instances, config, watched or result`},
		{"ensemble 3\nawait state 1 NAPPING", "x.zab:2: await state S STATE, STATE one of LOOKING"},
		{"ensemble 3\nawait epoch 1", "x.zab:2: await epoch needs exactly one of current=N, accepted=N"},
		{"ensemble 3\nlet = leader", "x.zab:2: let takes NAME = leader | NAME = <server> | NAME = server CLIENT"},
		{"ensemble 3\nwrite -1", `x.zab:2: write "-1": want a count from 1 to 100000`},
		{"ensemble 3\nwrite 2 later", `x.zab:2: write: unexpected "later" (only nowait)`},
		{"ensemble 3\nwrite 2 speed=3", `x.zab:2: write: unknown option "speed"`},
		{"ensemble 3\nwrite 2 size=big", "x.zab:2: write size=big: want a whole number of bytes from 0 to 1048575 (jute.maxbuffer's default)"},
		{"ensemble 3\nwrite 2 size=-1", "x.zab:2: write size=-1: want a whole number of bytes from 0 to 1048575"},
		{"ensemble 3\nwrite 2 size=1048576", "x.zab:2: write size=1048576: want a whole number of bytes from 0 to 1048575"},
		{"ensemble 3\nconfig preAllocSize=-16", "x.zab:2: preAllocSize=-16: want a whole number of KiB from 0 (no preallocation)"},
		{"ensemble 3\nconfig preAllocSize=16k", "x.zab:2: preAllocSize=16k: want a whole number of KiB"},
		{"ensemble 3\npartition 1", "x.zab:2: partition: want 'A -> B' (one-way) or 'A B' (both ways)"},
		{"ensemble 3\npartition {1,2 {3}", "x.zab:2: unbalanced '{'"},
		{"ensemble 3\npartition {} {3}", `x.zab:2: empty set "{}"`},
		{"ensemble 3\nclog 1 2", "x.zab:2: clog needs for=DURATION"},
		{"ensemble 3\nlatency 1 -> 2 mean=1ms", "x.zab:2: latency needs min=DURATION"},
		{"ensemble 3\nrun forever", "x.zab:2: run forever: not a duration like 2s or 150ms"},
		{"ensemble 3\nrun 5", "x.zab:2: run 5: a duration needs its unit: ns, us, ms, s, m or h (like 5s or 150ms)"},
		{"ensemble 3\nstart all\nawait leader within=60", "x.zab:3: within=60: a duration needs its unit"},
		{"ensemble 3\nconfig latencyMin=5", "x.zab:2: latencyMin=5: a duration needs its unit"},
		{"ensemble 3\nexpect sync 1 MAGIC", `x.zab:2: sync mode "MAGIC": want one of DIFF TRUNC TRUNC+DIFF SNAP`},
		{"ensemble 3\nexpect value zabsim absent", `x.zab:2: expect value: path "zabsim" must start with /`},
		{"ensemble 3\nexpect state 1 SLEEPING", "x.zab:2: expect state S STATE"},
		{"ensemble 3\nexpect weather", `x.zab:2: expect "weather"`},
		{"ensemble 3\nexpect violation Bogus", "x.zab:2: expect violation CHECK, CHECK one of Leadership1"},
		{`ensemble 3` + "\n" + `expect value /a = "unterminated`, "x.zab:2: unterminated string"},
		{"# only a comment\n", "x.zab:1: no 'ensemble N' command"},
		{"ensemble 3\nseed x", `x.zab:2: seed "x": want a non-negative integer`},
		{"ensemble 3\nfix all-bugs", `x.zab:2: unknown fix "all-bugs"`},
		{"ensemble 3\ncrash 1 at=lunch", "x.zab:2: crash at=lunch: want one of currentEpoch acceptedEpoch truncate snapshot log"},
		{"ensemble 3\ncrash 1 2 at=log", "x.zab:2: crash ... at=log takes one server"},
		{"ensemble 3\ncrash 1 within=2s", "x.zab:2: crash: within= goes with at=EVENT"},
		{"ensemble 3\nfix", "x.zab:2: fix needs a name (known: ZK-1549 stale-ack ZK-2846 ZK-1653 epoch-ahead)"},
		{"ensemble 3\nstart all\nfix ZK-1549", "x.zab:3: fix must come before the first start"},
		{"ensemble 3\nseed 1\nseed 2", "x.zab:3: seed given twice"},
		{"ensemble 3\nstart all\nseed 2", "x.zab:3: seed must come before the first start"},
		{"ensemble 3\nworkload clients=0", "x.zab:2: clients=0: want a whole number from 1 to 900"},
		{"ensemble 3\nworkload rate=-1", "x.zab:2: rate=-1: want calls per second per client"},
		{"ensemble 3\nworkload reads=2", "x.zab:2: reads=2: want the share of reads, from 0 to 1"},
		{"ensemble 3\nworkload speed=2", `x.zab:2: workload: unknown option "speed"`},
		{"ensemble 3\nworkload now", `x.zab:2: workload takes options (clients=5 rate=10 reads=0.7 keys=16 outstanding=4), locks, elections, discovery, config, or stop, not "now"`},
		{"ensemble 3\nworkload config watchers=2", "x.zab:2: workload config: watchers= is discovery's"},
		{"ensemble 3\nworkload config hold=1s", "x.zab:2: workload config: hold= is discovery's"},
		{"ensemble 3\nworkload discovery naive=soon", "x.zab:2: naive=soon: not a duration"},
		{"ensemble 3\nworkload discovery rate=3", `x.zab:2: workload discovery: unknown option "rate"`},
		{"ensemble 3\nawait converged", "x.zab:2: await converged: no discovery or config workload was started"},
		{"ensemble 3\nworkload config\nawait converged now", "x.zab:3: await converged takes no arguments"},
		{"ensemble 3\nworkload elections rw=true", "x.zab:2: workload elections: rw= is a read/write lock's option"},
		{"ensemble 3\nresource", "x.zab:2: resource NAME [fenced]"},
		{"ensemble 3\nresource R safe", "x.zab:2: resource NAME [fenced]"},
		{"ensemble 3\nresource start", "x.zab:2: the name start is taken"},
		{"ensemble 3\nclient A servers={1}\nlock L A /l\nuse L R", "x.zab:4: use LOCK RESOURCE (LOCK bound by lock or elect, RESOURCE by resource)"},
		{"ensemble 3\nclient A servers={1}\nelect E A election", "x.zab:3: elect NAME CLIENT /dir [nowait]"},
		{"ensemble 3\nelect E B /e", `x.zab:2: "B" is not a client`},
		{"ensemble 3\nresign X", "x.zab:2: resign takes the name of a candidate: resign E (E bound by elect)"},
		{"ensemble 3\nexpect leader 1 last=L", "x.zab:2: expect: last= belongs to expect resource"},
		{"ensemble 3\nresource R\nexpect resource R", "x.zab:3: expect resource R last=LOCK: last= names the lock"},
		{"ensemble 3\nclient A servers={1}\nlock L A /l nowait\nresource R\nexpect resource R last=L refused=-1", "x.zab:5: refused=-1: want a count of refused writes, 0 or more"},
		{"ensemble 3\nworkload stop", "x.zab:2: workload stop: no workload was started"},
		{"ensemble 3\nworkload\nworkload", "x.zab:3: workload: a scenario has one workload"},
	} {
		_, err := Parse("x.zab", tc.src)
		if err == nil {
			t.Errorf("%q: parsed, want error %q", tc.src, tc.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q:\n got  %s\n want %s", tc.src, err, tc.want)
		}
		if _, ok := err.(*Error); !ok {
			t.Errorf("%q: error is %T, want *Error", tc.src, err)
		}
	}
}

// Runtime mistakes also name the line, and stop the run.
func TestRunErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"ensemble 3\nstart all\nawait leader\ncrash 1\ncrash 1", "x.zab:5: crash 1: server 1 is not running"},
		{"ensemble 3\nlet L = leader", "x.zab:2: 'leader': there is no leader now"},
		{"ensemble 3\nstart all\nstart 2", "x.zab:3: start 2: server 2 is already running"},
		{"ensemble 3\nstart all\nresume 1", "x.zab:3: resume 1: server 1 is not paused"},
		{"ensemble 3\nwrite 1", "x.zab:2: write: no server is serving"},
		{"ensemble 3\nstart all\nawait leader\nclient A servers={1,2,3}\nclient B servers={1,2,3}\nlock LA A /l\nlock LB B /l nowait\nresource R\nuse LB R",
			"x.zab:9: use LB R: LB is not held (its client must believe it holds the lock to use it)"},
	} {
		s, err := Parse("x.zab", tc.src)
		if err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		_, err = Run(s, Options{Seed: 1})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %s", tc.src, err, tc.want)
		}
	}
}

// The workload command drives the model's clients (checked like any others, porcupine
// included); `down` and `paused` select the servers in that state, none if there are none.
func TestWorkloadAndStateSelectors(t *testing.T) {
	src := `ensemble 3
seed 5
start all
await leader
workload clients=3 rate=20 reads=0.5
run 3s
crash 1
pause 2
run 2s
restart down
resume paused
restart down
resume paused
workload stop
run 20s
await leader
`
	s, err := Parse("w.zab", src)
	if err != nil {
		t.Fatal(err)
	}
	if !s.HasSeed || s.Seed != 5 {
		t.Fatalf("seed line: HasSeed %v Seed %d", s.HasSeed, s.Seed)
	}
	res, err := Run(s, Options{Seed: s.Seed})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.Linearizability != "ok" || res.LinOps < 40 {
		t.Fatalf("ok %v, linearizability %q on %d operations:\n%s", res.OK, res.Linearizability, res.LinOps, res.Summary())
	}
	clients := 0
	for _, c := range res.Ensemble.Clients {
		if c.ID() >= 1000 {
			clients++
		}
	}
	if clients != 3 {
		t.Errorf("%d workload clients, want 3", clients)
	}
}

// A failed expectation and a timed-out await make the result not OK, with what was seen.
func TestFailedExpectations(t *testing.T) {
	s, err := Parse("x.zab", "ensemble 3\nstart all\nawait leader\nexpect leader 1\nexpect sync 2 SNAP\ncrash 1 2\nawait leader within=5s\nexpect leader 3")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(s, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK {
		t.Fatal("result OK, want failed")
	}
	if len(res.Expectations) != 3 {
		t.Fatalf("%d expectations, want 3 (the last is skipped after the await timed out): %+v", len(res.Expectations), res.Expectations)
	}
	for i, want := range []struct {
		ok  bool
		got string
	}{{false, "3"}, {false, "DIFF"}, {false, "timed out"}} {
		x := res.Expectations[i]
		if x.OK != want.ok || !strings.HasPrefix(x.Got, want.got) {
			t.Errorf("expectation %d = %+v, want ok=%v got %q", i, x, want.ok, want.got)
		}
	}
	if !strings.HasPrefix(res.Stopped, "line 7:") {
		t.Errorf("stopped = %q, want line 7", res.Stopped)
	}
}

// BenchmarkBuiltinScenarios runs the whole library once per op and reports the virtual
// time it covers next to the wall time.
func BenchmarkBuiltinScenarios(b *testing.B) {
	var scripts []*Script
	for _, e := range List() {
		s, err := Builtin(e.Name)
		if err != nil {
			b.Fatal(err)
		}
		scripts = append(scripts, s)
	}
	var virtual sim.Time
	var events uint64
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, s := range scripts {
			res, err := Run(s, Options{Seed: 1, NoTrace: true})
			if err != nil {
				b.Fatal(err)
			}
			virtual += sim.Time(res.VirtualNs)
			events += res.Events
		}
	}
	b.ReportMetric(virtual.Seconds()/float64(b.N), "virtual-s/op")
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
}

// Every mutant has its built-in scenario, and the pair holds on several seeds: with the
// mutant the run has violations, all of them expected; the same file without the mutant line
// (and without its expectations of the bug's effects) has none at all.
func TestMutantScenariosFailOnlyWithTheMutant(t *testing.T) {
	covered := map[string]bool{}
	for _, e := range List() {
		s, _ := Builtin(e.Name)
		var mutantLine int
		for _, c := range s.Commands {
			if c.Name == "mutant" {
				mutantLine = c.Line
				covered[c.Args[0]] = true
			}
		}
		if mutantLine == 0 {
			continue
		}
		src, _ := library.ReadFile("library/" + e.Name + ".zab")
		var kept []string
		for i, line := range strings.Split(string(src), "\n") {
			if i+1 == mutantLine || strings.HasPrefix(line, "expect") {
				kept = append(kept, "# "+line)
				continue
			}
			kept = append(kept, line)
		}
		fixed, err := Parse(e.Name+"-fixed.zab", strings.Join(kept, "\n"))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			for seed := uint64(1); seed <= mutantPairSeeds; seed++ {
				with, err := Run(s, Options{Seed: seed, NoTrace: true})
				if err != nil {
					t.Fatal(err)
				}
				if len(with.Violations) == 0 {
					t.Errorf("seed %d: the mutant run has no violation", seed)
				}
				for _, v := range with.Violations {
					if !v.Expected {
						t.Errorf("seed %d: unexpected violation %s: %s", seed, v.Check, v.Detail)
					}
				}
				without, err := Run(fixed, Options{Seed: seed, NoTrace: true})
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range without.Violations {
					t.Errorf("seed %d without the mutant: %s: %s", seed, v.Check, v.Detail)
				}
			}
		})
	}
	for _, name := range model.MutantNames {
		if !covered[name] {
			t.Errorf("mutant %s has no built-in scenario (a library file with `mutant %s`)", name, name)
		}
	}
}

// mutantPairSeeds is how many seeds the mutant-pair test runs each scenario on.
const mutantPairSeeds = 5

// The findings on the unmodified model do not hang on seed 1's timing: each scenario holds,
// violations and all, on other seeds too.
func TestFindingsHoldAcrossSeeds(t *testing.T) {
	for _, name := range []string{"stale-ack-trunc", "dirty-snapshot-trunc", "zk-2846", "zk-2846-workaround", "zk-2846-paused-leader", "zk-1653", "zk-1653-diff", "epoch-ahead"} {
		s, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		for seed := uint64(2); seed <= 6; seed++ {
			res, err := Run(s, Options{Seed: seed, NoTrace: true})
			if err != nil {
				t.Fatalf("%s seed %d: %v", name, seed, err)
			}
			if !res.OK {
				t.Errorf("%s seed %d fails:\n%s", name, seed, res.Summary())
			}
		}
	}
}

// The proposed fixes remove what each finding shows: with its `fix` line, a finding's
// schedule runs without a single violation.
func TestFixesRemoveTheFindings(t *testing.T) {
	for name, fix := range map[string]string{"stale-ack-trunc": "stale-ack", "dirty-snapshot-trunc": "ZK-1549", "zk-2846": "ZK-2846", "zk-2846-paused-leader": "ZK-2846", "zk-1653": "ZK-1653", "zk-1653-diff": "ZK-1653", "epoch-ahead": "epoch-ahead"} {
		src, err := library.ReadFile("library/" + name + ".zab")
		if err != nil {
			t.Fatal(err)
		}
		fixed := strings.Replace(string(src), "\nstart ", "\nfix "+fix+"\nstart ", 1)
		for seed := uint64(1); seed <= 3; seed++ {
			s, err := Parse(name+"-fixed.zab", fixed)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(s, Options{Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Violations) > 0 {
				t.Errorf("%s with fix %s, seed %d:\n%s", name, fix, seed, res.Summary())
			}
		}
	}
}

// The checker accepts a DIFF that the own-proposals fix made only when its condition holds:
// the peer's zxid is one of the leader's proposals of this epoch.
func TestCheckerJudgesTheOwnProposalsFix(t *testing.T) {
	src, _ := library.ReadFile("library/stale-ack-trunc.zab")
	s, err := Parse("f.zab", strings.Replace(string(src), "\nstart all\n", "\nfix stale-ack\nstart all\n", 1))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(s, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	recs := slices.Clone(res.World.Trace().Records())
	k := slices.IndexFunc(recs, func(r sim.Record) bool {
		d, ok := r.Data.(*model.SyncDecided)
		return ok && d.Branch == model.FixBranchOwnProposals
	})
	if k < 0 {
		t.Fatal("no sync decided by the fix")
	}
	opts := checker.OptionsFor(*res.Ensemble.Cfg)
	if vs := checker.Check(recs, opts); len(vs) > 0 {
		t.Fatalf("the fixed run: %v", vs)
	}
	m := *recs[k].Data.(*model.SyncDecided)
	m.PeerLastZxid = model.MakeZxid(1, 40) // a zxid the leader never proposed
	recs[k].Data = &m
	vs := checker.Check(recs, opts)
	if len(vs) == 0 || vs[0].Check != checker.CheckSyncDecision || !strings.Contains(vs[0].Detail, "is not one of the leader's own proposals") {
		t.Fatalf("violations %v, want sync-decision: not one of the leader's own proposals", vs)
	}
}

// crash S at=EVENT crashes S right after the step that reached the event: the ZK-4643
// mutant's window (currentEpoch written, the synced txns not yet on disk) without an await;
// an event that does not come crashes it at the deadline.
func TestCrashAtEvent(t *testing.T) {
	src, _ := library.ReadFile("library/zk-4643-mutant.zab")
	text := strings.Replace(string(src), "await epoch 1 current=2\ncrash 1 host\n", "crash 1 at=currentEpoch\n", 1)
	if text == string(src) {
		t.Fatal("zk-4643-mutant changed: update this test")
	}
	s, err := Parse("x.zab", text)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(s, Options{Seed: 1})
	if err != nil || !res.OK {
		t.Fatalf("err %v:\n%s", err, res.Summary())
	}
	s, err = Parse("y.zab", "ensemble 3\nstart all\nawait leader\ncrash 1 at=truncate within=1500ms\nexpect state 1 DOWN\n")
	if err != nil {
		t.Fatal(err)
	}
	res, err = Run(s, Options{Seed: 1})
	if err != nil || !res.OK {
		t.Fatalf("err %v:\n%s", err, res.Summary())
	}
	if d := res.VirtualNs - int64(res.Leaders[0].AtNs); d < int64(1500*sim.Millisecond) {
		t.Errorf("crashed %dns after the leader, want at the 1.5s deadline", d)
	}
}

// await live waits for the liveness check's own condition: quickly on a healthy ensemble,
// not at all while a link is cut (the check then has no quiet period to judge).
func TestAwaitLive(t *testing.T) {
	run := func(src string) *Result { return runText(t, src, 1) }
	if res := run("ensemble 3\nstart all\nawait live within=30s\n"); !res.OK || res.VirtualNs > int64(5*sim.Second) {
		t.Errorf("healthy: ok %v at %dns:\n%s", res.OK, res.VirtualNs, res.Summary())
	}
	res := run("ensemble 3\nstart all\nawait leader\npartition 1 {2,3}\nawait live within=3s\n")
	if res.OK || !strings.Contains(res.Stopped, "await live within=3s timed out") {
		t.Errorf("cut: ok %v, stopped %q", res.OK, res.Stopped)
	}
}

// The txn-log size rule end to end: a follower misses 600 writes (of 100-byte values) and
// is below the leader's committedLog. With the defaults the leader has one log file, whose
// length getStorageSize does not count: DIFF from the txn log. With snapCount=100 and
// preAllocSize=16 the leader has several files of 16 + k x 16 KiB, together over 0.33 x its
// latest snapshot: SNAP, as a real 3.8.0 leader with those settings logs "Txnlog size:
// 196704 exceeds sizeLimit: 26628" (6 files of 16 + 2 x 16384).
func TestTxnLogSizeRule(t *testing.T) {
	run := func(t *testing.T, config string) SyncInfo {
		src := "ensemble 3\n" + config + "start all\nawait leader\nwrite 3 via=3\ncrash 1\nwrite 600 via=3 size=100\nrestart 1\nawait synced 1\n" +
			"expect value /zabsim/w603 = \"v603" + strings.Repeat(".", 96) + "\"\n"
		s, err := Parse("x.zab", src)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(s, Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK {
			t.Fatalf("run failed:\n%s", res.Summary())
		}
		last := res.Syncs[len(res.Syncs)-1]
		if last.Learner != 1 || last.TxnLog == nil {
			t.Fatalf("last sync %+v, want 1's, through the txn-log branch", last)
		}
		t.Logf("%s -> %s, txn log %+v", config, last.Mode, *last.TxnLog)
		return last
	}
	t.Run("defaults: DIFF", func(t *testing.T) {
		d := run(t, "")
		if d.Mode != "DIFF" || d.TxnLog.Size != 0 || d.TxnLog.TooBig || d.TxnLog.Limit <= 0 {
			t.Fatalf("sync %s, txn log %+v: want DIFF with size 0", d.Mode, *d.TxnLog)
		}
	})
	t.Run("snapCount=100 preAllocSize=16: SNAP", func(t *testing.T) {
		d := run(t, "config snapCount=100 preAllocSize=16\n")
		if d.Mode != "SNAP" || !d.TxnLog.TooBig || d.TxnLog.Size <= d.TxnLog.Limit {
			t.Fatalf("sync %s, txn log %+v: want SNAP refused on size", d.Mode, *d.TxnLog)
		}
		// Every file after the first is a header and one or two 16 KiB blocks.
		sum := false
		for two := int64(0); two*32784 <= d.TxnLog.Size; two++ {
			sum = sum || (d.TxnLog.Size-two*32784)%16400 == 0
		}
		if !sum {
			t.Fatalf("size %d is not a sum of files of 16 + 16384 or 16 + 2 x 16384 bytes", d.TxnLog.Size)
		}
	})
}

// await ... with=FIX waits only in a run with that fix (without=FIX only in one without):
// in the other run the line does nothing, as an expect line with the same option.
func TestAwaitWithFix(t *testing.T) {
	src := "ensemble 3\nstart all\nawait leader\ncrash 1\nawait synced 1 within=2s with=ZK-1549\nexpect state 1 DOWN\n"
	s, err := Parse("x.zab", src)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		fixes []string
		ok    bool
	}{{nil, true}, {[]string{"ZK-1549"}, false}, {[]string{"stale-ack"}, true}} {
		res, err := Run(s, Options{Seed: 1, NoTrace: true, Fixes: tc.fixes})
		if err != nil {
			t.Fatal(err)
		}
		if res.OK != tc.ok {
			t.Errorf("fixes %v: ok=%v, want %v\n%s", tc.fixes, res.OK, tc.ok, res.Summary())
		}
	}
	without, err := Parse("x.zab", strings.Replace(src, "with=ZK-1549", "without=ZK-1549", 1))
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := Run(without, Options{Seed: 1, NoTrace: true}); res.OK {
		t.Errorf("without=ZK-1549 in a run without it: the await did not wait\n%s", res.Summary())
	}
}
