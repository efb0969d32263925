package web

import (
	"bytes"
	"slices"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/netcfg/httpd"
	"github.com/clusterdoctor/clusterdoctor/netcfg/nginx"
)

// FuzzRoutes: whatever a configuration says and whatever a URL asks, choosing httpd's
// server and nginx's location ends without a panic, and what it returns is the
// configuration's.
func FuzzRoutes(f *testing.F) {
	f.Add([]byte("Listen 80\n<VirtualHost *:80>\nServerName a\nServerAlias *.b\nJkMount /* lb\n</VirtualHost>\n"),
		[]byte("http {\nserver {\nlisten 10.0.0.1:80 default_server;\nserver_name ~^a\\d$ *.b .c d.*;\nlocation ~* \\.jsp$ { proxy_pass http://u; }\nlocation ^~ /s/ { }\nlocation = /e { if ($x) { proxy_pass http://v; } }\n}\n}\n"),
		"a.b", 80, "/x.jsp")
	f.Fuzz(func(t *testing.T, httpdConf, nginxConf []byte, host string, port int, path string) {
		if hf, err := httpd.Parse(bytes.NewReader(httpdConf)); err == nil {
			c := &HTTPDConfig{Main: "/etc/httpd/conf/httpd.conf", ServerRoot: "/etc/httpd", loaded: map[string]bool{"jk": true}}
			of := map[int]*VHost{} // section index -> its virtual host
			for i, s := range hf.Sections {
				if s.Name == "VirtualHost" {
					of[i] = &VHost{Addrs: s.Args}
					c.VHosts = append(c.VHosts, of[i])
				}
			}
			for _, d := range hf.Directives {
				var in *VHost
				for i, v := range of {
					if hf.Sections[i].Holds(d) {
						in = v
					}
				}
				if c.holds(d.Context) {
					c.Directives = append(c.Directives, Directive{Directive: d, File: c.Main, VHost: in})
				}
			}
			if v, _ := c.serverFor(host, port); v != nil && !slices.Contains(c.VHosts, v) {
				t.Fatalf("serverFor gave a virtual host the configuration does not have")
			}
			c.Ports(nil)
			c.catchers()
		}
		if nf, err := nginx.Parse(bytes.NewReader(nginxConf)); err == nil {
			servers := nginxServers(expand(nf.Directives, "nginx.conf", func(string) []located { return nil }))
			srv, loc, _ := nginxRoute(servers, host, port, path)
			if loc != nil && srv == nil {
				t.Fatal("a location without its server block")
			}
			if srv != nil {
				describeNginx(srv, loc)
			}
		}
	})
}
