package replication

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes/ajp"
	"github.com/clusterdoctor/clusterdoctor/probes/web"
)

// answer is what a node said to one request: its status, and the session cookie it set
// ("" when it set none).
type answer struct {
	status   int
	location string
	session  string
	// cookies are every cookie the answer set, by name (a balancer's own among them).
	cookies map[string]string
}

// node is where a request goes: the balancer (the URL), or one member directly.
type node interface {
	get(ctx context.Context, cookie string, extra ...string) (answer, error)
}

// httpNode sends GET requests to base (scheme, host and port) for the URL's path and query.
type httpNode struct {
	target  *url.URL
	host    string // the Host header: the URL's, as the balancer passes it on
	name    string // the session cookie's name
	client  *http.Client
	timeout time.Duration
}

// newHTTPClient is one request per connection, no proxy from the environment (the
// members are reached directly), no redirect followed; insecure skips the check of the
// web tier's certificate, as curl -k does.
func newHTTPClient(timeout time.Duration, insecure bool) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           (&net.Dialer{Timeout: timeout}).DialContext,
			DisableKeepAlives:     true,
			ResponseHeaderTimeout: timeout,
			TLSClientConfig:       &tls.Config{InsecureSkipVerify: insecure},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       timeout,
	}
}

func (n *httpNode) get(ctx context.Context, cookie string, extra ...string) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.target.String(), nil)
	if err != nil {
		return answer{}, err
	}
	req.Host = n.host
	req.Header.Set("User-Agent", "clusterdoctor session-test")
	var cookies []string
	if cookie != "" {
		cookies = append(cookies, n.name+"="+cookie)
	}
	for _, e := range extra {
		if e != "" {
			cookies = append(cookies, e)
		}
	}
	if len(cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(cookies, "; "))
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return answer{}, requestError(err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, ajp.MaxBody))
	resp.Body.Close()
	return answer{status: resp.StatusCode, location: resp.Header.Get("Location"), session: sessionOf(resp.Header, n.name), cookies: cookiesOf(resp.Header)}, nil
}

// requestError drops net/http's "Get URL:" prefix, which the report already says.
func requestError(err error) error {
	var ue *url.Error
	if e, ok := err.(*url.Error); ok {
		ue = e
		return ue.Err
	}
	return err
}

// ajpNode sends forward requests to an AJP connector, as mod_jk forwards the URL.
type ajpNode struct {
	to      netip.AddrPort
	req     ajp.Request
	name    string
	timeout time.Duration
}

func (n *ajpNode) get(ctx context.Context, cookie string, _ ...string) (answer, error) {
	req := n.req
	req.Header = n.req.Header.Clone()
	if cookie != "" {
		req.Header.Set("Cookie", n.name+"="+cookie)
	}
	resp, err := ajp.Do(ctx, n.to, req, n.timeout)
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.Status, location: resp.Header.Get("Location"), session: sessionOf(resp.Header, n.name)}, nil
}

// forwardRequest is the URL as mod_jk forwards it: path, query, Host and port.
func forwardRequest(u *url.URL, secret string) ajp.Request {
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return ajp.Request{URI: path, Query: u.RawQuery, Host: u.Hostname(), Port: web.URLPort(u), Secret: secret,
		Header: http.Header{"User-Agent": {"clusterdoctor session-test"}}}
}

// sessionOf is the value of the session cookie among the Set-Cookie headers.
func sessionOf(h http.Header, name string) string {
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil && c.Name == name && c.Value != "" && c.MaxAge >= 0 {
			return c.Value
		}
	}
	return ""
}

// cookiesOf are the cookies a response sets, by name.
func cookiesOf(h http.Header) map[string]string {
	out := map[string]string{}
	for _, line := range h.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil {
			out[c.Name] = c.Value
		}
	}
	return out
}

// split is a Tomcat session id's base and its route (the jvmRoute after the first dot).
func split(id string) (base, route string) {
	base, route, _ = strings.Cut(id, ".")
	return base, route
}

// short is a session id for reports: enough of the base to tell sessions apart.
func short(id string) string {
	base, route := split(id)
	if len(base) > 8 {
		base = base[:8] + "…"
	}
	if route == "" {
		return base
	}
	return base + "." + route
}

// statusText is an answer that set no session, for an error.
func (a answer) statusText() string {
	s := fmt.Sprintf("%d %s", a.status, http.StatusText(a.status))
	if a.location != "" {
		s += " (Location: " + a.location + ")"
	}
	return s
}
