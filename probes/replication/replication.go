// Package replication proves that a Tomcat cluster replicates sessions, through the web
// tier and without stopping anything. A session is made through the balancer on one
// member (X); its cookie, unchanged, is then given to every other member (Y) directly, on
// the path the balancer itself uses (AJP13 forward requests for mod_jk's workers, HTTP for
// nginx's upstream servers). Y answers within the same session when it holds a replica
// (the JvmRouteBinderValve, where configured, only rewrites the route after the dot), and
// makes a new session when it does not. A fresh session serves each ordered pair, so every
// direction is tested. Then sessions' cookies go through the balancer again, to show that
// a session sticks to the node its route names.
//
// Sending the session to Y through the balancer with Y's route instead would not work:
// Tomcat looks a session up by its whole id, which still carries X's route, and starts a
// new one even in a healthy cluster.
package replication

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes/web"
)

// Config is one session test.
type Config struct {
	// URL is a page through the web tier that makes a session (a login page, the seeds'
	// counter JSP).
	URL *url.URL
	// Cookie is the session cookie's name (JSESSIONID unless the context renames it).
	Cookie string
	// Members are the balancer's members, reached directly; Out those its configuration
	// sends nothing, whose directions are named as not tested.
	Members []web.Member
	Out     []web.Member
	// Wait is how long a replica may take to show on a member (replication is
	// asynchronous with channelSendOptions="8").
	Wait time.Duration
	// Timeout bounds each request.
	Timeout time.Duration
	// Insecure accepts any certificate from an https:// URL (a web tier with a
	// certificate of its own making).
	Insecure bool
	// Resolve turns a member's host into an address, as this host resolves names.
	Resolve func(ctx context.Context, host string) (netip.Addr, error)
	// Container names the container behind a member's address ("" for none; nil: not
	// asked).
	Container func(ctx context.Context, to netip.AddrPort) string
	// Sticky is how the balancer keeps a session on its node where that is not by the
	// session id's route: the test then carries HAProxy's cookie, or takes its prefix off
	// the session id before asking a member directly, as a browser and HAProxy do.
	Sticky web.Sticky
}

// Bounds: members tested, and requests through the balancer per route probed.
const (
	MaxMembers  = 16
	stickyTries = 2
	firstRetry  = 25 * time.Millisecond
)

// Verdicts.
const (
	Replicated    = "replicated"
	NotReplicated = "not-replicated"
	NotTested     = "not-tested"
	Sticky        = "sticky"
	NotSticky     = "not-sticky"
)

// Report is the test's outcome; its JSON is part of the API.
type Report struct {
	SchemaVersion int          `json:"schemaVersion"`
	Tool          string       `json:"tool"`
	Mode          string       `json:"mode"`
	Host          string       `json:"host"`
	URL           string       `json:"url"`
	Cookie        string       `json:"cookie"`
	StartedAt     time.Time    `json:"startedAt"`
	DurationMs    int64        `json:"durationMs"`
	WaitMs        int64        `json:"waitMs"`
	Members       []Member     `json:"members"`
	Pairs         []Pair       `json:"pairs"`
	Stickiness    []Stickiness `json:"stickiness"`
	// Requests counts every request sent, through the balancer and directly; each may
	// have made a session.
	Requests int      `json:"requests"`
	Problems []string `json:"problems,omitempty"`
	// Untested are the directions to and from the members the balancer sends nothing
	// (taken out of it by its operator): not a fault, but not proven either.
	Untested []Pair `json:"untested,omitempty"`
}

// Member is one member of the balancer as the test found it.
type Member struct {
	Name    string `json:"name"`
	Scheme  string `json:"scheme"`
	Address string `json:"address"`
	// Route is what the balancer expects after the dot (mod_jk); JvmRoute is what the
	// member's Tomcat puts there, read off a session it made.
	Route    string `json:"route,omitempty"`
	JvmRoute string `json:"jvmRoute,omitempty"`
	Where    string `json:"where,omitempty"`
	// Container names the container behind a port this host publishes ("podman container
	// tc1"), where the member is one.
	Container string `json:"container,omitempty"`
	Error     string `json:"error,omitempty"`

	node node
}

// Pair is one direction: a session made on From, looked up on To.
type Pair struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Session string `json:"session,omitempty"`
	// MadeVia says how the session was made on From: "balancer", or "direct" where the
	// balancer sent this client's new sessions elsewhere.
	MadeVia string `json:"madeVia,omitempty"`
	Verdict string `json:"verdict"`
	// SeenMs is the time from the session's making to the answer from To that had it.
	SeenMs   float64 `json:"seenMs,omitempty"`
	Attempts int     `json:"attempts"`
	Reason   string  `json:"reason,omitempty"`
}

// Stickiness is where the balancer sent requests whose session names one member.
type Stickiness struct {
	Member string `json:"member"`
	Route  string `json:"route"`
	// Landed names, per request, the member that answered ("kept": the session's own
	// cookie was answered within the session, so by a node that has it).
	Landed  []string `json:"landed"`
	Verdict string   `json:"verdict"`
	Reason  string   `json:"reason,omitempty"`
}

// OK is true when every pair replicates, sessions stick, and nothing else is wrong.
func (r *Report) OK() bool {
	if len(r.Problems) > 0 || len(r.Pairs) == 0 {
		return false
	}
	for _, p := range r.Pairs {
		if p.Verdict != Replicated {
			return false
		}
	}
	for _, s := range r.Stickiness {
		if s.Verdict == NotSticky {
			return false
		}
	}
	return true
}

// session is one session made for the test.
type session struct {
	id   string
	made time.Time
	via  string
	// carry is the balancer's own cookie (Config.Sticky.Cookie) as it set it with the
	// session: a browser sends it back with every request.
	carry string
}

type tester struct {
	cfg      Config
	rep      *Report
	balancer node
	mu       sync.Mutex // guards rep.Requests and rep.Problems from the pairs' goroutines
}

// Run runs the test. An error means it could not run: the URL is not reached, or the page
// makes no session.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if len(cfg.Members) < 2 {
		return nil, fmt.Errorf("%d members: replication needs at least two", len(cfg.Members))
	}
	if len(cfg.Members) > MaxMembers {
		return nil, fmt.Errorf("%d members: at most %d are tested", len(cfg.Members), MaxMembers)
	}
	start := time.Now()
	rep := &Report{SchemaVersion: 1, Tool: "clusterdoctor", Mode: "session-test", URL: cfg.URL.String(), Cookie: cfg.Cookie,
		StartedAt: start.UTC().Truncate(time.Millisecond), WaitMs: cfg.Wait.Milliseconds()}
	client := newHTTPClient(cfg.Timeout, cfg.Insecure)
	t := &tester{cfg: cfg, rep: rep,
		balancer: &httpNode{target: cfg.URL, host: cfg.URL.Host, name: cfg.Cookie, client: client, timeout: cfg.Timeout}}

	// A member that answers with an error (a refused secret, a failing application) may
	// be the one the balancer chose first: ask as many times as there are members.
	var first session
	var err error
	for range len(cfg.Members) {
		if first, err = t.makeSession(ctx, t.balancer, "through the balancer"); err == nil || !errors.Is(err, errNoSession) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	t.members(ctx, client)
	pools, sticky := t.viaBalancer(ctx, first)
	t.pairs(ctx, pools)
	t.stickiness(ctx, sticky)
	for _, o := range cfg.Out {
		why := fmt.Sprintf("%s is out of the balancer (%s): no session reaches it through the balancer", o.Name, o.Where)
		for _, m := range cfg.Members {
			rep.Untested = append(rep.Untested, Pair{From: m.Name, To: o.Name, Verdict: NotTested, Reason: why},
				Pair{From: o.Name, To: m.Name, Verdict: NotTested, Reason: why})
		}
	}
	rep.DurationMs = time.Since(start).Milliseconds()
	return rep, nil
}

// get sends one request and counts it; extra are more cookies (NAME=VALUE) for it.
func (t *tester) get(ctx context.Context, n node, cookie string, extra ...string) (answer, error) {
	t.mu.Lock()
	t.rep.Requests++
	t.mu.Unlock()
	return n.get(ctx, cookie, extra...)
}

func (t *tester) problem(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rep.Problems = append(t.rep.Problems, fmt.Sprintf(format, args...))
}

// makeSession asks a node for the page without a cookie: it must make a session.
func (t *tester) makeSession(ctx context.Context, n node, how string) (session, error) {
	a, err := t.get(ctx, n, "")
	if err != nil {
		return session{}, fmt.Errorf("GET %s %s: %w", t.cfg.URL, how, err)
	}
	switch {
	case a.session == "" && a.status >= 400:
		hint := ""
		if _, direct := n.(*ajpNode); direct && a.status == 403 {
			hint = secretHint
		}
		return session{}, fmt.Errorf("GET %s %s answered %s%s: %w", t.cfg.URL, how, a.statusText(), hint, errNoSession)
	case a.session == "":
		return session{}, fmt.Errorf("GET %s %s answered %s without a %s cookie: the page makes no session (give a page that does, such as a login page or a JSP, which makes one unless it says session=\"false\")",
			t.cfg.URL, how, a.statusText(), t.cfg.Cookie)
	}
	return session{id: a.session, made: time.Now(), carry: a.cookies[t.cfg.Sticky.Cookie]}, nil
}

// plain is the session id as Tomcat knows it: without the server's prefix HAProxy puts
// before it (cookie JSESSIONID prefix: "t1~ABC.tomcat1" is "ABC.tomcat1").
func (t *tester) plain(id string) string {
	if t.cfg.Sticky.Prefix {
		if _, rest, ok := strings.Cut(id, "~"); ok {
			return rest
		}
	}
	return id
}

// carried is the balancer's own cookie for a session, as a request sends it ("" for none).
func (t *tester) carried(s *session) string {
	if t.cfg.Sticky.Cookie == "" || s.carry == "" {
		return ""
	}
	return t.cfg.Sticky.Cookie + "=" + s.carry
}

// members resolves every member and learns its Tomcat's jvmRoute from a session it makes
// when asked directly.
func (t *tester) members(ctx context.Context, client *http.Client) {
	t.rep.Members = make([]Member, len(t.cfg.Members))
	var wg sync.WaitGroup
	for i, wm := range t.cfg.Members {
		m := &t.rep.Members[i]
		*m = Member{Name: wm.Name, Scheme: wm.Scheme, Address: fmt.Sprintf("%s:%d", wm.Host, wm.Port), Route: wm.Route, Where: wm.Where}
		wg.Add(1)
		go func() {
			defer wg.Done()
			addr, err := t.cfg.Resolve(ctx, wm.Host)
			if err != nil {
				m.Error = fmt.Sprintf("%s does not resolve here: %v", wm.Host, err)
				return
			}
			to := netip.AddrPortFrom(addr, uint16(wm.Port))
			if t.cfg.Container != nil {
				m.Container = t.cfg.Container(ctx, to)
			}
			m.node = t.direct(wm, to, client)
			s, err := t.makeSession(ctx, m.node, "from "+wm.Name+" directly ("+wm.Scheme+"://"+to.String()+")")
			if err != nil {
				m.Error = strings.TrimPrefix(err.Error(), "GET "+t.cfg.URL.String()+" ")
				return
			}
			_, m.JvmRoute = split(s.id)
		}()
	}
	wg.Wait()
	routes := map[string][]string{}
	for _, m := range t.rep.Members {
		switch {
		case m.Error != "":
			t.problem("%s: %s", m.Name, m.Error)
		case m.JvmRoute == "":
			t.problem("%s: its sessions carry no route (no jvmRoute on the Tomcat's <Engine>): a balancer cannot send a session back to it", m.Name)
		case m.Route != "" && m.Route != m.JvmRoute:
			t.problem("%s: the balancer expects route %q, but the Tomcat's sessions carry %q: the balancer cannot find their node and sends them anywhere (set jvmRoute=%q on its <Engine>, or the route at %s to %s)",
				m.Name, m.Route, m.JvmRoute, m.Route, m.Where, m.JvmRoute)
			routes[m.JvmRoute] = append(routes[m.JvmRoute], m.Name)
		default:
			routes[m.JvmRoute] = append(routes[m.JvmRoute], m.Name)
		}
	}
	for r, names := range routes {
		if len(names) > 1 {
			t.problem("%s share jvmRoute %q: a balancer cannot tell their sessions apart", strings.Join(names, " and "), r)
		}
	}
}

// direct is the node for reaching a member without the balancer, as the balancer does.
func (t *tester) direct(wm web.Member, to netip.AddrPort, client *http.Client) node {
	if wm.Scheme == "ajp" {
		return &ajpNode{to: to, req: forwardRequest(t.cfg.URL, wm.Secret), name: t.cfg.Cookie, timeout: t.cfg.Timeout}
	}
	u := *t.cfg.URL
	u.Scheme, u.Host = "http", to.String()
	return &httpNode{target: &u, host: t.cfg.URL.Host, name: t.cfg.Cookie, client: client, timeout: t.cfg.Timeout}
}

// owner is the index of the member whose jvmRoute a session carries, or -1.
func (t *tester) owner(id string) int {
	_, route := split(t.plain(id))
	if route == "" {
		return -1
	}
	i := slices.IndexFunc(t.rep.Members, func(m Member) bool { return m.Error == "" && m.JvmRoute == route })
	return i
}

// viaBalancer makes sessions through the balancer: per member one for each pair it is
// the source of, and one more for the stickiness test. New sessions go where the balancer
// sends them, so it asks a bounded number of times; the pairs' sessions that the balancer
// did not make on a member are made on it directly.
func (t *tester) viaBalancer(ctx context.Context, first session) (pools [][]session, sticky []*session) {
	n := len(t.rep.Members)
	pools, sticky = make([][]session, n), make([]*session, n)
	unknown := map[string]bool{}
	add := func(s session) {
		s.via = "balancer"
		i := t.owner(s.id)
		switch {
		case i < 0:
			if _, r := split(s.id); !unknown[r] {
				unknown[r] = true
				t.problem("the balancer made a session with route %q, which no member's Tomcat has: a node outside the members answered", r)
			}
		case sticky[i] == nil:
			sticky[i] = &s
		case len(pools[i]) < n-1:
			pools[i] = append(pools[i], s)
		}
	}
	add(first)
	full := func() bool {
		for i, m := range t.rep.Members {
			if m.Error == "" && m.JvmRoute != "" && (sticky[i] == nil || len(pools[i]) < n-1) {
				return false
			}
		}
		return true
	}
	for try := 1; try < 2*n*n && !full(); try++ {
		s, err := t.makeSession(ctx, t.balancer, "through the balancer")
		if err != nil {
			t.problem("%v", err)
			break
		}
		add(s)
	}
	for i, m := range t.rep.Members {
		for m.Error == "" && len(pools[i]) < n-1 {
			s, err := t.makeSession(ctx, m.node, "from "+m.Name+" directly")
			if err != nil {
				t.rep.Members[i].Error = err.Error()
				break
			}
			s.via = "direct"
			pools[i] = append(pools[i], s)
		}
	}
	return pools, sticky
}

// pairs tests every ordered pair at once, each with a session of its own.
func (t *tester) pairs(ctx context.Context, pools [][]session) {
	type job struct {
		k int
		y Member
		s session
	}
	var jobs []job
	for i, x := range t.rep.Members {
		for j, y := range t.rep.Members {
			if i == j {
				continue
			}
			p := Pair{From: x.Name, To: y.Name, Verdict: NotTested}
			switch {
			case x.Error != "":
				p.Reason = x.Name + ": " + x.Error
			case y.Error != "":
				p.Reason = y.Name + ": " + y.Error
			case len(pools[i]) == 0:
				p.Reason = "no session could be made on " + x.Name
			default:
				s := pools[i][0]
				pools[i] = pools[i][1:]
				p.Session, p.MadeVia = short(s.id), s.via
				jobs = append(jobs, job{len(t.rep.Pairs), y, s})
			}
			t.rep.Pairs = append(t.rep.Pairs, p)
		}
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.lookUp(ctx, &t.rep.Pairs[j.k], j.y, j.s)
		}()
	}
	wg.Wait()
}

// lookUp gives the session's cookie to the member until it answers within the session,
// or Wait has passed since the session was made.
func (t *tester) lookUp(ctx context.Context, p *Pair, y Member, s session) {
	id := t.plain(s.id) // a member is asked as the balancer asks it
	base, _ := split(id)
	deadline := s.made.Add(t.cfg.Wait)
	var fresh []string
	for retry := firstRetry; ; retry *= 2 {
		p.Attempts++
		a, err := t.get(ctx, y.node, id)
		if err != nil {
			p.Reason = fmt.Sprintf("%s did not answer: %v", y.Name, err)
			return
		}
		got, _ := split(a.session)
		switch {
		case a.session == "" && a.status >= 400:
			p.Reason = fmt.Sprintf("%s answered %s", y.Name, a.statusText())
			if a.status == 403 && y.Scheme == "ajp" {
				p.Reason += secretHint
			}
			return
		case a.session == "" || got == base:
			p.Verdict, p.SeenMs = Replicated, float64(time.Since(s.made).Microseconds())/1000
			return
		}
		fresh = append(fresh, short(a.session))
		if !time.Now().Before(deadline) {
			p.Verdict = NotReplicated
			p.Reason = fmt.Sprintf("%s has no replica of %s's session %s: it made a new session (%s first) each of the %d times it was asked in %s",
				y.Name, p.From, short(s.id), fresh[0], p.Attempts, t.cfg.Wait)
			return
		}
		select {
		case <-ctx.Done():
			p.Reason = "interrupted: " + ctx.Err().Error()
			return
		case <-time.After(min(retry, time.Until(deadline))):
		}
	}
}

// stickiness sends, for every member the balancer made sessions on, a session's own
// cookie through the balancer, and cookies of sessions nobody has that carry the member's
// route: the node that makes the new session says where the balancer sent the request.
func (t *tester) stickiness(ctx context.Context, sticky []*session) {
	for i, m := range t.rep.Members {
		st := Stickiness{Member: m.Name, Route: m.JvmRoute, Verdict: NotTested}
		own := sticky[i]
		switch {
		case m.Error != "" || m.JvmRoute == "":
			st.Reason = "its sessions cannot be told apart"
		case own == nil:
			st.Reason = "the balancer made none of this client's sessions on " + m.Name + " (ip_hash or hash sends a client to one node)"
		}
		if st.Reason != "" {
			t.rep.Stickiness = append(t.rep.Stickiness, st)
			continue
		}
		cookies := []string{own.id}
		for range stickyTries {
			switch id := nobodys(m.JvmRoute); {
			case t.cfg.Sticky.Table:
				cookies = append(cookies, own.id) // no entry for a session nobody made
			case t.cfg.Sticky.Prefix:
				prefix, _, _ := strings.Cut(own.id, "~")
				cookies = append(cookies, prefix+"~"+id)
			default:
				cookies = append(cookies, id)
			}
		}
		away := 0
		for k, c := range cookies {
			a, err := t.get(ctx, t.balancer, c, t.carried(own))
			if err != nil {
				st.Landed = append(st.Landed, "error: "+err.Error())
				continue
			}
			landed := "kept"
			if a.session != "" || (k > 0 && c != own.id) {
				landed = t.landedOn(a.session)
			}
			if landed != "kept" && landed != m.Name {
				away++
			}
			st.Landed = append(st.Landed, landed)
		}
		st.Verdict = Sticky
		if away > 0 {
			st.Verdict = NotSticky
			st.Reason = fmt.Sprintf("%d of %d requests whose session names route %q were not sent to %s: the balancer does not route by the session (a worker route that is not the Tomcat's jvmRoute, or no sticky sessions), so every such request depends on replication having finished",
				away, len(cookies), m.JvmRoute, m.Name)
		}
		t.rep.Stickiness = append(t.rep.Stickiness, st)
	}
}

// landedOn names the member whose route a session made by the answer carries.
func (t *tester) landedOn(id string) string {
	if id == "" {
		return "no session made"
	}
	if i := t.owner(id); i >= 0 {
		return t.rep.Members[i].Name
	}
	_, r := split(id)
	return "route " + r
}

// nobodys is a session id no node has, carrying route: Tomcat makes a new session for it,
// with its own route.
func nobodys(route string) string {
	b := make([]byte, 16)
	rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b)) + "." + route
}

// secretHint explains a 403 from an AJP connector: Tomcat refuses a forward request whose
// secret is not its connector's before any application sees it.
const secretHint = ": its AJP connector refuses the worker's secret (secret= on the <Connector>, worker.NAME.secret in workers.properties)"

// errNoSession marks an error status answered without a session.
var errNoSession = errors.New("no session made")
