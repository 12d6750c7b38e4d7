package sim

// BareLoop is a World with nothing above the engine: one node whose every timer re-arms
// itself, with a delay taken in turn from a table drawn beforehand, and pending timers
// armed and each fired once. Every Step then pops one event and pushes one, so the queue
// keeps pending events: the cost of an event with no model, checker or record observer,
// the yardstick the benchmarks measure a run's cost per event against.
func BareLoop(pending int) *World {
	w := MustWorld(Config{Seed: 1, NoTrace: true})
	rng := w.Stream("bench")
	tk := &ticker{w: w, delays: make([]Time, 1<<12)}
	for i := range tk.delays {
		tk.delays[i] = Microsecond + Time(rng.Int64N(int64(Millisecond)))
	}
	if err := w.Add(0, tk); err != nil {
		panic(err) // node 0 of a new World: cannot fail
	}
	if err := w.Start(0); err != nil {
		panic(err)
	}
	for k := 0; k < pending; k++ {
		w.SetTimer(0, k, tk.delays[k&(len(tk.delays)-1)])
	}
	for i := 0; i < 2*pending; i++ { // every timer kind has fired once
		w.Step()
	}
	return w
}

// ticker is BareLoop's node.
type ticker struct {
	w      *World
	delays []Time
	i      int
}

func (t *ticker) Start()                       {}
func (t *ticker) Restart()                     {}
func (t *ticker) Crash()                       {}
func (t *ticker) Accept(c ConnID, peer NodeID) {}
func (t *ticker) Receive(c ConnID, m Message)  {}
func (t *ticker) Closed(c ConnID)              {}
func (t *ticker) FsyncDone(token uint64)       {}
func (t *ticker) Timer(kind int) {
	t.w.SetTimer(0, kind, t.delays[t.i&(len(t.delays)-1)])
	t.i++
}
