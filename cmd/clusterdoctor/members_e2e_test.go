package main_test

import (
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
	"github.com/clusterdoctor/clusterdoctor/probes/members"
)

// membersOn runs clusterdoctor members on h and decodes its JSON.
func membersOn(t *testing.T, h *lab.Host, priv lab.Private, args ...string) (members.Report, run) {
	t.Helper()
	r := execute(t, h.Command(priv, binary, append([]string{"members", "-o", "json", "--iface", "cl0"}, args...)...))
	var rep members.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("members on %s: exit %d, not JSON (%v):\n%s\n%s", h.Name, r.code, err, r.stdout, r.stderr)
	}
	return rep, r
}

func memberAt(rep members.Report, addr string) *members.Member {
	for i := range rep.Members {
		if rep.Members[i].Address == addr {
			return &rep.Members[i]
		}
	}
	return nil
}

func saysAny(m *members.Member, text string) bool {
	return m != nil && strings.Contains(strings.Join(m.Problems, "\n"), text)
}

// TestMembersOfRealTomcats: two real Tomcat 10.1 in namespaces and an observer host. The
// members command lists both with their true addresses within 1.5 s, tells a dropped or
// rejected receiver, a route that sends this host's heartbeats elsewhere, a member that
// stopped (its shutdown packet) and one killed (gone after dropTime).
func TestMembersOfRealTomcats(t *testing.T) {
	lab.RequireTomcat(t)
	lab.RequireCommands(t, "nft")
	t.Parallel() // its lab is its own, and discovery keeps to each lab host's namespace
	l := lab.New(t)
	a, b, c := l.AddHost("was1", 1), l.AddHost("was2", 2), l.AddHost("obs", 3)
	for _, h := range []*lab.Host{a, b, c} {
		h.AddMulticastRoute()
	}
	ta := a.StartTomcat(lab.TomcatSpec{Name: "was1", Files: tcConf{JvmRoute: "tomcat1"}.files(), Hostname: "was1", Hosts: hostsFor("was1", "10.99.0.1")})
	tb := b.StartTomcat(lab.TomcatSpec{Name: "was2", Files: tcConf{JvmRoute: "tomcat2"}.files(), Hostname: "was2", Hosts: hostsFor("was2", "10.99.0.2")})
	ta.Started(t)
	tb.Started(t)
	onA := []string{"--tomcat", ta.Base, "--tomcat-home", lab.TomcatHome}

	start := time.Now()
	rep, r := membersOn(t, a, lab.Private{}, append(onA, "--duration", "1500ms")...)
	took := time.Since(start)
	ma, mb := memberAt(rep, "10.99.0.1"), memberAt(rep, "10.99.0.2")
	if r.code != 0 || ma == nil || mb == nil || ma.Port != 4000 || mb.Port != 4000 || !ma.Self || mb.Self ||
		ma.Status != members.StatusOK || mb.Status != members.StatusOK || mb.Receiver != "open" || mb.TTL != 1 {
		t.Fatalf("members on was1: exit %d in %v:\n%s", r.code, took, r.stdout)
	}
	if mb.IntervalMs < 400 || mb.IntervalMs > 600 || mb.AliveMs <= 0 || len(mb.UniqueID) != 32 {
		t.Errorf("was2's heartbeats: interval %.1f ms, alive %d ms, id %q; want about 500 ms from the real Tomcat", mb.IntervalMs, mb.AliveMs, mb.UniqueID)
	}
	if took > 3*time.Second {
		t.Errorf("members took %v for --duration 1500ms", took)
	}
	// preflight's tomcat.members: this host's member and the peer's, both reachable.
	pre, _ := preflightJSON(t, a, wasView(t, a, "was1"), append(onA, "--peer", "10.99.0.2", "--skip", "ntp.sync")...)
	if got := check(t, pre, "tomcat.members"); got.Status != "pass" || !strings.Contains(got.Summary, "10.99.0.2:4000 (ok)") {
		t.Errorf("tomcat.members on a healthy pair = %s: %s (%s)", got.Status, got.Summary, got.Detail)
	}
	pre, _ = preflightJSON(t, a, wasView(t, a, "was1"), append(onA, "--peer", "10.99.0.2", "--peer", "10.99.0.9", "--skip", "ntp.sync")...)
	if got := check(t, pre, "tomcat.members"); got.Status != "fail" || !strings.Contains(got.Summary+got.Detail, "peer 10.99.0.9 (10.99.0.9) is not heard") {
		t.Errorf("tomcat.members with a peer that runs no Tomcat = %s: %s (%s)", got.Status, got.Summary, got.Detail)
	}

	ownTomcatOnly(t, map[*lab.Host]*lab.Tomcat{a: ta, b: tb})

	// Random datagrams and forged near-heartbeats on the group while members listens: counted
	// as foreign, the member list and the memory use unchanged.
	f := l.AddHost("flood", 5)
	f.AddMulticastRoute()
	quiet := peakKB(t, c, "--duration", "2s")
	go func() {
		rnd := rand.New(rand.NewPCG(7, 7))
		f.Flood(netip.MustParseAddrPort("228.0.0.4:45564"), 100000, 25000, func(i int) lab.Forged {
			b := make([]byte, 1+rnd.IntN(200))
			for j := range b {
				b[j] = byte(rnd.Uint32())
			}
			if i%2 == 0 {
				copy(b, "TRIBES-B\x01\x00") // a beginning marker and garbage after it
			}
			return lab.Forged{From: lab.SpoofedInSubnet(rnd), Payload: b}
		})
	}()
	flooded := peakKB(t, c, "--duration", "2s")
	rep, r = membersOn(t, c, lab.Private{}, "--duration", "1500ms")
	t.Logf("members' peak RSS: %d kB quiet, %d kB under the flood", quiet, flooded)
	if flooded-quiet > 2048 {
		t.Errorf("members' peak RSS grew from %d kB to %d kB under a flood of junk; want less than 2 MB more", quiet, flooded)
	}
	if r.code != 0 || len(rep.Members) != 2 || rep.Foreign < 1000 || memberAt(rep, "10.99.0.1") == nil || memberAt(rep, "10.99.0.2") == nil {
		t.Errorf("members under a flood of junk: exit %d, %d members, %d foreign; want the two Tomcats and the junk counted\n%s", r.code, len(rep.Members), rep.Foreign, r.stdout)
	}

	for _, fault := range []struct{ rule, outcome string }{
		{"tcp dport 4000-4100 drop", "dropped"},
		{"tcp dport 4000-4100 reject with icmpx admin-prohibited", "rejected"},
	} {
		b.Nft("table inet cdmembers {\n chain in {\n type filter hook input priority 0\n " + fault.rule + "\n }\n}\n")
		rep, r := membersOn(t, c, lab.Private{}, "--duration", "1500ms")
		mb := memberAt(rep, "10.99.0.2")
		if r.code != 1 || mb == nil || mb.Receiver != fault.outcome || mb.Status != members.StatusProblem || !saysAny(mb, "does not accept TCP from here") {
			t.Errorf("receiver range %s on was2: exit %d, was2 = %+v", fault.outcome, r.code, mb)
		}
		b.Command(lab.Private{}, "nft", "delete", "table", "inet", "cdmembers").Run()
	}

	// The multicast route gone on was1, its default route on pub0: its Tomcat's heartbeats
	// leave by pub0, and was2's are heard there only on the socket joined on cl0.
	a.DelMulticastRoute()
	a.AddPublic()
	rep, r = membersOn(t, a, lab.Private{}, append(onA, "--duration", "1500ms")...)
	mb = memberAt(rep, "10.99.0.2")
	if r.code != 1 || !strings.Contains(strings.Join(rep.Problems, "\n"), "this host's own Tomcat is not heard on cl0") ||
		!saysAny(mb, "heard only with the interface cl0 set") {
		t.Errorf("without the multicast route on was1: exit %d\n%s", r.code, r.stdout)
	}
	a.AddMulticastRoute()

	// The agent on was1 exports the members: up while heard, 0 once was2's heartbeats stop
	// arriving (dropped here by nftables), for the alert Tomcat's INFO log never raises.
	agent := a.Start(noFirewalld, "agent-was1", binary, append(onA, "agent", "--iface", "cl0", "--interval", "2s",
		"--peer", "10.99.0.2", "--responder=false", "--skip", "ntp.sync,hosts.hostname")...)
	hc := inside(a)
	waitMetric := func(want string) {
		t.Helper()
		var body string
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
			if _, body = get(t, hc, "http://127.0.0.1:9716/metrics"); strings.Contains(body, want) {
				return
			}
		}
		t.Errorf("/metrics never showed %q:\n%s", want, grepLines(body, "clusterdoctor_tomcat_member"))
	}
	waitMetric(`clusterdoctor_tomcat_member_up{address="10.99.0.2",port="4000"} 1`)
	waitMetric(`clusterdoctor_tomcat_member_heartbeat_age_seconds{address="10.99.0.2",port="4000"}`)
	a.Nft("table inet cdmembers {\n chain in {\n type filter hook input priority 0\n ip saddr 10.99.0.2 udp dport 45564 drop\n }\n}\n")
	waitMetric(`clusterdoctor_tomcat_member_up{address="10.99.0.2",port="4000"} 0`)
	a.Command(lab.Private{}, "nft", "delete", "table", "inet", "cdmembers").Run()
	agent.Process.Kill()

	// was2 stopped as systemd stops it: its shutdown packet; was1 killed: gone after dropTime.
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(700 * time.Millisecond)
		tb.Stop()
		ta.Kill()
	}()
	rep, r = membersOn(t, c, lab.Private{}, "--duration", "5s")
	<-done
	ma, mb = memberAt(rep, "10.99.0.1"), memberAt(rep, "10.99.0.2")
	if mb == nil || mb.Status != members.StatusGone || mb.ShutdownAt == "" || !saysAny(mb, "BABY-ALEX") {
		t.Errorf("was2 stopped: %+v; want gone, with its shutdown packet", mb)
	}
	if ma == nil || ma.Status != members.StatusGone || ma.ShutdownAt != "" || !saysAny(ma, "past dropTime 3s") {
		t.Errorf("was1 killed: %+v; want gone after dropTime, no shutdown packet", ma)
	}
	if r.code != 1 {
		t.Errorf("members with both gone: exit %d; want 1", r.code)
	}
}

// TestMembersSeeLoopback: was1's host name maps to 127.0.1.1 when its Tomcat starts
// (Debian's installer line): Tomcat advertises loopback, and members says so, on was1 and
// on another host.
func TestMembersSeeLoopback(t *testing.T) {
	lab.RequireTomcat(t)
	l := lab.New(t)
	a, c := l.AddHost("was1", 1), l.AddHost("obs", 3)
	a.AddMulticastRoute()
	c.AddMulticastRoute()
	ta := a.StartTomcat(lab.TomcatSpec{Name: "loop", Files: tcConf{JvmRoute: "tomcat1"}.files(), Hostname: "was1",
		Hosts: "127.0.0.1\tlocalhost\n127.0.1.1\twas1\n"})
	ta.WaitLog(t, 90*time.Second, "Receiver Server Socket bound to:[/127.0.1.1:4000]")
	for _, run := range []struct {
		h    *lab.Host
		args []string
	}{{a, []string{"--tomcat", ta.Base, "--tomcat-home", lab.TomcatHome}}, {c, nil}} {
		rep, r := membersOn(t, run.h, lab.Private{}, append(run.args, "--duration", "1500ms")...)
		m := memberAt(rep, "127.0.1.1")
		if r.code != 1 || m == nil || m.Status != members.StatusProblem || !saysAny(m, "advertises loopback 127.0.1.1") ||
			m.Source != "10.99.0.1" {
			t.Errorf("members on %s: exit %d, %+v; want was1's member flagged for loopback, heard from 10.99.0.1\n%s", run.h.Name, r.code, m, r.stdout)
		}
	}
	pre, _ := preflightJSON(t, a, lab.Private{Hosts: "127.0.0.1\tlocalhost\n127.0.1.1\twas1\n", Hostname: "was1"},
		"--tomcat", ta.Base, "--tomcat-home", lab.TomcatHome, "--iface", "cl0", "--skip", "ntp.sync")
	if got := check(t, pre, "tomcat.members"); got.Status != "fail" || !strings.Contains(got.Summary, "advertises loopback 127.0.1.1") {
		t.Errorf("tomcat.members where Tomcat advertises loopback = %s: %s (%s)", got.Status, got.Summary, got.Detail)
	}
	// Both follow from the host name: shown under hosts.hostname, not beside it.
	for _, id := range []string{"tomcat.members", "tomcat.receiver"} {
		if got := check(t, pre, id); got.Status != "fail" || got.ExplainedBy != "hosts.hostname" || check(t, pre, "hosts.hostname").Status != "fail" {
			t.Errorf("%s = %s, explained by %q; want a failure explained by hosts.hostname", id, got.Status, got.ExplainedBy)
		}
	}
}

// grepLines keeps the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// peakKB runs members on h and returns its peak resident set (VmHWM), read from the
// kernel until it exits.
func peakKB(t *testing.T, h *lab.Host, args ...string) int {
	t.Helper()
	cmd := h.Command(lab.Private{}, binary, append([]string{"members", "-o", "json", "--iface", "cl0"}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	peak := 0
	for {
		select {
		case <-done:
			return peak
		case <-time.After(50 * time.Millisecond):
			if kb := vmHWMOf(cmd.Process.Pid); kb > peak {
				peak = kb
			}
		}
	}
}

// ownTomcatOnly: with two real Tomcats in two network namespaces of one kernel (one /proc),
// preflight run on each host as an operator would (no --tomcat) checks that host's own
// Tomcat only: no "two instances" failure, the receiver judged is its own. Run from the
// machine's own namespace, each Tomcat is a node of its own, checked in its namespaces
// (its interfaces, its host name) and named by its ip netns name.
func ownTomcatOnly(t *testing.T, hosts map[*lab.Host]*lab.Tomcat) {
	t.Helper()
	// the operator's host list, as on every host: the lab hosts' LAN is routable between
	// them, so container.network passes each node
	nodeArgs := []string{"preflight", "-o", "json", "--skip", "ntp.sync", "--peer", "10.99.0.1", "--peer", "10.99.0.2"}
	for h, tc := range hosts {
		rep, r := preflightJSON(t, h, wasView(t, h, h.Name), "--skip", "ntp.sync")
		if len(rep.Settings.Instances) != 1 || rep.Settings.Instances[0].Base != tc.Base || rep.Settings.Instances[0].PID != tc.PID() {
			t.Errorf("preflight on %s found %+v; want its own Tomcat %s (pid %d) only", h.Name, rep.Settings.Instances, tc.Base, tc.PID())
		}
		for _, id := range []string{"tomcat.cluster", "tomcat.receiver", "tomcat.jvmroute"} {
			if got := check(t, rep, id); got.Status != probes.Pass {
				t.Errorf("preflight on %s: %s = %s %q; want pass (exit %d)", h.Name, id, got.Status, got.Summary, r.code)
			}
		}
		if len(rep.Nodes) != 0 {
			t.Errorf("preflight on %s reports nodes %+v; a namespace's run checks its own Tomcat only", h.Name, rep.Nodes)
		}
		nodeArgs = append(nodeArgs, "--container", h.Namespace())
	}
	r := execute(t, exec.Command(binary, nodeArgs...))
	var rep probes.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("preflight on the machine: exit %d, not JSON (%v)\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	if len(rep.Nodes) != len(hosts) {
		t.Fatalf("preflight on the machine with --container for each lab host: %d nodes; want %d\n%s", len(rep.Nodes), len(hosts), r.stdout)
	}
	for h, tc := range hosts {
		var n *probes.NodeReport
		for i := range rep.Nodes {
			if rep.Nodes[i].Node.Netns == h.Namespace() {
				n = &rep.Nodes[i]
			}
		}
		if n == nil || n.Report == nil {
			t.Errorf("node %s: %+v; want its report", h.Namespace(), n)
			continue
		}
		got := n.Report
		if n.Name != "network namespace "+h.Namespace() || n.Node.PID != tc.PID() || got.Host != h.Name ||
			len(got.Settings.Instances) != 1 || got.Settings.Instances[0].Base != tc.Base || got.Settings.Iface != "cl0" {
			t.Errorf("node %s = %s pid %d host %q iface %q instances %+v; want %s's Tomcat (pid %d) on cl0", h.Namespace(), n.Name, n.Node.PID,
				got.Host, got.Settings.Iface, got.Settings.Instances, h.Name, tc.PID())
		}
		for _, id := range []string{"tomcat.cluster", "tomcat.receiver", "hosts.hostname", "link.cluster", "container.network"} {
			if c := check(t, *got, id); c.Status != probes.Pass {
				t.Errorf("node %s: %s = %s %q (%s); want pass", h.Name, id, c.Status, c.Summary, c.Detail)
			}
		}
		if c := check(t, *got, "container.network"); c.Evidence["bridge"] != "br0" || !strings.Contains(c.Summary, "no peer given (--peer) is beyond it") {
			t.Errorf("node %s: container.network %q %v; want the lab's LAN bridge br0, every peer on its network", h.Name, c.Summary, c.Evidence)
		}
		if c := check(t, *got, "ntp.sync"); c.Status != probes.Skip {
			t.Errorf("node %s: ntp.sync = %s %q; want skipped (a container keeps its host's clock)", h.Name, c.Status, c.Summary)
		}
	}
	if r := execute(t, exec.Command(binary, "preflight", "--container", "no-such-container")); r.code != 2 || !strings.Contains(r.stderr, "--container") {
		t.Errorf("--container naming nothing: exit %d, %q; want 2 naming the flag", r.code, r.stderr)
	}
}
