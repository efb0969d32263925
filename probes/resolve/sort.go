package resolve

import (
	"math/bits"
	"net/netip"
	"sort"

	"github.com/clusterdoctor/clusterdoctor/netcfg/gaiconf"
)

// Source is what getaddrinfo learns of a destination before it sorts: the source address
// the kernel would use to reach it (connect(2) on a UDP socket; none means unreachable)
// and that source address's prefix length and interface.
type Source struct {
	Addr netip.Addr
	// PrefixLen is the prefix of the source address's interface address; glibc knows it
	// only when the host has a non-loopback IPv6 address (else it is 0).
	PrefixLen int
	Index     int
	// Deprecated is IFA_F_DEPRECATED or IFA_F_OPTIMISTIC on the source address.
	Deprecated bool
}

// Tables are glibc's RFC 3484 tables, built in or from /etc/gai.conf.
type Tables struct {
	labels, precedence, scopes []gaiconf.Entry
}

var (
	v6All  = netip.MustParsePrefix("::/0")
	v4All  = netip.MustParsePrefix("::ffff:0.0.0.0/96")
	mapped = func(s string) netip.Prefix { return netip.MustParsePrefix(s) }
)

// glibc's built-in tables (sysdeps/posix/getaddrinfo.c), most specific first.
var (
	defaultLabels = []gaiconf.Entry{
		{Prefix: mapped("::1/128"), Value: 0}, {Prefix: mapped("::/96"), Value: 3},
		{Prefix: mapped("::ffff:0.0.0.0/96"), Value: 4}, {Prefix: mapped("2001::/32"), Value: 7},
		{Prefix: mapped("2002::/16"), Value: 2}, {Prefix: mapped("fec0::/10"), Value: 5},
		{Prefix: mapped("fc00::/7"), Value: 6}, {Prefix: v6All, Value: 1},
	}
	defaultPrecedence = []gaiconf.Entry{
		{Prefix: mapped("::1/128"), Value: 50}, {Prefix: mapped("::/96"), Value: 20},
		{Prefix: mapped("::ffff:0.0.0.0/96"), Value: 10}, {Prefix: mapped("2002::/16"), Value: 30},
		{Prefix: v6All, Value: 40},
	}
	defaultScopes = []gaiconf.Entry{
		{Prefix: mapped("::ffff:169.254.0.0/112"), Value: 2}, {Prefix: mapped("::ffff:127.0.0.0/104"), Value: 2},
		{Prefix: mapped("::ffff:10.0.0.0/104"), Value: 5}, {Prefix: mapped("::ffff:172.16.0.0/108"), Value: 5},
		{Prefix: mapped("::ffff:192.168.0.0/112"), Value: 5}, {Prefix: v4All, Value: 14},
	}
)

// NewTables builds the tables glibc uses with gai.conf c (nil: the built-in ones).
func NewTables(c *gaiconf.Config) Tables {
	t := Tables{labels: defaultLabels, precedence: defaultPrecedence, scopes: defaultScopes}
	if c == nil {
		return t
	}
	if l := gaiconf.Sorted(c.Labels, v6All, 1); l != nil {
		t.labels = l
	}
	if p := gaiconf.Sorted(c.Precedence, v6All, 40); p != nil {
		t.precedence = p
	}
	if s := gaiconf.Sorted(c.Scopes, v4All, 14); s != nil {
		t.scopes = s
	}
	return t
}

func lookupTable(t []gaiconf.Entry, a netip.Addr, def int) int {
	a6 := netip.AddrFrom16(a.As16())
	for _, e := range t {
		if e.Prefix.Contains(a6) {
			return e.Value
		}
	}
	return def
}

func (t Tables) label(a netip.Addr) int        { return lookupTable(t.labels, a, 1<<31-1) }
func (t Tables) precedenceOf(a netip.Addr) int { return lookupTable(t.precedence, a, 0) }

// scope is glibc's get_scope: IPv6 by address kind (loopback and link-local 2,
// site-local 5, else 14; multicast its scope field), IPv4 through the scopev4 table.
func (t Tables) scope(a netip.Addr) int {
	if a.Is4() {
		return lookupTable(t.scopes, a, 14)
	}
	switch {
	case a.IsMulticast():
		return int(a.As16()[1] & 0xf)
	case a.IsLinkLocalUnicast() || a.IsLoopback():
		return 2
	case a.As16()[0] == 0xfe && a.As16()[1]&0xc0 == 0xc0:
		return 5
	}
	return 14
}

// Sort orders addrs as glibc's getaddrinfo does (rfc3484_sort): unusable destinations
// last, matching scope, no deprecated source, matching label, higher precedence, smaller
// scope, longest matching prefix (IPv4 only within the source's subnet), else as given.
// src reports the kernel's source for a destination; ok false means unreachable.
// Rule 4 (home addresses) and rule 7 (native transport) need Mobile IPv6 and tunnel
// information and are treated as equal, which they are on a cluster host.
func Sort(addrs []netip.Addr, t Tables, src func(netip.Addr) (Source, bool)) []netip.Addr {
	if len(addrs) < 2 {
		return addrs
	}
	type cand struct {
		dst netip.Addr
		src Source
		ok  bool
		idx int
	}
	cs := make([]cand, len(addrs))
	for i, a := range addrs {
		s, ok := src(a)
		cs[i] = cand{dst: a, src: s, ok: ok, idx: i}
	}
	less := func(a, b cand) bool {
		if a.ok != b.ok { // rule 1
			return a.ok
		}
		as, bs := t.scope(a.dst), t.scope(b.dst)
		if a.ok && a.src.Addr.IsValid() && b.src.Addr.IsValid() { // rules 2, 3, 5 need the source
			am, bm := as == t.scope(a.src.Addr), bs == t.scope(b.src.Addr)
			if am != bm {
				return am
			}
			if a.src.Deprecated != b.src.Deprecated {
				return !a.src.Deprecated
			}
			al, bl := t.label(a.dst) == t.label(a.src.Addr), t.label(b.dst) == t.label(b.src.Addr)
			if al != bl {
				return al
			}
		}
		if ap, bp := t.precedenceOf(a.dst), t.precedenceOf(b.dst); ap != bp { // rule 6
			return ap > bp
		}
		if as != bs { // rule 8
			return as < bs
		}
		if a.ok && a.src.Addr.IsValid() && a.dst.Is4() == b.dst.Is4() { // rule 9
			ab, bb := matchingBits(a.dst, a.src, b.dst, b.src)
			if ab != bb {
				return ab > bb
			}
		}
		return a.idx < b.idx // rule 10
	}
	sort.SliceStable(cs, func(i, j int) bool { return less(cs[i], cs[j]) })
	out := make([]netip.Addr, len(cs))
	for i, c := range cs {
		out[i] = c.dst
	}
	return out
}

// matchingBits is glibc's rule 9 measure for two destinations of one family. IPv4: the
// leading bits each destination shares with its source, counted only when both are in
// the source's subnet (a prefix length of 0, when glibc has no interface list, makes the
// mask all ones: only the source itself counts). IPv6: the leading equal bits of the
// first 32-bit word in which either pair differs.
func matchingBits(d1 netip.Addr, s1 Source, d2 netip.Addr, s2 Source) (int, int) {
	if d1.Is4() {
		return v4Bits(d1, s1), v4Bits(d2, s2)
	}
	if !s1.Addr.Is6() || !s2.Addr.Is6() {
		return 0, 0
	}
	a, sa, b, sb := d1.As16(), s1.Addr.As16(), d2.As16(), s2.Addr.As16()
	for i := 0; i < 16; i += 4 {
		aw, saw, bw, sbw := word(a[i:]), word(sa[i:]), word(b[i:]), word(sb[i:])
		if aw != saw || bw != sbw {
			return bits.LeadingZeros32(aw ^ saw), bits.LeadingZeros32(bw ^ sbw)
		}
	}
	return 0, 0
}

func v4Bits(dst netip.Addr, s Source) int {
	if !s.Addr.Is4() {
		return 0
	}
	d, sa := dst.As4(), s.Addr.As4()
	dv, sv := word(d[:]), word(sa[:])
	mask := ^uint32(0)
	if s.PrefixLen > 0 && s.PrefixLen < 32 {
		mask <<= 32 - s.PrefixLen
	}
	if sv&mask != dv&mask {
		return 0
	}
	return bits.LeadingZeros32(dv ^ sv)
}

func word(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
