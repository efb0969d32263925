// Package resolve looks up host names the way a Tomcat JVM on this host would: through
// glibc's getaddrinfo, which follows the hosts line of nsswitch.conf. Java's
// InetAddress.getLocalHost() resolves gethostname() this way and Tomcat's Receiver
// address="auto" uses its first address, IPv4 first.
package resolve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/clusterdoctor/clusterdoctor/netcfg/hosts"
	"github.com/clusterdoctor/clusterdoctor/netcfg/nsswitch"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Answer is the outcome of a lookup.
type Answer struct {
	// Addrs are the addresses in the order Java sees them (IPv4 first).
	Addrs []netip.Addr
	// Source is the nsswitch service that answered ("files", "myhostname", "dns").
	Source string
	// Lines are the /etc/hosts lines that matched, when Source is "files".
	Lines []hosts.Line
	// Notes say which services were not consulted and why.
	Notes []string
}

// First is the address Java's getLocalHost() / getByName() returns.
func (a Answer) First() netip.Addr { return a.Addrs[0] }

// ErrNotFound is returned when no service knows the name (Java: UnknownHostException).
var ErrNotFound = errors.New("name not found")

// Resolver holds the host's name-service configuration, read once per run.
type Resolver struct {
	env     *probes.Env
	Hosts   *hosts.File
	Sources []nsswitch.Source
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
			ans.Addrs, ans.Source = javaOrder(addrs), src.Name
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
