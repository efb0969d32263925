package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/preflight"
	"github.com/clusterdoctor/clusterdoctor/probes/report"
)

type preflightFlags struct {
	settingsFlags
	output       string
	verbose      bool
	strict       bool
	skip, ignore []string
}

func newPreflightCmd() *cobra.Command {
	var f preflightFlags
	c := &cobra.Command{
		Use:   "preflight",
		Short: "Run every host check and print a report (read-only)",
		Long: `Run every host check and print one line per check, a fix for each problem and a verdict.

Exit codes: 0 no check failed (warnings allowed; --strict makes them fail), 1 a check
failed, 2 usage or input error, 3 the run could not complete.`,
		Example: `  clusterdoctor preflight --iface cl0 --peer was2
  clusterdoctor preflight -o json --skip ntp.sync`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runPreflight(c, &f) },
	}
	fs := c.Flags()
	f.register(fs)
	fs.StringVarP(&f.output, "output", "o", "text", "output format: text, json")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "show passing checks' details and evidence")
	fs.BoolVar(&f.strict, "strict", false, "treat warnings as failures (exit 1)")
	fs.StringSliceVar(&f.skip, "skip", nil, "check IDs not to run (comma-separated)")
	fs.StringSliceVar(&f.ignore, "ignore", nil, "check IDs whose failure is only a warning, or all")
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
	if err := validFormat(f.output); err != nil {
		return usage(err)
	}
	known := preflight.IDs()
	if err := checkIDs("--skip", f.skip, known); err != nil {
		return usage(err)
	}
	if err := checkIDs("--ignore", f.ignore, known); err != nil {
		return usage(err)
	}
	env, err := probes.NewEnv(s.Root)
	if err != nil {
		return incomplete(err)
	}
	defer env.Close()

	start := time.Now()
	ctx, cancel := context.WithTimeout(c.Context(), time.Duration(s.Timeout))
	defer cancel()
	choice, err := clusterIface(ctx, env, s)
	if err != nil {
		return err
	}
	s.Iface, s.IfaceSource = choice.Iface, choice.Source

	results := probes.Run(ctx, env, preflight.Checks(s, choice.Guess), probes.Policy{Skip: f.skip, Ignore: f.ignore})
	host, _ := os.Hostname()
	rep := &probes.Report{
		SchemaVersion: probes.SchemaVersion, Tool: "clusterdoctor", Version: buildVersion(),
		Host: host, StartedAt: start.UTC(), DurationMs: time.Since(start).Milliseconds(),
		Settings: s, Summary: probes.Summarize(results), Checks: results,
	}
	opt := report.Options{Verbose: f.verbose, Color: colorWanted(os.Stdout)}
	if err := report.Render(os.Stdout, f.output, rep, opt); err != nil {
		return incomplete(fmt.Errorf("write report: %w", err))
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

// colorWanted follows the convention of https://no-color.org and colours only terminals.
func colorWanted(f *os.File) bool {
	_, noColor := os.LookupEnv("NO_COLOR")
	return !noColor && term.IsTerminal(int(f.Fd()))
}
