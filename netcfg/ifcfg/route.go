// Package ifcfg reads and writes the initscripts route files of RHEL/CentOS
// (/etc/sysconfig/network-scripts/route-IFACE). They come in two formats, never mixed in
// one file: numbered shell variables (ADDRESS0=, NETMASK0=, GATEWAY0=, METRIC0=, OPTIONS0=)
// or one `ip route add` argument list per line. A file keeps its format, comments and
// order; new routes are appended in that format.
package ifcfg

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/internal/textfile"
)

// MaxSize caps the input; a route file is a few hundred bytes.
const MaxSize = 1 << 20

// Format is the syntax of a route file.
type Format int

// Formats.
const (
	// Unknown: empty, or only comments; AddRoute picks FormatIPRoute.
	Unknown Format = iota
	// FormatKeyValue is ADDRESSn=/NETMASKn=/GATEWAYn=.
	FormatKeyValue
	// FormatIPRoute is one `ip route` argument list per line.
	FormatIPRoute
)

func (f Format) String() string {
	return [...]string{"empty", "ADDRESSn/NETMASKn", "ip route lines"}[f]
}

// Route is one route of the file.
type Route struct {
	Dst     netip.Prefix
	Gateway netip.Addr // invalid when there is none
	Dev     string     // "" when not given (the file's interface)
	// Index is n of ADDRESSn; -1 in the ip route format.
	Index int
}

// RouteFile is a parsed route-IFACE file.
type RouteFile struct {
	Format Format
	text   textfile.Lines
	routes []Route
}

var keyValue = regexp.MustCompile(`^\s*(ADDRESS|NETMASK|GATEWAY|METRIC|OPTIONS)([0-9]+)\s*=\s*(.*?)\s*$`)

// Parse reads a route file. A file mixing the two formats, or with an ADDRESSn without a
// valid NETMASKn, is an error that names the line: initscripts would misread it too.
func Parse(r io.Reader) (*RouteFile, error) {
	text, err := textfile.Read(r, MaxSize, "route file")
	if err != nil {
		return nil, err
	}
	f := &RouteFile{text: text}
	kv := map[int]map[string]string{}
	for i, raw := range f.text.Lines {
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if m := keyValue.FindStringSubmatch(line); m != nil {
			if f.Format == FormatIPRoute {
				return nil, fmt.Errorf("line %d: %s variable in a file of ip route lines (the formats cannot be mixed)", i+1, m[1])
			}
			f.Format = FormatKeyValue
			n, err := strconv.Atoi(m[2])
			if err != nil || n > 1<<16 {
				return nil, fmt.Errorf("line %d: bad index %q", i+1, m[2])
			}
			if kv[n] == nil {
				kv[n] = map[string]string{}
			}
			kv[n][m[1]] = unquote(m[3])
			continue
		}
		if f.Format == FormatKeyValue {
			return nil, fmt.Errorf("line %d: %q in a file of ADDRESSn/NETMASKn variables (the formats cannot be mixed)", i+1, line)
		}
		rt, err := parseIPRoute(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		f.Format = FormatIPRoute
		f.routes = append(f.routes, rt)
	}
	if f.Format == FormatKeyValue {
		idx := make([]int, 0, len(kv))
		for n := range kv {
			idx = append(idx, n)
		}
		sort.Ints(idx)
		for _, n := range idx {
			rt, err := fromKeyValue(n, kv[n])
			if err != nil {
				return nil, err
			}
			f.routes = append(f.routes, rt)
		}
	}
	return f, nil
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

func fromKeyValue(n int, vars map[string]string) (Route, error) {
	rt := Route{Index: n}
	a, err := netip.ParseAddr(vars["ADDRESS"])
	if err != nil || !a.Is4() {
		return rt, fmt.Errorf("ADDRESS%d: %q is not an IPv4 address", n, vars["ADDRESS"])
	}
	mask := vars["NETMASK"]
	if mask == "" {
		mask = "255.255.255.255" // initscripts' default: a host route
	}
	bits, err := maskBits(mask)
	if err != nil {
		return rt, fmt.Errorf("NETMASK%d: %w", n, err)
	}
	rt.Dst = netip.PrefixFrom(a, bits)
	if g := vars["GATEWAY"]; g != "" {
		if rt.Gateway, err = netip.ParseAddr(g); err != nil {
			return rt, fmt.Errorf("GATEWAY%d: %q is not an address", n, g)
		}
	}
	return rt, nil
}

// maskBits turns a dotted netmask such as 240.0.0.0 into a prefix length.
func maskBits(mask string) (int, error) {
	m, err := netip.ParseAddr(mask)
	if err != nil || !m.Is4() {
		return 0, fmt.Errorf("%q is not a netmask", mask)
	}
	v := uint32(0)
	for _, b := range m.As4() {
		v = v<<8 | uint32(b)
	}
	bits := 0
	for v&(1<<31) != 0 {
		bits++
		v <<= 1
	}
	if v != 0 {
		return 0, fmt.Errorf("%q is not a contiguous netmask", mask)
	}
	return bits, nil
}

// parseIPRoute reads "224.0.0.0/4 dev eth1", "default via 10.0.0.1", "10.1.0.0/16 via
// 10.0.0.1 dev eth1 metric 5" (other ip route keywords are kept but not interpreted).
func parseIPRoute(line string) (Route, error) {
	f := strings.Fields(line)
	rt := Route{Index: -1}
	switch dst := f[0]; {
	case dst == "default":
		rt.Dst = netip.MustParsePrefix("0.0.0.0/0")
	case strings.Contains(dst, "/"):
		p, err := netip.ParsePrefix(dst)
		if err != nil {
			return rt, fmt.Errorf("%q is not a destination", dst)
		}
		rt.Dst = p
	default:
		a, err := netip.ParseAddr(dst)
		if err != nil {
			return rt, fmt.Errorf("%q is not a destination", dst)
		}
		rt.Dst = netip.PrefixFrom(a, a.BitLen())
	}
	for i := 1; i+1 < len(f); i++ {
		switch f[i] {
		case "via":
			g, err := netip.ParseAddr(f[i+1])
			if err != nil {
				return rt, fmt.Errorf("via %q is not an address", f[i+1])
			}
			rt.Gateway = g
		case "dev":
			rt.Dev = f[i+1]
		}
	}
	return rt, nil
}

// Routes returns the routes in file order (by index in the key-value format).
func (f *RouteFile) Routes() []Route { return append([]Route(nil), f.routes...) }

// reached is how many ADDRESSn indexes the readers get to: initscripts' ifup-routes and
// NetworkManager's ifcfg-rh reader both count from 0 and stop at the first missing index,
// so a route after a gap is never applied.
func (f *RouteFile) reached() int {
	have := map[int]bool{}
	for _, r := range f.routes {
		have[r.Index] = true
	}
	n := 0
	for have[n] {
		n++
	}
	return n
}

// Live reports whether the readers apply r at boot (always, in the ip route format).
func (f *RouteFile) Live(r Route) bool {
	return f.Format != FormatKeyValue || r.Index < f.reached()
}

// find returns the file's route to dst (on dev, when the line names one).
func (f *RouteFile) find(dst netip.Prefix, dev string) (Route, bool) {
	for _, r := range f.routes {
		if r.Dst.Masked() == dst.Masked() && (r.Dev == "" || r.Dev == dev) {
			return r, true
		}
	}
	return Route{}, false
}

// Has reports whether the file has a route to dst (on dev, when the line names one) that
// the readers apply at boot, so a fix can be idempotent.
func (f *RouteFile) Has(dst netip.Prefix, dev string) bool {
	r, ok := f.find(dst, dev)
	return ok && f.Live(r)
}

// Dead returns the file's route to dst that sits after a gap in the indexes, and the first
// missing index that stops the readers.
func (f *RouteFile) Dead(dst netip.Prefix, dev string) (Route, int, bool) {
	r, ok := f.find(dst, dev)
	if !ok || f.Live(r) {
		return Route{}, 0, false
	}
	return r, f.reached(), true
}

// ErrExists is returned by AddRoute when the route is already there.
var ErrExists = errors.New("route already in the file")

// AddRoute appends a link-scope route to dst on dev in the file's own format: at the
// first missing index, the one the readers get to (a route after a gap would never be
// applied), or as an `ip route` line. It returns the routes that filling the gap brings
// to life as well, which the readers skipped until now.
func (f *RouteFile) AddRoute(dst netip.Prefix, dev string) ([]Route, error) {
	if f.Has(dst, dev) {
		return nil, ErrExists
	}
	var add []string
	var revived []Route
	rt := Route{Dst: dst.Masked(), Dev: dev, Index: -1}
	if f.Format == FormatKeyValue {
		n := f.reached()
		before := n
		rt.Index = n
		f.routes = append(f.routes, rt)
		for _, r := range f.routes {
			if r.Index > before && r.Index < f.reached() {
				revived = append(revived, r)
			}
		}
		f.routes = f.routes[:len(f.routes)-1]
		add = []string{fmt.Sprintf("ADDRESS%d=%s", n, dst.Masked().Addr()), fmt.Sprintf("NETMASK%d=%s", n, netmask(dst.Bits()))}
	} else {
		f.Format = FormatIPRoute
		add = []string{fmt.Sprintf("%s dev %s", dst.Masked(), dev)}
	}
	f.text.Insert(len(f.text.Lines)-1, add...)
	f.routes = append(f.routes, rt)
	sort.SliceStable(f.routes, func(i, j int) bool { return f.routes[i].Index < f.routes[j].Index })
	return revived, nil
}

func netmask(bits int) string {
	v := ^uint32(0) << (32 - bits)
	if bits == 0 {
		v = 0
	}
	return fmt.Sprintf("%d.%d.%d.%d", v>>24, v>>16&0xff, v>>8&0xff, v&0xff)
}

// Write writes the file: unchanged lines byte for byte, then any added ones.
func (f *RouteFile) Write(w io.Writer) error { return f.text.Write(w) }
