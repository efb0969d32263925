package web

import (
	"fmt"
	"slices"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Stickiness says how this host's balancers keep a session on its node. BySuffix are the
// ones that read the route after the session id's dot, which only Tomcat's jvmRoute puts
// there: mod_jk with sticky_session, mod_proxy_balancer with stickysession=JSESSIONID, an
// nginx map on the session cookie. Own are the ones that stick without it: a cookie of the
// balancer's own (HAProxy cookie insert or prefix, mod_proxy stickysession=ROUTEID), a
// hash of the whole session id, a stick table, the client's address. Both empty: no
// balancer of the cluster runs here.
type Stickiness struct {
	BySuffix, Own []string
}

// StickinessOf reads every web server of this host as the web tier's checks do.
func StickinessOf(env *probes.Env) Stickiness {
	var s Stickiness
	for _, conf := range HTTPDs(env) {
		for _, b := range modJKBalancers(conf.env, conf) {
			if b.bySuffix {
				s.BySuffix = append(s.BySuffix, fmt.Sprintf("mod_jk balancer %s (sticky_session, %s)", b.Name, b.Where))
			}
		}
		for _, b := range proxyBalancers(conf) {
			switch {
			case b.sticky == "":
			case namesSessionID(b.sticky):
				s.BySuffix = append(s.BySuffix, fmt.Sprintf("balancer://%s (stickysession=%s, %s)", b.name, b.sticky, b.where))
			default:
				s.Own = append(s.Own, fmt.Sprintf("balancer://%s (stickysession=%s, a cookie of its own, %s)", b.name, b.sticky, b.where))
			}
		}
	}
	if ds, files, _ := loadNginx(env); files > 0 {
		ups, proxied := upstreamsOf(ds)
		maps := routeMapsOf(ds)
		for target := range proxied {
			if m, ok := maps[target]; ok && len(m.routes) > 0 {
				s.BySuffix = append(s.BySuffix, fmt.Sprintf("nginx map %s (%s)", m.variable, m.where))
			}
		}
		for _, u := range ups {
			if proxied[u.name] && (u.method == "ip_hash" || u.method == "hash" || u.method == "sticky") {
				s.Own = append(s.Own, fmt.Sprintf("nginx upstream %s (%s, %s)", u.name, u.method, u.where))
			}
		}
	}
	for _, c := range loadHAProxy(env) {
		for _, u := range c.upstreams() {
			if u.sticky {
				s.Own = append(s.Own, fmt.Sprintf("HAProxy %s (%s, %s)", u.name, u.method, u.where))
			}
		}
	}
	slices.Sort(s.BySuffix) // the maps above have no order of their own
	slices.Sort(s.Own)
	return s
}

// namesSessionID reports whether a stickysession= value names Tomcat's session cookie or
// path parameter ("JSESSIONID", "JSESSIONID|jsessionid"): mod_proxy then takes the route
// after the id's dot.
func namesSessionID(sticky string) bool {
	for _, n := range strings.Split(sticky, "|") {
		if strings.EqualFold(n, sessionCookie) {
			return true
		}
	}
	return false
}
