package web

import (
	"fmt"
	"slices"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/modjk"
)

// exposedControls names the balancer's control surfaces httpd serves to anyone: a
// JkMount to a mod_jk status worker, and a SetHandler balancer-manager, whose URL no
// access rule covers. Both show the cluster's members, and in their default (read-write)
// mode let whoever reaches them stop or disable one.
func exposedControls(conf *HTTPDConfig, ms []mount, wf *modjk.File) []string {
	var out []string
	if wf != nil {
		for _, m := range ms {
			w, ok := wf.Worker(m.worker)
			if !ok || w.Type() != "status" || conf.restricted(m.path) {
				continue
			}
			mode := "read-write: it can stop and disable members"
			if v, ok := w.Get("read_only"); ok && strings.EqualFold(strings.TrimSpace(v.Text), "true") {
				mode = "read-only"
			}
			out = append(out, fmt.Sprintf("%s %s %s (%s) serves mod_jk's status worker (%s) with no access rule for %s: anyone who reaches httpd sees the members",
				m.directive, m.path, m.worker, m.where, mode, m.path))
		}
	}
	for _, d := range conf.All("SetHandler") {
		if len(d.Args) != 1 || !strings.EqualFold(d.Args[0], "balancer-manager") {
			continue
		}
		loc := locationOf(d.Context)
		if loc == "" || conf.restricted(loc) {
			continue
		}
		out = append(out, fmt.Sprintf("SetHandler balancer-manager (%s) serves mod_proxy's balancer-manager at %s with no access rule: anyone who reaches httpd can disable members and change their routes",
			d.Where(), loc))
	}
	return out
}

// restricted reports whether an access rule covers path: a Require (other than "all
// granted"), or the old Order/Deny/Allow, in a <Location> whose path starts path (the
// sections httpd merges for a request to it).
func (c *HTTPDConfig) restricted(path string) bool {
	return slices.ContainsFunc(c.Directives, func(d Directive) bool {
		loc := locationOf(d.Context)
		if loc == "" || !strings.HasPrefix(strings.TrimSuffix(strings.TrimSuffix(path, "*"), "/"), strings.TrimSuffix(loc, "/")) {
			return false
		}
		switch {
		case d.Is("Require"):
			return !(len(d.Args) == 2 && strings.EqualFold(d.Args[0], "all") && strings.EqualFold(d.Args[1], "granted"))
		case d.Is("Deny"):
			return true
		case d.Is("Allow"): // "Allow from all" lets everyone in
			return len(d.Args) > 0 && !strings.EqualFold(d.Args[len(d.Args)-1], "all")
		}
		return false
	})
}
