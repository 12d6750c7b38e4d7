// Command zabsim runs ZooKeeper replication scenarios on a deterministic simulator.
//
//	zabsim list
//	zabsim run NAME|FILE [--seed N] [--json] [--trace FILE] [--check-determinism]
//
// Exit status: 0 every expectation and check held, 1 one failed, 2 bad input.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"zabsim/scenarios"
	"zabsim/sim"
)

const usage = `zabsim: a deterministic simulator of ZooKeeper's replication protocol (Zab)

usage:
  zabsim list                       list the built-in scenarios
  zabsim run NAME|FILE [flags]      run a scenario and check it

run flags:
  --seed N              seed of the run (default 1): same scenario + seed = same run
  --json                print one JSON object instead of the summary
  --trace FILE          write the trace as JSON Lines
  --check-determinism   run twice and report the first record where the runs differ

exit status: 0 all expectations and checks held, 1 one failed, 2 bad input
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

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
	flags, pos := splitFlags(args, map[string]bool{"json": true, "check-determinism": true})
	if err := fs.Parse(flags); err != nil {
		return 2, &exitError{"run: " + err.Error()}
	}
	if len(pos) != 1 {
		return 2, &exitError{"run takes one scenario: a built-in name (zabsim list) or a .zab file"}
	}
	script, err := scenarios.Load(pos[0])
	if err != nil {
		return 2, err
	}
	opt := scenarios.Options{Seed: *seed, Progress: progress(stderr, script.Name)}
	res, err := scenarios.Run(script, opt)
	if err != nil {
		return 2, err
	}
	code := 0
	if !res.OK {
		code = 1
	}
	if *determinism {
		second, err := scenarios.Run(script, scenarios.Options{Seed: *seed})
		if err != nil {
			return 2, err
		}
		if d := sim.FirstDifference(res.World.Trace(), second.World.Trace()); d != nil {
			fmt.Fprintf(stderr, "zabsim: NOT deterministic: %v\n", d)
			code = 1
		} else if !*asJSON {
			fmt.Fprintf(stdout, "determinism: two runs of seed %d gave the same %d records (trace %s)\n", *seed, res.World.Trace().Len(), res.TraceHash)
		}
	}
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err != nil {
			return 2, &exitError{"--trace: " + err.Error()}
		}
		werr := res.World.Trace().WriteJSONL(f)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return 2, &exitError{"--trace: " + werr.Error()}
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
