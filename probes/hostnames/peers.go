package hostnames

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/resolve"
)

// Peers is hosts.peers: every peer name resolves to one address, which is not loopback, no
// two peers share one, /etc/hosts does not map a peer to two addresses, and the route to
// each peer leaves by the cluster interface. A peer that is this host (the same list is
// given on every host) is skipped and named.
// Equivalent to: getent ahostsv4 PEER; ip route get ADDRESS.
type Peers struct {
	Iface string
	Peers []string
}

// ID implements probes.Probe.
func (Peers) ID() string { return "hosts.peers" }

// Timeout implements probes.Probe.
func (Peers) Timeout() time.Duration { return ResolveTimeout }

// peerFacts is what was learnt about one peer.
type peerFacts struct {
	name   string
	addrs  []netip.Addr
	err    error
	egress string // interface the route to the peer leaves by
}

// Run implements probes.Probe.
func (p Peers) Run(ctx context.Context, env *probes.Env) probes.Result {
	if len(p.Peers) == 0 {
		return probes.SkipResult(p.ID(), "no --peer given")
	}
	r, err := resolve.New(env)
	if err != nil {
		return probes.UnknownResult(p.ID(), err.Error())
	}
	local, err := env.InterfaceAddrs()
	if err != nil {
		return probes.UnknownResult(p.ID(), err.Error())
	}
	facts := make([]peerFacts, 0, len(p.Peers))
	var selves []string
	for _, name := range p.Peers {
		if self, how := r.Self(ctx, name, local); self {
			selves = append(selves, fmt.Sprintf("%s (%s)", name, how))
			continue
		}
		f := peerFacts{name: name}
		if a, err := netip.ParseAddr(name); err == nil {
			f.addrs = []netip.Addr{a.Unmap()}
		} else {
			ans, err := r.Lookup(ctx, name)
			f.addrs, f.err = ans.Addrs, err
		}
		if len(f.addrs) > 0 {
			if rs, err := env.Netlink.RouteGet(net.IP(f.addrs[0].AsSlice())); err == nil && len(rs) > 0 {
				if l, err := env.Netlink.LinkByIndex(rs[0].LinkIndex); err == nil {
					f.egress = l.Attrs().Name
				}
			}
		}
		facts = append(facts, f)
	}
	if len(facts) == 0 {
		return probes.SkipResult(p.ID(), "every --peer is this host: "+strings.Join(selves, ", ")).
			With("", "", map[string]any{"self": selves})
	}
	res := decidePeers(p.Iface, facts, conflicts(r.Hosts, p.Peers))
	if len(selves) > 0 {
		res.Evidence["self"] = selves
		res.Detail = joinNotes(res.Detail, "skipped, this host: "+strings.Join(selves, ", "))
	}
	return res
}

func decidePeers(iface string, facts []peerFacts, conflicting []string) probes.Result {
	const id = "hosts.peers"
	var fails, warns, oks []string
	seen := map[netip.Addr]string{}
	ev := map[string]any{}
	for _, f := range facts {
		if f.err != nil {
			fails = append(fails, fmt.Sprintf("%s does not resolve", f.name))
			continue
		}
		a := f.addrs[0]
		ev[f.name] = a.String()
		switch {
		case a.IsLoopback():
			fails = append(fails, fmt.Sprintf("%s resolves to loopback %s", f.name, a))
		case seen[a] != "":
			fails = append(fails, fmt.Sprintf("%s and %s both resolve to %s", seen[a], f.name, a))
		case f.egress != "" && f.egress != iface:
			warns = append(warns, fmt.Sprintf("traffic to %s (%s) leaves via %s, not %s", f.name, a, f.egress, iface))
		case len(f.addrs) > 1:
			warns = append(warns, fmt.Sprintf("%s resolves to %d addresses (%s); Java uses the first", f.name, len(f.addrs), a))
		default:
			oks = append(oks, fmt.Sprintf("%s=%s", f.name, a))
		}
		seen[a] = f.name
	}
	warns = append(warns, conflicting...)
	switch {
	case len(fails) > 0:
		return probes.FailResult(id, strings.Join(fails, "; ")).
			With(strings.Join(warns, "; "), "give every peer one entry with its cluster address in /etc/hosts on every host (the same file everywhere)", ev)
	case len(warns) > 0:
		return probes.WarnResult(id, strings.Join(warns, "; ")).
			With("", fmt.Sprintf("keep one /etc/hosts entry per peer, with an address reached via %s", iface), ev)
	}
	what := "peers resolve to distinct addresses"
	if len(facts) == 1 {
		what = "peer resolves to an address"
	}
	return probes.PassResult(id, fmt.Sprintf("%d %s via %s: %s", len(facts), what, iface, strings.Join(oks, ", "))).
		With("", "", ev)
}
