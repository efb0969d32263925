package probes

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// NewEnv builds the Env of the running host: files under root, netlink in the current
// network namespace, the system bus from DBUS_SYSTEM_BUS_ADDRESS or its standard socket.
// Close releases it.
func NewEnv(root string) (*Env, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("open netlink socket: %w", err)
	}
	e := &Env{
		Root:      root,
		Netlink:   h,
		Now:       time.Now,
		SystemBus: dialSystemBus,
		Adjtimex:  adjtimex,
		IsRoot:    os.Geteuid() == 0,
		memo:      &sync.Map{},
	}
	e.Hostname = e.hostname
	if e.LiveRoot() {
		e.Journal = e.unitJournal
	}
	e.NetNS = Namespaces{Self: netnsOf("/proc/self"), Initial: initialNetns()}
	e.InContainer = e.LiveRoot() && !kthreadd()
	return e, nil
}

// kthreadd reports whether the kernel's thread daemon is PID 2 of this /proc: so in the
// host's PID namespace, and in no container that has one of its own.
func kthreadd() bool {
	comm, err := os.ReadFile("/proc/2/comm")
	return err == nil && strings.TrimSpace(string(comm)) == "kthreadd"
}

// initialNetns names the host's own network namespace: init's (PID 1), else, where init
// keeps its links from us (a VM's or sandbox's init that is not dumpable), kthreadd's
// (PID 2): the kernel's threads always run in the initial namespaces.
func initialNetns() string {
	if ns := netnsOf("/proc/1"); ns != "" {
		return ns
	}
	if kthreadd() {
		return netnsOf("/proc/2")
	}
	return ""
}

// NewNodeEnv builds the Env of a node whose network and UTS namespaces this process runs
// in (see Env.Node): its files through /proc/PID/root, the kernel's view as this process
// has it. No system bus and no journal: the host's daemons are not the node's.
func NewNodeEnv(pid int) (*Env, error) {
	root := fmt.Sprintf("/proc/%d/root", pid)
	self, theirs := netnsOf("/proc/self"), netnsOf(fmt.Sprintf("/proc/%d", pid))
	if self == "" || self != theirs {
		return nil, fmt.Errorf("not in the network namespace of pid %d (%s, here %s)", pid, theirs, self)
	}
	e, err := NewEnv(root)
	if err != nil {
		return nil, err
	}
	e.Node, e.SystemBus, e.Journal = pid, nil, nil
	return e, nil
}

// netnsOf names the network namespace of the process at dir (/proc/PID), "" when it
// cannot be read. Equivalent to: readlink /proc/PID/ns/net.
func netnsOf(dir string) string {
	ns, err := os.Readlink(dir + "/ns/net")
	if err != nil {
		return ""
	}
	return ns
}

// journalLines bounds what is read of a unit's journal.
const journalLines = "5000"

// unitJournal reads the current boot's journal of the service a process belongs to (its
// cgroup names the unit). Equivalent to: journalctl -b -u UNIT -n 5000 -o cat.
func (e *Env) unitJournal(ctx context.Context, pid int) ([]byte, string, error) {
	cg, err := e.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid), 64<<10)
	if err != nil {
		return nil, "", err
	}
	unit := ""
	for _, line := range strings.Split(string(cg), "\n") {
		for _, part := range strings.Split(line, "/") {
			if strings.HasSuffix(part, ".service") {
				unit = part
			}
		}
	}
	if unit == "" {
		return nil, "", fmt.Errorf("pid %d runs in no systemd service", pid)
	}
	out, err := exec.CommandContext(ctx, "journalctl", "-b", "-u", unit, "-n", journalLines, "-o", "cat", "--no-pager").Output()
	if err != nil {
		return nil, unit, fmt.Errorf("journalctl -u %s: %w", unit, err)
	}
	return out, unit, nil
}

// Close releases the netlink handle.
func (e *Env) Close() {
	if e.Netlink != nil {
		e.Netlink.Close()
	}
}

// hostname is gethostname(2) on a live root and in a node's UTS namespace; for an image under --root it is the name the
// image would boot with (/etc/hostname).
func (e *Env) hostname() (string, error) {
	if e.LiveKernel() {
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			return "", fmt.Errorf("uname: %w", err)
		}
		return unix.ByteSliceToString(u.Nodename[:]), nil
	}
	s, err := e.ReadTrimmed("/etc/hostname")
	if err != nil {
		return "", fmt.Errorf("read host name: %w", err)
	}
	if s = strings.Fields(s + " ")[0]; s == "" {
		return "", fmt.Errorf("%s is empty", e.Path("/etc/hostname"))
	}
	return s, nil
}

// dialSystemBus connects without the auth/Hello round trips failing the caller's deadline.
func dialSystemBus(ctx context.Context) (*dbus.Conn, error) {
	conn, err := dbus.ConnectSystemBus(dbus.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("connect to the system bus: %w", err)
	}
	return conn, nil
}

// adjtimex reads without changing anything (modes 0). Equivalent to: adjtimex --print.
func adjtimex() (KernelClock, error) {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return KernelClock{}, fmt.Errorf("adjtimex: %w", err)
	}
	offset := time.Duration(tx.Offset) * time.Microsecond
	if tx.Status&unix.STA_NANO != 0 {
		offset = time.Duration(tx.Offset)
	}
	return KernelClock{
		Unsynchronised: tx.Status&unix.STA_UNSYNC != 0 || state == unix.TIME_ERROR,
		MaxError:       time.Duration(tx.Maxerror) * time.Microsecond,
		EstError:       time.Duration(tx.Esterror) * time.Microsecond,
		Offset:         offset,
	}, nil
}
