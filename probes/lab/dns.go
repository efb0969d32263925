package lab

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RequireDNSServer skips unless dnsmasq (Debian's dnsmasq-base) is installed.
func RequireDNSServer(t testing.TB) {
	t.Helper()
	RequireCommands(t, "dnsmasq")
}

// DNSServer is dnsmasq answering in a lab host from a hosts file of its own: nothing
// but what the test writes, no upstream, no /etc/hosts.
type DNSServer struct {
	Addr  string
	hosts string
	host  *Host
	cmd   *exec.Cmd
}

// StartDNSServer runs dnsmasq on the host's address with these records ("ADDR NAME"
// lines, several addresses for a name as several lines). Reload replaces them.
func (h *Host) StartDNSServer(records string) *DNSServer {
	h.lab.t.Helper()
	d := &DNSServer{Addr: h.Addr.String(), hosts: h.lab.WriteFile("dns-"+h.Name+"-hosts", records), host: h}
	d.cmd = h.Start(Private{}, "dnsmasq-"+h.Name, "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-daemon",
		"--addn-hosts="+d.hosts, "--listen-address="+d.Addr, "--bind-interfaces", "--port=53", "--local-ttl=0",
		"--pid-file="+h.lab.Path("dnsmasq-"+h.Name+".pid"), "--user=root", "--log-facility=-")
	deadline := time.Now().Add(5 * time.Second)
	for h.AcceptsUDP(d.Addr+":53") != nil {
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(h.lab.Path("dnsmasq-" + h.Name + ".log"))
			h.lab.t.Fatalf("lab: dnsmasq does not answer on %s:53: %s", d.Addr, strings.TrimSpace(string(b)))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return d
}

// AcceptsUDP reports whether something listens on the UDP address in the host (the
// kernel's socket table).
func (h *Host) AcceptsUDP(addr string) error {
	out, err := h.Command(Private{}, "ss", "-Hlun", "src", addr).Output()
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(out))) == 0 {
		return fmt.Errorf("nothing listens on %s/udp", addr)
	}
	return nil
}

// Reload replaces the records: dnsmasq rereads its hosts files on SIGHUP.
func (d *DNSServer) Reload(records string) {
	d.host.lab.t.Helper()
	d.host.lab.must(os.WriteFile(d.hosts, []byte(records), 0o644), "write %s", d.hosts)
	d.host.lab.must(d.cmd.Process.Signal(syscall.SIGHUP), "SIGHUP dnsmasq")
	time.Sleep(200 * time.Millisecond)
}
