package firewall

import (
	"context"
	"net/netip"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Timeout is firewall.ports' own deadline: a handful of D-Bus calls, ~1 ms each.
const Timeout = 3 * time.Second

// Ports is firewall.ports: the zone that applies to the cluster interface lets in what
// this Tomcat uses, at runtime and permanently: the membership multicast (with multicast
// membership only), the receiver range, and AJP where an AJP connector exists, else the
// HTTP connector a proxying web tier connects to.
type Ports struct {
	Iface     string
	Group     netip.Addr
	McastPort int
	// NoMulticast is set with static or cloud membership: no heartbeat is multicast.
	NoMulticast bool
	Receiver    probes.PortRange
	// AJPPort is 0 when there is no AJP connector; HTTPPort 0 when none is required.
	AJPPort, HTTPPort int
	// Peers are the other cluster hosts (names or addresses): the peers' traffic is
	// judged from each of them; without them, from any host of the cluster subnet.
	Peers []string
	// Guard, when set, shares one assessment with firewall.igmp.
	Guard *Guard
}

// PortsFor is the firewall.ports of the settings.
func PortsFor(s probes.Settings) Ports {
	return Ports{Iface: s.Iface, Group: s.Group, McastPort: s.McastPort, NoMulticast: s.Membership != probes.Multicast,
		Receiver: s.ReceiverPorts, AJPPort: s.AJPPort, HTTPPort: s.HTTPPort, Peers: s.Peers}
}

// ID implements probes.Probe.
func (Ports) ID() string { return "firewall.ports" }

// Timeout implements probes.Probe.
func (Ports) Timeout() time.Duration { return Timeout }

// DependsOn implements probes.Dependent.
func (Ports) DependsOn() []string { return []string{"link.cluster"} }

// Needs lists the traffic the cluster needs in.
func (p Ports) Needs() []Need {
	var out []Need
	if !p.NoMulticast {
		out = append(out, Need{Lo: p.McastPort, Hi: p.McastPort, Proto: "udp", Dst: p.Group, FromPeers: true, Label: "membership multicast"})
	}
	out = append(out, Need{Lo: p.Receiver.From, Hi: p.Receiver.To, Proto: "tcp", FromPeers: true, Label: "replication receivers"})
	if p.AJPPort > 0 {
		out = append(out, Need{Lo: p.AJPPort, Hi: p.AJPPort, Proto: "tcp", Label: "AJP"})
	}
	if p.HTTPPort > 0 {
		out = append(out, Need{Lo: p.HTTPPort, Hi: p.HTTPPort, Proto: "tcp", Label: "HTTP from the web tier"})
	}
	return out
}

// Run implements probes.Probe.
func (p Ports) Run(ctx context.Context, env *probes.Env) probes.Result {
	a, err := assess(ctx, env, p.Guard, p.Iface, p.Peers, p.Needs())
	if err != nil {
		return probes.Result{ID: p.ID(), Status: probes.Unknown, Summary: err.Error()}
	}
	return a.Result(p.ID(), p.Iface)
}

func say(v Verdict) string {
	if v.Open {
		return "open (" + v.Why + ")"
	}
	return "closed (" + v.Why + ")"
}
