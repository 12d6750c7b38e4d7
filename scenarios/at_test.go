package scenarios

import (
	"strings"
	"testing"

	"github.com/zabsim/zabsim/sim"
)

// An `at T CMD` line forks a run: up to T the run is the run without it, record for
// record (the run player writes such lines), and CMD happens at T.
func TestAtForksAtItsTime(t *testing.T) {
	s, err := Builtin("leader-crash-trunc")
	if err != nil {
		t.Fatal(err)
	}
	orig, err := Run(s, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	recs := orig.World.Trace().Records()
	// fork in the middle of the first await leader's election: crash 1 there
	k := len(recs) / 5
	at := recs[k].At
	var step Step
	for _, st := range orig.Steps {
		if st.From <= k && k < st.To {
			step = st
		}
	}
	if step.Line == 0 {
		t.Fatalf("no line was running at record %d", k)
	}
	lines := strings.Split(s.Source, "\n")
	fork := strings.Join(lines[:step.Line-1], "\n") + "\nat " + at.String() + " crash 1\n" + strings.Join(lines[step.Line-1:], "\n")
	fs, err := Parse("fork.zab", fork)
	if err != nil {
		t.Fatalf("%v\n%s", err, fork)
	}
	res, err := Run(fs, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := res.World.Trace().Records()
	i := 0
	for ; i < len(recs) && recs[i].At <= at; i++ {
		if i >= len(got) || got[i].String() != recs[i].String() {
			t.Fatalf("record %d differs before the fork at %s:\n  run:  %s\n  fork: %v", i, at, recs[i].String(), got[i].String())
		}
	}
	if i >= len(got) || got[i].Kind != sim.RecCrash || got[i].Node != 1 || got[i].At != at {
		t.Fatalf("record %d of the fork is %v, want server 1's crash at %s", i, got[i].String(), at)
	}
	fired := false
	for _, st := range res.Steps {
		fired = fired || st.Fired && st.Text == "crash 1" && st.FromNs == int64(at)
	}
	if !fired {
		t.Errorf("no fired step for the at line: %+v", res.Steps)
	}
}

func TestAtRefusals(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"ensemble 3\nstart all\nat 1s write 2\n", "at takes a virtual time and a fault"},
		{"ensemble 3\nstart all\nat soon crash 1\n", "at soon"},
		{"ensemble 3\nstart all\nat 1s crash 9\n", "server 9"},
		{"ensemble 3\nstart all\nat 1s clog 1 -> 2 for=2s bogus=1\n", "unknown option"},
	} {
		_, err := Parse("t.zab", tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error with %q", tc.src, err, tc.want)
		}
	}
	// in the past when its line is reached: bad input, naming the line
	s, err := Parse("t.zab", "ensemble 3\nstart all\nawait leader\nat 1ms crash 1\nrun 1s\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(s, Options{Seed: 1, NoTrace: true}); err == nil || !strings.Contains(err.Error(), "t.zab:4: at 1ms: the run is already at") {
		t.Errorf("got %v", err)
	}
	// one that never comes: a warning
	s, _ = Parse("t.zab", "ensemble 3\nstart all\nat 1h crash 1\nawait leader\n")
	res, err := Run(s, Options{Seed: 1, NoTrace: true})
	if err != nil || len(res.Warnings) == 0 || !strings.Contains(res.Warnings[len(res.Warnings)-1], "line 3: crash 1 never ran") {
		t.Errorf("got %v %v", err, res.Warnings)
	}
}
