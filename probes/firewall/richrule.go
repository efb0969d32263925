package firewall

import (
	"net/netip"
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
	source   bool // limited to a source (or to all but one): not every sender
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
					r.source = true
				case "port", "service", "protocol", "icmp-block", "icmp-type", "masquerade", "forward-port", "source-port":
					r.narrowed = true
				}
			case "accept", "reject", "drop":
				r.action, elem = tok, tok
			case "not":
				r.dstNot = elem == "destination"
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
		}
	}
	return r, r.action != "" && !r.source && r.family != "ipv6"
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

// covers: the rule matches all of the need (port rules whose range holds it, or a
// protocol rule for its protocol). Service rules are not followed.
func (r rule) covers(n Need) bool {
	if !r.narrowed {
		return r.matchesDst(n)
	}
	if !r.matchesDst(n) || r.proto != n.Proto {
		return false
	}
	return r.port == nil || (r.port.lo <= n.Lo && n.Hi <= r.port.hi)
}

// overlaps: the rule matches some of the need.
func (r rule) overlaps(n Need) bool {
	if !r.narrowed {
		return r.matchesDst(n)
	}
	if !r.matchesDst(n) || r.proto != n.Proto {
		return false
	}
	return r.port == nil || r.port.overlaps(n)
}

func (r rule) verdict() Verdict {
	if r.action == "accept" {
		return Verdict{true, "rich rule " + strconv.Quote(r.text)}
	}
	return Verdict{false, "rich rule " + strconv.Quote(r.text) + " " + r.action + "s it"}
}
