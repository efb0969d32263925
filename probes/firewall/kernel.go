package firewall

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/clusterdoctor/clusterdoctor/probes/firewall/nft"
	"github.com/clusterdoctor/clusterdoctor/probes/firewall/xtables"
)

// kernel is every rule set that sees an inbound packet: legacy iptables (x_tables) hooks
// in beside nftables, and a packet must pass both.
type kernel struct {
	nft    *nft.Ruleset
	legacy *xtables.Table // nil without a legacy filter table
}

// decider is a kernel rule set: nftables, or the legacy iptables filter table.
type decider interface {
	Decide(nft.Packet) nft.Decision
}

func loadKernel() (*kernel, error) {
	rs, err := nft.Load()
	if err != nil {
		return nil, errUndecided{err.Error()}
	}
	k := &kernel{nft: rs}
	if b, err := os.ReadFile("/proc/net/ip_tables_names"); err == nil && strings.Contains(string(b), "filter") {
		legacy, err := xtables.Load()
		if err != nil && !errors.Is(err, xtables.ErrNoTable) {
			return nil, errUndecided{err.Error()}
		}
		if err == nil {
			k.legacy = legacy
		}
	}
	return k, nil
}

// without is k without the nftables tables of these names.
func (k *kernel) without(tables ...string) *kernel {
	return &kernel{nft: k.nft.Without(tables...), legacy: k.legacy}
}

func (k *kernel) guards() []decider {
	if k.legacy != nil {
		return []decider{k.legacy, k.nft}
	}
	return []decider{k.nft}
}

// decideAll: a packet gets in only when every rule set lets it.
func decideAll(guards []decider, p nft.Packet) nft.Decision {
	var last nft.Decision
	for _, g := range guards {
		d := g.Decide(p)
		if d.Unknown != "" || !d.Accepted {
			return d
		}
		d.ReadSource = d.ReadSource || last.ReadSource
		if last.By != "" {
			d.By = last.By + ", then " + d.By
		}
		last = d
	}
	return last
}

// verdict runs n's packets from s through the kernel's rule sets: a range is open only
// when every port in it is.
func (k *kernel) verdict(t target, n Need, s sender) (Verdict, error) {
	p := nft.Packet{Iface: t.iface, Index: t.index, Src: s.addr, Dst: t.addr, DstType: unix.RTN_LOCAL, Sport: 40000}
	if n.Dst.IsValid() {
		p.Dst = n.Dst
		if n.Dst.IsMulticast() {
			p.DstType = unix.RTN_MULTICAST
		}
	}
	switch n.Proto {
	case "udp":
		p.Proto, p.Sport = unix.IPPROTO_UDP, uint16(n.Lo) // Tomcat sends membership from its own port
	case "tcp":
		p.Proto = unix.IPPROTO_TCP
	case "igmp":
		p.Proto = unix.IPPROTO_IGMP
	default:
		return Verdict{}, errUndecided{"protocol " + n.Proto}
	}
	guards := k.guards()
	var closed []int
	var d, firstClosed nft.Decision
	for port := n.Lo; port <= n.Hi; port++ {
		p.Dport = uint16(port)
		d = decideAll(guards, p)
		if d.Unknown != "" {
			return Verdict{}, errUndecided{fmt.Sprintf("the kernel's rule set for %s: %s", n, d.Unknown)}
		}
		if !d.Accepted {
			if len(closed) == 0 {
				firstClosed = d
			}
			closed = append(closed, port)
		}
	}
	why := d.By
	if d.ReadSource && !s.peer.Addr.IsValid() {
		why += fmt.Sprintf(", for a sender at %s", s.addr)
	}
	switch {
	case len(closed) == 0:
		return Verdict{Open: true, Why: why, By: d.Table}, nil
	case len(closed) < n.Hi-n.Lo+1:
		return Verdict{Open: false, Why: fmt.Sprintf("%d of its ports are dropped (first %d, by %s)", len(closed), closed[0], firstClosed.By),
			By: firstClosed.Table}, nil
	}
	return Verdict{Open: false, Why: why, By: d.Table}, nil
}
