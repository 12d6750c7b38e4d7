package checker

import (
	"strings"
	"testing"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// lockHistory builds a client history of lock events: "A acquired exclusive", "B suspended",
// each one second after the one before. Clients are A=1000, B=1001, C=1002.
func lockHistory(lines ...string) []sim.Record {
	var recs []sim.Record
	for k, l := range lines {
		f := strings.Fields(l) // client event [read|write|exclusive]
		client := 1000 + int64(f[0][0]-'A')
		recipe, node := "lock", "/l/_c_"+f[0]+"-lock-000000000"+string(rune('0'+k))
		if len(f) > 2 && f[2] == "leader" {
			recipe, node = "election", "/l/_c_"+f[0]+"-n_000000000"+string(rune('0'+k))
		} else if len(f) > 2 && f[2] != "exclusive" {
			recipe, node = "rwlock", "/l/_c_"+f[0]+"-"+f[2]+"-000000000"+string(rune('0'+k))
		}
		recs = append(recs, sim.Record{At: sim.Time(k+1) * sim.Second, Kind: sim.RecModel, Node: sim.NodeID(client), Peer: -1, Conn: -1,
			Data: &model.RecipeEvent{Client: client, Recipe: recipe, Name: "/l", Event: f[1], Detail: node}})
	}
	return recs
}

// Mutual exclusion, judged by what each client was told: a holder that was told it is
// suspended (disconnected) or that released no longer counts.
func TestLockExclusion(t *testing.T) {
	for _, tc := range []struct {
		name    string
		history []string
		want    string // "" for none
	}{
		{"two exclusive holders", []string{"A acquired exclusive", "B acquired exclusive"}, "two writers"},
		{"after a release", []string{"A acquired exclusive", "A released exclusive", "B acquired exclusive"}, ""},
		{"after a suspension", []string{"A acquired exclusive", "A suspended exclusive", "B acquired exclusive"}, ""},
		{"resumed beside another", []string{"A acquired exclusive", "A suspended exclusive", "B acquired exclusive", "A resumed exclusive"}, "two writers"},
		{"two readers", []string{"A acquired read", "B acquired read"}, ""},
		{"a writer beside a reader", []string{"A acquired read", "B acquired write"}, "a writer and a reader"},
		{"a reader beside a writer", []string{"A acquired write", "B acquired read"}, "a writer and a reader"},
		{"releasing is not holding", []string{"A acquired write", "A releasing write", "B acquired read"}, ""},
		{"lost is not holding", []string{"A acquired write", "A lost write", "B acquired write"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs := Check(lockHistory(tc.history...), Options{Voters: 3})
			switch {
			case tc.want == "" && len(vs) > 0:
				t.Errorf("want none, got %v", vs)
			case tc.want != "" && (len(vs) != 1 || vs[0].Check != CheckLockExclusion || !strings.Contains(vs[0].Detail, tc.want)):
				t.Errorf("want one %s (%s), got %v", CheckLockExclusion, tc.want, vs)
			}
		})
	}
}

// The leader-election recipe: never two candidates that each believe they lead, judged
// by what each was told, like an exclusive lock.
func TestRecipeOneLeader(t *testing.T) {
	for _, tc := range []struct {
		name    string
		history []string
		want    bool
	}{
		{"two leaders", []string{"A acquired leader", "B acquired leader"}, true},
		{"after a resignation", []string{"A acquired leader", "A released leader", "B acquired leader"}, false},
		{"a suspended leader does not lead", []string{"A acquired leader", "A suspended leader", "B acquired leader"}, false},
		{"resumed beside the new leader", []string{"A acquired leader", "A suspended leader", "B acquired leader", "A resumed leader"}, true},
		{"after a lost session", []string{"A acquired leader", "A lost leader", "B acquired leader"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs := Check(lockHistory(tc.history...), Options{Voters: 3})
			switch {
			case !tc.want && len(vs) > 0:
				t.Errorf("want none, got %v", vs)
			case tc.want && (len(vs) != 1 || vs[0].Check != CheckRecipeLeader || !strings.Contains(vs[0].Detail, "two leaders")):
				t.Errorf("want one %s, got %v", CheckRecipeLeader, vs)
			}
		})
	}
}

// A lock nobody holds while a client still waits for it, after a run quiet past the
// liveness bound, is stuck; the same at the end of a short run is not judged.
func TestLockLiveness(t *testing.T) {
	o := Options{Voters: 3, Liveness: true}
	bound := LivenessBound(o)
	waiting := lockHistory("A acquired exclusive", "B acquiring exclusive", "A released exclusive")
	c := New(o)
	for i := range waiting {
		c.Observe(i, &waiting[i])
	}
	vs := c.Finish(waiting[len(waiting)-1].At + bound + sim.Second)
	found := false
	for _, v := range vs {
		if v.Check == CheckLockLiveness && strings.Contains(v.Detail, "client 1001 still waits") {
			found = true
		}
	}
	if !found {
		t.Errorf("want %s, got %v", CheckLockLiveness, vs)
	}
	c = New(o)
	for i := range waiting {
		c.Observe(i, &waiting[i])
	}
	for _, v := range c.Finish(waiting[len(waiting)-1].At + sim.Second) {
		if v.Check == CheckLockLiveness {
			t.Errorf("judged before the bound: %v", v)
		}
	}
	granted := lockHistory("A acquired exclusive", "B acquiring exclusive", "A released exclusive", "B acquired exclusive")
	c = New(o)
	for i := range granted {
		c.Observe(i, &granted[i])
	}
	for _, v := range c.Finish(granted[len(granted)-1].At + bound + sim.Second) {
		if v.Check == CheckLockLiveness {
			t.Errorf("the waiter got it: %v", v)
		}
	}
}
