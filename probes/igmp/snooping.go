package igmp

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// SnoopingCheck is igmp.snooping: a Linux bridge of this host that carries the cluster's
// traffic (the cluster interface is the bridge or one of its ports) keeps forwarding the
// group. A snooping bridge forgets a port's membership one membership interval after its
// last report; with its own querier the next query must come sooner, and without one a
// querier that goes quiet must be given up on (the bridge then floods again) before the
// memberships run out. `ip -d link show BRIDGE` shows the same settings.
type SnoopingCheck struct {
	Iface string
	// Nodes are the PIDs of Tomcats in other network namespaces (containers) on this
	// host: the bridge their veths are ports of carries their cluster traffic too.
	Nodes []int
}

// ID implements probes.Probe.
func (SnoopingCheck) ID() string { return "igmp.snooping" }

// Timeout implements probes.Probe.
func (SnoopingCheck) Timeout() time.Duration { return 2 * time.Second }

// DependsOn implements probes.Dependent.
func (SnoopingCheck) DependsOn() []string { return []string{"link.cluster"} }

// KernelOnly implements probes.KernelOnly.
func (SnoopingCheck) KernelOnly() {}

// carried is a bridge that carries the cluster, and why it is the one.
type carried struct {
	Bridge
	why string
}

// Run implements probes.Probe.
func (p SnoopingCheck) Run(_ context.Context, env *probes.Env) probes.Result {
	id := p.ID()
	list, err := p.bridges(env)
	switch {
	case err != nil:
		return probes.UnknownResult(id, err.Error())
	case len(list) == 0:
		return probes.SkipResult(id, "no Linux bridge of this host carries "+p.Iface+" (a switch's snooping shows in igmp.querier)")
	}
	var rs []probes.Result
	for _, b := range list {
		r := judgeBridge(b.Bridge)
		r.ID = id
		r.Summary = strings.Replace(r.Summary, "bridge "+b.Name, "bridge "+b.Name+" ("+b.why+")", 1)
		r.Evidence = map[string]any{"bridge": b.Name, "carries": b.why, "snooping": b.Snooping, "querier": b.Querier,
			"membershipMs": b.Membership.Milliseconds(), "otherQuerierMs": b.OtherQuerier.Milliseconds(),
			"queryIntervalMs": b.QueryInterval.Milliseconds(), "queryResponseMs": b.QueryResponse.Milliseconds(),
			"learnedQuerier": addrOrEmpty(&b.Bridge), "otherQuerierLeftMs": b.OtherTimer.Milliseconds()}
		rs = append(rs, r)
	}
	return probes.Merge(id, "bridges", rs)
}

// bridges are the bridges of this host that carry the cluster: the cluster interface, or
// the one it is a port of, and those whose ports lead into the nodes' namespaces.
func (p SnoopingCheck) bridges(env *probes.Env) ([]carried, error) {
	ls, err := ListLinks()
	if err != nil {
		return nil, err
	}
	byIndex := map[int]Bridge{}
	for _, b := range ls.Bridges {
		byIndex[b.Index] = b
	}
	var out []carried
	seen := map[int]bool{}
	add := func(b Bridge, why string) {
		if !seen[b.Index] {
			seen[b.Index] = true
			out = append(out, carried{b, why})
		}
	}
	if b, why, ok := ls.Carrying(p.Iface); ok {
		add(b, why)
	}
	for _, pid := range p.Nodes {
		nsid, err := netnsID(env, pid)
		if err != nil || nsid < 0 {
			continue
		}
		for port, peer := range ls.PeerNS {
			if b, ok := byIndex[ls.Master[port]]; ok && peer == nsid {
				add(b, fmt.Sprintf("it joins the Tomcat of pid %d", pid))
			}
		}
	}
	return out, nil
}

// netnsID is how this namespace numbers the network namespace of pid (-1: it does not,
// so no link of ours leads there).
func netnsID(env *probes.Env, pid int) (int, error) {
	fd, err := unix.Open(env.HostPath(fmt.Sprintf("/proc/%d/ns/net", pid)), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(fd)
	if env.Netlink == nil {
		return -1, fmt.Errorf("no netlink handle")
	}
	return env.Netlink.GetNetNsIdByFd(fd)
}

// judgeBridge decides on one bridge's settings, as the kernel's timers make them behave.
func judgeBridge(b Bridge) probes.Result {
	name := "bridge " + b.Name
	switch {
	case !b.Snooping:
		return probes.PassResult("", name+" floods multicast to every port (mcast_snooping 0)")
	case b.OwnQuerierLate():
		r := probes.WarnResult("", fmt.Sprintf("%s's own querier asks every %s and gives %s to answer, not within the %s membership interval: the bridge forgets the cluster's group between its queries",
			name, b.QueryInterval, b.QueryResponse, b.Membership))
		r.Remediation = fmt.Sprintf("ip link set %s type bridge mcast_query_interval %d (centiseconds: a query interval plus response below the membership interval), and the same in the bridge's persistent network configuration",
			b.Name, centisOf(max(b.Membership/2-b.QueryResponse, time.Second)))
		return r
	case b.Querier:
		return probes.PassResult("", fmt.Sprintf("%s snoops with its own querier: a query every %s, answered within %s, inside the %s membership interval",
			name, b.QueryInterval, b.QueryResponse, b.Membership))
	case b.Gap() > 0:
		learned := "a querier it learns"
		if b.Learned.IsValid() && b.LearnedPort != 0 {
			learned = "querier " + b.Learned.String() + ", which it learned,"
		}
		r := probes.WarnResult("", fmt.Sprintf("%s snoops without a querier of its own and forgets a group %s after the last report, but counts a silent querier as present for %s: when %s goes quiet, the cluster's group is not forwarded for up to %s",
			name, b.Membership, b.OtherQuerier, learned, b.Gap()))
		r.Remediation = fmt.Sprintf("ip link set %s type bridge mcast_querier 1 (its own querier), or mcast_querier_interval %d (below the membership interval), and the same in the bridge's persistent network configuration",
			b.Name, centisOf(b.Membership-time.Second))
		return r
	}
	s := fmt.Sprintf("%s snoops without a querier of its own; a querier that goes quiet leaves no gap (membership %s, other querier %s)", name, b.Membership, b.OtherQuerier)
	if b.Learned.IsValid() && b.OtherTimer > 0 {
		s += "; it has learned querier " + b.Learned.String()
	}
	return probes.PassResult("", s)
}

func centisOf(d time.Duration) int64 { return int64(d / (10 * time.Millisecond)) }

func addrOrEmpty(b *Bridge) string {
	if !b.Learned.IsValid() {
		return ""
	}
	return b.Learned.String()
}
