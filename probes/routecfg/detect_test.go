package routecfg

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

var mc = netip.MustParsePrefix("224.0.0.0/4")

// tree writes files (host path -> content) under a fresh root and returns an Env on it,
// with no netlink and no system bus: detection from files alone.
func tree(t *testing.T, files map[string]string) *probes.Env {
	t.Helper()
	root := t.TempDir()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &probes.Env{Root: root}
}

const keyfile = "[connection]\nid=cluster\ninterface-name=cl0\n[ipv4]\nmethod=manual\naddress1=10.0.0.1/24\n"

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   map[string]string
		force   Backend
		backend Backend
		present bool
		where   string
	}{
		{name: "keyfile wins over ifupdown", files: map[string]string{
			KeyfileDir + "/cluster.nmconnection": keyfile,
			InterfacesFile:                       "iface cl0 inet manual\n",
		}, backend: NetworkManager, where: KeyfileDir + "/cluster.nmconnection"},
		{name: "keyfile with the route", files: map[string]string{
			KeyfileDir + "/cluster.nmconnection": keyfile + "route1=224.0.0.0/4\n",
		}, backend: NetworkManager, present: true, where: KeyfileDir + "/cluster.nmconnection"},
		{name: "keyfile backups are not profiles", files: map[string]string{
			KeyfileDir + "/.cluster.nmconnection.clusterdoctor.bak": keyfile,
			KeyfileDir + "/cluster.nmconnection~":                   keyfile,
			IfcfgDir + "/ifcfg-cl0":                                 "DEVICE=cl0\nNM_CONTROLLED=no\n",
		}, backend: Ifcfg, where: IfcfgDir + "/route-cl0"},
		{name: "ifcfg by DEVICE, key-value route file with the route", files: map[string]string{
			IfcfgDir + "/ifcfg-cluster": "TYPE=Ethernet\nDEVICE=\"cl0\"\n",
			IfcfgDir + "/route-cluster": "ADDRESS0=224.0.0.0\nNETMASK0=240.0.0.0\n",
		}, backend: Ifcfg, present: true, where: IfcfgDir + "/route-cluster"},
		{name: "ifcfg forced without ifcfg file", files: map[string]string{}, force: Ifcfg, backend: Ifcfg, where: IfcfgDir + "/route-cl0"},
		{name: "netplan by set-name, drop-in", files: map[string]string{
			"/etc/netplan/50-cloud-init.yaml": "network:\n  ethernets:\n    c:\n      match: {name: ens4}\n      set-name: cl0\n",
		}, backend: Netplan, where: "/etc/netplan/90-clusterdoctor-cl0.yaml"},
		{name: "netplan /run overrides /etc", files: map[string]string{
			"/etc/netplan/50-x.yaml": "network:\n  ethernets:\n    cl0: {}\n",
			"/run/netplan/50-x.yaml": "network:\n  ethernets:\n    cl0: {routes: [{to: 224.0.0.0/4, scope: link}]}\n",
		}, backend: Netplan, present: true, where: "/run/netplan/50-x.yaml"},
		{name: "networkd first match in lexical order across dirs", files: map[string]string{
			"/usr/lib/systemd/network/10-cl.network": "[Match]\nName=cl*\n",
			"/etc/systemd/network/20-all.network":    "[Match]\n[Route]\nDestination=224.0.0.0/4\n",
		}, backend: Networkd, where: "/etc/systemd/network/10-cl.network.d/90-clusterdoctor-multicast.conf"},
		{name: "networkd route in an existing drop-in", files: map[string]string{
			"/etc/systemd/network/10-cl.network":              "[Match]\nName=cl0\n",
			"/run/systemd/network/10-cl.network.d/route.conf": "[Route]\nDestination=224.0.0.0/4\nScope=link\n",
		}, backend: Networkd, present: true, where: "/run/systemd/network/10-cl.network.d/route.conf"},
		{name: "networkd Type= other than the link's, unknown keys passed over", files: map[string]string{
			"/etc/systemd/network/10-wifi.network": "[Match]\nType=wlan\n",
			"/etc/systemd/network/20-drv.network":  "[Match]\nDriver=e1000\n",
			"/sys/class/net/cl0/uevent":            "INTERFACE=cl0\nIFINDEX=3\n",
			InterfacesFile:                         "iface cl0 inet dhcp\n",
		}, backend: Ifupdown, where: InterfacesFile},
		{name: "networkd Type= glob of a bond", files: map[string]string{
			"/etc/systemd/network/10-bond.network": "[Match]\nType=bo*\n",
			"/sys/class/net/cl0/uevent":            "DEVTYPE=bond\nINTERFACE=cl0\n",
		}, backend: Networkd, where: "/etc/systemd/network/10-bond.network.d/90-clusterdoctor-multicast.conf"},
		{name: "ifupdown via source-directory, only run-parts names", files: map[string]string{
			InterfacesFile:                      "auto lo\niface lo inet loopback\nsource-directory interfaces.d\n",
			"/etc/network/interfaces.d/cl0.bak": "iface cl0 inet manual\n  up ip route replace 224.0.0.0/4 dev cl0\n",
			"/etc/network/interfaces.d/cluster": "iface cl0 inet static\n  address 10.0.0.1/24\n",
		}, backend: Ifupdown, where: "/etc/network/interfaces.d/cluster"},
		{name: "ifupdown via source glob skips hidden backups", files: map[string]string{
			InterfacesFile:                     "source /etc/network/interfaces.d/*\n",
			"/etc/network/interfaces.d/.a.bak": "iface cl0 inet manual\n",
			"/etc/network/interfaces.d/z":      "iface cl0 inet manual\n    up route add -net 224.0.0.0 netmask 240.0.0.0 dev cl0\n",
		}, backend: Ifupdown, present: true, where: "/etc/network/interfaces.d/z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := Detect(context.Background(), tree(t, tc.files), Request{Iface: "cl0", Dst: mc, Force: tc.force})
			if err != nil {
				t.Fatal(err)
			}
			if o.Backend != tc.backend || o.Present != tc.present || o.Where != tc.where {
				t.Fatalf("got %s present=%v where=%s; want %s %v %s\nfound: %v", o.Backend, o.Present, o.Where, tc.backend, tc.present, tc.where, o.Found)
			}
			if o.Present != (o.Edit == nil) {
				t.Errorf("present=%v but edit=%v", o.Present, o.Edit)
			}
			if o.Edit != nil && (o.Edit.Path != tc.where || !strings.Contains(string(o.Edit.New), "224.0.0.0")) {
				t.Errorf("edit %s:\n%s", o.Edit.Path, o.Edit.New)
			}
		})
	}
}

func TestDetectErrors(t *testing.T) {
	ctx := context.Background()
	_, err := Detect(ctx, tree(t, map[string]string{"/etc/netplan/x.yaml": "network: [\n"}), Request{Iface: "cl0", Dst: mc})
	if err == nil || !strings.Contains(err.Error(), "/etc/netplan/x.yaml") {
		t.Errorf("malformed netplan: %v; want the file named", err)
	}
	_, err = Detect(ctx, tree(t, nil), Request{Iface: "cl0", Dst: mc})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "--backend") || !strings.Contains(err.Error(), "no netplan files") {
		t.Errorf("nothing found: %v", err)
	}
	_, err = Detect(ctx, tree(t, map[string]string{InterfacesFile: "iface eth0 inet dhcp\n"}), Request{Iface: "cl0", Dst: mc, Force: Netplan})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("forced netplan without a definition: %v", err)
	}
	two := map[string]string{KeyfileDir + "/a.nmconnection": keyfile, KeyfileDir + "/b.nmconnection": keyfile}
	if _, err = Detect(ctx, tree(t, two), Request{Iface: "cl0", Dst: mc}); err == nil || !strings.Contains(err.Error(), "several") {
		t.Errorf("two keyfiles: %v", err)
	}
	two[KeyfileDir+"/b.nmconnection"] = strings.Replace(keyfile, "id=cluster", "id=cluster\nautoconnect=false", 1)
	if o, err := Detect(ctx, tree(t, two), Request{Iface: "cl0", Dst: mc}); err != nil || o.Where != KeyfileDir+"/a.nmconnection" {
		t.Errorf("the autoconnect one should win: %v %+v", err, o)
	}
	for _, bad := range []string{"../../etc/passwd", "abcdefghijklmnopqrst", ""} {
		if _, err := Detect(ctx, tree(t, nil), Request{Iface: bad, Dst: mc}); err == nil || !strings.Contains(err.Error(), "interface") {
			t.Errorf("iface %q: %v", bad, err)
		}
	}
	if _, err := ParseBackend("systemd"); err == nil || !strings.Contains(err.Error(), "networkmanager, ifcfg") {
		t.Errorf("ParseBackend: %v", err)
	}
}

func TestProbe(t *testing.T) {
	env := tree(t, map[string]string{IfcfgDir + "/ifcfg-cl0": "DEVICE=cl0\n"})
	r := Persistent{Iface: "cl0", Dst: mc}.Run(context.Background(), env)
	if r.Status != probes.Warn || !strings.Contains(r.Summary, "lost at the next reboot") || r.Remediation != "clusterdoctor fix route --iface cl0 --persist" {
		t.Errorf("no route file: %+v", r)
	}
	os.WriteFile(env.Path(IfcfgDir+"/route-cl0"), []byte("224.0.0.0/4 dev cl0\n"), 0o644)
	r = Persistent{Iface: "cl0", Dst: mc}.Run(context.Background(), env)
	if r.Status != probes.Pass || r.Evidence["backend"] != "ifcfg" || r.Evidence["file"] != IfcfgDir+"/route-cl0" {
		t.Errorf("with route file: %+v", r)
	}
	r = Persistent{Iface: "cl0", Dst: mc}.Run(context.Background(), tree(t, nil))
	if r.Status != probes.Unknown || !strings.Contains(r.Remediation, "--backend") || !strings.Contains(r.Detail, "no netplan files") {
		t.Errorf("nothing: %+v", r)
	}
}

// TestPersistentDeadRoute: a 224/4 route written after a missing ADDRESSn is never applied
// by ifup-routes nor NetworkManager: route.persistent warns and names the gap, where it
// used to pass.
func TestPersistentDeadRoute(t *testing.T) {
	env := tree(t, map[string]string{
		IfcfgDir + "/ifcfg-cl0": "DEVICE=cl0\nNM_CONTROLLED=no\n",
		IfcfgDir + "/route-cl0": "ADDRESS0=10.20.0.0\nNETMASK0=255.255.0.0\nGATEWAY0=10.0.0.1\nADDRESS2=224.0.0.0\nNETMASK2=240.0.0.0\n",
	})
	r := Persistent{Iface: "cl0", Dst: mc}.Run(context.Background(), env)
	if r.Status != probes.Warn || !strings.Contains(r.Summary, "never applied at boot") || !strings.Contains(r.Detail, "stop at the missing ADDRESS1") {
		t.Fatalf("route.persistent = %s %q %q; want warn naming the gap", r.Status, r.Summary, r.Detail)
	}
	env = tree(t, map[string]string{
		IfcfgDir + "/ifcfg-cl0": "DEVICE=cl0\nNM_CONTROLLED=no\n",
		IfcfgDir + "/route-cl0": "ADDRESS0=10.20.0.0\nNETMASK0=255.255.0.0\nADDRESS1=224.0.0.0\nNETMASK1=240.0.0.0\n",
	})
	if r := (Persistent{Iface: "cl0", Dst: mc}).Run(context.Background(), env); r.Status != probes.Pass {
		t.Errorf("ADDRESS1 with no gap before it: %s %q; want pass", r.Status, r.Summary)
	}
}
