package model

import (
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/zabsim/zabsim/sim"
)

// dropFirst moves a short queue down to the start of its array (no allocation at the next
// append) and slides a long one along it (a pop costs O(1), not a move of the rest);
// either way the rest is intact and the array no longer holds the dropped value.
func TestDropFirst(t *testing.T) {
	for _, n := range []int{1, 2, dropMove, dropMove + 1, 10 * dropMove} {
		q := make([]*int, n, n+4)
		for i := range q {
			q[i] = new(int)
			*q[i] = i
		}
		want := slices.Clone(q[1:])
		r := dropFirst(q)
		if !slices.Equal(r, want) {
			t.Fatalf("len %d: the rest changed", n)
		}
		long := n > dropMove
		switch {
		case long && (len(r) == 0 || &r[0] != &q[1]):
			t.Errorf("len %d: a long queue was moved, not slid", n)
		case long && q[0] != nil:
			t.Errorf("len %d: the dropped value is still in the array", n)
		case !long && len(r) > 0 && &r[0] != &q[0]:
			t.Errorf("len %d: a short queue was not moved down", n)
		case !long && q[n-1] != nil:
			t.Errorf("len %d: the vacated last slot still holds a value", n)
		}
	}
}

// A slab of a Memory hands out the same values again after a reset, cleared; any other
// slab never hands out a value twice.
func TestSlabReusesItsChunksAfterReset(t *testing.T) {
	for _, reuse := range []bool{false, true} {
		s := &slab[Txn]{reuse: reuse}
		var first []*Txn
		for i := range 100 {
			p := s.new()
			p.Path, p.Zxid = "/x", Zxid(i+1)
			first = append(first, p)
		}
		list := append(s.cut(3), Txn{Path: "/cut"})
		s.reset()
		for i := range 100 {
			p := s.new()
			switch {
			case reuse && p != first[i]:
				t.Fatalf("value %d: a new address after the reset, want the first run's", i)
			case !reuse && slices.Contains(first, p):
				t.Fatalf("value %d: handed out twice by a slab outside a Memory", i)
			case p.Path != "" || p.Zxid != 0:
				t.Fatalf("value %d: %+v after the reset, want a zero value", i, *p)
			}
		}
		if l := s.cut(3)[:1]; reuse != (&l[0] == &list[0]) || l[0].Path != "" {
			t.Errorf("reuse %v: a list cut after the reset at %p holding %q; the first run's at %p", reuse, &l[0], l[0].Path, &list[0])
		}
	}
}

// A big value comes from the slab only in a Memory: outside one each is a value of its
// own, which no chunk's sibling keeps alive.
func TestSlabBigValuesOutsideAMemory(t *testing.T) {
	for _, reuse := range []bool{false, true} {
		s := &slab[zkDatabase]{reuse: reuse}
		a, b := s.big(zkDatabase{initialized: true}), s.big(zkDatabase{})
		if !a.initialized || b.initialized {
			t.Fatalf("reuse %v: the values are not the ones given", reuse)
		}
		made, _ := s.chunks.Made()
		if fromChunk := made == 1 && len(s.chunk) == 2; fromChunk != reuse {
			t.Errorf("reuse %v: from the slab's chunk %v, want %v", reuse, fromChunk, reuse)
		}
		if !reuse && s.chunk != nil {
			t.Errorf("a slab outside a Memory made a chunk for big values")
		}
	}
}

// Memory.slabs lists every slab a Memory holds: one left out would never be reused.
func TestMemoryListsEverySlab(t *testing.T) {
	var m Memory // the zero value, as an ensemble takes it
	if _, err := NewEnsembleIn(sim.MustWorld(sim.Config{Seed: 1}), Config{Servers: 3}, &m); err != nil {
		t.Fatal(err)
	}
	listed := map[uintptr]bool{}
	for _, s := range m.slabs() {
		listed[reflect.ValueOf(s).Pointer()] = true
	}
	var walk func(v reflect.Value)
	n := 0
	walk = func(v reflect.Value) {
		for i := range v.NumField() {
			f := v.Field(i)
			switch {
			case strings.HasPrefix(f.Type().Name(), "slab["):
				n++
				if !listed[f.Addr().Pointer()] {
					t.Errorf("%s.%s is not in Memory.slabs", v.Type().Name(), v.Type().Field(i).Name)
				}
				if !f.FieldByName("reuse").Bool() {
					t.Errorf("%s.%s does not keep its chunks", v.Type().Name(), v.Type().Field(i).Name)
				}
			case f.Kind() == reflect.Struct:
				walk(f)
			}
		}
	}
	walk(reflect.ValueOf(&m).Elem())
	if n != len(listed) || n < 20 {
		t.Errorf("%d slabs in a Memory, %d listed", n, len(listed))
	}
}

// memoryRun elects a leader of three, writes, restarts a follower (which reloads its log
// and snapshot) and runs a client's multi, in mem (nil: memory of its own); it returns the
// trace hash and the bytes allocated.
func memoryRun(t *testing.T, mem *Memory) (string, uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	w := sim.MustWorld(sim.Config{Seed: 7, NoTrace: true})
	e, err := NewEnsembleIn(w, Config{Servers: 3, SnapCount: 10}, mem)
	if err != nil {
		t.Fatal(err)
	}
	e.StartAll()
	mustStable(t, e, 30*sim.Second)
	if err := e.WriteAndWait(1, 30, 10*sim.Second); err != nil {
		t.Fatal(err)
	}
	f := e.Leader().Sid()%3 + 1
	crash(t, e, f)
	if err := e.WriteAndWait(e.Leader().Sid(), 20, 10*sim.Second); err != nil {
		t.Fatal(err)
	}
	restart(t, e, f)
	c, err := e.StartClient(ClientConfig{Servers: []int64{e.Leader().Sid()}})
	if err != nil {
		t.Fatal(err)
	}
	done := false
	c.Multi([]Op{OpCreateOf("/m", "a", Persistent), OpSetDataOf("/m", "b", -1)}, func(r *Result) {
		if r.Err != ErrOK {
			t.Errorf("multi: %d", r.Err)
		}
		done = true
	})
	if !w.RunUntilCond(func() bool { return done && e.Stable() }, 30*sim.Second) {
		t.Fatal("the multi or the restarted follower never finished")
	}
	runtime.ReadMemStats(&after)
	return w.Trace().HashString(), after.TotalAlloc - before.TotalAlloc
}

// An ensemble in a reset Memory runs exactly as one in memory of its own (the same trace
// hash, however many times the memory is reused) and allocates far less; a Memory serves
// one ensemble at a time.
func TestEnsembleInMemory(t *testing.T) {
	want, fresh := memoryRun(t, nil)
	m := NewMemory()
	var first [3]int
	for i := range 3 {
		got, bytes := memoryRun(t, m)
		if got != want {
			t.Fatalf("run %d in a reused Memory: hash %s, want %s", i, got, want)
		}
		// the loads' arrays (the restart's) came from the Memory, the same ones each time
		var made [3]int
		made[0], _ = m.servers.txnLists.Made()
		made[1], _ = m.servers.histories.Made()
		made[2], _ = m.servers.proposals.Made()
		if i == 0 {
			first = made
		}
		if slices.Contains(made[:], 0) || made != first {
			t.Fatalf("run %d: the Memory made %v arrays of txns, histories and proposals; the first run %v", i, made, first)
		}
		if _, err := NewEnsembleIn(sim.MustWorld(sim.Config{Seed: 1}), Config{Servers: 3}, m); err == nil || !strings.Contains(err.Error(), "in use") {
			t.Fatalf("a second ensemble in a Memory in use: %v", err)
		}
		m.Reset()
		if i > 0 && bytes > fresh*3/4 {
			t.Errorf("run %d in a reused Memory allocated %d bytes, one in fresh memory %d", i, bytes, fresh)
		}
	}
}
