package firewall

import (
	"context"
	"slices"
	"sync"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Guard assesses what guards the cluster interface once per run for every check that
// asks: firewall.ports and firewall.igmp look at different traffic through the same zone
// and rule set, and each D-Bus round of firewalld costs tens of milliseconds.
type Guard struct {
	iface string
	needs []Need

	once sync.Once
	a    *Assessment
	err  error
}

// NewGuard returns a guard that decides all of needs on its first use.
func NewGuard(iface string, needs ...Need) *Guard {
	return &Guard{iface: iface, needs: needs}
}

// assess decides needs, sharing g's one assessment when g is set (and holds them).
func assess(ctx context.Context, env *probes.Env, g *Guard, iface string, needs []Need) (*Assessment, error) {
	if g == nil || g.iface != iface {
		return Assess(ctx, env, iface, needs)
	}
	g.once.Do(func() { g.a, g.err = Assess(ctx, env, g.iface, g.needs) })
	if g.err != nil {
		return nil, g.err
	}
	out := *g.a
	out.Coverage = nil
	for _, cv := range g.a.Coverage {
		if slices.Contains(needs, cv.Need) {
			out.Coverage = append(out.Coverage, cv)
		}
	}
	if len(out.Coverage) != len(needs) {
		return Assess(ctx, env, iface, needs) // asked for traffic the guard was not built for
	}
	return &out, nil
}
