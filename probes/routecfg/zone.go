package routecfg

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"

	"github.com/clusterdoctor/clusterdoctor/netcfg/nmkeyfile"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// ProfileZone is the firewalld zone the interface's network profile puts it in, and where
// that is said: NetworkManager's connection.zone (over D-Bus when it runs, else in the
// keyfile), or ZONE= in an ifcfg file. Empty when the profile names none, or nothing
// configures the interface.
//
// firewalld does not keep an interface NetworkManager manages in its own zone files:
// NetworkManager hands it the profile's zone each time the connection comes up, and
// `firewall-cmd --permanent --zone=Z --change-interface=IFACE` writes the profile. So
// this, not firewalld's permanent configuration, is the zone after a reboot.
// (nmcli -g connection.zone connection show PROFILE)
func ProfileZone(ctx context.Context, env *probes.Env, iface string) (zone, from string, err error) {
	o, err := Detect(ctx, env, Request{Iface: iface, Dst: netip.MustParsePrefix("224.0.0.0/4")})
	if err != nil {
		return "", "", nil // no profile that can be read: firewalld's own bindings decide
	}
	defer o.Close()
	switch {
	case o.NM != nil:
		zone, _ = o.NM.Profile.Settings["connection"]["zone"].Value().(string)
		from = fmt.Sprintf("NetworkManager profile %q", o.NM.Profile.ID)
	case o.Backend == NetworkManager:
		raw, err := readHost(env, o.Source)
		if err != nil {
			return "", "", err
		}
		f, err := nmkeyfile.Parse(bytes.NewReader(raw))
		if err != nil {
			return "", "", fmt.Errorf("%s: %w", o.Source, err)
		}
		zone, _ = f.Get("connection", "zone")
		from = "NetworkManager keyfile " + o.Source
	case o.Backend == Ifcfg && o.Source != "":
		raw, err := readHost(env, o.Source)
		if err != nil {
			return "", "", err
		}
		zone, from = shellVar(raw, "ZONE"), o.Source
	}
	if zone == "" {
		return "", "", nil
	}
	return zone, from, nil
}
