package web

import (
	"fmt"
	"net"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"
)

// VHost is a <VirtualHost> section. httpd gives a request to a virtual host whose
// address matches the address and port the connection came in on, and to the main server
// only where none does; the main server's directives reach a virtual host only where
// httpd or the module merges them in (ProxyPass is inherited, JkMount is not unless
// JkMountCopy says so). `apache2ctl -S` lists what httpd made of them.
type VHost struct {
	Addrs []string // as written: "*:80", "_default_:443", "10.0.0.1:8080", "*"
	Where string   // FILE:LINE of the section
}

// listen is one Listen directive: its address ("" for all of the host's) and port.
type listen struct {
	ip   string
	port int
}

// listens are httpd's Listen directives ("80", "10.0.0.1:80", "[::]:80 https").
func (c *HTTPDConfig) listens() []listen {
	var out []listen
	for _, d := range c.All("Listen") {
		if len(d.Args) == 0 {
			continue
		}
		if ip, port := splitAddr(d.Args[0]); port > 0 {
			out = append(out, listen{ip, port})
		}
	}
	return out
}

// listenIPs are the addresses httpd listens on, by port: "" where one Listen of the port
// takes every address.
func (c *HTTPDConfig) listenIPs() map[int]string {
	out := map[int]string{}
	for _, l := range c.listens() {
		if ip, seen := out[l.port]; !seen || ip != "" {
			out[l.port] = l.ip
		}
	}
	return out
}

// splitAddr splits a Listen or <VirtualHost> address into an IP ("" for any: *,
// _default_, 0.0.0.0, [::] or no address) and a port (0 for any: none written, or *).
func splitAddr(a string) (ip string, port int) {
	host, ps := a, ""
	if strings.HasPrefix(a, "[") {
		end := strings.Index(a, "]")
		if end < 0 {
			return a, 0
		}
		host, ps = a[1:end], strings.TrimPrefix(a[end+1:], ":")
	} else if i := strings.LastIndex(a, ":"); i >= 0 {
		host, ps = a[:i], a[i+1:]
	} else if _, err := strconv.Atoi(a); err == nil { // Listen 80
		host, ps = "", a
	}
	switch strings.ToLower(host) {
	case "", "*", "_default_", "0.0.0.0", "::":
		host = ""
	}
	if n, err := strconv.Atoi(ps); err == nil && n > 0 && n < 65536 {
		port = n
	}
	return host, port
}

// on reports whether the virtual host takes requests that come in on l.
func (v *VHost) on(l listen) bool {
	for _, a := range v.Addrs {
		ip, port := splitAddr(a)
		if (port == 0 || port == l.port) && (ip == "" || l.ip == "" || strings.EqualFold(ip, l.ip)) {
			return true
		}
	}
	return false
}

// catches reports whether the virtual host takes every request that comes in on l, so
// that none of them reaches the main server.
func (v *VHost) catches(l listen) bool {
	for _, a := range v.Addrs {
		ip, port := splitAddr(a)
		if (port == 0 || port == l.port) && (ip == "" || l.ip != "" && strings.EqualFold(ip, l.ip)) {
			return true
		}
	}
	return false
}

// portsOf are the ports on which any of the servers takes requests.
func (c *HTTPDConfig) portsOf(servers []*VHost) []int {
	var out []int
	for _, v := range servers {
		out = appendNew(out, c.Ports(v)...)
	}
	return out
}

// Ports are the ports on which a server takes requests: a virtual host's, or the main
// server's (v nil), where no virtual host catches every request that comes in.
func (c *HTTPDConfig) Ports(v *VHost) []int {
	var out []int
	for _, l := range c.listens() {
		takes := v != nil && v.on(l)
		if v == nil {
			takes = c.catcher(l) == nil
		}
		if takes {
			out = appendNew(out, l.port)
		}
	}
	return out
}

// catcher is the first virtual host that takes every request coming in on l; nil when
// some reach the main server.
func (c *HTTPDConfig) catcher(l listen) *VHost {
	for _, v := range c.VHosts {
		if v.catches(l) {
			return v
		}
	}
	return nil
}

// catchers are the ports of httpd's Listen directives on which the main server gets no
// request, each with the virtual host that takes them.
func (c *HTTPDConfig) catchers() []portCatcher {
	main := c.Ports(nil)
	var out []portCatcher
	for _, l := range c.listens() {
		if slices.Contains(main, l.port) || slices.ContainsFunc(out, func(p portCatcher) bool { return p.port == l.port }) {
			continue
		}
		out = append(out, portCatcher{l.port, c.catcher(l)})
	}
	return out
}

// portCatcher is a port and the virtual host that takes every request on it.
type portCatcher struct {
	port  int
	vhost *VHost
}

// setting is the value of a one-word directive in a server (v nil: the main server), the
// last one written, lower case; set says whether the server has one of its own.
func (c *HTTPDConfig) setting(name string, v *VHost) (value string, set bool) {
	for _, d := range c.All(name) {
		if d.VHost == v && len(d.Args) == 1 {
			value, set = strings.ToLower(d.Args[0]), true
		}
	}
	return value, set
}

// serverFor is the server httpd gives a request for host (the URL's, sent as the Host
// header) on port: among the virtual hosts on the most specific address that matches
// (the host's IP and the port, else *:port or _default_:port), the first whose
// ServerName or ServerAlias is the host, else the first of them; the main server where
// none matches. known is false where that depends on the address a host name resolves
// to (a virtual host on a specific IP, and a URL with a name).
func (c *HTTPDConfig) serverFor(host string, port int) (v *VHost, known bool) {
	ip := ""
	if a, err := netip.ParseAddr(host); err == nil {
		ip = a.Unmap().String()
	}
	var specific, wild []*VHost
	for _, v := range c.VHosts {
		for _, a := range v.Addrs {
			aip, aport := splitAddr(a)
			if aport != 0 && aport != port {
				continue
			}
			switch {
			case aip == "": // *, and _default_, which httpd 2.4 takes as *
				wild = appendNew(wild, v)
			case strings.EqualFold(aip, host) || ip != "" && sameIP(aip, ip):
				specific = appendNew(specific, v)
			case ip == "":
				return nil, false
			}
		}
	}
	for _, set := range [][]*VHost{specific, wild} {
		if len(set) == 0 {
			continue
		}
		for _, v := range set {
			if c.named(v, host) {
				return v, true
			}
		}
		return set[0], true
	}
	return nil, true
}

// named reports whether the virtual host's ServerName or a ServerAlias (wildcards
// allowed) is host.
func (c *HTTPDConfig) named(v *VHost, host string) bool {
	host = strings.ToLower(host)
	for _, d := range c.Directives {
		if d.VHost != v || !d.Is("ServerName") && !d.Is("ServerAlias") {
			continue
		}
		for _, n := range d.Args {
			n = strings.ToLower(n)
			if i := strings.Index(n, "://"); i >= 0 { // ServerName https://www.example.com:443
				n = n[i+3:]
			}
			if d.Is("ServerName") {
				if h, _, err := net.SplitHostPort(n); err == nil {
					n = h
				}
			}
			if ok, _ := path.Match(n, host); ok || n == host {
				return true
			}
		}
	}
	return false
}

// names are the ServerName and ServerAlias names of the virtual hosts, as written.
func (c *HTTPDConfig) names(vs []*VHost) []string {
	var out []string
	for _, d := range c.Directives {
		if d.VHost != nil && slices.Contains(vs, d.VHost) && (d.Is("ServerName") || d.Is("ServerAlias")) {
			out = appendNew(out, d.Args...)
		}
	}
	return out
}

// describe names a server for a message.
func describe(v *VHost) string {
	if v == nil {
		return "the main server"
	}
	return fmt.Sprintf("<VirtualHost %s> (%s)", strings.Join(v.Addrs, " "), v.Where)
}

// describeAll names servers for a message.
func describeAll(vs []*VHost) string {
	var names []string
	for _, v := range vs {
		names = append(names, describe(v))
	}
	return strings.Join(names, " and ")
}

// sameIP compares an address as written with a canonical one.
func sameIP(written, canonical string) bool {
	a, err := netip.ParseAddr(written)
	return err == nil && a.Unmap().String() == canonical
}

// appendNew appends the values s does not hold yet.
func appendNew[T comparable](s []T, vs ...T) []T {
	for _, v := range vs {
		if !slices.Contains(s, v) {
			s = append(s, v)
		}
	}
	return s
}
