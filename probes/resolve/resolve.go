// Package resolve looks up host names the way a Tomcat JVM on this host would: through
// glibc's getaddrinfo, which follows the hosts line of nsswitch.conf and then sorts the
// addresses by RFC 3484 destination selection (/etc/gai.conf), and then Java, which puts
// IPv4 addresses first. Java's InetAddress.getLocalHost() resolves gethostname() this way
// and Tomcat's Receiver address="auto" uses its first address.
package resolve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/gaiconf"
	"github.com/clusterdoctor/clusterdoctor/netcfg/hosts"
	"github.com/clusterdoctor/clusterdoctor/netcfg/nsswitch"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Answer is the outcome of a lookup.
type Answer struct {
	// Addrs are the addresses in the order Java sees them: glibc's sorted order, IPv4
	// first, duplicates removed.
	Addrs []netip.Addr
	// Found are the addresses as the service returned them, before any sorting.
	Found []netip.Addr
	// Source is the nsswitch service that answered ("files", "myhostname", "dns").
	Source string
	// Lines are the /etc/hosts lines that matched, when Source is "files".
	Lines []hosts.Line
	// Notes say which services were not consulted and why.
	Notes []string
}

// First is the address Java's getLocalHost() / getByName() returns.
func (a Answer) First() netip.Addr { return a.Addrs[0] }

// LineOf returns the /etc/hosts line that gave addr, if the answer came from the file.
func (a Answer) LineOf(addr netip.Addr) (hosts.Line, bool) {
	for _, l := range a.Lines {
		if l.Addr == addr {
			return l, true
		}
	}
	return hosts.Line{}, false
}

// Reordered reports whether getaddrinfo's sorting moved the first address Java takes
// away from the first one the service returned in its family.
func (a Answer) Reordered() bool {
	if len(a.Addrs) == 0 {
		return false
	}
	for _, f := range a.Found {
		if f.Is4() == a.First().Is4() {
			return f != a.First()
		}
	}
	return false
}

// LocalHost resolves the host name as Java's InetAddress.getLocalHost() does: the name
// "localhost" is the loopback address without any lookup; any other name goes through
// the name services.
func (r *Resolver) LocalHost(ctx context.Context, name string) (Answer, error) {
	if name == "localhost" {
		lo := netip.MustParseAddr("127.0.0.1")
		return Answer{Addrs: []netip.Addr{lo}, Found: []netip.Addr{lo}, Source: "java",
			Notes: []string{"Java answers the host name localhost with the loopback address, whatever /etc/hosts says"}}, nil
	}
	return r.Lookup(ctx, name)
}

// ErrNotFound is returned when no service knows the name (Java: UnknownHostException).
var ErrNotFound = errors.New("name not found")

// Resolver holds the host's name-service configuration, read once per run.
type Resolver struct {
	env     *probes.Env
	Hosts   *hosts.File
	Sources []nsswitch.Source
	// Tables are getaddrinfo's sorting tables (built in, or from /etc/gai.conf).
	Tables Tables
	// DNS is used for the "dns" service; nil means Go's resolver on a live root.
	DNS func(ctx context.Context, name string) ([]netip.Addr, error)
}

// New reads /etc/nsswitch.conf and /etc/hosts under env's root.
func New(env *probes.Env) (*Resolver, error) {
	r := &Resolver{env: env, Hosts: &hosts.File{}}
	b, err := env.ReadFile("/etc/nsswitch.conf", nsswitch.MaxSize)
	switch {
	case errors.Is(err, os.ErrNotExist):
		r.Sources = nsswitch.DefaultHosts
	case err != nil:
		return nil, fmt.Errorf("read nsswitch.conf: %w", err)
	default:
		if r.Sources, err = nsswitch.ParseHosts(bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("%s: %w", env.Path("/etc/nsswitch.conf"), err)
		}
	}
	b, err = env.ReadFile("/etc/hosts", hosts.MaxSize)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read hosts file: %w", err)
	}
	if r.Hosts, err = hosts.Parse(bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("%s: %w", env.Path("/etc/hosts"), err)
	}
	b, err = env.ReadFile("/etc/gai.conf", gaiconf.MaxSize)
	switch {
	case errors.Is(err, os.ErrNotExist):
		r.Tables = NewTables(nil)
	case err != nil:
		return nil, fmt.Errorf("read gai.conf: %w", err)
	default:
		c, err := gaiconf.Parse(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", env.Path("/etc/gai.conf"), err)
		}
		r.Tables = NewTables(c)
	}
	if env.LiveRoot() {
		r.DNS = goDNS
	}
	return r, nil
}

// Lookup resolves name through the nsswitch sources in order.
func (r *Resolver) Lookup(ctx context.Context, name string) (Answer, error) {
	var ans Answer
	for _, src := range r.Sources {
		addrs, status, note := r.ask(ctx, src.Name, name, &ans)
		if note != "" {
			ans.Notes = append(ans.Notes, note)
		}
		if status == "SUCCESS" {
			ans.Found, ans.Source = addrs, src.Name
			ans.Addrs = javaOrder(dedupe(Sort(addrs, r.Tables, r.sourceOf())))
			return ans, nil
		}
		if src.ReturnsOn(status) {
			break
		}
	}
	return ans, fmt.Errorf("%q: %w", name, ErrNotFound)
}

// ask queries one service and returns its NSS status.
func (r *Resolver) ask(ctx context.Context, service, name string, ans *Answer) ([]netip.Addr, string, string) {
	switch service {
	case "files":
		ans.Lines = r.Hosts.Entries(name)
		if addrs := r.Hosts.Lookup(name); len(addrs) > 0 {
			return addrs, "SUCCESS", ""
		}
		return nil, "NOTFOUND", ""
	case "myhostname":
		return r.myhostname(name)
	case "dns":
		if r.DNS == nil {
			return nil, "UNAVAIL", "dns not consulted: --root is not the live host"
		}
		addrs, err := r.DNS(ctx, name)
		if err != nil {
			return nil, "NOTFOUND", fmt.Sprintf("dns: %v", err)
		}
		return addrs, "SUCCESS", ""
	default:
		return nil, "UNAVAIL", fmt.Sprintf("%s not consulted (clusterdoctor reads files, myhostname and dns)", service)
	}
}

// myhostname follows systemd's nss-myhostname: the local host name resolves to every
// address of every interface but loopback, or to 127.0.0.2 when there are none.
func (r *Resolver) myhostname(name string) ([]netip.Addr, string, string) {
	self, err := r.env.Hostname()
	if err != nil || !equalFoldDNS(name, self) {
		return nil, "NOTFOUND", ""
	}
	local, err := r.env.InterfaceAddrs()
	if err != nil {
		return nil, "UNAVAIL", fmt.Sprintf("myhostname: %v", err)
	}
	var out []netip.Addr
	for _, a := range local {
		if ip := a.Prefix.Addr(); !ip.IsLoopback() && !ip.IsLinkLocalUnicast() {
			out = append(out, ip)
		}
	}
	if len(out) == 0 {
		out = []netip.Addr{netip.MustParseAddr("127.0.0.2")}
	}
	return out, "SUCCESS", ""
}

func equalFoldDNS(a, b string) bool {
	return len(a) == len(b) && bytes.EqualFold([]byte(a), []byte(b))
}

// javaOrder puts IPv4 addresses first, keeping the order within each family, as Java does
// unless java.net.preferIPv6Addresses is set.
func javaOrder(addrs []netip.Addr) []netip.Addr {
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if a.Is4() {
			out = append(out, a)
		}
	}
	for _, a := range addrs {
		if !a.Is4() {
			out = append(out, a)
		}
	}
	return out
}

// goDNS asks the DNS servers of resolv.conf.
func goDNS(ctx context.Context, name string) ([]netip.Addr, error) {
	res := &net.Resolver{PreferGo: true}
	addrs, err := res.LookupNetIP(ctx, "ip", name)
	if err != nil {
		return nil, err
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, nil
}

// dedupe drops repeated addresses, keeping the first, as Java does with getaddrinfo's
// answers.
func dedupe(addrs []netip.Addr) []netip.Addr {
	out := make([]netip.Addr, 0, len(addrs))
	seen := map[netip.Addr]bool{}
	for _, a := range addrs {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// Self tells whether a peer name names this host, so the same host list can be given on
// every host: its host name (short or full, any case), "localhost" or a loopback address,
// or an address of its own (literal, or what the name resolves to). Another name that
// resolves to loopback is not this host but a broken hosts file (hosts.peers says so). It
// says how it knows.
func (r *Resolver) Self(ctx context.Context, name string, local []probes.IfaceAddr) (bool, string) {
	if self, err := r.env.Hostname(); err == nil {
		short := func(s string) string { s, _, _ = strings.Cut(s, "."); return s }
		if strings.EqualFold(name, self) || strings.EqualFold(short(name), short(self)) && (!strings.Contains(name, ".") || !strings.Contains(self, ".")) {
			return true, "the host name " + self
		}
	}
	addrs := []netip.Addr{}
	if a, err := netip.ParseAddr(name); err == nil {
		addrs = append(addrs, a.Unmap())
	} else if ans, err := r.Lookup(ctx, name); err == nil {
		addrs = ans.Addrs
	}
	if name == "localhost" {
		return true, "localhost"
	}
	for _, a := range addrs {
		if a.IsLoopback() {
			if literal, err := netip.ParseAddr(name); err == nil && literal.IsLoopback() {
				return true, a.String() + " (loopback)"
			}
			continue
		}
		if iface := probes.HolderOf(local, a); iface != "" {
			return true, fmt.Sprintf("%s, held by %s", a, iface)
		}
	}
	return false, ""
}
