package web

import (
	"testing"

	"github.com/clusterdoctor/clusterdoctor/netcfg/nginx"
)

func TestNginxListenOf(t *testing.T) {
	for _, c := range []struct {
		args []string
		want nginxListen
	}{
		{[]string{"80"}, nginxListen{port: 80, valid: true}},
		{[]string{"10.0.0.1:8080", "default_server"}, nginxListen{ip: "10.0.0.1", port: 8080, dflt: true, valid: true}},
		{[]string{"10.0.0.1"}, nginxListen{ip: "10.0.0.1", port: 80, valid: true}},
		{[]string{"*:8000"}, nginxListen{port: 8000, valid: true}},
		{[]string{"[::]:443", "ssl", "default"}, nginxListen{port: 443, dflt: true, valid: true}},
		{[]string{"[2001:db8::1]:80"}, nginxListen{ip: "2001:db8::1", port: 80, valid: true}},
		{[]string{"unix:/run/nginx.sock"}, nginxListen{port: 80}},
		{[]string{"10.0.0.1:http"}, nginxListen{port: 80}},
		{[]string{"70000"}, nginxListen{port: 70000}},
	} {
		if got := nginxListenOf(c.args); got != c.want {
			t.Errorf("nginxListenOf(%q) = %+v; want %+v", c.args, got, c.want)
		}
	}
}

// TestNginxRouteUnknown: where nginx's choice depends on what the configuration does
// not say, the route is not claimed.
func TestNginxRouteUnknown(t *testing.T) {
	lookahead := nginxLocationOf(located{Directive: nginx.Directive{Name: "location", Args: []string{"~", `^/(?=x)`}, Block: true}})
	servers := []nginxServer{
		{where: "a", listens: []nginxListen{{ip: "10.0.0.1", port: 80, valid: true}}, locs: []nginxLocation{{path: "/", target: "a"}}},
		{where: "b", listens: []nginxListen{{port: 80, valid: true}}, locs: []nginxLocation{{path: "/", target: "b"}, lookahead}},
	}
	if _, _, known := nginxRoute(servers, "web.example.com", 80, "/"); known {
		t.Error("a host name with a listen on a specific address: known")
	}
	if srv, loc, known := nginxRoute(servers, "10.0.0.1", 80, "/"); !known || srv.where != "a" || loc.target != "a" {
		t.Errorf("10.0.0.1 = %+v %+v %v; want server a", srv, loc, known)
	}
	if _, _, known := nginxRoute(servers, "10.0.0.2", 80, "/"); known {
		t.Error("a location with a PCRE lookahead, which Go's regexp does not read: known")
	}
	if srv, _, known := nginxRoute(servers, "10.0.0.2", 81, "/"); !known || srv != nil {
		t.Errorf("port 81 = %+v, %v; want no server, known", srv, known)
	}
}
