package report

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

var colors = map[probes.Status]string{
	probes.Pass: "\x1b[32m", probes.Warn: "\x1b[33m", probes.Fail: "\x1b[31m",
	probes.Skip: "\x1b[2m", probes.Unknown: "\x1b[35m",
}

const reset = "\x1b[0m"

// Text writes one aligned line per check, then the fixes for the problems found, then a
// one-line verdict:
//
//	PASS  link.cluster     cl0 is up with 10.99.0.1/24 (--iface)
//	FAIL  route.multicast  228.0.0.4 would leave via pub0 (default route), not ...
//
//	To fix:
//	  route.multicast  ip route replace 224.0.0.0/4 dev cl0 ...
//
//	1 of 7 checks failed, 1 warning (host was1, 12 ms)
func Text(w io.Writer, rep *probes.Report, opt Options) error {
	bw := bufio.NewWriter(w)
	width := 0
	for _, r := range rep.Checks {
		width = max(width, len(r.ID))
	}
	paint := func(s probes.Status, text string) string {
		if !opt.Color {
			return text
		}
		return colors[s] + text + reset
	}
	// A check that fails because another of this host fails is shown under that one.
	under := map[string][]probes.Result{}
	for _, r := range rep.Checks {
		if r.ExplainedBy != "" && hasCheck(rep.Checks, r.ExplainedBy) {
			under[r.ExplainedBy] = append(under[r.ExplainedBy], r)
		}
	}
	for i := 0; i < len(rep.Checks); i++ {
		r := rep.Checks[i]
		if r.ExplainedBy != "" && hasCheck(rep.Checks, r.ExplainedBy) {
			continue
		}
		if n := sameSkips(rep.Checks[i:]); n >= 3 && !opt.Verbose {
			// one line for an area that does not apply: "tomcat.* (9 checks)"
			area := r.ID[:strings.IndexByte(r.ID, '.')+1] + "*"
			fmt.Fprintf(bw, "%s  %-*s  %s (%d checks)\n", paint(r.Status, fmt.Sprintf("%-7s", "SKIP")), width, area, r.Summary, n)
			i += n - 1
			continue
		}
		fmt.Fprintf(bw, "%s  %-*s  %s\n", paint(r.Status, fmt.Sprintf("%-7s", strings.ToUpper(string(r.Status)))), width, r.ID, r.Summary)
		if opt.Verbose || r.Status == probes.Fail || r.Status == probes.Warn {
			for _, line := range detailLinesOf(r.ID, r.Detail) {
				fmt.Fprintf(bw, "%9s  %-*s  %s\n", "", width, "", line)
			}
		}
		if opt.Verbose && len(r.Evidence) > 0 {
			fmt.Fprintf(bw, "%9s  %-*s  %s\n", "", width, "", evidence(r.Evidence))
		}
		for _, x := range under[r.ID] {
			fmt.Fprintf(bw, "%9s  -> %s %s: %s (follows from %s)\n", "", paint(x.Status, strings.ToUpper(string(x.Status))), x.ID, x.Summary, r.ID)
		}
	}
	var fixes []probes.Result
	for _, r := range rep.Checks {
		if r.Remediation != "" && (r.Status == probes.Fail || r.Status == probes.Warn || r.Status == probes.Unknown) {
			fixes = append(fixes, r)
		}
	}
	if len(fixes) > 0 {
		fmt.Fprintln(bw, "\nTo fix:")
		for _, r := range fixes {
			fmt.Fprintf(bw, "  %-*s  %s\n", width, r.ID, r.Remediation)
		}
	}
	if t := tomcatLine(rep.Settings); t != "" {
		fmt.Fprintf(bw, "\n%s\n", t)
	}
	fmt.Fprintf(bw, "\n%s\n", verdict(rep, opt))
	for _, n := range rep.Nodes {
		head := n.Name
		if !strings.HasPrefix(head, "pid ") {
			head += fmt.Sprintf(" (pid %d)", n.Node.PID)
		}
		fmt.Fprintf(bw, "\n== %s ==\n", head)
		if n.Report == nil {
			fmt.Fprintf(bw, "%s  could not be checked: %s\n", paint(probes.Unknown, fmt.Sprintf("%-7s", "UNKNOWN")), n.Error)
			continue
		}
		if err := Text(bw, n.Report, opt); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// sameSkips counts the leading checks of one area ("tomcat.") skipped for one reason.
func sameSkips(rs []probes.Result) int {
	first := rs[0]
	dot := strings.IndexByte(first.ID, '.')
	if first.Status != probes.Skip || dot < 0 {
		return 0
	}
	n := 0
	for _, r := range rs {
		if r.Status != probes.Skip || r.Summary != first.Summary || !strings.HasPrefix(r.ID, first.ID[:dot+1]) {
			break
		}
		n++
	}
	return n
}

// tomcatLine says which Tomcat the settings were read from and which came from it.
func tomcatLine(s probes.Settings) string {
	if len(s.Instances) == 0 {
		return ""
	}
	in := s.Instances[0]
	what := "Tomcat"
	if in.Version != "" {
		what += " " + in.Version
	}
	line := fmt.Sprintf("%s at %s (%s)", what, in.Base, in.Found)
	if n := len(s.Instances) - 1; n > 0 {
		line += fmt.Sprintf(" and %d more", n)
	}
	var from []string
	for _, k := range probes.SettingKeys {
		if src := s.Sources[k]; strings.Contains(src, "server.xml") {
			from = append(from, k)
		}
	}
	if len(from) > 0 {
		line += ": " + strings.Join(from, ", ") + " from its server.xml (-o json says where)"
	}
	return line
}

func verdict(rep *probes.Report, opt Options) string {
	s := rep.Summary
	total := len(rep.Checks)
	var head string
	var st probes.Status
	switch {
	case s.Fail > 0:
		head, st = fmt.Sprintf("%d of %d checks failed", s.Fail, total), probes.Fail
	case s.Warn > 0:
		head, st = fmt.Sprintf("no check failed, %d %s", s.Warn, plural(s.Warn, "warning", "warnings")), probes.Warn
	default:
		head, st = fmt.Sprintf("all %d checks passed or did not apply", total), probes.Pass
	}
	var extra []string
	if s.Fail > 0 && s.Warn > 0 {
		extra = append(extra, fmt.Sprintf("%d %s", s.Warn, plural(s.Warn, "warning", "warnings")))
	}
	if s.Unknown > 0 {
		extra = append(extra, fmt.Sprintf("%d could not be checked", s.Unknown))
	}
	if s.Skip > 0 {
		extra = append(extra, fmt.Sprintf("%d skipped", s.Skip))
	}
	// one terminal line: what is least telling (the skipped, then the host and time) goes
	// first where it does not fit
	line := ""
	for drop := 0; drop <= 2; drop++ {
		parts := extra
		if drop > 0 && s.Skip > 0 {
			parts = extra[:len(extra)-1]
		}
		line = head
		if len(parts) > 0 {
			line += ", " + strings.Join(parts, ", ")
		}
		if drop < 2 {
			line += fmt.Sprintf(" (host %s, %d ms)", rep.Host, rep.DurationMs)
		}
		if opt.Width == 0 || len(line) <= opt.Width {
			break
		}
	}
	if opt.Color {
		return colors[st] + line + reset
	}
	return line
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func evidence(ev map[string]any) string {
	keys := make([]string, 0, len(ev))
	for k := range ev {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, ev[k])
	}
	return strings.Join(parts, " ")
}

func hasCheck(rs []probes.Result, id string) bool {
	for _, r := range rs {
		if r.ID == id {
			return true
		}
	}
	return false
}

// portItem starts what a detail says of one port ("45564/udp (membership multicast) from
// was2: runtime: ...", "4000-4099/tcp ...", "igmp ...").
var portItem = regexp.MustCompile(`^(\d+(-\d+)?/(tcp|udp)|igmp)\b`)

// findingLists are the checks whose detail is a list of separate findings (the web
// tier's: the configuration's, then each member that does not answer), printed one a line.
var findingLists = map[string]bool{"ajp.workers": true, "web.upstreams": true}

// detailLinesOf is detailLines, with the web tier's findings one a line.
func detailLinesOf(id, detail string) []string {
	if !findingLists[id] || detail == "" {
		return detailLines(detail)
	}
	items := splitTopLevel(detail, "; ")
	if len(items) < 2 {
		return items
	}
	for i := range items {
		items[i] = "- " + items[i]
	}
	return items
}

// detailLines are a check's detail as it is printed: as it is, or, where it says
// something of each of several ports (firewall.ports), one "- " line per port.
func detailLines(detail string) []string {
	if detail == "" {
		return nil
	}
	var items []string
	for _, part := range splitTopLevel(detail, "; ") {
		if len(items) == 0 || portItem.MatchString(part) {
			items = append(items, part)
		} else {
			items[len(items)-1] += "; " + part
		}
	}
	if len(items) < 2 || !portItem.MatchString(items[0]) {
		return []string{detail}
	}
	for i := range items {
		items[i] = "- " + items[i]
	}
	return items
}

// splitTopLevel splits s at sep where sep is outside parentheses.
func splitTopLevel(s, sep string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '(':
			depth++
		case s[i] == ')' && depth > 0:
			depth--
		case depth == 0 && strings.HasPrefix(s[i:], sep):
			out = append(out, s[start:i])
			start = i + len(sep)
			i += len(sep) - 1
		}
	}
	return append(out, s[start:])
}
