package container

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// HostSide is where a node's cluster interface leads on the host: the namespace that
// holds the other end of its veth, that end, the bridge it is a port of, and how that
// namespace routes to the peers. Equivalent to `ip -d link show eth0` in the container
// (link-netnsid, the peer's ifindex), then `ip -n HOST link show`, `ip -n HOST route get
// PEER` and `ip -n HOST -d link show type vxlan` on the host.
type HostSide struct {
	// Kind is the node's interface's kind: "veth", "macvlan", "ipvlan", or another.
	Kind string
	// Namespace names the namespace of the veth's other end: "the host's own network
	// namespace", "network namespace NAME (ip netns)", or by the process it was found
	// through ("the network namespace of conmon (pid 812)").
	Namespace string
	// Link is the veth's other end; Bridge the bridge it is a port of ("" for none).
	Link, Bridge string
	// Egress is the interface the host side sends each peer through; Own are the peers
	// that are the host side's own addresses (the node's own host, in the host list).
	Egress map[netip.Addr]string
	Own    []netip.Addr
	// Tunnels are the overlay devices of the host side (vxlan, ipip, gre, geneve,
	// wireguard), through which a routed container network may reach other hosts.
	Tunnels []string
	// Dropped says what of the cluster's traffic from the other ports of the bridge the
	// host side's forward rules drop (br_netfilter passes bridged IPv4 to them), each
	// with the rule; Undecided why they could not be run.
	Dropped   []string
	Undecided string
}

// Traffic is what the node's Tomcat receives from the others on its bridge: heartbeats
// to the group, replication to its Receiver.
type Traffic struct {
	Group             netip.Addr
	McastPort, RxPort int
	Multicast         bool
}

// tunnelKinds are the link kinds an overlay between hosts is made of.
var tunnelKinds = []string{"vxlan", "ipip", "gre", "gretap", "geneve", "wireguard", "sit", "ip6tnl"}

// findHostSide follows link (the node's cluster interface, in the namespace this process
// runs in) to the host. The veth's other end is in the namespace link-netnsid numbers:
// it is looked for among the namespaces of the node's ancestors (an engine's conmon or
// shim, the host itself) and the named ones (ip netns, Docker's), compared by the id this
// namespace gives each.
func findHostSide(env *probes.Env, link netlink.Link, own netip.Prefix, traffic Traffic, peers []netip.Addr) (HostSide, error) {
	hs := HostSide{Kind: link.Type(), Egress: map[netip.Addr]string{}}
	if hs.Kind != "veth" {
		return hs, nil
	}
	a := link.Attrs()
	if a.NetNsID < 0 {
		return hs, fmt.Errorf("the other end of %s is in the node's own namespace", a.Name)
	}
	h, ns, label, err := nsByID(env, a.NetNsID)
	if err != nil {
		return hs, err
	}
	defer h.Close()
	defer ns.Close()
	hs.Namespace = label
	peer, err := h.LinkByIndex(a.ParentIndex)
	if err != nil {
		return hs, fmt.Errorf("the other end of %s (ifindex %d in %s): %w", a.Name, a.ParentIndex, label, err)
	}
	hs.Link = peer.Attrs().Name
	if m := peer.Attrs().MasterIndex; m > 0 {
		if br, err := h.LinkByIndex(m); err == nil {
			hs.Bridge = br.Attrs().Name
			hs.Dropped, hs.Undecided = bridged(ns, br.Attrs(), own, traffic)
		}
	}
	if links, err := h.LinkList(); err == nil {
		for _, l := range links {
			if slices.Contains(tunnelKinds, l.Type()) {
				hs.Tunnels = append(hs.Tunnels, l.Attrs().Name+" ("+l.Type()+")")
			}
		}
	}
	local := map[netip.Addr]bool{}
	if addrs, err := h.AddrList(nil, netlink.FAMILY_V4); err == nil {
		for _, ad := range addrs {
			if ip, ok := netip.AddrFromSlice(ad.IP.To4()); ok {
				local[ip] = true
			}
		}
	}
	for _, p := range peers {
		if local[p] {
			hs.Own = append(hs.Own, p)
			continue
		}
		routes, err := h.RouteGet(net.IP(p.AsSlice()))
		if err != nil || len(routes) == 0 {
			hs.Egress[p] = ""
			continue
		}
		if l, err := h.LinkByIndex(routes[0].LinkIndex); err == nil {
			hs.Egress[p] = l.Attrs().Name
		}
	}
	return hs, nil
}

// maxAncestors bounds the walk up a node's process tree.
const maxAncestors = 16

// nsByID opens the network namespace this one numbers id (a netlink handle in it, and the
// namespace's file, both for the caller to close), and names it.
func nsByID(env *probes.Env, id int) (*netlink.Handle, *os.File, string, error) {
	type candidate struct{ path, label string }
	var cands []candidate
	for pid, i := env.Node, 0; pid > 1 && i < maxAncestors; i++ {
		pid = env.ParentPID(pid)
		if pid <= 0 {
			break
		}
		comm, _ := env.ReadFile(fmt.Sprintf("/proc/%d/comm", pid), 256)
		cands = append(cands, candidate{env.Path(fmt.Sprintf("/proc/%d/ns/net", pid)), fmt.Sprintf("the network namespace of %s (pid %d)", trimNL(comm), pid)})
	}
	for _, dir := range []struct{ path, by string }{{"/run/netns", "ip netns"}, {"/run/docker/netns", "Docker's"}} {
		names, _ := filepath.Glob(filepath.Join(env.Path(dir.path), "*"))
		for _, n := range names {
			cands = append(cands, candidate{n, "network namespace " + filepath.Base(n) + " (" + dir.by + ")"})
		}
	}
	for _, c := range cands {
		fd, err := os.Open(c.path)
		if err != nil {
			continue
		}
		got, err := env.Netlink.GetNetNsIdByFd(int(fd.Fd()))
		if err != nil || got != id {
			fd.Close()
			continue
		}
		label := c.label
		if name, ok := nsName(fd); ok && name == env.NetNS.Initial {
			label = "the host's own network namespace"
		}
		h, err := netlink.NewHandleAt(netns.NsHandle(int(fd.Fd())))
		if err != nil {
			fd.Close()
			return nil, nil, "", fmt.Errorf("netlink in %s: %w", c.label, err)
		}
		return h, fd, label, nil
	}
	return nil, nil, "", fmt.Errorf("no namespace of the node's ancestors or under /run/netns is the one its veth leads to (netnsid %d)", id)
}

// nsName names the namespace f opens as the kernel does ("net:[4026531840]").
func nsName(f *os.File) (string, bool) {
	st, err := f.Stat()
	if err != nil {
		return "", false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("net:[%d]", sys.Ino), true
}

func trimNL(b []byte) string {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == 0) {
		b = b[:len(b)-1]
	}
	return string(b)
}
