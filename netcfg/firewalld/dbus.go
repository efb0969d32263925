// Package firewalld reads firewalld's runtime and permanent configuration over its D-Bus
// API and adds port openings to a zone, never by running firewall-cmd. The equivalents:
//
//	firewall-cmd --get-zone-of-interface=IFACE / --get-default-zone
//	firewall-cmd [--permanent] --info-zone=ZONE / --info-service=SERVICE
//	firewall-cmd [--permanent] --zone=ZONE --add-port=PORT/PROTO
package firewalld

import (
	"errors"
	"fmt"
	"strings"

	"github.com/godbus/dbus/v5"
)

const (
	busName      = "org.fedoraproject.FirewallD1"
	rootPath     = "/org/fedoraproject/FirewallD1"
	configPath   = "/org/fedoraproject/FirewallD1/config"
	ifaceMain    = "org.fedoraproject.FirewallD1"
	ifaceZone    = "org.fedoraproject.FirewallD1.zone"
	ifaceConfig  = "org.fedoraproject.FirewallD1.config"
	ifaceConfigZ = "org.fedoraproject.FirewallD1.config.zone"
	ifaceConfigS = "org.fedoraproject.FirewallD1.config.service"
)

// Client talks to firewalld on a system bus connection it does not own.
type Client struct {
	conn *dbus.Conn
}

// New returns a client on conn.
func New(conn *dbus.Conn) *Client { return &Client{conn: conn} }

func (c *Client) main() dbus.BusObject { return c.conn.Object(busName, rootPath) }

// Running reports whether firewalld holds its name on the bus and says it runs.
func (c *Client) Running() bool {
	v, err := c.main().GetProperty(ifaceMain + ".state")
	var s string
	return err == nil && v.Store(&s) == nil && s == "RUNNING"
}

// Version is firewalld's version, for messages.
func (c *Client) Version() string {
	v, err := c.main().GetProperty(ifaceMain + ".version")
	if err != nil {
		return "?"
	}
	s, _ := v.Value().(string)
	return s
}

// ZoneOf returns the runtime zone of the interface and how it applies: bound to the
// interface, or the default zone when none is.
func (c *Client) ZoneOf(iface string) (zone, how string, err error) {
	if err := c.main().Call(ifaceZone+".getZoneOfInterface", 0, iface).Store(&zone); err != nil {
		return "", "", fmt.Errorf("firewalld getZoneOfInterface %s: %w", iface, err)
	}
	if zone != "" {
		return zone, "bound to " + iface, nil
	}
	if err := c.main().Call(ifaceMain+".getDefaultZone", 0).Store(&zone); err != nil {
		return "", "", fmt.Errorf("firewalld getDefaultZone: %w", err)
	}
	return zone, "the default zone", nil
}

// PermanentZoneOf is ZoneOf for the permanent configuration ("" when the interface is
// not bound there: the default zone applies after a reload).
func (c *Client) PermanentZoneOf(iface string) (string, error) {
	var zone string
	if err := c.conn.Object(busName, configPath).Call(ifaceConfig+".getZoneOfInterface", 0, iface).Store(&zone); err != nil {
		return "", fmt.Errorf("firewalld config getZoneOfInterface %s: %w", iface, err)
	}
	return zone, nil
}

// PortProto is a port or range ("4000-4100") and its protocol.
type PortProto struct {
	Port, Proto string
}

// Zone is what decides whether a zone lets traffic in.
type Zone struct {
	Name      string
	Target    string // default, ACCEPT, DROP, REJECT (%%REJECT%% in old versions)
	Services  []string
	Ports     []PortProto
	Protocols []string
	Rules     []string // rich rules, as firewall-cmd prints them
}

// Service is what a service opens.
type Service struct {
	Name        string
	Ports       []PortProto
	Protocols   []string
	Includes    []string
	Destination map[string]string // ipv4/ipv6 -> address limit
}

// View reads one side of the configuration: runtime or permanent.
type View interface {
	Zone(name string) (*Zone, error)
	Service(name string) (*Service, error)
}

// Runtime is the configuration in force now.
func (c *Client) Runtime() View { return runtime{c} }

// Permanent is the configuration after the next reload or reboot.
func (c *Client) Permanent() View { return permanent{c} }

type runtime struct{ c *Client }

func (r runtime) Zone(name string) (*Zone, error) {
	var s map[string]dbus.Variant
	if err := r.c.main().Call(ifaceZone+".getZoneSettings2", 0, name).Store(&s); err != nil {
		return nil, fmt.Errorf("firewalld getZoneSettings2 %s: %w", name, err)
	}
	return zoneFrom(name, s), nil
}

func (r runtime) Service(name string) (*Service, error) {
	var s map[string]dbus.Variant
	if err := r.c.main().Call(ifaceMain+".getServiceSettings2", 0, name).Store(&s); err != nil {
		return nil, fmt.Errorf("firewalld getServiceSettings2 %s: %w", name, err)
	}
	return serviceFrom(name, s), nil
}

type permanent struct{ c *Client }

func (p permanent) object(method, name string) (dbus.BusObject, error) {
	var path dbus.ObjectPath
	if err := p.c.conn.Object(busName, configPath).Call(ifaceConfig+"."+method, 0, name).Store(&path); err != nil {
		return nil, fmt.Errorf("firewalld config %s %s: %w", method, name, err)
	}
	return p.c.conn.Object(busName, path), nil
}

func (p permanent) Zone(name string) (*Zone, error) {
	o, err := p.object("getZoneByName", name)
	if err != nil {
		return nil, err
	}
	var s map[string]dbus.Variant
	if err := o.Call(ifaceConfigZ+".getSettings2", 0).Store(&s); err != nil {
		return nil, fmt.Errorf("firewalld permanent zone %s: %w", name, err)
	}
	return zoneFrom(name, s), nil
}

func (p permanent) Service(name string) (*Service, error) {
	o, err := p.object("getServiceByName", name)
	if err != nil {
		return nil, err
	}
	var s map[string]dbus.Variant
	if err := o.Call(ifaceConfigS+".getSettings2", 0).Store(&s); err != nil {
		return nil, fmt.Errorf("firewalld permanent service %s: %w", name, err)
	}
	return serviceFrom(name, s), nil
}

func zoneFrom(name string, s map[string]dbus.Variant) *Zone {
	z := &Zone{Name: name, Target: "default"}
	get(s, "target", &z.Target)
	get(s, "services", &z.Services)
	get(s, "protocols", &z.Protocols)
	get(s, "rules_str", &z.Rules)
	z.Ports = portsOf(s)
	return z
}

func serviceFrom(name string, s map[string]dbus.Variant) *Service {
	sv := &Service{Name: name}
	get(s, "protocols", &sv.Protocols)
	get(s, "includes", &sv.Includes)
	get(s, "destination", &sv.Destination)
	sv.Ports = portsOf(s)
	return sv
}

func portsOf(s map[string]dbus.Variant) []PortProto {
	var out []PortProto
	get(s, "ports", &out) // a(ss): (port, protocol) pairs
	return out
}

func get(s map[string]dbus.Variant, key string, into any) {
	if v, ok := s[key]; ok {
		v.Store(into)
	}
}

// AddPortRuntime opens port/proto in the zone now, with no timeout, without a reload
// (firewall-cmd --zone=ZONE --add-port=PORT/PROTO).
func (c *Client) AddPortRuntime(zone string, p PortProto) error {
	var z string
	if err := c.main().Call(ifaceZone+".addPort", 0, zone, p.Port, p.Proto, int32(0)).Store(&z); err != nil && !alreadyEnabled(err) {
		return fmt.Errorf("firewalld: open %s/%s in zone %s: %w", p.Port, p.Proto, zone, err)
	}
	return nil
}

// RemovePortRuntime undoes AddPortRuntime (rollback).
func (c *Client) RemovePortRuntime(zone string, p PortProto) error {
	var z string
	if err := c.main().Call(ifaceZone+".removePort", 0, zone, p.Port, p.Proto).Store(&z); err != nil {
		return fmt.Errorf("firewalld: close %s/%s in zone %s: %w", p.Port, p.Proto, zone, err)
	}
	return nil
}

// AddPortPermanent opens port/proto in the zone's permanent configuration
// (firewall-cmd --permanent --zone=ZONE --add-port=PORT/PROTO).
func (c *Client) AddPortPermanent(zone string, p PortProto) error {
	o, err := permanent{c}.object("getZoneByName", zone)
	if err != nil {
		return err
	}
	if err := o.Call(ifaceConfigZ+".addPort", 0, p.Port, p.Proto).Err; err != nil && !alreadyEnabled(err) {
		return fmt.Errorf("firewalld: open %s/%s in permanent zone %s: %w", p.Port, p.Proto, zone, err)
	}
	return nil
}

// RemovePortPermanent undoes AddPortPermanent (rollback).
func (c *Client) RemovePortPermanent(zone string, p PortProto) error {
	o, err := permanent{c}.object("getZoneByName", zone)
	if err != nil {
		return err
	}
	if err := o.Call(ifaceConfigZ+".removePort", 0, p.Port, p.Proto).Err; err != nil {
		return fmt.Errorf("firewalld: close %s/%s in permanent zone %s: %w", p.Port, p.Proto, zone, err)
	}
	return nil
}

// alreadyEnabled is firewalld's ALREADY_ENABLED error: the opening is there.
func alreadyEnabled(err error) bool {
	var de dbus.Error
	if errors.As(err, &de) && len(de.Body) > 0 {
		msg, _ := de.Body[0].(string)
		return strings.HasPrefix(msg, "ALREADY_ENABLED")
	}
	return false
}

// DefaultZone is the zone for interfaces bound to none (firewall-cmd --get-default-zone).
func (c *Client) DefaultZone() (string, error) {
	var zone string
	if err := c.main().Call(ifaceMain+".getDefaultZone", 0).Store(&zone); err != nil {
		return "", fmt.Errorf("firewalld getDefaultZone: %w", err)
	}
	return zone, nil
}
