package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/godbus/dbus/v5"
)

// NetworkManager is a real NetworkManager managing one host's interfaces from its own
// keyfile directory, on the host's private system bus (the lab recipe: a private /run,
// /sys read-only so it runs without udev, its own state directory).
type NetworkManager struct {
	h          *Host
	Bus        string
	KeyfileDir string
	dir        string
	cmd        *exec.Cmd
}

// NewNetworkManager prepares NetworkManager for the host, its profiles in keyfileDir;
// Start runs it. It skips the test when NetworkManager is not installed.
func (h *Host) NewNetworkManager(bus, keyfileDir string) *NetworkManager {
	l := h.lab
	l.t.Helper()
	RequireCommands(l.t, "NetworkManager")
	dir := l.Path("nm-" + h.Name)
	for _, d := range []string{dir + "/conf.d", dir + "/var", dir + "/sysconf", keyfileDir} {
		l.must(os.MkdirAll(d, 0o700), "mkdir %s", d)
	}
	conf := fmt.Sprintf(`[main]
plugins=keyfile
dns=none
rc-manager=unmanaged
hostname-mode=none
no-auto-default=*
auth-polkit=false
[keyfile]
path=%s
[logging]
level=INFO
`, keyfileDir)
	l.must(os.WriteFile(dir+"/NetworkManager.conf", []byte(conf), 0o644), "write NetworkManager.conf")
	return &NetworkManager{h: h, Bus: bus, KeyfileDir: keyfileDir, dir: dir}
}

// Start runs NetworkManager and waits until it holds its name on the bus.
func (n *NetworkManager) Start() {
	l := n.h.lab
	l.t.Helper()
	priv := Private{
		NoClock: true,
		Env:     []string{"DBUS_SYSTEM_BUS_ADDRESS=" + n.Bus},
		Setup: []string{
			"mount -t tmpfs lab-nm-run /run",
			"mount -o remount,bind,ro /sys", // without udev NM manages devices only if /sys is read-only
			"mkdir -p /run/NetworkManager",
			"mount --bind " + n.dir + "/var /var/lib/NetworkManager",
		},
	}
	n.cmd = n.h.Start(priv, "NetworkManager-"+n.h.Name, "NetworkManager", "--no-daemon",
		"--config="+n.dir+"/NetworkManager.conf", "--config-dir="+n.dir+"/conf.d",
		"--system-config-dir="+n.dir+"/sysconf", "--state-file="+n.dir+"/var/NetworkManager.state",
		"--intern-config="+n.dir+"/var/NetworkManager-intern.conf", "--pid-file=/run/NetworkManager/nm.pid")
	conn, err := dbus.Connect(n.Bus)
	l.must(err, "connect to %s", n.Bus)
	defer conn.Close()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var owned bool
		err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.NetworkManager").Store(&owned)
		if err == nil && owned {
			l.requireNoClock(n.cmd)
			return
		}
	}
	log, _ := os.ReadFile(l.Path("NetworkManager-" + n.h.Name + ".log"))
	l.t.Fatalf("lab: NetworkManager did not claim its name on %s:\n%s", n.Bus, tail(log, 2000))
}

// Stop ends NetworkManager (SIGTERM; it leaves the interface configured, as on shutdown).
func (n *NetworkManager) Stop() {
	if n.cmd != nil {
		stop(n.cmd)
	}
}

// Log returns the end of NetworkManager's log, for failure messages.
func (n *NetworkManager) Log() string {
	b, _ := os.ReadFile(n.h.lab.Path("NetworkManager-" + n.h.Name + ".log"))
	return tail(b, 3000)
}

// WriteProfile writes a keyfile profile (mode 0600, as NetworkManager requires).
func (n *NetworkManager) WriteProfile(name, content string) string {
	p := filepath.Join(n.KeyfileDir, name)
	n.h.lab.must(os.WriteFile(p, []byte(content), 0o600), "write %s", p)
	return p
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
