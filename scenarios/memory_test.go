package scenarios

import (
	"fmt"
	"reflect"
	"runtime"
	"testing"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// idleRun runs an ensemble that elects a leader and then idles for d (pings, session
// ticks, nothing else), as `zabsim run` does without --trace or --report, and returns the
// result and the live heap after it (the result still reachable).
func idleRun(t testing.TB, d sim.Time, noTrace bool) (*Result, uint64) {
	s, err := Parse("idle.zab", fmt.Sprintf("ensemble 3\nstart all\nawait leader\nclient A servers={1,2,3}\nrun %s\n", d))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(s, Options{Seed: 1, NoTrace: noTrace})
	if err != nil {
		t.Fatal(err)
	}
	return res, liveHeap(res)
}

// liveHeap is the heap in use after a collection, keeping keep alive.
func liveHeap(keep any) uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	runtime.KeepAlive(keep)
	return m.HeapAlloc
}

// Issue 14: a run without a kept trace holds what the run needs, not what it did: eight
// times longer an idle run, the same heap (it was about 280 bytes an event).
func TestIdleRunMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 16 virtual hours")
	}
	base := liveHeap(nil)
	short, h1 := idleRun(t, 2*3600*sim.Second, true)
	long, h8 := idleRun(t, 16*3600*sim.Second, true)
	perEvent := (float64(h8) - float64(h1)) / float64(long.Events-short.Events)
	t.Logf("2h: %d events, heap +%d KB; 16h: %d events, heap +%d KB: %.2f B per extra event",
		short.Events, (int64(h1)-int64(base))/1024, long.Events, (int64(h8)-int64(base))/1024, perEvent)
	if long.Events < 7*short.Events {
		t.Fatalf("the long run has %d events, the short %d", long.Events, short.Events)
	}
	if perEvent > 2 {
		t.Errorf("the heap grows by %.2f bytes per event of an idle run (want ~0)", perEvent)
	}
}

// BenchmarkIdleRun: bytes allocated and retained per event of an idle run, with the trace
// kept (--report) and not (plain `zabsim run`, or --trace, which streams it). The retained
// bytes per event stay at ~0 as the run grows without a kept trace.
//
//	go test ./scenarios -run XXX -bench IdleRun -benchmem
func BenchmarkIdleRun(b *testing.B) {
	for _, kept := range []bool{false, true} {
		for _, hours := range []sim.Time{1, 4, 16} {
			b.Run(fmt.Sprintf("kept=%v/%dh", kept, hours), func(b *testing.B) {
				var events uint64
				var retained float64
				for range b.N {
					base := liveHeap(nil)
					res, h := idleRun(b, hours*3600*sim.Second, !kept)
					events += res.Events
					retained += float64(h) - float64(base)
				}
				b.ReportMetric(float64(events)/float64(b.N), "events/op")
				b.ReportMetric(retained/float64(events), "retained-B/event")
				b.ReportMetric(retained/float64(b.N)/1024, "retained-KB")
			})
		}
	}
}

// The checker grows its arrays (histories, G, the operations of the linearizability check)
// in the run's Memory: each run in one Memory judges a failing schedule as a run in memory
// of its own does, and the next run takes the same arrays again.
func TestCheckerGrowsInTheMemory(t *testing.T) {
	cfg := ExploreConfig{Servers: 3, Mutants: []string{"ZK-2845"}}
	var s *Script
	var want *Result
	for seed := uint64(1); want == nil || len(want.Violations) == 0; seed++ {
		if seed > 50 {
			t.Fatal("no failing schedule in seeds 1 to 50")
		}
		var err error
		if s, err = Parse("c.zab", Generate(seed, cfg)); err != nil {
			t.Fatal(err)
		}
		if want, err = Run(s, Options{Seed: seedOf(s), NoTrace: true, NoHash: true}); err != nil {
			t.Fatal(err)
		}
	}
	m := model.NewMemory()
	made := 0
	for i := range 3 {
		got, err := Run(s, Options{Seed: seedOf(s), NoTrace: true, NoHash: true, Memory: m})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Violations, want.Violations) {
			t.Fatalf("run %d in a Memory: %+v, want %+v", i, got.Violations, want.Violations)
		}
		n, out := sim.Pool[model.Zxid](m.World()).Made()
		if i == 0 {
			made = n
		}
		if n == 0 || out == 0 || n != made {
			t.Fatalf("run %d: the checker's pool of zxid arrays made %d arrays (%d handed out); the first run %d", i, n, out, made)
		}
		m.Reset()
	}
}
