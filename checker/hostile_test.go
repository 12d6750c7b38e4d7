package checker

import (
	"bytes"
	"testing"

	"github.com/anishathalye/porcupine"

	"github.com/zabsim/zabsim/model"
)

// Issue 14: a ClientReturn timed before its call (a hand-made trace out of time order)
// made porcupine's visualization hand the describer a nil input, and the checker panicked.
// Such a return is taken as returning when it was called; the describers never panic.
func TestReturnBeforeCallNoPanic(t *testing.T) {
	recs := hard(3)
	last := len(recs) - 1 // the second create's return, after its call
	if _, ok := recs[last].Data.(*model.ClientReturn); !ok {
		t.Fatalf("record %d is %T", last, recs[last].Data)
	}
	recs[last].At = 0
	c := New(Options{})
	for i := range recs {
		c.Observe(i, &recs[i])
	}
	c.Finish(recs[last-1].At)
	_, info, m := c.LinearizabilityInfo()
	var b bytes.Buffer
	if err := porcupine.Visualize(m, info, &b); err != nil {
		t.Fatal(err)
	}
	for _, x := range []any{nil, (*ZnodeInput)(nil), 42} {
		if in := asInput(x); in != (ZnodeInput{}) {
			t.Errorf("asInput(%v) = %+v", x, in)
		}
	}
	for _, x := range []any{nil, (*ZnodeOutput)(nil), "x"} {
		if out := asOutput(x); out != (ZnodeOutput{}) {
			t.Errorf("asOutput(%v) = %+v", x, out)
		}
	}
	m.DescribeOperation(nil, nil)
}
