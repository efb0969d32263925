package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// TestRootImageWithItsOwnInterface: an image (or another host's tree) under --root names
// an interface the running kernel does not have. The checks that read files judge the
// tree (the route in its ifupdown configuration, firewalld's zone files, /etc/hosts);
// those that read the kernel say they were not checked, instead of describing this host.
func TestRootImageWithItsOwnInterface(t *testing.T) {
	root := t.TempDir()
	for p, s := range map[string]string{
		"etc/hostname":                         "was1\n",
		"etc/hosts":                            "127.0.0.1 localhost\n10.20.0.11 was1\n",
		"etc/nsswitch.conf":                    "hosts: files\n",
		"etc/network/interfaces":               "auto ens7\niface ens7 inet static\n    address 10.20.0.11/24\n    up ip route replace 224.0.0.0/4 dev ens7 scope link\n",
		"usr/lib/firewalld/zones/public.xml":   `<zone><service name="ssh"/></zone>`,
		"usr/lib/firewalld/zones/internal.xml": `<zone><service name="tomcat"/><interface name="ens7"/></zone>`,
		"usr/lib/firewalld/services/tomcat.xml": `<service><port port="45564" protocol="udp"/><port port="4000-4100" protocol="tcp"/>` +
			`<port port="8009" protocol="tcp"/><protocol value="igmp"/></service>`,
		"usr/lib/firewalld/services/ssh.xml":                           `<service><port port="22" protocol="tcp"/></service>`,
		"etc/systemd/system/multi-user.target.wants/firewalld.service": "",
	} {
		os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(root, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat("/sys/class/net/ens7"); err == nil {
		t.Skip("skipped: this machine has an ens7; the test needs a name the running kernel lacks")
	}
	r := execute(t, exec.Command(binary, "preflight", "--root", root, "--iface", "ens7", "-o", "json"))
	var rep probes.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("exit %d, not JSON (%v): %s %s", r.code, err, r.stdout, r.stderr)
	}
	for _, want := range []struct{ id, status, says string }{
		{"route.persistent", "pass", "interfaces"},
		{"firewall.ports", "pass", "internal"},
		{"hosts.hostname", "pass", "10.20.0.11"},
		{"link.cluster", "skip", "the running kernel has no interface ens7"},
		{"route.multicast", "skip", "the running kernel has no interface ens7"},
		{"sysctl.rp_filter", "skip", "the running kernel has no interface ens7"},
	} {
		c := check(t, rep, want.id)
		if string(c.Status) != want.status || !strings.Contains(c.Summary+c.Detail, want.says) {
			t.Errorf("%s = %s: %s (%s); want %s saying %q", want.id, c.Status, c.Summary, c.Detail, want.status, want.says)
		}
	}
	// On the live root the same name is bad input.
	if r := execute(t, exec.Command(binary, "preflight", "--iface", "ens7")); r.code != 2 || !strings.Contains(r.stderr, "no such interface") {
		t.Errorf("live root, --iface ens7: exit %d, %q; want 2 and one line", r.code, r.stderr)
	}
}
