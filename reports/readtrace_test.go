package reports

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zabsim/zabsim/scenarios"
)

// Every trace a run writes is read back whole by ReadTrace, with its hash and count: the
// built-in library and explored schedules (every kind of client record, SNAP packets,
// crashes at crash points).
func TestReadTraceRoundTrips(t *testing.T) {
	var runs []*scenarios.Result
	for _, e := range scenarios.List() {
		runs = append(runs, runBuiltin(t, e.Name))
	}
	for seed := uint64(1); seed <= 6; seed++ {
		s, err := scenarios.Parse(fmt.Sprintf("seed-%d.zab", seed), scenarios.Generate(seed, scenarios.ExploreConfig{Servers: 3, Observers: int(seed % 2)}))
		require.NoError(t, err)
		res, err := scenarios.Run(s, scenarios.Options{Seed: seed})
		require.NoError(t, err)
		runs = append(runs, res)
	}
	for _, res := range runs {
		var b bytes.Buffer
		require.NoError(t, res.World.WriteJSONL(&b))
		tf, err := ReadTrace(&b)
		require.NoError(t, err, res.Scenario)
		recs := res.World.Trace().Records()
		require.Len(t, tf.Records, len(recs), res.Scenario)
		for i := range recs {
			require.Equal(t, recs[i].String(), tf.Records[i].String(), "%s record %d", res.Scenario, i)
		}
		require.Equal(t, res.TraceHash, tf.End.Hash)
		require.Equal(t, res.Events, tf.End.Events)
		require.EqualValues(t, res.VirtualNs, tf.End.At)
	}
}
