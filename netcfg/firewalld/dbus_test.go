package firewalld

import (
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

	p := PortProto{"4000-4100", "tcp"}
	if err := c.AddPortRuntime("public", p); err != nil {
		t.Fatal(err)
	}
	if err := c.AddPortRuntime("public", p); err != nil {
		t.Errorf("adding it twice: %v", err)
	}
	rt, _ := c.Runtime().Zone("public")
	pm, _ := c.Permanent().Zone("public")
	if !slices.Contains(rt.Ports, p) || slices.Contains(pm.Ports, p) {
		t.Fatalf("runtime %v / permanent %v; want the opening at runtime only", rt.Ports, pm.Ports)
	}
	if err := c.AddPortPermanent("public", p); err != nil {
		t.Fatal(err)
	}
	saved, _ := os.ReadFile(filepath.Join(fw.Config, "zones", "public.xml"))
	if !strings.Contains(string(saved), `port="4000-4100"`) {
		t.Errorf("zones/public.xml:\n%s", saved)
	}
	if err := c.RemovePortRuntime("public", p); err != nil {
		t.Fatal(err)
	}
	if err := c.RemovePortPermanent("public", p); err != nil {
		t.Fatal(err)
	}
	rt, _ = c.Runtime().Zone("public")
	pm, _ = c.Permanent().Zone("public")
	if slices.Contains(rt.Ports, p) || slices.Contains(pm.Ports, p) {
		t.Errorf("after removal: runtime %v / permanent %v", rt.Ports, pm.Ports)
	}
	if _, err := c.Runtime().Zone("nosuchzone"); err == nil || !strings.Contains(err.Error(), "nosuchzone") {
		t.Errorf("unknown zone: %v", err)
	}
}
