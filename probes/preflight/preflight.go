// Package preflight builds the list of host checks from the settings: probes as data,
// no registry. It also derives the cluster interface when none is given.
package preflight

import (
	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/firewall"
	"github.com/clusterdoctor/clusterdoctor/probes/hostnames"
	"github.com/clusterdoctor/clusterdoctor/probes/network"
	"github.com/clusterdoctor/clusterdoctor/probes/ntp"
	"github.com/clusterdoctor/clusterdoctor/probes/ports"
	"github.com/clusterdoctor/clusterdoctor/probes/routecfg"
)

// Checks returns every preflight check for the settings, whose Iface must already be
// derived (see ClusterIface).
func Checks(s probes.Settings, guess bool) []probes.Probe {
	// The two firewall checks share one assessment of the zone or rule set.
	fwPorts := firewall.Ports{Iface: s.Iface, Group: s.Group, McastPort: s.McastPort, Receiver: s.ReceiverPorts, AJPPort: s.AJPPort}
	fwIGMP := firewall.IGMP{Iface: s.Iface}
	fwPorts.Guard = firewall.NewGuard(s.Iface, append(fwPorts.Needs(), fwIGMP.Need())...)
	fwIGMP.Guard = fwPorts.Guard
	return []probes.Probe{
		network.Link{Iface: s.Iface, Source: s.IfaceSource, Guess: guess},
		network.Route{Iface: s.Iface, Group: s.Group, Port: s.McastPort},
		routecfg.Persistent{Iface: s.Iface, Dst: network.MulticastNet},
		network.RPFilter{Iface: s.Iface},
		hostnames.Hostname{Iface: s.Iface},
		hostnames.Peers{Iface: s.Iface, Peers: s.Peers},
		ntp.Sync{},
		ports.Receiver{Range: s.ReceiverPorts},
		fwPorts,
		fwIGMP,
	}
}

// IDs lists the IDs of every check, for validating --skip and --ignore.
func IDs() []string {
	var out []string
	for _, p := range Checks(probes.Defaults(), false) {
		out = append(out, p.ID())
	}
	return out
}
