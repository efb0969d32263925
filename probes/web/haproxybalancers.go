package web

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/haproxy"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Sticky is how a balancer keeps a session on its node, where it is not by the route
// after the session id's dot: what session-test must do as a browser does.
type Sticky struct {
	// Cookie is HAProxy's own cookie (cookie SERVERID insert|rewrite): a browser sends it
	// back with the session's, and it, not the session id, says where the request goes.
	Cookie string `json:"cookie,omitempty"`
	// Prefix: HAProxy puts the server's cookie value and '~' before the session id
	// (cookie JSESSIONID prefix) and takes it off before the server sees it.
	Prefix bool `json:"prefix,omitempty"`
	// Table: a stick table on the session cookie keeps each session where it was made;
	// a session id nobody made has no entry, so only a session's own requests stick.
	Table bool `json:"table,omitempty"`
}

// haproxyBalancers are HAProxy's balanced proxies as balancers session-test can go
// through: their servers (HTTP), the ports of the frontends that send to them, and the
// frontends' choice of backend for a request.
func haproxyBalancers(env *probes.Env) []Balancer {
	var out []Balancer
	for _, c := range loadHAProxy(env) {
		for _, p := range c.proxies() {
			out = append(out, c.balancer(p))
		}
	}
	return out
}

func (c *haproxyConfig) balancer(p *haproxy.Section) Balancer {
	b := Balancer{Name: p.Name, Server: "haproxy", Where: c.where(p, p.Line), listenIPs: map[int]string{}}
	for _, fe := range append(c.cfg.Of("frontend"), c.cfg.Of("listen")...) {
		if c.sendsTo(fe, p) {
			b.Ports = appendNew(b.Ports, bindPorts(fe)...)
			for _, l := range fe.All("bind") {
				if args := l.Args(); len(args) > 0 {
					if host, port, err := net.SplitHostPort(strings.Split(args[0], ",")[0]); err == nil && host != "*" {
						if n, err := strconv.Atoi(port); err == nil {
							b.listenIPs[n] = host
						}
					}
				}
			}
			if l, ok := fe.Last("default_backend"); (ok && len(l.Args()) > 0 && l.Args()[0] == p.Name) || fe == p {
				b.Mounts = appendNew(b.Mounts, "/*")
			}
		}
	}
	u := upstream{name: p.Kind + " " + p.Name}
	for _, s := range c.upstreams() {
		if s.name == u.name {
			u = s
		}
	}
	for _, s := range u.servers {
		host, port := splitServer(s.addr)
		b.Members = append(b.Members, Member{Name: s.name, Scheme: "http", Host: host, Port: port, Where: s.where, Disabled: s.down})
	}
	if cookie, _, ok := c.setting(p, "cookie"); ok && len(cookie.Args()) > 0 && u.sticky {
		name := cookie.Args()[0]
		if strings.Contains(" "+strings.Join(cookie.Args()[1:], " ")+" ", " prefix ") {
			b.Sticky.Prefix = true
		} else {
			b.Sticky.Cookie = name
		}
	} else if u.sticky && strings.HasPrefix(u.method, "stick ") {
		b.Sticky.Table = true
	}
	b.hap = c
	b.hapProxy = p
	if c.pid > 0 {
		b.runtime = func(ctx context.Context) (map[string]runtimeState, string) {
			ups := []upstream{u}
			note := c.runtime(ctx, ups)
			states := map[string]runtimeState{}
			for _, s := range ups[0].servers {
				if s.state != nil {
					states[s.name] = s.state
				}
			}
			return states, note
		}
		b.runtimeName = "HAProxy's stats socket"
	}
	return b
}

// sendsTo reports whether a frontend or listen section can send requests to p.
func (c *haproxyConfig) sendsTo(fe, p *haproxy.Section) bool {
	if fe == p {
		return len(fe.All("bind")) > 0
	}
	for _, kw := range []string{"default_backend", "use_backend"} {
		for _, l := range fe.All(kw) {
			if args := l.Args(); len(args) > 0 && args[0] == p.Name {
				return true
			}
		}
	}
	return false
}

// takesHAProxy reports whether HAProxy gives a request for host, port and path to b.
func (b *Balancer) takesHAProxy(host string, port int, path string) (bool, []string) {
	header := host
	if port != 80 && port != 443 {
		header = net.JoinHostPort(host, strconv.Itoa(port))
	}
	be, known, why := b.hap.backendFor(port, hapRequest{host: header, path: path})
	switch {
	case !known:
		return false, []string{why}
	case be == b.hapProxy:
		return true, nil
	case be != nil:
		return false, []string{fmt.Sprintf("HAProxy gives it to %s %s", be.Kind, be.Name)}
	case why != "":
		return false, []string{why}
	}
	return false, nil
}

// splitServer is a server line's address: HOST:PORT, or HOST alone (port 80).
func splitServer(addr string) (string, int) {
	if i := strings.Index(addr, "@"); i >= 0 {
		addr = addr[i+1:]
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 80
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return host, 80
	}
	return host, n
}
