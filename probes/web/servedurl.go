package web

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ServedURL is the one page this host's balancers serve, for session-test when no --url
// names one: exactly one balancer with members, mounted on exactly one path that is a page
// (JkMount /app/*, ProxyPass /app/, an nginx location /app/), asked for on the port its
// server takes it on (80 where it is one of them), at localhost where the server listens
// on every address, else at the address it listens on. Two balancers or paths, or a pattern
// that names no page (JkMount /*.jsp), is an error listing them, so the operator gives --url.
//
// By hand: read the JkMount, ProxyPass or location lines and curl http://localhost/app/.
func ServedURL(bals []Balancer) (*url.URL, error) {
	type served struct {
		bal  *Balancer
		path string
		what string
	}
	var found []served
	var unsure []string
	for i := range bals {
		b := &bals[i]
		if !slices.ContainsFunc(b.Members, func(m Member) bool { return !m.Disabled }) {
			continue
		}
		for _, p := range b.pagePatterns() {
			page, ok := pageOf(p.pattern)
			if !ok {
				unsure = append(unsure, p.what)
				continue
			}
			if !slices.ContainsFunc(found, func(s served) bool { return s.bal == b && s.path == page }) {
				found = append(found, served{b, page, p.what})
			}
		}
	}
	switch len(found) {
	case 0:
		if len(unsure) > 0 {
			return nil, fmt.Errorf("no balancer is mounted on a page (%s): give --url a page that makes a session", strings.Join(unsure, "; "))
		}
		return nil, ErrNoMembers
	case 1:
	default:
		var what []string
		for _, s := range found {
			what = append(what, s.what)
		}
		return nil, fmt.Errorf("the balancers serve %d paths (%s): give --url the page that makes a session", len(found), strings.Join(what, "; "))
	}
	s := found[0]
	port := 80
	if len(s.bal.Ports) > 0 && !slices.Contains(s.bal.Ports, 80) {
		port = slices.Min(s.bal.Ports)
	}
	for _, host := range append([]string{s.bal.listenHost(port)}, s.bal.serverNames(port)...) {
		if ok, _ := s.bal.takes(host, port, s.path); ok {
			u := &url.URL{Scheme: "http", Host: host, Path: s.path}
			if port != 80 {
				u.Host += ":" + strconv.Itoa(port)
			}
			return u, nil
		}
	}
	return nil, fmt.Errorf("%s is not served on port %d for %s or the server's names: give --url the page that makes a session", s.what, port, s.bal.listenHost(port))
}

// listenHost is where the server takes requests on port: localhost where it listens on
// every address, else the address it listens on.
func (b *Balancer) listenHost(port int) string {
	ip := b.listenIPs[port]
	for _, srv := range b.nginx {
		for _, l := range srv.listens {
			if l.port == port && l.valid && srv.proxiesTo(b.Name) {
				if l.ip == "" {
					return "localhost"
				}
				ip = l.ip
			}
		}
	}
	if ip == "" {
		return "localhost"
	}
	if strings.Contains(ip, ":") {
		return "[" + ip + "]"
	}
	return ip
}

// proxiesTo says whether a location of the server block proxies to target.
func (s nginxServer) proxiesTo(target string) bool {
	return slices.ContainsFunc(s.locs, func(l nginxLocation) bool { return l.target == target })
}

// pagePattern is a pattern a balancer is mounted on, with the directive that says so.
type pagePattern struct{ pattern, what string }

// pagePatterns are the balancer's mounts: httpd's patterns, nginx's prefix and exact
// locations that proxy to it (a regular expression names no page).
func (b *Balancer) pagePatterns() []pagePattern {
	var out []pagePattern
	for _, s := range b.served {
		out = append(out, pagePattern{s.pattern, s.what})
	}
	if b.served == nil && b.nginx == nil {
		for _, m := range b.Mounts {
			out = append(out, pagePattern{m, m})
		}
	}
	for _, srv := range b.nginx {
		for _, loc := range srv.locs {
			if loc.target != b.Name {
				continue
			}
			what := fmt.Sprintf("location %s (%s)", strings.TrimSpace(loc.modifier+" "+loc.path), loc.where)
			if loc.re != nil {
				out = append(out, pagePattern{"*", what}) // names no page
				continue
			}
			out = append(out, pagePattern{loc.path, what})
		}
	}
	return out
}

// pageOf is the page a mount pattern names: the pattern itself without wildcards, or the
// directory before a trailing "*" (/app/* is /app/, /app* is /app). Any other wildcard
// names no one page.
func pageOf(pattern string) (string, bool) {
	prefix := strings.TrimRight(pattern, "*")
	if !strings.HasPrefix(prefix, "/") || strings.ContainsAny(prefix, "*?") {
		return "", false
	}
	return prefix, true
}

// serverNames are the names of the servers that take requests for the balancer on port,
// for a request that localhost does not reach (a name-based virtual host).
func (b *Balancer) serverNames(port int) []string {
	var out []string
	for _, s := range b.served {
		if slices.Contains(s.ports, port) && b.names != nil {
			out = appendNew(out, b.names(s.servers)...)
		}
	}
	for _, srv := range b.nginx {
		for _, n := range srv.names {
			if n != "" && n != "_" && !strings.ContainsAny(n, "*~") {
				out = appendNew(out, n)
			}
		}
	}
	return out
}
