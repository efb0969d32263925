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
	// Front says how the balancers of this host keep sessions (web.StickinessOf): the ones
	// that route by the session id's suffix, and the ones that stick without it. Nil, or
	// both empty, where no balancer runs here (a WAS host).
	Front func(*probes.Env) (bySuffix, own []string)
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
	var bySuffix, own []string
	if p.Front != nil {
		bySuffix, own = p.Front(env)
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
		return judgeJvmRoute(in, bySuffix, own)
	})
	if len(dups) > 0 {
		return probes.FailResult(p.ID(), "two instances on this host share a jvmRoute: "+dups[0]).
			With("the balancer cannot tell the two nodes' sessions apart; requests bounce between them", "give every Tomcat its own jvmRoute (and the worker of the same name)",
				map[string]any{"duplicates": dups})
	}
	return merge(p.ID(), rs)
}

// judgeJvmRoute judges the first <Engine>: Tomcat's Service runs one. A missing jvmRoute
// matters only to a balancer that routes by the session id's suffix: it is a warning
// naming the balancer where one of this host does, a pass where this host's balancers
// stick by their own cookie, and a conditional warning where no balancer is known.
func judgeJvmRoute(in *Instance, bySuffix, own []string) probes.Result {
	const id = "tomcat.jvmroute"
	engines := in.Engines()
	if len(engines) == 0 {
		return probes.UnknownResult(id, fmt.Sprintf("%s: server.xml has no <Engine>", in.Label()))
	}
	e := engines[0]
	route := e.JvmRoute
	ev := map[string]any{"base": in.Base, "jvmRoute": route, "file": in.pos(e.El)}
	from := in.attrFrom(e.El, "jvmRoute")
	if prop, ok := in.propOf("jvmRoute"); ok && route == "" {
		if !jvmRoutePropertyRead(in.Version) {
			version := "Tomcat 10.1 and later ignore it"
			if !in.Version.IsZero() {
				version = fmt.Sprintf("Tomcat ignores it since 10.1.0, and this is %s", in.Version)
			}
			ev["property"] = prop.Value
			return probes.WarnResult(id, fmt.Sprintf("%s: -DjvmRoute=%s (%s) sets no jvmRoute: %s, and <Engine name=%q> at %s has none", in.Label(), prop.Value, prop.From, version, e.Name, in.pos(e.El))).
				With("StandardEngine took its default jvmRoute from the jvmRoute system property until 10.1; now the session ids carry no route, and a balancer that routes by it loses stickiness",
					fmt.Sprintf("set jvmRoute=\"${jvmRoute}\" on <Engine> at %s (Tomcat replaces ${jvmRoute} with the system property)", in.pos(e.El)), ev)
		}
		route, from = prop.Value, fmt.Sprintf(" (from -DjvmRoute, %s: StandardEngine's default before 10.1)", prop.From)
		ev["jvmRoute"] = route
	}
	switch {
	case route == "" && len(bySuffix) == 0 && len(own) > 0:
		ev["balancers"] = own
		return probes.PassResult(id, fmt.Sprintf("%s: no jvmRoute on <Engine name=%q> (%s), and none is needed: %s sticks without it", in.Label(), e.Name, in.pos(e.El), strings.Join(own, "; "))).With("", "", ev)
	case route == "":
		fix := fmt.Sprintf("set jvmRoute on <Engine> at %s to the name of this node's worker in workers.properties (tomcat1, tomcat2, ...)", in.pos(e.El))
		if len(bySuffix) > 0 {
			ev["balancers"] = bySuffix
			return probes.WarnResult(id, fmt.Sprintf("%s: <Engine name=%q> at %s has no jvmRoute, and %s routes by it: sticky sessions cannot work", in.Label(), e.Name, in.pos(e.El), strings.Join(bySuffix, "; "))).
				With("it sends a session back to its node by the route jvmRoute adds after the session id's dot; without it every request may land on another node", fix, ev)
		}
		return probes.WarnResult(id, fmt.Sprintf("%s: <Engine name=%q> at %s has no jvmRoute: if your balancer routes by the session id's suffix (mod_jk, mod_proxy stickysession=JSESSIONID, an nginx map), sticky sessions cannot work", in.Label(), e.Name, in.pos(e.El))).
			With("those balancers send a session back to its node by the route jvmRoute adds after the session id's dot; one that sticks by a cookie of its own (HAProxy cookie insert, mod_proxy stickysession=ROUTEID) or a hash of the whole id does not need it",
				fix+", if the balancer routes by it", ev)
	case strings.Contains(route, "."):
		return probes.WarnResult(id, fmt.Sprintf("%s: jvmRoute %q contains a dot", in.Label(), route)).
			With("balancers take the route from the session id after the dot; a dot inside the route makes them read only part of it",
				"use letters, digits and underscores only", ev)
	case !routeWord.MatchString(route):
		return probes.WarnResult(id, fmt.Sprintf("%s: jvmRoute %q is not matched by the usual nginx route map (\\w+)", in.Label(), route)).
			With("map $cookie_jsessionid $route { ~\\.(?P<route>\\w+)$ $route; } captures letters, digits and underscores only, so sessions of this node lose their stickiness behind nginx",
				"use letters, digits and underscores only (tomcat_1 rather than tomcat-1)", ev)
	}
	return probes.PassResult(id, fmt.Sprintf("%s: jvmRoute %s (%s)%s", in.Label(), route, in.pos(e.El), from)).With("", "", ev)
}

// jvmRoutePropertyRead reports whether StandardEngine of this release takes a missing
// jvmRoute from -DjvmRoute: before 10.1.0, and not assumed where the release is unknown.
func jvmRoutePropertyRead(v Version) bool { return !v.IsZero() && !noJvmRouteProperty.In(v) }
