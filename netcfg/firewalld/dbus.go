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
	// tuples is set for firewalld before 0.9, which has only the tuple-form *Settings
	// calls (CentOS 7 ships 0.6); nil until the version is read.
	tuples *bool
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

// PID is the process that holds firewalld's name on the bus (the bus's
// GetConnectionUnixProcessID): where its command line and its files are.
func (c *Client) PID() (int, error) {
	var pid uint32
	if err := c.conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, busName).Store(&pid); err != nil {
		return 0, fmt.Errorf("firewalld's process: %w", err)
	}
	return int(pid), nil
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
	// Interfaces and Sources are the zone's bindings (source addresses or prefixes;
	// ipset: and MAC sources are kept as written).
	Interfaces []string
	Sources    []string
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
	if r.c.Tuples() {
		return zoneCall(name, r.c.main().Call(ifaceMain+".getZoneSettings", 0, name))
	}
	return zoneCall(name, r.c.main().Call(ifaceZone+".getZoneSettings2", 0, name))
}

func (r runtime) Service(name string) (*Service, error) {
	if r.c.Tuples() {
		return serviceCall(name, r.c.main().Call(ifaceMain+".getServiceSettings", 0, name))
	}
	return serviceCall(name, r.c.main().Call(ifaceMain+".getServiceSettings2", 0, name))
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
	z, err := zoneCall(name, o.Call(ifaceConfigZ+"."+p.c.settingsMethod(), 0))
	if err != nil {
		return nil, fmt.Errorf("permanent: %w", err)
	}
	return z, nil
}

func (p permanent) Service(name string) (*Service, error) {
	o, err := p.object("getServiceByName", name)
	if err != nil {
		return nil, err
	}
	sv, err := serviceCall(name, o.Call(ifaceConfigS+"."+p.c.settingsMethod(), 0))
	if err != nil {
		return nil, fmt.Errorf("permanent: %w", err)
	}
	return sv, nil
}

// Open adds an opening to the zone, at runtime (with no timeout) or in the permanent
// configuration, without a reload: a port (firewall-cmd [--permanent] --zone=ZONE
// --add-port=PORT/PROTO) or, when p.Port is empty, a whole protocol (--add-protocol=igmp).
// An opening that is already there counts as done.
func (c *Client) Open(zone string, p PortProto, permanent bool) error {
	if err := c.change(zone, p, permanent, "add"); err != nil && !alreadyEnabled(err) {
		return fmt.Errorf("firewalld: open %s in %s: %w", p, where(zone, permanent), err)
	}
	return nil
}

// Close removes what Open added (rollback).
func (c *Client) Close(zone string, p PortProto, permanent bool) error {
	if err := c.change(zone, p, permanent, "remove"); err != nil {
		return fmt.Errorf("firewalld: close %s in %s: %w", p, where(zone, permanent), err)
	}
	return nil
}

func where(zone string, permanent bool) string {
	if permanent {
		return "permanent zone " + zone
	}
	return "zone " + zone
}

// String is PORT/PROTO, or the protocol alone.
func (p PortProto) String() string {
	if p.Port == "" {
		return p.Proto
	}
	return p.Port + "/" + p.Proto
}

func (c *Client) change(zone string, p PortProto, saved bool, verb string) error {
	method, args := verb+"Port", []any{p.Port, p.Proto}
	if p.Port == "" {
		method, args = verb+"Protocol", []any{p.Proto}
	}
	if !saved {
		args = append([]any{zone}, args...)
		if verb == "add" {
			args = append(args, int32(0))
		}
		return c.main().Call(ifaceZone+"."+method, 0, args...).Err
	}
	o, err := permanent{c}.object("getZoneByName", zone)
	if err != nil {
		return err
	}
	return o.Call(ifaceConfigZ+"."+method, 0, args...).Err
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

// SourceZones maps every zone bound to source addresses to those sources, at runtime
// (firewall-cmd --get-active-zones).
func (c *Client) SourceZones() (map[string][]string, error) {
	var active map[string]map[string][]string
	if err := c.main().Call(ifaceZone+".getActiveZones", 0).Store(&active); err != nil {
		return nil, fmt.Errorf("firewalld getActiveZones: %w", err)
	}
	out := map[string][]string{}
	for zone, b := range active {
		if len(b["sources"]) > 0 {
			out[zone] = b["sources"]
		}
	}
	return out, nil
}

// PermanentSourceZones is SourceZones for the permanent configuration: every zone's
// sources (firewall-cmd --permanent --list-all-zones). One call per zone for its sources,
// and one more for the name of a zone that has some; the calls of all zones are sent at
// once and their answers read after, so the zones cost one round trip, not one each.
func (c *Client) PermanentSourceZones() (map[string][]string, error) {
	var paths []dbus.ObjectPath
	if err := c.conn.Object(busName, configPath).Call(ifaceConfig+".listZones", 0).Store(&paths); err != nil {
		return nil, fmt.Errorf("firewalld config listZones: %w", err)
	}
	calls := make([]*dbus.Call, len(paths))
	for i, p := range paths {
		calls[i] = c.conn.Object(busName, p).Go(ifaceConfigZ+".getSources", 0, nil)
	}
	out := map[string][]string{}
	for i, call := range calls {
		<-call.Done
		var sources []string
		if err := call.Store(&sources); err != nil {
			return nil, fmt.Errorf("firewalld config zone %s getSources: %w", paths[i], err)
		}
		if len(sources) == 0 {
			continue
		}
		v, err := c.conn.Object(busName, paths[i]).GetProperty(ifaceConfigZ + ".name")
		var name string
		if err != nil || v.Store(&name) != nil {
			return nil, fmt.Errorf("firewalld config zone %s: no name: %v", paths[i], err)
		}
		out[name] = sources
	}
	return out, nil
}
