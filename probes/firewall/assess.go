package firewall

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/clusterdoctor/clusterdoctor/netcfg/firewalld"
	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/firewall/nft"
	"github.com/clusterdoctor/clusterdoctor/probes/firewall/xtables"
	"github.com/clusterdoctor/clusterdoctor/probes/routecfg"
)

// Assessment is what guards the cluster interface and what it lets in.
type Assessment struct {
	// Guard is what decides: "firewalld", "firewalld (not running)" or "nftables".
	Guard string
	// Where says which zone applies and why ("zone public (the default zone)").
	Where    string
	Zone     string
	PermZone string
	Coverage []Coverage
	// HasRuntime and HasPermanent say which sides were read: a stopped firewalld has
	// no runtime, a plain nftables rule set no permanent side that is read.
	HasRuntime, HasPermanent bool
}

// Coverage is what the guard lets in for one Need.
type Coverage struct {
	Need      Need
	Runtime   Verdict
	Permanent Verdict
}

// target is the cluster interface as the packets meet it.
type target struct {
	iface  string
	index  int
	addr   netip.Addr   // its IPv4 address
	subnet netip.Prefix // the cluster subnet
	peer   netip.Addr   // a sender on it, for rules that look at the source
}

func targetOf(env *probes.Env, iface string) (target, error) {
	t := target{iface: iface}
	if env.Netlink == nil {
		return t, errors.New("no netlink handle")
	}
	link, err := env.Netlink.LinkByName(iface)
	if err != nil {
		return t, fmt.Errorf("interface %s: %w", iface, err)
	}
	t.index = link.Attrs().Index
	addrs, err := env.Netlink.AddrList(link, netlink.FAMILY_V4)
	if err != nil || len(addrs) == 0 {
		return t, fmt.Errorf("interface %s has no IPv4 address", iface)
	}
	a, _ := netip.AddrFromSlice(addrs[0].IP.To4())
	ones, _ := addrs[0].Mask.Size()
	t.addr, t.subnet = a, netip.PrefixFrom(a, ones).Masked()
	t.peer = t.subnet.Addr().Next()
	if t.peer == t.addr {
		t.peer = t.peer.Next()
	}
	return t, nil
}

// errUndecided carries why the guard could not be decided (the check says unknown).
type errUndecided struct{ why string }

func (e errUndecided) Error() string { return e.why }

// Assess finds what guards iface and decides every need: firewalld over D-Bus when it
// runs; its configuration files when it is installed and enabled but stopped (with the
// kernel's rule set as the runtime side); the kernel's nftables rule set otherwise.
func Assess(ctx context.Context, env *probes.Env, iface string, needs []Need) (*Assessment, error) {
	t, err := targetOf(env, iface)
	if err != nil && env.LiveRoot() {
		return nil, errUndecided{err.Error()}
	}
	if env.LiveRoot() && env.SystemBus != nil {
		if conn, err := env.SystemBus(ctx); err == nil {
			defer conn.Close()
			if c := firewalld.New(conn); c.Running() {
				prof, err := ProfileOf(ctx, env, iface)
				if err != nil {
					return nil, err
				}
				return assessFirewalld(c, t, needs, prof)
			}
		}
	}
	files := firewalld.Files{Root: env.Root}
	if files.Installed() && files.Enabled() {
		prof, err := ProfileOf(ctx, env, iface)
		if err != nil {
			return nil, err
		}
		return assessFiles(env, files, t, needs, prof)
	}
	if !env.LiveRoot() {
		return nil, errUndecided{"no firewalld configuration under --root, and the kernel's rule set is read on the live host only"}
	}
	a := &Assessment{Guard: "nftables", HasRuntime: true}
	if a.Coverage, err = kernelCoverage(env, t, needs); err != nil {
		return nil, err
	}
	return a, nil
}

// ProfileOf is the zone iface's network profile names, if any (see routecfg.ProfileZone).
func ProfileOf(ctx context.Context, env *probes.Env, iface string) (Profile, error) {
	zone, from, err := routecfg.ProfileZone(ctx, env, iface)
	if err != nil {
		return Profile{}, errUndecided{err.Error()}
	}
	return Profile{Zone: zone, From: from}, nil
}

func assessFirewalld(c *firewalld.Client, t target, needs []Need, prof Profile) (*Assessment, error) {
	b, err := Zones(c, t.iface, t.subnet, prof)
	if err != nil {
		return nil, errUndecided{err.Error()}
	}
	cov, err := Cover(c.Runtime(), b.Zone, c.Permanent(), b.PermZone, needs, t.subnet)
	if err != nil {
		return nil, errUndecided{err.Error()}
	}
	where := fmt.Sprintf("zone %s (%s)", b.Zone, b.How)
	switch {
	case b.PermZone != b.Zone:
		where += fmt.Sprintf(", permanently %s (%s)", b.PermZone, b.PermHow)
	case b.PermHow != b.How:
		where += fmt.Sprintf(", permanently too (%s)", b.PermHow)
	}
	return &Assessment{Guard: "firewalld", Where: where, Zone: b.Zone, PermZone: b.PermZone,
		Coverage: cov, HasRuntime: true, HasPermanent: true}, nil
}

// assessFiles: firewalld installed but stopped. What it will do when it starts comes
// from its files; what the kernel does now from the rule set.
func assessFiles(env *probes.Env, f firewalld.Files, t target, needs []Need, prof Profile) (*Assessment, error) {
	pz, how, err := FileZones(f, t.iface, t.subnet, prof)
	if err != nil {
		return nil, errUndecided{err.Error()}
	}
	a := &Assessment{Guard: "firewalld (not running)", Where: fmt.Sprintf("zone %s (%s)", pz.Name, how),
		Zone: pz.Name, PermZone: pz.Name, HasPermanent: true}
	var rt []Coverage
	if env.LiveRoot() {
		if rt, err = kernelCoverage(env, t, needs); err != nil {
			return nil, err
		}
		a.HasRuntime = true
	}
	for i, n := range needs {
		cv := Coverage{Need: n}
		if cv.Permanent, err = Decide(f, pz, n, t.subnet); err != nil {
			return nil, errUndecided{err.Error()}
		}
		if rt != nil {
			cv.Runtime = rt[i].Runtime
		}
		a.Coverage = append(a.Coverage, cv)
	}
	return a, nil
}

// Cover decides every need in the runtime zone and the permanent zone, for senders on
// peers, the cluster subnet.
func Cover(rt firewalld.View, zone string, pm firewalld.View, permZone string, needs []Need, peers netip.Prefix) ([]Coverage, error) {
	rz, err := rt.Zone(zone)
	if err != nil {
		return nil, err
	}
	pz, err := pm.Zone(permZone)
	if err != nil {
		return nil, err
	}
	var cov []Coverage
	for _, n := range needs {
		cv := Coverage{Need: n}
		if cv.Runtime, err = Decide(rt, rz, n, peers); err != nil {
			return nil, err
		}
		if cv.Permanent, err = Decide(pm, pz, n, peers); err != nil {
			return nil, err
		}
		cov = append(cov, cv)
	}
	return cov, nil
}

// kernelCoverage runs each need's packets through the kernel's nftables rule set: a
// range is open only when every port in it is.
func kernelCoverage(env *probes.Env, t target, needs []Need) ([]Coverage, error) {
	rs, err := nft.Load()
	if err != nil {
		return nil, errUndecided{err.Error()}
	}
	guards := []decider{rs}
	// Legacy iptables (x_tables) hooks in beside nftables: a packet must pass both.
	if b, err := os.ReadFile("/proc/net/ip_tables_names"); err == nil && strings.Contains(string(b), "filter") {
		legacy, err := xtables.Load()
		if err != nil && !errors.Is(err, xtables.ErrNoTable) {
			return nil, errUndecided{err.Error()}
		}
		if err == nil {
			guards = append([]decider{legacy}, guards...)
		}
	}
	var out []Coverage
	for _, n := range needs {
		v, err := kernelVerdict(guards, t, n)
		if err != nil {
			return nil, err
		}
		out = append(out, Coverage{Need: n, Runtime: v})
	}
	return out, nil
}

// decider is a kernel rule set: nftables, or the legacy iptables filter table.
type decider interface {
	Decide(nft.Packet) nft.Decision
}

// decideAll: a packet gets in only when every rule set lets it.
func decideAll(guards []decider, p nft.Packet) nft.Decision {
	var last nft.Decision
	for _, g := range guards {
		d := g.Decide(p)
		if d.Unknown != "" || !d.Accepted {
			return d
		}
		d.ReadSource = d.ReadSource || last.ReadSource
		if last.By != "" {
			d.By = last.By + ", then " + d.By
		}
		last = d
	}
	return last
}

func kernelVerdict(guards []decider, t target, n Need) (Verdict, error) {
	p := nft.Packet{Iface: t.iface, Index: t.index, Src: t.peer, Dst: t.addr, DstType: unix.RTN_LOCAL, Sport: 40000}
	if n.Dst.IsValid() {
		p.Dst = n.Dst
		if n.Dst.IsMulticast() {
			p.DstType = unix.RTN_MULTICAST
		}
	}
	switch n.Proto {
	case "udp":
		p.Proto, p.Sport = unix.IPPROTO_UDP, uint16(n.Lo) // Tomcat sends membership from its own port
	case "tcp":
		p.Proto = unix.IPPROTO_TCP
	case "igmp":
		p.Proto = unix.IPPROTO_IGMP
	default:
		return Verdict{}, errUndecided{"protocol " + n.Proto}
	}
	var closed []int
	var d nft.Decision
	for port := n.Lo; port <= n.Hi; port++ {
		p.Dport = uint16(port)
		d = decideAll(guards, p)
		if d.Unknown != "" {
			return Verdict{}, errUndecided{fmt.Sprintf("the kernel's rule set for %s: %s", n, d.Unknown)}
		}
		if !d.Accepted {
			closed = append(closed, port)
		}
	}
	why := d.By
	if d.ReadSource {
		why += fmt.Sprintf(", for a sender at %s", t.peer)
	}
	switch {
	case len(closed) == 0:
		return Verdict{Open: true, Why: why}, nil
	case len(closed) < n.Hi-n.Lo+1:
		return Verdict{Open: false, Why: fmt.Sprintf("%d of its ports are dropped (first %d)", len(closed), closed[0])}, nil
	}
	return Verdict{Open: false, Why: why}, nil
}

// Subnet is the cluster subnet on iface: what a zone's source binding must hold to
// decide the peers' traffic.
func Subnet(env *probes.Env, iface string) (netip.Prefix, error) {
	t, err := targetOf(env, iface)
	return t.subnet, err
}
