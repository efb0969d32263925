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
		pp := firewalld.PortProto{Port: portSpec(cv.Need), Proto: cv.Need.Proto}
		if cv.Runtime.Open {
			p.Notes = append(p.Notes, fmt.Sprintf("runtime: %s is open (%s)", cv.Need, cv.Runtime.Why))
		} else {
			zone := f.Zone
			p.Steps = append(p.Steps, Step{
				Show:  fmt.Sprintf("firewall-cmd --zone=%s --add-port=%s   # over D-Bus", zone, cv.Need),
				Name:  fmt.Sprintf("open %s in firewalld zone %s", cv.Need, zone),
				Apply: func(context.Context) error { return f.Client.AddPortRuntime(zone, pp) },
				Undo:  func(context.Context) error { return f.Client.RemovePortRuntime(zone, pp) },
			})
		}
		if cv.Permanent.Open {
			p.Notes = append(p.Notes, fmt.Sprintf("permanent: %s is open (%s)", cv.Need, cv.Permanent.Why))
		} else {
			zone := f.PermanentZone
			p.Steps = append(p.Steps, Step{
				Show:  fmt.Sprintf("firewall-cmd --permanent --zone=%s --add-port=%s   # over D-Bus", zone, cv.Need),
				Name:  fmt.Sprintf("open %s in firewalld's permanent zone %s", cv.Need, zone),
				Apply: func(context.Context) error { return f.Client.AddPortPermanent(zone, pp) },
				Undo:  func(context.Context) error { return f.Client.RemovePortPermanent(zone, pp) },
			})
		}
	}
	return p
}

func portSpec(n firewall.Need) string {
	if n.Lo == n.Hi {
		return fmt.Sprint(n.Lo)
	}
	return fmt.Sprintf("%d-%d", n.Lo, n.Hi)
}
