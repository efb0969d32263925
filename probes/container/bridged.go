package container

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/clusterdoctor/clusterdoctor/probes/firewall/nft"
	"github.com/clusterdoctor/clusterdoctor/probes/firewall/xtables"
)

// bridged runs what the node's Tomcat receives from another container on its bridge
// through the forward rules of the bridge's namespace. Bridged traffic meets them where
// br_netfilter passes it to the IPv4 hooks (net.bridge.bridge-nf-call-iptables=1, on by
// default once the module is loaded, which Docker and Kubernetes do): Docker's
// icc=false, a firewalld whose policy drops forwarding, or a rule of one's own then
// keep the containers of one host apart. Equivalent to: nft list chain ip filter FORWARD
// in the host's namespace, read for a packet from a sibling to the node.
func bridged(ns *os.File, br *netlink.LinkAttrs, own netip.Prefix, t Traffic) (dropped []string, undecided string) {
	on, legacy, err := forwardFacts(ns)
	switch {
	case os.IsNotExist(err):
		return nil, "" // no br_netfilter: bridged traffic meets no IPv4 rule
	case err != nil:
		return nil, "bridge-nf-call-iptables: " + err.Error()
	case on != "1":
		return nil, ""
	}
	if legacy {
		undecided = "legacy iptables has FORWARD rules or policy there too, which are not read"
	}
	rs, err := nft.LoadAt(int(ns.Fd()))
	if err != nil {
		return nil, err.Error()
	}
	type packet struct {
		what string
		p    nft.Packet
	}
	from := nft.Packet{Iface: br.Name, Index: br.Index, OutIface: br.Name, OutIndex: br.Index, Src: siblingOf(own), Sport: 40000}
	var packets []packet
	if t.Multicast && t.Group.IsValid() {
		p := from
		p.Proto, p.Dst, p.Dport, p.DstType = unix.IPPROTO_UDP, t.Group, uint16(t.McastPort), unix.RTN_MULTICAST
		packets = append(packets, packet{fmt.Sprintf("heartbeats to %s:%d/udp", t.Group, t.McastPort), p})
	}
	p := from
	p.Proto, p.Dst, p.Dport, p.DstType = unix.IPPROTO_TCP, own.Addr(), uint16(t.RxPort), unix.RTN_UNICAST
	packets = append(packets, packet{fmt.Sprintf("replication to %s:%d/tcp", own.Addr(), t.RxPort), p})
	for _, pk := range packets {
		d := rs.DecideForward(pk.p)
		switch {
		case d.Unknown != "":
			undecided = strings.TrimPrefix(undecided+"; "+pk.what+": "+d.Unknown, "; ")
		case !d.Accepted:
			dropped = append(dropped, fmt.Sprintf("%s by %s", pk.what, d.By))
		}
	}
	return dropped, undecided
}

// siblingOf is another address of own's network: where a sibling container sends from.
func siblingOf(own netip.Prefix) netip.Addr {
	a := own.Masked().Addr().Next().Next() // .2: an engine's first container
	if a == own.Addr() {
		a = a.Next()
	}
	return a
}

// forwardFacts reads, in the network namespace ns, whether br_netfilter passes bridged
// IPv4 to its hooks (bridge-nf-call-iptables: /proc/sys/net shows the reading thread's
// namespace) and whether a legacy iptables filter table there has FORWARD rules or a
// policy other than accept, beside nftables. A spare
// thread enters the namespace, and ends after.
func forwardFacts(ns *os.File) (brnf string, legacy bool, err error) {
	onSpareThread(func() {
		if err = unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			err = fmt.Errorf("enter the namespace: %w", err)
			return
		}
		var b []byte
		if b, err = os.ReadFile("/proc/sys/net/bridge/bridge-nf-call-iptables"); err != nil {
			return
		}
		brnf = string(bytes.TrimSpace(b))
		tbl, lerr := xtables.Load()
		legacy = lerr == nil && !tbl.ForwardUntouched()
	})
	return brnf, legacy, err
}

// onSpareThread runs fn on an OS thread of its own that is not the process's main thread,
// and lets that thread end after it: fn may move the thread to other namespaces, and the
// main thread's are what /proc/self and /proc/net show the other checks.
func onSpareThread(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if unix.Gettid() == unix.Getpid() {
			onSpareThread(fn) // this thread is held, so the one found next is another
			runtime.UnlockOSThread()
			return
		}
		fn()
	}()
	<-done
}
