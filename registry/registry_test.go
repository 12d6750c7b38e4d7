package registry_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zabsim/zabsim/registry"
	"github.com/zabsim/zabsim/reports"
	"github.com/zabsim/zabsim/scenarios"
	"github.com/zabsim/zabsim/sim"
)

// run runs a comparison built-in against one registry, with extra mutant lines.
func run(t *testing.T, name string, k registry.Kind, mutants ...string) (*registry.Metrics, *scenarios.Result) {
	t.Helper()
	s, err := scenarios.LoadCompare(name)
	require.NoError(t, err)
	if len(mutants) > 0 {
		src := s.Source
		for _, m := range mutants {
			src = "mutant " + m + "\n" + src
		}
		s, err = scenarios.Parse(name+".zab", src)
		require.NoError(t, err)
	}
	res, err := scenarios.Run(s, scenarios.Options{Seed: 1, Registry: k})
	require.NoError(t, err)
	require.Empty(t, res.Stopped)
	return registry.Measure(k, res.World.Trace().Records(), res.Faults, 5, res.World.Now()), res
}

const secs = sim.Second

func between(t *testing.T, what string, got, lo, hi sim.Time) {
	t.Helper()
	require.Truef(t, got >= lo && got <= hi, "%s = %s, want within [%s, %s]", what, got, lo, hi)
}

// The partition built-in: 20 instances, {1,2,3} (12 instances, client DA) cut from {4,5}
// (8 instances, DB) at 16m for 5m; b1 dies silently when the partition starts.
func TestPartitionTable(t *testing.T) {
	const part = 5 * 60 * secs
	t.Run("zookeeper", func(t *testing.T) {
		m, res := run(t, "partition", registry.ZooKeeper)
		require.Empty(t, registry.Promises(m, 5, true))
		require.Equal(t, "ok", res.Linearizability, "registrations are linearizable (porcupine)")
		// CP: the minority refuses the registration, and mostly the queries (a few are
		// answered in the moments before its servers notice the lost quorum).
		require.Equal(t, 0, m.Sides[1].RegOK)
		require.Equal(t, m.Sides[0].QryCalls, m.Sides[0].QryOK)
		require.Less(t, m.Sides[1].QryOK, m.Sides[1].QryCalls/5)
		// The minority's instances lose their sessions: removed while alive.
		require.Len(t, m.Removed, 7)
		// After the heal, the expired clients open new sessions and register again: the
		// session timeout (30s) bounds the wait for the old session's end, plus the
		// client's reconnect (a connect timeout of 30s/2 per server) and one commit.
		between(t, "convergence", m.Converge, 0, 30*secs+2*15*secs)
		// b1 is served by DB's cached view until DB reconnects after the heal: at least
		// the partition, at most the partition plus the reconnect.
		between(t, "b1 served", m.Dead[0].LastServed-m.Dead[0].DiedAt, part, part+60*secs)
	})
	t.Run("eureka", func(t *testing.T) {
		m, _ := run(t, "partition", registry.Eureka)
		require.Empty(t, registry.Promises(m, 5, true))
		for _, s := range m.Sides {
			require.Equal(t, s.RegCalls, s.RegOK, "AP: every side registers")
			require.Equal(t, s.QryCalls, s.QryOK, "AP: every side answers")
		}
		require.Empty(t, m.Removed, "self-preservation: no live instance evicted")
		// b1: self-preservation holds it through the partition (each side renews fewer
		// than 0.85 x the expected); after the heal the renewals of a full minute
		// bucket (<= 2 x 60s) enable expiry, its lease has long expired (2 x 90s), the
		// eviction task runs every 60s, the read cache refreshes every 30s and the
		// client fetches every 30s: partition <= served <= partition + 120 + 60 + 30 + 30.
		between(t, "b1 served", m.Dead[0].LastServed-m.Dead[0].DiedAt, part, part+240*secs)
		between(t, "convergence", m.Converge, 0, registry.ConvergenceBound(registry.Eureka))
	})
	t.Run("nacos-ap", func(t *testing.T) {
		m, _ := run(t, "partition", registry.NacosAP)
		require.Empty(t, registry.Promises(m, 5, true))
		for _, s := range m.Sides {
			require.Equal(t, s.QryCalls, s.QryOK, "AP: every side answers")
		}
		// b1's owner ejects its dead connection (20s idle + a 5s probe, on a 3s period)
		// but side A keeps its replica until it expires unverified: 3 min after the last
		// verify (every 5s) before the partition, found by the 5s cleaner, pushed after
		// 0.5s: 180 - 5 <= served <= 180 + 5 + 0.5 + 5.
		between(t, "b1 served", m.Dead[0].LastServed-m.Dead[0].DiedAt, 175*secs, 191*secs)
		// Replicas of the other side's instances expire unverified on each side (3 min):
		// 11 live a-instances on side B, 7 live b-instances on side A.
		require.Len(t, m.Removed, 18)
		between(t, "convergence", m.Converge, 0, registry.ConvergenceBound(registry.NacosAP))
	})
	t.Run("nacos-cp", func(t *testing.T) {
		m, _ := run(t, "partition", registry.NacosCP)
		require.Empty(t, registry.Promises(m, 5, true))
		require.Equal(t, 0, m.Sides[1].RegOK, "CP: the minority refuses writes")
		require.Positive(t, m.Sides[1].RegCalls)
		for _, s := range m.Sides {
			require.Equal(t, s.QryCalls, s.QryOK, "queries are answered from the local registry, on both sides")
		}
		// The health checker (on the majority) cannot reach side B: its instances are
		// marked unhealthy (3 failed checks) and leave the answers.
		require.Len(t, m.Removed, 7)
		require.True(t, slices.Equal(m.Removed, []string{"b2", "b3", "b4", "b5", "b6", "b7", "b8"}))
	})
}

// Each promise is checked on a correct run and broken by a mutated one.
func TestPromisesBrokenByMutants(t *testing.T) {
	t.Run("eureka self-preservation", func(t *testing.T) {
		m, _ := run(t, "mass-renewal-loss", registry.Eureka)
		require.Empty(t, m.Removed)
		require.Empty(t, registry.Promises(m, 5, true))
		m, _ = run(t, "mass-renewal-loss", registry.Eureka, "eureka-no-self-preservation")
		require.NotEmpty(t, m.Removed, "without self-preservation, live instances are evicted")
		require.NotEmpty(t, registry.Promises(m, 5, true))
	})
	t.Run("nacos verify", func(t *testing.T) {
		m, _ := run(t, "partition", registry.NacosAP, "nacos-no-verify")
		require.NotEmpty(t, registry.Promises(m, 5, true), "without the verify task the servers do not converge")
		require.Less(t, m.Converge, sim.Time(0))
	})
	t.Run("nacos-cp minority writes", func(t *testing.T) {
		m, _ := run(t, "partition", registry.NacosCP, "nacos-cp-local-writes")
		require.Positive(t, m.Sides[1].RegOK)
		require.NotEmpty(t, registry.Promises(m, 5, true))
	})
}

func TestDeterministic(t *testing.T) {
	for _, k := range []registry.Kind{registry.Eureka, registry.NacosAP, registry.NacosCP} {
		_, a := run(t, "silent-crash", k)
		_, b := run(t, "silent-crash", k)
		require.Equal(t, a.TraceHash, b.TraceHash, k)
	}
}

// The comparison picture is the same bytes for the same run.
func TestComparisonPictureStable(t *testing.T) {
	s, err := scenarios.LoadCompare("silent-crash")
	require.NoError(t, err)
	cmp, err := scenarios.Compare(s, scenarios.Options{Seed: 1})
	require.NoError(t, err)
	var a, b bytes.Buffer
	require.NoError(t, reports.Comparison(&a, "silent-crash", cmp.Metrics, reports.SVG))
	require.NoError(t, reports.Comparison(&b, "silent-crash", cmp.Metrics, reports.SVG))
	require.Equal(t, a.Bytes(), b.Bytes())
	require.Contains(t, cmp.Table(), "| eureka |")
	for _, m := range cmp.Metrics {
		require.Empty(t, registry.Promises(m, 5, true), m.Kind)
	}
}

// A ZooKeeper command in a scenario for another registry is refused before it runs.
func TestZooKeeperCommandsRefused(t *testing.T) {
	_, err := scenarios.Parse("x.zab", "registry eureka\nensemble 3\nstart all\nawait leader\n")
	require.ErrorContains(t, err, "not for registry eureka")
	_, err = scenarios.Parse("x.zab", "registry etcd\nensemble 3\n")
	require.ErrorContains(t, err, "want zookeeper, eureka, nacos-ap or nacos-cp")
}
