package netplan

import (
	"bytes"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/netcfg/internal/golden"
)

var mc = netip.MustParsePrefix("224.0.0.0/4")

func mustParse(t *testing.T, name string) *File { return golden.Parse(t, Parse, name) }

func TestFind(t *testing.T) {
	for _, tc := range []struct {
		file, iface string
		want        Definition
		ok          bool
	}{
		{"00-installer-config.yaml", "enp0s8", Definition{Type: "ethernets", ID: "enp0s8"}, true},
		{"00-installer-config.yaml", "enp0s9", Definition{}, false},
		{"50-cloud-init.yaml", "cl0", Definition{Type: "ethernets", ID: "cluster"}, true},   // set-name
		{"50-cloud-init.yaml", "ens10", Definition{Type: "ethernets", ID: "cluster"}, true}, // match.name glob
		{"50-cloud-init.yaml", "public", Definition{}, false},                               // id of a MAC match is not a name
		{"50-cloud-init.yaml", "bond0", Definition{Type: "bonds", ID: "bond0"}, true},
	} {
		got, ok := mustParse(t, tc.file).Find(tc.iface)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: Find(%s) = %+v, %v; want %+v, %v", tc.file, tc.iface, got, ok, tc.want, tc.ok)
		}
	}
	if r := mustParse(t, "50-cloud-init.yaml").Renderer; r != "networkd" {
		t.Errorf("renderer = %q", r)
	}
}

func TestHasRoute(t *testing.T) {
	inst := mustParse(t, "00-installer-config.yaml")
	d, _ := inst.Find("enp0s8")
	if inst.HasRoute(d, mc) || len(inst.Routes(d)) != 1 {
		t.Errorf("enp0s8 routes = %+v", inst.Routes(d))
	}
	ci := mustParse(t, "50-cloud-init.yaml")
	d, _ = ci.Find("bond0")
	if !ci.HasRoute(d, mc) {
		t.Errorf("bond0 has the flow-style multicast route: %+v", ci.Routes(d))
	}
}

// TestDropIn: the drop-in matches its golden copy, is netplan YAML that parses back to
// the route on the same definition, and says scope link explicitly.
func TestDropIn(t *testing.T) {
	for _, iface := range []string{"enp0s8", "cl0"} {
		var file string
		for _, f := range []string{"00-installer-config.yaml", "50-cloud-init.yaml"} {
			if _, ok := mustParse(t, f).Find(iface); ok {
				file = f
			}
		}
		d, _ := mustParse(t, file).Find(iface)
		b := DropIn(d, mc, "networkd")
		goldenPath := filepath.Join("testdata", DropInName(iface)+".golden")
		golden.Compare(t, goldenPath, b)
		back, err := Parse(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if !back.HasRoute(d, mc) || back.Routes(d)[0].Scope != "link" {
			t.Errorf("drop-in for %s does not carry the route: %+v", iface, back.Routes(d))
		}
		nm, _ := Parse(bytes.NewReader(DropIn(d, mc, "NetworkManager")))
		if !nm.HasRoute(d, mc) || nm.Routes(d)[0].Scope != "" {
			t.Errorf("drop-in for NetworkManager carries a scope, which netplan refuses there: %+v", nm.Routes(d))
		}
	}
}

func TestParseErrors(t *testing.T) {
	golden.ParseErrors(t, Parse, map[string]string{
		"network: [1, 2]\n":                            "netplan yaml",
		"network:\n  ethernets: [a]\n":                 "network.ethernets",
		"network:\n  ethernets:\n    a: {routes: 5}\n": "network.ethernets",
		"network: {renderer: [x]}\n":                   "network.renderer",
		"\tnetwork:":                                   "netplan yaml",
		strings.Repeat("#", MaxSize+1):                 "larger than",
	})
}

func FuzzParse(f *testing.F) {
	golden.Seed(f, "*.yaml")
	f.Fuzz(func(t *testing.T, in []byte) {
		file, err := Parse(bytes.NewReader(in))
		if err != nil {
			return
		}
		if d, ok := file.Find("cl0"); ok {
			file.HasRoute(d, mc)
			back, err := Parse(bytes.NewReader(DropIn(d, mc, "")))
			if err != nil || !back.HasRoute(d, mc) {
				t.Fatalf("drop-in for %+v does not parse back: %v", d, err)
			}
		}
	})
}
