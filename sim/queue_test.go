package sim

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEventQueueOrder pushes and pops at random against a sorted reference: every pop must
// return the reference's minimum by (at, seq). Times are drawn from a small range so that
// many events share an instant and the seq tie-break is exercised.
func TestEventQueueOrder(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0))
		var q eventQueue
		var ref []event
		var seq uint64
		pops := 0
		for op := 0; op < 5000; op++ {
			if rng.IntN(3) != 0 || len(ref) == 0 { // push twice as often as pop
				seq++
				at := Time(rng.IntN(50))
				switch rng.IntN(20) { // now and then a time far away: the compare is unsigned
				case 0:
					at = Never - Time(rng.IntN(3))
				case 1:
					at = 1<<32 + Time(rng.IntN(3))
				}
				e := event{at: at, key: seq<<seqShift | uint64(evTimer), gen: seq * 7}
				q.push(e)
				ref = append(ref, e)
				continue
			}
			sortEvents(ref)
			require.Equal(t, len(ref), q.Len())
			require.Equal(t, ref[0], *q.peek(), "seed %d op %d: peek", seed, op)
			got := q.pop()
			require.Equal(t, ref[0], got, "seed %d op %d: pop", seed, op)
			ref = ref[1:]
			pops++
		}
		// Drain: the whole remaining sequence is sorted by (at, seq).
		var last event
		for i := 0; q.Len() > 0; i++ {
			e := q.pop()
			if i > 0 {
				require.Equal(t, uint64(1), less(&last, &e), "seed %d: %+v popped before %+v", seed, last, e)
			}
			last = e
		}
		require.Greater(t, pops, 1000)
	}
}

// TestEventQueueTiesInInsertionOrder: events at one instant come out in push order even
// when pushed interleaved with events at other instants.
func TestEventQueueTiesInInsertionOrder(t *testing.T) {
	var q eventQueue
	var seq uint64
	for i := 0; i < 300; i++ {
		seq++
		q.push(event{at: Time(i % 3), key: seq << seqShift, gen: uint64(i)})
	}
	var got []uint64
	for q.Len() > 0 {
		got = append(got, q.pop().gen)
	}
	var want []uint64
	for r := 0; r < 3; r++ {
		for i := r; i < 300; i += 3 {
			want = append(want, uint64(i))
		}
	}
	require.Equal(t, want, got)
}

// TestEventQueueSpentTop takes events the way Step does, leaving each spent at the top for
// the pushes made while it is handled (none, one or several) to replace, against a sorted
// reference: the order out is the reference's, and Len and peek never show a spent event.
func TestEventQueueSpentTop(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 1))
		var q eventQueue
		var ref []event
		var seq uint64
		push := func(now Time) {
			seq++
			e := event{at: now + Time(rng.IntN(40)), key: seq<<seqShift | uint64(evDeliver), gen: seq}
			q.push(e)
			ref = append(ref, e)
		}
		for i := 0; i < 30; i++ {
			push(0)
		}
		replaced := 0
		for step := 0; step < 5000 && q.Len() > 0; step++ {
			sortEvents(ref)
			require.Equal(t, len(ref), q.Len(), "seed %d step %d", seed, step)
			top := q.h[0]
			require.Equal(t, ref[0], top, "seed %d step %d: the earliest", seed, step)
			ref = ref[1:]
			q.spent = true
			k := rng.IntN(4)             // 0: nothing queued while handled, the spent top goes at settle
			switch ask := rng.IntN(3); { // asked while spent, Len and peek see it gone
			case k == 0 && ask == 0:
				require.Equal(t, len(ref), q.Len(), "seed %d step %d: Len", seed, step)
			case k == 0 && ask == 1 && len(ref) > 0:
				require.Equal(t, ref[0], *q.peek(), "seed %d step %d: peek", seed, step)
			}
			if k > 0 && len(ref) < 60 {
				replaced++
			}
			for j := 0; j < k && len(ref) < 60; j++ {
				push(top.at)
			}
			q.settle()
			require.False(t, q.spent)
		}
		require.Greater(t, replaced, 1000, "seed %d: spent tops replaced by a push", seed)
	}
}

// sortEvents sorts events by (at, seq), the order the queue gives them in.
func sortEvents(ref []event) {
	slices.SortFunc(ref, func(a, b event) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.key, b.key)
	})
}
