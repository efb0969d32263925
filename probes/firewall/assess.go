package firewall

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"

	"github.com/clusterdoctor/clusterdoctor/netcfg/firewalld"
	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/resolve"
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
	// Peers are the senders the peers' traffic was judged for; none: the cluster subnet.
	Peers []resolve.Peer
	// Notes say what was not judged, and why.
	Notes []string
	// PermanentFrom says where a running firewalld's permanent side was read: its
	// configuration directory, or "D-Bus".
	PermanentFrom string
}

// Coverage is what the guard lets in for one Need from one sender.
type Coverage struct {
	Need Need
	// From is the peer the traffic was judged for; empty when it was judged for any
	// sender on the cluster subnet, or its senders are not known.
	From resolve.Peer
	// Runtime and Permanent are what the guard's own rules do: firewalld's zone, or the
	// kernel's whole rule set where firewalld does not guard.
	Runtime   Verdict
	Permanent Verdict
	// Beside is what the kernel's other rule sets do while firewalld guards (nftables
	// tables of their own, legacy iptables): every packet meets them too.
	Beside *Verdict
}

// Now is what happens to the traffic today: the guard's runtime side and the rest of
// the kernel's rules.
func (cv Coverage) Now() Verdict { return both(cv.Runtime, cv.Beside) }

// Saved is what happens after firewalld reloads or the host reboots.
func (cv Coverage) Saved() Verdict { return both(cv.Permanent, cv.Beside) }

// both: a packet gets in only when the guard and the rules beside it let it.
func both(v Verdict, beside *Verdict) Verdict {
	if v.Open && beside != nil && !beside.Open {
		return *beside
	}
	return v
}

// target is the cluster interface as the packets meet it.
type target struct {
	iface  string
	index  int
	addr   netip.Addr   // its IPv4 address
	subnet netip.Prefix // the cluster subnet
	// anyPeer stands for a sender on the subnet when the peers are not known.
	anyPeer netip.Addr
}

// sender is who the traffic is judged from: a named peer (prefix its /32), or any host of
// the cluster subnet (prefix the subnet), or nobody known (prefix invalid).
type sender struct {
	peer   resolve.Peer
	addr   netip.Addr
	prefix netip.Prefix
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
	t.anyPeer = t.subnet.Addr().Next()
	if t.anyPeer == t.addr {
		t.anyPeer = t.anyPeer.Next()
	}
	return t, nil
}

// senders are who n is judged from: each peer when they are known, else any host of the
// cluster subnet; traffic whose senders are unknown (AJP, IGMP queries) from anybody.
func (t target) senders(n Need, peers []resolve.Peer) []sender {
	switch {
	case !n.FromPeers:
		return []sender{{addr: t.anyPeer}}
	case len(peers) == 0:
		return []sender{{addr: t.anyPeer, prefix: t.subnet}}
	}
	out := make([]sender, 0, len(peers))
	for _, p := range peers {
		out = append(out, sender{peer: p, addr: p.Addr, prefix: netip.PrefixFrom(p.Addr, 32)})
	}
	return out
}

// errUndecided carries why the guard could not be decided (the check says unknown).
type errUndecided struct{ why string }

func (e errUndecided) Error() string { return e.why }

// Assess finds what guards iface and decides every need, for every peer when peers are
// known: firewalld over D-Bus when it runs, with the kernel's other rule sets beside it;
// its configuration files when it is installed and enabled but stopped (with the kernel's
// rule set as the runtime side); the kernel's rule sets otherwise.
func Assess(ctx context.Context, env *probes.Env, iface string, needs []Need, peers []resolve.Peer) (*Assessment, error) {
	if env.InContainer {
		return nil, errUndecided{probes.ContainerReason}
	}
	t, err := targetOf(env, iface)
	if err != nil && env.LiveKernel() {
		return nil, errUndecided{err.Error()}
	}
	var a *Assessment
	if env.LiveKernel() && env.SystemBus != nil {
		if conn, err := env.SystemBus(ctx); err == nil {
			defer conn.Close()
			if c := firewalld.New(conn); c.Running() {
				if a, err = assessFirewalld(ctx, env, c, t, needs, peers); err != nil {
					return nil, err
				}
			}
		}
	}
	files := firewalld.Files{Root: env.Root}
	if a == nil && files.Installed() && files.Enabled() {
		if a, err = assessFiles(ctx, env, files, t, needs, peers); err != nil {
			return nil, err
		}
	}
	if a == nil {
		if !env.LiveKernel() {
			return nil, errUndecided{"no firewalld configuration under --root, and the kernel's rule set is read on the live host only"}
		}
		k, err := loadKernel()
		if err != nil {
			return nil, err
		}
		a = &Assessment{Guard: "nftables", HasRuntime: true}
		for _, n := range needs {
			for _, s := range t.senders(n, peers) {
				v, err := k.verdict(t, n, s)
				if err != nil {
					return nil, err
				}
				a.Coverage = append(a.Coverage, Coverage{Need: n, From: s.peer, Runtime: v})
			}
		}
	}
	a.Peers = peers
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

// assessFirewalld: firewalld decides in its own table from its zones; every packet also
// meets the kernel's other tables.
func assessFirewalld(ctx context.Context, env *probes.Env, c *firewalld.Client, t target, needs []Need, peers []resolve.Peer) (*Assessment, error) {
	prof, err := ProfileOf(ctx, env, t.iface)
	if err != nil {
		return nil, err
	}
	a := &Assessment{Guard: "firewalld", HasRuntime: true, HasPermanent: true}
	beside, note, err := besideFirewalld(firewalld.Files{Root: env.Root})
	if err != nil {
		return nil, err
	}
	if note != "" {
		a.Notes = append(a.Notes, note)
	}
	bindings := map[netip.Prefix]Binding{}
	files, fromFiles := runningFiles(env, c)
	rt, pm := cache(c.Runtime()), cache(c.Permanent())
	a.PermanentFrom = "D-Bus"
	if fromFiles {
		pm = cache(files)
		a.PermanentFrom = files.Describe()
	}
	for _, n := range needs {
		for _, s := range t.senders(n, peers) {
			p := s.prefix
			if !p.IsValid() {
				p = t.subnet // zone dispatch for unknown senders: as for the cluster's hosts
			}
			b, ok := bindings[p]
			if !ok {
				if fromFiles {
					b, err = filesBinding(c, files, t.iface, p, prof)
				} else {
					b, err = Zones(c, t.iface, p, prof)
				}
				if err != nil {
					return nil, errUndecided{err.Error()}
				}
				bindings[p] = b
			}
			if a.Zone == "" {
				a.Zone, a.PermZone, a.Where = b.Zone, b.PermZone, b.where()
			}
			cv, err := coverZone(rt, b.Zone, pm, b.PermZone, n, s.prefix)
			if err != nil {
				return nil, errUndecided{err.Error()}
			}
			cv.Runtime.By, cv.Permanent.By = b.names()
			cv.From = s.peer
			if beside != nil {
				v, err := beside.verdict(t, n, s)
				if err != nil {
					return nil, err
				}
				cv.Beside = &v
			}
			a.Coverage = append(a.Coverage, cv)
		}
	}
	return a, nil
}

// names are how summaries name the runtime and the permanent zone: once when they are
// one zone that applies for one reason.
func (b Binding) names() (runtime, permanent string) {
	runtime = fmt.Sprintf("firewalld zone %s (%s)", b.Zone, b.How)
	if b.PermZone == b.Zone && b.PermHow == b.How {
		return runtime, runtime
	}
	return runtime, fmt.Sprintf("firewalld's permanent zone %s (%s)", b.PermZone, b.PermHow)
}

func (b Binding) where() string {
	where := fmt.Sprintf("zone %s (%s)", b.Zone, b.How)
	switch {
	case b.PermZone != b.Zone:
		where += fmt.Sprintf(", permanently %s (%s)", b.PermZone, b.PermHow)
	case b.PermHow != b.How:
		where += fmt.Sprintf(", permanently too (%s)", b.PermHow)
	}
	return where
}

// besideFirewalld is the kernel's rule sets without firewalld's own table. With
// firewalld's iptables backend its rules live in iptables itself and cannot be told
// from the others: then nothing is judged beside it, and the note says so.
func besideFirewalld(f firewalld.Files) (*kernel, string, error) {
	if backend, err := f.Backend(); err == nil && backend == "iptables" {
		return nil, "firewalld uses its iptables backend: rules outside it are not judged", nil
	}
	k, err := loadKernel()
	if err != nil {
		return nil, "", err
	}
	return k.without("firewalld"), "", nil
}

// assessFiles: firewalld installed but stopped. What it will do when it starts comes
// from its files; what the kernel does now from the rule set, and its tables other than
// firewalld's stay when firewalld starts.
func assessFiles(ctx context.Context, env *probes.Env, f firewalld.Files, t target, needs []Need, peers []resolve.Peer) (*Assessment, error) {
	prof, err := ProfileOf(ctx, env, t.iface)
	if err != nil {
		return nil, err
	}
	a := &Assessment{Guard: "firewalld (not running)", HasPermanent: true}
	var k *kernel
	if env.LiveKernel() {
		if k, err = loadKernel(); err != nil {
			return nil, err
		}
		a.HasRuntime = true
	}
	for _, n := range needs {
		for _, s := range t.senders(n, peers) {
			p := s.prefix
			if !p.IsValid() {
				p = t.subnet
			}
			pz, how, err := FileZones(f, t.iface, p, prof)
			if err != nil {
				return nil, errUndecided{err.Error()}
			}
			if a.Zone == "" {
				a.Zone, a.PermZone, a.Where = pz.Name, pz.Name, fmt.Sprintf("zone %s (%s)", pz.Name, how)
			}
			cv := Coverage{Need: n, From: s.peer}
			if cv.Permanent, err = Decide(f, pz, n, s.prefix); err != nil {
				return nil, errUndecided{err.Error()}
			}
			cv.Permanent.By = fmt.Sprintf("firewalld (not running) zone %s (%s)", pz.Name, how)
			if k != nil {
				if cv.Runtime, err = k.verdict(t, n, s); err != nil {
					return nil, err
				}
				v, err := k.without("firewalld").verdict(t, n, s)
				if err != nil {
					return nil, err
				}
				cv.Beside = &v
			}
			a.Coverage = append(a.Coverage, cv)
		}
	}
	return a, nil
}

// Cover decides every need in the runtime zone and the permanent zone, for senders on
// peers, the cluster subnet.
func Cover(rt firewalld.View, zone string, pm firewalld.View, permZone string, needs []Need, peers netip.Prefix) ([]Coverage, error) {
	var cov []Coverage
	for _, n := range needs {
		src := peers
		if !n.FromPeers {
			src = netip.Prefix{}
		}
		cv, err := coverZone(rt, zone, pm, permZone, n, src)
		if err != nil {
			return nil, err
		}
		cov = append(cov, cv)
	}
	return cov, nil
}

// coverZone decides n from the senders on src in the runtime and the permanent zone.
func coverZone(rt firewalld.View, zone string, pm firewalld.View, permZone string, n Need, src netip.Prefix) (Coverage, error) {
	cv := Coverage{Need: n}
	rz, err := rt.Zone(zone)
	if err != nil {
		return cv, err
	}
	pz, err := pm.Zone(permZone)
	if err != nil {
		return cv, err
	}
	if cv.Runtime, err = Decide(rt, rz, n, src); err != nil {
		return cv, err
	}
	if cv.Permanent, err = Decide(pm, pz, n, src); err != nil {
		return cv, err
	}
	cv.Runtime.By, cv.Permanent.By = "firewalld zone "+zone, "firewalld's permanent zone "+permZone
	return cv, nil
}

// Subnet is the cluster subnet on iface: what a zone's source binding must hold to
// decide the peers' traffic.
func Subnet(env *probes.Env, iface string) (netip.Prefix, error) {
	t, err := targetOf(env, iface)
	return t.subnet, err
}
