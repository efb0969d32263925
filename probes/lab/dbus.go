package lab

import (
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// StartSystemBus runs a private D-Bus system bus for the host (the lab recipe: Debian's
// system.conf with its own socket and pid file, no user switch, no fork) and returns its
// address for DBUS_SYSTEM_BUS_ADDRESS. The real system bus is never used.
func (h *Host) StartSystemBus() string {
	l := h.lab
	l.t.Helper()
	RequireCommands(l.t, "dbus-daemon")
	// Not under the test's temp dir: a socket path longer than 107 bytes cannot be bound,
	// and subtest names make those long.
	dir, err := os.MkdirTemp("", "cd-bus-")
	l.must(err, "make a directory for the bus")
	l.t.Cleanup(func() { os.RemoveAll(dir) })
	conf, err := os.ReadFile("/usr/share/dbus-1/system.conf")
	if err != nil {
		l.t.Skipf("skipped: no D-Bus system configuration (install dbus): %v", err)
	}
	c := strings.NewReplacer(
		"<listen>unix:path=/run/dbus/system_bus_socket</listen>", "<listen>unix:path="+dir+"/system_bus_socket</listen>",
		"<pidfile>/run/dbus/pid</pidfile>", "<pidfile>"+dir+"/dbus.pid</pidfile>",
		"<user>messagebus</user>", "", "<syslog/>", "", "<fork/>", "",
		"<includedir>system.d</includedir>", "<includedir>/usr/share/dbus-1/system.d</includedir>",
		// No activation: a daemon asking for a name (NetworkManager's dispatcher, hostnamed)
		// must not start the machine's services; the lab starts what a test needs itself.
		"<standard_system_servicedirs/>", "<servicedir>"+dir+"/services</servicedir>",
	).Replace(string(conf))
	l.must(os.Mkdir(dir+"/services", 0o755), "mkdir services")
	l.must(os.WriteFile(dir+"/bus.conf", []byte(c), 0o644), "write bus.conf")
	h.Start(Private{}, "dbus-"+h.Name, "dbus-daemon", "--config-file="+dir+"/bus.conf", "--nofork")
	sock := dir + "/system_bus_socket"
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			return "unix:path=" + sock
		}
	}
	l.t.Fatalf("lab: private system bus for %s did not start", h.Name)
	return ""
}

// StartTimedated runs systemd-timedated on the host's private bus, without CAP_SYS_TIME.
// Its NTPSynchronized property mirrors the kernel's adjtimex state.
func (h *Host) StartTimedated(bus string) *exec.Cmd {
	l := h.lab
	l.t.Helper()
	bin := ""
	for _, p := range []string{"/lib/systemd/systemd-timedated", "/usr/lib/systemd/systemd-timedated"} {
		if fileExists(p) {
			bin = p
			break
		}
	}
	if bin == "" {
		l.t.Skip("skipped: no systemd-timedated (install systemd)")
	}
	cmd := h.Start(Private{NoClock: true, Env: []string{"DBUS_SYSTEM_BUS_ADDRESS=" + bus}}, "timedated-"+h.Name, bin)
	conn, err := dbus.Connect(bus)
	l.must(err, "connect to %s", bus)
	defer conn.Close()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var owned bool
		err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.timedate1").Store(&owned)
		if err == nil && owned {
			l.requireNoClock(cmd) // checked once it runs: before, the PID is still ip's
			return cmd
		}
	}
	l.t.Fatalf("lab: systemd-timedated did not claim its name on %s", bus)
	return nil
}
