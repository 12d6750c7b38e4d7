package scenarios

import (
	"fmt"
	"runtime/debug"

	"github.com/zabsim/zabsim/checker"
	"github.com/zabsim/zabsim/sim"
)

// Version is the zabsim build that writes a trace: the module version and, for a build
// from a checkout, its commit (a run is reproduced by scenario, seed and code version).
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
		if s.Key == "vcs.modified" && s.Value == "true" {
			v += "+modified"
		}
	}
	return v
}

// Header is the opening line of the trace of s run with opt.
func Header(s *Script, opt Options) sim.TraceHeader {
	return sim.TraceHeader{Scenario: s.Name, Source: s.Source, Seed: opt.Seed, Mutants: opt.Mutants,
		Fixes: opt.Fixes, Version: Version()}
}

// Replay parses and runs again what a trace's header names.
func Replay(h *sim.TraceHeader, opt Options) (*Script, *Result, error) {
	s, err := Parse(h.Scenario+".zab", h.Source)
	if err != nil {
		return nil, nil, fmt.Errorf("the trace's scenario: %v", err)
	}
	opt.Seed, opt.Mutants, opt.Fixes = h.Seed, h.Mutants, h.Fixes
	res, err := Run(s, opt)
	return s, res, err
}

// JudgeTrace states the verdict of a saved trace: the checker reads its records (it needs
// nothing else), with the settings its header's scenario gives, and the scenario's `expect
// violation` lines say which violations were expected. A replay of the header's scenario
// gives the settings; if it reproduces the trace exactly (the same hash: the same zabsim),
// its other expectations are the trace's too, else they are not judged (a warning says so).
func JudgeTrace(h *sim.TraceHeader, records []sim.Record, end sim.TraceEnd) (*Result, error) {
	s, replay, err := Replay(h, Options{NoTrace: true})
	if err != nil {
		return nil, err
	}
	res := &Result{Scenario: h.Scenario, Seed: h.Seed, Header: s.Header, Events: end.Events, VirtualNs: int64(end.At),
		TraceHash: end.Hash, Replay: replayCommand(s, Options{Seed: h.Seed, Mutants: h.Mutants, Fixes: h.Fixes}),
		Leaders: replay.Leaders, Syncs: replay.Syncs, Linearizability: replay.Linearizability, Stopped: replay.Stopped}
	expected := map[string]Expectation{} // looked up; order kept in checks
	var checks []string
	for _, x := range replay.Expectations { // those that apply (with=/without= a fix)
		var check string
		if n, _ := fmt.Sscanf(x.Text, "expect violation %s", &check); n == 1 {
			expected[check] = Expectation{Line: x.Line, Text: x.Text, Got: "no such violation"}
			checks = append(checks, check)
		}
	}
	for _, v := range checker.Check(records, checker.OptionsFor(*replay.Ensemble.Cfg)) {
		x, ok := expected[v.Check]
		if ok {
			x.OK, x.Got = true, "violated"
			expected[v.Check] = x
		}
		res.Violations = append(res.Violations, Violation{Check: v.Check, Detail: v.Detail, AtNs: int64(v.At), Expected: ok})
	}
	if replay.TraceHash == end.Hash {
		res.Expectations = replay.Expectations                // the same run: every expectation of it holds for the trace
		res.Steps, res.Clients = replay.Steps, replay.Clients // and its lines ran when they did
	} else {
		res.Warnings = append(res.Warnings, fmt.Sprintf("a replay with this zabsim (%s) gives trace %s, not %s (written by %s): only the checks and the expected violations are judged, from the trace", Version(), replay.TraceHash, end.Hash, h.Version))
		res.Stopped = ""
		for _, c := range checks {
			res.Expectations = append(res.Expectations, expected[c])
		}
	}
	res.OK = res.Stopped == ""
	for _, x := range res.Expectations {
		if !x.OK {
			res.OK = false
		}
	}
	for _, v := range res.Violations {
		if !v.Expected {
			res.OK = false
		}
	}
	if res.Violations == nil {
		res.Violations = []Violation{}
	}
	return res, nil
}
