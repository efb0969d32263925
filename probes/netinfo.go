package probes

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// IfaceAddr is an address held by a local interface.
type IfaceAddr struct {
	Iface  string
	Index  int
	Prefix netip.Prefix
}

// InterfaceAddrs lists every IPv4 and IPv6 address on every interface, in ifindex order.
// Equivalent to: ip -br addr.
func (e *Env) InterfaceAddrs() ([]IfaceAddr, error) {
	names, err := e.LinkNames()
	if err != nil {
		return nil, err
	}
	addrs, err := e.Netlink.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	out := make([]IfaceAddr, 0, len(addrs))
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ones, _ := a.Mask.Size()
		out = append(out, IfaceAddr{Iface: names[a.LinkIndex], Index: a.LinkIndex,
			Prefix: netip.PrefixFrom(ip.Unmap(), ones)})
	}
	return out, nil
}

// HolderOf returns the interface that holds addr, or "" if none does.
func HolderOf(addrs []IfaceAddr, addr netip.Addr) string {
	for _, a := range addrs {
		if a.Prefix.Addr() == addr.Unmap() {
			return a.Iface
		}
	}
	return ""
}

// LinkNames maps interface indexes to names, for reading routes. Equivalent to: ip -br link.
func (e *Env) LinkNames() (map[int]string, error) {
	links, err := e.Netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	names := make(map[int]string, len(links))
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	return names, nil
}
