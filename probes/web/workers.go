package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clusterdoctor/clusterdoctor/netcfg/modjk"
	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/ajp"
	"github.com/clusterdoctor/clusterdoctor/probes/mcast"
	"github.com/clusterdoctor/clusterdoctor/probes/reach"
	"github.com/clusterdoctor/clusterdoctor/probes/resolve"
)

// Workers is ajp.workers: on a web host whose httpd uses mod_jk, every worker a JkMount
// sends requests to is defined, a balancer's members exist and stick sessions, each
// AJP worker answers a CPing with a CPong, as mod_jk's own probe expects, within its
// ping_timeout, and its connector accepts the worker's secret. Each worker's route (what mod_jk expects after the dot of the session id)
// is compared with its Tomcat's jvmRoute, asked from the clusterdoctor there (agent or a
// running mcast-test) over the peers' protocol on Port.
type Workers struct {
	Port int // the membership port the Tomcat hosts' clusterdoctors answer on
	// Routes are jvmRoutes given by the operator (jvmRoute -> host), used where no
	// clusterdoctor answers.
	Routes map[string]string
}

// ID implements probes.Probe.
func (Workers) ID() string { return "ajp.workers" }

// Timeout implements probes.Probe: TCP and CPing per worker, in parallel.
func (Workers) Timeout() time.Duration { return 8 * time.Second }

// cpingCap bounds the wait for a CPong below the probe's timeout; mod_jk waits
// ping_timeout (10 s by default), and a connector that takes this long is broken anyway.
const cpingCap = 4 * time.Second

// workerResult is one AJP worker as tested from here.
type workerResult struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Route   string `json:"route"`
	// JvmRoute is the Tomcat's, as its clusterdoctor said; RouteNote why it is not known.
	JvmRoute  string  `json:"jvmRoute,omitempty"`
	RouteNote string  `json:"routeNote,omitempty"`
	Outcome   string  `json:"outcome"`
	CPongMs   float64 `json:"cpongMs,omitempty"`
	// Forward is the connector's answer to a forward request with the worker's secret.
	Forward string `json:"forward,omitempty"`
	Problem string `json:"problem,omitempty"`
}

// Run implements probes.Probe: every httpd running here is checked, as that process reads
// its configuration, else the distribution's.
func (p Workers) Run(ctx context.Context, env *probes.Env) probes.Result {
	confs := HTTPDs(env)
	if len(confs) == 0 {
		return probes.SkipResult(p.ID(), "no Apache httpd configuration on this host").
			With("looked at the running httpd's configuration, else /etc/apache2/apache2.conf and /etc/httpd/conf/httpd.conf", "", nil)
	}
	var results []probes.Result
	for _, conf := range confs {
		results = append(results, p.check(ctx, env, conf))
	}
	return eachServer(p.ID(), confs, results)
}

// eachServer is one result for several httpd configurations, each named by its main
// file (probes.Merge); one configuration's result is returned as it is.
func eachServer(id string, confs []*HTTPDConfig, results []probes.Result) probes.Result {
	if len(results) > 1 {
		for i := range results {
			results[i].Summary = confs[i].Label() + ": " + results[i].Summary
		}
	}
	return probes.Merge(id, "servers", results)
}

// check judges the balancers of one httpd configuration.
func (p Workers) check(ctx context.Context, env *probes.Env, conf *HTTPDConfig) probes.Result {
	id := p.ID()
	var c collected
	jkSkip, early := c.modJK(conf.env, conf)
	if early != nil {
		early.ID = id
		return *early
	}
	proxies := c.modProxy(conf)
	if jkSkip != "" && proxies == 0 {
		return probes.SkipResult(id, jkSkip+"; no mod_proxy balancer")
	}
	c.warns = append(c.warns, exposedControls(conf, c.ms, c.wf)...)
	fails, warns, path := c.fails, c.warns, c.path
	if path == "" {
		path = conf.Main
	}
	key, _ := env.ReadTrimmed("/etc/clusterdoctor/key") // the cluster's, when this host has it
	results := testWorkers(ctx, env, c.targets, p.Port, []byte(key), p.given(ctx, env))
	var states map[string]jkState
	var notes []string
	if c.wf != nil && conf.PID > 0 { // the runtime view of the httpd that runs
		var note string
		states, note = jkStatus(ctx, conf, c.wf, c.ms)
		notes = append(notes, note)
	}
	members := map[string]runtimeState{} // mod_proxy's AJP members, by URL
	if proxies > 0 && conf.PID > 0 {
		all, note := balancerManager(ctx, conf)
		for _, b := range all {
			for url, st := range b {
				members[url] = st
			}
		}
		notes = append(notes, note)
	}
	for _, r := range results {
		if r.Problem != "" {
			fails = append(fails, r.Problem)
		}
		if st, ok := states[r.Name]; ok && !st.sends() {
			warns = append(warns, fmt.Sprintf("worker %s is %s, as mod_jk's status worker says now", r.Name, st))
		}
		if st, ok := members[memberKey(r.Name)]; ok && !st.sends() {
			warns = append(warns, fmt.Sprintf("BalancerMember %s is %s, as httpd's balancer-manager says now", r.Name, st))
		}
	}
	note := strings.Join(slices.DeleteFunc(notes, func(n string) bool { return n == "" }), "; ")
	ev := map[string]any{"workersFile": path, "workers": results}
	switch {
	case len(fails) > 0:
		// The configuration's findings lead, a worker that does not answer follows.
		lead, rest := configFirst(c.fails, c.warns, fails[len(c.fails):], warns[len(c.warns):])
		return probes.FailResult(id, lead).With(strings.Join(rest, "; "),
			c.fix+"each worker's host and port is its Tomcat's AJP <Connector> (address=, port=; secretRequired with the same secret)", ev)
	case len(warns) > 0:
		return probes.WarnResult(id, warns[0]).With(strings.Join(warns[1:], "; "),
			c.fix+"set worker.BALANCER.sticky_session=true (mod_jk); ProxySet stickysession=JSESSIONID|jsessionid and route= on each BalancerMember (mod_proxy_balancer)", ev)
	case len(results) == 0:
		return probes.SkipResult(id, "no balancer here sends to an AJP member")
	}
	var parts, unverified []string
	verified := 0
	for _, r := range results {
		parts = append(parts, fmt.Sprintf("%s %s (CPong in %.1f ms)", r.Name, r.Address, r.CPongMs))
		if r.JvmRoute != "" {
			verified++
		} else {
			unverified = append(unverified, r.Name+": "+r.RouteNote)
		}
	}
	routes := fmt.Sprintf("; every route equals its Tomcat's jvmRoute (%d of %d asked)", verified, len(results))
	detail := ""
	if len(unverified) > 0 {
		routes = fmt.Sprintf("; routes checked for %d of %d workers", verified, len(results))
		detail = "not verified: " + strings.Join(unverified, "; ") + " (run clusterdoctor agent on the Tomcat hosts to have them checked)"
	}
	if note != "" {
		detail = strings.TrimPrefix(detail+"; "+note, "; ")
	}
	return probes.PassResult(id, fmt.Sprintf("%d AJP workers answer a CPing: %s%s", len(results), strings.Join(parts, ", "), routes)).With(detail, "", ev)
}

// collected is what the balancers of httpd's configuration send to, and what is wrong
// with them before anything is reached.
type collected struct {
	fails, warns []string
	targets      []target
	path         string // the JkWorkersFile
	// wf and ms are mod_jk's workers and mounts, for its status worker.
	wf *modjk.File
	ms []mount
	// fix leads the hint when the configuration's own scoping is at fault ("...; ").
	fix string
}

// modJK reads mod_jk's side: skip says why there is none; early is a result that ends
// the check (a workers file that cannot be read).
func (c *collected) modJK(env *probes.Env, conf *HTTPDConfig) (skip string, early *probes.Result) {
	wfd, ok := conf.Last("JkWorkersFile")
	if !ok || len(wfd.Args) != 1 {
		return "httpd here does not use mod_jk (no JkWorkersFile in " + conf.Main + " and its includes)", nil
	}
	path := conf.Abs(wfd.Args[0])
	b, err := env.ReadFile(path, modjk.MaxSize)
	if err != nil {
		r := probes.FailResult("", fmt.Sprintf("JkWorkersFile %s (%s) cannot be read: %v", path, wfd.Where(), err)).
			With("mod_jk refuses to start without its workers", "create it, or point JkWorkersFile at it", nil)
		return "", &r
	}
	wf, err := modjk.Parse(bytes.NewReader(b))
	if err != nil {
		r := probes.UnknownResult("", fmt.Sprintf("%s: %v", path, err))
		return "", &r
	}
	// A web host of a cluster balances: worker.list names a balancer. Without one (the
	// distribution's stock workers.properties), httpd here is not the cluster's web tier.
	balancer := false
	for _, n := range wf.List() {
		if w, _ := wf.Worker(n); w.Type() == "lb" {
			balancer = true
		}
	}
	var fails []string
	ms := mounts(env, conf, &fails)
	// Without a balancer, httpd still forwards where a mount sends to a listed AJP worker;
	// then every mount is checked, the status worker's too. Only the package's stock
	// configuration (status mounts to workers it never lists) forwards nothing.
	forwards := false
	for _, m := range ms {
		if w, ok := wf.Worker(m.worker); ok && w.Type() == "ajp13" && slices.Contains(wf.List(), m.worker) {
			forwards = true
		}
	}
	if !balancer && !forwards && len(fails) == 0 {
		return "mod_jk here balances nothing: worker.list in " + path + " names no lb worker and no mount forwards to an AJP worker (the package's stock configuration)", nil
	}
	c.path, c.wf, c.ms = path, wf, ms
	c.fails = append(c.fails, fails...)
	listed := map[string]bool{}
	for _, n := range wf.List() {
		listed[n] = true
	}
	for _, m := range ms {
		if !listed[m.worker] {
			c.fails = append(c.fails, fmt.Sprintf("%s at %s sends %s to worker %q, which worker.list in %s does not name: those requests get a 500",
				m.directive, m.where, m.path, m.worker, path))
			continue
		}
		c.lost(conf, m)
	}
	for _, n := range wf.List() {
		w, _ := wf.Worker(n)
		switch w.Type() {
		case "lb":
			members := w.BalanceWorkers()
			if len(members) == 0 {
				c.fails = append(c.fails, fmt.Sprintf("balancer %s has no balance_workers (%s)", n, path))
			}
			if sticky, ok := w.Sticky(); !ok || !sticky {
				v, _ := w.Get("sticky_session")
				c.warns = append(c.warns, fmt.Sprintf("balancer %s: sticky_session=%s (%s:%d): a session's requests go to any node, so every request depends on replication having finished",
					n, v.Text, path, v.Line))
			}
			c.jkMembers(wf, n, members, path)
		case "ajp13":
			c.targets = append(c.targets, jkTarget(w))
		}
	}
	return "", nil
}

// lost names a main server's mount that a virtual host keeps from its requests: a
// failure where it applies on none of httpd's ports, a warning where on some.
func (c *collected) lost(conf *HTTPDConfig, m mount) {
	lost := conf.lostMount(m, c.ms)
	if len(lost) == 0 {
		return
	}
	ports := make([]int, 0, len(lost))
	for p := range lost {
		ports = append(ports, p)
	}
	slices.Sort(ports)
	c.fix = "put JkMountCopy On inside the <VirtualHost> (or JkMountCopy All in the main server), or move the JkMount into it; "
	if len(conf.mountPorts(m)) == 0 {
		c.fails = append(c.fails, lost[ports[0]])
		return
	}
	for _, p := range ports {
		c.warns = append(c.warns, lost[p])
	}
}

// jkMembers checks an lb worker's members as mod_jk reads them: defined, an activation
// that lets them take requests, a redirect that names another member; the AJP ones are
// reached later.
func (c *collected) jkMembers(wf *modjk.File, lb string, members []string, path string) {
	known := map[string]bool{}
	for _, m := range members {
		mw, _ := wf.Worker(m)
		known[m], known[mw.Route()] = true, true
	}
	for _, m := range members {
		mw, defined := wf.Worker(m)
		if !defined {
			c.fails = append(c.fails, fmt.Sprintf("balancer %s names %s in balance_workers, but no worker.%s.* property exists in %s", lb, m, m, path))
			continue
		}
		if v, ok := mw.Get("activation"); ok {
			switch strings.ToUpper(activation(mw)[:1]) {
			case "S":
				c.warns = append(c.warns, fmt.Sprintf("worker %s of balancer %s is stopped (activation=%s, %s:%d): mod_jk sends it nothing, and its sessions go to the other members", m, lb, v.Text, path, v.Line))
			case "D":
				c.warns = append(c.warns, fmt.Sprintf("worker %s of balancer %s is disabled (activation=%s, %s:%d): it gets only the requests of its sessions, no new ones", m, lb, v.Text, path, v.Line))
			}
		}
		if v, ok := mw.Get("redirect"); ok && (!known[v.Text] || v.Text == m || v.Text == mw.Route()) {
			c.fails = append(c.fails, fmt.Sprintf("worker %s: redirect=%s (%s:%d) names no other member of balancer %s: when %s fails its sessions have nowhere named to go",
				m, v.Text, path, v.Line, lb, m))
		}
		if mw.Type() == "ajp13" && !strings.HasPrefix(strings.ToUpper(activation(mw)), "S") {
			c.targets = append(c.targets, jkTarget(mw))
		}
	}
}

// activation is a mod_jk worker's activation (A, D or S; A by default).
func activation(w *modjk.Worker) string {
	if v, ok := w.Get("activation"); ok && v.Text != "" {
		return v.Text
	}
	return "A"
}

// modProxy reads mod_proxy_balancer's balancers that send to AJP members (mod_proxy_ajp)
// and returns how many there are; their members are tested as mod_jk's workers are.
// Balancers of HTTP members only (mod_proxy_http) are web.upstreams'.
func (c *collected) modProxy(conf *HTTPDConfig) int {
	var pbs []proxyBalancer
	for _, b := range proxyBalancers(conf) {
		if hasScheme(b, "ajp") || !hasScheme(b, "http") { // HTTP-only ones are web.upstreams'
			pbs = append(pbs, b)
		}
	}
	for _, b := range pbs {
		if len(b.members) == 0 {
			c.fails = append(c.fails, fmt.Sprintf("balancer://%s (%s) has no BalancerMember: mod_proxy answers 503", b.name, b.where))
		}
		if b.sticky == "" {
			c.warns = append(c.warns, fmt.Sprintf("balancer://%s (%s) has no stickysession=: a session's requests go to any member, so every request depends on replication having finished",
				b.name, b.where))
		}
		for _, m := range b.members {
			switch {
			case m.err != nil:
				c.fails = append(c.fails, "BalancerMember "+m.err.Error())
				continue
			case m.disabled:
				continue
			case m.route == "" && b.sticky != "":
				c.warns = append(c.warns, fmt.Sprintf("BalancerMember %s (%s) has no route=: mod_proxy_balancer cannot send a session back to it", m.url, m.where))
			}
			if m.scheme != "ajp" {
				continue
			}
			t := target{kind: "BalancerMember", name: m.url, host: m.host, port: m.port, route: m.route, secret: m.secret, ping: m.ping,
				secretAt: "secret= on the BalancerMember at " + m.where, routeAt: "route= on the BalancerMember at " + m.where}
			c.targets = append(c.targets, t)
		}
	}
	return len(pbs)
}

// hasScheme reports whether a balancer has a member of the scheme.
func hasScheme(b proxyBalancer, scheme string) bool {
	for _, m := range b.members {
		if m.scheme == scheme {
			return true
		}
	}
	return false
}

// target is an AJP member as its balancer sees it: a mod_jk worker, or a mod_proxy
// BalancerMember ajp://.
type target struct {
	kind, name string // "worker" and its name, or "BalancerMember" and its URL
	host       string
	port       int
	route      string
	secret     string
	// secretAt and routeAt are where the balancer takes them from, for the fixes
	// ("worker.tomcat1.secret", "secret= on the BalancerMember at FILE:LINE").
	secretAt, secretLine, routeAt string
	ping                          time.Duration
	err                           error // a host or port the balancer cannot use
}

// jkTarget is a mod_jk worker as mod_jk reaches it.
func jkTarget(w *modjk.Worker) target {
	t := target{kind: "worker", name: w.Name, route: w.Route(), ping: time.Duration(w.PingTimeout()) * time.Millisecond,
		secretAt: "worker." + w.Name + ".secret", routeAt: "worker." + w.Name + ".route"}
	t.host, t.port, t.err = w.Address()
	if v, ok := w.Get("secret"); ok {
		t.secret, t.secretLine = v.Text, fmt.Sprintf(" (line %d)", v.Line)
	}
	return t
}

// testWorkers reaches every AJP member as its balancer would: TCP, then a CPing.
func testWorkers(ctx context.Context, env *probes.Env, ts []target, port int, key []byte, given map[netip.Addr]string) []workerResult {
	out := make([]workerResult, len(ts))
	var wg sync.WaitGroup
	for i, t := range ts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = testWorker(ctx, env, t, port, key, given)
		}()
	}
	wg.Wait()
	return out
}

func testWorker(ctx context.Context, env *probes.Env, w target, port int, key []byte, given map[netip.Addr]string) workerResult {
	r := workerResult{Name: w.name, Route: w.route}
	if w.err != nil {
		r.Outcome, r.Problem = "error", fmt.Sprintf("%s %s: %v", w.kind, w.name, w.err)
		return r
	}
	r.Address = fmt.Sprintf("%s:%d", w.host, w.port)
	addr, err := ResolveHost(ctx, env, w.host)
	if err != nil {
		r.Outcome, r.Problem = "unresolved", fmt.Sprintf("%s %s: host %s does not resolve here: %v", w.kind, w.name, w.host, err)
		return r
	}
	to := netip.AddrPortFrom(addr, uint16(w.port))
	r.Address = to.String()
	if w.host != addr.String() {
		r.Address = fmt.Sprintf("%s (%s)", to, w.host)
	}
	tcp := reach.TCP(ctx, to, 2*time.Second)
	r.Outcome = string(tcp.Outcome)
	if tcp.Outcome != reach.Open {
		hint := ""
		if tcp.Outcome == reach.Refused {
			hint = refusedHint(ctx, w, netip.AddrPortFrom(addr, uint16(port)), key)
		}
		r.Problem = fmt.Sprintf("%s %s: TCP to %s %s%s", w.kind, w.name, r.Address, tcp.Text(), hint)
		return r
	}
	timeout := min(w.ping, cpingCap)
	took, err := ajp.CPing(ctx, to, timeout)
	if err != nil {
		r.Outcome, r.Problem = "no-cpong", fmt.Sprintf("%s %s: %s accepts TCP but %v", w.kind, w.name, r.Address, err)
		return r
	}
	r.Outcome, r.CPongMs = "cpong", float64(took.Microseconds())/1000
	if checkSecret(ctx, &r, w, to, timeout); r.Problem != "" || w.route == "" {
		return r // a BalancerMember without route= is named already
	}
	checkRoute(ctx, &r, w, netip.AddrPortFrom(addr, uint16(port)), key, given[addr])
	return r
}

// refusedHint says why a member refuses TCP: from the clusterdoctor on its host (agent or
// mcast-test), which reads the Tomcat's server.xml, where one answers; else what it
// usually is.
func refusedHint(ctx context.Context, w target, at netip.AddrPort, key []byte) string {
	const usual = ": Tomcat is not running there, or its AJP connector listens on another address (on loopback by default since 9.0.31, 8.5.51 and 7.0.100: set address= on the <Connector>)"
	if at.Port() == 0 {
		return usual
	}
	in, err := mcast.AskSettings(ctx, at, key, 1500*time.Millisecond)
	switch {
	case err != nil:
		return usual
	case in.Tomcat == "":
		return ": the clusterdoctor at " + at.Addr().String() + " finds no Tomcat there"
	}
	var others []string
	for _, a := range in.AJP {
		host, port, err := net.SplitHostPort(a)
		if err != nil || port != strconv.Itoa(w.port) {
			others = append(others, a)
			continue
		}
		if ip, err := netip.ParseAddr(host); host == "localhost" || (err == nil && ip.IsLoopback()) {
			return fmt.Sprintf(": the clusterdoctor there says Tomcat %s's AJP connector listens on %s, loopback only (set address= on the <Connector> to this host's cluster address, %s)",
				in.Tomcat, a, at.Addr())
		}
		return fmt.Sprintf(": the clusterdoctor there says Tomcat %s's AJP connector is configured on %s: Tomcat is not running, or did not start that connector (its log says why)", in.Tomcat, a)
	}
	if len(others) == 0 {
		return ": the clusterdoctor there says Tomcat " + in.Tomcat + " has no AJP connector (a <Connector protocol=\"AJP/1.3\"> in server.xml)"
	}
	return fmt.Sprintf(": the clusterdoctor there says Tomcat %s's AJP connectors are on %s, not port %d", in.Tomcat, strings.Join(others, ", "), w.port)
}

// secretCheckURI is what the secret check asks for: a path no application serves, so a
// connector that accepts the secret answers 404 without running anything.
const secretCheckURI = "/clusterdoctor-ajp-secret-check"

// checkSecret sends a forward request as the balancer would, with the member's secret: a
// CPing carries no secret, so only a request shows whether the connector accepts it.
// Tomcat answers 403 before any application sees a request whose secret differs from its
// connector's (or that has none when the connector requires one).
func checkSecret(ctx context.Context, r *workerResult, w target, to netip.AddrPort, timeout time.Duration) {
	resp, err := ajp.Do(ctx, to, ajp.Request{Method: "HEAD", URI: secretCheckURI, Host: w.host, Port: 80, Secret: w.secret}, timeout)
	if err != nil {
		r.Forward = err.Error()
		return
	}
	r.Forward = fmt.Sprintf("%d %s", resp.Status, resp.Message)
	if resp.Status != 403 {
		return
	}
	r.Outcome = "secret-refused"
	if w.secret == "" {
		r.Problem = fmt.Sprintf("%s %s sends no secret, and the AJP connector at %s refuses requests without its secret (403): every request through it fails (set %s to the connector's secret=)",
			w.kind, w.name, r.Address, w.secretAt)
		return
	}
	r.Problem = fmt.Sprintf("%s %s's secret%s is not the AJP connector's at %s: it refuses the %s's requests with 403 (make %s equal to secret= on the <Connector>)",
		w.kind, w.name, w.secretLine, r.Address, w.kind, w.secretAt)
}

// given resolves the operator's --route hosts to addresses.
func (p Workers) given(ctx context.Context, env *probes.Env) map[netip.Addr]string {
	out := map[netip.Addr]string{}
	for route, host := range p.Routes {
		if a, err := ResolveHost(ctx, env, host); err == nil {
			out[a] = route
		}
	}
	return out
}

// checkRoute asks the Tomcat host's clusterdoctor for its jvmRoute and compares it with
// the route the balancer expects: a difference breaks sticky sessions.
func checkRoute(ctx context.Context, r *workerResult, w target, at netip.AddrPort, key []byte, given string) {
	var in mcast.Info
	err := errors.New("no membership port to ask on")
	if at.Port() != 0 {
		in, err = mcast.AskSettings(ctx, at, key, 1500*time.Millisecond)
	}
	source := "has"
	if err != nil && given != "" {
		in, err, source = mcast.Info{JvmRoute: given, Tomcat: "(--route)"}, nil, "has (as --route gives it)"
	}
	switch {
	case err != nil:
		r.RouteNote = err.Error() + "; or give it: --route JVMROUTE=" + at.Addr().String()
	case in.JvmRoute == "" && in.Tomcat == "":
		r.RouteNote = "the clusterdoctor at " + at.String() + " found no Tomcat there"
	case in.JvmRoute == "":
		r.JvmRoute = "(none)"
		r.Problem = fmt.Sprintf("%s %s expects route %q, but the Tomcat at %s has no jvmRoute: its sessions carry no route and stickiness cannot work (set jvmRoute=%q on its <Engine>)",
			w.kind, r.Name, r.Route, at.Addr(), r.Route)
	default:
		r.JvmRoute = in.JvmRoute
		if in.JvmRoute != r.Route {
			r.Problem = fmt.Sprintf("%s %s expects route %q, but the Tomcat at %s %s jvmRoute %q: sticky sessions break and requests bounce between the nodes (set jvmRoute=%q on its <Engine>, or %s=%s)",
				w.kind, r.Name, r.Route, at.Addr(), source, in.JvmRoute, r.Route, w.routeAt, in.JvmRoute)
		}
	}
}

// ResolveHost is an address as written, or a name resolved the way this host resolves it.
func ResolveHost(ctx context.Context, env *probes.Env, host string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return a, nil
	}
	r, err := resolve.New(env)
	if err != nil {
		return netip.Addr{}, err
	}
	ans, err := r.Lookup(ctx, host)
	if err != nil {
		return netip.Addr{}, err
	}
	return ans.First(), nil
}

// configFirst orders a web-tier check's findings so that what the configuration says leads
// and what reaching the members found follows: the configuration's failures, then its
// warnings, then the members' failures and warnings. lead is the first; a member that does
// not answer never buries a configuration finding.
func configFirst(configFails, configWarns, memberFails, memberWarns []string) (lead string, rest []string) {
	all := slices.Concat(configFails, configWarns, memberFails, memberWarns)
	if len(all) == 0 {
		return "", nil
	}
	return all[0], all[1:]
}
