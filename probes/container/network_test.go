package container

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// TestJudgeNetwork: the verdicts from a node's address, its host side and the peers
// beyond its network (logic only; TestNetworkOfANode runs it against the kernel).
func TestJudgeNetwork(t *testing.T) {
	addr := netip.MustParsePrefix("10.88.0.5/16")
	peer := netip.MustParseAddr("10.99.0.2")
	bridge := HostSide{Kind: "veth", Namespace: "the host's own network namespace", Link: "veth1", Bridge: "podman0", Egress: map[netip.Addr]string{peer: "eth0"}}
	overlay := bridge
	overlay.Tunnels = []string{"flannel.1 (vxlan)"}
	dropping := bridge
	dropping.Dropped = []string{"heartbeats to 228.0.0.4:45564/udp by rule handle 4 of chain FORWARD (table ip filter)"}
	for _, tc := range []struct {
		name      string
		side      HostSide
		beyond    []netip.Addr
		multicast bool
		status    probes.Status
		want      []string // in the summary
		fix       []string // in the remediation
	}{
		{"one host's containers", bridge, nil, true, probes.Pass, []string{"bridge podman0 in the host's own network namespace", "no peer given"}, nil},
		{"a peer beyond the bridge", bridge, []netip.Addr{peer}, true, probes.Fail,
			[]string{"Tomcat advertises 10.88.0.5", "10.99.0.2 through eth0", "multicast heartbeats stay on bridge podman0:"}, []string{"--network host", "StaticMembershipService"}},
		{"static membership beyond the bridge", bridge, []netip.Addr{peer}, false, probes.Fail, []string{"Tomcat advertises 10.88.0.5"}, []string{"macvlan"}},
		{"an overlay routes it", overlay, []netip.Addr{peer}, false, probes.Pass, []string{"overlay flannel.1 (vxlan)"}, nil},
		{"an overlay carries no multicast", overlay, []netip.Addr{peer}, true, probes.Fail, []string{"multicast heartbeats stay"}, []string{"StaticMembershipService"}},
		{"macvlan on the LAN", HostSide{Kind: "macvlan"}, nil, true, probes.Pass, []string{"macvlan on the hosts' LAN"}, nil},
		{"the host's forward rules drop the bridge's traffic", dropping, nil, true, probes.Fail,
			[]string{"the forward rules of the host's own network namespace drop what the other containers on podman0 send it", "heartbeats to 228.0.0.4:45564/udp by rule handle 4"}, []string{`"icc": true`}},
		{"macvlan, a peer in another subnet", HostSide{Kind: "macvlan"}, []netip.Addr{peer}, true, probes.Fail, []string{"multicast does not cross"}, []string{"StaticMembershipService"}},
	} {
		r := judgeNetwork("eth0", addr, tc.side, tc.beyond, tc.multicast)
		if r.Status != tc.status {
			t.Errorf("%s: %s %q; want %s", tc.name, r.Status, r.Summary, tc.status)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.Summary, w) {
				t.Errorf("%s: summary %q lacks %q", tc.name, r.Summary, w)
			}
		}
		for _, w := range tc.fix {
			if !strings.Contains(r.Remediation, w) {
				t.Errorf("%s: remediation %q lacks %q", tc.name, r.Remediation, w)
			}
		}
		if tc.name == "an overlay carries no multicast" && strings.Contains(r.Summary, "advertises") {
			t.Errorf("%s: an overlay routes unicast, yet %q", tc.name, r.Summary)
		}
	}
}

// TestNetworkOfANode: a node whose eth1 is a veth into a bridge of another namespace (the
// host, as an engine's bridge is), a process in the node standing in for its Tomcat. The
// check finds the host's side through the veth, and judges by the peers given: none
// beyond the bridge passes, another lab host fails (routed by the host, multicast stays
// on the bridge), and an overlay device on the host lets unicast through.
func TestNetworkOfANode(t *testing.T) {
	lab.RequireRoot(t)
	lab.RequireCommands(t, "nft", "iptables-legacy")
	l := lab.New(t)
	host, node := l.AddHost("host", 1), l.AddHost("node", 2)
	l.AddHost("other", 3)
	host.BridgeTo("cbr0", node, "eth1")
	must := func(err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	br, err := host.NL().LinkByName("cbr0")
	must(err, "find cbr0")
	must(host.NL().AddrAdd(br, &netlink.Addr{IPNet: &net.IPNet{IP: net.IPv4(10, 77, 0, 1), Mask: net.CIDRMask(24, 32)}}), "address cbr0")
	eth1, err := node.NL().LinkByName("eth1")
	must(err, "find eth1")
	must(node.NL().AddrAdd(eth1, &netlink.Addr{IPNet: &net.IPNet{IP: net.IPv4(10, 77, 0, 5), Mask: net.CIDRMask(24, 32)}}), "address eth1")
	jvm := node.Start(lab.Private{}, "node-jvm", "sleep", "120") // stands in for the container's Tomcat
	lab.WaitInNamespace(t, jvm.Process.Pid)

	run := func(membership string, peers ...string) probes.Result {
		var r probes.Result
		must(node.Do(func() error {
			env, err := probes.NewEnv("/")
			if err != nil {
				return err
			}
			defer env.Close()
			env.Node = jvm.Process.Pid
			r = NetworkCheck{Iface: "eth1", Peers: peers, Membership: membership, Group: netip.MustParseAddr("228.0.0.4"), McastPort: 45564, ReceiverPort: 4000}.Run(context.Background(), env)
			return nil
		}), "run in the node")
		return r
	}
	if r := run(probes.Multicast); r.Status != probes.Pass || !strings.Contains(r.Summary, "bridge cbr0") || r.Evidence["hostLink"] != "p-node" || strings.Contains(r.Detail, "legacy") {
		t.Errorf("no peer beyond the bridge: %s %q %v; want pass naming cbr0 and p-node", r.Status, r.Summary, r.Evidence)
	}
	if r := run(probes.Multicast, "10.77.0.9"); r.Status != probes.Pass {
		t.Errorf("a peer on the bridge's network: %s %q; want pass", r.Status, r.Summary)
	}
	// the node's own host in the host list (its LAN address) reaches the bridge itself
	if r := run(probes.Multicast, "10.99.0.1"); r.Status != probes.Pass {
		t.Errorf("the host list naming the node's own host: %s %q; want pass", r.Status, r.Summary)
	}
	r := run(probes.Multicast, "10.99.0.3")
	if r.Status != probes.Fail || !strings.Contains(r.Summary, "Tomcat advertises 10.77.0.5") || !strings.Contains(r.Summary, "10.99.0.3 through cl0") ||
		!strings.Contains(r.Summary, "multicast heartbeats stay on bridge cbr0:") || !strings.Contains(r.Detail, "StaticMembershipService") {
		t.Errorf("a peer on another host: %s %q (%s); want fail, routed through the host's cl0, multicast on cbr0", r.Status, r.Summary, r.Detail)
	}
	vx := &netlink.Vxlan{LinkAttrs: netlink.LinkAttrs{Name: "ovl0"}, VxlanId: 42, Port: 4789}
	must(host.NL().LinkAdd(vx), "add vxlan ovl0")
	if r := run("static", "10.99.0.3"); r.Status != probes.Pass || !strings.Contains(r.Summary, "overlay ovl0 (vxlan)") {
		t.Errorf("static membership with an overlay on the host: %s %q; want pass naming ovl0", r.Status, r.Summary)
	}
	// The host's forward rules drop the heartbeats between the bridge's ports (br_netfilter
	// passes bridged traffic to them, as it does on this kernel by default).
	out, err := host.Command(lab.Private{}, "nft", "add table ip filter; add chain ip filter FORWARD { type filter hook forward priority 0; }; "+
		"add rule ip filter FORWARD iifname cbr0 oifname cbr0 udp dport 45564 drop").CombinedOutput()
	must(err, "nft: "+string(out))
	if r := run(probes.Multicast); r.Status != probes.Fail || !strings.Contains(r.Summary, "drop what the other containers on cbr0 send it") ||
		!strings.Contains(r.Summary, "heartbeats to 228.0.0.4:45564/udp by rule handle") || strings.Contains(r.Summary, "replication to") {
		t.Errorf("the host's forward rules drop the heartbeats: %s %q; want fail naming the rule, and replication let through", r.Status, r.Summary)
	}
	// Legacy iptables beside nftables: its FORWARD chain is not read, and the check says so.
	if out, err := host.Command(lab.Private{}, "iptables-legacy", "-A", "FORWARD", "-i", "cbr0", "-j", "ACCEPT").CombinedOutput(); err != nil {
		t.Fatalf("iptables-legacy: %v\n%s", err, out)
	}
	if r := run(probes.Multicast); !strings.Contains(r.Detail, "legacy iptables has FORWARD rules or policy there too") {
		t.Errorf("beside a legacy filter table: detail %q; want it named as not read", r.Detail)
	}
	// Run on a host for itself, the check leaves it to the nodes' runs.
	if r := (NetworkCheck{Iface: "cl0"}).Run(context.Background(), &probes.Env{}); r.Status != probes.Skip {
		t.Errorf("on a host for itself: %s %q; want skip", r.Status, r.Summary)
	}
}

// TestSpareThread: what runs on a spare thread may change its namespaces; the process's
// main thread (whose view /proc/self and /proc/net give) never moves, and never runs it.
func TestSpareThread(t *testing.T) {
	lab.RequireRoot(t)
	before, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		var tid int
		var err error
		onSpareThread(func() {
			tid = unix.Gettid()
			err = unix.Unshare(unix.CLONE_NEWNET)
		})
		if err != nil || tid == unix.Getpid() {
			t.Fatalf("on thread %d (the main thread is %d): %v", tid, unix.Getpid(), err)
		}
	}
	if after, _ := os.Readlink("/proc/self/ns/net"); after != before {
		t.Errorf("the main thread moved from %s to %s", before, after)
	}
}

// TestPublishedByDNAT: a port this host publishes by a nat rule (nftables' own dnat, and
// iptables-nft's DNAT target as Docker and netavark write it) is named by the namespace
// the rule sends it to, found by the address a veth of this host leads to.
func TestPublishedByDNAT(t *testing.T) {
	lab.RequireRoot(t)
	lab.RequireCommands(t, "nft", "iptables")
	l := lab.New(t)
	host, node := l.AddHost("host", 1), l.AddHost("node", 2)
	host.BridgeTo("cbr0", node, "eth1")
	eth1, err := node.NL().LinkByName("eth1")
	if err != nil {
		t.Fatal(err)
	}
	if err := node.NL().AddrAdd(eth1, &netlink.Addr{IPNet: &net.IPNet{IP: net.IPv4(10, 77, 0, 5), Mask: net.CIDRMask(24, 32)}}); err != nil {
		t.Fatal(err)
	}
	jvm := node.Start(lab.Private{}, "node-jvm", "sleep", "120")
	lab.WaitInNamespace(t, jvm.Process.Pid)
	for _, cmd := range [][]string{
		{"nft", "add table ip own; add chain ip own out { type nat hook output priority -100; }; add rule ip own out ip daddr 127.0.0.1 tcp dport 8080 dnat to 10.77.0.5:8080"},
		{"iptables", "-t", "nat", "-A", "OUTPUT", "-d", "127.0.0.1", "-p", "tcp", "--dport", "8081", "-j", "DNAT", "--to-destination", "10.77.0.5:8080"},
	} {
		if out, err := host.Command(lab.Private{}, cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd, err, out)
		}
	}
	published := func(port uint16) (name string) {
		if err := host.Do(func() error {
			env, err := probes.NewEnv("/")
			if err != nil {
				return err
			}
			defer env.Close()
			var via string
			name, via = PublishedBy(context.Background(), env, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port))
			if name != "" && !strings.HasPrefix(via, "DNAT to 10.77.0.5:8080 by rule handle") {
				t.Errorf("127.0.0.1:%d found by %q; want the DNAT rule", port, via)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return name
	}
	want := "network namespace " + node.Namespace()
	for _, port := range []uint16{8080, 8081} {
		if got := published(port); got != want {
			t.Errorf("127.0.0.1:%d: %q; want %q", port, got, want)
		}
	}
	if got := published(8082); got != "" {
		t.Errorf("127.0.0.1:8082, no rule and no listener: %q; want none", got)
	}
}
