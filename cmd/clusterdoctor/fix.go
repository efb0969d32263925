package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clusterdoctor/clusterdoctor/fixes"
	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/network"
	"github.com/clusterdoctor/clusterdoctor/probes/routecfg"
)

func newFixCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "fix",
		Short: "Fix what preflight found (each fix shows its plan with --dry-run)",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(newFixRouteCmd(), newFixFirewallCmd())
	return c
}

type fixRouteFlags struct {
	settingsFlags
	net     string
	dryRun  bool
	persist bool
	backend string
}

func newFixRouteCmd() *cobra.Command {
	var f fixRouteFlags
	c := &cobra.Command{
		Use:   "route",
		Short: "Route multicast out of the cluster interface, now and (--persist) after reboots",
		Long: `Add (or move) the multicast route to the cluster interface in the running kernel, with
netlink's replace, tagged "proto 205" so it can be recognised later
(ip route replace 224.0.0.0/4 dev IFACE scope link proto 205).

With --persist, also write it where the host's network configuration keeps it, detected
in this order: NetworkManager over D-Bus when it runs (the profile is changed and
reapplied without taking the link down), a NetworkManager keyfile, an ifcfg route-IFACE
file (in its existing format), a netplan drop-in, a systemd-networkd drop-in, or an
"up ip route replace" line in ifupdown's stanza. --backend picks one instead.
Files are replaced atomically, with mode, owner and SELinux label kept and the original
beside it as .NAME.clusterdoctor.bak. If the persistent change fails, the runtime route
is rolled back.

Then route.multicast (and route.persistent) are checked again. A second run changes
nothing and says so. --dry-run prints what was detected, the iproute2 and nmcli
equivalents and unified diffs, and changes nothing. Needs root.`,
		Example: `  clusterdoctor fix route --iface cl0 --persist --dry-run
  clusterdoctor fix route --iface cl0 --persist
  clusterdoctor fix route --iface cl0 --persist --backend ifcfg`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runFixRoute(c, &f) },
	}
	f.register(c.Flags())
	c.Flags().StringVar(&f.net, "net", "224.0.0.0/4", "the destination to route (a multicast prefix)")
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "print what would change and change nothing")
	c.Flags().BoolVar(&f.persist, "persist", false, "also keep the route after a reboot, in the host's network configuration")
	c.Flags().StringVar(&f.backend, "backend", "", "with --persist: networkmanager, ifcfg, netplan, networkd or ifupdown instead of detecting it")
	c.RegisterFlagCompletionFunc("backend", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var names []string
		for _, b := range routecfg.Backends {
			names = append(names, string(b))
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
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
	var backend routecfg.Backend
	if f.backend != "" {
		if !f.persist {
			return usage(&probes.UsageError{Flag: "--backend", Value: f.backend, Problem: "only means something with --persist"})
		}
		if backend, err = routecfg.ParseBackend(f.backend); err != nil {
			return usage(&probes.UsageError{Flag: "--backend", Value: f.backend, Problem: "not one of networkmanager, ifcfg, netplan, networkd, ifupdown"})
		}
	}
	ctx, env, s, iface, done, err := startFix(c, s, f.explicit, f.dryRun, "fix route changes the routing table")
	if err != nil {
		return err
	}
	defer done()
	plan, err := fixes.MulticastRoute{Iface: iface, Dst: dst, NL: env.Netlink}.Plan()
	if err != nil {
		return incomplete(err)
	}
	checks := []probes.Probe{network.Route{Iface: iface, Group: s.Group, Port: s.McastPort}}
	if f.persist {
		owner, err := routecfg.Detect(ctx, env, routecfg.Request{Iface: iface, Dst: dst, Force: backend})
		if err != nil {
			return incomplete(fmt.Errorf("--persist: %w", err))
		}
		defer owner.Close()
		persist := fixes.PersistRoute{Owner: owner, Iface: iface, Env: env}.Plan()
		plan.Notes = append(plan.Notes, persist.Notes...)
		plan.Steps = append(plan.Steps, persist.Steps...)
		checks = append(checks, routecfg.Persistent{Iface: iface, Dst: dst})
	}
	out := c.OutOrStdout()
	plan.Show(out)
	switch {
	case f.dryRun:
		fmt.Fprintln(out, "# --dry-run: nothing was changed")
	case len(plan.Steps) > 0:
		if err := plan.Apply(ctx); err != nil {
			return incomplete(err)
		}
	}
	if !f.persist {
		fmt.Fprintln(out, "# runtime only: add --persist to keep the route after a reboot")
	}
	return verify(ctx, c, env, checks)
}

// startFix is what every fix does first: refuse to change the host without root, open
// the Env, set the deadline and settle the cluster interface, which a fix never guesses.
// done releases what it opened.
func startFix(c *cobra.Command, s probes.Settings, explicit map[string]string, dryRun bool, why string) (ctx context.Context, env *probes.Env, _ probes.Settings, iface string, done func(), err error) {
	if !dryRun && os.Geteuid() != 0 {
		return nil, nil, s, "", nil, usage(fmt.Errorf("%s and needs root (try: sudo clusterdoctor %s ..., or --dry-run)", why, strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")))
	}
	if env, err = probes.NewEnv(s.Root); err != nil {
		return nil, nil, s, "", nil, incomplete(err)
	}
	ctx, cancel := context.WithTimeout(c.Context(), time.Duration(s.Timeout))
	done = func() { cancel(); env.Close() }
	if s, _, err = clusterSettings(ctx, env, s, explicit); err != nil {
		done()
		return nil, nil, s, "", nil, err
	}
	choice, err := clusterIface(ctx, env, s)
	switch {
	case err != nil:
	case choice.Iface == "" || choice.Guess:
		err = usage(&probes.UsageError{Flag: "--iface", Problem: "name the cluster interface: it could not be derived for sure (" + orNone(choice.Source) + ")"})
	case choice.Absent:
		// An image's interface: the fix would change the running kernel, which has none.
		err = usage(&probes.UsageError{Flag: "--iface", Value: choice.Iface, Problem: "the running kernel has no such interface, and a fix changes the running kernel as well as the files under --root " +
			s.Root + " (run the fix on the host that has it; preflight --root judges the tree's files)"})
	}
	if err != nil {
		done()
		return nil, nil, s, "", nil, err
	}
	return ctx, env, s, choice.Iface, done, nil
}

// verify re-runs the fix's checks, prints their lines and fails the command if one fails.
func verify(ctx context.Context, c *cobra.Command, env *probes.Env, checks []probes.Probe) error {
	failed := false
	for _, r := range probes.Run(ctx, env, checks, probes.Policy{}) {
		fmt.Fprintf(c.OutOrStdout(), "check: %s %s: %s\n", r.ID, r.Status, r.Summary)
		failed = failed || r.Status == probes.Fail
	}
	if failed {
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
