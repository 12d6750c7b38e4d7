package model

import (
	"testing"
	"time"

	"github.com/zabsim/zabsim/sim"
)

// BenchmarkSteadyStateWrites: 5 servers, setData writes on 100 keys issued through every server in turn with
// 10 in flight. Reports simulation events per wall second and virtual seconds per wall
// second; one op is one acknowledged write.
func BenchmarkSteadyStateWrites(b *testing.B) {
	w := sim.MustWorld(sim.Config{Seed: 1, NoTrace: true})
	e, err := NewEnsemble(w, Config{Servers: 5})
	if err != nil {
		b.Fatal(err)
	}
	e.StartAll()
	if !e.AwaitStable(30 * sim.Second) {
		b.Fatal("no leader")
	}
	// 100 keys, then setData on them in turn: the tree stays the same size.
	if err := e.WriteAndWait(1, 100, 10*sim.Second); err != nil {
		b.Fatal(err)
	}
	const inFlight = 10
	done, issued := 0, 0
	next := int64(1)
	var issue func()
	issue = func() {
		via := next
		next = next%5 + 1
		issued++
		req := &Request{Op: OpSetData, Path: "/zabsim/w" + itoa(int64(1+issued%100)), Data: "v" + itoa(int64(issued)), Version: -1}
		e.submit(e.Server(via), req, func(rc int32, _ Zxid) {
			if rc != ErrOK {
				b.Fatalf("write failed: %d", rc)
			}
			done++
			if issued < b.N {
				issue()
			}
		})
	}
	startEvents, startVirtual := w.Events(), w.Now()
	b.ReportAllocs()
	b.ResetTimer()
	wall := time.Now()
	for i := 0; i < inFlight && issued < b.N; i++ {
		issue()
	}
	if !w.RunUntilCond(func() bool { return done == b.N }, sim.Never) {
		b.Fatalf("only %d of %d writes done", done, b.N)
	}
	elapsed := time.Since(wall).Seconds()
	b.StopTimer()
	events := float64(w.Events() - startEvents)
	virtual := (w.Now() - startVirtual).Seconds()
	b.ReportMetric(events/elapsed, "events/s")
	b.ReportMetric(virtual/elapsed, "virtual-s/s")
	b.ReportMetric(events/float64(b.N), "events/write")
}

// BenchmarkElection: a fresh five-server ensemble started at once, until it is stable.
func BenchmarkElection(b *testing.B) {
	b.ReportAllocs()
	var events uint64
	for i := 0; i < b.N; i++ {
		w := sim.MustWorld(sim.Config{Seed: uint64(i), NoTrace: true})
		e, err := NewEnsemble(w, Config{Servers: 5})
		if err != nil {
			b.Fatal(err)
		}
		e.StartAll()
		if !e.AwaitStable(30 * sim.Second) {
			b.Fatal("no leader")
		}
		events += w.Events()
	}
	b.ReportMetric(float64(events)/float64(b.N), "events/election")
}

// BenchmarkClientWorkload: 5 servers, 10 clients, 70% reads, pipelined (up to 8 calls in
// flight per client). One op is one completed client call. Reports completed calls and
// simulation events per wall second.
func BenchmarkClientWorkload(b *testing.B) {
	w := sim.MustWorld(sim.Config{Seed: 1, NoTrace: true})
	e, err := NewEnsemble(w, Config{Servers: 5})
	if err != nil {
		b.Fatal(err)
	}
	e.StartAll()
	if !e.AwaitStable(30 * sim.Second) {
		b.Fatal("no leader")
	}
	wl, err := NewWorkload(e, WorkloadConfig{Clients: 10, Rate: 200, ReadFraction: 0.7, MaxOutstanding: 8})
	if err != nil {
		b.Fatal(err)
	}
	if err := wl.Start(); err != nil {
		b.Fatal(err)
	}
	w.RunFor(2 * sim.Second) // sessions and the root
	startDone, startEvents, startVirtual := wl.Completed, w.Events(), w.Now()
	b.ReportAllocs()
	b.ResetTimer()
	wall := time.Now()
	if !w.RunUntilCond(func() bool { return wl.Completed-startDone >= b.N }, sim.Never) {
		b.Fatalf("only %d of %d calls completed", wl.Completed-startDone, b.N)
	}
	elapsed := time.Since(wall).Seconds()
	b.StopTimer()
	ops := float64(wl.Completed - startDone)
	events := float64(w.Events() - startEvents)
	b.ReportMetric(ops/elapsed, "ops/s")
	b.ReportMetric(events/elapsed, "events/s")
	b.ReportMetric(events/ops, "events/op")
	b.ReportMetric((w.Now()-startVirtual).Seconds()/elapsed, "virtual-s/s")
}
