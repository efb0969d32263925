package tomcat

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	conf "github.com/clusterdoctor/clusterdoctor/netcfg/tomcat"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Derive fills the settings the operator did not give (explicit maps a setting's JSON
// name to "flag" or "config") from the primary instance's server.xml, as that Tomcat will
// use them, and records where every setting came from. Without a Tomcat, or for what
// server.xml does not say, the defaults stay.
func Derive(f *Found, s *probes.Settings, explicit map[string]string) {
	s.Sources = map[string]string{}
	for _, k := range probes.SettingKeys {
		if src, ok := explicit[k]; ok {
			s.Sources[k] = src
		} else {
			s.Sources[k] = "default"
		}
	}
	if f == nil {
		return
	}
	for _, in := range f.Instances {
		ti := probes.TomcatInstance{Base: in.Base, Home: in.Home, PID: in.PID, User: in.User, Found: in.How}
		if !in.Version.IsZero() {
			ti.Version = in.Version.String()
		}
		s.Instances = append(s.Instances, ti)
	}
	in := f.Primary()
	if in == nil || in.Server == nil {
		return
	}
	set := func(key, source string, apply func()) {
		if _, given := explicit[key]; given {
			return
		}
		apply()
		s.Sources[key] = source
	}
	deriveConnectors(in, set, s)
	c, _ := in.Cluster()
	if c == nil {
		return
	}
	m := membershipOf(in, c)
	mpos := in.pos(m.El)
	if m.El == nil {
		mpos = in.pos(c.El) + " (McastService defaults)"
	}
	// Static members are peers whether or not multicast runs beside them; the member that
	// is this node itself (StaticMembershipService's way of naming it) is not.
	r0 := receiverOf(in, c)
	var peers []string
	for _, sm := range m.Static {
		if sm.Host != "" && !(sm.Host == r0.Address && sm.Port == r0.Port) && !slices.Contains(peers, sm.Host) {
			peers = append(peers, sm.Host)
		}
	}
	if len(peers) > 0 {
		set("peers", in.pos(m.Static[0].El), func() { s.Peers = peers })
	}
	switch m.Kind {
	case "static":
		set("membership", mpos, func() { s.Membership = probes.Static })
	case "cloud":
		set("membership", mpos, func() { s.Membership = probes.Cloud })
	default:
		set("membership", mpos, func() { s.Membership = probes.Multicast })
	}
	if m.Kind == "multicast" || m.Multicast {
		if g, err := netip.ParseAddr(m.Group); err == nil {
			set("group", mpos, func() { s.Group = g })
		}
		if m.Port > 0 && m.Port <= 65535 {
			set("mcastPort", mpos, func() { s.McastPort = m.Port })
		}
		if m.Bind != "" {
			s.McastBind = m.Bind
		}
	}
	r := receiverOf(in, c)
	rpos := in.pos(r.El)
	if r.El == nil {
		rpos = in.pos(c.El) + " (NioReceiver defaults)"
	}
	if r.Port > 0 && r.Last() <= 65535 {
		set("receiverPorts", rpos, func() { s.ReceiverPorts = probes.PortRange{From: r.Port, To: r.Last()} })
	}
	s.ReceiverAddress = r.Address
}

// deriveConnectors takes the AJP port, or, for a Tomcat that has no AJP connector, the
// HTTP port a proxying web tier connects to.
func deriveConnectors(in *Instance, set func(string, string, func()), s *probes.Settings) {
	var ajp, http *conf.Connector
	for _, c := range in.Connectors() {
		switch {
		case c.AJP && ajp == nil:
			ajp = c
		case !c.AJP && http == nil && !conf.BoolAttr(c.El, "SSLEnabled", false):
			http = c
		}
	}
	if ajp != nil && ajp.PortErr == "" {
		set("ajpPort", in.pos(ajp.El), func() { s.AJPPort = ajp.Port })
		return
	}
	set("ajpPort", fmt.Sprintf("%s has no AJP connector", in.Rel(in.ServerFile)), func() { s.AJPPort = 0 })
	if http != nil && http.PortErr == "" {
		set("httpPort", in.pos(http.El)+" (no AJP: a web tier proxies HTTP)", func() { s.HTTPPort = http.Port })
	}
}

// Describe is a one-line account of where the settings came from, for the text report.
func Describe(s probes.Settings) string {
	var parts []string
	for _, k := range probes.SettingKeys {
		if src, ok := s.Sources[k]; ok && src != "default" && src != "flag" && src != "config" {
			parts = append(parts, k+" from "+src)
		}
	}
	return strings.Join(parts, ", ")
}
