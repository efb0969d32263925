package cluster

import (
	"fmt"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/mcast"
	"github.com/clusterdoctor/clusterdoctor/probes/replication"
)

// Finding is one thing wrong in the cluster, on the host that reported it ("" for a
// comparison across hosts): What is the check ID, the command or the comparison.
type Finding struct {
	Host    string `json:"host,omitempty"`
	What    string `json:"what"`
	Summary string `json:"summary"`
	Fix     string `json:"fix,omitempty"`
}

// Findings lists what makes the cluster not healthy, host by host in the run's order,
// then the comparisons that break: hosts not reached, commands that did not run, failed
// checks (the containers' too), mesh paths, members and session-test directions.
func (r *Report) Findings() []Finding {
	var out []Finding
	for _, h := range r.Hosts {
		if !h.Reachable {
			out = append(out, Finding{Host: h.Name, What: "ssh", Summary: "not reached: " + h.Error})
			continue
		}
		for _, p := range h.Problems {
			what, rest, _ := strings.Cut(p, " ")
			out = append(out, Finding{Host: h.Name, What: strings.TrimSuffix(what, ":"), Summary: rest})
		}
		for _, c := range h.Checks {
			if c.Status == probes.Fail {
				out = append(out, Finding{Host: h.Name, What: c.ID, Summary: c.Summary, Fix: c.Remediation})
			}
		}
		for _, n := range h.Nodes {
			if n.Report == nil {
				out = append(out, Finding{Host: h.Name, What: n.Name, Summary: "could not be checked: " + n.Error})
				continue
			}
			for _, c := range n.Report.Checks {
				if c.Status == probes.Fail {
					out = append(out, Finding{Host: h.Name, What: n.Name + " " + c.ID, Summary: c.Summary, Fix: c.Remediation})
				}
			}
		}
		out = append(out, meshFindings(h)...)
		if m := h.Members; m != nil {
			for _, p := range m.Problems {
				out = append(out, Finding{Host: h.Name, What: "members", Summary: p})
			}
			for _, mb := range m.Members {
				if mb.Status != "ok" {
					out = append(out, Finding{Host: h.Name, What: "members", Summary: fmt.Sprintf("member %s:%d %s: %s", mb.Address, mb.Port, mb.Status, strings.Join(mb.Problems, "; "))})
				}
			}
		}
		out = append(out, sessionFindings(h)...)
	}
	for _, c := range r.Comparisons {
		if c.Breaks {
			out = append(out, Finding{What: c.What, Summary: c.Why})
		}
	}
	return out
}

func meshFindings(h *HostReport) []Finding {
	if h.Mesh == nil {
		return nil
	}
	var out []Finding
	for _, p := range h.Mesh.Peers {
		if p.Verdict != mcast.VerdictOK {
			out = append(out, Finding{Host: h.Name, What: "mcast-test", Summary: fmt.Sprintf("%s: %s: %s", p.Peer, p.Verdict, p.Reason)})
		}
		for _, pr := range p.Problems {
			out = append(out, Finding{Host: h.Name, What: "mcast-test", Summary: p.Peer + ": " + pr})
		}
	}
	return out
}

func sessionFindings(h *HostReport) []Finding {
	st := h.SessionTest
	if st == nil {
		return nil
	}
	var out []Finding
	for _, p := range st.Problems {
		out = append(out, Finding{Host: h.Name, What: "session-test", Summary: p})
	}
	for _, p := range st.Pairs {
		if p.Verdict != replication.Replicated {
			out = append(out, Finding{Host: h.Name, What: "session-test", Summary: fmt.Sprintf("%s -> %s: %s: %s", p.From, p.To, p.Verdict, p.Reason)})
		}
	}
	for _, s := range st.Stickiness {
		if s.Verdict == replication.NotSticky {
			out = append(out, Finding{Host: h.Name, What: "session-test", Summary: fmt.Sprintf("%s (route %s): %s: %s", s.Member, s.Route, s.Verdict, s.Reason)})
		}
	}
	return out
}
