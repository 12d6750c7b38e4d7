package checker

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// run is an ensemble with a checker attached online.
type run struct {
	t    testing.TB
	e    *model.Ensemble
	w    *sim.World
	c    *Checker
	opts Options
}

func newRun(t testing.TB, seed uint64, cfg model.Config) *run {
	t.Helper()
	return newRunWorld(t, sim.Config{Seed: seed}, cfg)
}

func newRunWorld(t testing.TB, wc sim.Config, cfg model.Config) *run {
	t.Helper()
	w, err := sim.NewWorld(wc)
	if err != nil {
		t.Fatal(err)
	}
	e, err := model.NewEnsemble(w, cfg)
	if err != nil {
		t.Fatal(err)
	}
	opts := OptionsFor(*e.Cfg)
	opts.Liveness = true
	opts.LinearizabilityReads = true // the tests judge the stronger history, reads included
	c := New(opts)
	c.Attach(w.Trace())
	return &run{t: t, e: e, w: w, c: c, opts: opts}
}

// finish returns the online verdict, after checking that the offline Check of the kept
// trace gives exactly the same.
func (r *run) finish() []Violation {
	r.t.Helper()
	online := r.c.Finish(r.w.Now())
	recs := r.w.Trace().Records()
	offline := New(r.opts)
	for i := range recs {
		offline.Observe(i, &recs[i])
	}
	off := offline.Finish(r.w.Now())
	if fmt.Sprint(online) != fmt.Sprint(off) {
		r.t.Fatalf("online and offline verdicts differ:\n online: %v\noffline: %v", online, off)
	}
	return online
}

// mustPass fails the test unless the run has no violation.
func (r *run) mustPass() {
	r.t.Helper()
	if vs := r.finish(); len(vs) > 0 {
		for _, v := range vs {
			r.t.Errorf("%s", v)
			for _, i := range v.Records {
				r.t.Logf("  record %d: %s", i, r.w.Trace().Records()[i].String())
			}
		}
	}
}

func (r *run) mustStable(within sim.Time) *model.Server {
	r.t.Helper()
	if !r.e.AwaitStable(within) {
		for _, s := range r.e.Servers {
			r.t.Logf("server %d up=%v state=%s phase=%s zxid=%s", s.Sid(), s.Up(), s.State(), s.Phase(), s.LastProcessedZxid())
		}
		r.t.Fatalf("no stable leader within %s", within)
	}
	return r.e.Leader()
}

// crash kills server sid's process.
func (r *run) crash(sid int64) {
	r.t.Helper()
	if err := r.w.Crash(sim.NodeID(sid)); err != nil {
		r.t.Fatal(err)
	}
}

// crashHost stops server sid's host: its unsynced writes are lost, and nothing more leaves it.
func (r *run) crashHost(sid int64) {
	r.t.Helper()
	if err := r.w.CrashAs(sim.NodeID(sid), sim.HostLoss); err != nil {
		r.t.Fatal(err)
	}
}

func (r *run) restart(sid int64) {
	r.t.Helper()
	if err := r.w.Restart(sim.NodeID(sid)); err != nil {
		r.t.Fatal(err)
	}
}

// write issues n writes through via, once via serves.
func (r *run) write(via int64, n int) {
	r.t.Helper()
	s := r.e.Server(via)
	if !r.w.RunUntilCond(s.Serving, r.w.Now()+60*sim.Second) {
		r.t.Fatalf("server %d is not serving", via)
	}
	if err := r.e.WriteAndWait(via, n, 10*sim.Second); err != nil {
		r.t.Fatal(err)
	}
}

func ids(sids ...int64) []sim.NodeID {
	out := make([]sim.NodeID, len(sids))
	for i, s := range sids {
		out[i] = sim.NodeID(s)
	}
	return out
}

// lastOf returns the last model record of type T that matches keep, or nil.
func lastOf[T any](w *sim.World, keep func(T) bool) (T, int) {
	recs := w.Trace().Records()
	for i := len(recs) - 1; i >= 0; i-- {
		if v, ok := recs[i].Data.(T); ok && (keep == nil || keep(v)) {
			return v, i
		}
	}
	var zero T
	return zero, -1
}

// runUntilRecord runs until a record satisfying f has been appended (or within passes).
func runUntilRecord(w *sim.World, within sim.Time, f func(*sim.Record) bool) bool {
	seen := false
	tr := w.Trace()
	tr.Observers = append(tr.Observers, func(r *sim.Record) {
		if !seen && f(r) {
			seen = true
		}
	})
	n := len(tr.Observers) - 1
	ok := w.RunUntilCond(func() bool { return seen }, w.Now()+within)
	tr.Observers = slices.Delete(tr.Observers, n, n+1)
	return ok
}

// checks lists the distinct check names of vs.
func checks(vs []Violation) []string {
	var out []string
	for _, v := range vs {
		if !slices.Contains(out, v.Check) {
			out = append(out, v.Check)
		}
	}
	slices.Sort(out)
	return out
}

// mustFind fails unless vs holds a violation of check whose detail contains every part.
func mustFind(t testing.TB, vs []Violation, check string, parts ...string) Violation {
	t.Helper()
	for _, v := range vs {
		if v.Check != check {
			continue
		}
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(v.Detail, p)
		}
		if ok {
			return v
		}
	}
	t.Fatalf("no %s violation mentioning %q in:\n%s", check, parts, vsText(vs))
	return Violation{}
}

func vsText(vs []Violation) string {
	var b strings.Builder
	for _, v := range vs {
		b.WriteString("  " + v.String() + "\n")
	}
	if len(vs) == 0 {
		b.WriteString("  (none)\n")
	}
	return b.String()
}

// trace builds a hand-made trace: model records and packets at given times.
type trace struct {
	recs []sim.Record
	at   sim.Time
}

func (b *trace) tick() *trace { b.at += sim.Millisecond; return b }

func (b *trace) add(kind sim.RecordKind, node, peer int64, data sim.Message) int {
	b.recs = append(b.recs, sim.Record{At: b.at, Kind: kind, Node: sim.NodeID(node), Peer: sim.NodeID(peer), Conn: -1, Data: data})
	return len(b.recs) - 1
}

func (b *trace) model(sid int64, data sim.Message) int { return b.add(sim.RecModel, sid, -1, data) }

func (b *trace) start(sids ...int64) {
	for _, s := range sids {
		b.add(sim.RecStart, s, -1, nil)
		b.model(s, &model.Loaded{Sid: s, From: "disk"})
	}
}

func (b *trace) state(sid int64, st model.ServerState, ph model.ZabPhase, epoch int64) int {
	return b.model(sid, &model.StateChange{Sid: sid, State: st, Phase: ph, Epoch: epoch})
}

func txn(epoch, counter int64, data string) *model.Txn {
	z := model.MakeZxid(epoch, counter)
	return &model.Txn{Zxid: z, Type: model.OpCreate, Path: "/t" + z.String(), Data: data}
}

func (b *trace) propose(sid int64, t *model.Txn) int {
	return b.model(sid, &model.Proposed{Sid: sid, Txn: t})
}

func (b *trace) logged(sid int64, t *model.Txn) int {
	return b.model(sid, &model.Logged{Sid: sid, Zxid: t.Zxid, Hash: t.Hash()})
}

func (b *trace) commit(sid int64, t *model.Txn) int {
	return b.model(sid, &model.Committed{Sid: sid, Zxid: t.Zxid, Hash: t.Hash(), How: "commit"})
}

func (b *trace) check(opts Options) []Violation { return Check(b.recs, opts) }

func hist(ts ...*model.Txn) []model.ZxidHash {
	out := make([]model.ZxidHash, len(ts))
	for i, t := range ts {
		out[i] = model.ZxidHash{Zxid: t.Zxid, Hash: t.Hash()}
	}
	return out
}
