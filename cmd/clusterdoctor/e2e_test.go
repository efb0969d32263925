package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"net"
	"os/user"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
	"github.com/clusterdoctor/clusterdoctor/probes/preflight"
)

// binary is the clusterdoctor built once for the end-to-end tests, run as a user would.
var binary string

// e2eVersion is the version the tests' clusterdoctor is built with.
const e2eVersion = "0.0.0-e2e"

func TestMain(m *testing.M) {
	if port := os.Getenv("CLUSTERDOCTOR_TEST_LISTEN"); port != "" {
		listenForever(port) // helper mode: a process that holds a TCP port (see holdPort)
		return
	}
	if target := os.Getenv("CLUSTERDOCTOR_TEST_JUNK"); target != "" {
		sendJunk(target) // helper mode: foreign and forged datagrams (see mcast tests)
		return
	}
	if spec := os.Getenv("CLUSTERDOCTOR_TEST_SKEWED_NODE"); spec != "" {
		skewedNode(spec) // helper mode: an mcast-test node whose clock is shifted (see compare tests)
		return
	}
	dir, err := os.MkdirTemp("", "clusterdoctor-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "clusterdoctor")
	// built as `make build` builds a release (stripped, with a version): what cluster
	// copies to hosts, and finds on them
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+e2eVersion, "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build clusterdoctor: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run is one invocation of the binary: its exit code, stdout and stderr.
type run struct {
	code           int
	stdout, stderr string
}

func execute(t testing.TB, cmd *exec.Cmd) run {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	code := 0
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", cmd.Args, err)
	}
	return run{code, out.String(), errb.String()}
}

// preflightJSON runs `clusterdoctor preflight -o json ARGS` on a lab host and decodes it.
func preflightJSON(t testing.TB, h *lab.Host, priv lab.Private, args ...string) (probes.Report, run) {
	t.Helper()
	r := execute(t, h.Command(priv, binary, append([]string{"preflight", "-o", "json"}, args...)...))
	var rep probes.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("preflight %v: exit %d, output is not JSON: %v\nstdout: %s\nstderr: %s", args, r.code, err, r.stdout, r.stderr)
	}
	return rep, r
}

// pollUntilPass reruns preflight until check id passes or the limit passes (a daemon
// that synchronises takes its time), and returns the last result.
func pollUntilPass(t *testing.T, h *lab.Host, priv lab.Private, id string, limit time.Duration) probes.Result {
	t.Helper()
	var got probes.Result
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		rep, _ := preflightJSON(t, h, priv, "--iface", "cl0")
		if got = check(t, rep, id); got.Status == probes.Pass {
			break
		}
	}
	return got
}

func check(t testing.TB, rep probes.Report, id string) probes.Result {
	t.Helper()
	for _, c := range rep.Checks {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("report has no check %s: %+v", id, rep.Checks)
	return probes.Result{}
}

func TestRouteMulticastInLab(t *testing.T) {
	l := lab.New(t)
	a := l.AddHost("a", 1)
	a.AddPublic()

	cases := []struct {
		name       string
		setup      func()
		wantStatus probes.Status
		wantText   []string
		wantEgress string
	}{
		{"route on cluster interface", a.AddMulticastRoute, probes.Pass, []string{"leaves via cl0", "224.0.0.0/4 dev cl0"}, "cl0"},
		{"only the default route on pub0", a.DelMulticastRoute, probes.Fail, []string{"via pub0 (default route)", "not the cluster interface cl0"}, "pub0"},
		{"no route at all", func() {
			pub, _ := a.NL().LinkByName("pub0")
			if err := a.NL().LinkDel(pub); err != nil {
				t.Fatal(err)
			}
		}, probes.Fail, []string{"no route for 228.0.0.4", "No such device"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.setup()
			rep, r := preflightJSON(t, a, lab.Private{}, "--iface", "cl0", "--skip", "ntp.sync")
			got := check(t, rep, "route.multicast")
			if got.Status != c.wantStatus {
				t.Fatalf("route.multicast = %s (%s); want %s", got.Status, got.Summary, c.wantStatus)
			}
			for _, w := range c.wantText {
				if !strings.Contains(got.Summary, w) {
					t.Errorf("summary %q does not say %q", got.Summary, w)
				}
			}
			if eg, _ := got.Evidence["egress"].(string); eg != c.wantEgress {
				t.Errorf("evidence egress = %q; want %q", eg, c.wantEgress)
			}
			wantCode := 0
			if rep.Summary.Fail > 0 {
				wantCode = 1
			}
			if r.code != wantCode {
				t.Errorf("exit code %d with %d failures; want %d", r.code, rep.Summary.Fail, wantCode)
			}
			if got.Status == probes.Fail && !strings.Contains(got.Remediation, "224.0.0.0/4 dev cl0") {
				t.Errorf("remediation %q does not give the route", got.Remediation)
			}
		})
	}
}

func TestHostnameInLab(t *testing.T) {
	l := lab.New(t)
	a := l.AddHost("a", 1)
	a.AddMulticastRoute()
	const name = "was1"
	hostsWith := func(line string) string {
		return "127.0.0.1\tlocalhost\n" + line + "\n10.99.0.2\twas2\n"
	}
	cases := []struct {
		name  string
		hosts string
		want  probes.Status
		says  string
	}{
		{"mapped to 127.0.0.1", hostsWith("127.0.0.1\twas1.cluster.lab was1"), probes.Fail, "loopback 127.0.0.1"},
		{"mapped to Debian's 127.0.1.1", hostsWith("127.0.1.1\twas1.cluster.lab was1"), probes.Fail, "loopback 127.0.1.1"},
		{"mapped to an address nobody here holds", hostsWith("10.99.0.77\twas1"), probes.Fail, "no local interface holds"},
		{"mapped to the cluster address", hostsWith("10.99.0.1\twas1.cluster.lab was1"), probes.Pass, "resolves to 10.99.0.1 on cl0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, _ := preflightJSON(t, a, lab.Private{Hosts: c.hosts, Hostname: name}, "--iface", "cl0", "--skip", "ntp.sync")
			got := check(t, rep, "hosts.hostname")
			if got.Status != c.want || !strings.Contains(got.Summary, c.says) {
				t.Fatalf("hosts.hostname = %s %q; want %s saying %q", got.Status, got.Summary, c.want, c.says)
			}
		})
	}
	// The real /etc/hosts was not touched by any of it.
	if b, err := os.ReadFile("/etc/hosts"); err == nil && strings.Contains(string(b), "was1.cluster.lab") {
		t.Fatal("the real /etc/hosts was modified")
	}
}

func TestNTPSyncInLab(t *testing.T) {
	lab.RequireCommands(t, "chronyd", "chronyc")
	if _, err := os.Stat("/etc/chrony/chrony.conf"); err != nil {
		t.Skip("skipped: /etc/chrony/chrony.conf is missing (install the chrony package)")
	}
	l := lab.New(t)
	a, b := l.AddHost("a", 1), l.AddHost("b", 2)
	b.StartChronyServer()

	t.Run("synchronised client", func(t *testing.T) {
		client := a.StartChronyClient(b.Addr.String())
		priv := lab.Private{Binds: map[string]string{"/etc/chrony/chrony.conf": client.Conf}}
		got := pollUntilPass(t, a, priv, "ntp.sync", 15*time.Second)
		if got.Status != probes.Pass || !strings.Contains(got.Summary, "synchronised by chronyd") {
			t.Fatalf("ntp.sync = %s %q; want pass by chronyd (chronyc says %q)", got.Status, got.Summary, client.Tracking())
		}
		// chronyc's own view of the same daemon: reference ID 0A630002 is 10.99.0.2.
		if ref := fmt.Sprint(got.Evidence["refid"]); !strings.Contains(client.Tracking(), ref) {
			t.Errorf("evidence refid %q does not match chronyc tracking %q", ref, client.Tracking())
		}
		t.Logf("ntp.sync: %s %v", got.Summary, got.Evidence)
	})
	t.Run("no reachable source", func(t *testing.T) {
		c := l.AddHost("c", 3)
		client := c.StartChronyClient("10.99.0.250") // nobody there
		priv := lab.Private{Binds: map[string]string{"/etc/chrony/chrony.conf": client.Conf}}
		time.Sleep(1500 * time.Millisecond) // several polls at 250 ms, all unanswered
		rep, r := preflightJSON(t, c, priv, "--iface", "cl0")
		got := check(t, rep, "ntp.sync")
		if got.Status != probes.Fail || !strings.Contains(got.Summary, "not synchronised") || !strings.Contains(got.Summary, "0 of 1 sources reachable") {
			t.Fatalf("ntp.sync = %s %q; want fail, not synchronised, 0 of 1 reachable (chronyc says %q)", got.Status, got.Summary, client.Tracking())
		}
		if r.code != 1 {
			t.Errorf("exit code %d; want 1", r.code)
		}
	})
}

// listenForever holds a TCP port until killed: the squatter in the receiver-range tests.
func listenForever(port string) {
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("listening")
	for {
		c, err := ln.Accept()
		if err != nil {
			os.Exit(0)
		}
		c.Close()
	}
}

// holdPort starts this test binary in helper mode inside the host, holding port. Extra
// args only end up in its command line, which is what ports.receiver reads.
func holdPort(t *testing.T, h *lab.Host, port int, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := h.Command(lab.Private{}, "env", append([]string{"CLUSTERDOCTOR_TEST_LISTEN=" + strconv.Itoa(port), self}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	buf := make([]byte, 16)
	if n, _ := out.Read(buf); !strings.HasPrefix(string(buf[:n]), "listening") {
		t.Fatalf("helper did not listen on %d", port)
	}
	return cmd
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		says string
	}{
		{[]string{"preflight", "--group", "10.0.0.1"}, `--group "10.0.0.1": not an IPv4 multicast address`},
		{[]string{"preflight", "--group", "x"}, `--group "x": not an IP address`},
		{[]string{"preflight", "--mcast-port", "70000"}, `--mcast-port "70000": port must be between 1 and 65535`},
		{[]string{"preflight", "--mcast-port", "abc"}, `--mcast-port "abc": not a valid value`},
		{[]string{"preflight", "--receiver-ports", "4100-4000"}, `--receiver-ports "4100-4000"`},
		{[]string{"preflight", "--iface", "no-such-if0"}, `--iface "no-such-if0": no such interface`},
		{[]string{"preflight", "--iface", "../../etc/passwd"}, `--iface "../../etc/passwd": interface names`},
		{[]string{"preflight", "--iface", "../eth0"}, `--iface "../eth0": interface names cannot contain`},
		{[]string{"preflight", "--iface", "abcdefghijklmnopqrst"}, `--iface "abcdefghijklmnopqrst": interface names are at most 15 characters`},
		{[]string{"preflight", "--skip", "route.multicas"}, `--skip "route.multicas": unknown check id`},
		{[]string{"preflight", "-o", "xml"}, `--output "xml": unknown format`},
		{[]string{"preflight", "--config", "/nonexistent/cd.yaml"}, "--config: open /nonexistent/cd.yaml"},
		{[]string{"preflight", "--root", "/nonexistent"}, `--root "/nonexistent": not a directory`},
		{[]string{"preflight", "--route", "tomcat1"}, `--route "tomcat1": want JVMROUTE=HOST`},
		{[]string{"members", "--duration", "1ms"}, `--duration "1ms": want 100ms to 10m`},
		{[]string{"members", "-o", "yaml"}, `--output "yaml": want text or json`},
		{[]string{"preflight", "--tomcat", "/nonexistent"}, `--tomcat "/nonexistent": no such directory`},
		{[]string{"preflight", "--tomcat", "/etc"}, `--tomcat "/etc": not a CATALINA_BASE: no conf/server.xml in it`},
		{[]string{"preflight", "--tomcat-home", "/usr"}, `--tomcat-home "/usr": goes with --tomcat`},
		{[]string{"mcast-test", "--peer", "x", "--tomcat", "/nonexistent"}, `--tomcat "/nonexistent": no such directory`},
		{[]string{"preflight", "extra"}, "unknown command"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"mcast-test"}, "--peer: name at least one other cluster host"},
		{[]string{"mcast-test", "--listen", "--send"}, "give --listen or --send, not both"},
		{[]string{"mcast-test", "--peer", "x", "--rate", "100"}, "--rate: goes with --send"},
		{[]string{"mcast-test", "--send", "--ttl", "300"}, `--ttl "300": must be between 1 and 255`},
		{[]string{"mcast-test", "--send", "--size", "100000"}, `--size "100000"`},
		{[]string{"cluster", "-o", "yaml"}, `--output "yaml": want text, json or html`},
		{[]string{"cluster", "was1", "--ssh-option", "-oProxyCommand=x"}, `--ssh-option "-oProxyCommand=x": want KEY=VALUE`},
		{[]string{"cluster", "-i", "/nonexistent/inventory"}, `--inventory "/nonexistent/inventory": no such file or directory`},
		{[]string{"cluster", "was1", "--url", "ftp://x/"}, `--url "ftp://x/"`},
		{[]string{"cluster", "--", "-oProxyCommand=x"}, `"-oProxyCommand=x" is not a host name or address`},
		{[]string{"cluster", "--config", "/dev/null"}, `HOST: name the cluster's hosts`},
		{[]string{"cluster", "was1", "--skip", "nosuch.check"}, `--skip "nosuch.check": unknown check id`},
		{[]string{"cluster", "was1", "--fix"}, `--fix: asks before it changes anything, and there is no terminal to ask on: add --yes`},
		{[]string{"cluster", "was1", "--yes"}, `--yes: goes with --fix`},
		{[]string{"explain", "route.multicas"}, `CHECK-ID "route.multicas": unknown check id (want one of link.cluster, `},
		{[]string{"explain"}, `accepts 1 arg(s), received 0`},
		{[]string{"preflight", "--httpd-conf", "/nonexistent/httpd.conf"}, `--httpd-conf "/nonexistent/httpd.conf": no such file or directory`},
		{[]string{"session-test", "--nginx-conf", "/nonexistent/nginx.conf"}, `--nginx-conf "/nonexistent/nginx.conf": no such file or directory`},
	}
	image := t.TempDir() // an image under --root whose interface this kernel lacks
	tests = append(tests, struct {
		args []string
		says string
	}{[]string{"fix", "route", "--iface", "img0", "--persist", "--dry-run", "--root", image}, `--iface "img0": the running kernel has no such interface, and a fix changes the running kernel`},
		struct {
			args []string
			says string
		}{[]string{"session-test", "--root", image}, `--url: not given, and this host's web server serves no one page to test: no balancer members`})
	for _, tt := range tests {
		r := execute(t, exec.Command(binary, tt.args...))
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != 2 || len(lines) != 1 || !strings.Contains(lines[0], tt.says) || r.stdout != "" {
			t.Errorf("clusterdoctor %v: exit %d, stderr %q, stdout %q; want exit 2 and one line saying %q", tt.args, r.code, r.stderr, r.stdout, tt.says)
		}
		if strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stderr, "panic") {
			t.Errorf("clusterdoctor %v crashed: %s", tt.args, r.stderr)
		}
	}
}

// TestExplain: explain prints the check's section of docs/checks.md, fitted to $COLUMNS.
func TestExplain(t *testing.T) {
	cmd := exec.Command(binary, "explain", "firewall.ports")
	cmd.Env = append(os.Environ(), "COLUMNS=72")
	r := execute(t, cmd)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "firewall.ports\n\nThe firewall lets in 45564/udp") || !strings.Contains(r.stdout, "- **firewalld running**") {
		t.Errorf("explain firewall.ports: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, l := range strings.Split(r.stdout, "\n") {
		if len([]rune(l)) > 72 {
			t.Errorf("explain at 72 columns: a line of %d: %q", len([]rune(l)), l)
		}
	}
}

func TestConfigFileAndFlagsWin(t *testing.T) {
	l := lab.New(t)
	a := l.AddHost("a", 1)
	a.AddMulticastRoute()
	conf := l.WriteFile("cd.yaml", "iface: cl0\ngroup: 228.0.0.9\nreceiverPorts: 4000-4010\n")
	rep, _ := preflightJSON(t, a, lab.Private{}, "--config", conf, "--group", "228.0.0.4", "--skip", "ntp.sync")
	s := rep.Settings
	if s.Iface != "cl0" || s.Group.String() != "228.0.0.4" || s.ReceiverPorts.String() != "4000-4010" {
		t.Fatalf("settings %+v; want iface and range from the file, group from the flag", s)
	}
	bad := l.WriteFile("bad.yaml", "ifcae: cl0\n")
	r := execute(t, a.Command(lab.Private{}, binary, "preflight", "--config", bad))
	if r.code != 2 || !strings.Contains(r.stderr, "ifcae") {
		t.Errorf("typo in config: exit %d %q; want 2 naming the key", r.code, r.stderr)
	}
}

func TestReceiverPortsInLab(t *testing.T) {
	l := lab.New(t)
	a := l.AddHost("a", 1)
	a.AddMulticastRoute()
	args := []string{"--iface", "cl0", "--skip", "ntp.sync"}

	rep, _ := preflightJSON(t, a, lab.Private{}, args...)
	if got := check(t, rep, "ports.receiver"); got.Status != probes.Pass || !strings.Contains(got.Summary, "is free") {
		t.Fatalf("empty namespace: ports.receiver = %s %q; want pass, free", got.Status, got.Summary)
	}

	squatter := holdPort(t, a, 4001)
	rep, _ = preflightJSON(t, a, lab.Private{}, args...)
	got := check(t, rep, "ports.receiver")
	want := fmt.Sprintf("4001 by %s (pid %d)", "e2e.test", squatter.Process.Pid)
	if got.Status != probes.Warn || !strings.Contains(got.Summary, fmt.Sprintf("(pid %d)", squatter.Process.Pid)) {
		t.Fatalf("ports.receiver = %s %q; want warn like %q", got.Status, got.Summary, want)
	}

	// A JVM started by catalina.sh carries this class on its command line.
	tomcat := holdPort(t, a, 4000, "-Dcatalina.base=/opt/tomcat", "org.apache.catalina.startup.Bootstrap", "start")
	rep, _ = preflightJSON(t, a, lab.Private{}, append(args, "--receiver-ports", "4000")...)
	got = check(t, rep, "ports.receiver")
	if got.Status != probes.Pass || !strings.Contains(got.Summary, fmt.Sprintf("only Tomcat listens (4000 (pid %d))", tomcat.Process.Pid)) {
		t.Fatalf("ports.receiver = %s %q; want pass naming Tomcat's pid", got.Status, got.Summary)
	}
}

// TestNonRoot runs preflight as nobody: checks that need root say unknown with the
// reason, and nothing crashes.
func TestNonRoot(t *testing.T) {
	lab.RequireCommands(t, "setpriv")
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("skipped: no user nobody")
	}
	l := lab.New(t)
	a := l.AddHost("a", 1)
	a.AddMulticastRoute()
	holdPort(t, a, 4002) // root's process: nobody cannot see who holds it
	os.Chmod(filepath.Dir(binary), 0o755)
	r := execute(t, a.Command(lab.Private{}, "setpriv", "--reuid="+nobody.Uid, "--regid="+nobody.Gid, "--clear-groups",
		binary, "preflight", "-o", "json", "--iface", "cl0"))
	var rep probes.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("non-root run: exit %d, not JSON (%v): %s %s", r.code, err, r.stdout, r.stderr)
	}
	if r.code > 1 || r.stderr != "" {
		t.Errorf("non-root run: exit %d, stderr %q", r.code, r.stderr)
	}
	if len(rep.Checks) != len(preflight.IDs()) {
		t.Errorf("non-root run reported %d checks; want all %d", len(rep.Checks), len(preflight.IDs()))
	}
	got := check(t, rep, "ports.receiver")
	if got.Status != probes.Unknown || !strings.Contains(got.Summary, "only root can see") {
		t.Errorf("ports.receiver as nobody = %s %q; want unknown, only root can see", got.Status, got.Summary)
	}
	if rt := check(t, rep, "route.multicast"); rt.Status != probes.Pass {
		t.Errorf("route.multicast as nobody = %s %q; netlink reads need no root", rt.Status, rt.Summary)
	}
}

func TestLinkAndRPFilterInLab(t *testing.T) {
	l := lab.New(t)
	a := l.AddHost("a", 1)
	a.AddPublic() // two IPv4 interfaces: multihomed
	a.AddMulticastRoute()
	args := []string{"--iface", "cl0", "--skip", "ntp.sync"}

	// rp_filter is per network namespace: this changes the lab host only.
	sysctl := func(v string) {
		for _, key := range []string{"net.ipv4.conf.all.rp_filter", "net.ipv4.conf.cl0.rp_filter"} {
			if out, err := a.Command(lab.Private{}, "sysctl", "-qw", key+"="+v).CombinedOutput(); err != nil {
				t.Fatalf("sysctl %s=%s: %v %s", key, v, err, out)
			}
		}
	}
	sysctl("1")
	rep, _ := preflightJSON(t, a, lab.Private{}, args...)
	// Without peers every source in cl0's own subnet passes the strict filter: no finding
	// (rpfilter_e2e_test.go covers the peer whose route back leaves by another NIC).
	if got := check(t, rep, "sysctl.rp_filter"); got.Status != probes.Pass || !strings.Contains(got.Summary, "strict") {
		t.Errorf("rp_filter=1 on a multihomed host without peers: %s %q; want pass naming strict filtering", got.Status, got.Summary)
	}
	sysctl("2")
	rep, _ = preflightJSON(t, a, lab.Private{}, args...)
	if got := check(t, rep, "sysctl.rp_filter"); got.Status != probes.Pass || !strings.Contains(got.Summary, "loose") {
		t.Errorf("rp_filter=2: %s %q; want pass, loose", got.Status, got.Summary)
	}

	cl0, err := a.NL().LinkByName("cl0")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.NL().LinkSetDown(cl0); err != nil {
		t.Fatal(err)
	}
	rep, r := preflightJSON(t, a, lab.Private{}, args...)
	if got := check(t, rep, "link.cluster"); got.Status != probes.Fail || got.Summary != "cl0 is down" {
		t.Errorf("cl0 down: link.cluster = %s %q; want fail, cl0 is down", got.Status, got.Summary)
	}
	if got := check(t, rep, "route.multicast"); got.Status != probes.Skip || got.Summary != "skipped: link.cluster failed" {
		t.Errorf("cl0 down: route.multicast = %s %q; want skipped for link.cluster", got.Status, got.Summary)
	}
	if r.code != 1 {
		t.Errorf("exit %d; want 1", r.code)
	}
}

func TestNtpdInLab(t *testing.T) {
	lab.RequireCommands(t, "chronyd")
	if _, err := os.Stat("/etc/chrony/chrony.conf"); err != nil {
		t.Skip("skipped: /etc/chrony/chrony.conf is missing (install the chrony package)")
	}
	// The clock is not namespaced: prove the daemons left the kernel's state alone.
	var before unix.Timex
	if _, err := unix.Adjtimex(&before); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var after unix.Timex
		unix.Adjtimex(&after)
		if after.Status != before.Status || after.Freq != before.Freq {
			t.Errorf("kernel clock state changed: status %#x -> %#x, freq %d -> %d", before.Status, after.Status, before.Freq, after.Freq)
		}
	})
	l := lab.New(t)
	a, b, c := l.AddHost("a", 1), l.AddHost("b", 2), l.AddHost("c", 3)
	b.StartChronyServer()
	// No chronyd on the clients: their chrony.conf names a socket nobody opened, so
	// preflight goes on to ntpd, as on a host that runs ntpd instead of chrony.
	noChrony := lab.Private{Binds: map[string]string{"/etc/chrony/chrony.conf": l.WriteFile("no-chrony.conf", "bindcmdaddress "+l.Path("absent.sock")+"\ncmdport 0\n")}}

	t.Run("unsynchronised", func(t *testing.T) {
		c.StartNtpd("10.99.0.250") // nobody there
		rep, _ := preflightJSON(t, c, noChrony, "--iface", "cl0")
		got := check(t, rep, "ntp.sync")
		if got.Status != probes.Fail || !strings.Contains(got.Summary, "ntpd is not synchronised") {
			t.Fatalf("ntp.sync = %s %q; want fail from ntpd", got.Status, got.Summary)
		}
	})
	t.Run("synchronised", func(t *testing.T) {
		a.StartNtpd(b.Addr.String())
		got := pollUntilPass(t, a, noChrony, "ntp.sync", 30*time.Second)
		if got.Status != probes.Pass || !strings.Contains(got.Summary, "synchronised by ntpd") {
			t.Fatalf("ntp.sync = %s %q; want pass by ntpd", got.Status, got.Summary)
		}
		// The server is chronyd at stratum 8, so ntpd is at 9 with the server as reference.
		if fmt.Sprint(got.Evidence["stratum"]) != "9" || got.Evidence["refid"] != b.Addr.String() {
			t.Errorf("evidence stratum %v refid %v; want 9 and %s", got.Evidence["stratum"], got.Evidence["refid"], b.Addr)
		}
	})
}

// TestTimedatedInLab: with neither chronyd nor ntpd, ntp.sync asks systemd-timedated over
// a private system bus, whose NTPSynchronized mirrors the kernel's adjtimex state.
func TestTimedatedInLab(t *testing.T) {
	if _, err := os.Stat("/etc/chrony/chrony.conf"); err != nil {
		t.Skip("skipped: /etc/chrony/chrony.conf is missing (install the chrony package)")
	}
	l := lab.New(t)
	a := l.AddHost("a", 1)
	bus := a.StartSystemBus()
	a.StartTimedated(bus)
	priv := lab.Private{
		Binds: map[string]string{"/etc/chrony/chrony.conf": l.WriteFile("no-chrony.conf", "bindcmdaddress "+l.Path("absent.sock")+"\ncmdport 0\n")},
		Env:   []string{"DBUS_SYSTEM_BUS_ADDRESS=" + bus},
	}
	rep, _ := preflightJSON(t, a, priv, "--iface", "cl0")
	got := check(t, rep, "ntp.sync")
	var tx unix.Timex
	if _, err := unix.Adjtimex(&tx); err != nil {
		t.Fatal(err)
	}
	want, says := probes.Pass, "systemd-timedated reports the clock is NTP-synchronised"
	if tx.Status&unix.STA_UNSYNC != 0 || tx.Maxerror >= 16000000 {
		want, says = probes.Fail, "systemd-timedated reports the clock is not NTP-synchronised"
	}
	if got.Status != want || got.Summary != says || got.Evidence["source"] != "timedated" {
		t.Fatalf("ntp.sync = %s %q (%v); want %s %q", got.Status, got.Summary, got.Evidence, want, says)
	}
}
