package firewalld

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/godbus/dbus/v5"
)

// Tuples reports whether this firewalld predates the dict-form *Settings2 calls (0.9):
// the zone and service settings then come as positional tuples.
func (c *Client) Tuples() bool {
	if c.tuples == nil {
		old := olderThan(c.Version(), 0, 9)
		c.tuples = &old
	}
	return *c.tuples
}

// UseTuples forces the tuple-form calls (tests run them against a new firewalld, which
// still answers them).
func (c *Client) UseTuples(on bool) { c.tuples = &on }

func (c *Client) settingsMethod() string {
	if c.Tuples() {
		return "getSettings"
	}
	return "getSettings2"
}

// olderThan compares a dotted version with major.minor; an unreadable version counts
// as new (the dict calls then fail loudly rather than being misread).
func olderThan(version string, major, minor int) bool {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma < major || ma == major && mi < minor
}

// Positions in the tuple form (firewalld's IMPORT_EXPORT_STRUCTURE of zone and service).
const (
	zoneTarget     = 4
	zoneServices   = 5
	zonePorts      = 6
	zoneInterfaces = 10
	zoneSources    = 11
	zoneRules      = 12
	zoneProtocols  = 13

	servicePorts       = 3
	serviceDestination = 5
	serviceProtocols   = 6
)

func zoneCall(name string, call *dbus.Call) (*Zone, error) {
	if call.Err != nil {
		return nil, fmt.Errorf("firewalld zone %s: %w", name, call.Err)
	}
	if len(call.Body) != 1 {
		return nil, fmt.Errorf("firewalld zone %s: %d values in the reply, want 1", name, len(call.Body))
	}
	z := &Zone{Name: name, Target: "default"}
	switch s := call.Body[0].(type) {
	case map[string]dbus.Variant:
		get(s, "target", &z.Target)
		get(s, "services", &z.Services)
		get(s, "protocols", &z.Protocols)
		get(s, "rules_str", &z.Rules)
		get(s, "interfaces", &z.Interfaces)
		get(s, "sources", &z.Sources)
		get(s, "ports", &z.Ports)
	case []any:
		at(s, zoneTarget, &z.Target)
		at(s, zoneServices, &z.Services)
		at(s, zonePorts, &z.Ports)
		at(s, zoneInterfaces, &z.Interfaces)
		at(s, zoneSources, &z.Sources)
		at(s, zoneRules, &z.Rules)
		at(s, zoneProtocols, &z.Protocols)
	default:
		return nil, fmt.Errorf("firewalld zone %s: settings of type %T", name, s)
	}
	if z.Target == "" || z.Target == "%%REJECT%%" {
		z.Target = "default"
	}
	return z, nil
}

func serviceCall(name string, call *dbus.Call) (*Service, error) {
	if call.Err != nil {
		return nil, fmt.Errorf("firewalld service %s: %w", name, call.Err)
	}
	if len(call.Body) != 1 {
		return nil, fmt.Errorf("firewalld service %s: %d values in the reply, want 1", name, len(call.Body))
	}
	sv := &Service{Name: name}
	switch s := call.Body[0].(type) {
	case map[string]dbus.Variant:
		get(s, "protocols", &sv.Protocols)
		get(s, "includes", &sv.Includes)
		get(s, "destination", &sv.Destination)
		get(s, "ports", &sv.Ports)
	case []any:
		at(s, servicePorts, &sv.Ports)
		at(s, serviceDestination, &sv.Destination)
		at(s, serviceProtocols, &sv.Protocols)
	default:
		return nil, fmt.Errorf("firewalld service %s: settings of type %T", name, s)
	}
	return sv, nil
}

func get(s map[string]dbus.Variant, key string, into any) {
	if v, ok := s[key]; ok {
		v.Store(into)
	}
}

// at stores the i'th member of a tuple, when there is one (old versions have fewer).
func at(s []any, i int, into any) {
	if i < len(s) {
		dbus.Store([]any{s[i]}, into)
	}
}
