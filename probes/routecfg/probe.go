package routecfg

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Timeout is route.persistent's own deadline: files and, at most, two D-Bus round trips.
const Timeout = 3 * time.Second

// Persistent is route.persistent: the multicast route is also in the configuration that
// owns the cluster interface, so it comes back after a reboot.
type Persistent struct {
	Iface string
	Dst   netip.Prefix
}

// ID implements probes.Probe.
func (Persistent) ID() string { return "route.persistent" }

// Timeout implements probes.Probe.
func (Persistent) Timeout() time.Duration { return Timeout }

// DependsOn implements probes.Dependent.
func (Persistent) DependsOn() []string { return []string{"link.cluster"} }

// Run implements probes.Probe.
func (p Persistent) Run(ctx context.Context, env *probes.Env) probes.Result {
	if env.InContainer {
		return probes.UnknownResult(p.ID(), "cannot tell whether the route survives a restart: "+probes.ContainerReason)
	}
	o, err := Detect(ctx, env, Request{Iface: p.Iface, Dst: p.Dst})
	if err == nil {
		defer o.Close()
	}
	fix := fmt.Sprintf("clusterdoctor fix route --iface %s --persist", p.Iface)
	var nf *NotFoundError
	switch {
	case errors.As(err, &nf):
		return probes.Result{ID: p.ID(), Status: probes.Unknown,
			Summary:     fmt.Sprintf("cannot tell whether the route survives a reboot: no network configuration found for %s", p.Iface),
			Detail:      "looked at: " + strings.Join(nf.Looked, "; "),
			Remediation: fix + " --backend BACKEND (networkmanager, ifcfg, netplan, networkd or ifupdown)"}
	case err != nil:
		return probes.Result{ID: p.ID(), Status: probes.Unknown, Summary: "cannot tell whether the route survives a reboot: " + err.Error()}
	}
	ev := map[string]any{"backend": string(o.Backend), "file": o.Where}
	if o.Present {
		r := probes.PassResult(p.ID(), fmt.Sprintf("%s dev %s is kept by %s", p.Dst, p.Iface, o.Describe()))
		r.Evidence = ev
		return r
	}
	if o.Dead != "" {
		r := probes.WarnResult(p.ID(), fmt.Sprintf("%s dev %s is written in %s but never applied at boot", p.Dst, p.Iface, o.Describe())).
			With(o.Dead, fix+" (writes it at the index the readers reach)", ev)
		return r
	}
	r := probes.WarnResult(p.ID(), fmt.Sprintf("%s dev %s is not in %s: it is lost at the next reboot", p.Dst, p.Iface, o.Describe()))
	r.Remediation = fix
	r.Evidence = ev
	return r
}
