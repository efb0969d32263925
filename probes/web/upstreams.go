package web

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clusterdoctor/clusterdoctor/netcfg/nginx"
	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/container"
	"github.com/clusterdoctor/clusterdoctor/probes/reach"
)

// Upstreams is web.upstreams: on a web host whose nginx proxies to an upstream block, the
// balancing method keeps a session on its node (or it is said what it costs), and every
// member answers an HTTP request, reached as nginx reaches it.
type Upstreams struct{}

// ID implements probes.Probe.
func (Upstreams) ID() string { return "web.upstreams" }

// Timeout implements probes.Probe.
func (Upstreams) Timeout() time.Duration { return 8 * time.Second }

const nginxMain = "/etc/nginx/nginx.conf"

// upstream is one upstream block as nginx runs it (or a mod_proxy balancer, or an
// HAProxy backend).
type upstream struct {
	name, where, method string
	servers             []upstreamServer
	// sticky is set where the method keeps a session on its server (HAProxy's judged in
	// full); fail and warn say what is wrong with it instead.
	sticky     bool
	fail, warn string
}

type upstreamServer struct {
	addr, where string
	down        bool
	// name and cookie are an HAProxy server's name and cookie value; runtimeKey its
	// PROXY/SERVER in HAProxy's runtime API (a BalancerMember's URL in httpd's
	// balancer-manager), and state what that says of it now, stateFrom who says it.
	name, cookie, runtimeKey string
	state                    runtimeState
	stateFrom                string
}

// memberResult is one upstream member as tested from here.
type memberResult struct {
	Upstream string `json:"upstream"`
	Server   string `json:"server"`
	Outcome  string `json:"outcome"`
	Status   string `json:"status,omitempty"`
	Problem  string `json:"problem,omitempty"`
	// Container names the container an engine publishes the member's port for, where the
	// member is a port of this host ("podman container tc1"); ContainerVia how: the
	// DNAT rule that sends it there, or the engine's process holding the port.
	Container    string `json:"container,omitempty"`
	ContainerVia string `json:"containerVia,omitempty"`
}

// Run implements probes.Probe.
func (p Upstreams) Run(ctx context.Context, env *probes.Env) probes.Result {
	id := p.ID()
	ds, files, problems := loadNginx(env)
	var used []upstream
	routed := map[string]string{}
	if files > 0 {
		ups, proxied := upstreamsOf(ds)
		routed = viaMaps(ds, proxied)
		for _, u := range ups {
			if proxied[u.name] {
				used = append(used, u)
			}
		}
	}
	var notes []string
	for _, conf := range HTTPDs(env) {
		ups := httpBalancers(conf)
		if conf.PID > 0 && len(ups) > 0 { // the runtime view of the httpd that runs
			all, note := balancerManager(ctx, conf)
			for i := range ups {
				for j := range ups[i].servers {
					s := &ups[i].servers[j]
					if st, ok := all[strings.TrimPrefix(ups[i].name, "balancer://")][s.runtimeKey]; ok {
						s.state, s.stateFrom = st, "httpd's balancer-manager"
					}
				}
			}
			if note != "" {
				notes = append(notes, note)
			}
		}
		used = append(used, ups...)
	}
	haps := loadHAProxy(env)
	for _, c := range haps {
		ups := c.upstreams()
		if note := c.runtime(ctx, ups); note != "" {
			notes = append(notes, note)
		}
		used = append(used, ups...)
	}
	problems = append(problems, haproxyProblems(haps)...)
	switch {
	case files == 0 && len(used) == 0 && len(problems) == 0:
		return probes.SkipResult(id, "no nginx configuration, no HAProxy backend and no mod_proxy balancer with http:// members on this host").
			With("looked at the running nginx's and haproxy's configuration (else "+nginxMain+" and "+haproxyMain+") and httpd's", "", nil)
	case len(used) == 0 && len(problems) == 0:
		return probes.SkipResult(id, "nginx here proxies to no upstream block (it is not a balancer of the cluster)")
	}
	fails := append([]string(nil), problems...)
	var warns []string
	var results []memberResult
	for _, u := range used {
		switch {
		case u.fail != "":
			fails = append(fails, u.fail)
		case u.warn != "":
			warns = append(warns, u.warn)
		case u.sticky:
		case routed[u.name] != "":
			// a route map sends each session to its node's upstream; its default takes
			// only requests without a route, new sessions, which may go anywhere
		case u.method == "ip_hash", u.method == "hash", u.method == "sticky", u.method == stickySession:
		default:
			warns = append(warns, fmt.Sprintf("upstream %s (%s) balances by %s: a session's requests go to every member in turn, each one depending on replication having finished (ip_hash, or hash $cookie_JSESSIONID, keeps a session on its node)",
				u.name, u.where, u.method))
		}
		results = append(results, testMembers(ctx, env, u)...)
		for _, s := range u.servers {
			if s.state != nil && !s.state.sends() {
				warns = append(warns, fmt.Sprintf("%s: server %s (%s) is %s in %s: it sends it no sessions now", u.name, cmp.Or(s.name, s.addr), s.where, s.state, s.stateFrom))
			}
		}
	}
	var memberFails []string
	for _, r := range results {
		if r.Problem != "" {
			memberFails = append(memberFails, r.Problem)
		}
	}
	ev := map[string]any{"members": results}
	switch {
	case len(fails)+len(memberFails) > 0:
		lead, rest := configFirst(fails, warns, memberFails, nil)
		return probes.FailResult(id, lead).With(strings.Join(rest, "; "),
			"each server of an upstream is a Tomcat's HTTP connector (address=, port=) that this host can reach", ev)
	case len(warns) > 0:
		return probes.WarnResult(id, warns[0]).With(strings.Join(warns[1:], "; "),
			"nginx: add ip_hash; (or hash $cookie_JSESSIONID consistent;) to the upstream block, or route by the session with a map; mod_proxy_balancer: ProxySet stickysession=JSESSIONID|jsessionid; HAProxy: cookie SERVERID insert indirect nocache with cookie VALUE on each server", ev)
	}
	var parts, down []string
	for _, r := range results {
		if r.Outcome == "down" {
			down = append(down, r.Upstream+" "+r.Server)
			continue
		}
		status := r.Status
		if r.Container != "" {
			status += ", " + r.Container
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s)", r.Upstream, r.Server, status))
	}
	var detail []string
	if len(down) > 0 {
		detail = append(detail, "marked down, so sent nothing and not tested: "+strings.Join(down, ", "))
	}
	detail = append(detail, notes...)
	return probes.PassResult(id, fmt.Sprintf("%d upstream members answer HTTP, sessions kept on their node: %s", len(parts), strings.Join(parts, ", "))).With(strings.Join(detail, "; "), "", ev)
}

// loadNginx reads the configuration of every nginx running in this network namespace as
// its master process reads it (see runningServers); with none running, the
// distribution's /etc/nginx/nginx.conf. The directives of several are read one after the
// other, each naming its files.
func loadNginx(env *probes.Env) (ds []located, files int, problems []string) {
	seen := map[string]bool{}
	for _, p := range runningServers(env) {
		main := ""
		if p.kind == "nginx" {
			main = nginxMainOf(env, p)
		}
		if main == "" || seen[main] {
			continue
		}
		seen[main] = true
		d, n, probs := loadNginxWith(viewOf(env, p.pid), main, nginxGlobal(p.args))
		switch {
		case n == 0 && p.pid == 0:
			probs = append(probs, main+": cannot be read")
		case n == 0:
			probs = append(probs, fmt.Sprintf("%s: nginx (pid %d) reads it, but it cannot be read here", main, p.pid))
		}
		ds, files, problems = append(ds, d...), files+n, append(problems, probs...)
	}
	if len(seen) == 0 && len(env.WebConfigs) == 0 {
		return loadNginxAt(env, nginxMain)
	}
	return ds, files, problems
}

// loadNginxAt reads one main file with its includes (relative to its directory, as
// nginx's conf prefix), bounded.
func loadNginxAt(env *probes.Env, main string) (ds []located, files int, problems []string) {
	return loadNginxWith(env, main, "")
}

// loadNginxWith reads main as loadNginxAt does, then global: the directives of nginx's -g,
// which nginx adds to the main context.
func loadNginxWith(env *probes.Env, main, global string) (ds []located, files int, problems []string) {
	prefix := filepath.Dir(main)
	seen := map[string]bool{}
	var read func(file string, depth int) []located
	include := func(depth int) func(string) []located {
		return func(pattern string) []located {
			if !filepath.IsAbs(pattern) {
				pattern = filepath.Join(prefix, pattern)
			}
			matches, _ := filepath.Glob(env.Path(pattern))
			sort.Strings(matches)
			var out []located
			for _, m := range matches {
				out = append(out, read(hostPath(env, m), depth+1)...)
			}
			return out
		}
	}
	read = func(file string, depth int) []located {
		if depth > maxDepth || len(seen) >= maxConfFiles || seen[file] {
			return nil
		}
		seen[file] = true
		b, err := env.ReadFile(file, nginx.MaxSize)
		if err != nil {
			if depth > 0 {
				problems = append(problems, fmt.Sprintf("%s: %v", file, err))
			}
			return nil
		}
		f, err := nginx.Parse(bytes.NewReader(b))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v (nginx -t refuses it)", file, err))
			return nil
		}
		files++
		return expand(f.Directives, file, include(depth))
	}
	ds = read(main, 0)
	if strings.TrimSpace(global) != "" {
		f, err := nginx.Parse(strings.NewReader(global))
		if err != nil {
			problems = append(problems, fmt.Sprintf("-g %q: %v (nginx refuses it)", global, err))
		} else {
			ds = append(ds, expand(f.Directives, "-g", include(0))...)
		}
	}
	return ds, files, problems
}

// located is a directive with its file, its includes expanded in place.
type located struct {
	nginx.Directive
	File     string
	Children []located
}

func (l located) where() string { return fmt.Sprintf("%s:%d", l.File, l.Line) }

func expand(ds []nginx.Directive, file string, include func(string) []located) []located {
	var out []located
	for _, d := range ds {
		if d.Name == "include" && len(d.Args) == 1 {
			out = append(out, include(d.Args[0])...)
			continue
		}
		l := located{Directive: d, File: file}
		if d.Block {
			l.Children = expand(d.Children, file, include)
		}
		out = append(out, l)
	}
	return out
}

// upstreamsOf finds the upstream blocks of http and the names proxy_pass sends to.
func upstreamsOf(ds []located) ([]upstream, map[string]bool) {
	var ups []upstream
	proxied := map[string]bool{}
	var walk func([]located, []string)
	walk = func(ds []located, parents []string) {
		for _, d := range ds {
			inHTTP := len(parents) > 0 && parents[0] == "http"
			switch {
			case d.Name == "upstream" && d.Block && len(d.Args) == 1 && inHTTP:
				u := upstream{name: d.Args[0], where: d.where(), method: "round-robin (the default)"}
				for _, c := range d.Children {
					switch c.Name {
					case "server":
						if len(c.Args) > 0 {
							s := upstreamServer{addr: c.Args[0], where: c.where()}
							for _, a := range c.Args[1:] {
								s.down = s.down || a == "down"
							}
							u.servers = append(u.servers, s)
						}
					case "ip_hash", "hash", "sticky":
						u.method = c.Name
					case "least_conn", "random", "least_time":
						u.method = c.Name
					}
				}
				ups = append(ups, u)
			case d.Name == "proxy_pass" && len(d.Args) == 1:
				proxied[proxyTarget(d.Args[0])] = true
			}
			if d.Block {
				walk(d.Children, append(parents, d.Name))
			}
		}
	}
	walk(ds, nil)
	return ups, proxied
}

// proxyTarget is the upstream (or host:port) a proxy_pass argument names.
func proxyTarget(arg string) string {
	target := strings.TrimPrefix(strings.TrimPrefix(arg, "http://"), "https://")
	target, _, _ = strings.Cut(target, "/")
	return target
}

// serverAddr is an upstream server's host and port (80 when it names none).
func serverAddr(addr string) (string, int, error) {
	h, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 80, nil
	}
	n, err := strconv.Atoi(ps)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, errors.New("the port is not 1-65535")
	}
	return h, n, nil
}

// testMembers sends each member an HTTP request, as nginx would proxy one.
func testMembers(ctx context.Context, env *probes.Env, u upstream) []memberResult {
	out := make([]memberResult, len(u.servers))
	var wg sync.WaitGroup
	for i, s := range u.servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = testMember(ctx, env, u.name, s)
		}()
	}
	wg.Wait()
	return out
}

func testMember(ctx context.Context, env *probes.Env, name string, s upstreamServer) memberResult {
	r := memberResult{Upstream: name, Server: s.addr}
	if s.down {
		r.Outcome = "down"
		return r // marked down by the admin: nginx sends it nothing
	}
	host, port, err := serverAddr(s.addr)
	if err != nil {
		r.Outcome, r.Problem = "error", fmt.Sprintf("upstream %s: server %s (%s): %v", name, s.addr, s.where, err)
		return r
	}
	addr, err := ResolveHost(ctx, env, host)
	if err != nil {
		r.Outcome, r.Problem = "unresolved", fmt.Sprintf("upstream %s: server %s does not resolve here: %v", name, host, err)
		return r
	}
	to := netip.AddrPortFrom(addr, uint16(port))
	tcp := reach.TCP(ctx, to, 2*time.Second)
	r.Outcome = string(tcp.Outcome)
	if tcp.Outcome != reach.Open {
		r.Problem = fmt.Sprintf("upstream %s: server %s (%s): TCP to %s %s", name, s.addr, s.where, to, tcp.Text())
		return r
	}
	status, err := httpStatus(ctx, to, host)
	if err != nil {
		r.Outcome, r.Problem = "no-http", fmt.Sprintf("upstream %s: server %s accepts TCP but %v", name, s.addr, err)
		return r
	}
	r.Outcome, r.Status = "http", status
	r.Container, r.ContainerVia = ContainerBehind(ctx, env, to)
	return r
}

// ContainerBehind names the container an engine publishes to on this host, and how it
// was found (see container.PublishedBy): "" where to is not a port of this host, or no
// engine's.
func ContainerBehind(ctx context.Context, env *probes.Env, to netip.AddrPort) (name, via string) {
	if addr := to.Addr(); !addr.IsLoopback() && !isLocal(env, addr) {
		return "", ""
	}
	return container.PublishedBy(ctx, env, to)
}

// httpStatus sends GET / and returns the status line's code and text: any answer counts
// (a 404 from Tomcat's ROOT is still Tomcat answering).
// Equivalent to: curl -s -o /dev/null -w '%{http_code}' http://ADDR/
func httpStatus(ctx context.Context, to netip.AddrPort, host string) (string, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, "tcp", to.String())
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.0\r\nHost: %s\r\nUser-Agent: clusterdoctor\r\n\r\n", host)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("no HTTP answer within 3s (%v)", err)
	}
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") {
		return "", fmt.Errorf("answered %.40q, not HTTP (an AJP port, or another service)", line)
	}
	return strings.Join(f[1:], " "), nil
}

// isLocal reports whether addr is one of this host's own addresses.
func isLocal(env *probes.Env, addr netip.Addr) bool {
	local, err := env.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range local {
		if a.Prefix.Addr() == addr {
			return true
		}
	}
	return false
}
