// Package lab builds throwaway network labs for real-kernel tests: named network
// namespaces joined by a bridge, each "host" with a cl0 veth on the cluster LAN and
// optionally a pub0 that carries its default route (the classic "multicast leaves by the
// wrong NIC" case). Everything a lab creates is removed in t.Cleanup, also on failure;
// processes are stopped by the PID the lab started, never by name.
//
// Nothing here touches the root namespace's interfaces, routes, /etc or clock: veths are
// created directly inside their namespaces, /etc/hosts and the host name are replaced
// only in a private mount and UTS namespace per command, and chronyd runs with -x.
package lab

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// RequireRoot skips the test unless it runs as root, which namespaces need.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: needs root to create network namespaces (run the suite with sudo, as CI does)")
	}
}

// RequireCommands skips unless every command is on PATH, naming the Debian package.
func RequireCommands(t testing.TB, cmds ...string) {
	t.Helper()
	for _, c := range cmds {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("skipped: %s not on PATH (the README's test command installs it)", c)
		}
	}
}

var seq atomic.Int32

// Lab is one test's set of namespaces.
type Lab struct {
	t      testing.TB
	prefix string
	bridge *ns   // holds br0 (cluster LAN) and br1 (public LAN, gateway .254)
	sw     *Host // the bridge namespace as a host, once Switch made it one
	hosts  []*Host
	Dir    string // scratch directory for configs, sockets and logs
}

type ns struct {
	name   string
	handle netns.NsHandle
	nl     *netlink.Handle
}

// ClusterNet is the cluster LAN of every lab; PublicNet carries the default routes. The
// addresses exist only inside the lab's namespaces.
var (
	ClusterNet = netip.MustParsePrefix("10.99.0.0/24")
	PublicNet  = netip.MustParsePrefix("10.99.1.0/24")
)

// New creates an empty lab: the bridge namespace with br0 and br1.
func New(t testing.TB) *Lab {
	t.Helper()
	RequireRoot(t)
	l := &Lab{t: t, prefix: fmt.Sprintf("cd%d-%d", os.Getpid()%100000, seq.Add(1)), Dir: t.TempDir()}
	t.Cleanup(l.teardown)
	l.bridge = l.newNS("br")
	snoop := false
	for _, name := range []string{"br0", "br1"} {
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}, MulticastSnooping: &snoop}
		l.must(l.bridge.nl.LinkAdd(br), "add bridge %s", name)
		l.must(l.bridge.nl.LinkSetUp(br), "set %s up", name)
	}
	br1, err := l.bridge.nl.LinkByName("br1")
	l.must(err, "find br1")
	l.must(l.bridge.nl.AddrAdd(br1, addr(PublicNet, 254)), "address br1")
	return l
}

func (l *Lab) must(err error, format string, args ...any) {
	l.t.Helper()
	if err != nil {
		l.t.Fatalf("lab: %s: %v", fmt.Sprintf(format, args...), err)
	}
}

// newNS creates a named namespace (visible to `ip netns exec`) with lo up.
func (l *Lab) newNS(suffix string) *ns {
	l.t.Helper()
	name := l.prefix + "-" + suffix
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	l.must(err, "get current namespace")
	defer orig.Close()
	h, err := netns.NewNamed(name)
	if err != nil {
		netns.Set(orig)
		l.t.Fatalf("lab: create namespace %s: %v", name, err)
	}
	l.must(netns.Set(orig), "return to the original namespace")
	nl, err := netlink.NewHandleAt(h)
	l.must(err, "netlink handle in %s", name)
	n := &ns{name: name, handle: h, nl: nl}
	lo, err := nl.LinkByName("lo")
	l.must(err, "find lo in %s", name)
	l.must(nl.LinkSetUp(lo), "set lo up in %s", name)
	return n
}

func (l *Lab) teardown() {
	for _, h := range l.hosts {
		h.stopAll()
	}
	for _, n := range append(l.nss(), l.bridge) {
		if n == nil {
			continue
		}
		n.nl.Close()
		n.handle.Close()
		if err := netns.DeleteNamed(n.name); err != nil {
			l.t.Errorf("lab: delete namespace %s: %v", n.name, err)
		}
	}
}

// nss are the hosts' namespaces, the switch's (the bridge namespace) left out.
func (l *Lab) nss() []*ns {
	var out []*ns
	for _, h := range l.hosts {
		if h.ns != l.bridge {
			out = append(out, h.ns)
		}
	}
	return out
}

func addr(p netip.Prefix, host byte) *netlink.Addr {
	a := p.Addr().As4()
	a[3] = host
	return &netlink.Addr{IPNet: &net.IPNet{IP: net.IP(a[:]), Mask: net.CIDRMask(p.Bits(), 32)}}
}

// Host is one simulated cluster host.
type Host struct {
	Name string
	// Addr is its cluster address on cl0.
	Addr netip.Addr
	*ns
	lab   *Lab
	index byte
	procs []*exec.Cmd
}

// NL is the host's netlink handle, for building a probes.Env inside its namespace.
func (h *Host) NL() *netlink.Handle { return h.nl }

// Namespace is the name for `ip netns exec`.
func (h *Host) Namespace() string { return h.name }

// AddHost adds a host with cl0 = 10.99.0.index/24 on br0, up. It adds no route beyond the
// connected one: call AddMulticastRoute or AddPublic as the case needs.
func (l *Lab) AddHost(name string, index byte) *Host {
	l.t.Helper()
	return l.addHost(name, index, "br0", ClusterNet, "cl")
}

// addHost creates the host's namespace and its cl0 on bridge with subnet's address index.
func (l *Lab) addHost(name string, index byte, bridge string, subnet netip.Prefix, peerTag string) *Host {
	l.t.Helper()
	h := &Host{Name: name, lab: l, index: index, ns: l.newNS(name)}
	l.hosts = append(l.hosts, h)
	a := addr(subnet, index)
	h.Addr = netip.AddrFrom4([4]byte(a.IP.To4()))
	h.veth("cl0", fmt.Sprintf("v%d-%s", index, peerTag), bridge, a)
	return h
}

// veth creates iface inside the host and its peer on bridge, both up, without ever
// creating an interface in the root namespace.
func (h *Host) veth(iface, peer, bridge string, a *netlink.Addr) {
	l := h.lab
	v := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: iface, Namespace: netlink.NsFd(h.handle)},
		PeerName:      peer,
		PeerNamespace: netlink.NsFd(l.bridge.handle),
	}
	// The request goes through the bridge namespace's handle, so the peer is born there.
	l.must(l.bridge.nl.LinkAdd(v), "add veth %s/%s", iface, peer)
	br, err := l.bridge.nl.LinkByName(bridge)
	l.must(err, "find %s", bridge)
	p, err := l.bridge.nl.LinkByName(peer)
	l.must(err, "find %s", peer)
	l.must(l.bridge.nl.LinkSetMaster(p, br), "enslave %s", peer)
	l.must(l.bridge.nl.LinkSetUp(p), "set %s up", peer)
	in, err := h.nl.LinkByName(iface)
	l.must(err, "find %s in %s", iface, h.name)
	l.must(h.nl.AddrAdd(in, a), "address %s", iface)
	l.must(h.nl.LinkSetUp(in), "set %s up", iface)
}

// AddPublic gives the host pub0 = 10.99.1.index/24 with the default route via
// 10.99.1.254: multicast without its own route then leaves by pub0.
func (h *Host) AddPublic() {
	h.lab.t.Helper()
	h.veth("pub0", fmt.Sprintf("v%d-pub", h.index), "br1", addr(PublicNet, h.index))
	pub, err := h.nl.LinkByName("pub0")
	h.lab.must(err, "find pub0")
	gw := addr(PublicNet, 254).IP
	h.lab.must(h.nl.RouteReplace(&netlink.Route{LinkIndex: pub.Attrs().Index, Gw: gw}), "default route via pub0")
}

// MulticastRoute is 224.0.0.0/4 on cl0, what the seeds add with route add -net.
func (h *Host) MulticastRoute() *netlink.Route {
	cl0, err := h.nl.LinkByName("cl0")
	h.lab.must(err, "find cl0")
	_, dst, _ := net.ParseCIDR("224.0.0.0/4")
	return &netlink.Route{LinkIndex: cl0.Attrs().Index, Dst: dst, Scope: netlink.SCOPE_LINK}
}

// AddMulticastRoute adds 224.0.0.0/4 dev cl0.
func (h *Host) AddMulticastRoute() {
	h.lab.must(h.nl.RouteReplace(h.MulticastRoute()), "add 224.0.0.0/4 dev cl0")
}

// DelMulticastRoute removes 224.0.0.0/4 dev cl0.
func (h *Host) DelMulticastRoute() {
	h.lab.must(h.nl.RouteDel(h.MulticastRoute()), "delete 224.0.0.0/4 dev cl0")
}

// Private is a private view of the host's files for one command: a hosts file, a host
// name and extra bind mounts (target path -> source path), in a mount and UTS namespace
// of the command's own, so the real /etc/hosts and host name stay untouched.
type Private struct {
	Hosts    string            // content of /etc/hosts; empty keeps the real one
	Hostname string            // host name; empty keeps the real one
	Binds    map[string]string // e.g. "/etc/chrony/chrony.conf" -> lab file
	// NoClock drops CAP_SYS_TIME from the command's bounding set, so the kernel refuses
	// any change to the clock and its discipline state, which namespaces do not isolate.
	// Every time daemon the lab starts runs so.
	NoClock bool
	// Env adds environment variables (NAME=value) to the command.
	Env []string
	// Setup are shell commands run in the private mount namespace before the command,
	// such as "mount -t tmpfs lab-run /run".
	Setup []string
}

// Command returns a command run inside the host's namespace (and private view).
func (h *Host) Command(priv Private, name string, args ...string) *exec.Cmd {
	h.lab.t.Helper()
	var script []string
	if priv.Hosts != "" {
		f := h.lab.WriteFile(h.Name+"-hosts", priv.Hosts)
		script = append(script, fmt.Sprintf("mount --bind %s /etc/hosts", f))
	}
	for target, src := range priv.Binds {
		script = append(script, fmt.Sprintf("mount --bind %s %s", src, target))
	}
	if priv.Hostname != "" {
		script = append(script, "hostname "+priv.Hostname)
	}
	script = append(script, priv.Setup...)
	argv := []string{"netns", "exec", h.name}
	if len(script) > 0 {
		argv = append(argv, "unshare", "--mount", "--uts", "--propagation", "private", "sh", "-ec",
			strings.Join(append(script, `exec "$@"`), "\n"), "sh")
	}
	if priv.NoClock {
		argv = append(argv, "setpriv", "--bounding-set=-sys_time", "--inh-caps=-sys_time")
	}
	if len(priv.Env) > 0 {
		argv = append(append(argv, "env"), priv.Env...)
	}
	cmd := exec.Command("ip", append(append(argv, name), args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// Start runs a long-lived command in the host; the lab stops it (SIGTERM, then SIGKILL
// after 5 s) at cleanup. Output goes to DIR/NAME.log.
func (h *Host) Start(priv Private, logName, name string, args ...string) *exec.Cmd {
	h.lab.t.Helper()
	cmd := h.Command(priv, name, args...)
	logf, err := os.Create(h.lab.Path(logName + ".log"))
	h.lab.must(err, "create log")
	cmd.Stdout, cmd.Stderr = logf, logf
	h.lab.must(cmd.Start(), "start %s", name)
	logf.Close()
	h.procs = append(h.procs, cmd)
	return cmd
}

func (h *Host) stopAll() {
	for _, c := range h.procs {
		stop(c)
	}
}

// stop ends a process the lab started, by its PID.
func stop(c *exec.Cmd) {
	if c.Process == nil || c.ProcessState != nil {
		return
	}
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	c.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		c.Process.Kill()
		<-done
	}
}

// Path is a file in the lab's scratch directory.
func (l *Lab) Path(name string) string { return l.Dir + "/" + name }

// WriteFile writes a scratch file and returns its path.
func (l *Lab) WriteFile(name, content string) string {
	l.t.Helper()
	p := l.Path(name)
	l.must(os.WriteFile(p, []byte(content), 0o644), "write %s", p)
	return p
}

// capSysTime is CAP_SYS_TIME's bit in /proc/PID/status capability masks.
const capSysTime = 25

// requireNoClock fails the test unless the process cannot change the clock. Call it once
// the daemon is up: until then the PID may still be running ip or setpriv.
func (l *Lab) requireNoClock(c *exec.Cmd) {
	l.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.Process.Pid))
	l.must(err, "read status of pid %d", c.Process.Pid)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			l.must(err, "parse CapBnd %q", v)
			if mask&(1<<capSysTime) != 0 {
				stop(c)
				l.t.Fatalf("lab: pid %d (%v) could change the clock: CAP_SYS_TIME in its bounding set", c.Process.Pid, c.Args)
			}
			return
		}
	}
	l.t.Fatalf("lab: no CapBnd in /proc/%d/status", c.Process.Pid)
}

// EnableRouting makes the bridge namespace a router between the cluster LAN (gateway
// 10.99.0.254 on br0) and the public LAN (10.99.1.254 on br1), as a WAN link between two
// sites would be. It forwards unicast only: there is no multicast routing, so multicast
// with TTL 1 never crosses, which is what ttl-too-low is about.
func (l *Lab) EnableRouting() {
	l.t.Helper()
	br0, err := l.bridge.nl.LinkByName("br0")
	l.must(err, "find br0")
	l.must(l.bridge.nl.AddrAdd(br0, addr(ClusterNet, 254)), "address br0")
	cmd := exec.Command("ip", "netns", "exec", l.bridge.name, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	out, err := cmd.CombinedOutput()
	l.must(err, "enable forwarding: %s", out)
}

// AddRemoteHost adds a host on the public LAN only: cl0 = 10.99.1.index/24 on br1, with
// its default route via 10.99.1.254, one routed hop away from the cluster LAN.
func (l *Lab) AddRemoteHost(name string, index byte) *Host {
	l.t.Helper()
	h := l.addHost(name, index, "br1", PublicNet, "rm")
	cl0, err := h.nl.LinkByName("cl0")
	l.must(err, "find cl0")
	l.must(h.nl.RouteReplace(&netlink.Route{LinkIndex: cl0.Attrs().Index, Gw: addr(PublicNet, 254).IP}), "default route via the router")
	return h
}

// RouteToPublic sends the public LAN through the router (10.99.0.254) from a cluster host.
func (h *Host) RouteToPublic() {
	cl0, err := h.nl.LinkByName("cl0")
	h.lab.must(err, "find cl0")
	dst := &net.IPNet{IP: PublicNet.Addr().AsSlice(), Mask: net.CIDRMask(PublicNet.Bits(), 32)}
	h.lab.must(h.nl.RouteReplace(&netlink.Route{LinkIndex: cl0.Attrs().Index, Dst: dst, Gw: addr(ClusterNet, 254).IP}), "route to the public LAN")
}

// FlushCluster removes cl0's IPv4 addresses, and with them its routes: the interface as it
// is at boot before the network configuration runs.
func (h *Host) FlushCluster() {
	h.lab.t.Helper()
	cl0, err := h.nl.LinkByName("cl0")
	h.lab.must(err, "find cl0")
	addrs, err := h.nl.AddrList(cl0, netlink.FAMILY_V4)
	h.lab.must(err, "list cl0 addresses")
	for _, a := range addrs {
		h.lab.must(h.nl.AddrDel(cl0, &a), "delete %s from cl0", a.IPNet)
	}
}

// Routes lists the host's IPv4 routes to dst in the main table, as "ip route" would.
func (h *Host) Routes(dst string) []netlink.Route {
	h.lab.t.Helper()
	_, n, err := net.ParseCIDR(dst)
	h.lab.must(err, "parse %s", dst)
	rs, err := h.nl.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Dst: n, Table: 254},
		netlink.RT_FILTER_DST|netlink.RT_FILTER_TABLE)
	h.lab.must(err, "list routes to %s", dst)
	return rs
}

// Do runs fn inside the host's network namespace, on a thread of its own: sockets fn
// opens stay in that namespace after it returns. The thread goes back to the original
// namespace and lives on: a thread that ends would take with it every process started
// from it (Pdeathsig is per thread).
func (h *Host) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(h.handle); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter %s: %w", h.name, err)
			return
		}
		err = fn()
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread() // else the thread, stuck in h's namespace, ends with us
		}
		errc <- err
	}()
	return <-errc
}

// Nft loads an nftables script (nft -f -) in the host's namespace; the rules go with the
// namespace.
func (h *Host) Nft(script string) {
	h.lab.t.Helper()
	cmd := h.Command(Private{}, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		h.lab.t.Fatalf("lab: nft in %s: %v\n%s\n%s", h.Name, err, out, script)
	}
}

// Listen opens a TCP listener inside the host's namespace; the test closes it.
func (h *Host) Listen(addr string) net.Listener {
	h.lab.t.Helper()
	var ln net.Listener
	err := h.Do(func() error {
		var err error
		ln, err = net.Listen("tcp4", addr)
		return err
	})
	h.lab.must(err, "listen on %s in %s", addr, h.Name)
	h.lab.t.Cleanup(func() { ln.Close() })
	return ln
}

// WaitInNamespace waits until pid has left this process's network namespace (`ip netns
// exec` enters the host's, then executes the command).
func WaitInNamespace(t testing.TB, pid int) {
	t.Helper()
	self, _ := os.Readlink("/proc/self/ns/net")
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid)); err == nil && ns != self {
			return
		}
	}
	t.Fatalf("pid %d did not enter its namespace", pid)
}
