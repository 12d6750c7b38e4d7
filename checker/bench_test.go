package checker

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/zabsim/zabsim/model"
	"github.com/zabsim/zabsim/sim"
)

// benchEnsemble starts a stable 5-server ensemble on a world that keeps no records, with
// the checker attached online when checked (nil otherwise).
func benchEnsemble(tb testing.TB, checked bool) (*sim.World, *model.Ensemble, *Checker) {
	return benchEnsembleWith(tb, checked, nil)
}

// benchEnsembleWith is benchEnsemble with the checker's options adjusted by opt (if set).
func benchEnsembleWith(tb testing.TB, checked bool, opt func(*Options)) (*sim.World, *model.Ensemble, *Checker) {
	w := sim.MustWorld(sim.Config{Seed: 1, NoTrace: true})
	e, err := model.NewEnsemble(w, model.Config{Servers: 5})
	if err != nil {
		tb.Fatal(err)
	}
	var c *Checker
	if checked {
		o := OptionsFor(*e.Cfg)
		if opt != nil {
			opt(&o)
		}
		c = New(o)
		c.Attach(w.Trace())
	}
	e.StartAll()
	if !e.AwaitStable(30 * sim.Second) {
		tb.Fatal("no leader")
	}
	return w, e, c
}

// steadyRun is a 5-server ensemble, once stable, under a steady write load for 60 virtual
// seconds: a create every 10ms, through each server in turn (6000 writes). With a checker,
// the checker observes every record online (the trace keeps no records in either case).
// It returns the number of records and the checker's verdict.
func steadyRun(tb testing.TB, checked bool) (int, []Violation) {
	w, e, c := benchEnsemble(tb, checked)
	if err := e.WriteAndWait(1, 1, 10*sim.Second); err != nil {
		tb.Fatal(err)
	}
	start := w.Now()
	var results []*model.WriteResult
	for k := 0; k < 6000; k++ {
		via := int64(k%5 + 1)
		w.At(start+sim.Time(k)*10*sim.Millisecond, func() { results = append(results, e.Write(via)) })
	}
	w.RunUntil(start + 60*sim.Second + sim.Second)
	done := 0
	for _, r := range results {
		if r.Done && r.Rc == model.ErrOK {
			done++
		}
	}
	if done < 5900 {
		tb.Fatalf("only %d of %d writes done", done, len(results))
	}
	if !checked {
		return w.Trace().Len(), nil
	}
	return w.Trace().Len(), c.Finish(w.Now())
}

// clientRun is a 5-server ensemble, once stable, under the model's client workload for 60
// virtual seconds: 10 clients at 20 operations per second each (reads, syncs, writes,
// multis, ephemeral-sequential nodes), then 5 seconds for the calls in flight. With a
// checker, its verdict includes the client checks and the porcupine linearizability check
// (run by Finish, and timed with the run).
func clientRun(tb testing.TB, checked bool) (int, []Violation) {
	return clientRunReads(tb, checked, false)
}

// clientRunReads is clientRun, with the reads in porcupine's history too when reads is set
// (Options.LinearizabilityReads).
func clientRunReads(tb testing.TB, checked, reads bool) (int, []Violation) {
	w, e, c := benchEnsembleWith(tb, checked, func(o *Options) { o.LinearizabilityReads = reads })
	wl, err := model.NewWorkload(e, model.WorkloadConfig{Clients: 10})
	if err != nil {
		tb.Fatal(err)
	}
	if err := wl.Start(); err != nil {
		tb.Fatal(err)
	}
	w.RunFor(60 * sim.Second)
	wl.Stop()
	w.RunFor(5 * sim.Second)
	if wl.Completed < 10000 {
		tb.Fatalf("only %d of %d calls completed", wl.Completed, wl.Issued)
	}
	if !checked {
		return w.Trace().Len(), nil
	}
	vs := c.Finish(w.Now())
	lin := c.Linearizability()
	if lin.Outcome != porcupine.Ok || lin.Operations < 3000 || (lin.Reads != 0) != reads || lin.Witnessed != lin.Paths {
		tb.Fatalf("linearizability %+v", lin)
	}
	return w.Trace().Len(), vs
}

// BenchmarkCheckedRun measures the online checker's cost: each iteration runs the same
// 60-virtual-second load twice, without and with the checker attached, in alternating
// order, and reports both mean times and the overhead. The overhead is the median over the
// iterations of each pair's ratio, in wall time and in process CPU time: the two runs of a
// pair are a fraction of a second apart and share the machine's weather, so on a shared
// machine the median ratio is steadier than the ratio of the sums. "writes" is a steady
// write load through the servers (no clients); "clients=10" the client workload of
// clientRun, whose checked time includes the client checks and the linearizability check;
// "clients=10,reads" the same with the reads in the linearizability history too.
func BenchmarkCheckedRun(b *testing.B) {
	b.Run("writes", func(b *testing.B) { benchChecked(b, steadyRun) })
	b.Run("clients=10", func(b *testing.B) { benchChecked(b, clientRun) })
	b.Run("clients=10,reads", func(b *testing.B) {
		benchChecked(b, func(tb testing.TB, checked bool) (int, []Violation) { return clientRunReads(tb, checked, true) })
	})
}

func benchChecked(b *testing.B, runOnce func(testing.TB, bool) (int, []Violation)) {
	var wall, cpu [2]time.Duration // [plain, checked], summed
	var wallRatio, cpuRatio []float64
	records := 0
	timed := func(withChecker bool) (int, time.Duration, time.Duration) {
		runtime.GC() // each run starts from the same heap
		w0, c0 := time.Now(), cpuTime()
		n, vs := runOnce(b, withChecker)
		dw, dc := time.Since(w0), cpuTime()-c0
		if len(vs) > 0 {
			b.Fatalf("violations in a correct run:\n%s", vsText(vs))
		}
		return n, dw, dc
	}
	for i := 0; i < b.N; i++ {
		var n, m int
		var pw, pc, cw, cc time.Duration
		if i%2 == 0 {
			n, pw, pc = timed(false)
			m, cw, cc = timed(true)
		} else {
			m, cw, cc = timed(true)
			n, pw, pc = timed(false)
		}
		if n != m {
			b.Fatalf("the checker changed the run: %d records, %d without it", m, n)
		}
		records = n
		wall[0], wall[1], cpu[0], cpu[1] = wall[0]+pw, wall[1]+cw, cpu[0]+pc, cpu[1]+cc
		wallRatio = append(wallRatio, cw.Seconds()/pw.Seconds())
		if pc > 0 {
			cpuRatio = append(cpuRatio, cc.Seconds()/pc.Seconds())
		}
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(per(wall[0]), "plain-ms/run")
	b.ReportMetric(per(wall[1]), "checked-ms/run")
	b.ReportMetric(100*(median(wallRatio)-1), "overhead-%")
	if len(cpuRatio) > 0 {
		b.ReportMetric(per(cpu[0]), "plain-cpu-ms/run")
		b.ReportMetric(per(cpu[1]), "checked-cpu-ms/run")
		b.ReportMetric(100*(median(cpuRatio)-1), "cpu-overhead-%")
	}
	b.ReportMetric(float64(records), "records/run")
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// The benchmark's workload is itself a correct run: a quick version for go test.
func TestSteadyRunPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("the steady run takes about a second")
	}
	if _, vs := steadyRun(t, true); len(vs) > 0 {
		t.Fatalf("violations:\n%s", vsText(vs))
	}
}

// The client benchmark's workload passes every check, linearizability included.
func TestClientRunPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("the client run takes about a second")
	}
	if _, vs := clientRun(t, true); len(vs) > 0 {
		t.Fatalf("violations:\n%s", vsText(vs))
	}
}
