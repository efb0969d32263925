package firewall

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// allHosts is where IGMP general queries go (224.0.0.1).
var allHosts = netip.AddrFrom4([4]byte{224, 0, 0, 1})

// IGMP is firewall.igmp: the guard of the cluster interface lets IGMP in. A switch with
// IGMP snooping forwards the group only to ports whose hosts answer its queries; a host
// that never hears them stops answering, and a few minutes after the last unsolicited
// report the switch stops forwarding membership traffic to it. Hence warn, not fail:
// without a querier on the LAN nothing breaks.
type IGMP struct {
	Iface string
	// Guard, when set, shares one assessment with firewall.ports.
	Guard *Guard
}

// ID implements probes.Probe.
func (IGMP) ID() string { return "firewall.igmp" }

// Timeout implements probes.Probe.
func (IGMP) Timeout() time.Duration { return Timeout }

// DependsOn implements probes.Dependent.
func (IGMP) DependsOn() []string { return []string{"link.cluster"} }

// Need is the IGMP a host must hear: the queries to all hosts.
func (IGMP) Need() Need {
	return Need{Proto: "igmp", Dst: allHosts, Label: "IGMP queries from the switch or router"}
}

// Run implements probes.Probe.
func (p IGMP) Run(ctx context.Context, env *probes.Env) probes.Result {
	a, err := assess(ctx, env, p.Guard, p.Iface, guardPeers(p.Guard), []Need{p.Need()})
	if err != nil {
		return probes.Result{ID: p.ID(), Status: probes.Unknown, Summary: err.Error()}
	}
	r := a.Result(p.ID(), p.Iface)
	if r.Status == probes.Fail {
		r.Status = probes.Warn
		r.Summary += ": a snooping switch stops forwarding the group to this host minutes after it joins"
	}
	if r.Status != probes.Pass {
		switch a.Guard {
		case "firewalld":
			r.Remediation = fmt.Sprintf("clusterdoctor fix firewall --iface %s (firewall-cmd [--permanent] --zone=%s --add-protocol=igmp)", p.Iface, a.Zone)
		case "nftables":
			r.Remediation = fmt.Sprintf("accept IGMP on %s before the rule that drops it (nft insert rule ... iifname %s meta l4proto igmp accept), and in /etc/nftables.conf", p.Iface, p.Iface)
		default:
			r.Remediation = fmt.Sprintf("firewall-offline-cmd --zone=%s --add-protocol=igmp", a.Zone)
		}
	}
	return r
}

// guardPeers are the peers g was built for: IGMP queries come from no peer, so any list
// shares g's assessment.
func guardPeers(g *Guard) []string {
	if g == nil {
		return nil
	}
	return g.peers
}
