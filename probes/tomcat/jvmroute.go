package tomcat

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// JvmRoute is tomcat.jvmroute: the Engine's jvmRoute, which Tomcat appends to every
// session id (ID.tomcat1) so the balancer keeps a session on its node, is set, differs
// between this host's instances, and can be matched by the route maps nginx setups use.
type JvmRoute struct {
	Found *Found
}

// ID implements probes.Probe.
func (JvmRoute) ID() string { return "tomcat.jvmroute" }

// Timeout implements probes.Probe.
func (JvmRoute) Timeout() time.Duration { return Timeout }

// routeWord is what the common nginx maps capture after the dot ("~\.(?P<route>\w+)$").
var routeWord = regexp.MustCompile(`^\w+$`)

// Run implements probes.Probe.
func (p JvmRoute) Run(ctx context.Context, env *probes.Env) probes.Result {
	if p.Found == nil || len(p.Found.Instances) == 0 {
		return noTomcat(p.ID(), p.Found)
	}
	seen := map[string]string{} // jvmRoute -> where, across instances
	var dups []string
	rs := each(p.ID(), p.Found, func(in *Instance) probes.Result {
		for _, e := range in.Engines() {
			if r := e.JvmRoute; r != "" {
				where := in.pos(e.El)
				if other, dup := seen[r]; dup {
					dups = append(dups, fmt.Sprintf("jvmRoute %q at %s and at %s", r, other, where))
				}
				seen[r] = where
			}
		}
		return judgeJvmRoute(in)
	})
	if len(dups) > 0 {
		return probes.FailResult(p.ID(), "two instances on this host share a jvmRoute: "+dups[0]).
			With("the balancer cannot tell the two nodes' sessions apart; requests bounce between them", "give every Tomcat its own jvmRoute (and the worker of the same name)",
				map[string]any{"duplicates": dups})
	}
	return merge(p.ID(), rs)
}

// judgeJvmRoute judges the first <Engine>: Tomcat's Service runs one.
func judgeJvmRoute(in *Instance) probes.Result {
	const id = "tomcat.jvmroute"
	engines := in.Engines()
	if len(engines) == 0 {
		return probes.UnknownResult(id, fmt.Sprintf("%s: server.xml has no <Engine>", in.Label()))
	}
	e := engines[0]
	route := e.JvmRoute
	ev := map[string]any{"base": in.Base, "jvmRoute": route, "file": in.pos(e.El)}
	switch {
	case route == "":
		return probes.WarnResult(id, fmt.Sprintf("%s: <Engine name=%q> at %s has no jvmRoute: sticky sessions cannot work", in.Label(), e.Name, in.pos(e.El))).
			With("mod_jk and nginx route maps send a session back to its node by the suffix jvmRoute adds to the session id; without it every request may land on another node",
				fmt.Sprintf("set jvmRoute on <Engine> at %s to the name of this node's worker in workers.properties (tomcat1, tomcat2, ...)", in.pos(e.El)), ev)
	case strings.Contains(route, "."):
		return probes.WarnResult(id, fmt.Sprintf("%s: jvmRoute %q contains a dot", in.Label(), route)).
			With("balancers take the route from the session id after the dot; a dot inside the route makes them read only part of it",
				"use letters, digits and underscores only", ev)
	case !routeWord.MatchString(route):
		return probes.WarnResult(id, fmt.Sprintf("%s: jvmRoute %q is not matched by the usual nginx route map (\\w+)", in.Label(), route)).
			With("map $cookie_jsessionid $route { ~\\.(?P<route>\\w+)$ $route; } captures letters, digits and underscores only, so sessions of this node lose their stickiness behind nginx",
				"use letters, digits and underscores only (tomcat_1 rather than tomcat-1)", ev)
	}
	return probes.PassResult(id, fmt.Sprintf("%s: jvmRoute %s (%s)%s", in.Label(), route, in.pos(e.El), in.attrFrom(e.El, "jvmRoute"))).With("", "", ev)
}
