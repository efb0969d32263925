// Package network checks the cluster interface and how multicast leaves the host.
package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// LinkTimeout bounds netlink queries: the kernel answers in microseconds, so anything
// longer means a wedged host.
const LinkTimeout = 2 * time.Second

// Link is link.cluster: the cluster interface exists, is up, has carrier and an IPv4
// address. Equivalent to: ip -br addr show dev IFACE.
type Link struct {
	Iface string
	// Source says how Iface was chosen; Guess marks the last-resort default-route guess.
	Source string
	Guess  bool
}

// ID implements probes.Probe.
func (Link) ID() string { return "link.cluster" }

// KernelOnly: the link and its addresses are the running kernel's.
func (Link) KernelOnly() {}

// Timeout implements probes.Probe.
func (Link) Timeout() time.Duration { return LinkTimeout }

// Run implements probes.Probe.
func (p Link) Run(ctx context.Context, env *probes.Env) probes.Result {
	id := p.ID()
	if p.Iface == "" {
		return probes.FailResult(id, "no cluster interface: none given and none could be derived").
			With("no --iface, no host name address on a local interface, no peer, no default route", "clusterdoctor preflight --iface NAME", nil)
	}
	l, err := env.Netlink.LinkByName(p.Iface)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return probes.FailResult(id, fmt.Sprintf("no interface named %s", p.Iface)).
				With("", "check the name with: ip -br link", nil)
		}
		return probes.UnknownResult(id, fmt.Sprintf("cannot read interface %s: %v", p.Iface, err))
	}
	a := l.Attrs()
	addrs, err := env.Netlink.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return probes.UnknownResult(id, fmt.Sprintf("cannot list addresses of %s: %v", p.Iface, err))
	}
	var v4 []string
	for _, ad := range addrs {
		v4 = append(v4, ad.IPNet.String())
	}
	ev := map[string]any{"iface": p.Iface, "source": p.Source, "operstate": a.OperState.String(),
		"addresses": v4, "multicast": a.Flags&net.FlagMulticast != 0, "mtu": a.MTU}
	switch {
	case a.Flags&net.FlagUp == 0:
		return probes.FailResult(id, fmt.Sprintf("%s is down", p.Iface)).
			With("", fmt.Sprintf("ip link set %s up (and make it start at boot in the network config)", p.Iface), ev)
	case a.OperState == netlink.OperDown || a.OperState == netlink.OperLowerLayerDown:
		return probes.FailResult(id, fmt.Sprintf("%s has no carrier (operstate %s)", p.Iface, a.OperState)).
			With("the link is administratively up but nothing is connected or the peer end is down", "check the cable, switch port or virtual NIC of "+p.Iface, ev)
	case len(v4) == 0:
		return probes.FailResult(id, fmt.Sprintf("%s has no IPv4 address", p.Iface)).
			With("Tomcat's McastService and NioReceiver need an IPv4 address on the cluster interface",
				fmt.Sprintf("ip addr add ADDRESS/PREFIX dev %s (and persist it in the network config)", p.Iface), ev)
	case a.Flags&net.FlagMulticast == 0:
		return probes.WarnResult(id, fmt.Sprintf("%s is up with %s but its MULTICAST flag is off", p.Iface, strings.Join(v4, ", "))).
			With("some drivers drop multicast on interfaces without the flag", fmt.Sprintf("ip link set %s multicast on", p.Iface), ev)
	case p.Guess:
		return probes.WarnResult(id, fmt.Sprintf("%s is up with %s, but it was only guessed (%s)", p.Iface, strings.Join(v4, ", "), p.Source)).
			With("the cluster interface is guessed from the default route when nothing better is known", "name it: clusterdoctor preflight --iface NAME", ev)
	}
	return probes.PassResult(id, fmt.Sprintf("%s is up with %s (%s)", p.Iface, strings.Join(v4, ", "), p.Source)).With("", "", ev)
}
