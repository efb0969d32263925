package cluster

import (
	"fmt"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/netcfg/ansible"
	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/mcast"
	"github.com/clusterdoctor/clusterdoctor/probes/members"
	"github.com/clusterdoctor/clusterdoctor/probes/replication"
)

// was is a reached WAS host with a Tomcat of version v, its jvmRoute and applications as
// preflight reports them (after a trip through JSON: lists are []any).
func was(name, addr, version, route string, apps ...string) *HostReport {
	var list []any
	for _, a := range apps {
		list = append(list, a)
	}
	s := probes.Defaults()
	s.Membership = probes.Multicast
	s.Instances = []probes.TomcatInstance{{Base: "/opt/tomcat", Version: version}}
	return &HostReport{Name: name, Address: addr, Roles: []string{probes.RoleWAS}, Reachable: true, Settings: &s,
		Checks: []probes.Result{
			{ID: "tomcat.jvmroute", Status: probes.Pass, Evidence: map[string]any{"jvmRoute": route}},
			{ID: "tomcat.distributable", Status: probes.Pass, Evidence: map[string]any{"replicating": list, "content": map[string]any{
				"localhost/": map[string]any{"digest": "d1", "classesDigest": "c1", "files": 2,
					"libs": map[string]any{"model.jar": "0000cafe:12"}, "classes": map[string]any{"shop/Cart.class": "0000cafe:10"}}}}},
			{ID: "link.cluster", Status: probes.Pass, Evidence: map[string]any{"addresses": []any{addr + "/24"}}},
		}}
}

func web(workers ...map[string]any) *HostReport {
	var ws []any
	for _, w := range workers {
		ws = append(ws, w)
	}
	return &HostReport{Name: "web", Address: "10.0.0.10", Roles: []string{probes.RoleWeb}, Reachable: true,
		Checks: []probes.Result{{ID: "ajp.workers", Status: probes.Pass, Evidence: map[string]any{"workers": ws}}}}
}

func worker(name, addr, route string) map[string]any {
	return map[string]any{"name": name, "address": addr, "route": route}
}

func compared(t *testing.T, hosts []*HostReport, what string) Comparison {
	t.Helper()
	for _, c := range Compare(hosts) {
		if c.What == what {
			return c
		}
	}
	t.Fatalf("no comparison %q", what)
	return Comparison{}
}

func TestCompare(t *testing.T) {
	healthy := func() []*HostReport {
		return []*HostReport{
			was("was1", "10.0.0.1", "10.1.60", "tomcat1", "localhost/"),
			was("was2", "10.0.0.2", "10.1.59", "tomcat2", "localhost/"),
			web(worker("tomcat1", "10.0.0.1:8009", "tomcat1"), worker("tomcat2", "10.0.0.2:8009", "tomcat2")),
		}
	}
	for _, c := range Compare(healthy()) {
		if c.Breaks {
			t.Errorf("healthy: %+v", c)
		}
	}
	for _, tc := range []struct {
		what, want string
		spoil      func(hs []*HostReport)
	}{
		{"Tomcat versions", "10.1 on was1; 9.0 on was2", func(hs []*HostReport) { hs[1].Settings.Instances[0].Version = "9.0.98" }},
		{"applications", "localhost/shop is deployed on was1 but not on was2", func(hs []*HostReport) {
			hs[0].Checks[1].Evidence["replicating"] = []any{"localhost/", "localhost/shop"}
		}},
		{"jvmRoutes", "jvmRoute tomcat1 on was1 and was2", func(hs []*HostReport) { hs[1].Checks[0].Evidence["jvmRoute"] = "tomcat1" }},
		{"jvmRoutes", "web's worker tomcat2 (10.0.0.2:8009) expects route tomcat2 but was2's jvmRoute is node2", func(hs []*HostReport) {
			hs[1].Checks[0].Evidence["jvmRoute"] = "node2"
		}},
		{"application content", "localhost/ differs between was1 and was2: WEB-INF/lib/model.jar differs, WEB-INF/classes/shop/Cart.class differs", func(hs []*HostReport) {
			ct := hs[1].Checks[1].Evidence["content"].(map[string]any)["localhost/"].(map[string]any)
			ct["digest"], ct["classesDigest"] = "other", "other"
			ct["libs"] = map[string]any{"model.jar": "0000beef:12"}
			ct["classes"] = map[string]any{"shop/Cart.class": "0000beef:10"}
		}},
		{"receivers", "was2 advertises 10.0.0.2:4000, which was1 finds dropped", func(hs []*HostReport) {
			hs[0].Members = &members.Report{Members: []members.Member{{Address: "10.0.0.1", Port: 4000, Self: true}, {Address: "10.0.0.2", Port: 4000, Receiver: "dropped"}}}
			hs[1].Members = &members.Report{Members: []members.Member{{Address: "10.0.0.1", Port: 4000, Receiver: "open"}, {Address: "10.0.0.2", Port: 4000, Self: true}}}
		}},
		{"cluster settings", "228.0.0.5:45564 on was2", func(hs []*HostReport) { hs[1].Settings.Group = hs[1].Settings.Group.Next() }},
		{"clocks", "was2's clock is +1500 ms off was1's", func(hs []*HostReport) {
			hs[0].Mesh = &mcast.Report{Peers: []mcast.PeerResult{{Peer: "10.0.0.2", Address: "10.0.0.2", Clock: &mcast.ClockResult{OffsetMs: 1500, ErrorMs: 1, MaxSkewMs: 1000}}}}
		}},
	} {
		hs := healthy()
		tc.spoil(hs)
		c := compared(t, hs, tc.what)
		if !c.Breaks || !strings.Contains(c.Why, tc.want) {
			t.Errorf("%s: %+v, want it broken with %q", tc.what, c, tc.want)
		}
	}
	// One Tomcat host has nothing to compare.
	if got := Compare([]*HostReport{was("was1", "10.0.0.1", "10.1.60", "tomcat1", "localhost/")}); len(got) != 0 {
		t.Errorf("one host: %+v", got)
	}
}

func TestFromInventory(t *testing.T) {
	inv, err := ansible.Parse(strings.NewReader(`[web]
lb ansible_host=10.0.0.10 ansible_connection=local
[was]
was1 ansible_host=10.0.0.1 ansible_port=2222 ansible_user=deploy ansible_become=yes
was2
[db]
pg1
`))
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := FromInventory(inv, []string{"web", "was"}, Groups{Web: "web", WAS: "was"})
	if err != nil || len(hosts) != 3 {
		t.Fatalf("%+v %v", hosts, err)
	}
	lb, was1, was2 := hosts[0], hosts[1], hosts[2]
	if !lb.Local || lb.Roles[0] != "web" || was1.Port != 2222 || was1.User != "deploy" || !was1.Become || was1.Addr() != "10.0.0.1" ||
		was2.Addr() != "was2" || was2.RolesFrom != "inventory" {
		t.Errorf("%+v", hosts)
	}
	if _, err := FromInventory(inv, []string{"nosuch"}, Groups{}); err == nil || !strings.Contains(err.Error(), `"nosuch" is neither a host nor a group`) {
		t.Errorf("unknown pick: %v", err)
	}
	bad, _ := ansible.Parse(strings.NewReader("[was]\nwas1 ansible_become=maybe\nwas2 ansible_port=99999\n"))
	if _, err := FromInventory(bad, []string{"was1"}, Groups{}); err == nil || !strings.Contains(err.Error(), "not a boolean") {
		t.Errorf("bad become: %v", err)
	}
	if _, err := FromInventory(bad, []string{"was2"}, Groups{}); err == nil || !strings.Contains(err.Error(), "not a port") {
		t.Errorf("bad port: %v", err)
	}
}

func TestFromArgs(t *testing.T) {
	hosts, err := FromArgs([]string{"was1", "deploy@was2"})
	if err != nil || hosts[1].User != "deploy" || hosts[1].Name != "was2" || hosts[0].User != "" {
		t.Errorf("%+v %v", hosts, err)
	}
	for _, bad := range []string{"-oProxyCommand=x", "user@", "a b"} {
		if _, err := FromArgs([]string{bad}); err == nil {
			t.Errorf("%q taken for a host", bad)
		}
	}
}

// TestPreflightPeers: a Tomcat host takes the pure web hosts for web peers, every other
// host for a peer; a web host takes everyone for a peer.
func TestPreflightPeers(t *testing.T) {
	hs := []*HostReport{
		{Address: "10.0.0.1", Roles: []string{"was"}}, {Address: "10.0.0.2", Roles: []string{"was"}},
		{Address: "10.0.0.10", Roles: []string{"web"}}, {Address: "10.0.0.3", Roles: []string{"web", "was"}},
	}
	if got := strings.Join(preflightPeers(hs, 0), " "); got != "preflight -o json --peer 10.0.0.2 --web-peer 10.0.0.10 --peer 10.0.0.3" {
		t.Errorf("was1: %s", got)
	}
	if got := strings.Join(preflightPeers(hs, 2), " "); got != "preflight -o json --peer 10.0.0.1 --peer 10.0.0.2 --peer 10.0.0.3" {
		t.Errorf("web: %s", got)
	}
}

func TestFindingsAndExitCode(t *testing.T) {
	rep := &Report{Hosts: []*HostReport{was("was1", "10.0.0.1", "10.1.60", "tomcat1", "localhost/")}}
	if got := rep.ExitCode(); got != probes.ExitOK || len(rep.Findings()) != 0 {
		t.Errorf("healthy: exit %d, %+v", got, rep.Findings())
	}
	rep.Hosts = append(rep.Hosts, &HostReport{Name: "was2", Error: "was2: ssh: connect to host was2 port 22: Connection refused"})
	rep.Hosts[0].Checks = append(rep.Hosts[0].Checks, probes.Result{ID: "route.multicast", Status: probes.Fail, Summary: "no route", Remediation: "clusterdoctor fix route"})
	rep.Hosts[0].Problems = []string{"members exited 3: cannot listen"}
	f := rep.Findings()
	if rep.ExitCode() != probes.ExitFailed || len(f) != 3 || f[0].What != "members" || f[1].What != "route.multicast" || f[1].Fix == "" ||
		f[2].Host != "was2" || !strings.Contains(f[2].Summary, "Connection refused") {
		t.Errorf("exit %d, %+v", rep.ExitCode(), f)
	}
	if (&Report{Hosts: []*HostReport{{Name: "was2", Error: "x"}}}).ExitCode() != probes.ExitIncomplete {
		t.Error("no host reached is exit 3")
	}
}

func TestFixesFor(t *testing.T) {
	h1 := was("was1", "10.0.0.1", "10.1.60", "tomcat1", "localhost/")
	h1.Settings.Iface = "cl0"
	h1.Checks = append(h1.Checks,
		probes.Result{ID: "route.multicast", Status: probes.Fail},
		probes.Result{ID: "route.persistent", Status: probes.Fail, Evidence: map[string]any{"backend": "networkd"}},
		probes.Result{ID: "firewall.ports", Status: probes.Warn, Evidence: map[string]any{"guard": "firewalld"}})
	h2 := was("was2", "10.0.0.2", "10.1.60", "tomcat2", "localhost/")
	h2.Settings.Iface = "eth1"
	h2.Checks = append(h2.Checks,
		probes.Result{ID: "route.multicast", Status: probes.Fail},
		probes.Result{ID: "route.persistent", Status: probes.Unknown},
		probes.Result{ID: "firewall.ports", Status: probes.Fail, Evidence: map[string]any{"guard": "nftables"}})
	h3 := was("was3", "10.0.0.3", "10.1.60", "tomcat3", "localhost/")
	h3.Checks = append(h3.Checks, probes.Result{ID: "route.multicast", Status: probes.Pass})
	var got []string
	for _, f := range FixesFor(&Report{Hosts: []*HostReport{h1, h2, h3}}) {
		got = append(got, f.Host+": "+strings.Join(f.Command, " ")+" for "+strings.Join(f.For, ","))
	}
	want := []string{
		"was1: fix route --iface cl0 --persist for route.multicast,route.persistent",
		"was1: fix firewall --iface cl0 for firewall.ports",
		"was2: fix route --iface eth1 for route.multicast", // no known network configuration: now only
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// lab2 is a healthy two-node report (was1 10.0.0.1 tomcat1, was2 10.0.0.2 tomcat2, web
// with workers tomcat1 and node2) to inject recorded findings into.
func lab2() *Report {
	r := &Report{Hosts: []*HostReport{
		was("was1", "10.0.0.1", "10.1.60", "tomcat1", "localhost/"),
		was("was2", "10.0.0.2", "10.1.60", "tomcat2", "localhost/"),
		web(worker("tomcat1", "10.0.0.1:8009", "tomcat1"), worker("node2", "10.0.0.2:8009", "node2")),
	}}
	for i, peer := range []string{"10.0.0.2", "10.0.0.1"} {
		r.Hosts[i].Mesh = &mcast.Report{Peers: []mcast.PeerResult{{Peer: peer, Address: peer, Verdict: mcast.VerdictOK}}}
	}
	return r
}

func fail(h *HostReport, id, summary string) {
	h.Checks = append(h.Checks, probes.Result{ID: id, Status: probes.Fail, Summary: summary})
}

// TestReduce: each fault's findings, as the lab's runs recorded them, come down to one
// cause on the right host, explaining every other finding; two faults at once give two
// causes with their own symptoms.
func TestReduce(t *testing.T) {
	for _, tc := range recordedFaults {
		r := lab2()
		tc.inject(r)
		causes, unexplained := r.Reduce()
		var got []string
		for _, c := range causes {
			got = append(got, fmt.Sprintf("%s %s (%d explained)", c.Host, c.Check, len(c.Explains)))
		}
		if strings.Join(got, "; ") != strings.Join(tc.causes, "; ") || len(unexplained) > 0 {
			t.Errorf("%s: causes %q, unexplained %+v; want %q", tc.name, got, unexplained, tc.causes)
		}
	}
}

// recordedFaults are the lab's faults as its runs recorded them, injected into lab2: the
// causes they come down to ("host check (n explained)"), and the paths of the cluster's
// picture that fail ("kind from-to: causes").
var recordedFaults = []struct {
	name   string
	inject func(r *Report)
	causes []string
	edges  []string
}{
	{"healthy", func(r *Report) {}, nil, nil},
	{"multicast route missing on was2", func(r *Report) {
		fail(r.Hosts[1], "route.multicast", "no route for 228.0.0.4")
		fail(r.Hosts[1], "tomcat.members", "this host's own Tomcat is not heard on cl0")
		fail(r.Hosts[0], "tomcat.members", "/opt/tomcat (pid 42): peer 10.0.0.2 (10.0.0.2) is not heard: its Tomcat does not run")
		r.Hosts[0].Mesh = &mcast.Report{Peers: []mcast.PeerResult{{Peer: "10.0.0.2", Address: "10.0.0.2", Verdict: "multicast-blocked", Reason: "no multicast from 10.0.0.2"}}}
		r.Hosts[1].Mesh = &mcast.Report{Peers: []mcast.PeerResult{{Peer: "10.0.0.1", Address: "10.0.0.1", Verdict: "one-way", Reason: "multicast does not leave"}}}
	}, []string{"was2 route.multicast (4 explained)"}, []string{"multicast was1-was2: was2 route.multicast"}},
	{"host name on loopback on was2", func(r *Report) {
		fail(r.Hosts[1], "hosts.hostname", "host name was2 resolves to loopback 127.0.1.1")
		fail(r.Hosts[1], "tomcat.receiver", "the Receiver address auto is 127.0.1.1")
		r.Hosts[0].Members = &members.Report{Members: []members.Member{{Address: "127.0.1.1", Port: 4000, Status: "problem", Problems: []string{"advertises loopback 127.0.1.1"}}}}
	}, []string{"was2 hosts.hostname (2 explained)"}, []string{"replication was1-was2: was2 hosts.hostname"}},
	{"receiver range dropped on was2", func(r *Report) {
		fail(r.Hosts[1], "firewall.ports", "nftables table fault drops 4000-4100/tcp")
		r.Hosts[0].Mesh = &mcast.Report{Peers: []mcast.PeerResult{{Peer: "10.0.0.2", Address: "10.0.0.2", Verdict: "ok", Problems: []string{"TCP to 10.0.0.2:4000 dropped"}}}}
		r.Comparisons = []Comparison{{What: "receivers", Breaks: true, Blame: []string{"was2"}, Why: "was2 advertises 10.0.0.2:4000, which was1 finds dropped"}}
	}, []string{"was2 firewall.ports (2 explained)"}, []string{"replication was1-was2: was2 firewall.ports"}},
	{"jvmRoute not the worker's", func(r *Report) {
		fail(r.Hosts[2], "ajp.workers", "worker node2 expects route \"node2\", but the Tomcat at 10.0.0.2 has jvmRoute \"tomcat2\"")
		r.Hosts[2].SessionTest = &replication.Report{Pairs: []replication.Pair{{From: "tomcat1", To: "node2", Verdict: "replicated"}},
			Stickiness: []replication.Stickiness{{Member: "node2", Route: "node2", Verdict: replication.NotSticky, Reason: "lands on tomcat1"}}}
		r.Comparisons = []Comparison{{What: "jvmRoutes", Breaks: true, Blame: []string{"was2"}, Why: "web's worker node2 (10.0.0.2:8009) expects route node2 but was2's jvmRoute is tomcat2"}}
	}, []string{"was2 jvmRoutes (2 explained)"}, []string{"ajp web-was2: was2 jvmRoutes"}},
	{"AJP on loopback on was2", func(r *Report) {
		fail(r.Hosts[1], "tomcat.ajp", "the AJP connector listens on 127.0.0.1:8009, loopback only: the web tier cannot reach it")
		fail(r.Hosts[2], "ajp.workers", "worker node2 (10.0.0.2:8009): TCP refused: the clusterdoctor there says Tomcat /opt/tomcat's AJP connector listens on 127.0.0.1:8009, loopback only")
	}, []string{"was2 tomcat.ajp (1 explained)"}, []string{"ajp web-was2: was2 tomcat.ajp"}},
	{"two faults at once", func(r *Report) {
		fail(r.Hosts[1], "route.multicast", "no route for 228.0.0.4")
		fail(r.Hosts[0], "tomcat.members", "peer 10.0.0.2 (10.0.0.2) is not heard")
		fail(r.Hosts[0], "hosts.hostname", "host name was1 resolves to loopback 127.0.1.1")
		fail(r.Hosts[0], "tomcat.receiver", "the Receiver address auto is 127.0.1.1")
	}, []string{"was1 hosts.hostname (1 explained)", "was2 route.multicast (1 explained)"},
		[]string{"multicast was1-was2: was2 route.multicast"}},
}

// TestExplainChecks: on one host, tomcat.receiver failing because the host name is on
// loopback is marked as following from hosts.hostname; an unrelated failure is not.
func TestExplainChecks(t *testing.T) {
	rep := &probes.Report{Host: "was2", Checks: []probes.Result{
		{ID: "hosts.hostname", Status: probes.Fail, Summary: "host name was2 resolves to loopback 127.0.1.1"},
		{ID: "ntp.sync", Status: probes.Fail, Summary: "no NTP daemon answers"},
		{ID: "tomcat.members", Status: probes.Fail, Summary: "this host's own Tomcat advertises loopback 127.0.1.1"},
		{ID: "tomcat.receiver", Status: probes.Fail, Summary: "the Receiver address auto is 127.0.1.1"},
	}}
	ExplainChecks(rep)
	got := map[string]string{}
	for _, r := range rep.Checks {
		got[r.ID] = r.ExplainedBy
	}
	if got["tomcat.receiver"] != "hosts.hostname" || got["tomcat.members"] != "hosts.hostname" || got["ntp.sync"] != "" || got["hosts.hostname"] != "" {
		t.Errorf("%v", got)
	}
}

// TestPicture: each recorded fault fails exactly the paths it breaks, each labelled with
// its cause; the others are ok, and every host is drawn in its row.
func TestPicture(t *testing.T) {
	for _, tc := range recordedFaults {
		r := lab2()
		tc.inject(r)
		r.Causes, r.Unexplained = r.Reduce()
		p := r.Picture()
		var failed []string
		for _, e := range p.Edges {
			if e.Outcome == "fail" {
				failed = append(failed, fmt.Sprintf("%s %s-%s: %s", e.Kind, e.From, e.To, strings.Join(e.Causes, ", ")))
			} else if e.Outcome != "ok" {
				t.Errorf("%s: %s %s-%s is %s", tc.name, e.Kind, e.From, e.To, e.Outcome)
			}
		}
		if strings.Join(failed, "; ") != strings.Join(tc.edges, "; ") || len(p.Edges) != 4 || len(p.Web) != 1 || len(p.WAS) != 2 {
			t.Errorf("%s: failed paths %q of %d, hosts %d web %d was; want %q of 4 (ajp to each node, heartbeats and replication)",
				tc.name, failed, len(p.Edges), len(p.Web), len(p.WAS), tc.edges)
		}
	}
}
