package firewall

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Timeout is firewall.ports' own deadline: a handful of D-Bus calls, ~1 ms each.
const Timeout = 3 * time.Second

// Ports is firewall.ports: the zone that applies to the cluster interface lets in the
// membership multicast, the receiver range and AJP, at runtime and permanently.
type Ports struct {
	Iface     string
	Group     netip.Addr
	McastPort int
	Receiver  probes.PortRange
	AJPPort   int
	// Guard, when set, shares one assessment with firewall.igmp.
	Guard *Guard
}

// ID implements probes.Probe.
func (Ports) ID() string { return "firewall.ports" }

// Timeout implements probes.Probe.
func (Ports) Timeout() time.Duration { return Timeout }

// DependsOn implements probes.Dependent.
func (Ports) DependsOn() []string { return []string{"link.cluster"} }

// Needs lists the traffic the cluster needs in.
func (p Ports) Needs() []Need {
	return []Need{
		{Lo: p.McastPort, Hi: p.McastPort, Proto: "udp", Dst: p.Group, FromPeers: true, Label: "membership multicast"},
		{Lo: p.Receiver.From, Hi: p.Receiver.To, Proto: "tcp", FromPeers: true, Label: "replication receivers"},
		{Lo: p.AJPPort, Hi: p.AJPPort, Proto: "tcp", Label: "AJP"},
	}
}

// Run implements probes.Probe.
func (p Ports) Run(ctx context.Context, env *probes.Env) probes.Result {
	a, err := assess(ctx, env, p.Guard, p.Iface, p.Needs())
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

func joinNeeds(cov []Coverage) string {
	var s []string
	for _, c := range cov {
		s = append(s, c.Need.String())
	}
	return strings.Join(s, ", ")
}
