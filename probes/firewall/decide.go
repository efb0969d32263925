// Package firewall holds the firewall.ports check: whether the zone that applies to the
// cluster interface lets the cluster's traffic in, at runtime and permanently, decided the
// way firewalld's nftables rules decide, from what firewalld says over D-Bus.
package firewall

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/firewalld"
)

// Need is traffic the cluster needs to get in.
type Need struct {
	Lo, Hi int    // port range (Lo == Hi for one port)
	Proto  string // udp or tcp
	// Dst is the destination when it is known (the multicast group); invalid for traffic to
	// the host's own addresses.
	Dst netip.Addr
	// FromPeers: the cluster's own hosts send it, from the cluster subnet (membership,
	// replication); else the senders are not known (AJP from the web servers, IGMP
	// queries from the switch or router).
	FromPeers bool
	Label     string // "membership", "receiver", "AJP"
}

// String is PORT/PROTO or LO-HI/PROTO, as firewall-cmd writes it, or the protocol alone
// for a protocol without ports (igmp).
func (n Need) String() string {
	if n.Lo == 0 && n.Hi == 0 {
		return n.Proto
	}
	if n.Lo == n.Hi {
		return fmt.Sprintf("%d/%s", n.Lo, n.Proto)
	}
	return fmt.Sprintf("%d-%d/%s", n.Lo, n.Hi, n.Proto)
}

// Verdict is whether a zone lets a Need in, and why.
type Verdict struct {
	Open bool
	Why  string
	// By names the rule set that decided, as summaries say it: "firewalld zone public",
	// "nftables table inet filter", "legacy iptables' filter table".
	By string
}

// Decide follows firewalld's order within a zone: rich rules with a negative priority
// (lowest first), then rich rules that reject or drop, then what the zone allows (rich
// accept rules, ports, protocols, services with their includes), then rich rules with a
// positive priority, then the zone's target. A range is open only when all of it is, for
// every sender on peers, the cluster subnet (see Need.FromPeers).
func Decide(v firewalld.View, z *firewalld.Zone, n Need, peers netip.Prefix) (Verdict, error) {
	if !n.FromPeers {
		peers = netip.Prefix{}
	}
	rules := parseRules(z.Rules)
	reaches := make([]reach, len(rules))
	opens := make([][]span, len(rules))
	for i, r := range rules {
		var err error
		if reaches[i], opens[i], err = r.reach(v, n, peers); err != nil {
			return Verdict{}, err
		}
	}
	// decides: a rule that takes all of n, or one that turns part of it away.
	decides := func(i int) bool {
		return reaches[i] == matchesAll || (reaches[i] == matchesSome && rules[i].action != "accept")
	}
	for i, r := range rules {
		if r.priority < 0 && decides(i) {
			return r.verdict(reaches[i]), nil
		}
	}
	for i, r := range rules {
		if r.priority == 0 && r.action != "accept" && reaches[i] != matchesNone {
			return r.verdict(reaches[i]), nil
		}
	}
	var open []span
	var why, partly []string
	for i, r := range rules {
		switch {
		case r.priority != 0 || r.action != "accept":
		case reaches[i] == matchesAll:
			return r.verdict(matchesAll), nil
		case len(opens[i]) > 0:
			open = append(open, opens[i]...)
			why = append(why, "rich rule "+strconv.Quote(r.text))
		case reaches[i] == matchesSome:
			partly = append(partly, strconv.Quote(r.text))
		}
	}
	for _, p := range z.Protocols {
		if p == n.Proto {
			return Verdict{Open: true, Why: "zone " + z.Name + " allows protocol " + p}, nil
		}
	}
	for _, p := range z.Ports {
		if s, ok := parseSpan(p, n.Proto); ok && s.overlaps(n) {
			open = append(open, s)
			why = append(why, "port "+p.Port+"/"+p.Proto)
		}
	}
	for _, name := range z.Services {
		spans, all, err := servicePorts(v, name, n, map[string]bool{})
		if err != nil {
			return Verdict{}, err
		}
		if all {
			return Verdict{Open: true, Why: "service " + name + " allows protocol " + n.Proto}, nil
		}
		hit := false
		for _, sp := range spans {
			if sp.overlaps(n) {
				open, hit = append(open, sp), true
			}
		}
		if hit {
			why = append(why, "service "+name)
		}
	}
	if covered(open, n) {
		return Verdict{Open: true, Why: "zone " + z.Name + ": " + strings.Join(why, ", ")}, nil
	}
	for i, r := range rules {
		if r.priority > 0 && decides(i) {
			return r.verdict(reaches[i]), nil
		}
	}
	if strings.EqualFold(z.Target, "ACCEPT") {
		return Verdict{Open: true, Why: "zone " + z.Name + " has target ACCEPT"}, nil
	}
	closed := Verdict{Why: fmt.Sprintf("zone %s (target %s) does not allow it", z.Name, z.Target)}
	if len(open) > 0 {
		closed.Why = fmt.Sprintf("zone %s opens only part of it (%s)", z.Name, strings.Join(why, ", "))
	}
	if len(partly) > 0 {
		closed.Why += fmt.Sprintf("; rich rule %s lets in only some of the cluster subnet %s", strings.Join(partly, ", "), peers)
	}
	return closed, nil
}

// servicePorts is what a service (and what it includes) opens for n's protocol; all is
// true when it allows the whole protocol. A service limited to a destination that does
// not hold n.Dst opens nothing for n.
func servicePorts(v firewalld.View, name string, n Need, seen map[string]bool) (spans []span, all bool, err error) {
	if seen[name] {
		return nil, false, nil
	}
	seen[name] = true
	s, err := v.Service(name)
	if err != nil {
		return nil, false, err
	}
	if d, ok := s.Destination["ipv4"]; ok && d != "" {
		p, err := netip.ParsePrefix(d)
		if err != nil {
			if a, aerr := netip.ParseAddr(d); aerr == nil {
				p, err = netip.PrefixFrom(a, 32), nil
			}
		}
		if err != nil || !n.Dst.IsValid() || !p.Contains(n.Dst) {
			return nil, false, nil
		}
	}
	for _, p := range s.Protocols {
		if p == n.Proto {
			return nil, true, nil
		}
	}
	for _, p := range s.Ports {
		if sp, ok := parseSpan(p, n.Proto); ok {
			spans = append(spans, sp)
		}
	}
	for _, inc := range s.Includes {
		more, a, err := servicePorts(v, inc, n, seen)
		if err != nil || a {
			return nil, a, err
		}
		spans = append(spans, more...)
	}
	return spans, false, nil
}

type span struct{ lo, hi int }

func (s span) overlaps(n Need) bool { return s.lo <= n.Hi && n.Lo <= s.hi }

// parseSpan reads "45564" or "4000-4100" of the given protocol.
func parseSpan(p firewalld.PortProto, proto string) (span, bool) {
	if p.Proto != proto {
		return span{}, false
	}
	lo, hi, isRange := strings.Cut(p.Port, "-")
	a, err := strconv.Atoi(lo)
	if err != nil {
		return span{}, false
	}
	b := a
	if isRange {
		if b, err = strconv.Atoi(hi); err != nil || b < a {
			return span{}, false
		}
	}
	return span{a, b}, true
}

// covered reports whether the union of spans holds all of n's range.
func covered(spans []span, n Need) bool {
	sort.Slice(spans, func(i, j int) bool { return spans[i].lo < spans[j].lo })
	next := n.Lo
	for _, s := range spans {
		if s.lo > next {
			break
		}
		if s.hi >= next {
			next = s.hi + 1
		}
		if next > n.Hi {
			return true
		}
	}
	return false
}
