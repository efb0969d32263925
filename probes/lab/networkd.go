package lab

import (
	"os"
	"os/exec"
)

// NetworkdPath is systemd-networkd's binary on Debian.
const NetworkdPath = "/lib/systemd/systemd-networkd"

// StartNetworkd runs a real systemd-networkd in the host, reading its configuration from
// root's etc/systemd/network and run/systemd/network (what netplan generate writes) in
// place of the host's, with a private /run and /sys read-only (no udev here). It skips
// the test when systemd-networkd is not installed.
func (h *Host) StartNetworkd(root string) *exec.Cmd {
	l := h.lab
	l.t.Helper()
	if !fileExists(NetworkdPath) {
		l.t.Skip("skipped: no " + NetworkdPath + " (install systemd)")
	}
	setup := []string{"mount -t tmpfs lab-networkd-run /run", "mkdir -p /run/systemd/network"}
	for _, d := range []string{"/etc/systemd/network", "/run/systemd/network"} {
		if _, err := os.Stat(root + d); err == nil {
			setup = append(setup, "mount --bind "+root+d+" "+d)
		} else if d == "/etc/systemd/network" {
			setup = append(setup, "mount -t tmpfs lab-networkd-etc "+d) // hide the host's own
		}
	}
	setup = append(setup, "mount -o remount,bind,ro /sys")
	return h.Start(Private{NoClock: true, Setup: setup}, "networkd-"+h.Name, NetworkdPath)
}
