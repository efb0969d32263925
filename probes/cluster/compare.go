package cluster

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/tomcat"
)

// comparisons are the checks only the whole cluster can make, each over the hosts'
// reports; one that has nothing to compare returns false.
var comparisons = []func(hosts []*HostReport) (Comparison, bool){
	compareVersions,
	compareSettings,
	compareApplications,
	compareContent,
	compareRoutes,
	compareReceivers,
	compareClocks,
}

// Compare is every comparison across the hosts' reports that has something to compare.
func Compare(hosts []*HostReport) []Comparison {
	out := []Comparison{}
	for _, c := range comparisons {
		if cmp, ok := c(hosts); ok {
			out = append(out, cmp)
		}
	}
	return out
}

// tomcatHosts are the reached WAS hosts whose preflight found a Tomcat.
func tomcatHosts(hosts []*HostReport) []*HostReport {
	var out []*HostReport
	for _, h := range hosts {
		if h.Reachable && h.HasRole(probes.RoleWAS) && h.Settings != nil && len(h.Settings.Instances) > 0 {
			out = append(out, h)
		}
	}
	return out
}

// compareVersions: Tomcat versions. Session attributes, manager messages and Tribes
// differ between major versions (javax against jakarta from 10 on), so mixing 9.0 and
// 10.1 loses sessions; patch releases of one line interoperate.
func compareVersions(hosts []*HostReport) (Comparison, bool) {
	c := Comparison{What: "Tomcat versions", Values: map[string]string{}}
	lines := map[string][]string{}
	for _, h := range tomcatHosts(hosts) {
		v := h.Settings.Instances[0].Version
		if v == "" {
			v = "unknown"
		}
		c.Values[h.Name] = v
		if v != "unknown" {
			lines[majorMinor(v)] = append(lines[majorMinor(v)], h.Name)
		}
	}
	if len(c.Values) < 2 {
		return c, false
	}
	if len(lines) > 1 {
		c.Breaks, c.Blame = true, minority(lines)
		c.Why = "Tomcat " + describeGroups(lines) + ": sessions do not replicate between major versions (session classes, javax against jakarta); run one release line on every node"
	}
	return c, true
}

func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// describeGroups is "10.1 on was1, was2; 9.0 on was3", sorted.
func describeGroups(g map[string][]string) string {
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+" on "+strings.Join(g[k], ", "))
	}
	return strings.Join(parts, "; ")
}

// compareSettings: the membership group and port every WAS host's Tomcat uses, and its
// receiver range. Members of different groups or ports never hear each other.
func compareSettings(hosts []*HostReport) (Comparison, bool) {
	c := Comparison{What: "cluster settings", Values: map[string]string{}}
	groups := map[string][]string{}
	for _, h := range tomcatHosts(hosts) {
		s := h.Settings
		key := fmt.Sprintf("%s membership %s:%d", s.Membership, s.Group, s.McastPort)
		c.Values[h.Name] = fmt.Sprintf("%s, receiver %s", key, s.ReceiverPorts)
		groups[key] = append(groups[key], h.Name)
	}
	if len(c.Values) < 2 {
		return c, false
	}
	if len(groups) > 1 {
		c.Breaks, c.Blame = true, minority(groups)
		c.Why = describeGroups(groups) + ": members of another group or port never hear each other; give every <Membership> the same address and port"
	}
	return c, true
}

// compareApplications: the applications each WAS host deploys. An application on one
// node only has no peer to replicate to, and its sessions arriving from a balancer that
// fails over are lost ("Context manager doesn't exist" in the other node's log).
func compareApplications(hosts []*HostReport) (Comparison, bool) {
	c := Comparison{What: "applications", Values: map[string]string{}}
	apps := map[string][]string{}
	var all []string
	for _, h := range tomcatHosts(hosts) {
		r := h.Check("tomcat.distributable")
		if r == nil || r.Evidence == nil {
			continue
		}
		list := append(strList(r.Evidence["replicating"]), strList(r.Evidence["notReplicating"])...)
		sort.Strings(list)
		apps[h.Name] = list
		c.Values[h.Name] = strings.Join(list, ", ")
		for _, a := range list {
			if !slices.Contains(all, a) {
				all = append(all, a)
			}
		}
	}
	if len(apps) < 2 {
		return c, false
	}
	sort.Strings(all)
	var why []string
	for _, a := range all {
		var with, without []string
		for name, list := range apps {
			if slices.Contains(list, a) {
				with = append(with, name)
			} else {
				without = append(without, name)
			}
		}
		if len(without) > 0 {
			sort.Strings(with)
			sort.Strings(without)
			why = append(why, fmt.Sprintf("%s is deployed on %s but not on %s", a, strings.Join(with, ", "), strings.Join(without, ", ")))
			c.Blame = appendNew(c.Blame, without...)
		}
	}
	if len(why) > 0 {
		c.Breaks = true
		c.Why = strings.Join(why, "; ") + ": its sessions have no peer there to replicate to (\"Context manager doesn't exist\"); deploy every application on every node"
	}
	return c, true
}

// compareContent: each application's classes and WEB-INF/lib on every node that deploys
// it. A session is deserialised with the receiving node's classes: a class or jar that
// differs fails replication (InvalidClassException, a serialVersionUID mismatch).
func compareContent(hosts []*HostReport) (Comparison, bool) {
	c := Comparison{What: "application content", Values: map[string]string{}}
	per := map[string]map[string]tomcat.Content{} // app -> host -> content
	for _, h := range tomcatHosts(hosts) {
		r := h.Check("tomcat.distributable")
		if r == nil || r.Evidence == nil || r.Evidence["content"] == nil {
			continue
		}
		var byApp map[string]tomcat.Content
		if b, err := json.Marshal(r.Evidence["content"]); err != nil || json.Unmarshal(b, &byApp) != nil {
			continue
		}
		var vals []string
		for app, ct := range byApp {
			if per[app] == nil {
				per[app] = map[string]tomcat.Content{}
			}
			per[app][h.Name] = ct
			vals = append(vals, app+" "+ct.Digest)
		}
		sort.Strings(vals)
		c.Values[h.Name] = strings.Join(vals, ", ")
	}
	apps := make([]string, 0, len(per))
	for app, on := range per {
		if len(on) > 1 {
			apps = append(apps, app)
		}
	}
	if len(apps) == 0 {
		return c, false
	}
	sort.Strings(apps)
	var why []string
	for _, app := range apps {
		names := make([]string, 0, len(per[app]))
		for n := range per[app] {
			names = append(names, n)
		}
		sort.Strings(names)
		ref := per[app][names[0]]
		for _, n := range names[1:] {
			if other := per[app][n]; other.Digest != ref.Digest {
				why = append(why, fmt.Sprintf("%s differs between %s and %s: %s", app, names[0], n, contentDiff(ref, other)))
				c.Blame = appendNew(c.Blame, n)
			}
		}
	}
	if len(why) > 0 {
		c.Breaks = true
		c.Why = strings.Join(why, "; ") + ": a session made on one node fails to deserialise on the other (InvalidClassException, serialVersionUID); deploy the same build everywhere"
	}
	return c, true
}

// contentDiff names what differs between two nodes' copies of an application.
func contentDiff(a, b tomcat.Content) string {
	var out []string
	for _, name := range unionKeys(a.Libs, b.Libs) {
		switch x, y := a.Libs[name], b.Libs[name]; {
		case x == "":
			out = append(out, "WEB-INF/lib/"+name+" only on the second")
		case y == "":
			out = append(out, "WEB-INF/lib/"+name+" only on the first")
		case x != y:
			out = append(out, "WEB-INF/lib/"+name+" differs")
		}
	}
	if a.ClassesDigest != b.ClassesDigest {
		if a.Classes != nil && b.Classes != nil {
			for _, name := range unionKeys(a.Classes, b.Classes) {
				if a.Classes[name] != b.Classes[name] {
					out = append(out, "WEB-INF/classes/"+name+" differs")
				}
			}
		} else {
			out = append(out, "WEB-INF/classes differ")
		}
	}
	if len(out) > 8 {
		out = append(out[:8], fmt.Sprintf("and %d more", len(out)-8))
	}
	if len(out) == 0 {
		return "files outside WEB-INF/lib and WEB-INF/classes"
	}
	return strings.Join(out, ", ")
}

func unionKeys(a, b map[string]string) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// compareRoutes: one jvmRoute per node, and each the route of the balancer's worker for
// that node, or sessions do not stick (mod_jk sends a session by the suffix after the dot).
func compareRoutes(hosts []*HostReport) (Comparison, bool) {
	c := Comparison{What: "jvmRoutes", Values: map[string]string{}}
	byRoute := map[string][]string{}
	routeOf := map[string]string{} // WAS host -> jvmRoute
	for _, h := range tomcatHosts(hosts) {
		r := h.Check("tomcat.jvmroute")
		if r == nil || r.Evidence == nil {
			continue
		}
		route, _ := r.Evidence["jvmRoute"].(string)
		routeOf[h.Name] = route
		c.Values[h.Name] = orNone(route)
		if route != "" {
			byRoute[route] = append(byRoute[route], h.Name)
		}
	}
	var why []string
	for route, names := range byRoute {
		if len(names) > 1 {
			sort.Strings(names)
			why = append(why, fmt.Sprintf("jvmRoute %s on %s: the balancer cannot tell their sessions apart", route, strings.Join(names, " and ")))
			c.Blame = appendNew(c.Blame, names[1:]...)
		}
	}
	for _, web := range hosts {
		r := web.Check("ajp.workers")
		if !web.Reachable || r == nil || r.Evidence == nil {
			continue
		}
		var ws []string
		for _, w := range anyList(r.Evidence["workers"]) {
			m, _ := w.(map[string]any)
			name, _ := m["name"].(string)
			addr, _ := m["address"].(string)
			route, _ := m["route"].(string)
			ws = append(ws, fmt.Sprintf("%s=%s", route, addr))
			owner := hostAt(hosts, addr)
			if owner == nil {
				continue
			}
			if jr, known := routeOf[owner.Name]; known && jr != route {
				why = append(why, fmt.Sprintf("%s's worker %s (%s) expects route %s but %s's jvmRoute is %s: that node's sessions do not stick", web.Name, name, addr, route, owner.Name, orNone(jr)))
				c.Blame = appendNew(c.Blame, owner.Name)
			}
		}
		if len(ws) > 0 {
			c.Values[web.Name] = "workers " + strings.Join(ws, ", ")
		}
	}
	if len(routeOf) < 2 && len(c.Values) == len(routeOf) {
		return c, false
	}
	sort.Strings(why)
	if len(why) > 0 {
		c.Breaks, c.Why = true, strings.Join(why, "; ")
	}
	return c, true
}

// hostAt is the reached host that holds addr's address (ADDR:PORT or ADDR), by its
// cluster interface's addresses or the address it was reached at.
func hostAt(hosts []*HostReport, addr string) *HostReport {
	ip := addr
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		ip = ap.Addr().String()
	} else if i := strings.LastIndexByte(addr, ':'); i > 0 {
		ip = addr[:i]
	}
	for _, h := range hosts {
		if !h.Reachable {
			continue
		}
		if h.Address == ip || h.Name == ip {
			return h
		}
		if r := h.Check("link.cluster"); r != nil && r.Evidence != nil {
			for _, a := range strList(r.Evidence["addresses"]) {
				if p, err := netip.ParsePrefix(a); err == nil && p.Addr().String() == ip {
					return h
				}
			}
		}
	}
	return nil
}

// compareReceivers: the Receiver address and port each node advertises in its heartbeats
// (its own members report), connected to from every other node (theirs). A receiver a
// peer cannot reach is a member that never replicates to it: loopback, a container's
// bridge address, a firewall.
func compareReceivers(hosts []*HostReport) (Comparison, bool) {
	c := Comparison{What: "receivers", Values: map[string]string{}}
	var why []string
	for _, h := range hosts {
		if h.Members == nil {
			continue
		}
		var own string
		for _, m := range h.Members.Members {
			if m.Self {
				own = fmt.Sprintf("%s:%d", m.Address, m.Port)
			}
		}
		if own == "" {
			continue
		}
		var seen []string
		for _, o := range hosts {
			if o == h || o.Members == nil {
				continue
			}
			outcome := "not heard"
			for _, m := range o.Members.Members {
				if fmt.Sprintf("%s:%d", m.Address, m.Port) == own {
					outcome = orNone(m.Receiver)
				}
			}
			seen = append(seen, outcome+" from "+o.Name)
			if outcome != "open" {
				why = append(why, fmt.Sprintf("%s advertises %s, which %s finds %s", h.Name, own, o.Name, outcome))
				c.Blame = appendNew(c.Blame, h.Name)
			}
		}
		sort.Strings(seen)
		c.Values[h.Name] = own + " (" + strings.Join(seen, ", ") + ")"
	}
	if len(c.Values) < 2 {
		return c, false
	}
	if len(why) > 0 {
		sort.Strings(why)
		c.Breaks = true
		c.Why = strings.Join(why, "; ") + ": that node never gets the others' replication messages"
	}
	return c, true
}

// compareClocks: each WAS host's clock against the first's, as the mesh measured it
// (the echo timestamps); the mesh's own limit decides.
func compareClocks(hosts []*HostReport) (Comparison, bool) {
	c := Comparison{What: "clocks", Values: map[string]string{}}
	var ref *HostReport
	for _, h := range hosts {
		if h.Mesh != nil {
			ref = h
			break
		}
	}
	if ref == nil {
		return c, false
	}
	c.Values[ref.Name] = "reference"
	var why []string
	for _, p := range ref.Mesh.Peers {
		name := p.Peer
		if h := hostAt(hosts, p.Address); h != nil {
			name = h.Name
		}
		if p.Clock == nil {
			c.Values[name] = "not measured"
			continue
		}
		c.Values[name] = fmt.Sprintf("%+.1f ms (±%.1f)", p.Clock.OffsetMs, p.Clock.ErrorMs)
		if abs(p.Clock.OffsetMs)-p.Clock.ErrorMs > p.Clock.MaxSkewMs {
			why = append(why, fmt.Sprintf("%s's clock is %+.0f ms off %s's (limit %.0f ms): session expiry and Tomcat's member timeouts go wrong", name, p.Clock.OffsetMs, ref.Name, p.Clock.MaxSkewMs))
			c.Blame = appendNew(c.Blame, name)
		}
	}
	if len(c.Values) < 2 {
		return c, false
	}
	if len(why) > 0 {
		c.Breaks, c.Why = true, strings.Join(why, "; ")
	}
	return c, true
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func anyList(v any) []any {
	l, _ := v.([]any)
	return l
}

// strList reads a JSON list of strings (evidence after a round trip through JSON).
func strList(v any) []string {
	var out []string
	switch l := v.(type) {
	case []any:
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	case []string:
		out = append(out, l...)
	}
	return out
}

// minority are the hosts outside the largest group (the first by name among equals).
func minority(groups map[string][]string) []string {
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(groups[keys[i]]) != len(groups[keys[j]]) {
			return len(groups[keys[i]]) > len(groups[keys[j]])
		}
		return keys[i] < keys[j]
	})
	var out []string
	for _, k := range keys[1:] {
		out = append(out, groups[k]...)
	}
	return out
}

func appendNew(list []string, add ...string) []string {
	for _, a := range add {
		if !slices.Contains(list, a) {
			list = append(list, a)
		}
	}
	return list
}
