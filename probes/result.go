package probes

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Status is the outcome of one check. The string values are part of the JSON API.
type Status string

const (
	// Pass means the check ran and found nothing wrong.
	Pass Status = "pass"
	// Warn means it works now but is fragile or suspicious.
	Warn Status = "warn"
	// Fail means clustering will break.
	Fail Status = "fail"
	// Skip means the check did not apply or a check it depends on failed.
	Skip Status = "skip"
	// Unknown means the check could not tell (no permission, no daemon, timeout). Never a failure.
	Unknown Status = "unknown"
)

// Statuses lists every status in report order.
var Statuses = []Status{Pass, Warn, Fail, Skip, Unknown}

// Result is what one probe found. Probes fill ID, Status, Summary and, where a problem is
// found, Remediation; the runner fills Duration.
type Result struct {
	ID          string         `json:"id"`
	Status      Status         `json:"status"`
	Summary     string         `json:"summary"`
	Detail      string         `json:"detail,omitempty"`
	Remediation string         `json:"remediation,omitempty"`
	Evidence    map[string]any `json:"evidence,omitempty"`
	// ExplainedBy is the check of the same host whose failure this one follows from
	// (tomcat.members failing because hosts.hostname does): fix that one first.
	ExplainedBy string        `json:"explainedBy,omitempty"`
	Duration    time.Duration `json:"-"`
}

// MarshalJSON adds durationMs, the wire form of Duration (whole milliseconds).
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	return json.Marshal(struct {
		plain
		DurationMs int64 `json:"durationMs"`
	}{plain(r), r.Duration.Milliseconds()})
}

// newResult keeps the constructors below to one line each.
func newResult(id string, s Status, summary string) Result {
	return Result{ID: id, Status: s, Summary: summary}
}

// PassResult returns a pass Result.
func PassResult(id, summary string) Result { return newResult(id, Pass, summary) }

// WarnResult returns a warn Result.
func WarnResult(id, summary string) Result { return newResult(id, Warn, summary) }

// FailResult returns a fail Result.
func FailResult(id, summary string) Result { return newResult(id, Fail, summary) }

// SkipResult returns a skip Result.
func SkipResult(id, summary string) Result { return newResult(id, Skip, summary) }

// UnknownResult returns an unknown Result.
func UnknownResult(id, summary string) Result { return newResult(id, Unknown, summary) }

// With returns r with detail, remediation and evidence set.
func (r Result) With(detail, remediation string, evidence map[string]any) Result {
	r.Detail, r.Remediation, r.Evidence = detail, remediation, evidence
	return r
}

// Merge folds the results of one check over several subjects (Tomcat instances, web
// servers) into one: the worst status and its summary lead, every subject's summary
// follows in the detail, their fixes once each, and evidence[key] holds each result's
// status, summary and evidence. One result is returned as it is.
func Merge(id, key string, rs []Result) Result {
	if len(rs) == 1 {
		rs[0].ID = id
		return rs[0]
	}
	rank := map[Status]int{Fail: 4, Unknown: 3, Warn: 2, Pass: 1, Skip: 0}
	worst := rs[0]
	var details, fixes []string
	var per []any
	for _, r := range rs {
		if rank[r.Status] > rank[worst.Status] {
			worst = r
		}
		details = append(details, r.Summary)
		if r.Remediation != "" && !slices.Contains(fixes, r.Remediation) {
			fixes = append(fixes, r.Remediation)
		}
		per = append(per, map[string]any{"status": r.Status, "summary": r.Summary, "evidence": r.Evidence})
	}
	return Result{ID: id, Status: worst.Status, Summary: worst.Summary,
		Detail: strings.Join(details, "; "), Remediation: strings.Join(fixes, "; "), Evidence: map[string]any{key: per}}
}
