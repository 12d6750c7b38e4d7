package model

import (
	"testing"

	"github.com/zabsim/zabsim/sim"
)

// runWorkload runs 8 clients for a minute of server crashes, then a quiet spell.
func runWorkload(t *testing.T, seed uint64) (*Ensemble, *Workload) {
	t.Helper()
	e, _ := stableEnsemble(t, seed, Config{Servers: 5})
	wl, err := NewWorkload(e, WorkloadConfig{Clients: 8, Rate: 30, Client: ClientConfig{SessionTimeout: 8 * sim.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if err := wl.Start(); err != nil {
		t.Fatal(err)
	}
	chaos(e, 2, e.W.Now()+60*sim.Second)
	e.W.RunFor(60 * sim.Second)
	restartAll(e)
	mustStable(t, e, 60*sim.Second)
	e.W.RunFor(15 * sim.Second)
	wl.Stop()
	e.W.RunFor(20 * sim.Second)
	return e, wl
}

// TestWorkloadHistoryIsWellFormed: under crashes, the client records make a history the
// checker can judge: every call has exactly one return (the cluster is healthy at the end),
// with the same operation; a client's reply zxids never go back, even across reconnects;
// every value written is unique and every value read was written; and the servers end with
// the same tree. The run is deterministic.
func TestWorkloadHistoryIsWellFormed(t *testing.T) {
	e, wl := runWorkload(t, 61)
	type key struct {
		client int64
		xid    int32
	}
	calls := map[key]*ClientCall{}
	returned := map[key]bool{}
	written := map[string]bool{"": true}
	lastZxid := map[int64]Zxid{}
	for _, r := range e.W.Trace().Records() {
		switch d := r.Data.(type) {
		case *ClientCall:
			k := key{d.Client, d.Xid}
			if calls[k] != nil {
				t.Fatalf("two calls %v", k)
			}
			calls[k] = d
			var vals []string
			switch d.Op {
			case OpCreate, OpSetData:
				vals = append(vals, d.Data)
			case OpMulti:
				for _, op := range d.Ops {
					vals = append(vals, op.Data)
				}
			}
			for _, v := range vals {
				if written[v] && v != "" {
					t.Fatalf("value %q written twice", v)
				}
				written[v] = true
			}
		case *ClientReturn:
			k := key{d.Client, d.Xid}
			c := calls[k]
			if c == nil || returned[k] || c.Op != d.Op || c.Path != d.Path {
				t.Fatalf("return %s without its call, or twice", r.String())
			}
			returned[k] = true
			if d.Zxid != 0 {
				if d.Zxid < lastZxid[d.Client] {
					t.Fatalf("client %d: reply at %s after one at %s", d.Client, d.Zxid, lastZxid[d.Client])
				}
				lastZxid[d.Client] = d.Zxid
			}
			if d.Op == OpGetData && d.Err == ErrOK && !written[d.Data] {
				t.Fatalf("read %q, which nobody wrote", d.Data)
			}
		}
	}
	if len(calls) != len(returned) {
		t.Fatalf("%d calls, %d returns", len(calls), len(returned))
	}
	if wl.Completed < 5000 {
		t.Errorf("only %d calls completed", wl.Completed)
	}
	t.Logf("issued %d, completed %d (reads %d, writes %d); errors %v", wl.Issued, wl.Completed, wl.Reads, wl.Writes, wl.Errors())
	ref := e.Leader()
	keys, _, _ := ref.Tree().GetChildren("/wl")
	for _, s := range e.Servers {
		kids, _, _ := s.Tree().GetChildren("/wl")
		if len(kids) != len(keys) {
			t.Fatalf("server %d has %d children of /wl, leader %d", s.Sid(), len(kids), len(keys))
		}
		for _, k := range keys {
			d1, st1, _ := ref.Tree().GetData("/wl/" + k)
			d2, st2, _ := s.Tree().GetData("/wl/" + k)
			if d1 != d2 || st1 != st2 {
				t.Fatalf("server %d /wl/%s = %q %+v, leader %q %+v", s.Sid(), k, d2, st2, d1, st1)
			}
		}
	}
	e2, _ := runWorkload(t, 61)
	if e.W.Trace().Hash() != e2.W.Trace().Hash() {
		t.Fatal(sim.FirstDifference(e.W.Trace(), e2.W.Trace()))
	}
}
