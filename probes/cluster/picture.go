package cluster

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Picture is the cluster as a drawing shows it: the hosts, and the paths between them
// that sessions depend on (the balancer's AJP or HTTP edges to each Tomcat, the
// multicast heartbeats and the TCP replication between each two Tomcats), each with the
// findings that are about it and the causes they come down to.
type Picture struct {
	Web, WAS []PictureHost
	Edges    []Edge
}

// PictureHost is a host and how it fares: "cause" (a fault is there), "symptom" (it
// reports a finding whose cause is elsewhere or unknown), "ok", or "unreached".
type PictureHost struct {
	*HostReport
	Outcome string
	Causes  []string // "check" of each cause on the host
}

// Edge is one path between two hosts. Outcome is "ok", "fail" or "untested".
type Edge struct {
	From, To string
	// Kind is "ajp" or "http" (balancer to Tomcat), "multicast" or "replication"
	// (between Tomcats, both ways).
	Kind    string
	Label   string // what the path is: "AJP 10.99.0.2:8009, route tomcat2"
	Short   string // the same where the drawing shows its ends: "AJP :8009, route tomcat2"
	Outcome string
	// Findings are the run's findings about this path; Causes "host check" of the causes
	// that explain them, "unexplained" for one that none does.
	Findings []Finding
	Causes   []string
}

// Picture lays the report out as hosts and paths. Pure web hosts are the upper row; every
// Tomcat host the lower.
func (r *Report) Picture() Picture {
	var p Picture
	findings := r.Findings()
	for _, h := range r.Hosts {
		ph := PictureHost{HostReport: h, Outcome: "ok"}
		for _, c := range r.Causes {
			if c.Host == h.Name {
				ph.Causes = append(ph.Causes, c.Check)
			}
		}
		switch {
		case !h.Reachable:
			ph.Outcome = "unreached"
		case len(ph.Causes) > 0:
			ph.Outcome = "cause"
		case slices.ContainsFunc(findings, func(f Finding) bool { return f.Host == h.Name }):
			ph.Outcome = "symptom"
		}
		if h.HasRole(probes.RoleWAS) || !h.HasRole(probes.RoleWeb) {
			p.WAS = append(p.WAS, ph)
		} else {
			p.Web = append(p.Web, ph)
		}
	}
	for _, web := range r.Hosts {
		if web.HasRole(probes.RoleWeb) {
			p.Edges = append(p.Edges, r.balancerEdges(web, findings)...)
		}
	}
	var was []*HostReport
	for _, h := range r.Hosts {
		if h.HasRole(probes.RoleWAS) {
			was = append(was, h)
		}
	}
	for i, a := range was {
		for _, b := range was[i+1:] {
			p.Edges = append(p.Edges, r.meshEdges(a, b, findings)...)
		}
	}
	return p
}

// balancerEdges are web's balancer members that are hosts of the run, from its
// ajp.workers (mod_jk, mod_proxy AJP) and web.upstreams (nginx, mod_proxy HTTP) evidence.
func (r *Report) balancerEdges(web *HostReport, findings []Finding) []Edge {
	var out []Edge
	add := func(kind, name, addr, route string) {
		owner := hostAt(r.Hosts, addr)
		if owner == nil || owner == web {
			return
		}
		label, short := strings.ToUpper(kind)+" "+addr, strings.ToUpper(kind)
		if i := strings.LastIndexByte(addr, ':'); i >= 0 {
			short += " " + addr[i:]
		}
		if route != "" {
			label, short = label+", route "+route, short+", route "+route
		}
		e := Edge{From: web.Name, To: owner.Name, Kind: kind, Label: label, Short: short}
		names := func(s string) bool { return wordIn(s, name) || wordIn(s, addr) }
		for _, f := range findings {
			about := f.Host == web.Name && in(f.What, "ajp.workers", "web.upstreams") && names(f.Summary) ||
				// a member's stickiness ("node2 (route node2): not-sticky: ..."); a
				// direction between two members is the replication path's
				f.Host == web.Name && f.What == "session-test" && !strings.Contains(subject(f), " -> ") && names(subject(f)) ||
				f.Host == owner.Name && kind == "ajp" && f.What == "tomcat.ajp" ||
				// a session's route is the balancer's only where it routes by it
				route != "" && (f.Host == owner.Name && f.What == "tomcat.jvmroute" ||
					f.Host == "" && f.What == "jvmRoutes" && r.blames("jvmRoutes", owner.Name))
			if about {
				e.Findings = append(e.Findings, f)
			}
		}
		out = append(out, r.judged(e, web, owner))
	}
	if c := web.Check("ajp.workers"); c != nil && c.Evidence != nil {
		for _, w := range anyList(c.Evidence["workers"]) {
			m, _ := w.(map[string]any)
			name, _ := m["name"].(string)
			addr, _ := m["address"].(string)
			route, _ := m["route"].(string)
			add("ajp", name, addr, route)
		}
	}
	if c := web.Check("web.upstreams"); c != nil && c.Evidence != nil {
		for _, w := range anyList(c.Evidence["members"]) {
			m, _ := w.(map[string]any)
			server, _ := m["server"].(string)
			add("http", server, server, "")
		}
	}
	return out
}

// tcpWords tell a finding about the replication path (the receiver's TCP port) from one
// about the heartbeats.
var tcpWords = regexp.MustCompile(`(?i)\btcp\b|receiver|tcp-blocked|replicat|advertises loopback`)

// meshEdges are the heartbeats and the replication between two Tomcat hosts, as the mesh,
// members and the receivers comparison saw them both ways.
func (r *Report) meshEdges(a, b *HostReport, findings []Finding) []Edge {
	mc := Edge{From: a.Name, To: b.Name, Kind: "multicast", Label: "heartbeats (multicast)", Short: "heartbeats (multicast)"}
	tcp := Edge{From: a.Name, To: b.Name, Kind: "replication", Label: "replication (TCP receivers)", Short: "replication (TCP)"}
	// about says whether f, on one of the two, is about the other: it names it, or its
	// cause is there.
	about := func(f Finding, on, other *HostReport) bool {
		return f.Host == on.Name && (mentions(r, f, other.Name) || r.causeHost(f) == other.Name)
	}
	for _, f := range findings {
		switch {
		case f.Host == "" && f.What == "receivers" && (r.blames("receivers", a.Name) || r.blames("receivers", b.Name)):
			tcp.Findings = append(tcp.Findings, f)
		case f.What == "session-test" && strings.Contains(subject(f), " -> "):
			// "tomcat1 -> tomcat2: not-replicated": a direction between the two
			from, to, _ := strings.Cut(subject(f), " -> ")
			if r.names(a.Name, from) && r.names(b.Name, to) || r.names(b.Name, from) && r.names(a.Name, to) {
				tcp.Findings = append(tcp.Findings, f)
			}
		case in(f.What, "mcast-test", "members", "tomcat.members") && (about(f, a, b) || about(f, b, a)):
			if tcpWords.MatchString(f.Summary) {
				tcp.Findings = append(tcp.Findings, f)
			} else {
				mc.Findings = append(mc.Findings, f)
			}
		}
	}
	if a.Mesh == nil && b.Mesh == nil && a.Members == nil && b.Members == nil {
		mc.Outcome, tcp.Outcome = "untested", "untested"
		return []Edge{mc, tcp}
	}
	return []Edge{r.judged(mc, a, b), r.judged(tcp, a, b)}
}

// judged sets the edge's outcome and the causes of its findings.
func (r *Report) judged(e Edge, a, b *HostReport) Edge {
	switch {
	case !a.Reachable || !b.Reachable:
		e.Outcome = "untested"
		return e
	case len(e.Findings) == 0:
		e.Outcome = "ok"
		return e
	}
	e.Outcome = "fail"
	for _, f := range e.Findings {
		e.Causes = appendNew(e.Causes, r.causeOf(f))
	}
	return e
}

// causeOf names the cause that is f or explains it: "host check", or "unexplained".
func (r *Report) causeOf(f Finding) string {
	if c := r.causeFor(f); c != nil {
		return strings.TrimSpace(c.Host + " " + c.Check)
	}
	return "unexplained"
}

// causeHost is the host of the cause that is f or explains it, "" where none does.
func (r *Report) causeHost(f Finding) string {
	if c := r.causeFor(f); c != nil {
		return c.Host
	}
	return ""
}

func (r *Report) causeFor(f Finding) *Cause {
	for i, c := range r.Causes {
		if c.Check == f.What && (c.Host == f.Host || f.Host == "") { // a comparison is its blamed host's
			return &r.Causes[i]
		}
		for _, x := range c.Explains {
			if x.Host == f.Host && x.Check == f.What && x.Summary == f.Summary {
				return &r.Causes[i]
			}
		}
	}
	return nil
}

// subject is what a finding is about: its summary up to the first ": ".
func subject(f Finding) string {
	s, _, _ := strings.Cut(f.Summary, ": ")
	return s
}

// names says whether word is one of the words that name host (its name, addresses,
// jvmRoute, workers).
func (r *Report) names(host, word string) bool {
	return slices.Contains(namesOf(r, host), strings.TrimSpace(word))
}

// blames says whether the comparison what breaks and is to be fixed on host.
func (r *Report) blames(what, host string) bool {
	for _, c := range r.Comparisons {
		if c.What == what && c.Breaks && slices.Contains(c.Blame, host) {
			return true
		}
	}
	return false
}

// ID is a stable name for the edge in a page: kind, from and to.
func (e Edge) ID() string {
	return fmt.Sprintf("edge-%s-%s-%s", e.Kind, e.From, e.To)
}
