package web

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// proxyBalancer is a mod_proxy_balancer balancer: the BalancerMember lines of a
// <Proxy balancer://NAME> section (or BalancerMember balancer://NAME URL outside one),
// its ProxySet parameters, and the ProxyPass paths that send to it. A balancer defined in
// a <VirtualHost> is that virtual host's; the main server's are everyone's.
type proxyBalancer struct {
	name, where string
	vhost       *VHost
	// sticky is stickysession= (ProxySet, or a ProxyPass to the balancer); "" is none.
	sticky  string
	members []proxyMember
	paths   []servedPath
}

// proxyMember is one BalancerMember, as mod_proxy reads its URL and parameters.
type proxyMember struct {
	url, scheme, host    string
	port                 int
	route, secret, where string
	ping                 time.Duration
	disabled, hasSecret  bool
	err                  error
}

// defaultPorts are mod_proxy's ports for a member URL without one.
var defaultPorts = map[string]int{"ajp": 8009, "http": 80, "https": 443}

// proxyBalancers reads mod_proxy_balancer's configuration, balancers in name order.
func proxyBalancers(conf *HTTPDConfig) []proxyBalancer {
	type key struct {
		vhost *VHost
		name  string
	}
	var order []key
	byKey := map[key]*proxyBalancer{}
	get := func(k key, where string) *proxyBalancer {
		b := byKey[k]
		if b == nil {
			b = &proxyBalancer{name: k.name, where: where, vhost: k.vhost}
			byKey[k] = b
			order = append(order, k)
		}
		return b
	}
	for _, d := range conf.Directives {
		section := proxySection(d.Context)
		args := d.Args
		if !d.Is("BalancerMember") && !d.Is("ProxySet") {
			continue
		}
		name := section
		if name == "" && len(args) > 0 && strings.HasPrefix(strings.ToLower(args[0]), "balancer://") {
			name, args = balancerName(args[0]), args[1:]
		}
		if name == "" {
			continue
		}
		k := key{d.VHost, name}
		switch {
		case d.Is("BalancerMember") && len(args) > 0:
			b := get(k, d.Where())
			b.members = append(b.members, proxyMemberOf(args[0], params(args[1:]), d.Where()))
		case d.Is("ProxySet"):
			if v, ok := params(args)["stickysession"]; ok {
				get(k, d.Where()).sticky = v
			}
		}
	}
	// A ProxyPass of the main server applies in every virtual host too: httpd 2.4 appends
	// the main server's to each virtual host's whatever ProxyPassInherit says (it decides
	// only whether the balancers are inherited). In each server, the balancer is the
	// server's own of the name, else the main server's where the server inherits them; a
	// ProxyPass to a balancer nobody defines defines an empty one, as httpd does.
	resolve := func(v *VHost, name string) (key, bool) {
		if _, own := byKey[key{v, name}]; own {
			return key{v, name}, true
		}
		_, main := byKey[key{nil, name}]
		return key{nil, name}, main && conf.inheritsBalancers(v)
	}
	for _, d := range conf.All("ProxyPass") {
		path, target, rest := "", "", d.Args
		if loc := locationOf(d.Context); loc != "" && len(d.Args) > 0 { // <Location /app> ProxyPass balancer://x/
			path, target, rest = loc, d.Args[0], d.Args[1:]
		} else if len(d.Args) >= 2 {
			path, target, rest = d.Args[0], d.Args[1], d.Args[2:]
		}
		if !strings.HasPrefix(strings.ToLower(target), "balancer://") {
			continue
		}
		name := balancerName(target)
		if _, ok := resolve(d.VHost, name); !ok {
			get(key{d.VHost, name}, d.Where())
		}
		servers := []*VHost{d.VHost}
		if d.VHost == nil {
			servers = append(servers, conf.VHosts...)
		}
		for _, v := range servers {
			k, ok := resolve(v, name)
			if !ok {
				continue // httpd answers 500: no balancer of that name in this server
			}
			b := byKey[k]
			b.paths = append(b.paths, servedPath{pattern: path + "*", what: fmt.Sprintf("ProxyPass %s %s (%s)", path, target, d.Where()),
				servers: []*VHost{v}, ports: conf.Ports(v)})
			if sticky, ok := params(rest)["stickysession"]; ok {
				b.sticky = sticky
			}
		}
	}
	var out []proxyBalancer
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// inheritsBalancers reports whether a server sees the main server's balancers: the main
// server itself, or a virtual host where BalancerInherit or ProxyPassInherit is on (each
// the virtual host's own setting, else the main server's, else on).
func (c *HTTPDConfig) inheritsBalancers(v *VHost) bool {
	if v == nil {
		return true
	}
	on := func(directive string) bool {
		if own, set := c.setting(directive, v); set {
			return own != "off"
		}
		main, _ := c.setting(directive, nil)
		return main != "off"
	}
	return on("BalancerInherit") || on("ProxyPassInherit")
}

// proxySection is the balancer name of an enclosing <Proxy balancer://NAME> section.
func proxySection(context []string) string {
	for _, c := range context {
		f := strings.Fields(c)
		if len(f) == 2 && strings.EqualFold(f[0], "Proxy") {
			if u := strings.Trim(f[1], `"'`); strings.HasPrefix(strings.ToLower(u), "balancer://") {
				return balancerName(u)
			}
		}
	}
	return ""
}

// locationOf is the path of an enclosing <Location PATH> section.
func locationOf(context []string) string {
	for _, c := range context {
		if f := strings.Fields(c); len(f) == 2 && strings.EqualFold(f[0], "Location") {
			return strings.Trim(f[1], `"'`)
		}
	}
	return ""
}

// balancerName is NAME of balancer://NAME/path, as mod_proxy compares it (no case).
func balancerName(u string) string {
	name := u[len("balancer://"):]
	name, _, _ = strings.Cut(name, "/")
	return strings.ToLower(name)
}

// params reads key=value parameters; keys have no case for mod_proxy.
func params(args []string) map[string]string {
	out := map[string]string{}
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok {
			out[strings.ToLower(k)] = v
		}
	}
	return out
}

func proxyMemberOf(raw string, p map[string]string, where string) proxyMember {
	m := proxyMember{url: raw, where: where, route: p["route"]}
	m.secret, m.hasSecret = p["secret"]
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		m.err = fmt.Errorf("%q is not a URL mod_proxy can use (%s)", raw, where)
		return m
	}
	m.scheme, m.host = strings.ToLower(u.Scheme), u.Hostname()
	m.port = defaultPorts[m.scheme]
	if ps := u.Port(); ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > 65535 {
			m.err = fmt.Errorf("%s: the port is not 1-65535 (%s)", raw, where)
			return m
		}
		m.port = n
	}
	m.ping = 10 * time.Second
	if v, ok := p["ping"]; ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			m.ping = time.Duration(n) * time.Second
		} else if d, err := time.ParseDuration(v); err == nil && d > 0 {
			m.ping = d // "500ms"
		}
	}
	status := strings.ToUpper(p["status"])
	m.disabled = strings.Contains(status, "D") && !strings.Contains(status, "-D") || strings.Contains(status, "S") && !strings.Contains(status, "-S")
	return m
}

// patterns are the ProxyPass paths as JkMount-style patterns: a ProxyPass path is a
// prefix.
func (b proxyBalancer) patterns() []string {
	var out []string
	for _, p := range b.paths {
		out = appendNew(out, p.pattern)
	}
	return out
}

// stickySession is the balancing method of a mod_proxy balancer with stickysession=.
const stickySession = "stickysession"

// httpBalancers are the mod_proxy balancers with http:// members, as web.upstreams tests
// nginx's upstreams: their HTTP members (mod_proxy_http) reached as mod_proxy reaches them.
func httpBalancers(conf *HTTPDConfig) []upstream {
	var out []upstream
	for _, b := range proxyBalancers(conf) {
		u := upstream{name: "balancer://" + b.name, where: b.where, method: "byrequests without stickysession="}
		if b.sticky != "" {
			u.method = stickySession
		}
		for _, m := range b.members {
			if m.err == nil && m.scheme == "http" {
				u.servers = append(u.servers, upstreamServer{addr: fmt.Sprintf("%s:%d", m.host, m.port), where: m.where, down: m.disabled, runtimeKey: memberKey(m.url)})
			}
		}
		if len(u.servers) > 0 {
			out = append(out, u)
		}
	}
	return out
}
