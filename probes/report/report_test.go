package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sample() *probes.Report {
	checks := []probes.Result{
		{ID: "link.cluster", Status: probes.Pass, Summary: "cl0 is up with 10.99.0.1/24 (--iface)", Duration: 1200 * time.Microsecond,
			Evidence: map[string]any{"iface": "cl0", "mtu": 1500}},
		{ID: "route.multicast", Status: probes.Fail, Summary: "228.0.0.4 would leave via pub0 (default route), not the cluster interface cl0",
			Detail: "no route covers 224.0.0.0/4; the kernel falls back to the default route", Remediation: "ip route replace 224.0.0.0/4 dev cl0",
			Evidence: map[string]any{"group": "228.0.0.4", "egress": "pub0", "want": "cl0"}, Duration: time.Millisecond},
		{ID: "hosts.peers", Status: probes.Skip, Summary: "no --peer given"},
		{ID: "ntp.sync", Status: probes.Unknown, Summary: "no time source could be asked"},
		{ID: "sysctl.rp_filter", Status: probes.Warn, Summary: "strict reverse-path filtering", Remediation: "sysctl -w net.ipv4.conf.all.rp_filter=2"},
	}
	sort.Slice(checks, func(i, j int) bool { return checks[i].ID < checks[j].ID })
	s := probes.Defaults()
	s.Iface, s.IfaceSource = "cl0", "--iface"
	return &probes.Report{SchemaVersion: 1, Tool: "clusterdoctor", Version: "1.0.0", Host: "was1",
		StartedAt: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), DurationMs: 12, Settings: s,
		Summary: probes.Summarize(checks), Checks: checks}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := "testdata/" + name
	if *update {
		os.WriteFile(path, got, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestTextGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		opt  Options
	}{{"text.golden", Options{}}, {"text-verbose.golden", Options{Verbose: true}}, {"text-color.golden", Options{Color: true}}} {
		var b bytes.Buffer
		if err := Text(&b, sample(), c.opt); err != nil {
			t.Fatal(err)
		}
		golden(t, c.name, b.Bytes())
	}
}

func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, sample()); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json", b.Bytes())
}

// TestJSONShape pins the API: the top-level keys and a check's keys of the design.
func TestJSONShape(t *testing.T) {
	var b bytes.Buffer
	JSON(&b, sample())
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	wantTop := []string{"checks", "durationMs", "host", "schemaVersion", "settings", "startedAt", "summary", "tool", "version"}
	if got := keys(doc); !reflect.DeepEqual(got, wantTop) {
		t.Errorf("top-level keys %v; want %v", got, wantTop)
	}
	if got := keys(doc["summary"].(map[string]any)); !reflect.DeepEqual(got, []string{"fail", "pass", "skip", "unknown", "warn"}) {
		t.Errorf("summary keys %v", got)
	}
	checks := doc["checks"].([]any)
	route := checks[3].(map[string]any) // sorted by id
	wantCheck := []string{"detail", "durationMs", "evidence", "id", "remediation", "status", "summary"}
	if got := keys(route); !reflect.DeepEqual(got, wantCheck) {
		t.Errorf("check keys %v; want %v", got, wantCheck)
	}
	if route["durationMs"] != float64(1) || route["status"] != "fail" {
		t.Errorf("route check %v", route)
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	if err := Render(&bytes.Buffer{}, "yaml", sample(), Options{}); err == nil {
		t.Fatal("Render(yaml) succeeded")
	}
}

func TestTextCollapsesAnAreaThatDoesNotApply(t *testing.T) {
	rep := sample()
	for _, id := range []string{"tomcat.ajp", "tomcat.classes", "tomcat.cluster"} {
		rep.Checks = append(rep.Checks, probes.SkipResult(id, "no Tomcat instance found on this host"))
	}
	var b bytes.Buffer
	Text(&b, rep, Options{})
	if !strings.Contains(b.String(), "tomcat.*") || !strings.Contains(b.String(), "no Tomcat instance found on this host (3 checks)") || strings.Contains(b.String(), "tomcat.ajp") {
		t.Errorf("three skips of one area are not one line:\n%s", b.String())
	}
	b.Reset()
	Text(&b, rep, Options{Verbose: true})
	if !strings.Contains(b.String(), "tomcat.ajp") {
		t.Errorf("-v lists every check:\n%s", b.String())
	}
	rep.Settings.Instances = []probes.TomcatInstance{{Base: "/var/lib/tomcat10", Version: "10.1.60", Found: "running (pid 42)"}}
	rep.Settings.Sources = map[string]string{"group": "conf/server.xml:31", "mcastPort": "flag"}
	b.Reset()
	Text(&b, rep, Options{})
	if !strings.Contains(b.String(), "Tomcat 10.1.60 at /var/lib/tomcat10 (running (pid 42)): group from its server.xml") {
		t.Errorf("no line on the Tomcat the settings came from:\n%s", b.String())
	}
}

// TestNodesInTheTextReport: each node's checks follow the host's under the node's name,
// a node that could not be checked says why, and the exit code is the worst of all.
func TestNodesInTheTextReport(t *testing.T) {
	rep := sample()
	rep.Checks = rep.Checks[:1] // link.cluster passes: the host alone exits 0
	rep.Summary = probes.Summarize(rep.Checks)
	if code := rep.ExitCode(false); code != probes.ExitOK {
		t.Fatalf("host alone: exit %d; want 0", code)
	}
	node := sample()
	node.Host = "tcnode1"
	rep.Nodes = []probes.NodeReport{{Node: probes.NodeIdentity{PID: 4242, Engine: "podman", Name: "tc1"}, Name: "podman container tc1", ExitCode: 1, Report: node}}
	var b bytes.Buffer
	if err := Text(&b, rep, Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	head := strings.Index(out, "== podman container tc1 (pid 4242) ==")
	if head < 0 || !strings.Contains(out[head:], "FAIL     route.multicast") || strings.Contains(out[:head], "route.multicast") ||
		!strings.Contains(out[head:], "(host tcnode1,") {
		t.Errorf("text report with a node:\n%s", out)
	}
	if code := rep.ExitCode(false); code != probes.ExitFailed {
		t.Errorf("a node with a failed check: exit %d; want 1", code)
	}
	rep.Nodes = append(rep.Nodes, probes.NodeReport{Node: probes.NodeIdentity{PID: 4243}, Name: "pid 4243 in net:[9]", ExitCode: 3, Error: "not finished before the deadline (--timeout)"})
	b.Reset()
	Text(&b, rep, Options{})
	if !strings.Contains(b.String(), "== pid 4243 in net:[9] ==\nUNKNOWN  could not be checked: not finished before the deadline") {
		t.Errorf("a node without a report:\n%s", b.String())
	}
	if code := rep.ExitCode(false); code != probes.ExitIncomplete {
		t.Errorf("a node that could not be checked: exit %d; want 3", code)
	}
}

// TestTextShowsAFailureUnderItsCause: a check explained by another of the host's is
// printed under that one, once, and not in its own place.
func TestTextShowsAFailureUnderItsCause(t *testing.T) {
	rep := &probes.Report{Host: "was2", Checks: []probes.Result{
		probes.FailResult("hosts.hostname", "host name was2 resolves to loopback 127.0.1.1"),
		probes.PassResult("link.cluster", "cl0 is up"),
		{ID: "tomcat.receiver", Status: probes.Fail, Summary: "the Receiver address auto is 127.0.1.1", ExplainedBy: "hosts.hostname"},
	}}
	rep.Summary = probes.Summarize(rep.Checks)
	var b bytes.Buffer
	Text(&b, rep, Options{})
	lines := strings.Split(b.String(), "\n")
	if !strings.HasPrefix(lines[0], "FAIL     hosts.hostname") || !strings.Contains(lines[1], "-> FAIL tomcat.receiver: the Receiver address auto is 127.0.1.1 (follows from hosts.hostname)") ||
		strings.Count(b.String(), "tomcat.receiver") != 1 {
		t.Errorf("tomcat.receiver is not under hosts.hostname:\n%s", b.String())
	}
}

// TestDetailLines: a detail that speaks of several ports is printed one port a line; any
// other stays as it is.
func TestDetailLines(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"45564/udp (membership): runtime: open; permanent: closed (zone public; target default); 4000-4099/tcp: runtime: open; 8009/tcp (AJP): open",
			"- 45564/udp (membership): runtime: open; permanent: closed (zone public; target default)|- 4000-4099/tcp: runtime: open|- 8009/tcp (AJP): open"},
		{"45564/udp: runtime: open; permanent: closed", "45564/udp: runtime: open; permanent: closed"},
		{"chronyd: not running; ntpd: not running; timedated: not found", "chronyd: not running; ntpd: not running; timedated: not found"},
		{"", ""},
	} {
		if got := strings.Join(detailLines(c.in), "|"); got != c.want {
			t.Errorf("detailLines(%q) =\n%q; want\n%q", c.in, got, c.want)
		}
	}
}

// TestFindingLines: the web tier's findings are printed one a line; other checks' details
// as they are.
func TestFindingLines(t *testing.T) {
	d := "upstream tomcats (nginx.conf:3) balances by round robin; upstream tomcats 10.99.0.2:8080: refused (nothing listens)"
	if got := strings.Join(detailLinesOf("web.upstreams", d), "|"); got != "- upstream tomcats (nginx.conf:3) balances by round robin|- upstream tomcats 10.99.0.2:8080: refused (nothing listens)" {
		t.Errorf("web.upstreams: %q", got)
	}
	if got := strings.Join(detailLinesOf("ntp.sync", d), "|"); got != d {
		t.Errorf("ntp.sync: %q", got)
	}
}
