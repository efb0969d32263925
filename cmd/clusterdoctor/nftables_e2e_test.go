package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// noFirewalld is a host without firewalld: its configuration hidden, no system bus.
var noFirewalld = lab.Private{
	Setup: []string{"mount -t tmpfs none /etc/firewalld", "mount -t tmpfs none /usr/lib/firewalld"},
	Env:   []string{"DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent"},
}

// loadRules runs a setup command (nft -f -, iptables ...) in the host's namespace.
func loadRules(t *testing.T, h *lab.Host, stdin string, name string, args ...string) {
	t.Helper()
	c := h.Command(lab.Private{}, name, args...)
	c.Stdin = strings.NewReader(stdin)
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

const nftHeader = "table inet filter {\n"

// centos7 is iptables-services' default INPUT chain on CentOS 7 (as iptables-legacy
// commands), with extra rules before its final REJECT.
func centos7(extra ...string) []string {
	rules := []string{
		"-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT",
		"-A INPUT -p icmp -j ACCEPT",
		"-A INPUT -i lo -j ACCEPT",
		"-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT",
	}
	return append(append(rules, extra...), "-A INPUT -j REJECT --reject-with icmp-host-prohibited")
}

// TestNftablesVerdictMatchesTheKernel: on a host without firewalld, firewall.ports reads
// the kernel's nftables rule set (hand-written or made by iptables-nft); for each one its
// verdict on the membership port must be what the kernel does with real multicast.
func TestNftablesVerdictMatchesTheKernel(t *testing.T) {
	lab.RequireCommands(t, "nft", "iptables")
	t.Parallel() // its lab is its own, and discovery keeps to each lab host's namespace
	accept := `
	chain input { type filter hook input priority 0; policy drop;
		ct state established,related accept
		iifname "lo" accept
		%s
	}
}`
	rules := func(body string) string { return nftHeader + strings.Replace(accept, "%s", body, 1) }
	for _, tc := range []struct {
		name    string
		ruleset string   // for nft -f
		ipt     []string // iptables commands instead
		legacy  []string // iptables-legacy commands
		status  string
		udp     string // evidence for 45564/udp
		arrives bool
		says    string // in summary or detail
	}{
		{name: "no rules at all", status: "pass", udp: "open", arrives: true, says: "no nftables chain"},
		{name: "policy drop, nothing for the cluster", ruleset: rules(`tcp dport 22 accept`),
			status: "fail", udp: "missing", says: "policy drop of chain input (table inet filter)"},
		{name: "ports from named and anonymous sets", ruleset: nftHeader + `
	set cluster_udp { type inet_service; elements = { 45564 } }
` + strings.Replace(accept, "%s", `iifname "cl0" udp dport @cluster_udp accept
		iifname "cl0" tcp dport { 4000-4100, 8009 } accept`, 1),
			status: "pass", udp: "open", arrives: true},
		{name: "verdict map jumps to a per-interface chain", ruleset: `table ip fw {
	chain in_cl0 { udp dport 45564 ip daddr 224.0.0.0/4 accept; tcp dport 4000-4100 accept; tcp dport 8009 accept; drop; }
	chain input { type filter hook input priority filter; policy drop; iifname vmap { "cl0" : jump in_cl0, "lo" : accept }; }
}`, status: "pass", udp: "open", arrives: true},
		{name: "receiver range only partly open", ruleset: rules(`udp dport 45564 accept
		tcp dport 4000-4050 accept
		tcp dport 8009 accept`), status: "fail", udp: "open", arrives: true, says: "50 of its ports are dropped"},
		{name: "a second table rejects what the first accepts", ruleset: rules(`accept`) + `
table ip guard {
	chain input { type filter hook input priority 10; udp dport 45564 reject; }
}`, status: "fail", udp: "missing", says: "table ip guard"},
		{name: "multicast dropped in prerouting", ruleset: `table ip raw {
	chain pre { type filter hook prerouting priority -300; fib daddr type multicast drop; }
}`, status: "fail", udp: "missing", says: "chain pre"},
		{name: "a rate limit decides", ruleset: rules(`udp dport 45564 limit rate 10/second accept`),
			status: "unknown", says: "depends on a rate"},
		{name: "iptables-nft with compat matches", ipt: []string{
			"-P INPUT DROP",
			"-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
			"-A INPUT -i cl0 -p udp --dport 45564 -m addrtype --dst-type MULTICAST -j ACCEPT",
			"-A INPUT -p tcp -m multiport --dports 4000:4100,8009 -m comment --comment tomcat -j ACCEPT",
		}, status: "pass", udp: "open", arrives: true},
		{name: "legacy iptables, CentOS 7's default rules", legacy: centos7(),
			status: "fail", udp: "missing", says: "legacy iptables filter rule"},
		{name: "legacy iptables, CentOS 7's rules with the cluster's ports inserted", legacy: centos7(
			"-A INPUT -i cl0 -p udp -m udp --dport 45564 -j ACCEPT",
			"-A INPUT -p tcp -m state --state NEW -m tcp --dport 4000:4100 -j ACCEPT",
			"-A INPUT -p tcp -m tcp --dport 8009 -m comment --comment ajp -j ACCEPT",
		), status: "pass", udp: "open", arrives: true},
		{name: "legacy iptables user chain with a return, policy drop", legacy: []string{
			"-N CLUSTER",
			"-A CLUSTER -p udp --dport 45564 -j ACCEPT",
			"-A CLUSTER -j RETURN",
			"-A INPUT -i cl0 -j CLUSTER",
			"-P INPUT DROP",
		}, status: "fail", udp: "open", arrives: true, says: "4000-4100/tcp"},
		{name: "legacy accepts, nftables drops", legacy: []string{"-A INPUT -j ACCEPT"}, ruleset: rules(`tcp dport 22 accept`),
			status: "fail", udp: "missing", says: "policy drop"},
		{name: "iptables-nft rejecting the group", ipt: []string{
			"-A INPUT -p udp -m addrtype --dst-type MULTICAST -j REJECT",
			"-A INPUT -p udp --dport 45564 -j ACCEPT",
		}, status: "fail", udp: "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := lab.New(t)
			a, b := l.AddHost("a", 1), l.AddHost("b", 2)
			a.AddMulticastRoute()
			b.AddMulticastRoute()
			if tc.ruleset != "" {
				loadRules(t, b, tc.ruleset, "nft", "-f", "-")
			}
			for _, cmd := range tc.ipt {
				loadRules(t, b, "", "iptables", strings.Fields(cmd)...)
			}
			for _, cmd := range tc.legacy {
				loadRules(t, b, "", "iptables-legacy", strings.Fields(cmd)...)
			}
			rep, _ := preflightJSON(t, b, noFirewalld, "--iface", "cl0")
			c := check(t, rep, "firewall.ports")
			ports, _ := c.Evidence["ports"].(map[string]any)
			text := c.Summary + " " + c.Detail
			if string(c.Status) != tc.status || (tc.udp != "" && ports["45564/udp"] != tc.udp) || !strings.Contains(text, tc.says) {
				t.Errorf("firewall.ports = %s %v: %s\n%s\nwant %s, 45564/udp %s, saying %q", c.Status, ports, c.Summary, c.Detail, tc.status, tc.udp, tc.says)
			}
			if c.Status == "unknown" {
				return
			}
			if got := delivered(t, a, b); (got > 0) != tc.arrives {
				t.Errorf("the kernel delivered %d of 20 datagrams; the check said %s (%s)", got, ports["45564/udp"], c.Summary)
			}
		})
	}
}

// TestStoppedFirewalld: firewalld installed and enabled but not running. What it will
// let in when it starts comes from its files (/etc/firewalld over /usr/lib/firewalld);
// what gets in now from the kernel's rule set, checked with real traffic.
func TestStoppedFirewalld(t *testing.T) {
	lab.RequireCommands(t, "nft", "firewalld")
	openZone := `<?xml version="1.0" encoding="utf-8"?>
<zone><short>Public</short><service name="ssh"/>
  <port port="45564" protocol="udp"/><port port="4000-4100" protocol="tcp"/><port port="8009" protocol="tcp"/>
</zone>`
	for _, tc := range []struct {
		name, zone, ruleset string
		status, udp, says   string
		arrives             bool
	}{
		{name: "stock configuration", status: "warn", udp: "runtime-only", arrives: true, says: "blocked once firewalld starts"},
		{name: "ports in /etc/firewalld/zones/public.xml", zone: openZone, status: "pass", udp: "open", arrives: true},
		{name: "kernel drops now, files open", zone: openZone, ruleset: `table inet filter { chain input { type filter hook input priority 0; policy drop; }; }`,
			status: "fail", udp: "missing", says: "nftables table inet filter blocks 45564/udp"},
		{name: "broken zone file", zone: `<zone><port port="45564"></zone>`, status: "unknown", says: "/etc/firewalld/zones/public.xml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := lab.New(t)
			a, b := l.AddHost("a", 1), l.AddHost("b", 2)
			a.AddMulticastRoute()
			b.AddMulticastRoute()
			if tc.ruleset != "" {
				loadRules(t, b, tc.ruleset, "nft", "-f", "-")
			}
			etc := l.Path("etc-firewalld")
			if out, err := exec.Command("cp", "-a", "/etc/firewalld", etc).CombinedOutput(); err != nil {
				t.Fatalf("%v %s", err, out)
			}
			if tc.zone != "" {
				os.WriteFile(filepath.Join(etc, "zones", "public.xml"), []byte(tc.zone), 0o644)
			}
			priv := lab.Private{
				Binds: map[string]string{"/etc/firewalld": etc},
				Setup: []string{"mount -t tmpfs none /etc/systemd/system",
					"mkdir /etc/systemd/system/multi-user.target.wants",
					"ln -s /lib/systemd/system/firewalld.service /etc/systemd/system/multi-user.target.wants/"},
				Env: []string{"DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent"},
			}
			rep, _ := preflightJSON(t, b, priv, "--iface", "cl0")
			c := check(t, rep, "firewall.ports")
			ports, _ := c.Evidence["ports"].(map[string]any)
			if string(c.Status) != tc.status || (tc.udp != "" && ports["45564/udp"] != tc.udp) || !strings.Contains(c.Summary+c.Detail, tc.says) {
				t.Errorf("firewall.ports = %s %v: %s\n%s\nwant %s, 45564/udp %s, saying %q", c.Status, ports, c.Summary, c.Detail, tc.status, tc.udp, tc.says)
			}
			if tc.status != "unknown" {
				if got := delivered(t, a, b); (got > 0) != tc.arrives {
					t.Errorf("the kernel delivered %d of 20 datagrams; the check said %s", got, ports["45564/udp"])
				}
			}
		})
	}
}

// TestFirewalldFilesUnderRoot: with --root (an image or a chroot) the permanent
// configuration under it is what firewall.ports reports.
func TestFirewalldFilesUnderRoot(t *testing.T) {
	root := t.TempDir()
	for p, s := range map[string]string{
		"usr/lib/firewalld/zones/public.xml":                           `<zone><service name="ssh"/></zone>`,
		"usr/lib/firewalld/zones/internal.xml":                         `<zone><service name="tomcat"/><interface name="lo"/></zone>`,
		"usr/lib/firewalld/services/tomcat.xml":                        `<service><port port="45564" protocol="udp"/><port port="4000-4100" protocol="tcp"/><port port="8009" protocol="tcp"/></service>`,
		"usr/lib/firewalld/services/ssh.xml":                           `<service><port port="22" protocol="tcp"/></service>`,
		"etc/systemd/system/multi-user.target.wants/firewalld.service": "",
	} {
		os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(root, p), []byte(s), 0o644)
	}
	// A NetworkManager profile's zone (connection.zone) binds the interface when firewalld
	// starts, before its own files.
	keyfile := filepath.Join(root, "etc/NetworkManager/system-connections/lo.nmconnection")
	os.MkdirAll(filepath.Dir(keyfile), 0o755)
	for _, tc := range []struct{ internal, profileZone, status, zone string }{
		{`<zone><service name="tomcat"/><interface name="lo"/></zone>`, "", "pass", "internal"},
		{`<zone><service name="tomcat"/></zone>`, "", "fail", "public"},
		{`<zone><service name="tomcat"/></zone>`, "internal", "pass", "internal"},
		{`<zone><service name="tomcat"/><interface name="lo"/></zone>`, "public", "fail", "public"},
		{`<zone><service name="tomcat"/></zone>`, "nosuch", "unknown", ""},
	} {
		os.WriteFile(filepath.Join(root, "usr/lib/firewalld/zones/internal.xml"), []byte(tc.internal), 0o644)
		os.Remove(keyfile)
		if tc.profileZone != "" {
			os.WriteFile(keyfile, []byte("[connection]\nid=lo\ninterface-name=lo\nzone="+tc.profileZone+"\n"), 0o600)
		}
		r := execute(t, exec.Command(binary, "preflight", "--root", root, "--iface", "lo", "-o", "json"))
		var rep probes.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("%v: %s %s", err, r.stdout, r.stderr)
		}
		c := check(t, rep, "firewall.ports")
		zone, _ := c.Evidence["zone"].(string)
		if string(c.Status) != tc.status || zone != tc.zone ||
			(tc.profileZone != "" && !strings.Contains(c.Summary+c.Detail, "lo.nmconnection")) {
			t.Errorf("%s, profile zone %q: firewall.ports = %s %v: %s\n%s", tc.internal, tc.profileZone, c.Status, c.Evidence, c.Summary, c.Detail)
		}
	}
}

// TestUfwMatchesTheKernel: ufw (on iptables-nft, as Debian and Ubuntu ship it) enabled in
// the host's namespace with a private copy of /etc/ufw; firewall.ports reads the rules
// ufw loaded into the kernel, checked against real multicast.
func TestUfwMatchesTheKernel(t *testing.T) {
	lab.RequireCommands(t, "ufw", "nft")
	for _, tc := range []struct {
		name    string
		allow   []string
		status  string
		arrives bool
	}{
		{"enabled, default deny incoming", nil, "fail", false},
		{"the cluster's ports allowed", []string{"45564/udp", "4000:4100/tcp", "8009/tcp"}, "pass", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := lab.New(t)
			a, b := l.AddHost("a", 1), l.AddHost("b", 2)
			a.AddMulticastRoute()
			b.AddMulticastRoute()
			etc := l.Path("etc-ufw")
			if out, err := exec.Command("cp", "-a", "/etc/ufw", etc).CombinedOutput(); err != nil {
				t.Fatalf("%v %s", err, out)
			}
			priv := noFirewalld
			priv.Binds = map[string]string{"/etc/ufw": etc}
			for _, args := range append([][]string{{"--force", "enable"}}, func() (out [][]string) {
				for _, p := range tc.allow {
					out = append(out, []string{"allow", p})
				}
				return out
			}()...) {
				if out, err := b.Command(priv, "ufw", args...).CombinedOutput(); err != nil {
					t.Fatalf("ufw %v: %v\n%s", args, err, out)
				}
			}
			rep, _ := preflightJSON(t, b, priv, "--iface", "cl0")
			c := check(t, rep, "firewall.ports")
			if string(c.Status) != tc.status {
				t.Errorf("firewall.ports = %s: %s\n%s", c.Status, c.Summary, c.Detail)
			}
			if got := delivered(t, a, b); (got > 0) != tc.arrives {
				t.Errorf("the kernel delivered %d of 20 datagrams; the check said %s (%s)", got, c.Status, c.Summary)
			}
		})
	}
}
