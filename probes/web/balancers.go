package web

import (
	"bytes"
	"net"
	"strconv"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/modjk"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Balancer is one balancer of this host's web server, with the members it sends
// requests to: a mod_jk lb worker, or an nginx upstream block behind proxy_pass.
type Balancer struct {
	Name   string `json:"name"`
	Server string `json:"server"` // "mod_jk" or "nginx"
	Where  string `json:"where"`  // FILE:LINE
	// Mounts are the URL patterns mod_jk sends to it (JkMount, JkMountFile); nginx's
	// locations are not matched, so an upstream has none.
	Mounts  []string `json:"mounts,omitempty"`
	Members []Member `json:"members"`
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
	return append(jkBalancers(env), nginxBalancers(env)...)
}

func jkBalancers(env *probes.Env) []Balancer {
	conf := LoadHTTPD(env)
	if conf == nil {
		return nil
	}
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
		bal := Balancer{Name: n, Server: "mod_jk", Where: path}
		if v, ok := w.Get("balance_workers"); ok {
			bal.Where = path + ":" + strconv.Itoa(v.Line)
		}
		for _, m := range ms {
			if m.worker == n {
				bal.Mounts = append(bal.Mounts, m.path)
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
	var out []Balancer
	for _, u := range ups {
		if !proxied[u.name] {
			continue
		}
		bal := Balancer{Name: u.name, Server: "nginx", Where: u.where}
		for _, s := range u.servers {
			host, port := s.addr, 80
			if h, ps, err := net.SplitHostPort(s.addr); err == nil {
				n, err := strconv.Atoi(ps)
				if err != nil || n < 1 || n > 65535 {
					continue
				}
				host, port = h, n
			}
			bal.Members = append(bal.Members, Member{Name: s.addr, Scheme: "http", Host: host, Port: port, Where: s.where, Disabled: s.down})
		}
		out = append(out, bal)
	}
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
