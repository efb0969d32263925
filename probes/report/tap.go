package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// TAP writes the report as TAP version 13 (prove, tappy, Jenkins' TAP plugin): one test
// point per check, "not ok" only for fail; skip and unknown are "# SKIP"; every point
// that is not a plain pass carries a YAML block with its status and the details. The
// nodes' checks (containers' Tomcats) follow the host's, each named "[NODE] CHECK"; a node
// that could not be checked is one point, unknown.
func TAP(w io.Writer, rep *probes.Report) error {
	points := everyResult(rep)
	var b strings.Builder
	fmt.Fprintf(&b, "TAP version 13\n1..%d\n", len(points))
	for i, p := range points {
		r := p.Result
		ok := "ok"
		if r.Status == probes.Fail {
			ok = "not ok"
		}
		fmt.Fprintf(&b, "%s %d - %s: %s", ok, i+1, p.name(), oneLine(r.Summary))
		if r.Status == probes.Skip || r.Status == probes.Unknown {
			fmt.Fprintf(&b, " # SKIP %s", r.Status)
		}
		b.WriteString("\n")
		if r.Status == probes.Pass {
			continue
		}
		b.WriteString("  ---\n")
		fmt.Fprintf(&b, "  status: %s\n", r.Status)
		for _, kv := range [][2]string{{"detail", r.Detail}, {"remediation", r.Remediation}} {
			if kv[1] != "" {
				fmt.Fprintf(&b, "  %s: %s\n", kv[0], yamlString(kv[1]))
			}
		}
		fmt.Fprintf(&b, "  duration_ms: %d\n", r.Duration.Milliseconds())
		b.WriteString("  ...\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// yamlString quotes s as a YAML double-quoted scalar.
func yamlString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

// nodeResult is a check's result and the node it is of ("" for the host itself).
type nodeResult struct {
	Node string
	probes.Result
}

// name is the check as the formats name it: "[podman container tc1] tomcat.cluster".
func (n nodeResult) name() string {
	if n.Node == "" {
		return n.ID
	}
	return "[" + n.Node + "] " + n.ID
}

// everyResult is the host's checks, then each node's; a node that could not be checked is
// one unknown "preflight" result saying why.
func everyResult(rep *probes.Report) []nodeResult {
	var out []nodeResult
	for _, r := range rep.Checks {
		out = append(out, nodeResult{"", r})
	}
	for _, n := range rep.Nodes {
		if n.Report == nil {
			out = append(out, nodeResult{n.Name, probes.Result{ID: "preflight", Status: probes.Unknown, Summary: "the node could not be checked: " + n.Error}})
			continue
		}
		for _, r := range n.Report.Checks {
			out = append(out, nodeResult{n.Name, r})
		}
	}
	return out
}
