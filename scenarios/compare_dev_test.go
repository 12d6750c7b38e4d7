package scenarios

import (
	"fmt"
	"testing"
	"time"

	"zabsim/registry"
)

func TestCompareDev(t *testing.T) {
	s, err := LoadCompare("partition")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range registry.Kinds {
		t0 := time.Now()
		res, err := Run(s, Options{Seed: 1, Registry: k})
		if err != nil {
			t.Fatal(err)
		}
		m := registry.Measure(k, res.World.Trace().Records(), res.Faults, 5, res.World.Now())
		fmt.Println(k, time.Since(t0), res.Events, res.OK, res.Stopped, len(res.World.Trace().Records()))
		fmt.Print(m.Row())
	}
}
