package firewall

import "github.com/clusterdoctor/clusterdoctor/netcfg/firewalld"

// cachedView asks firewalld once per zone and service: one assessment decides every need
// (three ports and IGMP) from the same zone and its services, each of which is otherwise
// a D-Bus round trip per need (two for the permanent side).
type cachedView struct {
	v        firewalld.View
	zones    map[string]*firewalld.Zone
	services map[string]*firewalld.Service
}

func cache(v firewalld.View) *cachedView {
	return &cachedView{v: v, zones: map[string]*firewalld.Zone{}, services: map[string]*firewalld.Service{}}
}

// Zone implements firewalld.View.
func (c *cachedView) Zone(name string) (*firewalld.Zone, error) {
	if z, ok := c.zones[name]; ok {
		return z, nil
	}
	z, err := c.v.Zone(name)
	if err == nil {
		c.zones[name] = z
	}
	return z, err
}

// Service implements firewalld.View.
func (c *cachedView) Service(name string) (*firewalld.Service, error) {
	if s, ok := c.services[name]; ok {
		return s, nil
	}
	s, err := c.v.Service(name)
	if err == nil {
		c.services[name] = s
	}
	return s, err
}
