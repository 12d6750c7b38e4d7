package sim

import (
	"hash/fnv"
	"math/rand/v2"
)

// Stream returns the random stream called name, creating it on first use. Each stream is a
// PCG seeded from (run seed, FNV-1a hash of the name), so the numbers one stream yields do
// not depend on which other streams exist or how much they were used: adding a server or a
// client leaves every other stream unchanged. Names in use: "net/1->2" per link direction,
// and whatever upper layers ask for ("server/3", "client/7", "workload").
func (w *World) Stream(name string) *rand.Rand {
	if r, ok := w.streams[name]; ok {
		return r
	}
	r := NewStream(w.seed, name)
	w.streams[name] = r
	return r
}

// NewStream is the stream called name for a run with the given seed, outside any World.
func NewStream(seed uint64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}
