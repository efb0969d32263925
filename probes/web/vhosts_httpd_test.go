package web

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// vhostCase is an httpd configuration and the requests to ask it about.
type vhostCase struct {
	name string
	// jk are mod_jk's main-server lines (JkMount, JkMountCopy); proxy, when set, makes
	// it mod_proxy_balancer instead, with these main-server lines.
	jk    []string
	proxy string
	site  string            // sites-enabled/cluster.conf: virtual hosts, more Listens
	files map[string]string // more files of the tree
	// reqs are "PORT PATH [HOST]", sent to the web host's address with HOST (else the
	// address) as the URL's host and Host header; the oracle is httpd itself.
	reqs []string
	// lost is a part of the reason MembersFor gives for a request that reaches no
	// balancer, when the model explains it (a main server's mount a vhost hides).
	lost string
}

const (
	vhWorkers = "worker.list=lb\nworker.t1.type=ajp13\nworker.t1.host=10.99.0.1\nworker.t1.port=1\n" +
		"worker.t2.type=ajp13\nworker.t2.host=10.99.0.1\nworker.t2.port=2\n" +
		"worker.lb.type=lb\nworker.lb.balance_workers=t1,t2\n"
	vhBalancer = "<Proxy balancer://c>\n    BalancerMember ajp://10.99.0.1:1 route=t1\n    BalancerMember ajp://10.99.0.1:2 route=t2\n" +
		"    ProxySet stickysession=JSESSIONID\n</Proxy>\n"
)

// TestVirtualHostsAgainstHTTPD checks which requests reach a balancer, as the model of
// virtual hosts says (Balancers and MembersFor, what session-test uses), against real
// Apache httpd with mod_jk and mod_proxy_balancer: a request that reaches a balancer
// gets 503 from it (its members' ports are closed), one httpd serves itself a 404, one
// whose ProxyPass names a balancer its server does not have a 500.
func TestVirtualHostsAgainstHTTPD(t *testing.T) {
	lab.RequireWebServers(t)
	cases := []vhostCase{
		{name: "no virtual host", jk: []string{"JkMount /app/* lb"}, reqs: []string{"8080 /app/x", "8080 /other"}},
		{name: "a *:port vhost keeps the main server's JkMount from its requests", jk: []string{"JkMount /app/* lb"},
			site: "<VirtualHost *:8080>\n    ServerName web\n</VirtualHost>\n", reqs: []string{"8080 /app/x"}, lost: "JkMountCopy On"},
		{name: "JkMountCopy On in the vhost", jk: []string{"JkMount /app/* lb"},
			site: "<VirtualHost *:8080>\n    JkMountCopy On\n</VirtualHost>\n", reqs: []string{"8080 /app/x", "8080 /other"}},
		{name: "JkMountCopy All in the main server", jk: []string{"JkMount /app/* lb", "JkMountCopy All"},
			site: "<VirtualHost *:8080>\n</VirtualHost>\n", reqs: []string{"8080 /app/x"}},
		{name: "JkMountCopy Off in the vhost over All", jk: []string{"JkMount /app/* lb", "JkMountCopy All"},
			site: "<VirtualHost *:8080>\n    JkMountCopy Off\n</VirtualHost>\n", reqs: []string{"8080 /app/x"}, lost: "JkMountCopy On"},
		{name: "the vhost's own JkMount beside the main server's identical one", jk: []string{"JkMount /* lb"},
			site: "<VirtualHost *:8080>\n    ServerName web\n    JkMount /* lb\n</VirtualHost>\n", reqs: []string{"8080 /app/x", "8080 /other"}},
		{name: "the vhost's own JkMount of another path", jk: []string{"JkMount /app/* lb"},
			site: "<VirtualHost *:8080>\n    JkMount /shop/* lb\n</VirtualHost>\n", reqs: []string{"8080 /app/x", "8080 /shop/x"}, lost: "JkMountCopy On"},
		{name: "the vhost's own JkMount", site: "<VirtualHost *:8080>\n    JkMount /app/* lb\n</VirtualHost>\n",
			reqs: []string{"8080 /app/x", "8080 /other"}},
		{name: "a vhost on a second port only", jk: []string{"JkMount /app/* lb"},
			site: "Listen 10.99.0.1:8081\n<VirtualHost *:8081>\n</VirtualHost>\n", reqs: []string{"8080 /app/x", "8081 /app/x"}, lost: "JkMountCopy On"},
		{name: "a vhost's JkMount on its port only", site: "Listen 10.99.0.1:8081\n<VirtualHost *:8081>\n    JkMount /app/* lb\n</VirtualHost>\n",
			reqs: []string{"8080 /app/x", "8081 /app/x"}},
		{name: "a vhost on this host's address", jk: []string{"JkMount /app/* lb"},
			site: "<VirtualHost 10.99.0.1:8080>\n</VirtualHost>\n", reqs: []string{"8080 /app/x"}, lost: "JkMountCopy On"},
		{name: "_default_", jk: []string{"JkMount /app/* lb"},
			site: "<VirtualHost _default_:8080>\n</VirtualHost>\n", reqs: []string{"8080 /app/x"}, lost: "JkMountCopy On"},
		{name: "a vhost on an address requests never come to", jk: []string{"JkMount /app/* lb"},
			site: "<VirtualHost 10.99.0.9:8080>\n    ServerName other\n</VirtualHost>\n", reqs: []string{"8080 /app/x"}},
		{name: "a JkMountFile in the vhost", files: map[string]string{"etc/libapache2-mod-jk/uriworkermap.properties": "/app/*=lb\n"},
			site: "<VirtualHost *:8080>\n    JkMountFile /etc/libapache2-mod-jk/uriworkermap.properties\n</VirtualHost>\n",
			reqs: []string{"8080 /app/x", "8080 /other"}},
		{name: "an Include inside the vhost", files: map[string]string{"etc/apache2/cluster-mounts.conf": "JkMount /app/* lb\n"},
			site: "Listen 10.99.0.1:8081\n<VirtualHost *:8081>\n    Include cluster-mounts.conf\n</VirtualHost>\n",
			reqs: []string{"8080 /app/x", "8081 /app/x"}},
		{name: "name-based: the mount in the second vhost", site: "<VirtualHost *:8080>\n    ServerName web\n</VirtualHost>\n" +
			"<VirtualHost *:8080>\n    ServerName app.example.com\n    ServerAlias *.example.org\n    JkMount /app/* lb\n</VirtualHost>\n",
			reqs: []string{"8080 /app/x app.example.com", "8080 /app/x APP.example.com", "8080 /app/x shop.example.org", "8080 /app/x 10.99.0.1", "8080 /app/x other.example.com"},
			lost: "named app.example.com"},
		{name: "name-based: the mount in the first vhost", site: "<VirtualHost *:8080>\n    ServerName app.example.com\n    JkMount /app/* lb\n</VirtualHost>\n" +
			"<VirtualHost *:8080>\n    ServerName web\n</VirtualHost>\n",
			reqs: []string{"8080 /app/x app.example.com", "8080 /app/x 10.99.0.1", "8080 /app/x web"}, lost: "named app.example.com"},
		{name: "an IP vhost before a wildcard one", site: "<VirtualHost *:8080>\n</VirtualHost>\n<VirtualHost 10.99.0.1:8080>\n    JkMount /app/* lb\n</VirtualHost>\n",
			reqs: []string{"8080 /app/x", "8080 /app/x web"}},
		{name: "_default_ listed before *", site: "<VirtualHost _default_:8080>\n    JkMount /app/* lb\n</VirtualHost>\n<VirtualHost *:8080>\n</VirtualHost>\n",
			reqs: []string{"8080 /app/x"}},
		{name: "a vhost in <IfModule !jk_module>", jk: []string{"JkMount /app/* lb"},
			site: "<IfModule !jk_module>\n<VirtualHost *:8080>\n</VirtualHost>\n</IfModule>\n", reqs: []string{"8080 /app/x"}},
		{name: "a vhost in <IfModule ssl_module>, not loaded", jk: []string{"JkMount /app/* lb"},
			site: "<IfModule ssl_module>\n<VirtualHost *:8080>\n</VirtualHost>\n</IfModule>\n", reqs: []string{"8080 /app/x"}},
		{name: "a vhost in <IfModule mod_jk.c>", jk: []string{"JkMount /app/* lb"},
			site: "<IfModule mod_jk.c>\n<VirtualHost *:8080>\n</VirtualHost>\n</IfModule>\n", reqs: []string{"8080 /app/x"}, lost: "JkMountCopy On"},
		{name: "a vhost in <IfModule event.c>", jk: []string{"JkMount /app/* lb"},
			site: "<IfModule event.c>\n<VirtualHost *:8080>\n</VirtualHost>\n</IfModule>\n", reqs: []string{"8080 /app/x"}, lost: "JkMountCopy On"},
		{name: "a vhost in <IfModule> of a compiled-in module", jk: []string{"JkMount /app/* lb"},
			site: "<IfModule log_config_module>\n<VirtualHost *:8080>\n</VirtualHost>\n</IfModule>\n", reqs: []string{"8080 /app/x"}, lost: "JkMountCopy On"},
		{name: "a vhost's JkMount in <IfModule !jk_module>",
			site: "<VirtualHost *:8080>\n    <IfModule !jk_module>\n        JkMount /app/* lb\n    </IfModule>\n</VirtualHost>\n", reqs: []string{"8080 /app/x"}},
		{name: "ProxyPass in the main server is inherited", proxy: vhBalancer + "ProxyPass /app balancer://c/app\n",
			site: "<VirtualHost *:8080>\n</VirtualHost>\n", reqs: []string{"8080 /app/x", "8080 /other"}},
		{name: "ProxyPassInherit Off in the vhost", proxy: vhBalancer + "ProxyPass /app balancer://c/app\n",
			site: "<VirtualHost *:8080>\n    ProxyPassInherit Off\n</VirtualHost>\n", reqs: []string{"8080 /app/x"}},
		{name: "ProxyPassInherit and BalancerInherit Off in the vhost", proxy: vhBalancer + "ProxyPass /app balancer://c/app\n",
			site: "<VirtualHost *:8080>\n    ProxyPassInherit Off\n    BalancerInherit Off\n</VirtualHost>\n", reqs: []string{"8080 /app/x"}},
		{name: "ProxyPassInherit Off in the main server", proxy: vhBalancer + "ProxyPassInherit Off\nProxyPass /app balancer://c/app\n",
			site: "<VirtualHost *:8080>\n</VirtualHost>\n", reqs: []string{"8080 /app/x"}},
		{name: "a balancer and ProxyPass inside a vhost on a second port", proxy: "\n",
			site: "Listen 10.99.0.1:8081\n<VirtualHost *:8081>\n" + vhBalancer + "    ProxyPass /app balancer://c/app\n</VirtualHost>\n",
			reqs: []string{"8080 /app/x", "8081 /app/x"}},
	}
	l := lab.New(t)
	h := l.AddHost("web", 1)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := h.NewWebTier(fmt.Sprintf("vh%d", i))
			if c.proxy != "" {
				w.ModProxy(8080, c.proxy)
			} else {
				w.ModJK(8080, vhWorkers, c.jk...)
			}
			if c.site != "" {
				w.Site("cluster", c.site)
			}
			for rel, content := range c.files {
				w.Write(rel, content)
			}
			env := &probes.Env{Root: w.Root}
			bals := Balancers(env)
			if c.proxy == "" { // ajp.workers names a mount a virtual host keeps from requests
				var col collected
				col.modJK(env, LoadHTTPD(env))
				named := strings.Contains(strings.Join(append(col.fails, col.warns...), "\n"), "JkMountCopy On")
				if named != strings.Contains(c.lost, "JkMountCopy") {
					t.Errorf("ajp.workers names a lost JkMount: %v; fails %q, warns %q", named, col.fails, col.warns)
				}
			}
			httpd := w.StartHTTPD(8080)
			defer w.Stop(httpd)
			for _, r := range c.reqs {
				var port int
				path, host := "", "10.99.0.1"
				fmt.Sscanf(r, "%d %s %s", &port, &path, &host)
				u, _ := url.Parse(fmt.Sprintf("http://%s:%d%s", host, port, path))
				status, _ := ask(t, h, fmt.Sprintf("10.99.0.1:%d", port), u)
				switch status {
				case http.StatusServiceUnavailable, http.StatusNotFound, http.StatusInternalServerError:
				default:
					t.Fatalf("%s: httpd answered %d; want 503 from a balancer, 404 or 500 from httpd", u, status)
				}
				balanced := status == http.StatusServiceUnavailable
				members, err := MembersFor(bals, u)
				if (err == nil) != balanced {
					t.Errorf("%s: httpd answered %d, but MembersFor = %d members, %v", u, status, len(members), err)
				}
				if !balanced && c.lost != "" && strings.HasPrefix(path, "/app") {
					if err == nil || errors.Is(err, ErrNoMembers) || !strings.Contains(err.Error(), c.lost) {
						t.Errorf("%s: MembersFor says %v; want the reason, naming %q", u, err, c.lost)
					}
				}
			}
		})
	}
}

// ask asks for the URL from inside the host's namespace, connecting to addr, with the
// URL's host as Host. The connection is opened on the namespace's thread (net/http would
// dial on another).
func ask(t *testing.T, h *lab.Host, addr string, u *url.URL) (status int, header http.Header) {
	t.Helper()
	var conn net.Conn
	err := h.Do(func() error {
		var err error
		conn, err = net.DialTimeout("tcp", addr, 5*time.Second)
		return err
	})
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", u.RequestURI(), u.Host)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}
