package main

import (
	"context"
	"net/netip"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/firewall"
	"github.com/clusterdoctor/clusterdoctor/probes/mcast"
	"github.com/clusterdoctor/clusterdoctor/probes/ports"
	"github.com/clusterdoctor/clusterdoctor/probes/resolve"
	"github.com/clusterdoctor/clusterdoctor/probes/tomcat"
)

// nodeInfo is this host's settings summary for its peers: from the Tomcat the settings
// came from, when one was found.
func nodeInfo(env *probes.Env, s probes.Settings, found *tomcat.Found) mcast.Info {
	in := mcast.Info{Version: buildVersion(), Membership: s.Membership, Group: s.Group.String(), Port: s.McastPort}
	in.Host, _ = env.Hostname()
	if p := found.Primary(); p != nil {
		sum := p.Summary()
		in.Tomcat, in.Cluster, in.Manager, in.Interceptors = sum.Tomcat, sum.Cluster, sum.Manager, sum.Interceptors
		in.ChannelSendOptions, in.JvmRoute, in.Domain, in.Encrypt = sum.ChannelSendOptions, sum.JvmRoute, sum.Domain, sum.Encrypt
		in.ReceiverAddress, in.ReceiverPort, in.AJP = sum.ReceiverAddress, sum.ReceiverPort, sum.AJP
	}
	return in
}

// tomcatReceiver is the port a running Tomcat's receiver listens on in the receiver
// range (0: none): peers test TCP to it instead of to a stand-in.
func tomcatReceiver(ctx context.Context, env *probes.Env, s probes.Settings, found *tomcat.Found) int {
	pids := found.PIDs()
	if len(pids) == 0 {
		return 0
	}
	holders, err := ports.Listening(ctx, env, s.ReceiverPorts.Contains, pids...)
	if err != nil {
		return 0
	}
	for _, h := range holders {
		if h.Tomcat {
			return h.Port
		}
	}
	return 0
}

// ownFirewall asks firewall.ports' logic whether this host lets the membership port in
// from one peer, unicast and to the group: the answer to "why do its packets not arrive
// here" when the peer's side is fine.
func ownFirewall(env *probes.Env, s probes.Settings) func(ctx context.Context, peer netip.Addr) string {
	needs := []firewall.Need{
		{Lo: s.McastPort, Hi: s.McastPort, Proto: "udp", FromPeers: true, Label: "unicast from the peer"},
		{Lo: s.McastPort, Hi: s.McastPort, Proto: "udp", Dst: s.Group, FromPeers: true, Label: "membership multicast"},
	}
	return func(ctx context.Context, peer netip.Addr) string {
		for _, n := range needs {
			a, err := firewall.Assess(ctx, env, s.Iface, []firewall.Need{n}, []resolve.Peer{{Name: peer.String(), Addr: peer}})
			if err != nil {
				continue
			}
			if r := a.Result("firewall.ports", s.Iface); r.Status == probes.Fail {
				return r.Summary + " (" + n.Label + ")"
			}
		}
		return ""
	}
}
