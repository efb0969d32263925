package web

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// TestGivenConfigs: a configuration named with --httpd-conf (or --nginx-conf) is read in
// place of every other: the distribution's files beside it are not, whatever kind they
// are, and its relative paths are its ServerRoot's (the directory above conf/).
func TestGivenConfigs(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"opt/apache2/conf/httpd.conf":         "Listen 8090\nJkWorkersFile conf/workers.properties\nJkMount /shop/* own\n",
		"opt/apache2/conf/workers.properties": "worker.list=own\nworker.own.type=lb\nworker.own.balance_workers=a,b\nworker.a.host=10.0.0.1\nworker.b.host=10.0.0.2\n",
		"etc/apache2/apache2.conf":            "Listen 80\nJkWorkersFile /etc/apache2/workers.properties\nJkMount /* stock\n",
		"etc/apache2/workers.properties":      "worker.list=stock\nworker.stock.type=lb\nworker.stock.balance_workers=c\nworker.c.host=10.0.0.3\n",
		"etc/nginx/nginx.conf":                "http {\nupstream ups { server 10.0.0.9:8080; }\nserver { location / { proxy_pass http://ups; } }\n}\n",
	})
	names := func(env *probes.Env) []string {
		var out []string
		for _, b := range Balancers(env) {
			out = append(out, b.Server+" "+b.Name)
		}
		return out
	}
	if got := names(&probes.Env{Root: root}); !slices.Contains(got, "mod_jk stock") || !slices.Contains(got, "nginx ups") {
		t.Errorf("without a given configuration: %q; want the distribution's", got)
	}
	env := &probes.Env{Root: root, WebConfigs: []probes.WebConfig{{Kind: "httpd", Path: "/opt/apache2/conf/httpd.conf"}}}
	got := names(env)
	if !slices.Equal(got, []string{"mod_jk own"}) {
		t.Errorf("--httpd-conf /opt/apache2/conf/httpd.conf: balancers %q; want only its own", got)
	}
	if u, err := ServedURL(Balancers(env)); err != nil || u.String() != "http://localhost:8090/shop/" {
		t.Errorf("ServedURL = %v, %v", u, err)
	}
}

func TestNginxGlobal(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"nginx", "-g", "daemon off;"}, "daemon off;"},
		{[]string{"nginx", "-p", "/srv", "-g", "daemon", "off;", "pid", "/x;", "-c", "conf/nginx.conf"}, "daemon off; pid /x;"}, // a master's title
		{[]string{"nginx", "-gdaemon off;"}, "daemon off;"},
		{[]string{"nginx", "-c", "x"}, ""},
	} {
		if got := nginxGlobal(c.args); got != c.want {
			t.Errorf("nginxGlobal(%q) = %q; want %q", c.args, got, c.want)
		}
	}
}

// TestCommandLineDirectives: httpd's -C directives come before its main file and -c after
// it (a JkMount given with -c mounts), nginx's -g is read in the main context (an include
// given there brings its upstreams).
func TestCommandLineDirectives(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"srv/httpd/conf/httpd.conf":         "Listen 8090\nJkWorkersFile conf/workers.properties\n",
		"srv/httpd/conf/workers.properties": "worker.list=lb\nworker.lb.type=lb\nworker.lb.balance_workers=a,b\nworker.a.host=10.0.0.1\nworker.b.host=10.0.0.2\n",
		"srv/nginx/nginx.conf":              "events {}\n",
		"srv/nginx/extra.conf":              "http {\nupstream ups { server 10.0.0.9:8080; }\nserver { listen 8091; location / { proxy_pass http://ups; } }\n}\n",
	})
	c := loadHTTPDWith(&probes.Env{Root: root}, "/srv/httpd/conf/httpd.conf", "/srv/httpd", []string{}, []string{"Define X"}, []string{"JkMount /app/* lb"}, nil)
	var mounts []string
	for _, d := range c.All("JkMount") {
		mounts = append(mounts, d.File+": "+strings.Join(d.Args, " "))
	}
	if strings.Join(mounts, ";") != "-c: /app/* lb" || !c.defined["X"] {
		t.Errorf("httpd -C 'Define X' -c 'JkMount /app/* lb': mounts %q, X defined %v", mounts, c.defined["X"])
	}
	ds, _, problems := loadNginxWith(&probes.Env{Root: root}, "/srv/nginx/nginx.conf", "include extra.conf;")
	ups, _ := upstreamsOf(ds)
	if len(ups) != 1 || ups[0].name != "ups" || len(problems) > 0 {
		t.Errorf("nginx -g 'include extra.conf;': upstreams %+v, problems %q", ups, problems)
	}
}

// writeFiles writes each file (its path under root) with its text.
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, text := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
