package resolve

import (
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// sourceOf answers, per destination, what getaddrinfo's connect(2) on a UDP socket
// would: the kernel's source address for it (Equivalent to: ip route get DST), unusable
// when there is no route. The prefix length and flags come from the interface address,
// which glibc knows only when the host has a non-loopback IPv6 address. Without a live
// kernel (an image under --root) every destination is usable with an unknown source,
// and only the rules that need no source apply.
func (r *Resolver) sourceOf() func(netip.Addr) (Source, bool) {
	if r.env == nil || r.env.Netlink == nil || !r.env.LiveRoot() {
		return func(netip.Addr) (Source, bool) { return Source{}, true }
	}
	var known map[netip.Addr]netlink.Addr
	if addrs, err := r.env.Netlink.AddrList(nil, netlink.FAMILY_ALL); err == nil {
		known = map[netip.Addr]netlink.Addr{}
		v6 := false
		for _, a := range addrs {
			ip, ok := netip.AddrFromSlice(a.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			known[ip] = a
			v6 = v6 || (ip.Is6() && !ip.IsLoopback())
		}
		if !v6 {
			known = nil // glibc's __check_pf keeps no address list then
		}
	}
	return func(dst netip.Addr) (Source, bool) {
		rs, err := r.env.Netlink.RouteGet(net.IP(dst.AsSlice()))
		if err != nil || len(rs) == 0 || rs[0].Type == unix.RTN_UNREACHABLE || rs[0].Type == unix.RTN_PROHIBIT || rs[0].Type == unix.RTN_BLACKHOLE {
			return Source{}, false
		}
		src, ok := netip.AddrFromSlice(rs[0].Src)
		if !ok {
			return Source{}, true
		}
		s := Source{Addr: src.Unmap(), Index: rs[0].LinkIndex}
		if a, ok := known[s.Addr]; ok {
			s.PrefixLen, _ = a.Mask.Size()
			s.Deprecated = a.Flags&(unix.IFA_F_DEPRECATED|unix.IFA_F_OPTIMISTIC) != 0
		}
		return s, true
	}
}
