package routecfg

import (
	"context"
	"strings"
	"testing"
)

func TestProfileZone(t *testing.T) {
	withZone := strings.Replace(keyfile, "interface-name=cl0\n", "interface-name=cl0\nzone=trusted\n", 1)
	for _, tc := range []struct {
		name       string
		files      map[string]string
		zone, from string
	}{
		{"keyfile with a zone", map[string]string{KeyfileDir + "/cluster.nmconnection": withZone},
			"trusted", "NetworkManager keyfile " + KeyfileDir + "/cluster.nmconnection"},
		{"keyfile without one", map[string]string{KeyfileDir + "/cluster.nmconnection": keyfile}, "", ""},
		{"ifcfg ZONE=", map[string]string{IfcfgDir + "/ifcfg-cluster": "DEVICE=cl0\nZONE=\"internal\"\n"},
			"internal", IfcfgDir + "/ifcfg-cluster"},
		{"zone of another interface", map[string]string{IfcfgDir + "/ifcfg-eth0": "DEVICE=eth0\nZONE=internal\n"}, "", ""},
		{"nothing configures it", map[string]string{InterfacesFile: "auto lo\n"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zone, from, err := ProfileZone(context.Background(), tree(t, tc.files), "cl0")
			if err != nil || zone != tc.zone || from != tc.from {
				t.Errorf("ProfileZone = %q, %q, %v; want %q, %q", zone, from, err, tc.zone, tc.from)
			}
		})
	}
}
