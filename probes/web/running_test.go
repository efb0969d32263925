package web

import (
	"fmt"
	"os"
	"path/filepath"
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

func TestHTTPDArgs(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"apache2", "-d", "/srv/web", "-f", "conf/httpd.conf", "-DFOREGROUND", "-D", "SSL"}, "/srv/web conf/httpd.conf [FOREGROUND SSL] false"},
		{[]string{"httpd", "-d/opt/httpd", "-f/opt/httpd/conf/httpd.conf"}, "/opt/httpd /opt/httpd/conf/httpd.conf [] false"},
		{[]string{"/usr/sbin/apache2", "-k", "start"}, "  [] true"},
		{[]string{"httpd", "-f", "/etc/httpd/conf/httpd.conf"}, " /etc/httpd/conf/httpd.conf [] true"},
		{[]string{"httpd", "-d"}, "  [] true"},
	} {
		s := httpdArgs(c.args)
		if got := fmt.Sprintf("%s %s %v %v", s.root, s.file, s.defines, s.compiled); got != c.want {
			t.Errorf("httpdArgs(%q) = %q; want %q", c.args, got, c.want)
		}
	}
}

func TestNginxArgs(t *testing.T) {
	for _, c := range []struct {
		args         []string
		prefix, conf string
	}{
		{[]string{"nginx", "-p", "/srv/nginx", "-c", "conf/nginx.conf", "-g", "daemon", "off;"}, "/srv/nginx", "conf/nginx.conf"},
		{[]string{"/usr/sbin/nginx", "-c/etc/nginx/other.conf"}, "", "/etc/nginx/other.conf"},
		{[]string{"/usr/sbin/nginx"}, "", ""},
	} {
		if p, conf := nginxArgs(c.args); p != c.prefix || conf != c.conf {
			t.Errorf("nginxArgs(%q) = %q, %q; want %q, %q", c.args, p, conf, c.prefix, c.conf)
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
