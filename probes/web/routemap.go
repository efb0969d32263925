package web

import (
	"regexp"
	"strings"
)

// routeMap is nginx's way, without nginx plus's sticky, to keep a Tomcat session on its
// node: a map block sets a variable from the session cookie, each entry sending a route
// (the jvmRoute after the dot) to the upstream of its node, and proxy_pass http://$var
// sends there; cookie-less requests take the default, the balancing upstream.
//
//	map $cookie_JSESSIONID $backend {
//	    ~\.tomcat1$ tomcat1;
//	    ~\.tomcat2$ tomcat2;
//	    default     tomcats;
//	}
type routeMap struct {
	variable, where string
	// routes maps an upstream to the route of the entry that sends to it.
	routes map[string]string
	// def is the default value: the upstream of requests whose cookie names no route.
	def string
}

// routeSuffix is the route a map key matches at the end of the session id: a regular
// expression ending with a dot and a word ("~.+\.tomcat1$", "~*\.tomcat1$").
var routeSuffix = regexp.MustCompile(`\\?\.(\w+)\$?$`)

// routeMapsOf finds the map blocks of http, by the variable they set.
func routeMapsOf(ds []located) map[string]routeMap {
	out := map[string]routeMap{}
	for _, d := range ds {
		if d.Name != "http" || !d.Block {
			continue
		}
		for _, m := range d.Children {
			if m.Name != "map" || !m.Block || len(m.Args) != 2 {
				continue
			}
			rm := routeMap{variable: m.Args[1], where: m.where(), routes: map[string]string{}}
			for _, e := range m.Children {
				if len(e.Args) != 1 {
					continue
				}
				switch key := e.Name; {
				case key == "default":
					rm.def = e.Args[0]
				case strings.HasPrefix(key, "~"):
					if sub := routeSuffix.FindStringSubmatch(key); sub != nil {
						rm.routes[e.Args[0]] = sub[1]
					}
				}
			}
			out[rm.variable] = rm
		}
	}
	return out
}

// viaMaps adds to the proxied names the upstreams that route maps behind proxy_pass send
// to, and returns, per upstream, what the map makes of it: a route, or "default".
func viaMaps(ds []located, proxied map[string]bool) map[string]string {
	maps := routeMapsOf(ds)
	out := map[string]string{}
	for target := range proxied {
		m, ok := maps[target]
		if !ok {
			continue
		}
		for up, route := range m.routes {
			proxied[up], out[up] = true, route
		}
		if m.def != "" {
			proxied[m.def] = true
			if _, routed := out[m.def]; !routed {
				out[m.def] = "default"
			}
		}
	}
	return out
}
