package replication

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes/web"
)

// fakeCluster stands in for Tomcats behind a balancer, on loopback, for the test's logic
// only (the real Tomcats, httpd and nginx are tested in cmd/clusterdoctor): each node
// keeps sessions by id base and answers a cookie it knows without a Set-Cookie, and a
// node copies a new session to the nodes it replicates to.
type fakeCluster struct {
	mu        sync.Mutex
	routes    []string
	sessions  []map[string]bool
	replicate map[[2]int]bool // from, to
	noSession bool
	nodes     []*httptest.Server
	next      int
}

func newFakeCluster(t *testing.T, routes ...string) *fakeCluster {
	c := &fakeCluster{routes: routes, replicate: map[[2]int]bool{}}
	for i := range routes {
		c.sessions = append(c.sessions, map[string]bool{})
		for j := range routes {
			if i != j {
				c.replicate[[2]int{i, j}] = true
			}
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { c.serve(i, w, r) }))
		t.Cleanup(srv.Close)
		c.nodes = append(c.nodes, srv)
	}
	return c
}

func (c *fakeCluster) serve(i int, w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.noSession {
		fmt.Fprintln(w, "hello")
		return
	}
	if ck, err := r.Cookie("JSESSIONID"); err == nil {
		if base, _ := split(ck.Value); c.sessions[i][base] {
			fmt.Fprintln(w, "known")
			return
		}
	}
	c.next++
	base := fmt.Sprintf("%032X", c.next)
	c.sessions[i][base] = true
	for j := range c.routes {
		if c.replicate[[2]int{i, j}] {
			c.sessions[j][base] = true
		}
	}
	http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: base + "." + c.routes[i], Path: "/", HttpOnly: true})
	fmt.Fprintln(w, "new")
}

// balancer routes by the session's route when sticky, else round robin; pin sends every
// request to one node.
func (c *fakeCluster) balancer(t *testing.T, sticky bool, pin int) *url.URL {
	rr := 0
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		i := rr % len(c.routes)
		rr++
		mu.Unlock()
		if ck, err := r.Cookie("JSESSIONID"); err == nil && sticky {
			_, route := split(ck.Value)
			for k, name := range c.routes {
				if name == route {
					i = k
				}
			}
		}
		if pin >= 0 {
			i = pin
		}
		c.serve(i, w, r)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL + "/app/")
	return u
}

func (c *fakeCluster) members() []web.Member {
	var out []web.Member
	for i, srv := range c.nodes {
		u, _ := url.Parse(srv.URL)
		port, _ := strconv.Atoi(u.Port())
		out = append(out, web.Member{Name: c.routes[i], Scheme: "http", Host: u.Hostname(), Port: port})
	}
	return out
}

func run(t *testing.T, u *url.URL, members []web.Member) *Report {
	t.Helper()
	rep, err := Run(context.Background(), Config{URL: u, Cookie: "JSESSIONID", Members: members, Wait: 300 * time.Millisecond, Timeout: time.Second,
		Resolve: func(_ context.Context, h string) (netip.Addr, error) { return netip.ParseAddr(h) }})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep
}

func verdicts(rep *Report) string {
	var out []string
	for _, p := range rep.Pairs {
		out = append(out, p.From+">"+p.To+"="+p.Verdict)
	}
	for _, s := range rep.Stickiness {
		out = append(out, s.Member+"="+s.Verdict)
	}
	return strings.Join(out, " ")
}

func TestHealthy(t *testing.T) {
	c := newFakeCluster(t, "t1", "t2", "t3")
	rep := run(t, c.balancer(t, true, -1), c.members())
	want := "t1>t2=replicated t1>t3=replicated t2>t1=replicated t2>t3=replicated t3>t1=replicated t3>t2=replicated t1=sticky t2=sticky t3=sticky"
	if got := verdicts(rep); got != want || !rep.OK() {
		t.Errorf("verdicts = %s (ok %v, problems %q); want %s", got, rep.OK(), rep.Problems, want)
	}
	for _, p := range rep.Pairs {
		if p.MadeVia != "balancer" || p.Attempts != 1 {
			t.Errorf("%s>%s: made via %s, %d attempts; want balancer, 1", p.From, p.To, p.MadeVia, p.Attempts)
		}
	}
	for _, m := range rep.Members {
		if m.JvmRoute != m.Name {
			t.Errorf("member %s: jvmRoute %q learned", m.Name, m.JvmRoute)
		}
	}
}

// TestOneDirection: replication from t1 to t2 broken; the other direction works.
func TestOneDirection(t *testing.T) {
	c := newFakeCluster(t, "t1", "t2")
	delete(c.replicate, [2]int{0, 1})
	start := time.Now()
	rep := run(t, c.balancer(t, true, -1), c.members())
	if got, want := verdicts(rep), "t1>t2=not-replicated t2>t1=replicated t1=sticky t2=sticky"; got != want || rep.OK() {
		t.Errorf("verdicts = %s (ok %v); want %s, not ok", got, rep.OK(), want)
	}
	p := rep.Pairs[0]
	if !strings.Contains(p.Reason, "t2 has no replica of t1's session") || p.Attempts < 3 || p.Attempts > 8 {
		t.Errorf("t1>t2: %d attempts, %q; want 3-8 attempts and the reason", p.Attempts, p.Reason)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("gave up after %s; want --wait (300ms) at least", took)
	}
}

func TestNotSticky(t *testing.T) {
	c := newFakeCluster(t, "t1", "t2")
	rep := run(t, c.balancer(t, false, -1), c.members())
	if got := verdicts(rep); !strings.Contains(got, "=not-sticky") || rep.OK() {
		t.Errorf("verdicts = %s; want a not-sticky member", got)
	}
}

// TestPinned: a balancer that sends this client to one node (ip_hash): the other node's
// sessions are made on it directly, and its stickiness is not tested.
func TestPinned(t *testing.T) {
	c := newFakeCluster(t, "t1", "t2")
	rep := run(t, c.balancer(t, false, 0), c.members())
	if got, want := verdicts(rep), "t1>t2=replicated t2>t1=replicated t1=sticky t2=not-tested"; got != want || !rep.OK() {
		t.Errorf("verdicts = %s (ok %v, %q); want %s, ok", got, rep.OK(), rep.Problems, want)
	}
	if rep.Pairs[1].MadeVia != "direct" {
		t.Errorf("t2>t1 made via %s; want direct", rep.Pairs[1].MadeVia)
	}
}

func TestMemberDown(t *testing.T) {
	c := newFakeCluster(t, "t1", "t2")
	u := c.balancer(t, false, 0)
	ms := c.members()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	ms[1].Port = l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	rep := run(t, u, ms)
	if rep.OK() || rep.Pairs[0].Verdict != NotTested || !strings.Contains(rep.Pairs[0].Reason, "refused") {
		t.Errorf("pairs %+v; want not-tested naming the refusal", rep.Pairs)
	}
}

func TestNoSession(t *testing.T) {
	c := newFakeCluster(t, "t1", "t2")
	c.noSession = true
	_, err := Run(context.Background(), Config{URL: c.balancer(t, true, -1), Cookie: "JSESSIONID", Members: c.members(), Wait: time.Second, Timeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "the page makes no session") {
		t.Errorf("Run = %v; want the page makes no session", err)
	}
}

// TestHTTPS: a web tier with a certificate of its own making is refused, naming the
// certificate, unless Insecure (--insecure) accepts it.
func TestHTTPS(t *testing.T) {
	c := newFakeCluster(t, "t1", "t2")
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { c.serve(0, w, r) }))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL + "/")
	cfg := Config{URL: u, Cookie: "JSESSIONID", Members: c.members(), Wait: 200 * time.Millisecond, Timeout: time.Second,
		Resolve: func(_ context.Context, h string) (netip.Addr, error) { return netip.ParseAddr(h) }}
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Run over https with an unknown certificate = %v; want an error naming the certificate", err)
	}
	cfg.Insecure = true
	if rep, err := Run(context.Background(), cfg); err != nil || len(rep.Pairs) != 2 {
		t.Errorf("Run with Insecure = %v, %+v; want it to run", err, rep)
	}
}

// haproxyLike stands in for HAProxy in front of the fake cluster: with prefix it routes by
// the "tN~" before the session id, strips it for the node and puts it before the ids the
// node sets; else by its own SERVERID cookie, which it inserts. Without either: round robin.
func (c *fakeCluster) haproxyLike(t *testing.T, prefix bool) *url.URL {
	rr := 0
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		i := rr % len(c.routes)
		rr++
		mu.Unlock()
		chosen := false
		if ck, err := r.Cookie("JSESSIONID"); err == nil && prefix {
			if p, rest, ok := strings.Cut(ck.Value, "~"); ok {
				i, _ = strconv.Atoi(strings.TrimPrefix(p, "s"))
				r.Header.Set("Cookie", "JSESSIONID="+rest)
			}
		}
		if ck, err := r.Cookie("SERVERID"); err == nil && !prefix {
			i, _ = strconv.Atoi(strings.TrimPrefix(ck.Value, "s"))
			chosen = true
		}
		rec := httptest.NewRecorder()
		c.serve(i, rec, r)
		for _, line := range rec.Header().Values("Set-Cookie") {
			if prefix {
				line = strings.Replace(line, "JSESSIONID=", fmt.Sprintf("JSESSIONID=s%d~", i), 1)
			}
			w.Header().Add("Set-Cookie", line)
		}
		if !prefix && !chosen {
			http.SetCookie(w, &http.Cookie{Name: "SERVERID", Value: fmt.Sprintf("s%d", i), Path: "/"})
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL + "/app/")
	return u
}

// TestHAProxyCookies: behind a balancer that sticks by its own cookie or by a prefix on
// the session id, the test carries the cookie and strips the prefix as a browser and
// HAProxy do; without, the same balancer is not sticky for it.
func TestHAProxyCookies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		prefix bool
		sticky web.Sticky
		ok     bool
	}{
		{"insert, carried", false, web.Sticky{Cookie: "SERVERID"}, true},
		{"prefix, stripped", true, web.Sticky{Prefix: true}, true},
		{"insert, not carried", false, web.Sticky{}, false},
		{"prefix, left on", true, web.Sticky{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeCluster(t, "t1", "t2")
			rep, err := Run(context.Background(), Config{URL: c.haproxyLike(t, tc.prefix), Cookie: "JSESSIONID", Members: c.members(), Wait: 300 * time.Millisecond,
				Timeout: time.Second, Sticky: tc.sticky, Resolve: func(_ context.Context, h string) (netip.Addr, error) { return netip.ParseAddr(h) }})
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() != tc.ok {
				t.Errorf("ok = %v (%s, problems %q); want %v", rep.OK(), verdicts(rep), rep.Problems, tc.ok)
			}
		})
	}
}
