package mcast

import (
	"errors"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// localRoute asks the kernel where the group leaves (ip route get GROUP) and compares it
// with the cluster interface. Peers receive it in Stats so both sides can name the host
// whose route is wrong.
func localRoute(group netip.Addr, iface string, joinErr error) RouteState {
	rs, err := netlink.RouteGet(net.IP(group.AsSlice()))
	switch {
	case errors.Is(err, unix.ENETUNREACH) || errors.Is(joinErr, unix.ENODEV):
		return RouteState{Code: RouteNone}
	case err != nil || len(rs) == 0:
		return RouteState{}
	}
	name := ""
	if l, err := netlink.LinkByIndex(rs[0].LinkIndex); err == nil {
		name = l.Attrs().Name
	}
	if joinErr != nil {
		return RouteState{Code: RouteJoin, Egress: name}
	}
	if iface != "" && name != iface {
		return RouteState{Code: RouteWrong, Egress: name}
	}
	return RouteState{Code: RouteOK, Egress: name}
}
