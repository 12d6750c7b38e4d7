package scenarios

import "testing"

// BenchmarkShortScenario runs one short built-in scenario per op, in process and with every
// check, as `zabsim run NAME` does (without its process start): the cost a scenario user
// feels. leader-crash-trunc is the reference (about 200 events).
func BenchmarkShortScenario(b *testing.B) {
	for _, name := range []string{"leader-crash-trunc", "stale-ack-trunc", "zk-1419-mutant", "epoch-ahead"} {
		b.Run(name, func(b *testing.B) {
			s, err := Builtin(name)
			if err != nil {
				b.Fatal(err)
			}
			var events uint64
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				res, err := Run(s, Options{Seed: 1, NoTrace: true})
				if err != nil {
					b.Fatal(err)
				}
				events += res.Events
			}
			b.ReportMetric(float64(events)/float64(b.N), "events/op")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "us/run")
		})
	}
}
