package web

import (
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/netcfg/haproxy"
)

func TestHAProxyBackendFor(t *testing.T) {
	const cfg = `frontend www
    bind 10.0.0.10:80,:8080
    acl is_app path_beg /app
    acl is_app path_beg /shop
    acl api_host hdr(host) -i api.example.com
    use_backend api if api_host
    use_backend apps if is_app !{ path_end .png }
    use_backend static if { path_beg /static } or { hdr_beg(host) static. }
    default_backend site
frontend other
    bind :9090
    use_backend apps if { ssl_fc }
backend api
    server a1 10.0.0.1:8080
backend apps
    server t1 10.0.0.1:8080
backend static
    server s1 10.0.0.3:80
backend site
    server w1 10.0.0.4:80
listen direct
    bind :7070
    server d1 10.0.0.5:8080
`
	f, err := haproxy.Parse(strings.NewReader(cfg))
	if err != nil {
		t.Fatal(err)
	}
	c := &haproxyConfig{cfg: f, files: map[*haproxy.Section]string{}}
	for _, tc := range []struct {
		port       int
		host, path string
		want       string // backend name, "?" unmodelled, "" none
	}{
		{80, "www.example.com", "/app/login.jsp", "apps"},
		{8080, "www.example.com:8080", "/shop/", "apps"},
		{80, "www.example.com", "/app/logo.png", "site"},
		{80, "API.example.com", "/app/", "api"},
		{80, "www.example.com", "/static/x.css", "static"},
		{80, "static.example.com", "/x.css", "static"},
		{80, "www.example.com", "/", "site"},
		{9090, "www.example.com", "/", "?"},
		{7070, "x", "/", "direct"},
		{81, "x", "/", ""},
	} {
		be, known, why := c.backendFor(tc.port, hapRequest{host: tc.host, path: tc.path})
		got := ""
		switch {
		case !known:
			got = "?"
			if !strings.Contains(why, "ssl_fc") || !strings.Contains(why, "--member") {
				t.Errorf("unmodelled: %q", why)
			}
		case be != nil:
			got = be.Name
		}
		if got != tc.want {
			t.Errorf("port %d host %s path %s: %q (%s); want %q", tc.port, tc.host, tc.path, got, why, tc.want)
		}
	}
}

// TestHAProxyBalancers: HAProxy's proxies as session-test's balancers, with their
// members, ports and the way they stick.
func TestHAProxyBalancers(t *testing.T) {
	const cfg = `frontend www
    bind 10.0.0.10:8092
    default_backend tomcats
backend tomcats
    cookie JSESSIONID prefix nocache
    server tomcat1 10.0.0.1:8080 cookie t1 check
    server tomcat2 10.0.0.2:8080 cookie t2 disabled
`
	f, err := haproxy.Parse(strings.NewReader(cfg))
	if err != nil {
		t.Fatal(err)
	}
	c := &haproxyConfig{cfg: f, files: map[*haproxy.Section]string{}}
	bals := []Balancer{c.balancer(f.Section([]string{"backend"}, "tomcats"))}
	b := bals[0]
	if b.Server != "haproxy" || len(b.Members) != 2 || b.Members[1].Host != "10.0.0.2" || b.Members[1].Port != 8080 || !b.Members[1].Disabled ||
		!b.Sticky.Prefix || len(b.Ports) != 1 || b.Ports[0] != 8092 {
		t.Errorf("balancer %+v", b)
	}
	u, err := ServedURL(bals)
	if err != nil || u.String() != "http://10.0.0.10:8092/" {
		t.Errorf("served URL %v, %v", u, err)
	}
}
