package main_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// TestTomcatDerivesSettings: on a host with a running Tomcat, preflight without flags
// reads server.xml and derives what the flags would say, and the checks agree with a run
// given those flags. The checks' view of the Receiver is the one the running JVM logs.
func TestTomcatDerivesSettings(t *testing.T) {
	lab.RequireTomcat(t)
	l := lab.New(t)
	a := l.AddHost("was1", 1)
	a.AddPublic()
	a.AddMulticastRoute()
	c := tcConf{JvmRoute: "tomcat1", AJP: `<Connector protocol="AJP/1.3" address="10.99.0.1" port="8009" secretRequired="false"/>`}
	tc := a.StartTomcat(lab.TomcatSpec{Name: "was1", Files: c.files(), Hostname: "was1", Hosts: hostsFor("was1", "10.99.0.1")})
	log := tc.Started(t)
	for _, want := range []string{"Receiver Server Socket bound to:[/10.99.0.1:4000]", "Register manager [localhost#] to cluster element [Engine]", `"ajp-nio-10.99.0.1-8009"`} {
		if !strings.Contains(log, want) {
			t.Fatalf("Tomcat did not log %q:\n%s", want, log)
		}
	}
	view := wasView(t, a, "was1")
	derived, _ := preflightJSON(t, a, view, "--skip", "ntp.sync")
	s := derived.Settings
	if s.Iface != "cl0" || s.Group.String() != "228.0.0.4" || s.McastPort != 45564 || s.ReceiverPorts.String() != "4000-4099" || s.AJPPort != 8009 || s.Membership != "multicast" {
		t.Fatalf("derived settings = iface %s group %s port %d receivers %s ajp %d membership %s", s.Iface, s.Group, s.McastPort, s.ReceiverPorts, s.AJPPort, s.Membership)
	}
	for _, k := range []string{"group", "mcastPort", "receiverPorts", "ajpPort"} {
		if !strings.HasPrefix(s.Sources[k], "conf/server.xml:") {
			t.Errorf("sources[%s] = %q; want the server.xml line", k, s.Sources[k])
		}
	}
	if len(s.Instances) != 1 || s.Instances[0].PID != tc.PID() || s.Instances[0].Version != "10.1.60" && !strings.HasPrefix(s.Instances[0].Version, "10.1.") {
		t.Errorf("tomcatInstances = %+v; want the running pid %d, version 10.1.x", s.Instances, tc.PID())
	}
	flagged, _ := preflightJSON(t, a, view, "--skip", "ntp.sync", "--iface", "cl0", "--group", "228.0.0.4", "--mcast-port", "45564",
		"--receiver-ports", "4000-4099", "--ajp-port", "8009")
	for i, r := range derived.Checks {
		f := flagged.Checks[i]
		if r.ID != f.ID || r.Status != f.Status {
			t.Errorf("%s: %s without flags, %s %s with the equivalent flags (%s | %s)", r.ID, r.Status, f.ID, f.Status, r.Summary, f.Summary)
		}
	}
	for _, id := range []string{"tomcat.cluster", "tomcat.classes", "tomcat.distributable", "tomcat.jvmroute", "tomcat.receiver", "tomcat.membership", "tomcat.ajp", "tomcat.deployer", "tomcat.logs"} {
		if got := check(t, derived, id); got.Status != probes.Pass {
			t.Errorf("%s = %s (%s; %s); want pass on a healthy instance", id, got.Status, got.Summary, got.Detail)
		}
	}
	if got := check(t, derived, "tomcat.receiver"); !strings.Contains(got.Summary, "bound to 10.99.0.1:4000") {
		t.Errorf("tomcat.receiver = %q; want the socket the JVM bound", got.Summary)
	}
	// a flag still wins over server.xml, and says so
	over, _ := preflightJSON(t, a, view, "--skip", "ntp.sync", "--receiver-ports", "4000-4010")
	if over.Settings.ReceiverPorts.String() != "4000-4010" || over.Settings.Sources["receiverPorts"] != "flag" || !strings.HasPrefix(over.Settings.Sources["group"], "conf/server.xml:") {
		t.Errorf("with --receiver-ports: receivers %s from %q, group from %q", over.Settings.ReceiverPorts, over.Settings.Sources["receiverPorts"], over.Settings.Sources["group"])
	}
	if got := check(t, derived, "firewall.ports"); !strings.Contains(got.Summary, "8009/tcp") || !strings.Contains(got.Summary, "4000-4099/tcp") {
		t.Errorf("firewall.ports = %q; want the receivers and AJP from server.xml", got.Summary)
	}
}

// TestTomcatLint: each configuration mistake of the seeds, run by the real Tomcat 10.1:
// Tomcat's own log shows what it does with it, and the check names it.
func TestTomcatLint(t *testing.T) {
	lab.RequireTomcat(t)
	t.Parallel() // its lab is its own, and discovery keeps to each lab host's namespace
	l := lab.New(t)
	a := l.AddHost("was1", 1)
	a.AddMulticastRoute()
	view := wasView(t, a, "was1")
	fragJar := jarWith(t, map[string]string{"META-INF/web-fragment.xml": `<web-fragment xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0"><name>tracker</name></web-fragment>`})
	warBytes := jarWith(t, map[string]string{"WEB-INF/web.xml": distributableWebXML, "index.jsp": "<%= session.getId() %>"})
	cases := []struct {
		name    string
		conf    tcConf
		files   map[string]string
		hosts   string
		tomcat  []string // what Tomcat logs
		started bool     // wait for "Server startup in"
		id      string
		status  probes.Status
		says    []string
		request string // a page to request once started
		// javaOpts are the JVM's options; routeless asks for a session once started and
		// requires its id to carry no route (no ".ROUTE" suffix)
		javaOpts  string
		routeless bool
		accepts   string // an address the running Tomcat must accept connections on

		args []string
		// web is this host's /etc/apache2 and /etc/libapache2-mod-jk ("stock": Debian's
		// own, as installed; nil: none)
		web map[string]string
	}{
		{name: "removed interceptor (seeds 003, 004)",
			conf:   tcConf{JvmRoute: "tomcat1", Interceptors: []string{"org.apache.catalina.tribes.group.interceptors.TcpFailureDetector", "org.apache.catalina.tribes.group.interceptors.MessageDispatch15Interceptor"}},
			tomcat: []string{"ClassNotFoundException: org.apache.catalina.tribes.group.interceptors.MessageDispatch15Interceptor", "Cannot start server"},
			// Tomcat did not start: there is no JVM to find it by, so it is named
			args: []string{"--tomcat", "BASE"},
			id:   "tomcat.classes", status: probes.Fail,
			says: []string{"will not start", "MessageDispatch15Interceptor", "removed in Tomcat 8.5", "use org.apache.catalina.tribes.group.interceptors.MessageDispatchInterceptor"}},
		{name: "host name on 127.0.1.1 (seed 003)",
			conf:   tcConf{JvmRoute: "tomcat1"},
			hosts:  "127.0.0.1\tlocalhost\n127.0.1.1\twas1\n",
			tomcat: []string{"Receiver Server Socket bound to:[/127.0.1.1:4000]"}, started: true,
			id: "tomcat.receiver", status: probes.Fail, says: []string{"loopback 127.0.1.1"}},
		{name: "applications that do not replicate",
			conf: tcConf{JvmRoute: "tomcat1"},
			files: map[string]string{
				"webapps/plain/WEB-INF/web.xml":            plainWebXML,
				"webapps/frag/WEB-INF/web.xml":             distributableWebXML,
				"webapps/frag/WEB-INF/lib/tracker.jar":     fragJar,
				"webapps/mgr/WEB-INF/web.xml":              distributableWebXML,
				"conf/Catalina/localhost/mgr.xml":          `<Context><Manager pathname=""/></Context>`,
				"webapps/shop.war":                         warBytes,
				"webapps/onlyconf/WEB-INF/web.xml":         plainWebXML,
				"webapps/onlyconf/WEB-INF/classes/.keep":   "",
				"webapps/ROOT/WEB-INF/lib/plainlib.jar":    jarWith(t, map[string]string{"x/Y.class": "not really"}),
				"webapps/examples/WEB-INF/web.xml":         plainWebXML,
				"webapps/examples/index.html":              "bundled",
				"webapps/ROOT/META-INF/context.xml":        `<Context/>`,
				"webapps/plain/index.jsp":                  "x",
				"webapps/frag/index.jsp":                   "x",
				"webapps/mgr/index.jsp":                    "x",
				"webapps/onlyconf/index.jsp":               "x",
				"conf/Catalina/localhost/context.xml.keep": "",
				// declared ISO-8859-1, as Tomcat 7 and 8 ship theirs: é is the byte 0xE9
				"webapps/latin/WEB-INF/web.xml": "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<web-app xmlns=\"https://jakarta.ee/xml/ns/jakartaee\" version=\"6.0\">\n" +
					"  <display-name>Caf\xe9</display-name>\n  <distributable/>\n</web-app>\n",
				"webapps/latin/index.jsp": "x",
			},
			tomcat:  []string{"Register manager [localhost#] to cluster", "Register manager [localhost#/shop] to cluster", "Register manager [localhost#/latin] to cluster", "does not implement ClusterManager"},
			started: true,
			id:      "tomcat.distributable", status: probes.Warn,
			says: []string{"3 of 7 applications replicate", "localhost/, localhost/latin, localhost/shop"}},
		{name: "AJP requires a secret and has none (9.0.31+ default)",
			conf:   tcConf{JvmRoute: "tomcat1", AJP: `<Connector protocol="AJP/1.3" address="10.99.0.1" port="8009"/>`},
			tomcat: []string{"secretRequired=\"true\" but the secret attribute is either null"}, started: true,
			id: "tomcat.ajp", status: probes.Fail, says: []string{"requires a secret and has none"}},
		{name: "AJP on the loopback default",
			conf:   tcConf{JvmRoute: "tomcat1", AJP: `<Connector protocol="AJP/1.3" port="8009" secret="s3cret"/>`},
			tomcat: []string{`"ajp-nio-127.0.0.1-8009"`}, started: true,
			id: "tomcat.ajp", status: probes.Fail, says: []string{"listens on loopback", "cannot reach it"}},
		{name: "AJP on loopback beside Debian's stock apache2, which forwards nothing",
			conf:   tcConf{JvmRoute: "tomcat1", AJP: `<Connector protocol="AJP/1.3" port="8009" secret="s3cret"/>`},
			tomcat: []string{`"ajp-nio-127.0.0.1-8009"`}, started: true, web: map[string]string{"stock": ""},
			id: "tomcat.ajp", status: probes.Fail, says: []string{"listens on loopback", "no web server on this host forwards to it"}},
		{name: "AJP on loopback for the mod_jk on this host",
			conf:   tcConf{JvmRoute: "tomcat1", AJP: `<Connector protocol="AJP/1.3" port="8009" secret="s3cret"/>`},
			tomcat: []string{`"ajp-nio-127.0.0.1-8009"`}, started: true,
			web: map[string]string{
				"apache2/apache2.conf": "LoadModule jk_module /usr/lib/apache2/modules/mod_jk.so\nJkWorkersFile /etc/libapache2-mod-jk/workers.properties\nJkMount /* lb\n",
				"libapache2-mod-jk/workers.properties": "worker.list=lb\nworker.lb.type=lb\nworker.lb.balance_workers=tomcat1\n" +
					"worker.tomcat1.type=ajp13\nworker.tomcat1.host=localhost\nworker.tomcat1.port=8009\nworker.tomcat1.secret=s3cret\n",
			},
			id: "tomcat.ajp", status: probes.Pass, says: []string{"for the web server on this host (it forwards to localhost:8009)"}},
		{name: "FarmWarDeployer at Engine level",
			conf: tcConf{JvmRoute: "tomcat1", Extra: `<Deployer className="org.apache.catalina.ha.deploy.FarmWarDeployer"
                    tempDir="/tmp/war-temp/" deployDir="/tmp/war-deploy/" watchDir="/tmp/war-listen/" watchEnabled="false"/>`},
			tomcat: []string{"FarmWarDeployer can only work as host cluster subelement!"}, started: true,
			id: "tomcat.deployer", status: probes.Warn, says: []string{"FarmWarDeployer", "ignores it"}},
		{name: "an Interceptor directly under Cluster",
			conf: tcConf{JvmRoute: "tomcat1", Extra: `<Interceptor className="org.apache.catalina.tribes.group.interceptors.EncryptInterceptor"
                    encryptionKey="cafebabefeedbeefbeefcafebabefeed"/>`},
			tomcat: []string{"No rules found matching [Server/Service/Engine/Cluster/Interceptor]"}, started: true,
			id: "tomcat.cluster", status: probes.Warn, says: []string{"Tomcat ignores <Interceptor className=\"org.apache.catalina.tribes.group.interceptors.EncryptInterceptor\">", "(it belongs inside <Channel>)"}},
		{name: "-DjvmRoute, which Tomcat 10.1 ignores",
			conf: tcConf{}, javaOpts: "-DjvmRoute=tomcat1", started: true, routeless: true,
			id: "tomcat.jvmroute", status: probes.Warn, says: []string{"-DjvmRoute=tomcat1", "sets no jvmRoute: Tomcat ignores it since 10.1.0", `set jvmRoute="${jvmRoute}"`}},
		{name: "two Engines of one name",
			conf: tcConf{JvmRoute: "tomcat1"}, files: map[string]string{"conf/server.xml": tcConf{JvmRoute: "tomcat1"}.twoEngines()},
			tomcat: []string{"Creation of the naming context failed"}, started: true,
			id: "tomcat.cluster", status: probes.Warn, says: []string{`two <Engine name="Catalina"> in one server.xml`, "give each <Engine> a name of its own"}},
		{name: "a static member's uniqueId of 3 bytes",
			conf: tcConf{JvmRoute: "tomcat1", Membership: `<Membership className="org.apache.catalina.tribes.membership.StaticMembershipService">
              <LocalMember className="org.apache.catalina.tribes.membership.StaticMember" uniqueId="{0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15}"/>
              <Member className="org.apache.catalina.tribes.membership.StaticMember" host="10.99.0.2" port="4000" uniqueId="{1,2,3}"/>
            </Membership>`},
			tomcat: []string{"UUID must be exactly 16 bytes, not:[{1,2,3}]"},
			args:   []string{"--tomcat", "BASE"},
			id:     "tomcat.membership", status: probes.Fail, says: []string{`<Member> uniqueId="{1,2,3}"`, "it has 3 bytes", "does not start"}},
		{name: "StaticMembershipService without this node",
			conf: tcConf{JvmRoute: "tomcat1", Membership: `<Membership className="org.apache.catalina.tribes.membership.StaticMembershipService">
              <Member className="org.apache.catalina.tribes.membership.StaticMember" host="10.99.0.2" port="4000" uniqueId="{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16}"/>
            </Membership>`},
			tomcat: []string{"There is no localMember in static member list"},
			args:   []string{"--tomcat", "BASE"},
			id:     "tomcat.membership", status: probes.Fail, says: []string{"no <LocalMember> and no <Member> at this node's Receiver 10.99.0.1:4000"}},
		{name: "AJP on every address without a secret, every attribute allowed",
			conf:   tcConf{JvmRoute: "tomcat1", AJP: `<Connector protocol="AJP/1.3" address="0.0.0.0" port="8009" secretRequired="false" allowedRequestAttributesPattern=".*"/>`},
			tomcat: []string{`"ajp-nio-0.0.0.0-8009"`}, started: true,
			id: "tomcat.ajp", status: probes.Warn, says: []string{"listens on every address without a secret", `allowedRequestAttributesPattern=".*"`, "Ghostcat"}},
		{name: "the shutdown port on every address",
			conf:    tcConf{JvmRoute: "tomcat1", Shutdown: 8005},
			files:   map[string]string{"conf/server.xml": strings.Replace(tcConf{JvmRoute: "tomcat1", Shutdown: 8005}.serverXML(), `<Server port="8005"`, `<Server port="8005" address="0.0.0.0"`, 1)},
			started: true, accepts: "10.99.0.1:8005",
			id: "tomcat.cluster", status: probes.Warn, says: []string{"the shutdown port 8005 listens on 0.0.0.0", "stops this Tomcat"}},
		{name: "misspelt attributes",
			conf: tcConf{Receiver: `selectTimeout="5000"`}, files: map[string]string{"conf/server.xml": strings.Replace(tcConf{Receiver: `selectTimeout="5000"`}.serverXML(),
				`<Engine name="Catalina" defaultHost="localhost"`, `<Engine name="Catalina" defaultHost="localhost" jvmRouter="tomcat1"`, 1)},
			tomcat: []string{"Match [Server/Service/Engine] failed to set property [jvmRouter] to [tomcat1]",
				"Match [Server/Service/Engine/Cluster/Channel/Receiver] failed to set property [selectTimeout] to [5000]"}, started: true,
			id: "tomcat.classes", status: probes.Warn, says: []string{`Tomcat ignores jvmRouter="tomcat1" on <Engine>`, "did you mean jvmRoute?", `selectTimeout="5000" on <Receiver>`, "did you mean selectorTimeout?"}},
		{name: "no jvmRoute",
			conf:    tcConf{},
			started: true,
			id:      "tomcat.jvmroute", status: probes.Warn, says: []string{"has no jvmRoute"}},
		{name: "a commented-out Cluster",
			conf:    tcConf{JvmRoute: "tomcat1", NoCluster: true},
			started: true,
			id:      "tomcat.cluster", status: probes.Fail, says: []string{"has no <Cluster>"}},
		{name: "a session attribute that is not Serializable (seed 002)",
			conf:    tcConf{JvmRoute: "tomcat1"},
			files:   map[string]string{"webapps/ROOT/bad.jsp": `<% session.setAttribute("loginStatus", new Object()); %>ok`},
			started: true, request: "/bad.jsp",
			id: "tomcat.logs", status: probes.Fail, says: []string{`session attribute "loginStatus"`, "not Serializable"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := c.conf.files()
			for k, v := range c.files {
				files[k] = v
			}
			hosts := c.hosts
			if hosts == "" {
				hosts = hostsFor("was1", "10.99.0.1")
			}
			tc := a.StartTomcat(lab.TomcatSpec{Name: fmt.Sprintf("lint%d", i), Files: files, Hostname: "was1", Hosts: hosts, JavaOpts: c.javaOpts})
			defer tc.Stop()
			if c.started {
				tc.Started(t)
			}
			log := tc.WaitLog(t, 90*time.Second, c.tomcat...)
			if c.accepts != "" {
				if err := a.Accepts(c.accepts); err != nil {
					t.Errorf("Tomcat does not accept on %s: %v", c.accepts, err)
				}
			}
			if c.routeless {
				code, id := get(t, inside(a), "http://10.99.0.1:8080/")
				if id = strings.TrimSpace(id); code != 200 || id == "" || strings.Contains(id, ".") {
					t.Errorf("GET /: %d, session id %q; want one without a route", code, id)
				}
			}
			if c.request != "" {
				requestIn(t, a, "http://10.99.0.1:8080"+c.request)
				tc.WaitFile(t, "localhost.", 10*time.Second, "setAttribute: Non-serializable attribute [loginStatus]")
			}
			priv := view
			priv.Hosts = hosts
			if _, stock := c.web["stock"]; stock {
				priv = lab.Private{Hosts: hosts, Hostname: "was1"}
			} else if c.web != nil {
				etc := t.TempDir()
				writeTree(t, etc, c.web)
				priv = lab.Private{Hosts: hosts, Hostname: "was1", Binds: map[string]string{
					"/etc/apache2": filepath.Join(etc, "apache2"), "/etc/libapache2-mod-jk": filepath.Join(etc, "libapache2-mod-jk")},
					Setup: []string{"mount -t tmpfs lab-empty /etc/nginx"}}
			}
			args := []string{"--skip", "ntp.sync"}
			for _, arg := range c.args {
				args = append(args, strings.ReplaceAll(arg, "BASE", tc.Base))
			}
			rep, _ := preflightJSON(t, a, priv, args...)
			got := check(t, rep, c.id)
			text := got.Summary + " | " + got.Detail + " | " + got.Remediation
			if got.Status != c.status {
				t.Errorf("%s = %s; want %s\n%s", c.id, got.Status, c.status, text)
			}
			for _, s := range c.says {
				if !strings.Contains(text, s) {
					t.Errorf("%s does not say %q:\n%s", c.id, s, text)
				}
			}
			if t.Failed() {
				t.Logf("Tomcat's log:\n%s", log)
			}
		})
	}
}

// requestIn fetches a page from inside the host's namespace (see inside).
func requestIn(t *testing.T, h *lab.Host, url string) {
	t.Helper()
	if code, body := get(t, inside(h), url); code == 0 {
		t.Fatalf("GET %s: %s", url, body)
	}
}

// TestTomcatTwoInstancesOneReceiverPort: two Tomcats on one host with the same Receiver
// port and autoBind: the second one moves (Tomcat logs where) and advertises where it
// went, so tomcat.receiver passes both. A third with the same port and no autoBind room
// really cannot bind while the first runs (Tomcat logs it), and tomcat.receiver fails
// naming it.
func TestTomcatTwoInstancesOneReceiverPort(t *testing.T) {
	lab.RequireTomcat(t)
	l := lab.New(t)
	a := l.AddHost("was1", 1)
	a.AddMulticastRoute()
	hosts := hostsFor("was1", "10.99.0.1")
	one := a.StartTomcat(lab.TomcatSpec{Name: "one", Files: tcConf{JvmRoute: "one", Shutdown: 8005}.files(), Hostname: "was1", Hosts: hosts})
	one.WaitLog(t, 90*time.Second, "Receiver Server Socket bound to:[/10.99.0.1:4000]")
	two := a.StartTomcat(lab.TomcatSpec{Name: "two", Files: tcConf{JvmRoute: "two", HTTPPort: 8081}.files(), Hostname: "was1", Hosts: hosts})
	two.WaitLog(t, 90*time.Second, "Receiver Server Socket bound to:[/10.99.0.1:4001]")
	one.Started(t)
	two.Started(t)
	rep, _ := preflightJSON(t, a, wasView(t, a, "was1"), "--skip", "ntp.sync")
	got := check(t, rep, "tomcat.receiver")
	if got.Status != probes.Pass || !strings.Contains(got.Detail+got.Summary, "10.99.0.1:4001") {
		t.Errorf("tomcat.receiver = %s %q %q; want pass, the second bound to 4001", got.Status, got.Summary, got.Detail)
	}
	if len(rep.Settings.Instances) != 2 {
		t.Errorf("tomcatInstances = %+v; want both", rep.Settings.Instances)
	}

	three := a.StartTomcat(lab.TomcatSpec{Name: "three", Files: tcConf{JvmRoute: "three", HTTPPort: 8082, Receiver: `autoBind="1"`}.files(), Hostname: "was1", Hosts: hosts})
	three.WaitLog(t, 90*time.Second, "Unable to bind server socket to:[/10.99.0.1:4000]")
	// Its JVM gives up; the operator's shell names its base.
	cmd := a.Command(wasView(t, a, "was1"), binary, "preflight", "-o", "json", "--skip", "ntp.sync")
	cmd.Env = append(cmd.Environ(), "CATALINA_BASE="+three.Base)
	r := execute(t, cmd)
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("preflight: exit %d, output is not JSON: %v\n%s", r.code, err, r.stderr)
	}
	got = check(t, rep, "tomcat.receiver")
	if got.Status != probes.Fail || !strings.Contains(got.Summary, "finds no free port") {
		t.Fatalf("tomcat.receiver = %s %q; want fail: three finds no free port", got.Status, got.Summary)
	}
	if !strings.Contains(fmt.Sprint(got.Evidence), three.Base) {
		t.Errorf("tomcat.receiver does not name %s: %s %v", three.Base, got.Summary, got.Evidence)
	}

	// A fourth with the first one's shutdown port stops right after it started.
	four := a.StartTomcat(lab.TomcatSpec{Name: "four", Files: tcConf{JvmRoute: "four", HTTPPort: 8083, Shutdown: 8005, Receiver: `port="4200"`}.files(), Hostname: "was1", Hosts: hosts})
	four.WaitLog(t, 90*time.Second, "Failed to create server shutdown socket on address [localhost] and port [8005]", "Address already in use")
	cmd = a.Command(wasView(t, a, "was1"), binary, "preflight", "-o", "json", "--skip", "ntp.sync")
	cmd.Env = append(cmd.Environ(), "CATALINA_BASE="+four.Base)
	r = execute(t, cmd)
	rep = probes.Report{}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("preflight: exit %d, output is not JSON: %v\n%s", r.code, err, r.stderr)
	}
	if got := check(t, rep, "tomcat.cluster"); got.Status != probes.Fail || !strings.Contains(got.Summary, "two instances listen on port 8005: shutdown port of") {
		t.Errorf("tomcat.cluster = %s %q; want fail naming the shared shutdown port", got.Status, got.Summary)
	}
}

// TestTomcatPropertiesAndStaticMembers: ${...} from catalina.properties (which Tomcat
// sets over -D options) and from setenv.sh, as the running Tomcat resolves them; static
// membership (seed 001): the peers come from the members, multicast checks are skipped,
// and each member's receiver is tried over TCP.
func TestTomcatPropertiesAndStaticMembers(t *testing.T) {
	lab.RequireTomcat(t)
	t.Parallel() // its lab is its own, and discovery keeps to each lab host's namespace
	l := lab.New(t)
	a, b := l.AddHost("was1", 1), l.AddHost("was2", 2)
	member := b.Listen("10.99.0.2:4010")
	_ = member
	c := tcConf{JvmRoute: "${node.name}", ClusterAttrs: ` channelStartOptions="3"`, Receiver: `address="10.99.0.1" port="${cluster.port}"`,
		Membership: `<Membership className="org.apache.catalina.tribes.membership.McastService"/>`,
		Interceptors: []string{"org.apache.catalina.tribes.group.interceptors.TcpPingInterceptor",
			"org.apache.catalina.tribes.group.interceptors.TcpFailureDetector",
			"org.apache.catalina.tribes.group.interceptors.MessageDispatchInterceptor"},
		AJP: `<Connector protocol="AJP/1.3" address="${ajp.address}" port="8009" secretRequired="false"/>`}
	xml := strings.Replace(c.serverXML(), `<Interceptor className="org.apache.catalina.tribes.group.interceptors.MessageDispatchInterceptor"/>`,
		`<Interceptor className="org.apache.catalina.tribes.group.interceptors.MessageDispatchInterceptor"/>
            <Interceptor className="org.apache.catalina.tribes.group.interceptors.StaticMembershipInterceptor">
              <LocalMember className="org.apache.catalina.tribes.membership.StaticMember" uniqueId="{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,1}"/>
              <Member className="org.apache.catalina.tribes.membership.StaticMember" port="4010" host="10.99.0.2" uniqueId="{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,2}"/>
            </Interceptor>`, 1)
	files := c.files()
	files["conf/server.xml"] = xml
	props, err := os.ReadFile(filepath.Join(lab.TomcatTemplates, "catalina.properties"))
	if err != nil {
		t.Fatal(err)
	}
	files["conf/catalina.properties"] = string(props) + "\ncluster.port=4010\n"
	files["bin/setenv.sh"] = "JAVA_OPTS=\"$JAVA_OPTS -Dcluster.port=4020 -Dajp.address=10.99.0.1 -Dnode.name=tomcat_1\"\n"
	tc := a.StartTomcat(lab.TomcatSpec{Name: "static", Files: files, Hostname: "was1", Hosts: hostsFor("was1", "10.99.0.1")})
	log := tc.Started(t)
	for _, want := range []string{"Receiver Server Socket bound to:[/10.99.0.1:4010]", `"ajp-nio-10.99.0.1-8009"`} {
		if !strings.Contains(log, want) {
			t.Fatalf("Tomcat did not log %q (catalina.properties wins over -D; setenv.sh's -D is used):\n%s", want, log)
		}
	}
	rep, _ := preflightJSON(t, a, wasView(t, a, "was1"), "--skip", "ntp.sync")
	s := rep.Settings
	if s.Membership != "static" || strings.Join(s.Peers, ",") != "10.99.0.2" || s.ReceiverPorts.String() != "4010-4109" {
		t.Fatalf("settings: membership %s peers %v receivers %s; want static, 10.99.0.2, 4010-4109", s.Membership, s.Peers, s.ReceiverPorts)
	}
	for _, id := range []string{"route.multicast", "firewall.igmp", "route.persistent"} {
		if got := check(t, rep, id); got.Status != probes.Skip || !strings.Contains(got.Summary, "static membership") {
			t.Errorf("%s = %s %q; want skip for static membership", id, got.Status, got.Summary)
		}
	}
	if got := check(t, rep, "firewall.ports"); strings.Contains(got.Summary+got.Detail, "45564") {
		t.Errorf("firewall.ports asks for the membership port with static membership: %s", got.Summary)
	}
	if got := check(t, rep, "tomcat.membership"); got.Status != probes.Pass || !strings.Contains(got.Summary, "10.99.0.2:4010") {
		t.Errorf("tomcat.membership = %s %q; want pass, the member accepting TCP", got.Status, got.Summary)
	}
	if got := check(t, rep, "tomcat.jvmroute"); got.Status != probes.Pass || !strings.Contains(got.Summary, "tomcat_1") || !strings.Contains(got.Summary, "command line") {
		t.Errorf("tomcat.jvmroute = %s %q; want tomcat_1 from the JVM's command line", got.Status, got.Summary)
	}
	b.Nft(`table inet t {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 4010 drop
  }
}`)
	rep, _ = preflightJSON(t, a, wasView(t, a, "was1"), "--skip", "ntp.sync")
	if got := check(t, rep, "tomcat.membership"); got.Status != probes.Fail || !strings.Contains(got.Summary, "silently dropped") {
		t.Errorf("tomcat.membership = %s %q; want fail, dropped", got.Status, got.Summary)
	}
}

// TestTomcatHTTPOnly: a Tomcat with no AJP connector (nginx proxies HTTP): firewall.ports
// asks for its HTTP port, not 8009.
func TestTomcatHTTPOnly(t *testing.T) {
	lab.RequireTomcat(t)
	l := lab.New(t)
	a := l.AddHost("was1", 1)
	a.AddMulticastRoute()
	tc := a.StartTomcat(lab.TomcatSpec{Name: "http", Files: tcConf{JvmRoute: "tomcat1"}.files(), Hostname: "was1", Hosts: hostsFor("was1", "10.99.0.1")})
	tc.Started(t)
	rep, _ := preflightJSON(t, a, wasView(t, a, "was1"), "--skip", "ntp.sync")
	got := check(t, rep, "firewall.ports")
	if strings.Contains(got.Summary+got.Detail, "8009") || !strings.Contains(got.Summary+got.Detail, "8080/tcp") {
		t.Errorf("firewall.ports = %q; want 8080/tcp and no 8009", got.Summary+" | "+got.Detail)
	}
	if rep.Settings.AJPPort != 0 || rep.Settings.HTTPPort != 8080 {
		t.Errorf("settings ajpPort %d httpPort %d; want 0 and 8080", rep.Settings.AJPPort, rep.Settings.HTTPPort)
	}
	if got := check(t, rep, "tomcat.ajp"); got.Status != probes.Skip {
		t.Errorf("tomcat.ajp = %s %q; want skip without an AJP connector", got.Status, got.Summary)
	}
}

// TestTomcatLogsFromTheJournal: a Tomcat run as a systemd unit logs to the journal and
// writes no log file; tomcat.logs reads the unit's journal (a real systemd-journald) and
// finds the application's non-serializable attribute there.
func TestTomcatLogsFromTheJournal(t *testing.T) {
	lab.RequireTomcat(t)
	l := lab.New(t)
	a := l.AddHost("was1", 1)
	a.AddMulticastRoute()
	j := a.StartJournald()
	files := tcConf{JvmRoute: "tomcat1"}.files()
	files["conf/logging.properties"] = "handlers = java.util.logging.ConsoleHandler\n.handlers = java.util.logging.ConsoleHandler\n" +
		"java.util.logging.ConsoleHandler.level = FINE\njava.util.logging.ConsoleHandler.formatter = org.apache.juli.OneLineFormatter\n"
	files["webapps/ROOT/bad.jsp"] = `<% session.setAttribute("cart", new Object()); %>ok`
	const unit = "lab-tomcat.service"
	tc := a.StartTomcatUnit(j, unit, lab.TomcatSpec{Name: "unit", Files: files, Hostname: "was1", Hosts: hostsFor("was1", "10.99.0.1")})
	journal := func(text string) bool {
		for _, e := range j.Entries("_SYSTEMD_UNIT=" + unit) {
			if strings.Contains(e["MESSAGE"], text) {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(90 * time.Second); !journal("Server startup in"); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no \"Server startup in\" in the journal of %s", unit)
		}
	}
	requestIn(t, a, "http://10.99.0.1:8080/bad.jsp")
	for deadline := time.Now().Add(10 * time.Second); !journal("Non-serializable attribute [cart]"); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Tomcat's journal has no \"Non-serializable attribute [cart]\"")
		}
	}
	if _, err := os.Stat(tc.Log); err == nil {
		t.Fatalf("%s exists: the unit was to log to the journal only", tc.Log)
	}
	view := wasView(t, a, "was1")
	view.Setup = append(view.Setup, "mount --bind "+j.Run+" /run")
	rep, _ := preflightJSON(t, a, view, "--skip", "ntp.sync")
	got := check(t, rep, "tomcat.logs")
	if got.Status != probes.Fail || !strings.Contains(got.Summary, `session attribute "cart"`) || !strings.Contains(fmt.Sprint(got.Evidence["logs"]), "journal of "+unit) {
		t.Fatalf("tomcat.logs = %s %q %v; want fail naming the attribute, read from the journal of %s", got.Status, got.Summary, got.Evidence, unit)
	}
}

// TestTomcatMcastBind: McastService with bind on the cluster address. Java alone joins and
// sends on the bound interface, but Tomcat binds the socket to the group itself when bind is
// set, and Linux refuses to send from a multicast source: the real Tomcat does not start.
// tomcat.membership says so, instead of trusting the attribute.
func TestTomcatMcastBind(t *testing.T) {
	lab.RequireTomcat(t)
	l := lab.New(t)
	a := l.AddHost("was1", 1)
	a.AddMulticastRoute()
	c := tcConf{JvmRoute: "tomcat1", Membership: `<Membership className="org.apache.catalina.tribes.membership.McastService"
                        address="228.0.0.4" port="45564" bind="10.99.0.1" frequency="500" dropTime="3000"/>`}
	tc := a.StartTomcat(lab.TomcatSpec{Name: "bind", Files: c.files(), Hostname: "was1", Hosts: hostsFor("was1", "10.99.0.1")})
	tc.WaitLog(t, 90*time.Second, "java.net.SocketException: Invalid argument", "Tomcat is unable to start")
	rep, _ := preflightJSON(t, a, wasView(t, a, "was1"), "--skip", "ntp.sync", "--tomcat", tc.Base)
	got := check(t, rep, "tomcat.membership")
	if got.Status != probes.Fail || !strings.Contains(got.Summary, "bind=\"10.99.0.1\"") || !strings.Contains(got.Detail, "Invalid argument") {
		t.Errorf("tomcat.membership = %s %q (%s); want fail: Tomcat with bind does not start", got.Status, got.Summary, got.Detail)
	}
}

// TestJvmRouteByTheBalancerInFront: a missing jvmRoute is judged by the balancer of this
// host, each one started for real on its configuration (so httpd and nginx accept it):
// one that routes by the session id's suffix needs it, one that sticks by its own cookie
// or a hash of the whole id does not, and without a balancer the warning is conditional.
func TestJvmRouteByTheBalancerInFront(t *testing.T) {
	lab.RequireTomcat(t)
	lab.RequireWebServers(t)
	lab.RequireCommands(t, "haproxy")
	l := lab.New(t)
	h := l.AddHost("was1", 1)
	base := t.TempDir()
	writeTree(t, base, tcConf{}.files())
	jkWorkers := "worker.list=lb\nworker.lb.type=lb\nworker.lb.balance_workers=tomcat1\n" +
		"worker.tomcat1.type=ajp13\nworker.tomcat1.host=10.99.0.1\nworker.tomcat1.port=8009\n"
	proxy := func(sticky string) string {
		return "LoadModule headers_module " + lab.HTTPDModules + "/mod_headers.so\n" +
			"Header add Set-Cookie \"ROUTEID=.%{BALANCER_WORKER_ROUTE}e; path=/\" env=BALANCER_ROUTE_CHANGED\n" +
			"<Proxy balancer://c>\n    BalancerMember http://10.99.0.1:8080 route=t1\n    ProxySet stickysession=" + sticky + "\n</Proxy>\n" +
			"ProxyPass / balancer://c/\n"
	}
	cases := []struct {
		name   string
		setup  func(w *lab.WebTier) *exec.Cmd
		status probes.Status
		says   string
	}{
		{"no balancer here", nil, probes.Warn, "if your balancer routes by the session id's suffix"},
		{"mod_jk with sticky_session", func(w *lab.WebTier) *exec.Cmd {
			w.ModJK(8081, jkWorkers, "JkMount /* lb")
			return w.StartHTTPD(8081)
		}, probes.Warn, "mod_jk balancer lb (sticky_session"},
		{"mod_proxy on JSESSIONID", func(w *lab.WebTier) *exec.Cmd {
			w.ModProxy(8081, proxy("JSESSIONID|jsessionid"))
			return w.StartHTTPD(8081)
		}, probes.Warn, "balancer://c (stickysession=JSESSIONID|jsessionid"},
		{"mod_proxy on its own ROUTEID cookie", func(w *lab.WebTier) *exec.Cmd {
			w.ModProxy(8081, proxy("ROUTEID"))
			return w.StartHTTPD(8081)
		}, probes.Pass, "none is needed: balancer://c (stickysession=ROUTEID"},
		{"nginx hash of the whole session id", func(w *lab.WebTier) *exec.Cmd {
			w.Nginx(8081, "hash $cookie_JSESSIONID consistent;\n    server 10.99.0.1:8080;")
			return w.StartNginx(8081)
		}, probes.Pass, "nginx upstream tomcats (hash"},
		{"an nginx map on the route", func(w *lab.WebTier) *exec.Cmd {
			w.Nginx(8081, "server 10.99.0.1:8080;")
			w.Write("etc/nginx/conf.d/cluster.conf", "upstream tomcats { server 10.99.0.1:8080; }\nupstream tomcat1 { server 10.99.0.1:8080; }\n"+
				"map $cookie_JSESSIONID $node {\n    ~\\.tomcat1$ tomcat1;\n    default tomcats;\n}\n"+
				"server {\n    listen 10.99.0.1:8081;\n    location / { proxy_pass http://$node; }\n}\n")
			return w.StartNginx(8081)
		}, probes.Warn, "nginx map $node"},
		{"HAProxy's own cookie", func(w *lab.WebTier) *exec.Cmd {
			file := l.WriteFile("haproxy-front.cfg", "global\n    maxconn 64\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n"+
				"frontend www\n    bind 10.99.0.1:8092\n    default_backend tomcats\nbackend tomcats\n    cookie SERVERID insert indirect nocache\n    server tomcat1 10.99.0.1:8080 cookie t1\n")
			hp := h.Start(lab.Private{}, "haproxy-front", "haproxy", "-db", "-f", file)
			h.WaitListening(t, "10.99.0.1:8092")
			return hp
		}, probes.Pass, "HAProxy backend tomcats (cookie SERVERID insert"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := h.NewWebTier(fmt.Sprintf("front%d", i))
			if c.setup != nil {
				defer w.Stop(c.setup(w))
			}
			rep, _ := preflightJSON(t, h, w.View(), "--skip", "ntp.sync", "--tomcat", base, "--tomcat-home", lab.TomcatHome)
			got := check(t, rep, "tomcat.jvmroute")
			if got.Status != c.status || !strings.Contains(got.Summary, c.says) {
				t.Errorf("tomcat.jvmroute = %s %q; want %s saying %q", got.Status, got.Summary, c.status, c.says)
			}
		})
	}
}
