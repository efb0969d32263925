package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/clusterdoctor/clusterdoctor/fixes"
	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/network"
)

func newFixCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "fix",
		Short: "Fix what preflight found (each fix shows its plan with --dry-run)",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(newFixRouteCmd())
	return c
}

type fixRouteFlags struct {
	settingsFlags
	net    string
	dryRun bool
}

func newFixRouteCmd() *cobra.Command {
	var f fixRouteFlags
	c := &cobra.Command{
		Use:   "route",
		Short: "Route multicast out of the cluster interface now (ip route replace 224.0.0.0/4 dev IFACE)",
		Long: `Add (or move) the multicast route to the cluster interface in the running kernel, with
netlink's replace, tagged "proto 205" so it can be recognised later; then re-run the
route.multicast check. A second run changes nothing and says so. --dry-run prints the
iproute2 equivalent and changes nothing. Needs root.`,
		Example: `  clusterdoctor fix route --iface cl0 --dry-run
  clusterdoctor fix route --iface cl0`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runFixRoute(c, &f) },
	}
	f.register(c.Flags())
	c.Flags().StringVar(&f.net, "net", "224.0.0.0/4", "the destination to route (a multicast prefix)")
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "print what would change and change nothing")
	return c
}

func runFixRoute(c *cobra.Command, f *fixRouteFlags) error {
	s, err := f.settings(c.Flags())
	if err != nil {
		return usage(err)
	}
	dst, err := netip.ParsePrefix(f.net)
	if err != nil || !dst.Addr().Is4() || !network.MulticastNet.Contains(dst.Addr()) || dst.Bits() < network.MulticastNet.Bits() {
		return usage(&probes.UsageError{Flag: "--net", Value: f.net, Problem: "not an IPv4 multicast prefix inside 224.0.0.0/4"})
	}
	if !f.dryRun && os.Geteuid() != 0 {
		return usage(fmt.Errorf("fix route changes the routing table and needs root (try: sudo clusterdoctor fix route ..., or --dry-run)"))
	}
	env, err := probes.NewEnv(s.Root)
	if err != nil {
		return incomplete(err)
	}
	defer env.Close()
	ctx, cancel := context.WithTimeout(c.Context(), time.Duration(s.Timeout))
	defer cancel()
	choice, err := clusterIface(ctx, env, s)
	if err != nil {
		return err
	}
	if choice.Iface == "" || choice.Guess {
		return usage(&probes.UsageError{Flag: "--iface", Problem: "name the cluster interface: it could not be derived for sure (" + orNone(choice.Source) + ")"})
	}
	plan, err := fixes.MulticastRoute{Iface: choice.Iface, Dst: dst, NL: env.Netlink}.Plan()
	if err != nil {
		return incomplete(err)
	}
	out := c.OutOrStdout()
	plan.Show(out)
	if f.dryRun || len(plan.Steps) == 0 {
		if f.dryRun {
			fmt.Fprintln(out, "# --dry-run: nothing was changed")
		}
		return verifyRoute(ctx, c, env, s, choice.Iface)
	}
	if err := plan.Apply(ctx); err != nil {
		return incomplete(err)
	}
	return verifyRoute(ctx, c, env, s, choice.Iface)
}

// verifyRoute re-runs route.multicast, prints its line and fails the command if it fails.
func verifyRoute(ctx context.Context, c *cobra.Command, env *probes.Env, s probes.Settings, iface string) error {
	rs := probes.Run(ctx, env, []probes.Probe{network.Route{Iface: iface, Group: s.Group, Port: s.McastPort}}, probes.Policy{})
	r := rs[0]
	fmt.Fprintf(c.OutOrStdout(), "check: %s %s: %s\n", r.ID, r.Status, r.Summary)
	if r.Status == probes.Fail {
		return &exitError{code: probes.ExitFailed}
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "nothing matched"
	}
	return s
}
