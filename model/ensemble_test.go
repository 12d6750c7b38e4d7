package model

import (
	"testing"

	"github.com/zabsim/zabsim/sim"
)

func newEnsemble(t testing.TB, seed uint64, cfg Config) *Ensemble {
	t.Helper()
	w, err := sim.NewWorld(sim.Config{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEnsemble(w, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestThreeServersStartedTogetherElectHighestSid(t *testing.T) {
	e := newEnsemble(t, 1, Config{Servers: 3})
	e.StartAll()
	if !e.AwaitStable(30 * sim.Second) {
		dumpStates(t, e)
		t.Fatal("no stable leader within 30s")
	}
	if l := e.Leader(); l.Sid() != 3 {
		t.Fatalf("leader = %d, want 3", l.Sid())
	}
	if err := e.WriteAndWait(1, 5, 10*sim.Second); err != nil {
		t.Fatal(err)
	}
	e.W.RunFor(sim.Second)
	for _, s := range e.Servers {
		if got := s.LastProcessedZxid(); got != MakeZxid(1, 6) {
			t.Errorf("server %d lastProcessedZxid = %s, want 0x100000006", s.Sid(), got)
		}
	}
}

func dumpStates(t testing.TB, e *Ensemble) {
	t.Helper()
	for _, s := range e.Servers {
		t.Logf("server %d up=%v state=%s phase=%s epoch=%d/%d zxid=%s", s.Sid(), s.Up(), s.State(), s.Phase(),
			s.AcceptedEpoch(), s.CurrentEpoch(), s.LastProcessedZxid())
	}
	recs := e.W.Trace().Records()
	from := max(0, len(recs)-60)
	for _, r := range recs[from:] {
		t.Log(r.String())
	}
}
