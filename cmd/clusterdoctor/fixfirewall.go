package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clusterdoctor/clusterdoctor/fixes"
	"github.com/clusterdoctor/clusterdoctor/netcfg/firewalld"
	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/firewall"
)

type fixFirewallFlags struct {
	settingsFlags
	zone   string
	dryRun bool
}

func newFixFirewallCmd() *cobra.Command {
	var f fixFirewallFlags
	c := &cobra.Command{
		Use:   "firewall",
		Short: "Open the cluster's ports in firewalld, runtime and permanent, without a reload",
		Long: `Open in firewalld what firewall.ports and firewall.igmp find missing: the membership
port (45564/udp), the receiver range (4000-4100/tcp), AJP (8009/tcp) and the IGMP
protocol (so snooping switches keep forwarding the group), in the zone that applies to the
cluster interface (or --zone), at runtime and in the permanent configuration, through
firewalld's D-Bus API. There is no reload: a reload would drop runtime-only openings
others made. Openings already there are left alone; a second run changes nothing.
--dry-run prints the firewall-cmd equivalents and changes nothing. Needs root.`,
		Example: `  clusterdoctor fix firewall --iface cl0 --dry-run
  clusterdoctor fix firewall --iface cl0`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runFixFirewall(c, &f) },
	}
	f.register(c.Flags())
	c.Flags().StringVar(&f.zone, "zone", "", "open in this zone instead of the cluster interface's")
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "print what would change and change nothing")
	return c
}

func runFixFirewall(c *cobra.Command, f *fixFirewallFlags) error {
	s, err := f.settings(c.Flags())
	if err != nil {
		return usage(err)
	}
	ctx, env, s, iface, done, err := startFix(c, s, f.explicit, f.dryRun, "fix firewall changes firewalld's configuration")
	if err != nil {
		return err
	}
	defer done()
	conn, err := env.SystemBus(ctx)
	if err != nil {
		return incomplete(fmt.Errorf("firewalld: %w", err))
	}
	defer conn.Close()
	client := firewalld.New(conn)
	if !client.Running() {
		return incomplete(fmt.Errorf("firewalld is not running: start it, or open the ports in the rule set that guards %s", iface))
	}
	s.Iface = iface
	check := firewall.PortsFor(s)
	subnet, err := firewall.Subnet(env, iface)
	if err != nil {
		return incomplete(err)
	}
	prof, err := firewall.ProfileOf(ctx, env, iface)
	if err != nil {
		return incomplete(err)
	}
	b, err := firewall.Zones(client, iface, subnet, prof)
	if err != nil {
		return incomplete(err)
	}
	zone, permZone := b.Zone, b.PermZone
	out := c.OutOrStdout()
	fmt.Fprintf(out, "# firewalld %s: traffic on %s is decided by zone %s (%s)\n", client.Version(), iface, zone, b.How)
	if permZone != zone {
		fmt.Fprintf(out, "# after a reload or a reboot: zone %s (%s)\n", permZone, b.PermHow)
	}
	if f.zone != "" {
		if _, err := client.Permanent().Zone(f.zone); err != nil {
			return usage(fmt.Errorf("--zone %s: firewalld has no such zone (firewall-cmd --get-zones lists them)", f.zone))
		}
		if f.zone != zone {
			fmt.Fprintf(out, "# --zone %s: traffic on %s is decided by zone %s, not this one\n", f.zone, iface, zone)
		}
		zone, permZone = f.zone, f.zone
	}
	igmp := firewall.IGMP{Iface: iface}
	cov, err := firewall.Cover(client.Runtime(), zone, client.Permanent(), permZone, append(check.Needs(), igmp.Need()), subnet)
	if err != nil {
		return incomplete(err)
	}
	plan := fixes.OpenFirewall{Client: client, Zone: zone, PermanentZone: permZone, Coverage: cov}.Plan()
	plan.Show(out)
	switch {
	case f.dryRun:
		fmt.Fprintln(out, "# --dry-run: nothing was changed")
	case len(plan.Steps) > 0:
		if err := plan.Apply(ctx); err != nil {
			return incomplete(err)
		}
	}
	return verify(ctx, c, env, []probes.Probe{check, igmp})
}
