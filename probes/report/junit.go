package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// JUnit XML as CI servers read it (Jenkins, GitLab): one test case per check. fail is a
// <failure>; skip and unknown are <skipped> (unknown is never a failure); warn passes
// with the warning in <system-out>, where the CI shows it.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Hostname  string      `xml:"hostname,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Class     string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure"`
	Error     *junitMessage `xml:"error"`
	Skipped   *junitMessage `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// JUnit writes the report as JUnit XML: a test suite for the host, and one for each node
// (a container's Tomcat, checked in its namespaces); a node that could not be checked is
// a suite with one <error>.
func JUnit(w io.Writer, rep *probes.Report) error {
	suites := []junitSuite{junitSuiteOf("clusterdoctor preflight", rep)}
	for _, n := range rep.Nodes {
		name := "clusterdoctor preflight: " + n.Name
		if n.Report == nil {
			suites = append(suites, junitSuite{Name: name, Tests: 1, Errors: 1, Time: seconds(0), Timestamp: rep.StartedAt.UTC().Format("2006-01-02T15:04:05"),
				Hostname: rep.Host, Cases: []junitCase{{Class: "clusterdoctor.node", Name: "preflight", Time: seconds(0),
					Error: &junitMessage{Message: n.Error, Type: fmt.Sprintf("exit %d", n.ExitCode)}}}})
			continue
		}
		suites = append(suites, junitSuiteOf(name, n.Report))
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: suites}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitSuiteOf is one report's checks as a test suite.
func junitSuiteOf(name string, rep *probes.Report) junitSuite {
	s := junitSuite{Name: name, Tests: len(rep.Checks), Failures: rep.Summary.Fail,
		Skipped: rep.Summary.Skip + rep.Summary.Unknown, Time: seconds(float64(rep.DurationMs) / 1000),
		Timestamp: rep.StartedAt.UTC().Format("2006-01-02T15:04:05"), Hostname: rep.Host}
	for _, r := range rep.Checks {
		area, _, _ := strings.Cut(r.ID, ".")
		c := junitCase{Class: "clusterdoctor." + area, Name: r.ID, Time: seconds(r.Duration.Seconds())}
		body := strings.TrimSpace(strings.Join(nonEmpty(r.Detail, remedy(r.Remediation)), "\n"))
		switch r.Status {
		case probes.Fail:
			c.Failure = &junitMessage{Message: r.Summary, Type: "fail", Text: body}
		case probes.Skip, probes.Unknown:
			c.Skipped = &junitMessage{Message: string(r.Status) + ": " + r.Summary}
		case probes.Warn:
			c.SystemOut = strings.TrimSpace("WARN: " + r.Summary + "\n" + body)
		}
		s.Cases = append(s.Cases, c)
	}
	return s
}

func seconds(s float64) string { return fmt.Sprintf("%.3f", s) }

func remedy(r string) string {
	if r == "" {
		return ""
	}
	return "fix: " + r
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
