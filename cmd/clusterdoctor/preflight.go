package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/cluster"
	"github.com/clusterdoctor/clusterdoctor/probes/preflight"
	"github.com/clusterdoctor/clusterdoctor/probes/report"
	"github.com/clusterdoctor/clusterdoctor/probes/tomcat"
)

type preflightFlags struct {
	settingsFlags
	output       string
	textfile     string
	verbose      bool
	strict       bool
	skip, ignore []string
	routes       []string
	containers   []string
	web          webConfigFlags
}

func newPreflightCmd() *cobra.Command {
	var f preflightFlags
	c := &cobra.Command{
		Use:   "preflight",
		Short: "Run every host check and print a report (read-only)",
		Long: `Run every host check and print one line per check, a fix for each problem and a verdict.

Formats (-o): text, json, junit (CI servers), tap (TAP 13), nagios (plugin output with
performance data and Nagios exit codes), prometheus (text exposition). --textfile also
writes the Prometheus form to a file for node_exporter's textfile collector, atomically.

Tomcats in other network namespaces of this host (Docker, Podman or containerd
containers, ip netns namespaces) are nodes of their own: run on the host, preflight also
checks each in its own namespaces (its interfaces, routes, host name, files) and reports
it under its name; --container limits that to some. Run inside a container (or any
namespace but the host's), only the Tomcats of that namespace are this host's.

Exit codes: 0 no check failed (warnings allowed; --strict makes them fail), 1 a check
failed, 2 usage or input error, 3 the run could not complete. With -o nagios: 0 OK,
1 WARNING, 2 CRITICAL, 3 UNKNOWN.`,
		Example: `  clusterdoctor preflight --iface cl0 --peer was2
  clusterdoctor preflight -o json --skip ntp.sync
  clusterdoctor preflight -o nagios --peer was2
  clusterdoctor preflight -o text --textfile /var/lib/node_exporter/textfile_collector/clusterdoctor.prom`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runPreflight(c, &f) },
	}
	fs := c.Flags()
	f.register(fs)
	f.registerRole(fs)
	fs.StringVarP(&f.output, "output", "o", "text", "output format: "+strings.Join(report.Formats, ", "))
	fs.StringVar(&f.textfile, "textfile", "", "also write the Prometheus metrics to this file (node_exporter textfile collector)")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "show passing checks' details and evidence")
	fs.BoolVar(&f.strict, "strict", false, "treat warnings as failures (exit 1)")
	fs.StringSliceVar(&f.skip, "skip", nil, "check IDs not to run (comma-separated)")
	fs.StringArrayVar(&f.routes, "route", nil, "web host: the Tomcat at HOST has jvmRoute NAME, as NAME=HOST (repeatable; where no clusterdoctor answers there)")
	fs.StringSliceVar(&f.ignore, "ignore", nil, "check IDs whose failure is only a warning, or all")
	fs.StringArrayVar(&f.containers, "container", nil, "check only this container's or network namespace's Tomcat: name, id, ip netns name or PID (repeatable)")
	f.web.register(fs)
	fs.IntVar(&f.node, "node", 0, "internal: check the node whose namespaces this run was started in (its JVM's PID)")
	fs.MarkHidden("node")
	completeIDs := func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return preflight.IDs(), cobra.ShellCompDirectiveNoFileComp
	}
	c.RegisterFlagCompletionFunc("skip", completeIDs)
	c.RegisterFlagCompletionFunc("ignore", completeIDs)
	c.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return report.Formats, cobra.ShellCompDirectiveNoFileComp
	})
	return c
}

func runPreflight(c *cobra.Command, f *preflightFlags) error {
	s, err := f.settings(c.Flags())
	if err != nil {
		return usage(err)
	}
	if err := addRoutes(&s, f.routes); err != nil {
		return usage(err)
	}
	if given, err := f.web.configs(s.Root); err != nil {
		return usage(err)
	} else if len(given) > 0 {
		s.WebConfigs = given
	}
	if err := validFormat(f.output); err != nil {
		return usage(err)
	}
	if f.textfile != "" {
		if st, err := os.Stat(filepath.Dir(f.textfile)); err != nil || !st.IsDir() {
			return usage(&probes.UsageError{Flag: "--textfile", Value: f.textfile, Problem: "its directory does not exist"})
		}
	}
	known := preflight.IDs()
	if err := checkIDs("--skip", f.skip, known); err != nil {
		return usage(err)
	}
	if err := checkIDs("--ignore", f.ignore, known); err != nil {
		return usage(err)
	}
	ctx, cancel := context.WithTimeout(c.Context(), time.Duration(s.Timeout))
	defer cancel()
	rep, found, err := runChecks(ctx, s, f.explicit, probes.Policy{Skip: f.skip, Ignore: f.ignore})
	if err != nil {
		return err
	}
	if err := checkNodes(ctx, rep, found, f); err != nil {
		return err
	}
	cluster.ExplainChecks(rep)
	opt := report.Options{Verbose: f.verbose, Color: colorWanted(os.Stdout), Width: textWidth(os.Stdout)}
	width := 0
	if f.output == "text" {
		width = opt.Width
	}
	if err := writeWhole(func(w io.Writer) error { return report.Render(w, f.output, rep, opt) }, width); err != nil {
		return err
	}
	if f.textfile != "" {
		if err := report.Textfile(f.textfile, rep); err != nil {
			return incomplete(err)
		}
	}
	if f.output == "nagios" {
		if code := report.NagiosCode(rep); code != report.NagiosOK {
			return &exitError{code: code}
		}
		return nil
	}
	if code := rep.ExitCode(f.strict); code != probes.ExitOK {
		return &exitError{code: code}
	}
	return nil
}

func validFormat(f string) error {
	for _, v := range report.Formats {
		if v == f {
			return nil
		}
	}
	return &probes.UsageError{Flag: "--output", Value: f, Problem: fmt.Sprintf("unknown format (want one of %v)", report.Formats)}
}

// textWidth is the width text reports are wrapped at: $COLUMNS where set (as shells export
// it), else the terminal's, else 80.
func textWidth(f *os.File) int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n >= 40 {
		return n
	}
	if w, _, err := term.GetSize(int(f.Fd())); err == nil && w >= 40 {
		return w
	}
	return 80
}

// colorWanted follows the convention of https://no-color.org and colours only terminals.
func colorWanted(f *os.File) bool {
	_, noColor := os.LookupEnv("NO_COLOR")
	return !noColor && term.IsTerminal(int(f.Fd()))
}

// runChecks runs the preflight checks once and builds the report (preflight, and the
// agent at every interval), with the Tomcats found.
func runChecks(ctx context.Context, s probes.Settings, explicit map[string]string, pol probes.Policy) (*probes.Report, *tomcat.Found, error) {
	env, err := newEnv(s)
	if err != nil {
		return nil, nil, err
	}
	defer env.Close()
	start := time.Now()
	s, found, err := clusterSettings(ctx, env, s, explicit)
	if err != nil {
		return nil, nil, err
	}
	choice, err := clusterIface(ctx, env, s)
	if err != nil {
		return nil, nil, err
	}
	s.Iface, s.IfaceSource = choice.Iface, choice.Source
	if _, given := explicit["iface"]; !given {
		s.Sources["iface"] = choice.Source
	}
	if len(s.Roles) == 0 {
		s.Roles, s.Sources["roles"] = preflight.DetectRoles(env, found)
	}
	results := probes.Run(ctx, env, preflight.Checks(s, choice, found), pol)
	host, _ := os.Hostname()
	if s.Node > 0 {
		host, _ = env.Hostname()
	}
	return &probes.Report{
		SchemaVersion: probes.SchemaVersion, Tool: "clusterdoctor", Version: buildVersion(),
		Host: host, StartedAt: start.UTC(), DurationMs: time.Since(start).Milliseconds(),
		Settings: s, Summary: probes.Summarize(results), Checks: results,
	}, found, nil
}

// newEnv is the Env the settings describe: the host under --root, or the node of --node,
// whose namespaces this process must already run in.
func newEnv(s probes.Settings) (*probes.Env, error) {
	if s.Node == 0 {
		env, err := probes.NewEnv(s.Root)
		if err != nil {
			return nil, incomplete(err)
		}
		env.WebConfigs = s.WebConfigs
		return env, nil
	}
	env, err := probes.NewNodeEnv(s.Node)
	if err != nil {
		return nil, usage(&probes.UsageError{Flag: "--node", Value: fmt.Sprint(s.Node), Problem: err.Error() + " (--node is clusterdoctor's own, for the containers it checks)"})
	}
	return env, nil
}

// addRoutes takes --route NAME=HOST: the Tomcat at HOST has jvmRoute NAME.
func addRoutes(s *probes.Settings, routes []string) error {
	for _, r := range routes {
		name, host, ok := strings.Cut(r, "=")
		if !ok || name == "" || host == "" || strings.ContainsAny(name, " .") {
			return &probes.UsageError{Flag: "--route", Value: r, Problem: "want JVMROUTE=HOST (the Tomcat at HOST has that jvmRoute)"}
		}
		if s.Routes == nil {
			s.Routes = map[string]string{}
		}
		s.Routes[name] = host
	}
	return nil
}
