package main_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// snapshot is every file under root (hidden ones included) with its content and mode.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if !d.IsDir() {
			b, _ := os.ReadFile(p)
			fi, _ := d.Info()
			out[strings.TrimPrefix(p, root)] = fi.Mode().String() + "\n" + string(b)
		}
		return nil
	})
	return out
}

// writeTree writes host files (path -> content) under root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// diffTrees lists the paths whose content or mode differ, and new or removed ones.
func diffTrees(a, b map[string]string) []string {
	var out []string
	for p, v := range a {
		if w, ok := b[p]; !ok || w != v {
			out = append(out, p)
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			out = append(out, p)
		}
	}
	return out
}

// waitRoute waits until h has a 224.0.0.0/4 route of protocol proto on cl0.
func waitRoute(t *testing.T, h *lab.Host, want string) bool {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, r := range multicastRoutes(t, h) {
			if r == want {
				return true
			}
		}
	}
	return false
}

// persistCase is one host configuration fix route --persist must find and edit.
type persistCase struct {
	name    string
	files   map[string]string
	backend string   // what detection must say
	changed string   // the host file that gets the route
	want    []string // lines the changed file must have
	proto   string   // the protocol of the route the configuration brings back
	// boot replays the configuration the way the real tool does at boot, after the test
	// flushed cl0 as a reboot would; nil where the tool is not a Debian package.
	boot func(t *testing.T, h *lab.Host, root string)
	// note is a line --dry-run must show.
	note string
}

var persistCases = []persistCase{
	{
		name: "ifcfg key-value",
		files: map[string]string{
			"/etc/sysconfig/network-scripts/ifcfg-cl0": "DEVICE=cl0\nBOOTPROTO=none\nIPADDR=10.99.0.1\nPREFIX=24\nNM_CONTROLLED=no\n",
			"/etc/sysconfig/network-scripts/route-cl0": "# static routes of the cluster LAN\nADDRESS0=10.20.0.0\nNETMASK0=255.255.0.0\nGATEWAY0=10.99.0.254\n\nADDRESS2=10.30.0.0\nNETMASK2=255.255.0.0\nGATEWAY2=10.99.0.254\n",
		},
		backend: "ifcfg",
		changed: "/etc/sysconfig/network-scripts/route-cl0",
		// ifup-routes and NetworkManager stop at the missing ADDRESS1: the route goes there
		want: []string{"# static routes of the cluster LAN", "ADDRESS1=224.0.0.0", "NETMASK1=240.0.0.0"},
		note: "filling the missing index makes ADDRESS2 (10.30.0.0/16) reachable too",
	},
	{
		name: "ifupdown",
		files: map[string]string{
			"/etc/network/interfaces": "# cluster host\nauto lo\niface lo inet loopback\n\nauto cl0\niface cl0 inet static\n\taddress 10.99.0.1/24\n\n# public side\niface pub0 inet manual\n",
		},
		backend: "ifupdown",
		changed: "/etc/network/interfaces",
		want:    []string{"\taddress 10.99.0.1/24\n\tup ip route replace 224.0.0.0/4 dev cl0 scope link\n", "# public side"},
		proto:   "boot",
		boot: func(t *testing.T, h *lab.Host, root string) {
			lab.RequireCommands(t, "ifup")
			state := t.TempDir()
			r := execute(t, h.Command(lab.Private{}, "ifup", "-i", root+"/etc/network/interfaces", "--state-dir", state, "--no-scripts", "cl0"))
			if r.code != 0 {
				t.Fatalf("ifup: %d %s %s", r.code, r.stdout, r.stderr)
			}
			t.Cleanup(func() {
				execute(t, h.Command(lab.Private{}, "ifdown", "-i", root+"/etc/network/interfaces", "--state-dir", state, "--no-scripts", "cl0"))
			})
		},
	},
	{
		name: "netplan",
		files: map[string]string{
			"/etc/netplan/00-installer-config.yaml": "# written by the installer\nnetwork:\n  version: 2\n  renderer: networkd\n  ethernets:\n    cl0:\n      addresses: [10.99.0.1/24]\n",
		},
		backend: "netplan",
		changed: "/etc/netplan/90-clusterdoctor-cl0.yaml",
		want:    []string{"    cl0:\n      routes:\n        - to: 224.0.0.0/4\n          scope: link\n"},
		proto:   "static",
		boot: func(t *testing.T, h *lab.Host, root string) {
			lab.RequireCommands(t, "netplan")
			r := execute(t, h.Command(lab.Private{}, "netplan", "generate", "--root-dir", root))
			gen, err := os.ReadFile(root + "/run/systemd/network/10-netplan-cl0.network")
			if r.code != 0 || err != nil {
				t.Fatalf("netplan generate: %d %s %v", r.code, r.stderr, err)
			}
			if !strings.Contains(string(gen), "[Route]\nDestination=224.0.0.0/4\nScope=link") {
				t.Fatalf("netplan merged no route from the drop-in:\n%s", gen)
			}
			h.StartNetworkd(root) // what runs at boot from netplan's output
		},
	},
	{
		name: "netplan rendered by NetworkManager",
		files: map[string]string{
			"/etc/netplan/01-network-manager-all.yaml": "network:\n  version: 2\n  renderer: NetworkManager\n  ethernets:\n    cl0:\n      addresses: [10.99.0.1/24]\n",
		},
		backend: "netplan",
		changed: "/etc/netplan/90-clusterdoctor-cl0.yaml",
		// no scope: netplan refuses one for NetworkManager ("only supports global scoped routes")
		want:  []string{"    cl0:\n      routes:\n        - to: 224.0.0.0/4\n"},
		note:  "netplan renders it for NetworkManager, which takes no route scope",
		proto: "static",
		boot: func(t *testing.T, h *lab.Host, root string) {
			lab.RequireCommands(t, "netplan")
			if b, _ := os.ReadFile(root + "/etc/netplan/90-clusterdoctor-cl0.yaml"); strings.Contains(string(b), "scope") {
				t.Fatalf("the drop-in for a NetworkManager renderer has a scope:\n%s", b)
			}
			r := execute(t, h.Command(lab.Private{}, "netplan", "generate", "--root-dir", root))
			conn := root + "/run/NetworkManager/system-connections/netplan-cl0.nmconnection"
			gen, err := os.ReadFile(conn)
			if r.code != 0 || err != nil || !strings.Contains(string(gen), "route1=224.0.0.0/4") {
				t.Fatalf("netplan generate for NetworkManager: %d %s %v\n%s", r.code, r.stderr, err, gen)
			}
			nm := h.NewNetworkManager(h.StartSystemBus(), root+"/run/NetworkManager/system-connections")
			nm.Start()
		},
	},
	{
		name: "networkd",
		files: map[string]string{
			"/etc/systemd/network/20-cluster.network": "[Match]\nName=cl*\n\n[Network]\nAddress=10.99.0.1/24\n",
		},
		backend: "networkd",
		changed: "/etc/systemd/network/20-cluster.network.d/90-clusterdoctor-multicast.conf",
		want:    []string{"[Route]\nDestination=224.0.0.0/4\nScope=link\n"},
		proto:   "static",
		boot:    func(t *testing.T, h *lab.Host, root string) { h.StartNetworkd(root) },
	},
	{
		name: "NetworkManager keyfile, NetworkManager stopped",
		files: map[string]string{
			"/etc/NetworkManager/system-connections/cluster.nmconnection": "[connection]\nid=cluster\ntype=ethernet\ninterface-name=cl0\n\n# no default route on this side\n[ipv4]\nmethod=manual\naddress1=10.99.0.1/24\nnever-default=true\n\n[ipv6]\nmethod=disabled\n",
		},
		backend: "networkmanager",
		changed: "/etc/NetworkManager/system-connections/cluster.nmconnection",
		want:    []string{"never-default=true\nroute1=224.0.0.0/4\n", "# no default route on this side"},
		proto:   "static",
		boot: func(t *testing.T, h *lab.Host, root string) {
			// NetworkManager ignores keyfiles that others can read; the sample was written 0644.
			os.Chmod(root+"/etc/NetworkManager/system-connections/cluster.nmconnection", 0o600)
			nm := h.NewNetworkManager(h.StartSystemBus(), root+"/etc/NetworkManager/system-connections")
			nm.Start()
		},
	},
}

// TestFixRoutePersistFiles: on a host configured by each file backend, --dry-run shows
// the detection and a diff and changes nothing; the fix adds the runtime route once and
// the route to the right file (comments and order kept, a hidden backup of an edited
// file); a second run changes no byte; after a reboot stand-in (cl0 flushed, the real
// tool replaying the configuration where Debian has it) the route is back.
func TestFixRoutePersistFiles(t *testing.T) {
	for _, tc := range persistCases {
		t.Run(tc.name, func(t *testing.T) {
			l := lab.New(t)
			a := l.AddHost("a", 1)
			a.AddPublic()
			root := t.TempDir()
			writeTree(t, root, tc.files)
			fix := func(extra ...string) run {
				return execute(t, a.Command(lab.Private{}, binary, append([]string{"fix", "route", "--iface", "cl0", "--persist", "--root", root}, extra...)...))
			}

			before := snapshot(t, root)
			dry := fix("--dry-run")
			// exit 1: the checks re-run after a dry run still fail, as nothing was changed
			if dry.code != 1 || !strings.Contains(dry.stdout, "# detected: ") || !strings.Contains(dry.stdout, "+++ b"+tc.changed) || !strings.Contains(dry.stdout, "nothing was changed") {
				t.Fatalf("--dry-run: exit %d\n%s%s", dry.code, dry.stdout, dry.stderr)
			}
			if tc.note != "" && !strings.Contains(dry.stdout, tc.note) {
				t.Errorf("--dry-run does not say %q:\n%s", tc.note, dry.stdout)
			}
			if d := diffTrees(before, snapshot(t, root)); len(d) != 0 || len(multicastRoutes(t, a)) != 0 {
				t.Fatalf("--dry-run changed %v / routes %v", d, multicastRoutes(t, a))
			}

			first := fix()
			if first.code != 0 || !strings.Contains(first.stdout, "check: route.persistent pass") || !strings.Contains(first.stdout, "check: route.multicast pass") {
				t.Fatalf("fix: exit %d\n%s%s", first.code, first.stdout, first.stderr)
			}
			got, err := os.ReadFile(root + tc.changed)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(got), w) {
					t.Errorf("%s lacks %q:\n%s", tc.changed, w, got)
				}
			}
			if orig, ok := tc.files[tc.changed]; ok {
				bak, err := os.ReadFile(filepath.Join(root, filepath.Dir(tc.changed), "."+filepath.Base(tc.changed)+".clusterdoctor.bak"))
				if err != nil || string(bak) != orig {
					t.Errorf("backup of %s: %v %q", tc.changed, err, bak)
				}
			}

			after := snapshot(t, root)
			second := fix()
			if second.code != 0 || !strings.Contains(second.stdout, "already in place") {
				t.Errorf("second run: exit %d\n%s", second.code, second.stdout)
			}
			if d := diffTrees(after, snapshot(t, root)); len(d) != 0 {
				t.Errorf("second run changed %v", d)
			}
			if got := multicastRoutes(t, a); len(got) != 1 || got[0] != "cl0 205" {
				t.Fatalf("routes after two runs: %v; want exactly one, on cl0", got)
			}
			rep, _ := preflightJSON(t, a, lab.Private{}, "--iface", "cl0", "--root", root)
			if c := check(t, rep, "route.persistent"); c.Status != "pass" || c.Evidence["backend"] != tc.backend {
				t.Errorf("route.persistent: %+v", c)
			}

			if tc.boot == nil {
				return
			}
			a.FlushCluster()
			if len(multicastRoutes(t, a)) != 0 {
				t.Fatal("flushing cl0 left the route")
			}
			tc.boot(t, a, root)
			if !waitRoute(t, a, "cl0 "+tc.proto) {
				t.Fatalf("after the reboot stand-in: routes %v", multicastRoutes(t, a))
			}
		})
	}
}

const nmProfile = `[connection]
id=cluster
uuid=5b0e6f0c-2f7e-4a53-8f0e-2d1c3b4a5f60
type=ethernet
interface-name=cl0

# the cluster LAN: the default route stays on pub0
[ipv4]
method=manual
address1=10.99.0.1/24
never-default=true

[ipv6]
method=disabled
`

// TestFixRoutePersistNetworkManager runs a real NetworkManager managing cl0: the fix
// finds the profile over D-Bus, saves the route through NetworkManager, reapplies it
// without a bounce, keeps the original file; a second run changes nothing; after
// NetworkManager restarts on a flushed cl0 (the reboot stand-in) the route is back.
func TestFixRoutePersistNetworkManager(t *testing.T) {
	l := lab.New(t)
	a := l.AddHost("a", 1)
	a.AddPublic()
	a.FlushCluster()
	bus := a.StartSystemBus()
	nm := a.NewNetworkManager(bus, l.Path("nm-profiles"))
	file := nm.WriteProfile("cluster.nmconnection", nmProfile)
	nm.Start()
	priv := lab.Private{Env: []string{"DBUS_SYSTEM_BUS_ADDRESS=" + bus}}
	fix := func(extra ...string) run {
		return execute(t, a.Command(priv, binary, append([]string{"fix", "route", "--iface", "cl0", "--persist"}, extra...)...))
	}
	var dry run
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if dry = fix("--dry-run"); strings.Contains(dry.stdout, ", active,") {
			break // NetworkManager has activated the profile
		}
	}
	for _, want := range []string{"runs and manages cl0: profile \"cluster\", active, stored in " + file,
		"nmcli connection modify cluster +ipv4.routes 224.0.0.0/4", "nmcli device reapply cl0", "nothing was changed"} {
		if !strings.Contains(dry.stdout, want) {
			t.Fatalf("--dry-run lacks %q:\n%s%s\n%s", want, dry.stdout, dry.stderr, nm.Log())
		}
	}
	if b, _ := os.ReadFile(file); string(b) != nmProfile || len(multicastRoutes(t, a)) != 0 {
		t.Fatalf("--dry-run changed something: %q %v", b, multicastRoutes(t, a))
	}

	first := fix()
	if first.code != 0 || !strings.Contains(first.stdout, "check: route.persistent pass") {
		t.Fatalf("fix: exit %d\n%s%s\n%s", first.code, first.stdout, first.stderr, nm.Log())
	}
	saved, _ := os.ReadFile(file)
	if !strings.Contains(string(saved), "route1=224.0.0.0/4") || !strings.Contains(string(saved), "address1=10.99.0.1/24") {
		t.Errorf("NetworkManager saved:\n%s", saved)
	}
	if bak, err := os.ReadFile(filepath.Join(filepath.Dir(file), ".cluster.nmconnection.clusterdoctor.bak")); err != nil || string(bak) != nmProfile {
		t.Errorf("backup: %v %q", err, bak)
	}
	if !waitRoute(t, a, "cl0 static") || !waitRoute(t, a, "cl0 205") {
		t.Fatalf("routes after the fix: %v; want ours and NetworkManager's", multicastRoutes(t, a))
	}

	second := fix()
	if again, _ := os.ReadFile(file); second.code != 0 || !strings.Contains(second.stdout, "already in place") || string(again) != string(saved) {
		t.Errorf("second run: exit %d\n%s; profile changed: %v", second.code, second.stdout, string(again) != string(saved))
	}

	nm.Stop()
	a.FlushCluster()
	nm.Start()
	if !waitRoute(t, a, "cl0 static") {
		t.Fatalf("after NetworkManager restarted: %v\n%s", multicastRoutes(t, a), nm.Log())
	}
}

// TestFixRoutePersistFaults: when the persistent write fails (a read-only directory, a
// full file system), the runtime route is rolled back and the message says the host is
// as it was; bad interface names are refused before anything is looked at.
func TestFixRoutePersistFaults(t *testing.T) {
	l := lab.New(t)
	a := l.AddHost("a", 1)
	a.AddPublic()
	root := t.TempDir()
	dir := root + "/etc/sysconfig/network-scripts"
	writeTree(t, root, map[string]string{
		"/etc/sysconfig/network-scripts/ifcfg-cl0": "DEVICE=cl0\n",
		"/etc/sysconfig/network-scripts/route-cl0": "10.20.0.0/16 via 10.99.0.254 dev cl0\n",
	})
	before := snapshot(t, root)
	for _, tc := range []struct {
		name  string
		setup []string // run in the fix's own mount namespace
		says  string
	}{
		{"read-only directory", []string{"mount --bind " + dir + " " + dir, "mount -o remount,bind,ro " + dir}, "read-only file system"},
		{"full file system", []string{
			"mkdir -p " + l.Path("stash"), "cp -a " + dir + "/. " + l.Path("stash"),
			"mount -t tmpfs -o size=16k cd-full " + dir, "cp -a " + l.Path("stash") + "/. " + dir,
			"dd if=/dev/zero of=" + dir + "/.filler bs=1k count=64 2>/dev/null || true",
		}, "no space left on device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := execute(t, a.Command(lab.Private{Setup: tc.setup}, binary, "fix", "route", "--iface", "cl0", "--persist", "--root", root))
			t.Logf("%s%s", r.stdout, r.stderr)
			if r.code != 3 || !strings.Contains(r.stderr, tc.says) || !strings.Contains(r.stderr, "rolled back, the host is as it was") {
				t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if got := multicastRoutes(t, a); len(got) != 0 {
				t.Errorf("the runtime route was not rolled back: %v", got)
			}
			if d := diffTrees(before, snapshot(t, root)); len(d) != 0 {
				t.Errorf("files changed: %v", d)
			}
		})
	}
	for _, bad := range []string{"../../etc/passwd", "abcdefghijklmnopqrst"} {
		r := execute(t, a.Command(lab.Private{}, binary, "fix", "route", "--iface", bad, "--persist", "--backend", "ifcfg", "--root", root))
		if r.code != 2 || !strings.Contains(r.stderr, "--iface") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("--iface %s: exit %d %q", bad, r.code, r.stderr)
		}
	}
	forced := execute(t, a.Command(lab.Private{}, binary, "fix", "route", "--iface", "cl0", "--persist", "--backend", "networkd", "--root", root))
	if forced.code != 3 || !strings.Contains(forced.stderr, "no .network files") && !strings.Contains(forced.stderr, "none of") {
		t.Errorf("--backend networkd on an ifcfg host: exit %d %q", forced.code, forced.stderr)
	}
	if r := execute(t, a.Command(lab.Private{}, binary, "fix", "route", "--iface", "cl0", "--backend", "ifcfg")); r.code != 2 || !strings.Contains(r.stderr, "only means something with --persist") {
		t.Errorf("--backend without --persist: exit %d %q", r.code, r.stderr)
	}
	if d := diffTrees(before, snapshot(t, root)); len(d) != 0 || len(multicastRoutes(t, a)) != 0 {
		t.Errorf("refused runs changed %v / %v", d, multicastRoutes(t, a))
	}
	ifcfg := execute(t, a.Command(lab.Private{}, binary, "fix", "route", "--iface", "cl0", "--persist", "--backend", "ifcfg", "--root", root))
	if b, _ := os.ReadFile(dir + "/route-cl0"); ifcfg.code != 0 || string(b) != "10.20.0.0/16 via 10.99.0.254 dev cl0\n224.0.0.0/4 dev cl0\n" {
		t.Errorf("--backend ifcfg: exit %d %s%s\n%s", ifcfg.code, ifcfg.stdout, ifcfg.stderr, b)
	}
}
