package container

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/firewall/nft"
)

// behindDNAT is where this host's own nat rules send a connection it makes to to (an
// engine's published port: Docker without its userland proxy, netavark, CNI's portmap,
// each a DNAT to the container's address), and the container there. The kernel decides
// before any socket is reached, so this comes before the port's owner. Equivalent to:
// nft list ruleset (iptables -t nat -S OUTPUT), then ip -all netns exec ip -br addr.
func behindDNAT(env *probes.Env, to netip.AddrPort) (name, via string) {
	rs, err := nft.Load()
	if err != nil {
		return "", ""
	}
	p := nft.Packet{OutIface: "lo", OutIndex: 1, Proto: unix.IPPROTO_TCP, Src: to.Addr(), Dst: to.Addr(), Sport: 40000, Dport: to.Port(), DstType: unix.RTN_LOCAL}
	at, by, ok, err := rs.DNAT(p)
	if err != nil || !ok {
		return "", ""
	}
	via = fmt.Sprintf("DNAT to %s by %s", at, by)
	if id, ok := nodeAt(env, at.Addr()); ok {
		return id.Label(), via
	}
	return "the container at " + at.String(), via
}

// nodeAt finds the network namespace, one a link of this one leads to (a container's
// veth), that holds addr, and names it by a process in it.
func nodeAt(env *probes.Env, addr netip.Addr) (Identity, bool) {
	if env.Netlink == nil {
		return Identity{}, false
	}
	own, _ := os.Readlink("/proc/thread-self/ns/net")
	procs, _ := filepath.Glob(env.Path("/proc/[0-9]*"))
	seen := map[string]bool{own: true}
	for _, dir := range procs {
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil {
			continue
		}
		nsPath := filepath.Join(dir, "ns", "net")
		name, err := os.Readlink(nsPath)
		if err != nil || seen[name] {
			continue
		}
		seen[name] = true
		if holds(env, nsPath, addr) {
			return Identify(env, pid, name), true
		}
	}
	return Identity{}, false
}

// holds says whether the namespace at nsPath, one a link of ours leads to, has addr.
func holds(env *probes.Env, nsPath string, addr netip.Addr) bool {
	f, err := os.Open(nsPath)
	if err != nil {
		return false
	}
	defer f.Close()
	if id, err := env.Netlink.GetNetNsIdByFd(int(f.Fd())); err != nil || id < 0 {
		return false
	}
	h, err := netlink.NewHandleAt(netns.NsHandle(int(f.Fd())))
	if err != nil {
		return false
	}
	defer h.Close()
	addrs, err := h.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(addrs, func(a netlink.Addr) bool {
		ip, ok := netip.AddrFromSlice(a.IP.To4())
		return ok && ip == addr
	})
}
