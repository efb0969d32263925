package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// ngxUpstreams are two upstreams on closed ports of the web host: nginx answers 502 for
// a request it proxies to one, naming in X-Up the members it tried or the upstream.
const ngxUpstreams = "upstream a { server 10.99.0.1:1; server 10.99.0.1:3; }\n" +
	"upstream b { server 10.99.0.1:2; server 10.99.0.1:4; }\n"

// TestNginxRoutingAgainstNginx checks which upstream a request reaches, as the model of
// server blocks and locations says (MembersFor, what session-test uses), against real
// nginx: a proxied request gets 502 with the upstream's members in X-Up, one nginx
// answers itself a 404.
func TestNginxRoutingAgainstNginx(t *testing.T) {
	lab.RequireWebServers(t)
	srv := func(listen, names, body string) string {
		if names != "" {
			names = "    server_name " + names + ";\n"
		}
		return "server {\n    listen " + listen + ";\n" + names + "    add_header X-Up $upstream_addr always;\n    root /nonexistent;\n" + body + "}\n"
	}
	cases := []struct {
		name, conf string
		// reqs are "PORT PATH HOST UPSTREAM", UPSTREAM "-" where nginx answers itself
		reqs []string
	}{
		{"one server, everything proxied", srv("8080", "", "    location / { proxy_pass http://a; }\n"),
			[]string{"8080 /app/x 10.99.0.1 a", "8080 / web a"}},
		{"by server_name, default_server static", srv("8080", "app.example.com", "    location / { proxy_pass http://a; }\n") +
			srv("8080 default_server", "static.example.com", ""),
			[]string{"8080 /app/x app.example.com a", "8080 /app/x APP.example.com. a", "8080 /app/x 10.99.0.1 -", "8080 /app/x other.example.com -"}},
		{"the first server is the default", srv("8080", "static", "") + srv("8080", "app.example.com", "    location / { proxy_pass http://a; }\n"),
			[]string{"8080 /x 10.99.0.1 -", "8080 /x app.example.com a"}},
		{"wildcard and regex names", srv("8080", "*.example.org .example.net", "    location / { proxy_pass http://a; }\n") +
			srv("8080", "www.*", "    location / { proxy_pass http://b; }\n") +
			srv("8080", `~^app\d+\.example\.com$`, "    location / { proxy_pass http://b; }\n") + srv("8080 default_server", "", ""),
			[]string{"8080 /x x.example.org a", "8080 /x example.net a", "8080 /x www.example.org a", "8080 /x www.foo.com b", "8080 /x app12.example.com b", "8080 /x appx.example.com -"}},
		{"locations", srv("8080", "", "    location / { }\n    location /app/ { proxy_pass http://a; }\n    location ~ \\.jsp$ { proxy_pass http://b; }\n"+
			"    location = /exact { proxy_pass http://a; }\n    location ^~ /static/ { }\n    location ~* \\.DO$ { proxy_pass http://a; }\n"),
			[]string{"8080 /app/x a", "8080 /app/x.jsp b", "8080 /static/x.jsp -", "8080 /exact a", "8080 /exact/ -", "8080 /other -", "8080 /x.jsp b", "8080 /x.do a"}},
		{"a listen on this address before a wildcard one", srv("8080", "", "    location / { proxy_pass http://b; }\n") +
			srv("10.99.0.1:8080", "", "    location / { proxy_pass http://a; }\n"),
			[]string{"8080 /x 10.99.0.1 a"}},
		{"two ports", srv("8080", "", "    location / { proxy_pass http://a; }\n") + srv("8081", "", "    location / { proxy_pass http://b; }\n"),
			[]string{"8080 /x 10.99.0.1 a", "8081 /x 10.99.0.1 b"}},
	}
	l := lab.New(t)
	h := l.AddHost("web", 1)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := h.NewWebTier(fmt.Sprintf("ngx%d", i))
			w.Nginx(8080, "server 10.99.0.1:1;")
			w.NginxHTTP(ngxUpstreams + c.conf)
			bals := Balancers(&probes.Env{Root: w.Root})
			nginx := w.StartNginx(8080)
			defer w.Stop(nginx)
			for _, r := range c.reqs {
				f := strings.Fields(r)
				if len(f) == 3 { // no host: the address
					f = []string{f[0], f[1], "10.99.0.1", f[2]}
				}
				u, _ := url.Parse(fmt.Sprintf("http://%s:%s%s", f[2], f[0], f[1]))
				status, header := ask(t, h, "10.99.0.1:"+f[0], u)
				up := header.Get("X-Up")
				oracle := "-"
				switch {
				// X-Up is the members tried, or the upstream's name once nginx has marked
				// them all failed ("no live upstreams")
				case status == http.StatusBadGateway && (up == "a" || strings.HasPrefix(up, "10.99.0.1:1")):
					oracle = "a"
				case status == http.StatusBadGateway && (up == "b" || strings.HasPrefix(up, "10.99.0.1:2")):
					oracle = "b"
				case status != http.StatusNotFound:
					t.Fatalf("%s: nginx answered %d (X-Up %q); want 502 from an upstream or 404", u, status, up)
				}
				if oracle != f[3] {
					t.Errorf("%s: nginx sent it to %s; the case says %s", u, oracle, f[3])
				}
				model := "-"
				if ms, err := MembersFor(bals, u); err == nil {
					model = map[int]string{1: "a", 2: "b"}[ms[0].Port]
				} else if oracle != "-" || !strings.Contains(err.Error(), "nginx gives it to") {
					t.Errorf("%s: MembersFor: %v", u, err)
				}
				if model != oracle {
					t.Errorf("%s: nginx sent it to %s, MembersFor to %s", u, oracle, model)
				}
			}
		})
	}
}
