package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/clusterdoctor/clusterdoctor/docs"
	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/preflight"
)

// newExplainCmd prints a check's section of docs/checks.md, which is built into the
// binary: the reference an operator needs next to a finding, on a host without a browser.
func newExplainCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "explain CHECK-ID",
		Short: "Say what a check establishes and how, as docs/checks.md does",
		Long: `Print what one of preflight's checks establishes, how it finds out, and what its
statuses mean, from the check reference built into this binary (docs/checks.md).`,
		Example: `  clusterdoctor explain firewall.ports
  clusterdoctor preflight -o json | jq -r '.checks[] | select(.status=="fail") | .id' | xargs -n1 clusterdoctor explain`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			text, ok := docs.Check(args[0])
			if !ok {
				return usage(&probes.UsageError{Flag: "CHECK-ID", Value: args[0], Problem: "unknown check id (want one of " + strings.Join(preflight.IDs(), ", ") + ")"})
			}
			return writeWhole(func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "%s\n\n%s", args[0], text)
				return err
			}, textWidth(os.Stdout))
		},
	}
}
