package firewall

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/firewalld"
)

// Binding is the zone that decides the cluster's inbound traffic, now and after a
// reload, and how it came to apply.
type Binding struct {
	Zone, How         string
	PermZone, PermHow string
}

// Profile is the zone the interface's network profile gives it (routecfg.ProfileZone):
// NetworkManager hands it to firewalld whenever the connection comes up, so it is the
// interface's zone after a reboot, whatever firewalld's own files say.
type Profile struct{ Zone, From string }

// Zones finds the zone that applies to peers on subnet arriving on iface, the way
// firewalld dispatches: a zone whose source binding holds the whole subnet comes first,
// then the interface's zone (permanently: the profile's, else firewalld's binding), then
// the default zone. Equivalent to firewall-cmd --get-active-zones /
// --get-zone-of-interface=IFACE / --get-default-zone, and the same with --permanent.
func Zones(c *firewalld.Client, iface string, subnet netip.Prefix, prof Profile) (Binding, error) {
	b, err := runtimeBinding(c, iface, subnet)
	if err != nil {
		return b, err
	}
	pm, err := c.PermanentSourceZones()
	if err != nil {
		return b, err
	}
	if b.PermZone, b.PermHow = sourceZone(pm, subnet); b.PermZone != "" {
		return b, nil
	}
	if prof.Zone != "" {
		b.PermZone, b.PermHow = prof.Zone, fmt.Sprintf("%s's zone in %s", iface, prof.From)
		return b, nil
	}
	if b.PermZone, err = c.PermanentZoneOf(iface); err != nil {
		return b, err
	}
	if b.PermZone != "" {
		b.PermHow = "bound to " + iface
		return b, nil
	}
	b.PermZone, err = c.DefaultZone()
	b.PermHow = "the default zone"
	return b, err
}

// runtimeBinding is the runtime half of Zones: a zone bound to a source holding the
// subnet, else the interface's zone (firewall-cmd --get-active-zones,
// --get-zone-of-interface=IFACE).
func runtimeBinding(c *firewalld.Client, iface string, subnet netip.Prefix) (Binding, error) {
	var b Binding
	rt, err := c.SourceZones()
	if err != nil {
		return b, err
	}
	if b.Zone, b.How = sourceZone(rt, subnet); b.Zone == "" {
		b.Zone, b.How, err = c.ZoneOf(iface)
	}
	return b, err
}

// filesBinding is Zones with the permanent half read from the running firewalld's own
// files (runningFiles) instead of asking it zone by zone: what it will load at its next
// start or reload.
func filesBinding(c *firewalld.Client, files firewalld.Files, iface string, subnet netip.Prefix, prof Profile) (Binding, error) {
	b, err := runtimeBinding(c, iface, subnet)
	if err != nil {
		return b, err
	}
	z, how, err := FileZones(files, iface, subnet, prof)
	if err != nil {
		return b, err
	}
	b.PermZone, b.PermHow = z.Name, how
	return b, nil
}

// FileZones is Zones for a firewalld that is not running: the zone of its permanent
// configuration that will apply when it starts, read from its file once.
func FileZones(f firewalld.Files, iface string, subnet netip.Prefix, prof Profile) (zone *firewalld.Zone, how string, err error) {
	zones, err := f.Zones()
	if err != nil {
		return nil, "", err
	}
	byName := map[string]*firewalld.Zone{}
	src := map[string][]string{}
	for _, z := range zones {
		byName[z.Name] = z
		if len(z.Sources) > 0 {
			src[z.Name] = z.Sources
		}
	}
	if name, how := sourceZone(src, subnet); name != "" {
		return byName[name], how, nil
	}
	if prof.Zone != "" {
		how := fmt.Sprintf("%s's zone in %s", iface, prof.From)
		if z, ok := byName[prof.Zone]; ok {
			return z, how, nil
		}
		return nil, "", fmt.Errorf("%s names zone %s, which firewalld does not have", prof.From, prof.Zone)
	}
	for _, z := range zones {
		if slices.Contains(z.Interfaces, iface) {
			return z, "bound to " + iface, nil
		}
	}
	name, err := f.DefaultZone()
	if err != nil {
		return nil, "", err
	}
	if z, ok := byName[name]; ok {
		return z, "the default zone", nil
	}
	z, err := f.Zone(name) // reports the missing file
	return z, "the default zone", err
}

// sourceZone returns the zone whose sources hold every address of subnet (the lowest
// name when several do, for a stable answer).
func sourceZone(zones map[string][]string, subnet netip.Prefix) (string, string) {
	if !subnet.IsValid() {
		return "", ""
	}
	var names []string
	for z := range zones {
		names = append(names, z)
	}
	slices.Sort(names)
	for _, z := range names {
		for _, s := range zones[z] {
			if p, ok := prefixOf(s); ok && p.Bits() <= subnet.Bits() && p.Contains(subnet.Addr()) {
				return z, fmt.Sprintf("source %s holds the cluster subnet %s", s, subnet.Masked())
			}
		}
	}
	return "", ""
}

func prefixOf(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err == nil
	}
	a, err := netip.ParseAddr(s)
	return netip.PrefixFrom(a, a.BitLen()), err == nil
}
