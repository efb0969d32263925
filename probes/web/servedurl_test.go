package web

import (
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// TestServedURL: the page session-test goes through when no --url is given is the one
// path the one balancer is mounted on, on its port, by a name its server takes; anything
// less certain is an error that asks for --url and says why.
func TestServedURL(t *testing.T) {
	for _, c := range []struct {
		name, conf, want, err string
	}{
		{"mod_jk on /app/*", "Listen 80\nJkMount /app/* lb\n", "http://localhost/app/", ""},
		{"mod_jk on everything, another port", "Listen 8081\nJkMount /* lb\n", "http://localhost:8081/", ""},
		{"on one address", "Listen 10.99.0.10:80\nJkMount /* lb\n", "http://10.99.0.10/", ""},
		{"80 among the ports", "Listen 8443\nListen 80\nJkMount /shop lb\n", "http://localhost/shop", ""},
		{"a mount and its directory", "Listen 80\nJkMount /app lb\nJkMount /app/* lb\n", "", "serve 2 paths"},
		{"a pattern that names no page", "Listen 80\nJkMount /*.jsp lb\n", "", "JkMount /*.jsp lb"},
		{"in a name-based virtual host", "Listen 80\n<VirtualHost *:80>\nServerName other.example\n</VirtualHost>\n" +
			"<VirtualHost *:80>\nServerName shop.example\nJkMount /shop/* lb\n</VirtualHost>\n", "http://shop.example/shop/", ""},
		{"no mount", "Listen 80\n", "", "no balancer members"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env, _ := webTree(t, c.conf)
			checkServedURL(t, Balancers(env), c.want, c.err)
		})
	}
}

func TestServedURLNginx(t *testing.T) {
	ups := "upstream tomcats { server 10.0.0.1:8080; server 10.0.0.2:8080; }\n"
	for _, c := range []struct {
		name, server, want, err string
	}{
		{"location /app/", "listen 8000;\nlocation / { }\nlocation /app/ { proxy_pass http://tomcats; }", "http://localhost:8000/app/", ""},
		{"on one address", "listen 10.0.0.5:8000;\nlocation /app/ { proxy_pass http://tomcats; }", "http://10.0.0.5:8000/app/", ""},
		{"no listen is 80", "location = /login { proxy_pass http://tomcats; }", "http://localhost/login", ""},
		{"a regular expression", "location ~ \\.jsp$ { proxy_pass http://tomcats; }", "", "location ~ \\.jsp$"},
		{"two locations", "location /a/ { proxy_pass http://tomcats; }\nlocation /b/ { proxy_pass http://tomcats; }", "", "serve 2 paths"},
		{"by server_name", "listen 80;\nserver_name shop.example;\nlocation / { proxy_pass http://tomcats; }\n}\nserver {\nlisten 80 default_server;\nlocation / { }",
			"http://shop.example/", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			conf := "events {}\nhttp {\n" + ups + "server {\n" + c.server + "\n}\n}\n"
			writeFiles(t, root, map[string]string{"etc/nginx/nginx.conf": conf})
			checkServedURL(t, Balancers(&probes.Env{Root: root}), c.want, c.err)
		})
	}
}

func checkServedURL(t *testing.T, bals []Balancer, want, wantErr string) {
	t.Helper()
	u, err := ServedURL(bals)
	got := ""
	if u != nil {
		got = u.String()
	}
	if got != want || (wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), wantErr) {
		t.Errorf("ServedURL = %q, %v; want %q, error with %q", got, err, want, wantErr)
	}
}
