package checker_test

import (
	"os"
	"strings"
	"testing"

	"zabsim/checker"
	"zabsim/scenarios"
)

// runScript runs a scenario and checks its kept trace offline.
func runScript(t *testing.T, s *scenarios.Script) []checker.Violation {
	t.Helper()
	res, err := scenarios.Run(s, scenarios.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	opts := checker.OptionsFor(*res.Ensemble.Cfg)
	opts.Liveness = true
	return checker.Check(res.World.Trace().Records(), opts)
}

// Every built-in scenario of the scenario library runs ZooKeeper 3.8.6 behaviour: no
// violation.
func TestBuiltinScenariosPass(t *testing.T) {
	entries := scenarios.List()
	if len(entries) == 0 {
		t.Fatal("no built-in scenarios")
	}
	for _, e := range entries {
		t.Run(e.Name, func(t *testing.T) {
			s, err := scenarios.Builtin(e.Name)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range runScript(t, s) {
				t.Errorf("%s", v)
			}
		})
	}
}

// The ZK-4643 scenario with its mutant on: the new leader lacks the committed w4 and
// truncates it off the other server.
func TestBuiltinZK4643WithMutant(t *testing.T) {
	src, err := os.ReadFile("../scenarios/library/zk-4643-epoch-before-persist.zab")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), "ensemble 3\n") {
		t.Fatal("the scenario no longer starts with `ensemble 3`")
	}
	ms, err := scenarios.Parse("zk-4643-mutant.zab", strings.Replace(string(src), "ensemble 3\n", "ensemble 3\nmutant ZK-4643\n", 1))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, v := range runScript(t, ms) {
		got[v.Check] = true
	}
	for _, want := range []string{checker.CheckLeaderLogCompleteness, checker.CheckCommittedLogDurability} {
		if !got[want] {
			t.Errorf("no %s violation with the mutant (got %v)", want, got)
		}
	}
}
