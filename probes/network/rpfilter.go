package network

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// RPFilter is sysctl.rp_filter: strict reverse-path filtering on a host with more than one
// network. With rp_filter=1 the kernel drops a packet whose source it would not route back
// out of the interface it came in on, which silently eats multicast from peers whose
// subnet is reached through another NIC.
// Equivalent to: sysctl net.ipv4.conf.all.rp_filter net.ipv4.conf.IFACE.rp_filter.
type RPFilter struct {
	Iface string
}

// ID implements probes.Probe.
func (RPFilter) ID() string { return "sysctl.rp_filter" }

// Timeout implements probes.Probe.
func (RPFilter) Timeout() time.Duration { return LinkTimeout }

// Run implements probes.Probe.
func (p RPFilter) Run(ctx context.Context, env *probes.Env) probes.Result {
	id := p.ID()
	all, err := readSysctlInt(env, "/proc/sys/net/ipv4/conf/all/rp_filter")
	if err != nil {
		return probes.UnknownResult(id, err.Error())
	}
	dev, err := readSysctlInt(env, "/proc/sys/net/ipv4/conf/"+p.Iface+"/rp_filter")
	if err != nil {
		return probes.UnknownResult(id, err.Error())
	}
	addrs, err := env.InterfaceAddrs()
	if err != nil {
		return probes.UnknownResult(id, err.Error())
	}
	nets := map[string]bool{}
	for _, a := range addrs {
		if a.Prefix.Addr().Is4() && !a.Prefix.Addr().IsLoopback() {
			nets[a.Iface] = true
		}
	}
	return decideRPFilter(p.Iface, all, dev, len(nets))
}

// decideRPFilter applies the kernel's rule: the effective value is max(all, iface).
func decideRPFilter(iface string, all, dev, ipv4Ifaces int) probes.Result {
	const id = "sysctl.rp_filter"
	eff := max(all, dev)
	ev := map[string]any{"all": all, iface: dev, "effective": eff, "ipv4Interfaces": ipv4Ifaces}
	mode := map[int]string{0: "off", 1: "strict", 2: "loose"}[eff]
	if eff == 1 && ipv4Ifaces > 1 {
		return probes.WarnResult(id, fmt.Sprintf("strict reverse-path filtering on %s of a host with %d IPv4 interfaces", iface, ipv4Ifaces)).
			With("rp_filter=1 drops packets whose source is routed back through another interface; multicast from a peer reached via another NIC disappears without a trace",
				fmt.Sprintf("sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.%s.rp_filter=2 (persist in /etc/sysctl.d/90-clusterdoctor.conf)", iface), ev)
	}
	return probes.PassResult(id, fmt.Sprintf("reverse-path filtering on %s is %s (rp_filter=%d)", iface, mode, eff)).With("", "", ev)
}

func readSysctlInt(env *probes.Env, path string) (int, error) {
	s, err := env.ReadTrimmed(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a number", path, s)
	}
	return v, nil
}
