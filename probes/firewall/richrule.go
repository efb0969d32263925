package firewall

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/firewalld"
)

// rule is the part of a firewalld rich rule (firewalld.richlanguage(5)) that decides
// inbound traffic: its priority, what it matches and its action.
type rule struct {
	text     string
	priority int
	family   string
	port     *span
	proto    string // of port=, or of protocol value=
	service  string
	// A source element limits the rule to some senders: an address or network (src),
	// everything but it (srcNot), or a MAC address or ipset, which is not evaluated
	// (srcOther).
	hasSrc   bool
	src      netip.Prefix
	srcNot   bool
	srcOther bool
	dst      string
	dstNot   bool   // destination not address=...
	action   string // accept, reject, drop; "" for log/audit/mark only
	// narrowed is set by an element that limits what the rule matches (port, protocol,
	// service, icmp-*, forward-port, source-port, masquerade); a rule without one
	// matches everything, as nm-shared's "rule priority=32767 reject" does.
	narrowed bool
}

// parseRules reads the rules; the ones this check cannot use are left out.
func parseRules(texts []string) []rule {
	var out []rule
	for _, t := range texts {
		if r, ok := parseRule(t); ok {
			out = append(out, r)
		}
	}
	return out
}

func parseRule(text string) (rule, bool) {
	r := rule{text: text}
	elem := ""
	for _, tok := range tokens(text) {
		k, v, kv := strings.Cut(tok, "=")
		if !kv {
			switch tok {
			case "rule", "port", "service", "protocol", "source", "destination", "log", "audit", "mark", "icmp-block", "icmp-type", "masquerade", "forward-port", "source-port":
				elem = tok
				switch tok {
				case "source":
					r.hasSrc = true
				case "port", "service", "protocol", "icmp-block", "icmp-type", "masquerade", "forward-port", "source-port":
					r.narrowed = true
				}
			case "accept", "reject", "drop":
				r.action, elem = tok, tok
			case "not":
				r.dstNot = r.dstNot || elem == "destination"
				r.srcNot = r.srcNot || elem == "source"
			}
			continue
		}
		switch {
		case elem == "rule" && k == "priority":
			r.priority, _ = strconv.Atoi(v)
		case elem == "rule" && k == "family":
			r.family = v
		case elem == "port" && k == "port":
			s, ok := parseSpan(firewalld.PortProto{Port: v, Proto: "x"}, "x")
			if ok {
				r.port = &s
			}
		case elem == "port" && k == "protocol", elem == "protocol" && k == "value":
			r.proto = v
		case elem == "service" && k == "name":
			r.service = v
		case elem == "destination" && k == "address":
			r.dst = v
		case elem == "source" && k == "address":
			if p, ok := prefixOf(v); ok {
				r.src = p
			} else {
				r.srcOther = true
			}
		case elem == "source" && (k == "mac" || k == "ipset"):
			r.srcOther = true
		}
	}
	return r, r.action != "" && r.family != "ipv6"
}

// tokens splits a rich rule at spaces outside quotes and drops the quotes.
func tokens(s string) []string {
	var out []string
	var cur strings.Builder
	quote := rune(0)
	for _, c := range s {
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote == 0 && c == ' ':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(c)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// matchesDst reports whether the rule's destination limit holds the need's destination
// (or, for "destination not", leaves it out).
func (r rule) matchesDst(n Need) bool {
	if r.dst == "" {
		return true
	}
	if r.dstNot {
		return n.Dst.IsValid() && !r.dstHolds(n.Dst)
	}
	return n.Dst.IsValid() && r.dstHolds(n.Dst)
}

func (r rule) dstHolds(a netip.Addr) bool {
	p, err := netip.ParsePrefix(r.dst)
	if err != nil {
		host, herr := netip.ParseAddr(r.dst)
		if herr != nil {
			return false
		}
		p = netip.PrefixFrom(host, host.BitLen())
	}
	return p.Contains(a)
}

// reach is how much of a need a rule matches.
type reach int

const (
	matchesNone reach = iota
	matchesSome       // part of the ports, or some of the senders
	matchesAll
)

// reach is how much of n the rule matches, senders on peers (the cluster subnet when n
// comes from the peers, else invalid) and ports together; open is what it matches of
// n's ports when it matches every sender (what an accept rule adds to the zone's
// openings). Service rules are followed through the service's ports and includes.
func (r rule) reach(v firewalld.View, n Need, peers netip.Prefix) (matched reach, open []span, err error) {
	if !r.matchesDst(n) {
		return matchesNone, nil, nil
	}
	from := r.srcReach(peers)
	if from == matchesNone {
		return matchesNone, nil, nil
	}
	whole := false
	switch {
	case !r.narrowed:
		whole = true
	case r.service != "":
		if open, whole, err = servicePorts(v, r.service, n, map[string]bool{}); err != nil {
			return matchesNone, nil, err
		}
	case r.proto == n.Proto && r.port == nil:
		whole = true
	case r.proto == n.Proto:
		open = []span{*r.port}
	}
	switch {
	case whole || covered(open, n):
		matched = matchesAll
	case slices.ContainsFunc(open, func(s span) bool { return s.overlaps(n) }):
		matched = matchesSome
	default:
		return matchesNone, nil, nil
	}
	if from == matchesSome {
		return matchesSome, nil, nil
	}
	return matched, open, nil
}

// srcReach is how many of the senders on peers the rule's source element matches. When
// the senders are not known (peers invalid) a source-limited rule is taken to be about
// them the right way round: AJP comes from the web servers, whose addresses clusterdoctor
// does not know, and an accept limited to them (or a reject of everyone else) is how a
// careful operator opens 8009/tcp.
func (r rule) srcReach(peers netip.Prefix) reach {
	switch {
	case !r.hasSrc:
		return matchesAll
	case !peers.IsValid():
		if r.action == "accept" {
			return matchesAll
		}
		return matchesNone
	case r.srcOther || !r.src.IsValid():
		return matchesSome
	}
	holds := r.src.Bits() <= peers.Bits() && r.src.Contains(peers.Addr())
	misses := !r.src.Overlaps(peers)
	if r.srcNot {
		holds, misses = misses, holds
	}
	switch {
	case holds:
		return matchesAll
	case misses:
		return matchesNone
	}
	return matchesSome
}

// verdict is what the rule decides for a need it matches with m.
func (r rule) verdict(m reach) Verdict {
	if r.action == "accept" {
		return Verdict{Open: true, Why: "rich rule " + strconv.Quote(r.text)}
	}
	v := Verdict{Open: false, Why: "rich rule " + strconv.Quote(r.text) + " " + r.action + "s it"}
	if m == matchesSome {
		v.Why += " in part"
	}
	return v
}
