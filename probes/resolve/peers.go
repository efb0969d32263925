package resolve

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Peer is another cluster host named on the command line, with the IPv4 address the JVM
// would use for it.
type Peer struct {
	Name string
	Addr netip.Addr
}

// PeerList is a host list split the way every command needs it: the other hosts, the
// names that are this host (the same list is given on every host), and names that do
// not resolve to an IPv4 address.
type PeerList struct {
	Others []Peer
	// Selves are "NAME (how it is known to be this host)".
	Selves []string
	// Unresolved maps a name to why it has no address.
	Unresolved map[string]string
}

// Peers resolves names as the JVM would and sets this host apart. Two names of one
// host are kept once, under the first name.
func (r *Resolver) Peers(ctx context.Context, names []string, local []probes.IfaceAddr) PeerList {
	out := PeerList{Unresolved: map[string]string{}}
	seen := map[netip.Addr]bool{}
	for _, name := range names {
		if self, how := r.Self(ctx, name, local); self {
			out.Selves = append(out.Selves, fmt.Sprintf("%s (%s)", name, how))
			continue
		}
		addr, err := netip.ParseAddr(name)
		if err != nil {
			ans, lerr := r.Lookup(ctx, name)
			if lerr != nil {
				out.Unresolved[name] = "does not resolve (add it to /etc/hosts or DNS)"
				continue
			}
			addr = ans.First()
			for _, a := range ans.Addrs {
				if a.Unmap().Is4() {
					addr = a
					break
				}
			}
		}
		if addr = addr.Unmap(); !addr.Is4() {
			out.Unresolved[name] = "has no IPv4 address (Tomcat's McastService is IPv4)"
			continue
		}
		if !seen[addr] {
			seen[addr] = true
			out.Others = append(out.Others, Peer{Name: name, Addr: addr})
		}
	}
	return out
}

// PeersOf is Peers with a resolver and the host's addresses of env's own.
func PeersOf(ctx context.Context, env *probes.Env, names []string) (PeerList, error) {
	r, err := New(env)
	if err != nil {
		return PeerList{}, err
	}
	local, err := env.InterfaceAddrs()
	if err != nil {
		return PeerList{}, err
	}
	return r.Peers(ctx, names, local), nil
}
