package main_test

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// TestHostnameAgreesWithJava checks hosts.hostname against the real oracle: the JVM
// printing InetAddress.getLocalHost() (what Receiver address="auto" advertises) in the same
// namespace, with the same private /etc/hosts, host name and gai.conf. For every case the
// check's address is Java's, and its status follows from that address.
func TestHostnameAgreesWithJava(t *testing.T) {
	lab.RequireCommands(t, "java")
	t.Parallel() // its lab is its own, and discovery keeps to each lab host's namespace
	oracle, err := filepath.Abs("testdata/LocalHost.java")
	if err != nil {
		t.Fatal(err)
	}
	l := lab.New(t)
	// alone has only cl0 and no default route: other networks are unreachable from it.
	alone := l.AddHost("j1", 1)
	// twoNICs has cl0 and pub0 (10.99.1.2) with the default route via pub0.
	twoNICs := l.AddHost("j2", 2)
	twoNICs.AddPublic()
	// Nothing answers DNS in the lab: a name missing from the files fails at once, and no
	// query leaves the namespace.
	resolv := l.WriteFile("resolv.conf", "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
	nsswitch := l.WriteFile("nsswitch.conf", "hosts: files dns\n")
	scopev4 := l.WriteFile("gai-scope.conf", "# loopback as global scope\nscopev4 ::ffff:127.0.0.0/104 14\n")
	const lo = "127.0.0.1\tlocalhost\n"
	cases := []struct {
		name, hosts, hostname string
		host                  *lab.Host
		gai                   string
		want                  string // Java's answer, as the test expects it
		status                probes.Status
	}{
		{"cluster address", lo + "10.99.0.1\twas1\n", "was1", alone, "", "10.99.0.1", probes.Pass},
		{"Debian's 127.0.1.1", lo + "127.0.1.1\twas1\n", "was1", alone, "", "127.0.1.1", probes.Fail},
		{"127.0.0.1 alias", "127.0.0.1\tlocalhost was1\n", "was1", alone, "", "127.0.0.1", probes.Fail},
		{"loopback written second still wins", lo + "10.99.0.1\twas1\n127.0.1.1\twas1\n", "was1", alone, "", "127.0.1.1", probes.Fail},
		{"loopback written first", lo + "127.0.1.1\twas1\n10.99.0.1\twas1\n", "was1", alone, "", "127.0.1.1", probes.Fail},
		{"gai.conf scopev4 makes loopback global", lo + "127.0.1.1\twas1\n10.99.0.1\twas1\n", "was1", alone, scopev4, "10.99.0.1", probes.Pass},
		{"FQDN host name", lo + "10.99.0.1\twas1.cluster.lab was1\n", "was1.cluster.lab", alone, "", "10.99.0.1", probes.Pass},
		{"short name as alias of the FQDN", lo + "10.99.0.1\twas1.cluster.lab was1\n", "was1", alone, "", "10.99.0.1", probes.Pass},
		{"FQDN host name, only the short name listed", lo + "10.99.0.1\twas1\n", "was1.cluster.lab", alone, "", "UnknownHostException", probes.Fail},
		{"name missing", lo + "10.99.0.2\twas2\n", "was1", alone, "", "UnknownHostException", probes.Fail},
		{"case does not matter", lo + "10.99.0.1\tWAS1\n", "was1", alone, "", "10.99.0.1", probes.Pass},
		{"host name localhost", "10.99.0.1\tlocalhost\n", "localhost", alone, "", "127.0.0.1", probes.Fail},
		{"address nobody holds", lo + "10.99.0.77\twas1\n", "was1", alone, "", "10.99.0.77", probes.Fail},
		{"held address before one nobody holds", lo + "10.99.0.77\twas1\n10.99.0.1\twas1\n", "was1", alone, "", "10.99.0.1", probes.Pass},
		{"unreachable address sorts last", lo + "192.0.2.5\twas1\n10.99.0.1\twas1\n", "was1", alone, "", "10.99.0.1", probes.Pass},
		{"other interface first", lo + "10.99.1.2\twas1\n10.99.0.2\twas1\n", "was1", twoNICs, "", "10.99.1.2", probes.Warn},
		{"cluster interface first", lo + "10.99.0.2\twas1\n10.99.1.2\twas1\n", "was1", twoNICs, "", "10.99.0.2", probes.Pass},
		{"public address after private", lo + "192.0.2.5\twas1\n10.99.0.2\twas1\n", "was1", twoNICs, "", "10.99.0.2", probes.Pass},
		{"IPv6 line before IPv4", lo + "::1\twas1\n10.99.0.1\twas1\n", "was1", alone, "", "10.99.0.1", probes.Pass},
		{"IPv6 loopback and 127.0.1.1", lo + "::1\twas1\n127.0.1.1\twas1\n", "was1", alone, "", "127.0.1.1", probes.Fail},
		{"IPv6 only", lo + "fd00::11\twas1\n", "was1", alone, "", "fd00:0:0:0:0:0:0:11", probes.Fail},
		{"same address twice", lo + "10.99.0.1\twas1\n10.99.0.1\twas1 was1.cluster.lab\n", "was1", alone, "", "10.99.0.1", probes.Pass},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			priv := lab.Private{Hosts: c.hosts, Hostname: c.hostname,
				Binds: map[string]string{"/etc/resolv.conf": resolv, "/etc/nsswitch.conf": nsswitch}}
			if c.gai != "" {
				priv.Binds["/etc/gai.conf"] = c.gai
			} else {
				priv.Binds["/etc/gai.conf"] = "/dev/null"
			}
			java := javaLocalHost(t, c.host, priv, oracle)
			if java != c.want {
				t.Fatalf("Java's getLocalHost() = %s; the test expects %s", java, c.want)
			}
			rep, _ := preflightJSON(t, c.host, priv, "--iface", "cl0", "--skip", "ntp.sync,firewall.ports,firewall.igmp")
			got := check(t, rep, "hosts.hostname")
			addr, _ := got.Evidence["address"].(string)
			if java == "UnknownHostException" {
				if addr != "" || !strings.Contains(got.Summary, "does not resolve") {
					t.Errorf("hosts.hostname says %q (address %q); Java throws UnknownHostException", got.Summary, addr)
				}
			} else if javaForm(addr) != java {
				t.Errorf("hosts.hostname's address is %q (%s); Java's is %s", addr, got.Summary, java)
			}
			if got.Status != c.status {
				t.Errorf("hosts.hostname = %s (%s); want %s", got.Status, got.Summary, c.status)
			}
		})
	}
}

// javaLocalHost runs the oracle in the host with the private view.
func javaLocalHost(t *testing.T, h *lab.Host, priv lab.Private, source string) string {
	t.Helper()
	out, err := h.Command(priv, "java", source).CombinedOutput()
	if err != nil {
		t.Fatalf("java: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// javaForm writes an address as Java's getHostAddress does: IPv6 uncompressed.
func javaForm(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Is4() {
		return addr
	}
	b := a.As16()
	parts := make([]string, 8)
	for i := range parts {
		parts[i] = fmt.Sprintf("%x", uint16(b[2*i])<<8|uint16(b[2*i+1]))
	}
	return strings.Join(parts, ":")
}
