package probes

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/godbus/dbus/v5"
	"github.com/vishvananda/netlink"
)

// Env is the only way a probe reaches the host: files under Root, the kernel through a
// netlink handle, the system D-Bus, the clock. Tests build one around a temp dir and a
// network namespace; production builds one around "/" and the current namespace.
type Env struct {
	// Root is where /etc, /proc and /sys are read ("/" on a live host).
	Root string
	// Netlink talks to the network namespace being checked.
	Netlink *netlink.Handle
	// Now is the clock.
	Now func() time.Time
	// SystemBus connects to the system D-Bus (timedated, later firewalld and NetworkManager).
	SystemBus func(ctx context.Context) (*dbus.Conn, error)
	// Hostname returns the host name the way gethostname(2) would.
	Hostname func() (string, error)
	// Adjtimex reads the kernel clock discipline state (adjtimex(2) with modes 0).
	Adjtimex func() (KernelClock, error)
	// IsRoot tells whether the process may see other users' sockets and processes.
	IsRoot bool
	// Journal returns the recent journal of the systemd unit a process runs in, and the
	// unit's name; nil where there is no journal to read (an image under --root).
	Journal func(ctx context.Context, pid int) ([]byte, string, error)
	// Node is the process whose network and UTS namespaces this process runs in and whose
	// files Root holds (/proc/PID/root): a container's or another network namespace's
	// Tomcat checked as a node of its own. /proc and /sys are then this process's own,
	// which describe that namespace. 0 for the host itself or an image under --root.
	Node int
	// NetNS names network namespaces as the kernel does ("net:[4026531840]"): this
	// process's own and the initial one (PID 1's); "" where it cannot tell (not root).
	NetNS Namespaces
	// InContainer says this process runs inside a container (a PID namespace of its own:
	// the kernel's threads are not in its /proc), where the host's firewall and network
	// configuration cannot be seen: the checks of those say unknown, and why.
	InContainer bool
	// WebConfigs are web server configurations named on the command line (--httpd-conf,
	// --nginx-conf, --haproxy-conf): read in place of the running servers' and the
	// distributions'.
	WebConfigs []WebConfig
	// memo holds what is found once per run and asked for by several checks (see Once);
	// shared by copies of the Env. nil computes every time.
	memo *sync.Map
}

// Once returns what fn finds for key, computed at most once per Env (per run): the
// running web servers, say, which role detection, tomcat.ajp and the web checks all ask
// for, found by a walk of /proc and their binaries' -V.
func Once[T any](e *Env, key string, fn func() T) T {
	if e == nil || e.memo == nil {
		return fn()
	}
	if v, ok := e.memo.Load(key); ok {
		return v.(T)
	}
	v, _ := e.memo.LoadOrStore(key, fn())
	return v.(T)
}

// ContainerReason is what the checks say of what a container cannot see.
const ContainerReason = "clusterdoctor runs inside a container (a PID namespace of its own, no kernel threads in /proc): the host's firewall and network configuration, which decide what reaches this container, cannot be seen from here; run it on the host, which checks this container's Tomcat as a node of its own"

// Namespaces are the network namespaces discovery sorts JVMs by.
type Namespaces struct {
	Self, Initial string
}

// InInitial reports whether this process runs in the host's own network namespace, the
// one a container engine's namespaces branch from. Unknown counts as yes: without the
// namespaces' names every JVM is taken for this host's own, as before they were read.
func (n Namespaces) InInitial() bool { return n.Self == "" || n.Initial == "" || n.Self == n.Initial }

// KernelClock is the part of the kernel's adjtimex state that says whether the clock is
// disciplined. Equivalent to: adjtimex --print (or `chronyc tracking`'s kernel view).
type KernelClock struct {
	// Unsynchronised is the STA_UNSYNC status bit.
	Unsynchronised bool
	// MaxError is the kernel's maximum error estimate (maxerror), which reaches 16 s when
	// no daemon has updated it.
	MaxError time.Duration
	// EstError is the kernel's estimated error (esterror).
	EstError time.Duration
	// Offset is the remaining offset being slewed.
	Offset time.Duration
}

// now reads the Env's clock, the real one when none is set.
func (e *Env) now() time.Time {
	if e == nil || e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

// Path maps an absolute host path such as /etc/hosts into Root. A node's /proc and
// /sys are this process's own: it runs in the node's namespaces.
func (e *Env) Path(p string) string {
	if e.LiveRoot() || e.kernelFS(p) {
		return p
	}
	return filepath.Join(e.Root, p)
}

// kernelFS tells the paths a node reads from this process's view of the kernel (its
// namespaces' bind mounts included: this process runs in the host's mount namespace).
func (e *Env) kernelFS(p string) bool {
	if e.Node == 0 {
		return false
	}
	for _, fs := range []string{"/proc", "/sys", "/run/netns", "/run/docker/netns"} {
		if p == fs || strings.HasPrefix(p, fs+"/") {
			return true
		}
	}
	return false
}

// HostPath maps a host path into Root like Path, but resolves symbolic links the way the
// host itself would: an absolute link inside an image (Debian's /var/lib/tomcat10/conf ->
// /etc/tomcat10) points into the image, never at this machine's own files, and ".." stops
// at Root. On a live root it is p itself.
func (e *Env) HostPath(p string) string {
	if e.LiveRoot() || e.kernelFS(p) {
		return p
	}
	full, err := securejoin.SecureJoin(e.Root, p)
	if err != nil {
		return e.Path(p) // a link loop: let the open that follows report it
	}
	return full
}

// LiveRoot reports whether Root is the running host's own "/", so live-only sources
// (DNS, daemons' sockets) describe the same host as the files.
func (e *Env) LiveRoot() bool { return e.Root == "" || e.Root == "/" }

// LiveKernel reports whether the running kernel's view (interfaces, routes, sockets, rule
// sets, the host name) is that of the host the files describe: the live root, or a node
// whose namespaces this process has joined.
func (e *Env) LiveKernel() bool { return e.LiveRoot() || e.Node > 0 }

// ReadFile reads a host file under Root, refusing files over limit bytes so a
// hostile or broken file cannot exhaust memory.
func (e *Env) ReadFile(p string, limit int64) ([]byte, error) {
	f, err := os.Open(e.Path(p))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", p, limit)
	}
	return b, nil
}

// ReadTrimmed reads a small file such as /proc/sys/net/ipv4/conf/all/rp_filter.
func (e *Env) ReadTrimmed(p string) (string, error) {
	b, err := e.ReadFile(p, 64<<10)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// ParentPID reads a process's parent from /proc/PID/stat under Root (0 when it cannot).
// The command name, in parentheses, may hold spaces and parentheses: the fields start
// after the last ')'. Equivalent to: ps -o ppid= -p PID.
func (e *Env) ParentPID(pid int) int {
	b, err := e.ReadFile(fmt.Sprintf("/proc/%d/stat", pid), 64<<10)
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// WebConfig is a web server's main configuration file given by its operator: Kind is
// "httpd", "nginx" or "haproxy"; Path is where it is under Root.
type WebConfig struct {
	Kind string `json:"kind" yaml:"kind"`
	Path string `json:"path" yaml:"path"`
}

// Environ reads a process's environment from /proc/PID/environ under Root: what it was
// started with (what httpd expands ${NAME} from, what Tomcat's cloud membership reads).
// Equivalent to: tr '\0' '\n' < /proc/PID/environ.
func (e *Env) Environ(pid int) (map[string]string, error) {
	b, err := e.ReadFile(fmt.Sprintf("/proc/%d/environ", pid), 1<<20)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, kv := range bytes.Split(b, []byte{0}) {
		if k, v, ok := strings.Cut(string(kv), "="); ok && k != "" {
			out[k] = v
		}
	}
	return out, nil
}
