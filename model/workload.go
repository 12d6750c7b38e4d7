package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/zabsim/zabsim/sim"
)

// The range of WorkloadConfig.Rate: below MinWorkloadRate the interval between two calls
// would not fit the virtual clock; above MaxWorkloadRate a client only waits for answers.
const (
	MinWorkloadRate = 0.001
	MaxWorkloadRate = 10000
)

// WorkloadConfig describes a client workload. The zero value of a field means its default.
type WorkloadConfig struct {
	Clients        int     // number of clients (default 10)
	Rate           float64 // operations per virtual second per client (default 20)
	ReadFraction   float64 // share of reads (default 0.7); negative means none
	Keys           int     // keys /<root>/k0 .. k<Keys-1> (default 16)
	MaxOutstanding int     // calls in flight per client before it waits (default 4)
	Root           string  // default "/wl"
	Client         ClientConfig
}

// Workload drives clients with a random mix of operations: reads (getData, exists,
// getChildren, sync followed by getData) and writes (setData, create, delete, ephemeral-
// sequential create, multi of two setData). It first creates its root and keys. Every value written is unique ("v<n>"), so a linearizability
// checker can tell which write a read saw. All its choices come from World.Stream("workload").
type Workload struct {
	e       *Ensemble
	cfg     WorkloadConfig
	rng     *rand.Rand
	clients []*Client
	ticks   []func() // ticks[i] calls tick(i)
	doneCb  Callback // wl.done, bound once: a method value passed on is an allocation per call
	keys    []string // keys[i] is key i's path, once made
	running bool
	started bool
	values  int
	ephs    [][]string // per client: its ephemeral-sequential nodes, oldest first

	Issued, Completed int
	Reads, Writes     int
	errs              map[int32]int // looked up; sorted when listed
}

// NewWorkload adds the workload's clients to e (not started).
func NewWorkload(e *Ensemble, cfg WorkloadConfig) (*Workload, error) {
	if cfg.Clients == 0 {
		cfg.Clients = 10
	}
	if cfg.Rate == 0 {
		cfg.Rate = 20
	}
	// Written as !(in range) so that NaN is refused: the interval between calls is drawn
	// from 1/Rate and must fit the virtual clock.
	if !(cfg.Rate >= MinWorkloadRate && cfg.Rate <= MaxWorkloadRate) {
		return nil, &sim.SettingError{Setting: "workload rate", Value: strconv.FormatFloat(cfg.Rate, 'g', -1, 64),
			Reason: "want calls per second per client from " + strconv.FormatFloat(MinWorkloadRate, 'g', -1, 64) + " to " + strconv.FormatFloat(MaxWorkloadRate, 'g', -1, 64)}
	}
	if math.IsNaN(cfg.ReadFraction) || cfg.ReadFraction > 1 {
		return nil, &sim.SettingError{Setting: "workload read fraction", Value: strconv.FormatFloat(cfg.ReadFraction, 'g', -1, 64), Reason: "want a share from 0 to 1"}
	}
	if cfg.ReadFraction == 0 {
		cfg.ReadFraction = 0.7
	} else if cfg.ReadFraction < 0 {
		cfg.ReadFraction = 0
	}
	if cfg.Keys == 0 {
		cfg.Keys = 16
	}
	if cfg.MaxOutstanding == 0 {
		cfg.MaxOutstanding = 4
	}
	if cfg.Root == "" {
		cfg.Root = "/wl"
	}
	wl := &Workload{e: e, cfg: cfg, rng: e.W.Stream("workload"), errs: map[int32]int{}}
	wl.doneCb = wl.done
	for i := 0; i < cfg.Clients; i++ {
		c, err := e.AddClient(cfg.Client)
		if err != nil {
			return nil, err
		}
		wl.clients = append(wl.clients, c)
	}
	wl.ephs = make([][]string, len(wl.clients))
	return wl, nil
}

// Clients are the workload's clients.
func (wl *Workload) Clients() []*Client { return wl.clients }

// Start starts the clients; once the first has created the root, every client issues
// operations at the configured rate until Stop.
func (wl *Workload) Start() error {
	if wl.started {
		return nil
	}
	wl.started, wl.running = true, true
	for _, c := range wl.clients {
		if err := wl.e.W.Start(c.id); err != nil {
			return err
		}
	}
	wl.createRoot()
	return nil
}

// createRoot creates the root and the keys (each with a unique value) through the first
// client, retrying until they exist, then starts every client.
func (wl *Workload) createRoot() {
	c := wl.clients[0]
	paths := []string{wl.cfg.Root, wl.cfg.Root + "/eph"}
	for i := 0; i < wl.cfg.Keys; i++ {
		paths = append(paths, wl.cfg.Root+"/k"+strconv.Itoa(i))
	}
	var step func(i int)
	step = func(i int) {
		if i == len(paths) {
			for j := range wl.clients {
				wl.schedule(j)
			}
			return
		}
		data := ""
		if i > 1 {
			data = wl.value()
		}
		c.Create(paths[i], data, Persistent, func(r *Result) {
			if r.Err != ErrOK && r.Err != ErrNodeExists {
				wl.e.W.At(wl.e.W.Now()+100*sim.Millisecond, func() { step(i) })
				return
			}
			step(i + 1)
		})
	}
	step(0)
}

// Stop stops issuing new operations (calls in flight still complete).
func (wl *Workload) Stop() { wl.running = false }

// Errors returns the number of completed calls per error code, sorted by code.
func (wl *Workload) Errors() [][2]int {
	codes := make([]int32, 0, len(wl.errs))
	for c := range wl.errs {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	out := make([][2]int, len(codes))
	for i, c := range codes {
		out[i] = [2]int{int(c), wl.errs[c]}
	}
	return out
}

func (wl *Workload) schedule(i int) {
	if !wl.running {
		return
	}
	d := sim.Time(wl.rng.ExpFloat64() / wl.cfg.Rate * float64(sim.Second))
	if wl.ticks == nil {
		// one closure per client, made once: a tick is scheduled many times a second
		wl.ticks = make([]func(), len(wl.clients))
		for j := range wl.ticks {
			wl.ticks[j] = func() { wl.tick(j) }
		}
	}
	wl.e.W.At(wl.e.W.Now()+d, wl.ticks[i])
}

func (wl *Workload) key() string {
	i := wl.rng.IntN(wl.cfg.Keys)
	if wl.keys == nil {
		wl.keys = make([]string, wl.cfg.Keys) // each key's string, made once
	}
	if wl.keys[i] == "" {
		wl.keys[i] = wl.cfg.Root + "/k" + strconv.Itoa(i)
	}
	return wl.keys[i]
}

func (wl *Workload) value() string {
	wl.values++
	return "v" + strconv.Itoa(wl.values)
}

func (wl *Workload) done(r *Result) {
	wl.Completed++
	wl.errs[r.Err]++
}

// tick issues one operation for client i (if it is alive and not saturated).
func (wl *Workload) tick(i int) {
	if !wl.running {
		return
	}
	defer wl.schedule(i)
	c := wl.clients[i]
	if !c.State().isAlive() || !wl.e.W.IsUp(c.id) || c.Outstanding() >= wl.cfg.MaxOutstanding {
		return
	}
	wl.Issued++
	if wl.rng.Float64() < wl.cfg.ReadFraction {
		wl.Reads++
		switch p := wl.rng.IntN(100); {
		case p < 50:
			c.GetData(wl.key(), nil, wl.doneCb)
		case p < 70:
			c.Exists(wl.key(), nil, wl.doneCb)
		case p < 85:
			c.GetChildren(wl.cfg.Root, nil, wl.doneCb)
		default:
			k := wl.key()
			wl.Issued++
			c.Sync(k, wl.doneCb)
			c.GetData(k, nil, wl.doneCb)
		}
		return
	}
	wl.Writes++
	switch p := wl.rng.IntN(100); {
	case p < 60:
		c.SetData(wl.key(), wl.value(), -1, wl.doneCb)
	case p < 75:
		c.Create(wl.key(), wl.value(), Persistent, wl.doneCb)
	case p < 80:
		c.Delete(wl.key(), -1, wl.doneCb)
	case p < 90:
		// An ephemeral-sequential node of this client's; at most four at a time.
		if e := wl.ephs[i]; len(e) >= 4 {
			wl.ephs[i] = e[1:]
			c.Delete(e[0], -1, wl.doneCb)
			break
		}
		c.Create(wl.cfg.Root+"/eph/e-"+strconv.Itoa(int(c.id))+"-", wl.value(), EphemeralSequential, func(r *Result) {
			if r.Err == ErrOK {
				wl.ephs[i] = append(wl.ephs[i], r.Created)
			}
			wl.done(r)
		})
	default:
		a, b := wl.key(), wl.key()
		c.Multi([]Op{OpSetDataOf(a, wl.value(), -1), OpSetDataOf(b, wl.value(), -1)}, wl.doneCb)
	}
}
