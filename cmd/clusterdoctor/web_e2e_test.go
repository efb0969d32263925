package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
	"github.com/clusterdoctor/clusterdoctor/probes/replication"
)

// webTree writes a Debian httpd + mod_jk configuration under a temp root: apache2.conf
// including mods-enabled/*.conf, jk.conf with JkWorkersFile and the given JkMount line, and
// workers.properties.
func webTree(t *testing.T, jkMount, workers string) string {
	t.Helper()
	return newTree(t, map[string]string{
		"etc/apache2/apache2.conf":                 "ServerRoot \"/etc/apache2\"\nIncludeOptional mods-enabled/*.load\nIncludeOptional mods-enabled/*.conf\n",
		"etc/apache2/mods-enabled/jk.load":         "LoadModule jk_module /usr/lib/apache2/modules/mod_jk.so\n",
		"etc/apache2/mods-enabled/jk.conf":         "<IfModule jk_module>\n    JkWorkersFile /etc/libapache2-mod-jk/workers.properties\n    " + jkMount + "\n</IfModule>\n",
		"etc/libapache2-mod-jk/workers.properties": workers,
		"etc/hosts":    "127.0.0.1 localhost\n10.99.0.10 web\n",
		"etc/hostname": "web\n",
	})
}

// newTree writes files (paths relative to the root) under a new temp root.
func newTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	writeTree(t, root, files)
	return root
}

// TestWebTierAgainstRealTomcats: a web host's mod_jk and nginx configurations checked against two
// real Tomcat 10.1: one whose AJP connector listens on the cluster address, one left on
// the loopback default. Each worker is reached as mod_jk reaches it (TCP, then a CPing
// answered by a CPong); the seeds' configuration mistakes are named with file and line.
func TestWebTierAgainstRealTomcats(t *testing.T) {
	lab.RequireTomcat(t)
	t.Parallel() // its lab is its own, and discovery keeps to each lab host's namespace
	l := lab.New(t)
	a, b, w := l.AddHost("was1", 1), l.AddHost("was2", 2), l.AddHost("web", 10)
	for _, h := range []*lab.Host{a, b, w} {
		h.AddMulticastRoute()
	}
	ta := a.StartTomcat(lab.TomcatSpec{Name: "was1", Hostname: "was1", Hosts: hostsFor("was1", "10.99.0.1"),
		Files: tcConf{JvmRoute: "tomcat1", AJP: `<Connector protocol="AJP/1.3" address="10.99.0.1" port="8009" secretRequired="false"/>`}.files()})
	tb := b.StartTomcat(lab.TomcatSpec{Name: "was2", Hostname: "was2", Hosts: hostsFor("was2", "10.99.0.2"),
		Files: tcConf{JvmRoute: "tomcat2", AJP: `<Connector protocol="AJP/1.3" port="8009" secretRequired="false"/>`}.files()})
	// The connectors bind at init and accept only once started: wait for the start.
	if log := ta.Started(t); !strings.Contains(log, `"ajp-nio-10.99.0.1-8009"`) {
		t.Fatalf("was1's AJP connector is not on 10.99.0.1:8009:\n%s", log)
	}
	if log := tb.Started(t); !strings.Contains(log, `"ajp-nio-127.0.0.1-8009"`) {
		t.Fatalf("was2's AJP connector is not on loopback:\n%s", log)
	}

	const one = "worker.list=lb\nworker.lb.type=lb\nworker.lb.balance_workers=tomcat1\n" +
		"worker.tomcat1.type=ajp13\nworker.tomcat1.host=10.99.0.1\nworker.tomcat1.port=8009\n"
	const both = "worker.list=lb\nworker.lb.type=lb\nworker.lb.balance_workers=tomcat1,tomcat2\nworker.lb.sticky_session=true\n" +
		"worker.tomcat1.type=ajp13\nworker.tomcat1.host=10.99.0.1\nworker.tomcat1.port=8009\n" +
		"worker.tomcat2.type=ajp13\nworker.tomcat2.host=10.99.0.2\nworker.tomcat2.port=8009\n"
	for _, tc := range []struct {
		name, mount, workers string
		status               probes.Status
		says                 string
	}{
		{"healthy", "JkMount /* lb", one, probes.Pass, "1 AJP workers answer a CPing: tomcat1 10.99.0.1:8009"},
		{"AJP on loopback", "JkMount /* lb", both, probes.Fail, "worker tomcat2: TCP to 10.99.0.2:8009 refused"},
		{"an HTTP port as worker", "JkMount /* lb", strings.Replace(one, "port=8009", "port=8080", 1), probes.Fail, "not a CPong"},
		{"the seed's JkMount with a comment", "JkMount /* lb # 이 부분만 변경", one, probes.Fail, "has 6 arguments"},
		{"a mount to no worker", "JkMount /*.jsp worker1", one, probes.Fail, `worker "worker1", which worker.list`},
		{"sticky sessions off", "JkMount /* lb", one + "worker.lb.sticky_session=0\n", probes.Warn, "sticky_session=0"},
		{"a member never defined", "JkMount /* lb", strings.Replace(one, "balance_workers=tomcat1", "balance_workers=tomcat1,tomcat3", 1), probes.Fail, "names tomcat3 in balance_workers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := webTree(t, tc.mount, tc.workers)
			rep, _ := preflightJSON(t, w, lab.Private{}, "--root", root, "--iface", "cl0")
			got := check(t, rep, "ajp.workers")
			if got.Status != tc.status || !strings.Contains(got.Summary+" "+got.Detail, tc.says) {
				t.Errorf("ajp.workers = %s: %s (%s); want %s saying %q", got.Status, got.Summary, got.Detail, tc.status, tc.says)
			}
		})
	}
	// With the agent on was1, the web host learns its jvmRoute over the peers' protocol: a
	// worker whose route is not it fails, naming both.
	agent := a.Start(noFirewalld, "agent-was1", binary, "agent", "--iface", "cl0", "--tomcat", ta.Base, "--tomcat-home", lab.TomcatHome,
		"--interval", "5s", "--skip", "ntp.sync,hosts.hostname")
	// and on was2, whose server.xml says where its AJP connector listens
	agent2 := b.Start(noFirewalld, "agent-was2", binary, "agent", "--iface", "cl0", "--tomcat", tb.Base, "--tomcat-home", lab.TomcatHome,
		"--interval", "5s", "--skip", "ntp.sync,hosts.hostname")
	time.Sleep(1500 * time.Millisecond)
	for _, tc := range []struct {
		name, workers string
		status        probes.Status
		says          string
	}{
		{"route equals jvmRoute", one, probes.Pass, "every route equals its Tomcat's jvmRoute (1 of 1 asked)"},
		{"route differs", strings.ReplaceAll(one, "tomcat1", "was1"), probes.Fail, `worker was1 expects route "was1", but the Tomcat at 10.99.0.1 has jvmRoute "tomcat1"`},
		{"route set apart", strings.ReplaceAll(one, "tomcat1", "was1") + "worker.was1.route=tomcat1\n", probes.Pass, "(1 of 1 asked)"},
		{"AJP on loopback, as was2's clusterdoctor says", both, probes.Fail,
			"worker tomcat2: TCP to 10.99.0.2:8009 refused: 10.99.0.2 answered with a TCP reset (nothing listens on port 8009): the clusterdoctor there says Tomcat 10.1"},
		{"AJP on loopback, named", both, probes.Fail, "AJP connector listens on localhost:8009, loopback only (set address= on the <Connector> to this host's cluster address, 10.99.0.2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, _ := preflightJSON(t, w, lab.Private{}, "--root", webTree(t, "JkMount /* lb", tc.workers), "--iface", "cl0")
			got := check(t, rep, "ajp.workers")
			if got.Status != tc.status || !strings.Contains(got.Summary+" "+got.Detail, tc.says) {
				t.Errorf("ajp.workers = %s: %s (%s); want %s saying %q", got.Status, got.Summary, got.Detail, tc.status, tc.says)
			}
		})
	}

	// Without the agent, the operator gives the routes (--route JVMROUTE=HOST), or is told how.
	for _, ag := range []*exec.Cmd{agent, agent2} {
		ag.Process.Kill()
		ag.Wait()
	}
	for _, tc := range []struct {
		name   string
		args   []string
		status probes.Status
		says   string
	}{
		{"no route known", nil, probes.Pass, "or give it: --route JVMROUTE=10.99.0.1"},
		{"--route agrees", []string{"--route", "tomcat1=10.99.0.1"}, probes.Pass, "(1 of 1 asked)"},
		{"--route differs", []string{"--route", "was9=10.99.0.1"}, probes.Fail, `has (as --route gives it) jvmRoute "was9"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, _ := preflightJSON(t, w, lab.Private{}, append([]string{"--root", webTree(t, "JkMount /* lb", one), "--iface", "cl0"}, tc.args...)...)
			got := check(t, rep, "ajp.workers")
			if got.Status != tc.status || !strings.Contains(got.Summary+" "+got.Detail, tc.says) {
				t.Errorf("ajp.workers = %s: %s (%s); want %s saying %q", got.Status, got.Summary, got.Detail, tc.status, tc.says)
			}
		})
	}

	// nginx in front of the same two Tomcats' HTTP connectors.
	for _, tc := range []struct {
		name, upstream string
		status         probes.Status
		says           string
	}{
		{"round robin", "server 10.99.0.1:8080;\n        server 10.99.0.2:8080;", probes.Warn, "balances by round-robin"},
		{"ip_hash", "ip_hash;\n        server 10.99.0.1:8080;\n        server 10.99.0.2:8080;", probes.Pass, "2 upstream members answer HTTP"},
		{"a member down for nginx", "ip_hash;\n        server 10.99.0.1:8080;\n        server 10.99.0.2:8080 down;", probes.Pass, "1 upstream members answer HTTP"},
		{"nothing on the port", "hash $cookie_JSESSIONID consistent;\n        server 10.99.0.1:8080;\n        server 10.99.0.1:8081;", probes.Fail, "TCP to 10.99.0.1:8081 refused"},
		{"the AJP port as a member", "ip_hash;\n        server 10.99.0.1:8009;", probes.Fail, "accepts TCP but"},
	} {
		t.Run("nginx "+tc.name, func(t *testing.T) {
			rep, _ := preflightJSON(t, w, lab.Private{}, "--root", nginxTree(t, tc.upstream), "--iface", "cl0")
			got := check(t, rep, "web.upstreams")
			if got.Status != tc.status || !strings.Contains(got.Summary+" "+got.Detail, tc.says) {
				t.Errorf("web.upstreams = %s: %s (%s); want %s saying %q", got.Status, got.Summary, got.Detail, tc.status, tc.says)
			}
		})
	}

	runningServersRead(t, l, w, one)
	haproxyModes(t, l, w)
	balancerManagerRead(t, l, w)

	if rep, _ := preflightJSON(t, a, wasView(t, a, "was1"), "--tomcat", ta.Base, "--tomcat-home", lab.TomcatHome, "--skip", "ntp.sync"); check(t, rep, "ajp.workers").Status != probes.Skip {
		t.Errorf("ajp.workers on a Tomcat host without httpd: %s; want skip", check(t, rep, "ajp.workers").Status)
	}
}

// TestJkMountAsHttpdReadsIt: for every shape of JkMount the seeds and the docs show,
// ajp.workers says httpd refuses to start exactly when the real httpd with the real mod_jk
// says so (apache2 -t).
func TestJkMountAsHttpdReadsIt(t *testing.T) {
	lab.RequireCommands(t, "apache2")
	const modules = "/usr/lib/apache2/modules"
	if _, err := os.Stat(modules + "/mod_jk.so"); err != nil {
		t.Skip("skipped: mod_jk is not installed (the README's test command installs libapache2-mod-jk)")
	}
	const workers = "worker.list=lb\nworker.lb.type=lb\nworker.lb.balance_workers=tomcat1\nworker.tomcat1.host=127.0.0.1\n"
	for _, mount := range []string{
		"JkMount /* lb",
		"JkMount /* lb # 이 부분만 변경",
		"JkMount /*.jsp",
		"JkMount lb",
		"<Location /app>\n    JkMount lb\n</Location>",
		"JkMount /app/* lb extra",
	} {
		dir := t.TempDir()
		conf := filepath.Join(dir, "httpd.conf")
		os.WriteFile(filepath.Join(dir, "workers.properties"), []byte(workers), 0o644)
		os.WriteFile(conf, []byte("ServerRoot "+dir+"\nServerName localhost\n"+
			"LoadModule mpm_event_module "+modules+"/mod_mpm_event.so\nLoadModule authz_core_module "+modules+"/mod_authz_core.so\n"+
			"LoadModule jk_module "+modules+"/mod_jk.so\nListen 127.0.0.1:8099\nPidFile "+dir+"/pid\nErrorLog "+dir+"/error.log\n"+
			"JkWorkersFile "+dir+"/workers.properties\nJkShmFile "+dir+"/jk.shm\n"+mount+"\n"), 0o644)
		out, err := exec.Command("apache2", "-t", "-f", conf).CombinedOutput()
		httpdRefuses := err != nil

		root := webTree(t, mount, workers)
		r := execute(t, exec.Command(binary, "preflight", "-o", "json", "--root", root, "--iface", "lo")) // its only traffic: a TCP try to 127.0.0.1
		var rep probes.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("preflight: exit %d, not JSON: %v\n%s", r.code, err, r.stderr)
		}
		got := check(t, rep, "ajp.workers")
		weSay := strings.Contains(got.Summary+got.Detail, "httpd refuses to start")
		if weSay != httpdRefuses {
			t.Errorf("%q: apache2 -t says %q (refuses: %v); ajp.workers says %s: %s", mount, strings.TrimSpace(string(out)), httpdRefuses, got.Status, got.Summary)
		}
	}
}

// nginxTree writes an nginx configuration under a temp root: nginx.conf including
// conf.d/*.conf, and a cluster.conf with the upstream block given and a server proxying
// to it.
func nginxTree(t *testing.T, upstream string) string {
	t.Helper()
	return newTree(t, map[string]string{
		"etc/nginx/nginx.conf":          "events {\n    worker_connections 64;\n}\nhttp {\n    include conf.d/*.conf;\n}\n",
		"etc/nginx/conf.d/cluster.conf": "upstream tomcats {\n        " + upstream + "\n}\nserver {\n    listen 80;\n    location / {\n        proxy_pass http://tomcats;\n    }\n}\n",
		"etc/hosts":                     "127.0.0.1 localhost\n10.99.0.10 web\n",
		"etc/hostname":                  "web\n",
	})
}

// TestNginxSyntaxAsNginxReadsIt: web.upstreams calls a configuration broken exactly when
// the real nginx -t does, for the shapes that trip a hand edit.
func TestNginxSyntaxAsNginxReadsIt(t *testing.T) {
	lab.RequireCommands(t, "nginx")
	for _, upstream := range []string{
		"server 127.0.0.1:8080;",
		"server 127.0.0.1:8080",    // no ';'
		"server 127.0.0.1:8080; }", // a brace too many
		"server \"127.0.0.1:8080\"; # a comment",
		"server 127.0.0.1:8080; server '127.0.0.1:8081",
	} {
		root := nginxTree(t, upstream)
		dir := filepath.Join(root, "etc/nginx")
		out, err := exec.Command("nginx", "-t", "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"),
			"-g", "pid "+filepath.Join(dir, "nginx.pid")+";").CombinedOutput()
		nginxRefuses := err != nil && !strings.Contains(string(out), "Permission denied")
		r := execute(t, exec.Command(binary, "preflight", "-o", "json", "--root", root, "--iface", "lo", "--skip", "ajp.workers")) // its only traffic: TCP to 127.0.0.1
		var rep probes.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("preflight: exit %d, not JSON: %v\n%s", r.code, err, r.stderr)
		}
		got := check(t, rep, "web.upstreams")
		weSay := strings.Contains(got.Summary+got.Detail, "nginx -t refuses it")
		if weSay != nginxRefuses {
			t.Errorf("%q: nginx -t says %q (refuses: %v); web.upstreams says %s: %s", upstream, strings.TrimSpace(string(out)), nginxRefuses, got.Status, got.Summary)
		}
	}
}

// runningServersRead: httpd started as `apache2 -d DIR -f conf/httpd.conf -C 'Define
// CLUSTER'` and nginx as `nginx -p DIR -c conf/nginx.conf -g 'include http.conf;'`, both
// outside /etc, while Debian's stock
// apache2, mod_jk and nginx files are in /etc: preflight (no flag) reads the running
// servers' configurations as they do (the ServerRoot, the relative paths, <IfDefine> by
// -D), a fault injected there fails, and session-test finds the members without --member.
func runningServersRead(t *testing.T, l *lab.Lab, w *lab.Host, workers string) {
	t.Helper()
	for _, f := range []string{"/etc/apache2/apache2.conf", "/etc/libapache2-mod-jk/workers.properties", "/etc/nginx/nginx.conf"} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%s: %v (the README's test command installs the stock packages)", f, err)
		}
	}
	dir := ownHTTPD(t, l, "own-httpd", "10.99.0.10:8090", []string{"jk"}, `Define JKCONF conf
JkWorkersFile ${JKCONF}/${JK_WORKERS_NAME}
JkShmFile RUN/jk.shm
JkLogFile RUN/jk.log
<IfDefine CLUSTER>
JkMount /* lb
<Location /jkstatus>
JkMount jkstatus
Require ip 10.99.0.10
</Location>
</IfDefine>
<IfDefine !CLUSTER>
JkMount /* nosuchworker
</IfDefine>
`)
	writeTree(t, dir, map[string]string{
		"conf/workers.properties": workers + jkStatusWorker,
		// what apache2ctl would source; the running httpd below gets it in its environment
		"envvars": "export JK_WORKERS_NAME=workers.properties\n",
	})
	ndir := l.Path("own-nginx")
	writeTree(t, ndir, map[string]string{
		// the running nginx gets its http block from -g; nginx-all.conf is the whole in one
		"conf/nginx.conf":     fmt.Sprintf("pid %[1]s/nginx.pid;\nerror_log %[1]s/nginx-error.log;\nevents {\n    worker_connections 64;\n}\n", ndir),
		"conf/http.conf":      "http {\n    access_log off;\n    include upstreams.conf;\n}\n",
		"conf/nginx-all.conf": fmt.Sprintf("pid %[1]s/nginx.pid;\nerror_log %[1]s/nginx-error.log;\nevents {\n    worker_connections 64;\n}\ninclude http.conf;\n", ndir),
		"conf/upstreams.conf": "upstream tomcats {\n    ip_hash;\n    server 10.99.0.1:8080;\n    server 10.99.0.2:8080;\n}\nserver {\n    listen 10.99.0.10:8091;\n    location / {\n        proxy_pass http://tomcats;\n    }\n}\n",
	})
	// Named before they run: read as `apache2 -f FILE` and `nginx -c FILE` would read them,
	// and nothing else (not Debian's stock files in /etc). Without -DCLUSTER, httpd mounts
	// everything on a worker that does not exist.
	rep, r := preflightJSON(t, w, lab.Private{}, "--iface", "cl0", "--skip", "ntp.sync",
		"--httpd-conf", filepath.Join(dir, "conf/httpd.conf"), "--nginx-conf", filepath.Join(ndir, "conf/nginx-all.conf"))
	if got := check(t, rep, "ajp.workers"); got.Status != probes.Fail || !strings.Contains(got.Summary+got.Detail, "nosuchworker") {
		t.Errorf("ajp.workers with --httpd-conf %s (no -DCLUSTER): %s %q (%s); want fail naming nosuchworker (exit %d)", dir, got.Status, got.Summary, got.Detail, r.code)
	}
	if up := check(t, rep, "web.upstreams"); up.Status != probes.Pass || !strings.Contains(up.Summary, "2 upstream members answer HTTP") {
		t.Errorf("web.upstreams with --nginx-conf %s: %s %q (%s); want pass from that file", ndir, up.Status, up.Summary, up.Detail)
	}
	// CLUSTER is defined by a -C directive, and nginx's http block comes from -g: both read
	// as the servers read them, or ajp.workers fails and web.upstreams finds nothing.
	// JkWorkersFile is ${JKCONF}/${JK_WORKERS_NAME}: a Define and httpd's environment.
	w.Start(lab.Private{Env: []string{"JK_WORKERS_NAME=workers.properties"}}, "own-httpd", "apache2", "-d", dir, "-f", "conf/httpd.conf", "-DFOREGROUND", "-C", "Define CLUSTER")
	w.Start(lab.Private{}, "own-nginx", "nginx", "-p", ndir, "-c", "conf/nginx.conf", "-g", "daemon off; include http.conf;")
	for _, port := range []string{"8090", "8091"} {
		w.WaitListening(t, "10.99.0.10:"+port)
	}

	rep, r = preflightJSON(t, w, lab.Private{}, "--iface", "cl0", "--skip", "ntp.sync")
	got := check(t, rep, "ajp.workers")
	if got.Status != probes.Pass || !strings.Contains(got.Summary, "tomcat1 10.99.0.1:8009") || strings.Contains(got.Detail, "status worker") {
		t.Errorf("ajp.workers with a running httpd -d %s: %s %q (%s); want pass from its own workers.properties, its status worker read (exit %d)", dir, got.Status, got.Summary, got.Detail, r.code)
	}
	if up := check(t, rep, "web.upstreams"); up.Status != probes.Pass || !strings.Contains(up.Summary, "2 upstream members answer HTTP") {
		t.Errorf("web.upstreams with a running nginx -p %s: %s %q (%s); want pass from its own configuration", ndir, up.Status, up.Summary, up.Detail)
	}
	if !strings.Contains(rep.Settings.Sources["roles"], "mod_jk balancer lb ("+dir+"/conf/workers.properties") {
		t.Errorf("roles %v from %q; want a web host for the running httpd's balancer", rep.Settings.Roles, rep.Settings.Sources["roles"])
	}
	st := execute(t, w.Command(lab.Private{}, binary, "session-test", "--url", "http://10.99.0.10:8090/", "-o", "json", "--timeout", "20s"))
	// One worker here (the other Tomcat's connector is on loopback): session-test takes
	// the running httpd's balancer and says it has one member, not that there is none.
	if !strings.Contains(st.stderr, "balancer lb ("+dir+"/conf/workers.properties:3) has 1 members") {
		t.Errorf("session-test through the running httpd: exit %d; want its balancer from %s\n%s\n%s", st.code, dir, st.stdout, st.stderr)
	}

	// The runtime view: a member disabled through mod_jk's status worker, as an operator
	// takes a node out, is named though its configuration is fine and it answers.
	if code, body := get(t, inside(w), "http://10.99.0.10:8090/jkstatus?cmd=update&from=list&w=lb&sw=tomcat1&vwa=1"); code != 200 {
		t.Fatalf("disable tomcat1 through jkstatus: %d %s", code, body)
	}
	rep, _ = preflightJSON(t, w, lab.Private{}, "--iface", "cl0", "--skip", "ntp.sync")
	if got := check(t, rep, "ajp.workers"); got.Status != probes.Warn || !strings.Contains(got.Summary+got.Detail, "worker tomcat1 is disabled (DIS") {
		t.Errorf("ajp.workers with tomcat1 disabled through jkstatus: %s %q (%s); want warn naming it", got.Status, got.Summary, got.Detail)
	}

	// A fault in the running server's own workers.properties is found.
	writeTree(t, dir, map[string]string{"conf/workers.properties": strings.Replace(workers, "port=8009", "port=8080", 1)})
	rep, _ = preflightJSON(t, w, lab.Private{}, "--iface", "cl0", "--skip", "ntp.sync")
	if got := check(t, rep, "ajp.workers"); got.Status != probes.Fail || !strings.Contains(got.Summary+got.Detail, "not a CPong") {
		t.Errorf("ajp.workers with the running httpd's worker on an HTTP port: %s %q (%s); want fail", got.Status, got.Summary, got.Detail)
	}
}

// haproxyModes: real HAProxy in the web host in front of both Tomcats' HTTP connectors, in
// each stickiness mode. haproxy -c decides the syntax (appsession is refused since 1.6);
// the behaviour decides stickiness: two clients, each with its own cookie jar, make
// requests through HAProxy, and a mode is sticky when each client's session stays on the
// node that made it (the jvmRoute suffix of the session id never changes; Tomcat's
// JvmRouteBinderValve renames a session that lands on another node). web.upstreams, read
// from the running haproxy's own -f file, must agree.
func haproxyModes(t *testing.T, l *lab.Lab, w *lab.Host) {
	t.Helper()
	lab.RequireCommands(t, "haproxy")
	cfg := func(lines, s1, s2 string) string {
		return "global\n    maxconn 64\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n" +
			"frontend www\n    bind 10.99.0.10:8092\n    default_backend tomcats\n" +
			"backend tomcats\n" + lines +
			"    server tomcat1 10.99.0.1:8080 " + s1 + "\n    server tomcat2 10.99.0.2:8080 " + s2 + "\n"
	}
	hc := inside(w)
	for i, c := range []struct {
		name, cfg string
		status    probes.Status
		says      string
		refused   bool // haproxy -c refuses it
	}{
		{"cookie insert", cfg("    cookie SERVERID insert indirect nocache\n", "cookie t1", "cookie t2"), probes.Pass, "backend tomcats 10.99.0.1:8080 (200), backend tomcats 10.99.0.2:8080 (200)", false},
		{"cookie prefix on JSESSIONID", cfg("    cookie JSESSIONID prefix nocache\n", "cookie t1", "cookie t2"), probes.Pass, "backend tomcats 10.99.0.1:8080 (200), backend tomcats 10.99.0.2:8080 (200)", false},
		{"stick on the session cookie", cfg("    stick-table type string len 64 size 10k expire 30m\n    stick on req.cook(JSESSIONID)\n    stick store-response res.cook(JSESSIONID)\n", "", ""), probes.Pass, "backend tomcats 10.99.0.1:8080 (200), backend tomcats 10.99.0.2:8080 (200)", false},
		{"round robin", cfg("    balance roundrobin\n", "", ""), probes.Warn, "with no cookie or stick table", false},
		{"a server without a cookie", cfg("    cookie SERVERID insert indirect nocache\n", "cookie t1", ""), probes.Fail, "server tomcat2 has no cookie value", false},
		{"prefix on a cookie Tomcat does not set", cfg("    cookie SERVERID prefix\n", "cookie t1", "cookie t2"), probes.Fail, "Tomcat sets no SERVERID cookie", false},
		{"appsession", cfg("    appsession JSESSIONID len 52 timeout 3h\n", "", ""), probes.Fail, "appsession", true},
	} {
		t.Run("haproxy "+c.name, func(t *testing.T) {
			file := l.WriteFile(fmt.Sprintf("haproxy-%d.cfg", i), c.cfg)
			syntax := execute(t, w.Command(lab.Private{}, "haproxy", "-c", "-f", file))
			if refused := syntax.code != 0; refused != c.refused {
				t.Fatalf("haproxy -c: exit %d (%s); the case expects refused=%v", syntax.code, syntax.stderr, c.refused)
			}
			var hp *exec.Cmd
			if !c.refused {
				hp = w.Start(lab.Private{}, fmt.Sprintf("haproxy-%d", i), "haproxy", "-db", "-f", file)
				defer stopCmd(hp)
				w.WaitListening(t, "10.99.0.10:8092")
				if sticky := stickyThrough(t, hc, "http://10.99.0.10:8092/"); sticky != (c.status == probes.Pass) {
					t.Errorf("through the real HAProxy, sessions sticky = %v; web.upstreams is to say %s", sticky, c.status)
				}
				sessionTestThroughHAProxy(t, w, c.status == probes.Pass)
			}
			args := []string{"--iface", "cl0", "--skip", "ntp.sync"}
			if c.refused { // nothing runs: the distribution's path is read, under a root of its own
				root := newTree(t, map[string]string{"etc/haproxy/haproxy.cfg": c.cfg})
				args = append(args, "--root", root)
			}
			rep, _ := preflightJSON(t, w, lab.Private{}, args...)
			got := check(t, rep, "web.upstreams")
			if got.Status != c.status || !strings.Contains(got.Summary+" "+got.Detail, c.says) {
				t.Errorf("web.upstreams = %s: %s (%s); want %s saying %q", got.Status, got.Summary, got.Detail, c.status, c.says)
			}
			if got.Status == probes.Pass && !strings.Contains(got.Detail, "no stats socket (stats socket /run/haproxy/admin.sock mode 660 level user") {
				t.Errorf("web.upstreams without a stats socket: detail %q; want the hint how to enable it", got.Detail)
			}
		})
	}

	// The runtime view: with a stats socket, a server an operator set to maintenance is
	// named with its state, though its configuration is fine and it answers.
	sock := l.Path("haproxy-admin.sock")
	file := l.WriteFile("haproxy-runtime.cfg", strings.Replace(cfg("    cookie SERVERID insert indirect nocache\n", "cookie t1", "cookie t2"),
		"    maxconn 64\n", "    maxconn 64\n    stats socket "+sock+" mode 600 level admin\n", 1))
	hp := w.Start(lab.Private{}, "haproxy-runtime", "haproxy", "-db", "-f", file)
	defer stopCmd(hp)
	w.WaitListening(t, "10.99.0.10:8092")
	rep, _ := preflightJSON(t, w, lab.Private{}, "--iface", "cl0", "--skip", "ntp.sync")
	if got := check(t, rep, "web.upstreams"); got.Status != probes.Pass || strings.Contains(got.Detail, "stats socket") {
		t.Errorf("web.upstreams with every server UP: %s %q (%s); want pass, the runtime state read", got.Status, got.Summary, got.Detail)
	}
	if answer := haproxyCommand(t, sock, "set server tomcats/tomcat2 state maint"); strings.TrimSpace(answer) != "" {
		t.Fatalf("set server state maint: %q", answer)
	}
	rep, _ = preflightJSON(t, w, lab.Private{}, "--iface", "cl0", "--skip", "ntp.sync")
	if got := check(t, rep, "web.upstreams"); got.Status != probes.Warn || !strings.Contains(got.Summary+got.Detail, "server tomcat2 ("+file+":15) is MAINT for") {
		t.Errorf("web.upstreams with tomcat2 in maintenance: %s %q (%s); want warn naming it MAINT", got.Status, got.Summary, got.Detail)
	}
	// session-test takes the member in maintenance out, saying so; one is left.
	st := execute(t, w.Command(lab.Private{}, binary, "session-test", "--url", "http://10.99.0.10:8092/", "--timeout", "20s"))
	if st.code != 2 || !strings.Contains(st.stderr, "tomcat2 is MAINT for") || !strings.Contains(st.stderr, "as HAProxy's stats socket says") {
		t.Errorf("session-test with tomcat2 in maintenance: exit %d\n%s%s; want 2 naming it MAINT", st.code, st.stdout, st.stderr)
	}
}

// sessionTestThroughHAProxy runs session-test through the real HAProxy on 8092, its
// members taken from the running haproxy's own configuration: it passes exactly where
// HAProxy keeps sessions on their node, carrying HAProxy's cookie or prefix as a browser
// does, and says not-sticky where it does not.
func sessionTestThroughHAProxy(t *testing.T, w *lab.Host, sticky bool) {
	t.Helper()
	st := execute(t, w.Command(lab.Private{}, binary, "session-test", "--url", "http://10.99.0.10:8092/", "-o", "json", "--wait", "1s", "--timeout", "30s"))
	var rep replication.Report
	if err := json.Unmarshal([]byte(st.stdout), &rep); err != nil {
		t.Fatalf("session-test through HAProxy: exit %d, not JSON: %v\n%s%s", st.code, err, st.stdout, st.stderr)
	}
	var verdicts []string
	notSticky := false
	for _, s := range rep.Stickiness {
		verdicts = append(verdicts, s.Member+" "+s.Verdict+" "+strings.Join(s.Landed, ","))
		notSticky = notSticky || s.Verdict == replication.NotSticky
	}
	names := []string{}
	for _, m := range rep.Members {
		names = append(names, m.Name)
	}
	if strings.Join(names, ",") != "tomcat1,tomcat2" {
		t.Errorf("session-test through HAProxy: members %v; want the backend's servers", names)
	}
	t.Logf("session-test through HAProxy: exit %d, stickiness %v", st.code, verdicts)
	if (st.code == 0) != sticky || notSticky == sticky {
		t.Errorf("session-test through HAProxy: exit %d, stickiness %v, problems %v; want sticky=%v", st.code, verdicts, rep.Problems, sticky)
	}
	for _, p := range rep.Pairs {
		if p.Verdict != replication.Replicated {
			t.Errorf("session-test through HAProxy: %s to %s %s (%s)", p.From, p.To, p.Verdict, p.Reason)
		}
	}
}

// haproxyCommand sends one command to HAProxy's runtime API and returns its answer.
func haproxyCommand(t *testing.T, sock, command string) string {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatalf("connect to %s: %v", sock, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, command+"\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

// stickyThrough makes a session per client (two clients, six requests each) through a
// balancer and reports whether every client's requests stayed on one node: the route
// suffix of the session id each answer shows never changes.
func stickyThrough(t *testing.T, hc *http.Client, url string) bool {
	t.Helper()
	sticky := true
	for client := 0; client < 2; client++ {
		jar, _ := cookiejar.New(nil)
		c := *hc
		c.Jar = jar
		first := ""
		for i := 0; i < 6; i++ {
			code, body := get(t, &c, url)
			id := strings.TrimSpace(body)
			if code != 200 || !strings.Contains(id, ".") {
				t.Fatalf("GET %s: %d %q; want a session id with its route", url, code, body)
			}
			route := id[strings.LastIndexByte(id, '.')+1:]
			if first == "" {
				first = route
			}
			sticky = sticky && route == first
		}
	}
	return sticky
}

// stopCmd ends a process the test started, by its PID, and waits for it.
func stopCmd(c *exec.Cmd) {
	if c.Process != nil && c.ProcessState == nil {
		c.Process.Signal(syscall.SIGTERM)
		c.Wait()
	}
}

// jkStatusWorker adds mod_jk's status worker to a workers.properties.
const jkStatusWorker = "worker.list=jkstatus\nworker.jkstatus.type=status\n"

// balancerManagerRead: a running httpd with mod_proxy_balancer over both Tomcats' HTTP
// connectors and a balancer-manager for its own address. A member disabled through the
// balancer-manager, as an operator takes a node out by hand, is named by web.upstreams
// with its state, and session-test leaves it out, saying so; healthy, nothing is named.
func balancerManagerRead(t *testing.T, l *lab.Lab, w *lab.Host) {
	t.Helper()
	dir := ownHTTPD(t, l, "bm-httpd", "10.99.0.10:8093", []string{"proxy", "proxy_http", "proxy_balancer", "slotmem_shm", "lbmethod_byrequests"}, `<Proxy balancer://tc>
    BalancerMember http://10.99.0.1:8080 route=tomcat1
    BalancerMember http://10.99.0.2:8080 route=tomcat2
    ProxySet stickysession=JSESSIONID
</Proxy>
<Location /balancer-manager>
    SetHandler balancer-manager
    Require ip 10.99.0.10
</Location>
ProxyPass /balancer-manager !
ProxyPass / balancer://tc/
`)
	hp := w.Start(lab.Private{}, "bm-httpd", "apache2", "-d", dir, "-f", "conf/httpd.conf", "-DFOREGROUND")
	defer stopCmd(hp)
	w.WaitListening(t, "10.99.0.10:8093")

	rep, _ := preflightJSON(t, w, lab.Private{}, "--iface", "cl0", "--skip", "ntp.sync")
	if got := check(t, rep, "web.upstreams"); strings.Contains(got.Summary+got.Detail, "balancer-manager") {
		t.Errorf("web.upstreams with every member enabled: %s %q (%s); want no balancer-manager finding", got.Status, got.Summary, got.Detail)
	}
	c := inside(w)
	_, page := get(t, c, "http://10.99.0.10:8093/balancer-manager")
	nonce := regexp.MustCompile(`nonce=([0-9a-f-]+)`).FindStringSubmatch(page)
	if nonce == nil {
		t.Fatalf("no nonce on the balancer-manager page:\n%s", page)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://10.99.0.10:8093/balancer-manager",
		strings.NewReader("b=tc&w=http://10.99.0.2:8080&w_status_D=1&nonce="+nonce[1]))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", "http://10.99.0.10:8093/balancer-manager")
	resp, err := c.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("disable tomcat2 through the balancer-manager: %v %v", resp, err)
	}
	resp.Body.Close()
	rep, _ = preflightJSON(t, w, lab.Private{}, "--iface", "cl0", "--skip", "ntp.sync")
	if got := check(t, rep, "web.upstreams"); got.Status != probes.Warn || !strings.Contains(got.Summary+got.Detail, "server 10.99.0.2:8080 ("+dir+"/conf/httpd.conf:23) is disabled (Dis") {
		t.Errorf("web.upstreams with tomcat2 disabled in the balancer-manager: %s %q (%s); want warn naming it", got.Status, got.Summary, got.Detail)
	}
	st := execute(t, w.Command(lab.Private{}, binary, "session-test", "--url", "http://10.99.0.10:8093/", "--timeout", "20s"))
	if st.code != 2 || !strings.Contains(st.stderr, "is disabled (Dis") || !strings.Contains(st.stderr, "as httpd's balancer-manager says") {
		t.Errorf("session-test with tomcat2 disabled in the balancer-manager: exit %d\n%s%s; want 2 naming it", st.code, st.stdout, st.stderr)
	}
}

// ownHTTPD writes DIR/conf/httpd.conf for an httpd of its own, started as `apache2 -d DIR -f
// conf/httpd.conf`: one small event MPM listening on listen, the authz modules and those
// named, then body (RUN in it is the run directory). It returns DIR. The header is 15
// lines and one per module, so body's line N is the file's line 15+len(modules)+N.
func ownHTTPD(t *testing.T, l *lab.Lab, name, listen string, modules []string, body string) string {
	t.Helper()
	dir := l.Path(name)
	run := filepath.Join(dir, "run")
	if err := os.MkdirAll(run, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(run, 0o777)
	var b strings.Builder
	fmt.Fprintf(&b, "ServerName web\nListen %s\nPidFile %[2]s/httpd.pid\nMutex file:%[2]s default\nDefaultRuntimeDir %[2]s\nUser www-data\nGroup www-data\nErrorLog %[2]s/error.log\n", listen, run)
	for _, m := range append([]string{"mpm_event", "authz_core", "authz_host"}, modules...) {
		fmt.Fprintf(&b, "LoadModule %s_module %s/mod_%s.so\n", m, lab.HTTPDModules, m)
	}
	b.WriteString("StartServers 1\nServerLimit 1\nThreadsPerChild 8\nMaxRequestWorkers 8\n")
	b.WriteString(strings.ReplaceAll(body, "RUN/", run+"/"))
	writeTree(t, dir, map[string]string{"conf/httpd.conf": b.String()})
	return dir
}
