package lab

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// Firewalld is a real firewalld guarding one host, with a private copy of /etc/firewalld
// (its permanent configuration) and the host's private system bus.
type Firewalld struct {
	h   *Host
	Bus string
	// Config is the private /etc/firewalld (zones/, services/ ...).
	Config string
	cmd    *exec.Cmd
}

// StartFirewalld runs firewalld in the host (the lab recipe: --nofork --nopid, its own
// system configuration directory, a log file) and waits until it answers on the bus.
// setup, if not nil, is called with the configuration directory before it starts (to
// write zones and services). It skips the test when firewalld is not installed.
func (h *Host) StartFirewalld(bus string, setup func(configDir string)) *Firewalld {
	l := h.lab
	l.t.Helper()
	RequireCommands(l.t, "firewalld")
	dir := l.Path("firewalld-" + h.Name)
	l.must(os.MkdirAll(dir, 0o755), "mkdir %s", dir)
	l.must(exec.Command("cp", "-a", "/etc/firewalld", dir+"/etc").Run(), "copy /etc/firewalld")
	if setup != nil {
		setup(dir + "/etc")
	}
	fw := &Firewalld{h: h, Bus: bus, Config: dir + "/etc"}
	fw.cmd = h.Start(Private{NoClock: true, Env: []string{"DBUS_SYSTEM_BUS_ADDRESS=" + bus}},
		"firewalld-"+h.Name, "firewalld", "--nofork", "--nopid", "--system-config", fw.Config,
		"--log-target", "file", "--log-file", dir+"/firewalld.log")
	conn, err := dbus.Connect(bus)
	l.must(err, "connect to %s", bus)
	defer conn.Close()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var state string
		v, err := conn.Object("org.fedoraproject.FirewallD1", "/org/fedoraproject/FirewallD1").GetProperty("org.fedoraproject.FirewallD1.state")
		if err == nil && v.Store(&state) == nil && state == "RUNNING" {
			l.requireNoClock(fw.cmd)
			return fw
		}
	}
	log, _ := os.ReadFile(dir + "/firewalld.log")
	l.t.Fatalf("lab: firewalld did not come up on %s:\n%s", bus, tail(log, 2000))
	return nil
}

// Cmd runs firewall-cmd against this firewalld (test setup only: what an operator types).
func (fw *Firewalld) Cmd(args ...string) string {
	fw.h.lab.t.Helper()
	c := fw.h.Command(Private{Env: []string{"DBUS_SYSTEM_BUS_ADDRESS=" + fw.Bus}}, "firewall-cmd", args...)
	out, err := c.CombinedOutput()
	fw.h.lab.must(err, "firewall-cmd %s: %s", strings.Join(args, " "), out)
	return strings.TrimSpace(string(out))
}

// Stop ends firewalld before the lab does, and removes what it leaves in the host's
// kernel (its nftables table, which it flushes itself when it exits cleanly), so that the
// rest of a shared lab runs without it.
func (fw *Firewalld) Stop() {
	stop(fw.cmd)
	_ = fw.h.Command(Private{}, "nft", "delete", "table", "inet", "firewalld").Run()
}

// ReadOnlyConfig makes firewalld's configuration directory read-only in firewalld's own
// mount namespace (as on a host whose /etc is read-only), so that every permanent change
// fails in firewalld itself; the returned func makes it writable again. Nothing outside
// firewalld's namespace sees the mount, and it goes with firewalld.
// Equivalent to: nsenter -t PID -m mount -o remount,bind,ro DIR
func (fw *Firewalld) ReadOnlyConfig() (restore func()) {
	l := fw.h.lab
	l.t.Helper()
	pid := strconv.Itoa(fw.cmd.Process.Pid)
	out, err := exec.Command("nsenter", "-t", pid, "-m", "sh", "-ec", `mount --bind "$1" "$1"; mount -o remount,bind,ro "$1"`, "sh", fw.Config).CombinedOutput()
	l.must(err, "make %s read-only for firewalld: %s", fw.Config, out)
	return func() {
		out, err := exec.Command("nsenter", "-t", pid, "-m", "umount", fw.Config).CombinedOutput()
		l.must(err, "make %s writable again for firewalld: %s", fw.Config, out)
	}
}
