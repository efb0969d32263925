package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// confOf loads text as httpd's main file (RHEL's path) the way LoadHTTPD reads it.
func confOf(t *testing.T, text string) *HTTPDConfig {
	t.Helper()
	root := t.TempDir()
	p := filepath.Join(root, "etc/httpd/conf/httpd.conf")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c := LoadHTTPD(&probes.Env{Root: root})
	if c == nil || len(c.Problems) > 0 {
		t.Fatalf("LoadHTTPD: %+v", c)
	}
	return c
}

func TestProxyBalancers(t *testing.T) {
	c := confOf(t, `Listen 80
<Proxy "balancer://MyCluster">
    BalancerMember "ajp://10.0.0.1:8009" route=tomcat1 secret=s3 ping=3
    BalancerMember ajp://was2 route=tomcat2 status=+H
    BalancerMember http://10.0.0.3:8080 route=tomcat3 status=D
    ProxySet stickysession=JSESSIONID|jsessionid
</Proxy>
BalancerMember balancer://other http://10.0.0.9 route=x
ProxyPass "/app" "balancer://mycluster/app"
<Location /shop>
    ProxyPass balancer://other/ stickysession=JSESSIONID
</Location>
ProxyPass /static !
`)
	bs := proxyBalancers(c)
	if len(bs) != 2 || bs[0].name != "mycluster" || bs[1].name != "other" {
		t.Fatalf("balancers = %+v; want mycluster and other", bs)
	}
	mc := bs[0]
	if mc.sticky != "JSESSIONID|jsessionid" || strings.Join(mc.patterns(), ",") != "/app*" || len(mc.members) != 3 {
		t.Errorf("mycluster = sticky %q, paths %v, %d members", mc.sticky, mc.paths, len(mc.members))
	}
	m := mc.members[0]
	if m.scheme != "ajp" || m.host != "10.0.0.1" || m.port != 8009 || m.route != "tomcat1" || m.secret != "s3" || m.ping != 3*time.Second || m.disabled {
		t.Errorf("first member = %+v", m)
	}
	if m := mc.members[1]; m.port != 8009 || m.host != "was2" || m.disabled || m.ping != 10*time.Second {
		t.Errorf("ajp://was2 = %+v; want port 8009, enabled, ping 10s", m)
	}
	if m := mc.members[2]; m.scheme != "http" || m.port != 8080 || !m.disabled {
		t.Errorf("http member with status=D = %+v; want disabled", m)
	}
	other := bs[1]
	if other.sticky != "JSESSIONID" || strings.Join(other.patterns(), ",") != "/shop*" || len(other.members) != 1 || other.members[0].port != 80 {
		t.Errorf("other = %+v", other)
	}
	if !Serves(mc.patterns()[0], "/app/index.jsp") || Serves(mc.patterns()[0], "/shop/") {
		t.Errorf("patterns %v do not serve /app/index.jsp only", mc.patterns())
	}
	if bad := proxyBalancers(confOf(t, "<Proxy balancer://b>\nBalancerMember ajp://h:99999\n</Proxy>\n")); len(bad) != 1 || bad[0].members[0].err == nil {
		t.Errorf("a member with port 99999: %+v; want an error", bad)
	}
}
