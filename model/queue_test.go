package model

import (
	"slices"
	"testing"
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
