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

// TestMountsWithoutABalancer: a mod_jk that forwards to an AJP worker without an lb
// worker has every mount checked, the status worker's included; httpd itself answers a
// mount to a worker worker.list does not name with 500. The package's stock shape (status
// mounts to unlisted workers, no forwarding) is no web tier and is skipped.
func TestMountsWithoutABalancer(t *testing.T) {
	lab.RequireWebServers(t)
	const listed = "worker.list=tomcat1\nworker.tomcat1.type=ajp13\nworker.tomcat1.host=10.99.0.1\nworker.tomcat1.port=1\nworker.status.type=status\n"
	cases := []struct {
		name, workers string
		mounts        []string
		// reqs are "PATH STATUS": what the real httpd answers
		reqs []string
		skip bool   // ajp.workers is not for this httpd
		fail string // what ajp.workers fails naming; "" none
	}{
		{"a status mount to an unlisted worker", listed, []string{"JkMount /app/* tomcat1", "JkMount /jkstatus status"},
			[]string{"/app/x 503", "/jkstatus 500"}, false, `sends /jkstatus to worker "status", which worker.list`},
		{"every mount listed", listed + "worker.list=status\n", []string{"JkMount /app/* tomcat1", "JkMount /jkstatus status"},
			[]string{"/app/x 503", "/jkstatus 200"}, false, ""},
		{"the package's stock shape", "worker.list=ajp13_worker\nworker.ajp13_worker.type=ajp13\nworker.ajp13_worker.host=localhost\nworker.ajp13_worker.port=1\n",
			[]string{"<Location /jk-status>\n    JkMount jk-status\n    </Location>"}, []string{"/jk-status 500"}, true, ""},
	}
	l := lab.New(t)
	h := l.AddHost("web", 1)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := h.NewWebTier(fmt.Sprintf("mnt%d", i))
			w.ModJK(8080, c.workers, c.mounts...)
			env := &probes.Env{Root: w.Root}
			var col collected
			skip, early := col.modJK(env, LoadHTTPD(env))
			if early != nil {
				t.Fatalf("modJK: %s", early.Summary)
			}
			if (skip != "") != c.skip {
				t.Errorf("skip = %q; want skipped %v", skip, c.skip)
			}
			got := strings.Join(col.fails, "\n")
			if c.fail == "" && got != "" || !strings.Contains(got, c.fail) {
				t.Errorf("fails = %q; want %q", got, c.fail)
			}
			httpd := w.StartHTTPD(8080)
			defer w.Stop(httpd)
			for _, r := range c.reqs {
				var path string
				var want int
				fmt.Sscanf(r, "%s %d", &path, &want)
				u, _ := url.Parse("http://10.99.0.1:8080" + path)
				if status, _ := ask(t, h, "10.99.0.1:8080", u); status != want {
					t.Errorf("GET %s: httpd answered %d; want %d (%s)", path, status, want, http.StatusText(want))
				}
			}
		})
	}
}

// TestExposedControls: a status worker or balancer-manager without an access rule is
// named; the real httpd answers a request from another address 200 for those and 403 for
// the ones a rule covers.
func TestExposedControls(t *testing.T) {
	lab.RequireWebServers(t)
	const workers = "worker.list=tomcat1,status\nworker.tomcat1.type=ajp13\nworker.tomcat1.host=10.99.0.1\nworker.tomcat1.port=1\nworker.status.type=status\n"
	cases := []struct {
		name   string
		mounts []string
		proxy  string
		path   string
		status int
		warn   string
	}{
		{"a status mount for everyone", []string{"JkMount /app/* tomcat1", "JkMount /jkstatus status"}, "", "/jkstatus", 200, "serves mod_jk's status worker (read-write"},
		{"a status mount in a Location for loopback", []string{"JkMount /app/* tomcat1", "<Location /jkstatus>\n        JkMount status\n        Require ip 127.0.0.1\n    </Location>"}, "", "/jkstatus", 403, ""},
		{"a status mount with a Location of its own", []string{"JkMount /app/* tomcat1", "JkMount /jkstatus status", "<Location /jkstatus>\n        Require ip 127.0.0.1\n    </Location>"}, "", "/jkstatus", 403, ""},
		{"Require all granted", []string{"JkMount /app/* tomcat1", "<Location /jkstatus>\n        JkMount status\n        Require all granted\n    </Location>"}, "", "/jkstatus", 200, "no access rule for /jkstatus"},
		{"balancer-manager for everyone", nil, vhBalancer + "ProxyPass /app balancer://c/app\n<Location /balancer-manager>\n    SetHandler balancer-manager\n</Location>\n", "/balancer-manager", 200, "serves mod_proxy's balancer-manager at /balancer-manager"},
		{"balancer-manager for loopback", nil, vhBalancer + "ProxyPass /app balancer://c/app\n<Location /balancer-manager>\n    SetHandler balancer-manager\n    Require ip 127.0.0.1\n</Location>\n", "/balancer-manager", 403, ""},
	}
	l := lab.New(t)
	h := l.AddHost("web", 1)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := h.NewWebTier(fmt.Sprintf("exp%d", i))
			if c.proxy != "" {
				w.ModProxy(8080, c.proxy)
			} else {
				w.ModJK(8080, workers, c.mounts...)
			}
			w.Write("etc/apache2/mods-enabled/authz_host.load", "LoadModule authz_host_module "+lab.HTTPDModules+"/mod_authz_host.so\n")
			env := &probes.Env{Root: w.Root}
			conf := LoadHTTPD(env)
			var col collected
			col.modJK(env, conf)
			got := strings.Join(exposedControls(conf, col.ms, col.wf), "\n")
			if c.warn == "" && got != "" || !strings.Contains(got, c.warn) {
				t.Errorf("exposed = %q; want %q", got, c.warn)
			}
			httpd := w.StartHTTPD(8080)
			defer w.Stop(httpd)
			u, _ := url.Parse("http://10.99.0.1:8080" + c.path)
			if status, _ := ask(t, h, "10.99.0.1:8080", u); status != c.status {
				t.Errorf("GET %s from 10.99.0.1: httpd answered %d; want %d", c.path, status, c.status)
			}
		})
	}
}
