// Package preflight builds the list of host checks from the settings: probes as data,
// no registry. It also derives the cluster interface when none is given.
package preflight

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/container"
	"github.com/clusterdoctor/clusterdoctor/probes/firewall"
	"github.com/clusterdoctor/clusterdoctor/probes/hostnames"
	"github.com/clusterdoctor/clusterdoctor/probes/igmp"
	"github.com/clusterdoctor/clusterdoctor/probes/network"
	"github.com/clusterdoctor/clusterdoctor/probes/ntp"
	"github.com/clusterdoctor/clusterdoctor/probes/ports"
	"github.com/clusterdoctor/clusterdoctor/probes/routecfg"
	"github.com/clusterdoctor/clusterdoctor/probes/tomcat"
	"github.com/clusterdoctor/clusterdoctor/probes/web"
)

// Checks returns every preflight check for the settings, whose Iface must already be
// derived (see ClusterIface), and the Tomcat instances found (nil: none looked for).
func Checks(s probes.Settings, choice Choice, found *tomcat.Found) []probes.Probe {
	list := checks(s, choice, found)
	if s.Node > 0 {
		for i, p := range list {
			if p.ID() == "ntp.sync" {
				list[i] = notApplicable{id: p.ID(), why: "skipped: a container keeps its host's clock (ntp.sync on the host judges it)"}
			}
		}
	}
	if !choice.Absent {
		return list
	}
	for i, p := range list {
		if _, ok := p.(probes.KernelOnly); ok {
			list[i] = notApplicable{id: p.ID(), why: "skipped: the running kernel has no interface " + s.Iface +
				" (--root " + s.Root + ": only the tree's files are checked for it)"}
		}
	}
	return list
}

func checks(s probes.Settings, choice Choice, found *tomcat.Found) []probes.Probe {
	// The two firewall checks share one assessment of the zone or rule set.
	fwPorts := firewall.PortsFor(s)
	fwIGMP := firewall.IGMP{Iface: s.Iface}
	needs := fwPorts.Needs()
	if s.Membership == probes.Multicast {
		needs = append(needs, fwIGMP.Need())
	}
	fwPorts.Guard = firewall.NewGuard(s.Iface, s.AllPeers(), needs...)
	fwIGMP.Guard = fwPorts.Guard
	list := []probes.Probe{
		network.Link{Iface: s.Iface, Source: s.IfaceSource, Guess: choice.Guess},
		network.RPFilter{Iface: s.Iface, Peers: s.AllPeers()},
		hostnames.Hostname{Iface: s.Iface, Absent: choice.Absent},
		hostnames.Peers{Iface: s.Iface, Peers: s.AllPeers()},
		ntp.Sync{},
		ports.Receiver{Range: s.ReceiverPorts, Likely: found.PIDs()},
		fwPorts,
		tomcat.Cluster{Found: found},
		tomcat.Classes{Found: found},
		tomcat.Distributable{Found: found},
		tomcat.JvmRoute{Found: found, Front: frontStickiness},
		tomcat.ReceiverCheck{Found: found, Iface: s.Iface},
		tomcat.MembershipCheck{Found: found, Iface: s.Iface},
		tomcat.AJP{Found: found, LocalTargets: web.AJPTargets},
		tomcat.Deployer{Found: found},
		tomcat.Logs{Found: found, PeersExpected: len(s.Peers) > 0},
		container.NetworkCheck{Iface: s.Iface, Peers: s.Peers, Membership: s.Membership, Group: s.Group, McastPort: s.McastPort, ReceiverPort: s.ReceiverPorts.From},
		web.Workers{Port: s.McastPort, Routes: s.Routes},
		web.Upstreams{},
	}
	multicast := []probes.Probe{
		tomcat.MembersCheck{Found: found, Iface: s.Iface, Group: s.Group, Port: s.McastPort, Peers: s.Peers, ReceiverPort: s.ReceiverPorts.From},
		network.Route{Iface: s.Iface, Group: s.Group, Port: s.McastPort},
		routecfg.Persistent{Iface: s.Iface, Dst: network.MulticastNet},
		fwIGMP,
		igmp.QuerierCheck{Iface: s.Iface, Agent: cmp.Or(s.Agent, probes.DefaultAgentListen), Listen: querierListen(found)},
		igmp.SnoopingCheck{Iface: s.Iface, Nodes: nodePIDs(found)},
	}
	for _, p := range multicast {
		if s.Membership == probes.Multicast {
			list = append(list, p)
		} else {
			list = append(list, notApplicable{id: p.ID(), why: "skipped: " + s.Membership + " membership sends no multicast (membership from " + s.Sources["membership"] + ")"})
		}
	}
	return containerHost(byRole(list, s), s, found)
}

// querierListen is how long igmp.querier listens when no agent answers: while
// tomcat.members listens to a running Tomcat anyway, so the run takes no longer for it.
func querierListen(found *tomcat.Found) time.Duration {
	if len(found.PIDs()) > 0 {
		return 1200 * time.Millisecond
	}
	return 0
}

// nodePIDs are the Tomcats in other network namespaces (containers) of this host.
func nodePIDs(found *tomcat.Found) []int {
	if found == nil {
		return nil
	}
	var out []int
	for _, n := range found.Nodes {
		out = append(out, n.PID)
	}
	return out
}

// containerHost skips the Tomcat host's checks on a host that has no Tomcat of its own
// but runs Tomcats in containers (other network namespaces): each of those is checked as a
// node of its own, in its namespace. Roles given by the operator are kept as given.
func containerHost(list []probes.Probe, s probes.Settings, found *tomcat.Found) []probes.Probe {
	if found == nil || len(found.Instances) > 0 || len(found.Nodes) == 0 || !strings.HasPrefix(s.Sources["roles"], "detected") {
		return list
	}
	why := fmt.Sprintf("skipped: this host's Tomcats run in %d other network namespaces (containers), each checked as a node of its own", len(found.Nodes))
	for i, p := range list {
		if id := p.ID(); !webOnly[id] && !forEveryHost[id] && !containerHostToo[id] {
			list[i] = notApplicable{id: id, why: why}
		}
	}
	return list
}

// forEveryHost are the checks that apply to a web host too: its link, its names for the
// peers and its clock; web are those of a web host only.
var (
	forEveryHost = map[string]bool{"link.cluster": true, "hosts.peers": true, "ntp.sync": true}
	// containerHostToo are the Tomcat host's checks that a host whose Tomcats all run in
	// containers needs for itself: the bridge that joins the containers is the host's.
	containerHostToo = map[string]bool{"igmp.snooping": true}
	webOnly          = map[string]bool{"ajp.workers": true, "web.upstreams": true}
)

// byRole skips the Tomcat host's checks on a host that is only a web host, and the web
// host's on a host that is only a Tomcat host, saying which role and where it came from.
// No roles (the settings of tests and tools that list checks) keeps every check.
func byRole(list []probes.Probe, s probes.Settings) []probes.Probe {
	if len(s.Roles) == 0 {
		return list
	}
	src := s.Sources["roles"]
	if src == "" {
		src = "given"
	}
	for i, p := range list {
		id := p.ID()
		switch {
		case webOnly[id] && !s.Has(probes.RoleWeb):
			list[i] = notApplicable{id: id, why: "skipped: not a web host (role was, " + src + ")"}
		case !webOnly[id] && !forEveryHost[id] && !s.Has(probes.RoleWAS):
			list[i] = notApplicable{id: id, why: "skipped: a web host runs no Tomcat (role web, " + src + ")"}
		}
	}
	return list
}

// notApplicable stands for a check that does not apply to this cluster, saying why.
type notApplicable struct{ id, why string }

func (n notApplicable) ID() string             { return n.id }
func (n notApplicable) Timeout() time.Duration { return time.Second }
func (n notApplicable) Run(context.Context, *probes.Env) probes.Result {
	return probes.SkipResult(n.id, n.why)
}

// IDs lists the IDs of every check, for validating --skip and --ignore.
func IDs() []string {
	var out []string
	for _, p := range Checks(probes.Defaults(), Choice{}, nil) {
		out = append(out, p.ID())
	}
	return out
}

// frontStickiness is how this host's balancers keep sessions, for tomcat.jvmroute.
func frontStickiness(env *probes.Env) (bySuffix, own []string) {
	s := web.StickinessOf(env)
	return s.BySuffix, s.Own
}
