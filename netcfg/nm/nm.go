// Package nm is a small NetworkManager client over its D-Bus API: find the connection
// profile of an interface, read its IPv4 routes, add one (saved to disk), restore a
// profile, and reapply it to the device without bouncing the link. The equivalents are
//
//	nmcli -g GENERAL.CONNECTION device show IFACE
//	nmcli connection modify ID +ipv4.routes 224.0.0.0/4
//	nmcli device reapply IFACE
//
// NetworkManager stores the profile itself, as a keyfile or an ifcfg file, whichever plugin
// owns it; Profile.Filename says which.
package nm

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/godbus/dbus/v5"
)

const (
	busName        = "org.freedesktop.NetworkManager"
	rootPath       = "/org/freedesktop/NetworkManager"
	ifaceNM        = "org.freedesktop.NetworkManager"
	ifaceDevice    = "org.freedesktop.NetworkManager.Device"
	ifaceActive    = "org.freedesktop.NetworkManager.Connection.Active"
	ifaceSettingsC = "org.freedesktop.NetworkManager.Settings.Connection"

	// update2ToDisk is NM_SETTINGS_UPDATE2_FLAG_TO_DISK: save the profile to its file.
	update2ToDisk = 0x1
	// deviceStateUnavailable is NM_DEVICE_STATE_UNAVAILABLE; below it NM does not manage
	// the device (unknown, unmanaged).
	deviceStateUnavailable = 20
)

// Client talks to NetworkManager on a system bus connection it does not own.
type Client struct {
	conn *dbus.Conn
}

// New returns a client on conn.
func New(conn *dbus.Conn) *Client { return &Client{conn: conn} }

// Running reports whether NetworkManager holds its name on the bus.
func (c *Client) Running() (bool, error) {
	var owned bool
	if err := c.conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, busName).Store(&owned); err != nil {
		return false, fmt.Errorf("ask the bus for %s: %w", busName, err)
	}
	return owned, nil
}

// Version is NetworkManager's version, for messages.
func (c *Client) Version() string {
	v, err := c.conn.Object(busName, rootPath).GetProperty(ifaceNM + ".Version")
	if err != nil {
		return "?"
	}
	s, _ := v.Value().(string)
	return s
}

// ErrUnmanaged is returned by ProfileFor when NetworkManager does not manage the
// interface (it may be configured by ifcfg with NM_CONTROLLED=no, or by other tools).
var ErrUnmanaged = errors.New("not managed by NetworkManager")

// Settings is a connection profile as NetworkManager sends it: setting -> key -> value.
type Settings = map[string]map[string]dbus.Variant

// Profile is the connection profile that configures an interface.
type Profile struct {
	Path     dbus.ObjectPath // the Settings.Connection object
	Device   dbus.ObjectPath
	ID, UUID string
	// Filename is where NetworkManager stores the profile (a keyfile or an ifcfg file);
	// empty for an in-memory profile.
	Filename string
	// Active is true when the profile is applied to the device now.
	Active   bool
	Settings Settings
}

// ProfileFor returns the profile of iface: the active one, else the only one available
// for the device. Several available profiles and none active is an error naming them.
func (c *Client) ProfileFor(iface string) (*Profile, error) {
	var dev dbus.ObjectPath
	if err := c.conn.Object(busName, rootPath).Call(ifaceNM+".GetDeviceByIpIface", 0, iface).Store(&dev); err != nil {
		var de dbus.Error
		if errors.As(err, &de) && de.Name == "org.freedesktop.NetworkManager.UnknownDevice" {
			return nil, fmt.Errorf("%s: %w (NetworkManager does not know it)", iface, ErrUnmanaged)
		}
		return nil, fmt.Errorf("NetworkManager GetDeviceByIpIface %s: %w", iface, err)
	}
	d := c.conn.Object(busName, dev)
	var state uint32
	if err := getProp(d, ifaceDevice+".State", &state); err != nil {
		return nil, err
	}
	if state < deviceStateUnavailable {
		return nil, fmt.Errorf("%s: %w (device state %d)", iface, ErrUnmanaged, state)
	}
	var active dbus.ObjectPath
	if err := getProp(d, ifaceDevice+".ActiveConnection", &active); err != nil {
		return nil, err
	}
	p := &Profile{Device: dev}
	if active != "/" && active != "" {
		if err := getProp(c.conn.Object(busName, active), ifaceActive+".Connection", &p.Path); err != nil {
			return nil, err
		}
		p.Active = true
	} else {
		var avail []dbus.ObjectPath
		if err := getProp(d, ifaceDevice+".AvailableConnections", &avail); err != nil {
			return nil, err
		}
		switch len(avail) {
		case 0:
			return nil, fmt.Errorf("%s: NetworkManager manages it but has no profile for it (create one: nmcli connection add type ethernet ifname %s ...)", iface, iface)
		case 1:
			p.Path = avail[0]
		default:
			var ids []string
			for _, a := range avail {
				if q, err := c.load(a); err == nil {
					ids = append(ids, q.ID)
				}
			}
			return nil, fmt.Errorf("%s: no profile is active and %d could be (%v); activate the right one first (nmcli connection up ID)", iface, len(avail), ids)
		}
	}
	q, err := c.load(p.Path)
	if err != nil {
		return nil, err
	}
	q.Device, q.Active = p.Device, p.Active
	return q, nil
}

func (c *Client) load(path dbus.ObjectPath) (*Profile, error) {
	o := c.conn.Object(busName, path)
	p := &Profile{Path: path}
	if err := o.Call(ifaceSettingsC+".GetSettings", 0).Store(&p.Settings); err != nil {
		return nil, fmt.Errorf("NetworkManager GetSettings %s: %w", path, err)
	}
	if err := getProp(o, ifaceSettingsC+".Filename", &p.Filename); err != nil {
		return nil, err
	}
	p.ID, _ = p.Settings["connection"]["id"].Value().(string)
	p.UUID, _ = p.Settings["connection"]["uuid"].Value().(string)
	return p, nil
}

func getProp(o dbus.BusObject, name string, into any) error {
	v, err := o.GetProperty(name)
	if err != nil {
		return fmt.Errorf("NetworkManager property %s of %s: %w", name, o.Path(), err)
	}
	if err := v.Store(into); err != nil {
		return fmt.Errorf("NetworkManager property %s of %s: %w", name, o.Path(), err)
	}
	return nil
}

// Route is one IPv4 route of a profile.
type Route struct {
	Dst     netip.Prefix
	NextHop string
}

// Routes returns the profile's IPv4 routes (ipv4.route-data).
func (p *Profile) Routes() []Route {
	var out []Route
	for _, r := range routeData(p.Settings) {
		dest, _ := r["dest"].Value().(string)
		prefix, _ := r["prefix"].Value().(uint32)
		a, err := netip.ParseAddr(dest)
		if err != nil || prefix > 32 {
			continue
		}
		hop, _ := r["next-hop"].Value().(string)
		out = append(out, Route{Dst: netip.PrefixFrom(a, int(prefix)), NextHop: hop})
	}
	return out
}

// HasRoute reports whether the profile routes dst on the link (no next hop).
func (p *Profile) HasRoute(dst netip.Prefix) bool {
	for _, r := range p.Routes() {
		if r.Dst.Masked() == dst.Masked() && (r.NextHop == "" || r.NextHop == "0.0.0.0") {
			return true
		}
	}
	return false
}

func routeData(s Settings) []map[string]dbus.Variant {
	rd, _ := s["ipv4"]["route-data"].Value().([]map[string]dbus.Variant)
	return rd
}

// AddRoute saves the profile with dst added to its IPv4 routes, the equivalent of
// nmcli connection modify ID +ipv4.routes DST. Secrets are fetched and sent back with
// the update, so that none is lost (as nmcli does).
func (c *Client) AddRoute(p *Profile, dst netip.Prefix) error {
	s := copySettings(p.Settings)
	if s["ipv4"] == nil {
		s["ipv4"] = map[string]dbus.Variant{}
	}
	rd := append(routeData(s), map[string]dbus.Variant{
		"dest":   dbus.MakeVariant(dst.Masked().Addr().String()),
		"prefix": dbus.MakeVariant(uint32(dst.Bits())),
	})
	s["ipv4"]["route-data"] = dbus.MakeVariant(rd)
	return c.update(p, s)
}

// Restore saves the profile's settings as they were when it was read (rollback).
func (c *Client) Restore(p *Profile) error { return c.update(p, copySettings(p.Settings)) }

func (c *Client) update(p *Profile, s Settings) error {
	// The deprecated forms win over the new ones when both are sent: drop them, as libnm does.
	for _, fam := range []string{"ipv4", "ipv6"} {
		delete(s[fam], "addresses")
		delete(s[fam], "routes")
	}
	o := c.conn.Object(busName, p.Path)
	for name := range p.Settings {
		var secrets Settings
		if err := o.Call(ifaceSettingsC+".GetSecrets", 0, name).Store(&secrets); err != nil {
			continue // settings without secrets answer with an error; nothing to keep
		}
		for k, v := range secrets[name] {
			s[name][k] = v
		}
	}
	var result map[string]dbus.Variant
	if err := o.Call(ifaceSettingsC+".Update2", 0, s, uint32(update2ToDisk), map[string]dbus.Variant{}).Store(&result); err != nil {
		return fmt.Errorf("NetworkManager: save profile %q: %w", p.ID, err)
	}
	return nil
}

func copySettings(s Settings) Settings {
	out := make(Settings, len(s))
	for name, kv := range s {
		out[name] = make(map[string]dbus.Variant, len(kv))
		for k, v := range kv {
			out[name][k] = v
		}
	}
	return out
}

// Reapply applies the saved profile to the device now without taking the link down,
// the equivalent of nmcli device reapply IFACE.
func (c *Client) Reapply(p *Profile) error {
	err := c.conn.Object(busName, p.Device).Call(ifaceDevice+".Reapply", 0, Settings{}, uint64(0), uint32(0)).Err
	if err != nil {
		return fmt.Errorf("NetworkManager: reapply %q: %w", p.ID, err)
	}
	return nil
}
