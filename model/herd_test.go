package model

import (
	"flag"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/zabsim/zabsim/sim"
)

var herdWaiters = flag.Int("herd-waiters", 100, "the largest number of lock waiters TestHerdEffect measures (1000 for the README's table)")

// herdNotifications runs n clients contending for one lock, each releasing once it holds,
// and returns the watch notifications delivered to the lock's clients per release: with
// herd, every waiter watches the directory (each release wakes all of them); without, each
// watches the node before its own (the recipe: one wakes).
func herdNotifications(t testing.TB, n int, herd bool) float64 {
	w := sim.MustWorld(sim.Config{Seed: 1})
	e, err := NewEnsemble(w, Config{Servers: 3})
	if err != nil {
		t.Fatal(err)
	}
	e.StartAll()
	if !e.AwaitStable(30 * sim.Second) {
		t.Fatal("no leader")
	}
	locks := make([]*Lock, n)
	held := 0
	for i := range locks {
		c, err := e.StartClient(ClientConfig{Servers: []int64{1, 2, 3}})
		if err != nil {
			t.Fatal(err)
		}
		w.RunUntilCond(c.Connected, w.Now()+10*sim.Second)
		l := NewLock(c, "/herd")
		l.Herd = herd
		locks[i] = l
	}
	notified := 0
	w.Trace().Observers = append(w.Trace().Observers, func(r *sim.Record) {
		if d, ok := r.Data.(*WatchDelivered); ok && (d.Path == "/herd" || strings.HasPrefix(d.Path, "/herd/")) {
			notified++
		}
	})
	for _, l := range locks {
		l := l
		l.Acquire(func() {
			held++
			l.Release(nil)
		})
	}
	w.RunUntilCond(func() bool { return held == n }, w.Now()+sim.Time(n)*10*sim.Second)
	if held != n {
		t.Fatalf("%d of %d waiters got the lock", held, n)
	}
	return float64(notified) / float64(n)
}

// The herd effect, measured: per release, a herd wakes about every remaining waiter (n/2 on
// average as the queue drains), the recipe one.
func TestHerdEffect(t *testing.T) {
	for _, n := range []int{10, 100, 1000} {
		if n > *herdWaiters {
			continue
		}
		herd, recipe := herdNotifications(t, n, true), herdNotifications(t, n, false)
		t.Logf("%d waiters: %.1f notifications per release watching the directory, %.2f watching the predecessor", n, herd, recipe)
		if recipe > 2 {
			t.Errorf("%d waiters: the recipe woke %.2f clients per release, want about 1", n, recipe)
		}
		if herd < float64(n)/4 {
			t.Errorf("%d waiters: the herd woke only %.1f clients per release, want about n/2", n, herd)
		}
	}
}

var herdPlot = flag.String("herd-plot", "", "write the herd effect's plot (PNG) to this file (the README's docs/herd-effect.png)")

// TestHerdPlot draws notifications per release against waiters, for the README.
func TestHerdPlot(t *testing.T) {
	if *herdPlot == "" {
		t.Skip("-herd-plot FILE draws it")
	}
	p := plot.New()
	p.Title.Text = "Watch notifications per lock release"
	p.X.Label.Text = "waiters"
	p.Y.Label.Text = "notifications per release"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	var herd, recipe plotter.XYs
	for _, n := range []int{10, 30, 100, 300, 1000} {
		if n > *herdWaiters {
			continue
		}
		herd = append(herd, plotter.XY{X: float64(n), Y: herdNotifications(t, n, true)})
		recipe = append(recipe, plotter.XY{X: float64(n), Y: max(herdNotifications(t, n, false), 0.5)})
	}
	if err := plotutil.AddLinePoints(p, "every waiter watches the directory (herd)", herd, "each watches its predecessor (the recipe)", recipe); err != nil {
		t.Fatal(err)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	if err := p.Save(16*vg.Centimeter, 10*vg.Centimeter, *herdPlot); err != nil {
		t.Fatal(err)
	}
}
