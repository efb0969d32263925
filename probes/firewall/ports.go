package firewall

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/clusterdoctor/clusterdoctor/netcfg/firewalld"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Timeout is firewall.ports' own deadline: a handful of D-Bus calls, ~1 ms each.
const Timeout = 3 * time.Second

// Ports is firewall.ports: the zone that applies to the cluster interface lets in the
// membership multicast, the receiver range and AJP, at runtime and permanently.
type Ports struct {
	Iface     string
	Group     netip.Addr
	McastPort int
	Receiver  probes.PortRange
	AJPPort   int
}

// ID implements probes.Probe.
func (Ports) ID() string { return "firewall.ports" }

// Timeout implements probes.Probe.
func (Ports) Timeout() time.Duration { return Timeout }

// DependsOn implements probes.Dependent.
func (Ports) DependsOn() []string { return []string{"link.cluster"} }

// Needs lists the traffic the cluster needs in.
func (p Ports) Needs() []Need {
	return []Need{
		{Lo: p.McastPort, Hi: p.McastPort, Proto: "udp", Dst: p.Group, Label: "membership multicast"},
		{Lo: p.Receiver.From, Hi: p.Receiver.To, Proto: "tcp", Label: "replication receivers"},
		{Lo: p.AJPPort, Hi: p.AJPPort, Proto: "tcp", Label: "AJP"},
	}
}

// Coverage is what firewalld lets in for one Need.
type Coverage struct {
	Need      Need
	Runtime   Verdict
	Permanent Verdict
}

// Zones asks firewalld which zone applies to the interface now and which after a
// reload: its binding in the permanent configuration, else the default zone.
func Zones(c *firewalld.Client, iface string) (zone, how, permZone string, err error) {
	if zone, how, err = c.ZoneOf(iface); err != nil {
		return "", "", "", err
	}
	if permZone, err = c.PermanentZoneOf(iface); err == nil && permZone == "" {
		permZone, err = c.DefaultZone()
	}
	return zone, how, permZone, err
}

// Cover decides every need in the runtime zone and the permanent zone.
func Cover(c *firewalld.Client, zone, permZone string, needs []Need) ([]Coverage, error) {
	rt, err := c.Runtime().Zone(zone)
	if err != nil {
		return nil, err
	}
	pm, err := c.Permanent().Zone(permZone)
	if err != nil {
		return nil, err
	}
	var cov []Coverage
	for _, n := range needs {
		cv := Coverage{Need: n}
		if cv.Runtime, err = Decide(c.Runtime(), rt, n); err != nil {
			return nil, err
		}
		if cv.Permanent, err = Decide(c.Permanent(), pm, n); err != nil {
			return nil, err
		}
		cov = append(cov, cv)
	}
	return cov, nil
}

// Run implements probes.Probe.
func (p Ports) Run(ctx context.Context, env *probes.Env) probes.Result {
	unknown := func(why string) probes.Result {
		return probes.Result{ID: p.ID(), Status: probes.Unknown, Summary: why}
	}
	if !env.LiveRoot() || env.SystemBus == nil {
		return unknown("firewalld is asked over D-Bus only on the live host (--root is set)")
	}
	conn, err := env.SystemBus(ctx)
	if err != nil {
		return unknown("firewalld not reachable: " + err.Error())
	}
	defer conn.Close()
	c := firewalld.New(conn)
	if !c.Running() {
		return unknown("firewalld is not running (nftables and iptables rule sets are not decided yet)")
	}
	zone, how, permZone, err := Zones(c, p.Iface)
	if err != nil {
		return unknown(err.Error())
	}
	cov, err := Cover(c, zone, permZone, p.Needs())
	if err != nil {
		return unknown(err.Error())
	}
	var missing, runtimeOnly, permanentOnly, lines []string
	ev := map[string]any{"zone": zone, "permanentZone": permZone}
	ports := map[string]any{}
	for _, cv := range cov {
		n := cv.Need.String()
		state := "open"
		switch {
		case !cv.Runtime.Open && !cv.Permanent.Open:
			state = "missing"
			missing = append(missing, n)
		case !cv.Runtime.Open:
			state = "permanent-only"
			permanentOnly = append(permanentOnly, n)
		case !cv.Permanent.Open:
			state = "runtime-only"
			runtimeOnly = append(runtimeOnly, n)
		}
		ports[n] = state
		lines = append(lines, fmt.Sprintf("%s (%s): runtime: %s; permanent: %s", n, cv.Need.Label, say(cv.Runtime), say(cv.Permanent)))
	}
	ev["ports"] = ports
	where := fmt.Sprintf("zone %s (%s)", zone, how)
	if permZone != zone {
		where += fmt.Sprintf(", permanently %s", permZone)
	}
	var r probes.Result
	switch {
	case len(missing) > 0:
		r = probes.FailResult(p.ID(), fmt.Sprintf("firewalld %s blocks %s", where, strings.Join(missing, ", ")))
	case len(runtimeOnly)+len(permanentOnly) > 0:
		var parts []string
		if len(runtimeOnly) > 0 {
			parts = append(parts, fmt.Sprintf("opens %s at runtime only: lost at the next reload or reboot", strings.Join(runtimeOnly, ", ")))
		}
		if len(permanentOnly) > 0 {
			parts = append(parts, fmt.Sprintf("opens %s permanently only: blocked until the next reload", strings.Join(permanentOnly, ", ")))
		}
		r = probes.WarnResult(p.ID(), fmt.Sprintf("firewalld %s %s", where, strings.Join(parts, "; ")))
	default:
		r = probes.PassResult(p.ID(), fmt.Sprintf("firewalld %s lets in %s", where, joinNeeds(cov)))
	}
	r.Detail = strings.Join(lines, "; ")
	r.Evidence = ev
	if r.Status != probes.Pass {
		r.Remediation = fmt.Sprintf("clusterdoctor fix firewall --iface %s (firewall-cmd [--permanent] --zone=%s --add-port=PORT/PROTO, without --reload)", p.Iface, zone)
	}
	return r
}

func say(v Verdict) string {
	if v.Open {
		return "open (" + v.Why + ")"
	}
	return "closed (" + v.Why + ")"
}

func joinNeeds(cov []Coverage) string {
	var s []string
	for _, c := range cov {
		s = append(s, c.Need.String())
	}
	return strings.Join(s, ", ")
}
