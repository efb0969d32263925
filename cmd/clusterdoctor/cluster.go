package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/clusterdoctor/clusterdoctor/netcfg/ansible"
	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/cluster"
	"github.com/clusterdoctor/clusterdoctor/probes/preflight"
	"github.com/clusterdoctor/clusterdoctor/probes/remote"
	"github.com/clusterdoctor/clusterdoctor/probes/report"
)

type clusterFlags struct {
	inventory, url, output, user, config string
	webGroup, wasGroup                   string
	sshOptions, skip, ignore             []string
	become, verbose, fix, yes            bool
	timeout, connectTimeout              time.Duration
}

func newClusterCmd() *cobra.Command {
	var f clusterFlags
	c := &cobra.Command{
		Use:   "cluster [HOST...] [-i INVENTORY] [--url URL]",
		Short: "Diagnose the whole cluster from one seat, over ssh: every host, every path between them",
		Long: `Reach every cluster host with the system's ssh (your ~/.ssh/config, agent, ProxyJump and
known_hosts, never a prompt) and, on all of them at once: preflight with every other host as
its peers; on the WAS hosts the mcast-test mesh and members; from the web hosts session-test
through --url (without it, through the one page the host's balancer serves). Then compare
what only the whole cluster shows, and reduce every finding to its cause on its host. A host that is this one runs
without ssh. Where a host lacks this clusterdoctor, it is copied to a private temporary
directory there for the run and removed after it.

Hosts come from the arguments ([USER@]HOST), from an Ansible inventory (-i, INI or YAML:
ansible_host, ansible_user, ansible_port, ansible_ssh_private_key_file and ansible_become
honoured; the groups --web-group and --was-group give the roles, else each host's are
detected), or, with neither, from the settings file: this host and its peers.

With --fix, the fixes the findings call for (fix route, with --persist where the host's
network configuration is known; fix firewall where firewalld guards the cluster interface)
are planned on every host concerned and shown together, asked about once (--yes does not
ask), applied host by host (each fix rolls back what it changed when it fails), and the
cluster is diagnosed again: the report is the one after, with the fixes and the problems
before.

-o html writes one self-contained page (no script, nothing fetched): the causes and what to
run, a picture of the cluster (the balancer's paths to each Tomcat, the heartbeats and the
replication between them, each with its outcome and cause), then each host's checks.

Exit codes: 0 healthy, 1 a problem (a host not reached counts), 2 usage error, 3 no host
could be reached.`,
		Example: `  clusterdoctor cluster was1 was2 web --url http://web/
  clusterdoctor cluster -i inventory.ini --fix
  clusterdoctor cluster -i inventory.ini --url http://web/app/ -o json
  clusterdoctor cluster -i inventory.ini -o html > cluster.html
  clusterdoctor cluster -i hosts.yml --user deploy --become --ssh-option ProxyJump=bastion`,
		RunE: func(c *cobra.Command, args []string) error { return runCluster(c, &f, args) },
	}
	fs := c.Flags()
	fs.StringVarP(&f.inventory, "inventory", "i", "", "Ansible inventory (INI or YAML) naming the hosts")
	fs.StringVar(&f.url, "url", "", "a page through the web tier that makes a session: session-test from the web hosts")
	fs.StringVarP(&f.output, "output", "o", "text", "output format: text, json, or html (one self-contained page with a picture of the cluster)")
	fs.StringArrayVar(&f.sshOptions, "ssh-option", nil, "an ssh option for every host, as ssh -o takes it (repeatable)")
	fs.StringVar(&f.user, "user", "", "log in as this user where the inventory does not say (default: ssh's)")
	fs.BoolVar(&f.become, "become", false, "run clusterdoctor through sudo -n where the inventory does not say (login user not root)")
	fs.StringVar(&f.webGroup, "web-group", "web", "the inventory group of the web hosts")
	fs.StringVar(&f.wasGroup, "was-group", "was", "the inventory group of the Tomcat (WAS) hosts")
	fs.StringVar(&f.config, "config", "", "settings file whose peers are the hosts, with neither HOST nor -i (default "+defaultConfig+")")
	fs.DurationVar(&f.timeout, "timeout", time.Minute, "deadline of each command on a host")
	fs.DurationVar(&f.connectTimeout, "connect-timeout", 10*time.Second, "deadline of each ssh connection's set-up")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "list every host's passing checks too")
	fs.BoolVar(&f.fix, "fix", false, "run the fixes the findings call for (fix route, fix firewall) on the hosts concerned: every plan first, one question, then host by host, and diagnose again")
	fs.BoolVar(&f.yes, "yes", false, "with --fix: apply without asking")
	fs.StringSliceVar(&f.skip, "skip", nil, "preflight check IDs not to run on any host (comma-separated)")
	fs.StringSliceVar(&f.ignore, "ignore", nil, "preflight check IDs whose failure is only a warning, or all")
	return c
}

func runCluster(c *cobra.Command, f *clusterFlags, args []string) error {
	if f.output != "text" && f.output != "json" && f.output != "html" {
		return usage(&probes.UsageError{Flag: "--output", Value: f.output, Problem: "want text, json or html"})
	}
	if f.url != "" {
		if _, err := sessionURL(f.url, nil); err != nil {
			return usage(err)
		}
	}
	if f.timeout < time.Second || f.connectTimeout < time.Second {
		return usage(&probes.UsageError{Flag: "--timeout", Value: f.timeout.String() + ", " + f.connectTimeout.String(), Problem: "want at least 1s for --timeout and --connect-timeout"})
	}
	for _, o := range f.sshOptions {
		if k, _, ok := strings.Cut(o, "="); !ok || k == "" || strings.HasPrefix(o, "-") {
			return usage(&probes.UsageError{Flag: "--ssh-option", Value: o, Problem: "want KEY=VALUE as ssh -o takes it (e.g. ProxyJump=bastion)"})
		}
	}
	if f.fix && !f.yes && !term.IsTerminal(int(os.Stdin.Fd())) {
		return usage(&probes.UsageError{Flag: "--fix", Problem: "asks before it changes anything, and there is no terminal to ask on: add --yes"})
	}
	if f.yes && !f.fix {
		return usage(&probes.UsageError{Flag: "--yes", Problem: "goes with --fix"})
	}
	known := preflight.IDs()
	if err := checkIDs("--skip", f.skip, known); err != nil {
		return usage(err)
	}
	if err := checkIDs("--ignore", f.ignore, known); err != nil {
		return usage(err)
	}
	var pfArgs []string
	if len(f.skip) > 0 {
		pfArgs = append(pfArgs, "--skip", strings.Join(f.skip, ","))
	}
	if len(f.ignore) > 0 {
		pfArgs = append(pfArgs, "--ignore", strings.Join(f.ignore, ","))
	}
	hosts, err := clusterHosts(c, f, args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cluster.MarkLocal(ctx, hosts)
	self, err := remote.Self(buildVersion())
	if err != nil {
		return incomplete(err)
	}
	client, err := remote.NewClient(self, f.sshOptions, f.connectTimeout)
	if err != nil {
		return incomplete(err)
	}
	defer client.Close()
	cfg := cluster.Config{Hosts: hosts, URL: f.url, Client: client, Version: buildVersion(), Timeout: f.timeout, PreflightArgs: pfArgs}
	rep := cluster.Run(ctx, cfg)
	if f.fix {
		rep = fixCluster(ctx, cfg, rep, f.yes)
	}
	switch f.output {
	case "json":
		err = writeWhole(func(w io.Writer) error { return report.ClusterJSON(w, rep) }, 0)
	case "html":
		err = writeWhole(func(w io.Writer) error { return report.ClusterHTML(w, rep) }, 0)
	default:
		opt := report.Options{Color: colorWanted(os.Stdout), Verbose: f.verbose, Width: textWidth(os.Stdout)}
		err = writeWhole(func(w io.Writer) error { return report.ClusterText(w, rep, opt) }, opt.Width)
	}
	if err != nil {
		return err
	}
	if code := rep.ExitCode(); code != probes.ExitOK {
		return &exitError{code: code}
	}
	return nil
}

// fixCluster applies the fixes rep calls for, after showing every plan and asking once
// (unless yes), and diagnoses the cluster again: the report after, with the fixes and the
// findings before.
func fixCluster(ctx context.Context, cfg cluster.Config, rep *cluster.Report, yes bool) *cluster.Report {
	fixes := cluster.FixesFor(rep)
	if len(fixes) == 0 {
		fmt.Fprintln(os.Stderr, "clusterdoctor: --fix: no finding calls for a fix clusterdoctor has (fix route, fix firewall)")
		return rep
	}
	confirm := func(plans []cluster.Fix) bool {
		for _, p := range plans {
			fmt.Fprintf(os.Stderr, "== %s: clusterdoctor %s (for %s) ==\n", p.Host, strings.Join(p.Command, " "), strings.Join(p.For, ", "))
			if p.Error != "" {
				fmt.Fprintf(os.Stderr, "not possible: %s\n", p.Error)
			} else {
				fmt.Fprintln(os.Stderr, p.Plan)
			}
			fmt.Fprintln(os.Stderr)
		}
		if yes {
			return true
		}
		fmt.Fprintf(os.Stderr, "Apply these fixes, host by host? [y/N] ")
		line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		return strings.EqualFold(strings.TrimSpace(line), "y") || strings.EqualFold(strings.TrimSpace(line), "yes")
	}
	fixes = cluster.ApplyFixes(ctx, cfg, fixes, confirm)
	applied := false
	for _, f := range fixes {
		applied = applied || f.Applied
	}
	if !applied {
		rep.Fixes = fixes
		return rep
	}
	if d := cluster.Settle(fixes); d > 0 {
		fmt.Fprintf(os.Stderr, "waiting %s before diagnosing again: Tomcat retries its multicast membership every 5 s after a network error (McastService recoverySleepTime)\n", d)
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
	after := cluster.Run(ctx, cfg)
	after.Fixes, after.Before = fixes, rep.Findings()
	return after
}

// clusterHosts are the hosts of the run: the inventory's (those the arguments pick), else
// the arguments, else this host and the settings file's peers.
func clusterHosts(c *cobra.Command, f *clusterFlags, args []string) ([]cluster.Host, error) {
	var hosts []cluster.Host
	switch {
	case f.inventory != "":
		file, err := os.Open(f.inventory)
		if err != nil {
			return nil, usage(&probes.UsageError{Flag: "--inventory", Value: f.inventory, Problem: plainOpenError(err)})
		}
		inv, err := ansible.Parse(file)
		file.Close()
		if err != nil {
			return nil, usage(&probes.UsageError{Flag: "--inventory", Value: f.inventory, Problem: err.Error()})
		}
		if hosts, err = cluster.FromInventory(inv, args, cluster.Groups{Web: f.webGroup, WAS: f.wasGroup}); err != nil {
			return nil, usage(&probes.UsageError{Flag: "--inventory", Value: f.inventory, Problem: err.Error()})
		}
	case len(args) > 0:
		var err error
		if hosts, err = cluster.FromArgs(args); err != nil {
			return nil, usage(&probes.UsageError{Flag: "HOST", Problem: err.Error()})
		}
	default:
		var sf settingsFlags
		sf.config = f.config
		fs := c.Flags()
		s, err := sf.settings(fs)
		if err != nil {
			return nil, usage(err)
		}
		if len(s.Peers) == 0 {
			return nil, usage(&probes.UsageError{Flag: "HOST", Problem: "name the cluster's hosts (cluster was1 was2 web), give an inventory (-i), or list peers in " + defaultConfig})
		}
		self, _ := os.Hostname()
		hosts = []cluster.Host{{Target: remote.Target{Name: self, Address: cluster.SelfAddress(s.Peers[0]), Local: true}}}
		more, err := cluster.FromArgs(s.Peers)
		if err != nil {
			return nil, usage(&probes.UsageError{Flag: "--config", Problem: "peers: " + err.Error()})
		}
		hosts = append(hosts, more...)
	}
	seen := map[string]bool{}
	var out []cluster.Host
	for _, h := range hosts {
		if seen[h.Name] {
			continue
		}
		seen[h.Name] = true
		if h.User == "" {
			h.User = f.user
		}
		if !h.Become && f.become {
			h.Become = true
		}
		out = append(out, h)
	}
	return out, nil
}

// plainOpenError is an open error without Go's "open PATH:" prefix.
func plainOpenError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
