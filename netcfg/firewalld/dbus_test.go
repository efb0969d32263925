package firewalld

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"

	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// TestAgainstRealFirewalld: zones, services and port openings read and written over
// D-Bus, runtime and permanent kept apart, against a real firewalld in a namespace.
func TestAgainstRealFirewalld(t *testing.T) {
	l := lab.New(t)
	h := l.AddHost("fw", 2)
	bus := h.StartSystemBus()
	fw := h.StartFirewalld(bus, func(dir string) {
		os.WriteFile(filepath.Join(dir, "services", "cd-test.xml"), []byte(`<?xml version="1.0" encoding="utf-8"?>
<service><short>t</short><port protocol="udp" port="45564"/><include service="ssh"/><destination ipv4="224.0.0.0/4"/></service>
`), 0o644)
	})
	conn, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := New(conn)
	if !c.Running() || c.Version() == "?" {
		t.Fatalf("Running %v, version %s", c.Running(), c.Version())
	}
	zone, how, err := c.ZoneOf("cl0")
	if err != nil || zone != "public" || how != "the default zone" {
		t.Fatalf("ZoneOf = %s %s %v", zone, how, err)
	}
	fw.Cmd("--zone=internal", "--change-interface=cl0")
	if zone, how, _ = c.ZoneOf("cl0"); zone != "internal" || !strings.Contains(how, "bound") {
		t.Errorf("after change-interface: %s %s", zone, how)
	}
	if pz, err := c.PermanentZoneOf("cl0"); err != nil || pz != "" {
		t.Errorf("permanent zone of a runtime-only binding = %q, %v", pz, err)
	}

	for _, v := range []View{c.Runtime(), c.Permanent()} {
		s, err := v.Service("cd-test")
		if err != nil || !slices.Contains(s.Ports, PortProto{"45564", "udp"}) || !slices.Contains(s.Includes, "ssh") || s.Destination["ipv4"] != "224.0.0.0/4" {
			t.Errorf("service cd-test = %+v, %v", s, err)
		}
		z, err := v.Zone("trusted")
		if err != nil || z.Target != "ACCEPT" {
			t.Errorf("zone trusted = %+v, %v", z, err)
		}
	}

	// The tuple-form calls of firewalld before 0.9 (still answered by new versions) give
	// the same zones and services, less the includes they did not have.
	fw.Cmd("--zone=public", "--add-rich-rule=rule family=ipv4 port port=45564 protocol=udp reject")
	fw.Cmd("--zone=trusted", "--add-source=10.99.0.0/24")
	fw.Cmd("--permanent", "--zone=work", "--add-source=10.99.0.7")
	old := New(conn)
	old.UseTuples(true)
	for _, side := range []struct {
		name     string
		new, old View
	}{{"runtime", c.Runtime(), old.Runtime()}, {"permanent", c.Permanent(), old.Permanent()}} {
		for _, name := range []string{"public", "trusted", "internal", "work"} {
			a, err1 := side.new.Zone(name)
			b, err2 := side.old.Zone(name)
			if err1 != nil || err2 != nil || fmt.Sprint(a) != fmt.Sprint(b) {
				t.Errorf("%s zone %s: dict %+v %v; tuple %+v %v", side.name, name, a, err1, b, err2)
			}
		}
		a, err1 := side.new.Service("cd-test")
		b, err2 := side.old.Service("cd-test")
		a.Includes = nil
		if err1 != nil || err2 != nil || fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("%s service: dict %+v %v; tuple %+v %v", side.name, a, err1, b, err2)
		}
	}
	if pub, _ := old.Runtime().Zone("public"); len(pub.Rules) != 1 || !strings.Contains(pub.Rules[0], "reject") {
		t.Errorf("public's rich rules by tuple: %q", pub.Rules)
	}
	if rt, err := c.SourceZones(); err != nil || fmt.Sprint(rt) != "map[trusted:[10.99.0.0/24]]" {
		t.Errorf("SourceZones = %v, %v", rt, err)
	}
	if pm, err := c.PermanentSourceZones(); err != nil || fmt.Sprint(pm) != "map[work:[10.99.0.7]]" {
		t.Errorf("PermanentSourceZones = %v, %v", pm, err)
	}

	p := PortProto{"4000-4100", "tcp"}
	if err := c.Open("public", p, false); err != nil {
		t.Fatal(err)
	}
	if err := c.Open("public", p, false); err != nil {
		t.Errorf("adding it twice: %v", err)
	}
	rt, _ := c.Runtime().Zone("public")
	pm, _ := c.Permanent().Zone("public")
	if !slices.Contains(rt.Ports, p) || slices.Contains(pm.Ports, p) {
		t.Fatalf("runtime %v / permanent %v; want the opening at runtime only", rt.Ports, pm.Ports)
	}
	if err := c.Open("public", p, true); err != nil {
		t.Fatal(err)
	}
	saved, _ := os.ReadFile(filepath.Join(fw.Config, "zones", "public.xml"))
	if !strings.Contains(string(saved), `port="4000-4100"`) {
		t.Errorf("zones/public.xml:\n%s", saved)
	}
	if err := c.Close("public", p, false); err != nil {
		t.Fatal(err)
	}
	if err := c.Close("public", p, true); err != nil {
		t.Fatal(err)
	}
	rt, _ = c.Runtime().Zone("public")
	pm, _ = c.Permanent().Zone("public")
	if slices.Contains(rt.Ports, p) || slices.Contains(pm.Ports, p) {
		t.Errorf("after removal: runtime %v / permanent %v", rt.Ports, pm.Ports)
	}
	igmp := PortProto{Proto: "igmp"}
	for _, saved := range []bool{false, true} {
		if err := c.Open("public", igmp, saved); err != nil {
			t.Fatal(err)
		}
		if err := c.Open("public", igmp, saved); err != nil {
			t.Errorf("adding igmp twice: %v", err)
		}
	}
	rt, _ = c.Runtime().Zone("public")
	pm, _ = c.Permanent().Zone("public")
	if !slices.Contains(rt.Protocols, "igmp") || !slices.Contains(pm.Protocols, "igmp") {
		t.Errorf("after opening igmp: runtime %v / permanent %v", rt.Protocols, pm.Protocols)
	}
	for _, saved := range []bool{false, true} {
		if err := c.Close("public", igmp, saved); err != nil {
			t.Fatal(err)
		}
	}
	if rt, _ = c.Runtime().Zone("public"); slices.Contains(rt.Protocols, "igmp") {
		t.Errorf("igmp still open: %v", rt.Protocols)
	}
	if _, err := c.Runtime().Zone("nosuchzone"); err == nil || !strings.Contains(err.Error(), "nosuchzone") {
		t.Errorf("unknown zone: %v", err)
	}
}
