package nm

import (
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

var mc = netip.MustParsePrefix("224.0.0.0/4")

const profile = `[connection]
id=cluster0
uuid=8a3b0c64-6a51-4f55-9d44-7c5a0b3f0c11
type=ethernet
interface-name=cl0

# the cluster LAN: no default route here
[ipv4]
method=manual
address1=10.99.0.3/24
never-default=true

[ipv6]
method=disabled
`

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func nmRoutes(h *lab.Host) (n int) {
	for _, r := range h.Routes("224.0.0.0/4") {
		if r.Protocol == 4 { // RTPROT_STATIC, what NetworkManager sets
			n++
		}
	}
	return n
}

// TestAddRouteReapplyRestore runs a real NetworkManager: the profile of cl0 is found
// over D-Bus, the route is saved to its keyfile by NetworkManager, reapplied to the
// running interface without a bounce, and Restore brings the profile back.
func TestAddRouteReapplyRestore(t *testing.T) {
	l := lab.New(t)
	h := l.AddHost("nm", 3)
	h.FlushCluster()
	bus := h.StartSystemBus()
	n := h.NewNetworkManager(bus, l.Path("nm-profiles"))
	file := n.WriteProfile("cluster0.nmconnection", profile)
	n.Start()
	conn, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := New(conn)
	if ok, err := c.Running(); !ok || err != nil {
		t.Fatalf("Running = %v, %v", ok, err)
	}
	var p *Profile
	waitFor(t, "cluster0 active on cl0", func() bool {
		p, err = c.ProfileFor("cl0")
		return err == nil && p.Active
	})
	if p.ID != "cluster0" || p.Filename != file || p.HasRoute(mc) {
		t.Fatalf("profile = %s %s active=%v routes=%v", p.ID, p.Filename, p.Active, p.Routes())
	}
	if _, err := c.ProfileFor("nosuch0"); err == nil || !strings.Contains(err.Error(), "not managed") {
		t.Errorf("ProfileFor(nosuch0) = %v", err)
	}
	if err := c.AddRoute(p, mc); err != nil {
		t.Fatal(err)
	}
	saved, _ := os.ReadFile(file)
	if !strings.Contains(string(saved), "route1=224.0.0.0/4") || !strings.Contains(string(saved), "address1=10.99.0.3/24") {
		t.Fatalf("NetworkManager saved:\n%s", saved)
	}
	t.Logf("saved by NetworkManager %s:\n%s", c.Version(), saved)
	if nmRoutes(h) != 0 {
		t.Fatal("the route is live before Reapply")
	}
	if err := c.Reapply(p); err != nil {
		t.Fatalf("%v\n%s", err, n.Log())
	}
	waitFor(t, "NetworkManager's 224.0.0.0/4 route on cl0", func() bool { return nmRoutes(h) == 1 })
	again, err := c.ProfileFor("cl0")
	if err != nil || !again.HasRoute(mc) {
		t.Fatalf("profile after the update: %v %v", again.Routes(), err)
	}
	if err := c.Restore(p); err != nil {
		t.Fatal(err)
	}
	restored, _ := os.ReadFile(file)
	if strings.Contains(string(restored), "224.0.0.0") {
		t.Fatalf("Restore left the route:\n%s", restored)
	}
}
