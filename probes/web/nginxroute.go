package web

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// nginxServer is a server block of http: the addresses it listens on, its names and
// its locations.
type nginxServer struct {
	where   string
	listens []nginxListen
	names   []string
	locs    []nginxLocation
}

// nginxListen is one listen directive: an IP ("" for every address) and port, and
// whether it is the default server of that address and port.
type nginxListen struct {
	ip    string
	port  int
	dflt  bool
	valid bool
}

// nginxLocation is a location block and where it sends requests: the proxy_pass target
// (an upstream, host:port or $variable), "" when nginx answers itself.
type nginxLocation struct {
	modifier, path, where string
	re                    *regexp.Regexp
	target                string
}

// nginxServers reads http's server blocks.
func nginxServers(ds []located) []nginxServer {
	var out []nginxServer
	for _, h := range ds {
		if h.Name != "http" || !h.Block {
			continue
		}
		for _, s := range h.Children {
			if s.Name != "server" || !s.Block {
				continue
			}
			srv := nginxServer{where: s.where()}
			for _, d := range s.Children {
				switch {
				case d.Name == "listen" && len(d.Args) > 0:
					srv.listens = append(srv.listens, nginxListenOf(d.Args))
				case d.Name == "server_name":
					srv.names = append(srv.names, d.Args...)
				case d.Name == "location" && d.Block && len(d.Args) > 0:
					srv.locs = append(srv.locs, nginxLocationOf(d))
				}
			}
			if len(srv.listens) == 0 { // nginx listens on *:80 where a server block says nothing
				srv.listens = []nginxListen{{port: 80, valid: true}}
			}
			out = append(out, srv)
		}
	}
	return out
}

// nginxListenOf reads listen's address ("80", "10.0.0.1:80", "[::]:80", "10.0.0.1",
// "*:80") and its default_server flag.
func nginxListenOf(args []string) nginxListen {
	l := nginxListen{port: 80}
	a := args[0]
	if strings.HasPrefix(a, "unix:") {
		return l
	}
	if n, err := strconv.Atoi(a); err == nil {
		l.port = n
	} else {
		host, port := a, ""
		if strings.HasPrefix(a, "[") {
			end := strings.Index(a, "]")
			if end < 0 {
				return l
			}
			host, port = a[1:end], strings.TrimPrefix(a[end+1:], ":")
		} else if i := strings.LastIndex(a, ":"); i >= 0 {
			host, port = a[:i], a[i+1:]
		}
		if port != "" {
			n, err := strconv.Atoi(port)
			if err != nil {
				return l
			}
			l.port = n
		}
		if host != "*" && host != "0.0.0.0" && host != "::" {
			l.ip = host
		}
	}
	for _, f := range args[1:] {
		l.dflt = l.dflt || f == "default_server" || f == "default"
	}
	l.valid = l.port > 0 && l.port < 65536
	return l
}

// nginxLocationOf reads a location block: its match and the proxy_pass in it (also one
// inside an if, which may send there).
func nginxLocationOf(d located) nginxLocation {
	loc := nginxLocation{where: d.where()}
	if len(d.Args) >= 2 {
		loc.modifier, loc.path = d.Args[0], d.Args[1]
	} else {
		loc.path = d.Args[0]
		for _, m := range []string{"^~", "=", "~*", "~"} { // written without a space: "=/exact"
			if rest, ok := strings.CutPrefix(loc.path, m); ok && rest != "" {
				loc.modifier, loc.path = m, rest
				break
			}
		}
	}
	switch loc.modifier {
	case "~":
		loc.re, _ = regexp.Compile(loc.path)
	case "~*":
		loc.re, _ = regexp.Compile("(?i)" + loc.path)
	}
	var find func([]located)
	find = func(ds []located) {
		for _, c := range ds {
			switch {
			case c.Name == "proxy_pass" && len(c.Args) == 1 && loc.target == "":
				loc.target = proxyTarget(c.Args[0])
			case c.Name == "if" && c.Block:
				find(c.Children)
			}
		}
	}
	find(d.Children)
	return loc
}

// nginxRoute is where nginx sends a request for host, port and path: the server block
// that takes it (by listen address and port, then server_name, else the default server)
// and the location in it (= exact, the longest prefix, which ^~ makes final, else the
// first regular expression that matches, else that prefix). known is false where nginx's
// choice depends on what the model cannot tell: the address a host name resolves to
// against listens on specific IPs, a regular expression Go does not read as PCRE.
func nginxRoute(servers []nginxServer, host string, port int, path string) (srv *nginxServer, loc *nginxLocation, known bool) {
	ip := ""
	if a, err := netip.ParseAddr(host); err == nil {
		ip = a.Unmap().String()
	}
	var specific, wild []*nginxServer
	specificListen := false
	for i := range servers {
		s := &servers[i]
		for _, l := range s.listens {
			if !l.valid || l.port != port {
				continue
			}
			switch {
			case l.ip == "":
				wild = appendNew(wild, s)
			case ip != "" && sameIP(l.ip, ip):
				specific = appendNew(specific, s)
			default:
				specificListen = true
			}
		}
	}
	set := wild
	switch {
	case len(specific) > 0:
		set = specific
	case specificListen && ip == "":
		return nil, nil, false
	}
	if len(set) == 0 {
		return nil, nil, true
	}
	srv = pickServer(set, host, ip, port)
	loc, known = pickLocation(srv.locs, path)
	return srv, loc, known
}

// pickServer chooses by server_name as nginx does: the exact name, the longest wildcard
// with a leading *, the longest with a trailing *, the first matching regular
// expression; else the default server of the port, else the first.
func pickServer(set []*nginxServer, host, ip string, port int) *nginxServer {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	var lead, trail, re *nginxServer
	leadLen, trailLen := 0, 0
	for _, s := range set {
		for _, n := range s.names {
			n = strings.ToLower(n)
			switch {
			case n == host:
				return s
			case strings.HasPrefix(n, "."): // .example.org is example.org and *.example.org
				if host == n[1:] {
					return s
				}
				if strings.HasSuffix(host, n) && len(n) > leadLen {
					lead, leadLen = s, len(n)
				}
			case strings.HasPrefix(n, "*."):
				if strings.HasSuffix(host, n[1:]) && len(n) > leadLen {
					lead, leadLen = s, len(n)
				}
			case strings.HasSuffix(n, ".*"):
				if strings.HasPrefix(host, n[:len(n)-1]) && len(n) > trailLen {
					trail, trailLen = s, len(n)
				}
			case strings.HasPrefix(n, "~") && re == nil:
				if r, err := regexp.Compile(n[1:]); err == nil && r.MatchString(host) {
					re = s
				}
			}
		}
	}
	for _, s := range []*nginxServer{lead, trail, re} {
		if s != nil {
			return s
		}
	}
	for _, s := range set {
		for _, l := range s.listens {
			if l.dflt && l.port == port && (l.ip == "" || ip != "" && sameIP(l.ip, ip)) {
				return s
			}
		}
	}
	return set[0]
}

// pickLocation chooses the location of a path as nginx does (nested locations are
// taken as their parent).
func pickLocation(locs []nginxLocation, path string) (*nginxLocation, bool) {
	var prefix *nginxLocation
	for i := range locs {
		l := &locs[i]
		switch l.modifier {
		case "=":
			if path == l.path {
				return l, true
			}
		case "", "^~":
			if strings.HasPrefix(path, l.path) && (prefix == nil || len(l.path) > len(prefix.path)) {
				prefix = l
			}
		}
	}
	if prefix != nil && prefix.modifier == "^~" {
		return prefix, true
	}
	for i := range locs {
		l := &locs[i]
		if l.modifier != "~" && l.modifier != "~*" {
			continue
		}
		if l.re == nil {
			return nil, false // a PCRE pattern Go's regexp does not read
		}
		if l.re.MatchString(path) {
			return l, true
		}
	}
	return prefix, true
}

// describeNginx says where nginx sends a request, for a message.
func describeNginx(srv *nginxServer, loc *nginxLocation) string {
	s := "the server block at " + srv.where
	if len(srv.names) > 0 {
		s += " (server_name " + strings.Join(srv.names, " ") + ")"
	}
	switch {
	case loc == nil:
		return s + ", where no location matches, so nginx answers itself"
	case loc.target == "":
		return fmt.Sprintf("%s, location %s at %s, which nginx answers itself (no proxy_pass)", s, strings.TrimSpace(loc.modifier+" "+loc.path), loc.where)
	}
	return fmt.Sprintf("%s, location %s at %s, which proxies to %s", s, strings.TrimSpace(loc.modifier+" "+loc.path), loc.where, loc.target)
}
