// Command zabsim runs ZooKeeper replication scenarios on a deterministic simulator.
//
//	zabsim list
//	zabsim run NAME|FILE [--seed N] [--json] [--trace FILE] [--report DIR] [--check-determinism] [--mutant M] [--fix F] [--max-events N] [--max-virtual D]
//	zabsim report TRACE [--out DIR] [--player FILE.html]
//	zabsim explore [--seeds N] [--first S] [--duration D] [--mutant M] [--jobs J] [--shard i/n] [--out DIR]
//	zabsim shrink FILE [--out FILE] [--runs N]
//	zabsim bench [--seconds N] [--jobs J]
//	zabsim compare NAME|FILE [--seed N] [--out DIR] [--list]
//
// Exit status: 0 every expectation and check held, 1 one failed, 2 bad input.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/zabsim/zabsim/reports"
	"github.com/zabsim/zabsim/scenarios"
	"github.com/zabsim/zabsim/sim"
)

const usage = `zabsim: a deterministic simulator of ZooKeeper's replication protocol (Zab)

usage:
  zabsim list                       list the built-in scenarios
  zabsim run NAME|FILE [flags]      run a scenario and check it
  zabsim report TRACE --out DIR     pictures and a summary from a saved trace (--trace)
  zabsim report TRACE --player F    the run player of a saved trace: one HTML file
  zabsim explore [flags]            random fault schedules, each checked; failures shrunk to files
  zabsim shrink FILE [flags]        shrink a failing scenario to the lines that still fail its check
  zabsim merge SHARD.json...        sum explore's shards (--shard i/n --json) into one summary
  zabsim bench [--seconds 5] [--jobs J]   this machine's speed: the library, then explored schedules
  zabsim compare NAME|FILE [--seed N] [--out DIR] [--list]
                                        one scenario against zookeeper, eureka, nacos-ap and nacos-cp:
                                        the comparison table, broken promises, the timelines (--out)

run flags:
  --seed N              seed of the run (default: the file's seed line, else 1): same scenario + seed = same run
  --json                print one JSON object instead of the summary
  --trace FILE          write the trace as JSON Lines, closed by an end record
  --report DIR          write DIR/index.md and timeline pictures (PNG, SVG, Mermaid)
  --player FILE.html    write the run player: one self-contained page that replays the run
                        (step, play, elections explained, what-if forks as scenario text)
  --check-determinism   run twice and report the first record where the runs differ
  --mutant M[,M]        switch known ZooKeeper bugs back on, as a mutant line would
  --fix F[,F]           switch proposed fixes on (README "Findings"), as a fix line would
  --max-events N        stop the run after N events (default 50000000; 5000000 with --report,
                        which keeps every record in memory)
  --max-virtual D       stop the run at virtual time D (default 168h)

explore flags:
  --seeds N             how many schedules (default 1000), seeds --first.. (default 1)
  --duration D          the fault window of each schedule (default 20s); then every fault is
                        healed and the run waits for liveness, at most past its bound
  --servers N           voting servers (default 5), --observers K observers after them (default 0)
  --clients N           workload clients (default 3, 0 for none), --rate R calls/s each (default 10)
  --workload W          what the clients do: ops (random calls, the default), locks, rwlocks,
                        rwlocks-notes (the notes' unsafe read-lock rule), elections (the
                        leader-election recipe), discovery, config (watchers must converge):
                        the recipe checks judge them
  --mutant M[,M]        switch known ZooKeeper bugs back on (README "Known bugs as mutants")
  --fix F[,F]           switch proposed fixes on (ZK-1549, stale-ack, ZK-2846, ZK-1653, epoch-ahead: README "Findings")
  --jobs J              schedules run in parallel (default: the CPUs)
  --shard i/n           run only the i-th of n interleaved slices of the seeds
  --out DIR             where failing schedules go, shrunk, as DIR/seed-N.zab (default explore-failures)
  --shrink-runs N       runs the shrinker may spend per failure (default 500, 0: no shrinking)
  --shrink-first N      shrink only the first N failures of each class, in seed order (default 0: all)
  --report              also write DIR/seed-N/index.md and the pictures of each shrunk failure
  --json                print one JSON object at the end instead of the lines

shrink flags:
  --out FILE            where to write (default FILE.min.zab)
  --runs N              runs the shrinker may spend (default 500)

exit status: 0 all expectations and checks held, 1 one failed, 2 bad input
(explore: 1 if a schedule failed, 130 if interrupted before any did)
`

func main() {
	// GOGC in the environment wins over these.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent(os.Args[1:]))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// gcPercent is the collector's GOGC for a command. A short run allocates much and keeps
// little: with Go's default of 100 a quarter of an exploration's CPU went to the collector,
// 400 cut it by about 28% for about twice the heap (21 -> 40 MB for 400 schedules). The
// commands that run schedule after schedule (explore, shrink, bench's second part) keep
// under a few MB live, and 800 gives them 11-18% more schedules a minute for 70 -> 130-165
// MB of RSS; a run that keeps its records (--report, --player) could have a large live
// heap, which 800 would make nine times larger, so the rest stay at 400 (and a single run
// of a fresh process spends longer growing the larger heap than it saves).
func gcPercent(args []string) int {
	if len(args) > 0 && (args[0] == "explore" || args[0] == "shrink") {
		return 800 // bench: its explore part (cmdBench)
	}
	return 400
}

// reportMaxEvents is --max-events with --report: the run keeps its records for the
// pictures, about 300 bytes an event, so at most some 1.5 GB.
var reportMaxEvents uint64 = 5_000_000 // a variable for a test

// exitError is bad input: the message goes to stderr and the exit status is 2.
type exitError struct{ msg string }

func (e *exitError) Error() string { return e.msg }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	code := 0
	switch args[0] {
	case "list":
		err = cmdList(args[1:], stdout)
	case "run":
		code, err = cmdRun(args[1:], stdout, stderr)
	case "report":
		code, err = cmdReport(args[1:], stdout)
	case "explore":
		code, err = cmdExplore(args[1:], stdout, stderr)
	case "shrink":
		code, err = cmdShrink(args[1:], stdout, stderr)
	case "merge":
		code, err = cmdMerge(args[1:], stdout)
	case "bench":
		err = cmdBench(args[1:], stdout)
	case "compare":
		code, err = cmdCompare(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = &exitError{fmt.Sprintf("unknown command %q\n\n%s", args[0], usage)}
	}
	if err != nil {
		fmt.Fprintln(stderr, "zabsim:", err)
		return 2
	}
	return code
}

func cmdList(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return &exitError{"list takes no arguments"}
	}
	for _, e := range scenarios.List() {
		fmt.Fprintf(stdout, "%-26s %s\n", e.Name, e.Summary)
	}
	return nil
}

// splitFlags separates flags from positional arguments, so flags may follow the name.
func splitFlags(args []string, boolFlags map[string]bool) (flags, pos []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") && a != "-" {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && !boolFlags[name] && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
			continue
		}
		pos = append(pos, a)
	}
	return flags, pos
}

func cmdRun(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	seed := fs.Uint64("seed", 1, "")
	asJSON := fs.Bool("json", false, "")
	traceFile := fs.String("trace", "", "")
	determinism := fs.Bool("check-determinism", false, "")
	reportDir := fs.String("report", "", "")
	mutants := fs.String("mutant", "", "")
	fixes := fs.String("fix", "", "")
	maxEvents := fs.Uint64("max-events", scenarios.DefaultMaxEvents, "")
	maxVirtual := fs.String("max-virtual", scenarios.DefaultMaxVirtual.String(), "")
	replay := fs.String("replay", "", "")
	seedRange := fs.String("seeds", "", "")
	jobs := fs.Int("jobs", runtime.GOMAXPROCS(0), "")
	playerFile := fs.String("player", "", "")
	flags, pos := splitFlags(args, map[string]bool{"json": true, "check-determinism": true})
	if err := fs.Parse(flags); err != nil {
		return 2, &exitError{"run: " + err.Error()}
	}
	if *seedRange != "" {
		if *traceFile != "" || *reportDir != "" || *replay != "" || *determinism {
			return 2, &exitError{"run --seeds sweeps many runs: it takes no --trace, --report, --replay or --check-determinism (run one failing seed with those)"}
		}
		if len(pos) != 1 {
			return 2, &exitError{"run --seeds A-B takes one scenario: a built-in name or a .zab file"}
		}
		return runSeeds(pos[0], *seedRange, *jobs, splitList(*mutants), splitList(*fixes), *asJSON, stdout, stderr)
	}
	var replayOf *reports.TraceFile
	if *replay != "" {
		// run what a saved trace's header names: its scenario text, seed, mutants and fixes
		if len(pos) != 0 {
			return 2, &exitError{"run --replay TRACE takes no scenario: the trace names it"}
		}
		tf, err := readTraceFile(*replay)
		if err != nil {
			return 2, err
		}
		if tf.Header == nil {
			return 2, &exitError{*replay + ": no header record: a trace written before traces said what ran cannot be replayed"}
		}
		dir, err := os.MkdirTemp("", "zabsim-replay")
		if err != nil {
			return 2, err
		}
		defer os.RemoveAll(dir)
		file := filepath.Join(dir, tf.Header.Scenario+".zab")
		if err := os.WriteFile(file, []byte(tf.Header.Source), 0o644); err != nil {
			return 2, err
		}
		pos = []string{file}
		*seed, *mutants, *fixes = tf.Header.Seed, strings.Join(tf.Header.Mutants, ","), strings.Join(tf.Header.Fixes, ",")
		fs.Set("seed", strconv.FormatUint(*seed, 10))
		replayOf = tf
	}
	if len(pos) != 1 {
		return 2, &exitError{"run takes one scenario: a built-in name (zabsim list) or a .zab file"}
	}
	if *maxEvents < 1 || *maxEvents > scenarios.MaxEventsLimit {
		return 2, &exitError{fmt.Sprintf("--max-events %d: want 1 to %d", *maxEvents, scenarios.MaxEventsLimit)}
	}
	mv, err := sim.ParseTime(*maxVirtual)
	if err != nil || mv < 1 || mv > scenarios.MaxDuration {
		return 2, &exitError{fmt.Sprintf("--max-virtual %q: want a duration from 1ns to %s, like 24h", *maxVirtual, scenarios.MaxDuration)}
	}
	script, err := scenarios.Load(pos[0])
	if err != nil {
		return 2, err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if script.HasSeed && !given["seed"] {
		*seed = script.Seed // the file's own `seed N` line
	}
	keep := *reportDir != "" || *playerFile != ""
	if keep && !given["max-events"] {
		// the report keeps every record (some 300 bytes each): a tenth of the events
		*maxEvents = reportMaxEvents
	}
	// The run keeps its records only for the report: the summary and the checker read
	// them as they come, and --trace streams them to its file, so memory does not grow
	// with the length of the run.
	opt := scenarios.Options{Seed: *seed, Progress: progress(stderr, script.Name),
		Mutants: splitList(*mutants), Fixes: splitList(*fixes),
		NoTrace: !keep, MaxEvents: *maxEvents, MaxVirtual: mv}
	var jw *sim.JSONLWriter
	var tf *os.File
	if *traceFile != "" {
		if tf, err = os.Create(*traceFile); err != nil {
			return 2, &exitError{"--trace: " + err.Error()}
		}
		defer tf.Close() // closed below; this is for the early returns
		jw = sim.NewJSONLWriter(tf)
		if err := jw.Header(scenarios.Header(script, opt)); err != nil {
			return 2, &exitError{"--trace: " + err.Error()}
		}
		opt.Attach = func(w *sim.World) error { return jw.Attach(w.Trace()) }
	}
	res, err := scenarios.Run(script, opt)
	if err != nil {
		return 2, err
	}
	if jw != nil {
		// the end record: without it, the file is a cut trace
		werr := jw.End(res.World.Trace(), sim.Time(res.VirtualNs), res.Events)
		if cerr := tf.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return 2, &exitError{"--trace: " + werr.Error()}
		}
	}
	code := 0
	if !res.OK {
		code = 1
	}
	if replayOf != nil {
		if res.TraceHash == replayOf.End.Hash {
			fmt.Fprintf(stderr, "replay of %s: the same trace (%s)\n", *replay, res.TraceHash)
		} else {
			fmt.Fprintf(stderr, "replay of %s: trace %s, not the saved %s (written by zabsim %s, this is %s)\n",
				*replay, res.TraceHash, replayOf.End.Hash, replayOf.Header.Version, scenarios.Version())
			code = 1
		}
	}
	if *determinism {
		d, err := checkDeterminism(script, opt, res)
		if err != nil {
			return 2, err
		}
		if d != "" {
			fmt.Fprintf(stderr, "zabsim: NOT deterministic: %s\n", d)
			code = 1
		} else if !*asJSON {
			fmt.Fprintf(stdout, "determinism: two runs of seed %d gave the same %d records (trace %s)\n", *seed, res.World.Trace().Len(), res.TraceHash)
		}
	}
	if *reportDir != "" {
		if err := reports.Write(res, *reportDir); err != nil {
			return 2, &exitError{"--report: " + err.Error()}
		}
		if !*asJSON {
			defer fmt.Fprintf(stdout, "report: %s\n", filepath.Join(*reportDir, "index.md"))
		}
	}
	if *playerFile != "" {
		h := scenarios.Header(script, opt)
		in := reports.PlayerInput{Records: res.World.Trace().Records(), End: sim.Time(res.VirtualNs), Header: &h, Result: res, Hash: res.TraceHash}
		if err := reports.WritePlayer(in, *playerFile); err != nil {
			return 2, &exitError{"--player: " + err.Error()}
		}
		if !*asJSON {
			defer fmt.Fprintf(stdout, "player: %s\n", *playerFile)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		if err := enc.Encode(res); err != nil {
			return 2, err
		}
		return code, nil
	}
	fmt.Fprint(stdout, res.Summary())
	return code, nil
}

// checkDeterminism runs the scenario again and compares the trace hash and length with
// first's; only if they differ does it run twice more keeping every record, to name the
// first record where the runs part. It returns "" when the runs agree.
func checkDeterminism(script *scenarios.Script, opt scenarios.Options, first *scenarios.Result) (string, error) {
	opt.Progress, opt.Attach, opt.NoTrace = nil, nil, true
	second, err := scenarios.Run(script, opt)
	if err != nil {
		return "", err
	}
	if second.TraceHash == first.TraceHash && second.World.Trace().Len() == first.World.Trace().Len() {
		return "", nil
	}
	msg := fmt.Sprintf("two runs gave traces %s (%d records) and %s (%d records)", first.TraceHash,
		first.World.Trace().Len(), second.TraceHash, second.World.Trace().Len())
	opt.NoTrace = false
	a, err := scenarios.Run(script, opt)
	if err != nil {
		return "", err
	}
	b, err := scenarios.Run(script, opt)
	if err != nil {
		return "", err
	}
	if d := sim.FirstDifference(a.World.Trace(), b.World.Trace()); d != nil {
		return fmt.Sprintf("%s; two more runs: %v", msg, d), nil
	}
	return msg + "; two more runs, kept to compare, agreed", nil
}

// readTraceFile reads and checks a saved trace, naming the line of what is wrong.
func readTraceFile(path string) (*reports.TraceFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &exitError{err.Error()}
	}
	defer f.Close()
	tf, err := reports.ReadTrace(f)
	if err != nil {
		var te *reports.TraceError
		if errors.As(err, &te) {
			return nil, &exitError{fmt.Sprintf("%s:%d: %s", path, te.Line, te.Msg)}
		}
		return nil, &exitError{fmt.Sprintf("%s: %v", path, err)}
	}
	return tf, nil
}

// cmdReport writes the report of a saved trace. Exit 1 when the verdict it judges from the
// trace is FAILED, as `zabsim run` would have.
func cmdReport(args []string, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("out", "", "")
	playerFile := fs.String("player", "", "")
	flags, pos := splitFlags(args, nil)
	if err := fs.Parse(flags); err != nil {
		return 2, &exitError{"report: " + err.Error()}
	}
	if len(pos) != 1 || *out == "" && *playerFile == "" {
		return 2, &exitError{"report takes a trace file and --out DIR or --player FILE.html: zabsim report run.jsonl --out report/"}
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return 2, &exitError{"report: " + err.Error()}
	}
	defer f.Close()
	tf, err := reports.ReadTrace(f)
	if err != nil {
		var te *reports.TraceError
		if errors.As(err, &te) {
			return 2, &exitError{fmt.Sprintf("%s:%d: %s", pos[0], te.Line, te.Msg)}
		}
		return 2, &exitError{fmt.Sprintf("report: %s: %v", pos[0], err)}
	}
	if tf.Header == nil { // a trace from before traces had a header: pictures, no verdict
		if *out != "" {
			if err := reports.WriteFromTraceFile(tf, *out); err != nil {
				return 2, &exitError{"report: " + err.Error()}
			}
			fmt.Fprintf(stdout, "report: %s (%d records; no header: no verdict)\n", filepath.Join(*out, "index.md"), len(tf.Records))
		}
		if *playerFile != "" {
			in := reports.PlayerInput{Records: tf.Records, End: tf.End.At, Hash: tf.End.Hash}
			if err := reports.WritePlayer(in, *playerFile); err != nil {
				return 2, &exitError{"report --player: " + err.Error()}
			}
			fmt.Fprintf(stdout, "player: %s (no header: no verdict)\n", *playerFile)
		}
		return 0, nil
	}
	res, err := scenarios.JudgeTrace(tf.Header, tf.Records, tf.End)
	if err != nil {
		return 2, &exitError{fmt.Sprintf("report: %s: %v", pos[0], err)}
	}
	res.Replay = "zabsim run --replay " + pos[0]
	verdict := "ok"
	if !res.OK {
		verdict = "FAILED"
	}
	if *out != "" {
		if err := reports.WriteJudged(tf, res, *out); err != nil {
			return 2, &exitError{"report: " + err.Error()}
		}
		fmt.Fprintf(stdout, "report: %s (%d records; verdict from the trace: %s)\n", filepath.Join(*out, "index.md"), len(tf.Records), verdict)
	}
	if *playerFile != "" {
		in := reports.PlayerInput{Records: tf.Records, End: tf.End.At, Header: tf.Header, Result: res, Hash: tf.End.Hash}
		if err := reports.WritePlayer(in, *playerFile); err != nil {
			return 2, &exitError{"report --player: " + err.Error()}
		}
		fmt.Fprintf(stdout, "player: %s (%d records; verdict from the trace: %s)\n", *playerFile, len(tf.Records), verdict)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	if !res.OK {
		return 1, nil
	}
	return 0, nil
}

// progress prints a line to stderr at most once a wall second while a run goes on.
func progress(stderr io.Writer, name string) func(sim.Time) {
	start := time.Now()
	last := start
	return func(v sim.Time) {
		if now := time.Now(); now.Sub(last) >= time.Second {
			last = now
			fmt.Fprintf(stderr, "zabsim: %s: %s virtual after %s\n", name, v, now.Sub(start).Round(time.Second))
		}
	}
}

// splitList splits a comma-separated flag value ("" is none).
func splitList(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}
