// Command clusterdoctor finds, explains and fixes the host-side network problems that
// break Tomcat session replication. This package only parses flags, builds settings,
// runs and renders; the logic lives in probes/, fixes/ and netcfg/.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/report"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return probes.ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(os.Stderr, "clusterdoctor: %v\n", ee.err)
		}
		return ee.code
	}
	// cobra's own errors: unknown command or flag, bad flag value
	fmt.Fprintf(os.Stderr, "clusterdoctor: %v (see clusterdoctor --help)\n", err)
	return probes.ExitUsage
}

// usage wraps bad input: exit 2, nothing ran.
func usage(err error) error { return &exitError{code: probes.ExitUsage, err: err} }

// incomplete wraps a failure of the run itself: exit 3.
func incomplete(err error) error { return &exitError{code: probes.ExitIncomplete, err: err} }

// writeReport writes a command's report as -o asks (json, else text, coloured on a
// terminal) and makes a report with problems exit 1.
func writeReport(output string, asJSON func(io.Writer) error, asText func(io.Writer, report.Options) error, ok bool) error {
	var err error
	if output == "json" {
		err = writeWhole(asJSON, 0)
	} else {
		opt := report.Options{Color: colorWanted(os.Stdout), Width: textWidth(os.Stdout)}
		err = writeWhole(func(w io.Writer) error { return asText(w, opt) }, opt.Width)
	}
	if err != nil {
		return err
	}
	if !ok {
		return &exitError{code: probes.ExitFailed}
	}
	return nil
}

// writeWhole renders a report and writes it to stdout only once it is whole (a report cut
// short by an error would look complete), fitted to width columns where width is not 0
// (text). An error is the run's own: exit 3.
func writeWhole(render func(io.Writer) error, width int) error {
	var out bytes.Buffer
	if err := render(&out); err != nil {
		return incomplete(fmt.Errorf("write report: %w", err))
	}
	text := out.String()
	if width > 0 {
		text = report.Wrap(text, width)
	}
	if _, err := io.WriteString(os.Stdout, text); err != nil {
		return incomplete(fmt.Errorf("write report: %w", err))
	}
	return nil
}
