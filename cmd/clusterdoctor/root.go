package main

import (
	"errors"
	"fmt"
	"regexp"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "clusterdoctor",
		Short: "Find, explain and fix what breaks Tomcat session clustering on a host",
		Long: `clusterdoctor checks the host side of a Tomcat session cluster: the cluster interface,
the multicast route, reverse-path filtering, the host name Tomcat advertises, the peers'
names, the clock and the replication ports. Run "clusterdoctor preflight" on every host.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usage(plainFlagError(err)) })
	root.AddCommand(newPreflightCmd(), newMcastTestCmd(), newMembersCmd(), newSessionTestCmd(), newClusterCmd(), newFixCmd(), newAgentCmd(), newExplainCmd(), newManCmd(), newVersionCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(c *cobra.Command, _ []string) {
			fmt.Fprintf(c.OutOrStdout(), "clusterdoctor %s\n", buildVersion())
		},
	}
}

// pflagBadValue matches pflag's `invalid argument "x" for "--mcast-port" flag: strconv...`.
var pflagBadValue = regexp.MustCompile(`^invalid argument (".*") for "(?:-\w, )?(--[\w-]+)" flag: `)

// plainFlagError turns pflag's parse errors into the one-line form of every other usage
// error: the flag, the value, what is wrong, without Go's strconv internals.
func plainFlagError(err error) error {
	if m := pflagBadValue.FindStringSubmatch(err.Error()); m != nil {
		return errors.New(m[2] + " " + m[1] + ": not a valid value for this flag")
	}
	return err
}
