package sim

import (
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
	return rand.New(rand.NewPCG(seed, streamKey(name)))
}

// streamKey is the FNV-1a hash of a stream's name: the second half of its PCG's seed.
func streamKey[S string | []byte](name S) uint64 {
	h := uint64(14695981039346656037) // FNV-1a's offset basis and prime (hash/fnv)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	return h
}
