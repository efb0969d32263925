package web

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

func TestServerKind(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"/usr/sbin/apache2", "-k", "start"}, "httpd"},
		{[]string{"/usr/local/apache2/bin/httpd", "-DFOREGROUND"}, "httpd"},
		{[]string{"nginx: master process /usr/sbin/nginx -c /etc/nginx/nginx.conf"}, "nginx"},
		{[]string{"nginx: worker process"}, ""},
		{[]string{"/usr/sbin/nginx", "-g", "daemon off;"}, "nginx"},
		{[]string{"/usr/bin/java", "org.apache.catalina.startup.Bootstrap"}, ""},
		{[]string{"/usr/sbin/apache2ctl"}, ""},
	} {
		if got := serverKind(c.args); got != c.want {
			t.Errorf("serverKind(%q) = %q; want %q", c.args, got, c.want)
		}
	}
}

// TestOptions reads the command lines as httpd, nginx and haproxy take them: "-x VALUE"
// and "-xVALUE", repeated options in order, other options passed over.
func TestOptions(t *testing.T) {
	for _, c := range []struct {
		args    []string
		letters string
		want    string
	}{
		{[]string{"apache2", "-d", "/srv/web", "-f", "conf/httpd.conf", "-DFOREGROUND", "-D", "SSL"}, "dfD", "map[68:[FOREGROUND SSL] 100:[/srv/web] 102:[conf/httpd.conf]]"},
		{[]string{"httpd", "-d/opt/httpd", "-f/opt/httpd/conf/httpd.conf"}, "dfD", "map[100:[/opt/httpd] 102:[/opt/httpd/conf/httpd.conf]]"},
		{[]string{"/usr/sbin/apache2", "-k", "start"}, "dfD", "map[]"},
		{[]string{"httpd", "-d"}, "dfD", "map[]"},
		{[]string{"nginx", "-p", "/srv/nginx", "-c", "conf/nginx.conf", "-g", "daemon", "off;"}, "pc", "map[99:[conf/nginx.conf] 112:[/srv/nginx]]"},
		{[]string{"/usr/sbin/nginx", "-c/etc/nginx/other.conf"}, "pc", "map[99:[/etc/nginx/other.conf]]"},
		{[]string{"haproxy", "-Ws", "-f", "/etc/haproxy/haproxy.cfg", "-f/etc/haproxy/conf.d", "-p", "/run/haproxy.pid", "-sf", "42"}, "f", "map[102:[/etc/haproxy/haproxy.cfg /etc/haproxy/conf.d]]"},
	} {
		if got := fmt.Sprint(options(c.args, c.letters)); got != c.want {
			t.Errorf("options(%q, %q) = %s; want %s", c.args, c.letters, got, c.want)
		}
	}
}

// TestMainFiles resolves the main file as the servers do, where the command line says
// enough without the binary's -V (the PID is no process: -V cannot be asked), and says
// none where nothing names one.
func TestMainFiles(t *testing.T) {
	env := &probes.Env{Root: "/"}
	const gone = 1 << 30
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"apache2", "-d", "/srv/web", "-f", "conf/httpd.conf"}, "/srv/web /srv/web/conf/httpd.conf"},
		{[]string{"httpd", "-f", "/opt/httpd/conf/httpd.conf"}, "/ /opt/httpd/conf/httpd.conf"},
		{[]string{"httpd", "-d", "/srv/web"}, "/srv/web "},
	} {
		root, file, _ := httpdMain(env, serverProc{kind: "httpd", pid: gone, args: c.args})
		if got := root + " " + file; got != c.want {
			t.Errorf("httpdMain(%q) = %q; want %q", c.args, got, c.want)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"nginx", "-p", "/srv/nginx", "-c", "conf/nginx.conf"}, "/srv/nginx/conf/nginx.conf"},
		{[]string{"nginx", "-c", "/etc/nginx/other.conf"}, "/etc/nginx/other.conf"},
		{[]string{"nginx"}, ""},
	} {
		if got := nginxMainOf(env, serverProc{kind: "nginx", pid: gone, args: c.args}); got != c.want {
			t.Errorf("nginxMainOf(%q) = %q; want %q", c.args, got, c.want)
		}
	}
}

// TestCompiledDefaults reads the lines Debian's apache2 -V and nginx -V print.
func TestCompiledDefaults(t *testing.T) {
	root, file := httpdCompiled("Server version: Apache/2.4.71 (Debian)\n -D DYNAMIC_MODULE_LIMIT=256\n -D HTTPD_ROOT=\"/etc/apache2\"\n -D SUEXEC_BIN=\"/usr/lib/apache2/suexec\"\n -D SERVER_CONFIG_FILE=\"apache2.conf\"\n")
	if root != "/etc/apache2" || file != "apache2.conf" {
		t.Errorf("httpdCompiled = %q, %q; want /etc/apache2, apache2.conf", root, file)
	}
	prefix, conf := nginxCompiled("nginx version: nginx/1.22.1\nconfigure arguments: --with-cc-opt='-g -O2' --prefix=/usr/share/nginx --conf-path=/etc/nginx/nginx.conf --http-log-path=/var/log/nginx/access.log\n")
	if prefix != "/usr/share/nginx" || conf != "/etc/nginx/nginx.conf" {
		t.Errorf("nginxCompiled = %q, %q", prefix, conf)
	}
}

// TestIfDefine: with a running httpd's -D parameters known, <IfDefine> is decided by them
// and by Define lines read before it; unknown, every section is read.
func TestIfDefine(t *testing.T) {
	files := map[string]string{
		"srv/web/conf/httpd.conf": "<IfDefine CLUSTER>\nJkMount /a lb\n</IfDefine>\n<IfDefine !CLUSTER>\nJkMount /b lb\n</IfDefine>\n" +
			"Define LATER\n<IfDefine LATER>\nJkMount /c lb\n</IfDefine>\n",
	}
	env := envWith(t, files)
	for _, c := range []struct {
		defines []string
		want    string
	}{
		{[]string{"CLUSTER"}, "[/a /c]"},
		{[]string{}, "[/b /c]"},
		{nil, "[/a /b /c]"},
	} {
		conf := loadHTTPD(env, "/srv/web/conf/httpd.conf", "/srv/web", c.defines)
		var got []string
		for _, d := range conf.All("JkMount") {
			got = append(got, d.Args[0])
		}
		if fmt.Sprint(got) != c.want {
			t.Errorf("-D %v: JkMounts %v; want %s", c.defines, got, c.want)
		}
	}
}

// envWith writes files (paths relative to the root) under a temp root and returns an Env
// reading it.
func envWith(t *testing.T, files map[string]string) *probes.Env {
	t.Helper()
	root := t.TempDir()
	for p, text := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &probes.Env{Root: root}
}

// TestEachServer: two running httpds are both judged, each named by its main file, the
// worse leading; one is reported as it is.
func TestEachServer(t *testing.T) {
	a := &HTTPDConfig{Main: "/srv/a/conf/httpd.conf", PID: 10}
	b := &HTTPDConfig{Main: "/etc/apache2/apache2.conf", PID: 20}
	got := eachServer("ajp.workers", []*HTTPDConfig{a, b}, []probes.Result{
		probes.PassResult("", "1 AJP workers answer a CPing"),
		probes.WarnResult("", "balancer lb: sticky_session=0"),
	})
	servers, _ := got.Evidence["servers"].([]any)
	if got.ID != "ajp.workers" || got.Status != probes.Warn || got.Summary != "/etc/apache2/apache2.conf (httpd pid 20): balancer lb: sticky_session=0" ||
		!strings.Contains(got.Detail, "/srv/a/conf/httpd.conf (httpd pid 10): 1 AJP workers answer a CPing") || len(servers) != 2 {
		t.Errorf("eachServer = %+v", got)
	}
	one := eachServer("ajp.workers", []*HTTPDConfig{a}, []probes.Result{probes.PassResult("", "fine")})
	if one.Summary != "fine" || one.ID != "ajp.workers" {
		t.Errorf("one server: %+v; want its result as it is", one)
	}
}
