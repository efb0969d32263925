package web

import (
	"strings"
	"testing"
)

// bmPage is Debian httpd 2.4.71's balancer-manager page for a balancer with one member
// disabled (status=+D), as it answers even to ?xml=1.
const bmPage = `<html><head><title>Balancer Manager</title></head>
<body><h1>Load Balancer Manager for 127.0.0.1</h1>
<h3>LoadBalancer Status for <a href="/balancer-manager?b=tc&amp;nonce=29ad">balancer://tc</a> [pc09dfdc3_tc]</h3>
<table><tr><th>MaxMembers</th><th>StickySession</th><th>DisableFailover</th><th>Timeout</th><th>FailoverAttempts</th><th>Method</th><th>Path</th><th>Active</th></tr>
<tr><td>2 [2 Used]</td>
<td> (None) </td><td>Off</td>
<td>0</td><td>1</td>
<td>byrequests</td>
<td>/</td>
<td>Yes</td>
</tr>
</table>
<br />
<table><tr><th>Worker URL</th><th>Route</th><th>RouteRedir</th><th>Factor</th><th>Set</th><th>Status</th><th>Elected</th><th>Busy</th><th>Load</th><th>To</th><th>From</th></tr>
<tr>
<td><a href="/balancer-manager?b=tc&amp;w=http://127.0.0.1:9001&amp;nonce=29ad">http://127.0.0.1:9001</a></td><td>tomcat1</td><td></td><td>1.00</td><td>0</td><td>Init Ok </td><td>0</td><td>0</td><td>0</td><td>  0 </td><td>  0 </td></tr>
<tr>
<td><a href="/balancer-manager?b=tc&amp;w=http://127.0.0.1:9002&amp;nonce=29ad">http://127.0.0.1:9002</a></td><td>tomcat2</td><td></td><td>1.00</td><td>0</td><td>Init Dis </td><td>0</td><td>0</td><td>0</td><td>  0 </td><td>  0 </td></tr>
</table>
<hr />
</body></html>`

func TestParseBalancerManager(t *testing.T) {
	got, err := parseBalancerManager(strings.NewReader(bmPage))
	if err != nil {
		t.Fatal(err)
	}
	one, two := got["tc"]["http://127.0.0.1:9001"], got["tc"]["http://127.0.0.1:9002"]
	if one == nil || !one.sends() || two == nil || two.sends() || !strings.Contains(two.String(), "disabled (Dis") {
		t.Errorf("states %v", got)
	}
	if _, err := parseBalancerManager(strings.NewReader("<html><body>It works</body></html>")); err == nil {
		t.Error("a page without the worker table parsed")
	}
}

func FuzzParseBalancerManager(f *testing.F) {
	f.Add(bmPage)
	f.Add("<h3>balancer://x</h3><table><tr><td>Worker URL</td></tr><tr><td>a")
	f.Fuzz(func(t *testing.T, page string) {
		parseBalancerManager(strings.NewReader(page))
	})
}
