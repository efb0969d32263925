package probes

import "time"

// SchemaVersion is the version of the JSON report. Fields are added, never renamed.
const SchemaVersion = 1

// Report is the outcome of one preflight run, rendered by package report.
type Report struct {
	SchemaVersion int       `json:"schemaVersion"`
	Tool          string    `json:"tool"`
	Version       string    `json:"version"`
	Host          string    `json:"host"`
	StartedAt     time.Time `json:"startedAt"`
	DurationMs    int64     `json:"durationMs"`
	// Settings are the effective settings after defaults, config file and flags.
	Settings Settings `json:"settings"`
	Summary  Summary  `json:"summary"`
	// Checks are sorted by ID.
	Checks []Result `json:"checks"`
	// Nodes are the Tomcats in other network namespaces of this host (containers), each
	// checked in its own namespace as a host of its own. The exit code counts them.
	Nodes []NodeReport `json:"nodes,omitempty"`
}

// Summary counts results per status.
type Summary struct {
	Pass    int `json:"pass"`
	Warn    int `json:"warn"`
	Fail    int `json:"fail"`
	Skip    int `json:"skip"`
	Unknown int `json:"unknown"`
}

// Summarize counts results per status.
func Summarize(rs []Result) Summary {
	var s Summary
	for _, r := range rs {
		switch r.Status {
		case Pass:
			s.Pass++
		case Warn:
			s.Warn++
		case Fail:
			s.Fail++
		case Skip:
			s.Skip++
		default:
			s.Unknown++
		}
	}
	return s
}

// Exit codes, stable API for scripts.
const (
	ExitOK         = 0 // no check failed
	ExitFailed     = 1 // at least one check failed (or warned, with --strict)
	ExitUsage      = 2 // usage or input error; nothing ran
	ExitIncomplete = 3 // the run itself could not complete
)

// ExitCode is the process exit code for a finished report: the worst of this host's
// and its nodes'. A node whose run could not complete makes the run incomplete.
func (r *Report) ExitCode(strict bool) int {
	code := ExitOK
	if r.Summary.Fail > 0 || (strict && r.Summary.Warn > 0) {
		code = ExitFailed
	}
	for _, n := range r.Nodes {
		switch {
		case n.Report == nil:
			code = ExitIncomplete
		case code != ExitIncomplete:
			code = max(code, n.Report.ExitCode(strict))
		}
	}
	return code
}
