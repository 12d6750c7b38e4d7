// A property test as a user writes it in a module of their own: random fault schedules
// from zabsim's generator, every check on, rapid's shrinking on failure. Here with the
// ZK-2845 mutant on, so that the property fails and rapid reports a small schedule.
package proptest

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/zabsim/zabsim"
)

func TestZabHoldsUnderFaults(t *testing.T) {
	// every proposed fix on (README, Findings): only the mutant can fail the property
	cfg := zabsim.ExploreConfig{Servers: 5, Mutants: []string{"ZK-2845"}, Fixes: []string{"all"}}
	rapid.Check(t, zabsim.CheckSchedules(cfg))
}

// go test -fuzz FuzzZab runs the same property as a long search.
func FuzzZab(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(zabsim.CheckSchedules(zabsim.ExploreConfig{Servers: 5, Fixes: []string{"all"}})))
}
