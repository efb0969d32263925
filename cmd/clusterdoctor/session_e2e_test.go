package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
	"github.com/clusterdoctor/clusterdoctor/probes/replication"
)

// counterJSP is the seeds' acceptance page: a counter kept in the session, and the node
// that served it, as plain lines.
func counterJSP(node string) string {
	return `<%@ page contentType="text/plain; charset=UTF-8" %><%
Integer cnt = (Integer) session.getAttribute("cnt");
cnt = (cnt == null) ? Integer.valueOf(1) : Integer.valueOf(cnt.intValue() + 1);
session.setAttribute("cnt", cnt);
%>NODE=` + node + `
SID=<%= session.getId() %>
CNT=<%= cnt %>
`
}

// webCluster is two real Tomcat 10.1 (jvmRoute tomcat1 and tomcat2) behind a real httpd
// with mod_jk and a real nginx on a web host, each host in its own namespace.
type webCluster struct {
	t     testing.TB
	lab   *lab.Lab
	was   map[string]*lab.Host
	specs map[string]lab.TomcatSpec
	tc    map[string]*lab.Tomcat
	web   *lab.Host
	tier  *lab.WebTier
	httpd *exec.Cmd
	nginx *exec.Cmd
}

const (
	httpdPort, nginxPort = 80, 81
	// tomcat1's AJP connector requires this secret; tomcat2's requires none.
	ajpSecret = "s3cret"
	// nginxUpstream is the body of nginx's upstream block: both Tomcats' HTTP connectors.
	nginxUpstream = "ip_hash;\n    server 10.99.0.1:8080;\n    server 10.99.0.2:8080;"
)

func workersProperties(names [2]string, secret string) string {
	return fmt.Sprintf("worker.list=lb\nworker.lb.type=lb\nworker.lb.balance_workers=%s,%s\nworker.lb.sticky_session=true\n"+
		"worker.%s.type=ajp13\nworker.%s.host=10.99.0.1\nworker.%s.port=8009\nworker.%s.secret=%s\n"+
		"worker.%s.type=ajp13\nworker.%s.host=10.99.0.2\nworker.%s.port=8009\n",
		names[0], names[1], names[0], names[0], names[0], names[0], secret, names[1], names[1], names[1])
}

var healthyWorkers = workersProperties([2]string{"tomcat1", "tomcat2"}, ajpSecret)

func newWebCluster(t testing.TB) *webCluster {
	l := lab.New(t)
	c := &webCluster{t: t, lab: l, was: map[string]*lab.Host{}, specs: map[string]lab.TomcatSpec{}, tc: map[string]*lab.Tomcat{}}
	c.was["tomcat1"], c.was["tomcat2"], c.web = l.AddHost("was1", 1), l.AddHost("was2", 2), l.AddHost("web", 10)
	for _, h := range []*lab.Host{c.was["tomcat1"], c.was["tomcat2"], c.web} {
		h.AddMulticastRoute()
	}
	ajp := map[string]string{
		"tomcat1": `<Connector protocol="AJP/1.3" address="10.99.0.1" port="8009" secret="` + ajpSecret + `"/>`,
		"tomcat2": `<Connector protocol="AJP/1.3" address="10.99.0.2" port="8009" secretRequired="false"/>`,
	}
	for i, route := range []string{"tomcat1", "tomcat2"} {
		name, h := fmt.Sprintf("was%d", i+1), c.was[route]
		files := tcConf{JvmRoute: route, AJP: ajp[route]}.files()
		files["webapps/ROOT/index.jsp"] = counterJSP(route)
		c.specs[route] = lab.TomcatSpec{Name: name, Hostname: name, Hosts: hostsFor(name, h.Addr.String()), Files: files}
		// one after the other: the second asks the first for its sessions, which a first
		// still starting may leave unanswered until the 60 s state transfer timeout
		c.tc[route] = h.StartTomcat(c.specs[route])
		c.tc[route].Started(t)
	}
	for _, route := range []string{"tomcat1", "tomcat2"} {
		c.tc[route].WaitLog(t, 20*time.Second, "Replication member added")
	}
	c.tier = c.web.NewWebTier("web")
	c.tier.ModJK(httpdPort, healthyWorkers, "JkMount /* lb")
	c.tier.Nginx(nginxPort, nginxUpstream)
	c.httpd = c.tier.StartHTTPD(httpdPort)
	c.nginx = c.tier.StartNginx(nginxPort)
	return c
}

// workers rewrites workers.properties and restarts httpd, so that mod_jk reads it and
// forgets the error states of its workers.
func (c *webCluster) workers(props string) {
	c.t.Helper()
	c.tier.ModJK(httpdPort, props, "JkMount /* lb")
	c.tier.Stop(c.httpd)
	c.httpd = c.tier.StartHTTPD(httpdPort)
}

// modProxy replaces mod_jk with mod_proxy_balancer, as conf configures it, and restarts
// httpd.
func (c *webCluster) modProxy(conf string) {
	c.t.Helper()
	c.tier.ModProxy(httpdPort, conf)
	c.tier.Stop(c.httpd)
	c.httpd = c.tier.StartHTTPD(httpdPort)
}

// nginxConf replaces nginx's http configuration and restarts it.
func (c *webCluster) nginxConf(conf string) {
	c.t.Helper()
	c.tier.NginxHTTP(conf)
	c.restartNginx()
}

func (c *webCluster) restartNginx() {
	c.t.Helper()
	c.tier.Stop(c.nginx)
	c.nginx = c.tier.StartNginx(nginxPort)
}

// wantSticky runs session-test through url and wants every direction replicated and
// every member's sessions sticking.
func (c *webCluster) wantSticky(t *testing.T, what, url string) {
	t.Helper()
	rep, r := c.sessionTest(url)
	if r.code != 0 || !rep.OK() {
		t.Errorf("session-test %s: exit %d, %+v %+v %q; want 0", what, r.code, rep.Pairs, rep.Stickiness, rep.Problems)
	}
	for _, s := range rep.Stickiness {
		if s.Verdict != replication.Sticky {
			t.Errorf("%s: %s %s (%s); want sticky", what, s.Member, s.Verdict, s.Reason)
		}
	}
}

// restart starts a stopped Tomcat again and waits until witness (the restarted one, or
// its peer; "" for none) logs that a member joined, and httpd has forgotten that the
// Tomcat was down.
func (c *webCluster) restart(route, witness string) {
	c.t.Helper()
	before := 0
	if witness != "" && witness != route {
		before = c.memberAdds(witness)
	}
	c.tc[route] = c.was[route].StartTomcat(c.specs[route])
	c.tc[route].Started(c.t)
	for deadline := time.Now().Add(20 * time.Second); witness != "" && c.memberAdds(witness) <= before; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: no member joined in 20s after %s started again", witness, route)
		}
	}
	c.workers(healthyWorkers)
}

// memberAdds counts the members a Tomcat has admitted since it started (TcpFailureDetector
// admits a member only once its receiver accepts TCP).
func (c *webCluster) memberAdds(route string) int {
	b, _ := os.ReadFile(c.tc[route].Log)
	return strings.Count(string(b), "Replication member added")
}

// sessionTest runs session-test on the web host as an operator would, and reads its JSON.
func (c *webCluster) sessionTest(url string, args ...string) (*replication.Report, run) {
	c.t.Helper()
	r := execute(c.t, c.web.Command(c.tier.View(), binary, append([]string{"session-test", "--url", url, "-o", "json"}, args...)...))
	var rep replication.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		c.t.Fatalf("session-test %s: exit %d, not JSON: %v\n%s\n%s", url, r.code, err, r.stdout, r.stderr)
	}
	return &rep, r
}

// sessionTestText is session-test's text report, for the log.
func (c *webCluster) sessionTestText(url string) string {
	c.t.Helper()
	r := execute(c.t, c.web.Command(c.tier.View(), binary, "session-test", "--url", url))
	return r.stdout + r.stderr
}

// ajpWorkers runs preflight on the web host and returns its ajp.workers.
func (c *webCluster) ajpWorkers(args ...string) probes.Result {
	c.t.Helper()
	rep, _ := preflightJSON(c.t, c.web, c.tier.View(), append([]string{"--iface", "cl0", "--skip", "ntp.sync"}, args...)...)
	return check(c.t, rep, "ajp.workers")
}

// page is one answer of the counter page.
type page struct{ node, sid, cnt string }

// get asks the counter page through the web tier from the web host, with a session
// cookie when sid is set, the way a browser would.
func (c *webCluster) get(url, sid string) page {
	c.t.Helper()
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var conn net.Conn
		err := c.web.Do(func() (err error) { conn, err = net.DialTimeout(network, addr, 2*time.Second); return err })
		return conn, err
	}}
	req, _ := http.NewRequest("GET", url, nil)
	if sid != "" {
		req.Header.Set("Cookie", "JSESSIONID="+sid)
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		c.t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var p page
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "NODE":
			p.node = v
		case "SID":
			p.sid = v
		case "CNT":
			p.cnt = v
		}
	}
	if p.node == "" {
		c.t.Fatalf("GET %s: %s without the counter page", url, resp.Status)
	}
	return p
}

// failover is the seeds' acceptance test through httpd, which the users ran by hand:
// make a session on node from (asking until the balancer sends a new session there), use
// it, stop from, reload. The session was replicated when the survivor continues it: the
// same id base and the counter going on.
func (c *webCluster) failover(url, from string) (replicated bool, after page) {
	c.t.Helper()
	var p page
	for range 6 {
		if p = c.get(url, ""); p.node == from {
			break
		}
	}
	if p.node != from {
		c.t.Fatalf("the balancer never made a new session on %s", from)
	}
	p = c.get(url, p.sid)
	if p.node != from || p.cnt != "2" {
		c.t.Fatalf("second request of the session went to %s with count %s; want %s, 2", p.node, p.cnt, from)
	}
	time.Sleep(500 * time.Millisecond) // what a user does between the clicks: let replication finish
	c.tc[from].Stop()
	after = c.get(url, p.sid)
	base := func(id string) string { b, _, _ := strings.Cut(id, "."); return b }
	return after.node != from && base(after.sid) == base(p.sid) && after.cnt == "3", after
}

// verdictOf is the session-test verdict of one direction, between the members whose
// Tomcats have the jvmRoutes given (mod_jk names its workers so, nginx by address).
func verdictOf(t *testing.T, rep *replication.Report, from, to string) replication.Pair {
	t.Helper()
	route := map[string]string{}
	for _, m := range rep.Members {
		route[m.Name] = m.JvmRoute
		if m.JvmRoute == "" {
			route[m.Name] = m.Name
		}
	}
	for _, p := range rep.Pairs {
		if route[p.From] == from && route[p.To] == to {
			return p
		}
	}
	t.Fatalf("no pair %s > %s in %+v", from, to, rep.Pairs)
	return replication.Pair{}
}

// TestSessionTestThroughTheWebTier: real httpd with mod_jk and real nginx in front of two
// real Tomcat 10.1. Healthy, both web servers' preflight checks pass and session-test
// reports replication both ways and sticky sessions; then the faults the seeds met, each
// named by preflight, by session-test, or compared with the destructive test.
func TestSessionTestThroughTheWebTier(t *testing.T) {
	lab.RequireTomcat(t)
	lab.RequireWebServers(t)
	c := newWebCluster(t)
	httpdURL, nginxURL := "http://10.99.0.10/", fmt.Sprintf("http://10.99.0.10:%d/", nginxPort)

	t.Run("healthy", func(t *testing.T) {
		if got := c.ajpWorkers(); got.Status != probes.Pass {
			t.Errorf("ajp.workers = %s: %s (%s); want pass", got.Status, got.Summary, got.Detail)
		}
		rep, _ := preflightJSON(t, c.web, c.tier.View(), "--iface", "cl0", "--skip", "ntp.sync")
		if got := check(t, rep, "web.upstreams"); got.Status != probes.Pass {
			t.Errorf("web.upstreams = %s: %s (%s); want pass", got.Status, got.Summary, got.Detail)
		}
		// The Tomcats' JVMs are visible from the web host's namespace, but not its own:
		// a web host, whose Tomcat-host checks do not apply.
		if src := rep.Settings.Sources["roles"]; strings.Join(rep.Settings.Roles, ",") != "web" ||
			!strings.Contains(src, "mod_jk balancer lb") || !strings.Contains(src, "nginx balancer tomcats") {
			t.Errorf("roles %v (%s); want web, detected from both balancers", rep.Settings.Roles, src)
		}
		if got := check(t, rep, "route.multicast"); got.Status != probes.Skip || !strings.Contains(got.Summary, "role web") {
			t.Errorf("route.multicast on the web host = %s: %s; want skip naming the role", got.Status, got.Summary)
		}
		rep, _ = preflightJSON(t, c.web, c.tier.View(), "--iface", "cl0", "--skip", "ntp.sync", "--role", "web,was")
		if got := check(t, rep, "route.multicast"); got.Status == probes.Skip {
			t.Errorf("route.multicast with --role web,was = %s: %s; want it run", got.Status, got.Summary)
		}
		for _, url := range []string{httpdURL, nginxURL} {
			rep, r := c.sessionTest(url)
			if r.code != 0 || verdictOf(t, rep, "tomcat1", "tomcat2").Verdict != replication.Replicated ||
				verdictOf(t, rep, "tomcat2", "tomcat1").Verdict != replication.Replicated {
				t.Errorf("session-test %s: exit %d, %+v, problems %q; want 0, replicated both ways", url, r.code, rep.Pairs, rep.Problems)
			}
			for _, s := range rep.Stickiness {
				if s.Verdict == replication.NotSticky {
					t.Errorf("session-test %s: %s %s: %s", url, s.Member, s.Verdict, s.Reason)
				}
			}
		}
		// mod_jk balances new sessions over both: both members' stickiness is tested there.
		t.Logf("session-test --url %s:\n%s", httpdURL, c.sessionTestText(httpdURL))
		c.wantSticky(t, "through httpd", httpdURL)
	})

	// nginx without nginx plus keeps a session on its node with a route map: a map on the
	// session cookie picks the node's upstream, cookie-less requests the balancing one.
	routeMap := func(to1, to2 string) string {
		return fmt.Sprintf("map $cookie_JSESSIONID $backend {\n    ~\\.tomcat1$ %s;\n    ~\\.tomcat2$ %s;\n    default tomcats;\n}\n"+
			"upstream tomcat1 { server 10.99.0.1:8080; }\nupstream tomcat2 { server 10.99.0.2:8080; }\n"+
			"upstream tomcats { server 10.99.0.1:8080; server 10.99.0.2:8080; }\n"+
			"server {\n    listen 10.99.0.10:%d;\n    location / { proxy_pass http://$backend; }\n}\n", to1, to2, nginxPort)
	}
	t.Run("cluster over ssh", func(t *testing.T) { clusterOverSSH(t, newClusterSeat(t, c)) })

	t.Run("nginx route map", func(t *testing.T) {
		c.nginxConf(routeMap("tomcat1", "tomcat2"))
		rep, _ := preflightJSON(t, c.web, c.tier.View(), "--iface", "cl0", "--skip", "ntp.sync")
		if got := check(t, rep, "web.upstreams"); got.Status != probes.Pass {
			t.Errorf("web.upstreams with a route map = %s: %s (%s); want pass", got.Status, got.Summary, got.Detail)
		}
		c.wantSticky(t, "through nginx's route map", nginxURL)
		// the routes swapped: every session goes to the other node
		c.nginxConf(routeMap("tomcat2", "tomcat1"))
		st, r := c.sessionTest(nginxURL)
		if r.code != 1 || !strings.Contains(strings.Join(st.Problems, " "), `the balancer expects route "tomcat2", but the Tomcat's sessions carry "tomcat1"`) {
			t.Errorf("session-test through a swapped route map: exit %d, %+v %q; want 1 naming the routes", r.code, st.Stickiness, st.Problems)
		}
		for _, s := range st.Stickiness {
			if s.Verdict != replication.NotSticky {
				t.Errorf("through a swapped route map: %s %s; want not-sticky", s.Member, s.Verdict)
			}
		}
		c.tier.Nginx(nginxPort, nginxUpstream)
		c.restartNginx()
	})

	// Debian's apache2 enables 000-default.conf, a <VirtualHost *:80> that takes every
	// request on port 80: a JkMount of the main server (jk.conf) is not applied there.
	t.Run("a default virtual host without JkMountCopy", func(t *testing.T) {
		defer func() { c.tier.Site("000-default", ""); c.workers(healthyWorkers) }()
		c.tier.Site("000-default", "<VirtualHost *:80>\n    ServerName web\n</VirtualHost>\n")
		c.workers(healthyWorkers)
		lost := "JkMount /* lb (/etc/apache2/mods-enabled/jk.conf:6) is the main server's, and <VirtualHost *:80> (/etc/apache2/sites-enabled/000-default.conf:1) takes every request on port 80"
		if got := c.ajpWorkers(); got.Status != probes.Fail || !strings.Contains(got.Summary, lost) || !strings.Contains(got.Remediation, "JkMountCopy On") {
			t.Errorf("ajp.workers = %s: %s (fix %q); want fail naming the JkMount and the virtual host", got.Status, got.Summary, got.Remediation)
		}
		r := execute(t, c.web.Command(c.tier.View(), binary, "session-test", "--url", httpdURL))
		if r.code != 2 || !strings.Contains(r.stderr, "reaches no balancer: "+lost) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("session-test: exit %d, %q; want 2 and one line naming the JkMount and the virtual host", r.code, r.stderr)
		}
		c.tier.Site("000-default", "<VirtualHost *:80>\n    ServerName web\n    JkMountCopy On\n</VirtualHost>\n")
		c.workers(healthyWorkers)
		if got := c.ajpWorkers(); got.Status != probes.Pass {
			t.Errorf("ajp.workers with JkMountCopy On = %s: %s; want pass", got.Status, got.Summary)
		}
		c.wantSticky(t, "through the virtual host with JkMountCopy On", httpdURL)
	})

	t.Run("secret mismatch", func(t *testing.T) {
		c.workers(workersProperties([2]string{"tomcat1", "tomcat2"}, "wrong"))
		if got := c.ajpWorkers(); got.Status != probes.Fail || !strings.Contains(got.Summary, "worker tomcat1's secret (line 8) is not the AJP connector's at 10.99.0.1:8009") {
			t.Errorf("ajp.workers = %s: %s; want fail naming worker tomcat1's secret", got.Status, got.Summary)
		}
		rep, r := c.sessionTest(httpdURL)
		if p := verdictOf(t, rep, "tomcat2", "tomcat1"); r.code != 1 || p.Verdict != replication.NotTested || !strings.Contains(p.Reason, "refuses the worker's secret") {
			t.Errorf("session-test: exit %d, tomcat2 > tomcat1 %s (%s); want 1, not tested naming the secret", r.code, p.Verdict, p.Reason)
		}
		c.workers(healthyWorkers)
	})

	// A third node the operator disabled through mod_jk's status worker, its configuration
	// unchanged: read from the running httpd, its directions are named as not tested.
	t.Run("a member disabled at runtime", func(t *testing.T) {
		c.tier.ModJK(httpdPort, strings.Replace(healthyWorkers, "balance_workers=tomcat1,tomcat2", "balance_workers=tomcat1,tomcat2,tomcat3", 1)+
			"worker.tomcat3.type=ajp13\nworker.tomcat3.host=10.99.0.3\nworker.tomcat3.port=8009\n"+jkStatusWorker, "JkMount /* lb", "JkMount /jkstatus jkstatus")
		c.tier.Stop(c.httpd)
		c.httpd = c.tier.StartHTTPD(httpdPort)
		defer c.workers(healthyWorkers)
		if code, body := get(t, inside(c.web), fmt.Sprintf("http://10.99.0.10:%d/jkstatus?cmd=update&from=list&w=lb&sw=tomcat3&vwa=1", httpdPort)); code != 200 {
			t.Fatalf("disable tomcat3 through jkstatus: %d %s", code, body)
		}
		rep, r := c.sessionTest(httpdURL)
		var dirs []string
		for _, p := range rep.Untested {
			dirs = append(dirs, p.From+">"+p.To)
			if !strings.Contains(p.Reason, "disabled (DIS") || !strings.Contains(p.Reason, "status worker") {
				t.Errorf("%s > %s: %q", p.From, p.To, p.Reason)
			}
		}
		if r.code != 0 || !rep.OK() || strings.Join(dirs, " ") != "tomcat1>tomcat3 tomcat3>tomcat1 tomcat2>tomcat3 tomcat3>tomcat2" {
			t.Errorf("session-test with tomcat3 disabled at runtime: exit %d, untested %q, pairs %+v; want 0 and its four directions named", r.code, dirs, rep.Pairs)
		}
	})

	// A third node the operator took out of the balancer (activation=stopped): the two
	// others are proven, and every direction to and from the third is named as not tested,
	// which is no failure.
	t.Run("a member out of the balancer", func(t *testing.T) {
		c.workers(strings.Replace(healthyWorkers, "balance_workers=tomcat1,tomcat2", "balance_workers=tomcat1,tomcat2,tomcat3", 1) +
			"worker.tomcat3.type=ajp13\nworker.tomcat3.host=10.99.0.3\nworker.tomcat3.port=8009\nworker.tomcat3.activation=stopped\n")
		defer c.workers(healthyWorkers)
		rep, r := c.sessionTest(httpdURL)
		var dirs []string
		for _, p := range rep.Untested {
			dirs = append(dirs, p.From+">"+p.To)
			if !strings.Contains(p.Reason, "tomcat3 is out of the balancer") {
				t.Errorf("%s > %s: %q", p.From, p.To, p.Reason)
			}
		}
		if r.code != 0 || !rep.OK() || strings.Join(dirs, " ") != "tomcat1>tomcat3 tomcat3>tomcat1 tomcat2>tomcat3 tomcat3>tomcat2" {
			t.Errorf("session-test with tomcat3 stopped in the balancer: exit %d, untested %q, pairs %+v; want 0 and its four directions named", r.code, dirs, rep.Pairs)
		}
		if text := c.sessionTestText(httpdURL); !strings.Contains(text, "not tested: tomcat1 > tomcat3, tomcat3 > tomcat1") {
			t.Errorf("the text does not name the untested directions:\n%s", text)
		}
	})

	t.Run("jvmRoute is not the worker's name", func(t *testing.T) {
		c.workers(workersProperties([2]string{"was1", "was2"}, ajpSecret))
		if got := c.ajpWorkers("--route", "tomcat1=10.99.0.1"); got.Status != probes.Fail || !strings.Contains(got.Summary, `worker was1 expects route "was1"`) || !strings.Contains(got.Summary, `jvmRoute "tomcat1"`) {
			t.Errorf("ajp.workers = %s: %s; want fail naming was1 and tomcat1", got.Status, got.Summary)
		}
		rep, r := c.sessionTest(httpdURL)
		sticky := 0
		for _, s := range rep.Stickiness {
			if s.Verdict == replication.Sticky {
				sticky++
			}
		}
		if r.code != 1 || sticky == len(rep.Stickiness) || !strings.Contains(strings.Join(rep.Problems, " "), `expects route "was1", but the Tomcat's sessions carry "tomcat1"`) {
			t.Errorf("session-test: exit %d, stickiness %+v, problems %q; want 1, broken stickiness, the routes named", r.code, rep.Stickiness, rep.Problems)
		}
		c.workers(healthyWorkers)
	})

	t.Run("mod_proxy_balancer", func(t *testing.T) {
		balancer := func(secret string) string {
			return "<Proxy balancer://cluster>\n" +
				"    BalancerMember ajp://10.99.0.1:8009 route=tomcat1 secret=" + secret + "\n" +
				"    BalancerMember ajp://10.99.0.2:8009 route=tomcat2\n" +
				"    ProxySet stickysession=JSESSIONID|jsessionid\n</Proxy>\nProxyPass \"/\" \"balancer://cluster/\"\n"
		}
		c.modProxy(balancer(ajpSecret))
		if got := c.ajpWorkers(); got.Status != probes.Pass || !strings.Contains(got.Summary, "ajp://10.99.0.2:8009 10.99.0.2:8009 (CPong") {
			t.Errorf("ajp.workers = %s: %s (%s); want pass with both BalancerMembers", got.Status, got.Summary, got.Detail)
		}
		c.wantSticky(t, "through mod_proxy_balancer", httpdURL)
		c.modProxy(balancer("wrong"))
		if got := c.ajpWorkers(); got.Status != probes.Fail || !strings.Contains(got.Summary, "BalancerMember ajp://10.99.0.1:8009's secret is not the AJP connector's") {
			t.Errorf("ajp.workers = %s: %s; want fail naming the BalancerMember's secret", got.Status, got.Summary)
		}

		// HTTP members (mod_proxy_http): web.upstreams' part; without stickysession it warns.
		httpBalancer := "<Proxy balancer://cluster>\n" +
			"    BalancerMember http://10.99.0.1:8080 route=tomcat1\n" +
			"    BalancerMember http://10.99.0.2:8080 route=tomcat2\n" +
			"    ProxySet stickysession=JSESSIONID|jsessionid\n</Proxy>\nProxyPass \"/\" \"balancer://cluster/\"\n"
		for _, tc := range []struct {
			conf   string
			status probes.Status
			says   string
		}{
			{httpBalancer, probes.Pass, "balancer://cluster 10.99.0.1:8080 (200), balancer://cluster 10.99.0.2:8080 (200)"},
			{strings.Replace(httpBalancer, "    ProxySet stickysession=JSESSIONID|jsessionid\n", "", 1), probes.Warn, "balancer://cluster"},
		} {
			c.modProxy(tc.conf)
			rep, _ := preflightJSON(t, c.web, c.tier.View(), "--iface", "cl0", "--skip", "ntp.sync", "--role", "web")
			if got := check(t, rep, "web.upstreams"); got.Status != tc.status || !strings.Contains(got.Summary, tc.says) {
				t.Errorf("web.upstreams over mod_proxy_http = %s: %s; want %s saying %q", got.Status, got.Summary, tc.status, tc.says)
			}
		}
		c.modProxy(httpBalancer)
		rep, r := c.sessionTest(httpdURL)
		if r.code != 0 || !rep.OK() || rep.Members[0].Scheme != "http" {
			t.Errorf("session-test through mod_proxy_http: exit %d, %+v %+v %q; want 0 over HTTP members", r.code, rep.Members, rep.Pairs, rep.Problems)
		}
		c.workers(healthyWorkers)
	})

	t.Run("a Tomcat stopped", func(t *testing.T) {
		c.tc["tomcat2"].Stop()
		if got := c.ajpWorkers(); got.Status != probes.Fail || !strings.Contains(got.Summary, "worker tomcat2: TCP to 10.99.0.2:8009 refused") {
			t.Errorf("ajp.workers = %s: %s; want fail, tomcat2 refused", got.Status, got.Summary)
		}
		rep, r := c.sessionTest(httpdURL)
		if p := verdictOf(t, rep, "tomcat1", "tomcat2"); r.code != 1 || p.Verdict != replication.NotTested || !strings.Contains(p.Reason, "refused") {
			t.Errorf("session-test: exit %d, tomcat1 > tomcat2 %s (%s); want 1, not tested, refused", r.code, p.Verdict, p.Reason)
		}
		c.restart("tomcat2", "tomcat2")
	})

	// Network faults on was2: session-test says which directions do not replicate, and
	// the destructive test (stop the serving Tomcat, reload) says the same, run right after
	// it in the same state of the cluster.
	// witness names, per Tomcat restarted, whose log shows the cluster formed again.
	hapURL := "" // HAProxy's, once it runs: see "through HAProxy"
	compare := func(t *testing.T, fault string, heal func(), witness map[string]string) {
		t.Logf("%s: session-test --url %s:\n%s", fault, httpdURL, c.sessionTestText(httpdURL))
		// The fault is on was2: tomcat2, restarted, would wait a minute for its state
		// across it, so it is healed before tomcat2, the last one, starts again.
		for _, dir := range [][2]string{{"tomcat1", "tomcat2"}, {"tomcat2", "tomcat1"}} {
			rep, r := c.sessionTest(httpdURL)
			got := verdictOf(t, rep, dir[0], dir[1])
			var viaHAP replication.Pair
			if hapURL != "" {
				hrep, _ := c.sessionTest(hapURL)
				viaHAP = verdictOf(t, hrep, dir[0], dir[1])
			}
			start := time.Now()
			want, after := c.failover(httpdURL, dir[0])
			if hapURL != "" && (viaHAP.Verdict == replication.Replicated) != want {
				t.Errorf("%s: %s > %s: session-test through HAProxy says %s (%s), the destructive test says replicated=%v", fault, dir[0], dir[1], viaHAP.Verdict, viaHAP.Reason, want)
			}
			t.Logf("%s: %s > %s: session-test (exit %d): %s %s; destructive test (%s): replicated %v (then %+v)",
				fault, dir[0], dir[1], r.code, got.Verdict, got.Reason, time.Since(start).Round(time.Millisecond), want, after)
			if (got.Verdict == replication.Replicated) != want {
				t.Errorf("%s: %s > %s: session-test says %s (%s), the destructive test says replicated=%v", fault, dir[0], dir[1], got.Verdict, got.Reason, want)
			}
			if !rep.OK() != (r.code == 1) || rep.OK() {
				t.Errorf("%s: session-test exit %d, ok %v; want 1, not ok", fault, r.code, rep.OK())
			}
			if dir[0] == "tomcat2" {
				heal()
			}
			start = time.Now()
			c.restart(dir[0], witness[dir[0]])
			t.Logf("%s: restarting %s took %s", fault, dir[0], time.Since(start).Round(time.Millisecond))
		}
	}

	// HAProxy in front of the same Tomcats' HTTP connectors, sticking by its own cookie,
	// for the rest of the test: session-test carries HAProxy's cookie as a browser does.
	// Healthy, it passes; under the faults below, its verdict of each direction is
	// compared with the destructive test's too.
	t.Run("through HAProxy", func(t *testing.T) {
		lab.RequireCommands(t, "haproxy")
		file := c.lab.WriteFile("session-haproxy.cfg", "global\n    maxconn 64\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n"+
			"frontend www\n    bind 10.99.0.10:82\n    default_backend tomcats\n"+
			"backend tomcats\n    cookie SERVERID insert indirect nocache\n    server tomcat1 10.99.0.1:8080 cookie t1\n    server tomcat2 10.99.0.2:8080 cookie t2\n")
		c.web.Start(lab.Private{}, "session-haproxy", "haproxy", "-db", "-f", file) // stopped with the lab
		c.web.WaitListening(t, "10.99.0.10:82")
		hapURL = "http://10.99.0.10:82/"
		rep, r := c.sessionTest(hapURL)
		if r.code != 0 || verdictOf(t, rep, "tomcat1", "tomcat2").Verdict != replication.Replicated || verdictOf(t, rep, "tomcat2", "tomcat1").Verdict != replication.Replicated {
			t.Errorf("session-test through HAProxy, healthy: exit %d, %+v, %+v, problems %q; want 0", r.code, rep.Pairs, rep.Stickiness, rep.Problems)
		}
	})

	t.Run("4000-4100/tcp dropped on was2", func(t *testing.T) {
		c.was["tomcat2"].Nft("table inet fault {\n chain input {\n  type filter hook input priority 0;\n  tcp dport 4000-4100 drop\n }\n}\n")
		// tomcat1 comes back while the fault is there: it cannot reach tomcat2's receiver, so
		// its TcpFailureDetector never admits tomcat2, but tomcat2 admits it.
		compare(t, "receiver range dropped", func() { c.was["tomcat2"].Nft("delete table inet fault\n") },
			map[string]string{"tomcat1": "tomcat2", "tomcat2": "tomcat2"})
	})

	t.Run("multicast route removed on was2", func(t *testing.T) {
		// As in the seeds: was2 starts with no 224.0.0.0/4 route and its default route on
		// another NIC, so its heartbeats leave by that NIC and membership never forms.
		c.tc["tomcat2"].Stop()
		c.was["tomcat2"].AddPublic()
		c.was["tomcat2"].DelMulticastRoute()
		c.restart("tomcat2", "")
		compare(t, "multicast route removed", func() {}, map[string]string{})
	})
}
