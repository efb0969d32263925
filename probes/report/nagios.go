package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Nagios plugin exit codes.
const (
	NagiosOK       = 0
	NagiosWarning  = 1
	NagiosCritical = 2
	NagiosUnknown  = 3
)

// NagiosCode is the plugin's exit code, over the host's checks and its nodes': CRITICAL
// when a check failed, WARNING when one warned, UNKNOWN when some could not tell (or a
// node could not be checked) and none failed or warned, OK otherwise.
func NagiosCode(rep *probes.Report) int {
	return nagiosCode(countOf(everyResult(rep)))
}

func nagiosCode(s probes.Summary) int {
	switch {
	case s.Fail > 0:
		return NagiosCritical
	case s.Warn > 0:
		return NagiosWarning
	case s.Unknown > 0:
		return NagiosUnknown
	}
	return NagiosOK
}

func countOf(rs []nodeResult) probes.Summary {
	plain := make([]probes.Result, len(rs))
	for i, r := range rs {
		plain[i] = r.Result
	}
	return probes.Summarize(plain)
}

var nagiosState = [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}

// Nagios writes the plugin output (Nagios plugin guidelines): a status line with
// performance data after "|", then one line per check that is not a plain pass, the
// nodes' (containers' Tomcats) named "[NODE] CHECK". Performance data: the count per
// status over the host and its nodes, and each of the host's checks' duration in
// milliseconds.
func Nagios(w io.Writer, rep *probes.Report) error {
	all := everyResult(rep)
	s := countOf(all)
	code := nagiosCode(s)
	var bad []string
	for _, r := range all {
		if r.Status == probes.Fail || r.Status == probes.Warn || r.Status == probes.Unknown {
			bad = append(bad, r.name())
		}
	}
	msg := fmt.Sprintf("%d checks passed", s.Pass)
	if len(bad) > 0 {
		msg = fmt.Sprintf("%d failed, %d warned, %d unknown: %s", s.Fail, s.Warn, s.Unknown, strings.Join(bad, ", "))
	}
	perf := []string{
		fmt.Sprintf("pass=%d;;;0;%d", s.Pass, len(all)),
		fmt.Sprintf("warn=%d;;1;0;%d", s.Warn, len(all)),
		fmt.Sprintf("fail=%d;;1;0;%d", s.Fail, len(all)),
		fmt.Sprintf("skip=%d;;;0;%d", s.Skip, len(all)),
		fmt.Sprintf("unknown=%d;;;0;%d", s.Unknown, len(all)),
		fmt.Sprintf("duration=%dms;;;0", rep.DurationMs),
	}
	for _, r := range rep.Checks {
		perf = append(perf, fmt.Sprintf("'%s'=%.1fms;;;0", r.ID, float64(r.Duration.Microseconds())/1000))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CLUSTERDOCTOR %s - %s on %s | %s\n", nagiosState[code], msg, rep.Host, strings.Join(perf, " "))
	for _, r := range all {
		if r.Status == probes.Pass || r.Status == probes.Skip {
			continue
		}
		fmt.Fprintf(&b, "[%s] %s: %s", strings.ToUpper(string(r.Status)), r.name(), oneLine(strings.ReplaceAll(r.Summary, "|", "/")))
		if r.Remediation != "" {
			fmt.Fprintf(&b, " (fix: %s)", oneLine(strings.ReplaceAll(r.Remediation, "|", "/")))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
