package web

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

// bmState is a BalancerMember's status as httpd's balancer-manager shows it: "Init Ok",
// "Init Dis", "Init Ok Stop", "Init Err", "Init Drn", "Init Stby" (ap_proxy_parse_wstatus'
// words).
type bmState struct{ status string }

// bmWords are the states in which mod_proxy_balancer sends a member no new request.
var bmWords = map[string]string{
	"Dis":  "disabled (Dis: only its own sessions go to it)",
	"Stop": "stopped (Stop: nothing goes to it)",
	"Err":  "in error (Err: nothing goes to it until its retry)",
	"Drn":  "draining (Drn: only its own sessions go to it)",
	"Stby": "a hot standby (Stby: used only when every other member is out)",
}

func (s bmState) sends() bool {
	for _, w := range strings.Fields(s.status) {
		if _, out := bmWords[w]; out {
			return false
		}
	}
	return true
}

func (s bmState) String() string {
	var parts []string
	for _, w := range strings.Fields(s.status) {
		if d, ok := bmWords[w]; ok {
			parts = append(parts, d)
		}
	}
	if len(parts) == 0 {
		return s.status
	}
	return strings.Join(parts, ", ")
}

// bmHint says how to have the balancer-manager read, where none is configured.
const bmHint = "mod_proxy_balancer's runtime state is not read: no balancer-manager is configured (<Location /balancer-manager> SetHandler balancer-manager, Require ip 127.0.0.1 </Location>)"

// balancerManager reads httpd's balancer-manager, where a SetHandler balancer-manager
// serves it, through the running httpd: each balancer's members' states by member URL.
// Debian's httpd 2.4.71 answers its HTML page even to ?xml=1, so the page is what is read.
// Equivalent to: curl http://127.0.0.1/balancer-manager.
func balancerManager(ctx context.Context, conf *HTTPDConfig) (map[string]map[string]runtimeState, string) {
	for _, d := range conf.All("SetHandler") {
		if len(d.Args) != 1 || !strings.EqualFold(d.Args[0], "balancer-manager") {
			continue
		}
		loc := locationOf(d.Context)
		if loc == "" {
			continue
		}
		var lastErr error
		for _, l := range conf.listens() {
			host := "127.0.0.1"
			if l.ip != "" && l.ip != "0.0.0.0" && l.ip != "::" {
				host = l.ip
			}
			url := "http://" + net.JoinHostPort(host, strconv.Itoa(l.port)) + loc
			states, err := readBalancerManager(ctx, url)
			if err == nil {
				return states, ""
			}
			lastErr = fmt.Errorf("%s: %w", url, err)
		}
		if lastErr != nil {
			return nil, fmt.Sprintf("httpd's balancer-manager (%s) could not be read: %v", d.Where(), lastErr)
		}
	}
	return nil, bmHint
}

func readBalancerManager(ctx context.Context, url string) (map[string]map[string]runtimeState, error) {
	return askStatusPage(ctx, url, parseBalancerManager)
}

// parseBalancerManager reads the page's sections: an <h3> naming balancer://NAME, then a
// table whose header has "Worker URL" and "Status", a row per member.
func parseBalancerManager(r io.Reader) (map[string]map[string]runtimeState, error) {
	out := map[string]map[string]runtimeState{}
	z := html.NewTokenizer(r)
	var balancer string
	var inH3, inCell bool
	var cell strings.Builder
	var row, header []string
	urlCol, statusCol := -1, -1
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() == io.EOF {
				if len(out) == 0 {
					return nil, fmt.Errorf("the answer has no balancer's worker table (not the balancer-manager's page)")
				}
				return out, nil
			}
			return nil, z.Err()
		case html.TextToken:
			text := string(z.Text())
			if inH3 && strings.HasPrefix(strings.TrimSpace(text), "balancer://") {
				balancer = strings.TrimPrefix(strings.TrimSpace(text), "balancer://")
			}
			if inCell {
				cell.WriteString(text)
			}
		case html.StartTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "h3":
				inH3 = true
			case "tr":
				row = nil
			case "td", "th":
				inCell = true
				cell.Reset()
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "h3":
				inH3 = false
			case "td", "th":
				inCell = false
				row = append(row, strings.TrimSpace(cell.String()))
			case "tr":
				switch {
				case len(row) > 0 && row[0] == "Worker URL":
					header, urlCol, statusCol = row, 0, -1
					for i, h := range header {
						if h == "Status" {
							statusCol = i
						}
					}
				case balancer != "" && urlCol >= 0 && statusCol >= 0 && len(row) > statusCol:
					if out[balancer] == nil {
						out[balancer] = map[string]runtimeState{}
					}
					out[balancer][memberKey(row[urlCol])] = bmState{status: row[statusCol]}
				}
			case "table":
				urlCol, statusCol = -1, -1
			}
		}
	}
}

// memberKey is a member URL as both the configuration and the balancer-manager write it.
func memberKey(u string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(u)), "/")
}
