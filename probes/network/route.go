package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// MulticastNet is 224.0.0.0/4, the route the seeds add by hand.
var MulticastNet = netip.MustParsePrefix("224.0.0.0/4")

// Route is route.multicast: multicast to the group leaves by the cluster interface.
// It asks the kernel twice: netlink RouteGet (ip route get GROUP) and a plain unbound UDP
// socket connected to the group, which is how Tomcat's McastService sends when it has no
// bind address.
type Route struct {
	Iface string
	Group netip.Addr
	Port  int
}

// ID implements probes.Probe.
func (Route) ID() string { return "route.multicast" }

// KernelOnly: the link and its addresses are the running kernel's.
func (Route) KernelOnly() {}

// Timeout implements probes.Probe.
func (Route) Timeout() time.Duration { return LinkTimeout }

// DependsOn implements probes.Dependent: without a working interface the route is moot.
func (Route) DependsOn() []string { return []string{"link.cluster"} }

// routeFacts is what the kernel said; decide turns it into a verdict.
type routeFacts struct {
	iface, group string
	// kernelEgress is RouteGet's interface; "" with kernelErr set when there is no route.
	kernelEgress string
	kernelErr    error
	// socketEgress is the interface holding the source address the kernel picked for an
	// unbound UDP socket connected to the group.
	socketEgress string
	socketErr    error
	// covering is the most specific non-default route containing the group, if any.
	covering *coveringRoute
	// defaultIface is the interface of the default route, if any.
	defaultIface string
}

type coveringRoute struct {
	dst   netip.Prefix
	iface string
}

// Run implements probes.Probe.
func (p Route) Run(ctx context.Context, env *probes.Env) probes.Result {
	f := routeFacts{iface: p.Iface, group: p.Group.String()}
	names, err := env.LinkNames()
	if err != nil {
		return probes.UnknownResult(p.ID(), err.Error())
	}
	rs, err := env.Netlink.RouteGet(net.IP(p.Group.AsSlice()))
	switch {
	case err != nil:
		f.kernelErr = err
	case len(rs) > 0:
		f.kernelEgress = names[rs[0].LinkIndex]
	}
	f.socketEgress, f.socketErr = socketEgress(env, p.Group, p.Port)
	if f.covering, f.defaultIface, err = coveringRoutes(env, p.Group, names); err != nil {
		return probes.UnknownResult(p.ID(), err.Error())
	}
	return decideRoute(f)
}

func decideRoute(f routeFacts) probes.Result {
	const id = "route.multicast"
	fix := fmt.Sprintf("clusterdoctor fix route --iface %s --persist (ip route replace 224.0.0.0/4 dev %s, and the same in the network configuration)", f.iface, f.iface)
	ev := map[string]any{"group": f.group, "want": f.iface}
	if f.kernelEgress != "" {
		ev["egress"] = f.kernelEgress
	}
	if f.socketEgress != "" {
		ev["socketEgress"] = f.socketEgress
	}
	if f.covering != nil {
		ev["route"] = fmt.Sprintf("%s dev %s", f.covering.dst, f.covering.iface)
	}
	if f.kernelErr != nil {
		if errors.Is(f.kernelErr, unix.ENETUNREACH) || errors.Is(f.kernelErr, unix.EHOSTUNREACH) {
			return probes.FailResult(id, fmt.Sprintf("no route for %s: Tomcat's multicast join fails with \"No such device\" and no heartbeat is sent", f.group)).
				With("no route covers 224.0.0.0/4 and there is no default route; ip route get "+f.group+" says Network is unreachable", fix, ev)
		}
		return probes.UnknownResult(id, fmt.Sprintf("ip route get %s failed: %v", f.group, f.kernelErr))
	}
	if f.kernelEgress != f.iface {
		how := "default route"
		detail := "no route covers 224.0.0.0/4; the kernel falls back to the default route"
		if f.covering != nil {
			how = fmt.Sprintf("route %s", f.covering.dst)
			detail = fmt.Sprintf("the route %s dev %s sends the group out of the wrong interface", f.covering.dst, f.covering.iface)
		}
		return probes.FailResult(id, fmt.Sprintf("%s would leave via %s (%s), not the cluster interface %s", f.group, f.kernelEgress, how, f.iface)).
			With(detail+"; Tomcat's heartbeats go to the wrong network and members never see each other", fix, ev)
	}
	if f.socketErr == nil && f.socketEgress != "" && f.socketEgress != f.iface {
		return probes.WarnResult(id, fmt.Sprintf("the route for %s is on %s, but an unbound socket would send from %s's address", f.group, f.iface, f.socketEgress)).
			With("the source address the kernel picks is not on the cluster interface; peers may reject or misroute replies", "give "+f.iface+" a primary IPv4 address, or set McastService bind= in server.xml", ev)
	}
	if f.covering == nil {
		return probes.WarnResult(id, fmt.Sprintf("%s leaves via %s only because the default route does", f.group, f.iface)).
			With("no 224.0.0.0/4 route exists; a change of the default route will silently move the cluster's multicast", fix, ev)
	}
	return probes.PassResult(id, fmt.Sprintf("%s leaves via %s (route %s dev %s)", f.group, f.iface, f.covering.dst, f.covering.iface)).With("", "", ev)
}

// coveringRoutes finds, in the main table, the most specific non-default route that
// contains group, and the interface of the default route. Equivalent to:
// ip route show table main match GROUP.
func coveringRoutes(env *probes.Env, group netip.Addr, names map[int]string) (*coveringRoute, string, error) {
	rs, err := env.Netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, "", fmt.Errorf("list routes: %w", err)
	}
	var best *coveringRoute
	defIface := ""
	for _, r := range rs {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() && isZeroMask(r.Dst.Mask) {
			if defIface == "" {
				defIface = names[r.LinkIndex]
			}
			continue
		}
		ip, _ := netip.AddrFromSlice(r.Dst.IP)
		ones, _ := r.Dst.Mask.Size()
		pfx := netip.PrefixFrom(ip.Unmap(), ones)
		if pfx.Contains(group) && (best == nil || pfx.Bits() > best.dst.Bits()) {
			best = &coveringRoute{dst: pfx, iface: names[r.LinkIndex]}
		}
	}
	return best, defIface, nil
}

func isZeroMask(m net.IPMask) bool {
	ones, _ := m.Size()
	return ones == 0
}

// socketEgress connects an unbound UDP socket to group:port (no packet is sent) and
// returns the interface holding the source address the kernel chose.
func socketEgress(env *probes.Env, group netip.Addr, port int) (string, error) {
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(group, uint16(port))))
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return "", errno
		}
		return "", err
	}
	defer c.Close()
	local := c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	addrs, err := env.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	return probes.HolderOf(addrs, local), nil
}
