package report

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

func render(t *testing.T, format string, rep *probes.Report) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, format, rep, Options{}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRenderersGolden(t *testing.T) {
	for format, file := range map[string]string{"junit": "junit.xml", "tap": "report.tap", "nagios": "nagios.txt", "prometheus": "metrics.prom"} {
		golden(t, file, render(t, format, sample()))
	}
}

// TestJUnitReadsBack: CI servers parse it: counts and one <failure> for the one fail.
func TestJUnitReadsBack(t *testing.T) {
	var doc junitSuites
	if err := xml.Unmarshal(render(t, "junit", sample()), &doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Suites[0]
	failures, skipped := 0, 0
	for _, c := range s.Cases {
		if c.Failure != nil {
			failures++
		}
		if c.Skipped != nil {
			skipped++
		}
	}
	if s.Tests != 5 || s.Failures != 1 || failures != 1 || s.Skipped != 2 || skipped != 2 {
		t.Errorf("suite %+v", s)
	}
}

func TestTAPPlan(t *testing.T) {
	out := string(render(t, "tap", sample()))
	lines := strings.Split(out, "\n")
	if lines[0] != "TAP version 13" || lines[1] != "1..5" || strings.Count(out, "\nnot ok ") != 1 || strings.Count(out, "# SKIP") != 2 {
		t.Errorf("TAP output:\n%s", out)
	}
}

// TestNagiosCodes: the plugin's exit code follows the worst status.
func TestNagiosCodes(t *testing.T) {
	for _, tc := range []struct {
		statuses []probes.Status
		code     int
		word     string
	}{
		{[]probes.Status{probes.Pass, probes.Skip}, NagiosOK, "OK"},
		{[]probes.Status{probes.Pass, probes.Warn, probes.Unknown}, NagiosWarning, "WARNING"},
		{[]probes.Status{probes.Warn, probes.Fail}, NagiosCritical, "CRITICAL"},
		{[]probes.Status{probes.Pass, probes.Unknown}, NagiosUnknown, "UNKNOWN"},
	} {
		var checks []probes.Result
		for i, s := range tc.statuses {
			checks = append(checks, probes.Result{ID: "c" + string(rune('a'+i)), Status: s, Summary: "x | y"})
		}
		rep := &probes.Report{Host: "h", Checks: checks, Summary: probes.Summarize(checks)}
		out := string(render(t, "nagios", rep))
		if NagiosCode(rep) != tc.code || !strings.HasPrefix(out, "CLUSTERDOCTOR "+tc.word+" - ") {
			t.Errorf("%v: code %d, output %q; want %d %s", tc.statuses, NagiosCode(rep), out, tc.code, tc.word)
		}
		if strings.Count(out, "|") != 1 {
			t.Errorf("a '|' outside the performance data: %q", out)
		}
	}
}

// TestPrometheusParses: the text exposition is read back by Prometheus' own parser and,
// where Debian's promtool is at hand, passes `promtool check metrics`.
func TestPrometheusParses(t *testing.T) {
	out := render(t, "prometheus", sample())
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	st := fams["clusterdoctor_check_status"]
	if st == nil || len(st.Metric) != 5*5 {
		t.Fatalf("clusterdoctor_check_status: %v", st)
	}
	ones := 0
	for _, m := range st.Metric {
		if m.GetGauge().GetValue() == 1 {
			ones++
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["check"] == "route.multicast" && labels["status"] != "fail" {
				t.Errorf("route.multicast is %s", labels["status"])
			}
		}
	}
	if ones != 5 {
		t.Errorf("%d series at 1; want one per check", ones)
	}
	if fams["clusterdoctor_last_run_timestamp_seconds"].Metric[0].GetGauge().GetValue() != float64(sample().StartedAt.Unix()) {
		t.Error("last run timestamp")
	}
	promtoolCheck(t, out)
	promtoolCheck(t, render(t, "prometheus", withNodes()))
}

// promtoolCheck runs `promtool check metrics` on out where Debian's promtool is at hand.
func promtoolCheck(t *testing.T, out []byte) {
	t.Helper()
	promtool := "/opt/clusterdoctor-test/prometheus/usr/bin/promtool"
	if p, err := exec.LookPath("promtool"); err == nil {
		promtool = p
	}
	if _, err := os.Stat(promtool); err != nil {
		t.Logf("promtool not found (.ci/deps unpacks Debian's): skipping promtool check metrics")
		return
	}
	c := exec.Command(promtool, "check", "metrics")
	c.Stdin = bytes.NewReader(out)
	if res, err := c.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, res)
	}
}

// TestTextfileAtomic: the textfile is written whole, replacing the old one, with no
// temporary file left beside it.
func TestTextfileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "clusterdoctor.prom")
	os.WriteFile(path, []byte("old"), 0o644)
	if err := Textfile(path, sample()); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, render(t, "prometheus", sample())) {
		t.Errorf("textfile:\n%s", got)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files in the directory", len(ents))
	}
	if err := Textfile(filepath.Join(dir, "no", "such", "dir.prom"), sample()); err == nil || !strings.Contains(err.Error(), "dir.prom") {
		t.Errorf("missing directory: %v", err)
	}
}

// withNodes is a healthy host with two container nodes: one checked, whose
// container.network fails, and one that could not be checked.
func withNodes() *probes.Report {
	host := []probes.Result{{ID: "link.cluster", Status: probes.Pass, Summary: "cl0 is up"}}
	node := []probes.Result{{ID: "tomcat.cluster", Status: probes.Pass, Summary: "<Cluster> at engine level"},
		{ID: "container.network", Status: probes.Fail, Summary: "eth0 10.88.0.5/16: Tomcat advertises 10.88.0.5", Remediation: "--network host"}}
	return &probes.Report{Host: "dock", StartedAt: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC), Checks: host, Summary: probes.Summarize(host),
		Nodes: []probes.NodeReport{
			{Name: "podman container tc1", ExitCode: 1, Report: &probes.Report{Host: "tcnode1", Checks: node, Summary: probes.Summarize(node)}},
			{Name: "podman container tc2", ExitCode: 3, Error: "not finished before the deadline (--timeout)"},
		}}
}

// TestFormatsWithNodes: the nodes' checks are in every machine format, named by their node,
// and decide the verdict as the host's do; a node that could not be checked says so.
func TestFormatsWithNodes(t *testing.T) {
	rep := withNodes()
	var doc junitSuites
	if err := xml.Unmarshal(render(t, "junit", rep), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Suites) != 3 || doc.Suites[1].Name != "clusterdoctor preflight: podman container tc1" || doc.Suites[1].Failures != 1 ||
		doc.Suites[1].Hostname != "tcnode1" || doc.Suites[2].Errors != 1 || doc.Suites[2].Cases[0].Error == nil ||
		!strings.Contains(doc.Suites[2].Cases[0].Error.Message, "deadline") {
		t.Errorf("junit suites: %+v", doc.Suites)
	}

	tap := string(render(t, "tap", rep))
	for _, want := range []string{"1..4\n", "not ok 3 - [podman container tc1] container.network: eth0", "ok 4 - [podman container tc2] preflight: the node could not be checked: not finished"} {
		if !strings.Contains(tap, want) {
			t.Errorf("TAP lacks %q:\n%s", want, tap)
		}
	}

	nagios := string(render(t, "nagios", rep))
	if NagiosCode(rep) != NagiosCritical || !strings.HasPrefix(nagios, "CLUSTERDOCTOR CRITICAL - 1 failed, 0 warned, 1 unknown: [podman container tc1] container.network, [podman container tc2] preflight on dock") ||
		!strings.Contains(nagios, "\n[FAIL] [podman container tc1] container.network: eth0 10.88.0.5/16") {
		t.Errorf("nagios (code %d):\n%s", NagiosCode(rep), nagios)
	}
	rep.Nodes = rep.Nodes[1:]
	if NagiosCode(rep) != NagiosUnknown {
		t.Errorf("a healthy host with a node not checked: code %d; want UNKNOWN", NagiosCode(rep))
	}

	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(render(t, "prometheus", withNodes())))
	if err != nil {
		t.Fatal(err)
	}
	failing, checked := "", map[string]float64{}
	for _, m := range fams["clusterdoctor_node_check_status"].GetMetric() {
		l := labels(m)
		if m.GetGauge().GetValue() == 1 && l["status"] == "fail" {
			failing = l["node"] + " " + l["check"]
		}
	}
	for _, m := range fams["clusterdoctor_node_checked"].GetMetric() {
		checked[labels(m)["node"]] = m.GetGauge().GetValue()
	}
	if failing != "podman container tc1 container.network" || checked["podman container tc1"] != 1 || checked["podman container tc2"] != 0 ||
		len(fams["clusterdoctor_check_status"].GetMetric()) != 5 {
		t.Errorf("prometheus: failing %q, checked %v, host series %d", failing, checked, len(fams["clusterdoctor_check_status"].GetMetric()))
	}
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}
