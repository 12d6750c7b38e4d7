package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zabsim/zabsim/scenarios"
)

// cmdMerge sums the JSON summaries of explore's shards (`zabsim explore --shard i/n --json`,
// one file each, from one machine or a cluster) into the summary of one unsharded run:
// counts, failures in seed order, failures by check and by class. Every shard of the range
// must be there once, with the same configuration.
func cmdMerge(args []string, stdout io.Writer) (int, error) {
	asJSON := false
	var files []string
	for _, a := range args {
		if a == "--json" || a == "-json" {
			asJSON = true
			continue
		}
		if strings.HasPrefix(a, "-") {
			return 2, &exitError{fmt.Sprintf("merge: unknown flag %q (merge takes the shards' JSON files and --json)", a)}
		}
		files = append(files, a)
	}
	if len(files) == 0 {
		return 2, &exitError{"merge takes the JSON summaries of explore's shards: zabsim merge shard-*.json"}
	}
	var all exploreReport
	seen := map[int]string{}
	n := 0
	for k, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return 2, &exitError{"merge: " + err.Error()}
		}
		var r exploreReport
		if err := json.Unmarshal(b, &r); err != nil {
			return 2, &exitError{fmt.Sprintf("merge: %s: not an explore --json summary: %v", f, err)}
		}
		i, sn, err := parseShard(r.Shard)
		if err != nil {
			return 2, &exitError{fmt.Sprintf("merge: %s: shard %q: not i/n", f, r.Shard)}
		}
		if k == 0 {
			all = exploreReport{First: r.First, Seeds: r.Seeds, Shard: "merged", Config: r.Config, Syncs: map[string]int{}, Classes: []exploreClass{}, Failures: []exploreFailure{}}
			n = sn
		}
		switch {
		case sn != n || r.First != all.First || r.Seeds != all.Seeds:
			return 2, &exitError{fmt.Sprintf("merge: %s is shard %s of seeds %d+%d, not of the same %d shards of seeds %d+%d", f, r.Shard, r.First, r.Seeds, n, all.First, all.Seeds)}
		case r.Config != all.Config:
			return 2, &exitError{fmt.Sprintf("merge: %s explored %q, the others %q", f, r.Config, all.Config)}
		case seen[i] != "":
			return 2, &exitError{fmt.Sprintf("merge: shard %d/%d twice: %s and %s", i, n, seen[i], f)}
		}
		seen[i] = f
		all.Schedules += r.Schedules
		all.Failing += r.Failing
		all.Events += r.Events
		all.VirtualNs += r.VirtualNs
		all.Seconds += r.Seconds
		all.Leaders += r.Leaders
		all.Interrupted = all.Interrupted || r.Interrupted
		for m, c := range r.Syncs {
			all.Syncs[m] += c
		}
		all.Failures = append(all.Failures, r.Failures...)
		for _, c := range r.Classes {
			all.Classes = mergeClass(all.Classes, c)
		}
	}
	var missing []string
	for i := 1; i <= n; i++ {
		if seen[i] == "" {
			missing = append(missing, strconv.Itoa(i))
		}
	}
	if len(missing) > 0 {
		return 2, &exitError{fmt.Sprintf("merge: shards %s of %d are missing", strings.Join(missing, ", "), n)}
	}
	slices.SortFunc(all.Failures, func(a, b exploreFailure) int { return cmpUint(a.Seed, b.Seed) })
	// An unsharded run meets the classes in seed order; the first failure's wall time is
	// its own shard's, from that shard's start.
	slices.SortFunc(all.Classes, func(a, b exploreClass) int { return cmpUint(a.FirstSeed, b.FirstSeed) })
	if len(all.Classes) > 0 {
		all.FirstSeed, all.FirstWall = all.Classes[0].FirstSeed, all.Classes[0].FirstWall
	}
	code := 0
	if all.Failing > 0 {
		code = 1
	}
	if asJSON {
		return code, json.NewEncoder(stdout).Encode(all)
	}
	fmt.Fprintf(stdout, "merged %d shards: %d schedules (seeds %d-%d), %s of work, %s virtual, %d events: %d failing\n",
		n, all.Schedules, all.First, all.First+uint64(all.Seeds)-1, time.Duration(all.Seconds*float64(time.Second)).Round(time.Second),
		time.Duration(all.VirtualNs).Round(time.Second), all.Events, all.Failing)
	fmt.Fprintf(stdout, "exercised: %d epochs established; syncs", all.Leaders)
	for _, m := range scenarios.SyncModes {
		fmt.Fprintf(stdout, " %s %d", m, all.Syncs[m])
	}
	fmt.Fprintln(stdout)
	for _, f := range unclassifiedFirst(all.Failures) {
		fmt.Fprintf(stdout, "seed %d: %s [%s]: %s\n  %s\n", f.Seed, f.Check, f.Class, f.Detail, f.File)
	}
	if all.Failing > 1 {
		fmt.Fprintf(stdout, "by check: %s\n", byCheck(all.Failures, func(f exploreFailure) string { return f.Check }))
		fmt.Fprintf(stdout, "by class: %s\n", byCheck(all.Failures, func(f exploreFailure) string { return f.Class }))
		fmt.Fprint(stdout, bySignature(all.Failures))
	}
	return code, nil
}

// mergeClass adds one shard's figures for a class: the counts sum, and the first failure is
// the one with the lowest seed.
func mergeClass(cs []exploreClass, c exploreClass) []exploreClass {
	for i := range cs {
		if cs[i].Class != c.Class {
			continue
		}
		n := cs[i].Failing + c.Failing
		if c.FirstSeed < cs[i].FirstSeed {
			cs[i] = c
		}
		cs[i].Failing = n
		return cs
	}
	return append(cs, c)
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// unclassifiedFirst orders failures with the ones no documented class explains first: what
// nobody has looked at yet is what a reader wants to see.
func unclassifiedFirst(fs []exploreFailure) []exploreFailure {
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(a, b exploreFailure) int {
		ua, ub := a.Class == "unclassified", b.Class == "unclassified"
		switch {
		case ua && !ub:
			return -1
		case ub && !ua:
			return 1
		}
		return 0
	})
	return out
}
