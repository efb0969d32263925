package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/haproxy"
	"github.com/clusterdoctor/clusterdoctor/netcfg/modjk"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Balancer is one balancer of this host's web server, with the members it sends
// requests to: a mod_jk lb worker, or an nginx upstream block behind proxy_pass.
type Balancer struct {
	Name   string `json:"name"`
	Server string `json:"server"` // "mod_jk" or "nginx"
	Where  string `json:"where"`  // FILE:LINE
	// Mounts are the URL patterns httpd sends to it (JkMount, JkMountFile, ProxyPass);
	// none for nginx, whose requests are routed by its server blocks and locations.
	Mounts []string `json:"mounts,omitempty"`
	// Ports are the ports the server takes requests for it on (httpd's Listen, the listen
	// of nginx's server blocks that proxy to it).
	Ports   []int    `json:"ports,omitempty"`
	Members []Member `json:"members"`
	// served are httpd's patterns with the servers each is applied in, as httpd scopes
	// them to virtual hosts; nil for nginx, whose Ports say it. route is the server httpd
	// gives a request for a host and port.
	served []servedPath
	route  func(host string, port int) (*VHost, bool)
	names  func(servers []*VHost) []string
	// nginx are nginx's server blocks, to tell which location a request reaches.
	nginx []nginxServer
	// listenIPs are the addresses the server listens on, by port ("" for all of the
	// host's): httpd's Listen directives.
	listenIPs map[int]string
	// bySuffix is set where it keeps a session on its node by the route after the session
	// id's dot, which Tomcat's jvmRoute puts there (mod_jk with sticky_session).
	bySuffix bool
	// runtime reads the running balancer's own view of its members (mod_jk's status
	// worker of a running httpd, HAProxy's stats socket), by member name; nil where there
	// is none to ask. runtimeName says where it comes from.
	runtime     func(ctx context.Context) (map[string]runtimeState, string)
	runtimeName string
	// Sticky is how it keeps a session on a node where that is not by the session id's
	// route (HAProxy's own cookie, prefix or stick table).
	Sticky Sticky `json:"sticky,omitzero"`
	// hap and hapProxy are HAProxy's configuration and the proxy section, which decide
	// what requests the balancer gets.
	hap      *haproxyConfig
	hapProxy *haproxy.Section
}

// runtimeState is what a running balancer says of a member now.
type runtimeState interface {
	fmt.Stringer
	sends() bool
}

// servedPath is a URL pattern a balancer is mounted on, and where it applies.
type servedPath struct {
	pattern string
	what    string   // the directive, for messages: "JkMount /app/* lb (FILE:LINE)"
	servers []*VHost // the servers it applies in; nil is the main server
	ports   []int    // their ports
	// lost says why it does not apply on some of httpd's ports (a main server's mount
	// on a port a virtual host takes), by port.
	lost map[int]string
}

// Member is a node a balancer sends to, and how: AJP13 (mod_jk) or HTTP (nginx).
type Member struct {
	Name   string `json:"name"`   // the worker's name, or the upstream server as written
	Scheme string `json:"scheme"` // "ajp" or "http"
	Host   string `json:"host"`
	Port   int    `json:"port"`
	// Route is the route the balancer expects after the dot of the session id (mod_jk);
	// empty for nginx, which does not route by the session id.
	Route string `json:"route,omitempty"`
	// Secret is the worker's secret (mod_jk), sent with every forward request.
	Secret string `json:"-"`
	Where  string `json:"where"`
	// Disabled is set for a member the balancer sends nothing (nginx "down", mod_jk
	// activation=stopped).
	Disabled bool `json:"disabled,omitempty"`
}

// Balancers reads this host's web server configuration (under the Env's root) and
// returns its balancers: mod_jk's lb workers named in worker.list, and the upstream
// blocks nginx proxies to.
func Balancers(env *probes.Env) []Balancer {
	return append(append(jkBalancers(env), nginxBalancers(env)...), haproxyBalancers(env)...)
}

func jkBalancers(env *probes.Env) []Balancer {
	var out []Balancer
	for _, conf := range HTTPDs(env) {
		out = append(append(out, modJKBalancers(conf.env, conf)...), modProxyBalancers(conf)...)
	}
	return out
}

// modProxyBalancers are mod_proxy_balancer's balancers, their members AJP or HTTP.
func modProxyBalancers(conf *HTTPDConfig) []Balancer {
	var out []Balancer
	for _, pb := range proxyBalancers(conf) {
		b := Balancer{Name: "balancer://" + pb.name, Server: "mod_proxy", Where: pb.where, Mounts: pb.patterns(), route: conf.serverFor, names: conf.names,
			listenIPs: conf.listenIPs()}
		for _, p := range pb.paths {
			b.serve(p)
		}
		for _, m := range pb.members {
			if m.err != nil || (m.scheme != "ajp" && m.scheme != "http") {
				continue
			}
			b.Members = append(b.Members, Member{Name: m.url, Scheme: m.scheme, Host: m.host, Port: m.port, Route: m.route,
				Secret: m.secret, Where: m.where, Disabled: m.disabled})
		}
		if conf.PID > 0 { // the runtime view of the httpd that runs
			name := pb.name
			b.runtime = func(ctx context.Context) (map[string]runtimeState, string) {
				all, note := balancerManager(ctx, conf)
				out := map[string]runtimeState{}
				for _, m := range b.Members {
					if st, ok := all[name][memberKey(m.Name)]; ok {
						out[m.Name] = st
					}
				}
				return out, note
			}
			b.runtimeName = "httpd's balancer-manager"
		}
		out = append(out, b)
	}
	return out
}

// modJKBalancers are mod_jk's lb workers.
func modJKBalancers(env *probes.Env, conf *HTTPDConfig) []Balancer {
	wfd, ok := conf.Last("JkWorkersFile")
	if !ok || len(wfd.Args) != 1 {
		return nil
	}
	path := conf.Abs(wfd.Args[0])
	b, err := env.ReadFile(path, modjk.MaxSize)
	if err != nil {
		return nil
	}
	wf, err := modjk.Parse(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	var ignored []string
	ms := mounts(env, conf, &ignored)
	var out []Balancer
	for _, n := range wf.List() {
		w, _ := wf.Worker(n)
		if w.Type() != "lb" {
			continue
		}
		bal := Balancer{Name: n, Server: "mod_jk", Where: path, route: conf.serverFor, names: conf.names, listenIPs: conf.listenIPs()}
		if sticky, ok := w.Sticky(); ok && sticky {
			bal.bySuffix = true
		}
		if conf.PID > 0 { // the runtime view of the httpd that runs
			bal.runtime = func(ctx context.Context) (map[string]runtimeState, string) {
				states, note := jkStatus(ctx, conf, wf, ms)
				out := map[string]runtimeState{}
				for name, st := range states {
					out[name] = st
				}
				return out, note
			}
			bal.runtimeName = "mod_jk's status worker"
		}
		if v, ok := w.Get("balance_workers"); ok {
			bal.Where = path + ":" + strconv.Itoa(v.Line)
		}
		for _, m := range ms {
			if m.worker == n {
				bal.Mounts = append(bal.Mounts, m.path)
				servers := conf.mountServers(m)
				bal.serve(servedPath{pattern: m.path, what: fmt.Sprintf("%s %s %s (%s)", m.directive, m.path, m.worker, m.where),
					servers: servers, ports: conf.portsOf(servers), lost: conf.lostMount(m, ms)})
			}
		}
		for _, name := range w.BalanceWorkers() {
			mw, defined := wf.Worker(name)
			if !defined || mw.Type() != "ajp13" {
				continue
			}
			host, port, err := mw.Address()
			if err != nil {
				continue
			}
			m := Member{Name: name, Scheme: "ajp", Host: host, Port: port, Route: mw.Route(), Where: path}
			if v, ok := mw.Get("host"); ok {
				m.Where = path + ":" + strconv.Itoa(v.Line)
			}
			if v, ok := mw.Get("secret"); ok {
				m.Secret = v.Text
			}
			if v, ok := mw.Get("activation"); ok && strings.HasPrefix(strings.ToLower(v.Text), "s") {
				m.Disabled = true // stopped: mod_jk sends it nothing at all
			}
			bal.Members = append(bal.Members, m)
		}
		out = append(out, bal)
	}
	return out
}

func nginxBalancers(env *probes.Env) []Balancer {
	ds, files, _ := loadNginx(env)
	if files == 0 {
		return nil
	}
	ups, proxied := upstreamsOf(ds)
	ports, maps, servers := proxyPorts(ds), routeMapsOf(ds), nginxServers(ds)
	byName := map[string]upstream{}
	for _, u := range ups {
		byName[u.name] = u
	}
	var targets []string
	for t := range proxied {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	var out []Balancer
	for _, target := range targets {
		// proxy_pass to an upstream, or to a route map's variable: its upstreams
		var names []string
		routes := map[string]string{}
		bal := Balancer{Name: target, Server: "nginx", Ports: ports[target], nginx: servers}
		if m, ok := maps[target]; ok {
			for up, r := range m.routes {
				names, routes[up] = append(names, up), r
			}
			if m.def != "" {
				names = append(names, m.def)
			}
			bal.Where = m.where
		} else if u, ok := byName[target]; ok {
			names, bal.Where = []string{target}, u.where
		} else {
			continue
		}
		sort.Strings(names)
		seen := map[string]int{}
		for _, n := range names {
			for _, s := range byName[n].servers {
				host, port, err := serverAddr(s.addr)
				if err != nil {
					continue
				}
				key := fmt.Sprintf("%s:%d", host, port)
				if i, dup := seen[key]; dup { // in a route's upstream and in the default one
					if bal.Members[i].Route == "" {
						bal.Members[i].Route = routes[n]
					}
					continue
				}
				seen[key] = len(bal.Members)
				bal.Members = append(bal.Members, Member{Name: s.addr, Scheme: "http", Host: host, Port: port, Route: routes[n], Where: s.where, Disabled: s.down})
			}
		}
		out = append(out, bal)
	}
	return out
}

// serve adds a pattern the balancer is mounted on, and its ports to Ports.
func (b *Balancer) serve(p servedPath) {
	b.served = append(b.served, p)
	b.Ports = appendNew(b.Ports, p.ports...)
}

// takes reports whether the balancer gets a request for host, port and path, as its web
// server routes it, and where it does not though the server takes the request, why.
func (b *Balancer) takes(host string, port int, path string) (bool, []string) {
	switch {
	case b.hap != nil:
		return b.takesHAProxy(host, port, path)
	case b.served != nil:
		return b.serves(host, port, path)
	case b.nginx != nil:
		if srv, loc, known := nginxRoute(b.nginx, host, port, path); known {
			switch {
			case loc != nil && loc.target == b.Name:
				return true, nil
			case srv != nil:
				return false, []string{"nginx gives it to " + describeNginx(srv, loc)}
			}
			return false, nil
		}
	}
	// unknown routes and hand-made balancers: by path and port alone
	mounted := b.Server == "nginx" || slices.ContainsFunc(b.Mounts, func(p string) bool { return Serves(p, path) })
	return mounted && (len(b.Ports) == 0 || slices.Contains(b.Ports, port)), nil
}

// serves reports whether httpd sends a request for host, port and path to the balancer;
// where a pattern matches but not in the server that takes the request, why.
func (b *Balancer) serves(host string, port int, path string) (bool, []string) {
	srv, known := b.route(host, port)
	var why []string
	for _, s := range b.served {
		if !Serves(s.pattern, path) {
			continue
		}
		if slices.Contains(s.ports, port) && (!known || slices.Contains(s.servers, srv)) {
			return true, nil
		}
		if r, ok := s.lost[port]; ok {
			why = append(why, r)
		} else if slices.Contains(s.ports, port) {
			hint := ""
			if names := b.names(s.servers); len(names) > 0 {
				hint = fmt.Sprintf(", named %s: give --url one of those names", strings.Join(names, ", "))
			}
			why = append(why, fmt.Sprintf("httpd gives a request for %s on port %d to %s, and %s applies in %s%s",
				host, port, describe(srv), s.what, describeAll(s.servers), hint))
		}
	}
	return false, why
}

// ErrNoMembers says where members come from when no balancer of this host serves a URL.
var ErrNoMembers = errors.New("no balancer members: run session-test on the web host (its mod_jk workers.properties, mod_proxy balancer or nginx upstream blocks name them), or give each with --member ajp://HOST:PORT or --member http://HOST:PORT")

// MembersFor are the members the balancer that serves the URL sends to: the mod_jk or
// mod_proxy balancer whose JkMount or ProxyPass serves its path in the virtual host httpd
// gives the URL to, or the nginx upstream that the location nginx chooses for the URL (in
// the server block it chooses) proxies to. Members the balancer sends
// nothing are left out. None serving is ErrNoMembers; two serving is an error naming them.
func MembersFor(bals []Balancer, u *url.URL) ([]Member, error) {
	b, err := servingFor(bals, u)
	if err != nil {
		return nil, err
	}
	var out []Member
	for _, m := range b.Members {
		if !m.Disabled {
			out = append(out, m)
		}
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("balancer %s (%s) has %d members the balancer sends to: replication needs two", b.Name, b.Where, len(out))
	}
	return out, nil
}

// OutFor are the members of the balancer that serves the URL that its configuration
// sends nothing (mod_jk activation=stopped, nginx down): no session reaches them through
// it, so the directions to and from them cannot be tested.
func OutFor(bals []Balancer, u *url.URL) []Member {
	b, err := servingFor(bals, u)
	if err != nil {
		return nil
	}
	var out []Member
	for _, m := range b.Members {
		if m.Disabled {
			out = append(out, m)
		}
	}
	return out
}

// OutNow are the members of the balancer that serves the URL that it sends nothing at
// this moment by its own runtime view (mod_jk's status worker: disabled, stopped or in
// error), each with why in Where; note says why the view could not be read.
func OutNow(ctx context.Context, bals []Balancer, u *url.URL) (out []Member, note string) {
	b, err := servingFor(bals, u)
	if err != nil || b.runtime == nil {
		return nil, ""
	}
	states, note := b.runtime(ctx)
	for _, m := range b.Members {
		if st, ok := states[m.Name]; ok && !m.Disabled && !st.sends() {
			m.Where = fmt.Sprintf("%s at runtime, as %s says", st, b.runtimeName)
			out = append(out, m)
		}
	}
	return out, note
}

// StickyFor is how the balancer that serves the URL keeps a session on its node where
// that is not by the session id's route (HAProxy's cookie, prefix or stick table).
func StickyFor(bals []Balancer, u *url.URL) Sticky {
	b, err := servingFor(bals, u)
	if err != nil {
		return Sticky{}
	}
	return b.Sticky
}

// servingFor is the one balancer that serves the URL.
func servingFor(bals []Balancer, u *url.URL) (*Balancer, error) {
	port, path := URLPort(u), u.Path
	if path == "" {
		path = "/"
	}
	var serving []Balancer
	var lost []string
	for _, b := range bals {
		ok, why := b.takes(u.Hostname(), port, path)
		if ok {
			serving = append(serving, b)
		}
		lost = appendNew(lost, why...)
	}
	switch len(serving) {
	case 0:
		if len(lost) > 0 {
			return nil, fmt.Errorf("%s reaches no balancer: %s", u, strings.Join(lost, "; "))
		}
		return nil, ErrNoMembers
	case 1:
	default:
		var names []string
		for _, b := range serving {
			names = append(names, fmt.Sprintf("%s %s (%s)", b.Server, b.Name, b.Where))
		}
		return nil, fmt.Errorf("%s could be served by %s: name the members with --member", u, strings.Join(names, " or "))
	}
	return &serving[0], nil
}

// URLPort is the port a browser connects to for the URL.
func URLPort(u *url.URL) int {
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	if u.Scheme == "https" {
		return 443
	}
	return 80
}

// proxyPorts maps each upstream name to the listen ports of the server blocks whose
// proxy_pass sends to it (nginx listens on 80 where a server block says nothing).
func proxyPorts(ds []located) map[string][]int {
	out := map[string][]int{}
	var targets func([]located, map[string]bool)
	targets = func(ds []located, into map[string]bool) {
		for _, d := range ds {
			if d.Name == "proxy_pass" && len(d.Args) == 1 {
				into[proxyTarget(d.Args[0])] = true
			}
			targets(d.Children, into)
		}
	}
	var walk func([]located)
	walk = func(ds []located) {
		for _, d := range ds {
			if d.Name != "server" || !d.Block {
				walk(d.Children)
				continue
			}
			var ports []int
			for _, c := range d.Children {
				if c.Name != "listen" || len(c.Args) == 0 {
					continue
				}
				a := c.Args[0]
				if i := strings.LastIndex(a, ":"); i >= 0 && !strings.HasSuffix(a, "]") {
					a = a[i+1:]
				}
				if n, err := strconv.Atoi(a); err == nil {
					ports = append(ports, n)
				}
			}
			if len(ports) == 0 {
				ports = []int{80}
			}
			to := map[string]bool{}
			targets(d.Children, to)
			for name := range to {
				out[name] = append(out[name], ports...)
			}
		}
	}
	walk(ds)
	return out
}

// Serves reports whether a JkMount pattern sends the path to its worker: mod_jk's
// wildcards, where * matches any run of characters (slashes too) and ? one character.
// The match backtracks only to the last star, so it takes time linear in both lengths.
func Serves(pattern, path string) bool {
	p, s := 0, 0
	star, mark := -1, 0
	for s < len(path) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == path[s]):
			p++
			s++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, s
			p++
		case star >= 0:
			p, mark = star+1, mark+1
			s = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// Balances says what makes this host a web host of the cluster: a mod_jk balancer, an
// nginx upstream behind proxy_pass, or a web server configuration that cannot be read
// (its own check says why). Empty: none.
func Balances(env *probes.Env) string {
	var what []string
	for _, b := range Balancers(env) {
		what = append(what, b.Server+" balancer "+b.Name+" ("+b.Where+")")
	}
	if len(what) == 0 {
		if _, files, problems := loadNginx(env); files > 0 && len(problems) > 0 {
			what = append(what, "an nginx configuration that does not parse ("+problems[0]+")")
		}
	}
	return strings.Join(what, ", ")
}

// AJPTargets lists the AJP addresses (HOST:PORT) the balancers of this host's web servers
// forward to, as they read their configuration: what makes a Tomcat's AJP connector on
// loopback reachable, where the web server runs beside it.
func AJPTargets(env *probes.Env) []string {
	var out []string
	for _, b := range Balancers(env) {
		for _, m := range b.Members {
			if m.Scheme == "ajp" {
				out = appendNew(out, net.JoinHostPort(m.Host, strconv.Itoa(m.Port)))
			}
		}
	}
	return out
}
