package web

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

func TestSplitAddr(t *testing.T) {
	for _, c := range []struct {
		in   string
		ip   string
		port int
	}{
		{"80", "", 80},
		{"10.0.0.1:8080", "10.0.0.1", 8080},
		{"*:80", "", 80},
		{"_default_:443", "", 443},
		{"*", "", 0},
		{"*:*", "", 0},
		{"10.0.0.1", "10.0.0.1", 0},
		{"[::]:80", "", 80},
		{"[2001:db8::1]:443", "2001:db8::1", 443},
		{"0.0.0.0:80", "", 80},
		{"web.example.com:80", "web.example.com", 80},
		{"[::1", "[::1", 0},
		{"10.0.0.1:99999", "10.0.0.1", 0},
	} {
		if ip, port := splitAddr(c.in); ip != c.ip || port != c.port {
			t.Errorf("splitAddr(%q) = %q, %d; want %q, %d", c.in, ip, port, c.ip, c.port)
		}
	}
}

func TestPortsOfServers(t *testing.T) {
	c := confOf(t, `Listen 80
Listen 10.0.0.1:443
Listen 8080
<VirtualHost *:80>
</VirtualHost>
<VirtualHost 10.0.0.1:443>
</VirtualHost>
<VirtualHost 10.0.0.2:8080>
</VirtualHost>
`)
	if len(c.VHosts) != 3 {
		t.Fatalf("vhosts = %+v", c.VHosts)
	}
	// 80 is the first vhost's, 443 (one address) the second's; on 8080 the third takes
	// one address, the main server the rest
	for i, want := range [][]int{{8080}, {80}, {443}, {8080}} {
		var v *VHost
		if i > 0 {
			v = c.VHosts[i-1]
		}
		if got := c.Ports(v); !reflect.DeepEqual(got, want) {
			t.Errorf("Ports(%v) = %v; want %v", v, got, want)
		}
	}
	got := c.catchers()
	if len(got) != 2 || got[0].port != 80 || got[0].vhost != c.VHosts[0] || got[1].port != 443 || got[1].vhost != c.VHosts[1] {
		t.Errorf("catchers = %+v", got)
	}
}

// webTree writes httpd.conf (RHEL's path) and workers.properties under a root.
func webTree(t *testing.T, conf string) (*probes.Env, *HTTPDConfig) {
	t.Helper()
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"etc/httpd/conf/httpd.conf":         "JkWorkersFile conf/workers.properties\n" + conf,
		"etc/httpd/conf/workers.properties": "worker.list=lb\nworker.t1.host=127.0.0.1\nworker.t2.host=127.0.0.1\nworker.lb.type=lb\nworker.lb.balance_workers=t1,t2\nworker.lb.sticky_session=true\n",
	})
	env := &probes.Env{Root: root}
	return env, LoadHTTPD(env)
}

// TestMountLostToAVirtualHost: ajp.workers names a main server's JkMount that a virtual
// host keeps from requests, failing where it is lost on every port, warning where on
// some; a mount in the virtual host or copied into it is no finding.
func TestMountLostToAVirtualHost(t *testing.T) {
	for _, c := range []struct {
		name, conf string
		fail, warn string
	}{
		{"every port", "Listen 80\nJkMount /app/* lb\n<VirtualHost *:80>\n</VirtualHost>\n",
			"JkMount /app/* lb (/etc/httpd/conf/httpd.conf:3) is the main server's, and <VirtualHost *:80> (/etc/httpd/conf/httpd.conf:4) takes every request on port 80", ""},
		{"one of two ports", "Listen 80\nListen 443\nJkMount /app/* lb\n<VirtualHost _default_:443>\n</VirtualHost>\n",
			"", "<VirtualHost _default_:443> (/etc/httpd/conf/httpd.conf:5) takes every request on port 443"},
		{"copied", "Listen 80\nJkMount /app/* lb\n<VirtualHost *:80>\nJkMountCopy On\n</VirtualHost>\n", "", ""},
		{"in the vhost", "Listen 80\n<VirtualHost *:80>\nJkMount /app/* lb\n</VirtualHost>\n", "", ""},
		{"no vhost", "Listen 80\nJkMount /app/* lb\n", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			env, conf := webTree(t, c.conf)
			var col collected
			if skip, early := col.modJK(env, conf); skip != "" || early != nil {
				t.Fatalf("modJK: %q, %+v", skip, early)
			}
			fails, warns := strings.Join(col.fails, "\n"), strings.Join(col.warns, "\n")
			if c.fail == "" && strings.Contains(fails, "JkMountCopy") || c.fail != "" && !strings.Contains(fails, c.fail) {
				t.Errorf("fails = %q; want %q", fails, c.fail)
			}
			if c.warn == "" && strings.Contains(warns, "JkMountCopy") || c.warn != "" && !strings.Contains(warns, c.warn) {
				t.Errorf("warns = %q; want %q", warns, c.warn)
			}
			if (c.fail != "" || c.warn != "") != strings.Contains(col.fix, "JkMountCopy On") {
				t.Errorf("fix = %q", col.fix)
			}
		})
	}
}

func TestServerFor(t *testing.T) {
	c := confOf(t, `Listen 80
Listen 8080
Listen 9090
<VirtualHost *:80>
    ServerName a
</VirtualHost>
<VirtualHost _default_:80>
    ServerName https://b.example.com:443
    ServerAlias *.b.org
</VirtualHost>
<VirtualHost 10.0.0.5:8080>
</VirtualHost>
`)
	a, b, ip := c.VHosts[0], c.VHosts[1], c.VHosts[2]
	for _, tc := range []struct {
		host  string
		port  int
		want  *VHost
		known bool
	}{
		{"b.example.com", 80, b, true}, // by ServerName, without its scheme and port
		{"X.B.org", 80, b, true},       // by a wildcard alias, without case
		{"10.0.0.1", 80, a, true},      // no name matches: the first
		{"10.0.0.5", 8080, ip, true},   // its address
		{"10.0.0.1", 8080, nil, true},  // another address: the main server
		{"web", 8080, nil, false},      // a name: the address it resolves to decides
		{"web", 9090, nil, true},       // no virtual host on the port: the main server
	} {
		if got, known := c.serverFor(tc.host, tc.port); got != tc.want || known != tc.known {
			t.Errorf("serverFor(%s, %d) = %s, %v; want %s, %v", tc.host, tc.port, describe(got), known, describe(tc.want), tc.known)
		}
	}
}

// TestMembersForByPort: httpd's main server serves only the ports it listens on, so a URL
// on nginx's port is nginx's even where a JkMount /* would match its path.
func TestMembersForByPort(t *testing.T) {
	env, _ := webTree(t, "Listen 80\nJkMount /* lb\n")
	nginxConf := filepath.Join(env.Root, "etc/nginx/nginx.conf")
	if err := os.MkdirAll(filepath.Dir(nginxConf), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(nginxConf, []byte("events {}\nhttp {\n    upstream tomcats { server 10.0.0.1:8080; server 10.0.0.2:8080; }\n"+
		"    server {\n        listen 81;\n        location / { proxy_pass http://tomcats; }\n    }\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bals := Balancers(env)
	for port, want := range map[int]string{80: "t1", 81: "10.0.0.1:8080"} {
		u, _ := url.Parse(fmt.Sprintf("http://10.0.0.10:%d/", port))
		if ms, err := MembersFor(bals, u); err != nil || ms[0].Name != want {
			t.Errorf("MembersFor(%s) = %+v, %v; want %s first", u, ms, err, want)
		}
	}
	// a port neither listens on: nobody's, and no server is said to have had a say
	u, _ := url.Parse("http://10.0.0.10:82/")
	if _, err := MembersFor(bals, u); !errors.Is(err, ErrNoMembers) {
		t.Errorf("MembersFor(%s) = %v; want ErrNoMembers", u, err)
	}
}

func TestIfModule(t *testing.T) {
	for in, want := range map[string]string{"jk_module": "jk", "mod_jk.c": "jk", "Mod_Proxy_Balancer.c": "proxy_balancer",
		"proxy_balancer_module": "proxy_balancer", "event.c": "mpm_event", "mpm_event_module": "mpm_event", "core.c": "core"} {
		if got := moduleName(in); got != want {
			t.Errorf("moduleName(%q) = %q; want %q", in, got, want)
		}
	}
	// httpd decides an <IfModule> as it reads it: a LoadModule below comes too late
	c := confOf(t, `<IfModule proxy_module>
Listen 81
</IfModule>
LoadModule proxy_module modules/mod_proxy.so
<IfModule mod_proxy.c>
Listen 82
<VirtualHost *:82>
</VirtualHost>
</IfModule>
<IfModule !version_module>
Listen 83
</IfModule>
Listen 80
`)
	if got := c.Ports(nil); !reflect.DeepEqual(got, []int{80}) {
		t.Errorf("the main server's ports = %v; want [80] (82 is the vhost's, 81 and 83 not read)", got)
	}
	if len(c.VHosts) != 1 || !reflect.DeepEqual(c.Ports(c.VHosts[0]), []int{82}) {
		t.Errorf("vhosts = %+v; want the one on 82", c.VHosts)
	}
}
