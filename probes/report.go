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

// ExitCode is the process exit code for a finished report.
func (r *Report) ExitCode(strict bool) int {
	if r.Summary.Fail > 0 || (strict && r.Summary.Warn > 0) {
		return ExitFailed
	}
	return ExitOK
}
