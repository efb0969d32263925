package container

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/resolve"
)

// NetworkCheck is container.network: whether the Tomcats of other hosts can reach a
// container's Tomcat. Tomcat advertises the address its Receiver binds, which in a
// container on an engine's bridge (docker0, podman0, cni0) is an address of that bridge's
// network: other hosts reach the host, not the container, and a published port does not
// change what Tomcat advertises. Multicast from such a container stays on the bridge:
// the host routes none of it. It runs in a node's own run (the host's clusterdoctor checks
// each container as a node); the host's side is read through the veth's other end.
type NetworkCheck struct {
	Iface string
	// Peers are the operator's host list (--peer): the other hosts of the cluster.
	Peers []string
	// Membership is how the node's Tomcat finds its members (probes.Multicast, ...).
	Membership string
	// Group, McastPort and ReceiverPort are what the other containers on the bridge send
	// it (heartbeats, replication).
	Group                   netip.Addr
	McastPort, ReceiverPort int
}

// ID implements probes.Probe.
func (NetworkCheck) ID() string { return "container.network" }

// Timeout implements probes.Probe.
func (NetworkCheck) Timeout() time.Duration { return 2 * time.Second }

// DependsOn implements probes.Dependent.
func (NetworkCheck) DependsOn() []string { return []string{"link.cluster"} }

// Run implements probes.Probe.
func (p NetworkCheck) Run(ctx context.Context, env *probes.Env) probes.Result {
	id := p.ID()
	switch {
	case env.InContainer:
		return probes.UnknownResult(id, probes.ContainerReason)
	case env.Node == 0:
		return probes.SkipResult(id, "this host's own Tomcat shares the host's network; the host checks each container's Tomcat as a node of its own, with this check")
	case env.Netlink == nil:
		return probes.UnknownResult(id, "no netlink handle: reading the interfaces needs root")
	}
	link, err := env.Netlink.LinkByName(p.Iface)
	if err != nil {
		return probes.UnknownResult(id, fmt.Sprintf("read %s: %v", p.Iface, err))
	}
	addrs, err := env.InterfaceAddrs()
	if err != nil {
		return probes.UnknownResult(id, err.Error())
	}
	var own []netip.Prefix
	for _, a := range addrs {
		if a.Iface == p.Iface && a.Prefix.Addr().Is4() {
			own = append(own, a.Prefix)
		}
	}
	if len(own) == 0 {
		return probes.UnknownResult(id, p.Iface+" has no IPv4 address")
	}
	peers, err := resolve.PeersOf(ctx, env, p.Peers)
	if err != nil {
		return probes.UnknownResult(id, err.Error())
	}
	var beyond []netip.Addr
	for _, peer := range peers.Others {
		if !onLink(own, peer.Addr) {
			beyond = append(beyond, peer.Addr)
		}
	}
	multicast := p.Membership == probes.Multicast
	side, err := findHostSide(env, link, own[0], Traffic{Group: p.Group, McastPort: p.McastPort, RxPort: p.ReceiverPort, Multicast: multicast}, beyond)
	if err != nil {
		return probes.UnknownResult(id, "cannot see the host's side of "+p.Iface+": "+err.Error())
	}
	// the node's own host, given in the host list, reaches the bridge directly
	beyond = slices.DeleteFunc(beyond, func(a netip.Addr) bool { return slices.Contains(side.Own, a) })
	r := judgeNetwork(p.Iface, own[0], side, beyond, multicast)
	r.ID = id
	if side.Undecided != "" {
		r.Detail = strings.TrimSpace(r.Detail + " The host's forward rules could not be run for the bridge: " + side.Undecided)
	}
	egress := map[string]string{}
	for peer, dev := range side.Egress {
		egress[peer.String()] = dev
	}
	r.Evidence = map[string]any{"iface": p.Iface, "address": own[0].String(), "kind": side.Kind, "hostNamespace": side.Namespace,
		"hostLink": side.Link, "bridge": side.Bridge, "peersBeyond": addrList(beyond), "egress": egress, "tunnels": side.Tunnels, "dropped": side.Dropped}
	return r
}

// onLink says whether addr is on one of the networks own are addresses of.
func onLink(own []netip.Prefix, addr netip.Addr) bool {
	for _, p := range own {
		if p.Masked().Contains(addr) {
			return true
		}
	}
	return false
}

// judgeNetwork decides from the node's address, its host side and the peers that are not
// on its network (reached through a router: the host, for a bridged container).
func judgeNetwork(iface string, addr netip.Prefix, side HostSide, beyond []netip.Addr, multicast bool) probes.Result {
	where := iface + " " + addr.String()
	switch side.Kind {
	case "veth":
	case "macvlan", "ipvlan", "macvtap":
		if len(beyond) > 0 && multicast {
			r := probes.FailResult("", fmt.Sprintf("%s is a %s on the hosts' LAN, but the peers %s are not on its network: multicast does not cross the router between them",
				where, side.Kind, addrList(beyond)))
			r.Detail, r.Remediation = staticDetail, staticFix
			return r
		}
		return probes.PassResult("", fmt.Sprintf("%s is a %s on the hosts' LAN: other hosts reach the address Tomcat advertises", where, side.Kind))
	default:
		return probes.PassResult("", fmt.Sprintf("%s (%s) is the node's own interface, not a veth to an engine's bridge: other hosts reach it as they reach the host", where, side.Kind))
	}
	on := "the veth " + side.Link
	if side.Bridge != "" {
		on = "bridge " + side.Bridge
	}
	short := on
	on += " in " + side.Namespace
	var problems, fixes []string
	if len(side.Dropped) > 0 {
		problems = append(problems, fmt.Sprintf("the forward rules of %s drop what the other containers on %s send it (br_netfilter passes bridged traffic to them): %s",
			side.Namespace, side.Bridge, strings.Join(side.Dropped, "; ")))
		fixes = append(fixes, fmt.Sprintf("accept %s's own traffic in that namespace's forward chain (iptables -I FORWARD -i %s -o %s -j ACCEPT; Docker: \"icc\": true; firewalld: the bridge in the trusted zone)",
			side.Bridge, side.Bridge, side.Bridge))
	}
	if len(beyond) == 0 && len(problems) > 0 {
		r := probes.FailResult("", where+": "+strings.Join(problems, "; "))
		r.Remediation = strings.Join(fixes, "; ")
		return r
	}
	if len(beyond) == 0 {
		r := probes.PassResult("", fmt.Sprintf("%s is on %s, and no peer given (--peer) is beyond it: the Tomcats of this host's containers reach each other there", where, on))
		r.Detail = fmt.Sprintf("Tomcats of other hosts reach %s only if it is routed to them: give the cluster's hosts with --peer to have that judged", addr.Addr())
		return r
	}
	var through []string
	for _, b := range beyond {
		dev := side.Egress[b]
		if dev == "" {
			dev = "no route"
		}
		through = append(through, b.String()+" through "+dev)
	}
	if len(side.Tunnels) > 0 && !multicast && len(problems) == 0 {
		return probes.PassResult("", fmt.Sprintf("%s is on %s; the peers are routed (%s) and the host has the overlay %s: other hosts reach %s where it routes this network",
			where, on, strings.Join(through, ", "), strings.Join(side.Tunnels, ", "), addr.Addr()))
	}
	if len(side.Tunnels) == 0 {
		problems = append(problems, fmt.Sprintf("Tomcat advertises %s, an address of %s, which the peers %s reach only through the host (%s): they cannot reach it, and a published port does not change the address Tomcat advertises",
			addr.Addr(), on, addrList(beyond), strings.Join(through, ", ")))
	}
	if multicast {
		problems = append(problems, fmt.Sprintf("its multicast heartbeats stay on %s: the host routes no multicast to %s", short, addrList(beyond)))
	}
	r := probes.FailResult("", where+": "+strings.Join(problems, "; "))
	if len(side.Tunnels) == 0 {
		fixes = append(fixes, reachFix)
	}
	if multicast {
		fixes = append(fixes, staticFix)
		r.Detail = staticDetail
	}
	r.Remediation = strings.Join(fixes, "; ")
	return r
}

func addrList(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

const (
	reachFix = "run the container on the host's network (docker/podman run --network host), or on a network the other hosts reach directly (macvlan or ipvlan on the hosts' LAN: docker network create -d macvlan --subnet LAN/24 -o parent=eth0 NAME), so that the Receiver binds an address the peers can connect to"
	// staticFix names the membership that needs no multicast.
	staticFix    = "replace McastService with StaticMembershipService (Tomcat 9.0.11 and later), listing every member"
	staticDetail = `<Channel className="org.apache.catalina.tribes.group.GroupChannel">` +
		` <Membership className="org.apache.catalina.tribes.membership.StaticMembershipService">` +
		` <LocalMember className="org.apache.catalina.tribes.membership.StaticMember" uniqueId="{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1}"/>` +
		` <Member className="org.apache.catalina.tribes.membership.StaticMember" host="PEER" port="4000" uniqueId="{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2}"/>` +
		` </Membership> ... </Channel> (one Member per other node; each node's LocalMember uniqueId is its own, the same as its Member entry on the others)`
)
