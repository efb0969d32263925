// Package hostnames checks name resolution as Tomcat sees it: the local host name that
// Receiver address="auto" advertises, and the peers' names.
package hostnames

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/clusterdoctor/clusterdoctor/netcfg/hosts"
	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/resolve"
)

// ResolveTimeout bounds a lookup; it is mostly file reads, DNS only when files miss, and
// a resolver stuck for longer is itself the finding.
const ResolveTimeout = 3 * time.Second

// Hostname is hosts.hostname: the host name resolves, as Java's
// InetAddress.getLocalHost() does, to a non-loopback address on the cluster interface.
// Equivalent to: getent ahostsv4 $(hostname) | head -1.
type Hostname struct {
	Iface string
	// Absent: the running kernel has no such interface (an image under --root), so the
	// address is judged from the resolution alone.
	Absent bool
}

// ID implements probes.Probe.
func (Hostname) ID() string { return "hosts.hostname" }

// Timeout implements probes.Probe.
func (Hostname) Timeout() time.Duration { return ResolveTimeout }

// Run implements probes.Probe.
func (p Hostname) Run(ctx context.Context, env *probes.Env) probes.Result {
	id := p.ID()
	name, err := env.Hostname()
	if err != nil {
		return probes.UnknownResult(id, fmt.Sprintf("cannot read the host name: %v", err))
	}
	r, err := resolve.New(env)
	if err != nil {
		return probes.UnknownResult(id, err.Error())
	}
	ans, lookupErr := r.LocalHost(ctx, name)
	if p.Absent {
		// The tree's addresses are not the running kernel's: judge the resolution alone.
		return decideHostname(hostnameFacts{name: name, iface: p.Iface, ans: ans, err: lookupErr, absent: true})
	}
	local, err := env.InterfaceAddrs()
	if err != nil {
		return probes.UnknownResult(id, err.Error())
	}
	clusterAddr := firstV4On(local, p.Iface)
	return decideHostname(hostnameFacts{name: name, iface: p.Iface, ans: ans, err: lookupErr,
		holder: holder(local, ans), clusterAddr: clusterAddr})
}

type hostnameFacts struct {
	name, iface string
	ans         resolve.Answer
	err         error
	holder      string     // interface holding ans.First(), "" if none
	clusterAddr netip.Addr // first IPv4 of the cluster interface, for the fix hint
	absent      bool       // the running kernel has no such interface (--root): who holds it is unknown
}

func decideHostname(f hostnameFacts) probes.Result {
	const id = "hosts.hostname"
	want := "ADDRESS"
	if f.clusterAddr.IsValid() {
		want = f.clusterAddr.String()
	}
	fix := fmt.Sprintf("map the host name to the cluster address in /etc/hosts: \"%s %s\" (and drop %s from any 127.x line)", want, f.name, f.name)
	ev := map[string]any{"hostname": f.name, "iface": f.iface}
	if f.err != nil {
		if errors.Is(f.err, resolve.ErrNotFound) {
			return probes.FailResult(id, fmt.Sprintf("host name %s does not resolve: Java's getLocalHost() throws UnknownHostException", f.name)).
				With(notes(f.ans), fix, ev)
		}
		return probes.UnknownResult(id, fmt.Sprintf("cannot resolve %s: %v", f.name, f.err))
	}
	addr := f.ans.First()
	ev["address"], ev["source"] = addr.String(), f.ans.Source
	if len(f.ans.Addrs) > 1 {
		ev["addresses"] = addrStrings(f.ans.Addrs)
	}
	where := fmt.Sprintf("via %s", f.ans.Source)
	if l, ok := f.ans.LineOf(addr); ok && f.ans.Source == "files" {
		where = fmt.Sprintf("/etc/hosts line %d", l.Number)
		ev["line"] = strings.TrimSpace(l.Raw)
	}
	why := notes(f.ans)
	if f.ans.Reordered() {
		why = joinNotes(why, fmt.Sprintf("%s has several addresses (%s): getaddrinfo sorts them by RFC 3484 (/etc/gai.conf), which puts loopback and same-subnet addresses first, and Java takes the first IPv4 one, %s, not the first written",
			f.name, strings.Join(addrStrings(f.ans.Found), ", "), addr))
	}
	switch {
	case addr.IsLoopback() || addr == netip.MustParseAddr("127.0.0.2"):
		return probes.FailResult(id, fmt.Sprintf("host name %s resolves to loopback %s (%s): Tomcat advertises it and peers cannot replicate to this host", f.name, addr, where)).
			With(joinNotes("Receiver address=\"auto\" uses InetAddress.getLocalHost(); Debian's installer maps the host name to 127.0.1.1", why), fix, ev)
	case f.absent:
		return probes.PassResult(id, fmt.Sprintf("host name %s resolves to %s (%s), not loopback", f.name, addr, where)).
			With(joinNotes("whether this host holds the address is not checked under --root: interfaces are the running kernel's", why), "", ev)
	case f.holder == "":
		return probes.FailResult(id, fmt.Sprintf("host name %s resolves to %s (%s), which no local interface holds", f.name, addr, where)).
			With(joinNotes("Tomcat would advertise an address that is not this host's; stale /etc/hosts after a re-addressing is the usual cause", why), fix, ev)
	case f.holder != f.iface:
		ev["holder"] = f.holder
		return probes.WarnResult(id, fmt.Sprintf("host name %s resolves to %s on %s, not on the cluster interface %s", f.name, addr, f.holder, f.iface)).
			With(joinNotes("replication traffic will be addressed to "+f.holder+"; fine only if peers reach that network", why), fix+", or set Receiver address explicitly in server.xml", ev)
	}
	return probes.PassResult(id, fmt.Sprintf("host name %s resolves to %s on %s (%s)", f.name, addr, f.iface, where)).With(why, "", ev)
}

func holder(local []probes.IfaceAddr, ans resolve.Answer) string {
	if len(ans.Addrs) == 0 {
		return ""
	}
	return probes.HolderOf(local, ans.First())
}

func firstV4On(local []probes.IfaceAddr, iface string) netip.Addr {
	for _, a := range local {
		if a.Iface == iface && a.Prefix.Addr().Is4() {
			return a.Prefix.Addr()
		}
	}
	return netip.Addr{}
}

func notes(a resolve.Answer) string { return strings.Join(a.Notes, "; ") }

func joinNotes(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

func addrStrings(as []netip.Addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

// conflicts lists, for the given names, /etc/hosts entries that map one name to more than
// one address: glibc returns them all and the JVM picks the first, so the file order
// silently decides.
func conflicts(f *hosts.File, names []string) []string {
	var out []string
	for _, n := range names {
		if addrs := f.Lookup(n); len(addrs) > 1 {
			var lines []string
			for _, l := range f.Entries(n) {
				lines = append(lines, fmt.Sprintf("%d", l.Number))
			}
			out = append(out, fmt.Sprintf("%s -> %s (lines %s)", n, strings.Join(addrStrings(addrs), ", "), strings.Join(lines, ", ")))
		}
	}
	return out
}
