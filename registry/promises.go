package registry

import (
	"fmt"
	"strings"

	"github.com/zabsim/zabsim/sim"
)

// ConvergenceBound is how soon after a heal every running server of an AP registry must
// hold the same instances, every live one among them, from its configured timings:
//
//   - Eureka: a replicated heartbeat the peer does not know gets a 404 and the instance is
//     replicated as a register (PeerEurekaNode.heartbeat), so the next heartbeat, at most
//     renewalIntervalInSecs (30s) away, plus the batching delay (0.5s), repairs a peer; the
//     peer answers from its read-only cache, refreshed every responseCacheUpdateIntervalMs
//     (30s): 30 + 0.5 + 30 = 60.5s, and 5s for the retries of the batch across the heal.
//   - Nacos (Distro): a failed push is retried every 3s and a verify runs every 5s (a
//     replica that expired meanwhile fails it and is sent at once): 3 + 3 (the push's
//     timeout) + 5 = 11s.
func ConvergenceBound(k Kind) sim.Time {
	switch k {
	case Eureka:
		return eurekaRenewInterval + eurekaBatchDelay + eurekaCacheRefresh + 5*sim.Second
	case NacosAP:
		return distroRetryDelay + distroSyncTimeout + distroVerifyInterval
	}
	return 0
}

// Promises checks what the registry promises, on a run's figures; each broken promise is
// a sentence. CP (ZooKeeper, Nacos persistent instances): a minority side of a partition
// refuses every registration (ZooKeeper's linearizability is the checker's, on its client
// operations). AP (Eureka, Nacos ephemeral instances): every live server answers every
// query, on both sides; after the heal every server converges within ConvergenceBound;
// Eureka's self-preservation removes no live instance when renewals are lost (selfPreservation).
func Promises(m *Metrics, servers int, selfPreservation bool) []string {
	var out []string
	if m.Fault != nil && len(m.Sides) == 2 {
		minority := -1
		for i, s := range m.Sides {
			n := 0
			for _, id := range s.Nodes {
				if int(id) <= servers {
					n++
				}
			}
			if 2*n < servers && n > 0 {
				minority = i
			}
		}
		if m.Kind.CP() && minority >= 0 && m.Sides[minority].RegOK > 0 {
			out = append(out, fmt.Sprintf("%s: the minority side accepted %d of %d registrations during the partition", m.Kind, m.Sides[minority].RegOK, m.Sides[minority].RegCalls))
		}
		if !m.Kind.CP() {
			for i, s := range m.Sides {
				if s.QryCalls > 0 && s.QryOK < s.QryCalls {
					out = append(out, fmt.Sprintf("%s: side %c answered %d of %d queries during the partition", m.Kind, 'A'+i, s.QryOK, s.QryCalls))
				}
			}
			if m.HealAt >= 0 && (m.Converge < 0 || m.Converge > ConvergenceBound(m.Kind)) {
				got := "never"
				if m.Converge >= 0 {
					got = "after " + fmtSecs(m.Converge)
				}
				out = append(out, fmt.Sprintf("%s: the servers converged %s after the heal (bound %s)", m.Kind, got, fmtSecs(ConvergenceBound(m.Kind))))
			}
		}
	}
	if selfPreservation && m.Kind == Eureka && len(m.Removed) > 0 {
		out = append(out, fmt.Sprintf("%s: self-preservation let %d live instances be removed (%s)", m.Kind, len(m.Removed), strings.Join(m.Removed, ",")))
	}
	return out
}
