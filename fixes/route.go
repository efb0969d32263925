package fixes

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// RouteProtocol tags the routes clusterdoctor adds, so they can be told apart later
// (ip route shows "proto 205"; name it in /etc/iproute2/rt_protos.d to read "clusterdoctor").
const RouteProtocol = 205

// MulticastRoute plans the runtime route for multicast on the cluster interface.
// Equivalent to: ip route replace 224.0.0.0/4 dev IFACE scope link proto 205.
type MulticastRoute struct {
	Iface string
	Dst   netip.Prefix
	NL    *netlink.Handle
}

// Plan looks at the main table: a route for Dst on Iface is already in place; one on
// another interface is replaced (and restored on rollback); none is added by replace.
func (r MulticastRoute) Plan() (*Plan, error) {
	link, err := r.NL.LinkByName(r.Iface)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", r.Iface, err)
	}
	dst := &net.IPNet{IP: r.Dst.Masked().Addr().AsSlice(), Mask: net.CIDRMask(r.Dst.Bits(), 32)}
	existing, err := r.NL.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_MAIN, Dst: dst},
		netlink.RT_FILTER_TABLE|netlink.RT_FILTER_DST)
	if err != nil {
		return nil, fmt.Errorf("list routes for %s: %w", r.Dst, err)
	}
	want := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: dst, Scope: netlink.SCOPE_LINK,
		Protocol: RouteProtocol, Table: unix.RT_TABLE_MAIN}
	show := fmt.Sprintf("ip route replace %s dev %s scope link proto %d", r.Dst.Masked(), r.Iface, RouteProtocol)
	p := &Plan{}
	for _, e := range existing {
		if e.LinkIndex == link.Attrs().Index {
			p.Notes = append(p.Notes, fmt.Sprintf("runtime: %s dev %s is already in the main table", r.Dst.Masked(), r.Iface))
			return p, nil
		}
	}
	step := Step{Show: show, Apply: func(context.Context) error { return r.NL.RouteReplace(want) }}
	if len(existing) > 0 {
		old := existing[0]
		name := fmt.Sprint(old.LinkIndex)
		if l, err := r.NL.LinkByIndex(old.LinkIndex); err == nil {
			name = l.Attrs().Name
		}
		p.Notes = append(p.Notes, fmt.Sprintf("runtime: %s is routed via %s now; it is moved to %s", r.Dst.Masked(), name, r.Iface))
		step.Undo = func(context.Context) error { return r.NL.RouteReplace(&old) }
	} else {
		step.Undo = func(context.Context) error { return r.NL.RouteDel(want) }
	}
	p.Steps = append(p.Steps, step)
	return p, nil
}
