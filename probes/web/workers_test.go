package web

import (
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/netcfg/modjk"
)

// TestJKMembers: activation states and redirects as mod_jk reads them (a stopped member
// is not reached; a redirect must name another member, by name or route).
func TestJKMembers(t *testing.T) {
	wf, err := modjk.Parse(strings.NewReader(`worker.list=lb
worker.lb.type=lb
worker.lb.balance_workers=t1,t2,t3,t4
worker.t1.host=10.0.0.1
worker.t1.redirect=t2
worker.t2.host=10.0.0.2
worker.t2.activation=disabled
worker.t2.route=r2
worker.t2.redirect=r2
worker.t3.host=10.0.0.3
worker.t3.activation=S
worker.t4.host=10.0.0.4
worker.t4.redirect=t9
`))
	if err != nil {
		t.Fatal(err)
	}
	var c collected
	c.jkMembers(wf, "lb", []string{"t1", "t2", "t3", "t4"}, "workers.properties")
	var names []string
	for _, tg := range c.targets {
		names = append(names, tg.name)
	}
	if got := strings.Join(names, ","); got != "t1,t2,t4" {
		t.Errorf("members reached = %s; want t1,t2,t4 (t3 is stopped)", got)
	}
	all := strings.Join(append(c.fails, c.warns...), "\n")
	for _, want := range []string{
		"worker t2: redirect=r2 (workers.properties:9) names no other member",
		"worker t4: redirect=t9 (workers.properties:13) names no other member",
		"worker t2 of balancer lb is disabled (activation=disabled, workers.properties:7)",
		"worker t3 of balancer lb is stopped (activation=S, workers.properties:11)",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("findings lack %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "worker t1:") {
		t.Errorf("t1's redirect to t2 is fine, yet:\n%s", all)
	}
}
