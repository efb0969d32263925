package fixes

import (
	"context"
	"fmt"

	"github.com/clusterdoctor/clusterdoctor/netcfg/firewalld"
	"github.com/clusterdoctor/clusterdoctor/probes/firewall"
)

// OpenFirewall plans the openings firewall.ports found missing, runtime and permanent,
// through firewalld's D-Bus API and without a reload (a reload would drop runtime-only
// openings that others made). Equivalent to firewall-cmd [--permanent] --zone=Z --add-port=P.
type OpenFirewall struct {
	Client *firewalld.Client
	// Zone and PermanentZone are where to open: the zone of the interface unless --zone.
	Zone, PermanentZone string
	Coverage            []firewall.Coverage
}

// Plan returns one step per missing opening; none when everything is open.
func (f OpenFirewall) Plan() *Plan {
	p := &Plan{}
	for _, cv := range f.Coverage {
		o := opening(cv.Need)
		for _, side := range []struct {
			saved bool
			zone  string
			v     firewall.Verdict
			flag  string
		}{{false, f.Zone, cv.Runtime, ""}, {true, f.PermanentZone, cv.Permanent, "--permanent "}} {
			label := map[bool]string{false: "runtime", true: "permanent"}[side.saved]
			if side.v.Open {
				p.Notes = append(p.Notes, fmt.Sprintf("%s: %s is open (%s)", label, cv.Need, side.v.Why))
				continue
			}
			arg := "--add-port=" + o.String()
			if o.Port == "" {
				arg = "--add-protocol=" + o.Proto
			}
			p.Steps = append(p.Steps, Step{
				Show:  fmt.Sprintf("firewall-cmd %s--zone=%s %s   # over D-Bus", side.flag, side.zone, arg),
				Name:  fmt.Sprintf("open %s in firewalld's %s zone %s", o, label, side.zone),
				Apply: func(context.Context) error { return f.Client.Open(side.zone, o, side.saved) },
				Undo:  func(context.Context) error { return f.Client.Close(side.zone, o, side.saved) },
			})
		}
	}
	return p
}

// opening is the firewalld port (or, for igmp, protocol) that lets n in.
func opening(n firewall.Need) firewalld.PortProto {
	switch {
	case n.Lo == 0 && n.Hi == 0:
		return firewalld.PortProto{Proto: n.Proto}
	case n.Lo == n.Hi:
		return firewalld.PortProto{Port: fmt.Sprint(n.Lo), Proto: n.Proto}
	}
	return firewalld.PortProto{Port: fmt.Sprintf("%d-%d", n.Lo, n.Hi), Proto: n.Proto}
}
