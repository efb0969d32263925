package preflight

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/resolve"
)

// Choice is the cluster interface and how it was found.
type Choice struct {
	Iface  string
	Source string
	// Guess is true for the last resort, the default route's interface.
	Guess bool
	// Absent: under --root, an --iface the running kernel does not have.
	Absent bool
}

// ClusterIface picks the cluster interface as the design orders it: --iface; else the
// interface holding server.xml's Receiver address (or McastService bind); else the one
// holding the address the host name resolves to (unless loopback); else the one routing
// to the first peer; else the default route's, as a guess. An --iface that does not
// exist is a usage error on the live host; under another --root it is taken as given
// (Absent), for the checks that read the tree's files.
func ClusterIface(ctx context.Context, env *probes.Env, s probes.Settings) (Choice, error) {
	if s.Iface != "" {
		if _, err := env.Netlink.LinkByName(s.Iface); err != nil {
			if !env.LiveKernel() {
				// An image's or another host's interface: the checks that read files
				// (network configuration, firewalld zones) take the name as given.
				return Choice{Iface: s.Iface, Source: "--iface", Absent: true}, nil
			}
			return Choice{}, &probes.UsageError{Flag: "--iface", Value: s.Iface, Problem: "no such interface (list them with: ip -br link)"}
		}
		return Choice{Iface: s.Iface, Source: "--iface"}, nil
	}
	local, err := env.InterfaceAddrs()
	if err != nil {
		return Choice{}, err
	}
	for _, c := range []struct{ addr, what string }{{s.ReceiverAddress, "the Receiver address"}, {s.McastBind, "McastService's bind address"}} {
		if a, err := netip.ParseAddr(c.addr); err == nil {
			if holder := probes.HolderOf(local, a); holder != "" {
				return Choice{Iface: holder, Source: fmt.Sprintf("holds %s %s of server.xml", c.what, a)}, nil
			}
		}
	}
	if name, err := env.Hostname(); err == nil {
		if r, err := resolve.New(env); err == nil {
			if ans, err := r.LocalHost(ctx, name); err == nil && !ans.First().IsLoopback() {
				if holder := probes.HolderOf(local, ans.First()); holder != "" {
					return Choice{Iface: holder, Source: fmt.Sprintf("holds %s, the address of host name %s", ans.First(), name)}, nil
				}
			}
		}
	}
	if len(s.Peers) > 0 {
		if iface := routeTo(ctx, env, s.Peers[0]); iface != "" {
			return Choice{Iface: iface, Source: "routes to peer " + s.Peers[0]}, nil
		}
	}
	if iface := defaultRouteIface(env); iface != "" {
		return Choice{Iface: iface, Source: "holds the default route", Guess: true}, nil
	}
	return Choice{}, nil
}

func routeTo(ctx context.Context, env *probes.Env, peer string) string {
	addr, err := netip.ParseAddr(peer)
	if err != nil {
		r, err := resolve.New(env)
		if err != nil {
			return ""
		}
		ans, err := r.Lookup(ctx, peer)
		if err != nil {
			return ""
		}
		addr = ans.First()
	}
	rs, err := env.Netlink.RouteGet(net.IP(addr.AsSlice()))
	if err != nil || len(rs) == 0 {
		return ""
	}
	return linkName(env, rs[0].LinkIndex)
}

func defaultRouteIface(env *probes.Env) string {
	rs, err := env.Netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return ""
	}
	for _, r := range rs {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			if ones, _ := maskOnes(r); ones == 0 {
				return linkName(env, r.LinkIndex)
			}
		}
	}
	return ""
}

func maskOnes(r netlink.Route) (int, int) {
	if r.Dst == nil {
		return 0, 32
	}
	return r.Dst.Mask.Size()
}

func linkName(env *probes.Env, index int) string {
	l, err := env.Netlink.LinkByIndex(index)
	if err != nil {
		return ""
	}
	return l.Attrs().Name
}
