package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes/lab"
	"github.com/clusterdoctor/clusterdoctor/probes/mcast"
)

// delivered sends 20 membership datagrams from a to the group and returns how many b's
// listener heard: what the kernel's firewall really does with them.
func delivered(t *testing.T, a, b *lab.Host) int {
	t.Helper()
	var out bytes.Buffer
	listener := b.Command(lab.Private{}, binary, "mcast-test", "--listen", "--iface", "cl0", "--duration", "1500ms", "-o", "json")
	listener.Stdout = &out
	if err := listener.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	s := execute(t, a.Command(lab.Private{}, binary, "mcast-test", "--send", "--iface", "cl0", "--count", "20", "--rate", "200"))
	listener.Wait()
	if s.code != 0 {
		t.Fatalf("--send: %d %s", s.code, s.stderr)
	}
	var heard mcast.Report
	if err := json.Unmarshal(out.Bytes(), &heard); err != nil {
		t.Fatalf("--listen: %v %s", err, out.String())
	}
	n := 0
	for _, s := range heard.Senders {
		n += int(s.Received)
	}
	return n
}

const customServices = `<?xml version="1.0" encoding="utf-8"?>
<service>
  <short>Tomcat cluster</short>
  <port protocol="tcp" port="4000-4100"/>
  <port protocol="tcp" port="8009"/>
  <include service="tomcat-membership"/>
</service>
`

const membershipService = `<?xml version="1.0" encoding="utf-8"?>
<service>
  <short>Tomcat membership</short>
  <port protocol="udp" port="45564"/>
</service>
`

// richRules adds, runtime and permanent, one rich rule per cluster port limited to the
// source network src, the way careful operators open them.
func richRules(src, action string) func(fw *lab.Firewalld) {
	return func(fw *lab.Firewalld) {
		for _, p := range [][2]string{{"45564", "udp"}, {"4000-4100", "tcp"}, {"8009", "tcp"}} {
			rule := fmt.Sprintf(`rule family="ipv4" source address="%s" port port="%s" protocol="%s" %s`, src, p[0], p[1], action)
			fw.Cmd("--add-rich-rule=" + rule)
			fw.Cmd("--permanent", "--add-rich-rule="+rule)
		}
	}
}

// TestFirewallPortsMatchesTheKernel runs a real firewalld guarding host b and checks, for
// each configuration, that firewall.ports' verdict is what the kernel does with real
// membership traffic from a.
func TestFirewallPortsMatchesTheKernel(t *testing.T) {
	t.Parallel() // its lab is its own, and discovery keeps to each lab host's namespace
	for _, tc := range []struct {
		name    string
		setup   func(fw *lab.Firewalld)
		status  string
		udp     string // firewall.ports evidence for 45564/udp
		arrives bool
	}{
		{"default public zone", nil, "fail", "missing", false},
		{"ports by range", func(fw *lab.Firewalld) {
			for _, p := range []string{"45564/udp", "4000-4200/tcp", "8009/tcp"} {
				fw.Cmd("--add-port=" + p)
				fw.Cmd("--permanent", "--add-port="+p)
			}
		}, "pass", "open", true},
		{"custom service with an include", func(fw *lab.Firewalld) {
			fw.Cmd("--add-service=tomcat-cluster")
			fw.Cmd("--permanent", "--add-service=tomcat-cluster")
		}, "pass", "open", true},
		{"interface in the trusted zone", func(fw *lab.Firewalld) {
			fw.Cmd("--zone=trusted", "--change-interface=cl0")
			fw.Cmd("--permanent", "--zone=trusted", "--add-interface=cl0")
		}, "pass", "open", true},
		{"reject rich rule over an open port", func(fw *lab.Firewalld) {
			for _, p := range []string{"45564/udp", "4000-4100/tcp", "8009/tcp"} {
				fw.Cmd("--add-port=" + p)
				fw.Cmd("--permanent", "--add-port="+p)
			}
			rule := `rule family="ipv4" port port="45564" protocol="udp" reject`
			fw.Cmd("--add-rich-rule=" + rule)
			fw.Cmd("--permanent", "--add-rich-rule="+rule)
		}, "fail", "missing", false},
		{"runtime-only opening", func(fw *lab.Firewalld) {
			for _, p := range []string{"45564/udp", "4000-4100/tcp", "8009/tcp"} {
				fw.Cmd("--add-port=" + p)
			}
		}, "warn", "runtime-only", true},
		{"permanent-only opening", func(fw *lab.Firewalld) {
			for _, p := range []string{"45564/udp", "4000-4100/tcp", "8009/tcp"} {
				fw.Cmd("--permanent", "--add-port="+p)
			}
		}, "warn", "permanent-only", false},
		{"cluster subnet bound to the trusted zone by source", func(fw *lab.Firewalld) {
			fw.Cmd("--zone=trusted", "--add-source=10.99.0.0/24")
			fw.Cmd("--permanent", "--zone=trusted", "--add-source=10.99.0.0/24")
		}, "pass", "open", true},
		{"source binding to drop wins over the interface's trusted zone", func(fw *lab.Firewalld) {
			fw.Cmd("--zone=trusted", "--change-interface=cl0")
			fw.Cmd("--permanent", "--zone=trusted", "--add-interface=cl0")
			fw.Cmd("--zone=drop", "--add-source=10.99.0.0/16")
			fw.Cmd("--permanent", "--zone=drop", "--add-source=10.99.0.0/16")
		}, "fail", "missing", false},
		{"rich rules open it to the cluster subnet", richRules("10.99.0.0/24", "accept"), "pass", "open", true},
		{"rich rules open it to half the subnet, the peer outside", richRules("10.99.0.128/25", "accept"), "fail", "missing", false},
		{"rich rule rejects the cluster subnet over open ports", func(fw *lab.Firewalld) {
			for _, p := range []string{"45564/udp", "4000-4100/tcp", "8009/tcp"} {
				fw.Cmd("--add-port=" + p)
				fw.Cmd("--permanent", "--add-port="+p)
			}
			richRules("10.99.0.0/16", "reject")(fw)
		}, "fail", "missing", false},
		{"interface bound to a non-default zone", func(fw *lab.Firewalld) {
			fw.Cmd("--zone=internal", "--change-interface=cl0")
			fw.Cmd("--permanent", "--zone=internal", "--add-interface=cl0")
			fw.Cmd("--zone=public", "--add-port=45564/udp") // the default zone's opening does not count
		}, "fail", "missing", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := lab.New(t)
			a, b := l.AddHost("a", 1), l.AddHost("b", 2)
			a.AddMulticastRoute()
			b.AddMulticastRoute()
			bus := b.StartSystemBus()
			fw := b.StartFirewalld(bus, func(dir string) {
				os.WriteFile(filepath.Join(dir, "services", "tomcat-cluster.xml"), []byte(customServices), 0o644)
				os.WriteFile(filepath.Join(dir, "services", "tomcat-membership.xml"), []byte(membershipService), 0o644)
			})
			if tc.setup != nil {
				tc.setup(fw)
			}
			priv := lab.Private{Env: []string{"DBUS_SYSTEM_BUS_ADDRESS=" + bus}}
			rep, _ := preflightJSON(t, b, priv, "--iface", "cl0")
			c := check(t, rep, "firewall.ports")
			ports, _ := c.Evidence["ports"].(map[string]any)
			if string(c.Status) != tc.status || ports["45564/udp"] != tc.udp {
				t.Errorf("firewall.ports = %s %v: %s\n%s", c.Status, ports, c.Summary, c.Detail)
			}
			// the permanent side is firewalld's own files, its --system-config
			if from := fmt.Sprint(c.Evidence["permanentFrom"]); !strings.HasPrefix(from, fw.Config+" and ") {
				t.Errorf("firewall.ports read the permanent configuration from %q; want firewalld's --system-config %s", from, fw.Config)
			}
			if got := delivered(t, a, b); (got > 0) != tc.arrives {
				t.Errorf("the kernel delivered %d of 20 datagrams; the check said %s (%s)", got, tc.udp, c.Summary)
			}
			if tc.status == "pass" {
				return
			}

			dry := execute(t, b.Command(priv, binary, "fix", "firewall", "--iface", "cl0", "--dry-run"))
			if !strings.Contains(dry.stdout, "--add-port=") || !strings.Contains(dry.stdout, "nothing was changed") {
				t.Errorf("--dry-run:\n%s%s", dry.stdout, dry.stderr)
			}
			fix := execute(t, b.Command(priv, binary, "fix", "firewall", "--iface", "cl0"))
			t.Logf("fix firewall:\n%s%s", fix.stdout, fix.stderr)
			wantAfter := "pass"
			if tc.udp == "missing" && strings.Contains(tc.name, "reject") {
				wantAfter = "fail" // a reject rule is the operator's decision: never removed, still reported
			}
			if !strings.Contains(fix.stdout, "check: firewall.ports "+wantAfter) {
				t.Errorf("after fix firewall: want %s:\n%s%s", wantAfter, fix.stdout, fix.stderr)
			}
			if wantAfter == "pass" {
				if got := delivered(t, a, b); got == 0 {
					t.Errorf("after fix firewall the kernel still drops the membership traffic")
				}
				again := execute(t, b.Command(priv, binary, "fix", "firewall", "--iface", "cl0"))
				if !strings.Contains(again.stdout, "already in place") {
					t.Errorf("second fix firewall:\n%s", again.stdout)
				}
			}
		})
	}
}

// TestFirewallZoneFromNetworkManager: NetworkManager manages cl0 with a profile whose
// connection.zone is trusted and hands that zone to a real firewalld when it brings the
// connection up. firewalld's own files do not bind cl0, so after a reboot trusted still
// applies only because the profile says so: firewall.ports passes (not "runtime-only"),
// naming the profile, and the kernel lets the membership traffic in.
func TestFirewallZoneFromNetworkManager(t *testing.T) {
	l := lab.New(t)
	a, b := l.AddHost("a", 1), l.AddHost("b", 2)
	a.AddMulticastRoute()
	b.FlushCluster()
	bus := b.StartSystemBus()
	fw := b.StartFirewalld(bus, nil)
	nm := b.NewNetworkManager(bus, l.Path("nm-profiles"))
	nm.WriteProfile("cluster.nmconnection", strings.Replace(nmProfile, "address1=10.99.0.1/24\n",
		"address1=10.99.0.2/24\nroute1=224.0.0.0/4\n", 1)+"[connection]\nzone=trusted\n")
	nm.Start()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if strings.TrimSpace(fw.Cmd("--get-zone-of-interface=cl0")) == "trusted" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("NetworkManager did not put cl0 in trusted: %s\n%s", fw.Cmd("--get-active-zones"), nm.Log())
		}
	}
	// firewall-cmd answers from the profile too (it asks NetworkManager itself); the zone
	// files, what firewalld's permanent D-Bus configuration reads, do not name cl0.
	if out := fw.Cmd("--permanent", "--get-zone-of-interface=cl0"); strings.TrimSpace(out) != "trusted" {
		t.Errorf("firewall-cmd --permanent --get-zone-of-interface=cl0: %s", out)
	}
	zoneFiles, _ := filepath.Glob(filepath.Join(fw.Config, "zones", "*.xml"))
	for _, f := range zoneFiles {
		if b, _ := os.ReadFile(f); strings.Contains(string(b), "cl0") {
			t.Fatalf("%s binds cl0:\n%s", f, b)
		}
	}

	priv := lab.Private{Env: []string{"DBUS_SYSTEM_BUS_ADDRESS=" + bus}}
	rep, _ := preflightJSON(t, b, priv, "--iface", "cl0")
	c := check(t, rep, "firewall.ports")
	if c.Status != "pass" || c.Evidence["permanentZone"] != "trusted" || !strings.Contains(c.Summary, `cl0's zone in NetworkManager profile "cluster"`) {
		t.Errorf("firewall.ports = %s %v: %s\n%s", c.Status, c.Evidence, c.Summary, c.Detail)
	}
	if got := delivered(t, a, b); got == 0 {
		t.Errorf("the kernel dropped the membership traffic; the check said %s", c.Status)
	}
}

// TestFirewallPortsJudgesEveryPeer: with the peers named, firewall.ports judges the
// cluster's traffic from each of them, through every rule set the kernel runs: a rule
// that admits one peer of two fails for the other, and a drop in a table beside firewalld
// is named, not blamed on the zone. Each verdict is checked against real multicast from
// each peer.
func TestFirewallPortsJudgesEveryPeer(t *testing.T) {
	lab.RequireCommands(t, "nft", "iptables-legacy")
	t.Parallel() // its lab is its own, and discovery keeps to each lab host's namespace
	openPorts := func(fw *lab.Firewalld) {
		for _, p := range []string{"45564/udp", "4000-4100/tcp", "8009/tcp"} {
			fw.Cmd("--add-port=" + p)
			fw.Cmd("--permanent", "--add-port="+p)
		}
	}
	for _, tc := range []struct {
		name      string
		firewalld func(fw *lab.Firewalld) // nil: no firewalld on b
		nft       string
		legacy    []string
		status    string
		says      []string
		not       []string
		fromA     bool // membership from a (10.99.0.1) arrives
		fromC     bool // and from c (10.99.0.3)
	}{
		{name: "rich rules admit one peer of two", firewalld: richRules("10.99.0.1", "accept"),
			status: "fail", says: []string{"blocks 45564/udp from 10.99.0.3"}, not: []string{"from 10.99.0.1"}, fromA: true},
		{name: "rich rules admit exactly the peers", firewalld: func(fw *lab.Firewalld) {
			richRules("10.99.0.1", "accept")(fw)
			richRules("10.99.0.3", "accept")(fw)
		}, status: "pass", says: []string{"from 10.99.0.1, 10.99.0.3"}, fromA: true, fromC: true},
		{name: "an nftables table of its own drops beside firewalld", firewalld: openPorts,
			nft:    "table inet guard { chain input { type filter hook input priority 10; udp dport 45564 drop; }; }",
			status: "fail", says: []string{"nftables table inet guard blocks 45564/udp"}, not: []string{"zone public"}},
		{name: "legacy iptables drops beside firewalld", firewalld: openPorts,
			legacy: []string{"-A INPUT -p udp --dport 45564 -j DROP"},
			status: "fail", says: []string{"legacy iptables' filter table blocks 45564/udp"}, not: []string{"zone public"}},
		{name: "nftables alone admits one peer of two", nft: `table inet filter { chain input { type filter hook input priority 0; policy drop;
			ip saddr 10.99.0.1 udp dport 45564 accept; tcp dport 4000-4100 accept; tcp dport 8009 accept; }; }`,
			status: "fail", says: []string{"nftables table inet filter blocks 45564/udp from 10.99.0.3"}, fromA: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := lab.New(t)
			a, b, c := l.AddHost("a", 1), l.AddHost("b", 2), l.AddHost("c", 3)
			for _, h := range []*lab.Host{a, b, c} {
				h.AddMulticastRoute()
			}
			priv := noFirewalld
			if tc.firewalld != nil {
				bus := b.StartSystemBus()
				tc.firewalld(b.StartFirewalld(bus, nil))
				priv = lab.Private{Env: []string{"DBUS_SYSTEM_BUS_ADDRESS=" + bus}}
			}
			if tc.nft != "" {
				loadRules(t, b, tc.nft, "nft", "-f", "-")
			}
			for _, cmd := range tc.legacy {
				loadRules(t, b, "", "iptables-legacy", strings.Fields(cmd)...)
			}
			rep, _ := preflightJSON(t, b, priv, "--iface", "cl0", "--peer", "10.99.0.1", "--peer", "10.99.0.2", "--peer", "10.99.0.3")
			ch := check(t, rep, "firewall.ports")
			if string(ch.Status) != tc.status {
				t.Errorf("firewall.ports = %s, want %s: %s\n%s", ch.Status, tc.status, ch.Summary, ch.Detail)
			}
			for _, s := range tc.says {
				if !strings.Contains(ch.Summary, s) {
					t.Errorf("summary %q does not say %q", ch.Summary, s)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(ch.Summary, s) {
					t.Errorf("summary %q says %q", ch.Summary, s)
				}
			}
			if got := delivered(t, a, b); (got > 0) != tc.fromA {
				t.Errorf("from a the kernel delivered %d of 20 datagrams; want some: %v (%s)", got, tc.fromA, ch.Summary)
			}
			if got := delivered(t, c, b); (got > 0) != tc.fromC {
				t.Errorf("from c the kernel delivered %d of 20 datagrams; want some: %v (%s)", got, tc.fromC, ch.Summary)
			}
		})
	}
}
