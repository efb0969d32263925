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

// Plan looks at the main table. The route is in place when every route for Dst is on
// Iface. Otherwise ours is added (replace: never a duplicate) and every route for Dst on
// another interface, whatever its metric, is deleted after it, so the kernel has no other
// choice; a rollback deletes ours and puts back exactly the routes that were there.
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
	var ours, others []netlink.Route
	for _, e := range existing {
		if e.LinkIndex == link.Attrs().Index {
			ours = append(ours, e)
		} else {
			others = append(others, e)
		}
	}
	p := &Plan{}
	if len(ours) > 0 && len(others) == 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("runtime: %s dev %s is already in the main table", r.Dst.Masked(), r.Iface))
		return p, nil
	}
	adding := len(ours) == 0 || lowestMetric(ours) > lowestMetric(others)
	if adding {
		// replace takes over a metric-0 route on another interface (same destination and
		// metric): the undo puts it back
		var taken []netlink.Route
		for _, o := range others {
			if o.Priority == 0 {
				taken = append(taken, o)
			}
		}
		p.Steps = append(p.Steps, Step{
			Show:  fmt.Sprintf("ip route replace %s dev %s scope link proto %d", r.Dst.Masked(), r.Iface, RouteProtocol),
			Apply: func(context.Context) error { return r.NL.RouteReplace(want) },
			Undo: func(context.Context) error {
				if err := r.NL.RouteDel(want); err != nil {
					return err
				}
				for _, t := range taken {
					if err := r.NL.RouteAdd(&t); err != nil {
						return err
					}
				}
				return nil
			},
		})
	}
	for _, o := range others {
		old := o
		if adding && old.Priority == 0 {
			p.Notes = append(p.Notes, fmt.Sprintf("runtime: %s is routed via %s now; it is moved to %s", r.Dst.Masked(), linkName(r.NL, old.LinkIndex), r.Iface))
			continue // replaced by ours above
		}
		name := linkName(r.NL, old.LinkIndex)
		p.Notes = append(p.Notes, fmt.Sprintf("runtime: %s is routed via %s now (metric %d); it is moved to %s", r.Dst.Masked(), name, old.Priority, r.Iface))
		p.Steps = append(p.Steps, Step{
			Show:  fmt.Sprintf("ip route del %s dev %s metric %d", r.Dst.Masked(), name, old.Priority),
			Apply: func(context.Context) error { return r.NL.RouteDel(&old) },
			Undo:  func(context.Context) error { return r.NL.RouteAdd(&old) },
		})
	}
	return p, nil
}

func linkName(nl *netlink.Handle, index int) string {
	if l, err := nl.LinkByIndex(index); err == nil {
		return l.Attrs().Name
	}
	return fmt.Sprint(index)
}

func lowestMetric(rs []netlink.Route) int {
	low := rs[0].Priority
	for _, r := range rs[1:] {
		low = min(low, r.Priority)
	}
	return low
}
