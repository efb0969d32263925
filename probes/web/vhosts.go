package web

import (
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

// Ports are the ports on which a server takes requests: a virtual host's, or the main
// server's (v nil), where no virtual host catches every request that comes in.
func (c *HTTPDConfig) Ports(v *VHost) []int {
	var out []int
	for _, l := range c.listens() {
		takes := v != nil && v.on(l)
		if v == nil {
			takes = c.catcher(l) == nil
		}
		if takes && !slices.Contains(out, l.port) {
			out = append(out, l.port)
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
