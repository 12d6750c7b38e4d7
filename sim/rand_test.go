package sim

import (
	"hash/fnv"
	"testing"
)

// streamKey is hash/fnv's FNV-1a, on strings and bytes alike: a stream's numbers depend on
// it, so every recorded run does.
func TestStreamKeyIsFNV1a(t *testing.T) {
	for _, name := range []string{"", "a", "net/1->2", "net/12->345", "server/3", "workload"} {
		h := fnv.New64a()
		h.Write([]byte(name))
		if got, want := streamKey(name), h.Sum64(); got != want || streamKey([]byte(name)) != want {
			t.Errorf("streamKey(%q) = %x, want %x", name, got, want)
		}
	}
}

// A link's delays are the stream "net/from->to", though the link holds it itself.
func TestLinkDelayIsItsNamedStream(t *testing.T) {
	w, err := NewWorld(Config{Seed: 7, LatencyMin: 100, LatencyMean: 1000})
	if err != nil {
		t.Fatal(err)
	}
	l := w.net.link(3, 12)
	want := NewStream(7, "net/3->12")
	for i := 0; i < 5; i++ {
		if got, exp := l.delay(w, 3, 12), Time(100)+Time(want.ExpFloat64()*1000); got != exp {
			t.Fatalf("delay %d: %v, want %v", i, got, exp)
		}
	}
}
