package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// TAP writes the report as TAP version 13 (prove, tappy, Jenkins' TAP plugin): one test
// point per check, "not ok" only for fail; skip and unknown are "# SKIP"; every point
// that is not a plain pass carries a YAML block with its status and the details.
func TAP(w io.Writer, rep *probes.Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "TAP version 13\n1..%d\n", len(rep.Checks))
	for i, r := range rep.Checks {
		ok := "ok"
		if r.Status == probes.Fail {
			ok = "not ok"
		}
		fmt.Fprintf(&b, "%s %d - %s: %s", ok, i+1, r.ID, oneLine(r.Summary))
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
