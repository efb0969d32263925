package main_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// nodesReport runs preflight from the machine's own network namespace for the named
// containers, with more arguments, and decodes it.
func nodesReport(t *testing.T, more []string, containers ...*lab.Container) probes.Report {
	t.Helper()
	args := append([]string{"preflight", "-o", "json", "--skip", "ntp.sync"}, more...)
	for _, c := range containers {
		args = append(args, "--container", c.Name)
	}
	r := execute(t, exec.Command(binary, args...))
	var rep probes.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("preflight for containers: exit %d, not JSON (%v)\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	if len(rep.Nodes) != len(containers) {
		t.Fatalf("preflight for %d containers: %d nodes\n%s", len(containers), len(rep.Nodes), r.stdout)
	}
	return rep
}

// nodeOf finds a container's node in the report.
func nodeOf(t *testing.T, rep probes.Report, c *lab.Container) probes.NodeReport {
	t.Helper()
	for _, n := range rep.Nodes {
		if n.Node.Name == c.Name {
			if n.Report == nil {
				t.Fatalf("node %s has no report: %s", c.Name, n.Error)
			}
			return n
		}
	}
	t.Fatalf("no node for container %s in %+v", c.Name, rep.Nodes)
	return probes.NodeReport{}
}

// TestTomcatsInContainers: the users' own setup (seeds/002), two Tomcats in Podman
// containers on one host behind nginx on that host (upstream 127.0.0.1:8080 and :8081, the
// engine's published ports). Run from the host, preflight checks each container's Tomcat
// as a node of its own, named by the engine's name for it, in the container's network
// (its eth0 on the engine's bridge, its own /etc/hosts and host name); session-test
// through the seed's round-robin upstream finds sessions replicated both ways and not
// sticky, and through a route map sticky; the seed's faults in one container fail in that
// container's report only; the host's forward rules dropping the bridge's traffic, and a
// second container host in the host list (each Receiver on its own host's bridge), fail
// container.network.
func TestTomcatsInContainers(t *testing.T) {
	lab.RequireTomcat(t)
	lab.RequirePodman(t)
	lab.RequireWebServers(t)
	t.Parallel() // its lab, containers and names are its own; most of it waits for Tomcat
	l := lab.New(t)
	d := l.AddHost("dock", 1)
	d2 := l.AddHost("dock2", 2) // another container host of the cluster
	base := func(name, route string, extra map[string]string) string {
		files := tcConf{JvmRoute: route}.files()
		for k, v := range extra {
			files[k] = v
		}
		return l.TomcatBase(name, files)
	}
	c1 := d.StartContainer(lab.ContainerSpec{Name: "tc1", Hostname: "tcnode1", Base: base("c1", "tomcat1", nil), Publish: []string{"127.0.0.1:8080:8080"},
		Binds: map[string]string{"/usr/local/bin/clusterdoctor": binary}})
	c2 := d.StartContainer(lab.ContainerSpec{Name: "tc2", Hostname: "tcnode2", Base: base("c2", "tomcat2", nil), Publish: []string{"127.0.0.1:8081:8080"}})
	c3 := d2.StartContainer(lab.ContainerSpec{Name: "tc3", Hostname: "tcnode3", Base: base("c3", "tomcat3", nil)})
	for _, c := range []*lab.Container{c1, c2} {
		c.WaitLog(t, 90*time.Second, "Server startup in", "Replication member added")
	}
	c3.WaitLog(t, 90*time.Second, "Server startup in")

	rep := nodesReport(t, nil, c1, c2)
	for c, host := range map[*lab.Container]string{c1: "tcnode1", c2: "tcnode2"} {
		n := nodeOf(t, rep, c)
		got := n.Report
		if n.Name != "podman container "+c.Name || n.Node.Engine != "podman" || len(n.Node.ID) != 64 || n.Node.PID != c.PID || got.Host != host ||
			len(got.Settings.Instances) != 1 || got.Settings.Instances[0].Base != "/usr/local/tomcat" || got.Settings.Iface != "eth0" {
			t.Errorf("node of %s: %s %+v host %q iface %q instances %+v; want podman's name, its JVM (pid %d), host %s, eth0 and /usr/local/tomcat",
				c.Name, n.Name, n.Node, got.Host, got.Settings.Iface, got.Settings.Instances, c.PID, host)
		}
		for _, id := range []string{"tomcat.cluster", "tomcat.receiver", "hosts.hostname", "link.cluster", "tomcat.members", "container.network"} {
			if r := check(t, *got, id); r.Status != probes.Pass {
				t.Errorf("%s: %s = %s %q (%s); want pass", c.Name, id, r.Status, r.Summary, r.Detail)
			}
		}
		// the seed's shape: both Tomcats on the engine's bridge of one host, no peer beyond
		if r := check(t, *got, "container.network"); r.Evidence["bridge"] != "podman0" || !strings.Contains(fmt.Sprint(r.Evidence["hostNamespace"]), "conmon") {
			t.Errorf("%s: container.network %q %v; want podman0, found through conmon", c.Name, r.Summary, r.Evidence)
		}
	}

	// Run inside the container itself: its own Tomcat is checked, and what a container
	// cannot see (the host's firewall, the network configuration) is unknown, saying why.
	out, errs, code := c1.Exec(t, "/usr/local/bin/clusterdoctor", "preflight", "-o", "json", "--skip", "ntp.sync")
	var in probes.Report
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatalf("preflight inside %s: exit %d, not JSON (%v)\n%s\n%s", c1.Name, code, err, out, errs)
	}
	if len(in.Settings.Instances) != 1 || in.Settings.Instances[0].PID != 1 || in.Host != "tcnode1" || len(in.Nodes) != 0 {
		t.Errorf("preflight inside %s: host %q instances %+v nodes %d; want its own Tomcat, PID 1 there", c1.Name, in.Host, in.Settings.Instances, len(in.Nodes))
	}
	for _, id := range []string{"firewall.ports", "firewall.igmp", "route.persistent"} {
		if r := check(t, in, id); r.Status != probes.Unknown || !strings.Contains(r.Summary+r.Detail, "runs inside a container") {
			t.Errorf("inside %s: %s = %s %q; want unknown, saying a container cannot see it", c1.Name, id, r.Status, r.Summary)
		}
	}
	if r := check(t, in, "tomcat.receiver"); r.Status != probes.Pass {
		t.Errorf("inside %s: tomcat.receiver = %s %q; want pass", c1.Name, r.Status, r.Summary)
	}

	// nginx on the host with the seed's upstream, round robin over the published ports.
	w := d.NewWebTier("dock")
	w.Nginx(80, "server 127.0.0.1:8080;\n    server 127.0.0.1:8081;")
	ngx := w.StartNginx(80)
	// web.upstreams on the host names the container behind each published port.
	webRep, _ := preflightJSON(t, d, w.View(), "--skip", "ntp.sync")
	up := check(t, webRep, "web.upstreams")
	named, via := map[string]string{}, map[string]string{}
	members, _ := up.Evidence["members"].([]any)
	for _, m := range members {
		if mm, ok := m.(map[string]any); ok {
			named[fmt.Sprint(mm["server"])] = fmt.Sprint(mm["container"])
			via[fmt.Sprint(mm["server"])] = fmt.Sprint(mm["containerVia"])
		}
	}
	// netavark publishes by a DNAT rule in the host's nat OUTPUT chain: the kernel sends
	// nginx's connection to the container before conmon's placeholder socket sees it
	for server, how := range via {
		if !strings.HasPrefix(how, "DNAT to 10.88.") {
			t.Errorf("web.upstreams: %s found by %q; want netavark's DNAT rule", server, how)
		}
	}
	for port, c := range map[string]*lab.Container{"8080": c1, "8081": c2} {
		if got := named["127.0.0.1:"+port]; got != "podman container "+c.Name {
			t.Errorf("web.upstreams on the host: member 127.0.0.1:%s is %q; want %s's published port (%v)", port, got, c.Name, up.Evidence)
		}
	}
	type sessionReport struct {
		Pairs []struct {
			From, To, Verdict string
		}
		Stickiness []struct{ Member, Verdict string }
		Members    []struct{ Name, Address, Container string }
	}
	sessionTest := func() (sessionReport, run) {
		t.Helper()
		st := execute(t, d.Command(w.View(), binary, "session-test", "--url", "http://10.99.0.1/", "-o", "json", "--timeout", "30s"))
		var sr sessionReport
		if err := json.Unmarshal([]byte(st.stdout), &sr); err != nil {
			t.Fatalf("session-test: exit %d, not JSON (%v)\n%s\n%s", st.code, err, st.stdout, st.stderr)
		}
		// each member is named by the container behind the published port
		for _, m := range sr.Members {
			if want := map[string]string{"127.0.0.1:8080": c1.Name, "127.0.0.1:8081": c2.Name}[m.Address]; m.Container != "podman container "+want {
				t.Errorf("session-test's member %s (%s) is %q; want podman container %s", m.Name, m.Address, m.Container, want)
			}
		}
		return sr, st
	}
	count := func(sr sessionReport) (replicated, sticky int) {
		for _, p := range sr.Pairs {
			if p.Verdict == "replicated" {
				replicated++
			}
		}
		for _, s := range sr.Stickiness {
			if s.Verdict == "sticky" {
				sticky++
			}
		}
		return replicated, sticky
	}
	sr, st := sessionTest()
	if replicated, sticky := count(sr); st.code != 1 || len(sr.Pairs) != 2 || replicated != 2 || sticky != 0 {
		t.Errorf("session-test through the seed's round-robin upstream: exit %d, %d of %d pairs replicated, %d sticky; want 1, both replicated, none sticky\n%s",
			st.code, replicated, len(sr.Pairs), sticky, st.stdout)
	}
	// The seed's upstream with a route map on the session cookie's jvmRoute: sticky.
	w.NginxHTTP("map $cookie_JSESSIONID $backend {\n    ~\\.tomcat1$ tomcat1;\n    ~\\.tomcat2$ tomcat2;\n    default tomcats;\n}\n" +
		"upstream tomcat1 { server 127.0.0.1:8080; }\nupstream tomcat2 { server 127.0.0.1:8081; }\n" +
		"upstream tomcats { server 127.0.0.1:8080; server 127.0.0.1:8081; }\n" +
		"server {\n    listen 10.99.0.1:80;\n    location / { proxy_pass http://$backend; }\n}\n")
	w.Stop(ngx)
	ngx = w.StartNginx(80)
	sr, st = sessionTest()
	if replicated, sticky := count(sr); st.code != 0 || replicated != 2 || sticky != 2 {
		t.Errorf("session-test through a route map on the session cookie: exit %d, %d pairs replicated, %d sticky; want 0, both, both\n%s", st.code, replicated, sticky, st.stdout)
	}
	w.Stop(ngx)

	// Docker's icc=false, as a rule of the container host's forward chain (br_netfilter
	// passes bridged traffic to it): the kernel drops what the containers send each other,
	// Tomcat loses its member, and container.network names the rule on both nodes.
	icc := []string{"FORWARD", "-i", "podman0", "-o", "podman0", "-j", "DROP"}
	if out, err := d.Command(lab.Private{}, "iptables", append([]string{"-I"}, icc...)...).CombinedOutput(); err != nil {
		t.Fatalf("iptables -I %v: %v\n%s", icc, err, out)
	}
	c1.WaitLog(t, 20*time.Second, "Verification complete. Member disappeared")
	rep = nodesReport(t, nil, c1, c2)
	for _, c := range []*lab.Container{c1, c2} {
		r := check(t, *nodeOf(t, rep, c).Report, "container.network")
		if r.Status != probes.Fail || !strings.Contains(r.Summary, "drop what the other containers on podman0 send it") ||
			!strings.Contains(r.Summary, "heartbeats to 228.0.0.4:45564/udp by rule handle") || !strings.Contains(r.Remediation, `"icc": true`) {
			t.Errorf("%s with the containers' traffic dropped on the host: container.network = %s %q; want fail naming the forward rule", c.Name, r.Status, r.Summary)
		}
	}
	if out, err := d.Command(lab.Private{}, "iptables", append([]string{"-D"}, icc...)...).CombinedOutput(); err != nil {
		t.Fatalf("iptables -D %v: %v\n%s", icc, err, out)
	}

	// The seed's faults in tc2: its host name mapped to 127.0.0.1 in its /etc/hosts, and an
	// application without <distributable/>, and a page that puts a non-serializable
	// attribute in a replicated session (asked once through the published port).
	d.RemoveContainer(c2)
	c2 = d.StartContainer(lab.ContainerSpec{Name: "tc2", Hostname: "tcnode2", Publish: []string{"127.0.0.1:8081:8080"},
		Base: base("c2-faults", "tomcat2", map[string]string{"webapps/shop/WEB-INF/web.xml": plainWebXML, "webapps/shop/index.jsp": "x",
			"webapps/ROOT/bad.jsp": `<% session.setAttribute("loginStatus", new Object()); %>ok`}),
		Hosts: "127.0.0.1\tlocalhost\n127.0.0.1\ttcnode2\n"})
	c2.WaitLog(t, 90*time.Second, "Server startup in")
	requestIn(t, d, "http://127.0.0.1:8081/bad.jsp")
	c2.WaitFile(t, "localhost.", 10*time.Second, "setAttribute: Non-serializable attribute [loginStatus]")
	// Run with the operator's host list, both container hosts: each container's Receiver
	// advertises an address of its host's podman0, which the other host cannot reach, and
	// its multicast stays on that bridge; its own host is no peer beyond it.
	rep = nodesReport(t, []string{"--peer", d.Addr.String(), "--peer", d2.Addr.String()}, c1, c2, c3)
	if r := check(t, *nodeOf(t, rep, c3).Report, "container.network"); r.Status != probes.Fail ||
		!strings.Contains(r.Summary, "which the peers "+d.Addr.String()+" reach only through the host ("+d.Addr.String()+" through cl0)") {
		t.Errorf("%s on the other container host: container.network = %s %q; want fail naming %s only", c3.Name, r.Status, r.Summary, d.Addr)
	}
	for _, c := range []*lab.Container{c1, c2} {
		r := check(t, *nodeOf(t, rep, c).Report, "container.network")
		t.Logf("%s with a peer on another host: container.network %s: %s", c.Name, r.Status, r.Summary)
		if r.Status != probes.Fail || !strings.Contains(r.Summary, "Tomcat advertises 10.88.") || !strings.Contains(r.Summary, "bridge podman0") ||
			!strings.Contains(r.Summary, "which the peers "+d2.Addr.String()+" reach only through the host") ||
			!strings.Contains(r.Summary, "multicast heartbeats stay on bridge podman0") || !strings.Contains(r.Remediation, "--network host") {
			t.Errorf("%s with a peer on another host: container.network = %s %q (%s); want fail naming its 10.88 address, podman0 and the multicast", c.Name, r.Status, r.Summary, r.Remediation)
		}
	}
	bad := nodeOf(t, rep, c2).Report
	if r := check(t, *bad, "tomcat.receiver"); r.Status != probes.Fail || !strings.Contains(r.Summary, "loopback 127.0.0.1") {
		t.Errorf("%s with its name on 127.0.0.1: tomcat.receiver = %s %q; want fail, loopback", c2.Name, r.Status, r.Summary)
	}
	if r := check(t, *bad, "tomcat.distributable"); r.Status != probes.Warn || !strings.Contains(r.Summary, "localhost/shop") {
		t.Errorf("%s with shop not distributable: tomcat.distributable = %s %q; want warn naming it", c2.Name, r.Status, r.Summary)
	}
	if r := check(t, *bad, "tomcat.logs"); r.Status != probes.Fail || !strings.Contains(r.Summary, `session attribute "loginStatus"`) {
		t.Errorf("%s after a non-serializable attribute: tomcat.logs = %s %q; want fail naming it", c2.Name, r.Status, r.Summary)
	}
	if r := check(t, *nodeOf(t, rep, c1).Report, "tomcat.logs"); r.Status == probes.Fail {
		t.Errorf("%s beside the faulty container: tomcat.logs = %s %q; the fault is %s's", c1.Name, r.Status, r.Summary, c2.Name)
	}
	if r := check(t, *nodeOf(t, rep, c1).Report, "tomcat.receiver"); r.Status != probes.Pass {
		t.Errorf("%s beside the faulty container: tomcat.receiver = %s %q; want pass", c1.Name, r.Status, r.Summary)
	}
	// The monitoring formats carry the nodes: Nagios goes CRITICAL on tc2's failure.
	nagios := execute(t, exec.Command(binary, "preflight", "-o", "nagios", "--skip", "ntp.sync", "--container", c1.Name, "--container", c2.Name))
	if nagios.code != 2 || !strings.Contains(nagios.stdout, "\n[FAIL] [podman container "+c2.Name+"] tomcat.receiver: ") {
		t.Errorf("preflight -o nagios with the faulty container: exit %d\n%s; want 2 (CRITICAL) naming its tomcat.receiver", nagios.code, nagios.stdout)
	}
	if rep.ExitCode(false) != probes.ExitFailed {
		t.Errorf("exit code with a failing node = %d; want 1", rep.ExitCode(false))
	}
}
