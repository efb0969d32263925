package main

import (
	"context"
	"io"
	"net/netip"
	"time"

	"github.com/spf13/cobra"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/igmp"
	"github.com/clusterdoctor/clusterdoctor/probes/members"
	"github.com/clusterdoctor/clusterdoctor/probes/report"
	"github.com/clusterdoctor/clusterdoctor/probes/tomcat"
)

type membersFlags struct {
	settingsFlags
	output   string
	duration time.Duration
}

func newMembersCmd() *cobra.Command {
	var f membersFlags
	c := &cobra.Command{
		Use:   "members",
		Short: "List the Tomcat cluster's members from their own heartbeats, and what is wrong with each",
		Long: `Listen to the membership group passively, as Tomcat's McastService does (no interface: the
kernel's route decides), and also on the cluster interface explicitly, and decode every
Tribes heartbeat: per member the advertised receiver address and port, domain, uniqueId,
alive time, heartbeat interval and jitter, loss against its frequency, TTL and source
address, and shutdown packets. Then connect to every advertised receiver. Problems are named
per member: loopback or an address outside the cluster subnet, a source that is not the
advertised address, a receiver that refuses, rejects or drops TCP from here, two members on
one receiver, another domain, heard only with the interface set. Nothing is sent to the
group. Group, port, frequency and dropTime come from this host's server.xml when a Tomcat is
found, else from the flags. Where that Tomcat's membership sends no heartbeats (static
members, DNS or Kubernetes membership), nothing is listened to: the members Tomcat contacts
are listed instead, each receiver tried from here as tomcat.membership tries it.

Exit codes: 0 every member ok, 1 a problem (or no member heard), 2 usage error, 3 could not
listen.`,
		Example: `  clusterdoctor members
  clusterdoctor members --duration 5s --iface cl0 -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runMembers(c, &f) },
	}
	fs := c.Flags()
	f.register(fs)
	fs.StringVarP(&f.output, "output", "o", "text", "output format: text, json")
	fs.DurationVar(&f.duration, "duration", 3*time.Second, "how long to listen (heartbeats come every 500 ms by default)")
	return c
}

func runMembers(c *cobra.Command, f *membersFlags) error {
	s, err := f.settings(c.Flags())
	if err != nil {
		return usage(err)
	}
	if f.output != "text" && f.output != "json" {
		return usage(&probes.UsageError{Flag: "--output", Value: f.output, Problem: "want text or json"})
	}
	if f.duration < 100*time.Millisecond || f.duration > 10*time.Minute {
		return usage(&probes.UsageError{Flag: "--duration", Value: f.duration.String(), Problem: "want 100ms to 10m"})
	}
	env, err := probes.NewEnv(s.Root)
	if err != nil {
		return incomplete(err)
	}
	defer env.Close()
	ctx := c.Context()
	s, found, err := clusterSettings(ctx, env, s, f.explicit)
	if err != nil {
		return err
	}
	choice, err := clusterIface(ctx, env, s)
	if err != nil {
		return err
	}
	cfg := members.Config{Group: s.Group, Port: s.McastPort, Iface: choice.Iface, Duration: f.duration}
	if s.Membership != probes.Multicast && found.Primary() != nil {
		// No heartbeats to hear: the members Tomcat contacts, as tomcat.membership tries them.
		r := probes.Run(ctx, env, []probes.Probe{tomcat.MembershipCheck{Found: found, Iface: choice.Iface}}, probes.Policy{})[0]
		var contacted []string
		if list, ok := r.Evidence["members"].([]string); ok {
			contacted = list
		}
		rep := members.WithoutHeartbeats(cfg, s.Membership, contacted, r.Summary, r.Status == probes.Pass || r.Status == probes.Warn)
		return writeReport(f.output, func(w io.Writer) error { return report.MembersJSON(w, rep) },
			func(w io.Writer, o report.Options) error { return report.MembersText(w, rep, o) }, rep.OK())
	}
	if p := found.Primary(); p != nil {
		if freq, drop, ok := p.Heartbeats(); ok {
			cfg.Frequency, cfg.DropTime = freq, drop
			cfg.ExpectSelf = p.InThisNetns()
		}
	}
	if local, err := env.InterfaceAddrs(); err == nil {
		cfg.AddLocal(local)
	}
	// The IGMP seen while listening (CAP_NET_RAW), for members whose heartbeats stop.
	rctx, stopRecording := context.WithCancel(ctx)
	defer stopRecording()
	cfg.IGMP, _ = igmp.Record(rctx, choice.Iface, s.Group)
	rep, err := members.Listen(ctx, cfg)
	if err != nil {
		return incomplete(err)
	}
	if len(rep.Members) == 0 {
		rep.Problems = append(rep.Problems, "no member heard in "+f.duration.String()+" on "+netip.AddrPortFrom(s.Group, uint16(s.McastPort)).String()+
			": no Tomcat of this group runs where this host can hear it (route.multicast, firewall.ports and mcast-test say why)")
	}
	return writeReport(f.output, func(w io.Writer) error { return report.MembersJSON(w, rep) },
		func(w io.Writer, o report.Options) error { return report.MembersText(w, rep, o) }, rep.OK())
}
