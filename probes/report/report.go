// Package report renders a probes.Report: each format writes to an io.Writer and knows
// nothing about how the checks ran.
package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Formats lists the -o values this build renders.
var Formats = []string{"text", "json", "junit", "tap", "nagios", "prometheus"}

// Options are presentation choices.
type Options struct {
	// Color adds ANSI colours (the caller decides: a TTY and no NO_COLOR).
	Color bool
	// Verbose shows passing checks' details and evidence.
	Verbose bool
	// Width is the terminal's: a summary line is made to fit it (Wrap fits the rest);
	// 0 for no limit.
	Width int
}

// Render writes rep in format.
func Render(w io.Writer, format string, rep *probes.Report, opt Options) error {
	switch format {
	case "text":
		return Text(w, rep, opt)
	case "json":
		return JSON(w, rep)
	case "junit":
		return JUnit(w, rep)
	case "tap":
		return TAP(w, rep)
	case "nagios":
		return Nagios(w, rep)
	case "prometheus":
		return Prometheus(w, rep)
	}
	return fmt.Errorf("unknown output format %q (want one of %v)", format, Formats)
}

// indentedJSON writes v as one JSON document indented by two spaces, as every
// command's -o json does.
func indentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// JSON writes the report as one indented JSON document (schemaVersion 1).
func JSON(w io.Writer, rep *probes.Report) error { return indentedJSON(w, rep) }
