package web

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/haproxy"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// haproxyMain is where Debian and RHEL keep HAProxy's configuration.
const haproxyMain = "/etc/haproxy/haproxy.cfg"

// sessionCookie is the cookie Tomcat keeps its session id in (unless a context's
// sessionCookieName says otherwise).
const sessionCookie = "JSESSIONID"

// haproxyConfig is HAProxy's configuration as one process reads it: every -f file (a
// directory: its *.cfg files in lexical order), sections in reading order.
type haproxyConfig struct {
	cfg *haproxy.File
	// pid is the running haproxy that reads it (0: none runs); env reads its files.
	pid int
	env *probes.Env
	// files are the sections' files, by section.
	files    map[*haproxy.Section]string
	problems []string
}

// loadHAProxy reads the configuration of every haproxy running in this network namespace
// as its command line names it (-f FILE|DIR, repeatable), else /etc/haproxy/haproxy.cfg.
func loadHAProxy(env *probes.Env) []*haproxyConfig {
	var out []*haproxyConfig
	seen := map[string]bool{}
	for _, p := range runningServers(env) {
		if p.kind != "haproxy" {
			continue
		}
		paths := options(p.args, "f")['f'] // every -f, in order: haproxy reads them all
		if len(paths) == 0 {
			paths = []string{haproxyMain}
		}
		key := strings.Join(paths, "\x00")
		if seen[key] {
			continue
		}
		seen[key] = true
		c := readHAProxy(viewOf(env, p.pid), paths)
		c.pid = p.pid
		out = append(out, c)
	}
	if len(out) == 0 && len(env.WebConfigs) == 0 {
		if _, err := env.ReadFile(haproxyMain, haproxy.MaxSize); err == nil {
			out = append(out, readHAProxy(env, []string{haproxyMain}))
		}
	}
	return out
}

// readHAProxy reads the files in order; a directory gives its *.cfg files.
func readHAProxy(env *probes.Env, paths []string) *haproxyConfig {
	c := &haproxyConfig{cfg: &haproxy.File{}, files: map[*haproxy.Section]string{}, env: env}
	for _, p := range paths {
		files := []string{p}
		if isDir(env.Path(p)) {
			matches, _ := filepath.Glob(filepath.Join(env.Path(p), "*.cfg"))
			sort.Strings(matches)
			files = files[:0]
			for _, m := range matches {
				files = append(files, hostPath(env, m))
			}
		}
		for _, file := range files {
			b, err := env.ReadFile(file, haproxy.MaxSize)
			if err != nil {
				c.problems = append(c.problems, fmt.Sprintf("%s: %v", file, err))
				continue
			}
			f, err := haproxy.Parse(bytes.NewReader(b))
			if err != nil {
				c.problems = append(c.problems, fmt.Sprintf("%s: %v (haproxy -c refuses it)", file, err))
				continue
			}
			for _, s := range f.Sections {
				c.files[s] = file
			}
			c.cfg.Sections = append(c.cfg.Sections, f.Sections...)
		}
	}
	return c
}

func (c *haproxyConfig) where(s *haproxy.Section, line int) string {
	return fmt.Sprintf("%s:%d", c.files[s], line)
}

// proxies are the backends a frontend sends to (default_backend, use_backend) and the
// listen sections with servers: what HAProxy balances.
func (c *haproxyConfig) proxies() []*haproxy.Section {
	used := map[string]bool{}
	for _, fe := range append(c.cfg.Of("frontend"), c.cfg.Of("listen")...) {
		for _, kw := range []string{"default_backend", "use_backend"} {
			for _, l := range fe.All(kw) {
				if args := l.Args(); len(args) > 0 {
					used[args[0]] = true
				}
			}
		}
	}
	var out []*haproxy.Section
	for _, s := range c.cfg.Sections {
		switch {
		case s.Kind == "backend" && used[s.Name]:
			out = append(out, s)
		case s.Kind == "listen" && len(s.All("server")) > 0:
			out = append(out, s)
		}
	}
	return out
}

// setting is a proxy's line for keyword kw, else its defaults section's.
func (c *haproxyConfig) setting(p *haproxy.Section, kw string) (haproxy.Line, *haproxy.Section, bool) {
	if l, ok := p.Last(kw); ok {
		return l, p, true
	}
	if d := c.cfg.DefaultsFor(p); d != nil {
		if l, ok := d.Last(kw); ok {
			return l, d, true
		}
	}
	return haproxy.Line{}, nil, false
}

// haproxyUpstreams are the balanced proxies as upstreams, their stickiness judged as
// HAProxy keeps a session on a server:
//   - cookie NAME insert|rewrite, or prefix on Tomcat's own session cookie, with a cookie
//     value on every server; stick on (or match) the session cookie; balance url_param
//     or hdr on the session: sticky;
//   - balance source: sticky by client address, which breaks behind NAT (warn);
//   - round robin and the other methods without any of these (warn);
//   - appsession, removed in HAProxy 1.6; a server without a cookie value in a cookie-sticky
//     backend; prefix on a cookie Tomcat does not set (fail).
func (c *haproxyConfig) upstreams() []upstream {
	var out []upstream
	for _, p := range c.proxies() {
		u := upstream{name: p.Kind + " " + p.Name, where: c.where(p, p.Line), method: "roundrobin (the default)"}
		for _, l := range p.All("server") {
			args := l.Args()
			if len(args) < 2 {
				continue
			}
			s := upstreamServer{addr: args[1], where: c.where(p, l.Line)}
			for i, a := range args[2:] {
				switch a {
				case "disabled":
					s.down = true
				case "cookie":
					if i+3 < len(args) {
						s.cookie = args[i+3]
					}
				}
			}
			s.name, s.runtimeKey = args[0], p.Name+"/"+args[0]
			u.servers = append(u.servers, s)
		}
		c.judge(p, &u)
		out = append(out, u)
	}
	return out
}

// judge sets the upstream's method and, where it is not sticky, why.
func (c *haproxyConfig) judge(p *haproxy.Section, u *upstream) {
	if l, ok := p.Last("appsession"); ok {
		u.fail = fmt.Sprintf("%s: appsession (%s) was removed in HAProxy 1.6: haproxy refuses the configuration (use cookie %s prefix, or stick on req.cook(%s))",
			u.name, c.where(p, l.Line), sessionCookie, sessionCookie)
		return
	}
	if bal, _, ok := c.setting(p, "balance"); ok && len(bal.Args()) > 0 {
		u.method = strings.Join(bal.Args(), " ")
	}
	mode := "http"
	if l, _, ok := c.setting(p, "mode"); ok && len(l.Args()) > 0 {
		mode = strings.ToLower(l.Args()[0])
	}
	if cookie, from, ok := c.setting(p, "cookie"); ok && mode == "http" && len(cookie.Args()) > 0 {
		name, kind := cookie.Args()[0], "rewrite"
		for _, a := range cookie.Args()[1:] {
			switch a {
			case "insert", "prefix", "rewrite":
				kind = a
			}
		}
		u.method = fmt.Sprintf("cookie %s %s", name, kind)
		where := c.where(from, cookie.Line)
		if kind == "prefix" && !strings.EqualFold(name, sessionCookie) {
			u.fail = fmt.Sprintf("%s: cookie %s prefix (%s): Tomcat sets no %s cookie for HAProxy to prefix, so no session sticks to its server (cookie %s prefix, or cookie SERVERID insert)",
				u.name, name, where, name, sessionCookie)
			return
		}
		var bare []string
		for _, s := range u.servers {
			if s.cookie == "" && !s.down {
				bare = append(bare, s.name)
			}
		}
		if len(bare) > 0 {
			u.fail = fmt.Sprintf("%s: cookie %s %s (%s), but server %s has no cookie value: HAProxy keeps no session on it (add cookie VALUE to each server line)",
				u.name, name, kind, where, strings.Join(bare, ", "))
			return
		}
		u.sticky = true
		return
	}
	for _, kw := range []string{"stick", "stick-store"} {
		for _, l := range p.All(kw) {
			if args := l.Args(); len(args) >= 2 && (args[0] == "on" || args[0] == "match") && namesSession(args[1]) {
				u.method, u.sticky = "stick "+args[0]+" "+args[1], true
				return
			}
		}
	}
	switch alg := strings.Fields(u.method); {
	case len(alg) == 0:
	case alg[0] == "url_param" && len(alg) > 1 && namesSession(alg[1]):
		u.sticky = true
	case strings.HasPrefix(alg[0], "hdr(") && strings.Contains(strings.ToLower(alg[0]), "cookie"):
		u.sticky = true
	case alg[0] == "source":
		u.warn = fmt.Sprintf("%s (%s) balances by source: a session sticks to its client's address, so every client behind one NAT or proxy lands on one node, and a client whose address changes loses its node (cookie SERVERID insert, or stick on req.cook(%s), sticks by the session)",
			u.name, u.where, sessionCookie)
	}
	if !u.sticky && u.warn == "" {
		u.warn = fmt.Sprintf("%s (%s) balances by %s with no cookie or stick table: a session's requests go to every server in turn, each one depending on replication having finished (cookie SERVERID insert indirect nocache with cookie VALUE on each server, or stick on req.cook(%s), keeps a session on its node)",
			u.name, u.where, u.method, sessionCookie)
	}
}

// namesSession reports whether a sample or parameter names Tomcat's session cookie:
// req.cook(JSESSIONID), cookie(JSESSIONID), jsessionid.
func namesSession(s string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sessionCookie))
}

// haproxyProblems are the configurations that could not be read.
func haproxyProblems(cs []*haproxyConfig) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.problems...)
	}
	return out
}
