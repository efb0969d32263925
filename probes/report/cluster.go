package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/cluster"
	"github.com/clusterdoctor/clusterdoctor/probes/mcast"
)

// ClusterJSON writes the cluster report as one indented JSON document.
func ClusterJSON(w io.Writer, rep *cluster.Report) error { return indentedJSON(w, rep) }

// ClusterText writes the cluster's verdict first, then every finding with its host and
// fix, then the comparisons, then one paragraph per host:
//
//	cluster: 2 problems on 3 hosts (was1, was2, web), 4.2 s
//
//	FAIL  was2  tomcat.receiver  the Receiver address auto is 127.0.1.1 ...
//	            fix: map was2 to its cluster address in /etc/hosts
//
//	== was1 (was) ==  preflight 19 pass, 1 warn; mcast-test ok (was2); members 2 ok
func ClusterText(w io.Writer, rep *cluster.Report, opt Options) error {
	bw := bufio.NewWriter(w)
	paint := func(s probes.Status, text string) string {
		if !opt.Color {
			return text
		}
		return colors[s] + text + reset
	}
	findings := rep.Findings()
	var names []string
	for _, h := range rep.Hosts {
		names = append(names, h.Name)
	}
	// the verdict is one line: the hosts' names where they fit
	verdict := func(hosts string) string {
		if len(findings) == 0 {
			return fmt.Sprintf("cluster healthy: %s, %.1f s", hosts, float64(rep.DurationMs)/1000)
		}
		return fmt.Sprintf("cluster: %d %s (%d %s) on %s, %.1f s", len(rep.Causes), plural(len(rep.Causes), "cause", "causes"),
			len(findings), plural(len(findings), "problem", "problems"), hosts, float64(rep.DurationMs)/1000)
	}
	count := fmt.Sprintf("%d %s", len(rep.Hosts), plural(len(rep.Hosts), "host", "hosts"))
	head := verdict(count + " (" + strings.Join(names, ", ") + ")")
	if opt.Width > 0 && len(head) > opt.Width {
		head = verdict(count)
	}
	st := probes.Pass
	if len(findings) > 0 {
		st = probes.Fail
	}
	fmt.Fprintln(bw, paint(st, head))
	if len(rep.Fixes) > 0 {
		if rep.Before != nil {
			fmt.Fprintf(bw, "before the fixes: %d %s\n", len(rep.Before), plural(len(rep.Before), "problem", "problems"))
		}
		for _, f := range rep.Fixes {
			outcome := paint(probes.Pass, "applied")
			switch {
			case f.Error != "":
				outcome = paint(probes.Fail, "failed: "+f.Error)
			case !f.Applied:
				outcome = "not applied"
			}
			fmt.Fprintf(bw, "  fix  %s  clusterdoctor %s (for %s): %s\n", f.Host, strings.Join(f.Command, " "), strings.Join(f.For, ", "), outcome)
		}
	}
	for _, c := range rep.Causes {
		fmt.Fprintf(bw, "\n%s  %s  %s  %s\n", paint(probes.Fail, "CAUSE"), orDash(c.Host), c.Check, c.Summary)
		if c.Fix != "" {
			fmt.Fprintf(bw, "       fix:  %s\n", c.Fix)
		}
		for _, x := range c.Explains {
			fmt.Fprintf(bw, "       explains  %s %s: %s\n", orDash(x.Host), x.Check, x.Summary)
		}
	}
	if len(rep.Unexplained) > 0 {
		hw, ww := 2, 4
		for _, f := range rep.Unexplained {
			hw, ww = max(hw, len(f.Host)), max(ww, len(f.What))
		}
		fmt.Fprintln(bw)
		for _, f := range rep.Unexplained {
			fmt.Fprintf(bw, "%s  %-*s  %-*s  %s\n", paint(probes.Fail, "FAIL"), hw, orDash(f.Host), ww, f.What, f.Summary)
			if f.Fix != "" {
				fmt.Fprintf(bw, "      %-*s  %-*s  fix:  %s\n", hw, "", ww, "", f.Fix)
			}
		}
	}
	if len(rep.Comparisons) > 0 {
		fmt.Fprintln(bw, "\nAcross the hosts:")
		for _, c := range rep.Comparisons {
			mark := paint(probes.Pass, "same")
			if c.Breaks {
				mark = paint(probes.Fail, "DIFF")
			}
			if v, same := oneValue(c.Values); same {
				fmt.Fprintf(bw, "  %s  %s: %s (%s)\n", mark, c.What, v, strings.Join(hostsOf(c.Values, names), ", "))
				continue
			}
			fmt.Fprintf(bw, "  %s  %s:\n", mark, c.What)
			for _, n := range hostsOf(c.Values, names) {
				fmt.Fprintf(bw, "          %s  %s\n", n, c.Values[n])
			}
		}
	}
	for _, h := range rep.Hosts {
		fmt.Fprintf(bw, "\n== %s (%s) ==  %s\n", h.Name, rolesOf(h), hostLine(h))
		if !h.Reachable {
			continue
		}
		shown := func(c probes.Result) bool {
			return c.Status == probes.Warn || c.Status == probes.Unknown || opt.Verbose
		}
		idw := 0
		for _, c := range h.Checks {
			if shown(c) {
				idw = max(idw, len(c.ID))
			}
		}
		for _, c := range h.Checks {
			if shown(c) {
				fmt.Fprintf(bw, "  %s  %-*s  %s\n", paint(c.Status, fmt.Sprintf("%-7s", strings.ToUpper(string(c.Status)))), idw, c.ID, c.Summary)
			}
		}
	}
	return bw.Flush()
}

func rolesOf(h *cluster.HostReport) string {
	if len(h.Roles) == 0 {
		return "role unknown"
	}
	return strings.Join(h.Roles, ",")
}

// hostLine sums up one host: each command's outcome in a few words.
func hostLine(h *cluster.HostReport) string {
	if !h.Reachable {
		return "not reached"
	}
	var parts []string
	if h.Checks != nil {
		s := probes.Summarize(h.Checks)
		parts = append(parts, fmt.Sprintf("preflight %d pass, %d warn, %d fail, %d unknown", s.Pass, s.Warn, s.Fail, s.Unknown))
	}
	if m := h.Mesh; m != nil {
		var ok, bad []string
		for _, p := range m.Peers {
			if p.Verdict == mcast.VerdictOK && len(p.Problems) == 0 {
				ok = append(ok, p.Peer)
			} else {
				bad = append(bad, p.Peer+" "+p.Verdict)
			}
		}
		parts = append(parts, "mcast-test "+strings.Join(append(prefixed("ok ", ok), bad...), ", "))
	}
	if m := h.Members; m != nil {
		parts = append(parts, fmt.Sprintf("members %d heard", len(m.Members)))
	}
	if st := h.SessionTest; st != nil {
		if st.OK() {
			parts = append(parts, "session-test "+st.URL+" replicated and sticky")
		} else {
			parts = append(parts, "session-test "+st.URL+" failed")
		}
	}
	parts = append(parts, h.Notes...)
	if h.Binary != "" {
		parts = append(parts, "clusterdoctor "+h.Binary)
	}
	return strings.Join(parts, "; ")
}

func prefixed(p string, list []string) []string {
	if len(list) == 0 {
		return nil
	}
	return []string{p + strings.Join(list, " ")}
}

// hostsOf are the hosts that have a value, in the run's order.
func hostsOf(v map[string]string, order []string) []string {
	var out []string
	for _, n := range order {
		if _, ok := v[n]; ok {
			out = append(out, n)
		}
	}
	return out
}

// oneValue is the value every host has, where they all have the same.
func oneValue(v map[string]string) (string, bool) {
	first, n := "", 0
	for _, x := range v {
		if n > 0 && x != first {
			return "", false
		}
		first, n = x, n+1
	}
	return first, n > 0
}

func orDash(s string) string {
	if s == "" {
		return "--"
	}
	return s
}
