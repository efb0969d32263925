package igmp

import (
	"context"
	"fmt"
	"time"

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
}

// ID implements probes.Probe.
func (SnoopingCheck) ID() string { return "igmp.snooping" }

// Timeout implements probes.Probe.
func (SnoopingCheck) Timeout() time.Duration { return 2 * time.Second }

// DependsOn implements probes.Dependent.
func (SnoopingCheck) DependsOn() []string { return []string{"link.cluster"} }

// KernelOnly implements probes.KernelOnly.
func (SnoopingCheck) KernelOnly() {}

// Run implements probes.Probe.
func (p SnoopingCheck) Run(_ context.Context, _ *probes.Env) probes.Result {
	id := p.ID()
	b, err := bridgeFor(p.Iface)
	switch {
	case err != nil:
		return probes.UnknownResult(id, err.Error())
	case b == nil:
		return probes.SkipResult(id, "no Linux bridge of this host carries "+p.Iface+" (a switch's snooping shows in igmp.querier)")
	}
	r := judgeBridge(*b)
	r.ID = id
	r.Evidence = map[string]any{"bridge": b.Name, "snooping": b.Snooping, "querier": b.Querier,
		"membershipMs": b.Membership.Milliseconds(), "otherQuerierMs": b.OtherQuerier.Milliseconds(),
		"queryIntervalMs": b.QueryInterval.Milliseconds(), "queryResponseMs": b.QueryResponse.Milliseconds(),
		"learnedQuerier": addrOrEmpty(b), "otherQuerierLeftMs": b.OtherTimer.Milliseconds()}
	return r
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
