package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/zabsim/zabsim/registry"
	"github.com/zabsim/zabsim/reports"
	"github.com/zabsim/zabsim/scenarios"
)

// cmdCompare runs one scenario against every registry (zookeeper, eureka, nacos-ap,
// nacos-cp) with the same seed, prints the comparison table and each registry's broken
// promises, and with --out draws the timelines. Exit 1 when a promise is broken.
func cmdCompare(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	seed := fs.Uint64("seed", 1, "")
	out := fs.String("out", "", "")
	list := fs.Bool("list", false, "")
	flags, pos := splitFlags(args, map[string]bool{"list": true})
	if err := fs.Parse(flags); err != nil {
		return 0, &exitError{"compare: " + err.Error()}
	}
	if *list {
		for _, e := range scenarios.CompareList() {
			fmt.Fprintf(stdout, "%-20s %s\n", e.Name, e.Summary)
		}
		return 0, nil
	}
	if len(pos) != 1 {
		return 0, &exitError{"compare takes one scenario: a built-in (zabsim compare --list) or a file"}
	}
	s, err := scenarios.LoadCompare(pos[0])
	if err != nil {
		return 0, &exitError{err.Error()}
	}
	cmp, err := scenarios.Compare(s, scenarios.Options{Seed: *seed})
	if err != nil {
		return 0, &exitError{err.Error()}
	}
	fmt.Fprintf(stdout, "comparison %s (seed %d)\n\n%s\n", s.Name, *seed, cmp.Table())
	code := 0
	for i, m := range cmp.Metrics {
		res := cmp.Runs[i]
		var broken []string
		if !res.OK {
			broken = append(broken, fmt.Sprintf("%s: the scenario failed (%s)", m.Kind, strings.TrimSpace(res.Stopped)))
		}
		for _, v := range res.Violations {
			if !v.Expected {
				broken = append(broken, fmt.Sprintf("%s: %s: %s", m.Kind, v.Check, v.Detail))
			}
		}
		broken = append(broken, registry.Promises(m, cmp.Servers, true)...)
		for _, b := range broken {
			fmt.Fprintln(stdout, "BROKEN", b)
			code = 1
		}
	}
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return 0, err
		}
		for _, f := range []reports.Format{reports.PNG, reports.SVG} {
			file := filepath.Join(*out, "compare-"+s.Name+"."+string(f))
			w, err := os.Create(file)
			if err != nil {
				return 0, err
			}
			err = reports.Comparison(w, "zabsim compare "+s.Name+" --seed "+fmt.Sprint(*seed), cmp.Metrics, f)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return 0, err
			}
			fmt.Fprintln(stdout, "wrote", file)
		}
	}
	return code, nil
}
