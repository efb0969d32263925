package main_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes/lab"
	"github.com/clusterdoctor/clusterdoctor/probes/mcast"
)

// soloRun is mcast-test on a alone against b (b may or may not run one).
func soloRun(t *testing.T, a, b *lab.Host, priv lab.Private, extra ...string) (mcast.PeerResult, run) {
	t.Helper()
	args := append([]string{"mcast-test", "-o", "json", "--iface", "cl0", "--peer", b.Addr.String(),
		"--wait", "1s", "--count", "5", "--interval", "10ms"}, extra...)
	r := execute(t, a.Command(priv, binary, args...))
	var rep mcast.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.Peers) != 1 {
		t.Fatalf("exit %d, not one peer in JSON (%v):\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	return rep.Peers[0], r
}

// TestMeshSaysWhyFromTheKernel: a peer that cannot be reached is told apart by what the
// kernel queued for the socket (IP_RECVERR): a firewall's reject names the host that sent
// it, a silent drop is called that, a closed port is "not running". Each firewall is the
// real one: nftables rules as an admin writes them, and firewalld's own default zone.
func TestMeshSaysWhyFromTheKernel(t *testing.T) {
	lab.RequireCommands(t, "nft")
	for _, tc := range []struct {
		name    string
		rules   string // b's nftables input rules
		verdict string
		says    string
	}{
		{"rejected by nftables", "udp dport 45564 reject with icmpx admin-prohibited", mcast.VerdictRejected,
			"rejected by a firewall on 10.99.0.2 (10.99.0.2 reports ICMP communication administratively prohibited"},
		{"rejected as host-prohibited", "udp dport 45564 reject with icmp host-prohibited", mcast.VerdictRejected,
			"rejected by a firewall on 10.99.0.2"},
		{"dropped", "udp dport 45564 drop", mcast.VerdictDropped, "silently dropped: no answer at all on udp/45564"},
		{"port unreachable", "", mcast.VerdictNotRunning, "port unreachable (10.99.0.2 reports ICMP port unreachable)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := lab.New(t)
			a, b := l.AddHost("a", 1), l.AddHost("b", 2)
			a.AddMulticastRoute()
			b.AddMulticastRoute()
			if tc.rules != "" {
				b.Nft("table inet cdtest {\n chain in {\n type filter hook input priority 0\n " + tc.rules + "\n }\n}\n")
			}
			p, r := soloRun(t, a, b, lab.Private{})
			if r.code != 1 || p.Verdict != tc.verdict || !strings.Contains(p.Reason, tc.says) {
				t.Errorf("exit %d, %s (%s); want 1, %s saying %q", r.code, p.Verdict, p.Reason, tc.verdict, tc.says)
			}
		})
	}

	t.Run("firewalld's default zone", func(t *testing.T) {
		l := lab.New(t)
		a, b := l.AddHost("a", 1), l.AddHost("b", 2)
		a.AddMulticastRoute()
		b.AddMulticastRoute()
		b.StartFirewalld(b.StartSystemBus(), nil)
		p, r := soloRun(t, a, b, lab.Private{})
		if r.code != 1 || p.Verdict != mcast.VerdictRejected || !strings.Contains(p.Reason, "rejected by a firewall on 10.99.0.2") ||
			!strings.Contains(p.Reason, "firewall-cmd --add-port=45564/udp") {
			t.Errorf("against firewalld's public zone: exit %d, %s (%s); want rejected by b's firewall with the fix", r.code, p.Verdict, p.Reason)
		}
	})
}

// TestMeshNamesItsOwnFirewall: firewalld on a (default zone, 45564/udp closed) lets the
// answers to a's own requests in (conntrack) but keeps the peer's multicast out. a must
// say that its own firewall is the cause, in firewall.ports' words; b sees a reject.
func TestMeshNamesItsOwnFirewall(t *testing.T) {
	l := lab.New(t)
	a, b := l.AddHost("a", 1), l.AddHost("b", 2)
	a.AddMulticastRoute()
	b.AddMulticastRoute()
	bus := a.StartSystemBus()
	a.StartFirewalld(bus, nil)
	runs := runMeshWith(t, []*lab.Host{a, b}, map[string]lab.Private{"a": {Env: []string{"DBUS_SYSTEM_BUS_ADDRESS=" + bus}}},
		"--count", "10", "--interval", "20ms", "--wait", "2s")
	pa := peerOf(t, runs["a"], b.Addr.String())
	if pa.Verdict == mcast.VerdictOK || !strings.Contains(pa.Reason, "this host's") || !strings.Contains(pa.Reason, "firewalld zone public") {
		t.Errorf("a -> b: %s (%s); want a failure naming this host's firewalld zone public\n%s\n%s", pa.Verdict, pa.Reason, runs["a"].raw, runs["b"].raw)
	}
	pb := peerOf(t, runs["b"], a.Addr.String())
	if pb.Verdict != mcast.VerdictRejected || !strings.Contains(pb.Reason, "rejected by a firewall on 10.99.0.1") {
		t.Errorf("b -> a: %s (%s); want rejected by a's firewall", pb.Verdict, pb.Reason)
	}
}

// TestMeshTestsTCPIntoTheReceiverRange: each host listens on the first free port of the
// receiver range as NioReceiver's autoBind would; multicast alone working is not ok when
// the peers cannot open TCP to it. Refused, rejected and dropped are told apart, from
// both sides.
func TestMeshTestsTCPIntoTheReceiverRange(t *testing.T) {
	lab.RequireCommands(t, "nft")
	for _, tc := range []struct {
		rule, outcome string
	}{
		{"tcp dport 4000-4100 drop", "dropped"},
		{"tcp dport 4000-4100 reject with icmpx admin-prohibited", "rejected"},
		{"tcp dport 4000-4100 reject with tcp reset", "refused"},
	} {
		t.Run(tc.outcome, func(t *testing.T) {
			l := lab.New(t)
			a, b := l.AddHost("a", 1), l.AddHost("b", 2)
			a.AddMulticastRoute()
			b.AddMulticastRoute()
			b.Nft("table inet cdtest {\n chain in {\n type filter hook input priority 0\n " + tc.rule + "\n }\n}\n")
			runs := runMesh(t, []*lab.Host{a, b}, "--count", "10", "--interval", "20ms")
			if port, owner := runs["b"].rep.TCPPort, runs["b"].rep.TCPOwner; port != 4000 || owner != "clusterdoctor" {
				t.Fatalf("b listens on %d (%s); want 4000, clusterdoctor's stand-in", port, owner)
			}
			pa := peerOf(t, runs["a"], b.Addr.String())
			if runs["a"].code != 1 || pa.Verdict != mcast.VerdictTCPBlocked || !strings.Contains(pa.Reason, "TCP to 10.99.0.2:4000") || !strings.Contains(pa.Reason, tc.outcome) {
				t.Errorf("a -> b: exit %d, %s (%s); want tcp-blocked, %s", runs["a"].code, pa.Verdict, pa.Reason, tc.outcome)
			}
			pb := peerOf(t, runs["b"], a.Addr.String())
			if pb.Verdict != mcast.VerdictTCPBlocked || !strings.Contains(pb.Reason, "receiver port 4000 was "+tc.outcome) {
				t.Errorf("b -> a: %s (%s); want tcp-blocked, the peer's TCP here %s", pb.Verdict, pb.Reason, tc.outcome)
			}
		})
	}
}
