package main_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/cluster"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// clusterSeat runs `cluster` from the web host of a webCluster whose WAS hosts each run a
// real sshd: was1 has an old clusterdoctor on PATH (this one is copied there for the run),
// was2 this very binary (used as it is).
type clusterSeat struct {
	*webCluster
	key  string
	sshd map[string]*exec.Cmd
	env  map[string][]string
}

func newClusterSeat(t testing.TB, wc *webCluster) *clusterSeat {
	lab.RequireCommands(t, "ssh", "ssh-keygen")
	c := &clusterSeat{webCluster: wc, sshd: map[string]*exec.Cmd{}, env: map[string][]string{}}
	c.key = c.lab.SSHKey("seat-key")
	old, same := c.lab.Path("old-bin"), c.lab.Path("same-bin")
	for _, d := range []string{old, same} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(old, "clusterdoctor"), []byte("#!/bin/sh\necho clusterdoctor 0.0.1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(same, "clusterdoctor"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	c.env["tomcat1"] = []string{"PATH=" + old + ":/usr/sbin:/usr/bin:/sbin:/bin"}
	c.env["tomcat2"] = []string{"PATH=" + same + ":/usr/sbin:/usr/bin:/sbin:/bin"}
	for _, route := range []string{"tomcat1", "tomcat2"} {
		c.startSSHD(route, c.key+".pub")
		// Tomcat compiles the page on its first request, which can take longer than the
		// web checks wait for an answer.
		c.get("http://"+c.was[route].Addr.String()+":8080/", "")
	}
	return c
}

func (c *clusterSeat) startSSHD(route, authorized string, binds ...map[string]string) {
	priv := c.tc[route].Priv
	priv.Env = c.env[route]
	for _, b := range binds {
		priv.Binds = maps.Clone(priv.Binds)
		if priv.Binds == nil {
			priv.Binds = map[string]string{}
		}
		maps.Copy(priv.Binds, b)
	}
	c.sshd[route] = c.was[route].StartSSHD(priv, authorized)
}

// inventory writes an inventory of the three hosts in INI or YAML form.
func (c *clusterSeat) inventory(form string) string {
	if form == "yaml" {
		return c.lab.WriteFile("inventory.yml", fmt.Sprintf(`all:
  vars:
    ansible_user: root
    ansible_ssh_private_key_file: %s
  children:
    web:
      hosts:
        web: {ansible_host: 10.99.0.10}
    was:
      hosts:
        was1: {ansible_host: 10.99.0.1}
        was2:
          ansible_host: 10.99.0.2
`, c.key))
	}
	return c.lab.WriteFile("inventory.ini", fmt.Sprintf(`[web]
web ansible_host=10.99.0.10

[was]
was1 ansible_host=10.99.0.1
was2 ansible_host=10.99.0.2

[was:vars]
ansible_user=root

[all:vars]
ansible_ssh_private_key_file=%s
`, c.key))
}

// run runs cluster from the web host as an operator would, and reads its JSON.
func (c *clusterSeat) run(t testing.TB, args ...string) (*cluster.Report, run) {
	t.Helper()
	argv := append([]string{"cluster", "-o", "json", "--skip", "ntp.sync", "--ssh-option", "StrictHostKeyChecking=no",
		"--ssh-option", "UserKnownHostsFile=/dev/null", "--ssh-option", "LogLevel=ERROR"}, args...)
	r := execute(t, c.web.Command(c.tier.View(), binary, argv...))
	var rep cluster.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("cluster %v: exit %d, not JSON: %v\n%s\n%s", args, r.code, err, r.stdout, r.stderr)
	}
	return &rep, r
}

func (c *clusterSeat) text(t testing.TB, args ...string) string {
	t.Helper()
	argv := append([]string{"cluster", "--skip", "ntp.sync", "--ssh-option", "StrictHostKeyChecking=no",
		"--ssh-option", "UserKnownHostsFile=/dev/null", "--ssh-option", "LogLevel=ERROR"}, args...)
	r := execute(t, c.web.Command(c.tier.View(), binary, argv...))
	return r.stdout + r.stderr
}

// page runs cluster -o html and returns the page, wanting the exit code given.
func (c *clusterSeat) page(t *testing.T, code int, args ...string) []byte {
	t.Helper()
	argv := append([]string{"cluster", "-o", "html", "--skip", "ntp.sync", "--ssh-option", "StrictHostKeyChecking=no",
		"--ssh-option", "UserKnownHostsFile=/dev/null", "--ssh-option", "LogLevel=ERROR"}, args...)
	r := execute(t, c.web.Command(c.tier.View(), binary, argv...))
	if r.code != code || !strings.HasPrefix(r.stdout, "<!DOCTYPE html>") {
		t.Fatalf("cluster -o html: exit %d, want %d\n%.300s\n%s", r.code, code, r.stdout, r.stderr)
	}
	return []byte(r.stdout)
}

func hostOf(t *testing.T, rep *cluster.Report, name string) *cluster.HostReport {
	t.Helper()
	for _, h := range rep.Hosts {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("no host %s in the report", name)
	return nil
}

func comparison(rep *cluster.Report, what string) *cluster.Comparison {
	for i := range rep.Comparisons {
		if rep.Comparisons[i].What == what {
			return &rep.Comparisons[i]
		}
	}
	return nil
}

// findingsOf are the report's findings as "host what: summary" lines.
func findingsOf(rep *cluster.Report) []string {
	var out []string
	for _, f := range rep.Findings() {
		out = append(out, f.Host+" "+f.What+": "+f.Summary)
	}
	return out
}

// oneCause wants the run's findings to come down to one cause, on host, naming check,
// with every other finding under it.
func oneCause(t *testing.T, rep *cluster.Report, host, check string) {
	t.Helper()
	var got []string
	for _, c := range rep.Causes {
		got = append(got, c.Host+" "+c.Check)
	}
	if len(rep.Causes) != 1 || rep.Causes[0].Host != host || rep.Causes[0].Check != check || len(rep.Unexplained) > 0 {
		t.Errorf("causes %q, want one: %s %s; unexplained %+v; causes in full %+v", got, host, check, rep.Unexplained, rep.Causes)
	}
}

// clusterOverSSH diagnoses the lab's real cluster (two Tomcat 10.1 behind httpd with
// mod_jk) from the web host over real sshd: healthy, then with one fault at a time on one
// host, each finding on that host and reduced to one cause there, and with hosts that
// cannot be reached. It runs in TestSessionTestThroughTheWebTier's lab, which it leaves
// healthy (its last case wants the cluster healthy after --fix).
func clusterOverSSH(t *testing.T, c *clusterSeat) {
	ini := c.inventory("ini")

	t.Run("healthy", func(t *testing.T) {
		rep, r := c.run(t, "-i", ini, "--url", "http://10.99.0.10/")
		if r.code != 0 || len(rep.Causes) != 0 || len(rep.Unexplained) != 0 {
			t.Errorf("exit %d, want 0, no cause: %q\n%s", r.code, findingsOf(rep), c.text(t, "-i", ini, "--url", "http://10.99.0.10/"))
		}
		for _, name := range []string{"was1", "was2", "web"} {
			h := hostOf(t, rep, name)
			if !h.Reachable || len(h.Checks) == 0 {
				t.Errorf("%s: reachable %v, %d checks, error %q, problems %q", name, h.Reachable, len(h.Checks), h.Error, h.Problems)
			}
		}
		web, was1, was2 := hostOf(t, rep, "web"), hostOf(t, rep, "was1"), hostOf(t, rep, "was2")
		if was1.Mesh != nil && was1.Members != nil && web.SessionTest != nil {
			t.Logf("cluster took %d ms; was1: mesh %d ms, members %d ms; session-test %d ms", rep.DurationMs,
				was1.Mesh.DurationMs, was1.Members.DurationMs, web.SessionTest.DurationMs)
		}
		if !strings.HasPrefix(web.Binary, "this host") || web.SessionTest == nil || !web.SessionTest.OK() {
			t.Errorf("web: binary %q, session-test %+v", web.Binary, web.SessionTest)
		}
		for _, h := range []*cluster.HostReport{was1, was2} {
			if h.Mesh == nil || !h.Mesh.OK(1) || len(h.Mesh.Peers) != 1 || h.Members == nil || !h.Members.OK() || len(h.Members.Members) != 2 {
				t.Errorf("%s: mesh %+v, members %+v", h.Name, h.Mesh, h.Members)
			}
			if h.Settings == nil || !strings.Contains(strings.Join(h.Settings.WebPeers, " "), "10.99.0.10") || len(h.Settings.Peers) != 1 {
				t.Errorf("%s: preflight's peers are the other WAS host, its web peer the web host: %+v", h.Name, h.Settings)
			}
		}
		// was1's clusterdoctor on PATH is another one: this one was copied, and is gone.
		m := regexp.MustCompile(`^copied to (/\S+) `).FindStringSubmatch(was1.Binary)
		if m == nil {
			t.Errorf("was1: binary %q, want a copy", was1.Binary)
		} else if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
			t.Errorf("was1: %s is still there after the run (%v)", m[1], err)
		}
		if want := "on PATH: " + c.lab.Path("same-bin") + "/clusterdoctor"; was2.Binary != want {
			t.Errorf("was2: binary %q, want %q", was2.Binary, want)
		}
		for _, what := range []string{"Tomcat versions", "cluster settings", "applications", "application content", "jvmRoutes", "receivers", "clocks"} {
			cmp := comparison(rep, what)
			if cmp == nil || cmp.Breaks || len(cmp.Values) < 2 {
				t.Errorf("comparison %s: %+v", what, cmp)
			}
		}
		if cmp := comparison(rep, "jvmRoutes"); cmp != nil && !strings.Contains(cmp.Values["web"], "tomcat2=10.99.0.2:8009") {
			t.Errorf("jvmRoutes: the web host's workers are compared too: %+v", cmp)
		}
		if leftovers, _ := filepath.Glob("/tmp/clusterdoctor-ssh-*"); len(leftovers) > 0 {
			t.Errorf("the seat left its control directory: %v", leftovers)
		}
		// The picture: every host, both AJP paths, the heartbeats and replication, all ok.
		dom := renderInChromium(t, c.page(t, 0, "-i", ini, "--url", "http://10.99.0.10/"), "cluster-healthy")
		wantPicture(t, dom, rep, nil)
		for _, want := range []string{"Cluster healthy", `id="edge-ajp-web-was1"`, `id="edge-ajp-web-was2"`, `id="edge-multicast-was1-was2"`, `id="edge-replication-was1-was2"`} {
			if !strings.Contains(dom, want) {
				t.Errorf("the healthy cluster's page has no %s", want)
			}
		}
	})

	t.Run("hosts as arguments, roles detected", func(t *testing.T) {
		rep, r := c.run(t, "10.99.0.1", "10.99.0.2", "10.99.0.10", "--ssh-option", "IdentityFile="+c.key, "--ssh-option", "User=root")
		if r.code != 0 || len(rep.Hosts) != 3 {
			t.Errorf("exit %d, findings %q", r.code, findingsOf(rep))
		}
		for name, role := range map[string]string{"10.99.0.1": "was", "10.99.0.2": "was", "10.99.0.10": "web"} {
			h := hostOf(t, rep, name)
			if h.RolesFrom != "detected" || strings.Join(h.Roles, ",") != role || (role == "was") != (h.Mesh != nil) {
				t.Errorf("%s: roles %v from %q, mesh %v; want %s, detected", name, h.Roles, h.RolesFrom, h.Mesh != nil, role)
			}
		}
		// No --url, and the web host balances through httpd on / and through nginx on /:
		// which page makes a session is for the operator to say, and not a finding.
		if web := hostOf(t, rep, "10.99.0.10"); web.SessionTest != nil || len(web.Notes) != 1 || !strings.Contains(web.Notes[0], "the balancers serve 2 paths (JkMount /* lb") {
			t.Errorf("session-test without --url, two balancers: %+v, notes %q; want not run, and why", web.SessionTest, web.Notes)
		}
	})

	t.Run("hosts from the settings file", func(t *testing.T) {
		// nginx balances nothing for now: httpd's JkMount /* is the one page served
		c.nginxConf("server {\n    listen 10.99.0.10:81;\n    location / { return 404; }\n}\n")
		defer func() {
			c.tier.Nginx(nginxPort, nginxUpstream)
			c.restartNginx()
		}()
		conf := c.lab.WriteFile("clusterdoctor.yaml", "peers: [10.99.0.1, 10.99.0.2]\n")
		rep, r := c.run(t, "--config", conf, "--ssh-option", "IdentityFile="+c.key, "--ssh-option", "User=root")
		// No --url: the web host's session-test goes through the one page its mod_jk
		// balancer serves (JkMount /* lb), where httpd listens (Listen 10.99.0.10:80).
		if web := rep.Hosts[0]; web.SessionTest == nil || web.SessionTest.URL != "http://10.99.0.10/" || !web.SessionTest.OK() {
			t.Errorf("session-test without --url: %+v, notes %q, problems %q; want http://10.99.0.10/, replicated", web.SessionTest, web.Notes, web.Problems)
		}
		var names []string
		for _, h := range rep.Hosts {
			names = append(names, h.Name)
		}
		if r.code != 0 || strings.Join(names, " ") != "web 10.99.0.1 10.99.0.2" || !strings.HasPrefix(rep.Hosts[0].Binary, "this host") {
			t.Errorf("exit %d, hosts %v (want this host, then the peers), findings %q", r.code, names, findingsOf(rep))
		}
	})

	t.Run("application on one node only", func(t *testing.T) {
		dir := filepath.Join(c.tc["tomcat1"].Base, "webapps", "shop", "WEB-INF")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(filepath.Dir(dir))
		if err := os.WriteFile(filepath.Join(dir, "web.xml"), []byte(distributableWebXML), 0o644); err != nil {
			t.Fatal(err)
		}
		rep, r := c.run(t, "-i", c.inventory("yaml"))
		cmp := comparison(rep, "applications")
		if r.code != 1 || cmp == nil || !cmp.Breaks || !strings.Contains(cmp.Why, "/shop is deployed on was1 but not on was2") {
			t.Errorf("exit %d, applications %+v; findings %q", r.code, cmp, findingsOf(rep))
		}
		oneCause(t, rep, "was2", "applications")
	})

	t.Run("one jar different on one node", func(t *testing.T) {
		for route, version := range map[string]string{"tomcat1": "1.0", "tomcat2": "1.1"} {
			jar := filepath.Join(c.tc[route].Base, "webapps", "ROOT", "WEB-INF", "lib", "shop-model.jar")
			if err := os.MkdirAll(filepath.Dir(jar), 0o755); err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(filepath.Dir(jar))
			if err := os.WriteFile(jar, []byte(jarWith(t, map[string]string{"shop/Cart.class": "version " + version})), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		rep, r := c.run(t, "-i", ini)
		cmp := comparison(rep, "application content")
		if r.code != 1 || cmp == nil || !cmp.Breaks || !strings.Contains(cmp.Why, "localhost/ differs between was1 and was2: WEB-INF/lib/shop-model.jar differs") {
			t.Errorf("exit %d, application content %+v; findings %q", r.code, cmp, findingsOf(rep))
		}
		oneCause(t, rep, "was2", "application content")
	})

	// onlyOn wants check id failing on host and on no other host.
	onlyOn := func(t *testing.T, rep *cluster.Report, host, id string) {
		t.Helper()
		for _, h := range rep.Hosts {
			r := h.Check(id)
			if failed := r != nil && r.Status == probes.Fail; failed != (h.Name == host) {
				t.Errorf("%s's %s: %+v; want it failing on %s only; findings %q", h.Name, id, r, host, findingsOf(rep))
			}
		}
	}

	// notDistributable takes <distributable/> out of a node's ROOT until the returned
	// function puts it back, its mtime kept so that Tomcat does not redeploy it under the
	// cases after.
	notDistributable := func(t *testing.T, route string) (restore func()) {
		webXML := filepath.Join(c.tc[route].Base, "webapps", "ROOT", "WEB-INF", "web.xml")
		st, err := os.Stat(webXML)
		if err != nil {
			t.Fatal(err)
		}
		write := func(content string) {
			if err := os.WriteFile(webXML, []byte(content), 0o644); err != nil {
				t.Error(err)
			}
			if err := os.Chtimes(webXML, st.ModTime(), st.ModTime()); err != nil {
				t.Error(err)
			}
		}
		write(plainWebXML)
		return func() { write(distributableWebXML) }
	}

	t.Run("distributable missing on was2", func(t *testing.T) {
		defer notDistributable(t, "tomcat2")()
		rep, r := c.run(t, "-i", ini)
		onlyOn(t, rep, "was2", "tomcat.distributable")
		if r.code != 1 {
			t.Errorf("exit %d", r.code)
		}
		oneCause(t, rep, "was2", "tomcat.distributable")
	})

	t.Run("receiver range dropped on was2", func(t *testing.T) {
		c.was["tomcat2"].Nft("table inet fault {\n chain input {\n  type filter hook input priority 0;\n  tcp dport 4000-4100 drop\n }\n}\n")
		defer c.was["tomcat2"].Nft("delete table inet fault\n")
		rep, r := c.run(t, "-i", ini)
		onlyOn(t, rep, "was2", "firewall.ports")
		mesh := hostOf(t, rep, "was1").Mesh
		if r.code != 1 || mesh == nil || len(mesh.Peers) != 1 || mesh.Peers[0].TCP == nil || mesh.Peers[0].TCP.Outcome == "open" {
			t.Errorf("exit %d, was1's mesh to was2 %+v", r.code, mesh)
		}
		if cmp := comparison(rep, "receivers"); cmp == nil || !cmp.Breaks || !strings.Contains(cmp.Why, "was2 advertises 10.99.0.2:4000, which was1 finds dropped") {
			t.Errorf("receivers: %+v", cmp)
		}
		oneCause(t, rep, "was2", "firewall.ports")
		dom := renderInChromium(t, clusterPage(t, rep), "cluster-receiver-range-dropped")
		wantPicture(t, dom, rep, map[string]string{"replication-was1-was2": "was2 firewall.ports"})
	})

	t.Run("two faults at once", func(t *testing.T) {
		c.was["tomcat2"].Nft("table inet fault {\n chain input {\n  type filter hook input priority 0;\n  tcp dport 4000-4100 drop\n }\n}\n")
		defer c.was["tomcat2"].Nft("delete table inet fault\n")
		defer notDistributable(t, "tomcat1")()
		rep, _ := c.run(t, "-i", ini)
		got := map[string]cluster.Cause{}
		for _, cs := range rep.Causes {
			got[cs.Host+" "+cs.Check] = cs
		}
		ports, dist := got["was2 firewall.ports"], got["was1 tomcat.distributable"]
		if len(rep.Causes) != 2 || len(ports.Explains) == 0 || len(rep.Unexplained) > 0 {
			t.Errorf("causes %+v, unexplained %+v; want was2 firewall.ports with its symptoms and was1 tomcat.distributable", rep.Causes, rep.Unexplained)
		}
		for _, x := range dist.Explains {
			if x.Check != "session-test" {
				t.Errorf("was1's distributable explains %s %s: %s, a symptom of the firewall", x.Host, x.Check, x.Summary)
			}
		}
	})

	t.Run("host name on loopback on was2", func(t *testing.T) {
		// The file bound as was2's /etc/hosts in its sshd's view, changed in place.
		hosts := c.lab.Path("was2-hosts")
		if err := os.WriteFile(hosts, []byte("127.0.0.1\tlocalhost\n127.0.1.1\twas2\n10.99.0.1\twas1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(hosts, []byte(c.tc["tomcat2"].Priv.Hosts), 0o644)
		rep, r := c.run(t, "-i", ini)
		onlyOn(t, rep, "was2", "hosts.hostname")
		if r.code != 1 {
			t.Errorf("exit %d", r.code)
		}
		oneCause(t, rep, "was2", "hosts.hostname")

	})

	t.Run("jvmRoute not the worker's", func(t *testing.T) {
		c.workers(workersProperties([2]string{"tomcat1", "node2"}, ajpSecret))
		defer c.workers(healthyWorkers)
		rep, r := c.run(t, "-i", ini)
		cmp := comparison(rep, "jvmRoutes")
		if r.code != 1 || cmp == nil || !cmp.Breaks || !strings.Contains(cmp.Why, "web's worker node2 (10.99.0.2:8009) expects route node2 but was2's jvmRoute is tomcat2") {
			t.Errorf("exit %d, jvmRoutes %+v", r.code, cmp)
		}
		oneCause(t, rep, "was2", "jvmRoutes")
		dom := renderInChromium(t, clusterPage(t, rep), "cluster-jvmroute-not-the-workers")
		wantPicture(t, dom, rep, map[string]string{"ajp-web-was2": "was2 jvmRoutes"})
	})

	// tomcat2 restarted with its AJP connector on loopback (Tomcat's default since 9.0.31):
	// the balancer's worker is refused, and that is was2's tomcat.ajp alone.
	t.Run("AJP on loopback on was2", func(t *testing.T) {
		healthy := c.specs["tomcat2"]
		loopback := healthy
		loopback.Files = maps.Clone(healthy.Files)
		loopback.Files["conf/server.xml"] = tcConf{JvmRoute: "tomcat2", AJP: `<Connector protocol="AJP/1.3" address="127.0.0.1" port="8009" secretRequired="false"/>`}.serverXML()
		c.tc["tomcat2"].Stop()
		c.specs["tomcat2"] = loopback
		c.restart("tomcat2", "tomcat2")
		defer func() {
			c.tc["tomcat2"].Stop()
			c.specs["tomcat2"] = healthy
			c.restart("tomcat2", "tomcat2")
		}()
		rep, r := c.run(t, "-i", ini)
		if ajp := hostOf(t, rep, "was2").Check("tomcat.ajp"); r.code != 1 || ajp == nil || ajp.Status != probes.Fail {
			t.Errorf("exit %d, was2's tomcat.ajp %+v", r.code, ajp)
		}
		oneCause(t, rep, "was2", "tomcat.ajp")
		dom := renderInChromium(t, clusterPage(t, rep), "cluster-ajp-on-loopback")
		wantPicture(t, dom, rep, map[string]string{"ajp-web-was2": "was2 tomcat.ajp"})
	})

	t.Run("hosts not reached", func(t *testing.T) {
		c.was["tomcat2"].Stop(c.sshd["tomcat2"])
		rep, r := c.run(t, "-i", ini)
		was1, was2 := hostOf(t, rep, "was1"), hostOf(t, rep, "was2")
		if r.code != 1 || was2.Reachable || !strings.Contains(was2.Error, "Connection refused") || !strings.Contains(was2.Error, "start sshd") ||
			!was1.Reachable || len(was1.Checks) == 0 {
			t.Errorf("sshd stopped on was2: exit %d, was2 %q, was1 reachable %v with %d checks", r.code, was2.Error, was1.Reachable, len(was1.Checks))
		}
		oneCause(t, rep, "was2", "ssh")
		c.startSSHD("tomcat2", c.lab.SSHKey("another-key")+".pub")
		rep, r = c.run(t, "-i", ini)
		was2 = hostOf(t, rep, "was2")
		if r.code != 1 || was2.Reachable || !strings.Contains(was2.Error, "Permission denied") || !strings.Contains(was2.Error, "authorized_keys") {
			t.Errorf("key refused on was2: exit %d, was2 %q", r.code, was2.Error)
		}
		c.was["tomcat2"].Stop(c.sshd["tomcat2"])
		c.startSSHD("tomcat2", c.key+".pub")

		// Host keys checked against an empty known_hosts, and a host where nothing answers
		// (an address of the lab's subnet that no namespace holds).
		ghost := c.lab.WriteFile("inventory-ghost.ini", fmt.Sprintf("[was]\nwas1 ansible_host=10.99.0.1\nghost ansible_host=10.99.0.77\n"+
			"[all:vars]\nansible_user=root\nansible_ssh_private_key_file=%s\n", c.key))
		r = execute(t, c.web.Command(c.tier.View(), binary, "cluster", "-o", "json", "--skip", "ntp.sync", "-i", ghost, "--connect-timeout", "2s",
			"--ssh-option", "UserKnownHostsFile=/dev/null", "--ssh-option", "StrictHostKeyChecking=yes", "--ssh-option", "LogLevel=ERROR"))
		var strict cluster.Report
		if err := json.Unmarshal([]byte(r.stdout), &strict); err != nil {
			t.Fatalf("not JSON: %v\n%s%s", err, r.stdout, r.stderr)
		}
		was1, gone := hostOf(t, &strict, "was1"), hostOf(t, &strict, "ghost")
		if r.code != 3 || !strings.Contains(was1.Error, "Host key verification failed") || !strings.Contains(was1.Error, "known_hosts") ||
			!strings.Contains(gone.Error, "10.99.0.77") || !strings.Contains(gone.Error, "check the address") {
			t.Errorf("exit %d (want 3: no host reached); was1 %q; ghost %q", r.code, was1.Error, gone.Error)
		}
	})

	t.Run("become", func(t *testing.T) {
		lab.RequireCommands(t, "sudo")
		inv := c.lab.WriteFile("inventory-op.ini", fmt.Sprintf("[was]\nwas1 ansible_host=10.99.0.1 ansible_user=root\n"+
			"was2 ansible_host=10.99.0.2 ansible_user=op ansible_become=true\n[all:vars]\nansible_ssh_private_key_file=%s\n", c.key))
		for _, tc := range []struct{ sudoers, want string }{
			{"root ALL=(ALL:ALL) ALL\nop ALL=(ALL) NOPASSWD: ALL\n", ""},
			{"root ALL=(ALL:ALL) ALL\nop ALL=(ALL) ALL\n", "sudo: a password is required"},
		} {
			c.was["tomcat2"].Stop(c.sshd["tomcat2"])
			c.startSSHD("tomcat2", c.key+".pub", c.lab.LoginUser("op", tc.sudoers))
			rep, r := c.run(t, "-i", inv)
			was2 := hostOf(t, rep, "was2")
			switch {
			case tc.want == "" && (!was2.Reachable || !strings.HasSuffix(was2.Binary, "through sudo -n") || was2.Check("tomcat.receiver") == nil || len(was2.Problems) > 0):
				t.Errorf("op with sudo NOPASSWD: exit %d, was2 %q %q %q", r.code, was2.Error, was2.Binary, was2.Problems)
			case tc.want != "" && (r.code != 1 || was2.Reachable || !strings.Contains(was2.Error, tc.want) || !strings.Contains(was2.Error, "NOPASSWD")):
				t.Errorf("op whose sudo needs a password: exit %d, was2 %q", r.code, was2.Error)
			}
		}
		c.was["tomcat2"].Stop(c.sshd["tomcat2"])
		c.startSSHD("tomcat2", c.key+".pub")
	})

	t.Run("multicast route missing", func(t *testing.T) {
		c.was["tomcat2"].DelMulticastRoute()
		defer c.was["tomcat2"].AddMulticastRoute()
		rep, r := c.run(t, "was1", "was2", "web", "-i", ini)
		was2 := hostOf(t, rep, "was2")
		route := was2.Check("route.multicast")
		if r.code != 1 || route == nil || route.Status != probes.Fail {
			t.Errorf("exit %d, was2's route.multicast %+v; findings %q", r.code, route, findingsOf(rep))
		}
		for _, h := range rep.Hosts {
			if r := h.Check("route.multicast"); h.Name != "was2" && r != nil && r.Status == probes.Fail {
				t.Errorf("%s's route.multicast fails: the fault is was2's", h.Name)
			}
		}
		oneCause(t, rep, "was2", "route.multicast")
	})

	// Two fixes on two hosts, one of which fails for real: was1 lacks its multicast route,
	// and a real firewalld on was2 (its default zone, public, lets in ssh and nothing of the
	// cluster) cannot save its configuration (read-only). --fix routes was1 and keeps it;
	// on was2 the port opened at runtime is closed again when the permanent one fails, and
	// the failure is named. With the configuration writable again, --fix opens the ports
	// through firewalld's D-Bus API, runtime and permanent, and the cluster is healthy.
	t.Run("fix", func(t *testing.T) {
		was1, was2 := c.was["tomcat1"], c.was["tomcat2"]
		bus := was2.StartSystemBus()
		fw := was2.StartFirewalld(bus, nil)
		defer fw.Stop()
		// nginx balances over the HTTP connector, which is no cluster port: opened as
		// the site's own rule
		fw.Cmd("--add-port=8080/tcp")
		fw.Cmd("--permanent", "--add-port=8080/tcp")
		env := c.env["tomcat2"]
		c.env["tomcat2"] = append(slices.Clone(env), "DBUS_SYSTEM_BUS_ADDRESS="+bus) // what was2's sessions see
		was2.Stop(c.sshd["tomcat2"])
		c.startSSHD("tomcat2", c.key+".pub")
		defer func() {
			c.env["tomcat2"] = env
			was2.Stop(c.sshd["tomcat2"])
			c.startSSHD("tomcat2", c.key+".pub")
		}()
		was1.DelMulticastRoute()
		defer func() {
			if len(was1.Routes("224.0.0.0/4")) == 0 {
				was1.AddMulticastRoute()
			}
		}()
		writable := fw.ReadOnlyConfig()

		rep, r := c.run(t, "-i", ini, "--fix", "--yes")
		fixes := map[string]cluster.Fix{}
		for _, f := range rep.Fixes {
			fixes[f.Host+" "+strings.Join(f.Command, " ")] = f
		}
		route, firewall := fixes["was1 fix route --iface cl0"], fixes["was2 fix firewall --iface cl0"]
		if len(rep.Fixes) != 2 || !route.Applied || firewall.Applied || !strings.Contains(firewall.Error, "Read-only file system") || !strings.Contains(firewall.Error, "rolled back") {
			t.Errorf("fixes %+v; want was1's route applied, was2's firewall failed (read-only) and rolled back\n%s", rep.Fixes, r.stderr)
		}
		if !strings.Contains(r.stderr, "== was1: clusterdoctor fix route --iface cl0 (for route.multicast) ==") || !strings.Contains(r.stderr, "ip route replace 224.0.0.0/4") {
			t.Errorf("the plan was not shown before it was applied:\n%s", r.stderr)
		}
		if got := hostOf(t, rep, "was1").Check("route.multicast"); r.code != 1 || got == nil || got.Status != probes.Pass {
			t.Errorf("exit %d, was1's route.multicast after %+v; want 1 (was2's ports still closed) and pass", r.code, got)
		}
		if got := hostOf(t, rep, "was2").Check("firewall.ports"); got == nil || got.Status != probes.Fail {
			t.Errorf("was2's firewall.ports after the failed fix: %+v; want fail", got)
		}
		if got := fw.Cmd("--zone=public", "--list-ports"); strings.Contains(got, "45564/udp") || strings.Contains(got, "4000") {
			t.Errorf("firewalld's runtime public zone after the failed fix: %s; want it as it was (8080/tcp only)", got)
		}
		for _, want := range []string{"was1 route.multicast", "was2 firewall.ports"} {
			if !slices.ContainsFunc(rep.Before, func(f cluster.Finding) bool { return f.Host+" "+f.What == want }) {
				t.Errorf("the findings before the fix lack %s: %+v", want, rep.Before)
			}
		}

		writable()
		rep, r = c.run(t, "-i", ini, "--fix", "--yes")
		ports := hostOf(t, rep, "was2").Check("firewall.ports")
		if r.code != 0 || len(rep.Fixes) != 1 || !rep.Fixes[0].Applied || strings.Join(rep.Fixes[0].Command, " ") != "fix firewall --iface cl0" ||
			ports == nil || ports.Status != probes.Pass {
			t.Errorf("exit %d, fixes %+v, was2's firewall.ports after %+v; findings after %q\n%s", r.code, rep.Fixes, ports, findingsOf(rep), r.stderr)
		}
		if got := fw.Cmd("--permanent", "--zone=public", "--list-ports"); !strings.Contains(got, "45564/udp") {
			t.Errorf("firewalld's permanent public zone after the fix: %s", got)
		}
	})
}
