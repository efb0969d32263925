package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// TestRouteMap: nginx's route map (a map on the session cookie choosing the node's
// upstream, proxy_pass http://$var) is a balancer whose members carry the routes, and
// web.upstreams does not take the default upstream's round robin for a lack of stickiness.
func TestRouteMap(t *testing.T) {
	root := t.TempDir()
	conf := `events {}
http {
    map $cookie_JSESSIONID $backend {
        ~\.tomcat1$ tomcat1;
        "~.+\.tomcat2$" tomcat2;
        default tomcats;
    }
    upstream tomcat1 { server 10.0.0.1:8080; }
    upstream tomcat2 { server 10.0.0.2:8080; }
    upstream tomcats { server 10.0.0.1:8080; server 10.0.0.2:8080; }
    server {
        listen 8000;
        location / { proxy_pass http://$backend; }
    }
}
`
	if err := os.MkdirAll(filepath.Join(root, "etc/nginx"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/nginx/nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	env, err := probes.NewEnv(root)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	bs := Balancers(env)
	if len(bs) != 1 || bs[0].Name != "$backend" || len(bs[0].Ports) != 1 || bs[0].Ports[0] != 8000 {
		t.Fatalf("Balancers = %+v; want one, $backend on 8000", bs)
	}
	var got []string
	for _, m := range bs[0].Members {
		got = append(got, m.Name+"="+m.Route)
	}
	if strings.Join(got, " ") != "10.0.0.1:8080=tomcat1 10.0.0.2:8080=tomcat2" {
		t.Errorf("members = %v; want both, each with its route", got)
	}
	ds, _, _ := loadNginx(env)
	_, proxied := upstreamsOf(ds)
	routed := viaMaps(ds, proxied)
	if routed["tomcat1"] != "tomcat1" || routed["tomcat2"] != "tomcat2" || routed["tomcats"] != "default" || !proxied["tomcats"] {
		t.Errorf("viaMaps = %v (proxied %v)", routed, proxied)
	}
}
