package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/replication"
	"github.com/clusterdoctor/clusterdoctor/probes/report"
	"github.com/clusterdoctor/clusterdoctor/probes/web"
)

type sessionTestFlags struct {
	url, cookie, output, root string
	web                       webConfigFlags
	members                   []string
	wait, timeout             time.Duration
	insecure                  bool
}

// requestTimeout bounds each request of the test.
const requestTimeout = 5 * time.Second

func newSessionTestCmd() *cobra.Command {
	var f sessionTestFlags
	c := &cobra.Command{
		Use:   "session-test [--url URL]",
		Short: "Prove that every Tomcat has the others' sessions, through the web tier, without stopping any",
		Long: `Make a session through the web tier on a page that makes one (a login page, the seeds'
counter JSP); its cookie's route says which Tomcat (X) made it. Then give that cookie,
unchanged, to every other member (Y) directly, on the path the balancer itself uses:
AJP13 forward requests to mod_jk's workers and mod_proxy's ajp:// members (with the
worker's secret), HTTP to nginx's upstream servers and mod_proxy's http:// members. Y answers within the session when it holds a replica, and makes a new
session when it does not; it is asked again with the original cookie until --wait has
passed since the session was made (replication is asynchronous). Every ordered pair gets a
fresh session, so every direction is tested. Then sessions' cookies go through the balancer
again: a request for X's session must land on X.

The members are the balancer's, read from this host's httpd (mod_jk's JkWorkersFile,
mod_proxy_balancer) or nginx (upstream blocks and route maps behind proxy_pass)
configuration: the one the URL reaches, as httpd's virtual hosts or nginx's server blocks
and locations route it (a URL that reaches none is told where it goes instead); or given
with --member. Without --url, the page is the one path the one balancer of this host is
mounted on (JkMount /app/*, ProxyPass /app/, location /app/), asked for on localhost (or
its virtual host's name) and the port its server takes it on; where the configuration
names no one page, --url is asked for. Nothing is changed but the sessions the test makes; the number of requests
is bounded.

Exit codes: 0 every direction replicates and sessions stick, 1 one does not (or a member
cannot be tested), 2 usage error, 3 the test could not run (the URL is not reached, or the
page makes no session).`,
		Example: `  clusterdoctor session-test
  clusterdoctor session-test --url http://localhost/
  clusterdoctor session-test --url http://web/app/login.jsp --member ajp://was1:8009 --member ajp://was2:8009 -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runSessionTest(c.Context(), &f) },
	}
	fs := c.Flags()
	fs.StringVar(&f.url, "url", "", "a page through the web tier that makes a session (default: the one page this host's balancer serves)")
	fs.StringArrayVar(&f.members, "member", nil, "a member reached directly, ajp://HOST:PORT or http://HOST:PORT (repeatable; default: the balancer's, from this host's configuration)")
	fs.StringVar(&f.cookie, "cookie", "JSESSIONID", "the session cookie's name")
	fs.DurationVar(&f.wait, "wait", 2*time.Second, "how long a replica may take to show on a member")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "overall deadline")
	fs.BoolVarP(&f.insecure, "insecure", "k", false, "accept any certificate of an https:// URL, as curl -k does")
	fs.StringVar(&f.root, "root", "/", "read the web server's configuration under this directory")
	f.web.register(fs)
	fs.StringVarP(&f.output, "output", "o", "text", "output format: text, json")
	return c
}

func runSessionTest(ctx context.Context, f *sessionTestFlags) error {
	switch {
	case f.output != "text" && f.output != "json":
		return usage(&probes.UsageError{Flag: "--output", Value: f.output, Problem: "want text or json"})
	case f.wait < 0 || f.wait > 5*time.Minute:
		return usage(&probes.UsageError{Flag: "--wait", Value: f.wait.String(), Problem: "want 0 to 5m"})
	case f.timeout <= f.wait:
		return usage(&probes.UsageError{Flag: "--timeout", Value: f.timeout.String(), Problem: "want more than --wait"})
	case f.cookie == "" || strings.ContainsAny(f.cookie, "=; \t,"):
		return usage(&probes.UsageError{Flag: "--cookie", Value: f.cookie, Problem: "want a cookie name"})
	}
	env, err := probes.NewEnv(f.root)
	if err != nil {
		return usage(&probes.UsageError{Flag: "--root", Value: f.root, Problem: err.Error()})
	}
	defer env.Close()
	if env.WebConfigs, err = f.web.configs(f.root); err != nil {
		return usage(err)
	}
	bals := web.Balancers(env) // the configuration read once, for the URL and the members
	u, err := sessionURL(f.url, bals)
	if err != nil {
		return usage(err)
	}
	members, err := sessionMembers(bals, u, f.members)
	if err != nil {
		return usage(err)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	var out []web.Member
	if len(f.members) == 0 {
		out = web.OutFor(bals, u)
		// members the running balancer sends nothing now are out too, and not tested
		now, _ := web.OutNow(ctx, bals, u)
		out = append(out, now...)
		members = slices.DeleteFunc(members, func(m web.Member) bool {
			return slices.ContainsFunc(now, func(o web.Member) bool { return o.Name == m.Name })
		})
		if len(members) < 2 && len(now) > 0 {
			var why []string
			for _, o := range now {
				why = append(why, o.Name+" is "+o.Where)
			}
			return usage(&probes.UsageError{Flag: "--url", Value: u.String(), Problem: fmt.Sprintf("the balancer sends to %d member now (%s): replication needs two", len(members), strings.Join(why, "; "))})
		}
	}
	rep, err := replication.Run(ctx, replication.Config{URL: u, Cookie: f.cookie, Members: members, Out: out, Wait: f.wait, Timeout: requestTimeout, Insecure: f.insecure,
		Sticky:  web.StickyFor(bals, u),
		Resolve: func(ctx context.Context, host string) (netip.Addr, error) { return web.ResolveHost(ctx, env, host) },
		Container: func(ctx context.Context, to netip.AddrPort) string {
			name, _ := web.ContainerBehind(ctx, env, to)
			return name
		}})
	if err != nil {
		return incomplete(err)
	}
	rep.Host, _ = os.Hostname()
	return writeReport(f.output, func(w io.Writer) error { return report.SessionTestJSON(w, rep) },
		func(w io.Writer, o report.Options) error { return report.SessionTestText(w, rep, o) }, rep.OK())
}

// sessionURL is --url: an http URL with a host; without it, the one page this host's
// balancers serve.
func sessionURL(s string, bals []web.Balancer) (*url.URL, error) {
	if s == "" {
		u, err := web.ServedURL(bals)
		if err != nil {
			return nil, &probes.UsageError{Flag: "--url", Problem: "not given, and this host's web server serves no one page to test: " + err.Error()}
		}
		return u, nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, &probes.UsageError{Flag: "--url", Value: s, Problem: "want http://HOST[:PORT]/PATH"}
	}
	return u, nil
}

// sessionMembers are the --member URLs, each with the secret and route the configuration
// gives the same address; else the members of the one balancer that serves the URL.
func sessionMembers(bals []web.Balancer, u *url.URL, given []string) ([]web.Member, error) {
	if len(given) > 0 {
		var out []web.Member
		for _, g := range given {
			m, err := memberURL(g)
			if err != nil {
				return nil, err
			}
			for _, b := range bals {
				for _, c := range b.Members {
					if c.Scheme == m.Scheme && c.Host == m.Host && c.Port == m.Port {
						m.Name, m.Secret, m.Route, m.Where = c.Name, c.Secret, c.Route, c.Where
					}
				}
			}
			out = append(out, m)
		}
		return out, nil
	}
	return web.MembersFor(bals, u)
}

// memberURL is one --member: ajp://HOST[:PORT] (8009) or http://HOST[:PORT] (80).
func memberURL(s string) (web.Member, error) {
	bad := &probes.UsageError{Flag: "--member", Value: s, Problem: "want ajp://HOST[:PORT] or http://HOST[:PORT]"}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" || (u.Path != "" && u.Path != "/") {
		return web.Member{}, bad
	}
	port := map[string]int{"ajp": 8009, "http": 80}[u.Scheme]
	if port == 0 {
		return web.Member{}, bad
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return web.Member{}, &probes.UsageError{Flag: "--member", Value: s, Problem: "the port is not 1-65535"}
		}
		port = n
	}
	return web.Member{Name: s, Scheme: u.Scheme, Host: u.Hostname(), Port: port, Where: "--member"}, nil
}
