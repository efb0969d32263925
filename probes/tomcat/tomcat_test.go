package tomcat

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// classList reads one version's recorded cluster classes (testdata/classes/TAG.txt).
func classList(t *testing.T, tag string) map[string]bool {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "classes", tag+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out[sc.Text()] = true
	}
	return out
}

var recorded = []string{"7.0.109", "8.5.100", "9.0.121", "10.1.59", "11.0.25"}

// TestClassFactsAgreeWithTheSources: every removal in the table is true of the recorded
// class lists (present in every series before it, absent from it on), and every class
// added later has the first release the tags say.
func TestClassFactsAgreeWithTheSources(t *testing.T) {
	lists := map[string]map[string]bool{}
	for _, tag := range recorded {
		lists[tag] = classList(t, tag)
	}
	firstSeen := map[string]map[string]string{} // class -> series -> first tag
	b, err := os.ReadFile(filepath.Join("testdata", "classes", "first-last.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 || strings.HasPrefix(line, "#") {
			continue
		}
		if firstSeen[f[0]] == nil {
			firstSeen[f[0]] = map[string]string{}
		}
		firstSeen[f[0]][f[1]] = f[2]
	}
	for _, fact := range classFacts {
		if fact.RemovedIn != "" {
			removed, _ := ParseVersion(fact.RemovedIn + ".0")
			for _, tag := range recorded {
				v, _ := ParseVersion(tag)
				has := lists[tag][fact.Class]
				if before := v.Less(removed); before != has {
					t.Errorf("%s: the table says removed in %s; Tomcat %s has it: %v", fact.Class, fact.RemovedIn, tag, has)
				}
			}
		}
		if fact.Added != nil {
			for series, first := range firstSeen[fact.Class] {
				v, ok := ParseVersion(first)
				if !ok {
					if fact.Added.In(Version{Major: atoi(series, 0), Minor: atoi(series, 1), Patch: 1000}) {
						t.Errorf("%s: the table says series %s has it; no %s tag does", fact.Class, series, series)
					}
					continue
				}
				if !fact.Added.In(v) || fact.Added.In(Version{v.Major, v.Minor, v.Patch - 1}) && v.Patch > 0 {
					t.Errorf("%s: first in %s per the tags; the table says %v", fact.Class, first, fact.Added)
				}
			}
		}
		if fact.Instead != "" && !lists["11.0.25"][fact.Instead] && !lists["10.1.59"][fact.Instead] {
			t.Errorf("%s: the replacement %s is not a class of current Tomcat", fact.Class, fact.Instead)
		}
	}
}

func atoi(series string, i int) int {
	v, _ := ParseVersion(series + ".0")
	if i == 0 {
		return v.Major
	}
	return v.Minor
}

// TestInstalledJars: the class path read from the real Debian Tomcat 10.1 holds every
// cluster class its source tree has (the jar reader lists what the JVM can load).
func TestInstalledJars(t *testing.T) {
	in := ofInstalledTomcat(t, &Instance{Base: t.TempDir()})
	env, home := in.env, in.Home
	v, from, err := readVersion(env, home)
	if err != nil || v.Series() != "10.1" || !strings.HasSuffix(from, "lib/catalina.jar") {
		t.Fatalf("readVersion = %v from %s, %v; want 10.1.x from lib/catalina.jar", v, from, err)
	}
	cp := in.ClassPath()
	for cls := range classList(t, "10.1.59") {
		if strings.HasSuffix(cls, "MBean") || strings.HasSuffix(cls, "package-info") {
			continue // interfaces are classes too, but keep the check to what configs name
		}
		if _, ok := cp.Has(cls); !ok {
			t.Errorf("%s (in the 10.1 sources) is not found in %s/lib", cls, home)
		}
	}
	if _, ok := cp.Has("org.apache.catalina.tribes.group.interceptors.MessageDispatch15Interceptor"); ok {
		t.Error("MessageDispatch15Interceptor found in Tomcat 10.1's jars")
	}
	why, fix := explainMissing("org.apache.catalina.tribes.group.interceptors.MessageDispatchInterceptr", v, cp)
	if !strings.Contains(fix, "did you mean org.apache.catalina.tribes.group.interceptors.MessageDispatchInterceptor") {
		t.Errorf("misspelt class: %q / %q; want the nearest name", why, fix)
	}
	why, fix = explainMissing("org.apache.catalina.tribes.membership.StaticMembershipService", Version{9, 0, 5}, cp)
	if !strings.Contains(why, "does not exist in Tomcat 9.0.5") || !strings.Contains(fix, "StaticMembershipInterceptor") {
		t.Errorf("a class too new for the version: %q / %q", why, fix)
	}
	_, fix = explainMissing("org.apache.catalina.cluster.tcp.SimpleTcpCluster", v, cp)
	if !strings.Contains(fix, "cluster how-to") {
		t.Errorf("a Tomcat 5.5 class: %q", fix)
	}
}

// writeTree writes files under root; a value "-> target" makes a symbolic link.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if target, ok := strings.CutPrefix(c, "-> "); ok {
			if err := os.Symlink(target, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func jar(t *testing.T, entries map[string]string) string {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for n, c := range entries {
		w, _ := z.Create(n)
		w.Write([]byte(c))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

const serverXML = `<Server><Service name="Catalina">
<Connector port="8080"/>
<Engine name="Catalina" defaultHost="localhost" jvmRoute="tomcat1">
  <Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster"/>
  <Host name="localhost" appBase="webapps"/>
</Engine></Service></Server>`

// TestDiscoverDebianImage: Debian's layout under --root (an image): /var/lib/tomcat10 with
// conf -> /etc/tomcat10, an absolute link that must point into the image, paired with
// /usr/share/tomcat10; the version read from its catalina.jar, not the one a
// CATALINA_BASE override shows.
func TestDiscoverDebianImage(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"etc/tomcat10/server.xml":          serverXML,
		"etc/tomcat10/catalina.properties": "x=1\n",
		"var/lib/tomcat10/conf":            "-> /etc/tomcat10",
		"var/lib/tomcat10/lib/org/apache/catalina/util/ServerInfo.properties": "server.number=1.2.3.4\n",
		"usr/share/tomcat10/lib/catalina.jar":                                 jar(t, map[string]string{serverInfo: "server.info=Apache Tomcat/10.1.60\nserver.number=10.1.60.0\n"}),
		"etc/default/tomcat10":                                                "JAVA_OPTS=\"-Djava.awt.headless=true -Dfrom.default=yes\"\n",
	})
	env := &probes.Env{Root: root}
	f, err := Discover(context.Background(), env, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Instances) != 1 {
		t.Fatalf("found %d instances; want /var/lib/tomcat10 once (%+v)", len(f.Instances), f.Looked)
	}
	in := f.Instances[0]
	if in.Base != "/var/lib/tomcat10" || in.Home != "/usr/share/tomcat10" || in.Version.String() != "10.1.60" || in.Server == nil {
		t.Fatalf("instance = base %s home %s version %s server %v err %v", in.Base, in.Home, in.Version, in.Server != nil, in.Err)
	}
	if p, ok := in.Props.Get("from.default"); !ok || p.From != "/etc/default/tomcat10:1" {
		t.Errorf("JAVA_OPTS of /etc/default/tomcat10: %+v, %v", p, ok)
	}
	if p, _ := in.Props.Get("x"); !strings.HasPrefix(p.From, "conf/catalina.properties:1") {
		t.Errorf("catalina.properties through the conf link: %+v", p)
	}
	if _, err := Discover(context.Background(), env, Options{Base: "/nonexistent"}); err == nil || !strings.Contains(err.Error(), "--tomcat") {
		t.Errorf("--tomcat to nowhere: %v; want a usage error naming the flag", err)
	}
	if _, err := Discover(context.Background(), env, Options{Base: "/etc"}); err == nil || !strings.Contains(err.Error(), "no conf/server.xml") {
		t.Errorf("--tomcat to a directory without conf/server.xml: %v", err)
	}
}

// TestBrokenServerXML: a malformed server.xml makes the checks unknown, naming file:line.
func TestBrokenServerXML(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"opt/tomcat/conf/server.xml": "<Server>\n<Service>\n</Server>\n",
		"opt/tomcat/lib/catalina.jar": jar(t, map[string]string{serverInfo: "server.number=9.0.85.0\n"})})
	env := &probes.Env{Root: root}
	f, err := Discover(context.Background(), env, Options{})
	if err != nil || len(f.Instances) != 1 {
		t.Fatalf("Discover = %+v, %v", f, err)
	}
	r := Cluster{Found: f}.Run(context.Background(), env)
	if r.Status != probes.Unknown || !strings.Contains(r.Remediation, "/opt/tomcat/conf/server.xml:3") {
		t.Errorf("tomcat.cluster = %s %q %q; want unknown naming server.xml:3", r.Status, r.Summary, r.Remediation)
	}
	if f.Instances[0].Version.String() != "9.0.85" {
		t.Errorf("version %s; want 9.0.85 from the tarball's own lib/catalina.jar", f.Instances[0].Version)
	}
}

// TestApps: which applications replicate, as Tomcat decides: <distributable/> in the
// application's own web.xml, every merged web fragment distributable (unless
// metadata-complete or left out by absolute ordering), no context <Manager>.
func TestApps(t *testing.T) {
	base := t.TempDir()
	dist := `<web-app><distributable/></web-app>`
	frag := jar(t, map[string]string{"META-INF/web-fragment.xml": `<web-fragment><name>lib</name></web-fragment>`})
	writeTree(t, base, map[string]string{
		"conf/server.xml":                         serverXML,
		"conf/web.xml":                            dist, // does not count
		"webapps/ROOT/WEB-INF/web.xml":            dist,
		"webapps/nodist/WEB-INF/web.xml":          `<web-app/>`,
		"webapps/frag/WEB-INF/web.xml":            dist,
		"webapps/frag/WEB-INF/lib/lib.jar":        frag,
		"webapps/complete/WEB-INF/web.xml":        `<web-app metadata-complete="true"><distributable/></web-app>`,
		"webapps/complete/WEB-INF/lib/lib.jar":    frag,
		"webapps/ordered/WEB-INF/web.xml":         `<web-app><absolute-ordering/><distributable/></web-app>`,
		"webapps/ordered/WEB-INF/lib/lib.jar":     frag,
		"webapps/shop.war":                        jar(t, map[string]string{"WEB-INF/web.xml": dist, "WEB-INF/lib/lib.jar": frag}),
		"webapps/mgr/WEB-INF/web.xml":             dist,
		"webapps/mgr/META-INF/context.xml":        `<Context><Manager className="org.apache.catalina.session.PersistentManager"/></Context>`,
		"conf/Catalina/localhost/v2#api##002.xml": `<Context docBase="/srv/api"/>`,
		"webapps/docs/WEB-INF/web.xml":            `<web-app/>`,
	})
	env := &probes.Env{Root: "/"}
	in := &Instance{Base: base, Home: "", env: env, Props: newProps()}
	in.loadServer(env)
	apps, err := in.Apps()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, a := range apps {
		got[a.Path] = a.Replicates()
	}
	want := map[string]bool{"/": true, "/nodist": false, "/frag": false, "/complete": true, "/ordered": true,
		"/shop": false, "/mgr": false, "/v2/api": false, "/docs": false}
	for p, w := range want {
		if g, ok := got[p]; !ok || g != w {
			t.Errorf("%s replicates = %v (found %v); want %v", p, g, ok, w)
		}
	}
	r := judgeDistributable(in)
	if r.Status != probes.Warn || !strings.Contains(r.Detail, "web fragment") || !strings.Contains(r.Detail, "PersistentManager") {
		t.Errorf("tomcat.distributable = %s %q; want warn naming the fragment and the manager", r.Status, r.Detail)
	}
}

// jvm writes a running Tomcat JVM into a fake /proc: its command line and its network
// namespace link.
func jvm(pid int, base, netns string) map[string]string {
	dir := fmt.Sprintf("proc/%d/", pid)
	return map[string]string{
		dir + "cmdline": strings.Join([]string{"/usr/bin/java", "-Dcatalina.base=" + base, "-Dcatalina.home=" + base,
			"org.apache.catalina.startup.Bootstrap", "start"}, "\x00") + "\x00",
		dir + "status": "Name:\tjava\nUid:\t0\t0\t0\t0\n",
		dir + "ns/net": "-> " + netns,
	}
}

// TestDiscoverSortsJVMsByNetworkNamespace: a JVM in another network namespace is never
// this host's instance. From the host's own namespace it is a node of its own, one per
// namespace; from any other namespace (a container's, a lab host's) it is none of this
// run's business. Unknown namespaces keep every JVM, as before they were read. --tomcat
// takes the PID of the JVM running that base in this namespace only (seeds/002: two
// containers' JVMs share /usr/local/tomcat).
func TestDiscoverSortsJVMsByNetworkNamespace(t *testing.T) {
	root := t.TempDir()
	tree := map[string]string{}
	for _, m := range []map[string]string{
		jvm(100, "/srv/host", "net:[1]"), jvm(200, "/usr/local/tomcat", "net:[2]"), jvm(201, "/srv/second", "net:[2]"),
		jvm(300, "/usr/local/tomcat", "net:[3]"),
		{"srv/host/conf/server.xml": serverXML, "srv/second/conf/server.xml": serverXML, "usr/local/tomcat/conf/server.xml": serverXML},
	} {
		for k, v := range m {
			tree[k] = v
		}
	}
	writeTree(t, root, tree)
	running := func(f *Found) (out []string) {
		for _, in := range f.Instances {
			if in.PID > 0 {
				out = append(out, fmt.Sprintf("%d %s", in.PID, in.Base))
			}
		}
		return out
	}
	for _, c := range []struct {
		name      string
		ns        probes.Namespaces
		opt       Options
		instances []string
		nodes     []Node
		elsewhere int
	}{
		{"the host", probes.Namespaces{Self: "net:[1]", Initial: "net:[1]"}, Options{},
			[]string{"100 /srv/host"}, []Node{{200, "net:[2]", "/usr/local/tomcat"}, {300, "net:[3]", "/usr/local/tomcat"}}, 0},
		{"a namespace with two", probes.Namespaces{Self: "net:[2]", Initial: "net:[1]"}, Options{},
			[]string{"201 /srv/second", "200 /usr/local/tomcat"}, nil, 2},
		{"a container", probes.Namespaces{Self: "net:[3]", Initial: "net:[1]"}, Options{},
			[]string{"300 /usr/local/tomcat"}, nil, 3},
		{"--tomcat in a container", probes.Namespaces{Self: "net:[3]", Initial: "net:[1]"}, Options{Base: "/usr/local/tomcat"},
			[]string{"300 /usr/local/tomcat"}, nil, 0},
		{"namespaces unknown", probes.Namespaces{}, Options{},
			[]string{"100 /srv/host", "201 /srv/second", "200 /usr/local/tomcat"}, nil, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := Discover(context.Background(), &probes.Env{Root: root, NetNS: c.ns}, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := running(f); fmt.Sprint(got) != fmt.Sprint(c.instances) {
				t.Errorf("running instances = %q; want %q", got, c.instances)
			}
			if fmt.Sprint(f.Nodes) != fmt.Sprint(c.nodes) || f.Elsewhere != c.elsewhere {
				t.Errorf("nodes = %+v, elsewhere %d; want %+v, %d", f.Nodes, f.Elsewhere, c.nodes, c.elsewhere)
			}
		})
	}
}

// installedHome is the Debian Tomcat 10.1 the suite installs.
const installedHome = "/usr/share/tomcat10"

// ofInstalledTomcat makes in an instance of the installed Tomcat 10.1 (its CATALINA_HOME, the
// live root), skipping the test where it is not installed.
func ofInstalledTomcat(t *testing.T, in *Instance) *Instance {
	t.Helper()
	if _, err := os.Stat(filepath.Join(installedHome, "lib", "catalina-ha.jar")); err != nil {
		t.Skip("skipped: Tomcat 10 is not installed (the README's test command installs it)")
	}
	in.Home, in.env, in.Props = installedHome, &probes.Env{Root: "/"}, newProps()
	in.Props.Set("catalina.base", in.Base, "test")
	in.Props.Set("catalina.home", installedHome, "test")
	return in
}
