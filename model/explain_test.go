package model

import (
	"bytes"
	"strings"
	"testing"

	"github.com/zabsim/zabsim/sim"
)

// Explanations are made only when something will read them (a kept trace, a trace file):
// without, each keeps its place as a record without payload, so that every other record
// has the same number and the run the same hash; notifications carry no Why.
func TestExplanationsOnlyWhenRead(t *testing.T) {
	type rec struct {
		kind    sim.RecordKind
		noData  bool
		why     bool // a notification that says why it was sent
		quorums int  // an ElectionDone's quorums seen
	}
	run := func(keep, file bool) ([]rec, string, string) {
		w := sim.MustWorld(sim.Config{Seed: 3, NoTrace: !keep})
		var out bytes.Buffer
		if file {
			if err := sim.NewJSONLWriter(&out).Attach(w.Trace()); err != nil {
				t.Fatal(err)
			}
		}
		var recs []rec
		w.Trace().Observers = append(w.Trace().Observers, func(r *sim.Record) {
			n, ok := r.Data.(*Notification)
			x := rec{kind: r.Kind, noData: r.Data == nil, why: ok && n.Why != nil}
			if d, ok := r.Data.(*ElectionDone); ok {
				x.quorums = len(d.Quorums)
			}
			recs = append(recs, x)
		})
		e, err := NewEnsemble(w, Config{Servers: 5})
		if err != nil {
			t.Fatal(err)
		}
		e.StartAll()
		if !e.AwaitStable(30 * sim.Second) {
			t.Fatal("no leader")
		}
		if err := w.Crash(e.Leader().nid); err != nil { // a second election, with servers that already voted
			t.Fatal(err)
		}
		if !e.AwaitStable(60 * sim.Second) {
			t.Fatal("no leader after the crash")
		}
		return recs, w.Trace().HashString(), out.String()
	}
	kept, keptHash, _ := run(true, false)
	bare, bareHash, _ := run(false, false)
	filed, _, text := run(false, true)
	if keptHash != bareHash || len(kept) != len(bare) {
		t.Fatalf("kept: %d records, hash %s; not kept: %d, hash %s", len(kept), keptHash, len(bare), bareHash)
	}
	explained, whys, quorums := 0, 0, 0
	for i := range kept {
		k, b, f := kept[i], bare[i], filed[i]
		if k.kind != b.kind || k != f {
			t.Fatalf("record %d: kept %+v, not kept %+v, written %+v", i, k, b, f)
		}
		if k.kind == sim.RecExplain {
			explained++
			if k.noData || !b.noData {
				t.Fatalf("record %d, an explanation: payload kept %v, not kept %v", i, !k.noData, !b.noData)
			}
		}
		if k.why {
			whys++
		}
		quorums += k.quorums
		if b.why || b.quorums > 0 {
			t.Fatalf("record %d: a notification or an election explains itself in a run nobody reads", i)
		}
	}
	if explained == 0 || whys == 0 || quorums == 0 {
		t.Fatalf("%d explanations, %d notifications with a why, %d quorums: the elections explained nothing", explained, whys, quorums)
	}
	if !strings.Contains(text, `"kind":"explain"`) || !strings.Contains(text, `"Why":`) {
		t.Fatalf("the trace file lacks the explanations:\n%s", text[:min(len(text), 2000)])
	}
}
