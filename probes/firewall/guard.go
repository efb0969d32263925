package firewall

import (
	"context"
	"slices"
	"sync"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/resolve"
)

// Guard assesses what guards the cluster interface once per run for every check that
// asks: firewall.ports and firewall.igmp look at different traffic through the same zone
// and rule set, and each D-Bus round of firewalld costs tens of milliseconds.
type Guard struct {
	iface string
	peers []string
	needs []Need

	once sync.Once
	a    *Assessment
	err  error
}

// NewGuard returns a guard that decides all of needs, from each of peers (host names or
// addresses; this host and names that do not resolve are left out), on its first use.
func NewGuard(iface string, peers []string, needs ...Need) *Guard {
	return &Guard{iface: iface, peers: peers, needs: needs}
}

// assess decides needs from peers, sharing g's one assessment when g is set (and holds
// them).
func assess(ctx context.Context, env *probes.Env, g *Guard, iface string, peers []string, needs []Need) (*Assessment, error) {
	if g == nil || g.iface != iface || !slices.Equal(g.peers, peers) {
		return assessFrom(ctx, env, iface, needs, peers)
	}
	g.once.Do(func() { g.a, g.err = assessFrom(ctx, env, g.iface, g.needs, g.peers) })
	if g.err != nil {
		return nil, g.err
	}
	out := *g.a
	out.Coverage = nil
	seen := map[Need]bool{}
	for _, cv := range g.a.Coverage {
		if slices.Contains(needs, cv.Need) {
			out.Coverage = append(out.Coverage, cv)
			seen[cv.Need] = true
		}
	}
	if len(seen) != len(needs) {
		return assessFrom(ctx, env, iface, needs, peers) // asked for traffic the guard was not built for
	}
	return &out, nil
}

// assessFrom resolves the peers' names as the JVM does and assesses needs from them.
func assessFrom(ctx context.Context, env *probes.Env, iface string, needs []Need, names []string) (*Assessment, error) {
	var peers []resolve.Peer
	if len(names) > 0 && slices.ContainsFunc(needs, func(n Need) bool { return n.FromPeers }) {
		list, err := resolve.PeersOf(ctx, env, names)
		if err != nil {
			return nil, errUndecided{err.Error()}
		}
		peers = list.Others
	}
	return Assess(ctx, env, iface, needs, peers)
}
