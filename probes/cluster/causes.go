package cluster

import (
	"regexp"
	"slices"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Cause is one fault on one host with the findings it accounts for: what to fix first.
type Cause struct {
	Host string `json:"host"`
	// Check is the check ID or comparison that is the cause.
	Check    string    `json:"check"`
	Summary  string    `json:"summary"`
	Fix      string    `json:"fix,omitempty"`
	Explains []Symptom `json:"explains"`
	rule     *rule
}

// Symptom is a finding a cause accounts for, and why in one line.
type Symptom struct {
	Host    string `json:"host,omitempty"`
	Check   string `json:"check"`
	Summary string `json:"summary"`
	Why     string `json:"why"`
}

// rule is one kind of root cause: which finding is it, on which host, and which other
// findings follow from it. The rules are the reasoning of an operator who has seen each
// fault before; each has a test over recorded findings and one in the lab.
type rule struct {
	name string
	// cause says whether f is this kind of fault and on which host it is.
	cause func(r *Report, f Finding) (host string, ok bool)
	// explains says whether f follows from the cause on host, and why.
	explains func(r *Report, host string, f Finding) (why string, ok bool)
}

// rules, the first that takes a finding as its cause wins; a symptom goes to the first
// cause that explains it.
var rules = []*rule{
	{
		name:  "host not reached",
		cause: func(_ *Report, f Finding) (string, bool) { return f.Host, f.What == "ssh" },
		explains: func(r *Report, host string, f Finding) (string, bool) {
			// Nothing ran there: the mesh on the others may wait for it in vain.
			return "nothing could be run on " + host, f.What == "mcast-test" && mentions(r, f, host)
		},
	},
	{
		// Debian's 127.0.1.1 line: Tomcat's Receiver address="auto" is getLocalHost(),
		// so the member advertises loopback; peers connect to themselves, and nothing
		// replicates into that node.
		name:  "host name on loopback",
		cause: onCheck("hosts.hostname"),
		explains: func(r *Report, host string, f Finding) (string, bool) {
			const why = "the host name maps to loopback there, so Tomcat advertises a loopback receiver"
			switch {
			case f.Host == host && in(f.What, "tomcat.receiver", "tomcat.members", "members", "mcast-test"):
				return why, true
			case in(f.What, "tomcat.members", "members") && (mentions(r, f, host) || strings.Contains(f.Summary, "loopback")):
				return why, true
			case in(f.What, "receivers", "session-test") && mentions(r, f, host):
				return why, true
			}
			return "", false
		},
	},
	{
		// Without a 224.0.0.0/4 route the heartbeats leave by the default route (or not at
		// all): the host's Tomcat is not heard, and it hears nobody.
		name:  "multicast route missing",
		cause: onCheck("route.multicast"),
		explains: func(r *Report, host string, f Finding) (string, bool) {
			const why = "multicast has no route there: its heartbeats do not reach the cluster"
			switch {
			case f.Host == host && in(f.What, "tomcat.members", "members", "mcast-test", "route.persistent", "tomcat.logs"):
				return why, true
			case in(f.What, "tomcat.members", "members", "mcast-test", "receivers", "session-test") && mentions(r, f, host):
				return why, true
			}
			return "", false
		},
	},
	{
		// A firewall that drops the receiver range (or the membership port, or AJP) cuts
		// every path into the host; the host itself notices nothing.
		name:  "ports closed",
		cause: onCheck("firewall.ports"),
		explains: func(r *Report, host string, f Finding) (string, bool) {
			const why = "the firewall there drops the cluster's ports"
			if f.Host == host { // its own mesh sees the peers' requests to it lost
				return why, f.What == "mcast-test"
			}
			return why, in(f.What, "tomcat.members", "members", "mcast-test", "receivers", "session-test", "ajp.workers", "web.upstreams") && mentions(r, f, host)
		},
	},
	{
		// An AJP connector on loopback (the default since 9.0.31) or refusing the
		// secret: the balancer cannot use that node.
		name:  "AJP connector unusable",
		cause: onCheck("tomcat.ajp"),
		explains: func(r *Report, host string, f Finding) (string, bool) {
			return "its AJP connector cannot take the balancer's requests", f.Host != host && in(f.What, "ajp.workers", "session-test") && mentions(r, f, host)
		},
	},
	{
		// A jvmRoute that is not the worker's route: mod_jk sends the session elsewhere.
		name:  "jvmRoute not the worker's",
		cause: onComparison("jvmRoutes"),
		explains: func(r *Report, host string, f Finding) (string, bool) {
			return "its jvmRoute is not the route the balancer expects", in(f.What, "ajp.workers", "session-test") && mentions(r, f, host)
		},
	},
	{
		name:  "not distributable",
		cause: onCheck("tomcat.distributable"),
		explains: func(r *Report, host string, f Finding) (string, bool) {
			return "its application does not replicate its sessions", f.What == "session-test" && mentions(r, f, host)
		},
	},
	{
		// An application on some nodes only: the others have no manager for its sessions.
		name:  "application missing on a node",
		cause: onComparison("applications"),
		explains: func(r *Report, host string, f Finding) (string, bool) {
			return "the application is not deployed there", in(f.What, "session-test", "tomcat.logs") && (f.Host == host || mentions(r, f, host))
		},
	},
	{name: "application differs", cause: onComparison("application content")},
	{name: "receivers not reachable", cause: onComparison("receivers")},
	{name: "settings differ", cause: onComparison("cluster settings")},
	{name: "Tomcat versions differ", cause: onComparison("Tomcat versions")},
	{name: "clocks apart", cause: onComparison("clocks")},
}

// onCheck: a failed check of that ID is the cause, on its host.
func onCheck(id string) func(*Report, Finding) (string, bool) {
	return func(_ *Report, f Finding) (string, bool) { return f.Host, f.What == id && f.Host != "" }
}

// onComparison: a broken comparison is the cause, on the host it blames.
func onComparison(what string) func(*Report, Finding) (string, bool) {
	return func(r *Report, f Finding) (string, bool) {
		if f.Host != "" || f.What != what {
			return "", false
		}
		for _, c := range r.Comparisons {
			if c.What == what && len(c.Blame) > 0 {
				return c.Blame[0], true
			}
		}
		return "", true
	}
}

// in says whether s is one of list.
func in(s string, list ...string) bool { return slices.Contains(list, s) }

// mentions says whether f speaks of host: its name, the address it was reached at, its
// cluster addresses, or a balancer member (worker, jvmRoute) that is it.
func mentions(r *Report, f Finding, host string) bool {
	for _, word := range namesOf(r, host) {
		if word != "" && wordIn(f.Summary, word) {
			return true
		}
	}
	return false
}

// namesOf are the words that name host in other hosts' findings.
func namesOf(r *Report, host string) []string {
	var out []string
	for _, h := range r.Hosts {
		if h.Name != host {
			continue
		}
		out = append(out, h.Name, h.Address)
		if c := h.Check("link.cluster"); c != nil && c.Evidence != nil {
			for _, a := range strList(c.Evidence["addresses"]) {
				out = append(out, strings.SplitN(a, "/", 2)[0])
			}
		}
		if c := h.Check("tomcat.jvmroute"); c != nil && c.Evidence != nil {
			if route, _ := c.Evidence["jvmRoute"].(string); route != "" {
				out = append(out, route)
			}
		}
	}
	for _, web := range r.Hosts { // the workers whose address is this host's
		c := web.Check("ajp.workers")
		if c == nil || c.Evidence == nil {
			continue
		}
		for _, w := range anyList(c.Evidence["workers"]) {
			m, _ := w.(map[string]any)
			addr, _ := m["address"].(string)
			if owner := hostAt(r.Hosts, addr); owner != nil && owner.Name == host {
				name, _ := m["name"].(string)
				out = append(out, name)
			}
		}
	}
	return out
}

// wordIn finds word in s as a whole word or address: was1 is not in was10, 10.0.0.1 is
// not in 10.0.0.10.
func wordIn(s, word string) bool {
	re, err := regexp.Compile(`(^|[^\w.])` + regexp.QuoteMeta(word) + `($|[^\w.]|\.[^\w])`)
	return err == nil && re.MatchString(s)
}

// Reduce turns the report's findings into causes, each with the findings it explains;
// findings no rule accounts for stay unexplained, never hidden. A finding that is a fault
// of its own kind but follows from a more basic cause (a broken comparison of receivers
// from a firewall that drops them) is that cause's symptom: the rules are taken in order,
// the most basic first.
func (r *Report) Reduce() (causes []Cause, unexplained []Finding) {
	findings := r.Findings()
	taken := make([]bool, len(findings))
	// A symptom goes to a cause on a host it names first (was1's "peer was2 not heard"
	// is was2's fault, even when was1 has one of its own), else to the first that takes it.
	explain := func(f Finding) bool {
		for _, named := range []bool{true, false} {
			for c := range causes {
				ru := causes[c].rule
				if ru.explains == nil || named && (f.Host == causes[c].Host || !mentions(r, f, causes[c].Host)) {
					continue
				}
				if why, ok := ru.explains(r, causes[c].Host, f); ok {
					causes[c].Explains = append(causes[c].Explains, Symptom{Host: f.Host, Check: f.What, Summary: f.Summary, Why: why})
					return true
				}
			}
		}
		return false
	}
	for _, ru := range rules {
		for i, f := range findings {
			if taken[i] {
				continue
			}
			if host, ok := ru.cause(r, f); ok {
				taken[i] = true
				if !explain(f) {
					causes = append(causes, Cause{Host: host, Check: f.What, Summary: f.Summary, Fix: f.Fix, rule: ru, Explains: []Symptom{}})
				}
			}
		}
	}
	for i, f := range findings {
		if !taken[i] && !explain(f) {
			unexplained = append(unexplained, f)
		}
	}
	return causes, unexplained
}

// ExplainChecks applies the rules to one host's preflight: a failed check that follows
// from another failed check of the host is marked with it (ExplainedBy), so the report
// shows it under its cause. The containers' reports are done the same way.
func ExplainChecks(rep *probes.Report) {
	h := &HostReport{Name: rep.Host, Reachable: true, Checks: rep.Checks, Settings: &rep.Settings}
	r := &Report{Hosts: []*HostReport{h}}
	causes, _ := r.Reduce()
	for _, c := range causes {
		for _, x := range c.Explains {
			for i := range rep.Checks {
				if rep.Checks[i].ID == x.Check && rep.Checks[i].Status == probes.Fail && x.Host == rep.Host {
					rep.Checks[i].ExplainedBy = c.Check
				}
			}
		}
	}
	for _, n := range rep.Nodes {
		if n.Report != nil {
			ExplainChecks(n.Report)
		}
	}
}
