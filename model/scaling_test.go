package model

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/zabsim/zabsim/sim"
)

// BenchmarkScaling measures the cost of one event (one op = one World.Step) in a steady
// client workload (70% reads, 10 operations a second per client, up to 4 in flight), over
// the ensemble's size with 10 clients, and over the number of clients with 5 servers. The
// cost per event should stay flat (within 2x): what grows with the ensemble or the clients
// is the number of events, not the work of each. Reports ns/event and allocs/event; the
// set-up (election, sessions, five virtual seconds of warm-up) is not timed. Over servers it
// holds (the cost falls); over clients it does not: at 10,000 clients an event costs 2 to 3
// times what it does at 10 for 1.4 times the instructions, the rest cache misses on the
// state of the client each event is about, and a queue of 30,000 events, not 50.
func BenchmarkScaling(b *testing.B) {
	type size struct{ servers, clients int }
	var sizes []size
	for _, n := range []int{3, 5, 9, 17, 33, 65, 99} {
		sizes = append(sizes, size{n, 10})
	}
	for _, c := range []int{100, 1000, 10000} {
		sizes = append(sizes, size{5, c})
	}
	for _, sz := range sizes {
		b.Run(fmt.Sprintf("servers=%d/clients=%d", sz.servers, sz.clients), func(b *testing.B) {
			w := sim.MustWorld(sim.Config{Seed: 1, NoTrace: true})
			e, err := NewEnsemble(w, Config{Servers: sz.servers})
			if err != nil {
				b.Fatal(err)
			}
			e.StartAll()
			if !e.AwaitStable(120 * sim.Second) {
				b.Fatal("no leader")
			}
			wl, err := NewWorkload(e, WorkloadConfig{Clients: sz.clients, Rate: 10, ReadFraction: 0.7, MaxOutstanding: 4})
			if err != nil {
				b.Fatal(err)
			}
			if err := wl.Start(); err != nil {
				b.Fatal(err)
			}
			w.RunFor(5 * sim.Second) // sessions, the root, the keys: then a steady load
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if !w.Step() {
					b.Fatal("nothing pending")
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&m1)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N), "allocs/event")
			b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(b.N), "B/event")
		})
	}
}
