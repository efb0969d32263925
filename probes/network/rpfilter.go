package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/resolve"
)

// RPFilter is sysctl.rp_filter: strict reverse-path filtering that drops the cluster's
// traffic. With rp_filter=1 the kernel drops a packet whose source it would not route back
// out of the interface it came in on; that only bites when the route back to a peer leaves
// by another interface (a peer in another subnet, the default route on another NIC). So the
// kernel is asked, for every peer: would a packet from it arriving on the cluster interface
// pass? (Equivalent to: ip route get OWN-ADDRESS from PEER iif IFACE, which fails with
// "Invalid argument", a martian source, when rp_filter drops it.) Without peers, a source in the cluster
// interface's own subnet always passes, so strict filtering is no finding.
type RPFilter struct {
	Iface string
	Peers []string
}

// ID implements probes.Probe.
func (RPFilter) ID() string { return "sysctl.rp_filter" }

// KernelOnly: the per-interface sysctls and the routes it asks are the running kernel's.
func (RPFilter) KernelOnly() {}

// Timeout implements probes.Probe.
func (RPFilter) Timeout() time.Duration { return LinkTimeout }

// rpDrop is a peer whose packets the kernel's reverse-path filter drops on the cluster
// interface, and where the route back to it leaves.
type rpDrop struct {
	peer   string
	addr   netip.Addr
	egress string
}

// Run implements probes.Probe.
func (p RPFilter) Run(ctx context.Context, env *probes.Env) probes.Result {
	id := p.ID()
	all, err := readSysctlInt(env, "/proc/sys/net/ipv4/conf/all/rp_filter")
	if err != nil {
		return probes.UnknownResult(id, err.Error())
	}
	dev, err := readSysctlInt(env, "/proc/sys/net/ipv4/conf/"+p.Iface+"/rp_filter")
	if err != nil {
		return probes.UnknownResult(id, err.Error())
	}
	if max(all, dev) != 1 || !env.LiveKernel() {
		return decideRPFilter(p.Iface, all, dev, nil, len(p.Peers))
	}
	drops, err := p.reversePath(ctx, env)
	if err != nil {
		return probes.UnknownResult(id, err.Error())
	}
	return decideRPFilter(p.Iface, all, dev, drops, len(p.Peers))
}

// reversePath asks the kernel, per peer, whether a datagram from it to the group arriving
// on the cluster interface passes the reverse-path filter.
func (p RPFilter) reversePath(ctx context.Context, env *probes.Env) ([]rpDrop, error) {
	var drops []rpDrop
	var r *resolve.Resolver
	local, err := env.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	// The kernel validates the source of unicast to this host and of multicast it has
	// joined the same way; a lookup to our own cluster address needs no membership.
	var own netip.Addr
	for _, a := range local {
		if a.Iface == p.Iface && a.Prefix.Addr().Is4() {
			own = a.Prefix.Addr()
			break
		}
	}
	if !own.IsValid() {
		return nil, nil // link.cluster says it has no IPv4 address
	}
	for _, peer := range p.Peers {
		addr, err := netip.ParseAddr(peer)
		if err != nil {
			if r == nil {
				if r, err = resolve.New(env); err != nil {
					return nil, err
				}
			}
			ans, err := r.Lookup(ctx, peer)
			if err != nil {
				continue // hosts.peers says it does not resolve
			}
			addr = ans.First()
		}
		if !addr.Is4() || addr.IsLoopback() || probes.HolderOf(local, addr) != "" {
			continue // this host itself (hosts.peers names it)
		}
		_, err = env.Netlink.RouteGetWithOptions(net.IP(own.AsSlice()), &netlink.RouteGetOptions{Iif: p.Iface, SrcAddr: net.IP(addr.AsSlice())})
		// ip_route_input_slow reports a source that fails fib_validate_source as a martian
		// (EINVAL; EXDEV on the forwarding path)
		if errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EINVAL) {
			d := rpDrop{peer: peer, addr: addr}
			if rs, err := env.Netlink.RouteGet(net.IP(addr.AsSlice())); err == nil && len(rs) > 0 {
				if l, err := env.Netlink.LinkByIndex(rs[0].LinkIndex); err == nil {
					d.egress = l.Attrs().Name
				}
			}
			drops = append(drops, d)
		}
	}
	return drops, nil
}

// decideRPFilter applies the kernel's rule (the effective value is max(all, iface)) and
// its answers for the peers.
func decideRPFilter(iface string, all, dev int, drops []rpDrop, peers int) probes.Result {
	const id = "sysctl.rp_filter"
	eff := max(all, dev)
	ev := map[string]any{"all": all, iface: dev, "effective": eff}
	mode := map[int]string{0: "off", 1: "strict", 2: "loose"}[eff]
	if len(drops) > 0 {
		var names []string
		for _, d := range drops {
			names = append(names, fmt.Sprintf("%s (%s, routed back via %s)", d.peer, d.addr, d.egress))
		}
		ev["dropped"] = names
		d := drops[0]
		return probes.WarnResult(id, fmt.Sprintf("strict reverse-path filtering on %s drops what %s (%s) sends: the route back to it leaves via %s", iface, d.peer, d.addr, d.egress)).
			With("the kernel refuses a packet whose source it would route out of another interface (ip route get ... from "+d.addr.String()+" iif "+iface+": a martian source); heartbeats and replication from "+strings.Join(names, ", ")+" disappear without a trace",
				fmt.Sprintf("route the peers' subnet via %s, or sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.%s.rp_filter=2 (persist in /etc/sysctl.d/90-clusterdoctor.conf)", iface, iface), ev)
	}
	summary := fmt.Sprintf("reverse-path filtering on %s is %s (rp_filter=%d)", iface, mode, eff)
	if eff == 1 && peers > 0 {
		summary += fmt.Sprintf(": the kernel lets in what each of the %d peers sends", peers)
	}
	return probes.PassResult(id, summary).With("", "", ev)
}

func readSysctlInt(env *probes.Env, path string) (int, error) {
	s, err := env.ReadTrimmed(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a number", path, s)
	}
	return v, nil
}
