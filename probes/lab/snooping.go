package lab

import (
	"net/netip"
	"os/exec"

	"github.com/vishvananda/netlink"
)

// Switch returns the bridge namespace as a host of its own, br0 holding 10.99.0.254: the
// host whose Linux bridge carries the cluster LAN, as a hypervisor or container host is.
// Its "cl0" is br0 itself. Calling it again returns the same host.
func (l *Lab) Switch() *Host {
	l.t.Helper()
	if l.sw != nil {
		return l.sw
	}
	br0, err := l.bridge.nl.LinkByName("br0")
	l.must(err, "find br0")
	addrs, err := l.bridge.nl.AddrList(br0, netlink.FAMILY_V4)
	l.must(err, "list br0's addresses")
	if len(addrs) == 0 {
		l.must(l.bridge.nl.AddrAdd(br0, addr(ClusterNet, 254)), "address br0")
	}
	l.sw = &Host{Name: "switch", Addr: netip.AddrFrom4([4]byte{10, 99, 0, 254}), ns: l.bridge, lab: l, index: 254}
	l.hosts = append(l.hosts, l.sw)
	return l.sw
}

// Snoop sets a lab bridge's (br0: the cluster LAN, br1: the public LAN) multicast
// snooping options, as `ip link set BRIDGE type bridge OPTS...` (timers in centiseconds:
// mcast_membership_interval 1000 is 10 s), e.g.
// Snoop("br0", "mcast_snooping", "1", "mcast_membership_interval", "1000").
func (l *Lab) Snoop(bridge string, opts ...string) {
	l.t.Helper()
	args := append([]string{"-n", l.bridge.name, "link", "set", bridge, "type", "bridge"}, opts...)
	out, err := exec.Command("ip", args...).CombinedOutput()
	l.must(err, "ip %v: %s", args, out)
}

// BridgeTo makes a Linux bridge named name in h, up, with a veth port whose other end is
// iface in node's namespace (up, no address): the way a container engine joins its
// containers to the host. Everything goes with the namespaces.
func (h *Host) BridgeTo(name string, node *Host, iface string) {
	l := h.lab
	l.t.Helper()
	snoop := true
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}, MulticastSnooping: &snoop}
	l.must(h.nl.LinkAdd(br), "add bridge %s in %s", name, h.Name)
	l.must(h.nl.LinkSetUp(br), "set %s up", name)
	port := "p-" + node.Name
	v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: port}, PeerName: iface, PeerNamespace: netlink.NsFd(node.handle)}
	l.must(h.nl.LinkAdd(v), "add veth %s/%s", port, iface)
	p, err := h.nl.LinkByName(port)
	l.must(err, "find %s", port)
	l.must(h.nl.LinkSetMaster(p, br), "enslave %s", port)
	l.must(h.nl.LinkSetUp(p), "set %s up", port)
	in, err := node.nl.LinkByName(iface)
	l.must(err, "find %s in %s", iface, node.Name)
	l.must(node.nl.LinkSetUp(in), "set %s up", iface)
}
